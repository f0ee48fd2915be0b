"""soasync monitor and soasync history against real BIND, NSD and Knot fleets.

The monitor runs as a process (its stderr, one line per event, goes to a
file the tests read); its database is read with ``soasync history --json``
and with sqlite3. Small intervals (interval 2s, fast_interval 200ms) keep
the tests short; every wait is a condition with a deadline.
"""

from __future__ import annotations

import datetime
import http.server
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import pytest

import harness
from conftest import sanitizer_report

ZONE = "example.test."
INTERVAL = 2.0
FAST = 0.2
#: what a poll may add to fast_interval between a server's transfer and the
#: monitor seeing it: the poll's own queries and timers on a loaded machine
#: (2 cores, shared; measured idle: 3-10 ms)
SLACK = 0.3


def ts(text: str) -> float:
    """RFC 3339 UTC (as history prints it) to Unix seconds."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class Monitor:
    """One ``soasync monitor`` process with its config, log and database."""

    def __init__(self, soasync: str, workdir: Path, fleet: harness.Fleet | None = None):
        self.soasync = soasync
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fleet = fleet
        self.conf = self.dir / "monitor.yaml"
        self.db = self.dir / "monitor.db"
        self.logfile = self.dir / "monitor.log"
        self.proc: subprocess.Popen | None = None
        self.addr = fleet.checker_addr if fleet else "127.0.0.1"
        self.port = harness.Fleet.free_tcp_port(self.addr)
        self.alerts = self.dir / "alerts.jsonl"
        self._log_start = 0

    def write(self, zones, *, notify_allow=(), extra: str = "", listen: bool = True,
              alerts: bool = False, **keys) -> None:
        """The config: zones (names or dicts), the fleet's resolver, the
        checker's address as source and NOTIFY listener."""
        cfg = {"database": str(self.db), "interval": f"{int(INTERVAL * 1000)}ms",
               "fast_interval": f"{int(FAST * 1000)}ms", "query_timeout": "500ms",
               "tries": 2}
        if self.fleet is not None:
            if self.fleet.resolver is not None:
                cfg["resolver"] = self.fleet.resolver.addr
            cfg["source"] = self.fleet.checker_addr
        cfg.update(keys)
        lines = [f"{k}: {v}" for k, v in cfg.items()]
        if listen:
            lines.append(f"listen:\n  notify: {self.addr}:{self.port}")
        if notify_allow:
            lines.append("notify_allow: [" + ", ".join(notify_allow) + "]")
        if alerts:
            script = self.dir / "alert.sh"
            script.write_text(f"#!/bin/sh\n{{ cat; echo; }} >> {self.alerts}\n")
            script.chmod(0o755)
            lines.append(f"alerts:\n  command: [{script}]\n  repeat: 0s")
        lines.append("zones:")
        for z in zones:
            if isinstance(z, str):
                lines.append(f"  - {z}")
            else:
                lines.append("  - " + "\n    ".join(f"{k}: {v}" for k, v in z.items()))
        self.conf.write_text("\n".join(lines) + "\n" + extra)

    # -- the process
    def start(self, wait: bool = True) -> None:
        self._log_start = self.logfile.stat().st_size if self.logfile.exists() else 0
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen([self.soasync, "monitor", "--config", str(self.conf)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        if wait:
            self.wait_log(r"monitor: \d+ zones every", 20)

    def log(self) -> str:
        """The log of the current run (since the last start)."""
        try:
            with open(self.logfile, "rb") as f:
                f.seek(self._log_start)
                return f.read().decode(errors="backslashreplace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern: str, timeout: float = 15.0, count: int = 1) -> list:
        """Wait until pattern (a regex) matched count lines of the log."""
        rx = re.compile(pattern, re.M)

        def found():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"monitor exited ({self.proc.returncode}):\n{self.log()}")
            m = rx.findall(self.log())
            return m if len(m) >= count else None
        try:
            return harness.wait_until(found, timeout, interval=0.05, what=pattern)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n--- monitor log:\n{self.log()}") from None

    def signal(self, sig) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> str:
        """SIGTERM: a clean stop (exit 0), no sanitizer report; the log."""
        if self.proc is None:
            return self.log()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"monitor did not stop on SIGTERM:\n{self.log()}")
        self.proc = None
        log = self.log()
        assert rc == 0, f"monitor exited {rc}:\n{log}"
        assert not sanitizer_report(log), f"sanitizer report:\n{log}"
        assert "monitor: stopped" in log, log
        return log

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    # -- what it recorded
    def history(self, *zones, events: bool = False) -> list:
        argv = [self.soasync, "history", "--db", str(self.db), "--json",
                *(["--events"] if events else []), *zones]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and not sanitizer_report(r.stderr), \
            f"{' '.join(argv)}: rc {r.returncode}\n{r.stderr}"
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    def serial_entry(self, serial: int, zone: str = ZONE):
        return next((o for o in self.history(zone) if o["serial"] == serial), None)

    def wait_converged(self, serial: int, addrs, zone: str = ZONE, timeout: float = 15.0):
        """Wait until history shows every address in addrs converged on serial."""
        def done():
            e = self.serial_entry(serial, zone)
            if e is None:
                return None
            got = {s["address"]: s for s in e["servers"]}
            return e if all(got.get(a, {}).get("converged_at") for a in addrs) else None
        try:
            return harness.wait_until(done, timeout, interval=0.1,
                                      what=f"{zone} serial {serial} on {sorted(addrs)}")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{self.history(zone)}\n--- log:\n{self.log()}") \
                from None

    def alert_events(self) -> list:
        if not self.alerts.exists():
            return []
        return [json.loads(line) for line in self.alerts.read_text().splitlines() if line.strip()]

    def wait_alert(self, status: str, timeout: float = 20.0) -> dict:
        def found():
            return next((a for a in self.alert_events() if a["status"] == status), None)
        try:
            return harness.wait_until(found, timeout, interval=0.1, what=f"alert {status}")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{self.alert_events()}\n--- log:\n{self.log()}") \
                from None


@pytest.fixture
def monitor(soasync_bin, tmp_path):
    """Factory: ``monitor(fleet=None, name="mon") -> Monitor``; every monitor
    still running at teardown is killed."""
    made = []

    def make(fleet=None, name="mon"):
        m = Monitor(soasync_bin, tmp_path / name, fleet)
        made.append(m)
        return m
    yield make
    for m in made:
        m.kill()


def notifying_zone(f, mon, kind="bind", secondaries=("nsd", "knot"), notified=None, **kw):
    """standard_zone whose primary also notifies the monitor; started."""
    zs = harness.standard_zone(f, ZONE, primary=kind, secondaries=secondaries,
                               notified=notified, start=False, **kw)
    z = zs.primary.zone(ZONE)
    z.notify = [(s.addr, s.port) for i, s in enumerate(zs.secondaries)
                if notified is None or notified[i]] + [(mon.addr, mon.port)]
    f.start()
    return zs


# --------------------------------------------------------------------------
# transfer completion times from the servers' own logs


def _bind_time(line):
    m = re.match(r"(\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d\.\d{3}) ", line)
    return datetime.datetime.strptime(m.group(1), "%d-%b-%Y %H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp() if m else None


def _nsd_time(line):
    m = re.match(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\]", line)
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp() if m else None


def _knot_time(line):
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\+0000 ", line)
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp() if m else None


#: per vendor: the log line saying a secondary has the serial, how to read
#: its time, and that time's resolution in seconds
TRANSFER_LOG = {
    "bind": (r"zone {z}/IN: transferred serial {s}\b", _bind_time, 0.001),
    "nsd": (r"zone {z}\. committed \"received update to serial {s} ", _nsd_time, 0.001),
    "knot": (r"\[{z}\.\] refresh, .*serial \d+ -> {s},", _knot_time, 1.0),
}


def transfer_done(server, serial: int):
    """(when the server logged that it has serial, the log's resolution)."""
    pattern, parse, res = TRANSFER_LOG[server.kind]
    rx = re.compile(pattern.format(z=re.escape(ZONE.rstrip(".")), s=serial))

    def seen():
        for line in server.log.read_text(errors="replace").splitlines():
            if rx.search(line):
                return parse(line)
        return None
    return harness.wait_until(seen, 10, what=f"{server.name} log: transfer of {serial}"), res


# --------------------------------------------------------------------------
# tests


def test_check_config(monitor, run_soasync, tmp_path):
    mon = monitor()
    mon.write([ZONE], resolver="127.0.0.1")
    r = run_soasync("monitor", "--config", mon.conf, "--check-config")
    assert r.rc == 0, r
    assert "valid, 1 zones" in r.out, r
    mon.conf.write_text(mon.conf.read_text().replace("interval:", "intervall:"))
    r = run_soasync("monitor", "--config", mon.conf, "--check-config")
    assert r.rc == 3, r
    assert re.search(rf"{re.escape(str(mon.conf))}:\d+:1: config: unknown key 'intervall'",
                     r.err), r
    mon.conf.write_text("database: x\nzones: [a.test, a.test]\n")
    r = run_soasync("monitor", "--config", mon.conf, "--check-config")
    assert r.rc == 3 and ":2:17: zone a.test. is listed twice" in r.err, r
    r = run_soasync("monitor", "--config", tmp_path / "missing.yaml")
    assert r.rc == 3 and "cannot open" in r.err, r
    r = run_soasync("monitor")
    assert r.rc == 3 and "--config FILE is required" in r.err, r


@pytest.mark.parametrize("kind", ["bind", "nsd", "knot"])
def test_change_notify_and_convergence(fleet, monitor, kind):
    """The NOTIFY-announced time and each secondary's convergence, with lag
    figures within fast_interval of the secondaries' own transfer times."""
    f = fleet(delegation=True)
    mon = monitor(f)
    others = [k for k in ("bind", "nsd", "knot") if k != kind]
    # The second secondary is not notified by the primary: it transfers when
    # the test refreshes it, well after the first, so its lag is not ~0.
    zs = notifying_zone(f, mon, kind, secondaries=others, notified=[True, False])
    early, late = zs.secondaries
    mon.write([ZONE], notify_allow=[zs.primary.addr])
    mon.start()
    mon.wait_converged(1, [early.addr, late.addr])
    t0 = time.time()
    new = zs.bump()
    t1 = time.time()
    entry = mon.wait_converged(new, [early.addr])
    late.refresh(ZONE)
    late.wait_serial(ZONE, new)
    entry = mon.wait_converged(new, [early.addr, late.addr])
    log = mon.stop()
    assert entry["via"] == "notify", entry
    first = ts(entry["first_seen"])
    assert t0 - 0.05 <= first <= t1 + 0.05, (t0, first, t1)
    assert re.search(rf"{ZONE}: NOTIFY \(serial {new}\) from {zs.primary.addr}: accepted", log)
    servers = {s["address"]: s for s in entry["servers"]}
    assert set(servers) == {early.addr, late.addr}, entry
    for s in (early, late):
        got = servers[s.addr]
        assert got["name"] == s.name, got
        done, res = transfer_done(s, new)
        at = ts(got["converged_at"])
        # seen at the first poll after the transfer completed
        assert done - 0.05 <= at <= done + res + FAST + SLACK, (s.kind, done, at, got)
        assert abs(got["lag_s"] - (at - first)) < 0.002, got
    assert servers[late.addr]["lag_s"] > servers[early.addr]["lag_s"], entry
    assert f"serves serial {new}, lag" in log


def test_refused_transfers_warning_critical_recovery(fleet, monitor):
    """A secondary whose transfers are refused: warning at lag_warning,
    critical at lag_critical, alerts via the command naming it; unblocked:
    the recovery alert."""
    f = fleet(delegation=True)
    mon = monitor(f)
    zs = notifying_zone(f, mon, "knot", secondaries=("bind", "nsd"))
    victim, other = zs.secondaries
    mon.write([ZONE], notify_allow=[zs.primary.addr], lag_warning="2s", lag_critical="4s",
              converge_timeout="1s", alerts=True)
    mon.start()
    mon.wait_converged(1, [victim.addr, other.addr])
    zs.primary.zone(ZONE).deny_transfer = [victim.addr]
    zs.primary.reconfigure()
    new = zs.bump()
    other.wait_serial(ZONE, new)
    warning = mon.wait_alert("warning")
    critical = mon.wait_alert("critical")
    for a, prev in ((warning, "ok"), (critical, "warning")):
        assert a["zone"] == ZONE and a["previous"] == prev and not a["recovery"], a
        fd = {x["code"]: x for x in a["findings"]}
        assert fd["serial-behind"]["servers"] == [victim.addr], a
        behind = [s for s in a["servers"] if s["behind"]]
        assert [s["address"] for s in behind] == [victim.addr], a
    lag_w = next(s for s in warning["servers"] if s["address"] == victim.addr)["lag_s"]
    lag_c = next(s for s in critical["servers"] if s["address"] == victim.addr)["lag_s"]
    assert 2.0 <= lag_w < 4.0 <= lag_c, (lag_w, lag_c)
    assert ts(critical["started"]) == ts(warning["since"]), (warning, critical)
    # unblocked: the victim transfers, the zone recovers
    zs.primary.zone(ZONE).deny_transfer = []
    zs.primary.reconfigure()
    victim.refresh(ZONE)
    ok = mon.wait_alert("ok")
    assert ok["recovery"] and ok["previous"] == "critical", ok
    assert not [s for s in ok["servers"] if s["behind"]], ok
    entry = mon.wait_converged(new, [victim.addr, other.addr])
    lag = {s["address"]: s["lag_s"] for s in entry["servers"]}
    assert lag[victim.addr] >= 4.0 > lag[other.addr], entry
    log = mon.stop()
    # one alert per change: ok -> warning -> critical -> ok, nothing else
    assert [a["status"] for a in mon.alert_events()] == ["warning", "critical", "ok"], \
        mon.alert_events()
    assert "status ok -> warning" in log and "status critical -> ok" in log
    # fast polling stopped after converge_timeout, the victim still waited for
    assert re.search(rf"{ZONE}: {re.escape(victim.name)} \({victim.addr}\) still lacks serial "
                     rf"{new} after converge_timeout", log), log
    events = mon.history(ZONE, events=True)
    statuses = [(e["previous"], e["status"]) for e in events if e["event"] == "status"]
    assert statuses == [("ok", "warning"), ("warning", "critical"), ("critical", "ok")], events


def test_not_notified_caught_by_polling(fleet, monitor):
    """No NOTIFY anywhere near the monitor: a poll sees the change within one
    interval, and the secondary left behind is behind with a growing lag."""
    f = fleet(delegation=True)
    mon = monitor(f)
    zs = harness.standard_zone(f, ZONE, primary="nsd", secondaries=("knot", "bind"),
                               notified=[False, True])
    laggard = zs.secondaries[0]
    mon.write([ZONE], listen=False)
    mon.start()
    mon.wait_converged(1, [s.addr for s in zs.secondaries])
    t0 = time.time()
    new = zs.bump()
    entry = mon.wait_converged(new, [zs.secondaries[1].addr], timeout=INTERVAL + 10)
    assert entry["via"] == "poll", entry
    assert ts(entry["first_seen"]) - t0 <= INTERVAL + 2 * SLACK, (t0, entry)
    behind = {s["address"]: s for s in entry["servers"]}[laggard.addr]
    assert behind["converged_at"] is None and behind["lag_s"] is None, entry
    laggard.refresh(ZONE)
    entry = mon.wait_converged(new, [laggard.addr])
    mon.stop()
    assert {s["address"]: s for s in entry["servers"]}[laggard.addr]["lag_s"] > 0


def test_backwards_expiring_content_unreachable(fleet, monitor):
    """Each an event with its finding code: a primary going backwards, a
    secondary expiring soon (EDNS EXPIRE), the same serial with other data
    (content), an unreachable server."""
    f = fleet(delegation=True)
    mon = monitor(f)
    zs = harness.standard_zone(f, ZONE, primary="knot", secondaries=("bind", "nsd"),
                               serial=20, timers=harness.Timers(expire=7200))
    bind2, nsd2 = zs.secondaries
    mon.write([{"name": ZONE, "content": "1s"}], listen=False)
    mon.start()
    # The BIND secondary answers EDNS EXPIRE below a day: expiring-soon.
    mon.wait_log(rf"{ZONE}: warning expiring-soon: .*{re.escape(bind2.name)}")
    # Same serial, other data (an edit without a bump): only the primary has it.
    zs.primary.zone(ZONE).records.append("new IN A 192.0.2.99")
    zs.primary.write_zone(ZONE, 20, wait=False)
    mon.wait_log(rf"{ZONE}: critical same-serial-different-data: ", 20)
    # Backwards.
    zs.primary.write_zone(ZONE, 10)
    mon.wait_log(rf"{ZONE}: the primary went backwards: serial 20 -> 10")
    mon.wait_log(rf"{ZONE}: critical primary-behind: ")
    # Unreachable.
    nsd2.stop()
    mon.wait_log(rf"{ZONE}: {re.escape(nsd2.name)} \({nsd2.addr}\) unreachable: ")
    mon.wait_log(rf"{ZONE}: \w+ unreachable: ")
    nsd2.start()
    mon.wait_log(rf"{ZONE}: {re.escape(nsd2.name)} \({nsd2.addr}\) answers again after ")
    mon.stop()
    events = mon.history(ZONE, events=True)
    codes = {e.get("code") for e in events if e["event"] == "finding-opened"}
    assert {"expiring-soon", "same-serial-different-data", "primary-behind",
            "unreachable"} <= codes, events
    kinds = [e["event"] for e in events]
    assert "regression" in kinds and "unreachable" in kinds and "reachable" in kinds, kinds
    reg = next(e for e in events if e["event"] == "regression")
    assert (reg["old_serial"], reg["serial"]) == (20, 10), reg


def send_notify(addr, port, zone=ZONE, *, source, key=None, tcp=False, serial=7):
    m = dns.message.make_query(zone, "SOA")
    m.flags = dns.flags.AA  # (the opcode lives in the flags: set it after)
    m.set_opcode(dns.opcode.NOTIFY)
    m.answer.append(dns.rrset.from_text(
        zone, 300, "IN", "SOA", f"ns1.{zone} hostmaster.{zone} {serial} 3600 600 86400 300"))
    if key is not None:
        m.use_tsig(key.keyring(), keyname=key.name)
    fn = dns.query.tcp if tcp else dns.query.udp
    return fn(m, addr, port=port, timeout=3, source=source)


def test_notify_listener(fleet, monitor):
    """NOTIFY from an allowed address, a disallowed one, with a bad TSIG,
    for a zone not watched, and garbage on the port (UDP and TCP)."""
    f = fleet(delegation=True)
    mon = monitor(f)
    zs = harness.standard_zone(f, ZONE, primary="bind", secondaries=("knot",))
    key = harness.TsigKey.generate("mon-key.")
    bad = harness.TsigKey(key.name, harness.TsigKey.generate().secret)
    keyfile = mon.dir / "monitor.key"
    keyfile.write_text(f'key "{key.name}" {{ algorithm {key.algorithm}; '
                       f'secret "{key.secret}"; }};\n')
    stranger = f.alloc_addr(extra=True)
    f.ensure_alias(stranger)
    mon.write([ZONE], notify_allow=[f.harness_addr], tsig=str(keyfile))
    mon.start()
    mon.wait_converged(1, [zs.secondaries[0].addr])
    for tcp in (False, True):
        r = send_notify(mon.addr, mon.port, source=f.harness_addr, key=key, tcp=tcp)
        assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA, r
        assert r.opcode() == dns.opcode.NOTIFY and r.question[0].name.to_text() == ZONE, r
        assert r.had_tsig, r  # signed, and dnspython verified it
        r = send_notify(mon.addr, mon.port, source=stranger, key=key, tcp=tcp)
        assert r.rcode() == dns.rcode.REFUSED and not r.flags & dns.flags.AA, r
        with pytest.raises(dns.tsig.PeerBadSignature):
            send_notify(mon.addr, mon.port, source=f.harness_addr, key=bad, tcp=tcp)
        r = send_notify(mon.addr, mon.port, source=f.harness_addr, tcp=tcp)  # unsigned
        assert r.rcode() == dns.rcode.NOTAUTH, r
        r = send_notify(mon.addr, mon.port, "other.test.", source=f.harness_addr, key=key,
                        tcp=tcp)
        assert r.rcode() == dns.rcode.REFUSED, r
    # garbage: no answer, nothing breaks
    fam = socket.AF_INET
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((f.harness_addr, 0))
    u.settimeout(0.5)
    for junk in (b"", b"\x00" * 5, os.urandom(300), b"\x12\x34\x80" + os.urandom(40)):
        u.sendto(junk, (mon.addr, mon.port))
    with pytest.raises(socket.timeout):
        u.recvfrom(4096)
    u.close()
    t = socket.create_connection((mon.addr, mon.port), timeout=2)
    t.sendall(b"\x00\x10" + os.urandom(16) + b"\xff\xff" + os.urandom(1000))
    t.close()
    r = send_notify(mon.addr, mon.port, source=f.harness_addr, key=key)
    assert r.rcode() == dns.rcode.NOERROR, r
    log = mon.stop()
    assert log.count(f"{ZONE}: NOTIFY (serial 7) from {f.harness_addr}: accepted") == 3, log
    assert f"{ZONE}: NOTIFY (serial 7) from {stranger}: refused" in log, log
    assert log.count(f"{ZONE}: NOTIFY (serial 7) from {f.harness_addr}: bad-tsig") == 4, log
    assert "other.test.: NOTIFY (serial 7)" in log and "unknown-zone" in log, log
    # The refused NOTIFY changed nothing: no serial 7 was recorded.
    assert all(e["serial"] == 1 for e in mon.history(ZONE)), mon.history(ZONE)


def zone_names(n):
    return [f"z{i:03d}.test." for i in range(n)]


def test_kill9_then_restart(fleet, monitor):
    """kill -9 while it writes: the database passes integrity_check, the
    history written more than a few seconds before is intact, and a restart
    goes on from it (no second "start" serial, new changes recorded)."""
    f = fleet()
    mon = monitor(f)
    p = f.knot("ns1.bulk.test.")
    s = f.nsd("ns2.bulk.test.")
    zones = zone_names(60)
    for z in zones:
        p.primary(z, 1)
        s.secondary(z, p)
    f.start()
    ns = f"[{p.addr}, {s.addr}]"
    mon.write([{"name": z, "ns": ns, "primary": p.addr} for z in zones], listen=False,
              interval="500ms", fast_interval="100ms")
    mon.start()
    mon.wait_log(r"serves serial 1, lag", count=len(zones))
    for rnd in range(2, 5):
        for z in zones[:20]:
            p.write_zone(z, rnd, wait=False)
        for z in zones[:20]:
            s.wait_serial(z, rnd)
    committed_by = time.time()
    # keep it writing while it is killed: more changes in flight
    for z in zones[20:40]:
        p.write_zone(z, 2, wait=False)
    mon.wait_log(r"z02\d\.test\.: serial 2 published", count=3)
    mon.wait_log(r"serves serial 4, lag", count=10)
    os.kill(mon.proc.pid, signal.SIGKILL)
    mon.proc.wait()
    mon.proc = None
    db = sqlite3.connect(mon.db)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    hist = mon.history()
    # What was converged well before the kill (one commit interval plus margin) is there.
    old = [h for h in hist if h["serial"] in (2, 3) and h["zone"] in zones[:20]]
    stale = [h for h in old if ts(h["first_seen"]) < committed_by - 3]
    for h in stale:
        assert all(v["converged_at"] for v in h["servers"]), h
    assert len([h for h in hist if h["serial"] == 1]) == len(zones), "a start serial is lost"
    # restart: continues from the history
    mon.start()
    for z in zones[40:45]:
        p.write_zone(z, 2, wait=False)
    for z in zones[40:45]:
        mon.wait_converged(2, [s.addr], zone=z)
    mon.stop()
    hist = mon.history()
    starts = [h for h in hist if h["via"] == "start"]
    assert len(starts) == len(zones), "a restart recorded a zone's serial as new"
    db = sqlite3.connect(mon.db)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_sighup_zones_and_bad_config(fleet, monitor, run_soasync):
    """SIGHUP adds and removes zones, history kept; a bad config on reload
    keeps the old one running and says why."""
    f = fleet()
    mon = monitor(f)
    p = f.bind("ns1.a.test.")
    s = f.knot("ns2.a.test.")
    for z in ("a.test.", "b.test."):
        p.primary(z, 1)
        s.secondary(z, p)
    f.start()
    zone = lambda z: {"name": z, "ns": f"[{p.addr}, {s.addr}]", "primary": p.addr}  # noqa: E731
    mon.write([zone("a.test.")], listen=False)
    mon.start()
    mon.wait_converged(1, [s.addr], zone="a.test.")
    mon.write([zone("b.test.")], listen=False)
    mon.signal(signal.SIGHUP)
    mon.wait_log(r"config reloaded: 1 zones \(was 1\)")
    mon.wait_log(r"a\.test\.: no longer watched")
    mon.wait_converged(1, [s.addr], zone="b.test.")
    # a bad config: said with its place, the old one keeps running
    mon.conf.write_text(mon.conf.read_text() + "bogus: [\n")
    mon.signal(signal.SIGHUP)
    mon.wait_log(r"reload: keeping the config in force: .*monitor\.yaml:\d+:\d+: ")
    new = p.bump("b.test.")
    mon.wait_converged(new, [s.addr], zone="b.test.")
    # a.test. is not polled any more: a change there is not seen
    p.bump("a.test.")
    s.wait_serial("a.test.", 2)
    mon.wait_log(r"b\.test\.: .* serves serial 2, lag")
    log = mon.stop()
    assert "a.test.: serial 2 published" not in log, log
    r = run_soasync("history", "--db", mon.db)
    assert r.rc == 0, r
    assert re.search(r"^a\.test\.\n  serial 1 ", r.out, re.M), r  # history kept
    assert re.search(r"^b\.test\.\n  serial 1 .*\n(.*\n)*  serial 2 ", r.out, re.M), r
    assert re.search(r"a\.test\.  no longer watched", r.out), r
    assert re.search(r"b\.test\.  watched from now on", r.out), r


def test_history_output(fleet, monitor, run_soasync):
    """soasync history on what was recorded: --json objects with exactly the
    documented keys, RFC 3339 UTC, null lag while behind; the table; zones and
    --since, --last filters; a missing database."""
    f = fleet()
    mon = monitor(f)
    zs = harness.standard_zone(f, ZONE, primary="bind", secondaries=("nsd", "knot"),
                               notified=[True, False])
    laggard = zs.secondaries[1]
    mon.write([{"name": ZONE, "ns": f"[{', '.join(s.addr for s in zs.servers)}]",
                "primary": zs.primary.addr}], listen=False)
    mon.start()
    mon.wait_converged(1, [s.addr for s in zs.secondaries])
    new = zs.bump()
    mon.wait_converged(new, [zs.secondaries[0].addr])
    r = run_soasync("history", "--db", mon.db, "--json", ZONE)
    rows = r.json_lines()
    assert [o["serial"] for o in rows] == [1, new], rows
    for o in rows:
        assert set(o) == {"zone", "serial", "first_seen", "via", "servers"}, o
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["first_seen"]), o
        for v in o["servers"]:
            assert set(v) == {"address", "name", "converged_at", "lag_s"}, v
    last = {v["address"]: v for v in rows[1]["servers"]}
    assert last[laggard.addr] == {"address": laggard.addr, "name": None,
                                  "converged_at": None, "lag_s": None}, rows
    r = run_soasync("history", "--db", mon.db)
    assert re.search(rf"^{re.escape(laggard.addr)}\s", r.out, re.M) is None  # indented
    assert re.search(rf"^\s+{re.escape(laggard.addr)}\s+-\s+still behind$", r.out, re.M), r
    assert rf"serial {new}" in r.out, r
    assert "events:" in r.out and "watched from now on" in r.out, r
    assert len(run_soasync("history", "--db", mon.db, "--json", "--last", "1").json_lines()) == 1
    assert run_soasync("history", "--db", mon.db, "--json", "other.test").out == ""
    assert len(run_soasync("history", "--db", mon.db, "--json", "--since", "1h",
                           ZONE.upper()).json_lines()) == 2
    ev = run_soasync("history", "--db", mon.db, "--json", "--events").json_lines()
    assert ev and ev[0]["event"] == "zone-added" and ev[0]["zone"] == ZONE, ev
    mon.stop()
    r = run_soasync("history", "--db", mon.dir / "nope.db")
    assert r.rc == 3 and "nope.db" in r.err, r
    r = run_soasync("history", "--db", mon.conf)  # not a database
    assert r.rc == 3, r


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list = []
    fail_first = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers["Content-Type"], json.loads(body)))
        code = 500 if type(self).fail_first > 0 else 200
        type(self).fail_first -= 1
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook(fleet, monitor):
    """Alerts to a webhook on loopback: a POST of the JSON event, retried
    after a failure (HTTP 500), repeated while the problem lasts, and the
    recovery."""
    f = fleet()
    mon = monitor(f)
    zs = harness.standard_zone(f, ZONE, primary="knot", secondaries=("nsd",))
    _Hook.received = []
    _Hook.fail_first = 1
    srv = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/hook"
        mon.write([{"name": ZONE, "ns": f"[{zs.primary.addr}, {zs.secondaries[0].addr}]",
                    "primary": zs.primary.addr}], listen=False,
                  extra=f"alerts:\n  webhook: {url}\n  repeat: 1s\n")
        mon.start()
        mon.wait_converged(1, [zs.secondaries[0].addr])
        zs.secondaries[0].stop()
        harness.wait_until(lambda: len(_Hook.received) >= 2, 20, what="webhook retried")
        harness.wait_until(lambda: any(b["repeat"] for _, b in _Hook.received), 20,
                           what="a repeated alert")
        zs.secondaries[0].start()
        harness.wait_until(lambda: any(b["status"] == "ok" for _, b in _Hook.received), 20,
                           what="recovery webhook")
        log = mon.stop()
    finally:
        srv.shutdown()
    types = {t for t, _ in _Hook.received}
    assert types == {"application/json"}, types
    first, retry = _Hook.received[0][1], _Hook.received[1][1]
    assert first == retry, (first, retry)  # the same event, retried
    assert first["status"] in ("warning", "critical") and first["previous"] == "ok", first
    assert not first["repeat"], first
    rep = next(b for _, b in _Hook.received if b["repeat"])
    assert rep["status"] == first["status"] and rep["started"] == first["started"], rep
    assert any(fd["code"] == "unreachable" for fd in first["findings"]), first
    assert "retrying in 1000 ms" in log, log
    ok = [b for _, b in _Hook.received if b["status"] == "ok"]
    assert len(ok) == 1 and ok[0]["recovery"], _Hook.received


