/* shared/caller_lock.c - Values and Arrays over a caller's Lock or RLock
 * (Python's Value(typecode, lock=L)): several objects under one lock,
 * across threads and real processes, under spawn and fork; get_lock; and
 * the faults beside them (a holder of the shared lock that dies). Each
 * CPython case ported says which one it mirrors
 * (Lib/test/_test_multiprocessing.py). */
#include <stdlib.h>

#include "test.h"
#include "stage.h"

/* Mirrors _TestValue.test_getobj_getlock and _TestArray.test_getobj_getlock:
 * a value or array made over a lock gives that lock back; one with a lock
 * of its own or none gives no caller's lock. */
static void get_lock(void)
{
    mp_lock *l;
    mp_rlock *r;
    mp_value *v, *own, *raw;
    mp_array *a;
    MPT_OK(mp_lock_new(&l));
    MPT_OK(mp_rlock_new(&r));
    MPT_OK(mp_value_new_with_lock(&v, 'i', l));
    MPT_OK(mp_array_new_with_rlock(&a, 'd', 3, r));
    MPT_OK(mp_value_new(&own, 'i'));
    MPT_OK(mp_value_new_raw(&raw, 'i'));
    CU_ASSERT_PTR_EQUAL(mp_value_get_lock(v), l);
    CU_ASSERT_PTR_NULL(mp_value_get_rlock(v));
    CU_ASSERT_PTR_EQUAL(mp_array_get_rlock(a), r);
    CU_ASSERT_PTR_NULL(mp_array_get_lock(a));
    CU_ASSERT_PTR_NULL(mp_value_get_lock(own));
    CU_ASSERT_PTR_NULL(mp_value_get_rlock(raw));
    CU_ASSERT_PTR_NULL(mp_value_get_lock(NULL));
    CU_ASSERT_PTR_NULL(mp_array_get_rlock(NULL));
    /* the object's lock calls take the caller's lock */
    MPT_OK(mp_value_lock(v));
    CU_ASSERT_EQUAL(mp_lock_locked(l), 1);
    MPT_OK(mp_value_set_int(v, 7)); /* held by this thread: no deadlock */
    MPT_OK(mp_value_unlock(v));
    CU_ASSERT_EQUAL(mp_lock_locked(l), 0);
    void *data = NULL;
    MPT_OK(mp_array_lock(a, &data));
    CU_ASSERT_PTR_NOT_NULL(data);
    CU_ASSERT_EQUAL(mp_rlock_count(r), 1);
    MPT_OK(mp_array_set_double(a, 1, 2.5));
    CU_ASSERT_EQUAL(mp_rlock_count(r), 1);
    MPT_OK(mp_array_unlock(a));
    CU_ASSERT_EQUAL(mp_rlock_count(r), 0);
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 7);
    CU_ASSERT_EQUAL(mp_lock_locked(l), 0);
    mp_value_free(v);
    mp_array_free(a);
    mp_value_free(own);
    mp_value_free(raw);
    mp_lock_free(l);
    mp_rlock_free(r);
}

enum { ROUNDS = 2000, CHILDREN = 2, ELEMS = 4 };

/* ROUNDS times: under the lock (taken through the Value, or through the
 * Lock itself), one add to the value and to every element of the array;
 * the array's elements must always equal the value. */
static int add_rounds(mp_value *v, mp_array *a, mp_lock *l)
{
    for (int k = 0; k < ROUNDS; k++) {
        int via_lock = k % 2;
        if ((via_lock ? mp_lock_acquire(l, MP_FOREVER) : mp_value_lock(v)) != 0) return 1;
        int64_t x = 0, y = 0;
        if (mp_value_get_int(v, &x) || mp_value_set_int(v, x + 1)) return 1;
        for (size_t i = 0; i < ELEMS; i++) {
            if (mp_array_get_int(a, i, &y) || y != x || mp_array_set_int(a, i, y + 1))
                return 1;
        }
        if ((via_lock ? mp_lock_release(l) : mp_value_unlock(v)) != 0) return 1;
    }
    return 0;
}

static int t_add(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    mp_array *a = mp_args_array(args, 1);
    mp_lock *l = mp_args_lock(args, 2);
    MPT_CHILD_CHECK(v && a && l);
    /* the value's lock and the lock passed beside it are one lock */
    MPT_CHILD_CHECK(mp_value_get_lock(v) != NULL && mp_array_get_lock(a) != NULL);
    MPT_CHILD_CHECK(add_rounds(v, a, l) == 0);
    return 0;
}

/* Several objects under one lock, in several processes: no update of
 * the group is ever seen half-done. */
