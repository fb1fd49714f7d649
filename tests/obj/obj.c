/* obj/obj.c - suite "obj": the object model, its repr and the Unicode
 * printable table.
 *
 * Ownership mistakes show up under ASan/valgrind (CI runs both), so the
 * tests build values the way users do (nested constructor calls, NULLs
 * inside) and free only the top. The repr and table tests run python3
 * (MPT_PYTHON, else python3 from PATH) and compare with what it prints;
 * they are POSIX only (MPT_NO_PYTHON). */
#define _POSIX_C_SOURCE 200809L /* popen, mkstemp, dup */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "core/obj/obj_internal.h"
#include "core/obj/unicode_printable.h"
#include "platform.h"
#include "test.h"

/* ---- helpers ---------------------------------------------------------------- */

/* The repr of o (which it frees), as a string the caller frees. */
static char *repr_of(mp_obj *o)
{
    char *s = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    int rc = mp_obj_repr(o, &s);
    if (rc != 0)
        fprintf(stderr, "repr failed: %s (%s)\n", mp_error_name(rc), mp_last_error());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    mp_obj_free(o);
    return s;
}

#define REPR_IS(expr, want)                                                              \
    do {                                                                                 \
        char *got_ = repr_of(expr);                                                      \
        if (strcmp(got_, (want)) != 0)                                                   \
            fprintf(stderr, "%s:%d: repr %s\n   got %s\n  want %s\n", __FILE__,          \
                    __LINE__, #expr, got_, (want));                                      \
        CU_ASSERT_STRING_EQUAL(got_, (want));                                            \
        mp_free(got_);                                                                   \
    } while (0)

static mp_obj *S(const char *s)
{
    return mp_obj_str(s);
}

static mp_obj *I(int64_t v)
{
    return mp_obj_int(v);
}

static mp_obj *F(double v)
{
    return mp_obj_float(v);
}

/* Equality both ways round; frees both. */
static int eq_free(mp_obj *a, mp_obj *b)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    int ab = mp_obj_equal(a, b), ba = mp_obj_equal(b, a);
    CU_ASSERT_EQUAL(ab, ba);
    mp_obj_free(a);
    mp_obj_free(b);
    return ab;
}

