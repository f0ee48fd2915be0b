#!/usr/bin/python3
"""Print the bench tables from the result files check.sh left in WORKDIR/results.

Usage: report.py WORKDIR ZONES STALE_SERVER NCPU

Exits 1 when a soasync run had the wrong exit status (2, critical, is
expected: some zones are stale on purpose).
"""
import datetime
import glob
import json
import os
import re
import sys


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def kv(text):
    return dict(re.findall(r"(\w+)=(\S+)", text))


def hf(path):
    """hyperfine export -> {name: result}."""
    try:
        with open(path) as f:
            return {r["command"]: r for r in json.load(f)["results"]}
    except (OSError, ValueError, KeyError):
        return {}


def gnu_time(path):
    t = read(path)
    out = {}
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", t)
    out["rss_kb"] = int(m.group(1)) if m else None
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", t)
    out["wall"] = (int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))) if m else None
    m = re.search(r"User time \(seconds\): ([\d.]+)", t)
    out["user"] = float(m.group(1)) if m else None
    m = re.search(r"System time \(seconds\): ([\d.]+)", t)
    out["sys"] = float(m.group(1)) if m else None
    m = re.search(r"exit=(\d+)", t)
    out["exit"] = int(m.group(1)) if m else None
    m = re.search(r"fleet_cpu (.*)", t)
    out["fleet"] = kv(m.group(1)) if m else {}
    return out


def stats(path):
    """Sum the SOASYNC_STATS lines of all runs."""
    tot, runs = {}, 0
    for line in read(path).splitlines():
        if "soasync: stats:" not in line:
            continue
        runs += 1
        for k, v in re.findall(r"(\w+) (\d+)", line.split("stats:", 1)[1]):
            tot[k] = tot.get(k, 0) + int(v)
    tot["runs"] = runs
    return tot


def dnsperf(path):
    t = read(path)
    out = {}
    for key, pat in (("qps", r"Queries per second:\s+([\d.]+)"),
                     ("sent", r"Queries sent:\s+(\d+)"),
                     ("completed", r"Queries completed:\s+(\d+)"),
                     ("lost", r"Queries lost:\s+(\d+)"),
                     ("lat", r"Average Latency \(s\):\s+([\d.]+)")):
        m = re.search(pat, t)
        out[key] = float(m.group(1)) if m else None
    return out


def udp_deltas(path):
    """{phase: {server: drops}} from the TAG-start / TAG-end lines of udp.txt."""
    marks = {}
    for line in read(path).splitlines():
        tag, _, rest = line.partition(" ")
        marks[tag] = {k: int(v) for k, v in kv(rest).items()}
    out = {}
    for tag, start in marks.items():
        if tag.endswith("-start") and tag[:-6] + "-end" in marks:
            end = marks[tag[:-6] + "-end"]
            out[tag[:-6]] = {k: end.get(k, 0) - v for k, v in start.items()}
    return out


def drops_txt(d):
    if not d:
        return "?"
    return "%d (%s)" % (sum(d.values()), ", ".join("%s %d" % kv for kv in d.items()))


def fmt_n(x):
    return "-" if x is None else "{:,.0f}".format(x)


def fmt_t(s, sd=None):
    if s is None:
        return "-"
    txt = ("%.0f s" % s) if s >= 100 else ("%.2f s" % s)
    return txt + (" ± %.2f" % sd if sd is not None else "")


