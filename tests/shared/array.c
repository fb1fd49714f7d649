/* shared/array.c - Array: construction, element and slice access with every
 * bound checked, pointer access under the lock, reprs, and children of
 * both start methods changing an array the parent then reads. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static char *arepr(mp_array *a)
{
    static char buf[512];
    char *s = NULL;
    MPT_OK(mp_array_repr(a, &s));
    CU_ASSERT_FATAL(s != NULL && strlen(s) < sizeof buf);
    strcpy(buf, s);
    mp_free(s);
    return buf;
}

#define ASSERT_AREPR(a, text)                                                            \
    do {                                                                                 \
        const char *mpt_r_ = arepr(a);                                                   \
        if (strcmp(mpt_r_, (text)) != 0)                                                 \
            fprintf(stderr, "%s:%d: repr %s, wanted %s\n", __FILE__, __LINE__, mpt_r_,   \
                    (text));                                                             \
        CU_ASSERT_STRING_EQUAL(mpt_r_, (text));                                          \
    } while (0)

static mp_array *range_array(char tc, size_t len)
{
    mp_array *a = NULL;
    MPT_OK(mp_array_new_range(&a, tc, len));
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    return a;
}

/* ---- construction --------------------------------------------------------- */

static void itemsizes(void)
{
    static const struct {
        char tc;
        size_t size;
    } t[] = {{'c', sizeof(char)},          {'b', sizeof(signed char)},
             {'B', sizeof(unsigned char)}, {'?', sizeof(_Bool)},
             {'h', sizeof(short)},         {'H', sizeof(unsigned short)},
             {'i', sizeof(int)},           {'I', sizeof(unsigned)},
             {'l', sizeof(long)},          {'L', sizeof(unsigned long)},
             {'q', sizeof(long long)},     {'Q', sizeof(unsigned long long)},
             {'f', sizeof(float)},         {'d', sizeof(double)}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        mp_array *a = NULL;
        MPT_OK(mp_array_new(&a, t[i].tc, 3));
        CU_ASSERT_EQUAL(mp_array_itemsize(a), t[i].size);
        CU_ASSERT_EQUAL(mp_array_len(a), 3);
        CU_ASSERT_EQUAL(mp_array_typecode(a), t[i].tc);
        mp_array_free(a);
    }
}

static void new_range_reprs(void)
{
    mp_array *a = range_array('i', 10);
    ASSERT_AREPR(a, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]");
    mp_array_free(a);
    a = range_array('d', 3);
    ASSERT_AREPR(a, "[0.0, 1.0, 2.0]");
    mp_array_free(a);
    a = range_array('?', 3);
    ASSERT_AREPR(a, "[False, True, True]");
    mp_array_free(a);
    a = range_array('c', 3);
    ASSERT_AREPR(a, "b'\\x00\\x01\\x02'");
    mp_array_free(a);
    a = range_array('b', 128); /* 127 fits */
    mp_array_free(a);
    a = range_array('B', 256);
    int64_t x = 0;
    MPT_OK(mp_array_get_int(a, 255, &x));
    CU_ASSERT_EQUAL(x, 255);
    mp_array_free(a);
}

static void new_range_too_small_type(void)
{
    mp_array *a = (mp_array *)&a;
    MPT_EQ(mp_array_new_range(&a, 'b', 200), MP_ERANGE);
    CU_ASSERT_PTR_NULL(a);
    MPT_EQ(mp_array_new_range(&a, 'b', 129), MP_ERANGE);
    MPT_EQ(mp_array_new_range(&a, 'B', 257), MP_ERANGE);
    MPT_EQ(mp_array_new_range(&a, 'c', 257), MP_ERANGE);
    MPT_EQ(mp_array_new_range(&a, 'h', 40000), MP_ERANGE);
    MPT_EQ(mp_array_new_range(&a, 'x', 3), MP_EINVAL);
    MPT_EQ(mp_array_new_range(NULL, 'i', 3), MP_EINVAL);
}

