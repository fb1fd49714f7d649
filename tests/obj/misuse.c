/* obj/misuse.c - misuse rows for mproc/obj.h. Constructors report a
 * failure as NULL (MPT_R_NULL here); containers take ownership of their
 * items also when they fail, so every row also runs clean under the leak
 * checkers. */
#include <math.h>
#include <string.h>

#include "misuse.h"

static void setup(mpt_fx *fx)
{
    fx->list = MP_LIST(mp_obj_int(1), mp_obj_str("a"));
    fx->dict = MP_DICT(mp_obj_str("k"), mp_obj_int(1));
    fx->num = mp_obj_int(5);
    fx->str = mp_obj_str("x");
    CU_ASSERT_FATAL(fx->list && fx->dict && fx->num && fx->str);
}

static void teardown(mpt_fx *fx)
{
    mp_obj_free(fx->list);
    mp_obj_free(fx->dict);
    mp_obj_free(fx->num);
    mp_obj_free(fx->str);
}

static int repr_is(const mp_obj *o, const char *want)
{
    char *s = NULL;
    int ok = mp_obj_repr(o, &s) == 0 && strcmp(s, want) == 0;
    mp_free(s);
    return ok;
}

static const char *check(mpt_fx *fx)
{
    if (!repr_is(fx->list, "[1, 'a']")) return "the list";
    if (!repr_is(fx->dict, "{'k': 1}")) return "the dict";
    if (!repr_is(fx->num, "5") || !repr_is(fx->str, "'x'")) return "a scalar";
    return NULL;
}

/* 0 and frees o if a constructor gave an object, MPT_R_NULL if it gave
 * NULL. */
static int made(mp_obj *o)
{
    if (!o) return MPT_R_NULL;
    mp_obj_free(o);
    return 0;
}

static int str(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    static const char bad[] = "\xff";
    switch (r->x) {
    case 0:
        return made(mp_obj_str(NULL));
    case 1:
        return made(mp_obj_strn(NULL, 3));
    case 2: /* the scan must not read SIZE_MAX bytes */
        return made(mp_obj_strn("abc", r->n));
    case 3:
        return made(mp_obj_str(bad));
    case 4: /* a surrogate */
        return made(mp_obj_str("\xed\xa0\x80"));
    case 5: /* overlong '/' */
        return made(mp_obj_str("\xc0\xaf"));
    case 6: /* truncated */
        return made(mp_obj_strn("\xe4\xb8", 2));
    default:
        return made(mp_obj_strn(NULL, 0)); /* allowed: "" */
    }
}

static int bytes(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    return made(mp_obj_bytes(r->x ? "abc" : NULL, r->n));
}

/* Containers given NULL or unhashable items: NULL, and the other items
 * freed (the leak checkers see it). */
static int containers(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    switch (r->x) {
    case 0:
        return made(MP_LIST(mp_obj_int(1), NULL, mp_obj_str("b")));
    case 1:
        return made(MP_TUPLE(NULL));
    case 2:
        return made(MP_DICT(mp_obj_str("k"), NULL));
    case 3:
        return made(MP_DICT(NULL, mp_obj_int(1)));
    case 4: /* an unhashable key */
        return made(MP_DICT(mp_obj_list(0), mp_obj_int(1)));
    case 5: /* a key that holds a list inside a tuple */
        return made(MP_DICT(MP_TUPLE(mp_obj_list(0)), mp_obj_int(1)));
    default: /* an item that failed to be made, deep inside */
        return made(MP_LIST(MP_LIST(mp_obj_str("\xff"))));
    }
}

static mp_obj *pick(mpt_fx *fx, const mpt_row *r)
{
    return r->h == MPT_NULL ? NULL : r->h == MPT_OTHER ? fx->num : fx->list;
}

static int append(mpt_fx *fx, const mpt_row *r)
{
    mp_obj *seq = pick(fx, r);
    if (r->x == 1) return mp_obj_append(fx->list, fx->list); /* itself */
    int rc = mp_obj_append(seq, r->h == MPT_NULL_OUT ? NULL : mp_obj_none());
    if (rc == 0) return MPT_R_WRONG;
    return rc;
}

