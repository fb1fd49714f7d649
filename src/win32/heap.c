/* heap.c - mp_os_heap_keep: nothing to set; the Windows heap keeps freed
 * blocks for reuse by itself. */
#include <stddef.h>

#include "platform.h"

void mp_os_heap_keep(size_t bytes)
{
    (void)bytes;
}
