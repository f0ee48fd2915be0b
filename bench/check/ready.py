#!/usr/bin/python3
"""Wait until every bench server answers every zone authoritatively with the
serial it should serve, independently of soasync (plain UDP, no dig).

Usage: ready.py WORKDIR START_EPOCH DEADLINE_S NAME=PID [NAME=PID...]

WORKDIR holds zones.txt and expect.json (written by gen.py). For each server a
thread first polls one zone until the daemon answers at all, then sweeps all
zones (a window of queries, unanswered, REFUSED or SERVFAIL ones again) until
each gave NOERROR + AA + SOA. Prints "NAME READY_SECONDS" per server, seconds
since START_EPOCH. Exits 1 with a message if a daemon exits, the deadline
passes, or a server serves an unexpected serial.
"""
import json
import os
import select
import socket
import struct
import sys
import threading
import time

WINDOW = 200


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qid, name):
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + wire_name(name) + struct.pack("!HH", 6, 1)


def skip_name(msg, off):
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += n + 1


def parse(msg):
    """(id, rcode, aa, serial or None)."""
    if len(msg) < 12:
        return None
    qid, flags, qd, an = struct.unpack("!HHHH", msg[:8])
    rcode, aa = flags & 0xF, bool(flags & 0x0400)
    serial = None
    try:
        off = 12
        for _ in range(qd):
            off = skip_name(msg, off) + 4
        for _ in range(an):
            off = skip_name(msg, off)
            rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10
            if rtype == 6:
                p = skip_name(msg, off)
                p = skip_name(msg, p)
                serial = struct.unpack("!I", msg[p:p + 4])[0]
                break
            off += rdlen
    except (IndexError, struct.error):
        return None
    return qid, rcode, aa, serial


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except OSError:
        return False


class Waiter(threading.Thread):
    def __init__(self, name, pid, addr, port, zones, expect, deadline, start):
        super().__init__(daemon=True)
        self.name_, self.pid, self.dst = name, pid, (addr, port)
        self.zones, self.expect, self.deadline, self.start_t = zones, expect, deadline, start
        self.ready_s, self.error = None, None

    def run(self):
        try:
            self._run()
        except Exception as ex:  # noqa: BLE001 - report anything as a setup failure
            self.error = "%s: %s" % (self.name_, ex)

    def _exchange(self, sock, idxs):
        """Send the queries for idxs (a window at a time); return {idx: parsed}."""
        got = {}
        for w in range(0, len(idxs), WINDOW):
            chunk = idxs[w:w + WINDOW]
            want = {i & 0xFFFF: i for i in chunk}      # message ids are 16 bits
            for i in chunk:
                try:
                    sock.send(query(i & 0xFFFF, self.zones[i]))
                except (BlockingIOError, ConnectionRefusedError):
                    pass
            until = time.monotonic() + 0.3
            while want and time.monotonic() < until:
                r, _, _ = select.select([sock], [], [], max(0.0, until - time.monotonic()))
                if not r:
                    break
                try:
                    msg = sock.recv(4096)
                except (BlockingIOError, ConnectionRefusedError):
                    continue
                p = parse(msg)
                if p and p[0] in want:
                    got[want.pop(p[0])] = p
        return got

    def _run(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.connect(self.dst)
        sock.setblocking(False)
        pending = list(range(len(self.zones)))
        probe = [len(self.zones) - 1]
        answered_once = False
        while pending:
            if time.time() > self.deadline:
                self.error = "%s: %d of %d zones still not served after the deadline" % (
                    self.name_, len(pending), len(self.zones))
                return
            if not alive(self.pid):
                self.error = "%s (pid %d) exited" % (self.name_, self.pid)
                return
            if not answered_once:
                if not self._exchange(sock, probe):
                    time.sleep(0.1)
                    continue
                answered_once = True
            got = self._exchange(sock, pending)
            left = []
            for i in pending:
                p = got.get(i)
                if p is None or p[1] != 0 or not p[2] or p[3] is None:
                    left.append(i)
                    continue
                want = self.expect[self.zones[i]]
                if p[3] != want:
                    self.error = "%s serves %s with serial %d, expected %d" % (
                        self.name_, self.zones[i], p[3], want)
                    return
            pending = left
            if pending:
                time.sleep(0.1)
        self.ready_s = time.time() - self.start_t


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    work, start, limit = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    with open(os.path.join(work, "zones.txt")) as f:
        zones = [l.strip() for l in f if l.strip()]
    with open(os.path.join(work, "expect.json")) as f:
        exp = json.load(f)
    waiters = []
    for spec in sys.argv[4:]:
        name, pid = spec.split("=")
        s = exp["servers"][name]
        stale = set(s["stale"])
        expect = {z: exp["stale_serial"] if z in stale else exp["serial"] for z in zones}
        waiters.append(Waiter(name, int(pid), s["addr"], s["port"], zones, expect,
                              start + limit, start))
    for w in waiters:
        w.start()
    for w in waiters:
        w.join()
    errors = [w.error for w in waiters if w.error]
    if errors:
        for e in errors:
            print("ready.py: " + e, file=sys.stderr)
        sys.exit(1)
    for w in waiters:
        print("%s %.2f" % (w.name_, w.ready_s))


if __name__ == "__main__":
    main()
