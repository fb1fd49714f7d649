/* conn/listener.c - suite "conn/listener": digests, the authkey handshake, and
 * Listener/Client between C processes and with every Python 3.8+ found.
 *
 * Digests are checked on the published vectors (RFC 1321, FIPS 180-4 /
 * NIST, RFC 2202, RFC 4231), with the built-in code and with the platform
 * provider when the build has one. The handshake is checked piece by piece
 * (the forms CPython's _create_response and _verify_challenge accept),
 * then end to end: C listener and C client in two processes (spawn and
 * fork), C peers that speak the protocol by hand (a legacy server, a
 * listener that welcomes anything, a client that sends too much), and
 * python3 on the other side, in every version installed.
 *
 * No test waits on timing: a peer signals readiness by a line on a pipe or
 * a pending connection, and every wait has a generous limit so that a dead
 * peer fails the test instead of hanging it.
 *
 * Windows: everything but Python runs there (spawn children only). The
 * hand-written peers use TCP there, AF_UNIX on POSIX; the AF_UNIX tests
 * run where the system has AF_UNIX (Windows 10 1803+), and are listed as
 * not here, with the reason, where it has none (Wine 8). */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conn/auth.h"
#include "core/conn/conn_internal.h"
#include "core/conn/digest.h"
#include "core/conn/listener_internal.h"
#include "test.h"
#include "child.h"

/* ---- digest vectors ---------------------------------------------------------- */

static size_t unhex(const char *h, unsigned char *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v = 0;
        for (int i = 0; i < 2; i++) {
            char ch = h[i];
            v = v * 16 + (unsigned)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
        }
        out[n++] = (unsigned char)v;
    }
    return n;
}

static void tohex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Compares a digest with the expected hex (which may be a truncation). */
static int digest_is(const unsigned char *d, const char *want_hex, const char *what)
{
    char got[2 * MP_DIGEST_MAX + 1];
    size_t n = strlen(want_hex) / 2;
    tohex(d, n, got);
    if (strcmp(got, want_hex) == 0) return 1;
    fprintf(stderr, "%s: got %s, want %s\n", what, got, want_hex);
    return 0;
}

/* RFC 1321, appendix A.5. */
static void test_md5_rfc1321(void)
{
    static const struct {
        const char *msg, *md5;
    } v[] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"1234567890123456789012345678901234567890123456789012345678901234567890123456"
         "7890",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        unsigned char d[16];
        MPT_OK(mp_digest_builtin(MP_DIGEST_MD5, v[i].msg, strlen(v[i].msg), d));
        CU_ASSERT(digest_is(d, v[i].md5, v[i].msg));
    }
}

/* FIPS 180-4 examples (NIST CSRC "SHA256.pdf": one block, two blocks) and
 * the NIST long message of a million 'a'. */
static void test_sha256_fips180(void)
{
    static const struct {
        const char *msg, *sha;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnop"
         "q"
         "klmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        unsigned char d[32];
        MPT_OK(mp_digest_builtin(MP_DIGEST_SHA256, v[i].msg, strlen(v[i].msg), d));
        CU_ASSERT(digest_is(d, v[i].sha, v[i].msg));
    }
    /* A million 'a', fed in pieces that do not line up with blocks. */
    mp_digest_ctx ctx;
    MPT_OK(mp_digest_init(&ctx, MP_DIGEST_SHA256));
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof chunk ? left : sizeof chunk;
        mp_digest_update(&ctx, chunk, k);
        left -= k;
    }
    unsigned char d[32];
    mp_digest_final(&ctx, d);
    CU_ASSERT(
        digest_is(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                  "million a"));
}

typedef struct hmac_vec {
    const char *key_hex; /* or NULL: key_rep bytes of key_byte */
    unsigned char key_byte;
    size_t key_rep;
    const char *data; /* or NULL: data_rep bytes of data_byte */
    unsigned char data_byte;
    size_t data_rep;
    const char *mac; /* hex; shorter than the digest when truncated */
} hmac_vec;

