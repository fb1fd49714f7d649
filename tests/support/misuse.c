/* misuse.c - runs the misuse tables (misuse.h) of the rooms: each group is
 * one test of its room's misuse suite (queue/misuse: queue, queue_closed),
 * and the rows that only a child can run are runtime/misuse in_child.
 *
 * Every row gets a fresh fixture, so no row depends on another. A row
 * that crashes ends its test's process (the runner reports that test):
 * MPT_VERBOSE=1 in the environment prints each row before it runs, to
 * find which. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "misuse.h"

/* ---- helpers shared by the groups ------------------------------------------ */

int mpt_value_works(mp_value *v)
{
    int64_t x = 0;
    if (mp_value_get_int(v, &x) < 0) return 1;
    int64_t want = x == 7 ? 8 : 7;
    if (mp_value_set_int(v, want) < 0 || mp_value_get_int(v, &x) < 0) return 1;
    return x != want;
}

int mpt_pipe_works(mp_conn *a, mp_conn *b)
{
    if (mp_conn_send_bytes(a, "probe", 0, 5) < 0) return 1;
    char buf[16];
    size_t n = 0;
    if (mp_conn_poll(b, MPT_JOIN_TIMEOUT) != 1) return 1;
    if (mp_conn_recv_bytes_into(b, buf, sizeof buf, 0, &n) < 0) return 1;
    return n != 5 || memcmp(buf, "probe", 5) != 0;
}

mp_obj *mpt_nested(int depth)
{
    mp_obj *o = mp_obj_list(0);
    for (int i = 0; i < depth && o; i++)
        o = MP_LIST(o);
    return o;
}

/* ---- sentinels ------------------------------------------------------------- */

/* Objects made before the first row and used after every one: a misuse
 * of one object must leave every other object working. */
static struct {
    mp_value *v;
    mp_array *a;
    mp_queue *q;
    mp_conn *c0, *c1;
} sent;

static int sentinels_make(void)
{
    return mp_value_new(&sent.v, 'q') == 0 && mp_array_new_range(&sent.a, 'i', 8) == 0 &&
           mp_queue_new(&sent.q, 0) == 0 && mp_pipe(&sent.c0, &sent.c1, 1) == 0;
}

/* NULL if every sentinel works, else which does not. */
static const char *sentinels_broken(void)
{
    if (mpt_value_works(sent.v)) return "the sentinel Value";
    int64_t x = -1;
    if (mp_array_set_int(sent.a, 7, 70) < 0 || mp_array_get_int(sent.a, 7, &x) < 0 ||
        x != 70)
        return "the sentinel Array";
    void *d = NULL;
    size_t n = 0;
    if (mp_queue_put_bytes(sent.q, "sentinel", 8, MPT_JOIN_TIMEOUT) < 0 ||
        mp_queue_get_bytes(sent.q, &d, &n, MPT_JOIN_TIMEOUT) < 0 || n != 8 ||
        memcmp(d, "sentinel", 8) != 0) {
        mp_free(d);
        return "the sentinel Queue";
    }
    mp_free(d);
    if (mpt_pipe_works(sent.c0, sent.c1) || mpt_pipe_works(sent.c1, sent.c0))
        return "the sentinel Pipe";
    return NULL;
}

static void sentinels_free(void)
{
    mp_value_free(sent.v);
    mp_array_free(sent.a);
    mp_queue_free(sent.q);
    mp_conn_close(sent.c0);
    mp_conn_close(sent.c1);
    memset(&sent, 0, sizeof sent);
}

/* ---- the runner -------------------------------------------------------------- */

/* The name of a result; other (32 bytes) holds one that has none. */
static const char *result_name(int code, char *other)
{
    switch (code) {
    case MPT_R_NULL:
        return "NULL";
    case MPT_R_WRONG:
        return "a wrong result";
    case 1:
        return "1";
    default:
        if (code <= 0) return mp_error_name(code);
        snprintf(other, 32, "%d", code);
        return other;
    }
}

static int row_here(const mpt_row *r)
{
#ifdef _WIN32
    return !(r->flags & MPT_POSIX);
#else
    return !(r->flags & MPT_WINDOWS);
#endif
}

typedef struct tally {
    int tried, failed, known, known_passed, not_here;
} tally;

