/* platform.h - the internal OS interface (mp_os_*).
 *
 * src/core is portable C and reaches the operating system only through the
 * functions declared here; src/posix implements them on POSIX systems and
 * src/win32 on Windows. Nothing in this file names a system type: OS
 * objects are mp_os_handle (an fd or a HANDLE, as an integer) or opaque
 * pointers allocated by the layer.
 *
 * Errors are MP_E* codes; a failing OS call returns MP_ESYS after
 * recording what failed with mp_set_error() (core/error.h).
 *
 * Deadlines are absolute times in nanoseconds of mp_os_now_ns(), a
 * monotonic clock; MP_NO_DEADLINE means wait forever. */
#ifndef MP_PLATFORM_H
#define MP_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "base/atomics.h"

typedef intptr_t mp_os_handle;
#define MP_OS_NO_HANDLE ((mp_os_handle)-1)
#define MP_NO_DEADLINE  UINT64_MAX

/* ---- clock, identity ------------------------------------------------------ */

/* Monotonic time in nanoseconds. */
uint64_t mp_os_now_ns(void);

/* This process's id (never 0). */
uint32_t mp_os_getpid(void);

/* The layer's cache of that id: 0 until first asked, and again in the
 * child of a fork. Read through mp_os_self(). */
extern mp_atomic_u32 mp__os_pid;

/* mp_os_getpid() without a call once the id is cached: for the paths
 * every message takes (taking a shared lock). */
static inline uint32_t mp_os_self(void)
{
    uint32_t pid = mp_load32(&mp__os_pid, MP_RELAXED);
    return pid ? pid : mp_os_getpid();
}

/* 0 if no process with this id exists (so a lock it held is abandoned);
 * 1 if one exists or the answer is unknown (e.g. no permission to ask). */
int mp_os_pid_alive(uint32_t pid);

/* The number of CPUs of the system (usable 0), or of those this process
 * may run on (usable 1: its affinity where the OS keeps one, else all);
 * MP_EUNSUPPORTED if the OS cannot tell. */
int mp_os_cpu_count(int usable);

/* Fills buf with n unpredictable bytes (for unguessable names). */
int mp_os_random(void *buf, size_t n);

/* Sleeps about ns nanoseconds; used only to back off in rare slow paths. */
void mp_os_sleep_ns(uint64_t ns);

/* Asks the C library to keep up to bytes of freed memory in this
 * process rather than give it back at once: for processes mproc owns
 * whole (pool workers), whose every task frees what the next allocates
 * again. Does nothing where the library has no such setting. */
void mp_os_heap_keep(size_t bytes);

/* Gives the CPU to another thread that is ready to run on it, if any
 * (returns at once otherwise). */
void mp_os_yield(void);

/* ---- shared memory -------------------------------------------------------- */

/* A mapped segment. The handle is what a child inherits; base is where the
 * segment is mapped in this process (it may differ in every process). */
typedef struct mp_os_shm {
    mp_os_handle handle;
    void *base;
    size_t size;
} mp_os_shm;

/* Creates an anonymous zero-filled segment of size bytes that no other
 * process can open by name, and maps it. Pages are allocated on first
 * touch. */
int mp_os_shm_create(mp_os_shm *shm, size_t size);

/* Maps a segment from an inherited handle. Takes ownership of handle,
 * also on failure. */
int mp_os_shm_attach(mp_os_shm *shm, mp_os_handle handle, size_t size);

/* Unmaps and closes. The segment disappears when no process holds it. */
void mp_os_shm_close(mp_os_shm *shm);

/* Named segments (SharedMemory): name is Python's form, without the
 * leading '/' POSIX adds ("psm_1a2b3c4d5e"); the layer turns it into the
 * OS's. Create: exclusive, mode 0600, size bytes zero-filled; MP_EEXIST if
 * the name exists. Open: maps the whole segment, shm->size being its real
 * size (POSIX: fstat; Windows: the mapped region, page-rounded);
 * MP_ENOTFOUND if no segment has the name. The handle can be passed to a
 * child as an anonymous segment's is. */
int mp_os_shm_create_named(mp_os_shm *shm, const char *name, size_t size);
int mp_os_shm_open_named(mp_os_shm *shm, const char *name);

/* Removes the name (POSIX shm_unlink; the segment lives on while mapped).
 * MP_ENOTFOUND if no segment has it. Windows has no names apart from
 * handles: a no-op there, the segment going with its last handle. */
