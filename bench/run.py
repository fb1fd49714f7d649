#!/usr/bin/env python3
"""run.py - runs the benchmark suite and reports it (bench/run builds the
programs first and then calls this; see docs/performance.md).

    run.py --build-dir DIR [--smoke] [--reps N] [--only REGEX] [--timeout S]

Every measured program prints one line, "<value> <unit>"; this script only
starts them, collects that line and does the arithmetic. Implementations
are interleaved: round r runs every implementation of every workload once
(in an order rotated each round), so a slow spell of the machine hits all
of them alike. Each result is the median of its rounds, and each ratio is
the median of the per-round ratios (mproc and the peer measured seconds
apart), not the ratio of two medians: this machine switches between a
fast and a several times slower state for a while, and a median of ratios
pairs runs made in the same state. Round 0 is a warm-up and is discarded (not in --smoke, which runs one round of tiny
counts to prove that everything still builds, runs and parses).

Writes, in the build folder: results.json, results.md (the table as
Markdown, for docs/performance.md and the README), ratios.dat and
ratios.png (gnuplot, if installed). Prints the table on stdout and progress
on stderr. Exit status 1 if any program failed.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# "python-futures" is concurrent.futures.ProcessPoolExecutor, the Pool
# workloads' second Python peer (py_peer.py's *_futures workloads).
# "mpi4py" is mpi4py's MPIPoolExecutor, pool_mpi_map_1's peer.
PEERS = ("python", "python-futures", "mpi4py", "apr", "boost", "raw")
OPTIONAL = ("apr", "boost", "mpi4py")  # peers whose libraries may be missing
IMPLS = ("mproc",) + PEERS
PYTHON_IMPLS = ("python", "python-futures")  # the peers py_peer.py runs
# Each peer's name in results.md's header and the chart's legend.
PEER_TITLES = {"python": "Python", "python-futures": "ProcessPoolExecutor",
               "mpi4py": "mpi4py", "apr": "APR", "boost": "Boost", "raw": "raw"}
# The MPI workloads run under mpiexec with this many ranks (rank 0 maps,
# the others work), in an environment that lets Open MPI run as root and
# put more ranks than cores.
MPI_RANKS = 3
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}
SPEED_UNITS = ("msgs/s", "GiB/s", "incr/s", "tasks/s")  # higher is better; "us", "ns/op": lower
MIB = 1 << 20


# ---- the suite: workloads, and the command of each implementation --------------------

class Workload:
    def __init__(self, name, unit, what, impls):
        self.name, self.unit, self.what, self.impls = name, unit, what, impls


def suite(smoke):
    """Every workload with the argv of each implementation. Counts are sized
    so that one run takes about a second in the full suite (Python, being
    slower, gets fewer messages: its rate is what is compared, not its
    total); --smoke uses tiny counts."""
    def n(full, tiny):
        return str(tiny if smoke else full)

    ballast = str(64 if smoke else 1024)  # MiB resident in the "1 GiB" parent
    mp, py, pyf = "mproc", "python", "python-futures"
    w = []

    def add(name, unit, what, **impls):
        w.append(Workload(name, unit, what, impls))

    for size in (8, 64):
        add(f"queue_small_{size}", "msgs/s", f"1 -> 1, {size}-byte messages",
            mproc=[mp, "queue_stream", str(size), n(10_000_000, 20_000)],
            python=[py, "queue_stream", str(size), n(1_000_000, 2_000)],
            boost=["boost_mq", "stream", str(size), n(10_000_000, 20_000)],
            raw=["raw_ring", "stream", str(size), n(20_000_000, 20_000)])
    add("queue_mpmc_64", "msgs/s", "2 -> 2, 64-byte messages",
        mproc=[mp, "queue_mpmc", "64", n(10_000_000, 20_000)],
        python=[py, "queue_mpmc", "64", n(500_000, 2_000)],
        boost=["boost_mq", "mpmc", "64", n(10_000_000, 20_000)])
    add("queue_bulk_1m", "GiB/s", "1 -> 1, 1 MiB messages (raw: memcpy)",
        mproc=[mp, "queue_stream", str(MIB), n(10_000, 20)],
        python=[py, "queue_stream", str(MIB), n(500, 5)],
        boost=["boost_mq", "stream", str(MIB), n(10_000, 20)],
        raw=["raw_copy", "memcpy", str(MIB), n(50_000, 20)])
    add("queue_pingpong_64", "us", "64 bytes each way through two queues",
        mproc=[mp, "queue_pingpong", "64", n(20_000, 200)],
        python=[py, "queue_pingpong", "64", n(5_000, 100)],
        boost=["boost_mq", "pingpong", "64", n(20_000, 200)],
        raw=["raw_ring", "pingpong", "64", n(20_000, 200)])
    add("pipe_pingpong_64", "us", "64 bytes each way over a duplex Pipe",
        mproc=[mp, "pipe_pingpong", "64", n(20_000, 200)],
        python=[py, "pipe_pingpong", "64", n(10_000, 100)],
        apr=["apr_peer", "pipe_pingpong", "64", n(20_000, 200)],
        raw=["raw_pipe", "pingpong", "socket", "64", n(20_000, 200)])
    add("pipe_bulk_1m", "GiB/s", "1 MiB send_bytes -> recv_bytes, duplex (socketpair)",
        mproc=[mp, "pipe_bulk", "duplex", str(MIB), n(5_000, 20)],
        python=[py, "pipe_bulk", "duplex", str(MIB), n(2_000, 10)],
        raw=["raw_pipe", "bulk", "socket", str(MIB), n(5_000, 20)])
    add("pipe_bulk_oneway_1m", "GiB/s", "1 MiB send_bytes -> recv_bytes, one-way (pipe)",
        mproc=[mp, "pipe_bulk", "oneway", str(MIB), n(2_000, 20)],
        python=[py, "pipe_bulk", "oneway", str(MIB), n(1_000, 10)],
        apr=["apr_peer", "pipe_bulk", str(MIB), n(2_000, 20)],
        raw=["raw_pipe", "bulk", "pipe", str(MIB), n(2_000, 20)])
    add("value_incr_1p", "ns/op", "locked increment, 1 process",
        mproc=[mp, "value_incr", "1", n(20_000_000, 20_000)],
        python=[py, "value_incr", "1", n(1_000_000, 2_000)],
        apr=["apr_peer", "value_incr", "1", n(20_000_000, 20_000)],
        raw=["raw_mutex", "1", n(20_000_000, 20_000)])
    add("value_incr_2p", "ns/op", "locked increment, 2 processes contending",
        mproc=[mp, "value_incr", "2", n(2_000_000, 10_000)],
        python=[py, "value_incr", "2", n(200_000, 1_000)],
        apr=["apr_peer", "value_incr", "2", n(2_000_000, 10_000)],
        raw=["raw_mutex", "2", n(5_000_000, 10_000)])
    add("lock_1p", "ns/op", "Lock acquire + release, 1 process",
        mproc=[mp, "sync_lock", "1", n(20_000_000, 20_000)],
        python=[py, "sync_lock", "1", n(1_000_000, 2_000)],
        raw=["raw_sync", "lock", "1", n(20_000_000, 20_000)])
    add("lock_2p", "incr/s", "increments under one Lock, 2 processes contending",
        mproc=[mp, "sync_lock", "2", n(10_000_000, 10_000)],
        python=[py, "sync_lock", "2", n(200_000, 1_000)],
        raw=["raw_sync", "lock", "2", n(10_000_000, 10_000)])
    add("semaphore_1p", "ns/op", "Semaphore acquire + release, 1 process",
        mproc=[mp, "sync_semaphore", n(20_000_000, 20_000)],
        python=[py, "sync_semaphore", n(1_000_000, 2_000)],
        raw=["raw_sync", "semaphore", n(20_000_000, 20_000)])
    add("event_pingpong", "us", "round trip through two Events (set, wait, clear)",
        mproc=[mp, "event_pingpong", n(20_000, 200)],
        python=[py, "event_pingpong", n(5_000, 100)],
        raw=["raw_futex", "pingpong", n(20_000, 200)])
    add("condition_pingpong", "us", "round trip through one Condition and a turn variable",
        mproc=[mp, "condition_pingpong", n(20_000, 200)],
        python=[py, "condition_pingpong", n(5_000, 100)],
        raw=["raw_futex", "pingpong", n(20_000, 200)])
    add("barrier_2p", "us", "one pass of a Barrier(2) by two processes",
        mproc=[mp, "barrier_2p", n(20_000, 200)],
        python=[py, "barrier_2p", n(5_000, 100)],
        raw=["raw_futex", "barrier", n(20_000, 200)])
    add("array_slice_1m", "GiB/s", "1 MiB slice written by one process, read by another",
        mproc=[mp, "array_slice", str(MIB), n(5_000, 20)],
        python=[py, "array_slice", str(MIB), n(40, 2)],
        raw=["raw_copy", "slice", str(MIB), n(10_000, 20)])
    add("spawn_join_spawn", "us", "start + join a trivial target, spawn",
        mproc=[mp, "spawn_join", "spawn", "0", n(300, 3)],
        python=[py, "spawn_join", "spawn", "0", n(20, 2)],
        apr=["apr_peer", "spawn_join", "0", n(500, 3)],
        raw=["raw_spawn", "spawn", "0", n(500, 3)])
    add("spawn_join_fork", "us", "start + join a trivial target, fork",
        mproc=[mp, "spawn_join", "fork", "0", n(300, 3)],
        python=[py, "spawn_join", "fork", "0", n(200, 3)],
        raw=["raw_spawn", "fork", "0", n(1_000, 3)])
    add("spawn_join_spawn_1g", "us", "spawn from a parent with 1 GiB resident",
        mproc=[mp, "spawn_join", "spawn", ballast, n(300, 3)],
        python=[py, "spawn_join", "spawn", ballast, n(20, 2)],
        apr=["apr_peer", "spawn_join", ballast, n(30, 3)],
        raw=["raw_spawn", "spawn", ballast, n(500, 3)])
    add("spawn_join_fork_1g", "us", "fork from a parent with 1 GiB resident",
        mproc=[mp, "spawn_join", "fork", ballast, n(30, 3)],
        python=[py, "spawn_join", "fork", ballast, n(20, 3)],
        raw=["raw_spawn", "fork", ballast, n(30, 3)])
    add("wait_100", "ns/op", "wait() on 1 ready + 100 idle connections",
        mproc=[mp, "wait_many", "100", n(200_000, 200)],
        python=[py, "wait_many", "100", n(20_000, 200)],
        raw=["raw_wait", "100", n(200_000, 200)])
    add("shm_create_attach", "msgs/s", "named 4 KiB SharedMemory: create, attach, close, unlink",
        mproc=[mp, "shm_create_attach", "4096", n(100_000, 100)],
        python=[py, "shm_create_attach", "4096", n(10_000, 100)],
        raw=["raw_shm_named", "4096", n(100_000, 100)])
    add("codec_small", "ns/op", "dumps + loads of [42, None, 'hello']",
        mproc=[mp, "codec", "small", n(2_000_000, 2_000)],
        python=[py, "codec", "small", n(1_000_000, 2_000)])
    add("codec_list1000", "ns/op", "dumps + loads of a list of 1000 mixed scalars",
        mproc=[mp, "codec", "list", n(20_000, 20)],
        python=[py, "codec", "list", n(20_000, 20)])
    add("pool_map_1", "tasks/s", "Pool(2).map of a trivial task, chunksize 1",
        mproc=[mp, "pool_map", "1", n(200_000, 200)],
        python=[py, "pool_map", "1", n(20_000, 100)],
        **{pyf: [pyf, "pool_map_futures", "1", n(8_000, 100)]})
    add("pool_map_1000", "tasks/s", "Pool(2).map of a trivial task, chunksize 1000",
        mproc=[mp, "pool_map", "1000", n(3_000_000, 2_000)],
        python=[py, "pool_map", "1000", n(2_000_000, 2_000)],
        **{pyf: [pyf, "pool_map_futures", "1000", n(1_000_000, 2_000)]})
    add("pool_apply_async", "tasks/s", "Pool(2): apply_async of a trivial task, then get",
        mproc=[mp, "pool_apply", n(100_000, 100)],
        python=[py, "pool_apply", n(10_000, 100)],
        **{pyf: [pyf, "pool_apply_futures", n(5_000, 100)]})
    add("pool_start", "us", "Pool(2) + map of 3 items + close + join",
        mproc=[mp, "pool_start", n(100, 2)],
        python=[py, "pool_start", n(20, 2)],
        **{pyf: [pyf, "pool_start_futures", n(20, 2)]})
    # Beside pool_map_1: the same map on MPI ranks (2 workers, as Pool(2)).
    add("pool_mpi_map_1", "tasks/s", "MPI, 3 ranks: map of a trivial task, chunksize 1",
        mproc=["mpiexec", mp, "pool_mpi_map", "1", n(200_000, 200)],
        mpi4py=["mpiexec", "mpi4py", "map", "1", n(5_000, 100)])
    return w


# ---- the targets of the issue, in one place ----------------------------------------------
#
# (workload, reference, kind, factor, reference's name): reference is a peer
# of the same workload, or (workload, impl) elsewhere in the suite. Kind
# "faster": mproc's speed is at least factor times the reference's (for
# time units, speed is 1/time). Kind "time": mproc's time is at most factor
# times the reference's.

TARGETS = [
    ("queue_small_8", "raw", "faster", 1.0, "the raw futex ring"),
    ("queue_small_8", "boost", "faster", 5.0, "Boost message_queue"),
    ("queue_small_8", "python", "faster", 100.0, "Python's Queue"),
    ("queue_small_64", "raw", "faster", 1.0, "the raw futex ring"),
    ("queue_small_64", "boost", "faster", 5.0, "Boost message_queue"),
    ("queue_small_64", "python", "faster", 100.0, "Python's Queue"),
    ("queue_mpmc_64", "boost", "faster", 2.0, "Boost message_queue 2 -> 2"),
    ("queue_bulk_1m", "boost", "faster", 2.0, "Boost message_queue"),
    ("queue_bulk_1m", ("pipe_bulk_oneway_1m", "raw"), "faster", 20.0, "raw pipe bulk"),
    ("array_slice_1m", ("pipe_bulk_oneway_1m", "raw"), "faster", 10.0, "raw pipe bulk"),
    ("pipe_pingpong_64", "raw", "time", 1.05, "the raw socketpair round trip"),
    ("pipe_bulk_1m", "raw", "faster", 0.95, "raw write/read, socketpair"),
    ("pipe_bulk_oneway_1m", "raw", "faster", 0.95, "raw write/read, pipe"),
    ("value_incr_1p", "apr", "faster", 1.0, "APR's apr_proc_mutex counter"),
    ("value_incr_1p", "python", "faster", 20.0, "Python"),
    ("value_incr_1p", "raw", "faster", 0.8, "a bare process-shared pthread mutex"),
    ("lock_1p", "raw", "time", 1.0, "a robust process-shared pthread mutex"),
    ("lock_1p", "python", "faster", 10.0, "Python's Lock"),
    ("lock_2p", "raw", "faster", 1.0, "a robust process-shared pthread mutex"),
    ("semaphore_1p", "python", "faster", 10.0, "Python's Semaphore"),
    ("event_pingpong", "raw", "time", 1.1, "the raw futex ping-pong"),
    ("event_pingpong", "python", "faster", 4.0, "Python's Event"),
    ("condition_pingpong", "python", "faster", 4.0, "Python's Condition"),
    ("barrier_2p", "python", "faster", 4.0, "Python's Barrier"),
    ("spawn_join_spawn", "raw", "time", 1.5, "bare posix_spawn + waitpid"),
    ("spawn_join_fork", "raw", "time", 1.5, "bare fork + waitpid"),
    ("spawn_join_spawn_1g", ("spawn_join_spawn", "mproc"), "time", 1.1,
     "mproc's spawn from the small parent"),
    ("wait_100", "raw", "time", 1.2, "a raw poll(2) over the same pipes"),
    ("shm_create_attach", "python", "faster", 10.0, "Python's SharedMemory"),
    ("shm_create_attach", "raw", "faster", 0.9, "the bare system calls"),
    ("codec_small", "python", "faster", 3.0, "pickle.dumps + loads"),
    ("codec_list1000", "python", "faster", 3.0, "pickle.dumps + loads"),
    ("pool_map_1", "python", "faster", 20.0, "Python's Pool"),
    ("pool_map_1", "python-futures", "faster", 100.0, "Python's ProcessPoolExecutor"),
    ("pool_map_1000", "python", "faster", 3.0, "Python's Pool"),
    ("pool_apply_async", "python", "faster", 20.0, "Python's Pool"),
    ("pool_start", "python", "time", 0.2, "Python's Pool"),
    ("pool_mpi_map_1", "mpi4py", "faster", 10.0, "mpi4py's MPIPoolExecutor.map"),
]


def speed(value, unit):
    return value if unit in SPEED_UNITS else 1.0 / value


class Ratios:
    """Speed ratios between two implementations' results, paired by round."""

    def __init__(self, samples, units):
        self.samples, self.units = samples, units  # (workload, impl) -> {round: value}

    def per_round(self, a, b):
        """a's speed over b's in each round both have, a and b being
        (workload, impl), in round order."""
        sa, sb = self.samples.get(a, {}), self.samples.get(b, {})
        return [speed(sa[r], self.units[a[0]]) / speed(sb[r], self.units[b[0]])
                for r in sorted(set(sa) & set(sb))]

    def speedup(self, a, b):
        """The median of per_round(a, b), or None."""
        rounds = self.per_round(a, b)
        return statistics.median(rounds) if rounds else None


