/* auth.c - the authkey handshake of multiprocessing.connection (see auth.h),
 * following CPython 3.12+'s deliver_challenge, answer_challenge,
 * _create_response, _verify_challenge and _get_digest_name_and_payload
 * step by step, including which lengths mean the legacy form. */
#include "core/conn/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "base/error.h"

static const char challenge_tag[] = "#CHALLENGE#";
static const char welcome[] = "#WELCOME#";
static const char failure[] = "#FAILURE#";
#define TAG_LEN (sizeof challenge_tag - 1)

/* A legacy (<= 3.11) challenge has 20 random bytes; a legacy answer is a
 * 16-byte HMAC-MD5. No modern message ("{name}" + data) has either length,
 * which is how the two generations tell each other apart. */
#define MD5ONLY_MESSAGE_LENGTH 20
#define MD5_DIGEST_LEN         16
/* Longest name in CPython's _ALLOWED_DIGESTS ("sha3_256"). */
#define MAX_DIGEST_NAME 8

/* Python's _ALLOWED_DIGESTS, and what each is here (0: a name Python
 * accepts that mproc cannot compute; it fails the handshake cleanly). */
static const struct {
    const char *name;
    mp_digest_alg alg;
} allowed[] = {{"md5", MP_DIGEST_MD5},
               {"sha256", MP_DIGEST_SHA256},
               {"sha384", (mp_digest_alg)0},
               {"sha3_256", (mp_digest_alg)0},
               {"sha3_384", (mp_digest_alg)0}};

static int auth_fail(const char *what)
{
    return mp_set_error(MP_EAUTH, "authkey handshake: %s", what);
}

/* _get_digest_name_and_payload: *alg = 0 for the legacy form (no prefix,
 * MD5 implied), else the named digest; the payload follows the prefix. */
static int digest_and_payload(const unsigned char *m, size_t len, mp_digest_alg *alg,
                              size_t *payload_at)
{
    *alg = (mp_digest_alg)0;
    *payload_at = 0;
    if (len == MD5ONLY_MESSAGE_LENGTH || len == MD5_DIGEST_LEN) return 0;
    if (len == 0 || m[0] != '{')
        return auth_fail("unsupported message length or missing digest prefix");
    /* message.find(b'}', 1, _MAX_DIGEST_LEN + 2): the brace among bytes
     * 1..9, the name between. */
    size_t end = len < MAX_DIGEST_NAME + 2 ? len : MAX_DIGEST_NAME + 2;
    size_t curly = 0;
    for (size_t i = 1; i < end && !curly; i++)
        if (m[i] == '}') curly = i;
    if (!curly) return auth_fail("missing digest prefix");
    for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++) {
        size_t n = strlen(allowed[k].name);
        if (n == curly - 1 && memcmp(m + 1, allowed[k].name, n) == 0) {
            if (!allowed[k].alg)
                return mp_set_error(MP_EAUTH,
                                    "authkey handshake: the peer asks for %s, which "
                                    "mproc does not implement (md5 and sha256 only)",
                                    allowed[k].name);
            *alg = allowed[k].alg;
            *payload_at = curly + 1;
            return 0;
        }
    }
    return auth_fail("unsupported digest in the prefix");
}

static const char *alg_name(mp_digest_alg alg)
{
    return alg == MP_DIGEST_MD5 ? "md5" : "sha256";
}

int mp__auth_response(const void *key, size_t keylen, const unsigned char *msg,
                      size_t len, unsigned char *out, size_t *outlen, mp_digest_alg *alg)
{
    mp_digest_alg a;
    size_t at;
    int rc = digest_and_payload(msg, len, &a, &at);
    if (rc < 0) return rc;
    if (!a) {
        /* Legacy peer: the bare HMAC-MD5 of the message. */
        rc = mp_hmac(MP_DIGEST_MD5, key, keylen, msg, len, out);
        if (rc < 0) return rc;
        *outlen = MD5_DIGEST_LEN;
        if (alg) *alg = MP_DIGEST_MD5;
        return 0;
    }
    /* Modern: "{name}" + the HMAC of the whole message, prefix included,
     * so that the prefix cannot be changed on the way (no downgrade). */
    const char *name = alg_name(a);
    size_t n = strlen(name);
    out[0] = '{';
    memcpy(out + 1, name, n);
    out[n + 1] = '}';
    rc = mp_hmac(a, key, keylen, msg, len, out + n + 2);
    if (rc < 0) return rc;
    *outlen = n + 2 + mp_digest_size(a);
    if (alg) *alg = a;
    return 0;
}

