"""A Python process on the other side of a SharedMemory block made or
attached by C (tests/interop/shared_memory.c), talking over an inherited
Connection.

usage: py_shm.py FD attach NAME     attach untracked, check C's bytes, write
       py_shm.py FD tracked NAME    attach as Python does by default, then exit
       py_shm.py FD create          create, send the name, wait for C, unlink

Untracked: Python 3.13's track=False, or, before 3.13 (where every attach
registers the name with the resource tracker, which unlinks it when this
process exits: cpython gh-82300), unregistering it at once."""

import sys
from multiprocessing import resource_tracker, shared_memory
from multiprocessing.connection import Connection


def fail(code, what):
    sys.stderr.write("py_shm: %s\n" % what)
    sys.exit(code)


def attach(name, tracked):
    if tracked:
        return shared_memory.SharedMemory(name=name)
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, track=False)
    shm = shared_memory.SharedMemory(name=name)
    resource_tracker.unregister(shm._name, "shared_memory")
    return shm


def main():
    conn = Connection(int(sys.argv[1]))
    mode = sys.argv[2]
    if mode in ("attach", "tracked"):
        shm = attach(sys.argv[3], mode == "tracked")
        if shm.size < 4096:
            fail(2, "size %d" % shm.size)
        if bytes(shm.buf[:6]) != b"from C":
            fail(3, "read %r" % bytes(shm.buf[:6]))
        shm.buf[:7] = b"from Py"
        shm.close()
        conn.send_bytes(b"done")
    elif mode == "create":
        shm = shared_memory.SharedMemory(create=True, size=4096)
        shm.buf[:7] = b"from Py"
        conn.send_bytes(shm.name.encode())
        if conn.recv_bytes() != b"attached":
            fail(4, "no word from C")
        if bytes(shm.buf[:6]) != b"from C":
            fail(5, "read %r" % bytes(shm.buf[:6]))
        shm.close()
        shm.unlink()
        conn.send_bytes(b"unlinked")
    else:
        fail(9, "mode %r" % mode)
    conn.close()


main()