class TargetResult:
    """One target of one run. measured is the median of the per-round
    figures, in the target's own terms (a speed-up, or a time ratio);
    rounds are those figures, so a reader sees how often the target held
    round by round, not only whether the median did (on this machine a
    median near the line can fall either side from run to run); python is
    Python's figure in the same terms against the same reference, for
    context."""

    def __init__(self, workload, text, kind, factor, rounds, python):
        self.workload, self.text, self.python = workload, text, python
        self.rounds = rounds
        self.measured = statistics.median(rounds) if rounds else None

        def ok(x):
            return x >= factor if kind == "faster" else x <= factor

        self.holds = None if self.measured is None else ok(self.measured)
        self.rounds_held = sum(1 for x in rounds if ok(x))


def evaluate_targets(ratios, units):
    """A TargetResult for every target whose workload ran."""
    out = []
    for wl, ref, kind, factor, ref_name in TARGETS:
        if wl not in units:
            continue
        ref_key = ref if isinstance(ref, tuple) else (wl, ref)
        if kind == "faster":
            text = f"{wl}: >= {factor:g}x {ref_name}"
        else:
            text = f"{wl}: time <= {factor:g}x {ref_name}"

        def in_terms(impl):
            rounds = ratios.per_round((wl, impl), ref_key)
            return [r if kind == "faster" else 1.0 / r for r in rounds]

        python = None
        if ref_key[1] != "python" and ref_key[1] != "mproc":
            py_rounds = in_terms("python")
            python = statistics.median(py_rounds) if py_rounds else None
        out.append(TargetResult(wl, text, kind, factor, in_terms("mproc"), python))
    return out


