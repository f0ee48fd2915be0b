#!/usr/bin/python3
"""Is ``soasync check``'s output the same before and after the check-model
change, apart from what that change adds on purpose?

What the change adds (ALLOWED below; each occurrence is counted): the table's
"primary: ..." after the reference (which server is the primary, and why),
``conn-refused`` for a refused connection where the RCODE column said
``refused``, and the JSON keys ``primary_why``, ``servers[].verdict`` and the
``zonemd`` verdicts. Timings are masked as tests/system/compare_outputs.py
masks them. Two ways to run it:

1. On compare_outputs.py's fleets and command lines::

       /usr/bin/python3 tests/system/same_output.py --scenarios OLD_BINARY NEW_BINARY

2. Under a whole test file, as the soasync binary: every ``check`` run is
   made with the old binary ($SOASYNC_BASE), then the new one ($SOASYNC_NEW),
   the outputs compared, one JSON line per run appended to $SOASYNC_SAME_LOG;
   the caller gets the new binary's output, so the tests run unchanged::

       SOASYNC_BASE=OLD SOASYNC_NEW=$PWD/build/soasync SOASYNC_SAME_LOG=/tmp/same.jsonl \\
       SOASYNC=$PWD/tests/system/same_output.py \\
       /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/system/test_check.py
       /usr/bin/python3 tests/system/same_output.py --report /tmp/same.jsonl

   Other commands (and runs on a terminal, where color depends on it) go to
   the new binary alone: they may change state and must not run twice.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import compare_outputs  # noqa: E402

# What the change adds to the table: (name, pattern, replacement).
ALLOWED_TEXT = [
    ("table: which server is the primary and why",
     re.compile(r"(reference serial \d+ \([^)]*\))  primary: .*$"), r"\1"),
    ("table: a refused connection is conn-refused, not refused",
     re.compile(r"\bconn-refused\b"), "refused"),
]
# Keys it adds to the JSON: (name, path; "*" for every item of a list).
ALLOWED_KEYS = [
    ("json: primary_why", ("primary_why",)),
    ("json: servers[].verdict", ("servers", "*", "verdict")),
    ("json: candidates[].verdict", ("candidates", "*", "verdict")),
    ("json: servers[].zonemd", ("servers", "*", "zonemd")),
    ("json: candidates[].zonemd", ("candidates", "*", "zonemd")),
    ("json: zonefile.zonemd", ("zonefile", "zonemd")),
]


def drop(obj, path: tuple) -> int:
    """Remove the key at path; how many were removed."""
    head, rest = path[0], path[1:]
    if head == "*":
        return sum(drop(x, rest) for x in obj) if isinstance(obj, list) else 0
    if not isinstance(obj, dict) or head not in obj:
        return 0
    if not rest:
        del obj[head]
        return 1
    return drop(obj[head], rest)


def strip_allowed(text: str, seen: dict) -> str:
    """text without what the change adds on purpose (counted in seen)."""
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                for name, path in ALLOWED_KEYS:
                    n = drop(obj, path)
                    if n:
                        seen[name] = seen.get(name, 0) + n
                out.append(json.dumps(obj, sort_keys=True))
                continue
        for name, pat, repl in ALLOWED_TEXT:
            line, n = pat.subn(repl, line)
            if n:
                seen[name] = seen.get(name, 0) + n
        out.append(line)
    return "\n".join(out)


def scenarios(old: str, new: str) -> int:
    """compare_outputs.py's fleets and lines, the new output stripped of
    what the change adds."""
    seen: dict = {}
    plain = compare_outputs.run

    def run(binary, args, cwd):
        rc, out, err = plain(binary, args, cwd)
        if binary == new:
            out, err = strip_allowed(out, seen), strip_allowed(err, seen)
        else:
            out, err = strip_allowed(out, {}), strip_allowed(err, {})
        return rc, out, err

    compare_outputs.run = run
    sys.argv = [sys.argv[0], old, new, "-v"]
    ret = compare_outputs.main()
    for name, n in sorted(seen.items()):
        print(f"  allowed change: {name}: {n}")
    return ret


def wrapped(argv: list, base: str, new: str) -> int:
    """Both binaries, the old one first ($SOASYNC_SAME_FIRST=new: the new one;
    a difference that follows the order is the servers', not the binaries'),
    paced as compare_outputs.py paces them (BIND answers CHAOS version.bind
    about 3 times a second per /24)."""
    stdin = None if os.isatty(0) else sys.stdin.buffer.read()
    order = (new, base) if os.environ.get("SOASYNC_SAME_FIRST") == "new" else (base, new)
    runs = {}
    for i, b in enumerate(order):
        if i:
            time.sleep(compare_outputs.PACE)
        runs[b] = subprocess.run([b] + argv, input=stdin, capture_output=True)
    seen: dict = {}
    old_n, new_n = runs[base], runs[new]
    diffs = []
    if old_n.returncode != new_n.returncode:
        diffs.append(f"exit status {old_n.returncode} -> {new_n.returncode}")
    for what in ("stdout", "stderr"):
        x = strip_allowed(compare_outputs.mask(getattr(old_n, what).decode(errors="replace")), {})
        y = strip_allowed(compare_outputs.mask(getattr(new_n, what).decode(errors="replace")), seen)
        xs, ys = x.splitlines(), y.splitlines()
        for i in range(max(len(xs), len(ys))):
            a = xs[i] if i < len(xs) else "<none>"
            b = ys[i] if i < len(ys) else "<none>"
            if a != b:
                diffs.append(f"{what} line {i + 1}: {a!r} -> {b!r}")
    log = os.environ.get("SOASYNC_SAME_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"argv": argv, "same": not diffs, "diffs": diffs,
                                "allowed": seen, "first": "new" if order[0] == new else "old"})
                    + "\n")
    sys.stdout.buffer.write(new_n.stdout)
    sys.stderr.buffer.write(new_n.stderr)
    return new_n.returncode


def report(path: str) -> int:
    total = same = 0
    seen: dict = {}
    bad = []
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            total += 1
            same += e["same"]
            for k, v in e["allowed"].items():
                seen[k] = seen.get(k, 0) + v
            if not e["same"]:
                bad.append(e)
    print(f"{total} check runs compared, {same} the same, {total - same} different")
    for k, v in sorted(seen.items()):
        print(f"  allowed change: {k}: {v}")
    for e in bad:
        print("DIFFERENT: soasync " + " ".join(e["argv"]))
        for d in e["diffs"][:10]:
            print("    " + d[:2000])
    return 0 if not bad else 1


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        return report(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "--scenarios":
        return scenarios(sys.argv[2], sys.argv[3])
    new = os.environ.get("SOASYNC_NEW", str(HERE.parent.parent / "build" / "soasync"))
    base = os.environ.get("SOASYNC_BASE")
    argv = sys.argv[1:]
    if not argv or argv[0] != "check" or "--help" in argv or "-h" in argv \
            or os.isatty(1) or not base:
        os.execv(new, [new] + argv)
    return wrapped(argv, base, new)


if __name__ == "__main__":
    sys.exit(main())
