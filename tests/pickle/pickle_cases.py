"""pickle_cases.py - the Python side of tests/pickle/pickle.c.

The C suite runs this script (with python3, $MPT_PYTHON, or each Python
it finds) and reads its standard output, one case per line, fields
separated by spaces, binary fields in hex. Standard library only; runs
on Python 3.8 and later.

Modes:
  version            the interpreter's version, e.g. "3.11.7"
  named              "<name> <pickle>" for values the C suite also builds
                     itself: protocol 4, byte-exact reference
  exact <n> <seed>   "<pickle>" for n random values without shared objects
                     (so CPython writes no memo gets and the C encoder must
                     write the same bytes)
  protocols <n> <seed>
                     "<proto> <pickle> <repr>" for fixed and random values
                     at protocols 0 to 5 (0 only for values protocol 0 can
                     carry in the subset the C decoder reads)
  shared             "<pickle> <repr>": values holding one object twice
  unsupported        "<OPCODE> <pickle>": pickles the C decoder must refuse,
                     with the opcode its message must name
  load <file>        for each hex pickle line of file: "<repr>" of
                     pickle.loads, or "ERROR <message>"
"""
import pickle
import pickletools
import random
import sys


def hx(b):
    return b.hex() if b else "-"


def unhx(s):
    return b"" if s == "-" else bytes.fromhex(s)


# ---- values -----------------------------------------------------------------

def fixed_values():
    """Hand-picked shapes: edges of every integer form, frame boundaries,
    batch sizes, every container form."""
    ints = [0, 1, 255, 256, 65535, 65536, -1, -128, -129, -256, -32768,
            2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**32, 2**40, -2**40,
            2**63 - 1, -2**63, 2**56, -2**56, 2**55 - 1, -2**55]
    floats = [0.0, -0.0, 1.5, -2.25, 1e300, 5e-324, 3.1415927, float("inf"),
              float("-inf"), 1e16, 0.1]
    vals = [None, True, False] + ints + floats
    vals += ["", "ab", "h\u00e9llo", "\u20ac\U0001f600 snake", "nul\x00inside",
             "x" * 255, "y" * 256, "z" * 65535, "w" * 65536, "v" * 70000]
    vals += [b"", b"ab", bytes(range(256)), b"q" * 255, b"r" * 256,
             b"s" * 65536, b"t" * 100000]
    vals += [[], (), {}, [1], (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4),
             {1: 2}, {"k1": [1, 2], "k2": (3,)},
             list(range(999)), list(range(1000)), list(range(1001)),
             list(range(2500)), tuple(range(1500)),
             {i: -i for i in range(1000)}, {i: str(i) * 2 for i in range(1001)},
             {(1, 2): None, 3.5: True, b"bk": "sv", "sk": b"bv", None: 1,
              False: 0.5},
             [[[[[["deep"]]]]]], list(range(100000)),
             [str(i) * 3 for i in range(30000)],
             [42, None, "hello"], [1, "hello", None]]
    # The first frame fills up exactly at the end of a batch: CPython
    # closes frames at the start of saving an object, so this FRAME comes
    # after "APPENDS MARK", not before APPENDS.
    vals.append([2**32 + i for i in range(255)] + [70000 + i for i in range(13745)])
    return vals


def rand_str(r, n):
    alphabet = "abcXYZ 09\n\t'\"\\\x00\x7f\u00e9\u0394\u20ac\U0001f600\U00010000\ufffd"
    # Always a fresh object of 2 or more characters, so that no two are
    # the same object (CPython caches "" and one-character strings, and
    # would memoise a repeat).
    return "".join(r.choice(alphabet) for _ in range(n + 2))


def rand_value(r, depth=0):
    k = r.randrange(12 if depth < 6 else 6)
    if k == 0:
        return None
    if k == 1:
        return r.random() < 0.5
    if k == 2:
        return r.choice([r.randrange(-300, 300), r.randrange(-2**31, 2**31),
                         r.randrange(-2**63, 2**63), r.randrange(0, 70000)])
    if k == 3:
        return r.choice([r.uniform(-1e6, 1e6), r.random(), -0.0, 1e-310,
                         float(r.randrange(10**9)), r.uniform(-1, 1) * 10**r.randrange(-300, 300)])
    if k == 4:
        return rand_str(r, r.choice([0, 3, 20, 300]))
    if k == 5:
        return bytes(r.randrange(256) for _ in range(r.choice([2, 5, 40, 300])))
    # Wide at the top, narrow below, so that values stay small.
    n = r.choice([0, 1, 2, 3, 4, 7, 30] if depth == 0 else [0, 1, 2, 3])
    if k in (6, 7):
        return [rand_value(r, depth + 1) for _ in range(n)]
    if k in (8, 9):
        return tuple(rand_value(r, depth + 1) for _ in range(n))
    d = {}
    for _ in range(n):
        key = r.choice([r.randrange(-10**6, 10**6), rand_str(r, 5),
                        (r.randrange(100), rand_str(r, 2)), r.random(), None])
        d[key] = rand_value(r, depth + 1)
    return d


def has_memo_get(p):
    return any(op.name in ("BINGET", "LONG_BINGET", "GET")
               for op, _, _ in pickletools.genops(p))


