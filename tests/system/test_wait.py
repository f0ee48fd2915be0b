"""System tests for ``soasync wait`` against real BIND 9.18, NSD 4.6 and Knot 3.2.

``wait`` runs in the background (subprocess) while the harness changes the
fleet.  To know that it is already waiting (its first probe done) before the
fleet changes -- without sleeping -- a test either gives it a pseudo-terminal
as stderr and waits for its progress line (shown only on a terminal), or
turns on BIND's query log and waits for the checker's SOA queries there.

Timing-sensitive tests use Knot/NSD-only fleets: BIND 9.18 rate-limits its
built-in CHAOS answers (version.bind) to a few per second per /24 and drops
the rest ("rate limit drop response ... version.bind CH TXT" in its log), so
soasync's vendor lookup against a BIND that was asked a moment ago costs a
whole query timeout (about 1.9 s).
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import threading
import time
import types

import pytest

import harness

ZONE = "example.test."
from conftest import sanitizer_report  # noqa: E402
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --------------------------------------------------------------------------
# local helpers




class Background:
    """soasync in the background; ``tty=True`` gives it a pseudo-terminal as
    stderr (so it draws its progress line), read by a thread."""

    def __init__(self, soasync_bin, *args, tty=False):
        self.argv = [soasync_bin, *map(str, args)]
        self._err = bytearray()
        self._lock = threading.Lock()
        self.master = None
        self.t0 = time.monotonic()
        if tty:
            self.master, slave = pty.openpty()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=slave)
            os.close(slave)
            self.reader = threading.Thread(target=self._read_pty, daemon=True)
        else:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.reader = threading.Thread(target=self._read_pipe, daemon=True)
        self.reader.start()
        self.result = None

    def _read_pty(self):
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:                   # EIO once the child closed it
                break
            if not data:
                break
            with self._lock:
                self._err += data

    def _read_pipe(self):
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):
            with self._lock:
                self._err += chunk

    @property
    def stderr_so_far(self) -> str:
        with self._lock:
            return self._err.decode(errors="replace")

    def finish(self, timeout: float):
        """Wait for exit; return a result like run_soasync's (plus elapsed)."""
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise AssertionError(f"{' '.join(self.argv)} still running after {timeout}s; "
                                 f"stderr: {self.stderr_so_far!r}")
        elapsed = time.monotonic() - self.t0
        self.reader.join(5)
        if self.master is not None:
            os.close(self.master)
            self.master = None
        err = self.stderr_so_far.replace("\r\n", "\n")

        r = types.SimpleNamespace(argv=self.argv, rc=self.proc.returncode,
                                  out=out.decode(errors="replace"), err=err, elapsed=elapsed)
        assert not sanitizer_report(r.err), f"sanitizer output:\n{r}"
        return r

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        if self.master is not None:
            os.close(self.master)
            self.master = None


def show(r) -> str:
    return (f"$ {' '.join(r.argv)}\nrc={r.rc} elapsed={r.elapsed:.2f}s\n--- stdout:\n{r.out}"
            f"--- stderr:\n{r.err}")


@pytest.fixture
def background(soasync_bin):
    started = []

    def start(*args, tty=False):
        b = Background(soasync_bin, *args, tty=tty)
        started.append(b)
        return b

    yield start
    for b in started:
        b.kill()


def bind_soa_queries_from(srv, source: str, zone: str = ZONE) -> int:
    """SOA queries for ``zone`` from ``source`` in a BIND server's query log."""
    try:
        text = srv.log.read_text(errors="replace")
    except FileNotFoundError:
        return 0
    z = re.escape(zone.rstrip("."))
    return len(re.findall(rf"client @\S+ {re.escape(source)}#\d+ \({z}\): query: {z} IN SOA ",
                          text))


# --------------------------------------------------------------------------
# 6. converging


