"""Random nested values of the types mproc's mp_obj carries, and a strict
equality for checking what comes back (types must match exactly, NaN equals
NaN, -0.0 differs from 0.0, dict order matters).

Characters are drawn only from code points that are assigned in the running
Python's Unicode tables, so that its repr() and mproc's (whose printable
table comes from another Python version) judge them alike."""

import math
import random
import struct
import sys
import unicodedata

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

SPECIAL_CHARS = "'\"\\\t\n\r\x00\x07\x1b\x7f\x80\x9f\xa0\xad\xff" \
    "\u0300\u2028\u2029\u200b\ufeff\ue000\uffff"


def _assigned(cp):
    if 0xD800 <= cp <= 0xDFFF:
        return False
    return unicodedata.category(chr(cp)) != "Cn"


def rand_char(rng):
    r = rng.random()
    if r < 0.5:
        return chr(rng.randrange(0x20, 0x7F))
    if r < 0.6:
        return rng.choice(SPECIAL_CHARS)
    while True:
        if r < 0.8:
            cp = rng.randrange(0x80, 0x800)
        elif r < 0.95:
            cp = rng.randrange(0x800, 0x10000)
        else:
            cp = rng.randrange(0x10000, 0x110000)
        if _assigned(cp):
            return chr(cp)


def rand_str(rng):
    return "".join(rand_char(rng) for _ in range(rng.choice([0, 1, 2, 5, 12, 40])))


def rand_float(rng):
    r = rng.random()
    if r < 0.1:
        return rng.choice([0.0, -0.0, math.inf, -math.inf, math.nan, 1e16, 1e-5,
                           0.1, 3.1415927, 5e-324, 1.7976931348623157e308])
    if r < 0.5:
        return struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
    return rng.uniform(-1e6, 1e6)


def rand_int(rng):
    r = rng.random()
    if r < 0.3:
        return rng.randrange(-300, 300)
    if r < 0.5:
        return rng.choice([INT64_MIN, INT64_MAX, 2**31, -(2**31) - 1, 65535, 65536, 255, 256])
    return rng.randrange(INT64_MIN, INT64_MAX + 1)


def rand_key(rng, depth):
    r = rng.random()
    if r < 0.4:
        return rand_str(rng)
    if r < 0.6:
        return rand_int(rng)
    if r < 0.7:
        f = rand_float(rng)
        return 0.5 if f != f else f
    if r < 0.8:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(6)))
    if r < 0.85:
        return rng.choice([None, True, False])
    if depth < 3:
        return tuple(rand_key(rng, depth + 1) for _ in range(rng.randrange(4)))
    return rand_int(rng)


def rand_obj(rng, depth=0):
    r = rng.random()
    if depth >= 4:
        r *= 0.7  # scalars only
    if r < 0.05:
        return None
    if r < 0.1:
        return rng.random() < 0.5
    if r < 0.25:
        return rand_int(rng)
    if r < 0.35:
        return rand_float(rng)
    if r < 0.5:
        return rand_str(rng)
    if r < 0.6:
        return bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 3, 20, 300])))
    n = rng.choice([0, 1, 2, 3, 7])
    if r < 0.75:
        return [rand_obj(rng, depth + 1) for _ in range(n)]
    if r < 0.88:
        return tuple(rand_obj(rng, depth + 1) for _ in range(n))
    return {rand_key(rng, depth + 1): rand_obj(rng, depth + 1) for _ in range(n)}


def same(a, b):
    """Strict deep equality: exact types, NaN == NaN, signed zeros, order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(k1, k2) and same(v1, v2)
            for (k1, v1), (k2, v2) in zip(a.items(), b.items()))
    return a == b


def fail(msg):
    sys.stderr.write("python %s: %s\n" % (sys.version.split()[0], msg))
    sys.exit(1)
