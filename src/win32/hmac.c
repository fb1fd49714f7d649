/* hmac.c - the HMAC provider on Windows: BCrypt (CNG).
 *
 * One algorithm handle per digest, opened once per process with
 * BCRYPT_ALG_HANDLE_HMAC_FLAG (InitOnceExecuteOnce) and kept: opening a
 * provider is the expensive part, and a handle may be used by many
 * threads at once. Each HMAC is one BCryptCreateHash with the key, one
 * BCryptHashData, one BCryptFinishHash; the hash object's memory is left
 * to BCrypt (pbHashObject NULL, Windows 7 and later). A provider that is
 * missing or refuses (e.g. MD5 under a FIPS policy) answers
 * MP_EUNSUPPORTED without recording an error, so the core falls back to
 * its built-in code, as platform.h asks. BCrypt takes ULONG lengths: a key
 * or message over 4 GiB goes to the built-in code too. Links bcrypt,
 * which clock.c already needs for BCryptGenRandom. */
#include "win32/win32_util.h"

#include <bcrypt.h>
#include <limits.h>

#ifndef NT_SUCCESS
#define NT_SUCCESS(st) (((NTSTATUS)(st)) >= 0)
#endif

static INIT_ONCE alg_once = INIT_ONCE_STATIC_INIT;
static BCRYPT_ALG_HANDLE alg_md5, alg_sha256;

static BOOL CALLBACK open_algs(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    if (!NT_SUCCESS(BCryptOpenAlgorithmProvider(&alg_md5, BCRYPT_MD5_ALGORITHM, NULL,
                                                BCRYPT_ALG_HANDLE_HMAC_FLAG)))
        alg_md5 = NULL;
    if (!NT_SUCCESS(BCryptOpenAlgorithmProvider(&alg_sha256, BCRYPT_SHA256_ALGORITHM,
                                                NULL, BCRYPT_ALG_HANDLE_HMAC_FLAG)))
        alg_sha256 = NULL;
    return TRUE;
}

int mp_os_hmac(int alg, const void *key, size_t keylen, const void *msg, size_t n,
               unsigned char *out, size_t outsize)
{
    InitOnceExecuteOnce(&alg_once, open_algs, NULL, NULL);
    BCRYPT_ALG_HANDLE a;
    size_t want;
    switch (alg) {
    case MP_OS_DIGEST_MD5:
        a = alg_md5;
        want = 16;
        break;
    case MP_OS_DIGEST_SHA256:
        a = alg_sha256;
        want = 32;
        break;
    default:
        return MP_EUNSUPPORTED;
    }
    if (!a || outsize != want || keylen > ULONG_MAX || n > ULONG_MAX)
        return MP_EUNSUPPORTED;
    /* BCrypt does not document NULL with a length of 0: point at
     * something. It takes non-const pointers but does not write them. */
    static unsigned char empty[1];
    BCRYPT_HASH_HANDLE hh = NULL;
    int rc = MP_EUNSUPPORTED;
    if (NT_SUCCESS(BCryptCreateHash(a, &hh, NULL, 0,
                                    keylen ? (PUCHAR)(uintptr_t)key : empty,
                                    (ULONG)keylen, 0)) &&
        NT_SUCCESS(BCryptHashData(hh, n ? (PUCHAR)(uintptr_t)msg : empty, (ULONG)n, 0)) &&
        NT_SUCCESS(BCryptFinishHash(hh, out, (ULONG)outsize, 0)))
        rc = 0;
    if (hh) BCryptDestroyHash(hh);
    return rc;
}