# ---- running ----------------------------------------------------------------------------------

class Runner:
    def __init__(self, build_dir, timeout):
        self.bin = os.path.join(build_dir, "bench")
        self.timeout = timeout

    def argv(self, cmd):
        prog, args = cmd[0], cmd[1:]
        if prog == "mpiexec":  # the rest runs on MPI_RANKS ranks
            launcher = shutil.which("mpiexec") or "mpiexec"
            return [launcher, "-n", str(MPI_RANKS)] + self.argv(args)
        if prog == "mpi4py":  # rank 0 runs the script, the others serve
            return [self.mpi4py_python() or sys.executable, "-m", "mpi4py.futures",
                    os.path.join(HERE, "mpi4py_peer.py")] + args
        if prog in PYTHON_IMPLS:  # the workload name says Pool or ProcessPoolExecutor
            return [sys.executable, os.path.join(HERE, "py_peer.py")] + args
        if prog == "mproc":
            prog, args = args[0], args[1:]
        return [os.path.join(self.bin, prog)] + args

    def mpi4py_python(self):
        """A Python that has mpi4py: this one, or the system's (Debian's
        python3-mpi4py serves /usr/bin/python3, which pyenv may shadow)."""
        if not hasattr(self, "_mpi4py"):
            self._mpi4py = None
            for py in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
                if py and subprocess.run([py, "-c", "import mpi4py.futures"],
                                         capture_output=True).returncode == 0:
                    self._mpi4py = py
                    break
        return self._mpi4py

    def available(self, cmd):
        if cmd[0] == "mpiexec":
            return shutil.which("mpiexec") is not None and self.available(cmd[1:])
        if cmd[0] == "mpi4py":
            return self.mpi4py_python() is not None
        path = self.argv(cmd)[0]
        return path == sys.executable or os.access(path, os.X_OK)

    def run(self, cmd, unit):
        """(value, None) or (None, error text)."""
        argv = self.argv(cmd)
        # A session of its own, so a program that hangs is ended with all
        # the processes it started, and nothing else.
        # No __pycache__ in the source tree from py_peer's spawned children.
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        if cmd[0] == "mpiexec":
            env.update(MPI_ENV)
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True, env=env)
        try:
            out, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None, f"timed out after {self.timeout:g} s"
        if proc.returncode != 0:
            last = (err.strip().splitlines() or ["no message"])[-1]
            return None, f"exit status {proc.returncode}: {last}"
        m = re.fullmatch(r"\s*(\S+) (\S+)\s*", out)
        try:
            value = float(m.group(1)) if m else math.nan
        except ValueError:
            value = math.nan
        if not m or m.group(2) != unit or not math.isfinite(value) or value <= 0:
            return None, f"unexpected output {out.strip()!r} (want '<number> {unit}')"
        return value, None


