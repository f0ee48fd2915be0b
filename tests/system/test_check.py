"""System tests for ``soasync check`` against real BIND 9, NSD, Knot and unbound.

Every test builds its own fleet (harness.py: root server, ``test.`` server,
unbound resolver, authoritative servers on 127.53.N.x, port 53) and runs
``soasync check --resolver RESOLVER --source CHECKER ...`` through the real
delegation, unless the point of the test is ``--ns``.  Expectations are exact:
finding codes, the addresses each finding names, serials, the primary and the
exit code.  Every run is checked for sanitizer reports on stderr, so the file
doubles as an ASan/UBSan run::

    /usr/bin/python3 -m pytest -q tests/system/test_check.py
    SOASYNC=build-asan/soasync /usr/bin/python3 -m pytest -q tests/system/test_check.py

Notes on the servers (see tests/system/README.md):

* The harness's short SOA expire timers would trigger ``expiring-soon``; tests
  that are not about it pass ``--expire-warn 0``.
* BIND rate-limits answers to ``version.bind`` (its built-in CHAOS view), so
  a test that runs soasync many times against the same BIND passes
  ``--no-vendor`` where the vendor does not matter.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import harness  # noqa: E402

from conftest import (KINDS, VENDOR, SoasyncResult, by_addr, checked,  # noqa: E402
                      findings, named)
NO_EXPIRE = ("--expire-warn", "0")
FAST = ("--timeout", "300", "--tries", "2")

RETRANSFER = {
    "bind": "rndc retransfer {z}",
    "nsd": "nsd-control force_transfer {z}",
    "knot": "knotc zone-retransfer {z}",
    "pdns": "pdns_control retrieve {z}",
}


# --------------------------------------------------------------------------
# running soasync


@pytest.fixture
def check(soasync):
    """``check(fleet, *args, **kw)``: ``soasync check --resolver R --source
    CHECKER *args`` through the fleet's real delegation."""

    def run(f: harness.Fleet, *args, **kw) -> SoasyncResult:
        return soasync("check", "--resolver", f.resolver.addr, "--source", f.checker_addr,
                       *args, **kw)

    return run


def run_on_pty(argv, env, timeout=30.0) -> SoasyncResult:
    """Run with stdout on a pseudo-terminal (what ``--color auto`` looks at)."""
    master, slave = pty.openpty()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                         env=env)
    os.close(slave)
    chunks = []
    deadline = t0 + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.1)
            if not r:
                if p.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:           # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        timed_out = time.monotonic() >= deadline
        if timed_out:
            p.send_signal(signal.SIGKILL)
        err = p.stderr.read().decode(errors="replace")
        rc = p.wait(5)
    finally:
        os.close(master)
        p.stderr.close()
    out = b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")
    return _clean(SoasyncResult(argv, rc, out, err, timed_out=timed_out,
                                elapsed=time.monotonic() - t0))


# --------------------------------------------------------------------------
# reading results


def serious(z: dict) -> dict:
    """Findings of severity warning and above."""
    return {c: f for c, f in findings(z).items() if f["severity"] != "info"}


def names_of(server: dict) -> set:
    return set((server["name"] or "").split(",")) - {""}


def nozone(zone: str) -> str:
    return zone.rstrip(".")


# --------------------------------------------------------------------------
# local fleet helpers


def set_nsid(srv: harness.AuthServer, nsid: str) -> None:
    """Make ``srv`` answer EDNS NSID ``nsid`` (patches its generated config;
    call before the fleet starts)."""
    orig = srv.write_config

    def write_config():
        orig()
        text = srv.conf.read_text()
        if srv.kind == "bind":
            text = text.replace("options {\n", f'options {{\n  server-id "{nsid}";\n', 1)
        elif srv.kind == "nsd":
            text = text.replace("server:\n", f'server:\n  nsid: "ascii_{nsid}"\n', 1)
        elif srv.kind == "knot":
            text = text.replace("server:\n", f"server:\n  nsid: {nsid}\n", 1)
        elif srv.kind == "pdns":                    # PowerDNS answers NSID with server-id
            text += f"server-id={nsid}\n"
        else:
            raise ValueError(srv.kind)
        srv.conf.write_text(text)

    srv.write_config = write_config


# --------------------------------------------------------------------------
# 1. in sync


def test_in_sync_three_vendors(fleet, check):
    """BIND primary, NSD, Knot and PowerDNS secondaries, all at the same serial: ok."""
    f = fleet(delegation=True)
    zone = "sync.test."
    zs = harness.standard_zone(f, zone, serial=2024010101, secondaries=("nsd", "knot", "pdns"),
                               start=False)
    nsids = {}
    for s in zs.servers:
        nsids[s.addr] = f"{s.kind}-{s.name.split('.')[0]}"
        set_nsid(s, nsids[s.addr])
    f.start()
    p, nsd, knot, pdns = zs.primary, *zs.secondaries
    assert (p.kind, nsd.kind, knot.kind, pdns.kind) == ("bind", "nsd", "knot", "pdns")

    r = check(f, "--json", zone)
    z = r.zone()
    assert r.rc == 0, r
    assert z["zone"] == zone and z["status"] == "ok", r
    assert z["findings"] == [], r
    assert z["primary"] == p.addr, r                    # the SOA MNAME ns1.sync.test.
    assert z["reference_serial"] == 2024010101, r
    srv = by_addr(z)
    assert set(srv) == {p.addr, nsd.addr, knot.addr, pdns.addr}, r
    for s in zs.servers:
        got = srv[s.addr]
        assert names_of(got) == {s.name}, got
        assert (got["port"], got["rcode"], got["aa"], got["serial"], got["error"]) == \
            (53, "NOERROR", True, 2024010101, None), got
        assert got["vendor"] == VENDOR[s.kind], got
        assert got["nsid"] == nsids[s.addr], got
        assert got["primary"] is (s is p), got
        assert isinstance(got["rtt_ms"], (int, float)) and 0 <= got["rtt_ms"] < 1000, got
    names = sorted(s.name for s in zs.servers)
    assert sorted(z["ns"]["parent"]) == names and sorted(z["ns"]["child"]) == names, r


# --------------------------------------------------------------------------
# 2. a secondary behind, each vendor as the laggard


@pytest.mark.parametrize("primary,laggard_kind", [("bind", k) for k in KINDS] + [("pdns", "knot")])
def test_secondary_behind(fleet, check, primary, laggard_kind):
    f = fleet(delegation=True)
    zone = "behind.test."
    kinds = ("nsd", "knot", "bind", "pdns")
    zs = harness.scenario_behind(f, zone, primary=primary, secondaries=kinds,
                                 laggard=kinds.index(laggard_kind), serial=100)
    lag = zs.laggard
    old, new = zs.notes["old"], zs.notes["new"]
    assert (old, new) == (100, 101)
    assert zs.serials()[lag.name] == old

    r = check(f, "--json", *NO_EXPIRE, zone)
    z = r.zone()
    assert r.rc == 2 and z["status"] == "critical", r
    assert z["primary"] == zs.primary.addr and z["reference_serial"] == new, r
    fs = findings(z)
    assert list(fs) == ["serial-behind"], r
    fb = fs["serial-behind"]
    assert fb["severity"] == "critical"
    assert named(fb) == [lag.addr], r
    assert f"{lag.name} ({lag.addr}) serves {old} (1 behind)" in fb["message"], fb
    assert f"primary's serial {new}" in fb["message"], fb
    cmd = RETRANSFER[laggard_kind].format(z=nozone(zone))
    assert fb["fix"].startswith(f"on {lag.addr} ({VENDOR[laggard_kind]}): {cmd};"), fb
    srv = by_addr(z)
    assert len(srv) == 5
    for s in zs.servers:
        assert srv[s.addr]["serial"] == (old if s is lag else new), srv[s.addr]
        assert srv[s.addr]["vendor"] == VENDOR[s.kind], srv[s.addr]


