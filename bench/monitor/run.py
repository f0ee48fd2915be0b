#!/usr/bin/python3
"""The monitor's benchmark (run by bench/monitor.sh, as root).

Serves ZONES small zones from NSD (on NET.1 and NET.3) and Knot (on NET.2),
lets `soasync monitor` watch them all on the three addresses at INTERVAL, and
measures its CPU (per query), RSS and database growth: after the start
(the first round records every zone's serial), in the steady state (nothing
changes: nothing should be written), and while CHANGES zones change. Then
Debian's prometheus-blackbox-exporter probes the same servers (its DNS
prober asks SOA; one module per zone, since a module's query_name is fixed)
and its CPU per query is measured the same way. Prints both side by side.

Settings (environment): ZONES (100000), INTERVAL (60, seconds), STEADY (2:
intervals measured in the steady state), CHANGES (1000), BB_ZONES (2000:
zones the exporter probes, one module each), BB_ROUNDS (3), BB_CONCURRENCY
(32), NET (127.56.0), SOASYNC (build/soasync), BENCH_TMPDIR (/dev/shm),
KEEP (1: keep the work directory).
"""
from __future__ import annotations

import concurrent.futures
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests" / "system"))
import harness  # noqa: E402  (bulk_soa, wait_until)

ZONES = int(os.environ.get("ZONES", 100000))
INTERVAL = float(os.environ.get("INTERVAL", 60))
STEADY = int(os.environ.get("STEADY", 2))
CHANGES = int(os.environ.get("CHANGES", 1000))
BB_ZONES = int(os.environ.get("BB_ZONES", 2000))
BB_ROUNDS = int(os.environ.get("BB_ROUNDS", 3))
BB_CONC = int(os.environ.get("BB_CONCURRENCY", 32))
NET = os.environ.get("NET", "127.56.0")
SOASYNC = os.environ.get("SOASYNC", str(REPO / "build" / "soasync"))
TMP = os.environ.get("BENCH_TMPDIR", "/dev/shm")
KEEP = os.environ.get("KEEP") == "1"
SERIAL = 2025010101
TICK = os.sysconf("SC_CLK_TCK")
ADDRS = {"nsd1": f"{NET}.1", "knot": f"{NET}.2", "nsd2": f"{NET}.3"}
SOURCE = f"{NET}.250"

ZONE_TEXT = ("$TTL 3600\n@ IN SOA ns1.bench. hostmaster.bench. {serial} 3600 600 1209600 300\n"
             "@ IN NS ns1.bench.\n@ IN NS ns2.bench.\n@ IN NS ns3.bench.\n"
             "www IN A 192.0.2.1\n")

_libc = ctypes.CDLL(None, use_errno=True)


def _pdeathsig():
    _libc.prctl(1, signal.SIGTERM, 0, 0, 0)


def say(msg):
    print(f"== {msg}", file=sys.stderr, flush=True)


# ---- processes ---------------------------------------------------------------------

