/* interop/shared_memory.c - one SharedMemory block between C and Python,
 * by name, against every Python 3.8+ on the machine: C creates and
 * Python attaches, Python creates and C attaches, and what Python's own
 * tracker does to a block C made when Python attaches the default way
 * (cpython gh-82300: it unlinks the name when the Python process exits;
 * C's view and data survive, and C's unlink then says the name is gone). */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>

#include "child.h"
#include "core/conn/conn_internal.h"
#include "pythons.h"
#include "test.h"

#ifndef _WIN32

static const mpt_python *pythons;
static int npythons = -1;

static int find_pythons(void)
{
    if (npythons < 0) pythons = mpt_pythons("interop/shared_memory", &npythons);
    return npythons;
}

/* Starts py_shm.py under Python i with mode and name; *ours is the C end
 * of its Connection. Returns the pid. */
static long start(int i, const char *mode, const char *name, mp_conn **ours)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/interop/py_shm.py", mpt_source_dir());
    mp_conn *theirs;
    MPT_OK(mp_pipe(ours, &theirs, 1));
    const char *argv[] = {pythons[i].path, path, "100", mode, name, NULL};
    long pid = mpt_spawn_program(argv, (int)mp__conn_handle(theirs), 100);
    mp_conn_close(theirs);
    return pid;
}

static int said(mp_conn *c, const char *want)
{
    char buf[64];
    size_t n = 0;
    int rc = mp_conn_recv_bytes_into(c, buf, sizeof buf, 0, &n);
    return rc == 0 && n == strlen(want) && memcmp(buf, want, n) == 0;
}

static int finish(int i, long pid, mp_conn *c)
{
    mp_conn_close(c);
    int code = mpt_wait_program(pid);
    if (code != 0) fprintf(stderr, "python %s: exit %d\n", pythons[i].version, code);
    return code;
}

/* C creates, Python attaches untracked, checks and writes; the name stays. */
static void c_creates(void)
{
    CU_ASSERT_FATAL(find_pythons() > 0);
    for (int i = 0; i < npythons; i++) {
        mp_shared_memory *s, *again;
        mp_conn *c;
        MPT_OK(mp_shared_memory_create(&s, NULL, 4096));
        memcpy(mp_shared_memory_buf(s), "from C", 6);
        long pid = start(i, "attach", mp_shared_memory_name(s), &c);
        CU_ASSERT_FATAL(pid > 0);
        CU_ASSERT_TRUE(said(c, "done"));
        CU_ASSERT_EQUAL(finish(i, pid, c), 0);
        CU_ASSERT(memcmp(mp_shared_memory_buf(s), "from Py", 7) == 0);
        MPT_OK(mp_shared_memory_attach(&again, mp_shared_memory_name(s)));
        mp_shared_memory_free(again);
        MPT_OK(mp_shared_memory_unlink(s));
        mp_shared_memory_free(s);
    }
}

/* Python creates; C attaches by name, reads, writes; Python sees it and
 * unlinks. */
static void python_creates(void)
{
    CU_ASSERT_FATAL(find_pythons() > 0);
    for (int i = 0; i < npythons; i++) {
        mp_conn *c;
        long pid = start(i, "create", "-", &c);
        CU_ASSERT_FATAL(pid > 0);
        char name[MP_SHARED_MEMORY_NAME_MAX + 1];
        size_t n = 0;
        MPT_OK(mp_conn_recv_bytes_into(c, name, sizeof name - 1, 0, &n));
        name[n] = '\0';
        CU_ASSERT(strncmp(name, "psm_", 4) == 0);
        mp_shared_memory *s;
        MPT_OK(mp_shared_memory_attach(&s, name));
        CU_ASSERT_EQUAL(mp_shared_memory_size(s), 4096); /* fstat's, as Python reads it */
        CU_ASSERT(memcmp(mp_shared_memory_buf(s), "from Py", 7) == 0);
        memcpy(mp_shared_memory_buf(s), "from C", 6);
        MPT_OK(mp_conn_send_bytes(c, "attached", 0, 8));
        CU_ASSERT_TRUE(said(c, "unlinked"));
        CU_ASSERT_EQUAL(finish(i, pid, c), 0);
        MPT_OK(mp_shared_memory_close(s));
        mp_shared_memory_free(s);
        mp_shared_memory *gone = NULL;
        MPT_EQ(mp_shared_memory_attach(&gone, name), MP_ENOTFOUND);
    }
}