def test_privileged_port_then_user(fleet, monitor):
    """As root with user: nobody it binds the NOTIFY port 53 first, then runs
    as nobody (its database where nobody may write) and still answers NOTIFY."""
    import pwd
    import shutil
    import tempfile
    f = fleet()
    mon = monitor(f)
    zs = harness.standard_zone(f, ZONE, primary="knot", secondaries=("nsd",))
    state = Path(tempfile.mkdtemp(prefix="soasync-mon-"))  # pytest's tmp is root-only
    try:
        nobody = pwd.getpwnam("nobody").pw_uid
        os.chown(state, nobody, -1)
        mon.db = state / "monitor.db"
        mon.port = 53
        mon.write([{"name": ZONE, "ns": f"[{zs.primary.addr}, {zs.secondaries[0].addr}]"}],
                  notify_allow=[f.harness_addr], user="nobody")
        mon.start()
        status = Path(f"/proc/{mon.proc.pid}/status").read_text()
        uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
        assert set(uid) == {str(nobody)}, status
        r = send_notify(mon.addr, 53, source=f.harness_addr, serial=1)
        assert r.rcode() == dns.rcode.NOERROR, r
        mon.wait_converged(1, [zs.secondaries[0].addr])
        mon.stop()
        assert os.stat(mon.db).st_uid == nobody
    finally:
        shutil.rmtree(state, ignore_errors=True)