# --------------------------------------------------------------------------
# 3. the primary went backwards


def test_primary_gone_backwards(fleet, check):
    f = fleet(delegation=True)
    zone = "back.test."
    zs = harness.scenario_backwards(f, zone, high=20, low=10)
    p, s1, s2 = zs.primary, *zs.secondaries
    assert zs.serials() == {p.name: 10, s1.name: 20, s2.name: 20}

    r = check(f, "--json", *NO_EXPIRE, zone)
    z = r.zone()
    assert r.rc == 2 and z["status"] == "critical", r
    assert z["primary"] == p.addr and z["reference_serial"] == 10, r
    fs = findings(z)
    assert list(fs) == ["primary-behind"], r        # the secondaries are not "behind"
    fb = fs["primary-behind"]
    assert fb["severity"] == "critical"
    assert named(fb) == sorted([s1.addr, s2.addr]), r
    assert f"the primary ({p.addr}) serves 10" in fb["message"], fb
    for s in (s1, s2):
        assert f"20 on {s.name} ({s.addr})" in fb["message"], fb
    assert "above 20" in fb["fix"], fb


# --------------------------------------------------------------------------
# 4. a serial step of exactly 2^31


def test_serial_step_exactly_2_31(fleet, check):
    f = fleet(delegation=True)
    zone = "step.test."
    zs = harness.scenario_serial_step_2_31(f, zone, start_serial=1, secondaries=KINDS)
    old, new = zs.notes["old"], zs.notes["new"]
    assert (new - old) % 2**32 == 2**31
    # measured: BIND and PowerDNS do not transfer a step of exactly 2^31
    stuck = [s for s in zs.secondaries if s.kind in ("bind", "pdns")]
    assert len(stuck) == 2 and not {s.name for s in stuck} & set(zs.notes["moved"]), zs.notes

    r = check(f, "--json", *NO_EXPIRE, zone)
    z = r.zone()
    assert r.rc == 2 and z["status"] == "critical", r
    assert z["primary"] == zs.primary.addr and z["reference_serial"] == new, r
    fs = findings(z)
    # 2^31 + 1 also reads as a Unix time in 2038: a serial-sanity warning.
    assert sorted(fs) == ["serial-sanity", "serial-undefined"], r
    assert "in the future" in fs["serial-sanity"]["message"] or \
        "Unix time" in fs["serial-sanity"]["message"], r
    fu = fs["serial-undefined"]
    assert named(fu) == sorted(s.addr for s in stuck), r
    srv = by_addr(z)
    for s in stuck:
        assert f"({s.addr}) serves {old}" in fu["message"], fu
        assert srv[s.addr]["serial"] == old
    assert all(srv[s.addr]["serial"] == new for s in zs.servers if s not in stuck), r


# --------------------------------------------------------------------------
# 5. lame servers


def test_lame_servers(fleet, check):
    """A delegation (and NS set) with servers that do not serve the zone:
    REFUSED from each vendor, a recursive server (no AA) and a server of the
    parent zone (referral).  Each is not-authoritative with its reason."""
    f = fleet(delegation=True)
    zone = "lame.test."
    zs = harness.standard_zone(f, zone, start=False)
    refusers = [harness.refusing_server(f, f"ns{4 + i}.{zone}", kind)
                for i, kind in enumerate(KINDS)]
    recursive = harness.lame_recursive(f, f"ns{4 + len(KINDS)}.{zone}")
    referral = f.tld                            # serves test. only: answers with a referral
    ns = [*zs.servers, *refusers, recursive, referral]
    f.delegate(zone, ns=ns)
    zs.primary.zone(zone).ns = [n.name for n in ns]
    f.start()
    recursive.prime(zone)

    r = check(f, "--json", *NO_EXPIRE, *FAST, zone)
    z = r.zone()
    assert r.rc == 2 and z["status"] == "critical", r
    fs = serious(z)
    assert list(fs) == ["not-authoritative"], r
    fn = fs["not-authoritative"]
    assert fn["severity"] == "critical"
    lame_addrs = [s.addr for s in refusers] + [recursive.addr, referral.addr]
    assert named(fn) == sorted(lame_addrs), r
    srv = by_addr(z)
    assert set(srv) == {s.addr for s in zs.servers} | set(lame_addrs), r
    for s in zs.servers:
        assert srv[s.addr]["serial"] == 1 and srv[s.addr]["aa"] is True, srv[s.addr]
    for s in refusers:
        got = srv[s.addr]
        assert (got["rcode"], got["aa"], got["serial"]) == ("REFUSED", False, None), got
        assert got["vendor"] == VENDOR[s.kind], got
        assert f"{s.name} ({s.addr}): REFUSED" in fn["message"], fn
    got = srv[recursive.addr]
    assert (got["rcode"], got["aa"], got["serial"]) == ("NOERROR", False, None), got
    assert got["vendor"] == "unbound", got
    assert "without AA" in got["error"], got
    assert f"({recursive.addr}): answer without AA" in fn["message"], fn
    got = srv[referral.addr]
    assert (got["aa"], got["serial"]) == (False, None), got
    assert names_of(got) == {referral.name}, got
    assert "referral" in got["error"], got
    assert f"{referral.name} ({referral.addr}): referral" in fn["message"], fn


def test_referral_lame_ns_does_not_hide_the_primary(fleet, check):
    """The primary went backwards, and the NS set also lists three servers of
    the parent zone (they answer with a referral).  unbound then mostly
    returns an empty answer (NODATA) for the zone's SOA (see README), but the
    primary is still the SOA MNAME that every authoritative server returns:
    soasync must find it on every run and call the problem primary-behind,
    never blame the secondaries with serial-behind (whose fix, a forced
    retransfer, would take the old serial)."""
    f = fleet(delegation=True)
    zone = "reflame.test."
    zs = harness.standard_zone(f, zone, serial=20, secondaries=("nsd",), start=False)
    p, s1 = zs.primary, zs.secondaries[0]
    parents = [f.tld]
    for i, kind in enumerate(("nsd", "bind")):        # more servers of test.
        srv = f.server(kind, f"ns{i + 2}.test.")
        srv.secondary("test.", f.tld)
        parents.append(srv)
    ns = [p, s1, *parents]
    f.delegate(zone, ns=ns)
    p.zone(zone).ns = [n.name for n in ns]
    f.start()
    p.write_zone(zone, 10)
    p.notify(zone)
    assert zs.serials() == {p.name: 10, s1.name: 20}

    seen = []
    for i in range(10):
        if i % 2:
            f.resolver.flush()                 # a fresh server selection
        r = check(f, "--json", "--no-vendor", *NO_EXPIRE, *FAST, zone)
        z = r.zone()
        fs = serious(z)
        seen.append((z["primary"], z["reference_serial"], sorted(fs)))
        assert r.rc == 2, r
        assert named(fs["not-authoritative"]) == sorted(s.addr for s in parents), r
    want = (p.addr, 10, ["not-authoritative", "primary-behind"])
    bad = [s for s in seen if s != want]
    assert not bad, (f"{len(bad)} of {len(seen)} runs did not find the primary {p.addr} "
                     f"({p.name}, the SOA MNAME): want {want}, got {bad[:3]}")


# --------------------------------------------------------------------------
# 6. unreachable servers