static int dict_set(mpt_fx *fx, const mpt_row *r)
{
    mp_obj *d = r->h == MPT_NULL ? NULL : r->h == MPT_OTHER ? fx->list : fx->dict;
    switch (r->x) {
    case 1:
        return mp_obj_dict_set(d, NULL, mp_obj_int(2));
    case 2:
        return mp_obj_dict_set(d, mp_obj_str("k2"), NULL);
    case 3:
        return mp_obj_dict_set(d, mp_obj_list(0), mp_obj_int(2));
    case 4:
        return mp_obj_dict_set(d, fx->dict, mp_obj_int(2)); /* itself as key */
    case 5:
        return mp_obj_dict_set(d, mp_obj_str("k2"), fx->dict); /* itself as value */
    case 6: { /* a key tuple nested past MP_OBJ_MAX_DEPTH */
        mp_obj *k = mp_obj_tuple(0);
        for (int i = 0; i < MP_OBJ_MAX_DEPTH && k; i++)
            k = MP_TUPLE(k);
        return mp_obj_dict_set(d, k, mp_obj_int(2));
    }
    default:
        return mp_obj_dict_set(d, mp_obj_str("k2"), mp_obj_int(2));
    }
}

static int copy(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    if (r->h == MPT_NULL) return made(mp_obj_copy(NULL));
    mp_obj *deep = mpt_nested(MP_OBJ_MAX_DEPTH);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
    int rc = made(mp_obj_copy(deep));
    mp_obj_free(deep);
    return rc;
}

/* The scalar constructors take no pointer: every input is a value (any
 * non-zero int is True; NaN and the infinities are floats). */
static int scalars(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    (void)r;
    mp_obj *t = mp_obj_bool(-42), *n = mp_obj_float(NAN), *i = mp_obj_float(-INFINITY);
    mp_obj *z = mp_obj_none(), *m = mp_obj_int(INT64_MIN);
    int b = 0;
    double d = 0;
    int64_t x = 0;
    int ok = t && n && i && z && m && mp_obj_get_bool(t, &b) == 0 && b == 1 &&
             mp_obj_get_float(n, &d) == 0 && d != d && repr_is(i, "-inf") &&
             repr_is(z, "None") && mp_obj_get_int(m, &x) == 0 && x == INT64_MIN;
    mp_obj_free(t);
    mp_obj_free(n);
    mp_obj_free(i);
    mp_obj_free(z);
    mp_obj_free(m);
    return ok ? 0 : MPT_R_WRONG;
}

static int free_null(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    (void)r;
    mp_obj_free(NULL);
    return 0;
}

/* What the queries give for NULL and for the wrong kind. */
static int queries(mpt_fx *fx, const mpt_row *r)
{
    (void)r;
    size_t n = 99;
    int ok = mp_obj_type_of(NULL) == MP_OBJ_NONE &&
             strcmp(mp_obj_type_name(NULL), "NULL") == 0 && mp_obj_len(NULL) == 0 &&
             mp_obj_len(fx->num) == 0 && mp_obj_str_data(NULL, &n) == NULL &&
             mp_obj_str_data(fx->num, &n) == NULL &&
             mp_obj_bytes_data(fx->str, &n) == NULL && n == 99 &&
             mp_obj_item(NULL, 0) == NULL && mp_obj_item(fx->list, 2) == NULL &&
             mp_obj_item(fx->list, (size_t)-1) == NULL &&
             mp_obj_item(fx->dict, 0) == NULL && mp_obj_dict_key(fx->dict, 1) == NULL &&
             mp_obj_dict_key(fx->list, 0) == NULL && mp_obj_dict_value(NULL, 0) == NULL &&
             mp_obj_dict_value(fx->dict, (size_t)-1) == NULL &&
             mp_obj_dict_get(NULL, fx->str) == NULL &&
             mp_obj_dict_get(fx->dict, NULL) == NULL &&
             mp_obj_dict_get(fx->list, fx->str) == NULL &&
             mp_obj_dict_get(fx->dict, fx->list) == NULL && /* unhashable: absent */
             mp_obj_equal(NULL, NULL) == 0 && mp_obj_equal(fx->num, NULL) == 0;
    return ok ? 0 : MPT_R_WRONG;
}

static int get_scalar(mpt_fx *fx, const mpt_row *r)
{
    mp_obj *o = r->h == MPT_NULL ? NULL : r->h == MPT_OTHER ? fx->str : fx->num;
    int b;
    int64_t i;
    double d;
    int null_out = r->h == MPT_NULL_OUT;
    switch (r->x) {
    case 0:
        return mp_obj_get_bool(o, null_out ? NULL : &b);
    case 1:
        return mp_obj_get_int(o, null_out ? NULL : &i);
    default:
        return mp_obj_get_float(o, null_out ? NULL : &d);
    }
}

