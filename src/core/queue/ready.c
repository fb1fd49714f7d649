/* ready.c - whether a queue has a message to take, for wait(): the two
 * sides' counts, read without their locks. Messages still in another
 * process's feeder buffer do not count: no get could take them yet. */
#include "base/error.h"
#include "core/queue/layout.h"
#include "core/queue/ready.h"

int mp__queue_ready(mp_queue *q)
{
    if (q_is_closed(q)) return mp_set_error(MP_ESTATE, "queue is closed");
    uint32_t taken = Q_COUNT(mp_load64(&q->s->c.lk.word, MP_SEQ_CST));
    return (int32_t)(q_published(q) - taken) > 0;
}
