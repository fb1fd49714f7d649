"""A Python process on the other side of a SharedMemory block made or
attached by C (tests/interop/shared_memory.c), talking over an inherited
Connection.

usage: py_shm.py FD attach NAME     attach untracked, check C's bytes, write
       py_shm.py FD tracked NAME    attach as Python does by default, then exit
       py_shm.py FD create          create, send the name, wait for C, unlink
       py_shm.py FD sl_read NAME    attach C's ShareableList, check, change it
       py_shm.py FD sl_create       make a ShareableList, send the name and how
                                    Python reads its last item, wait, unlink

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
    elif mode == "sl_read":
        sl = shared_memory.ShareableList(name=sys.argv[3])
        # A ShareableList attaches with the default tracking: undone here.
        resource_tracker.unregister(sl.shm._name, "shared_memory")
        want = ["h\u00e9llo", b"HoWdY", -273.154, 100, None, True, False,
                "\u00fc" * 5, b"a\x00b"]
        if list(sl) != want or [type(v) for v in sl] != [type(v) for v in want]:
            fail(6, "read %r" % list(sl))
        sl[1] = b"new"
        sl[2] = "dry ice"
        sl[7] = "\u00e9" * 5
        sl.shm.close()
        conn.send_bytes(b"done")
    elif mode == "sl_create":
        sl = shared_memory.ShareableList(
            ["howdy", b"HoWdY", -273.154, 100, None, True, 42, "a" + "\u00fc" * 4])
        try:
            report = repr(sl[7])
        except UnicodeDecodeError:
            report = "UnicodeDecodeError"
        conn.send_bytes(sl.shm.name.encode())
        conn.send_bytes(report.encode())
        if conn.recv_bytes() != b"read":
            fail(7, "no word from C")
        if sl[0] != "HOWDY!":
            fail(8, "item 0 is %r" % sl[0])
        sl.shm.close()
        sl.shm.unlink()
        conn.send_bytes(b"unlinked")
    else:
        fail(9, "mode %r" % mode)
    conn.close()


main()