static void one_lock_many_objects(mp_start_method m)
{
    mp_lock *l;
    mp_value *v;
    mp_array *a;
    MPT_OK(mp_lock_new(&l));
    MPT_OK(mp_value_new_with_lock(&v, 'q', l));
    MPT_OK(mp_array_new_with_lock(&a, 'q', ELEMS, l));
    mp_process *p[CHILDREN];
    for (int i = 0; i < CHILDREN; i++)
        p[i] = mpt_start(t_add, mp_args_of(v, a, l), m);
    CU_ASSERT_EQUAL(add_rounds(v, a, l), 0);
    for (int i = 0; i < CHILDREN; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, (int64_t)ROUNDS * (CHILDREN + 1));
    for (size_t i = 0; i < ELEMS; i++) {
        MPT_OK(mp_array_get_int(a, i, &x));
        CU_ASSERT_EQUAL(x, (int64_t)ROUNDS * (CHILDREN + 1));
    }
    mp_value_free(v);
    mp_array_free(a);
    mp_lock_free(l);
}
MPT_DEFINE_BOTH(one_lock_many_objects)

/* The same with an RLock passed only inside the value: the child's value
 * brings its own handle on it. */
static int t_rlock_value(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    MPT_CHILD_CHECK(v != NULL);
    mp_rlock *r = mp_value_get_rlock(v);
    MPT_CHILD_CHECK(r != NULL);
    for (int k = 0; k < ROUNDS; k++) {
        MPT_CHILD_CHECK(mp_value_lock(v) == 0);
        MPT_CHILD_CHECK(mp_rlock_count(r) == 1);
        int64_t x = 0;
        MPT_CHILD_CHECK(mp_value_get_int(v, &x) == 0 && mp_value_set_int(v, x + 1) == 0);
        MPT_CHILD_CHECK(mp_value_unlock(v) == 0);
    }
    return 0;
}

static void rlock_value(mp_start_method m)
{
    mp_rlock *r;
    mp_value *v;
    MPT_OK(mp_rlock_new(&r));
    MPT_OK(mp_value_new_with_rlock(&v, 'i', r));
    mp_process *p = mpt_start(t_rlock_value, mp_args_of(v), m);
    for (int k = 0; k < ROUNDS; k++) {
        MPT_OK(mp_rlock_acquire(r, MP_FOREVER));
        int64_t x = 0;
        MPT_OK(mp_value_get_int(v, &x));
        MPT_OK(mp_value_set_int(v, x + 1));
        MPT_OK(mp_rlock_release(r));
    }
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 2 * ROUNDS);
    mp_value_free(v);
    mp_rlock_free(r);
}
MPT_DEFINE_BOTH(rlock_value)

static int t_hold_and_exit(const mp_args *args)
{
    mp_lock *l = mp_args_lock(args, 0);
    MPT_CHILD_CHECK(l != NULL && mp_lock_acquire(l, MP_FOREVER) == 0);
    return 0; /* exits holding it */
}

/* A process that died holding the shared lock: the value's lock call
 * reports it (and holds the lock); a plain access recovers silently. */
static void dead_holder(mp_start_method m)
{
    mp_lock *l;
    mp_value *v;
    MPT_OK(mp_lock_new(&l));
    MPT_OK(mp_value_new_with_lock(&v, 'i', l));
    CU_ASSERT_EQUAL(mpt_run(t_hold_and_exit, mp_args_of(l), m), 0);
    MPT_EQ(mp_value_lock_timeout(v, 60), MP_EOWNERDEAD);
    MPT_OK(mp_value_unlock(v));
    CU_ASSERT_EQUAL(mpt_run(t_hold_and_exit, mp_args_of(l), m), 0);
    MPT_OK(mp_value_set_int(v, 3));
    CU_ASSERT_EQUAL(mp_lock_locked(l), 0);
    mp_value_free(v);
    mp_lock_free(l);
}
MPT_DEFINE_BOTH(dead_holder)

static void misuse(void)
{
    mp_value *v = (mp_value *)1;
    mp_array *a = (mp_array *)1;
    MPT_EQ(mp_value_new_with_lock(&v, 'i', NULL), MP_EINVAL);
    CU_ASSERT_PTR_NULL(v);
    MPT_EQ(mp_value_new_with_rlock(&v, 'i', NULL), MP_EINVAL);
    MPT_EQ(mp_array_new_with_lock(&a, 'i', 3, NULL), MP_EINVAL);
    CU_ASSERT_PTR_NULL(a);
    MPT_EQ(mp_array_new_with_rlock(&a, 'i', 3, NULL), MP_EINVAL);
    mp_lock *l;
    MPT_OK(mp_lock_new(&l));
    MPT_EQ(mp_value_new_with_lock(NULL, 'i', l), MP_EINVAL);
    MPT_EQ(mp_value_new_with_lock(&v, 'Z', l), MP_EINVAL);
    CU_ASSERT_PTR_NULL(v);
    /* a value over a Lock: unlock without holding it is the Lock's error */
    MPT_OK(mp_value_new_with_lock(&v, 'i', l));
    MPT_EQ(mp_value_unlock(v), MP_ESTATE);
    MPT_EQ(mp_value_lock_timeout(v, 0.0 / 0.0), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_lock_locked(l), 0);
    mp_value_free(v);
    mp_lock_free(l);
}

void mpt_suite_shared_caller_lock(void)
{
    const char *s = "shared/caller_lock";
    mpt_add(s, "get_lock", get_lock);
    MPT_BOTH(s, one_lock_many_objects);
    MPT_BOTH(s, rlock_value);
    MPT_BOTH(s, dead_holder);
    mpt_add(s, "misuse", misuse);
}
