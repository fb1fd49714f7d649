/* shared/shared_memory.c - SharedMemory by name: Python's names, sizes and
 * errors (_TestSharedMemory.test_shared_memory_basics), attaching across
 * processes by name and as an argument, and the lifetime rules: attaching,
 * a failed attach, closing and exiting never unlink. */
#include <stdio.h>
#include <string.h>

#include "platform.h"
#include "stage.h"
#include "test.h"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

/* A name of this test run, so that runs side by side never meet. */
static const char *test_name(const char *what)
{
    static char name[MP_SHARED_MEMORY_NAME_MAX + 1];
    snprintf(name, sizeof name, "mpt%u_%s", (unsigned)mp_current_process().pid, what);
    return name;
}

/* The name is gone: attaching fails, and says so (Windows: once no
 * handle is open). */
static int gone(const char *name)
{
    mp_shared_memory *s = NULL;
    int rc = mp_shared_memory_attach(&s, name);
    mp_shared_memory_free(s);
    return rc == MP_ENOTFOUND;
}

/* _TestSharedMemory.test_shared_memory_basics. */
static void basics(void)
{
    const char *name = test_name("basic");
    mp_shared_memory *a, *b, *dup = NULL;
    MPT_OK(mp_shared_memory_create(&a, name, 512));
    CU_ASSERT_STRING_EQUAL(mp_shared_memory_name(a), name);
    CU_ASSERT(mp_shared_memory_size(a) >= 512);
    unsigned char *buf = mp_shared_memory_buf(a);
    CU_ASSERT_EQUAL(buf[0], 0);
    CU_ASSERT_EQUAL(buf[511], 0);
    memcpy(buf, "howdy", 5);

    MPT_OK(mp_shared_memory_attach(&b, name));
    CU_ASSERT(mp_shared_memory_size(b) >= 512);
    CU_ASSERT(memcmp(mp_shared_memory_buf(b), "howdy", 5) == 0);
    ((unsigned char *)mp_shared_memory_buf(b))[5] = '!';
    CU_ASSERT_EQUAL(buf[5], '!');

    MPT_EQ(mp_shared_memory_create(&dup, name, 512), MP_EEXIST); /* FileExistsError */
    CU_ASSERT_PTR_NULL(dup);
    MPT_EQ(mp_shared_memory_create(&dup, NULL, 0), MP_EINVAL); /* size must be > 0 */
    MPT_EQ(mp_shared_memory_attach(&dup, test_name("none")), MP_ENOTFOUND);

    /* close ends the view and keeps the name; unlink after close, as the
     * docs do it. */
    MPT_OK(mp_shared_memory_close(b));
    CU_ASSERT_PTR_NULL(mp_shared_memory_buf(b));
    CU_ASSERT(mp_shared_memory_size(b) >= 512);
    MPT_OK(mp_shared_memory_close(b));
    mp_shared_memory_free(b);
    MPT_OK(mp_shared_memory_close(a));
    MPT_OK(mp_shared_memory_unlink(a));
    mp_shared_memory_free(a);
    CU_ASSERT_TRUE(gone(name));
}

/* A name made up here is Python's: the prefix and as many random bytes
 * in hex as fit in 14 characters (FreeBSD's limit): "psm_" and 10 digits,
 * "wnsm_" and 8. */
static void random_names(void)
{
    mp_shared_memory *a, *b;
    MPT_OK(mp_shared_memory_create(&a, NULL, 100));
    MPT_OK(mp_shared_memory_create(&b, NULL, 100));
    const char *na = mp_shared_memory_name(a), *nb = mp_shared_memory_name(b);
#ifdef _WIN32
    const char *prefix = "wnsm_";
#else
    const char *prefix = "psm_";
#endif
    size_t hex = (14 - strlen(prefix)) / 2 * 2; /* Python's: whole bytes in hex */
    CU_ASSERT_EQUAL(strlen(na), strlen(prefix) + hex);
    CU_ASSERT(strncmp(na, prefix, strlen(prefix)) == 0);
    CU_ASSERT(strspn(na + strlen(prefix), "0123456789abcdef") == hex);
    CU_ASSERT(strcmp(na, nb) != 0);
    for (int i = 0; i < 2; i++) {
        mp_shared_memory *s = i ? b : a;
        char name[MP_SHARED_MEMORY_NAME_MAX + 1];
        snprintf(name, sizeof name, "%s", mp_shared_memory_name(s));
        MPT_OK(mp_shared_memory_unlink(s));
        mp_shared_memory_free(s);
        CU_ASSERT_TRUE(gone(name));
    }
}

