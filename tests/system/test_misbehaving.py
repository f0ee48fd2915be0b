"""soasync against a misbehaving server: it never hangs, never crashes and
never trusts a forged answer.

Every behaviour of badserver.py (see its docstring) is run through
``soasync check --ns ADDR#PORT --timeout 300 --tries 2 --json ZONE`` and the
JSON output is held to the expectation table EXPECT below; then all of them
are run again in one invocation to show that one bad answer does not disturb
the others.

The binary is $SOASYNC (default: <repo>/build/soasync, i.e.
/work/main/build/soasync); without it the soasync tests skip.

    /usr/bin/python3 -m pytest -q tests/system/test_misbehaving.py
"""

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import badserver  # noqa: E402
from badserver import FORGED_SERIAL, GOOD_SERIAL, BadServer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
SOASYNC = os.environ.get("SOASYNC") or os.path.join(REPO, "build", "soasync")

TIMEOUT_MS = 300
TRIES = 2
# One zone, one server: UDP with EDNS, UDP without EDNS, TCP and a CHAOS
# query, each at most TRIES * TIMEOUT, is ~2.4 s; anything far beyond means
# the client is waiting on something it should have cut off (tc-trickle
# alone would take ~30 s).
BOUND_S = 8.0
HARD_S = 20.0  # kill and fail as "hung" after this

ADDR = "127.54.1.1"
from conftest import SANITIZER_MARKERS  # noqa: E402  (one list for every file)


# --------------------------------------------------------------------------
# what a correct client concludes, per behaviour


@dataclass(frozen=True)
class Expect:
    serials: tuple  # allowed values of the server's "serial" (None = null)
    findings: tuple = ()  # finding codes that must be present
    rcs: tuple = (0, 1, 2, 3)  # allowed exit codes (single-zone runs)
    good: bool = False  # a clean authoritative answer: rcode NOERROR, aa, no error


GOOD = Expect((GOOD_SERIAL,), rcs=(0, 1), good=True)
EITHER = Expect((GOOD_SERIAL, None))  # accept the good part or reject it: both fine
FAIL = Expect((None,), rcs=(1, 2, 3))
TIMEOUT = Expect((None,), ("unreachable",), (1, 2, 3))
NOT_AUTH = Expect((None,), ("not-authoritative",), (1, 2, 3))

EXPECT = {
    "ok": GOOD,
    # the forgery family: bad packet first, then the real answer
    **{f: GOOD for f in badserver.FORGERIES},
    # ... and with no real answer after it
    **{f + "-only": FAIL for f in badserver.FORGERIES},
    # packets that cannot even be matched to the query: as if nothing came
    "wrongid-only": TIMEOUT,
    "otheraddr-only": TIMEOUT,
    "otherport-only": TIMEOUT,
    "tc-ok": GOOD,
    "tc-forged": GOOD,
    "tc-close": FAIL,
    "tc-reset": FAIL,
    "tc-trickle": FAIL,
    "tc-short": FAIL,
    "tc-silent": FAIL,
    "tc-loop": FAIL,
    "tc-zerolen": EITHER,
    "silent": TIMEOUT,
    "slow": TIMEOUT,  # answers after 2 s; TRIES * TIMEOUT is 0.6 s
    "dropfirst": GOOD,
    "formerr-edns": GOOD,
    "notimp-edns": GOOD,
    "formerr": FAIL,
    "noaa": NOT_AUTH,
    "refused": NOT_AUTH,
    "notauth": NOT_AUTH,
    "referral": NOT_AUTH,
    "servfail": Expect((None,), ("servfail",), (1, 2, 3)),
    "nxdomain": FAIL,
    "nodata": FAIL,
    "multisoa": EITHER,  # must not take the second SOA (666)
    "othersoa": FAIL,
    "soa-mixed": EITHER,  # must not take the other zone's SOA (666)
    "soa-empty-any": FAIL,  # an SOA of class ANY with empty rdata is no SOA
    "soa-empty-none": FAIL,
    "opt-badlen": EITHER,
    "maxsize": EITHER,
    # their SOA answers are good; transfers and NOTIFY: tests/system/test_trust.py
    "tsig-forged": GOOD,
    "endless-xfr": GOOD,
    "slow-xfr": GOOD,
}
SERIAL_EDGES = {"serial-0": 0, "serial-2147483648": 2**31, "serial-4294967295": 2**32 - 1}
for _z, _n in SERIAL_EDGES.items():
    EXPECT[_z] = Expect((_n,), rcs=(0, 1), good=True)


def _q(bad, qname, transport=None):
    return bad.queries_for(qname, transport)


def extra_ok(bad, qname):
    qs = _q(bad, qname, "udp")
    assert qs, "no UDP query seen"
    for q in qs:
        assert not q.rd, "query with RD=1: %r" % q
        assert q.edns and q.nsid_requested, "query without EDNS0+NSID: %r" % q


def extra_edns_fallback(bad, qname):
    qs = _q(bad, qname)
    assert any(q.edns for q in qs), "never asked with EDNS"
    first = next(i for i, q in enumerate(qs) if q.edns)
    assert any(not q.edns for q in qs[first + 1:]), "no retry without EDNS: %r" % qs


