/* digest.c - built-in MD5 (RFC 1321), SHA-256 (FIPS 180-4), HMAC (RFC 2104)
 * and a constant-time comparison; mp_hmac() prefers the platform provider.
 *
 * Both hashes are Merkle-Damgard over 64-byte blocks with the same padding
 * (0x80, zeros, the bit length in the last 8 bytes), so one context type
 * and one buffering path serve both; they differ in byte order (MD5 is
 * little-endian, SHA-256 big-endian) and in the compression function.
 * Speed is not the point here: the handshake hashes under 100 bytes. */
#include "core/conn/digest.h"

#include <string.h>

#include "platform.h"
#include "base/error.h"

/* mp_hmac hands the algorithm to the platform as a plain int. */
_Static_assert(MP_DIGEST_MD5 == MP_OS_DIGEST_MD5 &&
                   MP_DIGEST_SHA256 == MP_OS_DIGEST_SHA256,
               "digest numbering differs from platform.h");

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32u - n));
}

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32u - n));
}

static uint32_t load_le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint32_t load_be(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static void store_le(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void store_be(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (24 - 8 * i));
}

/* ---- MD5 (RFC 1321) --------------------------------------------------------- */

/* T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 section 3.4. */
static const uint32_t md5_t[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
    0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
    0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
    0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
    0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
    0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
    0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
    0xeb86d391};

/* Left-rotation amounts, four per round. */
static const unsigned char md5_s[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static void md5_block(uint32_t h[4], const unsigned char *blk)
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = load_le(blk + 4 * i);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (unsigned i = 0; i < 64; i++) {
        unsigned round = i / 16;
        uint32_t f;
        unsigned k; /* which word of the block this step mixes in */
        switch (round) {
        case 0:
            f = (b & c) | (~b & d);
            k = i;
            break;
        case 1:
            f = (b & d) | (c & ~d);
            k = (5 * i + 1) % 16;
            break;
        case 2:
            f = b ^ c ^ d;
            k = (3 * i + 5) % 16;
            break;
        default:
            f = c ^ (b | ~d);
            k = (7 * i) % 16;
            break;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rotl(a + f + md5_t[i] + x[k], md5_s[round][i % 4]);
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

/* ---- SHA-256 (FIPS 180-4, section 6.2) -------------------------------------- */

/* First 32 bits of the fractional parts of the cube roots of the first 64
 * primes (FIPS 180-4 section 4.2.2). */
static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static void sha256_block(uint32_t h[8], const unsigned char *blk)
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = load_be(blk + 4 * t);
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t big1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + big1 + ch + sha256_k[t] + w[t];
        uint32_t big0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = big0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

/* ---- the common streaming frame ---------------------------------------------- */

size_t mp_digest_size(mp_digest_alg alg)
{
    switch (alg) {
    case MP_DIGEST_MD5:
        return 16;
    case MP_DIGEST_SHA256:
        return 32;
    }
    return 0;
}

int mp_digest_init(mp_digest_ctx *ctx, mp_digest_alg alg)
{
    static const uint32_t md5_iv[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    static const uint32_t sha256_iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                          0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memset(ctx, 0, sizeof *ctx);
    ctx->alg = alg;
    switch (alg) {
    case MP_DIGEST_MD5:
        memcpy(ctx->h, md5_iv, sizeof md5_iv);
        return 0;
    case MP_DIGEST_SHA256:
        memcpy(ctx->h, sha256_iv, sizeof sha256_iv);
        return 0;
    }
    return mp_set_error(MP_EINVAL, "unknown digest algorithm %d", (int)alg);
}

static void compress(mp_digest_ctx *ctx, const unsigned char *blk)
{
    if (ctx->alg == MP_DIGEST_MD5)
        md5_block(ctx->h, blk);
    else
        sha256_block(ctx->h, blk);
}

void mp_digest_update(mp_digest_ctx *ctx, const void *data, size_t n)
{
    const unsigned char *p = data;
    ctx->total += n;
    if (ctx->fill > 0) {
        size_t take = MP_DIGEST_BLOCK - ctx->fill;
        if (take > n) take = n;
        memcpy(ctx->block + ctx->fill, p, take);
        ctx->fill += take;
        p += take;
        n -= take;
        if (ctx->fill < MP_DIGEST_BLOCK) return;
        compress(ctx, ctx->block);
        ctx->fill = 0;
    }
    /* Whole blocks straight from the caller's memory. */
    for (; n >= MP_DIGEST_BLOCK; p += MP_DIGEST_BLOCK, n -= MP_DIGEST_BLOCK)
        compress(ctx, p);
    if (n > 0) {
        memcpy(ctx->block, p, n);
        ctx->fill = n;
    }
}

void mp_digest_final(mp_digest_ctx *ctx, unsigned char *out)
{
    /* Both standards count the message in bits, modulo 2^64. */
    uint64_t bits = ctx->total << 3;
    unsigned char pad[MP_DIGEST_BLOCK + 8];
    size_t fill = ctx->fill;
    /* 0x80, then zeros up to 56 mod 64, then the 8-byte length. */
    size_t padlen = (fill < 56 ? 56 - fill : 120 - fill);
    memset(pad, 0, sizeof pad);
    pad[0] = 0x80;
    for (int i = 0; i < 8; i++) {
        int shift = ctx->alg == MP_DIGEST_MD5 ? 8 * i : 56 - 8 * i;
        pad[padlen + (size_t)i] = (unsigned char)(bits >> shift);
    }
    uint64_t total = ctx->total;
    mp_digest_update(ctx, pad, padlen + 8);
    ctx->total = total;
    if (ctx->alg == MP_DIGEST_MD5) {
        for (int i = 0; i < 4; i++)
            store_le(out + 4 * i, ctx->h[i]);
    } else {
        for (int i = 0; i < 8; i++)
            store_be(out + 4 * i, ctx->h[i]);
    }
}

int mp_digest_builtin(mp_digest_alg alg, const void *data, size_t n, unsigned char *out)
{
    mp_digest_ctx ctx;
    int rc = mp_digest_init(&ctx, alg);
    if (rc < 0) return rc;
    if (n) mp_digest_update(&ctx, data, n);
    mp_digest_final(&ctx, out);
    return 0;
}

/* ---- HMAC (RFC 2104) ------------------------------------------------------- */

int mp_hmac_builtin(mp_digest_alg alg, const void *key, size_t keylen, const void *msg,
                    size_t n, unsigned char *out)
{
    size_t dlen = mp_digest_size(alg);
    if (dlen == 0)
        return mp_set_error(MP_EINVAL, "unknown digest algorithm %d", (int)alg);
    /* K0: the key itself if it fits a block, else its hash; zero-padded. */
    unsigned char k0[MP_DIGEST_BLOCK];
    memset(k0, 0, sizeof k0);
    if (keylen > MP_DIGEST_BLOCK)
        mp_digest_builtin(alg, key, keylen, k0);
    else if (keylen)
        memcpy(k0, key, keylen);
    unsigned char pad[MP_DIGEST_BLOCK], inner[MP_DIGEST_MAX];
    mp_digest_ctx ctx;
    for (int i = 0; i < MP_DIGEST_BLOCK; i++)
        pad[i] = (unsigned char)(k0[i] ^ 0x36);
    mp_digest_init(&ctx, alg);
    mp_digest_update(&ctx, pad, sizeof pad);
    if (n) mp_digest_update(&ctx, msg, n);
    mp_digest_final(&ctx, inner);
    for (int i = 0; i < MP_DIGEST_BLOCK; i++)
        pad[i] = (unsigned char)(k0[i] ^ 0x5c);
    mp_digest_init(&ctx, alg);
    mp_digest_update(&ctx, pad, sizeof pad);
    mp_digest_update(&ctx, inner, dlen);
    mp_digest_final(&ctx, out);
    /* The key's traces are secret: do not leave them on the stack. The
     * volatile pointer keeps the compiler from dropping the stores. */
    volatile unsigned char *v = k0;
    for (size_t i = 0; i < sizeof k0; i++)
        v[i] = 0;
    v = pad;
    for (size_t i = 0; i < sizeof pad; i++)
        v[i] = 0;
    return 0;
}

int mp_hmac(mp_digest_alg alg, const void *key, size_t keylen, const void *msg, size_t n,
            unsigned char *out)
{
    size_t dlen = mp_digest_size(alg);
    if (dlen == 0)
        return mp_set_error(MP_EINVAL, "unknown digest algorithm %d", (int)alg);
    int rc = mp_os_hmac((int)alg, key, keylen, msg, n, out, dlen);
    if (rc != MP_EUNSUPPORTED) return rc;
    return mp_hmac_builtin(alg, key, keylen, msg, n, out);
}

int mp_digest_equal(const void *a, const void *b, size_t n)
{
    /* Accumulate every difference; no early exit, no data-dependent branch.
     * volatile keeps the compiler from turning the loop into memcmp. */
    const volatile unsigned char *x = a, *y = b;
    unsigned diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned)(x[i] ^ y[i]);
    return (int)(1u & ((diff - 1u) >> 8));
}
