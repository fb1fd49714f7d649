"""echo_peer.py - the Python end of the echo_peer example: Python's
multiprocessing.Pipe on one side, the C program on the other, object for
object.

    python3 echo_peer.py PATH/TO/echo_peer

Sends a few objects; for each, echo_peer answers with the repr it computed
in C and the object itself. Prints both and whether the object came back
equal; exits with echo_peer's status (non-zero if anything differed).
POSIX only: the descriptor is passed on the command line.
"""
import multiprocessing
import subprocess
import sys

OBJECTS = [
    {"x": (1, 2.5)},
    [42, None, "hello"],
    b"bytes\x00\xff",
    3.141592653589793,
    -(2**62),
    (True, False, -7),
    {"nested": [{"k": "v"}, ("t",)], "empty": {}},
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python3 echo_peer.py PATH/TO/echo_peer")
    ours, theirs = multiprocessing.Pipe()
    peer = subprocess.Popen([sys.argv[1], str(theirs.fileno())], pass_fds=[theirs.fileno()])
    theirs.close()
    same = True
    for obj in OBJECTS:
        ours.send(obj)
        c_repr, back = ours.recv()
        print(f"C repr: {c_repr}")
        print(f"  back: {back!r} (equal: {back == obj}, repr as Python's: {c_repr == repr(obj)})")
        same = same and back == obj and c_repr == repr(obj)
    ours.close()  # echo_peer exits at end of file
    status = peer.wait()
    print(f"echo_peer exited with {status}")
    sys.exit(status or (0 if same else 1))


if __name__ == "__main__":
    main()
