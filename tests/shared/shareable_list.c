/* shared/shareable_list.c - ShareableList: Python's layout byte for byte,
 * every item type, the docs' session (_TestSharedMemory's
 * test_shared_memory_ShareableList_basics), slots that an item may not
 * outgrow, text Python would misread, a child attaching by name, and a
 * block that holds no list. */
#include <stdio.h>
#include <string.h>

#include "test.h"

static mp_obj *docs_list(void)
{
    return MP_LIST(mp_obj_str("howdy"), mp_obj_bytes("HoWdY", 5), mp_obj_float(-273.154),
                   mp_obj_int(100), mp_obj_none(), mp_obj_bool(1), mp_obj_int(42));
}

static int item_is(mp_shareable_list *l, int64_t i, mp_obj *want)
{
    mp_obj *got = NULL;
    int ok = mp_shareable_list_get(l, i, &got) == 0 && mp_obj_equal(got, want) &&
             mp_obj_type_of(got) == mp_obj_type_of(want);
    if (!ok) {
        fprintf(stderr, "item %lld: ", (long long)i);
        mp_obj_print(got);
    }
    mp_obj_free(got);
    mp_obj_free(want);
    return ok;
}

static uint64_t u64_at(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The bytes Python 3.9+ writes for the docs' list: count, offsets, data,
 * formats, codes, in that order and those sizes. */
static void layout(void)
{
    mp_shareable_list *l;
    mp_obj *items = docs_list();
    MPT_OK(mp_shareable_list_new(&l, NULL, items));
    mp_obj_free(items);
    const unsigned char *b = mp_shared_memory_buf(mp_shareable_list_shm(l));
    CU_ASSERT_EQUAL(u64_at(b), 7);
    /* 'howdy' and b'HoWdY' get 8 bytes (5 // 8 + 1 slots), the rest 8. */
    for (uint64_t i = 0; i <= 7; i++)
        CU_ASSERT_EQUAL(u64_at(b + 8 + 8 * i), 8 * i);
    const unsigned char *data = b + 8 * 9;
    CU_ASSERT(memcmp(data, "howdy\0\0\0HoWdY\0\0\0", 16) == 0);
    int64_t hundred;
    memcpy(&hundred, data + 24, 8);
    CU_ASSERT_EQUAL(hundred, 100);
    CU_ASSERT_EQUAL(data[40 + 7], 1); /* True: "xxxxxxx?" */
    const char *formats = (const char *)data + 56;
    static const char *want[] = {"8s", "8s", "d", "q", "xxxxxx?x", "xxxxxxx?", "q"};
    for (int i = 0; i < 7; i++)
        CU_ASSERT(strncmp(formats + 8 * i, want[i], 8) == 0);
    static const signed char codes[] = {1, 2, 0, 0, 3, 0, 0};
    CU_ASSERT(memcmp(formats + 56, codes, 7) == 0);
    CU_ASSERT_EQUAL(
        mp_shared_memory_size(mp_shareable_list_shm(l)) >= 8 * 9 + 56 + 56 + 7, 1);
    MPT_OK(mp_shared_memory_unlink(mp_shareable_list_shm(l)));
    mp_shareable_list_free(l);
}

/* The docs' session, as the example prints it, plus negative indexes. */
static void docs_session(void)
{
    mp_shareable_list *a;
    mp_obj *items = docs_list();
    MPT_OK(mp_shareable_list_new(&a, NULL, items));
    mp_obj_free(items);
    CU_ASSERT_EQUAL(mp_shareable_list_len(a), 7);
    CU_ASSERT_TRUE(item_is(a, 2, mp_obj_float(-273.154)));
    mp_obj *v = mp_obj_float(-78.5);
    MPT_OK(mp_shareable_list_set(a, 2, v));
    mp_obj_free(v);
    CU_ASSERT_TRUE(item_is(a, 2, mp_obj_float(-78.5)));
    v = mp_obj_str("dry ice");
    MPT_OK(mp_shareable_list_set(a, 2, v));
    mp_obj_free(v);
    CU_ASSERT_TRUE(item_is(a, 2, mp_obj_str("dry ice")));
    v = mp_obj_str("larger than previously allocated storage space");
    MPT_EQ(mp_shareable_list_set(a, 2, v), MP_ETOOBIG);
    mp_obj_free(v);
    CU_ASSERT_TRUE(item_is(a, 2, mp_obj_str("dry ice"))); /* unchanged */
    CU_ASSERT_TRUE(item_is(a, -1, mp_obj_int(42)));
    CU_ASSERT_TRUE(item_is(a, -7, mp_obj_str("howdy")));
    CU_ASSERT_TRUE(item_is(a, 4, mp_obj_none()));
    CU_ASSERT_TRUE(item_is(a, 5, mp_obj_bool(1)));
    size_t pos = 99, n = 99;
    v = mp_obj_int(42);
    MPT_OK(mp_shareable_list_index(a, v, &pos));
    CU_ASSERT_EQUAL(pos, 6);
    mp_obj_free(v);
    v = mp_obj_bytes("howdy", 5);
    MPT_OK(mp_shareable_list_count(a, v, &n));
    CU_ASSERT_EQUAL(n, 0);
    MPT_EQ(mp_shareable_list_index(a, v, &pos), MP_ENOTFOUND);
    mp_obj_free(v);
    /* Types change within a slot: None, bool and int where a str was. */
    v = mp_obj_none();
    MPT_OK(mp_shareable_list_set(a, 0, v));
    mp_obj_free(v);
    CU_ASSERT_TRUE(item_is(a, 0, mp_obj_none()));
    v = mp_obj_str("hi");
    MPT_OK(mp_shareable_list_set(a, 0, v)); /* back to text in the 8-byte slot */
    mp_obj_free(v);
    CU_ASSERT_TRUE(item_is(a, 0, mp_obj_str("hi")));
    mp_obj *all = NULL;
    MPT_OK(mp_shareable_list_to_obj(a, &all));
    char *repr = NULL;
    MPT_OK(mp_obj_repr(all, &repr));
    CU_ASSERT_STRING_EQUAL(repr, "['hi', b'HoWdY', 'dry ice', 100, None, True, 42]");
    mp_free(repr);
    mp_obj_free(all);
    MPT_OK(mp_shared_memory_unlink(mp_shareable_list_shm(a)));
    mp_shareable_list_free(a);
}

/* Text: slots by UTF-8 bytes (Python sizes them by characters and cuts
 * multi-byte text), NULs inside kept, a trailing NUL refused (Python's
 * reader would drop it), a value filling its slot exactly. */
static void text_slots(void)
{
    const char *accents = "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"; /* 5 x u-umlaut */
    mp_obj *items = MP_LIST(mp_obj_str(accents), mp_obj_bytes("a\0b", 3),
                            mp_obj_bytes("12345678", 8));
    mp_shareable_list *l;
    MPT_OK(mp_shareable_list_new(&l, NULL, items));
    mp_obj_free(items);
    CU_ASSERT_TRUE(item_is(l, 0, mp_obj_str(accents)));
    CU_ASSERT_TRUE(item_is(l, 1, mp_obj_bytes("a\0b", 3)));
    CU_ASSERT_TRUE(item_is(l, 2, mp_obj_bytes("12345678", 8))); /* slot of 16 */
    mp_obj *v = mp_obj_bytes("ab\0", 3);
    MPT_EQ(mp_shareable_list_set(l, 1, v), MP_EINVAL);
    mp_obj_free(v);
    CU_ASSERT_TRUE(item_is(l, 1, mp_obj_bytes("a\0b", 3)));
    v = mp_obj_strn("x\0", 2);
    MPT_EQ(mp_shareable_list_set(l, 0, v), MP_EINVAL);
    mp_obj_free(v);
    v = mp_obj_bytes("0123456789abcdef", 16); /* fills the 16-byte slot, no NUL */
    MPT_OK(mp_shareable_list_set(l, 2, v));
    mp_obj_free(v);
    CU_ASSERT_TRUE(item_is(l, 2, mp_obj_bytes("0123456789abcdef", 16)));
    v = mp_obj_bytes("0123456789abcdefg", 17);
    MPT_EQ(mp_shareable_list_set(l, 2, v), MP_ETOOBIG);
    mp_obj_free(v);
    mp_obj *bad = MP_LIST(mp_obj_bytes("end\0", 4));
    mp_shareable_list *no = NULL;
    MPT_EQ(mp_shareable_list_new(&no, NULL, bad), MP_EINVAL);
    CU_ASSERT_PTR_NULL(no);
    mp_obj_free(bad);
    MPT_OK(mp_shared_memory_unlink(mp_shareable_list_shm(l)));
    mp_shareable_list_free(l);
}

/* Attaches by name, checks the docs' list, changes two items. */
static int t_change(const mp_args *args)
{
    const char *name;
    mp_shareable_list *l;
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &name) == 0);
    MPT_CHILD_CHECK(mp_shareable_list_attach(&l, name) == 0);
    MPT_CHILD_CHECK(mp_shareable_list_len(l) == 7);
    mp_obj *v = mp_obj_int(7);
    MPT_CHILD_CHECK(mp_shareable_list_set(l, 3, v) == 0);
    mp_obj_free(v);
    v = mp_obj_str("child");
    MPT_CHILD_CHECK(mp_shareable_list_set(l, 0, v) == 0);
    mp_obj_free(v);
    mp_shareable_list_free(l);
    return 0;
}