/* RFC 2202 section 2 (HMAC-MD5), all seven cases. */
static const hmac_vec rfc2202[] = {
    {NULL, 0x0b, 16, "Hi There", 0, 0, "9294727a3638bb1c13f48ef8158bfc9d"},
    {"4a656665", 0, 0, "what do ya want for nothing?", 0, 0,
     "750c783e6ab0b503eaa86e310a5db738"},
    {NULL, 0xaa, 16, NULL, 0xdd, 50, "56be34521d144c88dbb8c733f0e8b3f6"},
    {"0102030405060708090a0b0c0d0e0f10111213141516171819", 0, 0, NULL, 0xcd, 50,
     "697eaf0aca3a3aea3a75164746ffaa79"},
    {NULL, 0x0c, 16, "Test With Truncation", 0, 0, "56461ef2342edc00f9bab995690efd4c"},
    {NULL, 0xaa, 80, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
     "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
    {NULL, 0xaa, 80,
     "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data", 0, 0,
     "6f630fad67cda0ee1fb1f562db3aa53e"},
};

/* RFC 4231 section 4 (HMAC-SHA-256), test cases 1-7 (5 truncated to 128
 * bits, as the RFC gives it). */
static const hmac_vec rfc4231[] = {
    {NULL, 0x0b, 20, "Hi There", 0, 0,
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {"4a656665", 0, 0, "what do ya want for nothing?", 0, 0,
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {NULL, 0xaa, 20, NULL, 0xdd, 50,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    {"0102030405060708090a0b0c0d0e0f10111213141516171819", 0, 0, NULL, 0xcd, 50,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
    {NULL, 0x0c, 20, "Test With Truncation", 0, 0, "a3b6167473100ee06e0c796c2955552b"},
    {NULL, 0xaa, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    {NULL, 0xaa, 131,
     "This is a test using a larger than block-size key and a larger than block-size "
     "data. The key needs to be hashed before being used by the HMAC algorithm.",
     0, 0, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

enum { HMAC_BUILTIN, HMAC_PROVIDER, HMAC_DISPATCH };

/* Runs the vectors through one implementation; 0 if the provider is
 * absent (nothing checked), 1 if checked. */
static int run_hmac_vectors(mp_digest_alg alg, const hmac_vec *v, size_t n, int which)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char key[256], data[256], mac[MP_DIGEST_MAX];
        size_t kl, dl;
        if (v[i].key_hex) {
            kl = unhex(v[i].key_hex, key);
        } else {
            kl = v[i].key_rep;
            memset(key, v[i].key_byte, kl);
        }
        if (v[i].data) {
            dl = strlen(v[i].data);
            memcpy(data, v[i].data, dl);
        } else {
            dl = v[i].data_rep;
            memset(data, v[i].data_byte, dl);
        }
        int rc;
        if (which == HMAC_BUILTIN)
            rc = mp_hmac_builtin(alg, key, kl, data, dl, mac);
        else if (which == HMAC_PROVIDER)
            rc = mp_os_hmac((int)alg, key, kl, data, dl, mac, mp_digest_size(alg));
        else
            rc = mp_hmac(alg, key, kl, data, dl, mac);
        if (rc == MP_EUNSUPPORTED && which == HMAC_PROVIDER) return 0;
        MPT_OK(rc);
        char what[64];
        snprintf(what, sizeof what, "%s case %zu (%s)",
                 alg == MP_DIGEST_MD5 ? "RFC 2202" : "RFC 4231", i + 1,
                 which == HMAC_BUILTIN    ? "built-in"
                 : which == HMAC_PROVIDER ? "provider"
                                          : "mp_hmac");
        CU_ASSERT(digest_is(mac, v[i].mac, what));
    }
    return 1;
}

static void hmac_vectors(mp_digest_alg alg, const hmac_vec *v, size_t n)
{
    run_hmac_vectors(alg, v, n, HMAC_BUILTIN);
    run_hmac_vectors(alg, v, n, HMAC_DISPATCH);
    if (!run_hmac_vectors(alg, v, n, HMAC_PROVIDER))
        fprintf(stderr,
                MPT_NOTE "listener suite: no HMAC provider in this build (built-in "
                         "digests only); provider vectors skipped. Debian: install "
                         "libssl-dev and build again for OpenSSL's\n");
}

static void test_hmac_md5_rfc2202(void)
{
    hmac_vectors(MP_DIGEST_MD5, rfc2202, sizeof rfc2202 / sizeof rfc2202[0]);
}

static void test_hmac_sha256_rfc4231(void)
{
    hmac_vectors(MP_DIGEST_SHA256, rfc4231, sizeof rfc4231 / sizeof rfc4231[0]);
}

/* Provider and built-in agree on keys and messages of every length around
 * the block size (keys longer than a block are hashed first). */
static void test_hmac_provider_matches_builtin(void)
{
    unsigned char key[200], msg[300];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 31 + 7);
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (unsigned char)(i * 17 + 3);
    int have_provider = 1;
    for (int a = MP_DIGEST_MD5; a <= MP_DIGEST_SHA256; a++) {
        mp_digest_alg alg = (mp_digest_alg)a;
        size_t dl = mp_digest_size(alg);
        for (size_t kl = 0; kl <= 150; kl += (kl < 70 ? 1 : 13))
            for (size_t ml = 0; ml <= 300; ml += (ml < 130 ? 1 : 37)) {
                unsigned char b[MP_DIGEST_MAX], p[MP_DIGEST_MAX];
                MPT_OK(mp_hmac_builtin(alg, kl ? key : NULL, kl, ml ? msg : NULL, ml, b));
                int rc = mp_os_hmac(a, kl ? key : NULL, kl, ml ? msg : NULL, ml, p, dl);
                if (rc == MP_EUNSUPPORTED) {
                    have_provider = 0;
                    continue;
                }
                MPT_OK(rc);
                if (memcmp(b, p, dl) != 0) {
                    fprintf(stderr,
                            "alg %d key %zu msg %zu: provider and built-in differ\n", a,
                            kl, ml);
                    CU_FAIL("HMAC mismatch");
                    return;
                }
            }
    }
    if (!have_provider) fprintf(stderr, "listener suite: no HMAC provider to compare\n");
    /* An unknown algorithm is refused, not guessed. */
    unsigned char out[MP_DIGEST_MAX];
    MPT_EQ(mp_hmac((mp_digest_alg)7, key, 3, msg, 3, out), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_digest_size((mp_digest_alg)7), 0);
}

/* Streaming in two pieces split at every point equals one shot. */
static void test_digest_streaming(void)
{
    unsigned char msg[200];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (unsigned char)(255 - i);
    for (int a = MP_DIGEST_MD5; a <= MP_DIGEST_SHA256; a++) {
        mp_digest_alg alg = (mp_digest_alg)a;
        unsigned char whole[MP_DIGEST_MAX];
        MPT_OK(mp_digest_builtin(alg, msg, sizeof msg, whole));
        for (size_t cut = 0; cut <= sizeof msg; cut++) {
            mp_digest_ctx ctx;
            unsigned char d[MP_DIGEST_MAX];
            MPT_OK(mp_digest_init(&ctx, alg));
            mp_digest_update(&ctx, msg, cut);
            mp_digest_update(&ctx, msg + cut, sizeof msg - cut);
            mp_digest_final(&ctx, d);
            CU_ASSERT_EQUAL_FATAL(memcmp(d, whole, mp_digest_size(alg)), 0);
        }
    }
}

static void test_digest_equal(void)
{
    unsigned char a[32], b[32];
    for (int i = 0; i < 32; i++)
        a[i] = b[i] = (unsigned char)i;
    CU_ASSERT_EQUAL(mp_digest_equal(a, b, 32), 1);
    CU_ASSERT_EQUAL(mp_digest_equal(a, b, 0), 1);
    for (int i = 0; i < 32; i++)
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (unsigned char)(1u << bit);
            CU_ASSERT_EQUAL(mp_digest_equal(a, b, 32), 0);
            b[i] ^= (unsigned char)(1u << bit);
        }
}

/* ---- handshake pieces ---------------------------------------------------------- */

/* _create_response: legacy 20-byte challenge -> bare HMAC-MD5; prefixed
 * -> "{name}" + HMAC of the whole message; anything else refused. */
static void test_auth_response_forms(void)
{
    static const char key[] = "secret key";
    unsigned char msg[64], out[MP_AUTH_RESPONSE_MAX], want[MP_DIGEST_MAX];
    size_t n = 0;
    mp_digest_alg alg = (mp_digest_alg)0;
    for (int i = 0; i < 64; i++)
        msg[i] = (unsigned char)(i * 5 + 1);
    msg[0] = 'x'; /* not a brace: a 20-byte message is legacy by length alone */

    MPT_OK(mp__auth_response(key, 10, msg, 20, out, &n, &alg));
    MPT_OK(mp_hmac_builtin(MP_DIGEST_MD5, key, 10, msg, 20, want));
    CU_ASSERT_EQUAL(n, 16);
    CU_ASSERT_EQUAL(alg, MP_DIGEST_MD5);
    CU_ASSERT_EQUAL(memcmp(out, want, 16), 0);

    /* What 3.12+ sends: "{sha256}" + 40 bytes. */
    memcpy(msg, "{sha256}", 8);
    MPT_OK(mp__auth_response(key, 10, msg, 48, out, &n, &alg));
    MPT_OK(mp_hmac_builtin(MP_DIGEST_SHA256, key, 10, msg, 48, want));
    CU_ASSERT_EQUAL(n, 8 + 32);
    CU_ASSERT_EQUAL(alg, MP_DIGEST_SHA256);
    CU_ASSERT_EQUAL(memcmp(out, "{sha256}", 8), 0);
    CU_ASSERT_EQUAL(memcmp(out + 8, want, 32), 0);

    /* "{md5}" + data of a non-legacy length: prefixed MD5. */
    memcpy(msg, "{md5}", 5);
    MPT_OK(mp__auth_response(key, 10, msg, 30, out, &n, &alg));
    MPT_OK(mp_hmac_builtin(MP_DIGEST_MD5, key, 10, msg, 30, want));
    CU_ASSERT_EQUAL(n, 5 + 16);
    CU_ASSERT_EQUAL(memcmp(out, "{md5}", 5), 0);
    CU_ASSERT_EQUAL(memcmp(out + 5, want, 16), 0);

    /* A 16-byte message counts as legacy too (the lengths are shared). */
    MPT_OK(mp__auth_response(key, 10, msg, 16, out, &n, &alg));
    CU_ASSERT_EQUAL(n, 16);

    /* No prefix at another length; unknown names; a name Python allows
     * but mproc cannot compute; a brace too far in: all MP_EAUTH. */
    msg[0] = 'x';
    MPT_EQ(mp__auth_response(key, 10, msg, 30, out, &n, NULL), MP_EAUTH);
    memcpy(msg, "{sha1}", 6);
    MPT_EQ(mp__auth_response(key, 10, msg, 30, out, &n, NULL), MP_EAUTH);
    memcpy(msg, "{sha384}", 8);
    MPT_EQ(mp__auth_response(key, 10, msg, 48, out, &n, NULL), MP_EAUTH);
    memcpy(msg, "{}", 2);
    MPT_EQ(mp__auth_response(key, 10, msg, 48, out, &n, NULL), MP_EAUTH);
    memcpy(msg, "{sha256xxx}", 11);
    MPT_EQ(mp__auth_response(key, 10, msg, 48, out, &n, NULL), MP_EAUTH);
}

/* _verify_challenge against our "{sha256}" challenge: a prefixed SHA-256
 * and a bare 16-byte MD5 (a 3.11 client) pass; a 20-byte answer is read
 * as MD5 and fails on length; a wrong MAC or wrong key fails. */
static void test_auth_verify_rules(void)
{
    static const char key[] = "k";
    unsigned char msg[48], resp[64], mac[MP_DIGEST_MAX];
    memcpy(msg, "{sha256}", 8);
    for (int i = 8; i < 48; i++)
        msg[i] = (unsigned char)(i * 11);
    mp_digest_alg alg = (mp_digest_alg)0;

    memcpy(resp, "{sha256}", 8);
    MPT_OK(mp_hmac_builtin(MP_DIGEST_SHA256, key, 1, msg, 48, resp + 8));
    MPT_OK(mp__auth_verify(key, 1, msg, 48, resp, 40, &alg));
    CU_ASSERT_EQUAL(alg, MP_DIGEST_SHA256);
    resp[20] ^= 1;
    MPT_EQ(mp__auth_verify(key, 1, msg, 48, resp, 40, NULL), MP_EAUTH);
    MPT_EQ(mp__auth_verify("K", 1, msg, 48, resp, 40, NULL), MP_EAUTH);
    resp[20] ^= 1;
    MPT_EQ(mp__auth_verify(key, 1, msg, 48, resp, 39, NULL), MP_EAUTH); /* short */

    MPT_OK(mp_hmac_builtin(MP_DIGEST_MD5, key, 1, msg, 48, mac));
    MPT_OK(mp__auth_verify(key, 1, msg, 48, mac, 16, &alg));
    CU_ASSERT_EQUAL(alg, MP_DIGEST_MD5);
    memcpy(resp, mac, 16);
    memset(resp + 16, 0, 4);
    MPT_EQ(mp__auth_verify(key, 1, msg, 48, resp, 20, NULL), MP_EAUTH);
    /* "{md5}" + MD5 over the prefixed message: allowed, as in Python. */
    memcpy(resp, "{md5}", 5);
    memcpy(resp + 5, mac, 16);
    MPT_OK(mp__auth_verify(key, 1, msg, 48, resp, 21, &alg));
    CU_ASSERT_EQUAL(alg, MP_DIGEST_MD5);
    MPT_EQ(mp__auth_verify(key, 1, msg, 48, resp, 0, NULL), MP_EAUTH);
}

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <stdio.h>
#include <windows.h>
#else
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pythons.h"

extern char **environ;
#endif

/* Every wait on a peer: long enough for a loaded CI machine under
 * valgrind, short enough that a dead peer fails the run. */
#define PEER_TIMEOUT 120.0

static const char good_key[] = "the right key";
static const char bad_key[] = "a wrong key!!";

#define BIG 200000

#ifdef _WIN32
/* A fresh AF_UNIX path in the temporary folder (sun_path holds 108 bytes;
 * the usual %TEMP% leaves room). */
static void unix_path(char *buf, size_t n)
{
    static int counter;
    char dir[MAX_PATH + 1];
    DWORD k = GetTempPathA(sizeof dir, dir);
    if (k == 0 || k > sizeof dir) snprintf(dir, sizeof dir, ".\\");
    snprintf(buf, n, "%smpt-l-%lu-%d.sock", dir, (unsigned long)GetCurrentProcessId(),
             ++counter);
    remove(buf);
}

static int path_exists(const char *p)
{
    return GetFileAttributesA(p) != INVALID_FILE_ATTRIBUTES;
}

/* The start method of tests that need one child and no particular one. */
#define ANY_START MP_START_SPAWN
#else
/* A fresh AF_UNIX path in /tmp (short: sun_path holds 108 bytes). */
static void unix_path(char *buf, size_t n)
{
    static int counter;
    snprintf(buf, n, "/tmp/mpt-l-%ld-%d.sock", (long)getpid(), ++counter);
    unlink(buf);
}

static int path_exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

#define ANY_START MP_START_FORK
#endif

#define NO_AF_UNIX                                                                       \
    "this system has no AF_UNIX sockets (Windows 10 1803+ has them; Wine 8 has none); "  \
    "the TCP variants run"

/* Set when the suite is registered (have_af_unix). */
static int af_unix_here = 1;

#ifdef _WIN32
/* Whether AF_UNIX sockets exist here: on Windows from 10 1803 on, not
 * under Wine 8 (MP_EUNSUPPORTED); POSIX always has them. Asked once, by
 * the parent, when the suite is registered. */
static int have_af_unix(void)
{
    char path[108];
    unix_path(path, sizeof path);
    mp_listener *l = NULL;
    int rc = mp_listener_new_unix(&l, path, 1, NULL, 0);
    mp_listener_close(l);
    if (rc == MP_EUNSUPPORTED) return 0;
    return 1; /* any other failure is for the tests to report */
}
#endif

/* The address of a peer for the hand-written protocols: AF_UNIX on POSIX
 * (where those tests began), TCP on Windows, which always has it. */
typedef struct peer_addr {
    char addr[108]; /* the path, or the host */
    int64_t port;   /* 0: AF_UNIX */
} peer_addr;

static int open_listener(mp_listener **l, peer_addr *a, const void *key, size_t kl)
{
#ifdef _WIN32
    snprintf(a->addr, sizeof a->addr, "127.0.0.1");
    int rc = mp_listener_new_tcp(l, a->addr, 0, 4, key, kl);
    a->port = rc == 0 ? mp_listener_port(*l) : 0;
    return rc;
#else
    unix_path(a->addr, sizeof a->addr);
    a->port = 0;
    return mp_listener_new_unix(l, a->addr, 4, key, kl);
#endif
}

static int connect_to(mp_conn **c, const char *addr, int64_t port, const void *key,
                      size_t kl)
{
    return port ? mp_client_tcp(c, addr, (int)port, key, kl)
                : mp_client_unix(c, addr, key, kl);
}

/* ---- C listener, C client ------------------------------------------------------ */

/* The client's half of the exchange after a successful connect. */
static int client_exchange(mp_conn *c)
{
    void *d = NULL;
    size_t n = 0;
    if (mp_conn_recv_bytes(c, &d, &n, 0) != 0) return 0;
    int ok = n == 12 && memcmp(d, "hello client", 12) == 0;
    mp_free(d);
    if (!ok) return 0;
    if (mp_conn_send_bytes(c, "hello server", 0, 12) != 0) return 0;
    unsigned char *big = malloc(BIG);
    if (!big) return 0;
    for (size_t i = 0; i < BIG; i++)
        big[i] = (unsigned char)(i % 253);
    ok = mp_conn_send_bytes(c, big, 0, BIG) == 0;
    free(big);
    if (!ok) return 0;
    if (mp_conn_recv_bytes(c, &d, &n, 0) != 0) return 0;
    ok = n == 6 && memcmp(d, "200000", 6) == 0;
    mp_free(d);
    return ok;
}

/* The listener's half. */
static int server_exchange(mp_conn *c)
{
    void *d = NULL;
    size_t n = 0;
    if (mp_conn_send_bytes(c, "hello client", 0, 12) != 0) return 0;
    if (mp_conn_recv_bytes(c, &d, &n, 0) != 0) return 0;
    int ok = n == 12 && memcmp(d, "hello server", 12) == 0;
    mp_free(d);
    if (!ok) return 0;
    if (mp_conn_recv_bytes(c, &d, &n, 0) != 0) return 0;
    ok = n == BIG;
    for (size_t i = 0; ok && i < BIG; i++)
        ok = ((unsigned char *)d)[i] == (unsigned char)(i % 253);
    mp_free(d);
    if (!ok) return 0;
    char num[16];
    snprintf(num, sizeof num, "%zu", n);
    if (mp_conn_send_bytes(c, num, 0, strlen(num)) != 0) return 0;
    /* The client closes after the exchange: end of file, nothing more. */
    ok = mp_conn_recv_bytes(c, &d, &n, 0) == MP_ECLOSED;
    return ok;
}

/* Child: args (path or host, port, key, plan). port 0 means AF_UNIX.
 * plan: one letter per connection: 'g' the right key and an exchange,
 * 'b' the wrong key (MP_EAUTH wanted), 'n' no key and an exchange. */
static int client_target(const mp_args *args)
{
    const char *addr = NULL, *plan = NULL;
    int64_t port = 0;
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &addr) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 1, &port) == 0);
    MPT_CHILD_CHECK(mp_args_get_str(args, 2, &plan) == 0);
    for (const char *p = plan; *p; p++) {
        const char *key = *p == 'g' ? good_key : *p == 'b' ? bad_key : NULL;
        size_t kl = key ? strlen(key) : 0;
        mp_conn *c = NULL;
        int rc = port ? mp_client_tcp(&c, addr, (int)port, key, kl)
                      : mp_client_unix(&c, addr, key, kl);
        if (*p == 'b') {
            MPT_CHILD_CHECK(rc == MP_EAUTH);
            MPT_CHILD_CHECK(c == NULL);
            continue;
        }
        MPT_CHILD_CHECK(rc == 0);
        int ok = client_exchange(c);
        mp_conn_close(c);
        MPT_CHILD_CHECK(ok);
    }
    return 0;
}

/* Accepts, but fails the test instead of blocking forever if the peer
 * never connects. */
static int accept_within(mp_listener *l, mp_conn **c)
{
    int r = mp_listener_poll(l, PEER_TIMEOUT);
    CU_ASSERT_EQUAL(r, 1);
    if (r != 1) {
        *c = NULL;
        return MP_ETIMEDOUT;
    }
    return mp_listener_accept(l, c);
}

/* Serves plan (as client_target reads it) to a child started with method. */
static void serve_plan(mp_listener *l, int tcp, const char *plan, mp_start_method method)
{
    const char *addr = tcp ? "127.0.0.1" : mp_listener_address(l);
    mp_process *p = mpt_start(
        client_target, mp_args_of(addr, (int64_t)(tcp ? mp_listener_port(l) : 0), plan),
        method);
    for (const char *q = plan; *q; q++) {
        mp_conn *c = NULL;
        int rc = accept_within(l, &c);
        if (*q == 'b') {
            CU_ASSERT_EQUAL(rc, MP_EAUTH);
            CU_ASSERT_PTR_NULL(c);
            if (rc != MP_EAUTH) fprintf(stderr, "accept: %s\n", mp_error_name(rc));
            continue;
        }
        CU_ASSERT_EQUAL(rc, 0);
        if (rc != 0) {
            fprintf(stderr, "accept: %s (%s)\n", mp_error_name(rc), mp_last_error());
            break;
        }
        CU_ASSERT(server_exchange(c));
        if (*q == 'g') {
            mp_auth_info info = mp__listener_last_auth(l);
            CU_ASSERT_EQUAL(info.peer, MP_DIGEST_SHA256);
            CU_ASSERT_EQUAL(info.ours, MP_DIGEST_SHA256);
        }
        mp_conn_close(c);
    }
    CU_ASSERT_EQUAL(mpt_join(p), 0);
}

static void c_to_c(mp_start_method method, int tcp, int keyed, const char *plan)
{
    char path[108];
    mp_listener *l = NULL;
    const char *key = keyed ? good_key : NULL;
    size_t kl = keyed ? strlen(good_key) : 0;
    if (tcp) {
        MPT_OK(mp_listener_new_tcp(&l, "127.0.0.1", 0, 4, key, kl));
    } else {
        unix_path(path, sizeof path);
        MPT_OK(mp_listener_new_unix(&l, path, 4, key, kl));
    }
    serve_plan(l, tcp, plan, method);
    mp_listener_close(l);
    if (!tcp) CU_ASSERT(!path_exists(path));
}

static void unix_auth(mp_start_method m)
{
    c_to_c(m, 0, 1, "gg");
}
static void tcp_auth(mp_start_method m)
{
    c_to_c(m, 1, 1, "gg");
}
static void unix_noauth(mp_start_method m)
{
    c_to_c(m, 0, 0, "nn");
}
static void tcp_noauth(mp_start_method m)
{
    c_to_c(m, 1, 0, "n");
}
/* A wrong key fails on both sides; the listener serves the next client. */
static void unix_wrong_key(mp_start_method m)
{
    c_to_c(m, 0, 1, "bgb");
}
static void tcp_wrong_key(mp_start_method m)
{
    c_to_c(m, 1, 1, "bg");
}
MPT_DEFINE_BOTH(unix_auth)
MPT_DEFINE_BOTH(tcp_auth)
MPT_DEFINE_BOTH(unix_noauth)
MPT_DEFINE_BOTH(tcp_noauth)
MPT_DEFINE_BOTH(unix_wrong_key)
MPT_DEFINE_BOTH(tcp_wrong_key)

/* An empty key (not NULL) is a key: both sides run the handshake. */
static int empty_key_target(const mp_args *args)
{
    const char *path = NULL;
    int64_t port = 0;
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &path) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 1, &port) == 0);
    mp_conn *c = NULL;
    MPT_CHILD_CHECK(connect_to(&c, path, port, "", 0) == 0);
    mp_conn_close(c);
    MPT_CHILD_CHECK(connect_to(&c, path, port, "x", 1) == MP_EAUTH);
    return 0;
}