def test_unreachable_closed_and_silent(fleet, check):
    """A closed port and a silent address in the NS set: one unreachable
    warning naming exactly those two, and the run ends within a bound."""
    f = fleet(delegation=True)
    zone = "unreach.test."
    zs = harness.standard_zone(f, zone, start=False)
    closed, silent = f.closed_address(), f.silent_address()
    extra = [(f"ns8.{zone}", closed), (f"ns9.{zone}", silent)]
    f.delegate(zone, ns=[*zs.servers, *extra])
    zs.primary.zone(zone).ns = [s.name for s in zs.servers] + [n for n, _ in extra]
    f.start()

    r = check(f, "--json", *NO_EXPIRE, *FAST, zone)
    z = r.zone()
    assert r.elapsed < 5, f"took {r.elapsed:.2f}s with --timeout 300 --tries 2\n{r}"
    assert r.rc == 1 and z["status"] == "warning", r
    # (not asserted here: the primary; with --timeout 300 the resolver's SOA
    # answer can come too late -- see test_referral_lame_ns_does_not_hide_the_primary)
    assert z["reference_serial"] == 1, r
    fs = serious(z)
    assert list(fs) == ["unreachable"], r
    fu = fs["unreachable"]
    assert fu["severity"] == "warning"          # the other servers answer
    assert named(fu) == sorted([closed, silent]), r
    assert f"ns8.{zone} ({closed}): connection refused" in fu["message"], fu
    assert f"ns9.{zone} ({silent}): timed out" in fu["message"], fu
    srv = by_addr(z)
    assert set(srv) == {s.addr for s in zs.servers} | {closed, silent}, r
    for a in (closed, silent):
        assert (srv[a]["rcode"], srv[a]["serial"], srv[a]["rtt_ms"]) == (None, None, None), srv[a]
    assert srv[closed]["error"] == "connection refused" and srv[silent]["error"] == "timed out", r
    assert all(srv[s.addr]["serial"] == 1 for s in zs.servers), r


def test_unreachable_is_critical_when_nobody_answers(fleet, check):
    """With --ns pointing only at dead addresses nothing answers: critical."""
    f = fleet(delegation=True)
    closed, silent = f.closed_address(), f.silent_address()
    r = check(f, "--json", *NO_EXPIRE, *FAST, "--ns", f"{closed},{silent}", "dead.test.")
    z = r.zone()
    assert r.elapsed < 5, r
    assert r.rc == 2 and z["status"] == "critical", r
    assert z["reference_serial"] is None and z["primary"] is None, r
    fs = findings(z)
    assert list(fs) == ["unreachable"] and fs["unreachable"]["severity"] == "critical", r
    assert named(fs["unreachable"]) == sorted([closed, silent]), r


def test_ns_name_without_address(fleet, check):
    """An NS name that does not resolve is reported by name."""
    f = fleet(delegation=True)
    zone = "noaddr.test."
    zs = harness.standard_zone(f, zone, start=False)
    ghost = "ns.nowhere.test."
    f.delegate(zone, ns=[*zs.servers, ghost])
    zs.primary.zone(zone).ns = [s.name for s in zs.servers] + [ghost]
    f.start()
    r = check(f, "--json", *NO_EXPIRE, *FAST, zone)
    z = r.zone()
    assert r.rc == 1 and z["status"] == "warning", r
    fs = findings(z)
    assert list(fs) == ["unreachable"], r
    assert fs["unreachable"]["servers"] == [], r
    assert f"{ghost}: the name has no address" in fs["unreachable"]["message"], r
    assert set(by_addr(z)) == {s.addr for s in zs.servers}, r


# --------------------------------------------------------------------------
# 7. an expired secondary


def test_expired_secondaries_servfail(fleet, check):
    """The primary refuses BIND and NSD after a bump: their copies expire and
    they answer SERVFAIL; the Knot secondary keeps transferring."""
    f = fleet(delegation=True)
    zone = "exp.test."
    zs = harness.standard_zone(f, zone, primary="knot", secondaries=("bind", "nsd", "knot"),
                               timers=harness.FAST_EXPIRE)
    p, bind2, nsd2, knot2 = zs.primary, *zs.secondaries
    p.zone(zone).deny_transfer = [bind2, nsd2]
    p.reconfigure()
    zs.bump()
    knot2.wait_serial(zone, 2)
    for s in (bind2, nsd2):
        s.wait_rcode(zone, "SERVFAIL", 30)

    r = check(f, "--json", *NO_EXPIRE, zone)
    z = r.zone()
    assert r.rc == 2 and z["status"] == "critical", r
    assert z["primary"] == p.addr and z["reference_serial"] == 2, r
    fs = findings(z)
    assert list(fs) == ["servfail"], r
    fsf = fs["servfail"]
    assert fsf["severity"] == "critical"
    assert named(fsf) == sorted([bind2.addr, nsd2.addr]), r
    for s in (bind2, nsd2):
        assert f"{s.name} ({s.addr})" in fsf["message"], fsf
        assert f"on {s.addr}: {RETRANSFER[s.kind].format(z=nozone(zone))}" in fsf["fix"], fsf
    srv = by_addr(z)
    for s in (bind2, nsd2):
        assert (srv[s.addr]["rcode"], srv[s.addr]["serial"]) == ("SERVFAIL", None), srv[s.addr]
    assert srv[knot2.addr]["serial"] == 2 and srv[p.addr]["serial"] == 2, r

    # with EXPIRE warnings on (the default): the Knot secondary's copy expires
    # in about 4 s (SOA expire 4) -> expiring-soon, critical (below 3600 s)
    r = check(f, "--json", zone)
    z = r.zone()
    fs = findings(z)
    assert sorted(fs) == ["expiring-soon", "servfail"], r
    fe = fs["expiring-soon"]
    assert fe["severity"] == "critical" and named(fe) == [knot2.addr], r
    assert 0 <= by_addr(z)[knot2.addr]["expire_s"] <= 4, r
    assert f"on {knot2.addr}: knotc zone-retransfer {nozone(zone)}" in fe["fix"], fe


def test_powerdns_secondary_never_expires(fleet, check):
    """Measured difference: a PowerDNS 4.7 secondary never expires its copy
    and does not answer EDNS EXPIRE.  Refused like the NSD secondary above,
    it keeps answering the old serial with AA long after the SOA expire time:
    soasync calls it behind (not servfail) and can give no expire_s for it."""
    f = fleet(delegation=True)
    zone = "exp2.test."
    zs = harness.standard_zone(f, zone, primary="knot", secondaries=("pdns", "nsd"),
                               timers=harness.FAST_EXPIRE)
    p, pdns2, nsd2 = zs.primary, *zs.secondaries
    p.zone(zone).deny_transfer = [pdns2, nsd2]
    p.reconfigure()
    zs.bump()
    nsd2.wait_rcode(zone, "SERVFAIL", 30)           # expired (SOA expire 4 s)
    a = pdns2.soa(zone)
    assert (a.rcode_text, a.aa, a.serial) == ("NOERROR", True, 1), a

    r = check(f, "--json", zone)
    z = r.zone()
    assert r.rc == 2 and z["reference_serial"] == 2, r
    fs = findings(z)
    assert sorted(fs) == ["serial-behind", "servfail"], r
    assert named(fs["servfail"]) == [nsd2.addr] and named(fs["serial-behind"]) == [pdns2.addr], r
    assert f"on {pdns2.addr} (powerdns): pdns_control retrieve {nozone(zone)}" in \
        fs["serial-behind"]["fix"], r
    srv = by_addr(z)
    assert srv[pdns2.addr]["serial"] == 1 and "expire_s" not in srv[pdns2.addr], r
    assert "expire_s" in srv[p.addr], r                 # the Knot primary answers it


# --------------------------------------------------------------------------
# 8. parent and child NS sets differ