int mp_os_shm_unlink_named(const char *name);

/* How a random name begins here, as Python makes them: "psm_" on POSIX,
 * "wnsm_" on Windows. */
const char *mp_os_shm_name_prefix(void);

/* Tracking: the name is unlinked once every process of this program has
 * ended, however it ended (POSIX: a tracker process, started on first
 * use, that reads names from a pipe each of them holds; Windows: nothing
 * to do, a section goes with its last handle). untrack takes a name off
 * after its explicit unlink. */
int mp_os_shm_track(const char *name);
void mp_os_shm_untrack(const char *name);

/* The tracker's pipe, for a spawned child to inherit (MP_OS_NO_HANDLE
 * while there is none, and on Windows), and in that child, taking it
 * over. */
mp_os_handle mp_os_shm_tracker(void);
void mp_os_shm_tracker_adopt(mp_os_handle h);

/* Removes what a process killed while creating a segment left behind
 * (a name, where segments briefly have one and names can be listed;
 * nothing elsewhere). Called by whoever reaps a killed child. */
void mp_os_shm_sweep(uint32_t pid);

/* ---- wait queues ---------------------------------------------------------- */

/* A sleeping place for processes waiting on one 32-bit word in shared
 * memory. The protocol is the futex one: a waiter reads the word, re-checks
 * its condition, and calls mp_os_wq_wait(word, seen); a waker changes the
 * word (or the state it guards), then calls mp_os_wq_wake(). A wake after
 * the waiter read the word is never lost. Waits may return spuriously.
 *
 * Where the OS can sleep on an address across processes (Linux futex) a
 * wait queue needs no handle; elsewhere it owns handles (a pipe, a kernel
 * semaphore) that must travel with the shared object to every process. */
#define MP_OS_WQ_MAX_HANDLES 2

typedef struct mp_os_wq {
    mp_os_handle h[MP_OS_WQ_MAX_HANDLES];
} mp_os_wq;

/* Creates a wait queue in the creating process. */
int mp_os_wq_create(mp_os_wq *wq);

/* The handles a child needs: writes up to MP_OS_WQ_MAX_HANDLES to out and
 * returns how many (0 with futexes). */
int mp_os_wq_handles(const mp_os_wq *wq, mp_os_handle *out);

/* Rebuilds a wait queue in a child from the handles mp_os_wq_handles gave
 * (n of them). Takes ownership of them. */
int mp_os_wq_adopt(mp_os_wq *wq, const mp_os_handle *h, int n);

/* Sleeps while *word == expected, until woken or the deadline.
 * 0 when woken, the word changed, or spuriously; MP_ETIMEDOUT at the
 * deadline. */
int mp_os_wq_wait(mp_os_wq *wq, mp_atomic_u32 *word, uint32_t expected,
                  uint64_t deadline_ns);

/* Wakes up to n waiters (the caller counts its waiters; n > 0). */
void mp_os_wq_wake(mp_os_wq *wq, mp_atomic_u32 *word, uint32_t n);

/* Releases this process's handles. */
void mp_os_wq_close(mp_os_wq *wq);

/* 1 where a wake reaches the sleepers on that very word (a futex), 0
 * where it leaves a token any sleeper of the queue may take (a kernel
 * semaphore, a pipe): there a sleeper that wakes and sleeps again can take
 * a token meant for another. */
int mp_os_wq_by_address(void);

/* ---- threads and process-local locking ------------------------------------ */

typedef struct mp_os_thread mp_os_thread;
typedef struct mp_os_mutex mp_os_mutex;
typedef struct mp_os_cond mp_os_cond;

/* Starts fn(arg) on a new thread. */
int mp_os_thread_start(mp_os_thread **t, void (*fn)(void *), void *arg);

/* Waits for the thread to end and frees t. */
int mp_os_thread_join(mp_os_thread *t);

/* A process-local, non-recursive mutex and condition variable. */
int mp_os_mutex_new(mp_os_mutex **m);
void mp_os_mutex_free(mp_os_mutex *m);
void mp_os_mutex_lock(mp_os_mutex *m);
void mp_os_mutex_unlock(mp_os_mutex *m);
int mp_os_cond_new(mp_os_cond **c);
void mp_os_cond_free(mp_os_cond *c);
void mp_os_cond_wait(mp_os_cond *c, mp_os_mutex *m);
/* As mp_os_cond_wait, returning by deadline_ns (mp_os_now_ns) at the
 * latest, or earlier: callers loop on their condition and the deadline. */