static void new_from_values(void)
{
    const double init[] = {1.5, -0.0, 1e16, 0.1};
    mp_array *a = NULL;
    MPT_OK(mp_array_new_from(&a, 'd', init, 4));
    ASSERT_AREPR(a, "[1.5, -0.0, 1e+16, 0.1]");
    double back[4] = {0};
    MPT_OK(mp_array_read(a, 0, 4, back));
    CU_ASSERT_EQUAL(memcmp(back, init, sizeof init), 0);
    mp_array_free(a);

    const short s[] = {-32768, 0, 32767};
    MPT_OK(mp_array_new_from(&a, 'h', s, 3));
    ASSERT_AREPR(a, "[-32768, 0, 32767]");
    mp_array_free(a);

    MPT_EQ(mp_array_new_from(&a, 'i', NULL, 3), MP_EINVAL);
    CU_ASSERT_PTR_NULL(a);
    MPT_EQ(mp_array_new_from(&a, 'x', s, 3), MP_EINVAL);
    MPT_EQ(mp_array_new_from(NULL, 'h', s, 3), MP_EINVAL);
    MPT_OK(mp_array_new_from(&a, 'i', NULL, 0)); /* Array('i', []) */
    ASSERT_AREPR(a, "[]");
    mp_array_free(a);
}

static void bad_construction(void)
{
    mp_array *a = (mp_array *)&a;
    MPT_EQ(mp_array_new(&a, 'x', 3), MP_EINVAL);
    CU_ASSERT_PTR_NULL(a);
    MPT_EQ(mp_array_new(&a, 'd', SIZE_MAX), MP_EINVAL);
    MPT_EQ(mp_array_new(&a, 'd', SIZE_MAX / 8), MP_EINVAL);
    MPT_EQ(mp_array_new_raw(&a, 'D', 1), MP_EINVAL);
    MPT_EQ(mp_array_new(NULL, 'i', 1), MP_EINVAL);
}

static void empty_array(void)
{
    mp_array *a = NULL;
    MPT_OK(mp_array_new(&a, 'i', 0));
    CU_ASSERT_EQUAL(mp_array_len(a), 0);
    ASSERT_AREPR(a, "[]");
    int64_t x;
    MPT_EQ(mp_array_get_int(a, 0, &x), MP_ERANGE);
    MPT_EQ(mp_array_set_int(a, 0, 1), MP_ERANGE);
    MPT_OK(mp_array_read(a, 0, 0, NULL));
    MPT_OK(mp_array_write(a, 0, 0, NULL));
    MPT_EQ(mp_array_read(a, 1, 0, &x), MP_ERANGE);
    void *data = NULL;
    MPT_OK(mp_array_lock(a, &data));
    CU_ASSERT_PTR_NOT_NULL(data);
    MPT_OK(mp_array_unlock(a));
    mp_array_free(a);
    MPT_OK(mp_array_new(&a, 'c', 0));
    ASSERT_AREPR(a, "b''");
    mp_array_free(a);
}

/* ---- element and slice access --------------------------------------------- */

static void index_errors_never_write(void)
{
    mp_array *a = range_array('i', 5);
    int64_t x = 42;
    MPT_EQ(mp_array_set_int(a, 5, -1), MP_ERANGE);
    MPT_EQ(mp_array_set_int(a, SIZE_MAX, -1), MP_ERANGE);
    MPT_EQ(mp_array_set_uint(a, 5, 1), MP_ERANGE);
    MPT_EQ(mp_array_set_double(a, 5, 1.0), MP_EINVAL); /* 'i' takes no double */
    MPT_EQ(mp_array_get_int(a, 5, &x), MP_ERANGE);
    CU_ASSERT_EQUAL(x, 42);
    MPT_EQ(mp_array_set_int(a, 2, (int64_t)1 << 40), MP_ERANGE); /* value too big */
    ASSERT_AREPR(a, "[0, 1, 2, 3, 4]");
    int guard[7] = {7, 7, 7, 7, 7, 7, 7};
    MPT_EQ(mp_array_read(a, 0, 6, guard), MP_ERANGE);
    CU_ASSERT_EQUAL(guard[0], 7); /* nothing read either */
    mp_array_free(a);
}

static void element_conversions(void)
{
    mp_array *a = NULL;
    MPT_OK(mp_array_new(&a, 'H', 3));
    MPT_OK(mp_array_set_uint(a, 0, 65535));
    MPT_OK(mp_array_set_int(a, 1, 7));
    MPT_EQ(mp_array_set_int(a, 2, -1), MP_ERANGE);
    double d = 0;
    MPT_OK(mp_array_get_double(a, 0, &d));
    CU_ASSERT_EQUAL(d, 65535.0);
    uint64_t u = 0;
    MPT_OK(mp_array_get_uint(a, 1, &u));
    CU_ASSERT_EQUAL(u, 7);
    ASSERT_AREPR(a, "[65535, 7, 0]");
    mp_array_free(a);

    MPT_OK(mp_array_new(&a, 'f', 2));
    MPT_OK(mp_array_set_double(a, 0, 0.1));
    MPT_OK(mp_array_set_int(a, 1, -3));
    int64_t x;
    MPT_EQ(mp_array_get_int(a, 0, &x), MP_EINVAL);
    ASSERT_AREPR(a, "[0.10000000149011612, -3.0]");
    mp_array_free(a);

    MPT_OK(mp_array_new(&a, 'Q', 2));
    MPT_OK(mp_array_set_uint(a, 1, UINT64_MAX));
    MPT_EQ(mp_array_get_int(a, 1, &x), MP_ERANGE);
    ASSERT_AREPR(a, "[0, 18446744073709551615]");
    mp_array_free(a);
}