@pytest.mark.parametrize("lag_kind", ["knot", "pdns"])
def test_wait_converges_after_laggard_refresh_progress(fleet, background, lag_kind):
    """Knot (or PowerDNS) laggard; wait shows its progress line on a
    terminal, then the laggard is refreshed and wait exits 0 naming the
    serial (PowerDNS acts on the refresh's NOTIFY within about a second)."""
    f = fleet(delegation=True)
    zs = harness.scenario_behind(f, ZONE, primary="bind", secondaries=("nsd", lag_kind),
                                 laggard=1)
    lag, old, new = zs.laggard, zs.notes["old"], zs.notes["new"]
    b = background("wait", "--resolver", f.resolver.addr, "--source", f.checker_addr,
                   "--timeout", "30", ZONE, tty=True)
    want = f"waiting for {lag.name} ({lag.addr}) serves {old}"
    harness.wait_until(lambda: want in b.stderr_so_far, 10,
                       what=f"the progress line ({want})")
    progress = ANSI.sub("", b.stderr_so_far).split("\r")[-1]
    assert re.match(rf"soasync: {re.escape(ZONE)}: 2/3 at {new} or later \[\d+s/30s\] "
                    rf"waiting for {re.escape(lag.name)}", progress), progress
    lag.refresh(ZONE)
    r = b.finish(timeout=30)
    assert r.rc == 0, show(r)
    m = re.fullmatch(rf"{re.escape(ZONE)}: every server serves {new} or later "
                     rf"\((\d+\.\d) s, (\d+) rounds\)\n", r.out)
    assert m, show(r)
    assert int(m.group(2)) >= 2, show(r)
    assert r.elapsed < 15, show(r)
    assert lag.serial(ZONE) == new


def test_wait_converges_json(fleet, background):
    """BIND laggard (query log on, so the test sees wait's probes); --json."""
    f = fleet(delegation=True)
    zs = harness.scenario_behind(f, ZONE, primary="knot", secondaries=("bind", "nsd"),
                                 laggard=0)
    lag, old, new = zs.laggard, zs.notes["old"], zs.notes["new"]
    lag.control("querylog", "on")
    b = background("wait", "--resolver", f.resolver.addr, "--source", f.checker_addr,
                   "--timeout", "30", "--json", ZONE)
    # two SOA queries from the checker: the first probe and a second round,
    # both while the laggard still served the old serial
    harness.wait_until(lambda: bind_soa_queries_from(lag, f.checker_addr) >= 2, 10,
                       what="wait to query the laggard twice")
    assert b.proc.poll() is None, "wait exited although the laggard is behind"
    assert lag.serial(ZONE) == old
    lag.retransfer(ZONE)
    r = b.finish(timeout=30)
    assert r.rc == 0, show(r)
    assert r.err == "", show(r)
    doc = json.loads(r.out)
    assert set(doc) == {"zone", "converged", "serial", "elapsed_s", "rounds", "servers"}, doc
    assert (doc["zone"], doc["converged"], doc["serial"]) == (ZONE, True, new), doc
    assert doc["rounds"] >= 2 and 0 < doc["elapsed_s"] < 15, doc
    assert sorted((s["name"], s["address"], s["port"], s["serial"], s["at_target"])
                  for s in doc["servers"]) == \
        sorted((s.name, s.addr, 53, new, True) for s in zs.servers), doc


# --------------------------------------------------------------------------
# 7. timing out


def test_wait_times_out_naming_the_laggard(fleet, soasync):
    f = fleet(delegation=True)
    zs = harness.scenario_behind(f, ZONE, primary="knot", secondaries=("nsd", "knot"),
                                 laggard=0)
    lag, old, new = zs.laggard, zs.notes["old"], zs.notes["new"]
    disc = ["--resolver", f.resolver.addr, "--source", f.checker_addr]
    r = soasync("wait", *disc, "--timeout", "3", ZONE)
    assert r.rc == 2, r
    assert r.out == "", r
    assert r.err == (f"soasync: {ZONE}: deadline passed after 3 s: not at {new}: "
                     f"{lag.name} ({lag.addr}) serves {old}\n"), r
    assert 3.0 <= r.elapsed < 5.0, f"--timeout 3 took {r.elapsed:.2f}s"
    r = soasync("wait", *disc, "--timeout", "1", "--json", ZONE)
    assert r.rc == 2, r
    doc = json.loads(r.out)
    assert (doc["zone"], doc["converged"], doc["serial"]) == (ZONE, False, new), r
    assert 1.0 <= doc["elapsed_s"] < 2.0 and doc["rounds"] >= 2, r
    assert sorted((s["name"], s["address"], s["serial"], s["at_target"])
                  for s in doc["servers"]) == sorted(
        (s.name, s.addr, old if s is lag else new, s is not lag) for s in zs.servers), r
    assert 1.0 <= r.elapsed < 3.0, r
    assert lag.serial(ZONE) == old


