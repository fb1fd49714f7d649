/* conn/misuse_listener.c - misuse rows for mproc/listener.h, and for the
 * calls of mproc/error.h, mproc/version.h and mp_main (group "misc").
 * Listeners are TCP on 127.0.0.1 (Wine has no AF_UNIX); the AF_UNIX rows
 * are the ones refused before any socket is made. */
#include <math.h>
#include <string.h>

#include "misuse.h"

static void setup(mpt_fx *fx)
{
    MPT_OK(mp_listener_new_tcp(&fx->l, "127.0.0.1", 0, 4, NULL, 0));
}

static void teardown(mpt_fx *fx)
{
    mp_listener_close(fx->l);
}

static const char *check(mpt_fx *fx)
{
    if (mp_listener_port(fx->l) <= 0) return "the Listener (no port)";
    if (mp_listener_poll(fx->l, 0) != 0) return "the Listener (a client left waiting)";
    return NULL;
}

static mp_listener *pick(mpt_fx *fx, const mpt_row *r)
{
    return r->h == MPT_NULL ? NULL : fx->l;
}

/* A path longer than any sockaddr_un holds (108 bytes on Linux). */
static const char *long_path(void)
{
    static char p[300];
    memset(p, 'p', sizeof p - 1);
    p[0] = '/';
    return p;
}

/* r->x: 0 a NULL result pointer, 1 a NULL host, 2 port r->i (as int
 * through r->n), 3 backlog -1, 4 a NULL key with a length. */
static int new_tcp(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_listener *l = NULL;
    int port = r->x == 2 ? (int)r->t : 0;
    int rc = mp_listener_new_tcp(r->x == 0 ? NULL : &l, r->x == 1 ? NULL : "127.0.0.1",
                                 port, r->x == 3 ? -1 : 1, NULL, r->x == 4 ? 3 : 0);
    mp_listener_close(l);
    return rc;
}

/* r->x: 0 a NULL result pointer, 1 a NULL path, 2 a path too long,
 * 3 backlog -1, 4 a NULL key with a length. */
static int new_unix(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_listener *l = NULL;
    const char *path = r->x == 1 ? NULL : r->x == 2 ? long_path() : "/nonexistent/x.sock";
    int rc = mp_listener_new_unix(r->x == 0 ? NULL : &l, path, r->x == 3 ? -1 : 1, NULL,
                                  r->x == 4 ? 3 : 0);
    mp_listener_close(l);
    return rc;
}

static int accept_c(mpt_fx *fx, const mpt_row *r)
{
    mp_conn *c = (mp_conn *)&c;
    int rc = mp_listener_accept(pick(fx, r), r->h == MPT_NULL_OUT ? NULL : &c);
    if (rc < 0 && r->h != MPT_NULL_OUT && c != NULL) return MPT_R_WRONG;
    return rc;
}

/* r->x: 1 a client connects first (and is accepted afterwards), so a
 * wait with no limit returns. */
static int poll_l(mpt_fx *fx, const mpt_row *r)
{
    mp_conn *client = NULL, *served = NULL;
    if (r->x == 1)
        MPT_OK(mp_client_tcp(&client, "127.0.0.1", mp_listener_port(fx->l), NULL, 0));
    int rc = mp_listener_poll(pick(fx, r), r->t);
    if (r->x == 1) {
        MPT_OK(mp_listener_accept(fx->l, &served));
        mp_conn_close(served);
        mp_conn_close(client);
    }
    return rc;
}

static int queries(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    (void)r;
    mp_listener_close(NULL);
    return mp_listener_port(NULL) == 0 && strcmp(mp_listener_address(NULL), "") == 0
               ? 0
               : MPT_R_WRONG;
}

/* r->x: 0 a NULL result pointer, 1 a NULL host, 2 port r->t, 4 a NULL key
 * with a length. Nothing listens at port 1, so a row that got past its
 * checks would fail differently (MP_ESYS). */
static int client_tcp(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_conn *c = (mp_conn *)&c;
    int port = r->x == 2 ? (int)r->t : 1;
    int rc = mp_client_tcp(r->x == 0 ? NULL : &c, r->x == 1 ? NULL : "127.0.0.1", port,
                           NULL, r->x == 4 ? 3 : 0);
    if (rc == 0) mp_conn_close(c);
    if (rc < 0 && r->x != 0 && c != NULL) return MPT_R_WRONG;
    return rc;
}

static int client_unix(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_conn *c = NULL;
    const char *path = r->x == 1 ? NULL : r->x == 2 ? long_path() : "/nonexistent/x.sock";
    int rc = mp_client_unix(r->x == 0 ? NULL : &c, path, NULL, r->x == 4 ? 3 : 0);
    if (rc == 0) mp_conn_close(c);
    return rc;
}