static void test_empty_key(void)
{
    peer_addr a;
    mp_listener *l = NULL;
    MPT_OK(open_listener(&l, &a, "", 0));
    mp_process *p = mpt_start(empty_key_target, mp_args_of(a.addr, a.port), ANY_START);
    mp_conn *c = NULL;
    CU_ASSERT_EQUAL(accept_within(l, &c), 0);
    mp_conn_close(c);
    CU_ASSERT_EQUAL(accept_within(l, &c), MP_EAUTH);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_listener_close(l);
}

/* ---- C peers speaking the protocol by hand --------------------------------------- */

static int recv_is(mp_conn *c, const void *want, size_t n)
{
    void *d = NULL;
    size_t len = 0;
    if (mp_conn_recv_bytes(c, &d, &len, 0) != 0) return 0;
    int ok = len == n && memcmp(d, want, n) == 0;
    mp_free(d);
    return ok;
}

/* Child: a client with the right key; args (path or host, port, expected
 * rc). */
static int keyed_client_target(const mp_args *args)
{
    const char *path = NULL;
    int64_t port = 0, want = 0;
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &path) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 1, &port) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 2, &want) == 0);
    mp_conn *c = NULL;
    int rc = connect_to(&c, path, port, good_key, strlen(good_key));
    if (rc != (int)want)
        fprintf(stderr, "client got %s (%s)\n", mp_error_name(rc), mp_last_error());
    MPT_CHILD_CHECK(rc == (int)want);
    if (rc == 0) {
        MPT_CHILD_CHECK(mp_conn_send_bytes(c, "after", 0, 5) == 0);
        mp_conn_close(c);
    }
    return 0;
}

