/* raw_ring.c - the raw limit for shared-memory queues: a single-producer
 * single-consumer ring of 8-byte slots in shared memory that sleeps on a
 * futex when empty or full. Linux only.
 *
 *     raw_ring stream SIZE COUNT [RING_BYTES [LOOK_NS]]    ->  "<msgs/s> msgs/s"
 *     raw_ring pingpong SIZE COUNT [RING_BYTES [LOOK_NS]]  ->  "<us per round trip> us"
 *     raw_ring solo SIZE COUNT [RING_BYTES]                ->  "<ns per put + get> ns/op"
 *
 * A message of SIZE bytes (a multiple of 8) takes SIZE/8 consecutive slots
 * and is published with one store of the tail. stream is queue_stream's
 * shape (forked producer, parent consumer, clock from the start barrier
 * to the last message received); pingpong is queue_pingpong's (two rings,
 * one each way); solo is queue_solo's (one process fills the ring and
 * empties it, over and over: what a message costs without a second CPU).
 * RING_BYTES defaults to 1 MiB; LOOK_NS (default 12000) is
 * how long a side looks again before it sleeps, 0 for a ring that sleeps at
 * once (docs/performance.md compares the two).
 *
 * This is the reference every shared-memory queue is held against, so it
 * does what a fast one must and nothing more:
 * - head and tail each live in their own 128-byte line, written by one
 *   side only; each side keeps its last view of the other's position in
 *   a local and re-reads the shared one only when the ring looks full or
 *   empty, so in steady state the lines move in batches, not per message;
 * - a side that must wait writes into its flag the position it last saw
 *   (plus one, 0 meaning "awake"), looks again, and only then sleeps
 *   (FUTEX_WAIT on the low 32 bits of the position it waits for, so a
 *   change after its last look returns at once); the other side publishes
 *   with a sequentially consistent store, then loads the flag and enters
 *   the kernel only if the sleeper saw less than it just published. That
 *   order (flag, then look; publish, then flag) rules out a lost wake-up.
 *   The flag holds a position, not just 1, because a plain flag that the
 *   waker clears loses wake-ups: a waker that read the flag of an earlier
 *   wait can clear the flag of the next one, whose sleeper has already
 *   seen everything that waker published, and the sleeper then sleeps
 *   with no flag raised (found the hard way: the first version hung);
 * - before it sleeps, a side looks again for up to 12 us, every 64 pauses
 *   (about 1.6 us here): mproc's consumer does the same (docs/queue.md),
 *   and without it this ring took a round trip in ~45 us instead of ~2 us
 *   and ran 64-byte streams at 13M-55M msgs/s instead of 33M-86M. The
 *   pauses matter: looking without them pulls the other side's line across
 *   for every message.
 * It has none of a real queue's duties (variable sizes, many producers,
 * exact counts, dead peers), which is why it is a limit and not a peer. */
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "raw_shm.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "raw_ring sleeps on the low half of a 64-bit position: little-endian only"
#endif

struct ring {
    _Alignas(128) _Atomic uint64_t tail;         /* slots published; producer writes */
    _Alignas(128) _Atomic uint64_t head;         /* slots consumed; consumer writes */
    _Alignas(128) _Atomic uint64_t cons_waiting; /* 1 + tail the sleeping consumer saw */
    _Alignas(128) _Atomic uint64_t prod_waiting; /* 1 + head the sleeping producer saw */
    _Alignas(128) uint64_t slots[];              /* cap slots, cap a power of 2 */
};

static uint64_t look_ns = 12000; /* how long a side looks again before it sleeps */

/* One process's end of a ring: its cached view of the other side. */
struct end {
    struct ring *r;
    uint64_t mask;
    uint64_t pos;   /* this side's own position */
    uint64_t other; /* last seen position of the other side */
};