static void bulk_read_write(void)
{
    mp_array *a = range_array('q', 8);
    const long long in[3] = {-1, -2, LLONG_MIN};
    MPT_OK(mp_array_write(a, 3, 3, in));
    ASSERT_AREPR(a, "[0, 1, 2, -1, -2, -9223372036854775808, 6, 7]");
    long long out[4] = {0};
    MPT_OK(mp_array_read(a, 2, 4, out));
    CU_ASSERT(out[0] == 2 && out[1] == -1 && out[2] == -2 && out[3] == LLONG_MIN);
    MPT_OK(mp_array_write(a, 8, 0, in)); /* empty slice at the end */
    mp_array_free(a);
}

static void slice_errors(void)
{
    mp_array *a = range_array('i', 4);
    int buf[8] = {0};
    MPT_EQ(mp_array_write(a, 2, 3, buf), MP_ERANGE);
    MPT_EQ(mp_array_write(a, 5, 0, buf), MP_ERANGE);
    MPT_EQ(mp_array_write(a, 0, 5, buf), MP_ERANGE);
    MPT_EQ(mp_array_write(a, SIZE_MAX, 2, buf), MP_ERANGE); /* start + count wraps */
    MPT_EQ(mp_array_write(a, 1, SIZE_MAX, buf), MP_ERANGE);
    MPT_EQ(mp_array_read(a, 3, 2, buf), MP_ERANGE);
    MPT_EQ(mp_array_read(a, 0, 1, NULL), MP_EINVAL);
    MPT_EQ(mp_array_write(a, 0, 1, NULL), MP_EINVAL);
    ASSERT_AREPR(a, "[0, 1, 2, 3]"); /* nothing partly written */
    mp_array_free(a);
}

static void bool_and_char_arrays(void)
{
    mp_array *a = NULL;
    MPT_OK(mp_array_new(&a, '?', 3));
    const unsigned char raw[3] = {0, 2, 1};
    MPT_OK(mp_array_write(a, 0, 3, raw));
    ASSERT_AREPR(a, "[False, True, True]");
    const unsigned char *data = mp_array_data(a);
    CU_ASSERT(data[0] == 0 && data[1] == 1 && data[2] == 1); /* stored as _Bool */
    mp_array_free(a);

    MPT_OK(mp_array_new_from(&a, 'c', "ab\0'x", 5));
    ASSERT_AREPR(a, "b\"ab\\x00'x\"");
    int64_t x = 0;
    MPT_OK(mp_array_get_int(a, 3, &x));
    CU_ASSERT_EQUAL(x, '\'');
    mp_array_free(a);
}

static void null_arguments(void)
{
    int64_t x;
    char *s = (char *)&s;
    MPT_EQ(mp_array_get_int(NULL, 0, &x), MP_EINVAL);
    MPT_EQ(mp_array_set_int(NULL, 0, 1), MP_EINVAL);
    MPT_EQ(mp_array_set_double(NULL, 0, 1), MP_EINVAL);
    MPT_EQ(mp_array_read(NULL, 0, 0, &x), MP_EINVAL);
    MPT_EQ(mp_array_write(NULL, 0, 0, &x), MP_EINVAL);
    MPT_EQ(mp_array_lock(NULL, NULL), MP_EINVAL);
    MPT_EQ(mp_array_unlock(NULL), MP_EINVAL);
    MPT_EQ(mp_array_repr(NULL, &s), MP_EINVAL);
    CU_ASSERT_PTR_NULL(s);
    MPT_EQ(mp_array_print(NULL), MP_EINVAL);
    CU_ASSERT_PTR_NULL(mp_array_data(NULL));
    CU_ASSERT_EQUAL(mp_array_len(NULL), 0);
    CU_ASSERT_EQUAL(mp_array_itemsize(NULL), 0);
    CU_ASSERT_EQUAL(mp_array_typecode(NULL), '\0');
    mp_array_free(NULL);
    mp_array *a = range_array('i', 2);
    MPT_EQ(mp_array_get_int(a, 0, NULL), MP_EINVAL);
    MPT_EQ(mp_array_repr(a, NULL), MP_EINVAL);
    mp_array_free(a);
}

