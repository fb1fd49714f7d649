"""A Python parent and a C child: starts echo_peer with one end of a Pipe,
sends random objects, and checks each reply [repr computed in C, object]
against repr() and the object sent.

usage: py_parent.py ECHO_PEER COUNT SEED"""

import os
import random
import subprocess
import sys
from multiprocessing import Pipe

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from randobj import fail, rand_obj, same  # noqa: E402


def main():
    peer, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    ours, theirs = Pipe()
    proc = subprocess.Popen([peer, str(theirs.fileno())], pass_fds=[theirs.fileno()])
    theirs.close()
    fixed = [[42, None, "hello"], [1, "hello", None], (1,), (), {}, b"thank you",
             {"a": [1, 2.5, (None,)], 3: {b"x": -0.0}}, "it's", 'say "hi"', "both ' \"",
             float("nan"), float("inf"), 1e16, 2**63 - 1, -(2**63), True, False]
    objs = fixed + [rand_obj(rng) for _ in range(count)]
    for i, obj in enumerate(objs):
        ours.send(obj)
        reply = ours.recv()
        if not (isinstance(reply, list) and len(reply) == 2):
            fail("object %d: bad reply %r" % (i, reply))
        if reply[0] != repr(obj):
            fail("object %d: C repr %r, Python repr %r" % (i, reply[0], repr(obj)))
        if not same(reply[1], obj):
            fail("object %d: sent %r, got back %r" % (i, obj, reply[1]))
    ours.close()
    code = proc.wait(timeout=120)
    if code != 0:
        fail("echo_peer exited with %d" % code)


main()
