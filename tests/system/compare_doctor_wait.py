"""Old and new soasync side by side on the system-test fleets: what doctor,
wait and notify print must be byte-identical apart from timings and the
changes made on purpose (issues 11, 13, 14, 15).  Each such difference is
normalized away by a named rule, applied to both outputs, and the rules
that fired are reported; anything else is a difference and fails.

Not collected by a plain pytest run (the name does not start with test_);
run it with both binaries::

    SOASYNC_OLD=/path/to/old/soasync SOASYNC=build/soasync \\
        /usr/bin/python3 -m pytest -q -s -p no:cacheprovider tests/system/compare_doctor_wait.py

Runs that change the fleet (doctor --fix) get a fresh, identical fleet per
binary; the others run both binaries on one fleet.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from test_doctor import (RECORDS, ZONE, Laggard, file_zone, net,  # noqa: E402
                         refused_transfer, reload_cmd, version_bind)

OLD = os.environ.get("SOASYNC_OLD")
NEW = os.environ.get("SOASYNC", str(HERE.parent.parent / "build" / "soasync"))
pytestmark = pytest.mark.skipif(not OLD, reason="set SOASYNC_OLD to the binary to compare with")

#: rule name -> how many outputs it changed (new binary's), for the report
FIRED: dict = {}
#: (scenario, command) compared
COMPARED: list = []


def fire(name: str, before: str, after: str) -> str:
    if before != after:
        FIRED[name] = FIRED.get(name, 0) + 1
    return after


def sub(name: str, rx: str, repl, text: str, flags=re.M) -> str:
    return fire(name, text, re.sub(rx, repl, text, flags=flags))


# --------------------------------------------------------------------------
# normalization

def norm_common(text: str, dirs: list) -> str:
    """What differs between any two runs: fleet addresses, work dirs, timings."""
    text = re.sub(r"127\.53\.\d+\.", "127.53.N.", text)
    for d in dirs:
        text = text.replace(str(d), "<fleet>")
    text = re.sub(r"\(\d+\.\d s, \d+ rounds?\)", "(T s, R rounds)", text)
    text = re.sub(r"deadline passed after \d+ s", "deadline passed after T s", text)
    text = re.sub(r" +\d+(\.\d+)? ms$", " T ms", text, flags=re.M)       # the RTT column
    return bind_vendor(text)


def bind_vendor(text: str) -> str:
    """BIND answers CHAOS version.bind only a few times a second per /24
    (response-rate limited, slip 0), so whether one run learns a BIND
    server's vendor depends on the runs before it: the BIND-specific words
    become the words for an unknown vendor (in both outputs)."""
    before = text
    text = re.sub(r"(127\.53\.N\.\d+  )bind   ", r"\1-      ", text)
    text = re.sub(r"on ([\d.N]+) \(bind\): rndc retransfer ([\w.-]+)",
                  r"on \1: soasync notify \2 --to \1",
                  text)
    text = text.replace("BIND accepts NOTIFY from its primaries and from allow-notify { ...; };",
                        "allow NOTIFY from the primary's address (and key) on that secondary")
    text = text.replace("on the secondary (BIND): primaries { ...; }; in the zone statement",
                        "on the secondary: the primaries it transfers from")
    if text != before:
        FIRED["(noise) BIND's vendor unknown: rate-limited CHAOS"] = \
            FIRED.get("(noise) BIND's vendor unknown: rate-limited CHAOS", 0) + 1
    return text


def norm_observed(step: int, text: str) -> str:
    """A step's observation, without what the changes added on purpose."""
    if step == 1:
        # issue 13.4: step 1 names the servers not at the reference
        text = sub("step 1 names the laggards",
                   r"^((?:\d+ of \d+ addresses serve the reference \d+ \([^)]*\))|"
                   r"(?:no server answered with the zone's SOA)); .*$", r"\1", text)
    if step == 6:
        # issue 13.4: step 6 names the NOTIFY targets and their answers
        text = sub("step 6 names the targets",
                   r"^(\d+) (servers? (?:is|are)) behind: --fix sends a NOTIFY to .*$",
                   r"\1 \2 behind: --fix sends them a NOTIFY", text)
        text = sub("step 6 names the answers",
                   r"^(\d+ of \d+ acknowledged the NOTIFY): .*$", r"\1", text)
        text = sub("step 6 names the targets",
                   r"^(\d+ servers? (?:is|are) behind; no NOTIFY sent \(not confirmed\)): .*$",
                   r"\1", text)
    if step == 9:
        # issue 14: step 9 points to soasync monitor
        text = fire("step 9 points to the monitor", text, "<guard advice>")
    return text


def norm_fix(code: str, fix: str) -> str:
    if code == "secondary-not-transferring":
        # house rule: vendor words from lib/check_vendor.c (the primary's ACL)
        fix = sub("not-transferring: the primary's ACL from vendor.c",
                  r"may transfer the zone \(.*\), with its TSIG key",
                  "may transfer the zone (ACL), with its TSIG key", fix)
    return fix