static void across_processes(mp_start_method m)
{
    mp_shareable_list *l;
    mp_obj *items = docs_list();
    MPT_OK(mp_shareable_list_new(&l, NULL, items));
    mp_obj_free(items);
    const char *name = mp_shared_memory_name(mp_shareable_list_shm(l));
    CU_ASSERT_EQUAL(mpt_run(t_change, mp_args_of(name), m), 0);
    CU_ASSERT_TRUE(item_is(l, 3, mp_obj_int(7)));
    CU_ASSERT_TRUE(item_is(l, 0, mp_obj_str("child")));
    MPT_OK(mp_shared_memory_unlink(mp_shareable_list_shm(l)));
    mp_shareable_list_free(l);
}
MPT_DEFINE_BOTH(across_processes)

/* A block that is no list, or a list whose bytes were damaged, is
 * refused with MP_EPROTO, never read past its end. */
static void corrupt(void)
{
    mp_shared_memory *s;
    mp_shareable_list *l = NULL;
    MPT_OK(mp_shared_memory_create(&s, NULL, 64));
    unsigned char *b = mp_shared_memory_buf(s);
    uint64_t n = 1000;
    memcpy(b, &n, 8);
    MPT_EQ(mp_shareable_list_attach(&l, mp_shared_memory_name(s)), MP_EPROTO);
    CU_ASSERT_PTR_NULL(l);
    /* One int item, then its format damaged, then its code. */
    n = 1;
    memcpy(b, &n, 8);
    uint64_t offs[2] = {0, 8};
    memcpy(b + 8, offs, 16);
    memcpy(b + 32, "q\0\0\0\0\0\0\0", 8);
    b[40] = 0;
    MPT_OK(mp_shareable_list_attach(&l, mp_shared_memory_name(s)));
    mp_obj *o = NULL;
    MPT_OK(mp_shareable_list_get(l, 0, &o));
    mp_obj_free(o);
    memcpy(b + 32, "z\0\0\0\0\0\0\0", 8);
    MPT_EQ(mp_shareable_list_get(l, 0, &o), MP_EPROTO);
    memcpy(b + 32, "999s\0\0\0\0", 8);
    b[40] = 2;
    MPT_EQ(mp_shareable_list_get(l, 0, &o), MP_EPROTO); /* past the data */
    memcpy(b + 32, "q\0\0\0\0\0\0\0", 8);
    b[40] = 9;
    MPT_EQ(mp_shareable_list_get(l, 0, &o), MP_EPROTO);
    MPT_EQ(mp_shareable_list_get(l, 1, &o), MP_ERANGE);
    mp_shareable_list_free(l);
    MPT_OK(mp_shared_memory_unlink(s));
    mp_shared_memory_free(s);
}

