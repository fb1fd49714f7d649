/* conn/security.c - what another user, or a hostile peer, can get at.
 *
 * - Shared memory: POSIX segments are unnamed (memfd) or unlinked at once
 *   (shm_open), mode 0600 either way, and no mproc name stays in
 *   /dev/shm. Windows: a pipe's DACL grants the current user alone.
 * - A peer's length header claiming gigabytes is refused before anything
 *   is read or allocated: with maxlength, and without one by the end's
 *   ceiling (docs/security.md); the payload after the header stays
 *   unread. The peer is another process.
 * - The authkey answer is checked by its value (every byte matters); the
 *   comparison itself is constant-time by construction (core/conn/digest.c), which
 *   a test cannot time on a shared machine. */
#ifndef _WIN32
#define _DEFAULT_SOURCE /* dirfd under -std=c11 */
#endif
#include <stdlib.h>
#include <string.h>

#include "core/conn/auth.h"
#include "core/conn/conn_internal.h"
#include "platform.h"
#include "test.h"

#ifdef _WIN32
#include <windows.h>

#include <aclapi.h>
#else
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

/* ---- shared memory ------------------------------------------------------------ */

#ifndef _WIN32

enum { MAX_FD = 4096 };

static void open_fds(unsigned char *open)
{
    memset(open, 0, MAX_FD);
    DIR *d = opendir("/proc/self/fd");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd != dirfd(d) && fd >= 0 && fd < MAX_FD) open[fd] = 1;
    }
    closedir(d);
}

/* A segment nobody else can open: a regular file with no name left
 * anywhere (no link: neither in /dev/shm nor elsewhere) and no access for
 * group or others (what reopening it through /proc/<pid>/fd checks). */
static int private_segment(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0) return 0;
    if ((st.st_mode & 077) != 0 || st.st_nlink != 0) {
        fprintf(stderr, "segment fd %d: mode %o, %lu links\n", fd,
                (unsigned)(st.st_mode & 07777), (unsigned long)st.st_nlink);
        return 0;
    }
    return 1;
}

/* The primitive every object's memory comes from. */
static void shm_segment_private(void)
{
    mp_os_shm shm;
    MPT_OK(mp_os_shm_create(&shm, 4096));
    CU_ASSERT(private_segment((int)shm.handle));
    mp_os_shm_close(&shm);
}

/* The segments of real objects, found as the regular files among the fds
 * each one opened (the portable flavour's wait queues add pipes). */
static void objects_segments_private(void)
{
    static unsigned char before[MAX_FD], after[MAX_FD];
    open_fds(before);
    mp_value *v;
    mp_array *a;
    mp_queue *q;
    MPT_OK(mp_value_new(&v, 'd'));
    MPT_OK(mp_array_new(&a, 'i', 1000));
    MPT_OK(mp_queue_new(&q, 0));
    open_fds(after);
    int segments = 0;
    for (int fd = 0; fd < MAX_FD; fd++) {
        struct stat st;
        if (!after[fd] || before[fd] || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        segments++;
        CU_ASSERT(private_segment(fd));
    }
    CU_ASSERT(segments >= 3);
    mp_queue_free(q);
    mp_array_free(a);
    mp_value_free(v);
}

#else

/* The current user's SID, in a buffer the caller frees. */
static PSID user_sid(void)
{
    HANDLE tok;
    CU_ASSERT_FATAL(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok));
    DWORD need = 0;
    GetTokenInformation(tok, TokenUser, NULL, 0, &need);
    TOKEN_USER *u = malloc(need);
    CU_ASSERT_FATAL(u && GetTokenInformation(tok, TokenUser, u, need, &need));
    CloseHandle(tok);
    DWORD n = GetLengthSid(u->User.Sid);
    PSID sid = malloc(n);
    CU_ASSERT_FATAL(sid && CopySid(n, sid, u->User.Sid));
    free(u);
    return sid;
}

/* The pipe's DACL, read through one of its ends: present, not empty, and
 * every entry allows the current user and no one else. */