# --------------------------------------------------------------------------
# 8. --serial, --dead


@pytest.mark.parametrize("primary", ["nsd", "pdns"])
def test_wait_explicit_serial_then_primary_bumped(fleet, background, soasync, primary):
    """(A PowerDNS primary notifies a reloaded zone on its next xfr cycle,
    1 s in the harness.)"""
    f = fleet()
    zs = harness.standard_zone(f, ZONE, primary=primary, secondaries=("knot", "bind"),
                               serial=10)
    ns = ["--ns", ",".join(s.addr for s in zs.servers), "--primary", zs.primary.addr,
          "--source", f.checker_addr]
    # a target below the current serial is reached at once
    r = soasync("wait", *ns, "--serial", "7", "--timeout", "5", ZONE)
    assert r.rc == 0, r
    assert r.out == f"{ZONE}: every server serves 7 or later (0.0 s, 1 round)\n", r
    b = background("wait", *ns, "--serial", "15", "--timeout", "30", ZONE, tty=True)
    harness.wait_until(lambda: "0/3 at 15 or later" in b.stderr_so_far, 10,
                       what="wait to report 0/3 at 15")
    zs.primary.write_zone(ZONE, 12)              # not yet
    for s in zs.secondaries:
        s.wait_serial(ZONE, 12)
    assert b.proc.poll() is None, "wait exited before the target serial"
    zs.primary.write_zone(ZONE, 15)              # the target: NOTIFY moves everyone
    r = b.finish(timeout=30)
    assert r.rc == 0, show(r)
    assert re.fullmatch(rf"{re.escape(ZONE)}: every server serves 15 or later "
                        rf"\(\d+\.\d s, \d+ rounds\)\n", r.out), show(r)
    assert all(s.serial(ZONE) == 15 for s in zs.servers)


def dead_fleet(f):
    """Knot primary, NSD secondary in sync, Knot laggard behind; plus a closed
    port in the NS list."""
    zs = harness.scenario_behind(f, ZONE, primary="knot", secondaries=("nsd", "knot"),
                                 laggard=1)
    closed = f.closed_address()
    ns = ["--ns", ",".join([s.addr for s in zs.servers] + [closed]), "--primary",
          zs.primary.addr, "--source", f.checker_addr]
    return zs, closed, ns


def test_wait_dead_ignore(fleet, soasync):
    f = fleet()
    zs, closed, ns = dead_fleet(f)
    lag, old, new = zs.laggard, zs.notes["old"], zs.notes["new"]
    # behind is not dead: --dead ignore still waits for the laggard
    r = soasync("wait", *ns, "--dead", "ignore", "--timeout", "1", ZONE)
    assert r.rc == 2, r
    assert r.err == (f"soasync: {ZONE}: deadline passed after 1 s: not at {new}: "
                     f"{lag.addr} serves {old}; {closed}: connection refused\n"), r
    lag.refresh(ZONE)
    lag.wait_serial(ZONE, new)
    r = soasync("wait", *ns, "--dead", "ignore", "--timeout", "10", "--json", ZONE)
    assert r.rc == 0, r
    doc = json.loads(r.out)
    assert (doc["converged"], doc["serial"], doc["rounds"]) == (True, new, 1), r
    assert {s["address"]: (s["serial"], s["at_target"]) for s in doc["servers"]} == {
        **{s.addr: (new, True) for s in zs.servers}, closed: (None, False)}, r
    assert r.elapsed < 2, r


def test_wait_dead_quorum(fleet, soasync):
    f = fleet()
    zs, closed, ns = dead_fleet(f)
    lag, old, new = zs.laggard, zs.notes["old"], zs.notes["new"]
    # primary + NSD serve the target: a quorum of 2 is there at once
    r = soasync("wait", *ns, "--dead", "quorum=2", "--timeout", "10", ZONE)
    assert r.rc == 0, r
    assert re.fullmatch(rf"{re.escape(ZONE)}: 2 of 4 servers serve {new} or later "
                        rf"\(quorum 2 reached\) \(\d\.\d s, 1 round\)\n", r.out), r
    assert r.elapsed < 2, r
    # 3 need the laggard too
    r = soasync("wait", *ns, "--dead", "quorum=3", "--timeout", "1", ZONE)
    assert r.rc == 2, r
    assert r.err == (f"soasync: {ZONE}: deadline passed after 1 s: not at {new}: "
                     f"{lag.addr} serves {old}; {closed}: connection refused\n"), r
    assert r.elapsed < 2.5, r
    lag.refresh(ZONE)
    lag.wait_serial(ZONE, new)
    r = soasync("wait", *ns, "--dead", "quorum=3", "--timeout", "10", "--json", ZONE)
    assert r.rc == 0, r
    doc = json.loads(r.out)
    assert (doc["converged"], doc["serial"]) == (True, new), r
    # 4 can never be reached with a dead server
    r = soasync("wait", *ns, "--dead", "quorum=4", "--timeout", "1", "--json", ZONE)
    assert r.rc == 2, r
    assert json.loads(r.out)["converged"] is False, r


