#!/usr/bin/env python3
"""check-call-graph.py BUILD_DIR - no file of the library calls into a
file that, directly or around a loop, calls back into it.

Why: the rooms of src/ (docs/design.md) are meant to be read one file at
a time, each building on files it names; a circle of calls means no file
of it can be understood first. The graph is read from the objects of the
static library (nm): an edge runs from the file that uses a symbol to the
file that defines it, so calls, function pointers and data all count.
Prints every circle found and exits 1 if there is one."""
import collections
import os
import subprocess
import sys


def graph(objdir):
    defined, used = {}, collections.defaultdict(set)
    for root, _, files in os.walk(objdir):
        for f in files:
            if not f.endswith((".o", ".obj")):
                continue
            path = os.path.join(root, f)
            name = os.path.splitext(os.path.relpath(path, objdir))[0]
            for line in subprocess.check_output(["nm", path], text=True).splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] == "U":
                    used[name].add(parts[1])
                elif len(parts) == 3 and parts[1] in "TDBRCVS":
                    defined[parts[2]] = name
    edges = collections.defaultdict(dict)
    for f, syms in used.items():
        for s in sorted(syms):
            if s in defined and defined[s] != f:
                edges[f].setdefault(defined[s], s)
    return edges


def circles(edges):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main():
    objdir = os.path.join(sys.argv[1], "CMakeFiles", "mproc_static.dir", "src")
    if not os.path.isdir(objdir):
        sys.exit(f"check-call-graph: no objects in {objdir}")
    edges = graph(objdir)
    found = circles(edges)
    for part in found:
        print("circle:", " ".join(part))
        for v in part:
            for w, sym in sorted(edges[v].items()):
                if w in part:
                    print(f"    {v} -> {w} ({sym})")
    files = len(set(edges) | {w for e in edges.values() for w in e})
    print(f"check-call-graph: {files} files, {len(found)} circles")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
