/* identity.h - who this process is among the processes mproc started:
 * its name and its identity (Python's _identity: the creation numbers
 * from the main process down, "1:2" for the second Process made by the
 * first one), kept for mp_current_process and the names of the
 * processes it creates. */
#ifndef MP_CORE_RUNTIME_IDENTITY_H
#define MP_CORE_RUNTIME_IDENTITY_H

#include <stddef.h>

#include "base/buf.h"

/* Room for a name or an identity, with its NUL. */
#define MP_IDENTITY_MAX 256

/* The identity of the next process this one creates, and its default
 * name "Process-<identity>", each into MP_IDENTITY_MAX bytes. MP_ETOOBIG
 * when the identity would not fit (processes nested too deep). */
int mp__identity_next(char *identity, char *name);

/* Writes name, identity and daemon flag into a child's bootstrap blob. */
void mp__identity_export(mp_buf *b, const char *identity, const char *name, int daemon);

/* 1 if this process is a daemonic child (which may not start children). */
int mp__identity_daemon(void);

/* In a child: reads them back from the blob and makes them this
 * process's, with its creation count starting again at 1. MP_EPROTO for
 * a malformed record. */
int mp__identity_import(mp_rd *rd);

#endif