/* Python's default attach (tracked): its resource tracker unlinks C's
 * name after the Python process exits. mproc cannot stop another
 * program's tracker; what it guarantees is that C's view and data live
 * on, and that the creator's unlink then reports MP_ENOTFOUND rather than
 * failing otherwise. */
static void python_tracker_unlinks(void)
{
    CU_ASSERT_FATAL(find_pythons() > 0);
    mp_shared_memory *s;
    mp_conn *c;
    MPT_OK(mp_shared_memory_create(&s, NULL, 4096));
    memcpy(mp_shared_memory_buf(s), "from C", 6);
    int last = npythons - 1;
    long pid = start(last, "tracked", mp_shared_memory_name(s), &c);
    CU_ASSERT_FATAL(pid > 0);
    CU_ASSERT_TRUE(said(c, "done"));
    CU_ASSERT_EQUAL(finish(last, pid, c), 0);
    /* The tracker is a process of its own: it unlinks when it sees the
     * Python program gone, a moment later. */
    int rc = 0;
    for (int k = 0; k < 500; k++) {
        mp_shared_memory *probe = NULL;
        rc = mp_shared_memory_attach(&probe, mp_shared_memory_name(s));
        mp_shared_memory_free(probe);
        if (rc == MP_ENOTFOUND) break;
        mpt_sleep_ms(10);
    }
    MPT_EQ(rc, MP_ENOTFOUND);
    CU_ASSERT(memcmp(mp_shared_memory_buf(s), "from Py", 7) == 0);
    MPT_EQ(mp_shared_memory_unlink(s), MP_ENOTFOUND);
    mp_shared_memory_free(s);
}

static int item_repr_is(mp_shareable_list *l, int64_t i, const char *want)
{
    mp_obj *o = NULL;
    char *repr = NULL;
    int ok = mp_shareable_list_get(l, i, &o) == 0 && mp_obj_repr(o, &repr) == 0 &&
             strcmp(repr, want) == 0;
    if (!ok) fprintf(stderr, "item %lld: %s, wanted %s\n", (long long)i, repr, want);
    mp_free(repr);
    mp_obj_free(o);
    return ok;
}

/* C makes a ShareableList; Python reads every item as made and changes
 * three, which C then reads. Python 3.8 reads only its own older layout
 * (item sizes where 3.9 and later keep offsets), which mproc reads but
 * does not write. */
static void c_creates_list(void)
{
    CU_ASSERT_FATAL(find_pythons() > 0);
    for (int i = 0; i < npythons; i++) {
        if (pythons[i].major == 3 && pythons[i].minor < 9) {
            fprintf(stderr,
                    MPT_NOTE "c_creates_list: Python %s skipped: it reads only "
                             "its own ShareableList layout\n",
                    pythons[i].version);
            continue;
        }
        mp_obj *items = MP_LIST(mp_obj_str("h\xc3\xa9llo"), mp_obj_bytes("HoWdY", 5),
                                mp_obj_float(-273.154), mp_obj_int(100), mp_obj_none(),
                                mp_obj_bool(1), mp_obj_bool(0),
                                mp_obj_str("\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"),
                                mp_obj_bytes("a\0b", 3));
        mp_shareable_list *l;
        mp_conn *c;
        MPT_OK(mp_shareable_list_new(&l, NULL, items));
        mp_obj_free(items);
        const char *name = mp_shared_memory_name(mp_shareable_list_shm(l));
        long pid = start(i, "sl_read", name, &c);
        CU_ASSERT_FATAL(pid > 0);
        CU_ASSERT_TRUE(said(c, "done"));
        CU_ASSERT_EQUAL(finish(i, pid, c), 0);
        CU_ASSERT_TRUE(item_repr_is(l, 1, "b'new'"));
        CU_ASSERT_TRUE(item_repr_is(l, 2, "'dry ice'"));
        CU_ASSERT_TRUE(item_repr_is(l, 7, "'\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9'"));
        CU_ASSERT_TRUE(item_repr_is(l, 8, "b'a\\x00b'"));
        MPT_OK(mp_shared_memory_unlink(mp_shareable_list_shm(l)));
        mp_shareable_list_free(l);
    }
}

