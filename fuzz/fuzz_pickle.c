/* fuzz_pickle.c - libFuzzer target for the pickle decoder.
 *
 * Any input: mp_obj_loads() must return an error or a value, never crash,
 * read out of bounds or leak (ASan/UBSan/LeakSanitizer watch). A value it
 * accepts must survive the codec: dumps, then loads again, gives an equal
 * value (NaN aside: it is not equal to itself), and dumps of that gives
 * the same bytes (the encoder is deterministic). Any break of these is an
 * abort(), which libFuzzer reports with the input.
 *
 * The memo allowance is kept small (1 MiB) so that inputs that expand
 * through shared references stay cheap to run; the rule tested is the
 * same as with the library's default. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pickle/pickle.h"
#include "mproc.h"

static int has_nan(const mp_obj *o)
{
    double d;
    switch (mp_obj_type_of(o)) {
    case MP_OBJ_FLOAT:
        mp_obj_get_float(o, &d);
        return d != d;
    case MP_OBJ_LIST:
    case MP_OBJ_TUPLE:
        for (size_t i = 0; i < mp_obj_len(o); i++)
            if (has_nan(mp_obj_item(o, i))) return 1;
        return 0;
    case MP_OBJ_DICT:
        for (size_t i = 0; i < mp_obj_len(o); i++)
            if (has_nan(mp_obj_dict_key(o, i)) || has_nan(mp_obj_dict_value(o, i)))
                return 1;
        return 0;
    default:
        return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mp_obj *o = NULL;
    int rc = mp__pickle_loads(data, size, &o, (uint64_t)1 << 20);
    if (rc != 0) {
        /* A failure is a negative code and no value. */
        if (rc > 0 || o) abort();
        return 0;
    }
    if (!o) abort();
    void *p = NULL, *p2 = NULL;
    size_t n = 0, n2 = 0;
    if (mp_obj_dumps(o, &p, &n) != 0) abort();
    mp_obj *again = NULL;
    if (mp_obj_loads(p, n, &again) != 0) abort();
    if (!has_nan(o) && !mp_obj_equal(o, again)) abort();
    if (mp_obj_dumps(again, &p2, &n2) != 0) abort();
    if (n != n2 || memcmp(p, p2, n) != 0) abort();
    mp_free(p);
    mp_free(p2);
    mp_obj_free(again);
    mp_obj_free(o);
    return 0;
}