def test_ns_set_mismatch(fleet, check):
    f = fleet(delegation=True)
    zone = "mis.test."
    zs = harness.standard_zone(f, zone, start=False)
    p, s1, s2 = zs.primary, *zs.secondaries
    other = "ns.other.test."                     # same address as ns3, other name
    f.add_name(other, s2.addr)
    f.delegate(zone, ns=[p, s1, other])          # child: ns1, ns2, ns3 (default)
    f.start()

    r = check(f, "--json", *NO_EXPIRE, zone)
    z = r.zone()
    assert r.rc == 1 and z["status"] == "warning", r
    fs = findings(z)
    assert list(fs) == ["ns-set-mismatch"], r
    fm = fs["ns-set-mismatch"]
    assert fm["severity"] == "warning" and fm["servers"] == [], r
    assert f"only at the parent: {other}; only in the zone: {s2.name}" in fm["message"], fm
    assert sorted(z["ns"]["parent"]) == sorted([p.name, s1.name, other]), r
    assert sorted(z["ns"]["child"]) == sorted([p.name, s1.name, s2.name]), r
    srv = by_addr(z)
    assert set(srv) == {p.addr, s1.addr, s2.addr}, r
    assert names_of(srv[s2.addr]) == {s2.name, other}, r   # one address, checked once
    assert all(s["serial"] == 1 for s in z["servers"]), r


# --------------------------------------------------------------------------
# 9. a hidden primary


def test_hidden_primary(fleet, check):
    f = fleet(delegation=True)
    zone = "hid.test."
    zs = harness.standard_zone(f, zone, hidden_primary=True, notified=[True, False])
    p, s2, s3 = zs.primary, *zs.secondaries
    zs.bump()
    s2.wait_serial(zone, 2)
    assert zs.serials() == {p.name: 2, s2.name: 2, s3.name: 1}

    # --primary: the hidden primary's serial is the reference
    r = check(f, "--json", *NO_EXPIRE, "--primary", p.addr, zone)
    z = r.zone()
    assert r.rc == 2 and z["status"] == "critical", r
    assert z["primary"] == p.addr and z["reference_serial"] == 2, r
    fs = findings(z)
    assert list(fs) == ["serial-behind"], r
    assert named(fs["serial-behind"]) == [s3.addr], r
    assert "the primary's serial 2" in fs["serial-behind"]["message"], r
    srv = by_addr(z)
    assert set(srv) == {p.addr, s2.addr, s3.addr}, r
    assert srv[p.addr]["primary"] is True and srv[p.addr]["serial"] == 2, r
    assert srv[p.addr]["name"] is None, r                  # not in any NS set
    assert not srv[s2.addr]["primary"] and not srv[s3.addr]["primary"], r
    assert sorted(z["ns"]["parent"]) == sorted(z["ns"]["child"]) == [s2.name, s3.name], r

    # without --primary: the MNAME (hidden.hid.test.) has no address
    r = check(f, "--json", "--no-vendor", *NO_EXPIRE, zone)
    z = r.zone()
    assert r.rc == 2 and z["status"] == "critical", r
    assert z["primary"] is None and z["reference_serial"] == 2, r
    fs = findings(z)
    assert sorted(fs) == ["primary-not-found", "serial-behind"], r
    assert fs["primary-not-found"]["severity"] == "info", r
    assert p.name in fs["primary-not-found"]["message"], r
    assert named(fs["serial-behind"]) == [s3.addr], r
    assert "the highest serial 2" in fs["serial-behind"]["message"], r
    assert set(by_addr(z)) == {s2.addr, s3.addr}, r

    # --primary that does not answer: a warning, and the highest is the reference
    dead = f.closed_address()
    r = check(f, "--json", "--no-vendor", *NO_EXPIRE, *FAST, "--primary", dead, zone)
    z = r.zone()
    assert z["primary"] is None and z["reference_serial"] == 2, r
    fs = findings(z)
    assert sorted(fs) == ["primary-not-found", "serial-behind", "unreachable"], r
    assert fs["primary-not-found"]["severity"] == "warning", r
    assert named(fs["unreachable"]) == [dead], r
    assert r.rc == 2, r


def test_hidden_primary_found_by_mname(fleet, check):
    """A primary outside the NS set whose MNAME resolves is the primary."""
    f = fleet(delegation=True)
    zone = "hid2.test."
    zs = harness.standard_zone(f, zone, hidden_primary=True, start=False)
    p = zs.primary
    p.zone(zone).records.append(f"hidden IN A {p.addr}")
    f.start()
    r = check(f, "--json", *NO_EXPIRE, zone)
    z = r.zone()
    assert r.rc == 0 and z["status"] == "ok" and z["findings"] == [], r
    assert z["primary"] == p.addr, r
    assert by_addr(z)[p.addr]["primary"] is True, r


def test_ns_with_ports_and_primary(fleet, soasync):
    """--ns (repeatable, ADDR#PORT) skips discovery: three servers on one
    address, ports 5300-5302; the NSD secondary on 5301 was not notified."""
    f = fleet()
    zone = "port.test."
    p = f.knot(f"ns1.{zone}", port=5300)
    nsd2 = f.nsd(f"ns2.{zone}", addr=p.addr, port=5301)
    bind3 = f.bind(f"ns3.{zone}", addr=p.addr, port=5302)
    p.primary(zone, 7, ns=[p.name])
    nsd2.secondary(zone, p, notified=False)
    bind3.secondary(zone, p)
    f.start()
    p.bump(zone)
    bind3.wait_serial(zone, 8)
    assert nsd2.serial(zone) == 7
    eps = {s.port: f"{p.addr}#{s.port}" for s in (p, nsd2, bind3)}

    r = soasync("check", "--source", f.checker_addr, "--json", *NO_EXPIRE,
                "--ns", eps[5300], "--ns", f"{eps[5301]},{eps[5302]}", "--primary", eps[5300], zone)
    z = r.zone()
    assert r.rc == 2 and z["status"] == "critical", r
    assert z["primary"] == eps[5300] and z["reference_serial"] == 8, r
    got = {s["port"]: s for s in z["servers"]}
    assert sorted(got) == [5300, 5301, 5302], r
    assert all(s["address"] == p.addr and s["name"] is None for s in got.values()), r
    assert {port: s["serial"] for port, s in got.items()} == {5300: 8, 5301: 7, 5302: 8}, r
    assert {port: s["vendor"] for port, s in got.items()} == \
        {5300: "knot", 5301: "nsd", 5302: "bind"}, r
    assert [port for port, s in got.items() if s["primary"]] == [5300], r
    fs = findings(z)
    assert list(fs) == ["serial-behind"] and fs["serial-behind"]["servers"] == [eps[5301]], r
    assert fs["serial-behind"]["fix"].startswith(
        f"on {eps[5301]} (nsd): nsd-control force_transfer {nozone(zone)};"), r

    # without --primary the highest serial is the reference: same verdict
    r = soasync("check", "--source", f.checker_addr, "--json", "--no-vendor", *NO_EXPIRE,
                "--ns", ",".join(eps.values()), zone)
    z = r.zone()
    assert r.rc == 2 and z["primary"] is None and z["reference_serial"] == 8, r
    assert [(x["code"], x["servers"]) for x in z["findings"]] == [("serial-behind", [eps[5301]])], r


def test_discovery_failed(fleet, soasync):
    """The resolver does not answer: unknown, exit 3."""
    f = fleet(delegation=True)
    dead = f.closed_address()
    r = soasync("check", "--resolver", dead, "--source", f.checker_addr, *FAST, "--json",
                "some.test.")
    z = r.zone()
    assert r.rc == 3 and z["status"] == "unknown", r
    assert z["servers"] == [] and z["primary"] is None and z["reference_serial"] is None, r
    fs = findings(z)
    assert list(fs) == ["discovery-failed"] and fs["discovery-failed"]["severity"] == "unknown", r
    assert "resolver" in fs["discovery-failed"]["message"], r