static int repr(mpt_fx *fx, const mpt_row *r)
{
    char *s = (char *)"untouched";
    mp_obj *deep = NULL;
    const mp_obj *o = fx->list;
    if (r->h == MPT_NULL) o = NULL;
    if (r->x) o = deep = mpt_nested(MP_OBJ_MAX_DEPTH);
    int rc = mp_obj_repr(o, r->h == MPT_NULL_OUT ? NULL : &s);
    if (rc == 0) mp_free(s);
    mp_obj_free(deep);
    if (rc < 0 && r->h != MPT_NULL_OUT && s != NULL) return MPT_R_WRONG;
    return rc;
}

static int print(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    (void)r;
    return mp_obj_print(NULL);
}

static int dumps(mpt_fx *fx, const mpt_row *r)
{
    void *d = (void *)"untouched";
    size_t n = 99;
    mp_obj *deep = NULL;
    const mp_obj *o = r->h == MPT_NULL ? NULL : fx->list;
    if (r->x == 3) o = deep = mpt_nested(MP_OBJ_MAX_DEPTH);
    int rc = mp_obj_dumps(o, r->x == 1 ? NULL : &d, r->x == 2 ? NULL : &n);
    if (rc == 0) mp_free(d);
    mp_obj_free(deep);
    /* A refused object leaves no result behind. */
    if (rc < 0 && r->x >= 3 && d != NULL) return MPT_R_WRONG;
    return rc;
}

/* Pickles the loads rows feed: r->x picks one, r->n the length given. */
static int loads(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    static const unsigned char good[] = {0x80, 0x04, 'N', '.'}; /* None */
    static const unsigned char global[] = "\x80\x04"
                                          "cos\nsystem\n.";
    static const unsigned char truncated[] = {0x80, 0x04, 'K'};
    const void *p = good;
    size_t n = r->n ? r->n : sizeof good;
    switch (r->x) {
    case 1:
        p = NULL;
        break;
    case 2:
        p = global;
        n = sizeof global - 1;
        break;
    case 3:
        p = truncated;
        n = sizeof truncated;
        break;
    case 4:
        n = 0;
        break;
    default:
        break;
    }
    mp_obj *o = NULL;
    int rc = mp_obj_loads(p, n, r->h == MPT_NULL_OUT ? NULL : &o);
    mp_obj_free(o);
    return rc;
}

#define BIG ((size_t)-1)

