/* kind_shared.c - what every shared-object kind has in common (kind.h).
 *
 * Apart from the table (kinds.c), so that the kinds' files, which use it,
 * and the table, which names them, do not call each other. */
#include "base/error.h"
#include "core/runtime/kind.h"

int mp__kind_copy_ref(mp_arg *dst, const mp_arg *src)
{
    if (!src->u.object) return MP_EINVAL;
    dst->u.object = src->u.object;
    return 0;
}