/* The server side speaks by hand over a key-less listener. mode 'l': a
 * legacy (Python <= 3.11) server: 20-byte challenge, checks the bare MD5
 * answer, answers our challenge with a bare MD5. mode 'f': a fake that
 * welcomes any answer and cannot prove the key itself. */
static void hand_server(char mode)
{
    peer_addr a;
    mp_listener *l = NULL;
    MPT_OK(open_listener(&l, &a, NULL, 0));
    int want = mode == 'l' ? 0 : MP_EAUTH;
    mp_process *p = mpt_start(keyed_client_target,
                              mp_args_of(a.addr, a.port, (int64_t)want), MP_START_SPAWN);
    mp_conn *c = NULL;
    int ok = accept_within(l, &c) == 0;
    unsigned char ch[11 + 20], mac[16];
    const size_t kl = strlen(good_key);
    void *d = NULL;
    size_t n = 0;
    memcpy(ch, "#CHALLENGE#", 11);
    for (int i = 0; i < 20; i++)
        ch[11 + i] = (unsigned char)(i * 7 + 100);
    ok = ok && mp_conn_send_bytes(c, ch, 0, sizeof ch) == 0;
    ok = ok && mp_conn_recv_bytes(c, &d, &n, 256) == 0;
    if (ok && mode == 'l') {
        /* The client must answer a legacy challenge the legacy way. */
        MPT_OK(mp_hmac_builtin(MP_DIGEST_MD5, good_key, kl, ch + 11, 20, mac));
        CU_ASSERT(n == 16 && memcmp(d, mac, 16) == 0);
    }
    mp_free(d);
    d = NULL;
    ok = ok && mp_conn_send_bytes(c, "#WELCOME#", 0, 9) == 0;
    /* The client's challenge: a modern one. */
    ok = ok && mp_conn_recv_bytes(c, &d, &n, 256) == 0;
    CU_ASSERT(ok && n == 11 + 8 + 40 && memcmp(d, "#CHALLENGE#{sha256}", 19) == 0);
    if (ok && n > 11) {
        if (mode == 'l')
            MPT_OK(mp_hmac_builtin(MP_DIGEST_MD5, good_key, kl, (unsigned char *)d + 11,
                                   n - 11, mac));
        else
            memset(mac, 0x5a, sizeof mac);
        ok = mp_conn_send_bytes(c, mac, 0, 16) == 0;
        CU_ASSERT(recv_is(c, mode == 'l' ? "#WELCOME#" : "#FAILURE#", 9));
    }
    mp_free(d);
    if (mode == 'l') CU_ASSERT(recv_is(c, "after", 5));
    CU_ASSERT(ok);
    mp_conn_close(c);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_listener_close(l);
}

