"""test_py_peer.py - checks of py_peer.py's start line, the order that
keeps a Python peer's timed work after its clock starts (issue: a peer
whose workers ran before the parent read the clock measured too little,
or a negative time). Order only, no timing.

    python3 -m unittest bench/test_py_peer.py
"""
import ast
import multiprocessing as mp
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import py_peer  # noqa: E402
import run  # noqa: E402


def _note_start(line, ident, stamps):
    line.arrive(ident)
    stamps[ident] = py_peer.now_ns()


class StartLineTest(unittest.TestCase):
    def test_workers_start_after_the_clock(self):
        line = py_peer.StartLine(3)
        stamps = mp.RawArray("q", 3)
        procs = [mp.Process(target=_note_start, args=(line, i, stamps)) for i in range(3)]
        for p in procs:
            p.start()
        t0 = line.start()
        for p in procs:
            p.join()
            self.assertEqual(p.exitcode, 0)
        self.assertTrue(all(s >= t0 for s in stamps), (t0, list(stamps)))
        line.check(t0, "test")  # passes: no SystemExit

    def test_check_fails_a_worker_that_started_first(self):
        line = py_peer.StartLine(2)
        t0 = py_peer.now_ns()
        line.ctl[line.SEEN] = t0 + 1
        line.ctl[line.SEEN + 1] = t0 - 1  # saw the go before the clock read
        with self.assertRaises(SystemExit) as cm:
            line.check(t0, "test")
        self.assertIn("before the clock", str(cm.exception))

    def test_check_fails_a_worker_that_never_arrived(self):
        line = py_peer.StartLine(1)  # its note stays 0, before any clock read
        with self.assertRaises(SystemExit):
            line.check(py_peer.now_ns(), "test")

    def test_no_workload_starts_workers_with_a_barrier(self):
        """A Barrier the parent waits on too is what let workers run before
        the clock; only barrier_2p, which measures the Barrier, has one."""
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "py_peer.py")
        with open(path) as f:
            tree = ast.parse(f.read())
        users = set()
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef):
                for node in ast.walk(fn):
                    if (isinstance(node, ast.Attribute) and node.attr == "Barrier"
                            and isinstance(node.value, ast.Name) and node.value.id == "mp"):
                        users.add(fn.name)
        self.assertEqual(users, {"barrier_2p"})


class PoolWorkloadTest(unittest.TestCase):
    """The Pool workloads: each Python command of run.py's suite names a
    py_peer workload with its arguments, python-futures always a
    ProcessPoolExecutor one, and each prints "<value> <unit>"."""

    def test_suite_commands_name_py_peer_workloads(self):
        for smoke in (False, True):
            for w in run.suite(smoke):
                for impl in run.PYTHON_IMPLS:
                    if impl not in w.impls:
                        continue
                    cmd = w.impls[impl]
                    self.assertEqual(cmd[0], impl, w.name)
                    self.assertIn(cmd[1], py_peer.WORKLOADS, w.name)
                    self.assertEqual(len(cmd) - 2, len(py_peer.WORKLOADS[cmd[1]][1]), w.name)
                    self.assertEqual(cmd[1].endswith("_futures"), impl == "python-futures",
                                     w.name)

    def test_futures_workloads_use_the_executor(self):
        """*_futures builds a ProcessPoolExecutor and no mp.Pool; the pool_*
        workloads an mp.Pool and no executor."""
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "py_peer.py")
        with open(path) as f:
            tree = ast.parse(f.read())
        fns = {fn.name: fn for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef)}

        def reaches(name, seen=None):
            """Names a function uses, following calls of py_peer's own functions."""
            seen = set() if seen is None else seen
            if name in seen or name not in fns:
                return set()
            seen.add(name)
            names = set()
            for node in ast.walk(fns[name]):
                if isinstance(node, ast.Attribute):
                    names.add(node.attr)
                elif isinstance(node, ast.Name):
                    names.add(node.id)
                    names |= reaches(node.id, seen)
            return names

        for name in py_peer.WORKLOADS:
            if not name.startswith("pool_"):
                continue
            used = reaches(name)
            futures = name.endswith("_futures")
            self.assertEqual("ProcessPoolExecutor" in used, futures, name)
            self.assertEqual("Pool" in used, not futures, name)

    def test_pool_workloads_print_a_value(self):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "py_peer.py")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        for args, unit in ((["pool_map", "1", "20"], "tasks/s"),
                           (["pool_map_futures", "1000", "2000"], "tasks/s"),
                           (["pool_apply", "20"], "tasks/s"),
                           (["pool_apply_futures", "20"], "tasks/s"),
                           (["pool_start", "1"], "us"),
                           (["pool_start_futures", "1"], "us")):
            out = subprocess.run([sys.executable, path] + args, capture_output=True,
                                 text=True, timeout=120, env=env)
            self.assertEqual(out.returncode, 0, (args, out.stderr))
            m = re.fullmatch(r"(\S+) (\S+)\n", out.stdout)
            self.assertTrue(m, (args, out.stdout))
            self.assertGreater(float(m.group(1)), 0, args)
            self.assertEqual(m.group(2), unit, args)


if __name__ == "__main__":
    unittest.main()