# --------------------------------------------------------------------------
# 10. IPv6


def test_ipv6_primary_and_address_families(fleet, check, ipv6_loopback):
    """The BIND primary on ::1 (AAAA glue), NSD and Knot on IPv4, Knot behind."""
    f = fleet(delegation=True)
    zone = "six.test."
    zs = harness.scenario_behind(f, zone, addr6=True, laggard=1)
    p, nsd2, knot2 = zs.primary, *zs.secondaries
    assert p.addr == "::1" and zs.laggard is knot2

    r = check(f, "--json", *NO_EXPIRE, zone)
    z = r.zone()
    assert r.rc == 2, r
    assert z["primary"] == "::1" and z["reference_serial"] == 2, r
    srv = by_addr(z)
    assert set(srv) == {"::1", nsd2.addr, knot2.addr}, r
    assert srv["::1"]["serial"] == 2 and srv["::1"]["vendor"] == "bind", r
    assert srv["::1"]["primary"] is True and names_of(srv["::1"]) == {p.name}, r
    fs = findings(z)
    assert list(fs) == ["serial-behind"] and named(fs["serial-behind"]) == [knot2.addr], r

    # -6: only the IPv6 address is checked; names that only have IPv4
    # addresses are out of scope, not "names without an address"
    r = check(f, "--json", "--no-vendor", *NO_EXPIRE, "-6", zone)
    z = r.zone()
    assert [s["address"] for s in z["servers"]] == ["::1"], r
    assert z["primary"] == "::1" and z["reference_serial"] == 2, r
    for fd in z["findings"]:
        for n in (nsd2.name, knot2.name):
            assert f"{n}: the name has no address" not in fd["message"], \
                f"{n} has an A record; -6 only filtered it out\n{r}"
    assert serious(z) == {}, r
    assert r.rc == 0 and z["status"] == "ok", r

    # -4: only the IPv4 addresses; Knot is still behind NSD
    r = check(f, "--json", "--no-vendor", *NO_EXPIRE, "-4", zone)
    z = r.zone()
    assert sorted(s["address"] for s in z["servers"]) == sorted([nsd2.addr, knot2.addr]), r
    assert z["reference_serial"] == 2, r
    for fd in z["findings"]:
        assert f"{p.name}: the name has no address" not in fd["message"], \
            f"{p.name} has an AAAA record; -4 only filtered it out\n{r}"
    assert list(serious(z)) == ["serial-behind"], r
    assert named(serious(z)["serial-behind"]) == [knot2.addr], r
    assert r.rc == 2, r

    # --ns with an IPv6 address and a port
    r = check(f, "--json", "--no-vendor", *NO_EXPIRE, "--ns", f"::1#53,{knot2.addr}", zone)
    z = r.zone()
    srv = by_addr(z)
    assert set(srv) == {"::1", knot2.addr}, r
    assert srv["::1"]["port"] == 53 and srv["::1"]["serial"] == 2, r
    assert named(findings(z)["serial-behind"]) == [knot2.addr], r


# --------------------------------------------------------------------------
# 11. 2,000 zones


class ManyRuns:
    """The 2,000-zone fleet and both soasync runs over it."""
    mz = None
    text = ""
    from_file = None
    from_stdin = None


@pytest.fixture(scope="module")
def many(tmp_path_factory, soasync_bin):
    """many_zones(2000) with the delegation (Knot primary, NSD laggard behind
    on two zones, BIND), checked once with --zones-from FILE and once with
    --zones-from - (stdin).  Module-scoped: the tests below only read."""
    if os.geteuid() != 0:
        pytest.skip("system tests need root")
    work = tmp_path_factory.mktemp("many")
    m = ManyRuns()
    with harness.Fleet(work / "fleet") as f:
        f.enable_delegation()
        m.mz = mz = harness.many_zones(f, 2000)
        assert len(mz.behind) == 2 and mz.laggard.kind == "nsd"
        m.text = "# soasync check --zones-from\n\n" + "".join(
            f"{z}{'   # stale' if z in mz.behind else ''}\n" for z in mz.zones)
        path = work / "zones.txt"
        path.write_text(m.text)
        base = [soasync_bin, "check", "--resolver", f.resolver.addr, "--source", f.checker_addr,
                "--json"]
        for attr, extra, stdin in (("from_file", [str(path)], None), ("from_stdin", ["-"], m.text)):
            argv = base + ["--zones-from", *extra]
            t0 = time.monotonic()
            try:
                p = subprocess.run(argv, capture_output=True, text=True, timeout=180, input=stdin,
                                   stdin=None if stdin is not None else subprocess.DEVNULL)
                r = SoasyncResult(argv, p.returncode, p.stdout, p.stderr,
                                  elapsed=time.monotonic() - t0)
            except subprocess.TimeoutExpired:
                r = SoasyncResult(argv, -9, "", "", timed_out=True, elapsed=time.monotonic() - t0)
            setattr(m, attr, r)
        m.setup_s = mz.timings["total"]
    return m


def _clean(r: SoasyncResult) -> SoasyncResult:
    """A run made outside the fixtures (the module-scoped 2,000-zone one)."""
    checked(r)
    assert not r.timed_out and r.rc in (0, 1, 2, 3), f"soasync hung or died\n{r}"
    return r


def _check_many(r: SoasyncResult, mz) -> None:
    _clean(r)
    rows = r.lines()
    assert len(rows) == 2000, f"{len(rows)} lines\n{r.err}"
    assert [z["zone"] for z in rows] == mz.zones, "zones not in input order"
    stale = set(mz.behind)
    all_addrs = {mz.primary.addr} | {s.addr for s in mz.secondaries}
    bad = []
    for z in rows:
        srv = {s["address"]: s["serial"] for s in z["servers"]}
        if z["zone"] in stale:
            want_serials = {a: (1 if a == mz.laggard.addr else 2) for a in all_addrs}
            ok = (z["status"] == "critical" and z["reference_serial"] == 2
                  and [(f["code"], f["servers"]) for f in z["findings"]]
                  == [("serial-behind", [mz.laggard.addr])])
        else:
            want_serials = {a: 1 for a in all_addrs}
            ok = z["status"] == "ok" and z["findings"] == [] and z["reference_serial"] == 1
        if not (ok and srv == want_serials):
            bad.append(z)
    assert not bad, f"{len(bad)} zones wrong, first: {json.dumps(bad[:3])}"
    assert r.rc == 2, r.err


@pytest.mark.parametrize("how", ["from_file", "from_stdin"])
def test_two_thousand_zones(many, how):
    """2,000 zones, two stale pairs: exactly those two critical with
    serial-behind on exactly the laggard, all others ok, in input order."""
    r = getattr(many, how)
    print(f"\n2,000 zones {how.replace('_', ' ')}: {r.elapsed:.2f}s "
          f"(fleet set-up {many.setup_s:.2f}s)")
    _check_many(r, many.mz)
    assert r.elapsed < 60, f"2,000 zones took {r.elapsed:.1f}s"


def test_two_thousand_zones_primary_found(many):
    """Every zone's SOA MNAME is the Knot primary, which answers: it must be
    the primary (the reference) of every zone, not only of those whose SOA
    lookup through the resolver happened to succeed."""
    for how in ("from_file", "from_stdin"):
        rows = _clean(getattr(many, how)).lines()
        lost = [z["zone"] for z in rows if z["primary"] != many.mz.primary.addr]
        assert not lost, (f"{how}: {len(lost)} of {len(rows)} zones without the primary "
                          f"{many.mz.primary.addr} (e.g. {lost[:5]}), and no finding says so")


