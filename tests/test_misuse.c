/* test_misuse.c - runs the misuse table (misuse.h) and the rows that only a
 * child can run, and prints how many cases were tried.
 *
 * Every row gets a fresh fixture, so no row depends on another. A row
 * that crashes takes the whole binary down: MPT_VERBOSE=1 in the
 * environment prints each row before it runs, to find which. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "misuse.h"

static const mpt_group *const groups[] = {
    &mpt_misuse_value,
    &mpt_misuse_array,
    &mpt_misuse_queue,
    &mpt_misuse_queue_closed,
    &mpt_misuse_conn,
    &mpt_misuse_process,
    &mpt_misuse_process_running,
    &mpt_misuse_obj,
    &mpt_misuse_listener,
    &mpt_misuse_misc,
};

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

static void misuse_table(void)
{
    CU_ASSERT_FATAL(sentinels_make());
    int verbose = getenv("MPT_VERBOSE") != NULL;
    tally t = {0, 0, 0, 0, 0};
    for (size_t k = 0; k < sizeof groups / sizeof groups[0]; k++) {
        const mpt_group *g = groups[k];
        tally before = t;
        for (size_t i = 0; i < g->n; i++)
            run_row(g, &g->rows[i], &t, verbose);
        fprintf(stderr, "misuse/%s: %d cases, %d failed\n", g->name,
                t.tried - before.tried, t.failed - before.failed);
    }
    int child_tried = 0, child_failed = 0;
    mpt_misuse_in_child(&child_tried, &child_failed);
    fprintf(stderr, "misuse/in_child: %d cases, %d failed\n", child_tried, child_failed);
    t.tried += child_tried;
    t.failed += child_failed;
    const char *broken = sentinels_broken();
    if (broken) fprintf(stderr, "misuse: at the end, %s does not work\n", broken);
    CU_ASSERT_PTR_NULL(broken);
    sentinels_free();
    fprintf(stderr,
            "misuse: %d cases tried, %d failed, %d known failures, %d marked known but "
            "passing, %d not for this OS\n",
            t.tried, t.failed, t.known, t.known_passed, t.not_here);
    CU_ASSERT_EQUAL(t.failed, 0);
    CU_ASSERT(t.tried > 0);
}

void mpt_suite_misuse(void)
{
    mpt_add("misuse", "table", misuse_table);
}
