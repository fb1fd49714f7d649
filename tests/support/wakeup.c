/* wakeup.c - see wakeup.h. */
#include "wakeup.h"

#include "core/sync/pidlock.h"
#include "test.h"

static mp_atomic_u32 stage; /* 1: the waiter stopped in the hook; 2: go on */

static void stop_once(void)
{
    uint32_t zero = 0;
    if (!mp_cas32(&stage, &zero, 1, MP_SEQ_CST)) return;
    while (mp_load32(&stage, MP_SEQ_CST) != 2)
        mp_os_sleep_ns(100000);
}

uint32_t mpt_wakeup_scenario(int (*take)(void *), void (*drop)(void *),
                             void (*waiter)(void *), void *ctx)
{
    mp_store32(&stage, 0, MP_SEQ_CST);
    uint64_t slice = mp__lock_first_slice_ns;
    mp__lock_first_slice_ns = 60000000000ull;
    mp__lock_waiter_hook = stop_once;
    uint32_t out = mp_load32(&mp__lock_slices_out, MP_SEQ_CST);

    MPT_OK(take(ctx));
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, waiter, ctx));
    while (mp_load32(&stage, MP_SEQ_CST) != 1) /* registered, not yet looked */
        mp_os_sleep_ns(100000);
    drop(ctx);                         /* marks the wake-up: nobody asleep */
    MPT_OK(take(ctx));                 /* the word is taken again */
    mp_store32(&stage, 2, MP_SEQ_CST); /* the waiter looks: held */
    mp_os_sleep_ns(20000000);          /* whichever comes first, sleep or release */
    drop(ctx);
    MPT_OK(mp_os_thread_join(t));

    mp__lock_waiter_hook = NULL;
    mp__lock_first_slice_ns = slice;
    return mp_load32(&mp__lock_slices_out, MP_SEQ_CST) - out;
}