/* Attaches by name only (as an unrelated process would), checks and
 * changes the block, closes and exits: none of which may unlink. */
static int t_attach_by_name(const mp_args *args)
{
    const char *name;
    mp_shared_memory *s;
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &name) == 0);
    MPT_CHILD_CHECK(mp_shared_memory_attach(&s, name) == 0);
    unsigned char *p = mp_shared_memory_buf(s);
    MPT_CHILD_CHECK(memcmp(p, "parent", 6) == 0);
    memcpy(p, "child!", 6);
    MPT_CHILD_CHECK(mp_shared_memory_close(s) == 0);
    mp_shared_memory_free(s);
    return 0;
}

/* The creator's block outlives an attacher (cpython gh-82300: Python's
 * tracker unlinked it when an attacher exited). */
static void attacher_never_unlinks(mp_start_method m)
{
    const char *name = test_name("att");
    mp_shared_memory *s, *again;
    MPT_OK(mp_shared_memory_create(&s, name, 4096));
    memcpy(mp_shared_memory_buf(s), "parent", 6);
    CU_ASSERT_EQUAL(mpt_run(t_attach_by_name, mp_args_of(name), m), 0);
    CU_ASSERT(memcmp(mp_shared_memory_buf(s), "child!", 6) == 0);
    MPT_OK(mp_shared_memory_attach(&again, name)); /* still there by name */
    mp_shared_memory_free(again);
    MPT_OK(mp_shared_memory_unlink(s));
    mp_shared_memory_free(s);
}
MPT_DEFINE_BOTH(attacher_never_unlinks)

/* Writes its argument's view and unlinks nothing. */
static int t_write_arg(const mp_args *args)
{
    mp_shared_memory *s = mp_args_shared_memory(args, 0);
    MPT_CHILD_CHECK(s != NULL && mp_shared_memory_size(s) >= 64);
    memcpy(mp_shared_memory_buf(s), "by arg", 6);
    return 0;
}

/* As an argument the child gets the block itself, not a name to look up:
 * it reaches it even after the name was unlinked (POSIX). */
static void as_argument(mp_start_method m)
{
    mp_shared_memory *s;
    MPT_OK(mp_shared_memory_create(&s, NULL, 64));
    char name[MP_SHARED_MEMORY_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", mp_shared_memory_name(s));
    MPT_OK(mp_shared_memory_unlink(s));
    CU_ASSERT_EQUAL(mpt_run(t_write_arg, mp_args_of(s), m), 0);
    CU_ASSERT(memcmp(mp_shared_memory_buf(s), "by arg", 6) == 0);
    MPT_OK(mp_shared_memory_close(s));
    mp_process *p;
    MPT_OK(mp_process_new(&p, t_write_arg, mp_args_of(s)));
    MPT_EQ(mp_process_start(p), MP_ESTATE); /* a closed view cannot travel */
    MPT_OK(mp_process_free(p));
    mp_shared_memory_free(s);
    CU_ASSERT_TRUE(gone(name));
}
MPT_DEFINE_BOTH(as_argument)

/* Waits until the name is gone: 1, or 0 after MPT_JOIN_TIMEOUT. */
static int goes(const char *name)
{
    double deadline = mpt_now() + MPT_JOIN_TIMEOUT;
    while (!gone(name))
        if (mpt_now() > deadline)
            return 0;
        else
            mpt_sleep_ms(5);
    return 1;
}

/* Makes a tracked block named args[0], says so, then waits to be killed. */
static int t_track_and_hang(const mp_args *args)
{
    const char *name;
    mp_shared_memory *s;
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &name) == 0);
    MPT_CHILD_CHECK(mp_shared_memory_create_tracked(&s, name, 4096) == 0);
    MPT_CHILD_CHECK(mpt_stage_set(mp_args_value(args, 1), 1) == 0);
    mpt_sleep_ms((int)(MPT_JOIN_TIMEOUT * 1000));
    return 1;
}

/* A tracked block's creator killed: its name is unlinked all the same
 * (Python's resource tracker does this for a killed creator; mproc's
 * attach, unlike Python's before 3.13, is never what triggers it). */
