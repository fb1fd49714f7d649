/* wq.c - wait queues: where a process sleeps until a shared word changes.
 *
 * WaitOnAddress would be the futex, but it is process-private: a waiter in
 * another process never hears the wake. So each queue owns one kernel
 * semaphore (unnamed: nothing to squat or leak), created with its shared
 * object and inherited with it, one handle per queue.
 *
 * The semaphore's count is a pile of tokens, exactly like the POSIX pipe
 * fallback: a wake of n releases n tokens, a waiter takes one. A waiter
 * checks the word first and then sleeps; a wake between that check and
 * WaitForSingleObject stays in the count, so none is lost. A token left
 * by a waiter that gave up (it timed out, or found the word changed)
 * only makes a later wait return early, which the protocol allows. The
 * maximum count is LONG_MAX; a release that would pass it fails with
 * ERROR_TOO_MANY_POSTS, which means tokens enough are there already.
 *
 * The fast path never enters the kernel: the core calls wake only when it
 * counted a sleeper. Under Wine every semaphore call is a round trip to
 * wineserver (~330 us); on Windows a few microseconds. */
#include <limits.h>

#include "win32_util.h"

int mp_os_wq_create(mp_os_wq *wq)
{
    for (int i = 0; i < MP_OS_WQ_MAX_HANDLES; i++)
        wq->h[i] = MP_OS_NO_HANDLE;
    HANDLE s = CreateSemaphoreW(NULL, 0, LONG_MAX, NULL);
    if (!s) return mp_w32_fail("CreateSemaphoreW", GetLastError());
    wq->h[0] = (mp_os_handle)s;
    return 0;
}

int mp_os_wq_handles(const mp_os_wq *wq, mp_os_handle *out)
{
    out[0] = wq->h[0];
    return 1;
}

int mp_os_wq_adopt(mp_os_wq *wq, const mp_os_handle *h, int n)
{
    for (int i = 0; i < MP_OS_WQ_MAX_HANDLES; i++)
        wq->h[i] = MP_OS_NO_HANDLE;
    if (n == 1 && mp_w32_valid(h[0])) {
        wq->h[0] = h[0];
        return 0;
    }
    for (int i = 0; i < n; i++)
        mp_os_close(h[i]);
    return mp_set_error(MP_EPROTO, "semaphore wait queue given %d handles, wants 1", n);
}

int mp_os_wq_wait(mp_os_wq *wq, mp_atomic_u32 *word, uint32_t expected,
                  uint64_t deadline_ns)
{
    if (mp_load32(word, MP_SEQ_CST) != expected) return 0;
    for (;;) {
        DWORD ms = mp_w32_timeout_ms(deadline_ns);
        DWORD w = WaitForSingleObject(mp_w32_h(wq->h[0]), ms);
        if (w == WAIT_OBJECT_0) return 0;
        if (w == WAIT_TIMEOUT) {
            if (ms == 0) return MP_ETIMEDOUT;
            continue; /* a capped wait of a far deadline: wait on */
        }
        return mp_w32_fail("WaitForSingleObject(semaphore)", GetLastError());
    }
}

void mp_os_wq_wake(mp_os_wq *wq, mp_atomic_u32 *word, uint32_t n)
{
    (void)word;
    LONG k = n > (uint32_t)LONG_MAX ? LONG_MAX : (LONG)n;
    /* ERROR_TOO_MANY_POSTS: the count is full of tokens; enough. */
    ReleaseSemaphore(mp_w32_h(wq->h[0]), k, NULL);
}

void mp_os_wq_close(mp_os_wq *wq)
{
    for (int i = 0; i < MP_OS_WQ_MAX_HANDLES; i++) {
        mp_os_close(wq->h[i]);
        wq->h[i] = MP_OS_NO_HANDLE;
    }
}

int mp_os_wq_by_address(void)
{
    return 0;
}