static int pipe_user_only(mp_conn *c, PSID me)
{
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    DWORD e = GetSecurityInfo((HANDLE)mp__conn_handle(c), SE_KERNEL_OBJECT,
                              DACL_SECURITY_INFORMATION, NULL, NULL, &dacl, NULL, &sd);
    if (e != ERROR_SUCCESS) {
        fprintf(stderr, "GetSecurityInfo: error %lu\n", (unsigned long)e);
        return 0;
    }
    int ok = dacl != NULL && dacl->AceCount > 0;
    for (DWORD i = 0; ok && i < dacl->AceCount; i++) {
        ACE_HEADER *h = NULL;
        if (!GetAce(dacl, i, (void **)&h) || h->AceType != ACCESS_ALLOWED_ACE_TYPE) {
            ok = 0;
            break;
        }
        ACCESS_ALLOWED_ACE *a = (ACCESS_ALLOWED_ACE *)h;
        if (!EqualSid((PSID)&a->SidStart, me)) {
            fprintf(stderr, "the pipe's DACL has an entry for another SID\n");
            ok = 0;
        }
    }
    if (!dacl) fprintf(stderr, "the pipe has a NULL DACL: everyone may open it\n");
    LocalFree(sd);
    return ok;
}

static void pipe_dacl_user_only(void)
{
    PSID me = user_sid();
    for (int duplex = 0; duplex < 2; duplex++) {
        mp_conn *a, *b;
        MPT_OK(mp_pipe(&a, &b, duplex));
        /* The client end: its access (GENERIC_READ or GENERIC_WRITE)
         * includes READ_CONTROL on every Windows. */
        CU_ASSERT(pipe_user_only(b, me));
        mp_conn_close(a);
        mp_conn_close(b);
    }
    free(me);
}

#endif

/* ---- a peer claiming gigabytes ------------------------------------------------ */

/* The tail every bogus header is followed by: bytes that did arrive. The
 * receiver may read them ahead into its fixed-size buffer (conn.c), but
 * must refuse the header without waiting for, or sizing anything by, the
 * bytes it claims. */
static const char tail[8] = "TAILtail";

enum { N_BOGUS = 5 };

/* What the child writes on each of its ends: a header, then the tail. */
static const struct {
    const char *hdr;
    size_t len;
} bogus[N_BOGUS] = {
    {"\xff\xff\xff\xff\x00\x00\x01\x00\x00\x00\x00\x00", 12}, /* 2^40 */
    {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12}, /* 2^64 - 1 */
    {"\x7f\xff\xff\xff", 4},                                  /* 2 GiB - 1 */
    {"\xff\xff\xff\xff\x00\x00\x00\x01\x00\x00\x00\x00", 12}, /* 4 GiB */
    {"\x40\x00\x00\x01", 4},                                  /* 1 GiB + 1 */
};

/* Child: writes each bogus header and the tail on its own end (raw, as a
 * byte stream on every OS), then waits for the parent's word before it
 * exits, so that a receiver that wrongly read on would block (until the
 * child gives up waiting), not see end of file. */
static int t_bogus_peer(const mp_args *args)
{
    for (size_t i = 0; i < N_BOGUS; i++) {
        mp_conn *c = mp_args_conn(args, i);
        MPT_CHILD_CHECK(c != NULL);
        mp_os_handle h = mp__conn_handle(c);
        MPT_CHILD_CHECK(mp_os_write_all(h, bogus[i].hdr, bogus[i].len) == 0);
        MPT_CHILD_CHECK(mp_os_write_all(h, tail, sizeof tail) == 0);
    }
    mp_conn *done = mp_args_conn(args, N_BOGUS);
    MPT_CHILD_CHECK(done != NULL);
    mp_conn_poll(done, MPT_JOIN_TIMEOUT);
    return 0;
}

