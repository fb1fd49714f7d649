/* heap.c - mp_os_heap_keep: glibc's trim threshold where it has one. */
#include "mp_posix_config.h"

#include <stddef.h>

#if MP_HAVE_MALLOPT_TRIM
#include <malloc.h>
#endif

#include "platform.h"

void mp_os_heap_keep(size_t bytes)
{
#if MP_HAVE_MALLOPT_TRIM
    /* glibc gives the top of its heap back once more than the threshold
     * (128 KiB) is free there, and a worker that frees a task's memory
     * then faults the same pages in again for the next one. */
    mallopt(M_TRIM_THRESHOLD, bytes > (size_t)1 << 30 ? 1 << 30 : (int)bytes);
#else
    (void)bytes;
#endif
}
