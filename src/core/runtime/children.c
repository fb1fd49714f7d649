/* children.c - the list of this process's children (see children.h): a
 * growable array under a spin lock, since it is touched only when a
 * process starts, closes or is listed. */
#include <stdlib.h>
#include <string.h>

#include "base/atomics.h"
#include "base/error.h"
#include "core/runtime/children.h"

static struct mp_process **list;
static size_t count, room;
static mp_atomic_u32 busy;

static void take(void)
{
    uint32_t free_ = 0;
    while (!mp_cas32(&busy, &free_, 1, MP_ACQUIRE)) {
        free_ = 0;
        mp_cpu_relax();
    }
}

static void give(void)
{
    mp_store32(&busy, 0, MP_RELEASE);
}

int mp__children_add(struct mp_process *p)
{
    int rc = 0;
    take();
    if (count == room) {
        size_t grown = room ? room * 2 : 16;
        struct mp_process **bigger = realloc(list, grown * sizeof *list);
        if (bigger) {
            list = bigger;
            room = grown;
        } else {
            rc = mp_set_error(MP_ENOMEM, "out of memory for the list of children");
        }
    }
    if (rc == 0) list[count++] = p;
    give();
    return rc;
}

void mp__children_remove(struct mp_process *p)
{
    take();
    for (size_t i = 0; i < count; i++)
        if (list[i] == p) {
            memmove(&list[i], &list[i + 1], (count - i - 1) * sizeof *list);
            count--;
            break;
        }
    give();
}

void mp__children_forget(void)
{
    /* Only this thread runs in a new fork child: the lock is reset, not
     * taken, in case another thread of the parent held it. The array is
     * the parent's copy; it is reused, not freed, as nothing else points
     * to it here. */
    count = 0;
    mp_store32(&busy, 0, MP_RELEASE);
}

int mp__children_copy(struct mp_process ***out, size_t *n)
{
    struct mp_process **copy = NULL;
    int failed = 0;
    take();
    *n = count;
    if (count) {
        copy = malloc(count * sizeof *copy);
        if (copy) memcpy(copy, list, count * sizeof *copy);
        failed = !copy;
    }
    give();
    *out = copy;
    if (!failed) return 0;
    *n = 0;
    return mp_set_error(MP_ENOMEM, "out of memory listing children");
}