static void test_legacy_server(void)
{
    hand_server('l');
}

/* A listener that cannot prove the key: the client refuses it. */
static void test_fake_listener(void)
{
    hand_server('f');
}

/* Child: a client without key that answers the challenge with junk of
 * the given length and then expects the listener to hang up (over 256
 * bytes) or to say #FAILURE# (a wrong 16-byte answer). */
static int junk_client_target(const mp_args *args)
{
    const char *path = NULL;
    int64_t port = 0, len = 0;
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &path) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 1, &port) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 2, &len) == 0);
    mp_conn *c = NULL;
    MPT_CHILD_CHECK(connect_to(&c, path, port, NULL, 0) == 0);
    void *d = NULL;
    size_t n = 0;
    MPT_CHILD_CHECK(mp_conn_recv_bytes(c, &d, &n, 256) == 0);
    mp_free(d);
    unsigned char junk[300];
    memset(junk, '{', sizeof junk);
    MPT_CHILD_CHECK(mp_conn_send_bytes(c, junk, 0, (size_t)len) == 0);
    int rc = mp_conn_recv_bytes(c, &d, &n, 256);
    if (len > 256) {
        MPT_CHILD_CHECK(rc == MP_ECLOSED);
    } else {
        MPT_CHILD_CHECK(rc == 0 && n == 9 && memcmp(d, "#FAILURE#", 9) == 0);
        mp_free(d);
    }
    mp_conn_close(c);
    return 0;
}

static void test_junk_answers(void)
{
    static const int64_t lens[] = {300, 16, 20, 0, 48};
    peer_addr a;
    mp_listener *l = NULL;
    MPT_OK(open_listener(&l, &a, good_key, strlen(good_key)));
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        mp_process *p =
            mpt_start(junk_client_target, mp_args_of(a.addr, a.port, lens[i]), ANY_START);
        mp_conn *c = NULL;
        CU_ASSERT_EQUAL(accept_within(l, &c), MP_EAUTH);
        CU_ASSERT_PTR_NULL(c);
        CU_ASSERT_EQUAL(mpt_join(p), 0);
    }
    mp_listener_close(l);
}

/* ---- addresses, errors, descriptors ---------------------------------------------- */

static void test_address_and_port(void)
{
    mp_listener *l = NULL;
    MPT_OK(mp_listener_new_tcp(&l, "127.0.0.1", 0, 1, NULL, 0));
    int port = mp_listener_port(l);
    CU_ASSERT(port > 0 && port <= 65535);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    CU_ASSERT_STRING_EQUAL(mp_listener_address(l), want);
    /* Connected before accept: the backlog holds it, so one process
     * suffices without a key. */
    mp_conn *a = NULL, *b = NULL;
    MPT_OK(mp_client_tcp(&a, "127.0.0.1", port, NULL, 0));
    MPT_OK(mp_listener_accept(l, &b));
    MPT_OK(mp_conn_send_bytes(a, "x", 0, 1));
    CU_ASSERT(recv_is(b, "x", 1));
    mp_conn_close(a);
    mp_conn_close(b);
    mp_listener_close(l);

    char path[108];
    unix_path(path, sizeof path);
    if (af_unix_here) {
        MPT_OK(mp_listener_new_unix(&l, path, 1, NULL, 0));
        CU_ASSERT_STRING_EQUAL(mp_listener_address(l), path);
        CU_ASSERT_EQUAL(mp_listener_port(l), 0);
        mp_listener_close(l);
    } else {
        /* Said clearly, not half-made. */
        MPT_EQ(mp_listener_new_unix(&l, path, 1, NULL, 0), MP_EUNSUPPORTED);
        CU_ASSERT(strstr(mp_last_error(), "AF_UNIX") != NULL);
        CU_ASSERT_PTR_NULL(l);
        CU_ASSERT(!path_exists(path));
    }
    /* IPv6 literal: bracketed in the address (skipped without IPv6). */
    if (mp_listener_new_tcp(&l, "::1", 0, 1, NULL, 0) == 0) {
        snprintf(want, sizeof want, "[::1]:%d", mp_listener_port(l));
        CU_ASSERT_STRING_EQUAL(mp_listener_address(l), want);
        MPT_OK(mp_client_tcp(&a, "::1", mp_listener_port(l), NULL, 0));
        MPT_OK(mp_listener_accept(l, &b));
        mp_conn_close(a);
        mp_conn_close(b);
        mp_listener_close(l);
    }
}

static void test_errors(void)
{
    mp_listener *l = NULL;
    mp_conn *c = NULL;
    char path[200];
    memset(path, 'p', sizeof path);
    memcpy(path, "/tmp/", 5);
    path[sizeof path - 1] = '\0';
    MPT_EQ(mp_listener_new_unix(&l, path, 1, NULL, 0), MP_EINVAL);
    CU_ASSERT(strstr(mp_last_error(), "too long") != NULL);
    MPT_EQ(mp_client_unix(&c, path, NULL, 0), MP_EINVAL);
    MPT_EQ(mp_listener_new_unix(&l, "", 1, NULL, 0), MP_EINVAL);
    MPT_EQ(mp_listener_new_unix(&l, NULL, 1, NULL, 0), MP_EINVAL);
    MPT_EQ(mp_listener_new_unix(NULL, "/tmp/x", 1, NULL, 0), MP_EINVAL);
    MPT_EQ(mp_listener_new_unix(&l, "/tmp/x", 1, NULL, 3), MP_EINVAL);
    MPT_EQ(mp_listener_new_tcp(&l, "127.0.0.1", 65536, 1, NULL, 0), MP_EINVAL);
    MPT_EQ(mp_listener_new_tcp(&l, "127.0.0.1", -1, 1, NULL, 0), MP_EINVAL);
    MPT_EQ(mp_listener_new_tcp(&l, NULL, 0, 1, NULL, 0), MP_EINVAL);
    MPT_EQ(mp_client_tcp(&c, "127.0.0.1", 0, NULL, 0), MP_EINVAL);
    MPT_EQ(mp_listener_accept(NULL, &c), MP_EINVAL);
    CU_ASSERT_PTR_NULL(l);
    CU_ASSERT_PTR_NULL(c);

    /* The path exists already: refused, and the file left alone. */
    if (af_unix_here) {
        unix_path(path, sizeof path);
        FILE *f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fclose(f);
        MPT_EQ(mp_listener_new_unix(&l, path, 1, NULL, 0), MP_ESYS);
        CU_ASSERT(path_exists(path));
        /* Nothing listens there (a plain file), nor at a missing path. */
        MPT_EQ(mp_client_unix(&c, path, NULL, 0), MP_ESYS);
        remove(path);
        MPT_EQ(mp_client_unix(&c, path, NULL, 0), MP_ESYS);
    }

    /* A port nothing listens on: bind one, note it, close it. */
    MPT_OK(mp_listener_new_tcp(&l, "127.0.0.1", 0, 1, NULL, 0));
    int port = mp_listener_port(l);
    mp_listener_close(l);
    MPT_EQ(mp_client_tcp(&c, "127.0.0.1", port, NULL, 0), MP_ESYS);
    MPT_EQ(mp_client_tcp(&c, "no-such-host.invalid", 1, NULL, 0), MP_ESYS);
    CU_ASSERT_PTR_NULL(c);

    /* SO_REUSEADDR: the same port binds again at once after close, even
     * with a connection of the old listener in TIME_WAIT. */
    MPT_OK(mp_listener_new_tcp(&l, "127.0.0.1", 0, 1, NULL, 0));
    port = mp_listener_port(l);
    mp_conn *a = NULL, *b = NULL;
    MPT_OK(mp_client_tcp(&a, "127.0.0.1", port, NULL, 0));
    MPT_OK(mp_listener_accept(l, &b));
    mp_conn_close(b); /* the server side closes first: TIME_WAIT is its */
    mp_conn_close(a);
    mp_listener_close(l);
    MPT_OK(mp_listener_new_tcp(&l, "127.0.0.1", port, 1, NULL, 0));
    CU_ASSERT_EQUAL(mp_listener_port(l), port);
    mp_listener_close(l);
    mp_listener_close(NULL);
}