def norm_doctor_json(doc: dict) -> dict:
    for key in ("verdict", "monitor"):
        if key in doc:
            fire(f"JSON: new key {key}", "", "x")
            del doc[key]
    for s in doc.get("steps", []):
        if "servers" in s:
            fire("JSON: steps name their servers", "", "x")
            del s["servers"]
        s["observed"] = norm_observed(s["step"], s["observed"])
    for f in doc.get("findings", []):
        if f.get("fix"):
            f["fix"] = norm_fix(f["code"], f["fix"])
    return doc


STEP_LINE = re.compile(r"^(  ([1-9]) \S+ +\S+ +)(.*)$")


def norm_doctor_text(out: str) -> str:
    lines, keep, in_yaml, code = out.splitlines(), [], False, ""
    for line in lines:
        m = STEP_LINE.match(line)
        if m:
            in_yaml = m.group(2) == "9"
            keep.append(m.group(1) + norm_observed(int(m.group(2)), m.group(3)))
            continue
        if in_yaml and line.startswith("    "):
            fire("step 9: the monitor's config lines", "", "x")
            continue
        in_yaml = False
        m = re.match(r"^  (?:critical|warning|info) (\S+): ", line)
        code = m.group(1) if m else code
        m = re.match(r"^(    fix: )(.*)$", line)
        keep.append(m.group(1) + norm_fix(code, m.group(2)) if m else line)
    text = "\n".join(keep) + ("\n" if out.endswith("\n") else "")
    # issue 13.4: the last line is the verdict of the whole run
    return sub("the last line is the run's verdict",
               r"^(\S+): NOT healed: every server serves \d+, but .*$",
               r"\1: every server serves the same serial", text)


def normalize(cmd: str, rc: int, out: str, err: str, dirs: list, args: list) -> tuple:
    out, err = norm_common(out, dirs), norm_common(err, dirs)
    if "--primary" not in args:
        # re-probes are judged as the first probe (the primary by the MNAME
        # and its evidence); main's re-probes took it as if given
        out = sub("re-probes: the primary as the first probe found it",
                  r"primary: given with --primary", "primary: the SOA MNAME ns1.example.test.",
                  out)
    if cmd == "doctor":
        if out.startswith("{"):
            out = json.dumps(norm_doctor_json(json.loads(out)), sort_keys=True)
        else:
            out = norm_doctor_text(out)
    elif out.startswith("{"):
        doc = json.loads(out)
        for k in ("elapsed_s", "rounds"):
            if k in doc:
                doc[k] = 0
        out = json.dumps(doc, sort_keys=True)
    return rc, out, err


# --------------------------------------------------------------------------
# running

