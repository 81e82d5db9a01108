#!/usr/bin/python3
"""No call cycles between files (README.md, "Layout"): reads the symbols each
object defines and uses (nm), links each file to the files whose functions
and data it uses, and prints every strongly connected group of more than one
file. Assembly entry points (boot.S calls kmain, isr.S the trap handlers)
start calls; they are not a design dependency and are left out.
usage: check-cycles.py OBJECT..."""
import collections
import subprocess
import sys


def symbols(obj):
    defined, used = set(), set()
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "TDBRC":
            defined.add(f[2])
        elif len(f) == 2 and f[0] == "U":
            used.add(f[1])
    return defined, used


def cycles(graph):
    """Tarjan's strongly connected components, iteratively; only groups of two or more."""
    index, low, stack, on, found, n = {}, {}, [], set(), [], 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = n
        n += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = n
                    n += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    group.append(w)
                    if w == v:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def main(objs):
    owner, uses = {}, collections.defaultdict(set)
    for obj in objs:
        defined, used = symbols(obj)
        for s in defined:
            owner[s] = obj
        uses[obj] = used
    graph = {o: set() if o.endswith(".S.o") else {owner[s] for s in uses[o] if owner.get(s, o) != o}
             for o in objs}
    found = cycles(graph)
    for group in found:
        print("check-cycles: files that call each other: " + " ".join(group), file=sys.stderr)
    if not found:
        print("check-cycles: no call cycle between files")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