static void futex_wait(_Atomic uint64_t *pos, uint64_t seen)
{
    /* The low half of the position: it changes whenever the position does
     * (it cannot move by 2^32 slots while this side waits: the ring is far
     * smaller). */
    syscall(SYS_futex, (uint32_t *)pos, FUTEX_WAIT, (uint32_t)seen, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint64_t *pos)
{
    syscall(SYS_futex, (uint32_t *)pos, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Publishes pos into *mine, then wakes the other side if it sleeps having
 * seen less than pos. Only a successful exchange of the very flag value
 * read may wake, so a flag raised for a later wait is never taken. */
static void publish(_Atomic uint64_t *mine, uint64_t pos, _Atomic uint64_t *their_flag)
{
    atomic_store_explicit(mine, pos, memory_order_seq_cst);
    uint64_t w = atomic_load_explicit(their_flag, memory_order_seq_cst);
    if (w != 0 && pos >= w &&
        atomic_compare_exchange_strong_explicit(their_flag, &w, 0, memory_order_seq_cst,
                                                memory_order_relaxed))
        futex_wake(mine);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Waits until ready(view of *theirs) holds; *my_flag tells wakers what
 * this side saw before sleeping. First it looks again for up to 12 us,
 * every 64 pauses, as mproc's consumer does (docs/queue.md): a limit must
 * use what makes a queue fast, and that look saves most sleeps. */
static uint64_t wait_until(_Atomic uint64_t *theirs, _Atomic uint64_t *my_flag,
                           int (*ready)(const struct end *, uint64_t),
                           const struct end *e)
{
    uint64_t seen = atomic_load_explicit(theirs, memory_order_acquire);
    uint64_t until = bench_now_ns() + look_ns;
    while (!ready(e, seen) && bench_now_ns() < until) {
        for (int i = 0; i < 64; i++)
            cpu_relax();
        seen = atomic_load_explicit(theirs, memory_order_acquire);
    }
    while (!ready(e, seen)) {
        atomic_store_explicit(my_flag, seen + 1, memory_order_seq_cst);
        if (atomic_load_explicit(theirs, memory_order_seq_cst) == seen)
            futex_wait(theirs, seen);
        atomic_store_explicit(my_flag, 0, memory_order_relaxed);
        seen = atomic_load_explicit(theirs, memory_order_acquire);
    }
    return seen;
}

static size_t want_slots; /* slots per message (the same for the whole run) */

static int has_room(const struct end *e, uint64_t head)
{
    return e->pos + want_slots - head <= e->mask + 1;
}

static int has_data(const struct end *e, uint64_t tail)
{
    return tail - e->pos >= want_slots;
}

static void put(struct end *e, const void *msg)
{
    if (!has_room(e, e->other))
        e->other = wait_until(&e->r->head, &e->r->prod_waiting, has_room, e);
    uint64_t at = e->pos & e->mask, n = e->mask + 1 - at;
    if (n >= want_slots) {
        memcpy(&e->r->slots[at], msg, want_slots * 8);
    } else { /* the message wraps */
        memcpy(&e->r->slots[at], msg, n * 8);
        memcpy(&e->r->slots[0], (const unsigned char *)msg + n * 8, (want_slots - n) * 8);
    }
    e->pos += want_slots;
    publish(&e->r->tail, e->pos, &e->r->cons_waiting);
}

static void get(struct end *e, void *msg)
{
    if (!has_data(e, e->other))
        e->other = wait_until(&e->r->tail, &e->r->cons_waiting, has_data, e);
    uint64_t at = e->pos & e->mask, n = e->mask + 1 - at;
    if (n >= want_slots) {
        memcpy(msg, &e->r->slots[at], want_slots * 8);
    } else {
        memcpy(msg, &e->r->slots[at], n * 8);
        memcpy((unsigned char *)msg + n * 8, &e->r->slots[0], (want_slots - n) * 8);
    }
    e->pos += want_slots;
    publish(&e->r->head, e->pos, &e->r->prod_waiting);
}

static struct ring *ring_new(uint64_t ring_bytes)
{
    return shm_anon(sizeof(struct ring) + ring_bytes);
}

static struct end end_of(struct ring *r, uint64_t ring_bytes)
{
    struct end e = {r, ring_bytes / 8 - 1, 0, 0};
    return e;
}

struct job {
    struct ring *a, *b;
    shm_ctl *ctl;
    uint64_t size, count, ring_bytes;
};

static int stream_producer(void *arg)
{
    struct job *j = arg;
    struct end e = end_of(j->a, j->ring_bytes);
    unsigned char *msg = bench_payload(j->size);
    shm_ctl_arrive(j->ctl);
    for (uint64_t i = 0; i < j->count; i++) {
        bench_stamp_msg(msg, j->size, i);
        put(&e, msg);
    }
    return 0;
}

static double stream(struct job *j)
{
    j->a = ring_new(j->ring_bytes);
    struct end e = end_of(j->a, j->ring_bytes);
    unsigned char *buf = bench_xmalloc(j->size);
    pid_t pid = fork_worker(stream_producer, j);
    uint64_t t0 = shm_ctl_start(j->ctl, 1);
    for (uint64_t i = 0; i < j->count; i++) {
        get(&e, buf);
        if (bench_msg_seq(buf, j->size) != i)
            bench_die("raw_ring: message %llu lost", (unsigned long long)i);
    }
    uint64_t ns = bench_now_ns() - t0;
    wait_worker(pid);
    return bench_per_s(j->count, ns);
}

static int echo(void *arg)
{
    struct job *j = arg;
    struct end in = end_of(j->a, j->ring_bytes), out = end_of(j->b, j->ring_bytes);
    unsigned char *buf = bench_xmalloc(j->size);
    for (uint64_t i = 0; i < j->count; i++) {
        get(&in, buf);
        put(&out, buf);
    }
    return 0;
}

static double pingpong(struct job *j)
{
    uint64_t warm = j->count / 10 < 200 ? j->count / 10 : 200, timed = j->count;
    j->a = ring_new(j->ring_bytes);
    j->b = ring_new(j->ring_bytes);
    j->count = warm + timed;
    struct end out = end_of(j->a, j->ring_bytes), in = end_of(j->b, j->ring_bytes);
    unsigned char *buf = bench_payload(j->size);
    pid_t pid = fork_worker(echo, j);
    uint64_t t0 = 0;
    for (uint64_t i = 0; i < warm + timed; i++) {
        if (i == warm) t0 = bench_now_ns();
        bench_stamp_msg(buf, j->size, i);
        put(&out, buf);
        get(&in, buf);
        if (bench_msg_seq(buf, j->size) != i) bench_die("raw_ring: wrong echo");
    }
    uint64_t ns = bench_now_ns() - t0;
    wait_worker(pid);
    return (double)ns / 1e3 / (double)timed;
}

static double solo(struct job *j)
{
    j->a = ring_new(j->ring_bytes);
    struct end in = end_of(j->a, j->ring_bytes), out = in;
    unsigned char *msg = bench_payload(j->size), *buf = bench_xmalloc(j->size);
    uint64_t fill = j->ring_bytes / j->size / 2, done = 0, t0 = bench_now_ns();
    while (done < j->count) {
        uint64_t n = j->count - done < fill ? j->count - done : fill;
        for (uint64_t i = 0; i < n; i++) {
            bench_stamp_msg(msg, j->size, done + i);
            put(&out, msg);
        }
        for (uint64_t i = 0; i < n; i++) {
            get(&in, buf);
            if (bench_msg_seq(buf, j->size) != done + i)
                bench_die("raw_ring: solo lost one");
        }
        done += n;
    }
    return (double)(bench_now_ns() - t0) / (double)j->count;
}

int main(int argc, char **argv)
{
    const char *mode = bench_arg_str(argc, argv, 1, "stream|pingpong");
    struct job j = {0};
    j.size = bench_arg_u64(argc, argv, 2, "SIZE");
    j.count = bench_arg_u64(argc, argv, 3, "COUNT");
    j.ring_bytes = argc > 4 ? bench_arg_u64(argc, argv, 4, "RING_BYTES") : BENCH_MIB;
    if (argc > 5) {
        char *end = NULL;
        look_ns = strtoull(argv[5], &end, 10);
        if (end == argv[5] || *end != '\0')
            bench_die("raw_ring: <LOOK_NS> must be a number, not '%s'", argv[5]);
    }
    j.ctl = shm_ctl_new();
    if (j.size % 8 != 0) bench_die("raw_ring: SIZE must be a multiple of 8");
    if ((j.ring_bytes & (j.ring_bytes - 1)) != 0 || j.ring_bytes < j.size)
        bench_die("raw_ring: RING_BYTES must be a power of two and hold a message");
    want_slots = j.size / 8;
    if (strcmp(mode, "stream") == 0)
        bench_report(stream(&j), "msgs/s");
    else if (strcmp(mode, "pingpong") == 0)
        bench_report(pingpong(&j), "us");
    else if (strcmp(mode, "solo") == 0)
        bench_report(solo(&j), "ns/op");
    else
        bench_die("raw_ring: mode is stream, pingpong or solo, not '%s'", mode);
    return 0;
}
