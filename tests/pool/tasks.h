/* pool/tasks.h - the tasks and checks that the Pool's behaviour tests share
 * between local workers (pool/pool.c) and MPI ranks (mpi/pool_mpi.c). The
 * file that includes it defines task_sleep_ms, the one thing each does its
 * own way. */
#ifndef MPT_POOL_TASKS_H
#define MPT_POOL_TASKS_H

#include <stdint.h>
#include <stdlib.h>

#include <mproc.h>

static void task_sleep_ms(int64_t ms);

static inline int64_t int_at(const mp_obj *args, size_t i)
{
    int64_t v = 0;
    mp_obj_get_int(mp_obj_item(args, i), &v);
    return v;
}

/* sqr(x, wait=0): x*x after wait milliseconds. */
static inline int sqr(const mp_obj *args, mp_obj **result)
{
    if (mp_obj_len(args) > 1) task_sleep_ms(int_at(args, 1));
    int64_t x = int_at(args, 0);
    *result = mp_obj_int(x * x);
    return 0;
}

static inline int mul(const mp_obj *args, mp_obj **result)
{
    *result = mp_obj_int(int_at(args, 0) * int_at(args, 1));
    return 0;
}

/* x, but fails with 7 and a message for x == 3. */
static inline int fails_on_3(const mp_obj *args, mp_obj **result)
{
    int64_t x = int_at(args, 0);
    if (x == 3) return mp_pool_fail(result, 7, "no threes (%lld)", (long long)x);
    *result = mp_obj_int(x);
    return 0;
}

/* x bytes, byte i being (i + x) % 251. */
static inline int pattern_bytes(const mp_obj *args, mp_obj **result)
{
    size_t n = (size_t)int_at(args, 0);
    unsigned char *b = malloc(n ? n : 1);
    for (size_t i = 0; b && i < n; i++)
        b[i] = (unsigned char)((i + n) % 251);
    *result = b ? mp_obj_bytes(b, n) : NULL;
    free(b);
    return b ? 0 : -1;
}

static int64_t init_seen = -1;

static inline int remember(const mp_obj *args)
{
    init_seen = int_at(args, 0);
    return 0;
}

static inline int what_init_saw(const mp_obj *args, mp_obj **result)
{
    (void)args;
    *result = mp_obj_int(init_seen);
    return 0;
}

static inline mp_obj *range(int64_t n)
{
    mp_obj *l = mp_obj_list(0);
    for (int64_t i = 0; i < n; i++)
        mp_obj_append(l, mp_obj_int(i));
    return l;
}

/* 1 if list holds i*i at each i < n. */
static inline int squares(const mp_obj *list, int64_t n)
{
    if (!list || mp_obj_len(list) != (size_t)n) return 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t v;
        if (mp_obj_get_int(mp_obj_item(list, (size_t)i), &v) < 0 || v != i * i) return 0;
    }
    return 1;
}

#endif
