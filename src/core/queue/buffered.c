/* buffered.c - the table of per-process counts of buffered messages
 * (buffered.h): a process that dies with messages in its buffer loses them
 * (as in Python), and qsize forgets them with it. A process that finds no
 * free entry of the Q_BUF_SLOTS shares one count that never forgets.
 * Calls nothing else of the queue. */
#include "core/queue/buffered.h"

int q_my_slot(mp_queue *q)
{
    uint32_t self = mp_os_getpid();
    if (q->slot >= 0 && q->slot_pid == self) return q->slot;
    struct qshared *s = q->s;
    q->slot = -1;
    q->slot_pid = self;
    for (int pass = 0; pass < 2 && q->slot < 0; pass++) {
        for (int i = 0; i < Q_BUF_SLOTS; i++) {
            uint32_t pid = mp_load32(&s->buffered[i].pid, MP_ACQUIRE);
            if (pid == self) { /* another handle of this process */
                q->slot = i;
                break;
            }
            /* First pass: free entries; second: those of dead processes. */
            int take = pass == 0 ? pid == 0 : pid != 0 && !mp_os_pid_alive(pid);
            if (take && mp_cas32(&s->buffered[i].pid, &pid, self, MP_SEQ_CST)) {
                mp_store32(&s->buffered[i].count, 0, MP_RELEASE);
                q->slot = i;
                break;
            }
        }
    }
    return q->slot;
}

void q_count_buffered(mp_queue *q, int slot, int64_t delta)
{
    if (slot >= 0)
        mp_add32(&q->s->buffered[slot].count, (uint32_t)delta, MP_SEQ_CST);
    else
        mp_add64(&q->s->buffered_other, (uint64_t)delta, MP_SEQ_CST);
}

uint64_t q_buffered_total(mp_queue *q)
{
    struct qshared *s = q->s;
    uint32_t self = mp_os_getpid();
    uint64_t total = mp_load64(&s->buffered_other, MP_SEQ_CST);
    for (int i = 0; i < Q_BUF_SLOTS; i++) {
        uint32_t n = mp_load32(&s->buffered[i].count, MP_SEQ_CST);
        if (n == 0 || n > INT32_MAX) continue;
        uint32_t pid = mp_load32(&s->buffered[i].pid, MP_ACQUIRE);
        if (pid == self || (pid != 0 && mp_os_pid_alive(pid))) total += n;
    }
    return total;
}
