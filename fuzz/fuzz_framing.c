/* fuzz_framing.c - libFuzzer target for the connection reader.
 *
 * The input is what a peer might write on a Pipe: the bytes go into the
 * write end of an OS pipe, which is then closed, and the read end, wrapped
 * as an mp_conn, is read with recv_bytes / recv_bytes_into until end of
 * file or an error. Length headers (4-byte, or -1 and 8 bytes), truncated
 * messages, limits and kept messages (MP_ETOOSHORT) are all exercised; no
 * input may crash, overread, leak or hang.
 *
 * Input layout: byte 0 chooses how to read (below); the rest is the
 * stream. A stream that does not fit the pipe's buffer is written from a
 * thread, so any length works (the CI run caps it with -max_len anyway).
 * Each received message is also given to mp_obj_loads(), as mp_conn_recv
 * would. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conn/conn_internal.h"
#include "mproc.h"
#include "platform.h"

/* Written at once below this size: Linux pipes hold 64 KiB. */
#define DIRECT_MAX 32768

typedef struct writer {
    mp_os_handle h;
    const uint8_t *p;
    size_t n;
} writer;

static void write_and_close(void *arg)
{
    writer *w = arg;
    /* MP_ECLOSED when the reader stopped early: fine. */
    (void)mp_os_write_all(w->h, w->p, w->n);
    mp_os_close(w->h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned mode = data[0];
    data++;
    size--;
    /* Limits: 0 (none), a few bytes, or a typical small cap. */
    static const size_t limits[4] = {0, 3, 64, 4096};
    size_t maxlength = limits[mode & 3];
    int use_into = (mode >> 2) & 1;         /* recv_bytes_into instead of recv_bytes */
    size_t bufsize = ((mode >> 3) & 7) * 9; /* 0 .. 63 bytes for _into */
    size_t offset = bufsize ? (mode >> 6) % (bufsize + 1) : 0;

    mp_os_handle h[2];
    if (mp_os_pipe(0, h) != 0) abort();
    mp_conn *c = NULL;
    if (mp__conn_from_handle(&c, h[0], 1, 0) != 0) abort();
    writer w = {h[1], data, size};
    mp_os_thread *t = NULL;
    if (size <= DIRECT_MAX)
        write_and_close(&w);
    else if (mp_os_thread_start(&t, write_and_close, &w) != 0)
        abort();

    unsigned char buf[64];
    for (int i = 0; i < 100000; i++) {
        void *msg = NULL;
        size_t len = 0;
        int rc;
        if (use_into) {
            rc = mp_conn_recv_bytes_into(c, buf, bufsize, offset, &len);
            if (rc == 0) {
                msg = buf + offset;
                if (len > bufsize - offset) abort();
            } else if (rc == MP_ETOOSHORT) {
                /* Kept: take it with recv_bytes, as Python's BufferTooShort. */
                rc = mp_conn_recv_bytes(c, &msg, &len, 0);
                if (rc != 0) abort();
                if (len <= bufsize - offset) abort();
            }
        } else {
            rc = mp_conn_recv_bytes(c, &msg, &len, maxlength);
            if (rc == 0 && maxlength && len > maxlength) abort();
        }
        if (rc != 0) {
            if (rc > 0 || (!use_into && msg)) abort();
            break; /* end of file, a bad frame, or over the limit */
        }
        mp_obj *o = NULL;
        if (mp_obj_loads(msg, len, &o) == 0) mp_obj_free(o);
        if (msg != buf + offset) mp_free(msg);
    }
    mp_conn_close(c);
    if (t && mp_os_thread_join(t) != 0) abort();
    return 0;
}
