/* pickle/pickle.c - suite "pickle": mp_obj_dumps() and mp_obj_loads().
 *
 * Three kinds of check:
 *  - C alone: round trips, hand-made malformed pickles, truncation at
 *    every offset, random byte flips, limits (depth, int range, lengths,
 *    memo expansion);
 *  - against CPython: tests/pickle/pickle_cases.py (run with MPT_PYTHON or
 *    python3) prints pickles and reprs; C output must be byte-identical
 *    to pickle.dumps(x, 4) where Python shares no object, C must decode
 *    what every protocol writes, and Python must read what C writes;
 *  - against every Python 3.8+ found on the machine (pyenv's and the
 *    system's), since framing and memo use have changed between versions.
 *
 * The suite fails (it does not skip) when python3 cannot be run: CI
 * installs it. The tests that run python3 are POSIX only (MPT_NO_PYTHON);
 * the C-only ones run everywhere. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pickle/pickle.h"
#include "test.h"
#ifndef _WIN32
#include "pythons.h"
#endif

/* ---- helpers ---------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng_state >> 33);
}

static mp_obj *loads_ok(const void *p, size_t n)
{
    mp_obj *o = NULL;
    int rc = mp_obj_loads(p, n, &o);
    if (rc != 0) fprintf(stderr, "loads: %s: %s\n", mp_error_name(rc), mp_last_error());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    return o;
}

/* Decoding p must fail with code, and leave *out NULL. */
static void loads_fails(const void *p, size_t n, int code, const char *needle)
{
    mp_obj *o = (mp_obj *)1;
    int rc = mp_obj_loads(p, n, &o);
    if (rc != code || (needle && !strstr(mp_last_error(), needle)))
        fprintf(stderr, "loads gave %s (%s), wanted %s mentioning '%s'\n",
                mp_error_name(rc), mp_last_error(), mp_error_name(code),
                needle ? needle : "");
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_PTR_NULL(o);
    if (needle) CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), needle));
    if (rc == 0) mp_obj_free(o);
}
#define LOADS_FAILS(lit, code, needle) loads_fails(lit, sizeof(lit) - 1, code, needle)

/* dumps, then loads, and the value must come back equal. */
static void roundtrip(mp_obj *o)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    void *p = NULL;
    size_t n = 0;
    MPT_OK(mp_obj_dumps(o, &p, &n));
    mp_obj *back = loads_ok(p, n);
    CU_ASSERT_TRUE(mp_obj_equal(o, back));
    /* Encoding is deterministic: the copy encodes the same. */
    void *p2 = NULL;
    size_t n2 = 0;
    MPT_OK(mp_obj_dumps(back, &p2, &n2));
    CU_ASSERT_TRUE(n == n2 && memcmp(p, p2, n) == 0);
    mp_free(p);
    mp_free(p2);
    mp_obj_free(back);
    mp_obj_free(o);
}

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

/* A random value from the C side (deterministic: rng_state). */
static mp_obj *rand_obj(int depth)
{
    static const char *strs[] = {
        "", "a", "h\xc3\xa9llo", "\xe2\x82\xac\xf0\x9f\x98\x80", "nul\0in", "quote'\"\\"};
    static const double dbls[] = {0.0, -0.0, 1.5, 1e300, 5e-324, -2.5e-8, 3.1415927};
    unsigned k = rng() % (depth < 5 ? 10u : 6u);
    switch (k) {
    case 0:
        return mp_obj_none();
    case 1:
        return mp_obj_bool((int)(rng() & 1));
    case 2: {
        int64_t v = (int64_t)(((uint64_t)rng() << 32) | rng());
        unsigned shift = rng() % 64;
        return mp_obj_int(shift ? v >> shift : v);
    }
    case 3:
        return mp_obj_float(dbls[rng() % 7] * (double)(rng() % 1000));
    case 4: {
        size_t i = rng() % 6;
        return mp_obj_strn(strs[i], i == 4 ? 6 : strlen(strs[i]));
    }
    case 5: {
        unsigned char b[300];
        size_t n = rng() % sizeof b;
        for (size_t i = 0; i < n; i++)
            b[i] = (unsigned char)rng();
        return mp_obj_bytes(b, n);
    }
    default: {
        size_t n = rng() % 6;
        mp_obj *c = k == 6 ? mp_obj_list(0) : k == 7 ? mp_obj_tuple(0) : mp_obj_dict(0);
        for (size_t i = 0; c && i < n; i++) {
            if (k == 8 || k == 9) {
                mp_obj *key = rng() & 1 ? mp_obj_int((int64_t)(rng() % 50))
                                        : mp_obj_strn((const char *)"kkkk", rng() % 4);
                if (mp_obj_dict_set(c, key, rand_obj(depth + 1)) < 0) {
                    mp_obj_free(c);
                    return NULL;
                }
            } else if (mp_obj_append(c, rand_obj(depth + 1)) < 0) {
                mp_obj_free(c);
                return NULL;
            }
        }
        return c;
    }
    }
}

#ifndef _WIN32 /* MPT_NO_PYTHON */

/* ---- talking to python3 ------------------------------------------------------- */

static const char *python_path(void)
{
    const char *p = getenv("MPT_PYTHON");
    return p && *p ? p : "python3";
}

/* tests/pickle/pickle_cases.py, found next to this source file. */
static const char *script_path(void)
{
    static char path[1024];
    const char *env = getenv("MPT_PICKLE_CASES");
    if (env && *env) return env;
    const char *f = __FILE__;
    const char *slash = strrchr(f, '/');
    const char *bslash = strrchr(f, '\\');
    if (bslash && (!slash || bslash > slash)) slash = bslash;
    size_t dir = slash ? (size_t)(slash - f + 1) : 0;
    snprintf(path, sizeof path, "%.*spickle_cases.py", (int)dir, f);
    return path;
}

/* Runs `python pickle_cases.py args` and returns its whole output
 * (NUL-terminated, caller frees); fails the test if it does not run. */
static char *py_run(const char *python, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "\"%s\" \"%s\" %s", python, script_path(), args);
    FILE *f = popen(cmd, "r");
    if (!f) {
        fprintf(stderr, "pickle suite: cannot run %s\n", cmd);
        CU_FAIL_FATAL("python3 could not be started");
    }
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    for (;;) {
        if (cap - n < 4096) {
            cap *= 2;
            char *q = realloc(out, cap);
            CU_ASSERT_PTR_NOT_NULL_FATAL(q);
            out = q;
        }
        size_t k = fread(out + n, 1, cap - n - 1, f);
        if (k == 0) break;
        n += k;
    }
    out[n] = 0;
    int st = pclose(f);
    if (st != 0 || n == 0) {
        fprintf(stderr,
                "pickle suite: `%s` failed (status %d); install python3 or set "
                "MPT_PYTHON (and MPT_PICKLE_CASES to tests/pickle/pickle_cases.py)\n",
                cmd, st);
        free(out);
        CU_FAIL_FATAL("python3 pickle_cases.py failed");
    }
    return out;
}

/* Splits the next line of *cur into at most max space-separated fields;
 * returns the count (0 at the end). */