/* Appends the UTF-8 of c to p. */
static size_t put_utf8(char *p, uint32_t c)
{
    if (c < 0x80) {
        p[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        p[0] = (char)(0xC0 | (c >> 6));
        p[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        p[0] = (char)(0xE0 | (c >> 12));
        p[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        p[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    p[0] = (char)(0xF0 | (c >> 18));
    p[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    p[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    p[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* ---- constructors, ownership ------------------------------------------------ */

static void test_scalars(void)
{
    mp_obj *o = mp_obj_none();
    CU_ASSERT_EQUAL(mp_obj_type_of(o), MP_OBJ_NONE);
    CU_ASSERT_STRING_EQUAL(mp_obj_type_name(o), "NoneType");
    CU_ASSERT_EQUAL(mp_obj_len(o), 0);
    mp_obj_free(o);

    int b = -1;
    o = mp_obj_bool(7);
    CU_ASSERT_EQUAL(mp_obj_type_of(o), MP_OBJ_BOOL);
    MPT_OK(mp_obj_get_bool(o, &b));
    CU_ASSERT_EQUAL(b, 1);
    int64_t i = 0;
    MPT_OK(mp_obj_get_int(o, &i)); /* int(True) */
    CU_ASSERT_EQUAL(i, 1);
    mp_obj_free(o);

    o = mp_obj_int(INT64_MIN);
    MPT_OK(mp_obj_get_int(o, &i));
    CU_ASSERT_EQUAL(i, INT64_MIN);
    MPT_EQ(mp_obj_get_bool(o, &b), MP_EINVAL);
    double d = 0;
    MPT_OK(mp_obj_get_float(o, &d));
    CU_ASSERT_EQUAL(d, -9223372036854775808.0);
    CU_ASSERT_STRING_EQUAL(mp_obj_type_name(o), "int");
    mp_obj_free(o);

    o = mp_obj_float(2.5);
    MPT_OK(mp_obj_get_float(o, &d));
    CU_ASSERT_EQUAL(d, 2.5);
    MPT_EQ(mp_obj_get_int(o, &i), MP_EINVAL);
    CU_ASSERT_PTR_NULL(mp_obj_str_data(o, NULL));
    CU_ASSERT_PTR_NULL(mp_obj_item(o, 0));
    mp_obj_free(o);
    mp_obj_free(NULL);
}

static void test_str_bytes(void)
{
    size_t n = 0;
    mp_obj *o = mp_obj_strn("a\0b", 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    const char *s = mp_obj_str_data(o, &n);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT(memcmp(s, "a\0b", 4) == 0); /* NUL-terminated too */
    CU_ASSERT_EQUAL(mp_obj_len(o), 3);
    CU_ASSERT_PTR_NULL(mp_obj_bytes_data(o, &n));
    mp_obj_free(o);

    o = mp_obj_bytes(NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_PTR_NOT_NULL(mp_obj_bytes_data(o, &n));
    CU_ASSERT_EQUAL(n, 0);
    mp_obj_free(o);
    CU_ASSERT_PTR_NULL(mp_obj_bytes(NULL, 3));

    o = mp_obj_bytes("\xff\x00z", 3);
    const unsigned char *p = mp_obj_bytes_data(o, &n);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(p[0], 0xff);
    CU_ASSERT_EQUAL(mp_obj_len(o), 3);
    mp_obj_free(o);
    CU_ASSERT_PTR_NULL(mp_obj_str(NULL));
}

static void test_str_len_code_points(void)
{
    struct {
        const char *s;
        size_t bytes, cps;
    } cases[] = {
        {"", 0, 0},
        {"hello", 5, 5},
        {"h\xc3\xa9llo", 6, 5},             /* é */
        {"\xe4\xb8\xad\xe6\x96\x87", 6, 2}, /* 中文 */
        {"\xf0\x9f\x98\x80!", 5, 2},        /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", 4, 1},         /* U+10FFFF */
        {"\xef\xbf\xbf\xee\x80\x80", 6, 2}, /* U+FFFF, U+E000 */
        {"\xed\x9f\xbf\xee\x80\x80", 6, 2}, /* U+D7FF, just below surrogates */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mp_obj *o = mp_obj_str(cases[k].s);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        size_t n = 0;
        mp_obj_str_data(o, &n);
        CU_ASSERT_EQUAL(n, cases[k].bytes);
        CU_ASSERT_EQUAL(mp_obj_len(o), cases[k].cps);
        mp_obj *c = mp_obj_copy(o);
        CU_ASSERT_EQUAL(mp_obj_len(c), cases[k].cps);
        mp_obj_free(c);
        mp_obj_free(o);
    }
}

static void test_invalid_utf8(void)
{
    static const char *const bad[] = {
        "\x80",                     /* lone continuation */
        "\xbf",                     /* lone continuation */
        "\xc0\x80",                 /* overlong NUL */
        "\xc1\xbf",                 /* overlong */
        "\xe0\x80\x80",             /* overlong 3-byte */
        "\xe0\x9f\xbf",             /* overlong 3-byte, top */
        "\xf0\x8f\xbf\xbf",         /* overlong 4-byte */
        "\xed\xa0\x80",             /* U+D800 */
        "\xed\xbf\xbf",             /* U+DFFF */
        "\xed\xa0\xbd\xed\xb8\x80", /* a CESU-8 surrogate pair */
        "\xf4\x90\x80\x80",         /* U+110000 */
        "\xf5\x80\x80\x80",         /* beyond */
        "\xf8\x88\x80\x80\x80",
        "\xff",
        "\xfe",
        "\xc3",         /* truncated */
        "\xe4\xb8",     /* truncated */
        "\xf0\x9f\x98", /* truncated */
        "a\xc3(",       /* bad continuation */
        "\xe4\xb8(",
        "ok\xf0\x9f\x98\x80ok\x80",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        mp_obj *o = mp_obj_str(bad[k]);
        if (o) fprintf(stderr, "accepted bad UTF-8 case %zu\n", k);
        CU_ASSERT_PTR_NULL(o);
        mp_obj_free(o);
        CU_ASSERT(strstr(mp_last_error(), "UTF-8") != NULL);
        CU_ASSERT_EQUAL(mp_obj__utf8_check(bad[k], strlen(bad[k]), NULL), MP_EINVAL);
    }
    /* A length that cuts a valid sequence short. */
    CU_ASSERT_PTR_NULL(mp_obj_strn("\xc3\xa9", 1));
    /* And a bad string inside a container makes the whole NULL. */
    CU_ASSERT_PTR_NULL(MP_LIST(I(1), S("\xed\xa0\x80"), I(3)));
    CU_ASSERT(strstr(mp_last_error(), "item 1 of a list is NULL") != NULL);
    CU_ASSERT(strstr(mp_last_error(), "UTF-8") != NULL);
}

static void test_containers(void)
{
    mp_obj *o = MP_LIST(I(42), mp_obj_none(), S("hello"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_EQUAL(mp_obj_type_of(o), MP_OBJ_LIST);
    CU_ASSERT_EQUAL(mp_obj_len(o), 3);
    int64_t i = 0;
    MPT_OK(mp_obj_get_int(mp_obj_item(o, 0), &i));
    CU_ASSERT_EQUAL(i, 42);
    CU_ASSERT_EQUAL(mp_obj_type_of(mp_obj_item(o, 1)), MP_OBJ_NONE);
    CU_ASSERT_STRING_EQUAL(mp_obj_str_data(mp_obj_item(o, 2), NULL), "hello");
    CU_ASSERT_PTR_NULL(mp_obj_item(o, 3));
    MPT_OK(mp_obj_append(o, MP_TUPLE(I(1))));
    CU_ASSERT_EQUAL(mp_obj_len(o), 4);
    CU_ASSERT_EQUAL(mp_obj_type_of(mp_obj_item(o, 3)), MP_OBJ_TUPLE);
    MPT_EQ(mp_obj_append(o, NULL), MP_EINVAL);
    mp_obj_free(o);

    o = mp_obj_tuple(0);
    CU_ASSERT_EQUAL(mp_obj_len(o), 0);
    for (int k = 0; k < 1000; k++)
        MPT_OK(mp_obj_append(o, I(k)));
    CU_ASSERT_EQUAL(mp_obj_len(o), 1000);
    MPT_OK(mp_obj_get_int(mp_obj_item(o, 999), &i));
    CU_ASSERT_EQUAL(i, 999);
    mp_obj_free(o);

    /* Appending to a non-sequence frees the item (ASan checks). */
    o = mp_obj_int(1);
    MPT_EQ(mp_obj_append(o, S("x")), MP_EINVAL);
    MPT_EQ(mp_obj_append(NULL, S("x")), MP_EINVAL);
    MPT_EQ(mp_obj_dict_set(o, S("k"), S("v")), MP_EINVAL);
    mp_obj_free(o);

    o = mp_obj_dict(0);
    CU_ASSERT_EQUAL(mp_obj_type_of(o), MP_OBJ_DICT);
    CU_ASSERT_EQUAL(mp_obj_len(o), 0);
    CU_ASSERT_PTR_NULL(mp_obj_dict_key(o, 0));
    mp_obj_free(o);
    o = mp_obj_list(0);
    CU_ASSERT_EQUAL(mp_obj_len(o), 0);
    mp_obj_free(o);
}

/* A NULL anywhere, at any depth, gives NULL and frees the rest. */
static void test_null_propagation(void)
{
    CU_ASSERT_PTR_NULL(MP_LIST(I(1), NULL, S("x")));
    CU_ASSERT_PTR_NULL(MP_LIST(NULL));
    CU_ASSERT_PTR_NULL(MP_TUPLE(S("a"), MP_LIST(S("b"), NULL), S("c")));
    CU_ASSERT_PTR_NULL(MP_DICT(S("a"), I(1), S("b"), NULL));
    CU_ASSERT_PTR_NULL(MP_DICT(NULL, I(1), S("b"), I(2)));
    CU_ASSERT_PTR_NULL(MP_LIST(MP_DICT(S("k"), MP_TUPLE(I(1), mp_obj_str("\xff"))),
                               MP_LIST(I(1), I(2))));
    CU_ASSERT_PTR_NULL(mp_obj_copy(NULL));
    MPT_EQ(mp_obj_dict_set(NULL, S("k"), S("v")), MP_EINVAL);
    mp_obj *d = mp_obj_dict(0);
    MPT_EQ(mp_obj_dict_set(d, NULL, S("v")), MP_EINVAL);
    MPT_EQ(mp_obj_dict_set(d, S("k"), NULL), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_obj_len(d), 0);
    mp_obj_free(d);
}

static void test_macros_32_items(void)
{
    mp_obj *o =
        MP_LIST(I(1), I(2), I(3), I(4), I(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12),
                I(13), I(14), I(15), I(16), I(17), I(18), I(19), I(20), I(21), I(22),
                I(23), I(24), I(25), I(26), I(27), I(28), I(29), I(30), I(31), I(32));
    CU_ASSERT_EQUAL(mp_obj_len(o), 32);
    mp_obj_free(o);
    o = MP_TUPLE(S("only"));
    CU_ASSERT_EQUAL(mp_obj_len(o), 1);
    mp_obj_free(o);
    o = MP_DICT(S("a"), I(1), S("b"), I(2), S("c"), I(3));
    CU_ASSERT_EQUAL(mp_obj_len(o), 3);
    mp_obj_free(o);
}

/* ---- equality ----------------------------------------------------------------- */

static void test_equal_numbers(void)
{
    CU_ASSERT(eq_free(mp_obj_bool(1), I(1)));
    CU_ASSERT(eq_free(mp_obj_bool(1), F(1.0)));
    CU_ASSERT(eq_free(I(1), F(1.0)));
    CU_ASSERT(eq_free(mp_obj_bool(0), I(0)));
    CU_ASSERT(eq_free(mp_obj_bool(0), F(-0.0)));
    CU_ASSERT(eq_free(F(0.0), F(-0.0)));
    CU_ASSERT(eq_free(F(0.5), F(0.5)));
    CU_ASSERT(!eq_free(mp_obj_bool(1), mp_obj_bool(0)));
    CU_ASSERT(!eq_free(I(2), mp_obj_bool(1)));
    CU_ASSERT(!eq_free(F(0.5), I(0)));
    CU_ASSERT(!eq_free(F(NAN), F(NAN)));
    CU_ASSERT(!eq_free(F(NAN), I(0)));
    CU_ASSERT(eq_free(F(INFINITY), F(INFINITY)));
    CU_ASSERT(!eq_free(F(INFINITY), I(INT64_MAX)));
    /* Exact int/float comparison: 2**53 + 1 != float(2**53). */
    CU_ASSERT(!eq_free(I(9007199254740993), F(9007199254740992.0)));
    CU_ASSERT(eq_free(I(9007199254740992), F(9007199254740992.0)));
    /* float(2**63) is not INT64_MAX (which rounds to it as a double). */
    CU_ASSERT(!eq_free(I(INT64_MAX), F(9223372036854775808.0)));
    CU_ASSERT(eq_free(I(INT64_MIN), F(-9223372036854775808.0)));
    CU_ASSERT(!eq_free(mp_obj_none(), I(0)));
    CU_ASSERT(eq_free(mp_obj_none(), mp_obj_none()));
    /* A NaN is not equal to itself at the top (x == x is False for nan). */
    mp_obj *nan = F(NAN);
    CU_ASSERT(!mp_obj_equal(nan, nan));
    mp_obj_free(nan);
    CU_ASSERT(!mp_obj_equal(NULL, NULL));
}

static void test_equal_containers(void)
{
    CU_ASSERT(eq_free(MP_LIST(I(1), S("a")), MP_LIST(F(1.0), S("a"))));
    CU_ASSERT(!eq_free(MP_LIST(I(1), S("a")), MP_TUPLE(I(1), S("a"))));
    CU_ASSERT(!eq_free(mp_obj_list(0), mp_obj_tuple(0)));
    CU_ASSERT(!eq_free(MP_LIST(I(1)), MP_LIST(I(1), I(2))));
    CU_ASSERT(!eq_free(S("abc"), mp_obj_bytes("abc", 3)));
    CU_ASSERT(eq_free(mp_obj_bytes("a\0c", 3), mp_obj_bytes("a\0c", 3)));
    CU_ASSERT(!eq_free(mp_obj_bytes("a\0c", 3), mp_obj_bytes("a\0d", 3)));
    CU_ASSERT(!eq_free(S("ab"), S("abc")));
    /* Dicts: order does not matter, values do. */
    CU_ASSERT(eq_free(MP_DICT(S("a"), I(1), S("b"), I(2)),
                      MP_DICT(S("b"), F(2.0), S("a"), mp_obj_bool(1))));
    CU_ASSERT(!eq_free(MP_DICT(S("a"), I(1), S("b"), I(2)),
                       MP_DICT(S("a"), I(1), S("b"), I(3))));
    CU_ASSERT(!eq_free(MP_DICT(S("a"), I(1)), MP_DICT(S("a"), I(1), S("b"), I(3))));
    CU_ASSERT(!eq_free(MP_DICT(S("a"), I(1)), MP_DICT(mp_obj_bytes("a", 1), I(1))));
    CU_ASSERT(eq_free(MP_DICT(I(1), S("x")), MP_DICT(F(1.0), S("x"))));
    /* Distinct NaN objects: [nan] != [nan]; the same list is equal to itself
     * (Python's identity shortcut for items). */
    CU_ASSERT(!eq_free(MP_LIST(F(NAN)), MP_LIST(F(NAN))));
    mp_obj *l = MP_LIST(F(NAN), MP_DICT(F(NAN), I(1)));
    CU_ASSERT(mp_obj_equal(l, l));
    mp_obj_free(l);
    /* Nested. */
    CU_ASSERT(eq_free(MP_LIST(MP_TUPLE(I(1), MP_DICT(S("k"), MP_LIST(mp_obj_none())))),
                      MP_LIST(MP_TUPLE(I(1), MP_DICT(S("k"), MP_LIST(mp_obj_none()))))));
    CU_ASSERT(!eq_free(MP_LIST(MP_TUPLE(I(1), MP_DICT(S("k"), MP_LIST(mp_obj_none())))),
                       MP_LIST(MP_TUPLE(I(1), MP_DICT(S("k"), MP_LIST(I(0)))))));
}

/* ---- dicts -------------------------------------------------------------------- */

static void test_dict_collisions(void)
{
    /* {1: 'a', 1.0: 'b', True: 'c'} == {1: 'c'}: the first key stays. */
    mp_obj *d = MP_DICT(I(1), S("a"), F(1.0), S("b"), mp_obj_bool(1), S("c"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(mp_obj_len(d), 1);
    CU_ASSERT_EQUAL(mp_obj_type_of(mp_obj_dict_key(d, 0)), MP_OBJ_INT);
    CU_ASSERT_STRING_EQUAL(mp_obj_str_data(mp_obj_dict_value(d, 0), NULL), "c");
    /* 0, 0.0, -0.0 and False are one key too; 'a' and b'a' are two. */
    MPT_OK(mp_obj_dict_set(d, F(-0.0), S("z")));
    MPT_OK(mp_obj_dict_set(d, mp_obj_bool(0), S("zz")));
    MPT_OK(mp_obj_dict_set(d, S("a"), I(1)));
    MPT_OK(mp_obj_dict_set(d, mp_obj_bytes("a", 1), I(2)));
    CU_ASSERT_EQUAL(mp_obj_len(d), 4);
    CU_ASSERT_EQUAL(mp_obj_type_of(mp_obj_dict_key(d, 1)), MP_OBJ_FLOAT);
    mp_obj *k = I(0);
    CU_ASSERT_STRING_EQUAL(mp_obj_str_data(mp_obj_dict_get(d, k), NULL), "zz");
    mp_obj_free(k);
    /* Tuples are keys by value: (1, 'x') and (1.0, 'x'). */
    MPT_OK(mp_obj_dict_set(d, MP_TUPLE(I(1), S("x")), I(10)));
    MPT_OK(mp_obj_dict_set(d, MP_TUPLE(F(1.0), S("x")), I(11)));
    CU_ASSERT_EQUAL(mp_obj_len(d), 5);
    /* Two NaN keys are two keys: nan != nan. */
    MPT_OK(mp_obj_dict_set(d, F(NAN), I(1)));
    MPT_OK(mp_obj_dict_set(d, F(NAN), I(2)));
    CU_ASSERT_EQUAL(mp_obj_len(d), 7);
    k = mp_obj_none();
    CU_ASSERT_PTR_NULL(mp_obj_dict_get(d, k));
    mp_obj_free(k);
    mp_obj_free(d);
}

static void test_dict_order_after_overwrite(void)
{
    mp_obj *d = MP_DICT(S("b"), I(1), S("a"), I(2), S("c"), I(3));
    MPT_OK(mp_obj_dict_set(d, S("b"), I(10)));
    MPT_OK(mp_obj_dict_set(d, S("d"), I(4)));
    MPT_OK(mp_obj_dict_set(d, S("a"), I(20)));
    static const char *const keys[] = {"b", "a", "c", "d"};
    static const int64_t vals[] = {10, 20, 3, 4};
    CU_ASSERT_EQUAL_FATAL(mp_obj_len(d), 4);
    for (size_t i = 0; i < 4; i++) {
        int64_t v = 0;
        CU_ASSERT_STRING_EQUAL(mp_obj_str_data(mp_obj_dict_key(d, i), NULL), keys[i]);
        MPT_OK(mp_obj_get_int(mp_obj_dict_value(d, i), &v));
        CU_ASSERT_EQUAL(v, vals[i]);
    }
    CU_ASSERT_PTR_NULL(mp_obj_dict_key(d, 4));
    CU_ASSERT_PTR_NULL(mp_obj_dict_value(d, 4));
    mp_obj_free(d);
}

static void test_dict_unhashable(void)
{
    mp_obj *d = mp_obj_dict(0);
    MPT_EQ(mp_obj_dict_set(d, mp_obj_list(0), I(1)), MP_EINVAL);
    CU_ASSERT(strstr(mp_last_error(), "unhashable type: 'list'") != NULL);
    MPT_EQ(mp_obj_dict_set(d, mp_obj_dict(0), I(1)), MP_EINVAL);
    CU_ASSERT(strstr(mp_last_error(), "'dict'") != NULL);
    MPT_EQ(mp_obj_dict_set(d, MP_TUPLE(I(1), MP_TUPLE(MP_LIST(I(2)))), I(1)), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_obj_len(d), 0);
    /* Every hashable kind works. */
    MPT_OK(mp_obj_dict_set(d, mp_obj_none(), I(1)));
    MPT_OK(mp_obj_dict_set(d, mp_obj_bool(1), I(2)));
    MPT_OK(mp_obj_dict_set(d, F(2.5), I(3)));
    MPT_OK(mp_obj_dict_set(d, mp_obj_bytes("", 0), I(4)));
    MPT_OK(mp_obj_dict_set(d, mp_obj_tuple(0), I(5)));
    MPT_OK(mp_obj_dict_set(d, MP_TUPLE(S("a"), MP_TUPLE(mp_obj_none())), I(6)));
    CU_ASSERT_EQUAL(mp_obj_len(d), 6);
    mp_obj_free(d);
    CU_ASSERT_PTR_NULL(MP_DICT(S("ok"), I(1), MP_LIST(I(1)), I(2)));
    CU_ASSERT_EQUAL(mp_obj__hashable(mp_obj_item(NULL, 0)), MP_EINVAL);
    mp_obj *l = mp_obj_list(0);
    CU_ASSERT_PTR_NULL(mp_obj_dict_get(d = mp_obj_dict(0), l));
    mp_obj_free(l);
    mp_obj_free(d);
}

/* The layer's monotonic clock: MinGW's C library has no clock_gettime. */
static double now(void)
{
    return (double)mp_os_now_ns() / 1e9;
}

static void test_dict_100000(void)
{
    enum { N = 100000 };
    double t0 = now();
    mp_obj *d = mp_obj_dict(0);
    for (int64_t i = 0; i < N; i++) {
        char key[32];
        snprintf(key, sizeof key, "key%lld", (long long)i);
        MPT_OK(mp_obj_dict_set(d, S(key), I(i)));
        MPT_OK(mp_obj_dict_set(d, I(i * 7919), I(-i)));
    }
    CU_ASSERT_EQUAL_FATAL(mp_obj_len(d), 2 * N);
    for (int64_t i = 0; i < N; i++) {
        char key[32];
        snprintf(key, sizeof key, "key%lld", (long long)i);
        mp_obj *k = S(key), *k2 = F((double)(i * 7919));
        int64_t v = -1, v2 = 1;
        CU_ASSERT_FATAL(mp_obj_get_int(mp_obj_dict_get(d, k), &v) == 0 && v == i);
        CU_ASSERT_FATAL(mp_obj_get_int(mp_obj_dict_get(d, k2), &v2) == 0 && v2 == -i);
        mp_obj_free(k);
        mp_obj_free(k2);
    }
    /* Insertion order: key0, 0, key1, 7919, ... */
    CU_ASSERT_STRING_EQUAL(mp_obj_str_data(mp_obj_dict_key(d, 2 * N - 2), NULL),
                           "key99999");
    mp_obj *c = mp_obj_copy(d);
    CU_ASSERT(mp_obj_equal(c, d));
    mp_obj *k = S("key5");
    MPT_OK(mp_obj_dict_set(c, S("key5"), I(0)));
    CU_ASSERT(!mp_obj_equal(c, d));
    CU_ASSERT_EQUAL(mp_obj_len(c), 2 * N);
    mp_obj_free(k);
    mp_obj_free(c);
    mp_obj_free(d);
    double dt = now() - t0;
    /* O(n^2) would take minutes; sanitizers and valgrind are slow, so the
     * bound is loose. */
    if (dt > 30) fprintf(stderr, "dict of %d items took %.1f s\n", 2 * N, dt);
    CU_ASSERT(dt < 60);
}

static void test_copy(void)
{
    mp_obj *o =
        MP_LIST(I(42), mp_obj_none(), S("h\xc3\xa9llo"), mp_obj_bytes("\0x", 2),
                MP_TUPLE(F(1.5), mp_obj_bool(0)),
                MP_DICT(S("k"), MP_LIST(I(1)), MP_TUPLE(I(1), I(2)), mp_obj_dict(0)));
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    mp_obj *c = mp_obj_copy(o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT(mp_obj_equal(o, c));
    CU_ASSERT_PTR_NOT_EQUAL(mp_obj_item(o, 5), mp_obj_item(c, 5));
    /* Changing the copy leaves the original alone. */
    MPT_OK(mp_obj_append(mp_obj_dict_value(mp_obj_item(c, 5), 0), I(2)));
    CU_ASSERT(!mp_obj_equal(o, c));
    CU_ASSERT_EQUAL(mp_obj_len(mp_obj_dict_value(mp_obj_item(o, 5), 0)), 1);
    /* The copy's dict still finds its keys. */
    mp_obj *k = MP_TUPLE(F(1.0), F(2.0));
    CU_ASSERT_PTR_NOT_NULL(mp_obj_dict_get(mp_obj_item(c, 5), k));
    mp_obj_free(k);
    mp_obj_free(c);
    mp_obj_free(o);
}

/* Nested n lists deep: [[[...]]]. */
static mp_obj *nested(size_t n)
{
    mp_obj *o = mp_obj_list(0);
    for (size_t i = 1; i < n && o; i++)
        o = MP_LIST(o);
    return o;
}

static void test_depth_limits(void)
{
    mp_obj *ok = nested(MP_OBJ_MAX_DEPTH), *deep = nested(MP_OBJ_MAX_DEPTH + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ok);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
    mp_obj *c = mp_obj_copy(ok);
    CU_ASSERT_PTR_NOT_NULL(c);
    CU_ASSERT(mp_obj_equal(ok, c));
    mp_obj_free(c);
    CU_ASSERT_PTR_NULL(mp_obj_copy(deep));
    char *s = NULL;
    MPT_OK(mp_obj_repr(ok, &s));
    CU_ASSERT_EQUAL(strlen(s), 2 * MP_OBJ_MAX_DEPTH);
    mp_free(s);
    s = NULL;
    MPT_EQ(mp_obj_repr(deep, &s), MP_ETOOBIG);
    CU_ASSERT_PTR_NULL(s);
    mp_obj_free(ok);
    mp_obj_free(deep);

    /* Freeing needs no recursion: a million levels, built with append. */
    mp_obj *top = mp_obj_list(0), *cur = top;
    for (int i = 0; i < 1000000; i++) {
        mp_obj *next = mp_obj_tuple(0);
        MPT_OK(mp_obj_append(cur, next));
        cur = next;
    }
    mp_obj *d = mp_obj_dict(0);
    MPT_OK(mp_obj_dict_set(d, S("deep"), top));
    mp_obj_free(d);

    /* A key tuple nested too deep is refused, not a stack overflow. */
    mp_obj *key = mp_obj_tuple(0);
    for (int i = 0; i < MP_OBJ_MAX_DEPTH + 5 && key; i++)
        key = MP_TUPLE(key);
    d = mp_obj_dict(0);
    MPT_EQ(mp_obj_dict_set(d, key, I(1)), MP_ETOOBIG);
    mp_obj_free(d);
}

/* A container put into itself is refused and left as it was (freeing the
 * item would free the container under the caller). */
static void test_self_insertion_refused(void)
{
    mp_obj *l = MP_LIST(I(1));
    MPT_EQ(mp_obj_append(l, l), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_obj_len(l), 1);
    mp_obj_free(l);
    mp_obj *d = mp_obj_dict(0);
    MPT_EQ(mp_obj_dict_set(d, S("k"), d), MP_EINVAL); /* frees the key */
    MPT_EQ(mp_obj_dict_set(d, d, I(1)), MP_EINVAL);
    MPT_EQ(mp_obj_dict_set(d, d, d), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_obj_len(d), 0);
    mp_obj_free(d);
}

static void test_type_names(void)
{
    static const char *const names[] = {"NoneType", "bool", "int",   "float", "str",
                                        "bytes",    "list", "tuple", "dict"};
    mp_obj *o =
        MP_LIST(mp_obj_none(), mp_obj_bool(0), I(0), F(0), S(""), mp_obj_bytes("", 0),
                mp_obj_list(0), mp_obj_tuple(0), mp_obj_dict(0));
    CU_ASSERT_EQUAL_FATAL(mp_obj_len(o), 9);
    for (size_t i = 0; i < 9; i++) {
        CU_ASSERT_STRING_EQUAL(mp_obj_type_name(mp_obj_item(o, i)), names[i]);
        CU_ASSERT_EQUAL((size_t)mp_obj_type_of(mp_obj_item(o, i)), i);
    }
    CU_ASSERT_STRING_EQUAL(mp_obj_type_name(NULL), "NULL");
    mp_obj_free(o);
}

static void test_accessors_wrong_types(void)
{
    double d = 0;
    int64_t i = 0;
    int b = 0;
    mp_obj *t = mp_obj_bool(1), *s = S("x");
    MPT_OK(mp_obj_get_float(t, &d));
    CU_ASSERT_EQUAL(d, 1.0);
    MPT_EQ(mp_obj_get_float(s, &d), MP_EINVAL);
    MPT_EQ(mp_obj_get_int(s, &i), MP_EINVAL);
    MPT_EQ(mp_obj_get_bool(s, &b), MP_EINVAL);
    MPT_EQ(mp_obj_get_int(t, NULL), MP_EINVAL);
    MPT_EQ(mp_obj_get_int(NULL, &i), MP_EINVAL);
    CU_ASSERT_PTR_NULL(mp_obj_bytes_data(s, NULL));
    CU_ASSERT_PTR_NULL(mp_obj_str_data(NULL, NULL));
    CU_ASSERT_PTR_NULL(mp_obj_dict_key(s, 0));
    CU_ASSERT_PTR_NULL(mp_obj_dict_get(s, s));
    CU_ASSERT_EQUAL(mp_obj_len(t), 0);
    CU_ASSERT_EQUAL(mp_obj_len(NULL), 0);
    mp_obj_free(t);
    mp_obj_free(s);
}

/* Lookups find keys equal under Python's rules, before and after the dict
 * grows an index. */
static void test_dict_get_across_types(void)
{
    mp_obj *d = mp_obj_dict(0);
    for (int64_t n = 0; n < 40; n++) {
        MPT_OK(mp_obj_dict_set(d, I(n), I(n * 10)));
        for (int64_t k = 0; k <= n; k++) {
            mp_obj *f = F((double)k);
            int64_t v = -1;
            CU_ASSERT_FATAL(mp_obj_get_int(mp_obj_dict_get(d, f), &v) == 0 &&
                            v == k * 10);
            mp_obj_free(f);
        }
        mp_obj *missing = F((double)n + 0.5);
        CU_ASSERT_PTR_NULL(mp_obj_dict_get(d, missing));
        mp_obj_free(missing);
    }
    mp_obj *t = mp_obj_bool(1), *big = F(9007199254740992.0), *huge = F(1e300);
    CU_ASSERT_PTR_NOT_NULL(mp_obj_dict_get(d, t));
    MPT_OK(mp_obj_dict_set(d, I(9007199254740992), S("2**53")));
    CU_ASSERT_STRING_EQUAL(mp_obj_str_data(mp_obj_dict_get(d, big), NULL), "2**53");
    CU_ASSERT_PTR_NULL(mp_obj_dict_get(d, huge));
    MPT_OK(mp_obj_dict_set(d, F(1e300), S("big")));
    CU_ASSERT_STRING_EQUAL(mp_obj_str_data(mp_obj_dict_get(d, huge), NULL), "big");
    mp_obj *l = mp_obj_list(0);
    CU_ASSERT_PTR_NULL(mp_obj_dict_get(d, l));
    CU_ASSERT_PTR_NULL(mp_obj_dict_get(d, NULL));
    CU_ASSERT_EQUAL(mp_obj_len(d), 42);
    mp_obj_free(l);
    mp_obj_free(t);
    mp_obj_free(big);
    mp_obj_free(huge);
    mp_obj_free(d);
}

static void test_internal_builders(void)
{
    mp_obj *l = mp_obj__new_list(100);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL(mp_obj_len(l), 0);
    for (int k = 0; k < 150; k++)
        MPT_OK(mp_obj_append(l, I(k)));
    CU_ASSERT_EQUAL(mp_obj_len(l), 150);
    mp_obj_free(l);

    mp_obj *d = mp_obj__new_dict(50);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    for (int k = 0; k < 60; k++)
        MPT_OK(mp_obj_dict_set(d, I(k % 30), I(k)));
    CU_ASSERT_EQUAL(mp_obj_len(d), 30);
    mp_obj_free(d);

    mp_obj *items[3] = {I(1), S("two"), mp_obj_list(0)};
    mp_obj *t = mp_obj__tuple_take(items, 3);
    CU_ASSERT(eq_free(t, MP_TUPLE(I(1), S("two"), mp_obj_list(0))));
    t = mp_obj__tuple_take(NULL, 0);
    CU_ASSERT(eq_free(t, mp_obj_tuple(0)));
    t = mp_obj__new_tuple(4);
    MPT_OK(mp_obj_append(t, I(7)));
    REPR_IS(t, "(7,)");
    size_t ncp = 0;
    MPT_OK(mp_obj__utf8_check("a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", 10, &ncp));
    CU_ASSERT_EQUAL(ncp, 4);
    mp_obj *key = MP_TUPLE(I(1), MP_TUPLE(S("x"), mp_obj_none()));
    MPT_OK(mp_obj__hashable(key));
    MPT_OK(mp_obj_append(key, mp_obj_dict(0)));
    MPT_EQ(mp_obj__hashable(key), MP_EINVAL);
    mp_obj_free(key);
}

static void test_copy_every_kind(void)
{
    mp_obj *o[] = {mp_obj_none(),
                   mp_obj_bool(1),
                   I(-3),
                   F(NAN),
                   F(2.5),
                   S("h\xc3\xa9"),
                   mp_obj_bytes("a\0b", 3),
                   mp_obj_list(0),
                   mp_obj_tuple(0),
                   mp_obj_dict(0)};
    for (size_t i = 0; i < sizeof o / sizeof o[0]; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(o[i]);
        mp_obj *c = mp_obj_copy(o[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_EQUAL(mp_obj_type_of(c), mp_obj_type_of(o[i]));
        CU_ASSERT_EQUAL(mp_obj_len(c), mp_obj_len(o[i]));
        /* Equal, except the NaN (a distinct object: nan != nan). */
        CU_ASSERT_EQUAL(mp_obj_equal(c, o[i]), i != 3);
        char *a = NULL, *b = NULL;
        MPT_OK(mp_obj_repr(c, &a));
        MPT_OK(mp_obj_repr(o[i], &b));
        CU_ASSERT_STRING_EQUAL(a, b);
        mp_free(a);
        mp_free(b);
        mp_obj_free(c);
        mp_obj_free(o[i]);
    }
}

/* Every scalar value's UTF-8 is accepted; every surrogate's is refused. */
static void test_utf8_every_code_point(void)
{
    char buf[4];
    size_t bad = 0;
    for (uint32_t c = 0; c < 0x110000; c++) {
        size_t n = put_utf8(buf, c), ncp = 0;
        int rc = mp_obj__utf8_check(buf, n, &ncp);
        int want = c >= 0xD800 && c <= 0xDFFF ? MP_EINVAL : 0;
        if (rc != want || (rc == 0 && ncp != 1)) bad++;
        /* Every proper prefix is a truncated sequence. */
        for (size_t k = 1; k < n && want == 0; k++)
            if (mp_obj__utf8_check(buf, k, NULL) != MP_EINVAL) bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_equal_strings(void)
{
    CU_ASSERT(!eq_free(mp_obj_strn("a\0b", 3), mp_obj_strn("a\0c", 3)));
    CU_ASSERT(eq_free(mp_obj_strn("a\0b", 3), mp_obj_strn("a\0b", 3)));
    CU_ASSERT(!eq_free(mp_obj_strn("a\0b", 3), S("a")));
    CU_ASSERT(eq_free(S("\xc3\xa9"), S("\xc3\xa9")));
    CU_ASSERT(!eq_free(S(""), mp_obj_bytes("", 0)));
    CU_ASSERT(!eq_free(S(""), mp_obj_none()));
    CU_ASSERT(!eq_free(MP_TUPLE(S("a")), MP_TUPLE(mp_obj_bytes("a", 1))));
}

static void test_repr_dict_key_kinds(void)
{
    REPR_IS(MP_DICT(mp_obj_none(), I(1), mp_obj_bool(1), I(2), F(2.5), I(3),
                    mp_obj_bytes("x", 1), I(4), MP_TUPLE(I(1)), I(5), S("s"), I(6)),
            "{None: 1, True: 2, 2.5: 3, b'x': 4, (1,): 5, 's': 6}");
    /* The first key object stays: True, not 1. */
    REPR_IS(MP_DICT(mp_obj_bool(1), S("a"), I(1), S("b")), "{True: 'b'}");
    REPR_IS(MP_LIST(mp_obj_bool(1), I(1), F(1)), "[True, 1, 1.0]");
}

static void test_repr_long(void)
{
    mp_obj *l = mp_obj_list(0);
    mp_buf want;
    mp_buf_init(&want);
    mp_buf_u8(&want, '[');
    for (int k = 0; k < 20000; k++) {
        char tmp[32];
        int n = snprintf(tmp, sizeof tmp, "%s%d", k ? ", " : "", k * 3 - 7);
        mp_buf_put(&want, tmp, (size_t)n);
        MPT_OK(mp_obj_append(l, I(k * 3 - 7)));
    }
    mp_buf_put(&want, "]", 2);
    CU_ASSERT_FATAL(!want.failed);
    REPR_IS(l, (const char *)want.data);
    mp_buf_free(&want);
}

/* Dict equality ignores order, also for indexed dicts with tuple keys. */
static void test_dict_equal_any_order(void)
{
    mp_obj *a = mp_obj_dict(0), *b = mp_obj_dict(0);
    for (int64_t k = 0; k < 1000; k++) {
        MPT_OK(mp_obj_dict_set(a, MP_TUPLE(I(k), S("k")), mp_obj_bytes(&k, sizeof k)));
        int64_t r = 999 - k;
        MPT_OK(mp_obj_dict_set(b, MP_TUPLE(F((double)r), S("k")),
                               mp_obj_bytes(&r, sizeof r)));
    }
    CU_ASSERT(mp_obj_equal(a, b));
    CU_ASSERT(mp_obj_equal(b, a));
    int64_t x = -1;
    MPT_OK(mp_obj_dict_set(b, MP_TUPLE(I(500), S("k")), mp_obj_bytes(&x, sizeof x)));
    CU_ASSERT_EQUAL(mp_obj_len(b), 1000);
    CU_ASSERT(!mp_obj_equal(a, b));
    mp_obj_free(a);
    mp_obj_free(b);
}

static void test_utf8_error_detail(void)
{
    CU_ASSERT_PTR_NULL(mp_obj_str("abc\xed\xa0\x80"));
    CU_ASSERT(strstr(mp_last_error(), "offset 4") != NULL);
    CU_ASSERT_PTR_NULL(mp_obj_str("ab\xc3"));
    CU_ASSERT(strstr(mp_last_error(), "truncated sequence at offset 2") != NULL);
    CU_ASSERT_PTR_NULL(mp_obj_str("\xc0\xaf"));
    CU_ASSERT(strstr(mp_last_error(), "0xc0 at offset 0") != NULL);
}

/* ---- repr ------------------------------------------------------------------ */

static void test_repr_scalars(void)
{
    REPR_IS(mp_obj_none(), "None");
    REPR_IS(mp_obj_bool(1), "True");
    REPR_IS(mp_obj_bool(0), "False");
    REPR_IS(I(0), "0");
    REPR_IS(I(-5), "-5");
    REPR_IS(I(INT64_MIN), "-9223372036854775808");
    REPR_IS(I(INT64_MAX), "9223372036854775807");
}

static void test_repr_floats(void)
{
    REPR_IS(F(3.1415927), "3.1415927");
    REPR_IS(F(1e16), "1e+16");
    REPR_IS(F(1e15), "1000000000000000.0");
    REPR_IS(F(1.0), "1.0");
    REPR_IS(F(0.1), "0.1");
    REPR_IS(F(1e-5), "1e-05");
    REPR_IS(F(-0.0), "-0.0");
    REPR_IS(F(INFINITY), "inf");
    REPR_IS(F(-INFINITY), "-inf");
    REPR_IS(F(NAN), "nan");
    REPR_IS(MP_LIST(F(2.5), F(-1e300)), "[2.5, -1e+300]");
}

static void test_repr_quotes(void)
{
    REPR_IS(S(""), "''");
    REPR_IS(S("hello"), "'hello'");
    REPR_IS(S("it's"), "\"it's\"");
    REPR_IS(S("say \"hi\""), "'say \"hi\"'");
    /* Both quotes: Python keeps single quotes and escapes '. */
    REPR_IS(S("it's \"x\""), "'it\\'s \"x\"'");
    REPR_IS(S("a\\b"), "'a\\\\b'");
    REPR_IS(S("\\'"), "\"\\\\'\"");
}

static void test_repr_controls(void)
{
    REPR_IS(S("\t\n\r"), "'\\t\\n\\r'");
    REPR_IS(mp_obj_strn("\0\x01\x1b\x1f", 4), "'\\x00\\x01\\x1b\\x1f'");
    REPR_IS(S("\x7f"), "'\\x7f'");
    REPR_IS(S(" ~"), "' ~'");
    REPR_IS(S("\xc2\x80\xc2\x85\xc2\x9f"), "'\\x80\\x85\\x9f'"); /* C1 controls */
}

static void test_repr_unicode(void)
{
    REPR_IS(S("\xc2\xa0"), "'\\xa0'");                          /* NBSP: Zs */
    REPR_IS(S("\xc2\xad"), "'\\xad'");                          /* soft hyphen: Cf */
    REPR_IS(S("\xc3\xa9t\xc3\xa9"), "'\xc3\xa9t\xc3\xa9'");     /* été */
    REPR_IS(S("\xe2\x80\xa8\xe2\x80\xa9"), "'\\u2028\\u2029'"); /* Zl, Zp */
    REPR_IS(S("\xe2\x80\x8b"), "'\\u200b'");                    /* ZWSP: Cf */
    REPR_IS(S("\xe3\x80\x80"), "'\\u3000'"); /* ideographic space: Zs */
    REPR_IS(S("\xef\xbb\xbf"), "'\\ufeff'"); /* BOM: Cf */
    REPR_IS(S("\xe4\xb8\xad\xe6\x96\x87"), "'\xe4\xb8\xad\xe6\x96\x87'"); /* 中文 */
    REPR_IS(S("\xf0\x9f\x98\x80"), "'\xf0\x9f\x98\x80'");                 /* U+1F600 */
    REPR_IS(S("\xee\x80\x80"), "'\\ue000'");         /* private use: Co */
    REPR_IS(S("\xf3\xb0\x80\x80"), "'\\U000f0000'"); /* plane 15: Co */
    REPR_IS(S("\xcd\xb8"), "'\\u0378'");             /* unassigned: Cn */
    REPR_IS(S("\xef\xbf\xbf"), "'\\uffff'");         /* noncharacter */
    REPR_IS(S("\xf4\x8f\xbf\xbf"), "'\\U0010ffff'");
    REPR_IS(S("\xf0\x9d\x85\xb3"), "'\\U0001d173'");      /* musical symbol: Cf */
    REPR_IS(S("\xf0\x90\x80\x80"), "'\xf0\x90\x80\x80'"); /* U+10000, printable */
    /* The table's edges. */
    CU_ASSERT_EQUAL(mp_unicode_printable(0x20), 1);
    CU_ASSERT_EQUAL(mp_unicode_printable(0x1F), 0);
    CU_ASSERT_EQUAL(mp_unicode_printable(0xD800), 0);
    CU_ASSERT_EQUAL(mp_unicode_printable(0x10FFFF), 0);
    CU_ASSERT_EQUAL(mp_unicode_printable(0x110000), 0);
    CU_ASSERT_EQUAL(mp_unicode_printable(0x4E2D), 1);
    CU_ASSERT(strlen(mp_unicode_version) >= 5);
    for (size_t i = 1; i < mp_unicode_printable_nruns; i++)
        CU_ASSERT(mp_unicode_printable_runs[i][0] >
                  mp_unicode_printable_runs[i - 1][1] + 1);
}

static void test_repr_bytes(void)
{
    REPR_IS(mp_obj_bytes("", 0), "b''");
    REPR_IS(mp_obj_bytes("\0\xff\t\\a", 5), "b'\\x00\\xff\\t\\\\a'");
    REPR_IS(mp_obj_bytes("it's", 4), "b\"it's\"");
    REPR_IS(mp_obj_bytes("thank you", 9), "b'thank you'");
}

static void test_repr_containers(void)
{
    REPR_IS(mp_obj_list(0), "[]");
    REPR_IS(mp_obj_tuple(0), "()");
    REPR_IS(mp_obj_dict(0), "{}");
    REPR_IS(MP_TUPLE(I(1)), "(1,)");
    REPR_IS(MP_TUPLE(I(1), I(2)), "(1, 2)");
    REPR_IS(MP_LIST(I(42), mp_obj_none(), S("hello")), "[42, None, 'hello']");
    REPR_IS(MP_LIST(I(1), S("hello"), mp_obj_none()), "[1, 'hello', None]");
    REPR_IS(MP_DICT(S("b"), I(1), S("a"), MP_LIST(MP_TUPLE(mp_obj_tuple(0)))),
            "{'b': 1, 'a': [((),)]}");
    REPR_IS(MP_DICT(I(1), S("x"), F(1.0), S("y")), "{1: 'y'}");
    REPR_IS(MP_DICT(MP_TUPLE(I(1), mp_obj_bytes("k", 1)), mp_obj_dict(0)),
            "{(1, b'k'): {}}");
    REPR_IS(MP_LIST(MP_LIST(MP_LIST(mp_obj_list(0)))), "[[[[]]]]");
    char *s = (char *)"x";
    MPT_EQ(mp_obj_repr(NULL, &s), MP_EINVAL);
    CU_ASSERT_PTR_NULL(s);
}

static void test_print(void)
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(tmp);
    int saved = dup(1);
    CU_ASSERT_FATAL(saved >= 0);
    dup2(fileno(tmp), 1);
    mp_obj *o = MP_LIST(I(42), mp_obj_none(), S("hello"));
    int rc = mp_obj_print(o);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    mp_obj_free(o);
    MPT_OK(rc);
    char line[64] = {0};
    rewind(tmp);
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, tmp));
    CU_ASSERT_STRING_EQUAL(line, "[42, None, 'hello']\n");
    fclose(tmp);
    MPT_EQ(mp_obj_print(NULL), MP_EINVAL);
}

#ifndef _WIN32 /* MPT_NO_PYTHON */

/* ---- against python3 ---------------------------------------------------------- */

static const char *python_path(void)
{
    const char *p = getenv("MPT_PYTHON");
    return p && *p ? p : "python3";
}

static int write_temp(char *path, const char *text)
{
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    size_t n = strlen(text), off = 0;
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

/* Runs python3 on script with input on stdin; returns what it printed
 * (NUL-terminated, the caller frees) or NULL, having failed the test. */
static char *py_run(const char *script, const char *input)
{
    char sp[] = "/tmp/mpt_obj_py_XXXXXX", ip[] = "/tmp/mpt_obj_in_XXXXXX";
    char *out = NULL;
    size_t len = 0, cap = 0;
    if (write_temp(sp, script) < 0 || write_temp(ip, input) < 0) {
        CU_FAIL("cannot write temporary files");
        goto done;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s' < '%s'", python_path(), sp, ip);
    FILE *f = popen(cmd, "r");
    if (!f) {
        CU_FAIL("popen python3");
        goto done;
    }
    for (;;) {
        if (cap - len < 4096) {
            char *n = realloc(out, cap = cap * 2 + 65536);
            if (!n) break;
            out = n;
        }
        size_t r = fread(out + len, 1, cap - len - 1, f);
        if (r == 0) break;
        len += r;
    }
    if (out) out[len] = '\0';
    int st = pclose(f);
    if (st != 0) {
        fprintf(stderr,
                "obj suite: %s failed (status %d); install python3 or set "
                "MPT_PYTHON\n",
                python_path(), st);
        CU_FAIL("python3 failed");
        free(out);
        out = NULL;
    }
done:
    unlink(sp);
    unlink(ip);
    return out;
}

/* ''.join(map(chr, range(a, b))), surrogates left out. */
static mp_obj *str_range(uint32_t a, uint32_t b)
{
    char *buf = malloc((size_t)(b - a) * 4 + 1);
    size_t n = 0;
    if (!buf) return NULL;
    for (uint32_t c = a; c < b; c++)
        if (c < 0xD800 || c > 0xDFFF) n += put_utf8(buf + n, c);
    mp_obj *o = mp_obj_strn(buf, n);
    free(buf);
    return o;
}

/* {'nested': [{'a': ({'b': [(None,)]},)}], '': b''} */
static mp_obj *nested_value(void)
{
    mp_obj *inner = MP_DICT(S("b"), MP_LIST(MP_TUPLE(mp_obj_none())));
    mp_obj *mid = MP_LIST(MP_DICT(S("a"), MP_TUPLE(inner)));
    return MP_DICT(S("nested"), mid, S(""), mp_obj_bytes("", 0));
}

/* The same value in Python (an expression, ASCII only) and in C. The
 * characters are ones every Python 3.8+ classifies alike. */
#define PY_CASES(X)                                                                      \
    X("None", mp_obj_none())                                                             \
    X("[42, None, 'hello']", MP_LIST(I(42), mp_obj_none(), S("hello")))                  \
    X("(1,)", MP_TUPLE(I(1)))                                                            \
    X("((), [], {})", MP_TUPLE(mp_obj_tuple(0), mp_obj_list(0), mp_obj_dict(0)))         \
    X("{1: 'a', 1.0: 'b', True: 'c', 'k': (1.5, -0.0)}",                                 \
      MP_DICT(I(1), S("a"), F(1.0), S("b"), mp_obj_bool(1), S("c"), S("k"),              \
              MP_TUPLE(F(1.5), F(-0.0))))                                                \
    X("[float('inf'), float('-inf'), float('nan'), 1e16, 1e-5, 3.1415927, 0.1+0.2]",     \
      MP_LIST(F(INFINITY), F(-INFINITY), F(NAN), F(1e16), F(1e-5), F(3.1415927),         \
              F(0.1 + 0.2)))                                                             \
    X("[2**63-1, -2**63, True, False, 5e-324, 1.7976931348623157e308]",                  \
      MP_LIST(I(INT64_MAX), I(INT64_MIN), mp_obj_bool(1), mp_obj_bool(0),                \
              F(4.9406564584124654e-324), F(1.7976931348623157e308)))                    \
    X("\"it's\"", S("it's"))                                                             \
    X("'say \"hi\"'", S("say \"hi\""))                                                   \
    X("'it\\'s \"both\"'", S("it's \"both\""))                                           \
    X("'back\\\\slash \\t\\n\\r\\x00\\x7f'",                                             \
      mp_obj_strn("back\\slash \t\n\r\0\x7f", 16))                                       \
    X("'\\xa0\\xad\\u2028\\u2029\\u200b\\ufeff\\u3000'",                                 \
      S("\xc2\xa0\xc2\xad\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\x8b\xef\xbb\xbf\xe3\x80\x80")) \
    X("'\\u4e2d\\u6587 \\U0001f600 \\ue000 \\U000f0000 \\u0378 \\U0010ffff'",            \
      S("\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 \xee\x80\x80 \xf3\xb0\x80\x80 "       \
        "\xcd\xb8 \xf4\x8f\xbf\xbf"))                                                    \
    X("b'\\x00it\\'s\\xff'", mp_obj_bytes("\0it's\xff", 6))                              \
    X("[b'\"', b\"'\", b'\\'\"']",                                                       \
      MP_LIST(mp_obj_bytes("\"", 1), mp_obj_bytes("'", 1), mp_obj_bytes("'\"", 2)))      \
    X("''.join(map(chr, range(0x300)))", str_range(0, 0x300))                            \
    X("''.join(map(chr, range(0x2000, 0x2070)))", str_range(0x2000, 0x2070))             \
    X("''.join(map(chr, range(0xfff0, 0x10000)))", str_range(0xfff0, 0x10000))           \
    X("{'nested': [{'a': ({'b': [(None,)]},)}], '': b''}", nested_value())

static void test_repr_matches_python(void)
{
    static const char script[] =
        "import sys\n"
        "for line in sys.stdin.buffer:\n"
        "    v = eval(line.decode('ascii'))\n"
        "    sys.stdout.buffer.write(repr(v).encode('utf-8') + b'\\n')\n";
    static const char *const exprs[] = {
#define PY_EXPR(py, c) py,
        PY_CASES(PY_EXPR)
#undef PY_EXPR
    };
    size_t n = sizeof exprs / sizeof exprs[0];
    mp_buf in;
    mp_buf_init(&in);
    for (size_t i = 0; i < n; i++) {
        mp_buf_put(&in, exprs[i], strlen(exprs[i]));
        mp_buf_u8(&in, '\n');
    }
    mp_buf_u8(&in, '\0');
    CU_ASSERT_FATAL(!in.failed);
    char *out = py_run(script, (const char *)in.data);
    mp_buf_free(&in);
    if (!out) return;
    char *line = out;
    size_t i = 0;
#define PY_CHECK(py, c)                                                                  \
    do {                                                                                 \
        char *nl = strchr(line, '\n');                                                   \
        CU_ASSERT_PTR_NOT_NULL_FATAL(nl);                                                \
        *nl = '\0';                                                                      \
        char *mine = repr_of(c);                                                         \
        if (strcmp(mine, line) != 0)                                                     \
            fprintf(stderr, "repr of %s\n  C:      %s\n  Python: %s\n", py, mine, line); \
        CU_ASSERT_STRING_EQUAL(mine, line);                                              \
        mp_free(mine);                                                                   \
        line = nl + 1;                                                                   \
        i++;                                                                             \
    } while (0);
    PY_CASES(PY_CHECK)
#undef PY_CHECK
    CU_ASSERT_EQUAL(i, n);
    free(out);
}

static int parse_version(const char *s, int v[3])
{
    v[0] = v[1] = v[2] = 0;
    return sscanf(s, "%d.%d.%d", &v[0], &v[1], &v[2]) >= 2;
}

/* The generated table against the python3 that runs the tests: every run's
 * edges and a stride through all planes. If that Python has another
 * Unicode version, code points assigned in one and not the other may
 * differ and are skipped (and counted). */
static void test_unicode_table_matches_python(void)
{
    static const char script[] =
        "import sys, unicodedata\n"
        "out = [unicodedata.unidata_version]\n"
        "for line in sys.stdin:\n"
        "    cp = int(line)\n"
        "    ch = chr(cp)\n"
        "    out.append('%d %d %s' % (cp, ch.isprintable(), unicodedata.category(ch)))\n"
        "print('\\n'.join(out))\n";
    mp_buf in;
    mp_buf_init(&in);
    size_t asked = 0;
    char num[16];
#define ASK(cp)                                                                          \
    do {                                                                                 \
        int k_ = snprintf(num, sizeof num, "%lu\n", (unsigned long)(cp));                \
        mp_buf_put(&in, num, (size_t)k_);                                                \
        asked++;                                                                         \
    } while (0)
    for (size_t r = 0; r < mp_unicode_printable_nruns; r++) {
        uint32_t a = mp_unicode_printable_runs[r][0], b = mp_unicode_printable_runs[r][1];
        if (a > 0) ASK(a - 1);
        ASK(a);
        ASK(b);
        if (b < 0x10FFFF) ASK(b + 1);
    }
    for (uint32_t cp = 0; cp < 0x110000; cp += 211)
        ASK(cp);
#undef ASK
    mp_buf_u8(&in, '\0');
    CU_ASSERT_FATAL(!in.failed);
    char *out = py_run(script, (const char *)in.data);
    mp_buf_free(&in);
    if (!out) return;

    char *save = NULL, *line = strtok_r(out, "\n", &save);
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    int pv[3], tv[3];
    CU_ASSERT_FATAL(parse_version(line, pv) && parse_version(mp_unicode_version, tv));
    int same = strcmp(line, mp_unicode_version) == 0;
    int py_newer = memcmp(pv, tv, sizeof pv) > 0 && (pv[0] != tv[0]   ? pv[0] > tv[0]
                                                     : pv[1] != tv[1] ? pv[1] > tv[1]
                                                                      : pv[2] > tv[2]);
    size_t seen = 0, skipped = 0, bad = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        unsigned long cp = 0;
        int pyp = 0;
        char cat[8] = "";
        if (sscanf(line, "%lu %d %7s", &cp, &pyp, cat) != 3) {
            CU_FAIL("unreadable line from python3");
            break;
        }
        seen++;
        int mine = mp_unicode_printable((uint32_t)cp);
        if (mine == pyp) continue;
        /* Assigned in the newer database only. */
        if (!same && ((!py_newer && strcmp(cat, "Cn") == 0) || (py_newer && !mine))) {
            skipped++;
            continue;
        }
        if (bad++ < 10)
            fprintf(stderr, "U+%04lX: table says %d, Python %d (%s)\n", cp, mine, pyp,
                    cat);
    }
    CU_ASSERT_EQUAL(seen, asked);
    CU_ASSERT_EQUAL(bad, 0);
    if (!same)
        fprintf(stderr,
                "obj suite: table is Unicode %s, python3 has %d.%d.%d; %zu of %zu code "
                "points assigned in one only were skipped\n",
                mp_unicode_version, pv[0], pv[1], pv[2], skipped, seen);
    free(out);
}

#endif

void mpt_suite_obj(void)
{
    mpt_add("obj", "scalars", test_scalars);
    mpt_add("obj", "str_bytes", test_str_bytes);
    mpt_add("obj", "str_len_code_points", test_str_len_code_points);
    mpt_add("obj", "invalid_utf8", test_invalid_utf8);
    mpt_add("obj", "containers", test_containers);
    mpt_add("obj", "null_propagation", test_null_propagation);
    mpt_add("obj", "macros_32_items", test_macros_32_items);
    mpt_add("obj", "equal_numbers", test_equal_numbers);
    mpt_add("obj", "equal_containers", test_equal_containers);
    mpt_add("obj", "dict_collisions", test_dict_collisions);
    mpt_add("obj", "dict_order_after_overwrite", test_dict_order_after_overwrite);
    mpt_add("obj", "dict_unhashable", test_dict_unhashable);
    mpt_add("obj", "dict_100000", test_dict_100000);
    mpt_add("obj", "copy", test_copy);
    mpt_add("obj", "depth_limits", test_depth_limits);
    mpt_add("obj", "self_insertion_refused", test_self_insertion_refused);
    mpt_add("obj", "type_names", test_type_names);
    mpt_add("obj", "accessors_wrong_types", test_accessors_wrong_types);
    mpt_add("obj", "dict_get_across_types", test_dict_get_across_types);
    mpt_add("obj", "internal_builders", test_internal_builders);
    mpt_add("obj", "copy_every_kind", test_copy_every_kind);
    mpt_add("obj", "utf8_every_code_point", test_utf8_every_code_point);
    mpt_add("obj", "equal_strings", test_equal_strings);
    mpt_add("obj", "repr_dict_key_kinds", test_repr_dict_key_kinds);
    mpt_add("obj", "repr_long", test_repr_long);
    mpt_add("obj", "dict_equal_any_order", test_dict_equal_any_order);
    mpt_add("obj", "utf8_error_detail", test_utf8_error_detail);
    mpt_add("obj", "repr_scalars", test_repr_scalars);
    mpt_add("obj", "repr_floats", test_repr_floats);
    mpt_add("obj", "repr_quotes", test_repr_quotes);
    mpt_add("obj", "repr_controls", test_repr_controls);
    mpt_add("obj", "repr_unicode", test_repr_unicode);
    mpt_add("obj", "repr_bytes", test_repr_bytes);
    mpt_add("obj", "repr_containers", test_repr_containers);
    mpt_add("obj", "print", test_print);
    MPT_POSIX_ONLY("obj", "repr_matches_python", test_repr_matches_python, MPT_NO_PYTHON);
    MPT_POSIX_ONLY("obj", "unicode_table_matches_python",
                   test_unicode_table_matches_python, MPT_NO_PYTHON);
}
