#!/usr/bin/python3
"""soasync demo: a small fleet of real DNS servers with one secondary behind.

    /usr/bin/python3 tests/system/demo.py --soasync build/soasync [-- extra check args]
    /usr/bin/python3 tests/system/demo.py --no-check

Starts (on loopback, port 53, 127.53.0.0/24 by default):

* a root server, a ``test.`` server and unbound as resolver (real delegation),
* zone ``demo.test.``: BIND 9 primary ``ns1.demo.test.``, NSD secondary
  ``ns2.demo.test.``, Knot secondary ``ns3.demo.test.``;

then moves the primary from serial N to N+1 with the NOTIFY withheld from one
secondary (Knot by default), so that secondary is left behind at N.  Then it
runs, printing soasync's output as is:

1. ``SOASYNC check --resolver <resolver> --source <checker addr> demo.test.``
   (finds the laggard: exit 2, critical),
2. ``SOASYNC doctor --fix --yes ...`` (walks the troubleshooting path, sends
   the laggard a NOTIFY, waits until every server serves N+1: exit 0),
3. ``SOASYNC check ...`` again (all in sync: exit 0),
4. ``SOASYNC monitor --config ...`` on the fleet (the primary also notifies the
   monitor), one more change on the primary, ``SOASYNC notify`` to wake the
   laggard (the primary still does not notify it), then ``SOASYNC history``:
   the monitor's view of the change (the NOTIFY's time, when each secondary
   served the new serial and its lag),

and stops every daemon. The laggard accepts NOTIFY from the checker's address
(as a secondary does from a monitoring host it trusts).

Exit status: 0 when the demo ran as expected; 1 when the fleet failed to start
or soasync crashed, timed out or gave another verdict.

As a library::

    from demo import build_demo
    with harness.Fleet(workdir) as fleet:
        demo = build_demo(fleet)          # started, laggard behind
        subprocess.run(demo.check_argv("build/soasync"))
        ...                               # e.g. doctor --fix --yes, check again
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import harness  # noqa: E402

DEMO_ZONE = "demo.test."
DEMO_RECORDS = [
    "@ IN TXT \"soasync demo zone\"",
    "www IN A 192.0.2.80",
    "www IN AAAA 2001:db8::80",
    "mail IN A 192.0.2.25",
    "@ IN MX 10 mail",
]


@dataclass
class Demo:
    """The started demo fleet (see :func:`build_demo`)."""
    fleet: harness.Fleet
    zone: str
    primary: harness.AuthServer
    secondaries: list
    laggard: harness.AuthServer
    old_serial: int
    new_serial: int
    timings: dict = field(default_factory=dict)

    @property
    def resolver_addr(self) -> str:
        return self.fleet.resolver.addr

    @property
    def checker_addr(self) -> str:
        return self.fleet.checker_addr

    @property
    def servers(self) -> list:
        return [self.primary] + self.secondaries

    def check_argv(self, soasync: str, extra=()) -> list:
        """argv of ``soasync check`` against this demo."""
        return [str(soasync), "check", "--resolver", self.resolver_addr,
                "--source", self.checker_addr, *extra, self.zone]

    def serials(self) -> dict:
        return {s.name: s.serial(self.zone) for s in self.servers}

    def describe(self) -> str:
        lines = [f"demo fleet ({self.fleet.net}.0/24, work dir {self.fleet.workdir}):",
                 self.fleet.describe(),
                 f"  checker address (--source): {self.checker_addr}",
                 f"  resolver (--resolver):      {self.resolver_addr}",
                 f"zone {self.zone}: primary moved {self.old_serial} -> {self.new_serial}; "
                 f"{self.laggard.kind} secondary {self.laggard.name} was not notified "
                 f"and is left behind",
                 "serials now: " + ", ".join(f"{n} {s}" for n, s in self.serials().items())]
        return "\n".join(lines)


def build_demo(fleet: harness.Fleet, *, zone: str = DEMO_ZONE, laggard: str = "knot",
               serial: int = 2024010100, notify_also=()) -> Demo:
    """Declare and start the demo on ``fleet`` (delegation is enabled here if
    the fleet has none yet) and leave the ``laggard`` secondary ("knot" or
    "nsd") one serial behind. The primary also notifies ``notify_also``
    ((addr, port) pairs: the monitor).  Returns a :class:`Demo`."""
    t0 = time.monotonic()
    if fleet.root is None:
        fleet.enable_delegation()
    base = zone.rstrip(".")
    primary = fleet.bind(f"ns1.{base}.")
    primary.primary(zone, serial, DEMO_RECORDS)
    secondaries = []
    for i, kind in enumerate(("nsd", "knot")):
        s = fleet.server(kind, f"ns{i + 2}.{base}.")
        lag = kind == laggard
        # The laggard gets no NOTIFY from the primary (and a long refresh), but
        # accepts one from the checker, so soasync doctor --fix can wake it.
        s.secondary(zone, primary, notified=not lag,
                    allow_notify=[fleet.checker_addr] if lag else None)
        secondaries.append(s)
    if notify_also:
        primary.zone(zone).notify = [(s.addr, s.port) for s in secondaries
                                     if s.kind != laggard] + list(notify_also)
    fleet.start()
    fleet.wait_synced(zone)
    lag = next(s for s in secondaries if s.kind == laggard)
    primary.write_zone(zone, serial + 1)
    for s in secondaries:
        if s is not lag:
            s.wait_serial(zone, serial + 1)
    if lag.serial(zone) != serial:
        raise harness.HarnessError(f"laggard {lag.name} moved to {lag.serial(zone)}")
    return Demo(fleet, harness.fqdn(zone), primary, secondaries, lag, serial, serial + 1,
                {"start": dict(fleet.timings), "total": time.monotonic() - t0})


def dig_soa(server: harness.AuthServer, zone: str) -> str:
    """``dig`` SOA output (RD=0) for one server, or why dig could not run."""
    argv = ["dig", f"@{server.addr}", "-p", str(server.port), "-b", server.source,
            zone, "SOA", "+norecurse", "+noall", "+comments", "+answer", "+time=2", "+tries=1"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"$ {' '.join(argv)}\n(dig failed: {exc})"
    out = "\n".join(l for l in r.stdout.splitlines() if l.strip() and not l.startswith(";; Got"))
    return f"$ {' '.join(argv)}\n{out}{r.stderr}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--soasync", help="path of the soasync binary")
    ap.add_argument("--no-check", action="store_true",
                    help="only bring the fleet up, show dig SOA from each server, stop")
    ap.add_argument("--laggard", choices=("knot", "nsd"), default="knot",
                    help="which secondary is left behind (default knot)")
    ap.add_argument("--net", default=None,
                    help="the /24 to use (default: the first free one from 127.53.0 up)")
    ap.add_argument("--workdir", help="keep the fleet's files here (default: a temporary "
                                      "directory, removed afterwards)")
    ap.add_argument("--timeout", type=float, default=60, help="soasync timeout in seconds")
    ap.add_argument("extra", nargs="*", help="extra arguments for 'soasync check' (after --)")
    args = ap.parse_args(argv)

    if not args.no_check and not args.soasync:
        ap.error("--soasync PATH is required unless --no-check is given")
    if args.soasync and not args.no_check:
        if not (os.path.isfile(args.soasync) and os.access(args.soasync, os.X_OK)):
            print(f"demo: soasync binary {args.soasync!r} not found or not executable "
                  f"(use --no-check to only run the fleet)", file=sys.stderr)
            return 1
    if os.geteuid() != 0:
        print("demo: needs root (adds /32 aliases to lo, binds port 53)", file=sys.stderr)
        return 1

    tmp = None
    workdir = args.workdir
    if workdir is None:
        tmp = workdir = tempfile.mkdtemp(prefix="soasync-demo-")
    rc = 1
    try:
        with harness.Fleet(workdir, args.net) as fleet:
            monitor_port = harness.Fleet.free_tcp_port(fleet.checker_addr)
            try:
                demo = build_demo(fleet, laggard=args.laggard,
                                  notify_also=[(fleet.checker_addr, monitor_port)])
            except (harness.HarnessError, TimeoutError, OSError) as exc:
                print(f"demo: the fleet failed to start:\n{exc}", file=sys.stderr)
                return 1
            print(demo.describe())
            print(f"(fleet up in {demo.timings['start']['total']:.2f}s, "
                  f"demo state ready in {demo.timings['total']:.2f}s)")
            print(flush=True)
            if args.no_check:
                for s in demo.servers:
                    print(dig_soa(s, demo.zone))
                    print()
                rc = 0
            else:
                rc = run_check(demo, args.soasync, args.extra, args.timeout)
                if rc == 0:
                    rc = run_monitor(demo, args.soasync, monitor_port, args.timeout)
        print("demo: fleet stopped", flush=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc


def run_soasync(argv, timeout: float):
    """Run one soasync command, echo it and its output; the CompletedProcess or None."""
    print("$ " + " ".join(argv), flush=True)
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        for data in (exc.stdout, exc.stderr):
            if data:
                sys.stdout.write(data.decode(errors="replace") if isinstance(data, bytes) else data)
        print(f"demo: soasync timed out after {timeout:g}s", file=sys.stderr)
        return None
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    print(flush=True)
    if r.returncode < 0:
        print(f"demo: soasync crashed (signal {-r.returncode})", file=sys.stderr)
        return None
    return r


def run_check(demo: Demo, soasync: str, extra, timeout: float) -> int:
    """check (the laggard is found), doctor --fix --yes (it is repaired), check
    (all in sync); return the demo's exit status."""
    r = run_soasync(demo.check_argv(soasync, extra), timeout)
    if r is None or r.returncode != 2:
        print(f"demo: expected check to exit 2 (critical: {demo.laggard.name} serves "
              f"{demo.old_serial}, the primary {demo.new_serial})", file=sys.stderr)
        return 1
    doctor = [str(soasync), "doctor", "--fix", "--yes", "--resolver", demo.resolver_addr,
              "--source", demo.checker_addr, *extra, demo.zone]
    r = run_soasync(doctor, timeout)
    if r is None or r.returncode != 0:
        print("demo: expected doctor --fix --yes to repair the fleet (exit 0)", file=sys.stderr)
        return 1
    r = run_soasync(demo.check_argv(soasync, extra), timeout)
    if r is None or r.returncode != 0:
        print("demo: expected the last check to find every server in sync (exit 0)",
              file=sys.stderr)
        return 1
    print(f"demo: check found {demo.laggard.name} behind; doctor notified it and it caught "
          f"up; every server now serves {demo.new_serial}")
    return 0