def extra_tcp(bad, qname):
    assert _q(bad, qname, "tcp"), "truncated answer not retried over TCP"


def extra_retried(bad, qname):
    assert len(_q(bad, qname, "udp")) >= 2, "no UDP retry"


def extra_retries_bounded(bad, qname):
    n = len(_q(bad, qname, "udp"))
    assert TRIES <= n <= 4 * TRIES, "%d UDP queries for --tries %d" % (n, TRIES)


EXTRA = {
    "ok": extra_ok,
    "formerr-edns": extra_edns_fallback,
    "notimp-edns": extra_edns_fallback,
    "tc-ok": extra_tcp,
    "tc-forged": extra_tcp,
    "dropfirst": extra_retried,
    "silent": extra_retries_bounded,
}

MAX_QUERIES_PER_ZONE = 20  # more is a query storm (e.g. a UDP/TCP loop on tc-loop)


# --------------------------------------------------------------------------
# running soasync


@dataclass
class Run:
    cmd: list
    rc: int
    stdout: str
    stderr: str
    elapsed: float
    results: dict  # normalized zone -> JSON object

    def show(self):
        return "\n$ %s\nrc=%s elapsed=%.2fs\n--- stdout\n%s--- stderr\n%s" % (
            " ".join(self.cmd), self.rc, self.elapsed, self.stdout[-6000:], self.stderr[-4000:])


def norm(zone):
    return zone.lower().rstrip(".")


@pytest.fixture(scope="module")
def soasync():
    if not (os.path.isfile(SOASYNC) and os.access(SOASYNC, os.X_OK)):
        pytest.skip("soasync binary not found at %s (build it, or set SOASYNC=/path/to/soasync)"
                    % SOASYNC)
    return SOASYNC


@pytest.fixture(scope="module")
def bad():
    with BadServer(ADDR, 0, delay=0.03, trickle_interval=0.25, slow_delay=2.0, hold_max=30.0) as s:
        yield s


def run_check(binary, zones, ns, hard=HARD_S, extra=()):
    cmd = [binary, "check", "--ns", ns, "--timeout", str(TIMEOUT_MS), "--tries", str(TRIES),
           "--json", *extra, *zones]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=hard)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        hung = "soasync HUNG: no exit within %.0fs\n$ %s\n--- stdout so far\n%s" % (
            hard, " ".join(cmd), out[-4000:])
    else:
        hung = None
    if hung:
        pytest.fail(hung)
    run = Run(cmd, p.returncode, p.stdout, p.stderr, time.monotonic() - t0, {})
    assert_sane(run, zones)
    return run


def assert_sane(run, zones):
    """No crash, no sanitizer report, well-formed JSON, one object per zone,
    never the forged serial."""
    assert run.rc >= 0, "soasync killed by signal %d%s" % (-run.rc, run.show())
    assert run.rc in (0, 1, 2, 3), "exit code %d%s" % (run.rc, run.show())
    for m in SANITIZER_MARKERS:
        assert m not in run.stderr, "sanitizer report (%s)%s" % (m, run.show())
    for line in run.stdout.splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            pytest.fail("stdout line is not JSON: %r%s" % (line[:200], run.show()))
        assert isinstance(obj, dict) and isinstance(obj.get("zone"), str), "bad object%s" % run.show()
        z = norm(obj["zone"])
        assert z not in run.results, "zone %s reported twice%s" % (z, run.show())
        run.results[z] = obj
    assert set(run.results) == {norm(z) for z in zones}, "zones missing/extra%s" % run.show()
    for z, obj in run.results.items():
        for key in ("status", "primary", "reference_serial", "servers", "findings"):
            assert key in obj, "%s: no %r%s" % (z, key, run.show())
        assert obj["reference_serial"] != FORGED_SERIAL, "%s: FORGED reference serial%s" % (z, run.show())
        for s in obj["servers"]:
            for key in ("name", "address", "port", "rcode", "aa", "serial", "rtt_ms", "nsid",
                        "vendor", "error"):
                assert key in s, "%s: server entry without %r%s" % (z, key, run.show())
            assert s["serial"] is None or isinstance(s["serial"], int)
            assert s["serial"] != FORGED_SERIAL, "%s: TRUSTED THE FORGED SERIAL 666%s" % (z, run.show())
            assert s["error"] is None or isinstance(s["error"], str)
        for f in obj["findings"]:
            assert {"code", "severity", "servers", "message"} <= set(f), "%s: bad finding%s" % (z, run.show())


def entry(obj, server, run):
    """The JSON server entry for `server` (address + port)."""
    want = {server.addr, "[%s]" % server.addr}
    found = [s for s in obj["servers"] if s["address"] in want and int(s["port"]) == server.port]
    assert len(found) == 1, "no single server entry for %s%s" % (server.ns_arg, run.show())
    return found[0]


