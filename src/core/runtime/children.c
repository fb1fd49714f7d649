/* children.c - the list of this process's children (see children.h): a
 * growable array under a spin lock, since it is touched only when a
 * process starts, closes or is listed. */
#include <stdlib.h>
#include <string.h>

#include "base/atomics.h"
#include "base/spinlock.h"
#include "base/error.h"
#include "core/runtime/children.h"

static struct mp_process **list;
static size_t count, room;
static mp_atomic_u32 busy;

int mp__children_add(struct mp_process *p)
{
    int rc = 0;
    mp_spin_lock(&busy);
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
    mp_spin_unlock(&busy);
    return rc;
}

void mp__children_remove(struct mp_process *p)
{
    mp_spin_lock(&busy);
    for (size_t i = 0; i < count; i++)
        if (list[i] == p) {
            memmove(&list[i], &list[i + 1], (count - i - 1) * sizeof *list);
            count--;
            break;
        }
    mp_spin_unlock(&busy);
}

void mp__children_forget(void)
{
    /* Only this thread runs in a new fork child: the lock is reset, not
     * taken, in case another thread of the parent held it. The array is
     * the parent's copy; it is reused, not freed, as nothing else points
     * to it here. */
    count = 0;
    mp_spin_unlock(&busy);
}

int mp__children_copy(struct mp_process ***out, size_t *n)
{
    struct mp_process **copy = NULL;
    int failed = 0;
    mp_spin_lock(&busy);
    *n = count;
    if (count) {
        copy = malloc(count * sizeof *copy);
        if (copy) memcpy(copy, list, count * sizeof *copy);
        failed = !copy;
    }
    mp_spin_unlock(&busy);
    *out = copy;
    if (!failed) return 0;
    *n = 0;
    return mp_set_error(MP_ENOMEM, "out of memory listing children");
}
