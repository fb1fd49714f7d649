"""test_py_peer.py - checks of py_peer.py's start line, the order that
keeps a Python peer's timed work after its clock starts (issue: a peer
whose workers ran before the parent read the clock measured too little,
or a negative time). Order only, no timing.

    python3 -m unittest bench/test_py_peer.py
"""
import ast
import multiprocessing as mp
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import py_peer  # noqa: E402


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


if __name__ == "__main__":
    unittest.main()
