/* wipe.h - clearing a secret (an authkey) before its memory is freed,
 * through a volatile pointer so that the stores are not optimised away as
 * dead. */
#ifndef MP_BASE_WIPE_H
#define MP_BASE_WIPE_H

#include <stddef.h>

static inline void mp_secure_zero(void *p, size_t n)
{
    volatile unsigned char *v = p;
    for (size_t i = 0; i < n; i++)
        v[i] = 0;
}

#endif