def proto0_ok(v):
    """What the C decoder reads of protocol 0: no float, str or bytes."""
    if isinstance(v, (float, str, bytes)):
        return False
    if isinstance(v, (list, tuple)):
        return all(proto0_ok(x) for x in v)
    if isinstance(v, dict):
        return all(proto0_ok(k) and proto0_ok(x) for k, x in v.items())
    return True


# ---- named values: the C suite builds the same ------------------------------

NAMED = {
    "none": None,
    "true": True,
    "int_mix": [0, 255, 256, 65535, 65536, -1, 2**31 - 1, -2**31, 2**31,
                -2**31 - 1, 2**63 - 1, -2**63, 2**40, -129],
    "floats": [1.5, -0.0, float("inf"), 1e300, 5e-324],
    "strs": ["", "ab", "h\u00e9llo \u20ac\U0001f600", "x" * 300],
    "bytes": [b"", b"\x00\xff", b"y" * 300],
    "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
    "dict": {"a1": 1, "b2": [None, True], 3: (4.5, b"zz")},
    "seed": [42, None, "hello"],
    "list1001": list(range(1001)),
    "dict1000": {i: i for i in range(1000)},
    "bigstr": "s" * 70000,
    "framed": ["a" * 40000, "b" * 40000, 1],
}


# ---- pickles to refuse --------------------------------------------------------

class Point:
    def __init__(self):
        self.x = 1


def unsupported_cases():
    rec = []
    rec.append(rec)
    d = {}
    d["self"] = d
    cases = [
        ("EMPTY_SET", pickle.dumps({1, 2}, 4)),
        ("FROZENSET", pickle.dumps(frozenset([1]), 4)),
        ("STACK_GLOBAL", pickle.dumps(Point(), 4)),
        ("STACK_GLOBAL", pickle.dumps(complex(1, 2), 4)),
        ("STACK_GLOBAL", pickle.dumps(bytearray(b"ab"), 4)),
        ("BYTEARRAY8", pickle.dumps(bytearray(b"ab"), 5)),
        ("GLOBAL", pickle.dumps(Point(), 2)),
        ("GLOBAL", pickle.dumps(bytearray(b"ab"), 2)),
        ("recursive", pickle.dumps(rec, 4)),
        ("recursive", pickle.dumps(d, 2)),
        ("surrogate", pickle.dumps("a\ud800b", 4)),
        ("NEXT_BUFFER", pickle.dumps(pickle.PickleBuffer(b"abc"), 5,
                                     buffer_callback=lambda b: False)),
        ("PERSID", b"Pabc\n."),
        ("BINPERSID", b"\x80\x04N" b"Q."),
        ("EXT1", b"\x80\x02\x82\x01."),
        ("INST", b"(imod\nname\n."),
        ("BINSTRING", b"\x80\x02T\x03\x00\x00\x00abc."),
        ("SHORT_BINSTRING", b"\x80\x02U\x03abc."),
        ("STRING", b"S'abc'\np0\n."),
        ("FLOAT", pickle.dumps(1.5, 0)),
        ("UNICODE", pickle.dumps("abc", 0)),
        ("GLOBAL", b"cos\nsystem\n(S'echo pwned'\ntR."),
        ("REDUCE", b"\x80\x04N)R."),
    ]
    return cases


# ---- modes -----------------------------------------------------------------------

def main():
    mode = sys.argv[1]
    out = sys.stdout
    if mode == "version":
        print("%d.%d.%d" % sys.version_info[:3])
    elif mode == "named":
        for name, v in NAMED.items():
            out.write("%s %s\n" % (name, hx(pickle.dumps(v, 4))))
    elif mode == "exact":
        n, seed = int(sys.argv[2]), int(sys.argv[3])
        r = random.Random(seed)
        vals = fixed_values() + [rand_value(r) for _ in range(n)]
        for v in vals:
            p = pickle.dumps(v, 4)
            if not has_memo_get(p):
                out.write(hx(p) + "\n")
    elif mode == "protocols":
        n, seed = int(sys.argv[2]), int(sys.argv[3])
        r = random.Random(seed)
        vals = fixed_values() + [rand_value(r) for _ in range(n)]
        for v in vals:
            if len(pickle.dumps(v, 4)) > 70000:
                continue  # the exact mode covers the large ones
            rp = hx(repr(v).encode("utf-8"))
            for proto in range(0, pickle.HIGHEST_PROTOCOL + 1):
                if proto == 0 and not proto0_ok(v):
                    continue
                out.write("%d %s %s\n" % (proto, hx(pickle.dumps(v, proto)), rp))
    elif mode == "shared":
        x = [1, 2]
        s = "shared string"
        b = b"shared bytes"
        t = (s, 3)
        inner = {"k": [x]}
        vals = [[x, x], [s] * 5, (b, b, [b]), [t, t, {t: t}], (inner, inner, [inner]),
                {"a": x, "b": x}, [[x] * 3] * 3, [[0] * 100] * 300, ["", "", b"", b""]]
        for v in vals:
            for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
                out.write("%s %s\n" % (hx(pickle.dumps(v, proto)), hx(repr(v).encode("utf-8"))))
    elif mode == "unsupported":
        for name, p in unsupported_cases():
            out.write("%s %s\n" % (name, hx(p)))
    elif mode == "load":
        with open(sys.argv[2]) as f:
            for line in f:
                try:
                    v = pickle.loads(unhx(line.strip()))
                    out.write(hx(repr(v).encode("utf-8")) + "\n")
                except Exception as e:
                    out.write("ERROR %s\n" % str(e).replace("\n", " "))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
