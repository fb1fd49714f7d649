/* sync/pidlock.c - the core's shared-memory lock: mutual exclusion between
 * threads and processes, deadlines, and recovery from a dead holder.
 *
 * The lock under test is the bare mp_pidlock (mp_value's lock is tested in
 * the value suite), in a segment mapped here. On POSIX children are
 * forked and share the mapping and the lock's handles. Windows has no
 * fork: children are spawned with the segment's and the wait queue's
 * handle values as arguments, and take their own copies out of the parent
 * (mpt_w32_steal), so the same tests run there. */
#include <stdlib.h>

#include "core/sync/pidlock.h"
#include "test.h"
#include "wakeup.h"

struct shared {
    mp_pidlock_shared lock;
    mp_atomic_u32 stage; /* handshake between parent and child */
    uint64_t counter;    /* guarded by lock, deliberately not atomic */
};

static mp_os_shm seg;
static struct shared *sh;
static mp_pidlock lk;

static void setup(void)
{
    MPT_OK(mp_os_shm_create(&seg, sizeof *sh));
    sh = seg.base;
    MPT_OK(mp_pidlock_create(&lk, &sh->lock));
}

static void teardown(void)
{
    mp_pidlock_close(&lk);
    mp_os_shm_close(&seg);
    sh = NULL;
}

#ifdef _WIN32
/* Starts target in a spawned child that attaches the segment and the lock
 * first (child_attach). Arguments: parent pid, segment handle, segment
 * size, number of wait-queue handles, the handles. */
static mp_process *start_child(mp_target target)
{
    mp_os_handle h[MP_OS_WQ_MAX_HANDLES];
    int n = mp_pidlock_handles(&lk, h);
    CU_ASSERT_FATAL(n >= 0 && n <= MP_OS_WQ_MAX_HANDLES);
    mp_arg a[4 + MP_OS_WQ_MAX_HANDLES];
    a[0] = mp_arg((int64_t)mp_os_getpid());
    a[1] = mp_arg((int64_t)seg.handle);
    a[2] = mp_arg((int64_t)seg.size);
    a[3] = mp_arg((int64_t)n);
    for (int i = 0; i < n; i++)
        a[4 + i] = mp_arg((int64_t)h[i]);
    return mpt_start(target, mp_arglist_make(a, 4 + (size_t)n), MP_START_SPAWN);
}

/* In the spawned child: maps the parent's segment and rebuilds the lock
 * from copies of its handles. 0 on success. */
static int child_attach(const mp_args *args)
{
    int64_t ppid, hseg, size, n, v;
    if (mp_args_get_int(args, 0, &ppid) || mp_args_get_int(args, 1, &hseg) ||
        mp_args_get_int(args, 2, &size) || mp_args_get_int(args, 3, &n) || n < 0 ||
        n > MP_OS_WQ_MAX_HANDLES)
        return 1;
    mp_os_handle h[MP_OS_WQ_MAX_HANDLES];
    for (int64_t i = 0; i < n; i++) {
        if (mp_args_get_int(args, 4 + (size_t)i, &v)) return 1;
        h[i] = mpt_w32_steal(ppid, v);
        if (h[i] == MP_OS_NO_HANDLE) return 1;
    }
    mp_os_handle mine = mpt_w32_steal(ppid, hseg);
    if (mine == MP_OS_NO_HANDLE || mp_os_shm_attach(&seg, mine, (size_t)size)) return 1;
    sh = seg.base;
    return mp_pidlock_adopt(&lk, &sh->lock, h, (int)n) ? 1 : 0;
}
#define CHILD_ATTACH(args) MPT_CHILD_CHECK(child_attach(args) == 0)
#else
/* A forked child shares the mapping and the lock's handles. */
static mp_process *start_child(mp_target target)
{
    return mpt_start(target, MP_NO_ARGS, MP_START_FORK);
}
#define CHILD_ATTACH(args) (void)(args)
#endif

