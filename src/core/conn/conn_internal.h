/* conn_internal.h - pieces of conn.c that tests reach directly.
 *
 * Tests need to put raw bytes on the wire (truncated or corrupt frames, the
 * 64-bit header form) and to hand a descriptor to a python3 child, which
 * the public API deliberately cannot do. */
#ifndef MP_CORE_CONN_CONN_INTERNAL_H
#define MP_CORE_CONN_CONN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"
#include "mproc/conn.h"

/* Longest frame header: -1 as 4 bytes, then an 8-byte length. */
#define MP_CONN_HEADER_MAX 12

/* Messages up to this size go out in one write with their header, as in
 * CPython (issue #20540: avoids Nagle delays on TCP sockets). */
#define MP_CONN_SMALL 16384

/* Writes the frame header of an n-byte message to out and returns its
 * length: 4 (big-endian signed length) or 12 (-1, then a big-endian
 * unsigned 64-bit length, for n > 0x7fffffff). */
size_t mp__conn_encode_header(uint64_t n, unsigned char out[MP_CONN_HEADER_MAX]);

/* Wraps a handle from mp_os_pipe() as a connection end; takes ownership
 * of h, also on failure. */
int mp__conn_from_handle(mp_conn **c, mp_os_handle h, int readable, int writable);

/* Tests only: forces the framing of an end. message 0 on a Windows
 * message pipe makes the end speak the length-prefixed stream framing over
 * it (a message pipe read as bytes is a byte stream), so the framing tests
 * that put raw header bytes on the wire run there too. */
void mp__conn_set_message(mp_conn *c, int message);

/* The OS handle of an end (still owned by c). */
mp_os_handle mp__conn_handle(const mp_conn *c);

/* For wait.c: an end's handle to wait on (*h), and whether a message is
 * already there without waiting (1: kept, read ahead or an empty message
 * a poll took; 0: wait on *h). MP_ESTATE for an end that cannot receive
 * (closed, write-only, broken), as a receive would say. */
int mp__conn_wait_prepare(mp_conn *c, mp_os_handle *h);

/* For wait.c: a wait on the end's message pipe took an empty message off
 * it (mp_os_wait_many said 2); the next receive hands it out. */
void mp__conn_took_empty(mp_conn *c);

#endif