class Proc:
    def __init__(self, name, argv, log, env=None):
        self.name = name
        self.argv = argv
        self.log = open(log, "ab")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                  stderr=self.log, start_new_session=True, env=env,
                                  preexec_fn=_pdeathsig)
        self.exe = os.readlink(f"/proc/{self.p.pid}/exe") if self.alive() else argv[0]

    def alive(self):
        return self.p.poll() is None

    def cpu(self):
        """CPU seconds of the process (and of its waited-for children)."""
        f = Path(f"/proc/{self.p.pid}/stat").read_text()
        rest = f[f.rindex(")") + 2:].split()
        return sum(int(x) for x in rest[11:15]) / TICK

    def mem(self):
        st = Path(f"/proc/{self.p.pid}/status").read_text()
        get = lambda k: int(re.search(rf"^{k}:\s+(\d+) kB", st, re.M).group(1))  # noqa: E731
        return get("VmRSS"), get("VmHWM")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.alive():
            os.killpg(self.p.pid, sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.log.close()


# ---- the fleet ------------------------------------------------------------------------

def gen(w: Path, zones):
    (w / "zones").mkdir()
    for z in zones:
        (w / "zones" / f"{z}zone").write_text(ZONE_TEXT.format(serial=SERIAL))
    (w / "zones.txt").write_text("".join(z + "\n" for z in zones))
    nd = w / "nsd"
    nd.mkdir()
    conf = ["server:", f"  ip-address: {ADDRS['nsd1']}@53", f"  ip-address: {ADDRS['nsd2']}@53",
            "  do-ip6: no", "  server-count: 1", '  username: ""', '  chroot: ""',
            '  database: ""', f'  zonelistfile: "{nd}/zone.list"',
            f'  xfrdfile: "{nd}/xfrd.state"', f'  xfrdir: "{nd}"', f'  pidfile: "{nd}/nsd.pid"',
            f'  logfile: "{nd}/nsd.log"', "  zonefiles-check: no", "  zonefiles-write: 0",
            "  verbosity: 1", "  rrl-ratelimit: 0", "  rrl-whitelist-ratelimit: 0",
            "remote-control:", "  control-enable: yes", f'  control-interface: "{nd}/nsd.ctl"', ""]
    for z in zones:
        conf += ["zone:", f"  name: {z}", f'  zonefile: "{w}/zones/{z}zone"']
    (nd / "nsd.conf").write_text("\n".join(conf) + "\n")
    kd = w / "knot"
    (kd / "db").mkdir(parents=True)
    conf = ["server:", f'  rundir: "{kd}"', f'  pidfile: "{kd}/knot.pid"',
            f"  listen: {ADDRS['knot']}@53", "  udp-workers: 1", "  tcp-workers: 1",
            "  background-workers: 1", "control:", f'  listen: "{kd}/knot.sock"', "database:",
            f'  storage: "{kd}/db"', "log:", f'  - target: "{kd}/knot.log"', "    any: notice",
            "template:", "  - id: default", f'    storage: "{w}/zones"', '    file: "%s.zone"',
            "    zonefile-sync: -1", "    zonefile-load: whole", "    journal-content: none",
            "    semantic-checks: off", "zone:"]
    conf += [f"  - domain: {z}" for z in zones]
    (kd / "knot.conf").write_text("\n".join(conf) + "\n")


def monitor_config(w: Path, zones):
    ns = f"[{ADDRS['nsd1']}, {ADDRS['knot']}, {ADDRS['nsd2']}]"
    lines = [f"database: {w}/monitor.db", f"source: {SOURCE}", f"interval: {int(INTERVAL)}s",
             "fast_interval: 2s", "lag_warning: 5m", "lag_critical: 30m",
             "max_inflight: 2000", "zones:"]
    lines += [f"  - {{name: {z}, ns: {ns}, primary: {ADDRS['nsd1']}}}" for z in zones]
    (w / "monitor.yaml").write_text("\n".join(lines) + "\n")


def wait_served(zones, serial, timeout=600):
    for name, a in ADDRS.items():
        t0 = time.monotonic()
        left = list(zones)
        while left:
            res = harness.bulk_soa(a, 53, left, timeout=20, window=200)
            left = [z for z, r in res.items() if r.serial != serial]
            if left and time.monotonic() - t0 > timeout:
                raise SystemExit(f"run.py: {name} ({a}) does not serve {len(left)} zones")
        say(f"{name} ({a}) serves all {len(zones)} zones at {serial} "
            f"({time.monotonic() - t0:.1f} s)")


# ---- measuring --------------------------------------------------------------------------

def db_bytes(w: Path):
    """The database's own size (pages in use, WAL included; not the WAL
    file, which keeps its size between checkpoints)."""
    import sqlite3
    db = sqlite3.connect(f"file:{w}/monitor.db?mode=ro", uri=True, timeout=10)
    try:
        page, count, free = (db.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_size", "page_count", "freelist_count"))
        return page * (count - free)
    finally:
        db.close()


def files_bytes(w: Path):
    return sum(p.stat().st_size for p in w.glob("monitor.db*"))


class Window:
    def __init__(self, name, mon, w):
        self.name, self.mon, self.w = name, mon, w
        self.t0, self.cpu0, self.db0 = time.monotonic(), mon.cpu(), db_bytes(w)

    def end(self):
        dt = time.monotonic() - self.t0
        rss, hwm = self.mon.mem()
        return {"window": self.name, "seconds": round(dt, 1),
                "cpu_s": round(self.mon.cpu() - self.cpu0, 2),
                "cpu_pct": round(100 * (self.mon.cpu() - self.cpu0) / dt, 1),
                "rss_kb": rss, "hwm_kb": hwm,
                "db_growth_bytes": db_bytes(self.w) - self.db0, "db_bytes": db_bytes(self.w),
                "db_files_bytes": files_bytes(self.w)}


def bump(w: Path, zones, serial, knot_ctl):
    """The primary (NSD, .1 and .3) first, then Knot: otherwise Knot could
    serve the new serial before the primary, which the monitor rightly
    reports as the primary going backwards."""
    for z in zones:
        (w / "zones" / f"{z}zone").write_text(ZONE_TEXT.format(serial=serial))
    subprocess.run(["nsd-control", "-c", str(w / "nsd" / "nsd.conf"), "reload"], check=True,
                   capture_output=True)
    for a in (ADDRS["nsd1"], ADDRS["nsd2"]):
        harness.wait_until(lambda: all(r.serial == serial for r in harness.bulk_soa(
            a, 53, zones, timeout=10, window=200).values()), 120, interval=0.2,
            what=f"NSD ({a}) to serve the changed zones")
    for i in range(0, len(zones), 200):
        subprocess.run(["knotc", "-s", knot_ctl, "zone-reload", *zones[i:i + 200]], check=True,
                       capture_output=True)


# ---- blackbox exporter ------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def blackbox(w: Path, zones):
    mods = ["modules:"]
    for i, z in enumerate(zones):
        mods += [f"  z{i}:", "    prober: dns", "    timeout: 5s", "    dns:",
                 "      preferred_ip_protocol: ip4", f"      source_ip_address: {SOURCE}",
                 f"      query_name: {z}", "      query_type: SOA",
                 "      recursion_desired: false"]
    (w / "blackbox.yml").write_text("\n".join(mods) + "\n")
    port = free_port()
    bb = Proc("blackbox", ["prometheus-blackbox-exporter", f"--config.file={w}/blackbox.yml",
                           f"--web.listen-address=127.0.0.1:{port}"], w / "blackbox.log")
    base = f"http://127.0.0.1:{port}"
    harness.wait_until(lambda: _get(base + "/metrics") is not None, 60, interval=0.2,
                       what="blackbox exporter up")
    urls = [f"{base}/probe?module=z{i}&target={a}:53"
            for _ in range(BB_ROUNDS) for i in range(len(zones)) for a in ADDRS.values()]
    say(f"blackbox exporter: {len(urls)} probes ({len(zones)} zones x 3 addresses x "
        f"{BB_ROUNDS} rounds), {BB_CONC} at a time")
    cpu0, t0 = bb.cpu(), time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(BB_CONC) as ex:
        bodies = list(ex.map(_get, urls))
    dt, cpu = time.monotonic() - t0, bb.cpu() - cpu0
    ok = sum(1 for b in bodies if b and "probe_success 1" in b
             and f"probe_dns_serial {SERIAL + 1}" in b or (b and "probe_success 1" in b))
    rss, hwm = bb.mem()
    bb.stop()
    return {"probes": len(urls), "successful": ok, "seconds": round(dt, 1),
            "cpu_s": round(cpu, 2), "rss_kb": rss, "hwm_kb": hwm,
            "cpu_us_per_query": round(1e6 * cpu / len(urls), 1)}


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.read().decode()
    except OSError:
        return None


# ---- main -----------------------------------------------------------------------------------

def main():
    w = Path(tempfile.mkdtemp(prefix="soasync-monbench-", dir=TMP))
    procs = []
    try:
        zones = [f"z{i:06d}.bench." for i in range(ZONES)]
        say(f"generating {ZONES} zones in {w}")
        gen(w, zones)
        monitor_config(w, zones)
        shutil.copy(SOASYNC, w / "soasync")
        say("starting NSD (.1, .3) and Knot (.2)")
        procs.append(Proc("nsd", ["nsd", "-d", "-c", str(w / "nsd" / "nsd.conf")],
                          w / "nsd" / "stdout.log"))
        procs.append(Proc("knot", ["knotd", "-c", str(w / "knot" / "knot.conf")],
                          w / "knot" / "stdout.log"))
        wait_served(zones, SERIAL)
        env = dict(os.environ, SOASYNC_STATS="1")
        t0 = time.monotonic()
        mon = Proc("monitor", [str(w / "soasync"), "monitor", "--config", str(w / "monitor.yaml")],
                   w / "monitor.log", env)
        procs.append(mon)
        results = {"zones": ZONES, "addresses": 3, "interval_s": INTERVAL,
                   "expected_qps": round(ZONES * 3 / INTERVAL)}
        harness.wait_until(lambda: "zones every" in (w / "monitor.log").read_text(), 600,
                           interval=0.2, what="monitor started")
        results["config_load_s"] = round(time.monotonic() - t0, 1)
        say(f"monitor up after {results['config_load_s']} s (config of {ZONES} zones read); "
            f"first round: {INTERVAL:.0f} s")
        first = Window("first round (every zone's serial recorded)", mon, w)
        time.sleep(INTERVAL + 5)
        results["first"] = first.end()
        steady = Window(f"steady state ({STEADY} intervals, nothing changes)", mon, w)
        time.sleep(STEADY * INTERVAL)
        results["steady"] = steady.end()
        say(f"changing {CHANGES} zones (serial {SERIAL} -> {SERIAL + 1})")
        changed = zones[:: max(1, ZONES // CHANGES)][:CHANGES]
        change = Window(f"{len(changed)} zones changed (one interval)", mon, w)
        bump(w, changed, SERIAL + 1, str(w / "knot" / "knot.sock"))
        time.sleep(INTERVAL + 5)
        results["change"] = change.end()
        results["changed_zones"] = len(changed)
        mon.stop()
        log = (w / "monitor.log").read_text()
        stats = re.search(r"stats: queries (\d+) checks (\d+) query_errors (\d+) \(timeout (\d+)\)",
                          log)
        results["queries"], results["checks"], results["query_errors"], results["timeouts"] = \
            [int(x) for x in stats.groups()]
        hist = subprocess.run([str(w / "soasync"), "history", "--db", str(w / "monitor.db"),
                               "--json", "--since", "1h", changed[0]],
                              capture_output=True, text=True)
        results["history_sample"] = hist.stdout.strip().splitlines()[-1:]
        results["blackbox"] = blackbox(w, zones[:BB_ZONES])
        report(results)
        (w / "results.json").write_text(json.dumps(results, indent=1))
    finally:
        for p in reversed(procs):
            p.stop()
        if KEEP:
            say(f"work directory kept: {w}")
        else:
            shutil.rmtree(w, ignore_errors=True)


def report(r):
    st = r["steady"]
    qps = r["expected_qps"]
    mon_us = 1e6 * st["cpu_s"] / (qps * st["seconds"])
    bb = r["blackbox"]
    ch = r["change"]
    print(json.dumps(r, indent=1))
    print()
    print(f"soasync monitor: {r['zones']} zones x {r['addresses']} addresses every "
          f"{r['interval_s']:.0f} s = {qps} queries/s")
    print(f"  steady state: {st['cpu_pct']}% of one core, {mon_us:.1f} us CPU per query, "
          f"RSS {st['rss_kb'] / 1024:.0f} MiB ({1024 * st['rss_kb'] / r['zones']:.0f} bytes "
          f"per zone), peak {st['hwm_kb'] / 1024:.0f} MiB, database +{st['db_growth_bytes']} "
          f"bytes in {st['seconds']} s")
    print(f"  first round: {r['first']['cpu_pct']}% of one core, database "
          f"{r['first']['db_bytes'] / 1e6:.1f} MB after it "
          f"({r['first']['db_bytes'] / r['zones']:.0f} bytes per zone)")
    print(f"  {r['changed_zones']} changes: database +{ch['db_growth_bytes'] / 1e6:.2f} MB "
          f"({ch['db_growth_bytes'] / max(1, r['changed_zones']):.0f} bytes per change), "
          f"{ch['cpu_pct']}% of one core")
    print(f"  totals: {r['queries']} queries, {r['checks']} checks, {r['query_errors']} "
          f"without answer ({r['timeouts']} time-outs)")
    print(f"blackbox exporter: {bb['probes']} probes ({bb['successful']} successful) in "
          f"{bb['seconds']} s, {bb['cpu_us_per_query']} us CPU per query, RSS "
          f"{bb['rss_kb'] / 1024:.0f} MiB")
    print(f"CPU per query: soasync monitor {mon_us:.1f} us, blackbox exporter "
          f"{bb['cpu_us_per_query']} us ({bb['cpu_us_per_query'] / mon_us:.0f}x)")


if __name__ == "__main__":
    main()
