#!/usr/bin/python3
"""Is ``soasync check``'s output the same before and after a change?

A stand-in for the soasync binary: every ``check`` run is made twice, first
with the baseline binary ($SOASYNC_BASE), then with the new one
($SOASYNC_NEW), and the two outputs (stdout, stderr, exit status) are
compared after taking out what may differ: timings (RTT, ``rtt_ms``,
``rtt_max``), the EDNS EXPIRE count-down (``expire_s``, "in N s"), and the
information a change adds on purpose (listed in ALLOWED below, each counted
when it occurs). The new binary's output is what the caller gets, so a test
suite runs unchanged on top of it::

    SOASYNC_BASE=/tmp/base/soasync SOASYNC_NEW=$PWD/build/soasync \\
    SOASYNC_SAME_LOG=/tmp/same.jsonl SOASYNC=$PWD/tests/system/same_output.py \\
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/system/test_check.py

    /usr/bin/python3 tests/system/same_output.py --report /tmp/same.jsonl

Each comparison is one JSON line in $SOASYNC_SAME_LOG: the arguments,
whether the outputs agree, the differences and the allowed changes seen.
Other commands (and runs on a terminal, where color depends on it) go to the
new binary alone: they may change state (notify, serial bump) and must not
run twice.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Optional

RTT_TEXT = re.compile(r"\b\d+\.\d ms\b")
RTT_MAX = re.compile(r"rtt_max=[0-9.]+ms")
EXPIRE_IN = re.compile(r"\bin \d+ s\b")
SPACES = re.compile(r" {2,}")

# What the change under test adds on purpose: (name, pattern on a table or
# plain-text line of the new output, replacement).
ALLOWED_TEXT = [
    ("table: which server is the primary and why",
     re.compile(r"(reference serial \d+ \([^)]*\))  primary: .*$"), r"\1"),
    ("table: a refused connection is conn-refused, not refused",
     re.compile(r"\bconn-refused\b"), "refused"),
]
# Keys the change adds to the JSON: (name, path).
ALLOWED_KEYS = [
    ("json: primary_why", ("primary_why",)),
    ("json: servers[].verdict", ("servers", "*", "verdict")),
    ("json: candidates[].verdict", ("candidates", "*", "verdict")),
    ("json: servers[].zonemd", ("servers", "*", "zonemd")),
    ("json: candidates[].zonemd", ("candidates", "*", "zonemd")),
    ("json: zonefile.zonemd", ("zonefile", "zonemd")),
]


def norm_text(line: str, allowed: Optional[dict]) -> str:
    if allowed is not None:
        for name, pat, repl in ALLOWED_TEXT:
            line, n = pat.subn(repl, line)
            if n:
                allowed[name] = allowed.get(name, 0) + n
    line = RTT_TEXT.sub("RTT", line)
    line = RTT_MAX.sub("rtt_max=RTT", line)
    line = EXPIRE_IN.sub("in N s", line)
    return SPACES.sub("  ", line.rstrip())


def drop(obj, path: tuple) -> int:
    """Remove the key at path ('*' for every list item); how many were removed."""
    if not path:
        return 0
    head, rest = path[0], path[1:]
    if head == "*":
        return sum(drop(x, rest) for x in obj) if isinstance(obj, list) else 0
    if not isinstance(obj, dict) or head not in obj:
        return 0
    if not rest:
        del obj[head]
        return 1
    return drop(obj[head], rest)


def norm_json(obj, allowed: Optional[dict]):
    if allowed is not None:
        for name, path in ALLOWED_KEYS:
            n = drop(obj, path)
            if n:
                allowed[name] = allowed.get(name, 0) + n

    def walk(x):
        if isinstance(x, dict):
            for k in list(x):
                if k in ("rtt_ms", "expire_s"):
                    x[k] = "T" if x[k] is not None else None
                else:
                    x[k] = walk(x[k])
            return x
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, str):
            return EXPIRE_IN.sub("in N s", x)
        return x

    return walk(obj)


def norm_output(text: str, allowed: Optional[dict]) -> list:
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.dumps(norm_json(json.loads(line), allowed), sort_keys=True))
                continue
            except ValueError:
                pass
        out.append(norm_text(line, allowed))
    return out


def compare(argv: list, stdin: Optional[bytes], base: str, new: str) -> tuple:
    runs = []
    for binary in (base, new):
        p = subprocess.run([binary] + argv, input=stdin, capture_output=True)
        runs.append(p)
    b, n = runs
    allowed: dict = {}
    diffs = []
    if b.returncode != n.returncode:
        diffs.append(f"exit status {b.returncode} -> {n.returncode}")
    for what, x, y in (("stdout", b.stdout, n.stdout), ("stderr", b.stderr, n.stderr)):
        xs = norm_output(x.decode(errors="replace"), None)
        ys = norm_output(y.decode(errors="replace"), allowed)
        if xs != ys:
            for i in range(max(len(xs), len(ys))):
                xl = xs[i] if i < len(xs) else "<none>"
                yl = ys[i] if i < len(ys) else "<none>"
                if xl != yl:
                    diffs.append(f"{what} line {i + 1}: {xl!r} -> {yl!r}")
    return n, diffs, allowed


def report(path: str) -> int:
    total = same = 0
    allowed: dict = {}
    bad = []
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            total += 1
            same += e["same"]
            for k, v in e["allowed"].items():
                allowed[k] = allowed.get(k, 0) + v
            if not e["same"]:
                bad.append(e)
    print(f"{total} check runs compared, {same} the same, {total - same} different")
    for k, v in sorted(allowed.items()):
        print(f"  allowed change: {k}: {v}")
    for e in bad:
        print("DIFFERENT: soasync " + " ".join(e["argv"]))
        for d in e["diffs"][:10]:
            print("    " + d)
    return 0 if not bad else 1


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        return report(sys.argv[2])
    here = os.path.dirname(os.path.abspath(__file__))
    new = os.environ.get("SOASYNC_NEW", os.path.join(here, "..", "..", "build", "soasync"))
    base = os.environ.get("SOASYNC_BASE")
    argv = sys.argv[1:]
    if not argv or argv[0] != "check" or "--help" in argv or "-h" in argv \
            or os.isatty(1) or not base:
        os.execv(new, [new] + argv)
    stdin = None if os.isatty(0) else sys.stdin.buffer.read()
    n, diffs, allowed = compare(argv, stdin, base, new)
    log = os.environ.get("SOASYNC_SAME_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"argv": argv, "same": not diffs, "diffs": diffs,
                                "allowed": allowed}) + "\n")
    sys.stdout.buffer.write(n.stdout)
    sys.stderr.buffer.write(n.stderr)
    return n.returncode


if __name__ == "__main__":
    sys.exit(main())