void mp_os_cond_wait_until(mp_os_cond *c, mp_os_mutex *m, uint64_t deadline_ns);
void mp_os_cond_broadcast(mp_os_cond *c);

/* ---- processes ------------------------------------------------------------ */

typedef struct mp_os_proc {
    int64_t pid;
    mp_os_handle sentinel; /* readable (EOF / signalled) once the child exits */
    mp_os_handle process;  /* Windows: process handle; POSIX: unused */
    int exited;
    int exitcode; /* Python's convention: status, or -signal */
} mp_os_proc;

/* What becomes ready when the child ends, for a caller's own wait (Python's
 * Process.sentinel): the sentinel pipe's read end on POSIX, the process
 * handle on Windows. Still p's. */
mp_os_handle mp_os_proc_sentinel(const mp_os_proc *p);

/* In a child: starts watching the process that started it, whose id the
 * child was told (POSIX: the parent pid at this moment, which changes
 * when the parent dies and the child is adopted; Windows: a handle on
 * the parent process, signalled when it ends). 0 if the parent is already
 * gone or cannot be watched. */
void mp_os_watch_parent(uint32_t pid);

/* 1 while the watched parent runs, 0 once it ended (or nothing is
 * watched). */
int mp_os_parent_alive(void);

/* Something mp_os_wait_many reports ready once the watched parent ended
 * (Windows: the handle on it; Linux: a pidfd of it), still the layer's;
 * MP_OS_NO_HANDLE where the OS gives none, and the caller asks
 * mp_os_parent_alive() instead. */
mp_os_handle mp_os_parent_sentinel(void);

/* Remembers argv[0]; the layer may use it to find its own executable. */
void mp_os_set_argv0(const char *argv0);

/* Spawning runs this program's executable again, in two steps, so that
 * core (runtime/boot.c) can write the child's bootstrap segment between
 * them: it must hold the handle values the child will see, which only the
 * layer knows before the child runs. The layer knows nothing of the
 * segment's format; to it the segment is one more handle to pass. */
typedef struct mp_os_spawn mp_os_spawn;

/* Step 1: gets ready to start a child that inherits exactly the n handles
 * and the layer's own (none, or the POSIX exit sentinel), nothing else of
 * this process. child[i] gets the value handles[i] will have in the child;
 * *own the value of the layer's own handle there (MP_OS_NO_HANDLE if
 * none), for the child's mp_os_child_keep. Nothing runs yet: *s ends in
 * mp_os_spawn_start or mp_os_spawn_cancel. MP_EINVAL for a value that is
 * no handle; MP_EUNSUPPORTED if this program's executable is not found. */
int mp_os_spawn_prepare(mp_os_spawn **s, const mp_os_handle *handles, size_t n,
                        mp_os_handle *child, mp_os_handle *own);

/* Step 2: starts the executable with arg as its one argument (argv[1]),
 * sets p->pid and p->sentinel or p->process, and frees s, also on
 * failure. */
int mp_os_spawn_start(mp_os_spawn *s, const char *arg, mp_os_proc *p);

/* Frees s, and what it holds for the child, without starting it. NULL is
 * ignored. */
void mp_os_spawn_cancel(mp_os_spawn *s);

/* fork(): returns 0 in both processes; *in_child says which one this is.
 * In the child every handle of the parent is still open under the same
 * value. MP_EUNSUPPORTED where the OS has no fork. */
int mp_os_fork(mp_os_proc *p, int *in_child);

/* In a spawned child: checks that h, a value the parent's step 1 gave, is
 * open in this process, and makes it private again (close-on-exec, not
 * inheritable) so that the child's own children do not get it. MP_EPROTO
 * if h is no open handle here. */
int mp_os_child_adopt(mp_os_handle h);

/* In a spawned child: takes over the layer's own handle (*own of step 1),
 * to hold until exit. MP_OS_NO_HANDLE, or a handle not open, is ignored. */
void mp_os_child_keep(mp_os_handle own);

/* Waits for the child until the deadline; on exit fills p->exited and
 * p->exitcode and returns 0. MP_ETIMEDOUT otherwise. Reaps the child. */
int mp_os_proc_wait(mp_os_proc *p, uint64_t deadline_ns);