static void huge_header(mp_start_method method)
{
    mp_conn *mine[N_BOGUS], *theirs[N_BOGUS], *done_r, *done_w;
    for (int i = 0; i < N_BOGUS; i++) {
        MPT_OK(mp_pipe(&mine[i], &theirs[i], 1));
        /* Byte-stream framing on both sides (a socket's, on every OS). */
        mp__conn_set_message(mine[i], 0);
    }
    MPT_OK(mp_pipe(&done_r, &done_w, 0));
    mp_process *p = mpt_start(
        t_bogus_peer,
        mp_args_of(theirs[0], theirs[1], theirs[2], theirs[3], theirs[4], done_r),
        method);
    for (int i = 0; i < N_BOGUS; i++)
        mp_conn_close(theirs[i]);
    mp_conn_close(done_r);

    void *d = NULL;
    size_t n = 0;
    char small[16];
    /* The default ceiling, without a maxlength. */
    MPT_EQ(mp_conn_recv_bytes(mine[0], &d, &n, 0), MP_ETOOBIG);
    CU_ASSERT_PTR_NULL(d);
    /* Through recv_bytes_into, where a message that does not fit would be
     * kept in memory: refused the same way, never kept. */
    MPT_EQ(mp_conn_recv_bytes_into(mine[1], small, sizeof small, 0, &n), MP_ETOOBIG);
    /* An explicit maxlength, below the ceiling. */
    MPT_EQ(mp_conn_recv_bytes(mine[2], &d, &n, 1024), MP_ETOOBIG);
    /* Decoding an object: the same receive underneath. */
    mp_obj *o = NULL;
    MPT_EQ(mp_conn_recv(mine[3], &o), MP_ETOOBIG);
    CU_ASSERT_PTR_NULL(o);
    /* Just over the ceiling, on the short form of the header. */
    MPT_EQ(mp_conn_recv_bytes(mine[4], &d, &n, 0), MP_ETOOBIG);
    /* Each refusal came while the child still waits (a receiver that read
     * on for the payload would block here), and the end says it is
     * unusable, as Python's does. */
    for (int i = 0; i < N_BOGUS; i++)
        MPT_EQ(mp_conn_poll(mine[i], 0), MP_ESTATE);
    /* A word, not end of file: a forked child holds a copy of done_w. */
    MPT_OK(mp_conn_send_bytes(done_w, "done", 0, 4));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_conn_close(done_w);
    for (int i = 0; i < N_BOGUS; i++)
        mp_conn_close(mine[i]);
}
MPT_DEFINE_BOTH(huge_header)

/* Without a ceiling (Python's behaviour, chosen with SIZE_MAX), memory
 * still only follows the bytes that really arrive: a header claiming 2^40
 * followed by a few bytes and end of file is a truncated message. */
static void no_ceiling_grows_lazily(void)
{
    mp_os_handle h[2];
    MPT_OK(mp_os_pipe(0, h));
    mp_conn *r;
    MPT_OK(mp__conn_from_handle(&r, h[0], 1, 0));
    mp__conn_set_message(r, 0);
    CU_ASSERT_EQUAL(mp_conn_max_message(r), MP_CONN_DEFAULT_MAX_MESSAGE);
    MPT_OK(mp_conn_set_max_message(r, SIZE_MAX));
    CU_ASSERT_EQUAL(mp_conn_max_message(r), SIZE_MAX);
    MPT_OK(mp_os_write_all(h[1],
                           "\xff\xff\xff\xff\x00\x00\x01\x00\x00\x00\x00\x00"
                           "abc",
                           15));
    mp_os_close(h[1]);
    void *d = NULL;
    size_t n = 0;
    MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 0), MP_EPROTO);
    mp_conn_close(r);
}

/* The ceiling is per end and changes nothing for messages under it; a
 * caller's maxlength above it wins. */