def run_suite(workloads, runner, rounds, warmup, log):
    samples = {}  # (workload, impl) -> {measured round: value}
    errors = {}   # (workload, impl) -> first error
    total = sum(len(w.impls) for w in workloads) * rounds
    done = 0
    t_start = time.monotonic()
    for r in range(rounds):
        tag = "warm-up" if (warmup and r == 0) else f"round {r + (0 if warmup else 1)}"
        for w in workloads:
            impls = [i for i in IMPLS if i in w.impls]
            k = r % len(impls)
            for impl in impls[k:] + impls[:k]:
                done += 1
                key = (w.name, impl)
                if key in errors:
                    continue  # a program that failed once is not run again
                if not runner.available(w.impls[impl]):
                    # Only the peers are optional (bench/CMakeLists.txt says
                    # which are skipped and why); a missing mproc or raw
                    # program is a broken build.
                    errors[key] = ("not built (optional dependency missing)"
                                   if impl in OPTIONAL else "program missing: not built?")
                    log(f"{w.name} {impl}: {errors[key]}")
                    continue
                value, err = runner.run(w.impls[impl], w.unit)
                elapsed = time.monotonic() - t_start
                shown = fmt(value) + " " + w.unit if err is None else "FAILED: " + err
                log(f"[{done}/{total} {elapsed:5.0f}s] {tag}/{rounds - warmup}"
                    f" {w.name} {impl}: {shown}")
                if err is not None:
                    errors[key] = err
                elif not (warmup and r == 0):
                    samples.setdefault(key, {})[r] = value
    return samples, errors