static const mpt_row rows[] = {
    {"mp_listener_new_tcp", "NULL result pointer", new_tcp, MP_EINVAL, .x = 0},
    {"mp_listener_new_tcp", "NULL host", new_tcp, MP_EINVAL, .x = 1},
    {"mp_listener_new_tcp", "port -1", new_tcp, MP_EINVAL, .x = 2, .t = -1},
    {"mp_listener_new_tcp", "port 65536", new_tcp, MP_EINVAL, .x = 2, .t = 65536},
    {"mp_listener_new_tcp", "backlog -1", new_tcp, MP_EINVAL, .x = 3},
    {"mp_listener_new_tcp", "NULL authkey with a length", new_tcp, MP_EINVAL, .x = 4},
    {"mp_listener_new_unix", "NULL result pointer", new_unix, MP_EINVAL, .x = 0},
    {"mp_listener_new_unix", "NULL path", new_unix, MP_EINVAL, .x = 1},
    {"mp_listener_new_unix", "a path of 299 bytes", new_unix, MP_EINVAL, .x = 2},
    {"mp_listener_new_unix", "backlog -1", new_unix, MP_EINVAL, .x = 3},
    {"mp_listener_new_unix", "NULL authkey with a length", new_unix, MP_EINVAL, .x = 4},
    {"mp_listener_accept", "NULL listener", accept_c, MP_EINVAL, .h = MPT_NULL},
    {"mp_listener_accept", "NULL result pointer", accept_c, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_listener_poll", "NULL listener", poll_l, MP_EINVAL, .h = MPT_NULL},
    {"mp_listener_poll", "timeout NaN", poll_l, MP_EINVAL, .t = NAN},
    {"mp_listener_poll", "timeout 0, nobody there", poll_l, 0, .t = 0},
    {"mp_listener_poll", "timeout -1 (no limit; a client waits)", poll_l, 1, .t = -1,
     .x = 1},
    {"mp_listener_poll", "timeout -inf (no limit; a client waits)", poll_l, 1,
     .t = -INFINITY, .x = 1},
    {"mp_listener_close, port, address", "NULL (ignored, 0, \"\")", queries, 0,
     .h = MPT_LIVE},
    {"mp_client_tcp", "NULL result pointer", client_tcp, MP_EINVAL, .x = 0},
    {"mp_client_tcp", "NULL host", client_tcp, MP_EINVAL, .x = 1},
    {"mp_client_tcp", "port 0", client_tcp, MP_EINVAL, .x = 2, .t = 0},
    {"mp_client_tcp", "port -1", client_tcp, MP_EINVAL, .x = 2, .t = -1},
    {"mp_client_tcp", "port 65536", client_tcp, MP_EINVAL, .x = 2, .t = 65536},
    {"mp_client_tcp", "NULL authkey with a length", client_tcp, MP_EINVAL, .x = 4},
    {"mp_client_unix", "NULL result pointer", client_unix, MP_EINVAL, .x = 0},
    {"mp_client_unix", "NULL path", client_unix, MP_EINVAL, .x = 1},
    {"mp_client_unix", "a path of 299 bytes", client_unix, MP_EINVAL, .x = 2},
    {"mp_client_unix", "NULL authkey with a length", client_unix, MP_EINVAL, .x = 4},
};

const mpt_group mpt_misuse_listener = MPT_GROUP("listener", setup, teardown, check, rows);

/* ---- misc: errors, version, mp_main ------------------------------------------ */

static void no_setup(mpt_fx *fx)
{
    (void)fx;
}

static int names(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    int code = (int)r->x;
    const char *s = mp_strerror(code), *n = mp_error_name(code);
    if (!s || !n) return MPT_R_WRONG;
    return strcmp(s, "unknown error") == 0 && strcmp(n, "MP_E?") == 0 ? 0 : MPT_R_WRONG;
}

static int others(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    (void)r;
    mp_free(NULL);
    if (!mp_last_error() || !mp_version_string()) return MPT_R_WRONG;
    return mp_version() == MP_VERSION_HEX ? 0 : MPT_R_WRONG;
}

/* mp_main in a process that is no child of mproc returns at once, whatever
 * it is given. (A real argv[0] is not passed: it would be recorded as the
 * program to spawn.) */
static int main_again(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    char other[] = "--not-mproc";
    char *argv[] = {NULL, other, NULL};
    if (r->x == 0)
        mp_main(0, NULL);
    else
        mp_main(2, argv);
    return 0;
}

static const mpt_row misc_rows[] = {
    {"mp_strerror, mp_error_name", "code 1 (not an error code)", names, 0, .x = 1},
    {"mp_strerror, mp_error_name", "code -1000", names, 0, .x = -1000},
    {"mp_strerror, mp_error_name", "code INT32_MIN", names, 0, .x = INT32_MIN},
    {"mp_free, mp_last_error, mp_version", "NULL", others, 0, .h = MPT_LIVE},
    {"mp_main", "argc 0, argv NULL", main_again, 0, .x = 0},
    {"mp_main", "argv[0] NULL, no child marker", main_again, 0, .x = 1},
};

const mpt_group mpt_misuse_misc = MPT_GROUP("misc", no_setup, no_setup, NULL, misc_rows);
