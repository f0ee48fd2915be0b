#!/usr/bin/python3
"""The web faces on a real monitor watching a real fleet (bench/web.sh, REAL=1).

Starts the fleet of bench/check.sh (NSD, Knot and BIND serving ZONES zones,
HOLD mode), a `soasync monitor` watching every zone on the three servers
(interval INTERVAL), waits until every zone was checked, then measures
/metrics and /api/v1/zones (time, size) and whether the checks feel the
scrapes: the monitor's own check-duration histogram and checks per second
in a quiet window and in a window of back-to-back scrapes, plus the lateness
of zones' last checks. Stops everything it started.

    ZONES=10000 INTERVAL=60s /usr/bin/python3 bench/web_real.py
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOASYNC = os.environ.get("SOASYNC", str(REPO / "build" / "soasync"))
ZONES = int(os.environ.get("ZONES", "10000"))
INTERVAL = os.environ.get("INTERVAL", "60s")
WINDOW = float(os.environ.get("WINDOW", "30"))
NET = os.environ.get("NET", "127.55.0")
PORT = int(os.environ.get("HTTP_PORT", "19154"))
BASE = f"http://127.0.0.1:{PORT}"


def say(*a):
    print("web_real:", *a, file=sys.stderr, flush=True)


def get(path, timeout=120):
    t0 = time.monotonic()
    with urllib.request.urlopen(BASE + path, timeout=timeout) as r:
        body = r.read()
    return time.monotonic() - t0, body


def metric(text: bytes, name: str) -> float:
    m = re.search(rb"^" + re.escape(name.encode()) + rb"(?:\{[^}]*\})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else float("nan")


def snapshot():
    t, body = get("/metrics")
    return {"t": time.monotonic(), "checks": metric(body, "soasync_checks_total"),
            "dur_sum": metric(body, "soasync_check_duration_seconds_sum"),
            "dur_count": metric(body, "soasync_check_duration_seconds_count"),
            "scrape_s": t, "bytes": len(body)}


def window(a, b):
    n = b["dur_count"] - a["dur_count"]
    return {"checks_per_s": (b["checks"] - a["checks"]) / (b["t"] - a["t"]),
            "mean_check_ms": 1000 * (b["dur_sum"] - a["dur_sum"]) / n if n else float("nan")}


def stop(proc, timeout=20):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    work = Path(tempfile.mkdtemp(prefix="soasync-web-real.", dir="/dev/shm"))
    fleet_log = open(work / "fleet.log", "w+")
    fleet = subprocess.Popen(["bash", str(HERE / "check.sh")], stdout=fleet_log,
                             stderr=subprocess.STDOUT, start_new_session=True,
                             env={**os.environ, "HOLD": "100000", "ZONES": str(ZONES),
                                  "NET": NET, "STALE": "10"})
    mon = None
    try:
        deadline = time.monotonic() + 900
        while True:
            fleet_log.seek(0)
            text = fleet_log.read()
            m = re.search(r"work directory (\S+) \(zones.txt", text)
            if m:
                fw = Path(m.group(1))
                break
            if fleet.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"web_real: the fleet did not start:\n{text[-3000:]}")
            time.sleep(1)
        zones = [z for z in (fw / "zones.txt").read_text().split() if z]
        say(f"fleet up: {len(zones)} zones on {NET}.1-3")
        cfg = work / "monitor.yml"
        ns = f"[{NET}.1, {NET}.2, {NET}.3]"
        with open(cfg, "w") as f:
            f.write(f"database: {work / 'monitor.db'}\ninterval: {INTERVAL}\n"
                    f"listen:\n  http: 127.0.0.1:{PORT}\nsource: [{NET}.250]\nzones:\n")
            for z in zones:
                f.write(f"  - name: {z}\n    primary: {NET}.1\n    ns: {ns}\n")
        mon = subprocess.Popen([SOASYNC, "monitor", "--config", str(cfg)],
                               stdout=subprocess.DEVNULL, stderr=open(work / "monitor.log", "w"),
                               start_new_session=True)
        t0 = time.monotonic()
        while True:
            try:
                s = snapshot()
                if s["checks"] >= len(zones):
                    break
            except OSError:
                pass
            if mon.poll() is not None:
                raise SystemExit(f"web_real: the monitor exited: {(work / 'monitor.log').read_text()[-2000:]}")
            time.sleep(2)
        say(f"every zone checked once after {time.monotonic() - t0:.0f} s")
        time.sleep(5)
        a = snapshot()
        time.sleep(WINDOW)                                 # quiet window
        b = snapshot()
        scrapes = {"/metrics": [], "/api/v1/zones": []}
        sizes = {}
        end = time.monotonic() + WINDOW                   # scrapes back to back
        while time.monotonic() < end:
            for p in scrapes:
                t, body = get(p)
                scrapes[p].append(t)
                sizes[p] = len(body)
        c = snapshot()
        stamp = time.time()
        late = []
        for z in zones[::max(1, len(zones) // 200)]:              # 200 zones' last check
            _, body = get(f"/api/v1/zones/{z}?last=1")
            lc = json.loads(body)["last_check"]
            if lc:
                tt = time.mktime(time.strptime(lc[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
                late.append(stamp - tt)
        quiet, busy = window(a, b), window(b, c)
        out = {
            "zones": len(zones), "interval": INTERVAL,
            "metrics_bytes": sizes["/metrics"], "api_bytes": sizes["/api/v1/zones"],
            "metrics_s": sorted(scrapes["/metrics"]), "api_s": sorted(scrapes["/api/v1/zones"]),
            "quiet": quiet, "scraping": busy,
            "oldest_last_check_s": max(late) if late else None,
        }
        print(json.dumps(out, indent=1))
        med = lambda v: v[len(v) // 2]
        say(f"{len(zones)} zones: /metrics {sizes['/metrics'] / 1e6:.1f} MB median "
            f"{med(out['metrics_s']):.3f} s; /api/v1/zones {sizes['/api/v1/zones'] / 1e6:.1f} MB "
            f"median {med(out['api_s']):.3f} s; checks/s quiet {quiet['checks_per_s']:.0f} "
            f"scraping {busy['checks_per_s']:.0f}; mean check quiet {quiet['mean_check_ms']:.1f} "
            f"ms scraping {busy['mean_check_ms']:.1f} ms; oldest last check "
            f"{out['oldest_last_check_s']:.0f} s (interval {INTERVAL})")
    finally:
        if mon is not None:
            stop(mon)
        stop(fleet, 60)
        say(f"work directory {work} (monitor.log, fleet.log)")


if __name__ == "__main__":
    main()