static void ceiling_per_end(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    MPT_OK(mp_conn_set_max_message(a, 3));
    CU_ASSERT_EQUAL(mp_conn_max_message(b), MP_CONN_DEFAULT_MAX_MESSAGE);
    void *d = NULL;
    size_t n = 0;
    MPT_OK(mp_conn_send_bytes(b, "abc", 0, 3));
    MPT_OK(mp_conn_recv_bytes(a, &d, &n, 0));
    CU_ASSERT_EQUAL(n, 3);
    mp_free(d);
    MPT_OK(mp_conn_send_bytes(b, "abcd", 0, 4));
    MPT_OK(mp_conn_recv_bytes(a, &d, &n, 4));
    CU_ASSERT_EQUAL(n, 4);
    mp_free(d);
    MPT_OK(mp_conn_send_bytes(a, "abcdefgh", 0, 8)); /* b's ceiling is its own */
    MPT_OK(mp_conn_recv_bytes(b, &d, &n, 0));
    CU_ASSERT_EQUAL(n, 8);
    mp_free(d);
    MPT_OK(mp_conn_send_bytes(b, "abcd", 0, 4));
    MPT_EQ(mp_conn_recv_bytes(a, &d, &n, 0), MP_ETOOBIG);
    MPT_EQ(mp_conn_recv_bytes(a, &d, &n, 0), MP_ESTATE);
    mp_conn_close(a);
    mp_conn_close(b);
}

/* ---- the authkey answer -------------------------------------------------------- */

/* Every byte of an answer counts, in both forms: the right answer passes,
 * each one-bit change anywhere in the digest fails. */
static void auth_answer_every_byte(void)
{
    static const char key[] = "the key";
    unsigned char modern[8 + MP_AUTH_MESSAGE_LENGTH] = "{sha256}";
    unsigned char legacy[20];
    for (int i = 0; i < MP_AUTH_MESSAGE_LENGTH; i++)
        modern[8 + i] = (unsigned char)(i * 7 + 1);
    for (int i = 0; i < 20; i++)
        legacy[i] = (unsigned char)(i * 13 + 5);
    const struct {
        const unsigned char *msg;
        size_t len;
    } forms[2] = {{modern, sizeof modern}, {legacy, sizeof legacy}};
    for (int f = 0; f < 2; f++) {
        unsigned char resp[MP_AUTH_RESPONSE_MAX];
        size_t rlen = 0;
        MPT_OK(mp__auth_response(key, sizeof key - 1, forms[f].msg, forms[f].len, resp,
                                 &rlen, NULL));
        MPT_OK(mp__auth_verify(key, sizeof key - 1, forms[f].msg, forms[f].len, resp,
                               rlen, NULL));
        size_t digest_at = f == 0 ? 8 : 0; /* after "{sha256}" */
        int refused = 0, tried = 0;
        for (size_t i = digest_at; i < rlen; i++)
            for (int bit = 0; bit < 8; bit++) {
                resp[i] ^= (unsigned char)(1u << bit);
                tried++;
                refused += mp__auth_verify(key, sizeof key - 1, forms[f].msg,
                                           forms[f].len, resp, rlen, NULL) == MP_EAUTH;
                resp[i] ^= (unsigned char)(1u << bit);
            }
        CU_ASSERT_EQUAL(refused, tried);
        /* One byte short or long is refused too. */
        MPT_EQ(mp__auth_verify(key, sizeof key - 1, forms[f].msg, forms[f].len, resp,
                               rlen - 1, NULL),
               MP_EAUTH);
    }
}

void mpt_suite_conn_security(void)
{
#ifndef _WIN32
    mpt_add("conn/security", "shm_segment_private", shm_segment_private);
    mpt_add("conn/security", "objects_segments_private", objects_segments_private);
    mpt_not_here("conn/security", "pipe_dacl_user_only",
                 "POSIX pipes and socket pairs have no name another user could open");
#else
    mpt_add("conn/security", "pipe_dacl_user_only", pipe_dacl_user_only);
    mpt_not_here("conn/security", "shm_segment_private",
                 "Windows sections are unnamed: no other process can open one");
    mpt_not_here("conn/security", "objects_segments_private",
                 "Windows sections are unnamed: no other process can open one");
#endif
    MPT_BOTH("conn/security", huge_header);
    mpt_add("conn/security", "no_ceiling_grows_lazily", no_ceiling_grows_lazily);
    mpt_add("conn/security", "ceiling_per_end", ceiling_per_end);
    mpt_add("conn/security", "auth_answer_every_byte", auth_answer_every_byte);
}