int mp__auth_verify(const void *key, size_t keylen, const unsigned char *msg, size_t len,
                    const unsigned char *resp, size_t rlen, mp_digest_alg *alg)
{
    mp_digest_alg a;
    size_t at;
    int rc = digest_and_payload(resp, rlen, &a, &at);
    if (rc < 0) return rc;
    /* No prefix: MD5, the only digest of the legacy protocol. */
    if (!a) a = MP_DIGEST_MD5;
    if (alg) *alg = a;
    unsigned char expected[MP_DIGEST_MAX];
    rc = mp_hmac(a, key, keylen, msg, len, expected);
    if (rc < 0) return rc;
    size_t dlen = mp_digest_size(a);
    if (rlen - at != dlen)
        return mp_set_error(MP_EAUTH,
                            "authkey handshake: expected %s of length %zu, got %zu",
                            alg_name(a), dlen, rlen - at);
    if (!mp_digest_equal(expected, resp + at, dlen))
        return auth_fail("digest received was wrong");
    return 0;
}

/* recv_bytes(256): a longer message is refused (Python raises OSError and
 * the stream is lost), which here is a failed handshake. */
static int recv_small(mp_conn *c, unsigned char **m, size_t *len)
{
    void *d = NULL;
    int rc = mp_conn_recv_bytes(c, &d, len, MP_AUTH_MAX_MESSAGE);
    if (rc == MP_ETOOBIG) return auth_fail("message from the peer longer than 256 bytes");
    if (rc < 0) return rc;
    *m = d;
    return 0;
}

int mp__auth_deliver(mp_conn *c, const void *key, size_t keylen, mp_digest_alg *alg)
{
    /* b'#CHALLENGE#' + b'{sha256}' + 40 random bytes. */
    static const char prefix[] = "{sha256}";
    enum { PREFIX_LEN = sizeof prefix - 1 };
    unsigned char out[TAG_LEN + PREFIX_LEN + MP_AUTH_MESSAGE_LENGTH];
    memcpy(out, challenge_tag, TAG_LEN);
    memcpy(out + TAG_LEN, prefix, PREFIX_LEN);
    int rc = mp_os_random(out + TAG_LEN + PREFIX_LEN, MP_AUTH_MESSAGE_LENGTH);
    if (rc < 0) return rc;
    rc = mp_conn_send_bytes(c, out, 0, sizeof out);
    if (rc < 0) return rc;
    unsigned char *resp = NULL;
    size_t rlen = 0;
    rc = recv_small(c, &resp, &rlen);
    if (rc < 0) return rc;
    const unsigned char *msg = out + TAG_LEN;
    rc = mp__auth_verify(key, keylen, msg, sizeof out - TAG_LEN, resp, rlen, alg);
    free(resp);
    if (rc == MP_EAUTH) {
        /* Tell the peer before giving up, as Python does; its own error
         * (if the peer is gone already) does not change ours. */
        char detail[256];
        snprintf(detail, sizeof detail, "%s", mp_last_error());
        (void)mp_conn_send_bytes(c, failure, 0, sizeof failure - 1);
        return mp_set_error(MP_EAUTH, "%s", detail);
    }
    if (rc < 0) return rc;
    return mp_conn_send_bytes(c, welcome, 0, sizeof welcome - 1);
}

int mp__auth_answer(mp_conn *c, const void *key, size_t keylen, mp_digest_alg *alg)
{
    unsigned char *m = NULL;
    size_t len = 0;
    int rc = recv_small(c, &m, &len);
    if (rc < 0) return rc;
    if (len < TAG_LEN || memcmp(m, challenge_tag, TAG_LEN) != 0) {
        free(m);
        return auth_fail("protocol error: expected a challenge");
    }
    if (len - TAG_LEN < MD5ONLY_MESSAGE_LENGTH) {
        free(m);
        return mp_set_error(MP_EAUTH, "authkey handshake: challenge too short: %zu bytes",
                            len - TAG_LEN);
    }
    unsigned char resp[MP_AUTH_RESPONSE_MAX];
    size_t rlen = 0;
    /* A challenge we cannot answer ends the handshake without a reply,
     * as in Python (the peer sees the connection close). */
    rc = mp__auth_response(key, keylen, m + TAG_LEN, len - TAG_LEN, resp, &rlen, alg);
    free(m);
    if (rc < 0) return rc;
    rc = mp_conn_send_bytes(c, resp, 0, rlen);
    if (rc < 0) return rc;
    m = NULL;
    rc = recv_small(c, &m, &len);
    if (rc < 0) return rc;
    int ok = len == sizeof welcome - 1 && memcmp(m, welcome, len) == 0;
    free(m);
    if (!ok) return auth_fail("digest sent was rejected");
    return 0;
}