# --------------------------------------------------------------------------
# 12. output formats


NAGIOS_PERF = (r"zones=(\d+) ok=(\d+) warning=(\d+) critical=(\d+) unknown=(\d+) "
               r"servers=(\d+) answered=(\d+) rtt_max=\d+\.\d{3}ms")


@pytest.fixture
def out_fleet(fleet):
    """bad.test. (Knot secondary behind), good.test. (in sync), warn.test.
    (parent and child NS sets differ)."""
    f = fleet(delegation=True)
    bad = harness.standard_zone(f, "bad.test.", notified=[True, False], start=False)
    good = harness.standard_zone(f, "good.test.", start=False)
    warn = harness.standard_zone(f, "warn.test.", start=False)
    f.delegate("warn.test.", ns=warn.servers[:2])
    f.start()
    bad.bump()
    bad.secondaries[0].wait_serial("bad.test.", 2)
    assert bad.secondaries[1].serial("bad.test.") == 1
    return f, bad, good, warn


def test_nagios_output(out_fleet, check):
    f, bad, good, warn = out_fleet
    args = ("--nagios", "--no-vendor", *NO_EXPIRE)

    r = check(f, *args, "bad.test.")
    lines = r.out.splitlines()
    p, nsd2, knot2 = bad.servers
    perf = " ".join(f"'serial_{a}'={s}" for a, s in
                    sorted([(p.addr, 2), (nsd2.addr, 2), (knot2.addr, 1)],
                           key=lambda x: tuple(map(int, x[0].split(".")))))
    assert re.fullmatch(r"SOA CRITICAL - bad\.test\. serial-behind \| " + NAGIOS_PERF + " "
                        + re.escape(perf), lines[0]), r
    m = re.search(NAGIOS_PERF, lines[0])
    assert m.groups() == ("1", "0", "0", "1", "0", "3", "3"), r
    assert lines[1].startswith("bad.test. critical serial-behind: 1 server is behind"), r
    assert f"({knot2.addr}) serves 1" in lines[1], r
    assert len(lines) == 2 and r.rc == 2, r

    r = check(f, *args, "good.test.")
    assert re.fullmatch(r"SOA OK - all 3 servers serve the same serial \| " + NAGIOS_PERF
                        + r"( 'serial_[0-9.]+'=1){3}", r.out.rstrip("\n")), r
    assert r.rc == 0, r

    r = check(f, *args, "warn.test.")
    lines = r.out.splitlines()
    assert re.fullmatch(r"SOA WARNING - warn\.test\. ns-set-mismatch \| " + NAGIOS_PERF + ".*",
                        lines[0]), r
    assert lines[1].startswith("warn.test. warning ns-set-mismatch: "), r
    assert r.rc == 1, r

    r = check(f, *args, "good.test.", "warn.test.", "bad.test.")
    lines = r.out.splitlines()
    assert re.fullmatch(r"SOA CRITICAL - warn\.test\. ns-set-mismatch, bad\.test\. serial-behind "
                        r"\(1 critical, 1 warning, 0 unknown of 3 zones\) \| " + NAGIOS_PERF,
                        lines[0]), r
    assert re.search(NAGIOS_PERF, lines[0]).groups() == ("3", "1", "1", "1", "0", "9", "9"), r
    assert [l.split(":")[0] for l in lines[1:]] == \
        ["warn.test. warning ns-set-mismatch", "bad.test. critical serial-behind"], r
    assert r.rc == 2, r


def test_nagios_unknown(fleet, soasync):
    """No resolver answers: UNKNOWN, exit 3, and still a plugin first line."""
    f = fleet(delegation=True)
    dead = f.closed_address()
    r = soasync("check", "--resolver", dead, "--source", f.checker_addr, *FAST, "--nagios",
                "some.test.")
    assert r.rc == 3, r
    lines = r.out.splitlines()
    assert lines, f"--nagios printed nothing\n{r}"
    assert re.fullmatch(r"SOA UNKNOWN - some\.test\. discovery-failed \| " + NAGIOS_PERF,
                        lines[0]), r
    assert lines[1].startswith("some.test. unknown discovery-failed: "), r


def test_table_output_and_color(out_fleet, check, soasync_bin):
    f, bad, good, warn = out_fleet
    p, nsd2, knot2 = bad.servers
    r = check(f, "--no-vendor", *NO_EXPIRE, "bad.test.")
    assert r.rc == 2, r
    assert "\x1b" not in r.out, "escape codes on a pipe"
    lines = r.out.splitlines()
    assert lines[0].startswith("bad.test. critical  reference serial 2 (" + p.addr + ")"), r
    rows = {l.split()[0]: l.split() for l in lines[1:] if l.startswith("  ns")}
    assert set(rows) == {p.name, nsd2.name, knot2.name}, r
    assert rows[p.name][1] == "(primary)" and p.addr in rows[p.name], r
    assert knot2.addr in rows[knot2.name] and rows[knot2.name][-4:-2] == ["1", "-1"], r
    assert nsd2.addr in rows[nsd2.name] and rows[nsd2.name][-4:-2] == ["2", "0"], r
    assert any(l.startswith("  critical serial-behind: ") and knot2.addr in l for l in lines), r
    assert any(l.startswith("    fix: on " + knot2.addr) for l in lines), r

    argv = [soasync_bin, "check", "--resolver", f.resolver.addr, "--source", f.checker_addr,
            "--no-vendor", *NO_EXPIRE, "bad.test."]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    r = run_on_pty(argv, env)                  # a terminal: color by default
    assert r.rc == 2 and "\x1b[" in r.out and "serial-behind" in r.out, r
    r = run_on_pty(argv, dict(env, NO_COLOR="1"))
    assert r.rc == 2 and "serial-behind" in r.out and knot2.addr in r.out, r
    assert "\x1b" not in r.out, f"NO_COLOR=1 on a terminal still gave escape codes\n{r}"
    r = run_on_pty(argv[:2] + ["--color", "never"] + argv[2:], env)
    assert r.rc == 2 and "serial-behind" in r.out and "\x1b" not in r.out, r
    r = check(f, "--color", "always", "--no-vendor", *NO_EXPIRE, "bad.test.")
    assert r.rc == 2 and "\x1b[" in r.out, r


# --------------------------------------------------------------------------
# 13. command-line errors


def _bad_zone_file(tmp_path):
    p = tmp_path / "bad-zones.txt"
    p.write_text("# zones\na.test.\nb.test.\nfoo..bar\nc.test.\n")
    return p