class SoaSpy:
    """A UDP server answering SOA (serial 1, AA) for the given zones and
    REFUSED for anything else, noting when each SOA query came."""

    def __init__(self, addr, zones):
        self.zones = {harness.fqdn(z) for z in zones}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, 53))
        self.sock.settimeout(0.2)
        self.addr = addr
        self.seen = []  # (monotonic time, zone)
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_flag.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                q = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001 - whatever it is, it is not ours to answer
                continue
            r = dns.message.make_response(q)
            name = q.question[0].name.to_text().lower() if q.question else ""
            if q.question and q.question[0].rdtype == 6 and name in self.zones:
                self.seen.append((time.monotonic(), name))
                r.flags |= dns.flags.AA
                r.answer.append(dns.rrset.from_text(
                    name, 300, "IN", "SOA", f"ns.{name} h.{name} 1 3600 600 86400 300"))
            else:
                r.set_rcode(dns.rcode.REFUSED)
            self.sock.sendto(r.to_wire(), peer)

    def close(self):
        self.stop_flag.set()
        self.thread.join(2)
        self.sock.close()


def test_polls_spread_over_the_interval(fleet, monitor):
    """Every zone once per interval, the zones spread evenly: no bursts."""
    f = fleet()
    mon = monitor(f)
    spy_addr = f.alloc_addr(extra=True)
    f.ensure_alias(spy_addr)
    zones = [f"s{i:02d}.test." for i in range(40)]
    spy = SoaSpy(spy_addr, zones)
    try:
        mon.write([{"name": z, "ns": f"[{spy_addr}]"} for z in zones], listen=False)
        mon.start()
        harness.wait_until(lambda: len(spy.seen) >= 3 * len(zones), 30, interval=0.1,
                           what="three rounds of polls")
        mon.stop()
    finally:
        spy.close()
    by_zone = {}
    for t, z in spy.seen:
        by_zone.setdefault(z, []).append(t)
    assert sorted(by_zone) == sorted(zones), by_zone.keys()
    for z, times in by_zone.items():
        # every interval, neither twice nor skipped (a loaded machine may
        # delay a poll by a fraction of the interval, not by a whole one)
        steps = [b - a for a, b in zip(times, times[1:])]
        assert steps and all(abs(d - INTERVAL) < INTERVAL / 2 for d in steps), (z, steps)
    # the first round spread: about a quarter of the zones in each quarter
    t0 = spy.seen[0][0]
    firsts = [times[0] - t0 for times in by_zone.values()]
    quarters = [sum(1 for t in firsts if q * INTERVAL / 4 <= t < (q + 1) * INTERVAL / 4)
                for q in range(4)]
    assert all(4 <= n <= 18 for n in quarters), quarters
    gaps = [b[0] - a[0] for a, b in zip(spy.seen, spy.seen[1:])]
    assert max(gaps) < INTERVAL / 2, (max(gaps), spy.seen)