/* close removes the path it bound, but not a file that replaced it, and
 * not from a forked child closing its copy. */
static int close_copy_target(const mp_args *args)
{
    (void)args;
    return 0;
}

static void test_close_removes_path(void)
{
    char path[108];
    unix_path(path, sizeof path);
    mp_listener *l = NULL;
    MPT_OK(mp_listener_new_unix(&l, path, 1, NULL, 0));
    CU_ASSERT(path_exists(path));
    mp_listener_close(l);
    CU_ASSERT(!path_exists(path));

    MPT_OK(mp_listener_new_unix(&l, path, 1, NULL, 0));
    CU_ASSERT_EQUAL_FATAL(remove(path), 0);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    mp_listener_close(l);
    CU_ASSERT(path_exists(path)); /* someone else's file now: kept */
    remove(path);

#ifndef _WIN32
    /* A fork child that closes its copy (here: exits through the runtime,
     * and explicitly below) leaves the parent's path in place. */
    MPT_OK(mp_listener_new_unix(&l, path, 1, NULL, 0));
    pid_t pid = fork();
    if (pid == 0) {
        mp_listener_close(l);
        _exit(0);
    }
    CU_ASSERT_FATAL(pid > 0);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT(path_exists(path));
    CU_ASSERT_EQUAL(mpt_run(close_copy_target, MP_NO_ARGS, MP_START_FORK), 0);
    CU_ASSERT(path_exists(path));
    mp_listener_close(l);
    CU_ASSERT(!path_exists(path));
#else
    (void)close_copy_target; /* Windows has no fork: no copy to close */
#endif
}

#ifdef _WIN32

/* The socket behind an end: the layer marks socket handles in bit 0
 * (src/win32/w32_socket.h). */
static HANDLE sock_of_conn(mp_conn *c)
{
    return (HANDLE)(uintptr_t)(mp__conn_handle(c) & ~(mp_os_handle)3);
}

static int inheritable(mp_conn *c)
{
    DWORD fl = 0;
    if (!GetHandleInformation(sock_of_conn(c), &fl)) return -1;
    return (fl & HANDLE_FLAG_INHERIT) != 0;
}

/* Every socket is not inheritable (a spawned child gets only the handles
 * it is given), and writing to a peer that is gone gives MP_ECLOSED. The
 * POSIX twin checks close-on-exec and SIGPIPE. */
static void test_noinherit_and_closed_peer(void)
{
    for (int tcp = 0; tcp < 2; tcp++) {
        char path[108];
        mp_listener *l = NULL;
        mp_conn *a = NULL, *b = NULL;
        if (tcp) {
            MPT_OK(mp_listener_new_tcp(&l, "127.0.0.1", 0, 1, NULL, 0));
            MPT_OK(mp_client_tcp(&a, "127.0.0.1", mp_listener_port(l), NULL, 0));
        } else {
            if (!af_unix_here) continue;
            unix_path(path, sizeof path);
            MPT_OK(mp_listener_new_unix(&l, path, 1, NULL, 0));
            MPT_OK(mp_client_unix(&a, path, NULL, 0));
        }
        MPT_OK(mp_listener_accept(l, &b));
        CU_ASSERT_EQUAL(inheritable(a), 0);
        CU_ASSERT_EQUAL(inheritable(b), 0);
        mp_conn_close(a);
        CU_ASSERT_EQUAL(mp_conn_poll(b, PEER_TIMEOUT), 1);
        int rc = 0;
        for (int i = 0; i < 1000 && rc == 0; i++)
            rc = mp_conn_send_bytes(b, "data", 0, 4);
        CU_ASSERT_EQUAL(rc, MP_ECLOSED);
        mp_conn_close(b);
        mp_listener_close(l);
    }
}

/* Socket connections speak the length-prefixed framing on Windows too
 * (only pipes are message pipes): the bytes a raw reader sees. */
static void test_socket_framing(void)
{
    mp_listener *l = NULL;
    mp_conn *a = NULL, *b = NULL;
    MPT_OK(mp_listener_new_tcp(&l, "127.0.0.1", 0, 1, NULL, 0));
    MPT_OK(mp_client_tcp(&a, "127.0.0.1", mp_listener_port(l), NULL, 0));
    MPT_OK(mp_listener_accept(l, &b));
    CU_ASSERT_EQUAL(mp_os_handle_is_message(mp__conn_handle(a)), 0);
    MPT_OK(mp_conn_send_bytes(a, "hi", 0, 2));
    unsigned char buf[6];
    size_t done = 0;
    while (done < sizeof buf) {
        size_t got = 0;
        MPT_OK(mp_os_read(mp__conn_handle(b), buf + done, sizeof buf - done, &got));
        CU_ASSERT_FATAL(got > 0);
        done += got;
    }
    CU_ASSERT(memcmp(buf, "\0\0\0\x02hi", 6) == 0);
    /* poll waits on a socket without data, and sees it come. */
    CU_ASSERT_EQUAL(mp_conn_poll(b, 0), 0);
    CU_ASSERT_EQUAL(mp_conn_poll(b, 0.05), 0);
    MPT_OK(mp_conn_send_bytes(a, "", 0, 0));
    CU_ASSERT_EQUAL(mp_conn_poll(b, PEER_TIMEOUT), 1);
    CU_ASSERT(recv_is(b, "", 0));
    CU_ASSERT_EQUAL(mp_listener_poll(l, 0), 0);
    mp_conn_close(a);
    mp_conn_close(b);
    mp_listener_close(l);
}

#else

static int is_cloexec(mp_conn *c)
{
    int fl = fcntl((int)mp__conn_handle(c), F_GETFD);
    return fl >= 0 && (fl & FD_CLOEXEC);
}

/* Every socket is close-on-exec, and writing to a peer that is gone gives
 * MP_ECLOSED, not SIGPIPE (the default action would end this process). */
