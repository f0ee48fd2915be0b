#!/usr/bin/python3
"""Processes of the bench fleet, from /proc. A daemon counts with all its
descendants (NSD 4.6: the started process becomes xfrd and forks main, which
forks the server process).

  proc.py snap NAME=PID...          CPU ticks (user+system) of each tree: NAME=TICKS ...
  proc.py delta "BEFORE" "AFTER"    NAME=CPU_SECONDS ... between two snaps
  proc.py tree PID                  the PIDs of PID's descendants, one a line
  proc.py udpdrops NAME=ADDR:PORT...  datagrams the kernel dropped on each server's UDP
                                    sockets (receive buffer full), from /proc/net/udp
"""
import os
import sys


def table():
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        procs[int(d)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
    return procs


def descendants(procs, pid):
    tree, grew = {pid}, True
    while grew:
        grew = False
        for p, (pp, _t) in procs.items():
            if pp in tree and p not in tree:
                tree.add(p)
                grew = True
    return tree - {pid}


def snap(specs):
    procs = table()
    out = []
    for spec in specs:
        name, pid = spec.split("=")
        pid = int(pid)
        tree = descendants(procs, pid) | {pid}
        ticks = sum(procs[p][1] for p in tree if p in procs)
        out.append("%s=%d" % (name, ticks))
    print(" ".join(out))


def delta(before, after):
    hz = os.sysconf("SC_CLK_TCK")
    b = dict(x.split("=") for x in before.split())
    a = dict(x.split("=") for x in after.split())
    print(" ".join("%s=%.2f" % (k, (int(a[k]) - int(b[k])) / hz) for k in b))


def udpdrops(specs):
    """{NAME: drops} for specs NAME=ADDR:PORT (IPv4)."""
    want = {}
    for spec in specs:
        name, ap = spec.split("=")
        addr, port = ap.rsplit(":", 1)
        a = bytes(int(x) for x in addr.split("."))
        want["%08X:%04X" % (int.from_bytes(a, "little"), int(port))] = name
    drops, seen = {n: 0 for n in want.values()}, set()
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            p = line.split()
            name = want.get(p[1])
            if name is not None and p[9] not in seen:  # a socket can be listed twice
                seen.add(p[9])
                drops[name] += int(p[12])
    return drops


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "snap":
        snap(sys.argv[2:])
    elif len(sys.argv) >= 2 and sys.argv[1] == "udpdrops":
        print(" ".join("%s=%d" % kv for kv in udpdrops(sys.argv[2:]).items()))
    elif len(sys.argv) == 3 and sys.argv[1] == "tree":
        for p in sorted(descendants(table(), int(sys.argv[2]))):
            print(p)
    elif len(sys.argv) == 4 and sys.argv[1] == "delta":
        delta(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