def test_demo(soasync_bin):
    """README's first command ends with the monitor's view of one more change."""
    if os.geteuid() != 0:
        pytest.skip("the demo needs root")
    demo = Path(__file__).resolve().parent / "demo.py"
    r = subprocess.run(["/usr/bin/python3", str(demo), "--soasync", soasync_bin],
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert not sanitizer_report(out), out
    m = re.search(r"demo: the monitor first saw serial (\d+) by notify; (.*) served it "
                  r"([\d.]+) s later, (.*) served it ([\d.]+) s later", out)
    assert m, out
    assert float(m.group(5)) > float(m.group(3)), out  # the laggard, woken later
    assert re.search(r"^  serial \d+ +first seen .* \(notify\)$", out, re.M), out


def test_systemd_unit(soasync_bin, tmp_path):
    """doc/soasync-monitor.service is a valid unit (systemd-analyze verify)."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    src = Path(__file__).resolve().parents[2] / "doc" / "soasync-monitor.service"
    unit = tmp_path / "soasync-monitor.service"
    unit.write_text(src.read_text().replace("/usr/local/bin/soasync", soasync_bin))
    r = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (r.stdout + r.stderr).splitlines()
                  if line.strip() and "man soasync(1)" not in line]
    assert not complaints, "\n".join(complaints)
    text = src.read_text()
    for opt in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes",
                "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "SystemCallFilter=@system-service",
                "ExecReload=/bin/kill -HUP $MAINPID", "RestartPreventExitStatus=3"):
        assert opt in text, opt