def history(soasync: str, db: Path, zone: str) -> list:
    r = subprocess.run([str(soasync), "history", "--db", str(db), "--json", zone],
                       capture_output=True, text=True, timeout=30)
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()] \
        if r.returncode == 0 else []


def converged(soasync: str, db: Path, zone: str, serial: int, addrs) -> bool:
    for o in history(soasync, db, zone):
        if o["serial"] == serial:
            got = {v["address"]: v["converged_at"] for v in o["servers"]}
            return all(got.get(a) for a in addrs)
    return False


def run_monitor(demo: Demo, soasync: str, port: int, timeout: float) -> int:
    """The monitor on the fleet: one more change, the laggard woken by
    soasync notify, and the monitor's view of it; return the exit status."""
    f = demo.fleet
    workdir = f.workdir / "monitor"
    workdir.mkdir(exist_ok=True)
    conf, db, log = workdir / "monitor.yaml", workdir / "monitor.db", workdir / "monitor.log"
    conf.write_text(f"""database: {db}
resolver: {demo.resolver_addr}
source: {demo.checker_addr}
interval: 2s
fast_interval: 200ms
listen:
  notify: {demo.checker_addr}:{port}
notify_allow: [{demo.primary.addr}]
zones:
  - {demo.zone}
""")
    argv = [str(soasync), "monitor", "--config", str(conf)]
    print("$ " + " ".join(argv) + " &", flush=True)
    print(conf.read_text())
    new = demo.new_serial + 1
    secs = [s.addr for s in demo.secondaries]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        harness.wait_until(lambda: converged(soasync, db, demo.zone, demo.new_serial, secs),
                           timeout, interval=0.1, what="the monitor's first check")
        print(f"demo: one more change on the primary: serial {demo.new_serial} -> {new}",
              flush=True)
        demo.primary.write_zone(demo.zone, new)
        others = [s.addr for s in demo.secondaries if s is not demo.laggard]
        harness.wait_until(lambda: converged(soasync, db, demo.zone, new, others), timeout,
                           interval=0.1, what="the notified secondary")
        notify = [str(soasync), "notify", "--resolver", demo.resolver_addr, "--source",
                  demo.checker_addr, demo.zone]
        if run_soasync(notify, timeout) is None:
            return 1
        harness.wait_until(lambda: converged(soasync, db, demo.zone, new, secs), timeout,
                           interval=0.1, what="every secondary")
    except (TimeoutError, harness.HarnessError, OSError) as exc:
        print(f"demo: the monitor did not see the change through: {exc}", file=sys.stderr)
        return 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print("demo: the monitor's log, one line per event:")
        sys.stdout.write(log.read_text(errors="replace"))
        print(flush=True)
    if proc.returncode != 0:
        print(f"demo: the monitor exited {proc.returncode}", file=sys.stderr)
        return 1
    r = run_soasync([str(soasync), "history", "--db", str(db), "--last", "1", demo.zone],
                    timeout)
    if r is None or r.returncode != 0:
        return 1
    row = history(soasync, db, demo.zone)[-1]
    lag = {v["address"]: v["lag_s"] for v in row["servers"]}
    print(f"demo: the monitor first saw serial {new} by {row['via']}; "
          + ", ".join(f"{s.name} served it {lag[s.addr]:.3f} s later" for s in demo.secondaries)
          + f" ({demo.laggard.name} only once soasync notify woke it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