/* Waits (with a generous deadline) until the child reaches stage s. */
static int wait_stage(uint32_t s)
{
    uint64_t deadline = mp_os_now_ns() + (uint64_t)(MPT_JOIN_TIMEOUT * 1e9);
    while (mp_load32(&sh->stage, MP_ACQUIRE) != s) {
        if (mp_os_now_ns() > deadline) return 0;
        mp_os_sleep_ns(1000000);
    }
    return 1;
}

static void uncontended(void)
{
    setup();
    CU_ASSERT_EQUAL(mp_pidlock_owner(&lk), 0);
    MPT_OK(mp_pidlock_acquire(&lk, MP_NO_DEADLINE));
    CU_ASSERT_EQUAL(mp_pidlock_owner(&lk), mp_os_getpid());
    CU_ASSERT_EQUAL(mp_pidlock_owner_dead(&lk), 0);
    /* Held by this process: another attempt times out, it does not recurse. */
    MPT_EQ(mp_pidlock_acquire(&lk, 0), MP_ETIMEDOUT);
    mp_pidlock_release(&lk);
    CU_ASSERT_EQUAL(mp_pidlock_owner(&lk), 0);
    MPT_OK(mp_pidlock_acquire(&lk, 0));
    mp_pidlock_release(&lk);
    teardown();
}

static int t_hold_until_released(const mp_args *args)
{
    CHILD_ATTACH(args);
    MPT_CHILD_CHECK(mp_pidlock_acquire(&lk, MP_NO_DEADLINE) == 0);
    mp_store32(&sh->stage, 1, MP_RELEASE);
    while (mp_load32(&sh->stage, MP_ACQUIRE) != 2)
        mp_os_sleep_ns(1000000);
    mp_pidlock_release(&lk);
    return 0;
}

static void timeout_while_held(void)
{
    setup();
    mp_process *p = start_child(t_hold_until_released);
    CU_ASSERT_FATAL(wait_stage(1));
    uint64_t t0 = mp_os_now_ns();
    MPT_EQ(mp_pidlock_acquire(&lk, t0 + 50000000), MP_ETIMEDOUT);
    CU_ASSERT(mp_os_now_ns() - t0 >= 50000000);
    MPT_EQ(mp_pidlock_acquire(&lk, 0), MP_ETIMEDOUT);
    CU_ASSERT_EQUAL(mp_pidlock_owner(&lk), (uint32_t)mp_process_pid(p));
    mp_store32(&sh->stage, 2, MP_RELEASE);
    /* The release wakes this waiter: no deadline needed. */
    MPT_OK(mp_pidlock_acquire(&lk, MP_NO_DEADLINE));
    mp_pidlock_release(&lk);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    teardown();
}

static int t_die_holding(const mp_args *args)
{
    CHILD_ATTACH(args);
    MPT_CHILD_CHECK(mp_pidlock_acquire(&lk, MP_NO_DEADLINE) == 0);
    mp_store32(&sh->stage, 1, MP_RELEASE);
    return 0; /* exits with the lock held */
}

static void owner_death(int wait_first)
{
    setup();
    mp_process *p = start_child(t_die_holding);
    CU_ASSERT_FATAL(wait_stage(1));
    if (wait_first) {
        CU_ASSERT_EQUAL(mpt_join(p), 0);
    }
    /* Not joined yet in the other case: the dead holder is a zombie (on
     * Windows: an exited process whose handle the parent still holds, so
     * OpenProcess on its pid still succeeds), which the lock must still
     * see as dead. */
    int rc = mp_pidlock_acquire(&lk, MP_NO_DEADLINE);
    CU_ASSERT_EQUAL(rc, MP_EOWNERDEAD);
    CU_ASSERT_EQUAL(mp_pidlock_owner(&lk), mp_os_getpid());
    mp_pidlock_release(&lk);
    MPT_OK(mp_pidlock_acquire(&lk, 0));
    mp_pidlock_release(&lk);
    if (!wait_first) {
        CU_ASSERT_EQUAL(mpt_join(p), 0);
    }
    teardown();
}