static void misuse(void)
{
    mp_shareable_list *l = NULL;
    mp_obj *v = mp_obj_int(1), *d = mp_obj_dict(0);
    MPT_EQ(mp_shareable_list_new(NULL, NULL, v), MP_EINVAL);
    MPT_EQ(mp_shareable_list_new(&l, NULL, v), MP_EINVAL); /* not a list */
    mp_obj *nested = MP_LIST(mp_obj_list(0));
    MPT_EQ(mp_shareable_list_new(&l, NULL, nested), MP_EINVAL);
    mp_obj_free(nested);
    MPT_EQ(mp_shareable_list_attach(&l, NULL), MP_EINVAL);
    MPT_EQ(mp_shareable_list_attach(NULL, "x"), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_shareable_list_len(NULL), 0);
    CU_ASSERT_PTR_NULL(mp_shareable_list_shm(NULL));
    mp_obj *out = v;
    MPT_EQ(mp_shareable_list_get(NULL, 0, &out), MP_EINVAL);
    CU_ASSERT_PTR_NULL(out);
    MPT_EQ(mp_shareable_list_set(NULL, 0, d), MP_EINVAL);
    mp_obj *items = MP_TUPLE(mp_obj_int(1)); /* a tuple is fine */
    MPT_OK(mp_shareable_list_new(&l, NULL, items));
    mp_obj_free(items);
    MPT_EQ(mp_shareable_list_set(l, 0, d), MP_EINVAL);
    MPT_EQ(mp_shareable_list_set(l, 1, v), MP_ERANGE);
    MPT_EQ(mp_shareable_list_set(l, -2, v), MP_ERANGE);
    MPT_EQ(mp_shareable_list_set(l, 0, NULL), MP_EINVAL);
    MPT_OK(mp_shared_memory_unlink(mp_shareable_list_shm(l)));
    mp_shareable_list_free(l);
    mp_shareable_list_free(NULL);
    mp_obj_free(v);
    mp_obj_free(d);
}

void mpt_suite_shared_shareable_list(void)
{
    mpt_add("shared/shareable_list", "layout", layout);
    mpt_add("shared/shareable_list", "docs_session", docs_session);
    mpt_add("shared/shareable_list", "text_slots", text_slots);
    MPT_BOTH("shared/shareable_list", across_processes);
    mpt_add("shared/shareable_list", "corrupt", corrupt);
    mpt_add("shared/shareable_list", "misuse", misuse);
}