CLI_ERRORS = [
    # (id, args, substrings of the one-line message)
    ("unknown-option", ["--bogus", "x.test."], ["--bogus"]),
    ("bad-ns-address", ["--ns", "192.0.2.300", "x.test."], ["--ns", "192.0.2.300"]),
    ("bad-ns-in-list", ["--ns", "192.0.2.1,nonsense", "x.test."], ["nonsense"]),
    ("ns-missing-argument", ["x.test.", "--ns"], ["--ns"]),
    ("bad-resolver", ["--resolver", "localhost", "x.test."], ["--resolver", "localhost"]),
    ("missing-zone", ["--ns", "192.0.2.1"], ["no zone"]),
    ("bad-timeout", ["--ns", "192.0.2.1", "--timeout", "0", "x.test."], ["--timeout", "'0'"]),
    ("both-families", ["--ns", "192.0.2.1", "-4", "-6", "x.test."], ["-4", "-6"]),
    ("bad-color", ["--ns", "192.0.2.1", "--color", "sometimes", "x."], ["sometimes"]),
    ("zones-file-missing", ["--ns", "192.0.2.1", "--zones-from", "{tmp}/nonexistent.txt"],
     ["{tmp}/nonexistent.txt"]),
    ("zones-file-is-directory", ["--ns", "192.0.2.1", "--zones-from", "{tmp}"], ["{tmp}"]),
    ("bad-zone-in-file", ["--ns", "127.0.0.1#9", "--zones-from", "{badfile}"],
     ["{badfile}:4", "foo..bar"]),
    ("bad-zone-on-stdin", ["--ns", "127.0.0.1#9", "--zones-from", "-"], ["-:4", "foo..bar"]),
    ("bad-zone-first", ["--ns", "127.0.0.1#9", "a..b"], ["a..b"]),
    ("bad-zone-after-good", ["--ns", "127.0.0.1#9", "x.test.", "a..b"], ["a..b"]),
    ("label-too-long", ["--ns", "127.0.0.1#9", "a" * 64 + ".test."], ["a" * 64]),
]


@pytest.mark.parametrize("args,want", [c[1:] for c in CLI_ERRORS], ids=[c[0] for c in CLI_ERRORS])
def test_cli_errors(soasync, tmp_path, args, want):
    badfile = _bad_zone_file(tmp_path)

    def fill(s):
        return s.replace("{tmp}", str(tmp_path)).replace("{badfile}", str(badfile))
    args = [fill(a) for a in args]
    stdin = badfile.read_text() if args[-1] == "-" else None
    r = soasync("check", *args, input=stdin, timeout=20)
    assert r.rc == 3, r
    assert r.out == "", r
    assert r.err.endswith("\n") and r.err.count("\n") == 1, f"not one line\n{r}"
    assert r.err.startswith("soasync: "), r
    for w in want:
        assert fill(w) in r.err, f"message does not name {fill(w)!r}\n{r}"


def test_help(soasync):
    for opt in ("--help", "-h"):
        r = soasync("check", opt)
        assert r.rc == 0 and r.err == "", r
        assert r.out.startswith("Usage: soasync check [options] ZONE..."), r
        for o in ("--zones-from", "--resolver", "--ns", "--primary", "--json", "--nagios",
                  "--expire-warn", "--timeout", "--tries"):
            assert o in r.out, f"{o} missing from help\n{r}"


# --------------------------------------------------------------------------
# 14. zone-not-found


def test_zone_not_found(fleet, check):
    f = fleet(delegation=True)
    zone = "real.test."
    zs = harness.standard_zone(f, zone, records=["www IN A 192.0.2.1",
                                                 "a.ent IN A 192.0.2.2"])
    names = [zone, "nope.test.", f"www.{zone}", f"ent.{zone}", "deeper.nope.test."]
    r = check(f, "--json", "--no-vendor", *NO_EXPIRE, *names)
    rows = r.lines()
    assert [z["zone"] for z in rows] == names, r
    assert rows[0]["status"] == "ok" and rows[0]["findings"] == [], r
    assert rows[0]["primary"] == zs.primary.addr, r
    why = {
        "nope.test.": "does not exist",
        f"www.{zone}": f"is not a zone: it lies inside zone {zone}",     # a name with data
        f"ent.{zone}": f"is not a zone: it lies inside zone {zone}",     # an empty non-terminal
        "deeper.nope.test.": "does not exist",
    }
    for z in rows[1:]:
        assert z["status"] == "critical", r
        assert z["servers"] == [] and z["reference_serial"] is None and z["primary"] is None, r
        fs = findings(z)
        assert list(fs) == ["zone-not-found"], r
        assert fs["zone-not-found"]["severity"] == "critical", r
        assert why[z["zone"]] in fs["zone-not-found"]["message"], z
    assert r.rc == 2, r


# --------------------------------------------------------------------------
# 15. same serial, different SOA fields


def test_soa_fields_differ(fleet, check):
    """Two independent primaries of one zone, both in the NS set, both at
    serial 5, with different refresh (and MNAME)."""
    f = fleet(delegation=True)
    zone = "twin.test."
    p1, p2 = f.bind(f"ns1.{zone}"), f.nsd(f"ns2.{zone}")
    records = ["www IN A 192.0.2.1"]
    p1.primary(zone, 5, records, timers=harness.Timers(3600, 600, 1209600, 60))
    p2.primary(zone, 5, records, timers=harness.Timers(7200, 600, 1209600, 60))
    f.start()

    for ref, other in ((p1, p2), (p2, p1)):
        r = check(f, "--json", "--no-vendor", *NO_EXPIRE, "--primary", ref.addr, zone)
        z = r.zone()
        assert r.rc == 1 and z["status"] == "warning", r
        assert z["primary"] == ref.addr and z["reference_serial"] == 5, r
        fs = findings(z)
        assert list(fs) == ["soa-fields-differ"], r
        fd = fs["soa-fields-differ"]
        assert fd["severity"] == "warning" and named(fd) == [other.addr], r
        ref_refresh, other_refresh = (3600, 7200) if ref is p1 else (7200, 3600)
        assert f"same serial 5 as {ref.addr}" in fd["message"], fd
        assert f"{other.name} ({other.addr}) has mname {other.name} (not {ref.name}) " \
               f"refresh {other_refresh} (not {ref_refresh})" in fd["message"], fd
        assert "retry" not in fd["message"] and "expire" not in fd["message"], fd
        assert all(s["serial"] == 5 for s in z["servers"]), r

    # --ns, no primary: the reference is the first server with the serial
    r = check(f, "--json", "--no-vendor", *NO_EXPIRE, "--ns", f"{p1.addr},{p2.addr}", zone)
    z = r.zone()
    fs = findings(z)
    assert list(fs) == ["soa-fields-differ"] and len(fs["soa-fields-differ"]["servers"]) == 1, r
    assert r.rc == 1, r


# --------------------------------------------------------------------------
# the primary: --primary, the SOA MNAME, or the server answering EDNS EXPIRE
# as a primary when the MNAME names a secondary


def edns_expire(server: harness.AuthServer, zone: str) -> int | None:
    """The EDNS EXPIRE (RFC 7314) ``server`` answers for ``zone``, or None."""
    q = dns.message.make_query(zone, "SOA", use_edns=0,
                               options=[dns.edns.GenericOption(dns.edns.OptionType.EXPIRE, b"")])
    q.flags &= ~dns.flags.RD
    try:
        r = dns.query.udp(q, server.addr, port=server.port, timeout=2)
    except dns.exception.Timeout:
        return None
    for opt in r.options:
        if opt.otype == dns.edns.OptionType.EXPIRE and len(opt.to_wire()) == 4:
            return int.from_bytes(opt.to_wire(), "big")
    return None


MNAME_CASES = [("bind", "knot"), ("knot", "bind")]


@pytest.fixture(params=MNAME_CASES, ids=[f"mname-{m}-primary-{p}" for m, p in MNAME_CASES])
def mname_fleet(request, fleet, wait_until):
    """mn.test.: the true primary ns1 (Knot, or BIND in the mirror case), ns2
    a secondary of it (BIND, or Knot) that the SOA MNAME names and that is
    left off the NOTIFY list, ns3 an NSD secondary (NSD answers no EXPIRE).
    Returned once ns2's EXPIRE has visibly counted down."""
    mname_kind, primary_kind = request.param
    f = fleet(delegation=True)
    zone = "mn.test."
    zs = harness.standard_zone(f, zone, primary=primary_kind, secondaries=(mname_kind, "nsd"),
                               notified=[False, True], mname=f"ns2.{zone}")
    p, s, t = zs.servers
    expire = p.zone(zone).timers.expire
    wait_until(lambda: edns_expire(p, zone) == expire)
    wait_until(lambda: (edns_expire(s, zone) or expire) < expire, timeout=15)
    return f, zs


