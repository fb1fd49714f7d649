/* runtime/identity.c - a process's name, mp_current_process and the
 * sentinel. Mirrors _test_multiprocessing's _TestProcess.test_process (a
 * child's current_process().name is the name its Process was given),
 * test_current (in the main process: "MainProcess", its own pid) and
 * test_sentinel (not before the start; ready only once the child ended),
 * and the default names of multiprocessing.process ("Process-N", and
 * "Process-N:M" for the processes Process-N creates). */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>

#include "platform.h"
#include "test.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <poll.h>
#endif

enum { NAME_BYTES = MP_PROCESS_NAME_MAX + 1 };

/* Sends the child's own name, then the name of a process it creates. */
static int t_tell_names(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_process_info me = mp_current_process();
    MPT_CHILD_CHECK(me.pid == (int64_t)mp_os_getpid());
    MPT_CHILD_CHECK(
        mp_queue_put_bytes(q, me.name, strlen(me.name) + 1, MPT_JOIN_TIMEOUT) == 0);
    mp_process *g;
    MPT_CHILD_CHECK(mp_process_new(&g, t_tell_names, MP_NO_ARGS) == 0);
    const char *gname = mp_process_name(g);
    MPT_CHILD_CHECK(mp_queue_put_bytes(q, gname, strlen(gname) + 1, MPT_JOIN_TIMEOUT) ==
                    0);
    MPT_CHILD_CHECK(mp_process_close(g) == 0);
    return 0;
}

static void get_name(mp_queue *q, char *out)
{
    void *data = NULL;
    size_t len = 0;
    MPT_OK(mp_queue_get_bytes(q, &data, &len, MPT_JOIN_TIMEOUT));
    CU_ASSERT_FATAL(len >= 1 && len <= NAME_BYTES && ((char *)data)[len - 1] == '\0');
    memcpy(out, data, len);
    mp_free(data);
}

static void names(mp_start_method method)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    mp_process *a, *b;
    MPT_OK(mp_process_new(&a, t_tell_names, mp_args_of(q)));
    MPT_OK(mp_process_new(&b, t_tell_names, mp_args_of(q)));
    unsigned na = 0, nb = 0;
    CU_ASSERT_EQUAL(sscanf(mp_process_name(a), "Process-%u", &na), 1);
    CU_ASSERT_EQUAL(sscanf(mp_process_name(b), "Process-%u", &nb), 1);
    CU_ASSERT_EQUAL(nb, na + 1);

    /* The default name reaches the child, and so does a given one. */
    MPT_OK(mp_process_set_name(b, "SomeProcess"));
    CU_ASSERT_STRING_EQUAL(mp_process_name(b), "SomeProcess");
    char own[NAME_BYTES], made[NAME_BYTES], expect[NAME_BYTES];
    MPT_OK(mp_process_set_start_method(a, method));
    MPT_OK(mp_process_start(a));
    get_name(q, own);
    get_name(q, made);
    CU_ASSERT_EQUAL(mpt_join(a), 0);
    snprintf(expect, sizeof expect, "Process-%u", na);
    CU_ASSERT_STRING_EQUAL(own, expect);
    snprintf(expect, sizeof expect, "Process-%u:1", na);
    CU_ASSERT_STRING_EQUAL(made, expect);

    MPT_OK(mp_process_set_start_method(b, method));
    MPT_OK(mp_process_start(b));
    get_name(q, own);
    get_name(q, made);
    CU_ASSERT_EQUAL(mpt_join(b), 0);
    CU_ASSERT_STRING_EQUAL(own, "SomeProcess");
    snprintf(expect, sizeof expect, "Process-%u:1", nb);
    CU_ASSERT_STRING_EQUAL(made, expect); /* numbered by identity, not by name */
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(names)

static int t_nothing(const mp_args *args)
{
    (void)args;
    return 0;
}

static void main_process_and_misuse(void)
{
    mp_process_info me = mp_current_process();
    CU_ASSERT_STRING_EQUAL(me.name, "MainProcess");
    CU_ASSERT_EQUAL(me.pid, (int64_t)mp_os_getpid());

    mp_process *p;
    MPT_OK(mp_process_new(&p, t_nothing, MP_NO_ARGS));
    char before[NAME_BYTES];
    snprintf(before, sizeof before, "%s", mp_process_name(p));
    char longest[NAME_BYTES + 1];
    memset(longest, 'x', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0'; /* one byte too many */
    MPT_EQ(mp_process_set_name(p, longest), MP_ETOOBIG);
    MPT_EQ(mp_process_set_name(p, NULL), MP_EINVAL);
    MPT_EQ(mp_process_set_name(NULL, "x"), MP_EINVAL);
    CU_ASSERT_STRING_EQUAL(mp_process_name(p), before); /* nothing changed */
    longest[MP_PROCESS_NAME_MAX] = '\0';
    MPT_OK(mp_process_set_name(p, longest)); /* the longest allowed */
    CU_ASSERT_EQUAL(strlen(mp_process_name(p)), (size_t)MP_PROCESS_NAME_MAX);
    CU_ASSERT_PTR_NULL(mp_process_name(NULL));

    intptr_t h = 0;
    MPT_EQ(mp_process_sentinel(p, &h), MP_ESTATE);
    MPT_EQ(mp_process_sentinel(p, NULL), MP_EINVAL);
    MPT_EQ(mp_process_sentinel(NULL, &h), MP_EINVAL);
    MPT_OK(mp_process_start(p));
    MPT_EQ(mp_process_set_name(p, "late"), MP_ESTATE);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
}

/* 1 if the sentinel is ready within ms milliseconds. */
static int sentinel_ready(intptr_t h, int ms)
{
#ifdef _WIN32
    return WaitForSingleObject((HANDLE)h, (DWORD)ms) == WAIT_OBJECT_0;
#else
    struct pollfd pfd = {(int)h, POLLIN, 0};
    return poll(&pfd, 1, ms) == 1;
#endif
}

static int t_wait_event(const mp_args *args)
{
    return mp_event_wait(mp_args_event(args, 0), MPT_JOIN_TIMEOUT) == 0 ? 0 : 1;
}

static void sentinel(mp_start_method method)
{
    mp_event *go;
    MPT_OK(mp_event_new(&go));
    mp_process *p;
    MPT_OK(mp_process_new(&p, t_wait_event, mp_args_of(go)));
    MPT_OK(mp_process_set_start_method(p, method));
    MPT_OK(mp_process_start(p));
    intptr_t h = 0;
    MPT_OK(mp_process_sentinel(p, &h));
    CU_ASSERT(h != (intptr_t)MP_OS_NO_HANDLE);
    CU_ASSERT_FALSE(sentinel_ready(h, 100)); /* the child waits for go */
    MPT_OK(mp_event_set(go));
    CU_ASSERT_TRUE(sentinel_ready(h, (int)(MPT_JOIN_TIMEOUT * 1000)));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_event_free(go);
}
MPT_DEFINE_BOTH(sentinel)

void mpt_suite_runtime_identity(void)
{
    MPT_BOTH("runtime/identity", names);
    mpt_add("runtime/identity", "main_process_and_misuse", main_process_and_misuse);
    MPT_BOTH("runtime/identity", sentinel);
}
