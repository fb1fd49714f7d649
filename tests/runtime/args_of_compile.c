/* args_of_compile.c - what mp_args_of() must refuse when the program is
 * compiled, not when it runs. tests/CMakeLists.txt compiles this file
 * once per MPT_CASE: case 0 (every kind it accepts) must compile, every
 * other case must fail with the error that names
 * mp_arg_cannot_pass_this_type. Never linked or run. */
#include <stddef.h>
#include <stdint.h>

#include "mproc.h"

static int target(const mp_args *args)
{
    (void)args;
    return 0;
}

int main(void)
{
    mp_process *p = NULL;
    mp_value *v = NULL;
    const mp_value *cv = v;
    const mp_obj *o = NULL;
    long double ld = 1;
    int x = 0;
    (void)cv;
    (void)ld;
    (void)x;
    (void)o;
#if MPT_CASE == 0
    size_t n = 3;
    uint64_t big = UINT64_MAX;
    unsigned char uc = 1;
    _Bool b = 1;
    mp_lock *l = NULL;
    mp_rlock *r = NULL;
    mp_semaphore *sem = NULL;
    mp_event *e = NULL;
    mp_condition *c = NULL;
    mp_barrier *bar = NULL;
    mp_shared_memory *shm = NULL;
    int rc = mp_process_new(&p, target, mp_args_of(v, n, big, uc, b, 1.0f, "s", 'c', o));
    return rc + mp_process_new(&p, target, mp_args_of(l, r, sem, e, c, bar, shm));
#elif MPT_CASE == 1
    return mp_process_new(&p, target, mp_args_of(cv)); /* const shared object */
#elif MPT_CASE == 2
    return mp_process_new(&p, target, mp_args_of(&x)); /* a pointer to int */
#elif MPT_CASE == 3
    return mp_process_new(&p, target, mp_args_of((void *)v)); /* void * */
#elif MPT_CASE == 4
    return mp_process_new(&p, target, mp_args_of(ld)); /* long double */
#elif MPT_CASE == 5
    const mp_lock *cl = NULL;
    return mp_process_new(&p, target, mp_args_of(cl)); /* const Lock */
#endif
}