def check_zone(run, zone, exp, server, check_rc=True):
    obj = run.results[norm(zone)]
    s = entry(obj, server, run)
    ctx = "zone %s: %s%s" % (zone, json.dumps(obj), run.show())
    assert s["serial"] in exp.serials, "serial %r not in %r; %s" % (s["serial"], exp.serials, ctx)
    codes = {f["code"] for f in obj["findings"]}
    for code in exp.findings:
        assert code in codes, "finding %r missing; %s" % (code, ctx)
        f = next(f for f in obj["findings"] if f["code"] == code)
        assert any(server.addr in str(a) for a in f["servers"]), "finding %r does not name %s; %s" % (
            code, server.addr, ctx)
    if exp.good:
        assert s["error"] is None, ctx
        assert s["aa"] is True, ctx
        assert str(s["rcode"]).upper() in ("NOERROR", "0"), ctx
        assert obj["reference_serial"] in exp.serials, ctx
    if check_rc:
        assert run.rc in exp.rcs, "exit code %d not in %r; %s" % (run.rc, exp.rcs, ctx)
    if None in exp.serials and len(exp.serials) == 1:
        assert s["error"] or exp.findings or codes, "no error and no finding; %s" % ctx


# --------------------------------------------------------------------------
# tests


def test_every_behavior_has_an_expectation():
    assert set(badserver.BEHAVIORS) <= set(EXPECT)
    assert set(EXTRA) <= set(EXPECT)


@pytest.mark.parametrize("label", sorted(EXPECT))
def test_single(soasync, bad, label):
    zone = "%s.one.bad" % label
    run = run_check(soasync, [zone], bad.ns_arg)
    assert run.elapsed <= BOUND_S, "took %.1fs (bound %.1fs)%s" % (run.elapsed, BOUND_S, run.show())
    check_zone(run, zone, EXPECT[label], bad)
    n = len(bad.queries_for(zone + "."))
    assert n <= MAX_QUERIES_PER_ZONE, "%d queries for one zone%s" % (n, run.show())
    if label in EXTRA:
        EXTRA[label](bad, zone + ".")


# A few nasty ones interleaved with good ones, with a tight bound.
INTERLEAVED = ["ok", "wrongid", "garbage-only", "serial-0", "tc-trickle", "otheraddr",
               "ptr-loop-only", "tc-ok", "silent", "formerr-edns", "tc-short", "refused",
               "cut-rr", "maxsize", "serial-4294967295"]


def test_interleaved(soasync, bad):
    zones = ["%s.mix1.bad" % l for l in INTERLEAVED]
    run = run_check(soasync, zones, bad.ns_arg, hard=60)
    assert run.elapsed <= 30, "took %.1fs%s" % (run.elapsed, run.show())
    for label, zone in zip(INTERLEAVED, zones):
        check_zone(run, zone, EXPECT[label], bad, check_rc=False)
    assert run.rc != 0  # some zones are broken


def test_all_behaviors_in_one_run(soasync, bad):
    """Every behaviour (and the serial edges) at once, one --ns: each zone
    still gets exactly its own verdict."""
    labels = sorted(EXPECT)
    zones = ["%s.mix2.bad" % l for l in labels]
    hard = 30 + 4.0 * len(zones)  # generous even for a strictly sequential client
    run = run_check(soasync, zones, bad.ns_arg, hard=hard)
    for label, zone in zip(labels, zones):
        check_zone(run, zone, EXPECT[label], bad, check_rc=False)
    assert run.rc != 0


def _closed_port(addr):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind((addr, 0))
        port = u.getsockname()[1]
    return port  # nothing listens there any more (UDP and TCP)


def test_good_server_beside_unreachable_one(soasync, bad):
    dead_addr = "127.54.1.9"
    dead_port = _closed_port(dead_addr)
    ns = "%s,%s#%d" % (bad.ns_arg, dead_addr, dead_port)
    zones = ["ok.two.bad", "wrongid.two.bad"]
    run = run_check(soasync, zones, ns)
    assert run.elapsed <= BOUND_S, run.show()
    for zone in zones:
        obj = run.results[norm(zone)]
        s = entry(obj, bad, run)
        assert s["serial"] == GOOD_SERIAL and s["error"] is None, run.show()
        dead = [x for x in obj["servers"] if x["address"] == dead_addr]
        assert len(dead) == 1 and dead[0]["serial"] is None and dead[0]["error"], run.show()
        unreach = [f for f in obj["findings"] if f["code"] == "unreachable"]
        assert unreach and any(dead_addr in str(a) for f in unreach for a in f["servers"]), run.show()
        assert obj["reference_serial"] == GOOD_SERIAL, run.show()
    assert run.rc in (1, 2, 3)


def _ipv6_ok():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_ok(), reason="no IPv6 loopback")
def test_ipv6(soasync):
    labels = ["ok", "wrongid", "otheraddr", "garbage", "tc-ok", "tc-trickle", "silent"]
    with BadServer("::1", 0, delay=0.03, trickle_interval=0.25, hold_max=30.0) as v6:
        zones = ["%s.v6.bad" % l for l in labels]
        run = run_check(soasync, zones, v6.ns_arg, hard=60)
        for label, zone in zip(labels, zones):
            check_zone(run, zone, EXPECT[label], v6, check_rc=False)
