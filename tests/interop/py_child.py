"""A C parent and a Python child: the C test echoes every object back as
[repr computed in C, object]; this child sends random objects on the
inherited descriptor and checks the replies.

usage: py_child.py FD COUNT SEED"""

import os
import random
import sys
from multiprocessing.connection import Connection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from randobj import fail, rand_obj, same  # noqa: E402


def main():
    conn = Connection(int(sys.argv[1]))
    count, seed = int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    for i in range(count):
        obj = rand_obj(rng)
        conn.send(obj)
        reply = conn.recv()
        if reply[0] != repr(obj):
            fail("object %d: C repr %r, Python repr %r" % (i, reply[0], repr(obj)))
        if not same(reply[1], obj):
            fail("object %d: sent %r, got back %r" % (i, obj, reply[1]))
    # Then C speaks first: objects built in C, which this side re-sends.
    while True:
        try:
            obj = conn.recv()
        except EOFError:
            break
        conn.send([repr(obj), obj])
    conn.close()


main()
