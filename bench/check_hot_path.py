#!/usr/bin/env python3
"""bench/check_hot_path.py BUILD_DIR [--no-callgrind]

Why this exists: the Queue's usual put and get (up to 64 bytes, lock free,
room in the ring, no wrap) are written to call nothing except in tail
position, so that the compiler gives them no stack frame (docs/queue.md,
src/core/queue/put.c, get.c). Only comments and attribute placement keep that
so, and the first counter or helper call someone adds would undo it
without any test failing. This script fails instead. Both checks are
deterministic; no timing is involved.

1. Disassembly (objdump, x86-64) of mp_queue_put_bytes, _nowait and
   mp_queue_get_bytes_into, with their .cold pieces, in BUILD_DIR's
   libmproc.a and libmproc.so (those built: bench/run builds only the
   static one, which the benchmarks link): no `call` at all (everything
   out of line is reached by `jmp`, a tail call), no stack frame (nothing
   that sets %rsp but push/pop, no `enter`, no `mov %rsp,%rbp`), and no
   more pushed registers than bench/hot_path_budget allows.
2. callgrind on BUILD_DIR/bench/queue_solo 8 20000: instructions per
   message of put and get (inclusive) within the budget plus its margin,
   and calls from them to anything else (callgrind counts a tail jump into
   another function as a call) at most one per 100 messages.

Meant for GCC with CMake's Release flags, as bench/run builds
(build-bench-smoke in CI); docs/performance.md, "The hot-path guard".
"""
import os
import platform
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COUNT = 20000  # messages for callgrind (one ring fill: no waiting)


def budget():
    limits, margin = {}, None
    for line in open(os.path.join(HERE, "hot_path_budget")):
        f = line.split("#")[0].split()
        if len(f) == 2 and f[0] == "margin":
            margin = float(f[1].rstrip("%")) / 100
        elif len(f) == 3:
            limits[f[0]] = (int(f[1]), None if f[2] == "-" else int(f[2]))
    return limits, margin


def disassembly(lib):
    """{function: [instruction text]} for the hot functions and their .cold parts."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", lib], check=True,
                         capture_output=True, text=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if m:
            name = re.sub(r"\.cold(\.\d+)?$", "", m.group(1))
            cur = funcs.setdefault(name, [])
        elif cur is not None and re.match(r"^\s+[0-9a-f]+:\t", line):
            cur.append(line.split("\t", 1)[1].strip())
        elif not line.strip():
            cur = None
    return funcs


def check_disassembly(build, limits):
    errors, libs = [], [l for l in ("libmproc.a", "libmproc.so")
                        if os.path.exists(os.path.join(build, l))]
    if not libs:
        return [f"no libmproc.a or libmproc.so in {build}"]
    for lib in libs:
        funcs = disassembly(os.path.join(build, lib))
        for fn, (max_pushes, _) in limits.items():
            insns = funcs.get(fn)
            if not insns:
                errors.append(f"{lib}: {fn} not found")
                continue
            calls = [i for i in insns if re.match(r"(\w+ )?call", i)]
            frame = [i for i in insns if i.startswith("enter") or
                     re.search(r",%rsp$", i) or re.match(r"mov\w*\s+%rsp,%rbp", i)]
            pushes = sum(1 for i in insns if i.startswith("push"))
            print(f"  {lib:12} {fn:26} {len(insns):4} insns, {len(calls)} calls, "
                  f"{len(frame)} frame, {pushes} pushes (max {max_pushes})")
            for what, found in (("non-tail call", calls), ("stack frame", frame)):
                if found:
                    errors.append(f"{lib}: {fn}: {what}: {found[0]}"
                                  + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""))
            if pushes > max_pushes:
                errors.append(f"{lib}: {fn}: {pushes} pushes, budget {max_pushes}")
    return errors


def callgrind_profile(path):
    """{fn: [inclusive Ir, calls into it, calls out of it]} from a callgrind.out."""
    names, prof, fn, callee, ncalls = {}, {}, None, None, 0
    for line in open(path):
        m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if m:
            if m.group(3):
                names[m.group(2)] = m.group(3)
            name = names[m.group(2)]
            if m.group(1) == "fn":
                fn = prof.setdefault(name, [0, 0, 0])
            else:
                callee = prof.setdefault(name, [0, 0, 0])
        elif line.startswith("calls="):
            ncalls = int(line[6:].split()[0])
        elif fn is not None and re.match(r"^[-+*0-9]", line):
            fn[0] += int(line.split()[1])  # self cost, or a call's inclusive cost
            if ncalls:
                fn[2] += ncalls
                callee[1] += ncalls
                ncalls = 0
    return prof


def check_callgrind(build, limits, margin):
    solo = os.path.join(build, "bench", "queue_solo")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", "--quiet",
                        f"--callgrind-out-file={out}", solo, "8", str(COUNT)],
                       check=True, stdout=subprocess.DEVNULL)
        prof = callgrind_profile(out)
    errors = []
    for fn, (_, ir) in limits.items():
        if ir is None:
            continue
        incl, calls_in, calls_out = prof.get(fn, [0, 0, 0])
        if calls_in < COUNT:
            errors.append(f"callgrind: {fn} called {calls_in} times, expected {COUNT}")
            continue
        per_msg, limit = incl / calls_in, ir * (1 + margin)
        print(f"  callgrind    {fn:26} {per_msg:6.1f} Ir/message (budget {ir}, "
              f"max {limit:.1f}), {calls_out} calls out in {calls_in} messages")
        if per_msg > limit:
            errors.append(f"callgrind: {fn}: {per_msg:.1f} Ir/message > {limit:.1f}")
        if calls_out * 100 > calls_in:
            errors.append(f"callgrind: {fn}: {calls_out} calls out in {calls_in} messages")
    return errors


def main():
    sys.stdout.reconfigure(line_buffering=True)  # in order with stderr in CI logs
    args = [a for a in sys.argv[1:] if a != "--no-callgrind"]
    if len(args) != 1:
        sys.exit(__doc__.split("\n")[0])
    if platform.machine() not in ("x86_64", "AMD64"):
        print("check_hot_path: x86-64 only, skipped")
        return 0
    limits, margin = budget()
    errors = check_disassembly(args[0], limits)
    if "--no-callgrind" not in sys.argv:
        errors += check_callgrind(args[0], limits, margin)
    for e in errors:
        print(f"check_hot_path: FAIL: {e}", file=sys.stderr)
    if errors:
        print("check_hot_path: failed: the Queue's usual put/get must call nothing but in "
              "tail position (docs/performance.md, \"The hot-path guard\")", file=sys.stderr)
        return 1
    print("check_hot_path: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
