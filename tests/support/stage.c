/* stage.c - handshakes and the killer thread (see stage.h). */
#include "stage.h"
#include "child.h"
#include "test.h"

int mpt_stage_set(mp_value *stage, int64_t n)
{
    return mp_value_set_int(stage, n);
}

int mpt_stage_wait(mp_value *stage, int64_t n)
{
    double deadline = mpt_now() + MPT_JOIN_TIMEOUT;
    int64_t x = 0;
    while (mp_value_get_int(stage, &x) == 0 && x < n) {
        if (mpt_now() > deadline) return 0;
        mpt_sleep_ms(1);
    }
    return x >= n;
}

static struct {
    mp_process *p;
    double delay;
    mp_os_thread *t;
} killer;

static void kill_later(void *arg)
{
    (void)arg;
    mpt_sleep_ms((int)(killer.delay * 1000));
    CU_ASSERT_EQUAL(mp_process_kill(killer.p), 0);
}

void mpt_kill_soon(mp_process *p, double delay)
{
    killer.p = p;
    killer.delay = delay;
    MPT_OK(mp_os_thread_start(&killer.t, kill_later, NULL));
}

void mpt_kill_join(void)
{
    if (!killer.t) return;
    MPT_OK(mp_os_thread_join(killer.t));
    killer.t = NULL;
}