# ---- reporting -------------------------------------------------------------------------------

def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if a >= div:
            return f"{v / (div if div != 1e4 else 1e3):.3g}{suffix}"
    return f"{v:.0f}" if a >= 100 else f"{v:.3g}"


def fmt_ratio(r):
    if r is None:
        return ""
    return f"{r:.2f}x" if r < 10 else f"{r:.3g}x"


def machine_string():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()},"
            f" {date}")


def table_rows(workloads, medians, ratios, target_results):
    """One row per workload: name, unit, mproc's median, then per peer its
    median and mproc's speed relative to it, then the targets' tally."""
    rows = []
    for w in workloads:
        m = medians.get((w.name, "mproc"))
        row = [w.name, w.unit, fmt(m)]
        for peer in PEERS:
            v = medians.get((w.name, peer))
            ratio = ratios.speedup((w.name, "mproc"), (w.name, peer))
            row += [fmt(v) if peer in w.impls else "", fmt_ratio(ratio)]
        mine = [t for t in target_results if t.workload == w.name]
        known = [t for t in mine if t.holds is not None]
        if not mine:
            tally = ""
        elif not known:
            tally = "?"
        else:
            met = sum(1 for t in known if t.holds)
            tally = f"{met}/{len(mine)} met"
        rows.append(row + [tally])
    return rows


