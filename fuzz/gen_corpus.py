#!/usr/bin/env python3
"""gen_corpus.py OUTDIR - the seed corpus of the fuzz targets.

Writes OUTDIR/pickle/*: pickles Python writes at protocols 2 to 5 (plus a
few at 0 and 1) for many shapes of the supported types, shared
references, and a few of the kinds the decoder refuses (sets, instances,
bytearray, recursive lists), so the fuzzer starts from every opcode path.

Writes OUTDIR/framing/*: byte streams as multiprocessing.connection writes
them, captured from a real Connection on an os.pipe(), one mode byte first
(fuzz_framing.c reads it: limits and the receive call to use).

Deterministic: the same Python writes the same files. Standard library
only; Python 3.8+.
"""
import hashlib
import os
import pickle
import random
import struct
import sys
from multiprocessing.connection import Connection


def values():
    r = random.Random(2024)
    x = [1, 2]
    s = "shared"
    rec = []
    rec.append(rec)
    vals = [
        None, True, False, 0, 1, 255, 256, 65535, 65536, -1, -2**31, 2**31,
        2**63 - 1, -2**63, 2**64, -2**100, 1.5, -0.0, float("inf"), float("nan"),
        "", "a", "h\u00e9llo \u20ac\U0001f600", "x" * 300, "\ud800",
        b"", b"\x00\xff", b"y" * 300,
        [], (), {}, [1], (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4),
        [42, None, "hello"], {"a": 1, "b": [2, 3], 4: (5, 6.5)},
        list(range(1001)), {i: str(i) for i in range(1000)},
        [[[[[["deep"]]]]]], ((((((1,),),),),),),
        [x, x, {"k": x}], [s] * 4, (s, s),
        {1, 2}, frozenset([3]), bytearray(b"ab"), complex(1, 2), rec,
    ]
    for _ in range(40):
        vals.append(rand_value(r, 0))
    return vals


def rand_value(r, depth):
    k = r.randrange(10 if depth < 4 else 6)
    if k == 0:
        return None
    if k == 1:
        return r.random() < 0.5
    if k == 2:
        return r.randrange(-2**63, 2**63) >> r.randrange(64)
    if k == 3:
        return r.uniform(-1e9, 1e9)
    if k == 4:
        return "".join(chr(r.choice([97, 98, 0xe9, 0x20ac, 0x1f600])) for _ in range(r.randrange(8)))
    if k == 5:
        return bytes(r.randrange(256) for _ in range(r.randrange(8)))
    items = [rand_value(r, depth + 1) for _ in range(r.randrange(5))]
    if k == 6:
        return items
    if k == 7:
        return tuple(items)
    return {i: v for i, v in enumerate(items)}


def framed(messages):
    """What a Connection writes for these payloads, read back off a pipe."""
    rfd, wfd = os.pipe()
    w = Connection(wfd, readable=False)
    for m in messages:
        w.send_bytes(m)
    w.close()
    out = b""
    while True:
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        out += chunk
    os.close(rfd)
    return out


def write(d, data):
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1]
    pdir = os.path.join(out, "pickle")
    fdir = os.path.join(out, "framing")
    os.makedirs(pdir, exist_ok=True)
    os.makedirs(fdir, exist_ok=True)
    pickles = []
    for v in values():
        for proto in range(0, pickle.HIGHEST_PROTOCOL + 1):
            try:
                p = pickle.dumps(v, proto)
            except Exception:
                continue  # e.g. a lone surrogate at protocol 0
            if len(p) <= 16384:
                write(pdir, p)
                pickles.append(p)
    # Framing: mode byte, then Python's framed stream.
    small = [p for p in pickles if len(p) < 200][:40]
    streams = [
        [b""], [b"x"], [b"hello", b"", b"world"], small[:5], small[5:20],
        [bytes(range(256)) * 20], [b"a" * 70, b"b" * 5000],
    ]
    for i, msgs in enumerate(streams):
        data = framed(msgs)
        for mode in (0, 1, 2, 3, 4 | (1 << 3), 4 | (7 << 3) | (1 << 6), 4):
            write(fdir, bytes([mode ^ (i & 0xc0)]) + data)
    # The 64-bit length form and a few broken streams, by hand.
    write(fdir, b"\x00" + b"\xff\xff\xff\xff" + struct.pack("!Q", 3) + b"abc")
    write(fdir, b"\x00" + struct.pack("!i", 10) + b"short")
    write(fdir, b"\x00" + struct.pack("!i", -2) + b"neg")
    write(fdir, b"\x00" + b"\x00\x00")
    print("corpus: %d pickles in %s, %d streams in %s"
          % (len(os.listdir(pdir)), pdir, len(os.listdir(fdir)), fdir))


if __name__ == "__main__":
    main()
