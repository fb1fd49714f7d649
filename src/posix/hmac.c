/* hmac.c - the HMAC provider: OpenSSL's libcrypto when CMake found it
 * (MP_HAVE_LIBCRYPTO), else none, and the core computes with its built-in
 * code (core/conn/digest.c).
 *
 * HMAC() is the one-shot call that exists unchanged from OpenSSL 1.0 to
 * 3.x and in LibreSSL (the HMAC_CTX calls are deprecated in 3.0, EVP_MAC
 * is 3.0-only). A NULL result (e.g. MD5 refused by a FIPS provider) is
 * reported as MP_EUNSUPPORTED so the core falls back, and OpenSSL's error
 * queue is cleared so that nothing of it is left for the application. */
#include "mp_posix_config.h"

#include <limits.h>
#include <stddef.h>

#include "base/error.h"
#include "platform.h"

#if MP_HAVE_LIBCRYPTO

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int mp_os_hmac(int alg, const void *key, size_t keylen, const void *msg, size_t n,
               unsigned char *out, size_t outsize)
{
    const EVP_MD *md;
    switch (alg) {
    case MP_OS_DIGEST_MD5:
        md = EVP_md5();
        break;
    case MP_OS_DIGEST_SHA256:
        md = EVP_sha256();
        break;
    default:
        return MP_EUNSUPPORTED;
    }
    /* HMAC() takes the key length as int; a longer key goes to the
     * built-in code. */
    if (!md || keylen > (size_t)INT_MAX || outsize != (size_t)EVP_MD_size(md))
        return MP_EUNSUPPORTED;
    /* A NULL key means "the previous key" to some OpenSSL versions' HMAC
     * init, and a NULL message is not documented as allowed: point both
     * at something when they are empty. */
    static const unsigned char empty[1] = {0};
    unsigned int len = 0;
    if (!HMAC(md, keylen ? key : empty, (int)keylen, n ? msg : empty, n, out, &len) ||
        len != outsize) {
        ERR_clear_error();
        return MP_EUNSUPPORTED;
    }
    return 0;
}

#else

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

#endif
