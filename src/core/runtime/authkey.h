/* authkey.h - this process's authkey (authkey.c), Python's
 * current_process().authkey: made at random in the main process,
 * inherited by every child through its bootstrap blob. */
#ifndef MP_CORE_RUNTIME_AUTHKEY_H
#define MP_CORE_RUNTIME_AUTHKEY_H

#include <stddef.h>

#include "base/buf.h"

/* The current key (made on first use in the main process): a pointer to
 * this process's copy, valid until mp_set_authkey, and its length.
 * MP_ESYS if no random bytes could be had. */
int mp__authkey_current(const unsigned char **key, size_t *len);

/* Writes a child's key into its blob: key (len bytes), or, for NULL, the
 * current key. */
int mp__authkey_export(mp_buf *b, const unsigned char *key, size_t len);

/* In a child: makes the key in the blob this process's. MP_EPROTO for a
 * malformed record. */
int mp__authkey_import(mp_rd *rd);

/* Checks an authkey and length given to Listener or Client, replacing
 * (NULL, MP_AUTHKEY_CURRENT) with the current key. MP_EINVAL for another
 * NULL key with a length. */
int mp__authkey_resolve(const void **key, size_t *len);

#endif