static void tracked_creator_killed(mp_start_method m)
{
    const char *name = test_name("killed");
    mp_value *stage;
    MPT_OK(mp_value_new(&stage, 'i'));
    mp_process *p = mpt_start(t_track_and_hang, mp_args_of(name, stage), m);
    CU_ASSERT_TRUE_FATAL(mpt_stage_wait(stage, 1));
    mp_shared_memory *view;
    MPT_OK(mp_shared_memory_attach(&view, name)); /* an attacher: no effect */
    mp_shared_memory_free(view);
    CU_ASSERT_FALSE(gone(name));
    MPT_OK(mp_process_kill(p));
    CU_ASSERT(mpt_join(p) != 0);
    CU_ASSERT_TRUE(goes(name));
    mp_value_free(stage);
}
MPT_DEFINE_BOTH(tracked_creator_killed)

#ifndef _WIN32
/* The grandchild: says whether it holds the tracker's pipe (2) or not
 * (9), then waits for its cue to end. */
static int t_hold(const mp_args *args)
{
    mp_value *stage = mp_args_value(args, 0);
    MPT_CHILD_CHECK(
        mpt_stage_set(stage, mp_os_shm_tracker() != MP_OS_NO_HANDLE ? 2 : 9) == 0);
    MPT_CHILD_CHECK(mpt_stage_wait(stage, 3));
    return 0;
}

/* Makes a tracked block, starts a grandchild (which gets the tracker
 * with its bootstrap data) and ends without waiting for it. */
static int t_track_and_leave(const mp_args *args)
{
    const char *name;
    mp_shared_memory *s;
    mp_value *stage = mp_args_value(args, 1);
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &name) == 0);
    MPT_CHILD_CHECK(mp_shared_memory_create_tracked(&s, name, 4096) == 0);
    mp_process *g;
    MPT_CHILD_CHECK(mp_process_new(&g, t_hold, mp_args_of(stage)) == 0);
    MPT_CHILD_CHECK(mp_process_start(g) == 0);
    MPT_CHILD_CHECK(mpt_stage_wait(stage, 2));
    mp_shared_memory_free(s);
    /* Python's exit would wait for the grandchild; this child must not,
     * to show that the name outlives it while the program runs on. */
    mp_os_exit(0, 1);
    return 0;
}

/* The name lives while any process of the creator's program runs (the
 * grandchild holds the tracker's pipe), and goes when the last ends. */
static void tracked_until_program_ends(mp_start_method m)
{
    const char *name = test_name("prog");
    mp_value *stage;
    int64_t st = 0;
    MPT_OK(mp_value_new(&stage, 'i'));
    mp_process *p = mpt_start(t_track_and_leave, mp_args_of(name, stage), m);
    CU_ASSERT_TRUE_FATAL(mpt_stage_wait(stage, 2));
    MPT_OK(mp_value_get_int(stage, &st));
    CU_ASSERT_EQUAL(st, 2);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    CU_ASSERT_FALSE(gone(name));
    MPT_OK(mpt_stage_set(stage, 3));
    CU_ASSERT_TRUE(goes(name));
    mp_value_free(stage);
}
MPT_DEFINE_BOTH(tracked_until_program_ends)
#endif

#ifndef _WIN32
/* Tracks X, unlinks it, makes an untracked X again, tracks Y, exits. */
static int t_unlink_then_remake(const mp_args *args)
{
    const char *x, *y;
    mp_shared_memory *a, *b, *c;
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &x) == 0 &&
                    mp_args_get_str(args, 1, &y) == 0);
    MPT_CHILD_CHECK(mp_shared_memory_create_tracked(&a, x, 64) == 0);
    MPT_CHILD_CHECK(mp_shared_memory_unlink(a) == 0);
    MPT_CHILD_CHECK(mp_shared_memory_create(&b, x, 64) == 0);
    MPT_CHILD_CHECK(mp_shared_memory_create_tracked(&c, y, 64) == 0);
    mp_shared_memory_free(a);
    mp_shared_memory_free(b);
    mp_shared_memory_free(c);
    return 0;
}

/* An unlink takes the name off the tracker's list (Python's unlink
 * unregisters it): a later block of the same name, made untracked, is
 * the caller's and stays. Y, tracked after it, shows when the tracker is
 * done: its lines are read in order. */
static void unlink_untracks(void)
{
    char x[MP_SHARED_MEMORY_NAME_MAX + 1];
    snprintf(x, sizeof x, "%s", test_name("x"));
    const char *y = test_name("y");
    CU_ASSERT_EQUAL(mpt_run(t_unlink_then_remake, mp_args_of(x, y), MP_START_SPAWN), 0);
    CU_ASSERT_TRUE(goes(y));
    mp_shared_memory *s;
    MPT_OK(mp_shared_memory_attach(&s, x));
    MPT_OK(mp_shared_memory_unlink(s));
    mp_shared_memory_free(s);
}
#endif

