/* digest.c - the optional HMAC provider: none on Windows yet.
 *
 * platform.h lets a build have no provider: mp_os_hmac answers
 * MP_EUNSUPPORTED without recording an error, and the core computes
 * HMAC-MD5/SHA-256 with its built-in code (src/core/digest.c). BCrypt
 * (BCryptOpenAlgorithmProvider with BCRYPT_ALG_HANDLE_HMAC_FLAG) is the
 * planned provider, with the sockets part. */
#include "win32_util.h"

int mp_os_hmac(int alg, const void *key, size_t keylen, const void *msg, size_t n,
               unsigned char *out, size_t outsize)
{
    (void)alg;
    (void)key;
    (void)keylen;
    (void)msg;
    (void)n;
    (void)out;
    (void)outsize;
    return MP_EUNSUPPORTED;
}