/* Asks the child to end (hard == 0: SIGTERM) or ends it (hard: SIGKILL).
 * 0 also if it already ended. */
int mp_os_proc_signal(mp_os_proc *p, int hard);

/* Releases the parent's resources for a child that has been waited for. */
void mp_os_proc_release(mp_os_proc *p);

/* Ends this process with code after flushing stdio. forked != 0: a fork
 * child, which must not run the parent's atexit handlers. */
void mp_os_exit(int code, int forked);

/* Where a function lives, so that another run of the same program can find
 * it: the module (executable or shared library) and the offset in it. */
typedef struct mp_os_fnloc {
    char module[1024]; /* as the layer names modules; "" for the main program */
    uint64_t offset;
} mp_os_fnloc;

/* Locates fn in the loaded modules. MP_EUNSUPPORTED if it is in none. */
int mp_os_fn_locate(void (*fn)(void), mp_os_fnloc *loc);

/* Finds the function again in this process. MP_EPROTO if the module is not
 * loaded or the offset does not land in its code. */
int mp_os_fn_resolve(const mp_os_fnloc *loc, void (**fn)(void));

/* ---- pipes and handles ---------------------------------------------------- */

/* Creates a connected pair. duplex: a stream socket pair, both ends read
 * and write. Otherwise h[0] is a read end and h[1] a write end. Both are
 * close-on-exec and never raise SIGPIPE when written. */
int mp_os_pipe(int duplex, mp_os_handle h[2]);

/* Writes all n bytes, retrying short writes and interruptions. MP_ECLOSED
 * if the reader is gone. */
int mp_os_write_all(mp_os_handle h, const void *buf, size_t n);

/* Reads up to n bytes (at least 1 unless at end of file; blocks until
 * then). *got = 0 means end of file. */
int mp_os_read(mp_os_handle h, void *buf, size_t n, size_t *got);

/* 1 if h has data or end of file to read, 0 if not before the deadline.
 * On a message handle (mp_os_handle_is_message) an empty message cannot be
 * seen without taking it off the pipe: when the wait did that, the answer
 * is 2 ("readable, and the empty message is consumed"), and the caller
 * must hand out an empty message next (CPython's _got_empty_message). No
 * other handle ever gives 2. */
int mp_os_poll_readable(mp_os_handle h, uint64_t deadline_ns);

/* Waits until at least one of n handles is ready, or the deadline: a
 * pipe or socket end with data or end of file to read, a listening socket
 * with a connection waiting, a process handle whose process ended (the
 * Windows sentinels; on POSIX every sentinel is a pipe). Sets ready[i] for
 * every handle ready when it returns, not only the first: 1, or 2 on a
 * message handle whose empty message the wait consumed (as
 * mp_os_poll_readable says 2); 0 for the others and for MP_OS_NO_HANDLE
 * entries, which are never ready. Returns how many are ready (0 at the
 * deadline) or a negative code (MP_EINVAL: a handle not open). n has no
 * limit of the OS's (Windows waits on 64 objects at a time). */
int mp_os_wait_many(const mp_os_handle *h, size_t n, uint64_t deadline_ns,
                    unsigned char *ready);

/* Closes a handle. MP_OS_NO_HANDLE is ignored. */
void mp_os_close(mp_os_handle h);

/* ---- message transport ------------------------------------------------------ */

/* Python frames a Connection by its transport, and mproc follows it: over a
 * POSIX fd or any socket each message carries a length prefix (core
 * conn.c writes it through mp_os_write_all / mp_os_read); over a Windows
 * pipe (PipeConnection) each message is one message of a message-mode
 * named pipe, without a prefix. The core asks once per connection end,
 * when it wraps a handle (created here or inherited by a child), which of
 * the two it has, and uses the functions below only for message handles.
 * POSIX has none: mp_os_handle_is_message() is always 0 there, and the
 * other three are never called (they answer MP_EUNSUPPORTED). */

/* 1 if h is a message-mode pipe (Windows pipes made by mp_os_pipe), 0 for
 * every POSIX fd, every socket, and anything the layer cannot identify. */
int mp_os_handle_is_message(mp_os_handle h);

/* Writes buf (n bytes, n may be 0) as one whole message. MP_ETOOBIG if n
 * is over 0xffffffff (one Windows write); MP_ECLOSED if the reader is
 * gone. A message is never half-written. */
int mp_os_msg_send(mp_os_handle h, const void *buf, size_t n);