/* Bad names and NULLs are refused before anything is made. */
static void misuse(void)
{
    mp_shared_memory *s = (mp_shared_memory *)&s;
    MPT_EQ(mp_shared_memory_create(NULL, NULL, 1), MP_EINVAL);
    MPT_EQ(mp_shared_memory_create(&s, "", 1), MP_EINVAL);
    CU_ASSERT_PTR_NULL(s);
    MPT_EQ(mp_shared_memory_create(&s, "a/b", 1), MP_EINVAL);
    MPT_EQ(mp_shared_memory_create(&s, "a\\b", 1), MP_EINVAL);
    MPT_EQ(mp_shared_memory_create(&s, "0123456789012345678901234567890", 1), MP_EINVAL);
    MPT_EQ(mp_shared_memory_attach(&s, NULL), MP_EINVAL);
    MPT_EQ(mp_shared_memory_attach(NULL, "x"), MP_EINVAL);
    MPT_EQ(mp_shared_memory_close(NULL), MP_EINVAL);
    MPT_EQ(mp_shared_memory_unlink(NULL), MP_EINVAL);
    CU_ASSERT_PTR_NULL(mp_shared_memory_buf(NULL));
    CU_ASSERT_EQUAL(mp_shared_memory_size(NULL), 0);
    CU_ASSERT_STRING_EQUAL(mp_shared_memory_name(NULL), "");
    mp_shared_memory_free(NULL);
    CU_ASSERT_STRING_EQUAL(mp_error_name(MP_EEXIST), "MP_EEXIST");
    CU_ASSERT_STRING_EQUAL(mp_error_name(MP_ENOTFOUND), "MP_ENOTFOUND");
}

#ifndef _WIN32
/* A failed attach leaves the name alone (cpython gh-153279: Python's
 * unlinked someone else's block when its attach failed): a block of size
 * 0, which cannot be mapped, made behind mproc's back. */
static void failed_attach_keeps_name(void)
{
    const char *name = test_name("empty");
    char path[64];
    snprintf(path, sizeof path, "/%s", name);
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    mp_shared_memory *s = NULL;
    MPT_EQ(mp_shared_memory_attach(&s, name), MP_EINVAL);
    CU_ASSERT_PTR_NULL(s);
    fd = shm_open(path, O_RDWR, 0);
    CU_ASSERT(fd >= 0); /* still there */
    if (fd >= 0) close(fd);
    CU_ASSERT_EQUAL(shm_unlink(path), 0);
    MPT_EQ(mp_shared_memory_attach(&s, name), MP_ENOTFOUND);
    /* And unlinking a name twice says the second time that it is gone. */
    MPT_OK(mp_shared_memory_create(&s, name, 8));
    MPT_OK(mp_shared_memory_unlink(s));
    MPT_EQ(mp_shared_memory_unlink(s), MP_ENOTFOUND);
    mp_shared_memory_free(s);
}
#endif

#define NO_NAMES_LEFT                                                                    \
    "Windows keeps a block only while a handle is open, so one the grandchild does "     \
    "not hold goes with the child, tracked or not; tracked_creator_killed covers "       \
    "Windows"

void mpt_suite_shared_shared_memory(void)
{
    mpt_add("shared/shared_memory", "basics", basics);
    mpt_add("shared/shared_memory", "random_names", random_names);
    MPT_BOTH("shared/shared_memory", attacher_never_unlinks);
    MPT_BOTH("shared/shared_memory", as_argument);
    MPT_BOTH("shared/shared_memory", tracked_creator_killed);
    MPT_POSIX_ONLY("shared/shared_memory", "tracked_until_program_ends_spawn",
                   tracked_until_program_ends_spawn, NO_NAMES_LEFT);
    MPT_POSIX_ONLY("shared/shared_memory", "tracked_until_program_ends_fork",
                   tracked_until_program_ends_fork, NO_NAMES_LEFT);
    mpt_add("shared/shared_memory", "misuse", misuse);
    MPT_POSIX_ONLY("shared/shared_memory", "unlink_untracks", unlink_untracks,
                   "a name outlives its last handle only on POSIX; on Windows the "
                   "remade block goes with the child, tracked or not");
    MPT_POSIX_ONLY("shared/shared_memory", "failed_attach_keeps_name",
                   failed_attach_keeps_name,
                   "it makes a block of size 0 with shm_open, which Windows has no "
                   "form of (a section has a size); attach there never unlinks at all");
}