def table(rows, head):
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in rows:
        print(line(r))


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    work, nz, stale_server, ncpu = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    R = os.path.join(work, "results")
    nq = 3 * nz
    bad = 0
    fleet = kv(read(os.path.join(R, "fleet.txt")))
    fleet_txt = read(os.path.join(R, "fleet.txt"))
    versions = dict(re.findall(r"version_(\w+)=(.*)", fleet_txt))

    print()
    print("# soasync check bench, %s, %s CPUs, %d zones x 3 servers = %d SOA queries" % (
        datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), ncpu, nz, nq))
    print()
    print("Fleet: NSD %s, Knot %s, BIND %s; one server thread each; rate limiting off." % (
        versions.get("nsd", "?"), versions.get("knot", "?"), versions.get("bind", "?")))
    print("Generating %d zone files and 3 configs: %s s; fleet start until every zone answers "
          "on every server: %s s (NSD %s s, Knot %s s, BIND %s s, started together)." % (
              nz, fleet.get("gen_s"), fleet.get("start_s"), fleet.get("ready_nsd_s"),
              fleet.get("ready_knot_s"), fleet.get("ready_bind_s")))
    print()

    # ---- main table -----------------------------------------------------------
    soa = hf(os.path.join(R, "hf-soasync.json"))
    j, n = soa.get("json"), soa.get("nagios")
    s_qps = nq / j["mean"] if j else None
    rows = []

    def row(name, wall, sd, qps):
        ratio = "%.2f" % (s_qps / qps) if (s_qps and qps) else "-"
        rows.append((name, fmt_t(wall, sd), fmt_n(qps), ratio))

    for r, label in ((j, "soasync check --json (3 servers at once)"),
                     (n, "soasync check --nagios")):
        if r:
            row(label, r["mean"], r["stddev"], nq / r["mean"])
    dl = hf(os.path.join(R, "hf-digloop.json"))
    dig_txt = kv(read(os.path.join(R, "dig.txt")))
    if dl:
        r = list(dl.values())[0]
        dn = int(dig_txt.get("dig_loop_queries", 0)) or 1
        wall = r["mean"] * nq / dn
        row("dig, one process per query (%d measured, extrapolated)" % dn, wall, None, nq / wall)
    df = hf(os.path.join(R, "hf-digf.json"))
    if df:
        wall = sum(r["mean"] for r in df.values())
        row("dig -f, one batch per server, 3 in sequence", wall, None, nq / wall)
    dp = {s: dnsperf(os.path.join(R, "dnsperf-%s.txt" % s)) for s in ("nsd", "knot", "bind")}
    for s, d in dp.items():
        if d["qps"]:
            row("dnsperf -> %s only (rate; time = {:,}/rate)".format(nq) % s, nq / d["qps"], None, d["qps"])
    agg = None
    if all(d["qps"] for d in dp.values()):
        wall = sum(nz / d["qps"] for d in dp.values())
        agg = nq / wall
        row("dnsperf, 3 servers one at a time ({:,} each)".format(nz), wall, None, agg)
    par = {s: dnsperf(os.path.join(R, "dnsperf-par-%s.txt" % s)) for s in ("nsd", "knot", "bind")}
    if all(d["qps"] for d in par.values()):
        tot = sum(d["qps"] for d in par.values())
        row("dnsperf x3 at once, sum of rates (info)", nq / tot, None, tot)
    print("## {:,} SOA answers (ratio = soasync --json q/s / tool q/s)".format(nq))
    print()
    table(rows, ("tool", "wall time", "q/s", "ratio"))
    print()
    print("Answers checked: dig loop %s of %s; dig -f nsd %s, knot %s, bind %s of %d each; "
          "dnsperf's rates are steady-state rates over %s-second runs, its times computed." % (
              dig_txt.get("dig_loop_answers"), dig_txt.get("dig_loop_queries"),
              dig_txt.get("digf_nsd_answers"), dig_txt.get("digf_knot_answers"),
              dig_txt.get("digf_bind_answers"), nz,
              re.search(r"-l (\d+)", read(os.path.join(R, "commands.txt"))).group(1)
              if re.search(r"-l (\d+)", read(os.path.join(R, "commands.txt"))) else "?"))
    if s_qps and agg:
        print("Target \"soasync at least half of dnsperf\": soasync %s q/s = %.0f%% of dnsperf's "
              "%s q/s (one server at a time) -> %s." % (
                  fmt_n(s_qps), 100 * s_qps / agg, fmt_n(agg), "met" if s_qps >= agg / 2 else "NOT met"))

    # ---- memory and CPU -------------------------------------------------------
    tj = gnu_time(os.path.join(R, "time-json.txt"))
    tn = gnu_time(os.path.join(R, "time-nagios.txt"))
    t1 = gnu_time(os.path.join(R, "time-rss-1.txt"))
    t1k = gnu_time(os.path.join(R, "time-rss-1000.txt"))
    if tj["rss_kb"]:
        slope = (tj["rss_kb"] - t1["rss_kb"]) / (nz - 1) if t1["rss_kb"] else None
        print("Memory: peak RSS %s KB with %d zones (--json; --nagios %s KB) = %.2f KB per zone "
              "all in; 1 zone %s KB, 1,000 zones %s KB: %.3f KB per additional zone." % (
                  fmt_n(tj["rss_kb"]), nz, fmt_n(tn["rss_kb"]), tj["rss_kb"] / nz,
                  fmt_n(t1["rss_kb"]), fmt_n(t1k["rss_kb"]), slope or float("nan")))
    for label, t, want in (("--json", tj, 2), ("--nagios", tn, 2)):
        if t["exit"] != want:
            print("PROBLEM: soasync %s exited %s, expected %d (critical: stale zones)" % (
                label, t["exit"], want))
            bad = 1
    for label, t in (("--json", tj), ("--nagios", tn)):
        if t["wall"]:
            f = t["fleet"]
            print("CPU in the %s run under time -v (%.2f s wall): soasync %.2f s user + %.2f s "
                  "sys (%.0f%% of one core); servers nsd %s s, knot %s s, bind %s s." % (
                      label, t["wall"], t["user"], t["sys"],
                      100 * (t["user"] + t["sys"]) / t["wall"],
                      f.get("nsd"), f.get("knot"), f.get("bind")))
    for s in ("nsd", "knot", "bind"):
        t = read(os.path.join(R, "dnsperf-%s.time" % s))
        m = re.search(r"dnsperf_cpu_s=([\d.]+)\+([\d.]+) elapsed=([\d.]+)", t)
        fl = kv(t.split("fleet_cpu", 1)[1]) if "fleet_cpu" in t else {}
        d = dp[s]
        if m:
            el = float(m.group(3))
            print("CPU during dnsperf -> %s (%.1f s): dnsperf %.0f%% of one core, %s %.0f%%; "
                  "%s queries, %s lost, average latency %.3f ms." % (
                      s, el, 100 * (float(m.group(1)) + float(m.group(2))) / el, s,
                      100 * float(fl.get(s, 0)) / el, fmt_n(d["sent"]), fmt_n(d["lost"]),
                      1000 * (d["lat"] or 0)))
    print()

    # ---- drops -----------------------------------------------------------------
    udp = udp_deltas(os.path.join(R, "udp.txt"))
    st = stats(os.path.join(R, "stats-json.txt"))
    stn = stats(os.path.join(R, "stats-nagios.txt"))
    c1 = stats(os.path.join(R, "stderr-json.txt"))
    print("Drops: soasync's engine over %d --json + %d --nagios hyperfine runs (warmups included): "
          "retransmits %d, timeouts %d, tcp %d; in the --json run under time -v: %d datagrams sent "
          "for %d queries. Datagrams dropped on the servers' sockets (receive buffer full): "
          "soasync runs %s; dnsperf runs %s." % (
              st.get("runs", 0), stn.get("runs", 0),
              st.get("retransmits", 0) + stn.get("retransmits", 0),
              st.get("timeouts", 0) + stn.get("timeouts", 0), st.get("tcp", 0) + stn.get("tcp", 0),
              c1.get("sent", 0), c1.get("queries", 0),
              drops_txt({k: udp.get("soasync", {}).get(k, 0) + udp.get("soasync-once", {}).get(k, 0)
                         for k in ("nsd", "knot", "bind")}),
              ", ".join("-> %s %d" % (s, sum(udp.get("dnsperf-%s" % s, {}).values()))
                        for s in ("nsd", "knot", "bind"))
              + ", x3 at once %d" % sum(udp.get("dnsperf-par", {}).values())))
    for s in ("nsd", "knot", "bind"):
        d = dp[s]
        if d["lost"]:
            print("dnsperf -> %s lost %d queries." % (s, d["lost"]))
    print()
    for tag in ("json", "nagios", "json-last", "nagios-last"):
        v = read(os.path.join(R, "verify-%s.txt" % tag)).strip()
        if v:
            print("Output check (%s run): %s" % (tag.replace("-last", ", last hyperfine"), v))
    print()

    # ---- sweep -----------------------------------------------------------------
    try:
        with open(os.path.join(R, "sweep.json")) as f:
            sw = json.load(f)
    except (OSError, ValueError):
        sw = None
    if sw:
        srows, best = [], None
        for opts in sw["settings"]:
            r = sw["results"][opts]
            default = " (default)" if opts in ("--per-server 100", "--max-inflight 1000") else ""
            srows.append((opts + default, fmt_t(r["median"]), fmt_t(r["mean"], r["sd"]),
                          fmt_n(nq / r["median"]),
                          "%d / %d" % (r["retransmits"], r["timeouts"]), str(r["drops"]),
                          "ok" if not r["problems"] else "WRONG"))
            if not r["problems"] and (best is None or r["median"] < best[1]):
                best = (opts, r["median"])
        print("## --per-server / --max-inflight (the other at its default), %d interleaved rounds"
              % sw["rounds"])
        print()
        table(srows, ("setting", "median", "mean ± sd", "q/s (median)",
                      "retransmits / timeouts", "server drops", "output"))
        print()
        if best:
            print("Fastest median: %s (%.2f s). The two default rows are the same setting: their "
                  "difference is the noise." % best)
        print()

    load = read(os.path.join(R, "load.txt")).strip()
    if load:
        print("Machine load (other users' processes share the 2 cores):")
        print(load)
        print()
    cmds = read(os.path.join(R, "commands.txt")).strip()
    if cmds:
        print("Commands:")
        print(cmds)
    sys.exit(bad)


if __name__ == "__main__":
    main()
