/* shared/fault.c - processes killed while they create and free shared
 * objects leave nothing behind: no name in /dev/shm (users of cpp-ipc,
 * iceoryx and SysV semaphores delete those by hand after a crash), no
 * descriptor or handle in the parent, no child.
 *
 * Children create and free Values, Arrays, Queues (with a message through
 * them) and Pipes in a loop, and are killed at random moments - so, now
 * and then, between creating a segment and letting go of its name where
 * the platform's segments have names (the portable POSIX flavour,
 * macOS, FreeBSD). After every round the leak checks run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "leakcheck.h"
#include "test.h"

enum { CREATORS = 2 };
enum { W_PPID, W_MADE, W_RUNNING, W_COUNT = W_RUNNING + CREATORS };

/* args: words, slot */
static int t_creator(const mp_args *args)
{
    mp_array *w = mp_args_array(args, 0);
    int64_t slot;
    MPT_CHILD_CHECK(w && mp_args_get_int(args, 1, &slot) == 0);
    mpt_st(w, W_RUNNING + (size_t)slot, mp_os_getpid());
    while (mpt_parent_alive((int64_t)mpt_ld(w, W_PPID))) {
        mp_value *v = NULL;
        mp_array *a = NULL;
        mp_queue *q = NULL;
        mp_conn *c1 = NULL, *c2 = NULL;
        MPT_CHILD_CHECK(mp_value_new(&v, 'd') == 0);
        MPT_CHILD_CHECK(mp_array_new(&a, 'i', 1000) == 0);
        MPT_CHILD_CHECK(mp_queue_new_sized(&q, 0, 65536) == 0);
        MPT_CHILD_CHECK(mp_pipe(&c1, &c2, (int)(mpt_ld(w, W_MADE) & 1)) == 0);
        void *d = NULL;
        size_t n = 0;
        MPT_CHILD_CHECK(mp_queue_put_bytes(q, "x", 1, 0) == 0);
        MPT_CHILD_CHECK(mp_queue_get_bytes(q, &d, &n, MPT_JOIN_TIMEOUT) == 0);
        mp_free(d);
        mp_conn_close(c2);
        mp_conn_close(c1);
        mp_queue_free(q);
        mp_array_free(a);
        mp_value_free(v);
        mpt_inc(w, W_MADE);
    }
    return 0;
}

static void creators_killed(mp_start_method m)
{
    const char *label = m == MP_START_FORK ? "fault_shm/creators_killed_fork"
                                           : "fault_shm/creators_killed_spawn";
    uint64_t seed = mpt_test_seed(label), total = mpt_fault_kills(60, 12);
    mpt_rng rng = {seed};
    uint64_t kills = 0, t0 = mp_os_now_ns();
    int failed = 0, rounds = 0;
    static mpt_leak_mark mark;
    mp_array *w;
    MPT_OK(mpt_words_new(&w, W_COUNT));
    mpt_st(w, W_PPID, mp_os_getpid());
    while (kills < total) {
        mpt_leak_mark_now(&mark);
        mp_process *p[CREATORS];
        for (int i = 0; i < CREATORS; i++)
            p[i] = mpt_start(t_creator, mp_args_of(w, i), m);
        for (int k = 0; k < 10 && kills < total; k++, kills++) {
            int i = (int)mpt_below(&rng, CREATORS);
            uint64_t pid = (uint64_t)mp_process_pid(p[i]);
            uint64_t deadline = mp_os_now_ns() + 60000000000ull;
            while (mpt_ld(w, W_RUNNING + (size_t)i) != pid && mp_os_now_ns() < deadline)
                mp_os_sleep_ns(20000);
            mpt_sleep_us(mpt_below(&rng, 2001));
            MPT_OK(mp_process_kill(p[i]));
            int code = mpt_join(p[i]);
            if (code != -9) {
                fprintf(stderr, "%s: a creator ended with %d\n", label, code);
                failed++;
            }
            p[i] = mpt_start(t_creator, mp_args_of(w, i), m);
        }
        for (int i = 0; i < CREATORS; i++) {
            MPT_OK(mp_process_kill(p[i]));
            mpt_join(p[i]);
            kills++;
        }
        rounds++;
        if (mpt_leaks_since(&mark, label)) failed++;
    }
    printf("\n%s: seed %#llx: %llu creators killed in %d rounds, %.1f s, while they "
           "made %llu sets of Value, Array, Queue and Pipe; nothing left behind after "
           "%s round\n",
           label, (unsigned long long)seed, (unsigned long long)kills, rounds,
           (double)(mp_os_now_ns() - t0) / 1e9, (unsigned long long)mpt_ld(w, W_MADE),
           failed ? "not every" : "any");
    fflush(stdout);
    mp_array_free(w);
    CU_ASSERT_EQUAL(failed, 0);
}
MPT_DEFINE_BOTH(creators_killed)

void mpt_suite_shared_fault(void)
{
    MPT_BOTH("shared/fault", creators_killed);
}