static void test_cloexec_and_sigpipe(void)
{
    struct sigaction dfl, old;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGPIPE, &dfl, &old);
    for (int tcp = 0; tcp < 2; tcp++) {
        char path[108];
        mp_listener *l = NULL;
        mp_conn *a = NULL, *b = NULL;
        if (tcp) {
            MPT_OK(mp_listener_new_tcp(&l, "127.0.0.1", 0, 1, NULL, 0));
            MPT_OK(mp_client_tcp(&a, "127.0.0.1", mp_listener_port(l), NULL, 0));
        } else {
            unix_path(path, sizeof path);
            MPT_OK(mp_listener_new_unix(&l, path, 1, NULL, 0));
            MPT_OK(mp_client_unix(&a, path, NULL, 0));
        }
        MPT_OK(mp_listener_accept(l, &b));
        CU_ASSERT(is_cloexec(a));
        CU_ASSERT(is_cloexec(b));
        mp_conn_close(a);
        /* Wait for the peer's FIN. TCP: the next write is still taken (the
         * closed peer answers it with RST), a later one fails. Bounded,
         * and never a signal. */
        CU_ASSERT_EQUAL(mp_conn_poll(b, PEER_TIMEOUT), 1);
        int rc = 0;
        for (int i = 0; i < 1000 && rc == 0; i++)
            rc = mp_conn_send_bytes(b, "data", 0, 4);
        CU_ASSERT_EQUAL(rc, MP_ECLOSED);
        mp_conn_close(b);
        mp_listener_close(l);
    }
    sigaction(SIGPIPE, &old, NULL);
}

#endif

/* ---- Python on the other side ------------------------------------------------- */

#ifndef _WIN32

#define MAX_PY MPT_MAX_PYTHONS
static mpt_python pythons[MAX_PY];
static int n_pythons = -1;

/* Waits for a child of ours, retrying interruptions. */
static int reap(pid_t pid)
{
    int st = 0;
    pid_t r;
    do
        r = waitpid(pid, &st, 0);
    while (r < 0 && errno == EINTR);
    if (r != pid) return -1000;
    if (WIFSIGNALED(st)) return -WTERMSIG(st);
    return WEXITSTATUS(st);
}

/* Starts python with args, its stdout on a pipe (*out_fd, the caller's).
 * Through /bin/sh so that a valgrind run with --trace-children does not
 * run python under valgrind (its skip list names /bin and all below it). */