def test_mname_names_a_secondary(mname_fleet, check):
    """The MNAME server is a secondary holding an old serial: the server
    answering EXPIRE as a primary is the reference, the MNAME server the
    laggard, and mname-not-primary says why; check and check --content."""
    f, zs = mname_fleet
    zone = zs.zone
    p, s, t = zs.servers
    zs.bump()
    t.wait_serial(zone, 2)
    assert s.serial(zone) == 1

    for extra in ((), ("--content",)):
        r = check(f, "--json", "--no-vendor", *extra, zone)
        z = r.zone()
        assert (z["primary"], z["reference_serial"]) == (p.addr, 2), r
        fs = serious(z)
        assert named(fs["serial-behind"]) == [s.addr], r
        assert z["primary_why"] == "expire", r
        assert sorted(fs) == ["mname-not-primary", "serial-behind"], r
        assert named(fs["serial-behind"]) == [s.addr], r
        assert named(fs["mname-not-primary"]) == [s.addr], r
        assert fs["mname-not-primary"]["severity"] == "warning", r
        assert f"the SOA MNAME {s.name} names {s.addr}" in fs["mname-not-primary"]["message"], r
        srv = by_addr(z)
        assert [srv[x.addr]["verdict"] for x in zs.servers] == \
            ["at-reference", "behind", "at-reference"], r
        assert [srv[x.addr]["primary"] for x in zs.servers] == [True, False, False], r
        assert r.rc == 2, r

    r = check(f, "--no-vendor", zone)
    head = r.out.splitlines()[0]
    assert head == (f"{zone} critical  reference serial 2 ({p.addr})  primary: answers EDNS "
                    f"EXPIRE as a primary (the SOA MNAME {s.name} is a secondary)"), r
    rows = {l.split()[0]: l for l in r.out.splitlines() if l.startswith("  ns")}
    assert "(primary)" in rows[p.name] and "(primary)" not in rows[s.name], r


def test_mname_secondary_same_serial_other_data(mname_fleet, check, wait_until):
    """The primary's data changed without a serial bump; the up-to-date NSD
    secondary was made to transfer, the MNAME server was not: --content
    names the MNAME server as the one that differs, not the primary and the
    up-to-date secondary."""
    f, zs = mname_fleet
    zone = zs.zone
    p, s, t = zs.servers
    p.write_zone(zone, 1, ["www IN A 192.0.2.99", '@ IN TXT "changed, same serial"'])
    t.retransfer(zone)

    def t_has_new():
        m = harness.query(t.addr, t.port, f"www.{zone}", "A")
        return any(rr.to_text() == "192.0.2.99" for a in m.answer for rr in a)

    wait_until(t_has_new)
    r = check(f, "--json", "--no-vendor", "--content", zone)
    z = r.zone()
    assert (z["primary"], z["reference_serial"]) == (p.addr, 1), r
    fs = serious(z)
    assert named(fs["same-serial-different-data"]) == [s.addr], r
    assert z["primary_why"] == "expire", r
    assert sorted(fs) == ["mname-not-primary", "same-serial-different-data"], r
    assert named(fs["same-serial-different-data"]) == [s.addr], r
    assert f"other data than the primary's ({p.addr})" in \
        fs["same-serial-different-data"]["message"], r
    srv = by_addr(z)
    assert [srv[x.addr]["content_differs"] for x in zs.servers] == [False, True, False], r


def test_mname_is_the_primary(fleet, check, wait_until):
    """The usual case: the MNAME server is the primary and answers EXPIRE
    with its SOA's; the table and the JSON say so, nothing else changes."""
    f = fleet(delegation=True)
    zone = "mp.test."
    zs = harness.standard_zone(f, zone, primary="knot", secondaries=("bind", "nsd"))
    p = zs.primary
    wait_until(lambda: edns_expire(p, zone) == p.zone(zone).timers.expire)
    r = check(f, "--json", "--no-vendor", zone)
    z = r.zone()
    assert (z["primary"], z["primary_why"], z["status"]) == (p.addr, "mname", "ok"), r
    assert [by_addr(z)[x.addr]["primary"] for x in zs.servers] == [True, False, False], r
    r = check(f, "--no-vendor", zone)
    assert r.out.splitlines()[0] == \
        f"{zone} ok  reference serial 1 ({p.addr})  primary: the SOA MNAME {p.name}", r
    r = check(f, "--no-vendor", "--primary", p.addr, zone)
    assert r.out.splitlines()[0].endswith(f"({p.addr})  primary: given with --primary"), r


# --------------------------------------------------------------------------
# a refused connection is not the REFUSED rcode; hundreds of silent addresses


def test_refused_connection_is_not_an_rcode(fleet, check):
    """A closed port (connection refused) and a server answering REFUSED: the
    table's RCODE column tells them apart, as do the JSON's rcode, error and
    verdict."""
    f = fleet(delegation=True)
    zone = "cr.test."
    zs = harness.standard_zone(f, zone, start=False)
    refusing = harness.refusing_server(f, f"ns7.{zone}")
    closed = f.closed_address()
    extra = [(f"ns8.{zone}", closed)]
    f.delegate(zone, ns=[*zs.servers, refusing, *extra])
    zs.primary.zone(zone).ns = [s.name for s in (*zs.servers, refusing)] + [n for n, _ in extra]
    f.start()

    r = check(f, "--no-vendor", *NO_EXPIRE, *FAST, zone)
    rows = {l.split()[0]: l.split() for l in r.out.splitlines() if l.startswith("  ns")}
    assert rows[f"ns8.{zone}"][1:3] == [closed, "-"] and rows[f"ns8.{zone}"][3] == "conn-refused", r
    assert rows[refusing.name][3] == "REFUSED", r
    r = check(f, "--json", "--no-vendor", *NO_EXPIRE, *FAST, zone)
    srv = by_addr(r.zone())
    c, x = srv[closed], srv[refusing.addr]
    assert (c["rcode"], c["error"], c["verdict"]) == \
        (None, "connection refused", "unreachable"), c
    assert (x["rcode"], x["verdict"]) == ("REFUSED", "not-authoritative"), x


def test_hundreds_of_silent_addresses(fleet, check):
    """300 silent addresses: the unreachable finding lists every one of them
    in the JSON; its message (and the table) names 20 and says how many more."""
    f = fleet(delegation=True)
    zone = "many.test."
    zs = harness.standard_zone(f, zone, secondaries=())
    addr = f.alloc_addr(extra=True)
    socks = []
    try:
        for _ in range(300):          # bound, never read: a query there gets no answer
            so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            so.bind((addr, 0))
            socks.append(so)
        silent = [f"{addr}#{so.getsockname()[1]}" for so in socks]
        ns = ",".join([zs.primary.addr] + silent)
        args = ("--no-vendor", *NO_EXPIRE, "--timeout", "300", "--tries", "1", "--ns", ns, zone)
        r = check(f, "--json", *args)
        z = r.zone()
        fu = findings(z)["unreachable"]
        assert sorted(fu["servers"]) == sorted(silent), f"{len(fu['servers'])} named of 300"
        assert fu["message"].endswith("; and 280 more"), fu["message"][-200:]
        assert fu["message"].count(": timed out") == 20, fu
        r = check(f, *args)
        line = [l for l in r.out.splitlines() if l.startswith("  warning unreachable: ")]
        assert len(line) == 1 and line[0].endswith("; and 280 more"), r
    finally:
        for so in socks:
            so.close()