def run(binary: str, args: list, timeout: float = 180, f=None) -> tuple:
    p = subprocess.run([binary, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def compare(name: str, args: list, dirs: list, old_res=None, new_res=None, f=None) -> None:
    """Run (or take) both results and assert they agree after normalization."""
    cmd = args[0]
    old = old_res or run(OLD, args, f=f)
    new = new_res or run(NEW, args, f=f)
    a, b = normalize(cmd, *old, dirs, args), normalize(cmd, *new, dirs, args)
    # wait's last probe is squeezed into what is left of its deadline (by
    # design: a silent server must not stretch it), so a busy machine can
    # make any server time out in it, in either binary: such a pair is run
    # again (at most twice) before it counts as a difference
    for _ in range(2):
        if a == b or cmd != "wait" or old_res or new_res:
            break
        FIRED["(noise) wait: the last probe squeezed, run again"] = \
            FIRED.get("(noise) wait: the last probe squeezed, run again", 0) + 1
        old, new = run(OLD, args, f=f), run(NEW, args, f=f)
        a, b = normalize(cmd, *old, dirs, args), normalize(cmd, *new, dirs, args)
    COMPARED.append((name, " ".join(map(str, args[:1] + [x for x in args[1:]
                                                          if str(x).startswith("--")]))))
    if a != b:
        diff = "\n".join(difflib.unified_diff(
            f"rc={a[0]}\n{a[1]}\n--- stderr\n{a[2]}".splitlines(),
            f"rc={b[0]}\n{b[1]}\n--- stderr\n{b[2]}".splitlines(), "old", "new", lineterm=""))
        raise AssertionError(f"{name}: {' '.join(map(str, args))}\n{diff}")


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    print("\ncompared (old vs new, normalized):")
    for name, cmd in COMPARED:
        print(f"  {name}: {cmd}")
    print("intended differences normalized away (outputs changed by each rule):")
    for rule, n in sorted(FIRED.items()):
        print(f"  {rule}: {n}")


# --------------------------------------------------------------------------
# scenarios

def test_laggard_report_and_wait(fleet):
    """A laggard (Knot) that accepts the checker's NOTIFY: report only, wait
    at its deadline, notify refused elsewhere."""
    f = fleet(delegation=True)
    b = Laggard(f, "knot", accept_checker=True)
    d = [f.workdir]
    for extra in ([], ["--json"]):
        compare("laggard", ["doctor", *net(f), *extra, ZONE], d, f=f)
    compare("laggard", ["wait", *net(f), "--timeout", "2", ZONE], d, f=f)
    compare("laggard", ["wait", *net(f), "--timeout", "1", "--json", ZONE], d, f=f)
    compare("laggard", ["wait", *net(f), "--serial", str(b.old), "--json", ZONE], d, f=f)


def test_laggard_fix(fleet):
    """doctor --fix --yes on two identical fleets, one per binary."""
    res, dirs = {}, []
    for which, binary in (("old", OLD), ("new", NEW)):
        f = fleet(delegation=True)
        dirs.append(f.workdir)
        Laggard(f, "nsd", accept_checker=True)
        res[which] = run(binary, ["doctor", *net(f), "--fix", "--yes", "--json", "--notify-wait",
                                  "10", "--timeout", "30", ZONE], f=f)
        res[which + "-text"] = run(binary, ["doctor", *net(f), "--fix", "--yes", ZONE], f=f)
    args = ["doctor", "--fix", "--yes", "--json", ZONE]
    compare("laggard --fix", args, dirs, res["old"], res["new"])
    compare("laggard --fix (again, text)", ["doctor", "--fix", "--yes", ZONE], dirs,
            res["old-text"], res["new-text"])


def test_notify_refused(fleet):
    f = fleet(delegation=True)
    Laggard(f, "knot", accept_checker=False)
    d = [f.workdir]
    for extra in (["--json"], []):
        compare("notify refused", ["doctor", *net(f), "--fix", "--yes", "--notify-wait", "2",
                                   "--timeout", "10", *extra, ZONE], d, f=f)
        compare("notify refused", ["notify", *net(f), *extra, ZONE], d, f=f)


def test_refused_transfer(fleet):
    f = fleet(delegation=True)
    refused_transfer(f, "nsd")
    d = [f.workdir]
    compare("refused transfer", ["doctor", *net(f), "--fix", "--yes", "--json", "--notify-wait",
                                 "2", "--timeout", "10", ZONE], d, f=f)


def test_zonefile_unpublished(fleet, tmp_path):
    f = fleet(delegation=True)
    p, secs = file_zone(f, "knot")
    zf = p.zone_file(ZONE)
    p.write_zone(ZONE, 11, ["www IN A 192.0.2.2", RECORDS[1]], reload=False)
    d = [f.workdir]
    for extra in ([], ["--json"]):
        compare("zone file unpublished", ["doctor", *net(f), "--zonefile", zf, *extra, ZONE], d, f=f)
    compare("zone file unpublished", ["doctor", *net(f), "--zonefile", zf, "--fix", "--json",
                                      "--reload-cmd", reload_cmd(p, tmp_path / "m"), ZONE], d, f=f)


def test_primary_backwards(fleet):
    f = fleet(delegation=True)
    harness.scenario_backwards(f, ZONE, high=20, low=10)
    d = [f.workdir]
    for extra in ([], ["--json"]):
        compare("primary backwards", ["doctor", *net(f), *extra, ZONE], d, f=f)


def test_wrong_source(fleet):
    f = fleet(delegation=True)
    p = f.server("nsd", "ns1.example.test.")
    good = f.server("bind", "ns2.example.test.")
    lag = f.server("knot", "ns3.example.test.")
    old = f.server("nsd", "old-provider.example.test.")
    p.primary(ZONE, 20, ["www IN A 192.0.2.20", RECORDS[1]])
    old.primary(ZONE, 10, ["www IN A 192.0.2.10", RECORDS[1]], hidden=True)
    old.render_zone = lambda z: p.render_zone(z)
    good.secondary(ZONE, p)
    lag.secondary(ZONE, old)
    f.start()
    d = [f.workdir]
    for extra in ([], ["--json"]):
        compare("wrong source", ["doctor", *net(f), "--candidate-primary", old.addr,
                                 "--content", *extra, ZONE], d, f=f)


def test_wait_dead(fleet):
    f = fleet()
    zs = harness.scenario_behind(f, ZONE, primary="knot", secondaries=("nsd", "knot"),
                                 laggard=1)
    closed = f.closed_address()
    ns = ["--ns", ",".join([s.addr for s in zs.servers] + [closed]), "--primary",
          zs.primary.addr, "--source", f.checker_addr]
    d = [f.workdir]
    for extra in (["--dead", "ignore"], ["--dead", "quorum=2"], ["--dead", "quorum=3"], []):
        for out in ([], ["--json"]):
            compare("wait --dead", ["wait", *ns, *extra, "--timeout", "1", *out, ZONE], d, f=f)
    compare("wait --expect", ["wait", *ns, "--dead", "ignore", "--timeout", "1", "--expect",
                              "www A 192.0.2.99", ZONE], d, f=f)
