/* runtime/authkey.c - the process's authkey: made at random in the main
 * process, inherited by children (_TestProcess.test_process checks that a
 * child's current_process().authkey is its parent's), set per process,
 * and used by Listener and Client when asked with MP_AUTHKEY_CURRENT. */
#include <string.h>

#include "test.h"

/* Sends this process's authkey back through q. */
static int t_send_key(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    unsigned char key[MP_AUTHKEY_MAX];
    size_t len = 0;
    MPT_CHILD_CHECK(mp_current_authkey(key, sizeof key, &len) == 0);
    MPT_CHILD_CHECK(mp_queue_put_bytes(q, key, len, MP_FOREVER) == 0);
    return 0;
}

static int get_key(mp_queue *q, unsigned char *key, size_t *len)
{
    return mp_queue_get_bytes_into(q, key, MP_AUTHKEY_MAX, len, MPT_JOIN_TIMEOUT);
}

/* _TestProcess.test_current / test_process: 32 random bytes, the same in
 * the child as in its parent. */
static void inherited(mp_start_method m)
{
    unsigned char mine[MP_AUTHKEY_MAX], theirs[MP_AUTHKEY_MAX], zero[MP_AUTHKEY_SIZE];
    size_t len = 0, tlen = 0;
    MPT_OK(mp_current_authkey(mine, sizeof mine, &len));
    CU_ASSERT_EQUAL(len, MP_AUTHKEY_SIZE);
    memset(zero, 0, sizeof zero);
    CU_ASSERT(memcmp(mine, zero, MP_AUTHKEY_SIZE) != 0);
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    CU_ASSERT_EQUAL(mpt_run(t_send_key, mp_args_of(q), m), 0);
    MPT_OK(get_key(q, theirs, &tlen));
    CU_ASSERT(tlen == len && memcmp(mine, theirs, len) == 0);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(inherited)

/* Starts a grandchild that sends its key, then sends its own. */
static int t_grandparent_key(const mp_args *args)
{
    mp_process *g;
    MPT_CHILD_CHECK(mp_process_new(&g, t_send_key, mp_args_of(mp_args_queue(args, 0))) ==
                    0);
    MPT_CHILD_CHECK(mp_process_start(g) == 0 &&
                    mp_process_join(g, MPT_JOIN_TIMEOUT) == 0);
    MPT_CHILD_CHECK(mp_process_free(g) == 0);
    return t_send_key(args);
}

/* p.authkey = b'...': the child has that key, and hands it down. */
static void set_per_process(mp_start_method m)
{
    mp_queue *q;
    mp_process *p;
    unsigned char key[MP_AUTHKEY_MAX];
    size_t len = 0;
    MPT_OK(mp_queue_new(&q, 0));
    MPT_OK(mp_process_new(&p, t_grandparent_key, mp_args_of(q)));
    MPT_OK(mp_process_set_start_method(p, m));
    MPT_OK(mp_process_set_authkey(p, "hush", 4));
    MPT_OK(mp_process_start(p));
    MPT_EQ(mp_process_set_authkey(p, "late", 4), MP_ESTATE);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    for (int i = 0; i < 2; i++) {
        MPT_OK(get_key(q, key, &len));
        CU_ASSERT(len == 4 && memcmp(key, "hush", 4) == 0);
    }
    MPT_OK(mp_current_authkey(key, sizeof key, &len));
    CU_ASSERT_EQUAL(len, MP_AUTHKEY_SIZE); /* the parent's own is unchanged */
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(set_per_process)

/* Connects with the current key and reports how the handshake went. */
static int t_client(const mp_args *args)
{
    int64_t port;
    mp_conn *c = NULL;
    MPT_CHILD_CHECK(mp_args_get_int(args, 0, &port) == 0);
    int rc = mp_client_tcp(&c, "127.0.0.1", (int)port, NULL, MP_AUTHKEY_CURRENT);
    if (c) mp_conn_close(c);
    return rc == 0 ? 0 : rc == MP_EAUTH ? 7 : 1;
}

/* MP_AUTHKEY_CURRENT on both sides: a child with the inherited key is let
 * in, one given another key is refused. */
static void listener_current_key(mp_start_method m)
{
    mp_listener *l;
    mp_conn *c = NULL;
    MPT_OK(mp_listener_new_tcp(&l, "127.0.0.1", 0, 4, NULL, MP_AUTHKEY_CURRENT));
    int64_t port = mp_listener_port(l);
    mp_process *p = mpt_start(t_client, mp_args_of(port), m);
    MPT_OK(mp_listener_accept(l, &c));
    mp_conn_close(c);
    CU_ASSERT_EQUAL(mpt_join(p), 0);

    mp_process *q;
    MPT_OK(mp_process_new(&q, t_client, mp_args_of(port)));
    MPT_OK(mp_process_set_start_method(q, m));
    MPT_OK(mp_process_set_authkey(q, "other", 5));
    MPT_OK(mp_process_start(q));
    c = NULL;
    MPT_EQ(mp_listener_accept(l, &c), MP_EAUTH);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(mpt_join(q), 7);
    mp_listener_close(l);
}
MPT_DEFINE_BOTH(listener_current_key)

static void misuse(void)
{
    unsigned char key[MP_AUTHKEY_MAX + 1], saved[MP_AUTHKEY_MAX];
    size_t len = 0, saved_len = 0;
    mp_listener *l = NULL;
    memset(key, 1, sizeof key);
    MPT_OK(mp_current_authkey(saved, sizeof saved, &saved_len));
    MPT_EQ(mp_current_authkey(key, 4, &len), MP_ETOOSHORT);
    CU_ASSERT_EQUAL(len, MP_AUTHKEY_SIZE);
    MPT_EQ(mp_current_authkey(NULL, 4, &len), MP_EINVAL);
    MPT_EQ(mp_current_authkey(key, sizeof key, NULL), MP_EINVAL);
    MPT_EQ(mp_set_authkey(key, MP_AUTHKEY_MAX + 1), MP_ETOOBIG);
    MPT_EQ(mp_set_authkey(NULL, 3), MP_EINVAL);
    MPT_EQ(mp_process_set_authkey(NULL, "k", 1), MP_EINVAL);
    MPT_EQ(mp_listener_new_tcp(&l, "127.0.0.1", 0, 1, NULL, 5), MP_EINVAL);
    /* Set, read back, and put back for the other tests. */
    MPT_OK(mp_set_authkey("abc", 3));
    MPT_OK(mp_current_authkey(key, sizeof key, &len));
    CU_ASSERT(len == 3 && memcmp(key, "abc", 3) == 0);
    MPT_OK(mp_set_authkey(saved, saved_len));
}

void mpt_suite_runtime_authkey(void)
{
    MPT_BOTH("runtime/authkey", inherited);
    MPT_BOTH("runtime/authkey", set_per_process);
    MPT_BOTH("runtime/authkey", listener_current_key);
    mpt_add("runtime/authkey", "misuse", misuse);
}