HEADER = ["workload", "unit", "mproc"] + [x for p in PEERS for x in (p, "x" + p)] + [
    "targets"]


def text_table(rows):
    widths = [max(len(str(r[i])) for r in [HEADER] + rows) for i in range(len(HEADER))]
    lines = []
    for r in [HEADER] + rows:
        cells = [str(c).ljust(widths[i]) if i < 2 else str(c).rjust(widths[i])
                 for i, c in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def markdown_table(rows):
    """The same rows, each peer's cell as "value (ratio)", so the table fits
    a page: the ratio is mproc's speed over that peer's."""
    head = ["workload", "unit", "mproc"] + [PEER_TITLES[p] for p in PEERS] + ["targets"]
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join(["---", "---"] + ["---:"] * (1 + len(PEERS)) + ["---"]) + "|"]
    for r in rows:
        cells = r[:3]
        for k in range(len(PEERS)):
            value, ratio = r[3 + 2 * k], r[4 + 2 * k]
            cells.append(f"{value} ({ratio})" if value and ratio else value)
        cells.append(r[-1])
        out.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(out)


def targets_text(target_results, markdown=False):
    """The targets, each with the median, whether it holds, in how many
    rounds it held and the lowest and highest round."""
    lines = []
    if markdown:
        lines += ["| target | mproc | holds | rounds held | per round | Python, same terms |",
                  "|---|---:|---|---:|---:|---:|"]
    else:
        lines += [f"  {'holds':<5} {'mproc':>8} {'rounds':>6} {'per round':>15}"
                  f" {'python':>8}  target"]
    for t in target_results:
        m = "-" if t.measured is None else f"{t.measured:.3g}x"
        py = "" if t.python is None else f"{t.python:.3g}x"
        h = "?" if t.holds is None else ("yes" if t.holds else "NO")
        held = f"{t.rounds_held}/{len(t.rounds)}" if t.rounds else "-"
        span = f"{min(t.rounds):.3g}x-{max(t.rounds):.3g}x" if t.rounds else "-"
        lines.append(f"| {t.text} | {m} | {h} | {held} | {span} | {py} |" if markdown else
                     f"  {h:<5} {m:>8} {held:>6} {span:>15} {py:>8}  {t.text}")
    return "\n".join(lines)


