/* auth.h - multiprocessing.connection's authkey challenge/response over a
 * connected mp_conn.
 *
 * The exchange is CPython's (Lib/multiprocessing/connection.py): the side
 * that delivers a challenge sends b'#CHALLENGE#' + message; the other
 * answers with an HMAC of the message under the shared key; the first
 * replies b'#WELCOME#' or b'#FAILURE#'. Each message is one frame of the
 * connection. A listener delivers and then answers; a client answers and
 * then delivers, so each side proves the key to the other.
 *
 * Two generations of the protocol are spoken, as CPython 3.12+ speaks them:
 * - modern (3.12+): the message is b'{sha256}' + 40 random bytes and the
 *   answer b'{sha256}' + HMAC-SHA256 of the whole message;
 * - legacy (3.8..3.11): the message is 20 random bytes and the answer the
 *   bare 16-byte HMAC-MD5.
 * We deliver modern challenges and accept a bare 16-byte MD5 answer to
 * them (what a 3.11 client sends); we answer a 20-byte challenge the
 * legacy way and a prefixed one with its digest. */
#ifndef MP_CORE_CONN_AUTH_H
#define MP_CORE_CONN_AUTH_H

#include <stddef.h>

#include "core/conn/digest.h"
#include "mproc/conn.h"

/* Random bytes in a challenge we deliver (CPython's MESSAGE_LENGTH). */
#define MP_AUTH_MESSAGE_LENGTH 40
/* The longest handshake message either side accepts (recv_bytes(256)). */
#define MP_AUTH_MAX_MESSAGE 256
/* Longest answer we build: "{sha256}" + 32 bytes. */
#define MP_AUTH_RESPONSE_MAX 48

/* Which digest each direction of a handshake used (for tests and logs). */
typedef struct mp_auth_info {
    mp_digest_alg peer; /* the peer's answer to our challenge */
    mp_digest_alg ours; /* our answer to the peer's challenge */
} mp_auth_info;

/* The answer to a challenge message (without the b'#CHALLENGE#' prefix),
 * as _create_response: a 16- or 20-byte message gets a bare HMAC-MD5, a
 * "{name}"-prefixed one "{name}" + HMAC-name. MP_EAUTH for a message of
 * any other form or a digest we do not have. *alg (if not NULL) tells
 * which digest was used. out holds MP_AUTH_RESPONSE_MAX bytes. */
int mp__auth_response(const void *key, size_t keylen, const unsigned char *msg,
                      size_t len, unsigned char *out, size_t *outlen, mp_digest_alg *alg);

/* Checks an answer to our challenge message, as _verify_challenge: 0 if
 * it is right, MP_EAUTH if not. *alg (if not NULL) gets the digest the
 * answer used. */
int mp__auth_verify(const void *key, size_t keylen, const unsigned char *msg, size_t len,
                    const unsigned char *resp, size_t rlen, mp_digest_alg *alg);

/* deliver_challenge / answer_challenge over c. 0 on success; MP_EAUTH if
 * the peer failed (or refused us); MP_ECLOSED, MP_ESYS... from the
 * connection. The caller closes c after a failure. alg may be NULL. */
int mp__auth_deliver(mp_conn *c, const void *key, size_t keylen, mp_digest_alg *alg);
int mp__auth_answer(mp_conn *c, const void *key, size_t keylen, mp_digest_alg *alg);

#endif