/* ---- locking ---------------------------------------------------------------- */

static void pointer_access_under_lock(void)
{
    mp_array *a = range_array('i', 6);
    void *data = NULL;
    MPT_OK(mp_array_lock(a, &data));
    CU_ASSERT_PTR_EQUAL(data, mp_array_data(a));
    int *p = data;
    for (int i = 0; i < 6; i++)
        p[i] *= 10;
    /* Element access nests inside the lock. */
    MPT_OK(mp_array_set_int(a, 0, -1));
    MPT_OK(mp_array_lock_timeout(a, NULL, 0));
    MPT_OK(mp_array_unlock(a));
    MPT_OK(mp_array_unlock(a));
    MPT_EQ(mp_array_unlock(a), MP_ESTATE);
    ASSERT_AREPR(a, "[-1, 10, 20, 30, 40, 50]");
    mp_array_free(a);
}

static void raw_array(void)
{
    mp_array *a = NULL;
    MPT_OK(mp_array_new_raw(&a, 'd', 3));
    void *data = (void *)&data;
    MPT_EQ(mp_array_lock(a, &data), MP_ESTATE);
    CU_ASSERT_PTR_NULL(data);
    MPT_EQ(mp_array_unlock(a), MP_ESTATE);
    double *p = mp_array_data(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    p[1] = 2.5;
    ASSERT_AREPR(a, "[0.0, 2.5, 0.0]");
    mp_array_free(a);
}

/* ---- across processes ----------------------------------------------------- */

/* The seed's f(n, a). */
static int t_negate(const mp_args *args)
{
    mp_value *n = mp_args_value(args, 0);
    mp_array *a = mp_args_array(args, 1);
    MPT_CHILD_CHECK(n && a && mp_array_len(a) == 10 && mp_array_typecode(a) == 'i');
    MPT_CHILD_CHECK(mp_value_set_double(n, 3.1415927) == 0);
    for (size_t i = 0; i < mp_array_len(a); i++) {
        int64_t x;
        MPT_CHILD_CHECK(mp_array_get_int(a, i, &x) == 0);
        MPT_CHILD_CHECK(mp_array_set_int(a, i, -x) == 0);
    }
    return 0;
}

static void child_negates(mp_start_method m)
{
    mp_value *num = NULL;
    MPT_OK(mp_value_new(&num, 'd'));
    mp_array *arr = range_array('i', 10);
    CU_ASSERT_EQUAL(mpt_run(t_negate, mp_args_of(num, arr), m), 0);
    char buf[32];
    CU_ASSERT_EQUAL(mp_value_repr(num, buf, sizeof buf), 9);
    CU_ASSERT_STRING_EQUAL(buf, "3.1415927");
    ASSERT_AREPR(arr, "[0, -1, -2, -3, -4, -5, -6, -7, -8, -9]");
    mp_value_free(num);
    mp_array_free(arr);
}
MPT_DEFINE_BOTH(child_negates)

static int t_halves(const mp_args *args)
{
    mp_array *a = mp_args_array(args, 0);
    MPT_CHILD_CHECK(a && mp_array_typecode(a) == 'd' && mp_array_itemsize(a) == 8);
    double *p = NULL;
    MPT_CHILD_CHECK(mp_array_lock(a, (void **)&p) == 0);
    for (size_t i = 0; i < mp_array_len(a); i++)
        p[i] = (double)i * 0.5;
    MPT_CHILD_CHECK(mp_array_unlock(a) == 0);
    double last = 0;
    MPT_CHILD_CHECK(mp_array_get_double(a, 4, &last) == 0 && last == 2.0);
    MPT_CHILD_CHECK(mp_array_set_double(a, 5, 0.1) == MP_ERANGE);
    return 0;
}

static void double_array_in_child(mp_start_method m)
{
    mp_array *a = NULL;
    MPT_OK(mp_array_new(&a, 'd', 5));
    CU_ASSERT_EQUAL(mpt_run(t_halves, mp_args_of(a), m), 0);
    ASSERT_AREPR(a, "[0.0, 0.5, 1.0, 1.5, 2.0]");
    mp_array_free(a);
}
MPT_DEFINE_BOTH(double_array_in_child)

static int t_raw_fill(const mp_args *args)
{
    mp_array *a = mp_args_array(args, 0);
    MPT_CHILD_CHECK(a && mp_array_lock(a, NULL) == MP_ESTATE);
    unsigned char *p = mp_array_data(a);
    MPT_CHILD_CHECK(p != NULL);
    memcpy(p, "hello", 5);
    return 0;
}

static void raw_array_in_child(mp_start_method m)
{
    mp_array *a = NULL;
    MPT_OK(mp_array_new_raw(&a, 'c', 5));
    CU_ASSERT_EQUAL(mpt_run(t_raw_fill, mp_args_of(a), m), 0);
    ASSERT_AREPR(a, "b'hello'");
    mp_array_free(a);
}
MPT_DEFINE_BOTH(raw_array_in_child)

static int t_die_holding(const mp_args *args)
{
    mp_array *a = mp_args_array(args, 0);
    int *p = NULL;
    MPT_CHILD_CHECK(a && mp_array_lock(a, (void **)&p) == 0);
    p[0] = 1; /* and never p[1]: the update is half done */
    return 0;
}

static void array_owner_death(mp_start_method m)
{
    mp_array *a = NULL;
    MPT_OK(mp_array_new(&a, 'i', 2));
    CU_ASSERT_EQUAL(mpt_run(t_die_holding, mp_args_of(a), m), 0);
    void *data = NULL;
    MPT_EQ(mp_array_lock(a, &data), MP_EOWNERDEAD);
    CU_ASSERT_PTR_EQUAL(data, mp_array_data(a));
    ASSERT_AREPR(a, "[1, 0]");
    MPT_OK(mp_array_unlock(a));
    MPT_OK(mp_array_lock_timeout(a, NULL, 0));
    MPT_OK(mp_array_unlock(a));
    mp_array_free(a);
}
MPT_DEFINE_BOTH(array_owner_death)

/* Two children and the parent each add to every element, many times. */
static int t_add_all(const mp_args *args)
{
    mp_array *a = mp_args_array(args, 0);
    for (int round = 0; round < 200; round++) {
        int *p;
        MPT_CHILD_CHECK(mp_array_lock(a, (void **)&p) == 0);
        for (size_t i = 0; i < mp_array_len(a); i++)
            p[i] += 1;
        MPT_CHILD_CHECK(mp_array_unlock(a) == 0);
    }
    return 0;
}

static void children_share_array(mp_start_method m)
{
    mp_array *a = NULL;
    MPT_OK(mp_array_new(&a, 'i', 64));
    mp_process *p1 = mpt_start(t_add_all, mp_args_of(a), m);
    mp_process *p2 = mpt_start(t_add_all, mp_args_of(a), m);
    CU_ASSERT_EQUAL(mpt_join(p1), 0);
    CU_ASSERT_EQUAL(mpt_join(p2), 0);
    int out[64];
    MPT_OK(mp_array_read(a, 0, 64, out));
    for (int i = 0; i < 64; i++)
        CU_ASSERT_EQUAL(out[i], 400);
    mp_array_free(a);
}
MPT_DEFINE_BOTH(children_share_array)

void mpt_suite_shared_array(void)
{
    const char *s = "shared/array";
    mpt_add(s, "itemsizes", itemsizes);
    mpt_add(s, "new_range_reprs", new_range_reprs);
    mpt_add(s, "new_range_too_small_type", new_range_too_small_type);
    mpt_add(s, "new_from_values", new_from_values);
    mpt_add(s, "bad_construction", bad_construction);
    mpt_add(s, "empty_array", empty_array);
    mpt_add(s, "index_errors_never_write", index_errors_never_write);
    mpt_add(s, "element_conversions", element_conversions);
    mpt_add(s, "bulk_read_write", bulk_read_write);
    mpt_add(s, "slice_errors", slice_errors);
    mpt_add(s, "bool_and_char_arrays", bool_and_char_arrays);
    mpt_add(s, "null_arguments", null_arguments);
    mpt_add(s, "pointer_access_under_lock", pointer_access_under_lock);
    mpt_add(s, "raw_array", raw_array);
    MPT_BOTH(s, child_negates);
    MPT_BOTH(s, double_array_in_child);
    MPT_BOTH(s, raw_array_in_child);
    MPT_BOTH(s, array_owner_death);
    MPT_BOTH(s, children_share_array);
}