def test_wait_dead_fail_closed_port(fleet, soasync):
    f = fleet()
    zs, closed, ns = dead_fleet(f)
    lag, new = zs.laggard, zs.notes["new"]
    lag.refresh(ZONE)
    lag.wait_serial(ZONE, new)
    for policy in ([], ["--dead", "fail"]):              # fail is the default
        r = soasync("wait", *ns, *policy, "--timeout", "1", ZONE)
        assert r.rc == 2, r
        assert r.out == "", r
        assert r.err == (f"soasync: {ZONE}: deadline passed after 1 s: not at {new}: "
                         f"{closed}: connection refused\n"), r
        assert 1.0 <= r.elapsed < 2.5, r


def test_wait_dead_fail_silent_server_honours_timeout(fleet, soasync):
    """--timeout is the overall deadline: a server that never answers must
    not stretch a 3 s wait (the first probe and the last one count)."""
    f = fleet()
    zs = harness.standard_zone(f, ZONE, primary="knot", secondaries=("nsd",))
    silent = f.silent_address()
    ns = ["--ns", ",".join([s.addr for s in zs.servers] + [silent]), "--primary",
          zs.primary.addr, "--source", f.checker_addr]
    # ignoring it converges (after the one query timeout it takes to call it dead)
    r = soasync("wait", *ns, "--dead", "ignore", "--timeout", "10", "--json", ZONE)
    assert r.rc == 0, r
    doc = json.loads(r.out)
    assert doc["converged"] is True and doc["serial"] == 1, r
    assert {s["address"]: s["at_target"] for s in doc["servers"]} == {
        **{s.addr: True for s in zs.servers}, silent: False}, r
    r = soasync("wait", *ns, "--dead", "fail", "--timeout", "3", ZONE)
    assert r.rc == 2, r
    m = re.fullmatch(rf"soasync: {re.escape(ZONE)}: deadline passed after (\d+) s: not at 1: "
                     rf"{re.escape(silent)}: timed out\n", r.err)
    assert m, r
    assert r.elapsed < 4.5, f"--timeout 3 took {r.elapsed:.2f}s: {r}"
    assert abs(int(m.group(1)) - r.elapsed) < 1.0, f"says {m.group(1)} s, took {r.elapsed:.2f}s"


# --------------------------------------------------------------------------
# 9. --deadline (durations with units; --timeout is its older name)


def test_wait_deadline_takes_units(fleet, soasync):
    f = fleet()
    zs, closed, ns = dead_fleet(f)
    lag, old, new = zs.laggard, zs.notes["old"], zs.notes["new"]
    r = soasync("wait", *ns, "--dead", "ignore", "--deadline", "1500ms", ZONE)
    assert r.rc == 2, r
    assert re.fullmatch(rf"soasync: {re.escape(ZONE)}: deadline passed after \d s: not at "
                        rf"{new}: {re.escape(lag.addr)} serves {old}; "
                        rf"{re.escape(closed)}: connection refused\n", r.err), r
    assert 1.5 <= r.elapsed < 3.5, r
    r = soasync("wait", *ns, "--deadline", "soon", ZONE)
    assert (r.rc, r.out) == (3, ""), r
    assert r.err == ("soasync: --deadline: expected a duration from 1s to 7d (e.g. 1500ms, 2s, "
                     "5m; a bare number counts seconds), got 'soon'\n"), r


def test_wait_help_names_the_deadline(soasync):
    r = soasync("wait", "--help")
    assert r.rc == 0, r
    assert re.search(r"^  --deadline DURATION ", r.out, re.M), r.out
    assert not re.search(r"^  --timeout\b", r.out, re.M), r.out