static void owner_death_joined(void)
{
    owner_death(1);
}

static void owner_death_zombie(void)
{
    owner_death(0);
}

static void owner_death_trylock(void)
{
    setup();
    CU_ASSERT_EQUAL(mpt_join(start_child(t_die_holding)), 0);
    CU_ASSERT_EQUAL(mp_pidlock_owner_dead(&lk), 1);
    /* Even a caller that never waits recovers a dead holder's lock. */
    MPT_EQ(mp_pidlock_acquire(&lk, 0), MP_EOWNERDEAD);
    mp_pidlock_release(&lk);
    teardown();
}

enum { ROUNDS = 20000, THREADS = 3 };

static void count_rounds(void)
{
    for (int i = 0; i < ROUNDS; i++) {
        mp_pidlock_acquire(&lk, MP_NO_DEADLINE);
        sh->counter++;
        mp_pidlock_release(&lk);
    }
}

static void thread_body(void *arg)
{
    (void)arg;
    count_rounds();
}

static int t_count(const mp_args *args)
{
    CHILD_ATTACH(args);
    count_rounds();
    return 0;
}

static void exclusion(void)
{
    setup();
    mp_process *p[2];
    mp_os_thread *t[THREADS];
    for (int i = 0; i < 2; i++)
        p[i] = start_child(t_count);
    for (int i = 0; i < THREADS; i++)
        MPT_OK(mp_os_thread_start(&t[i], thread_body, NULL));
    count_rounds();
    for (int i = 0; i < THREADS; i++)
        MPT_OK(mp_os_thread_join(t[i]));
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    CU_ASSERT_EQUAL(sh->counter, (uint64_t)ROUNDS * (THREADS + 3));
    teardown();
}

/* ---- a wake-up is never slept through (wakeup.h) ------------------------ */

static int take_lock(void *arg)
{
    (void)arg;
    return mp_pidlock_acquire(&lk, MP_NO_DEADLINE);
}

static void drop_lock(void *arg)
{
    (void)arg;
    mp_pidlock_release(&lk);
}

static void take_and_count(void *arg)
{
    CU_ASSERT_EQUAL(take_lock(arg), 0);
    sh->counter++;
    drop_lock(arg);
}

static void wakeup_not_slept_through(void)
{
    setup();
    uint32_t slept_out = mpt_wakeup_scenario(take_lock, drop_lock, take_and_count, NULL);
    CU_ASSERT_EQUAL(sh->counter, 1);
    CU_ASSERT_EQUAL(slept_out, 0);
    teardown();
}

static uintptr_t other_id;

static void record_id(void *arg)
{
    (void)arg;
    other_id = mp_thread_self();
}

static void thread_ids(void)
{
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, record_id, NULL));
    MPT_OK(mp_os_thread_join(t));
    CU_ASSERT_NOT_EQUAL(other_id, 0);
    CU_ASSERT_NOT_EQUAL(other_id, mp_thread_self());
    CU_ASSERT_EQUAL(mp_thread_self(), mp_thread_self());
}

void mpt_suite_sync_pidlock(void)
{
    mpt_add("sync/pidlock", "uncontended", uncontended);
    mpt_add("sync/pidlock", "timeout_while_held", timeout_while_held);
    mpt_add("sync/pidlock", "owner_death_joined", owner_death_joined);
    mpt_add("sync/pidlock", "owner_death_zombie", owner_death_zombie);
    mpt_add("sync/pidlock", "owner_death_trylock", owner_death_trylock);
    mpt_add("sync/pidlock", "exclusion", exclusion);
    mpt_add("sync/pidlock", "wakeup_not_slept_through", wakeup_not_slept_through);
    mpt_add("sync/pidlock", "thread_ids", thread_ids);
}
