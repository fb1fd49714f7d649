/* authkey.c - the process's authkey (authkey.h).
 *
 * Python's main process draws 32 bytes from os.urandom when it starts;
 * here they are drawn on first use, so a program that never asks pays
 * nothing. A child gets its Process's key if one was set
 * (mp_process_set_authkey), else its parent's, in the bootstrap blob,
 * which only that child can read (docs/security.md). Listener and Client
 * use it only when asked to with MP_AUTHKEY_CURRENT: with a NULL key they
 * authenticate nothing, as Python's do with authkey=None (docs/listener.md
 * says why). */
#include <string.h>

#include "base/error.h"
#include "core/runtime/authkey.h"
#include "mproc/process.h"
#include "platform.h"

static unsigned char current[MP_AUTHKEY_MAX];
static size_t current_len;
static int have_key;

int mp__authkey_current(const unsigned char **key, size_t *len)
{
    if (!have_key) {
        int rc = mp_os_random(current, MP_AUTHKEY_SIZE);
        if (rc < 0) return rc;
        current_len = MP_AUTHKEY_SIZE;
        have_key = 1;
    }
    *key = current;
    *len = current_len;
    return 0;
}

static int set_key(const void *key, size_t len)
{
    if (!key && len) return mp_set_error(MP_EINVAL, "NULL authkey with a length");
    if (len > MP_AUTHKEY_MAX)
        return mp_set_error(MP_ETOOBIG, "an authkey has at most %d bytes",
                            MP_AUTHKEY_MAX);
    if (len) memmove(current, key, len);
    current_len = len;
    have_key = 1;
    return 0;
}

int mp__authkey_export(mp_buf *b, const unsigned char *key, size_t len)
{
    if (!key) {
        int rc = mp__authkey_current(&key, &len);
        if (rc < 0) return rc;
    }
    mp_buf_blob(b, key, len);
    return 0;
}

int mp__authkey_import(mp_rd *rd)
{
    size_t len = 0;
    const void *key = mp_rd_blob(rd, &len);
    if (rd->failed || len > MP_AUTHKEY_MAX)
        return mp_set_error(MP_EPROTO, "bad authkey in bootstrap data");
    return set_key(key, len);
}

int mp__authkey_resolve(const void **key, size_t *len)
{
    if (!*key && *len == MP_AUTHKEY_CURRENT) {
        const unsigned char *k;
        int rc = mp__authkey_current(&k, len);
        *key = k;
        return rc;
    }
    if (!*key && *len)
        return mp_set_error(MP_EINVAL, "NULL authkey with a length of %zu", *len);
    return 0;
}

int mp_current_authkey(void *buf, size_t cap, size_t *len)
{
    mp_clear_error();
    if (!len || (!buf && cap)) return mp_set_error(MP_EINVAL, "NULL argument");
    const unsigned char *key;
    size_t n;
    int rc = mp__authkey_current(&key, &n);
    if (rc < 0) return rc;
    *len = n;
    if (n > cap)
        return mp_set_error(MP_ETOOSHORT, "the authkey has %zu bytes, room for %zu", n,
                            cap);
    if (n) memcpy(buf, key, n);
    return 0;
}

int mp_set_authkey(const void *key, size_t len)
{
    mp_clear_error();
    return set_key(key, len);
}
