#!/usr/bin/python3
"""Runs the same command lines with two soasync binaries against the same real
fleets and compares what they print, apart from timings.

    /usr/bin/python3 tests/system/compare_outputs.py OLD_BINARY NEW_BINARY [-v]

Refactorings that promise "behaviour does not change" are checked with it:
stdout, stderr and the exit status of every command line must be the same
byte for byte once round-trip times, durations and timestamps are masked.
The fleets are the harness's scenarios (needs root, like the system tests):

* behind: a BIND primary, an NSD laggard (not notified) and a Knot secondary
  in sync, under a real root/test. delegation with an unbound resolver;
* refused: a Knot primary refusing transfers to an NSD secondary;
* mixed: a zone whose servers answer REFUSED, time out or do not exist.

Only commands that do not change the fleet run (no notify, no doctor --fix),
each binary right after the other, so both see the same state. Exit 0 when
every line matched; otherwise the differences are printed and it exits 1.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402

# JSON keys whose values are timings or clocks (EDNS EXPIRE counts down).
TIME_KEYS = re.compile(r"(rtt|duration|elapsed|took|_ms$|_us$|^time$|waited|at$|^expire_s$)")
# Timings in text: 12ms, 0.3 ms, 1.25s, 850us.
TIME_TEXT = re.compile(r"\b\d+(\.\d+)?\s?(ms|us|µs|s)\b")


def mask_json(v):
    if isinstance(v, dict):
        return {k: ("<T>" if TIME_KEYS.search(k) else mask_json(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [mask_json(x) for x in v]
    return v


def mask(text: str) -> str:
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("{") or s.startswith("["):
            try:
                out.append(json.dumps(mask_json(json.loads(s)), sort_keys=True))
                continue
            except ValueError:
                pass
        # A timing's width moves the table's columns: compare them unaligned.
        out.append(re.sub(r"  +", "  ", TIME_TEXT.sub("<T>", line)))
    return "\n".join(out)


#: BIND answers CHAOS version.bind at most about 3 times a second per /24
#: (real-servers.md); the commands ask once per run, so runs are paced to stay
#: under that and both binaries learn the same vendors.
PACE = 0.5
_last_start = [0.0]


def run(binary: str, args: list, cwd: str) -> tuple:
    gap = _last_start[0] + PACE - time.monotonic()
    if gap > 0:
        time.sleep(gap)
    _last_start[0] = time.monotonic()
    p = subprocess.run([binary] + args, capture_output=True, text=True, timeout=120, cwd=cwd,
                       env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "SOASYNC_NOW": "1796000000"})
    return p.returncode, mask(p.stdout), mask(p.stderr)


def compare(old: str, new: str, label: str, args: list, cwd: str, verbose: bool) -> bool:
    a = run(old, args, cwd)
    b = run(new, args, cwd)
    if a == b:
        if verbose:
            print(f"same  {label}: soasync {' '.join(args)}")
        return True
    print(f"DIFF  {label}: soasync {' '.join(args)}")
    if a[0] != b[0]:
        print(f"  exit status {a[0]} -> {b[0]}")
    for name, x, y in (("stdout", a[1], b[1]), ("stderr", a[2], b[2])):
        if x != y:
            for d in difflib.unified_diff(x.splitlines(), y.splitlines(), f"old {name}",
                                          f"new {name}", lineterm="", n=1):
                print("  " + d)
    return False


def behind_lines(f: harness.Fleet, zs) -> list:
    z, r, src = zs.zone, f.resolver.addr, f.checker_addr
    p = zs.primary.addr
    ns = ",".join(s.addr for s in zs.servers)
    net = ["--resolver", r, "--source", src]
    zf = str(zs.primary.zone_file(z))
    return [
        ["check", z] + net,
        ["check", "--json", z] + net,
        ["check", "--nagios", z] + net,
        ["check", "--content", z] + net,
        ["check", "--content", "--json", z] + net,
        ["check", "--zonefile", zf, z] + net,
        ["check", "--ns", ns, "--source", src, z],
        ["check", "--ns", ns, "--primary", p, "--source", src, "--json", z],
        ["check", "--expect", f"www.{z} A 192.0.2.1", z] + net,
        ["xfr-check", z] + net,
        ["xfr-check", "--json", z] + net,
        ["wait", "--serial", str(zs.notes["old"]), "--timeout", "5", z] + net,
        ["wait", "--json", "--serial", str(zs.notes["old"]), "--timeout", "5", z] + net,
        ["doctor", "--json", "--notify-wait", "1", "--timeout", "1", z] + net,
        ["diff", zf, f"@{p}", "--source", src],
        ["diff", "--json", zf, f"@{p}", "--source", src],
        ["check", "nonexistent.test."] + net,
        ["check", "--bogus-option", z],
        ["serial", "compare", "2026010100", "2026010101"],
        ["serial", "plan", "2026112501", "2026010100"],
    ]


def refused_lines(f: harness.Fleet, zs) -> list:
    z, src = zs.zone, f.checker_addr
    ns = ",".join(s.addr for s in zs.servers)
    base = ["--ns", ns, "--primary", zs.primary.addr, "--source", src]
    return [
        ["check", "--content", z] + base,
        ["check", "--content", "--json", z] + base,
        ["xfr-check", z] + base,
        ["xfr-check", "--json", z] + base,
    ]


def mixed_lines(f: harness.Fleet, zs) -> list:
    z, src = zs.zone, f.checker_addr
    ns = ",".join([s.addr for s in zs.servers] + [f.closed_address(), f.silent_address()])
    base = ["--ns", ns, "--source", src, "--query-timeout", "300", "--tries", "2"]
    return [
        ["check", z] + base,
        ["check", "--json", z] + base,
        ["check", "--nagios", z] + base,
        ["doctor", "--json", "--notify-wait", "1", "--timeout", "1", z] + base,
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="soasync-compare.") as tmp:
        with harness.Fleet(Path(tmp) / "behind") as f:
            f.enable_delegation()
            zs = harness.scenario_behind(f)
            for args in behind_lines(f, zs):
                ok &= compare(a.old, a.new, "behind", args, tmp, a.verbose)
        with harness.Fleet(Path(tmp) / "refused") as f:
            zs = harness.scenario_refused_transfer(f)
            for args in refused_lines(f, zs):
                ok &= compare(a.old, a.new, "refused", args, tmp, a.verbose)
        with harness.Fleet(Path(tmp) / "mixed") as f:
            zs = harness.standard_zone(f)
            for args in mixed_lines(f, zs):
                ok &= compare(a.old, a.new, "mixed", args, tmp, a.verbose)
    print("every output the same" if ok else "outputs differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
