#!/usr/bin/python3
"""Check soasync's output of the bench run against what the fleet serves.

  verify.py json   WORKDIR FILE   JSON Lines of `soasync check --json`
  verify.py nagios WORKDIR FILE   output of `soasync check --nagios`

Expected (from WORKDIR/expect.json, stale.txt, zones.txt): one object per
zone; the stale zones critical with exactly one finding `serial-behind`
naming the stale server; every other zone ok; no warning or critical
finding anywhere else. Prints a one-line summary (and every problem, up to
20); exits 1 when anything differs.
"""
import json
import os
import re
import sys
from collections import Counter


def load(work):
    with open(os.path.join(work, "zones.txt")) as f:
        zones = [l.strip() for l in f if l.strip()]
    with open(os.path.join(work, "stale.txt")) as f:
        stale = [l.strip() for l in f if l.strip()]
    with open(os.path.join(work, "expect.json")) as f:
        exp = json.load(f)
    stale_addr = [s["addr"] for s in exp["servers"].values() if s["stale"]]
    vendors = {s["addr"]: name for name, s in exp["servers"].items()}
    return zones, stale, stale_addr, vendors, exp


def addr_of(text):
    """'127.55.0.2', '127.55.0.2#53' or '127.55.0.2@53' -> '127.55.0.2'."""
    return re.split(r"[#@]", text)[0]


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


def verify_json(work, path):
    zones, stale, stale_addr, vendors, exp = load(work)
    stale_set = set(stale)
    problems, seen, order = [], set(), []
    other = Counter()
    vendor_seen = {}
    rtts = {}
    nlines = stale_ok = clean_ok = 0
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            nlines += 1
            try:
                o = json.loads(line)
            except ValueError as ex:
                problems.append("line %d is not JSON: %s" % (lineno, ex))
                continue
            z = o.get("zone")
            order.append(z)
            if z in seen:
                problems.append("%s reported twice" % z)
            seen.add(z)
            servers = o.get("servers", [])
            if len(servers) != 3:
                problems.append("%s: %d servers, expected 3" % (z, len(servers)))
            for s in servers:
                a = s.get("address")
                vendor_seen.setdefault(a, Counter())[s.get("vendor")] += 1
                if s.get("rtt_ms") is not None:
                    rtts.setdefault(a, []).append(s["rtt_ms"])
                if s.get("serial") is None:
                    problems.append("%s: no serial from %s (%s)" % (z, a, s.get("error")))
                if s.get("tcp"):
                    other["tcp-fallback"] += 1
            findings = o.get("findings", [])
            serious = [x for x in findings if x.get("severity") in ("warning", "critical", "unknown")]
            for x in findings:
                if x.get("severity") == "info":
                    other["info:" + x.get("code", "?")] += 1
            if z in stale_set:
                ok = (o.get("status") == "critical" and len(serious) == 1
                      and serious[0].get("code") == "serial-behind"
                      and serious[0].get("severity") == "critical"
                      and [addr_of(a) for a in serious[0].get("servers", [])] == stale_addr
                      and o.get("reference_serial") == exp["serial"])
                stale_ok += ok
                if not ok:
                    problems.append("%s (stale on %s): got status %s, findings %s" % (
                        z, ",".join(stale_addr), o.get("status"),
                        [(x.get("code"), x.get("severity"), x.get("servers")) for x in findings]))
            else:
                if o.get("status") == "ok" and not serious:
                    clean_ok += 1
                else:
                    problems.append("%s: expected ok, got %s, findings %s" % (
                        z, o.get("status"),
                        [(x.get("code"), x.get("severity"), x.get("servers")) for x in findings]))
    missing = [z for z in zones if z not in seen]
    extra = [z for z in seen if z not in set(zones)]
    if nlines != len(zones):
        problems.insert(0, "%d lines, expected %d" % (nlines, len(zones)))
    if missing:
        problems.append("%d zones missing, e.g. %s" % (len(missing), missing[:3]))
    if extra:
        problems.append("%d unexpected zones, e.g. %s" % (len(extra), extra[:3]))
    for a, c in vendor_seen.items():
        want = vendors.get(a)
        if set(c) != {want}:
            problems.append("vendor of %s: %s, expected %s" % (a, dict(c), want))
    in_order = order == zones
    rtt = "; ".join("%s p50 %.2f p99 %.2f max %.2f ms" % (
        vendors.get(a, a), pct(v, 50), pct(v, 99), max(v)) for a, v in sorted(rtts.items()))
    summary = ("json: %d lines, %d/%d stale zones found as serial-behind on %s, %d ok zones "
               "clean, other findings: %s, output in input order: %s; rtt %s" % (
                   nlines, stale_ok, len(stale), ",".join(stale_addr), clean_ok,
                   dict(other) or "none", "yes" if in_order else "no", rtt))
    return summary, problems


def verify_nagios(work, path):
    zones, stale, stale_addr, _vendors, _exp = load(work)
    with open(path) as f:
        lines = f.read().splitlines()
    problems = []
    if not lines:
        return "nagios: empty output", ["empty output"]
    first = lines[0]
    want_state = "CRITICAL" if stale else "OK"
    if not first.startswith("SOA %s - " % want_state):
        problems.append("first line: %r" % first[:120])
    perf = dict(re.findall(r"(\w+)=([0-9.]+)", first.split("|", 1)[1] if "|" in first else ""))
    n, s = len(zones), len(stale)
    want = {"zones": n, "ok": n - s, "warning": 0, "critical": s, "unknown": 0,
            "servers": 3 * n, "answered": 3 * n}
    for k, v in want.items():
        if int(float(perf.get(k, -1))) != v:
            problems.append("perfdata %s=%s, expected %d" % (k, perf.get(k), v))
    detail = lines[1:]
    flagged = []
    for l in detail:
        m = re.match(r"(\S+) (\w+) ([\w-]+): (.*)", l)
        if not m or m.group(2) != "critical" or m.group(3) != "serial-behind":
            problems.append("unexpected line: %r" % l[:120])
            continue
        flagged.append(m.group(1))
        if stale_addr and stale_addr[0] not in m.group(4):
            problems.append("%s: stale server not named: %r" % (m.group(1), l[:120]))
    if sorted(flagged) != sorted(stale):
        problems.append("flagged %d zones, expected the %d stale ones" % (len(flagged), s))
    summary = "nagios: %s | %s; %d detail lines" % (
        first.split(" - ")[0], " ".join("%s=%s" % kv for kv in perf.items()), len(detail))
    return summary, problems


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("json", "nagios"):
        sys.exit(__doc__)
    fn = verify_json if sys.argv[1] == "json" else verify_nagios
    summary, problems = fn(sys.argv[2], sys.argv[3])
    print(summary)
    for p in problems[:20]:
        print("  PROBLEM: " + p)
    if len(problems) > 20:
        print("  ... %d more problems" % (len(problems) - 20))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