static const mpt_row rows[] = {
    {"mp_obj_str", "NULL", str, MPT_R_NULL, .x = 0},
    {"mp_obj_strn", "NULL with a length", str, MPT_R_NULL, .x = 1},
    {"mp_obj_strn", "length SIZE_MAX (never scanned)", str, MPT_R_NULL, .x = 2, .n = BIG},
    {"mp_obj_strn", "length PTRDIFF_MAX + 1", str, MPT_R_NULL, .x = 2,
     .n = (size_t)PTRDIFF_MAX + 1},
    {"mp_obj_strn", "NULL, length 0 (allowed: '')", str, 0, .x = 7},
    {"mp_obj_str", "invalid UTF-8 (0xff)", str, MPT_R_NULL, .x = 3},
    {"mp_obj_str", "a surrogate (ED A0 80)", str, MPT_R_NULL, .x = 4},
    {"mp_obj_str", "an overlong form (C0 AF)", str, MPT_R_NULL, .x = 5},
    {"mp_obj_strn", "a truncated sequence", str, MPT_R_NULL, .x = 6},
    {"mp_obj_bytes", "NULL with a length", bytes, MPT_R_NULL, .n = 3},
    {"mp_obj_bytes", "NULL, length 0 (allowed: b'')", bytes, 0, .h = MPT_LIVE},
    {"mp_obj_bytes", "length SIZE_MAX (never read)", bytes, MPT_R_NULL, .x = 1, .n = BIG},
    {"mp_obj_list", "a NULL item (the others freed)", containers, MPT_R_NULL, .x = 0},
    {"mp_obj_tuple", "a NULL item", containers, MPT_R_NULL, .x = 1},
    {"mp_obj_dict", "a NULL value", containers, MPT_R_NULL, .x = 2},
    {"mp_obj_dict", "a NULL key", containers, MPT_R_NULL, .x = 3},
    {"mp_obj_dict", "a list as key (unhashable)", containers, MPT_R_NULL, .x = 4},
    {"mp_obj_dict", "a tuple holding a list as key", containers, MPT_R_NULL, .x = 5},
    {"mp_obj_list", "an item whose own item failed", containers, MPT_R_NULL, .x = 6},
    {"mp_obj_append", "NULL sequence (item freed)", append, MP_EINVAL, .h = MPT_NULL},
    {"mp_obj_append", "an int as the sequence", append, MP_EINVAL, .h = MPT_OTHER},
    {"mp_obj_append", "a NULL item", append, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_obj_append", "the list to itself (both left alone)", append, MP_EINVAL, .x = 1},
    {"mp_obj_dict_set", "NULL dict", dict_set, MP_EINVAL, .h = MPT_NULL},
    {"mp_obj_dict_set", "a list as the dict", dict_set, MP_EINVAL, .h = MPT_OTHER},
    {"mp_obj_dict_set", "a NULL key", dict_set, MP_EINVAL, .x = 1},
    {"mp_obj_dict_set", "a NULL value", dict_set, MP_EINVAL, .x = 2},
    {"mp_obj_dict_set", "an unhashable key", dict_set, MP_EINVAL, .x = 3},
    {"mp_obj_dict_set", "the dict as its own key", dict_set, MP_EINVAL, .x = 4},
    {"mp_obj_dict_set", "the dict as its own value", dict_set, MP_EINVAL, .x = 5},
    {"mp_obj_dict_set", "a key nested deeper than MP_OBJ_MAX_DEPTH", dict_set, MP_ETOOBIG,
     .x = 6},
    {"mp_obj_copy", "NULL", copy, MPT_R_NULL, .h = MPT_NULL},
    {"mp_obj_copy", "nested deeper than MP_OBJ_MAX_DEPTH", copy, MPT_R_NULL,
     .h = MPT_LIVE},
    {"mp_obj_free", "NULL", free_null, 0, .h = MPT_LIVE},
    {"mp_obj_bool, mp_obj_float, mp_obj_none, mp_obj_int",
     "-42, NaN, -inf, INT64_MIN (all values)", scalars, 0, .h = MPT_LIVE},
    {"queries (type_of, len, item, dict_get, equal...)",
     "NULL, the wrong kind, an index past the end", queries, 0, .h = MPT_LIVE},
    {"mp_obj_get_bool", "NULL", get_scalar, MP_EINVAL, .h = MPT_NULL, .x = 0},
    {"mp_obj_get_bool", "an int", get_scalar, MP_EINVAL, .x = 0},
    {"mp_obj_get_int", "NULL", get_scalar, MP_EINVAL, .h = MPT_NULL, .x = 1},
    {"mp_obj_get_int", "NULL output", get_scalar, MP_EINVAL, .h = MPT_NULL_OUT, .x = 1},
    {"mp_obj_get_int", "a str", get_scalar, MP_EINVAL, .h = MPT_OTHER, .x = 1},
    {"mp_obj_get_float", "a str", get_scalar, MP_EINVAL, .h = MPT_OTHER, .x = 2},
    {"mp_obj_get_float", "NULL output", get_scalar, MP_EINVAL, .h = MPT_NULL_OUT, .x = 2},
    {"mp_obj_repr", "NULL object", repr, MP_EINVAL, .h = MPT_NULL},
    {"mp_obj_repr", "NULL output", repr, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_obj_repr", "nested deeper than MP_OBJ_MAX_DEPTH", repr, MP_ETOOBIG, .x = 1},
    {"mp_obj_print", "NULL", print, MP_EINVAL, .h = MPT_LIVE},
    {"mp_obj_dumps", "NULL object", dumps, MP_EINVAL, .h = MPT_NULL},
    {"mp_obj_dumps", "NULL data pointer", dumps, MP_EINVAL, .x = 1},
    {"mp_obj_dumps", "NULL length pointer", dumps, MP_EINVAL, .x = 2},
    {"mp_obj_dumps", "nested deeper than MP_OBJ_MAX_DEPTH", dumps, MP_ETOOBIG, .x = 3},
    {"mp_obj_loads", "NULL data with a length", loads, MP_EINVAL, .x = 1},
    {"mp_obj_loads", "NULL result pointer", loads, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_obj_loads", "length 0", loads, MP_EPROTO, .x = 4},
    {"mp_obj_loads", "length SIZE_MAX (never read)", loads, MP_EINVAL, .n = BIG},
    {"mp_obj_loads", "a global (os.system): nothing executed", loads, MP_EUNSUPPORTED,
     .x = 2},
    {"mp_obj_loads", "a truncated pickle", loads, MP_EPROTO, .x = 3},
};

const mpt_group mpt_misuse_obj = MPT_GROUP("obj", setup, teardown, check, rows);

void mpt_suite_obj_misuse(void)
{
    mpt_misuse_add("obj/misuse", &mpt_misuse_obj);
}