def write_chart(out_dir, workloads, ratios, title, log):
    """ratios.dat and ratios.png: mproc's speed over each peer's, per workload,
    on a log scale (1 = as fast as the peer)."""
    dat = os.path.join(out_dir, "ratios.dat")
    with open(dat, "w") as f:
        f.write("# workload " + " ".join(PEERS) + "  (mproc speed / peer speed)\n")
        for w in workloads:
            cells = []
            for peer in PEERS:
                r = ratios.speedup((w.name, "mproc"), (w.name, peer))
                cells.append("?" if r is None else f"{r:.6g}")
            f.write(f"{w.name} " + " ".join(cells) + "\n")
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        log("gnuplot not found: no ratios.png (install gnuplot-nox)")
        return None
    png = os.path.join(out_dir, "ratios.png")
    legend = dict(PEER_TITLES, raw="raw limit")
    plots = ", ".join(
        f"'{dat if k == 0 else ''}' using {k + 2}{':xtic(1)' if k == 0 else ''}"
        f" title 'vs {legend[p]}'" for k, p in enumerate(PEERS))
    script = f"""
set terminal pngcairo size 1400,700 font ",10" noenhanced
set output '{png}'
set title "mproc's speed relative to each peer (above 1x: mproc is faster)\\n{title}"
set ylabel "mproc speed / peer speed"
set datafile missing '?'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [0.001:10000]
set ytics ("0.001x" 0.001, "0.01x" 0.01, "0.1x" 0.1, "1x" 1, "10x" 10, "100x" 100, "1000x" 1000, "10000x" 10000)
set grid ytics
set xtics rotate by 35 right nomirror
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
plot {plots}
"""
    res = subprocess.run([gnuplot], input=script, text=True, capture_output=True)
    if res.returncode != 0:
        log("gnuplot failed: " + res.stderr.strip())
        return None
    return png