static int next_line(char **cur, char **fields, int max)
{
    char *s = *cur;
    if (!*s) return 0;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = 0;
        *cur = nl + 1;
    } else {
        *cur = s + strlen(s);
    }
    int n = 0;
    while (n < max) {
        fields[n++] = s;
        if (n == max) break; /* the last field keeps the rest of the line */
        char *sp = strchr(s, ' ');
        if (!sp) break;
        *sp = 0;
        s = sp + 1;
    }
    return n;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex (or "-" for empty) to a new buffer. */
static unsigned char *unhex(const char *s, size_t *n)
{
    size_t len = strcmp(s, "-") == 0 ? 0 : strlen(s) / 2;
    unsigned char *b = malloc(len + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    for (size_t i = 0; i < len; i++)
        b[i] = (unsigned char)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
    b[len] = 0;
    *n = len;
    return b;
}

/* The repr of o must be the UTF-8 text hex-encoded in want. */
static int repr_is(const mp_obj *o, const char *want_hex)
{
    size_t wn;
    unsigned char *want = unhex(want_hex, &wn);
    char *r = NULL;
    int ok = mp_obj_repr(o, &r) == 0 && strlen(r) == wn && memcmp(r, want, wn) == 0;
    if (!ok)
        fprintf(stderr, "repr mismatch:\n  C:      %.200s\n  Python: %.200s\n",
                r ? r : "(none)", (const char *)want);
    mp_free(r);
    free(want);
    return ok;
}

#endif

/* ---- round trips (C only) ------------------------------------------------------ */

static void test_roundtrip_scalars(void)
{
    roundtrip(mp_obj_none());
    roundtrip(mp_obj_bool(1));
    roundtrip(mp_obj_bool(0));
    static const int64_t ints[] = {0,
                                   1,
                                   255,
                                   256,
                                   65535,
                                   65536,
                                   -1,
                                   -128,
                                   -129,
                                   -256,
                                   -32768,
                                   INT32_MAX,
                                   INT32_MIN,
                                   (int64_t)INT32_MAX + 1,
                                   (int64_t)INT32_MIN - 1,
                                   1LL << 32,
                                   1LL << 40,
                                   -(1LL << 40),
                                   1LL << 55,
                                   -(1LL << 55),
                                   (1LL << 55) - 1,
                                   INT64_MAX,
                                   INT64_MIN,
                                   INT64_MIN + 1};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        roundtrip(mp_obj_int(ints[i]));
    static const double dbls[] = {0.0, -0.0, 1.5, -2.25, 1e300, 5e-324, 3.1415927, 1e16};
    for (size_t i = 0; i < sizeof dbls / sizeof dbls[0]; i++)
        roundtrip(mp_obj_float(dbls[i]));
    roundtrip(mp_obj_float(INFINITY));
    roundtrip(mp_obj_float(-INFINITY));
    /* -0.0 keeps its sign. */
    void *p;
    size_t n;
    mp_obj *z = mp_obj_float(-0.0);
    MPT_OK(mp_obj_dumps(z, &p, &n));
    mp_obj *back = loads_ok(p, n);
    double d = 1;
    MPT_OK(mp_obj_get_float(back, &d));
    /* copysign, not signbit: MinGW's signbit macro has a float branch that
     * -Wfloat-conversion rejects for a double argument. */
    CU_ASSERT_TRUE(d == 0 && copysign(1.0, d) < 0);
    mp_free(p);
    mp_obj_free(back);
    mp_obj_free(z);
}

static void test_roundtrip_nan(void)
{
    mp_obj *o = mp_obj_float(NAN);
    void *p;
    size_t n;
    MPT_OK(mp_obj_dumps(o, &p, &n));
    mp_obj *back = loads_ok(p, n);
    double d = 0;
    MPT_OK(mp_obj_get_float(back, &d));
    CU_ASSERT_TRUE(d != d);
    mp_free(p);
    mp_obj_free(back);
    mp_obj_free(o);
}

static void test_roundtrip_str_bytes(void)
{
    static const size_t sizes[] = {0, 1, 2, 255, 256, 65535, 65536, 70000};
    char *big = malloc(70001);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    for (size_t i = 0; i < 70000; i++)
        big[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        roundtrip(mp_obj_strn(big, sizes[i]));
        roundtrip(mp_obj_bytes(big, sizes[i]));
    }
    free(big);
    roundtrip(mp_obj_str("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
    roundtrip(mp_obj_strn("nul\0inside", 10));
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    roundtrip(mp_obj_bytes(all, 256));
}

static void test_roundtrip_containers(void)
{
    roundtrip(mp_obj_list(0));
    roundtrip(mp_obj_tuple(0));
    roundtrip(mp_obj_dict(0));
    roundtrip(MP_TUPLE(mp_obj_int(1)));
    roundtrip(MP_TUPLE(mp_obj_int(1), mp_obj_none()));
    roundtrip(MP_TUPLE(mp_obj_int(1), mp_obj_none(), mp_obj_str("x")));
    roundtrip(MP_TUPLE(mp_obj_int(1), mp_obj_none(), mp_obj_str("x"), mp_obj_float(2)));
    roundtrip(MP_LIST(mp_obj_int(42), mp_obj_none(), mp_obj_str("hello")));
    roundtrip(MP_DICT(mp_obj_str("a"), mp_obj_int(1),
                      MP_TUPLE(mp_obj_int(1), mp_obj_int(2)), mp_obj_list(0),
                      mp_obj_none(), mp_obj_dict(0)));
    /* Batch edges: 1, 999, 1000, 1001, 2500 items. */
    static const size_t counts[] = {1, 999, 1000, 1001, 2000, 2500};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        mp_obj *l = mp_obj_list(0), *t = mp_obj_tuple(0), *d = mp_obj_dict(0);
        for (size_t i = 0; i < counts[c]; i++) {
            MPT_OK(mp_obj_append(l, mp_obj_int((int64_t)i * 1000)));
            MPT_OK(mp_obj_append(t, mp_obj_str("item")));
            MPT_OK(mp_obj_dict_set(d, mp_obj_int((int64_t)i), mp_obj_float((double)i)));
        }
        roundtrip(l);
        roundtrip(t);
        roundtrip(d);
    }
}

static void test_roundtrip_random(void)
{
    rng_state = 12345;
    for (int i = 0; i < 400; i++)
        roundtrip(rand_obj(0));
}

/* The pool's join of chunk results (mp__pickle_fast_loads_lists): random
 * lists pickled back to back come out as one list of all their items,
 * equal to what decoding each gives, and the list can be changed and
 * freed like any decoded one. Less room than the items need, a pickle
 * that is not a list (also one whose list is below its root), or one
 * that the fast decoder leaves to the general one (a memo get) makes
 * nothing. */
static void test_fast_lists(void)
{
    rng_state = 777;
    for (int round = 0; round < 50; round++) {
        size_t n = (size_t)(round % 7), at[7], len[7], used = 0;
        unsigned char *buf = NULL;
        mp_obj *want = mp_obj_list(0);
        for (size_t i = 0; i < n; i++) {
            mp_obj *l = mp_obj_list(0);
            for (int k = round % 5; k > 0; k--)
                mp_obj_append(l, rand_obj(1));
            for (size_t k = 0; k < mp_obj_len(l); k++)
                mp_obj_append(want, mp_obj_copy(mp_obj_item(l, k)));
            void *p;
            size_t plen;
            MPT_OK(mp_obj_dumps(l, &p, &plen));
            buf = realloc(buf, used + plen);
            memcpy(buf + used, p, plen);
            at[i] = used;
            len[i] = plen;
            used += plen;
            mp_free(p);
            mp_obj_free(l);
        }
        mp_obj *got = NULL;
        size_t total = mp_obj_len(want);
        if (total) /* one item less room than they hold: nothing */
            CU_ASSERT_EQUAL(mp__pickle_fast_loads_lists(buf, at, len, n, total - 1, &got),
                            0);
        CU_ASSERT_EQUAL(mp__pickle_fast_loads_lists(buf, at, len, n,
                                                    total + (size_t)(round % 2), &got),
                        1);
        CU_ASSERT_TRUE(mp_obj_equal(got, want));
        MPT_OK(mp_obj_append(got, mp_obj_str("appended")));
        CU_ASSERT_EQUAL(mp_obj_len(got), mp_obj_len(want) + 1);
        mp_obj_free(got);
        mp_obj_free(want);
        free(buf);
    }
    /* not a list */
    void *p;
    size_t plen, zero = 0;
    mp_obj *t = MP_TUPLE(mp_obj_int(1));
    MPT_OK(mp_obj_dumps(t, &p, &plen));
    mp_obj *got = NULL;
    CU_ASSERT_EQUAL(mp__pickle_fast_loads_lists(p, &zero, &plen, 1, 1, &got), 0);
    CU_ASSERT_PTR_NULL(got);
    mp_free(p);
    mp_obj_free(t);
    /* [x, x] as Python writes it: the second x is a memo get */
    static const unsigned char shared[] = {0x80, 4, ']',  0x94, ']', 0x94,
                                           'h',  1, 0x86, 0x94, 'a', '.'};
    size_t slen = sizeof shared;
    MPT_OK(mp_obj_loads(shared, slen, &got)); /* valid, for the general decoder */
    mp_obj_free(got);
    got = NULL;
    CU_ASSERT_EQUAL(mp__pickle_fast_loads_lists(shared, &zero, &slen, 1, 1, &got), 0);
    CU_ASSERT_PTR_NULL(got);
    /* a list below the root gets the room; the root, a tuple, does not */
    mp_obj *below = MP_TUPLE(MP_LIST(mp_obj_int(1), mp_obj_int(2)));
    MPT_OK(mp_obj_dumps(below, &p, &plen));
    CU_ASSERT_EQUAL(mp__pickle_fast_loads_lists(p, &zero, &plen, 1, 2, &got), 0);
    mp_free(p);
    mp_obj_free(below);
    CU_ASSERT_PTR_NULL(got);
}

/* Nested n deep: [[[...]]] (kind 0), ((...),) (1) or {0: {0: ...}} (2). */
static mp_obj *nested(int kind, int n)
{
    mp_obj *o = mp_obj_int(7);
    for (int i = 0; i < n && o; i++)
        o = kind == 0 ? MP_LIST(o) : kind == 1 ? MP_TUPLE(o) : MP_DICT(mp_obj_int(0), o);
    return o;
}

static void test_depth_dumps(void)
{
    for (int kind = 0; kind < 3; kind++) {
        mp_obj *ok = nested(kind, MP_OBJ_MAX_DEPTH);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ok);
        roundtrip(ok);
        mp_obj *deep = nested(kind, MP_OBJ_MAX_DEPTH + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
        void *p = (void *)1;
        size_t n = 1;
        MPT_EQ(mp_obj_dumps(deep, &p, &n), MP_ETOOBIG);
        CU_ASSERT_PTR_NULL(p);
        CU_ASSERT_EQUAL(n, 0);
        mp_obj_free(deep);
    }
}

/* A hand-made pickle of n nested containers in one of three styles. */
static unsigned char *nested_pickle(int style, int n, size_t *len)
{
    unsigned char *b = malloc((size_t)n * 3 + 16);
    size_t k = 0;
    b[k++] = 0x80;
    b[k++] = 4;
    if (style == 0) { /* EMPTY_LIST ... then APPEND each into the one below */
        for (int i = 0; i < n; i++)
            b[k++] = ']';
        for (int i = 1; i < n; i++)
            b[k++] = 'a';
    } else if (style == 1) { /* N TUPLE1 TUPLE1 ... */
        b[k++] = 'N';
        for (int i = 0; i < n; i++)
            b[k++] = 0x85;
    } else { /* MARK MARK ... N LIST LIST ... */
        for (int i = 0; i < n; i++)
            b[k++] = '(';
        b[k++] = 'N';
        for (int i = 0; i < n; i++)
            b[k++] = 'l';
    }
    b[k++] = '.';
    *len = k;
    return b;
}

static void test_depth_loads(void)
{
    for (int style = 0; style < 3; style++) {
        size_t n;
        unsigned char *p = nested_pickle(style, MP_OBJ_MAX_DEPTH, &n);
        mp_obj *o = loads_ok(p, n);
        mp_obj_free(o);
        free(p);
        p = nested_pickle(style, MP_OBJ_MAX_DEPTH + 1, &n);
        loads_fails(p, n, MP_ETOOBIG, NULL);
        free(p);
        /* Far deeper: still no recursion, still refused. */
        p = nested_pickle(style, 200000, &n);
        loads_fails(p, n, MP_ETOOBIG, NULL);
        free(p);
    }
}

static void test_null_args(void)
{
    void *p;
    size_t n;
    mp_obj *o = mp_obj_none();
    MPT_EQ(mp_obj_dumps(NULL, &p, &n), MP_EINVAL);
    MPT_EQ(mp_obj_dumps(o, NULL, &n), MP_EINVAL);
    MPT_EQ(mp_obj_dumps(o, &p, NULL), MP_EINVAL);
    MPT_EQ(mp_obj_loads("N.", 2, NULL), MP_EINVAL);
    mp_obj *out = NULL;
    MPT_EQ(mp_obj_loads(NULL, 2, &out), MP_EINVAL);
    MPT_EQ(mp_obj_loads(NULL, 0, &out), MP_EPROTO);
    mp_obj_free(o);
}

/* ---- byte identity with CPython ------------------------------------------------ */

static mp_obj *build_named(const char *name)
{
    if (!strcmp(name, "none")) return mp_obj_none();
    if (!strcmp(name, "true")) return mp_obj_bool(1);
    if (!strcmp(name, "int_mix"))
        return MP_LIST(mp_obj_int(0), mp_obj_int(255), mp_obj_int(256), mp_obj_int(65535),
                       mp_obj_int(65536), mp_obj_int(-1), mp_obj_int(INT32_MAX),
                       mp_obj_int(INT32_MIN), mp_obj_int((int64_t)INT32_MAX + 1),
                       mp_obj_int((int64_t)INT32_MIN - 1), mp_obj_int(INT64_MAX),
                       mp_obj_int(INT64_MIN), mp_obj_int(1LL << 40), mp_obj_int(-129));
    if (!strcmp(name, "floats"))
        return MP_LIST(mp_obj_float(1.5), mp_obj_float(-0.0), mp_obj_float(INFINITY),
                       mp_obj_float(1e300), mp_obj_float(5e-324));
    if (!strcmp(name, "strs")) {
        char x[300];
        memset(x, 'x', sizeof x);
        return MP_LIST(mp_obj_str(""), mp_obj_str("ab"),
                       mp_obj_str("h\xc3\xa9llo \xe2\x82\xac\xf0\x9f\x98\x80"),
                       mp_obj_strn(x, sizeof x));
    }
    if (!strcmp(name, "bytes")) {
        char y[300];
        memset(y, 'y', sizeof y);
        return MP_LIST(mp_obj_bytes("", 0), mp_obj_bytes("\x00\xff", 2),
                       mp_obj_bytes(y, sizeof y));
    }
    if (!strcmp(name, "tuples"))
        return MP_LIST(
            mp_obj_tuple(0), MP_TUPLE(mp_obj_int(1)),
            MP_TUPLE(mp_obj_int(1), mp_obj_int(2)),
            MP_TUPLE(mp_obj_int(1), mp_obj_int(2), mp_obj_int(3)),
            MP_TUPLE(mp_obj_int(1), mp_obj_int(2), mp_obj_int(3), mp_obj_int(4)));
    if (!strcmp(name, "dict"))
        return MP_DICT(mp_obj_str("a1"), mp_obj_int(1), mp_obj_str("b2"),
                       MP_LIST(mp_obj_none(), mp_obj_bool(1)), mp_obj_int(3),
                       MP_TUPLE(mp_obj_float(4.5), mp_obj_bytes("zz", 2)));
    if (!strcmp(name, "seed"))
        return MP_LIST(mp_obj_int(42), mp_obj_none(), mp_obj_str("hello"));
    if (!strcmp(name, "list1001") || !strcmp(name, "dict1000")) {
        int is_list = name[0] == 'l';
        mp_obj *o = is_list ? mp_obj_list(0) : mp_obj_dict(0);
        for (int64_t i = 0; i < (is_list ? 1001 : 1000); i++)
            if (is_list)
                mp_obj_append(o, mp_obj_int(i));
            else
                mp_obj_dict_set(o, mp_obj_int(i), mp_obj_int(i));
        return o;
    }
    if (!strcmp(name, "bigstr") || !strcmp(name, "framed")) {
        char *s = malloc(70000);
        memset(s, 's', 70000);
        mp_obj *o;
        if (name[0] == 'b') {
            o = mp_obj_strn(s, 70000);
        } else {
            memset(s, 'a', 40000);
            mp_obj *a = mp_obj_strn(s, 40000);
            memset(s, 'b', 40000);
            o = MP_LIST(a, mp_obj_strn(s, 40000), mp_obj_int(1));
        }
        free(s);
        return o;
    }
    return NULL;
}

#ifndef _WIN32 /* MPT_NO_PYTHON */

static void test_exact_named(void)
{
    char *out = py_run(python_path(), "named"), *cur = out, *f[2];
    int count = 0;
    while (next_line(&cur, f, 2) == 2) {
        mp_obj *o = build_named(f[0]);
        if (!o) fprintf(stderr, "no C value named %s\n", f[0]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        size_t wn, n;
        unsigned char *want = unhex(f[1], &wn);
        void *p;
        MPT_OK(mp_obj_dumps(o, &p, &n));
        int same = n == wn && memcmp(p, want, n) == 0;
        if (!same) fprintf(stderr, "dumps(%s) differs from CPython's\n", f[0]);
        CU_ASSERT_TRUE(same);
        mp_free(p);
        free(want);
        mp_obj_free(o);
        count++;
    }
    CU_ASSERT_TRUE(count >= 12);
    free(out);
}

/* loads then dumps gives back CPython's bytes, for values without shared
 * objects (the script leaves out any pickle with a memo get). */
static void check_exact(const char *python)
{
    char *out = py_run(python, "exact 150 7"), *cur = out, *f[1];
    int count = 0;
    while (next_line(&cur, f, 1) == 1) {
        size_t wn, n;
        unsigned char *want = unhex(f[0], &wn);
        mp_obj *o = loads_ok(want, wn);
        void *p;
        MPT_OK(mp_obj_dumps(o, &p, &n));
        int same = n == wn && memcmp(p, want, n) == 0;
        if (!same) {
            char *r = NULL;
            mp_obj_repr(o, &r);
            fprintf(stderr, "dumps differs from CPython's for %.300s\n", r);
            mp_free(r);
        }
        CU_ASSERT_TRUE(same);
        mp_free(p);
        free(want);
        mp_obj_free(o);
        count++;
    }
    CU_ASSERT_TRUE(count > 150);
    free(out);
}

static void test_exact_cpython(void)
{
    check_exact(python_path());
}

/* ---- decoding what Python writes ---------------------------------------------- */

/* Each line "<proto> <pickle> <repr>": decode and compare reprs. */
static int check_protocols(const char *python, const char *args)
{
    char *out = py_run(python, args), *cur = out, *f[3];
    int count = 0, protos = 0;
    while (next_line(&cur, f, 3) == 3) {
        size_t n;
        unsigned char *p = unhex(f[1], &n);
        mp_obj *o = loads_ok(p, n);
        int ok = repr_is(o, f[2]);
        if (!ok) fprintf(stderr, "  (protocol %s, %s)\n", f[0], python);
        CU_ASSERT_TRUE(ok);
        protos |= 1 << atoi(f[0]);
        mp_obj_free(o);
        free(p);
        count++;
    }
    CU_ASSERT_EQUAL(protos, 0x3f); /* protocols 0 to 5 all seen */
    free(out);
    return count;
}

static void test_python_protocols(void)
{
    int n = check_protocols(python_path(), "protocols 200 11");
    CU_ASSERT_TRUE(n > 1000);
}

/* Lines "<pickle> <repr>" of values with shared parts. */
static void check_shared(const char *python)
{
    char *out = py_run(python, "shared"), *cur = out, *f[2];
    int count = 0;
    while (next_line(&cur, f, 2) == 2) {
        size_t n;
        unsigned char *p = unhex(f[0], &n);
        mp_obj *o = loads_ok(p, n);
        CU_ASSERT_TRUE(repr_is(o, f[1]));
        /* And it re-encodes to something equal, now without sharing. */
        void *q;
        size_t qn;
        MPT_OK(mp_obj_dumps(o, &q, &qn));
        mp_obj *again = loads_ok(q, qn);
        CU_ASSERT_TRUE(mp_obj_equal(o, again));
        mp_obj_free(again);
        mp_free(q);
        mp_obj_free(o);
        free(p);
        count++;
    }
    CU_ASSERT_TRUE(count >= 30);
    free(out);
}

static void test_shared_from_python(void)
{
    check_shared(python_path());
}

static void test_every_python(void)
{
    mpt_python py[MPT_MAX_PYTHONS];
    int n = mpt_find_pythons(py, MPT_MAX_PYTHONS);
    for (int i = 0; i < n; i++) {
        check_protocols(py[i].path, "protocols 60 5");
        check_shared(py[i].path);
        check_exact(py[i].path);
    }
    mpt_python_report("pickle suite", py, n);
    CU_ASSERT_TRUE(n >= 1);
}

#endif

/* A memoised list appended to after a memo get: every reference sees the
 * item, as Python's shared object would. Python gives [[5], [5]]. */
static void test_shared_mutated_after_get(void)
{
    static const char p[] = "\x80\x04"
                            "]\x94" /* outer, memo 0 */
                            "]\x94" /* inner, memo 1 */
                            "a"     /* outer.append(inner) */
                            "h\x01" /* inner again */
                            "K\x05" /* 5 */
                            "a"     /* inner.append(5) */
                            "0"     /* drop it */
                            "h\x01"
                            "a" /* outer.append(inner) */
                            ".";
    mp_obj *o = loads_ok(p, sizeof p - 1);
    mp_obj *want = MP_LIST(MP_LIST(mp_obj_int(5)), MP_LIST(mp_obj_int(5)));
    CU_ASSERT_TRUE(mp_obj_equal(o, want));
    mp_obj_free(want);
    mp_obj_free(o);
    /* DUP shares too: (x, x) with x = [1]. */
    static const char q[] = "\x80\x04]K\x01"
                            "a2\x86.";
    o = loads_ok(q, sizeof q - 1);
    want = MP_TUPLE(MP_LIST(mp_obj_int(1)), MP_LIST(mp_obj_int(1)));
    CU_ASSERT_TRUE(mp_obj_equal(o, want));
    mp_obj_free(want);
    mp_obj_free(o);
}

/* Builds x0 = [0]*1000, then x(k+1) = [xk]*1000 with memo gets, levels
 * deep: 1000^levels objects described in a few kilobytes. */
static unsigned char *memo_bomb(int levels, int width, size_t *len)
{
    unsigned char *b = malloc((size_t)(levels + 1) * ((size_t)width * 5 + 16) + 16);
    size_t k = 0;
    b[k++] = 0x80;
    b[k++] = 4;
    b[k++] = ']';
    b[k++] = '(';
    for (int i = 0; i < width; i++) {
        b[k++] = 'K';
        b[k++] = 0;
    }
    b[k++] = 'e';
    for (int lvl = 0; lvl < levels; lvl++) {
        b[k++] = 'r'; /* LONG_BINPUT lvl */
        b[k++] = (unsigned char)lvl;
        b[k++] = 0;
        b[k++] = 0;
        b[k++] = 0;
        b[k++] = '0'; /* POP */
        b[k++] = ']';
        b[k++] = '(';
        for (int i = 0; i < width; i++) {
            b[k++] = 'j'; /* LONG_BINGET lvl */
            b[k++] = (unsigned char)lvl;
            b[k++] = 0;
            b[k++] = 0;
            b[k++] = 0;
        }
        b[k++] = 'e';
    }
    b[k++] = '.';
    *len = k;
    return b;
}

static void test_shared_budget(void)
{
    size_t n;
    /* 1000^3 = 10^9 objects from ~10 KB: refused before building. */
    unsigned char *p = memo_bomb(3, 1000, &n);
    loads_fails(p, n, MP_ETOOBIG, "shared references");
    free(p);
    p = memo_bomb(8, 10, &n);
    loads_fails(p, n, MP_ETOOBIG, NULL);
    free(p);
    /* [[0]*300]*300: 90,000 objects, well within the allowance. */
    p = memo_bomb(1, 300, &n);
    mp_obj *o = loads_ok(p, n);
    CU_ASSERT_EQUAL(mp_obj_len(o), 300);
    CU_ASSERT_EQUAL(mp_obj_len(mp_obj_item(o, 299)), 300);
    mp_obj_free(o);
    free(p);
    /* A smaller allowance refuses it. */
    p = memo_bomb(1, 300, &n);
    o = NULL;
    MPT_EQ(mp__pickle_loads(p, n, &o, 1000), MP_ETOOBIG);
    CU_ASSERT_PTR_NULL(o);
    free(p);
}

/* ---- refusals -------------------------------------------------------------------- */

#ifndef _WIN32 /* MPT_NO_PYTHON */

static void test_unsupported_from_python(void)
{
    char *out = py_run(python_path(), "unsupported"), *cur = out, *f[2];
    int count = 0;
    while (next_line(&cur, f, 2) == 2) {
        size_t n;
        unsigned char *p = unhex(f[1], &n);
        const char *needle = !strcmp(f[0], "recursive")   ? "recursive"
                             : !strcmp(f[0], "surrogate") ? "surrogate"
                                                          : f[0];
        char quoted[64];
        if (needle == f[0]) { /* "pickle opcode NAME (" */
            snprintf(quoted, sizeof quoted, "opcode %s (", f[0]);
            needle = quoted;
        }
        loads_fails(p, n, MP_EUNSUPPORTED, needle);
        free(p);
        count++;
    }
    CU_ASSERT_TRUE(count >= 20);
    free(out);
}

#endif

static void test_unsupported_message(void)
{
    /* A class instance at protocol 4 starts with STACK_GLOBAL. */
    static const char p[] = "\x80\x04\x8c\x01m\x94\x8c\x01"
                            "C\x94\x93\x94)\x81\x94.";
    mp_obj *o = NULL;
    MPT_EQ(mp_obj_loads(p, sizeof p - 1, &o), MP_EUNSUPPORTED);
    CU_ASSERT_STRING_EQUAL(mp_last_error(),
                           "pickle opcode STACK_GLOBAL (0x93) is not supported: only "
                           "None, bool, int, float, str, bytes, list, tuple and dict");
    /* A GLOBAL names what it asked for; nothing is looked up or run. */
    LOADS_FAILS("cos\nsystem\n(S'echo pwned'\ntR.", MP_EUNSUPPORTED, "'os.system'");
    LOADS_FAILS("\x80\x02\x8f.", MP_EUNSUPPORTED, "EMPTY_SET (0x8f)");
    LOADS_FAILS("\x80\x05\x96\x01\x00\x00\x00\x00\x00\x00\x00x.", MP_EUNSUPPORTED,
                "BYTEARRAY8");
}

/* Protocols 0 to 2 write bytes as _codecs.encode(latin1 text) or bytes(). */
static void test_bytes_protocol2(void)
{
    static const char p1[] = "\x80\x02"
                             "c_codecs\nencode\nq\x00X\x02\x00\x00\x00\xc3\xbf"
                             "q\x01X\x06\x00\x00\x00latin1q\x02\x86q\x03Rq\x04.";
    mp_obj *o = loads_ok(p1, sizeof p1 - 1);
    size_t n = 0;
    const unsigned char *b = mp_obj_bytes_data(o, &n);
    CU_ASSERT_TRUE(b && n == 1 && b[0] == 0xff);
    mp_obj_free(o);
    static const char p2[] = "\x80\x02"
                             "c__builtin__\nbytes\nq\x00)Rq\x01.";
    o = loads_ok(p2, sizeof p2 - 1);
    CU_ASSERT_TRUE(mp_obj_bytes_data(o, &n) != NULL && n == 0);
    mp_obj_free(o);
    LOADS_FAILS("\x80\x02"
                "c_codecs\nencode\nX\x01\x00\x00\x00"
                "aX\x05\x00\x00\x00utf-8\x86R.",
                MP_EUNSUPPORTED, "latin1");
    LOADS_FAILS("\x80\x02"
                "c_codecs\nencode\nX\x02\x00\x00\x00\xc4\x80X\x06\x00\x00\x00"
                "latin1\x86R.",
                MP_EPROTO, "outside latin1");
    LOADS_FAILS("\x80\x02"
                "c_codecs\nencode\n.",
                MP_EUNSUPPORTED, "callable");
    LOADS_FAILS("\x80\x02"
                "c_codecs\nencode\n\x94"
                "0]h\x00"
                "a.",
                MP_EUNSUPPORTED, "callable");
    LOADS_FAILS("\x80\x02"
                "c__builtin__\nbytes\nK\x01\x85R.",
                MP_EUNSUPPORTED, NULL);
    LOADS_FAILS("\x80\x02"
                "c__builtin__\nbytes\nK\x01R.",
                MP_EPROTO, "not a tuple");
}

#ifndef _WIN32 /* MPT_NO_PYTHON */

/* C writes, each Python reads back the same repr. */
static void test_python_reads_c(void)
{
    char path[] = "mpt_pickle_XXXXXX";
    rng_state = 777;
    FILE *f = NULL;
    int fd = mkstemp(path);
    if (fd >= 0) f = fdopen(fd, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    enum { N = 300 };
    char *reprs[N];
    for (int i = 0; i < N; i++) {
        mp_obj *o = i == 0   ? build_named("framed")
                    : i == 1 ? build_named("dict1000")
                    : i == 2 ? nested(0, 200)
                             : rand_obj(0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        void *p;
        size_t n;
        MPT_OK(mp_obj_dumps(o, &p, &n));
        for (size_t k = 0; k < n; k++)
            fprintf(f, "%02x", ((unsigned char *)p)[k]);
        fputc('\n', f);
        MPT_OK(mp_obj_repr(o, &reprs[i]));
        mp_free(p);
        mp_obj_free(o);
    }
    fclose(f);
    char args[64];
    snprintf(args, sizeof args, "load %s", path);
    char *out = py_run(python_path(), args), *cur = out, *fl[2] = {NULL, NULL};
    int i = 0;
    while (i < N && next_line(&cur, fl, 2) >= 1) {
        if (!strcmp(fl[0], "ERROR")) fprintf(stderr, "python: %s\n", fl[1] ? fl[1] : "");
        size_t wn;
        unsigned char *want = unhex(fl[0], &wn);
        int ok = strlen(reprs[i]) == wn && memcmp(reprs[i], want, wn) == 0;
        if (!ok) fprintf(stderr, "python read %.200s as %.200s\n", reprs[i], want);
        CU_ASSERT_TRUE(ok);
        free(want);
        mp_free(reprs[i]);
        i++;
    }
    CU_ASSERT_EQUAL(i, N);
    for (; i < N; i++)
        mp_free(reprs[i]);
    free(out);
    remove(path);
}

#endif

/* ---- malformed input ---------------------------------------------------------- */

static void test_truncation(void)
{
    rng_state = 99;
    for (int t = 0; t < 6; t++) {
        mp_obj *o = t == 0   ? build_named("dict")
                    : t == 1 ? build_named("int_mix")
                    : t == 2 ? nested(1, 30)
                             : rand_obj(0);
        void *p;
        size_t n;
        MPT_OK(mp_obj_dumps(o, &p, &n));
        for (size_t cut = 0; cut < n; cut++) {
            /* A fresh copy of exactly cut bytes: ASan sees any overread. */
            unsigned char *c = malloc(cut ? cut : 1);
            memcpy(c, p, cut);
            mp_obj *out = NULL;
            int rc = mp_obj_loads(c, cut, &out);
            if (rc != MP_EPROTO)
                fprintf(stderr, "prefix %zu of %zu: %s %s\n", cut, n, mp_error_name(rc),
                        mp_last_error());
            CU_ASSERT_EQUAL(rc, MP_EPROTO);
            CU_ASSERT_PTR_NULL(out);
            free(c);
        }
        mp_free(p);
        mp_obj_free(o);
    }
    /* A CPython pickle with a frame, cut everywhere. */
    static const char framed[] = "\x80\x04\x95\x16\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01"
                                 "\x8c\x03"
                                 "abc\x94G?\xf8\x00\x00\x00\x00\x00\x00"
                                 "e.";
    for (size_t cut = 0; cut < sizeof framed - 1; cut++) {
        unsigned char *c = malloc(cut ? cut : 1);
        memcpy(c, framed, cut);
        mp_obj *out = NULL;
        CU_ASSERT_EQUAL(mp_obj_loads(c, cut, &out), MP_EPROTO);
        free(c);
    }
}

/* Decoding whatever comes must never crash; when it succeeds, the value
 * must survive its own round trip. */
static void fuzz_one(const unsigned char *p, size_t n)
{
    mp_obj *o = NULL;
    int rc = mp_obj_loads(p, n, &o);
    if (rc != 0) {
        CU_ASSERT_PTR_NULL(o);
        CU_ASSERT_TRUE(rc < 0);
        return;
    }
    void *q;
    size_t qn;
    MPT_OK(mp_obj_dumps(o, &q, &qn));
    mp_obj *again = loads_ok(q, qn);
    CU_ASSERT_TRUE(has_nan(o) || mp_obj_equal(o, again));
    mp_obj_free(again);
    mp_free(q);
    mp_obj_free(o);
}

static void test_byte_flips(void)
{
    rng_state = 4242;
    for (int base = 0; base < 8; base++) {
        mp_obj *o = base == 0   ? build_named("dict")
                    : base == 1 ? nested(2, 5)
                                : rand_obj(0);
        void *p;
        size_t n;
        MPT_OK(mp_obj_dumps(o, &p, &n));
        unsigned char *c = malloc(n);
        for (int it = 0; it < 1500; it++) {
            memcpy(c, p, n);
            int flips = 1 + (int)(rng() % 3);
            for (int k = 0; k < flips; k++) {
                size_t at = rng() % n;
                unsigned v = rng() % 4 ? c[at] ^ (1u << (rng() % 8)) : rng();
                c[at] = (unsigned char)v;
            }
            fuzz_one(c, n);
        }
        free(c);
        mp_free(p);
        mp_obj_free(o);
    }
}

static void test_random_bytes(void)
{
    rng_state = 31337;
    /* Opcode soup: valid opcodes with random arguments reach deeper. */
    static const unsigned char ops[] = "()0124NKJM]a}eustlhqj\x85\x86\x87\x88\x89\x8a\x8c"
                                       "\x94\x95GCBX\x80";
    unsigned char buf[64];
    for (int it = 0; it < 20000; it++) {
        size_t n = 1 + rng() % sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = rng() % 3 ? ops[rng() % (sizeof ops - 1)] : (unsigned char)rng();
        if (rng() % 2) buf[n - 1] = '.';
        unsigned char *c = malloc(n);
        memcpy(c, buf, n);
        fuzz_one(c, n);
        free(c);
    }
}

static void test_int_range(void)
{
    LOADS_FAILS("\x80\x04\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.", MP_ERANGE,
                "64 bits"); /* 2**64 */
    LOADS_FAILS("\x80\x04\x8a\x09\xff\xff\xff\xff\xff\xff\xff\x7f\xff.", MP_ERANGE, NULL);
    LOADS_FAILS("\x80\x04\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80\x94\x8a\x09\x00\x00\x00"
                "\x00\x00\x00\x00\x80\x00.",
                MP_ERANGE, NULL); /* 2**63 in 9 bytes */
    LOADS_FAILS("\x80\x04\x8b\x0d\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                "\x00\x10.",
                MP_ERANGE, NULL); /* 2**100 as LONG4 */
    LOADS_FAILS("I99999999999999999999\n.", MP_ERANGE, NULL);
    LOADS_FAILS("L-9223372036854775809L\n.", MP_ERANGE, NULL);
    /* Non-minimal but in range: sign extension only. */
    static const char p[] = "\x80\x04\x8a\x0a\xfb\xff\xff\xff\xff\xff\xff\xff\xff\xff.";
    mp_obj *o = loads_ok(p, sizeof p - 1);
    int64_t v = 0;
    MPT_OK(mp_obj_get_int(o, &v));
    CU_ASSERT_EQUAL(v, -5);
    mp_obj_free(o);
    static const char q[] = "\x80\x04\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80.";
    o = loads_ok(q, sizeof q - 1);
    MPT_OK(mp_obj_get_int(o, &v));
    CU_ASSERT_EQUAL(v, INT64_MIN);
    mp_obj_free(o);
    static const char r[] = "\x80\x04\x8a\x00.";
    o = loads_ok(r, sizeof r - 1);
    MPT_OK(mp_obj_get_int(o, &v));
    CU_ASSERT_EQUAL(v, 0);
    mp_obj_free(o);
    static const char s[] = "\x80\x04J\x00\x00\x00\x80.";
    o = loads_ok(s, sizeof s - 1);
    MPT_OK(mp_obj_get_int(o, &v));
    CU_ASSERT_EQUAL(v, INT32_MIN);
    mp_obj_free(o);
}

static void test_huge_lengths(void)
{
    /* Each claims far more than there is; none may allocate for it (the
     * sanitizer builds abort on a 2^60-byte malloc). */
    LOADS_FAILS("\x80\x04\x8d\x00\x00\x00\x00\x00\x00\x00\x10"
                "abc.",
                MP_EPROTO, "claims");
    LOADS_FAILS("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff.", MP_EPROTO, NULL);
    LOADS_FAILS("\x80\x04X\xff\xff\xff\xff"
                "abc.",
                MP_EPROTO, NULL);
    LOADS_FAILS("\x80\x04"
                "B\xff\xff\xff\x7f.",
                MP_EPROTO, NULL);
    LOADS_FAILS("\x80\x04\x8c\xff.", MP_EPROTO, NULL);
    LOADS_FAILS("\x80\x04\x8b\xff\xff\xff\x7f.", MP_EPROTO, NULL);
    LOADS_FAILS("\x80\x04\x8b\xff\xff\xff\xff.", MP_EPROTO, "negative");
    LOADS_FAILS("\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x80N.", MP_EPROTO, "FRAME");
    LOADS_FAILS("\x80\x04r\xff\xff\xff\xffN.", MP_EPROTO, NULL); /* put on empty stack */
    /* LONG_BINPUT at key 2^32-1 is fine: the memo is sparse. */
    static const char p[] = "\x80\x04Nr\xff\xff\xff\xffj\xff\xff\xff\xff\x86.";
    mp_obj *o = loads_ok(p, sizeof p - 1);
    CU_ASSERT_EQUAL(mp_obj_len(o), 2);
    mp_obj_free(o);
}

static void test_frames(void)
{
    /* A frame that ends exactly before STOP, and an empty frame. */
    static const char a[] = "\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00N"
                            "\x95\x00\x00\x00\x00\x00\x00\x00\x00.";
    mp_obj *o = loads_ok(a, sizeof a - 1);
    CU_ASSERT_EQUAL(mp_obj_type_of(o), MP_OBJ_NONE);
    mp_obj_free(o);
    /* The frame ends inside BININT's argument. */
    LOADS_FAILS("\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00J\x01\x02\x03\x04.",
                MP_EPROTO, "frame");
    /* A frame begun inside another. */
    LOADS_FAILS("\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00\x95\x01\x00\x00\x00\x00\x00"
                "\x00\x00N.",
                MP_EPROTO, "inside");
    /* A frame longer than the input. */
    LOADS_FAILS("\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00N.", MP_EPROTO, "FRAME");
    /* A str payload that crosses the end of its frame. */
    LOADS_FAILS("\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00\x8c\x03"
                "abc.",
                MP_EPROTO, "frame");
}

static void test_structure_errors(void)
{
    LOADS_FAILS("", MP_EPROTO, "truncated");
    LOADS_FAILS("\x80\x04", MP_EPROTO, "no STOP");
    LOADS_FAILS("\x80\x04.", MP_EPROTO, "empty stack");
    LOADS_FAILS("\x80\x04Na.", MP_EPROTO, "APPEND");
    LOADS_FAILS("\x80\x04]Ne.", MP_EPROTO, "MARK");
    LOADS_FAILS("\x80\x04NNt.", MP_EPROTO, "MARK");
    LOADS_FAILS("\x80\x04}(Nu.", MP_EPROTO, "key without a value");
    LOADS_FAILS("\x80\x04(NNNd.", MP_EPROTO, "key without a value");
    LOADS_FAILS("\x80\x04)Na.", MP_EPROTO, "not a list");
    LOADS_FAILS("\x80\x04]NNs.", MP_EPROTO, "not a dict");
    LOADS_FAILS("\x80\x04](Na.", MP_EPROTO, "MARK");   /* APPEND across a MARK */
    LOADS_FAILS("\x80\x04N\x85(.", MP_EPROTO, "MARK"); /* STOP over an open MARK */
    LOADS_FAILS("\x80\x04NN.", MP_EPROTO, "leaves");
    LOADS_FAILS("\x80\x04N.N", MP_EPROTO, "after STOP");
    LOADS_FAILS("\x80\x04N.\x00", MP_EPROTO, "after STOP");
    LOADS_FAILS("\x80\x04h\x05.", MP_EPROTO, "memo");
    LOADS_FAILS("\x80\x04\xff.", MP_EPROTO, "unknown opcode 0xff");
    LOADS_FAILS("\x80\x04\x00.", MP_EPROTO, "unknown opcode 0x00");
    LOADS_FAILS("\x80\x06N.", MP_EUNSUPPORTED, "protocol 6");
    LOADS_FAILS("\x80\x04N\x86.", MP_EPROTO, "too few");
    LOADS_FAILS("\x80\x04"
                "1.",
                MP_EPROTO, "MARK");
    LOADS_FAILS("\x80\x04I12x\n.", MP_EPROTO, "digit");
    LOADS_FAILS("\x80\x04I12", MP_EPROTO, "end of line");
    LOADS_FAILS("\x80\x04g\n.", MP_EPROTO, "memo key");
}

static void test_unhashable_keys(void)
{
    LOADS_FAILS("\x80\x04}]Ns.", MP_EPROTO, "unhashable");
    LOADS_FAILS("\x80\x04}}Ns.", MP_EPROTO, "unhashable");
    LOADS_FAILS("\x80\x04}(K\x01]\x86Nu.", MP_EPROTO, "unhashable");
    /* A repeated key keeps its place and takes the last value, as a
     * Python dict does for d[k] = v twice. */
    static const char p[] = "\x80\x04}(K\x01K\x02K\x03K\x04G?\xf0\x00\x00\x00\x00\x00\x00"
                            "K\x05u.";
    mp_obj *o = loads_ok(p, sizeof p - 1);
    mp_obj *want = MP_DICT(mp_obj_int(1), mp_obj_int(5), mp_obj_int(3), mp_obj_int(4));
    CU_ASSERT_TRUE(mp_obj_equal(o, want));
    CU_ASSERT_EQUAL(mp_obj_len(o), 2);
    mp_obj_free(want);
    mp_obj_free(o);
}

static void test_mark_depth(void)
{
    size_t n = MP_OBJ_MAX_DEPTH + 10;
    unsigned char *p = malloc(n + 4);
    p[0] = 0x80;
    p[1] = 4;
    memset(p + 2, '(', n);
    p[n + 2] = '.';
    loads_fails(p, n + 3, MP_ETOOBIG, "MARK");
    free(p);
}

/* The repr of o must be want. */
static int repr_eq(const mp_obj *o, const char *want)
{
    char *r = NULL;
    int ok = mp_obj_repr(o, &r) == 0 && strcmp(r, want) == 0;
    if (!ok) fprintf(stderr, "repr %s, wanted %s\n", r ? r : "(none)", want);
    mp_free(r);
    return ok;
}

#define PK(lit) lit, sizeof(lit) - 1

static void test_stack_ops(void)
{
    static const struct {
        const char *p;
        size_t n;
        const char *repr;
    } cases[] = {
        {PK("\x80\x04K\x01"
            "2\x86."),
         "(1, 1)"}, /* DUP */
        {PK("\x80\x04NK\x02"
            "0K\x03\x86."),
         "(None, 3)"},                 /* POP */
        {PK("\x80\x04(0K\x03."), "3"}, /* POP of a bare MARK */
        {PK("\x80\x04(K\x01K\x02"
            "1K\x03."),
         "3"}, /* POP_MARK */
        {PK("\x80\x04N\x94"
            "0h\x00."),
         "None"}, /* MEMOIZE, BINGET */
        {PK("\x80\x02K\x01q\x07"
            "0h\x07\x85."),
         "(1,)"}, /* BINPUT */
        {PK("\x80\x02K\x01r\x00\x01\x00\x00"
            "0j\x00\x01\x00\x00."),
         "1"},
        {PK("\x80\x04(K\x01K\x02K\x03K\x04t."), "(1, 2, 3, 4)"}, /* TUPLE */
        {PK("\x80\x04)."), "()"},
        {PK("\x80\x04N\x87."), NULL}, /* too few: error */
        /* Protocol 0: INT 01/00, LONG, TUPLE, LIST, DICT, PUT, GET. */
        {PK("(I01\nI00\nL5L\nI-3\ntp0\n(lp1\ng0\na(dp2\nI1\nI2\nsN\x87\x86."),
         "((True, False, 5, -3), ([(True, False, 5, -3)], {1: 2}, None))"},
        {PK("I7\n."), "7"},
        {PK("L-9223372036854775808\n."), "-9223372036854775808"},
        {PK("(I1\nI2\nl."), "[1, 2]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!cases[i].repr) {
            loads_fails(cases[i].p, cases[i].n, MP_EPROTO, NULL);
            continue;
        }
        mp_obj *o = loads_ok(cases[i].p, cases[i].n);
        CU_ASSERT_TRUE(repr_eq(o, cases[i].repr));
        mp_obj_free(o);
    }
}

static void test_surrogate_and_utf8(void)
{
    LOADS_FAILS("\x80\x04\x8c\x03\xed\xa0\x80.", MP_EUNSUPPORTED, "surrogate");
    LOADS_FAILS("\x80\x04\x8c\x02\xc0\x80.", MP_EPROTO, "UTF-8"); /* overlong NUL */
    LOADS_FAILS("\x80\x04\x8c\x01\xff.", MP_EPROTO, "UTF-8");
    LOADS_FAILS("\x80\x04\x8c\x02\xe2\x82.", MP_EPROTO, "UTF-8"); /* cut sequence */
    LOADS_FAILS("\x80\x04\x8c\x04\xf4\x90\x80\x80.", MP_EPROTO, "UTF-8"); /* > U+10FFFF */
    mp_obj *o = loads_ok("\x80\x04\x8c\x04\xf4\x8f\xbf\xbf.", 9);         /* U+10FFFF */
    CU_ASSERT_EQUAL(mp_obj_len(o), 1);
    mp_obj_free(o);
}

void mpt_suite_pickle(void)
{
    mpt_add("pickle", "roundtrip_scalars", test_roundtrip_scalars);
    mpt_add("pickle", "roundtrip_nan", test_roundtrip_nan);
    mpt_add("pickle", "roundtrip_str_bytes", test_roundtrip_str_bytes);
    mpt_add("pickle", "roundtrip_containers", test_roundtrip_containers);
    mpt_add("pickle", "roundtrip_random", test_roundtrip_random);
    mpt_add("pickle", "depth_dumps", test_depth_dumps);
    mpt_add("pickle", "depth_loads", test_depth_loads);
    mpt_add("pickle", "null_args", test_null_args);
    MPT_POSIX_ONLY("pickle", "exact_named", test_exact_named, MPT_NO_PYTHON);
    MPT_POSIX_ONLY("pickle", "exact_cpython", test_exact_cpython, MPT_NO_PYTHON);
    MPT_POSIX_ONLY("pickle", "python_protocols", test_python_protocols, MPT_NO_PYTHON);
    MPT_POSIX_ONLY("pickle", "shared_from_python", test_shared_from_python,
                   MPT_NO_PYTHON);
    MPT_POSIX_ONLY("pickle", "every_python", test_every_python, MPT_NO_PYTHON);
    mpt_add("pickle", "shared_mutated_after_get", test_shared_mutated_after_get);
    mpt_add("pickle", "shared_budget", test_shared_budget);
    MPT_POSIX_ONLY("pickle", "unsupported_from_python", test_unsupported_from_python,
                   MPT_NO_PYTHON);
    mpt_add("pickle", "unsupported_message", test_unsupported_message);
    mpt_add("pickle", "bytes_protocol2", test_bytes_protocol2);
    MPT_POSIX_ONLY("pickle", "python_reads_c", test_python_reads_c, MPT_NO_PYTHON);
    mpt_add("pickle", "truncation", test_truncation);
    mpt_add("pickle", "byte_flips", test_byte_flips);
    mpt_add("pickle", "random_bytes", test_random_bytes);
    mpt_add("pickle", "int_range", test_int_range);
    mpt_add("pickle", "huge_lengths", test_huge_lengths);
    mpt_add("pickle", "frames", test_frames);
    mpt_add("pickle", "structure_errors", test_structure_errors);
    mpt_add("pickle", "unhashable_keys", test_unhashable_keys);
    mpt_add("pickle", "mark_depth", test_mark_depth);
    mpt_add("pickle", "stack_ops", test_stack_ops);
    mpt_add("pickle", "surrogate_and_utf8", test_surrogate_and_utf8);
    mpt_add("pickle", "fast_lists", test_fast_lists);
}