static void run_row(const mpt_group *g, const mpt_row *r, tally *t, int verbose)
{
    if (!row_here(r)) {
        t->not_here++;
        return;
    }
    if (verbose) fprintf(stderr, "misuse: %s: %s(%s)\n", g->name, r->fn, r->bad);
    mpt_fx fx;
    memset(&fx, 0, sizeof fx);
    g->setup(&fx);
    mp_clear_error(); /* a result that sets no detail shows none */
    int got = r->call(&fx, r);
    const char *detail = mp_last_error();
    char why[512] = "", n1[32], n2[32];
    if (got != r->expect)
        snprintf(why, sizeof why, "gave %s (%s), documented %s", result_name(got, n1),
                 detail, result_name(r->expect, n2));
    else if (!(r->flags & MPT_SPOILS) && g->check) {
        const char *broken = g->check(&fx);
        if (broken) snprintf(why, sizeof why, "left %s unusable", broken);
    }
    g->teardown(&fx);
    if (!why[0]) {
        const char *broken = sentinels_broken();
        if (broken) snprintf(why, sizeof why, "left %s unusable", broken);
    }
    t->tried++;
    if (why[0] && r->known) {
        t->known++;
        fprintf(stderr, "misuse: KNOWN FAILURE %s: %s with %s %s [%s]\n", g->name, r->fn,
                r->bad, why, r->known);
    } else if (why[0]) {
        t->failed++;
        fprintf(stderr, "misuse: FAILED %s: %s with %s %s\n", g->name, r->fn, r->bad,
                why);
    } else if (r->known) {
        t->known_passed++;
        fprintf(stderr, "misuse: NOW PASSES %s: %s with %s: remove its mark [%s]\n",
                g->name, r->fn, r->bad, r->known);
    }
}

/* The groups registered by the rooms' misuse files, found again by the
 * running test's suite and name (a CUnit test takes no argument). */
enum { MAX_GROUPS = 32 };
static struct {
    const char *suite;
    const mpt_group *group;
} registered[MAX_GROUPS];
static int n_registered;

static const mpt_group *current_group(void)
{
    CU_pSuite su = CU_get_current_suite();
    CU_pTest t = CU_get_current_test();
    for (int i = 0; su && t && i < n_registered; i++)
        if (strcmp(registered[i].suite, su->pName) == 0 &&
            strcmp(registered[i].group->name, t->pName) == 0)
            return registered[i].group;
    return NULL;
}

/* Runs every row of the current test's group against fresh fixtures,
 * checking after every row that sentinels made before the first still
 * work. */
static void misuse_group(void)
{
    const mpt_group *g = current_group();
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_FATAL(sentinels_make());
    int verbose = getenv("MPT_VERBOSE") != NULL;
    tally t = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < g->n; i++)
        run_row(g, &g->rows[i], &t, verbose);
    const char *broken = sentinels_broken();
    if (broken) fprintf(stderr, "misuse: at the end, %s does not work\n", broken);
    CU_ASSERT_PTR_NULL(broken);
    sentinels_free();
    fprintf(
        stderr,
        "misuse/%s: %d cases tried, %d failed, %d known failures, %d marked known but "
        "passing, %d not for this OS\n",
        g->name, t.tried, t.failed, t.known, t.known_passed, t.not_here);
    CU_ASSERT_EQUAL(t.failed, 0);
    CU_ASSERT(t.tried > 0);
}

static void misuse_in_child(void)
{
    CU_ASSERT_FATAL(sentinels_make());
    int tried = 0, failed = 0;
    mpt_misuse_in_child(&tried, &failed);
    fprintf(stderr, "misuse/in_child: %d cases, %d failed\n", tried, failed);
    const char *broken = sentinels_broken();
    if (broken) fprintf(stderr, "misuse: at the end, %s does not work\n", broken);
    CU_ASSERT_PTR_NULL(broken);
    sentinels_free();
    CU_ASSERT_EQUAL(failed, 0);
    CU_ASSERT(tried > 0);
}

void mpt_misuse_add(const char *suite, const mpt_group *g)
{
    int here = 0;
    for (size_t i = 0; i < g->n; i++)
        here |= row_here(&g->rows[i]);
    if (here == 0) {
        mpt_not_here(suite, g->name, "every row of the group is for another OS");
        return;
    }
    if (n_registered == MAX_GROUPS) {
        fprintf(stderr, "too many misuse groups; raise MAX_GROUPS\n");
        exit(2);
    }
    registered[n_registered].suite = suite;
    registered[n_registered].group = g;
    n_registered++;
    mpt_add(suite, g->name, misuse_group);
}

void mpt_misuse_add_in_child(const char *suite)
{
    mpt_add(suite, "in_child", misuse_in_child);
}
