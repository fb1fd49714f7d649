/* digest.h - the digests behind the authkey handshake: MD5, SHA-256 and
 * HMAC over them, and a constant-time comparison.
 *
 * mp_hmac() asks the platform's provider first (libcrypto where CMake found
 * it; see mp_os_hmac in platform.h) and computes with the built-in code
 * below when the provider does not answer (none in this build, or it
 * refuses the algorithm, e.g. MD5 under a FIPS policy: the legacy Python
 * handshake needs HMAC-MD5 all the same). The built-in code is RFC 1321,
 * FIPS 180-4 and RFC 2104 written out, checked by the test suite against
 * the published vectors. */
#ifndef MP_CORE_CONN_DIGEST_H
#define MP_CORE_CONN_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* Numbered as platform.h's MP_OS_DIGEST_* so the two convert by cast. */
typedef enum mp_digest_alg { MP_DIGEST_MD5 = 1, MP_DIGEST_SHA256 = 2 } mp_digest_alg;

#define MP_DIGEST_MAX   32 /* bytes of the longest digest (SHA-256) */
#define MP_DIGEST_BLOCK 64 /* block size of both, which HMAC pads the key to */

/* Digest size in bytes (16, 32), or 0 for an unknown algorithm. */
size_t mp_digest_size(mp_digest_alg alg);

/* Streaming state of the built-in hashes. */
typedef struct mp_digest_ctx {
    mp_digest_alg alg;
    uint32_t h[8];
    uint64_t total; /* bytes hashed so far */
    unsigned char block[MP_DIGEST_BLOCK];
    size_t fill; /* bytes waiting in block */
} mp_digest_ctx;

/* MP_EINVAL for an unknown algorithm. */
int mp_digest_init(mp_digest_ctx *ctx, mp_digest_alg alg);
void mp_digest_update(mp_digest_ctx *ctx, const void *data, size_t n);
/* Writes mp_digest_size() bytes to out; ctx must be initialised again
 * before reuse. */
void mp_digest_final(mp_digest_ctx *ctx, unsigned char *out);

/* One-shot built-in hash. */
int mp_digest_builtin(mp_digest_alg alg, const void *data, size_t n, unsigned char *out);

/* HMAC (RFC 2104) with the built-in hash; out gets mp_digest_size() bytes.
 * key and msg may be NULL when their length is 0. */
int mp_hmac_builtin(mp_digest_alg alg, const void *key, size_t keylen, const void *msg,
                    size_t n, unsigned char *out);

/* HMAC from the platform provider if it answers, else built-in. */
int mp_hmac(mp_digest_alg alg, const void *key, size_t keylen, const void *msg, size_t n,
            unsigned char *out);

/* 1 if the n bytes at a and b are equal, else 0, in a time that depends
 * on n only (never on where the first difference is), so that comparing a
 * received MAC with the expected one leaks nothing about the latter. */
int mp_digest_equal(const void *a, const void *b, size_t n);

#endif