/* Reads the next message, or the next part of the current one, into buf
 * (cap bytes, cap may be 0 to learn only that a message is there): *got
 * bytes, *more = 1 if the message goes on past them. Blocks until a
 * message comes. MP_ECLOSED at end of file between messages. */
int mp_os_msg_recv(mp_os_handle h, void *buf, size_t cap, size_t *got, int *more);

/* Bytes left unread in the current message (after an mp_os_msg_recv that
 * said *more); 0 between messages. */
int mp_os_msg_left(mp_os_handle h, size_t *left);

/* ---- sockets --------------------------------------------------------------- */

/* Stream sockets between unrelated processes, for Listener and Client: an
 * AF_UNIX path or a TCP address. Every socket made here, accepted ones
 * included, is close-on-exec and never raises SIGPIPE when written, so
 * its handle works with mp_os_write_all / mp_os_read like a pipe's. */
typedef struct mp_os_listener mp_os_listener;

/* Binds and listens on an AF_UNIX socket at path, which must not exist
 * (MP_ESYS naming EADDRINUSE if it does). MP_EINVAL if path does not fit
 * the system's sockaddr_un (the limit is in the message). Core has refused
 * an empty path. */
int mp_os_listen_unix(mp_os_listener **l, const char *path, int backlog);

/* A host's TCP addresses as the system resolved them. Core walks them
 * (conn/listener.c): IPv4 first when listening, in order when connecting;
 * the layer knows how to resolve, bind and connect, not which to try. */
typedef struct mp_os_addrs mp_os_addrs;

/* Resolves host, a numeric address or a name, with port. passive (to
 * listen): "" is every interface; otherwise "" is localhost. Core has
 * checked that host is not NULL and port is in 0..65535. */
int mp_os_resolve_tcp(mp_os_addrs **a, const char *host, int port, int passive);

/* How many addresses there are; the i-th one's family: 4 (IPv4), 6
 * (IPv6) or 0 (another). */
size_t mp_os_addrs_count(const mp_os_addrs *a);
int mp_os_addrs_family(const mp_os_addrs *a, size_t i);

/* Frees a. NULL is ignored. */
void mp_os_addrs_free(mp_os_addrs *a);

/* Binds and listens on the i-th address of a. Port 0 binds a free port;
 * mp_os_listener_port() tells which. The address is reusable at once
 * after close (SO_REUSEADDR, as Python sets on POSIX). */
int mp_os_listen_tcp(mp_os_listener **l, const mp_os_addrs *a, size_t i, int backlog);

/* The bound TCP port; 0 for AF_UNIX. */
int mp_os_listener_port(const mp_os_listener *l);

/* Something mp_os_poll_readable() reports readable while a connection
 * waits to be accepted (the listening socket; still owned by l). */
mp_os_handle mp_os_listener_handle(const mp_os_listener *l);

/* Waits for the next connection and returns its handle (caller owns it).
 * Interrupted calls and connections the peer dropped before they were
 * taken are retried. */
int mp_os_accept(mp_os_listener *l, mp_os_handle *h);

/* Stops listening and frees l. An AF_UNIX path is removed if it is still
 * the socket this listener bound and this is the process that bound it
 * (a forked child closing its copy leaves the parent's path alone, as
 * Python's Finalize does). NULL is ignored. */
void mp_os_listener_close(mp_os_listener *l);

/* Connects to an AF_UNIX path (not empty) / to the i-th address of a.
 * MP_ESYS, naming the host and port, if nothing listens there. */
int mp_os_connect_unix(const char *path, mp_os_handle *h);
int mp_os_connect_tcp(const mp_os_addrs *a, size_t i, mp_os_handle *h);

/* ---- hmac provider (optional) ---------------------------------------------- */

/* Digest algorithms; numbered as core/conn/digest.h's mp_digest_alg. */
#define MP_OS_DIGEST_MD5    1
#define MP_OS_DIGEST_SHA256 2

/* HMAC of msg (n bytes) under key by the system's crypto library, outsize
 * bytes (the digest size) to out. MP_EUNSUPPORTED, without recording an
 * error, when the build has no provider or it refuses the algorithm (e.g.
 * MD5 under a FIPS policy): the core then uses its built-in code. key and
 * msg may be NULL when their length is 0. */
int mp_os_hmac(int alg, const void *key, size_t keylen, const void *msg, size_t n,
               unsigned char *out, size_t outsize);

#endif