static pid_t py_spawn(const char *python, char *const *args, int *out_fd)
{
    int fds[2];
    *out_fd = -1;
    if (pipe(fds) < 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    char *argv[16];
    int k = 0;
    argv[k++] = "/bin/sh";
    argv[k++] = "-c";
    argv[k++] = "exec \"$0\" \"$@\"";
    argv[k++] = (char *)python;
    for (int i = 0; args[i] && k < 15; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    /* dup2 clears close-on-exec on the copy; the pipe ends stay closed
     * in python. */
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    *out_fd = fds[0];
    return pid;
}

/* Reads one line from fd within the timeout; 0 at EOF or timeout. */
static int read_line(int fd, char *buf, size_t n, double timeout)
{
    size_t len = 0;
    uint64_t deadline = mp_os_now_ns() + (uint64_t)(timeout * 1e9);
    while (len + 1 < n) {
        if (mp_os_poll_readable(fd, deadline) != 1) break;
        ssize_t r = read(fd, buf + len, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (buf[len] == '\n') {
            buf[len] = '\0';
            return 1;
        }
        len++;
    }
    buf[len] = '\0';
    return 0;
}

/* Every Python 3.8+ here, once per version (tests/pythons.c). */
static void find_pythons(void)
{
    if (n_pythons < 0) n_pythons = mpt_find_pythons(pythons, MAX_PY);
}

static int covered_printed;

static void print_coverage(void)
{
    if (covered_printed) return;
    covered_printed = 1;
    mpt_python_report("listener interop", pythons, n_pythons);
}

/* The exit code a Python script uses for "AuthenticationError, as asked". */
#define PY_AUTH_FAILED 42

/* A Python Client against a C listener. argv: family, address, port, key
 * hex, expect ('good'/'bad'). */
static const char client_script[] =
    "import sys\n"
    "from multiprocessing import AuthenticationError\n"
    "from multiprocessing.connection import Client\n"
    "fam, addr, port, key, expect = sys.argv[1:6]\n"
    "address = addr if fam == 'unix' else (addr, int(port))\n"
    "try:\n"
    "    c = Client(address, authkey=bytes.fromhex(key))\n"
    "except AuthenticationError:\n"
    "    sys.exit(42 if expect == 'bad' else 2)\n"
    "if expect == 'bad':\n"
    "    sys.exit(3)\n"
    "v = '%d.%d.%d' % sys.version_info[:3]\n"
    "c.send_bytes(b'python ' + v.encode())\n"
    "if c.recv_bytes() != b'hello ' + v.encode():\n"
    "    sys.exit(4)\n"
    "big = bytes(range(256)) * 1000\n"
    "c.send_bytes(big)\n"
    "if c.recv_bytes() != big[::-1]:\n"
    "    sys.exit(5)\n"
    "c.close()\n";

/* A Python Listener for a C client: prints its address (or port), then
 * accepts one connection. argv: family, key hex, expect. */
static const char listener_script[] =
    "import sys\n"
    "from multiprocessing import AuthenticationError\n"
    "from multiprocessing.connection import Listener\n"
    "fam, key, expect = sys.argv[1:4]\n"
    "if fam == 'unix':\n"
    "    l = Listener(family='AF_UNIX', authkey=bytes.fromhex(key))\n"
    "    print(l.address, flush=True)\n"
    "else:\n"
    "    l = Listener(('127.0.0.1', 0), authkey=bytes.fromhex(key))\n"
    "    print(l.address[1], flush=True)\n"
    "try:\n"
    "    c = l.accept()\n"
    "except AuthenticationError:\n"
    "    l.close()\n"
    "    sys.exit(42 if expect == 'bad' else 2)\n"
    "if expect == 'bad':\n"
    "    sys.exit(3)\n"
    "v = '%d.%d.%d' % sys.version_info[:3]\n"
    "c.send_bytes(b'python ' + v.encode())\n"
    "if c.recv_bytes() != b'hello ' + v.encode():\n"
    "    sys.exit(4)\n"
    "big = c.recv_bytes()\n"
    "c.send_bytes(big[::-1])\n"
    "try:\n"
    "    c.recv_bytes()\n"
    "    sys.exit(6)\n"
    "except EOFError:\n"
    "    pass\n"
    "c.close()\n"
    "l.close()\n";

static void hex_of(const char *s, char *out)
{
    tohex((const unsigned char *)s, strlen(s), out);
}

/* The C half of the exchange with a Python peer. python_first: the
 * Python side speaks first (as a client of our listener). */
static int py_exchange(mp_conn *c, const mpt_python *py, int python_first)
{
    char want[96], hello[96];
    snprintf(want, sizeof want, "python %s", py->version);
    snprintf(hello, sizeof hello, "hello %s", py->version);
    void *d = NULL;
    size_t n = 0;
    int ok;
    if (python_first) {
        ok = recv_is(c, want, strlen(want));
        ok = ok && mp_conn_send_bytes(c, hello, 0, strlen(hello)) == 0;
        ok = ok && mp_conn_recv_bytes(c, &d, &n, 0) == 0 && n == 256000;
        if (ok) {
            unsigned char *r = d;
            for (size_t i = 0; i < n / 2; i++) {
                unsigned char t = r[i];
                r[i] = r[n - 1 - i];
                r[n - 1 - i] = t;
            }
            ok = mp_conn_send_bytes(c, r, 0, n) == 0;
        }
        mp_free(d);
        return ok;
    }
    ok = recv_is(c, want, strlen(want));
    ok = ok && mp_conn_send_bytes(c, hello, 0, strlen(hello)) == 0;
    unsigned char *big = malloc(BIG);
    if (!big) return 0;
    for (size_t i = 0; i < BIG; i++)
        big[i] = (unsigned char)(i * 13);
    ok = ok && mp_conn_send_bytes(c, big, 0, BIG) == 0;
    ok = ok && mp_conn_recv_bytes(c, &d, &n, 0) == 0 && n == BIG;
    for (size_t i = 0; ok && i < BIG; i++)
        ok = ((unsigned char *)d)[i] == big[BIG - 1 - i];
    mp_free(d);
    free(big);
    return ok;
}

static mp_digest_alg expected_alg(const mpt_python *py)
{
    return (py->major > 3 || (py->major == 3 && py->minor >= 12)) ? MP_DIGEST_SHA256
                                                                  : MP_DIGEST_MD5;
}

/* (a) Python's Client against a C mp_listener: AF_UNIX and TCP, right and
 * wrong key, for every Python found. */
static void test_python_client_c_listener(void)
{
    find_pythons();
    print_coverage();
    if (n_pythons == 0) {
        fprintf(stderr, "listener suite: no python3 (3.8+) found; interop not run\n");
        return;
    }
    char keyhex[64], badhex[64];
    hex_of(good_key, keyhex);
    hex_of(bad_key, badhex);
    for (int i = 0; i < n_pythons; i++) {
        const mpt_python *py = &pythons[i];
        for (int tcp = 0; tcp < 2; tcp++)
            for (int bad = 0; bad < 2; bad++) {
                char path[108] = "", port[16];
                mp_listener *l = NULL;
                if (tcp) {
                    MPT_OK(mp_listener_new_tcp(&l, "127.0.0.1", 0, 1, good_key,
                                               strlen(good_key)));
                } else {
                    unix_path(path, sizeof path);
                    MPT_OK(mp_listener_new_unix(&l, path, 1, good_key, strlen(good_key)));
                }
                snprintf(port, sizeof port, "%d", mp_listener_port(l));
                char *args[] = {"-c",
                                (char *)client_script,
                                tcp ? "tcp" : "unix",
                                tcp ? "127.0.0.1" : path,
                                port,
                                bad ? badhex : keyhex,
                                bad ? "bad" : "good",
                                NULL};
                int out = -1;
                pid_t pid = py_spawn(py->path, args, &out);
                CU_ASSERT_FATAL(pid > 0);
                close(out);
                mp_conn *c = NULL;
                int rc = accept_within(l, &c);
                int ok;
                if (bad) {
                    ok = rc == MP_EAUTH;
                } else {
                    ok = rc == 0 && py_exchange(c, py, 1);
                    mp_auth_info info = mp__listener_last_auth(l);
                    ok = ok && info.peer == expected_alg(py) &&
                         info.ours == expected_alg(py);
                }
                mp_conn_close(c);
                int code = reap(pid);
                mp_listener_close(l);
                if (!ok || code != (bad ? PY_AUTH_FAILED : 0))
                    fprintf(stderr,
                            "Python %s client, %s, %s key: accept gave %s (%s), "
                            "python exit %d\n",
                            py->version, tcp ? "tcp" : "unix", bad ? "wrong" : "right",
                            mp_error_name(rc), mp_last_error(), code);
                CU_ASSERT(ok);
                CU_ASSERT_EQUAL(code, bad ? PY_AUTH_FAILED : 0);
            }
    }
}

/* (b) A C mp_client against Python's Listener. */
static void test_c_client_python_listener(void)
{
    find_pythons();
    print_coverage();
    if (n_pythons == 0) {
        fprintf(stderr, "listener suite: no python3 (3.8+) found; interop not run\n");
        return;
    }
    char keyhex[64];
    hex_of(good_key, keyhex);
    for (int i = 0; i < n_pythons; i++) {
        const mpt_python *py = &pythons[i];
        for (int tcp = 0; tcp < 2; tcp++)
            for (int bad = 0; bad < 2; bad++) {
                char *args[] = {"-c",   (char *)listener_script, tcp ? "tcp" : "unix",
                                keyhex, bad ? "bad" : "good",    NULL};
                int out = -1;
                pid_t pid = py_spawn(py->path, args, &out);
                CU_ASSERT_FATAL(pid > 0);
                char addr[512];
                int ok = read_line(out, addr, sizeof addr, PEER_TIMEOUT);
                close(out);
                int rc = MP_ETIMEDOUT;
                mp_conn *c = NULL;
                mp_auth_info info = {(mp_digest_alg)0, (mp_digest_alg)0};
                const char *key = bad ? bad_key : good_key;
                if (ok)
                    rc =
                        tcp ? mp__client_open(&c, NULL, "127.0.0.1", atoi(addr), key,
                                              strlen(key), &info)
                            : mp__client_open(&c, addr, NULL, 0, key, strlen(key), &info);
                if (bad) {
                    ok = ok && rc == MP_EAUTH && c == NULL;
                } else {
                    ok = ok && rc == 0 && py_exchange(c, py, 0);
                    ok = ok && info.peer == expected_alg(py) &&
                         info.ours == expected_alg(py);
                }
                mp_conn_close(c);
                int code = reap(pid);
                if (!ok || code != (bad ? PY_AUTH_FAILED : 0))
                    fprintf(stderr,
                            "Python %s listener, %s, %s key: client gave %s (%s), "
                            "python exit %d\n",
                            py->version, tcp ? "tcp" : "unix", bad ? "wrong" : "right",
                            mp_error_name(rc), mp_last_error(), code);
                CU_ASSERT(ok);
                CU_ASSERT_EQUAL(code, bad ? PY_AUTH_FAILED : 0);
            }
    }
}

#endif

void mpt_suite_conn_listener(void)
{
    const char *s = "conn/listener";
#ifdef _WIN32
    af_unix_here = have_af_unix();
#endif
    mpt_add(s, "md5_rfc1321", test_md5_rfc1321);
    mpt_add(s, "sha256_fips180", test_sha256_fips180);
    mpt_add(s, "hmac_md5_rfc2202", test_hmac_md5_rfc2202);
    mpt_add(s, "hmac_sha256_rfc4231", test_hmac_sha256_rfc4231);
    mpt_add(s, "hmac_provider_matches_builtin", test_hmac_provider_matches_builtin);
    mpt_add(s, "digest_streaming", test_digest_streaming);
    mpt_add(s, "digest_equal", test_digest_equal);
    mpt_add(s, "auth_response_forms", test_auth_response_forms);
    mpt_add(s, "auth_verify_rules", test_auth_verify_rules);
    if (af_unix_here) {
        MPT_BOTH(s, unix_auth);
        MPT_BOTH(s, unix_noauth);
        MPT_BOTH(s, unix_wrong_key);
    } else {
        static const char *const unix_tests[] = {"unix_auth_spawn", "unix_noauth_spawn",
                                                 "unix_wrong_key_spawn",
                                                 "close_removes_path"};
        for (size_t i = 0; i < sizeof unix_tests / sizeof unix_tests[0]; i++)
            mpt_not_here(s, unix_tests[i], NO_AF_UNIX);
        mpt_not_here(s, "unix_auth_fork", MPT_NO_FORK);
        mpt_not_here(s, "unix_noauth_fork", MPT_NO_FORK);
        mpt_not_here(s, "unix_wrong_key_fork", MPT_NO_FORK);
    }
    MPT_BOTH(s, tcp_auth);
    MPT_BOTH(s, tcp_noauth);
    MPT_BOTH(s, tcp_wrong_key);
    mpt_add(s, "empty_key", test_empty_key);
    mpt_add(s, "legacy_server", test_legacy_server);
    mpt_add(s, "fake_listener", test_fake_listener);
    mpt_add(s, "junk_answers", test_junk_answers);
    mpt_add(s, "address_and_port", test_address_and_port);
    mpt_add(s, "errors", test_errors);
    if (af_unix_here) mpt_add(s, "close_removes_path", test_close_removes_path);
#ifdef _WIN32
    mpt_add(s, "noinherit_and_closed_peer", test_noinherit_and_closed_peer);
    mpt_add(s, "socket_framing", test_socket_framing);
    mpt_not_here(s, "cloexec_and_sigpipe",
                 "close-on-exec and SIGPIPE are POSIX's; noinherit_and_closed_peer "
                 "checks the Windows counterparts");
#else
    mpt_add(s, "cloexec_and_sigpipe", test_cloexec_and_sigpipe);
#endif
    MPT_POSIX_ONLY(s, "python_client_c_listener", test_python_client_c_listener,
                   MPT_NO_PYTHON);
    MPT_POSIX_ONLY(s, "c_client_python_listener", test_c_client_python_listener,
                   MPT_NO_PYTHON);
}