/* Python makes the docs' list plus a str its slot sizing cuts in the
 * middle of a character; C reads what Python reads (and where Python's
 * reader fails, C says MP_EPROTO), sets an item, Python sees it. */
static void python_creates_list(void)
{
    static const char *docs[] = {"'howdy'", "b'HoWdY'", "-273.154", "100",
                                 "None",    "True",     "42"};
    CU_ASSERT_FATAL(find_pythons() > 0);
    for (int i = 0; i < npythons; i++) {
        mp_conn *c;
        long pid = start(i, "sl_create", "-", &c);
        CU_ASSERT_FATAL(pid > 0);
        char name[MP_SHARED_MEMORY_NAME_MAX + 1], report[128];
        size_t n = 0, r = 0;
        MPT_OK(mp_conn_recv_bytes_into(c, name, sizeof name - 1, 0, &n));
        name[n] = '\0';
        MPT_OK(mp_conn_recv_bytes_into(c, report, sizeof report - 1, 0, &r));
        report[r] = '\0';
        mp_shareable_list *l;
        MPT_OK(mp_shareable_list_attach(&l, name));
        CU_ASSERT_EQUAL(mp_shareable_list_len(l), 8);
        for (int k = 0; k < 7; k++)
            CU_ASSERT_TRUE(item_repr_is(l, k, docs[k]));
        if (strcmp(report, "UnicodeDecodeError") == 0) {
            mp_obj *o = NULL;
            MPT_EQ(mp_shareable_list_get(l, 7, &o), MP_EPROTO);
        } else {
            CU_ASSERT_TRUE(item_repr_is(l, 7, report));
        }
        mp_obj *v = mp_obj_str("HOWDY!");
        MPT_OK(mp_shareable_list_set(l, 0, v));
        mp_obj_free(v);
        MPT_OK(mp_conn_send_bytes(c, "read", 0, 4));
        CU_ASSERT_TRUE(said(c, "unlinked"));
        CU_ASSERT_EQUAL(finish(i, pid, c), 0);
        mp_shareable_list_free(l);
    }
}

void mpt_suite_interop_shared_memory(void)
{
    mpt_add("interop/shared_memory", "c_creates", c_creates);
    mpt_add("interop/shared_memory", "python_creates", python_creates);
    mpt_add("interop/shared_memory", "python_tracker_unlinks", python_tracker_unlinks);
    mpt_add("interop/shared_memory", "c_creates_list", c_creates_list);
    mpt_add("interop/shared_memory", "python_creates_list", python_creates_list);
}

#else

void mpt_suite_interop_shared_memory(void)
{
    mpt_not_here("interop/shared_memory", "c_creates", MPT_NO_PYTHON);
    mpt_not_here("interop/shared_memory", "python_creates", MPT_NO_PYTHON);
    mpt_not_here("interop/shared_memory", "python_tracker_unlinks", MPT_NO_PYTHON);
    mpt_not_here("interop/shared_memory", "c_creates_list", MPT_NO_PYTHON);
    mpt_not_here("interop/shared_memory", "python_creates_list", MPT_NO_PYTHON);
}

#endif
