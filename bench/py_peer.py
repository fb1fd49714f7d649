#!/usr/bin/env python3
"""py_peer.py - the Python peer: each workload of the mproc benchmark
programs written with the standard library's multiprocessing and pickle.

    python3 py_peer.py <workload> <arguments of the C program>

prints one line, "<value> <unit>", as the C programs do. The workloads,
their arguments and what the clock covers are the same as in the C
program of the same name (bench/<workload>.c); the comments there say
why. Workers use multiprocessing's default start method of the platform
(fork on Linux up to Python 3.13), except spawn_join, which names its own.
Standard library only.
"""
import ctypes
import multiprocessing as mp
import os
import pickle
import sys
import time

now_ns = time.monotonic_ns  # CLOCK_MONOTONIC: one clock for all processes


def report(value, unit):
    print(f"{value:.6g} {unit}", flush=True)


def payload(size):
    return b"Z" * size


def per_s(n, ns):
    return n / (ns / 1e9)


def gib_per_s(nbytes, ns):
    return nbytes / (1 << 30) / (ns / 1e9)


def warm_count(count):
    return min(count // 10, 200)


class StartLine:
    """How the workers of a timed run start, as the C peers' ctl_arrive and
    ctl_start (mp_bench.h): each worker arrives and waits for the go; the
    parent waits for all of them, reads the clock, and only then gives the
    go, so no worker's work comes before the clock starts. (A barrier the
    parent also waits on lets the workers run before the parent's clock
    read, which shortened what queue_stream, queue_mpmc and array_slice
    timed, and gave value_incr negative times in short runs.) Each worker
    notes when it saw the go, and check() fails the run if any saw it
    before the clock started: a check of the order on every run."""

    READY, GO, SEEN = 0, 1, 2

    def __init__(self, nworkers):
        self.n = nworkers
        self.ctl = mp.RawArray("q", self.SEEN + nworkers)
        self.lock = mp.Lock()

    def arrive(self, ident):
        """In worker ident (0..n-1): arrive, then return at the go."""
        with self.lock:
            self.ctl[self.READY] += 1
        while self.ctl[self.GO] == 0:
            time.sleep(20e-6)
        self.ctl[self.SEEN + ident] = now_ns()

    def start(self):
        """In the parent: wait for every worker, read the clock, give the go;
        returns the clock's start."""
        while self.ctl[self.READY] < self.n:
            time.sleep(20e-6)
        t0 = now_ns()
        self.ctl[self.GO] = 1
        return t0

    def check(self, t0, workload):
        """After the workers are joined: every go was seen after t0."""
        seen = self.ctl[self.SEEN:]
        if min(seen) < t0:
            sys.exit(f"py_peer: {workload}: a worker started before the clock")


# ---- queue_stream: 1 -> 1 ---------------------------------------------------------

def _stream_producer(q, line, size, count):
    msg = payload(size)
    line.arrive(0)
    for _ in range(count):
        q.put(msg)


def queue_stream(size, count):
    q = mp.Queue()
    line = StartLine(1)
    p = mp.Process(target=_stream_producer, args=(q, line, size, count))
    p.start()
    t0 = line.start()
    for _ in range(count):
        if len(q.get()) != size:
            sys.exit("py_peer: queue_stream: wrong message")
    ns = now_ns() - t0
    p.join()
    line.check(t0, "queue_stream")
    if size <= 4096:
        report(per_s(count, ns), "msgs/s")
    else:
        report(gib_per_s(size * count, ns), "GiB/s")


# ---- queue_mpmc: 2 -> 2, end markers as in queue_mpmc.c -------------------------------

NPROD, NCONS = 2, 2


def _mpmc_producer(q, line, size, count, ident):
    msg = payload(size)
    line.arrive(NCONS + ident)
    for _ in range(count):
        q.put(msg)
    for _ in range(NCONS):
        q.put(ident)  # an int: this producer is done


def _mpmc_consumer(q, line, stamps, ident):
    seen = set()
    got = 0
    line.arrive(ident)
    while len(seen) < NPROD:
        m = q.get()
        if isinstance(m, int):
            if m in seen:
                q.put(m)  # the other consumer's marker
            else:
                seen.add(m)
        else:
            got += 1
    stamps[ident] = now_ns()
    stamps[NCONS + ident] = got


def queue_mpmc(size, count):
    q = mp.Queue()
    line = StartLine(NPROD + NCONS)
    stamps = mp.RawArray("q", 2 * NCONS)
    procs = [mp.Process(target=_mpmc_consumer, args=(q, line, stamps, c))
             for c in range(NCONS)]
    for i in range(NPROD):
        share = count // NPROD + (count % NPROD if i == 0 else 0)
        procs.append(mp.Process(target=_mpmc_producer, args=(q, line, size, share, i)))
    for p in procs:
        p.start()
    t0 = line.start()
    for p in procs:
        p.join()
    line.check(t0, "queue_mpmc")
    if sum(stamps[NCONS:]) != count:
        sys.exit("py_peer: queue_mpmc: messages lost")
    report(per_s(count, max(stamps[:NCONS]) - t0), "msgs/s")


# ---- queue_pingpong / pipe_pingpong -----------------------------------------------------

def _queue_echo(ping, pong, total):
    for _ in range(total):
        pong.put(ping.get())


def queue_pingpong(size, count):
    ping, pong = mp.Queue(), mp.Queue()
    warm = warm_count(count)
    p = mp.Process(target=_queue_echo, args=(ping, pong, warm + count))
    p.start()
    msg = payload(size)
    for i in range(warm + count):
        if i == warm:
            t0 = now_ns()
        ping.put(msg)
        pong.get()
    ns = now_ns() - t0
    p.join()
    report(ns / 1e3 / count, "us")


def _pipe_echo(conn, size, total):
    buf = bytearray(size)
    for _ in range(total):
        n = conn.recv_bytes_into(buf)
        conn.send_bytes(buf, 0, n)


def pipe_pingpong(size, count):
    mine, theirs = mp.Pipe()
    warm = warm_count(count)
    p = mp.Process(target=_pipe_echo, args=(theirs, size, warm + count))
    p.start()
    theirs.close()
    buf = bytearray(payload(size))
    for i in range(warm + count):
        if i == warm:
            t0 = now_ns()
        mine.send_bytes(buf)
        mine.recv_bytes_into(buf)
    ns = now_ns() - t0
    p.join()
    report(ns / 1e3 / count, "us")


# ---- pipe_bulk ------------------------------------------------------------------------------

def _bulk_sender(conn, line, size, count):
    msg = payload(size)
    line.arrive(0)
    for _ in range(count):
        conn.send_bytes(msg)


def pipe_bulk(kind, size, count):
    if kind not in ("duplex", "oneway"):
        sys.exit("py_peer: pipe_bulk: duplex or oneway")
    rd, wr = mp.Pipe(duplex=(kind == "duplex"))
    line = StartLine(1)
    p = mp.Process(target=_bulk_sender, args=(wr, line, size, count))
    p.start()
    wr.close()
    buf = bytearray(size)
    t0 = line.start()
    for _ in range(count):
        if rd.recv_bytes_into(buf) != size:
            sys.exit("py_peer: pipe_bulk: wrong message")
    ns = now_ns() - t0
    p.join()
    line.check(t0, "pipe_bulk")
    report(gib_per_s(size * count, ns), "GiB/s")


# ---- value_incr -------------------------------------------------------------------------------

def _increment(v, count):
    for _ in range(count):
        with v.get_lock():
            v.value += 1


def _incr_worker(v, line, ends, count, ident):
    line.arrive(ident)
    _increment(v, count)
    ends[ident] = now_ns()


def value_incr(nproc, count):
    v = mp.Value("q", 0)
    if nproc == 1:
        _increment(v, count // 100 + 1)
        v.value = 0
        t0 = now_ns()
        _increment(v, count)
        ns = now_ns() - t0
    else:
        line = StartLine(nproc)
        ends = mp.RawArray("q", nproc)
        procs = [mp.Process(target=_incr_worker, args=(v, line, ends, count, i))
                 for i in range(nproc)]
        for p in procs:
            p.start()
        t0 = line.start()
        for p in procs:
            p.join()
        line.check(t0, "value_incr")
        ns = max(ends) - t0
    if v.value != nproc * count:
        sys.exit("py_peer: value_incr: lost increments")
    report(ns / (nproc * count), "ns/op")


# ---- sync_lock, sync_semaphore, event_pingpong: multiprocessing.synchronize ---------------

def _take_release(obj, count):
    for _ in range(count):
        obj.acquire()
        obj.release()


def _lock_worker(lock, counter, line, ends, count, ident):
    line.arrive(ident)
    for _ in range(count):
        lock.acquire()
        counter.value += 1
        lock.release()
    ends[ident] = now_ns()


def sync_lock(nproc, count):
    lock = mp.Lock()
    if nproc == 1:
        _take_release(lock, count // 100 + 1)
        t0 = now_ns()
        _take_release(lock, count)
        ns = now_ns() - t0
        report(ns / count, "ns/op")
        return
    counter = mp.RawValue("q", 0)
    line = StartLine(nproc)
    ends = mp.RawArray("q", nproc)
    procs = [mp.Process(target=_lock_worker, args=(lock, counter, line, ends, count, i))
             for i in range(nproc)]
    for p in procs:
        p.start()
    t0 = line.start()
    for p in procs:
        p.join()
    line.check(t0, "sync_lock")
    if counter.value != nproc * count:
        sys.exit("py_peer: sync_lock: lost increments")
    report(per_s(nproc * count, max(ends) - t0), "incr/s")


def sync_semaphore(count):
    sem = mp.Semaphore(1)
    _take_release(sem, count // 100 + 1)
    t0 = now_ns()
    _take_release(sem, count)
    ns = now_ns() - t0
    if sem.get_value() != 1:
        sys.exit("py_peer: sync_semaphore: wrong value at the end")
    report(ns / count, "ns/op")


def _event_echo(e1, e2, total):
    for _ in range(total):
        e1.wait()
        e1.clear()
        e2.set()


def event_pingpong(count):
    e1, e2 = mp.Event(), mp.Event()
    warm = warm_count(count)
    p = mp.Process(target=_event_echo, args=(e1, e2, warm + count))
    p.start()
    for i in range(warm + count):
        if i == warm:
            t0 = now_ns()
        e1.set()
        e2.wait()
        e2.clear()
    ns = now_ns() - t0
    p.join()
    if e1.is_set() or e2.is_set():
        sys.exit("py_peer: event_pingpong: an Event is still set at the end")
    report(ns / 1e3 / count, "us")


# ---- condition_pingpong, barrier_2p: Condition and Barrier ----------------------------------

def _condition_answer(cond, turn, total):
    for _ in range(total):
        with cond:
            while turn.value != 1:
                cond.wait()
            turn.value = 0
            cond.notify()


def condition_pingpong(count):
    cond = mp.Condition()  # over an RLock of its own
    turn = mp.RawValue("q", 0)
    warm = warm_count(count)
    p = mp.Process(target=_condition_answer, args=(cond, turn, warm + count))
    p.start()
    for i in range(warm + count):
        if i == warm:
            t0 = now_ns()
        with cond:
            turn.value = 1
            cond.notify()
            while turn.value != 0:
                cond.wait()
    ns = now_ns() - t0
    p.join()
    if turn.value != 0:
        sys.exit("py_peer: condition_pingpong: the turn is not 0 at the end")
    report(ns / 1e3 / count, "us")


def _barrier_pass(barrier, n):
    places = 0
    for _ in range(n):
        places += barrier.wait()
    return places


def _barrier_other(barrier, places, total):
    places.value = _barrier_pass(barrier, total)


def barrier_2p(count):
    barrier = mp.Barrier(2)
    places = mp.RawValue("q", 0)
    warm = warm_count(count)
    p = mp.Process(target=_barrier_other, args=(barrier, places, warm + count))
    p.start()
    mine = _barrier_pass(barrier, warm)
    t0 = now_ns()
    mine += _barrier_pass(barrier, count)
    ns = now_ns() - t0
    p.join()
    if mine + places.value != warm + count:
        sys.exit("py_peer: barrier_2p: the places do not add up")
    report(ns / 1e3 / count, "us")


# ---- array_slice: turns as in array_slice.c ------------------------------------------------------

SLICE_AT = 64


def _take_turn(a, want, src, size):
    """Waits for the turn counter to equal want, looking without the lock
    (through get_obj(), as array_slice.c does through mp_array_data), then
    under the lock writes src into the slice (or reads the slice, src None)
    and bumps the counter."""
    turn = ctypes.c_int64.from_buffer(a.get_obj())
    while turn.value != want:
        os.sched_yield()
    with a.get_lock():
        if src is not None:
            a[SLICE_AT:SLICE_AT + size] = src
            out = None
        else:
            out = a[SLICE_AT:SLICE_AT + size]
        turn.value = want + 1
    return out


def _slice_writer(a, line, size, count):
    src = payload(size)
    line.arrive(0)
    for i in range(count):
        _take_turn(a, 2 * i, src, size)


def array_slice(size, count):
    a = mp.Array("c", SLICE_AT + size)
    line = StartLine(1)
    p = mp.Process(target=_slice_writer, args=(a, line, size, count))
    p.start()
    t0 = line.start()
    for i in range(count):
        if len(_take_turn(a, 2 * i + 1, None, size)) != size:
            sys.exit("py_peer: array_slice: short read")
    ns = now_ns() - t0
    p.join()
    line.check(t0, "array_slice")
    report(gib_per_s(size * count, ns), "GiB/s")


# ---- spawn_join -----------------------------------------------------------------------------------

def _trivial():
    pass


def spawn_join(method, ballast_mib, count):
    ctx = mp.get_context(method)
    ballast = b"\x01" * (ballast_mib << 20)  # written, so resident

    def one():
        p = ctx.Process(target=_trivial)
        p.start()
        p.join()
        if p.exitcode != 0:
            sys.exit("py_peer: spawn_join: the child failed")

    one()  # untimed: load what the child imports
    t0 = now_ns()
    for _ in range(count):
        one()
    ns = now_ns() - t0
    del ballast
    report(ns / 1e3 / count, "us")


# ---- codec ---------------------------------------------------------------------------------------------

def _mixed_list():
    items = []
    for i in range(1000):
        k = i % 5
        if k == 0:
            items.append(i * 1000003)
        elif k == 1:
            items.append(i + 0.25)
        elif k == 2:
            items.append(f"item{i}")
        elif k == 3:
            items.append(bool(i % 2))
        else:
            items.append(None)
    return items


def codec(which, count):
    obj = {"small": lambda: [42, None, "hello"], "list": _mixed_list}[which]()
    dumps, loads = pickle.dumps, pickle.loads
    if loads(dumps(obj, 4)) != obj:
        sys.exit("py_peer: codec: the object did not survive")
    for _ in range(count // 100 + 1):
        loads(dumps(obj, 4))
    t0 = time.perf_counter_ns()
    for _ in range(count):
        loads(dumps(obj, 4))  # protocol 4: what multiprocessing and mproc write
    ns = time.perf_counter_ns() - t0
    report(ns / count, "ns/op")


# ---- wait_many: multiprocessing.connection.wait -----------------------------------------

def wait_many(idle, count):
    from multiprocessing.connection import wait
    pairs = [mp.Pipe(duplex=False) for _ in range(idle + 1)]
    readers = [r for r, _ in pairs]
    hot = (idle + 1) // 2
    pairs[hot][1].send_bytes(b"x")
    warm = warm_count(count)
    for i in range(warm + count):
        if i == warm:
            t0 = now_ns()
        ready = wait(readers)
        if len(ready) != 1 or ready[0] is not readers[hot]:
            sys.exit("py_peer: wait_many: the wait missed the ready connection")
    ns = now_ns() - t0
    report(ns / count, "ns/op")


# ---- shm_create_attach: multiprocessing.shared_memory ------------------------------------

def shm_create_attach(size, count):
    from multiprocessing import shared_memory

    def one():
        a = shared_memory.SharedMemory(create=True, size=size)
        b = shared_memory.SharedMemory(name=a.name)
        a.buf[0] = 1
        if b.buf[0] != 1:
            sys.exit("py_peer: shm_create_attach: the views differ")
        b.close()
        a.close()
        a.unlink()

    for _ in range(count // 10 + 1):
        one()
    t0 = now_ns()
    for _ in range(count):
        one()
    report(count / ((now_ns() - t0) / 1e9), "msgs/s")


# ---- pool_map, pool_apply, pool_start: Pool, and ProcessPoolExecutor (*_futures) ----------

def _pool_task(x):
    return None  # the trivial task of pool_map.c etc.: it does nothing and gives None


def _futures_executor():
    from concurrent.futures import ProcessPoolExecutor
    return ProcessPoolExecutor(max_workers=2)


def _pool_check(results, n, workload):
    if len(results) != n or any(r is not None for r in results):
        sys.exit(f"py_peer: {workload}: wrong results")


def pool_map(chunksize, count):
    items = list(range(count))
    with mp.Pool(2) as p:
        warm = list(range(count // 100 + 10))
        _pool_check(p.map(_pool_task, warm, chunksize=chunksize), len(warm), "pool_map")
        t0 = now_ns()
        results = p.map(_pool_task, items, chunksize=chunksize)
        ns = now_ns() - t0
        p.close()
        p.join()
    _pool_check(results, count, "pool_map")
    report(per_s(count, ns), "tasks/s")


def pool_map_futures(chunksize, count):
    items = list(range(count))
    with _futures_executor() as ex:
        warm = list(range(count // 100 + 10))
        _pool_check(list(ex.map(_pool_task, warm, chunksize=chunksize)), len(warm),
                    "pool_map_futures")
        t0 = now_ns()
        results = list(ex.map(_pool_task, items, chunksize=chunksize))
        ns = now_ns() - t0
    _pool_check(results, count, "pool_map_futures")
    report(per_s(count, ns), "tasks/s")


def _apply_all(p, n):
    rs = [p.apply_async(_pool_task, (i,)) for i in range(n)]
    return [r.get() for r in rs]


def pool_apply(count):
    with mp.Pool(2) as p:
        warm = min(count // 100 + 10, count)
        _pool_check(_apply_all(p, warm), warm, "pool_apply")
        t0 = now_ns()
        results = _apply_all(p, count)
        ns = now_ns() - t0
        p.close()
        p.join()
    _pool_check(results, count, "pool_apply")
    report(per_s(count, ns), "tasks/s")


def _submit_all(ex, n):
    fs = [ex.submit(_pool_task, i) for i in range(n)]
    return [f.result() for f in fs]


def pool_apply_futures(count):
    with _futures_executor() as ex:
        warm = min(count // 100 + 10, count)
        _pool_check(_submit_all(ex, warm), warm, "pool_apply_futures")
        t0 = now_ns()
        results = _submit_all(ex, count)
        ns = now_ns() - t0
    _pool_check(results, count, "pool_apply_futures")
    report(per_s(count, ns), "tasks/s")


def _pool_once():
    p = mp.Pool(2)
    _pool_check(p.map(_pool_task, [0, 1, 2]), 3, "pool_start")
    p.close()
    p.join()


def _executor_once():
    ex = _futures_executor()
    _pool_check(list(ex.map(_pool_task, [0, 1, 2])), 3, "pool_start_futures")
    ex.shutdown(wait=True)


def _start_loop(one, count):
    one()  # untimed: load what the workers import
    t0 = now_ns()
    for _ in range(count):
        one()
    report((now_ns() - t0) / 1e3 / count, "us")


def pool_start(count):
    _start_loop(_pool_once, count)


def pool_start_futures(count):
    _start_loop(_executor_once, count)


# ---- command line ------------------------------------------------------------------------------------------

WORKLOADS = {
    "queue_stream": (queue_stream, (int, int)),
    "queue_mpmc": (queue_mpmc, (int, int)),
    "queue_pingpong": (queue_pingpong, (int, int)),
    "pipe_pingpong": (pipe_pingpong, (int, int)),
    "pipe_bulk": (pipe_bulk, (str, int, int)),
    "value_incr": (value_incr, (int, int)),
    "sync_lock": (sync_lock, (int, int)),
    "sync_semaphore": (sync_semaphore, (int,)),
    "event_pingpong": (event_pingpong, (int,)),
    "condition_pingpong": (condition_pingpong, (int,)),
    "barrier_2p": (barrier_2p, (int,)),
    "array_slice": (array_slice, (int, int)),
    "spawn_join": (spawn_join, (str, int, int)),
    "codec": (codec, (str, int)),
    "wait_many": (wait_many, (int, int)),
    "shm_create_attach": (shm_create_attach, (int, int)),
    "pool_map": (pool_map, (int, int)),
    "pool_map_futures": (pool_map_futures, (int, int)),
    "pool_apply": (pool_apply, (int,)),
    "pool_apply_futures": (pool_apply_futures, (int,)),
    "pool_start": (pool_start, (int,)),
    "pool_start_futures": (pool_start_futures, (int,)),
}


def main(argv):
    if len(argv) < 2 or argv[1] not in WORKLOADS:
        sys.exit("usage: py_peer.py {%s} ARGS..." % ",".join(WORKLOADS))
    fn, types = WORKLOADS[argv[1]]
    if len(argv) - 2 != len(types):
        sys.exit(f"py_peer.py {argv[1]}: expected {len(types)} arguments")
    fn(*(t(a) for t, a in zip(types, argv[2:])))


if __name__ == "__main__":
    main(sys.argv)