def report(out_dir, workloads, samples, errors, meta, log):
    """Writes results.json, results.md and the chart, prints the table;
    returns the exit status."""
    medians = {k: statistics.median(v.values()) for k, v in samples.items()}
    units = {w.name: w.unit for w in workloads}
    ratios = Ratios(samples, units)
    first = 1 if meta["warmup"] else 0
    results = []
    for w in workloads:
        for impl in IMPLS:
            key = (w.name, impl)
            if key not in medians:
                continue
            rec = {"workload": w.name, "impl": impl, "value": medians[key], "unit": w.unit,
                   "samples": [samples[key].get(r) for r in range(first, meta["rounds"])]}
            if impl != "mproc":
                rec["mproc_speedup"] = ratios.speedup((w.name, "mproc"), key)
            results.append(rec)
    target_results = evaluate_targets(ratios, units)
    failed = {k: e for k, e in errors.items() if not e.startswith("not built")}
    load0, load1 = meta["loadavg"]["start"], meta["loadavg"]["end"]
    machine = meta["machine"]

    doc = {
        "machine": machine,
        "results": results,
        "rounds": meta["rounds"] - first,
        "warmup": meta["warmup"],
        "smoke": meta["smoke"],
        "loadavg": meta["loadavg"],
        "targets": [{"target": t.text, "measured": t.measured, "holds": t.holds,
                     "rounds": t.rounds, "rounds_held": t.rounds_held, "python": t.python}
                    for t in target_results],
        "errors": [{"workload": w, "impl": i, "error": e} for (w, i), e in errors.items()],
    }
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")

    rows = table_rows(workloads, medians, ratios, target_results)
    kind = "smoke run (tiny counts: the numbers mean nothing)" if meta["smoke"] else (
        f"medians of {meta['rounds'] - first} interleaved rounds")
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(f"Machine: {machine}; {kind}; load average "
                f"{load0[0]:.2f} at the start, {load1[0]:.2f} at the end.\n"
                "Each cell is the implementation's median; in brackets, mproc's speed"
                " over that peer's (for times, the peer's time over mproc's), the median"
                " of the per-round ratios: above 1x, mproc is faster.\n\n")
        f.write(markdown_table(rows) + "\n\n" + targets_text(target_results, True) + "\n")
    png = write_chart(out_dir, workloads, ratios, f"{machine}; {kind}", log)

    print(f"mproc bench on {machine}")
    print(f"{kind}; xPEER = mproc's speed / PEER's speed (for times, PEER's time /"
          " mproc's),\nthe median of the per-round ratios: above 1, mproc is faster")
    print()
    print(text_table(rows))
    print()
    print("targets:")
    print(targets_text(target_results))
    for (w, i), e in errors.items():
        print(f"  {w} {i}: {e}")
    print()
    print(f"wrote {os.path.join(out_dir, 'results.json')}, results.md"
          + (", ratios.png" if png else ""))
    if failed:
        print(f"{len(failed)} program(s) failed", file=sys.stderr)
        return 1
    return 0


def load_previous(out_dir, workloads):
    """The samples, errors and facts of the run recorded in results.json."""
    with open(os.path.join(out_dir, "results.json")) as f:
        doc = json.load(f)
    warmup = doc.get("warmup", not doc.get("smoke", False))
    first = 1 if warmup else 0
    samples = {}
    for rec in doc["results"]:
        samples[(rec["workload"], rec["impl"])] = {
            r + first: v for r, v in enumerate(rec["samples"]) if v is not None}
    names = {w.name for w in workloads}
    samples = {k: v for k, v in samples.items() if k[0] in names and v}
    errors = {(e["workload"], e["impl"]): e["error"] for e in doc.get("errors", [])
              if e["workload"] in names}
    meta = {"machine": doc["machine"], "warmup": warmup, "smoke": doc.get("smoke", False),
            "rounds": doc["rounds"] + first, "loadavg": doc["loadavg"]}
    return samples, errors, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--smoke", action="store_true", help="tiny counts, one round")
    ap.add_argument("--reps", type=int, default=5, help="measured rounds (default 5)")
    ap.add_argument("--only", default=None, help="run workloads matching this regex")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per program run (default 600, smoke 120)")
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing: report again from the build folder's results.json")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be at least 1")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    workloads = suite(args.smoke)
    if args.only:
        workloads = [w for w in workloads if re.search(args.only, w.name)]
        if not workloads:
            ap.error(f"no workload matches {args.only!r}")
    out_dir = os.path.abspath(args.build_dir)
    if args.report_only:
        samples, errors, meta = load_previous(out_dir, workloads)
        workloads = [w for w in workloads if any(k[0] == w.name for k in samples)]
        return report(out_dir, workloads, samples, errors, meta, log)

    warmup = not args.smoke
    rounds = (1 if args.smoke else args.reps) + (1 if warmup else 0)
    timeout = args.timeout or (120.0 if args.smoke else 600.0)
    runner = Runner(out_dir, timeout)
    for w in [w for w in workloads if w.impls["mproc"][0] == "mpiexec"]:
        if not runner.available(w.impls["mproc"]):
            log(f"{w.name}: skipped: MPI not found (no mpiexec, or mproc built without "
                f"MPROC_WITH_MPI: bench/run turns it on where mpicc and mpiexec are found)")
            workloads.remove(w)
    machine = machine_string()
    load0 = os.getloadavg()
    log(f"mproc bench: {len(workloads)} workloads, {rounds} rounds"
        f"{' (the first a warm-up)' if warmup else ''}, on {machine}")
    samples, errors = run_suite(workloads, runner, rounds, warmup, log)
    meta = {"machine": machine, "warmup": warmup, "smoke": args.smoke, "rounds": rounds,
            "loadavg": {"start": load0, "end": os.getloadavg()}}
    return report(out_dir, workloads, samples, errors, meta, log)


if __name__ == "__main__":
    sys.exit(main())
