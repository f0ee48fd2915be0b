#!/usr/bin/python3
"""Time soasync check under several --per-server / --max-inflight settings,
interleaved: each round runs every setting once, in a shuffled order, so a
change in the machine's load (other users' processes) hits all settings alike.

Usage: sweep.py WORKDIR ROUNDS SERVERSPEC SOASYNC CHECK_ARGS -- SETTING...

  SERVERSPEC   NAME=ADDR:PORT,... (for the per-socket UDP drop counters)
  CHECK_ARGS   the arguments after the binary (check --ns ... --zones-from ...)
  SETTING      one string of options each, e.g. "--per-server 20"

Every run gets SOASYNC_STATS=1 and --json; each output is verified (verify.py).
One unrecorded warmup run first. Writes WORKDIR/results/sweep.json.
"""
import json
import os
import random
import re
import shlex
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proc  # noqa: E402
import verify  # noqa: E402


def drops(spec):
    return sum(proc.udpdrops(spec).values())


def main():
    if "--" not in sys.argv or len(sys.argv) < 7:
        sys.exit(__doc__)
    sep = sys.argv.index("--")
    work, rounds, serverspec = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    cmd = sys.argv[4:sep]
    settings = sys.argv[sep + 1:]
    out = os.path.join(work, "sweep-out.json")
    env = dict(os.environ, SOASYNC_STATS="1")
    res = {s: {"times": [], "retransmits": 0, "timeouts": 0, "sent": 0, "queries": 0,
               "drops": 0, "problems": [], "exit": set()} for s in settings}
    rng = random.Random(1)

    def run(setting):
        args = cmd + shlex.split(setting) + ["--json"]
        d0 = drops(serverspec)
        with open(out, "w") as f:
            t0 = time.monotonic()
            p = subprocess.run(args, stdout=f, stderr=subprocess.PIPE, env=env)
            wall = time.monotonic() - t0
        return wall, p, drops(serverspec) - d0

    run(settings[0])  # warmup
    for _ in range(rounds):
        order = settings[:]
        rng.shuffle(order)
        for s in order:
            wall, p, dr = run(s)
            r = res[s]
            r["times"].append(wall)
            r["exit"].add(p.returncode)
            r["drops"] += dr
            m = dict((k, int(v)) for k, v in re.findall(r"(\w+) (\d+)", p.stderr.decode().split("stats:")[-1]))
            for k in ("retransmits", "timeouts", "sent", "queries"):
                r[k] += m.get(k, 0)
            _summary, problems = verify.verify_json(work, out)
            if p.returncode != 2:
                problems.append("exit status %d, expected 2" % p.returncode)
            r["problems"] += problems[:3]
    os.unlink(out)
    for s, r in res.items():
        t = r["times"]
        r.update(mean=statistics.mean(t), sd=statistics.stdev(t) if len(t) > 1 else 0.0,
                 median=statistics.median(t), min=min(t), exit=sorted(r["exit"]))
    with open(os.path.join(work, "results", "sweep.json"), "w") as f:
        json.dump({"rounds": rounds, "settings": settings, "results": res}, f, indent=1)
    bad = [s for s, r in res.items() if r["problems"]]
    for s in bad:
        print("sweep: %s: wrong output: %s" % (s, res[s]["problems"][:3]), file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
