"""System tests for ``soasync doctor`` and EDNS EXPIRE in ``soasync check``,
against real BIND 9.18, NSD 4.6 and Knot 3.2 (see harness.py).

Every test builds its own fleet with a real delegation (root, ``test.``,
unbound) and runs soasync with ``--resolver <fleet resolver> --source
<fleet checker address>``, so the secondaries' NOTIFY ACLs can tell the
checker apart from the primary.  Expectations are exact: step statuses, the
findings and the addresses they name, the actions, exit codes, and the state
the servers are really in afterwards (asked by the harness, not by soasync).
Every run is checked for sanitizer reports on stderr, so the file doubles as
an ASan run::

    /usr/bin/python3 -m pytest -q tests/system/test_doctor.py
    SOASYNC=build-asan/soasync /usr/bin/python3 -m pytest -q tests/system/test_doctor.py

How the states are made:

* A laggard: a secondary left off the primary's NOTIFY list (refresh 3600 s),
  then the primary moves on.  When doctor is to wake it, it accepts NOTIFY
  from the checker's address (``allow_notify``), as in demo.py; otherwise it
  refuses (Knot NOTAUTH, NSD and BIND REFUSED, see test_notify.py).
* Zone-file repairs: the secondaries are off the primary's NOTIFY list and
  accept NOTIFY from the checker, so after doctor's reload only doctor's own
  NOTIFY moves them (the steps are deterministic).  ``--reload-cmd`` is the
  vendor's control command for that primary (``rndc -c RNDC_CONF reload``,
  ``nsd-control -c CONF reload``, ``knotc -s SOCKET zone-reload``), run by
  doctor with ``sh -c``; it also appends ``$SOASYNC_ZONE $SOASYNC_ZONEFILE``
  to a marker file so the test sees whether, how often and with what
  environment it ran.
* Refused transfers: the primary's ``deny_transfer`` lists the victim.
* Old provider: a hidden second primary at the old serial with the old data,
  configured as the primary of one secondary (as in test_content.py).

Vendor facts measured here (Debian 12):

* EDNS EXPIRE (RFC 7314): BIND 9.18 and Knot 3.2 answer it, as primaries
  (the SOA expire) and as secondaries (the time left, counting down from the
  SOA expire since the last successful refresh); NSD 4.6 and PowerDNS 4.7
  answer no EXPIRE option at all, neither as primary nor as secondary.
* PowerDNS 4.7 accepts NOTIFY from the checker only as a
  trusted-notification-proxy (the harness's ``allow_notify``), acts on it
  within about a second, and logs it without the serial it carried.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import pytest
import yaml

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import harness  # noqa: E402

ZONE = "example.test."
RECORDS = ["www IN A 192.0.2.1", '@ IN TXT "soasync doctor test"']
EDITED = ["www IN A 192.0.2.2", '@ IN TXT "soasync doctor test"', "new IN A 192.0.2.99"]
from conftest import (KINDS, SoasyncResult, addrs, by_addr, checked,  # noqa: E402
                      findings, named)
from test_check import edns_expire  # noqa: E402
from test_wait import Background  # noqa: E402
STEP_NAMES = ("serials", "published", "serial-raised", "direction", "source", "notify",
              "transfer", "converge", "guard")
STATUSES = ("ok", "problem", "fixed", "failed", "skipped", "advice", "blocked")
#: per laggard kind: (primary kind, other secondary kind); BIND, NSD and Knot
#: are the primary once, the laggard once and the other secondary once;
#: PowerDNS is the laggard here and the primary in the zone-file tests
LAYOUT = {"knot": ("bind", "nsd"), "nsd": ("knot", "bind"), "bind": ("nsd", "knot"),
          "pdns": ("knot", "bind")}
#: the rcode of a NOTIFY from an address the secondary does not accept
NOTIFY_REFUSAL = {"knot": "NOTAUTH", "nsd": "REFUSED", "bind": "REFUSED", "pdns": "REFUSED"}
NOT_CONFIRMED = "not confirmed (no terminal to ask: use --yes)"
#: the vendor hints of notify-refused and secondary-not-transferring
ALLOW_NOTIFY_HINT = {
    "bind": "BIND accepts NOTIFY from its primaries and from allow-notify { ...; };",
    "nsd": "NSD accepts NOTIFY per allow-notify: ADDRESS KEY in the zone",
    "knot": "Knot accepts NOTIFY only through an acl with action: notify",
    "pdns": "PowerDNS accepts NOTIFY only from the zone's primaries: run pdns_control retrieve "
            "ZONE on it, or list this host in its trusted-notification-proxy (pdns.conf)",
}
#: where a primary of that vendor allows transfers (fix of secondary-not-transferring)
TRANSFER_ACL_HINT = {
    "bind": "allow-transfer { ...; }; in the zone statement (named.conf)",
    "nsd": "provide-xfr: ADDRESS KEY in the zone (nsd.conf)",
    "knot": "an acl with action: transfer (address, key) referenced by the zone (knot.conf)",
    "pdns": "the zone's ALLOW-AXFR-FROM metadata (pdnsutil set-meta ZONE ALLOW-AXFR-FROM "
            "ADDRESS; with a key: pdnsutil activate-tsig-key ZONE KEY primary) or allow-axfr-ips "
            "in pdns.conf (every zone)",
}
SOURCE_HINT = {
    "bind": "on the secondary (BIND): primaries { ...; }; in the zone statement",
    "nsd": "on the secondary (NSD): request-xfr: ADDRESS KEY in the zone",
    "knot": "on the secondary (Knot): master: REMOTE in the zone, and the remote's address",
    "pdns": "on the secondary (PowerDNS): masters { ...; }; in the zone of its bind-config "
            "(then pdns_control rediscover), or pdnsutil change-secondary-zone-primary ZONE "
            "ADDRESS with a database backend",
}


# --------------------------------------------------------------------------
# running soasync


def net(f: harness.Fleet) -> list:
    return ["--resolver", f.resolver.addr, "--source", f.checker_addr]


@pytest.fixture
def doctor(soasync):
    """``doctor(fleet, *args) -> Run``: ``soasync doctor --resolver R --source
    CHECKER *args ZONE`` (add ``--json`` yourself; ``zone=`` to change it)."""

    def run(f: harness.Fleet, *args, zone: str = ZONE, timeout: float = 60) -> SoasyncResult:
        return soasync("doctor", *net(f), *args, zone, timeout=timeout)

    return run


@pytest.fixture
def check(soasync):
    """``check(fleet, *args) -> (Run, zone object)``: ``soasync check --json``."""

    def run(f: harness.Fleet, *args, zone: str = ZONE):
        r = soasync("check", *net(f), "--json", *args, zone)
        return r, r.doc()

    return run


# --------------------------------------------------------------------------
# reading doctor's report


def steps_of(doc: dict) -> dict:
    """``{step number: (status, observed)}``; the report must list the nine
    steps in order, each with its name and a known status."""
    got = [(s["step"], s["name"]) for s in doc["steps"]]
    assert got == list(enumerate(STEP_NAMES, 1)), f"steps missing or out of order: {got}\n{doc}"
    for s in doc["steps"]:
        assert set(s) == {"step", "name", "status", "observed", "servers"}, s
        assert s["status"] in STATUSES, s
        assert isinstance(s["observed"], str) and s["observed"], s
        assert isinstance(s["servers"], list), s
    return {s["step"]: (s["status"], s["observed"]) for s in doc["steps"]}


def step_servers(doc: dict) -> dict:
    """``{step number: [addresses the step concerns]}``."""
    return {s["step"]: s["servers"] for s in doc["steps"]}


def statuses(doc: dict) -> list:
    return [st for st, _ in steps_of(doc).values()]


TEXT_STEP = re.compile(r"^  ([1-9]) (\S+) +(" + "|".join(STATUSES) + r") +(\S.*)$")


def text_steps(r: SoasyncResult, zone: str = ZONE) -> dict:
    """The step table of a text run: ``{number: (status, observed)}``."""
    lines = r.out.splitlines()
    assert f"doctor {zone}" in lines, f"no 'doctor ZONE' header\n{r}"
    head = lines.index(f"doctor {zone}")
    out = {}
    for i, line in enumerate(lines[head + 1:head + 10], 1):
        m = TEXT_STEP.match(line)
        assert m, f"step line {i} malformed: {line!r}\n{r}"
        assert (int(m.group(1)), m.group(2)) == (i, STEP_NAMES[i - 1]), f"{line!r}\n{r}"
        out[i] = (m.group(3), m.group(4))
    return out


def last_line(r: SoasyncResult) -> str:
    lines = r.out.splitlines()
    assert lines, f"no output\n{r}"
    return lines[-1]


def acknowledged(*servers) -> str:
    """Step 6 when every server acknowledged (in address order, as doctor
    notifies them)."""
    srv = sorted(servers, key=lambda s: ipaddress.ip_address(s.addr))
    return (f"{len(srv)} of {len(srv)} acknowledged the NOTIFY: "
            + "; ".join(f"{s.name} ({s.addr}) acknowledged" for s in srv))


def actions(doc: dict) -> list:
    for a in doc["actions"]:
        assert set(a) == {"action", "target", "result"}, a
    return [(a["action"], a["target"], a["result"]) for a in doc["actions"]]


# --------------------------------------------------------------------------
# fleet helpers


def log_text(srv) -> str:
    try:
        return srv.log.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def checker_notifies(srv, f: harness.Fleet, zone: str = ZONE) -> list:
    """Serials of the NOTIFYs from the checker's address that ``srv`` logged
    (accepted ones: each vendor logs the serial the NOTIFY carried, except
    PowerDNS, which logs none: None per NOTIFY, see ``as_logged``)."""
    chk = re.escape(f.checker_addr)
    z = re.escape(zone)
    zb = re.escape(zone.rstrip("."))
    rx = {
        "knot": rf"\[{z}\] notify, incoming, remote {chk}@\d+, serial (\d+)",
        "nsd": rf"notify for {z} from {chk} serial (\d+)",
        "bind": rf"zone {zb}/IN: notify from {chk}#\d+: serial (\d+)",
        "pdns": rf"Received NOTIFY for {zb} from trusted-notification-proxy {chk}()$",
    }[srv.kind]
    return [int(s) if s else None for s in re.findall(rx, log_text(srv), re.M)]


def as_logged(srv, serials: list) -> list:
    """What ``checker_notifies`` can show for NOTIFYs with ``serials``: a
    PowerDNS log line names no serial, so only how many came is checked."""
    return [None] * len(serials) if srv.kind == "pdns" else list(serials)


def wait_checker_notifies(srv, f, want: list, zone: str = ZONE, timeout: float = 5) -> None:
    want = as_logged(srv, want)
    harness.wait_until(lambda: checker_notifies(srv, f, zone) == want, timeout,
                       what=f"{srv.kind} log to show NOTIFYs from the checker with serials {want} "
                            f"(has {checker_notifies(srv, f, zone)})")


def rdatas(srv: harness.AuthServer, qname: str, rdtype: str = "A") -> set:
    msg = srv.query(qname, rdtype)
    return {rd.to_text() for rrset in msg.answer
            if rrset.rdtype == dns.rdatatype.from_text(rdtype) for rd in rrset}


def wait_stable(fn, timeout: float = 10.0, what: str = "condition") -> None:
    """``fn()`` true and still true ``harness.STABLE`` s later (NSD reloads by
    forking; its old child can answer for a moment)."""
    harness.wait_until(fn, timeout, what=what, stable=harness.STABLE)


def serials(*servers, zone: str = ZONE) -> dict:
    return {s.name: s.serial(zone) for s in servers}


class Laggard:
    """``ns1`` primary, ``ns2`` the laggard (off the primary's NOTIFY list,
    refresh 3600 s; accepts NOTIFY from the checker if ``accept_checker``),
    ``ns3`` a notified secondary; the primary moved from 100 to 101 and ns3
    followed."""

    def __init__(self, f: harness.Fleet, lag_kind: str, *, accept_checker: bool):
        pk, ok = LAYOUT[lag_kind]
        self.f = f
        self.primary = f.server(pk, "ns1.example.test.")
        self.primary.primary(ZONE, 100, RECORDS)
        self.lag = f.server(lag_kind, "ns2.example.test.")
        self.lag.secondary(ZONE, self.primary, notified=False,
                           allow_notify=[f.checker_addr] if accept_checker else None)
        self.other = f.server(ok, "ns3.example.test.")
        self.other.secondary(ZONE, self.primary)
        f.start()
        self.old = 100
        self.new = self.bump()

    def bump(self) -> int:
        """Move the primary on; the notified secondary follows, the laggard not."""
        before = self.lag.serial(ZONE)
        new = self.primary.bump(ZONE)
        self.other.wait_serial(ZONE, new)
        assert self.lag.serial(ZONE) == before, "the laggard moved on its own"
        return new

    @property
    def servers(self):
        return [self.primary, self.lag, self.other]


def reload_cmd(p: harness.AuthServer, marker: Path) -> str:
    """A --reload-cmd for primary ``p``: note the environment doctor gives it
    in ``marker``, then reload the zone with the vendor's control tool (the
    zone name taken from $SOASYNC_ZONE)."""
    if p.kind == "bind":
        ctl = [harness.RNDC, "-c", str(p.rndc_conf), "reload"]
        zone = '"${SOASYNC_ZONE%.}"'
    elif p.kind == "nsd":
        ctl = [harness.NSD_CONTROL, "-c", str(p.conf), "reload"]
        zone = '"$SOASYNC_ZONE"'
    elif p.kind == "knot":
        ctl = [harness.KNOTC, "-s", str(p.ctl_socket), "zone-reload"]
        zone = '"$SOASYNC_ZONE"'
    else:                       # what soasync's fix text says, minus the notify
        ctl = [harness.PDNS_CONTROL, f"--config-dir={p.dir}", "bind-reload-now"]
        zone = '"${SOASYNC_ZONE%.}"'
    # the tool's own output ("zone reload queued", "ok", "OK") goes to stderr:
    # test_reload_cmd_output_stays_off_json_stdout is about stdout
    return (f'printf "%s %s\\n" "$SOASYNC_ZONE" "$SOASYNC_ZONEFILE" >> {shlex.quote(str(marker))}'
            f" && {shlex.join(ctl)} {zone} >&2")


def reload_calls(marker: Path) -> list:
    """One ``"ZONE ZONEFILE"`` line per run of the reload command."""
    return marker.read_text().splitlines() if marker.exists() else []


def file_zone(f: harness.Fleet, pk: str):
    """Primary ``pk`` and two other kinds (``harness.other_kinds``) as
    secondaries that are off its NOTIFY list but accept NOTIFY from the
    checker (only doctor moves them)."""
    p = f.server(pk, "ns1.example.test.")
    p.primary(ZONE, 10, RECORDS)
    secs = []
    for i, k in enumerate(harness.other_kinds(pk)):
        s = f.server(k, f"ns{i + 2}.example.test.")
        s.secondary(ZONE, p, notified=False, allow_notify=[f.checker_addr])
        secs.append(s)
    f.start()
    return p, secs


SOA_LINE = re.compile(r"^(@ IN SOA \S+ \S+ )(\d+)( .*)$", re.M)


def with_serial(text: str, serial: int) -> str:
    """``text`` (a harness zone file) with only the SOA serial replaced."""
    new, n = SOA_LINE.subn(lambda m: f"{m.group(1)}{serial}{m.group(3)}", text)
    assert n == 1, text
    return new


# --------------------------------------------------------------------------
# 1. a lagging fleet: report only, declined, then repaired unattended


@pytest.mark.parametrize("lag_kind", KINDS)
def test_fix_yes_converges_lagging_fleet(fleet, doctor, check, lag_kind):
    f = fleet(delegation=True)
    b = Laggard(f, lag_kind, accept_checker=True)
    p, lag, other = b.servers

    # without --fix: the laggard is found and nothing is sent
    r = doctor(f)
    assert r.rc == 2, r
    assert r.err == "", r
    st = text_steps(r)
    assert [s for s, _ in st.values()] == ["problem", "skipped", "skipped", "ok", "skipped",
                                           "problem", "skipped", "problem", "advice"], r
    # step 1 names the laggard, step 6 the server it would NOTIFY
    assert st[1][1] == (f"2 of 3 addresses serve the reference {b.new} ({p.addr}); "
                        f"{lag.name} ({lag.addr}) serves {b.old}"), r
    assert st[6][1] == f"1 server is behind: --fix sends a NOTIFY to {lag.name} ({lag.addr})", r
    assert st[7][1] == "not tried without --fix", r
    assert st[8][1] == f"not converged: the reference is {b.new}", r
    assert last_line(r) == f"{ZONE}: NOT converged", r

    r = doctor(f, "--json")
    assert r.rc == 2 and r.err == "", r
    doc = r.doc()
    assert (doc["zone"], doc["converged"], doc["reference_serial"]) == (ZONE, False, b.new), r
    assert statuses(doc) == ["problem", "skipped", "skipped", "ok", "skipped", "problem",
                             "skipped", "problem", "advice"], r
    assert actions(doc) == [], r
    servers = step_servers(doc)
    assert servers[1] == [lag.addr] and servers[6] == [lag.addr] and servers[8] == [lag.addr], r
    assert servers[2] == servers[4] == servers[9] == [], r
    fs = findings(doc)
    assert list(fs) == ["serial-behind"] and named(fs["serial-behind"]) == [lag.addr], r
    assert doc["verdict"] == "not-converged", r
    assert doc["monitor"] == {"zones": [{"name": ZONE.rstrip(".")}]}, r

    # --fix without --yes and without a terminal: not confirmed, not sent
    r = doctor(f, "--fix", "--notify-wait", "2", "--deadline", "30")
    assert r.rc == 2, r
    assert r.err == f"soasync: {ZONE}: skipped NOTIFY {lag.addr}: {NOT_CONFIRMED}\n", r
    st = text_steps(r)
    # a declined NOTIFY is no repair: doctor says "failed" ("0 of 1
    # acknowledged the NOTIFY"); "skipped" would describe it as well
    assert st[6][0] in ("failed", "skipped") and st[7][0] in ("failed", "skipped"), r
    assert st[8] == ("problem", f"not converged: the reference is {b.new}"), r
    assert last_line(r) == f"{ZONE}: NOT converged", r
    # nothing reached the laggard: its log has no NOTIFY from the checker
    assert checker_notifies(lag, f) == [], log_text(lag)[-3000:]
    assert serials(*b.servers) == {p.name: b.new, lag.name: b.old, other.name: b.new}

    # --fix --yes: NOTIFY, transfer, converged
    r = doctor(f, "--fix", "--yes", "--json", "--notify-wait", "10", "--deadline", "30")
    assert r.rc == 0, r
    assert r.err == "", r                      # with --json the actions are in the JSON
    doc = r.doc()
    assert (doc["zone"], doc["converged"], doc["reference_serial"]) == (ZONE, True, b.new), r
    st = steps_of(doc)
    assert statuses(doc) == ["problem", "skipped", "skipped", "ok", "skipped", "fixed",
                             "fixed", "ok", "advice"], r
    assert st[6][1] == f"1 of 1 acknowledged the NOTIFY: {lag.name} ({lag.addr}) acknowledged", r
    assert st[7][1] == "1 notified server transferred the zone", r
    assert st[8][1] == f"every server serves {b.new}", r
    assert doc["verdict"] == "converged", r
    assert actions(doc) == [("notify", lag.addr, "acknowledged")], r
    assert doc["findings"] == [], r
    # the real state: every server serves the new serial, and exactly one
    # NOTIFY (with that serial) came from the checker
    for s in b.servers:
        s.wait_serial(ZONE, b.new, timeout=2)
    wait_checker_notifies(lag, f, [b.new])

    # once more, in text: the primary moves again, the laggard stays behind
    newer = b.bump()
    # (--timeout: the older name of --deadline)
    r = doctor(f, "--fix", "--yes", "--notify-wait", "10", "--timeout", "30")
    assert r.rc == 0, r
    assert r.err == f"soasync: {ZONE}: notify {lag.addr}: acknowledged\n", r
    st = text_steps(r)
    assert [s for s, _ in st.values()] == ["problem", "skipped", "skipped", "ok", "skipped",
                                           "fixed", "fixed", "ok", "advice"], r
    assert st[8][1] == f"every server serves {newer}", r
    assert last_line(r) == f"{ZONE}: every server serves the same serial", r
    for s in b.servers:
        s.wait_serial(ZONE, newer, timeout=2)
    wait_checker_notifies(lag, f, [b.new, newer])

    # check agrees; doctor now has nothing to do (and sends nothing)
    r, z = check(f)
    assert r.rc == 0 and z["findings"] == [] and z["reference_serial"] == newer, r
    r = doctor(f, "--fix", "--yes", "--json", "--notify-wait", "2", "--deadline", "30")
    assert r.rc == 0, r
    doc = r.doc()
    st = steps_of(doc)
    assert statuses(doc) == ["ok", "skipped", "skipped", "ok", "skipped", "ok", "ok", "ok",
                             "advice"], r
    assert st[6][1] == "no server is behind: nothing to notify", r
    assert actions(doc) == [] and doc["converged"] is True, r
    assert checker_notifies(lag, f) == as_logged(lag, [b.new, newer])


# --------------------------------------------------------------------------
# 2. the primary refuses one secondary's transfers


def refused_transfer(f: harness.Fleet, victim_kind: str):
    """``ns1`` primary (moved from 100 on), ``ns2`` the victim whose transfers
    it refuses (it accepts NOTIFY from the checker), ``ns3`` in sync.
    Returns ``(primary, victim, other, new serial)``."""
    pk, ok = LAYOUT[victim_kind]
    p = f.server(pk, "ns1.example.test.")
    p.primary(ZONE, 100, RECORDS)
    victim = f.server(victim_kind, "ns2.example.test.")
    victim.secondary(ZONE, p, allow_notify=[f.checker_addr])
    other = f.server(ok, "ns3.example.test.")
    other.secondary(ZONE, p, allow_notify=[f.checker_addr])
    f.start()
    p.zone(ZONE).deny_transfer = [victim.addr]
    p.reconfigure()
    new = p.bump(ZONE)
    other.wait_serial(ZONE, new)
    assert victim.serial(ZONE) == 100
    return p, victim, other, new


@pytest.mark.parametrize("victim_kind", KINDS)
def test_refused_transfer_secondary_not_transferring(fleet, doctor, victim_kind):
    f = fleet(delegation=True)
    pk = LAYOUT[victim_kind][0]
    p, victim, other, new = refused_transfer(f, victim_kind)

    # once secondary-not-transferring is diagnosed, waiting cannot help:
    # doctor ends (it used to wait out its whole limit, here 90 s)
    r = doctor(f, "--fix", "--yes", "--json", "--notify-wait", "2", "--deadline", "90",
               timeout=120)
    assert r.rc == 2, r
    assert r.elapsed < 30, f"doctor kept waiting after its diagnosis was final\n{r}"
    doc = r.doc()
    assert (doc["converged"], doc["reference_serial"]) == (False, new), r
    st = steps_of(doc)
    assert statuses(doc) == ["problem", "skipped", "skipped", "ok", "skipped", "fixed",
                             "problem", "problem", "advice"], r
    assert st[6][1] == f"1 of 1 acknowledged the NOTIFY: {victim.name} ({victim.addr}) acknowledged", r
    assert st[7][1] == ("1 server acknowledged the NOTIFY but did not transfer within 2 s "
                        "(see secondary-not-transferring)"), r
    assert step_servers(doc)[7] == [victim.addr], r
    assert st[8][1] == f"not converged: the reference is {new}", r
    assert actions(doc) == [("notify", victim.addr, "acknowledged")], r
    fs = findings(doc)
    assert sorted(fs) == ["secondary-not-transferring", "serial-behind"], r
    assert named(fs["serial-behind"]) == [victim.addr], r
    fd = fs["secondary-not-transferring"]
    assert fd["severity"] == "critical" and named(fd) == [victim.addr], fd
    assert fd["message"] == (f"{victim.name} ({victim.addr}) acknowledged the NOTIFY but still "
                             f"serves 100 after 2 s: its transfers are probably refused by the "
                             f"primary, or it pulls from another primary"), fd
    # (BIND's vendor can be lost on doctor's re-probes: see
    # test_vendor_hints_survive_bind_chaos_rate_limit)
    hints = [SOURCE_HINT[victim_kind]] + (
        ["on the secondary: the primaries it transfers from"] if victim_kind == "bind" else [])
    acls = [TRANSFER_ACL_HINT[pk]] + (["the server's transfer ACL"] if pk == "bind" else [])
    assert any(fd["fix"].startswith(f"check {h}; and on the primary, that {victim.addr} may "
                                    f"transfer the zone ({a}), with its TSIG key")
               for h in hints for a in acls), fd
    assert other.addr not in fd["message"] + fd["fix"], fd
    # it did get the NOTIFY (from the checker, with the new serial) and stayed
    wait_checker_notifies(victim, f, [new])
    assert serials(p, victim, other) == {p.name: new, victim.name: 100, other.name: new}

    if victim_kind != "knot":
        return
    # the text form names it too (once is enough)
    r = doctor(f, "--fix", "--yes", "--notify-wait", "1", "--deadline", "30")
    assert r.rc == 2, r
    assert r.err == f"soasync: {ZONE}: notify {victim.addr}: acknowledged\n", r
    assert text_steps(r)[7][0] == "problem", r
    assert (f"  critical secondary-not-transferring: {victim.name} ({victim.addr}) acknowledged "
            f"the NOTIFY but still serves 100 after 1 s" in r.out), r
    assert last_line(r) == f"{ZONE}: NOT converged", r
    assert victim.serial(ZONE) == 100


#: how far past --deadline a run may end (process start, the last lines)
DEADLINE_SLACK = 2.0


def test_deadline_is_never_passed(fleet, doctor):
    """--notify-wait longer than --deadline: the deadline wins, the wait is
    cut short and says how long it really was, and the diagnosis is made."""
    f = fleet(delegation=True)
    p, victim, other, new = refused_transfer(f, "knot")
    r = doctor(f, "--fix", "--yes", "--json", "--notify-wait", "60", "--deadline", "6")
    assert r.rc == 2, r
    assert r.elapsed < 6 + DEADLINE_SLACK, f"--deadline 6 took {r.elapsed:.2f}s\n{r}"
    doc = r.doc()
    st = steps_of(doc)
    m = re.fullmatch(r"1 server acknowledged the NOTIFY but did not transfer within ([\d.]+) s "
                     r"\(see secondary-not-transferring\)", st[7][1])
    assert m and float(m.group(1)) < 6, r     # (a second is kept for the last probe)
    assert sorted(findings(doc)) == ["secondary-not-transferring", "serial-behind"], r
    assert actions(doc) == [("notify", victim.addr, "acknowledged")], r


def test_progress_on_a_terminal_with_json(fleet, soasync_bin):
    """--json is one object on stdout at the end; while doctor waits, a
    terminal on stderr shows what it waits for (and the line is erased at
    the end)."""
    f = fleet(delegation=True)
    p, victim, other, new = refused_transfer(f, "nsd")
    b = Background(soasync_bin, "doctor", *net(f), "--fix", "--yes", "--json", "--notify-wait",
                   "4", "--deadline", "60", ZONE, tty=True)
    try:
        want = f"7 transfer: waiting for {victim.name} ({victim.addr})"
        harness.wait_until(lambda: want in b.stderr_so_far, 30,
                           what=f"the progress line ({want!r})")
        r = b.finish(timeout=60)
    finally:
        b.kill()
    assert r.rc == 2, r
    assert len(r.out.splitlines()) == 1, r
    doc = json.loads(r.out)
    assert doc["verdict"] == "not-converged" and steps_of(doc)[7][0] == "problem", r
    assert re.search(rf"soasync: {re.escape(ZONE)}: 7 transfer: waiting for "
                     rf"{re.escape(victim.name)} \({re.escape(victim.addr)}\) \[\d+s/60s\]",
                     r.err), r.err
    assert r.err.endswith("\r\x1b[K"), repr(r.err[-40:])


def test_no_server_answers(fleet, soasync):
    """Nobody answers with the zone's SOA: no reference, so the steps that
    need one are not possible (not "ok"), and the last line says why."""
    f = fleet()
    a, b = sorted((f.closed_address(), f.closed_address()), key=ipaddress.ip_address)
    args = ["doctor", "--ns", f"{a},{b}", "--source", f.checker_addr, "--content",
            "--candidate-primary", a, "--fix", "--yes"]
    r = soasync(*args, "--json", ZONE)
    assert r.rc == 2 and r.err == "", r
    doc = r.doc()
    assert (doc["verdict"], doc["converged"], doc["reference_serial"]) == \
        ("no-reference", False, None), r
    st = steps_of(doc)
    assert statuses(doc) == ["problem", "skipped", "blocked", "blocked", "blocked", "blocked",
                             "blocked", "blocked", "advice"], r
    assert st[1][1] == (f"no server answered with the zone's SOA; {a}: connection refused; "
                        f"{b}: connection refused"), r
    assert step_servers(doc)[1] == [a, b], r
    for i in range(3, 9):
        assert st[i][1].startswith("not possible: no server answered with the zone's SOA"), r
    assert actions(doc) == [], r
    r = soasync(*args, ZONE)
    assert r.rc == 2, r
    assert last_line(r) == f"{ZONE}: NOT converged: no server answered with the zone's SOA", r


def test_monitor_config_lines(fleet, soasync, tmp_path):
    """Step 9 points to soasync monitor with the config lines that watch the
    zone as doctor did (name; --primary and --ns when given)."""
    f = fleet()
    zs = harness.standard_zone(f, ZONE, primary="knot", secondaries=("nsd",))
    ns = [s.addr for s in zs.servers]
    args = ["doctor", "--ns", ",".join(ns), "--primary", zs.primary.addr, "--source",
            f.checker_addr, ZONE]
    want = {"zones": [{"name": ZONE.rstrip("."), "primary": zs.primary.addr, "ns": ns}]}
    r = soasync(*args)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("  9 guard "))
    assert "soasync monitor" in lines[i], r
    block = []
    for line in lines[i + 1:]:
        if not line.startswith("    "):
            break
        block.append(line[4:])
    assert yaml.safe_load("\n".join(block)) == want, r
    assert last_line(r) == f"{ZONE}: every server serves the same serial", r
    # the monitor takes them as they are
    conf = tmp_path / "monitor.yaml"
    conf.write_text(f"database: {tmp_path / 'monitor.db'}\n" + "\n".join(block) + "\n")
    m = soasync("monitor", "--config", conf, "--check-config")
    assert m.rc == 0 and "valid, 1 zones" in m.out + m.err, m
    r = soasync(*args[:-1], "--json", ZONE)
    assert r.rc == 0 and r.doc()["monitor"] == want, r


def test_help_names_the_deadline(soasync):
    """--deadline is the overall limit; its older name --timeout still works
    but --help lists only one of them."""
    r = soasync("doctor", "--help")
    assert r.rc == 0, r
    assert re.search(r"^  --deadline DURATION ", r.out, re.M), r.out
    assert not re.search(r"^  --timeout\b", r.out, re.M), r.out


def version_bind(addr: str, source: str) -> bool:
    """One CHAOS version.bind query; True if it was answered."""
    q = dns.message.make_query("version.bind", "TXT", "CH")
    q.flags = 0
    try:
        dns.query.udp(q, addr, timeout=0.2, source=source)
        return True
    except dns.exception.Timeout:
        return False


def test_vendor_hints_survive_bind_chaos_rate_limit(fleet, soasync_bin):
    """BIND 9.18's built-in CHAOS view rate-limits version.bind (3 answers a
    second per client /24, dropped without a slip), and doctor asks for the
    version again on every re-probe of the fixed server list.  The vendor
    learned on the first probe must not be lost when a later version.bind
    goes unanswered: the findings built from the last probe keep naming
    BIND's commands.  Here other queries from the checker's /24 (the
    harness's address) keep the limit busy once doctor's first probe is
    done, as any monitoring from the same network would."""
    f = fleet(delegation=True)
    p = f.nsd("ns1.example.test.")
    p.primary(ZONE, 100, RECORDS)
    victim = f.bind("ns2.example.test.")
    victim.secondary(ZONE, p, allow_notify=[f.checker_addr])
    other = f.knot("ns3.example.test.")
    other.secondary(ZONE, p)
    f.start()
    p.zone(ZONE).deny_transfer = [victim.addr]
    p.reconfigure()
    new = p.bump(ZONE)
    other.wait_serial(ZONE, new)
    assert victim.serial(ZONE) == 100

    argv = [soasync_bin, "doctor", *net(f), "--fix", "--yes", "--json", "--notify-wait", "2",
            "--deadline", "30", ZONE]
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        # doctor's first probe is over once its NOTIFY arrives
        wait_checker_notifies(victim, f, [new], timeout=10)
        dropped = 0
        while proc.poll() is None:
            dropped += not version_bind(victim.addr, f.harness_addr)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    r = checked(SoasyncResult(argv, proc.returncode, out.decode(errors="backslashreplace"),
                              err.decode(errors="backslashreplace"),
                              elapsed=time.monotonic() - t0))
    assert dropped > 0, "BIND's CHAOS rate limit never dropped a version.bind query"
    assert r.rc == 2, r
    fs = findings(r.doc())
    assert sorted(fs) == ["secondary-not-transferring", "serial-behind"], r
    assert fs["serial-behind"]["fix"].startswith(
        f"on {victim.addr} (bind): rndc retransfer example.test"), fs["serial-behind"]
    assert fs["secondary-not-transferring"]["fix"].startswith(
        f"check {SOURCE_HINT['bind']}"), fs["secondary-not-transferring"]


# --------------------------------------------------------------------------
# 3. a secondary pulling from the old provider


@pytest.mark.parametrize("stale", ["knot", "bind", "pdns"])
def test_secondary_pulling_from_old_primary(fleet, doctor, stale):
    f = fleet(delegation=True)
    kinds = [k for k in KINDS if k != stale]
    p = f.server(kinds[0], "ns1.example.test.")
    good = f.server(kinds[1], "ns2.example.test.")
    lag = f.server(stale, "ns3.example.test.")
    old = f.server("nsd" if stale != "nsd" else "knot", "old-provider.example.test.")
    p.primary(ZONE, 20, ["www IN A 192.0.2.20", RECORDS[1]])
    old.primary(ZONE, 10, ["www IN A 192.0.2.10", RECORDS[1]], hidden=True)
    old.render_zone = lambda z: p.render_zone(z)     # the same MNAME and NS set
    good.secondary(ZONE, p)
    lag.secondary(ZONE, old, allow_notify=[f.checker_addr])
    f.start()
    assert serials(p, good, lag) == {p.name: 20, good.name: 20, lag.name: 10}
    cand = ["--candidate-primary", old.addr, "--content"]

    r = doctor(f, *cand, "--json")
    assert r.rc == 2 and r.err == "", r
    doc = r.doc()
    st = steps_of(doc)
    assert statuses(doc) == ["problem", "skipped", "ok", "ok", "problem", "problem",
                             "skipped", "problem", "advice"], r
    wrong = (f"{lag.name} ({lag.addr}) serves serial 10 with exactly the data of candidate "
             f"{old.addr}, not the primary's serial 20: it is pulling from {old.addr}")
    assert st[5][1].startswith(wrong + "; point " + lag.addr + " at the primary " + p.addr), r
    assert st[6][1] == f"1 server is behind: --fix sends a NOTIFY to {lag.name} ({lag.addr})", r
    assert st[8][1] == "not converged: the reference is 20 (data compared)", r
    assert step_servers(doc)[5] == [lag.addr], r
    fs = findings(doc)
    assert sorted(fs) == ["secondary-wrong-source", "serial-behind"], r
    assert named(fs["serial-behind"]) == [lag.addr], r
    fd = fs["secondary-wrong-source"]
    assert fd["severity"] == "critical" and named(fd) == [lag.addr], fd
    assert fd["message"] == wrong, fd
    assert actions(doc) == [], r

    r = doctor(f, *cand, "--fix", "--yes", "--json", "--notify-wait", "2", "--deadline", "30")
    assert r.rc == 2, r
    doc = r.doc()
    st = steps_of(doc)
    assert statuses(doc) == ["problem", "skipped", "ok", "ok", "problem", "fixed", "problem",
                             "problem", "advice"], r
    assert actions(doc) == [("notify", lag.addr, "acknowledged")], r
    fs = findings(doc)
    assert sorted(fs) == ["secondary-not-transferring", "secondary-wrong-source",
                          "serial-behind"], r
    for code in fs:
        assert named(fs[code]) == [lag.addr], fs[code]
    assert fs["secondary-not-transferring"]["message"].startswith(
        f"{lag.name} ({lag.addr}) acknowledged the NOTIFY but still serves 10 after 2 s"), r
    assert fs["secondary-not-transferring"]["fix"].startswith(f"check {SOURCE_HINT[stale]}"), r
    # it was notified and is still on the old provider's copy
    wait_checker_notifies(lag, f, [20])
    assert serials(p, good, lag) == {p.name: 20, good.name: 20, lag.name: 10}
    assert rdatas(lag, f"www.{ZONE}") == {"192.0.2.10"}


def test_mname_names_a_lagging_secondary(fleet, doctor, wait_until):
    """The SOA MNAME names a secondary (BIND) that is behind; EDNS EXPIRE
    shows it is one (it counts down) and the Knot server answering as a
    primary is the reference. doctor takes the check model's primary, so
    the MNAME server is a laggard like any other: notified, and converged;
    its probes after the first judge the primary as the first did."""
    f = fleet(delegation=True)
    p = f.server("knot", "ns1.example.test.")
    p.primary(ZONE, 1, RECORDS, mname="ns2.example.test.")
    s = f.server("bind", "ns2.example.test.")
    s.secondary(ZONE, p, notified=False, allow_notify=[f.checker_addr])
    t = f.server("nsd", "ns3.example.test.")
    t.secondary(ZONE, p)
    f.start()
    expire = p.zone(ZONE).timers.expire
    wait_until(lambda: edns_expire(p, ZONE) == expire)
    wait_until(lambda: (edns_expire(s, ZONE) or expire) < expire, timeout=15)
    new = p.bump(ZONE)
    t.wait_serial(ZONE, new)
    assert s.serial(ZONE) == 1

    r = doctor(f)
    assert r.rc == 2, r
    assert (f"{ZONE} critical  reference serial {new} ({p.addr})  primary: answers EDNS "
            f"EXPIRE as a primary (the SOA MNAME {s.name} is a secondary)") in r.out, r
    st = text_steps(r)
    assert st[1][1] == (f"2 of 3 addresses serve the reference {new} ({p.addr}); "
                        f"{s.name} ({s.addr}) serves 1"), r
    assert st[6][1] == f"1 server is behind: --fix sends a NOTIFY to {s.name} ({s.addr})", r

    r = doctor(f, "--fix", "--yes", "--json", "--notify-wait", "10", "--deadline", "30")
    assert r.rc == 0, r
    doc = r.doc()
    assert (doc["converged"], doc["reference_serial"]) == (True, new), r
    assert steps_of(doc)[6][1] == f"1 of 1 acknowledged the NOTIFY: {s.name} ({s.addr}) acknowledged"
    assert actions(doc) == [("notify", s.addr, "acknowledged")], r
    s.wait_serial(ZONE, new, timeout=2)


# --------------------------------------------------------------------------
# 4. the laggard refuses the NOTIFY


@pytest.mark.parametrize("lag_kind", KINDS)
def test_notify_refused_by_laggard(fleet, doctor, lag_kind):
    """The laggard refuses the checker's NOTIFY (PowerDNS 4.7 accepts NOTIFY
    from the zone's primaries only, or from a trusted-notification-proxy,
    whatever allow-notify-from says): the diagnosis is final at once, and
    the advice is the vendor's (for PowerDNS both ways out: pdns_control
    retrieve, or trust this host as a proxy)."""
    f = fleet(delegation=True)
    b = Laggard(f, lag_kind, accept_checker=False)
    lag = b.lag
    # the refusal is final: doctor does not wait for that secondary at all
    # (not --notify-wait, not the deadline)
    r = doctor(f, "--fix", "--yes", "--json", "--notify-wait", "30", "--deadline", "50")
    assert r.rc == 2, r
    assert r.elapsed < 20, f"doctor waited after the NOTIFY was refused\n{r}"
    doc = r.doc()
    st = steps_of(doc)
    assert statuses(doc) == ["problem", "skipped", "skipped", "ok", "skipped", "failed",
                             "failed", "problem", "advice"], r
    assert st[6][1] == (f"0 of 1 acknowledged the NOTIFY: {lag.name} ({lag.addr}) refused "
                        f"({NOTIFY_REFUSAL[lag_kind]})"), r
    assert st[7][1] == "no server acknowledged the NOTIFY: nothing could transfer", r
    assert actions(doc) == [("notify", lag.addr, "refused")], r
    fs = findings(doc)
    assert sorted(fs) == ["notify-refused", "serial-behind"], r
    fd = fs["notify-refused"]
    assert fd["severity"] == "warning" and named(fd) == [lag.addr], fd
    assert fd["message"].startswith(f"{lag.name} ({lag.addr}) refused the NOTIFY "
                                    f"({NOTIFY_REFUSAL[lag_kind]}): it will only catch up at "
                                    f"its next refresh"), fd
    assert fd["fix"] == ALLOW_NOTIFY_HINT[lag_kind], fd
    assert named(fs["serial-behind"]) == [lag.addr], r
    assert serials(*b.servers) == {b.primary.name: b.new, lag.name: b.old, b.other.name: b.new}
    assert checker_notifies(lag, f) == []

    r = doctor(f, "--fix", "--yes", "--notify-wait", "2", "--deadline", "30")
    assert r.rc == 2, r
    assert r.err == f"soasync: {ZONE}: notify {lag.addr}: refused\n", r
    assert (f"  warning notify-refused: {lag.name} ({lag.addr}) refused the NOTIFY "
            f"({NOTIFY_REFUSAL[lag_kind]})" in r.out), r
    assert last_line(r) == f"{ZONE}: NOT converged", r


# --------------------------------------------------------------------------
# 5. --zonefile: an edit never loaded; an edit without a serial bump


@pytest.mark.parametrize("pk", KINDS)
def test_zonefile_not_published_reloaded(fleet, doctor, tmp_path, pk):
    f = fleet(delegation=True)
    p, secs = file_zone(f, pk)
    zf = p.zone_file(ZONE)
    p.write_zone(ZONE, 11, EDITED, reload=False)          # edited, raised, not loaded
    assert p.serial(ZONE) == 10
    text = zf.read_bytes()
    marker = tmp_path / "reloads"
    cmd = reload_cmd(p, marker)
    msg = (f"the zone file {zf} has serial 11, but the primary's ({p.addr}) serial is 10: "
           f"the edit was never loaded or published")

    # report only: step 2 is the problem; the servers agree, but on data the
    # source of truth has moved past: not healed, exit 2
    r = doctor(f, "--zonefile", zf, "--json")
    assert r.rc == 2 and r.doc()["converged"] is True, r
    doc = r.doc()
    st = steps_of(doc)
    assert statuses(doc) == ["ok", "problem", "ok", "ok", "skipped", "ok", "ok", "ok",
                             "advice"], r
    assert st[2][1] == msg + " (--fix --reload-cmd CMD loads it)", r
    fs = findings(doc)
    assert list(fs) == ["zonefile-not-published"], r
    assert fs["zonefile-not-published"]["message"] == msg, r
    assert named(fs["zonefile-not-published"]) == [p.addr], r
    assert doc["verdict"] == "file-not-served" and step_servers(doc)[2] == [p.addr], r
    # in text the last line says so (it said "every server serves the same serial")
    r = doctor(f, "--zonefile", zf)
    assert r.rc == 2, r
    assert last_line(r) == (f"{ZONE}: NOT healed: every server serves 10, but the zone file "
                            f"has 11 (step 2, published)"), r

    # --fix without --yes (no terminal): the reload command is not run
    r = doctor(f, "--zonefile", zf, "--fix", "--reload-cmd", cmd, "--json",
               "--notify-wait", "2", "--deadline", "30")
    assert r.rc == 2, r                       # every server still serves 10: not healed
    doc = r.doc()
    assert steps_of(doc)[2][0] == "failed", r
    assert actions(doc) == [("skipped", cmd, NOT_CONFIRMED)], r
    assert reload_calls(marker) == [] and p.serial(ZONE) == 10, r

    # --fix --yes: reloaded, the primary serves 11, doctor notifies the
    # secondaries, all converge on the edited data
    r = doctor(f, "--zonefile", zf, "--fix", "--yes", "--reload-cmd", cmd, "--json",
               "--notify-wait", "10", "--deadline", "30")
    assert r.rc == 0, r
    assert reload_calls(marker) == [f"{ZONE} {zf}"], r
    doc = r.doc()
    assert (doc["converged"], doc["reference_serial"]) == (True, 11), r
    st = steps_of(doc)
    assert statuses(doc) == ["ok", "fixed", "ok", "ok", "skipped", "fixed", "fixed", "ok",
                             "advice"], r
    assert st[1][1] == f"3 of 3 addresses serve the reference 10 ({p.addr})", r
    assert st[2][1] == msg + "; reloaded: the primary serves it now", r
    assert st[6][1] == acknowledged(*secs), r
    assert st[7][1] == "2 notified servers transferred the zone", r
    assert st[8][1] == "every server serves 11", r
    got = actions(doc)
    assert got[0] == ("reload", cmd, "done"), r
    assert sorted(got[1:]) == sorted(("notify", s.addr, "acknowledged") for s in secs), r
    assert doc["findings"] == [], r
    assert zf.read_bytes() == text, "doctor changed a file whose serial was already raised"
    for s in [p] + secs:
        s.wait_serial(ZONE, 11, timeout=2)
        assert rdatas(s, f"new.{ZONE}") == {"192.0.2.99"}, s
    for s in secs:
        assert checker_notifies(s, f) == as_logged(s, [11]), s


@pytest.mark.parametrize("pk", KINDS)
def test_zonefile_edited_without_bump_serial_raised(fleet, doctor, tmp_path, pk):
    f = fleet(delegation=True)
    p, secs = file_zone(f, pk)
    zf = p.zone_file(ZONE)
    p.write_zone(ZONE, 10, EDITED, reload=False)           # edited, serial not raised
    before = zf.read_text()
    marker = tmp_path / "reloads"
    cmd = reload_cmd(p, marker)
    msg = (f"the zone file {zf} and the primary's ({p.addr}) data differ at the same serial 10 "
           f"(3 records; - only served, + only in the file: + new.{ZONE} 300 IN A 192.0.2.99; "
           f"- www.{ZONE} 300 IN A 192.0.2.1; + www.{ZONE} 300 IN A 192.0.2.2): the file was "
           f"edited without raising the serial")

    r = doctor(f, "--zonefile", zf, "--content", "--json")
    assert r.rc == 2, r                       # all serve 10, same data, but not the file's
    doc = r.doc()
    st = steps_of(doc)
    assert statuses(doc) == ["ok", "ok", "problem", "ok", "skipped", "ok", "ok", "ok",
                             "advice"], r
    assert st[3][1] == msg + " (--fix raises the serial in the file and reloads it)", r
    fs = findings(doc)
    assert list(fs) == ["serial-not-bumped"] and named(fs["serial-not-bumped"]) == [p.addr], r
    assert doc["verdict"] == "file-not-served", r
    assert zf.read_text() == before and reload_calls(marker) == []

    r = doctor(f, "--zonefile", zf, "--content", "--fix", "--yes", "--reload-cmd", cmd,
               "--json", "--notify-wait", "10", "--deadline", "30")
    assert r.rc == 0, r
    # the file: only the serial digits changed, 10 -> 11
    assert zf.read_text() == with_serial(before, 11), zf.read_text()
    assert reload_calls(marker) == [f"{ZONE} {zf}"], r
    doc = r.doc()
    assert (doc["converged"], doc["reference_serial"]) == (True, 11), r
    st = steps_of(doc)
    assert statuses(doc) == ["ok", "ok", "fixed", "ok", "skipped", "fixed", "fixed", "ok",
                             "advice"], r
    assert st[3][1] == msg + "; serial raised and reloaded", r
    assert st[8][1] == "every server serves 11 with the same data", r
    got = actions(doc)
    assert got[:2] == [("bump", str(zf), "10 -> 11"), ("reload", cmd, "done")], r
    assert sorted(got[2:]) == sorted(("notify", s.addr, "acknowledged") for s in secs), r
    assert doc["findings"] == [], r
    for s in [p] + secs:
        s.wait_serial(ZONE, 11, timeout=2)
        assert rdatas(s, f"www.{ZONE}") == {"192.0.2.2"}, s
        assert rdatas(s, f"new.{ZONE}") == {"192.0.2.99"}, s


def test_same_serial_different_data_serial_raised(fleet, doctor, tmp_path):
    """The primary loaded an edit under the old serial; the secondaries keep
    the old data (same-serial-different-data).  Without --zonefile doctor can
    only say so; with it, --fix --policy unixtime raises the file's serial
    to the current Unix time, reloads, notifies, and the data converges."""
    f = fleet(delegation=True)
    p, secs = file_zone(f, "bind")
    zf = p.zone_file(ZONE)
    p.write_zone(ZONE, 10, EDITED, wait=False)             # loaded, serial unchanged
    wait_stable(lambda: rdatas(p, f"www.{ZONE}") == {"192.0.2.2"},
                what="the primary to serve the unbumped edit")
    assert serials(p, *secs) == {s.name: 10 for s in [p] + secs}
    before = zf.read_text()
    marker = tmp_path / "reloads"
    cmd = reload_cmd(p, marker)

    r = doctor(f, "--content", "--json")
    assert r.rc == 2, r                       # same serial, other data: not converged
    doc = r.doc()
    st = steps_of(doc)
    assert statuses(doc) == ["ok", "skipped", "problem", "ok", "skipped", "ok", "ok",
                             "problem", "advice"], r
    assert st[3][1].startswith(f"same serial 10, other data than the primary's ({p.addr})"), r
    assert st[3][1].endswith(" (give --zonefile FILE to let --fix raise the serial)"), r
    assert st[8][1] == "not converged: the reference is 10 (data compared)", r
    fs = findings(doc)
    assert list(fs) == ["same-serial-different-data"], r
    assert named(fs["same-serial-different-data"]) == addrs(*secs), r

    t0 = int(time.time())
    r = doctor(f, "--zonefile", zf, "--content", "--fix", "--yes", "--policy", "unixtime",
               "--reload-cmd", cmd, "--json", "--notify-wait", "10", "--deadline", "30")
    t1 = int(time.time())
    assert r.rc == 0, r
    m = SOA_LINE.search(zf.read_text())
    new = int(m.group(2))
    assert t0 <= new <= t1, f"--policy unixtime gave {new}, not a time in [{t0}, {t1}]"
    assert zf.read_text() == with_serial(before, new), zf.read_text()
    assert reload_calls(marker) == [f"{ZONE} {zf}"], r
    doc = r.doc()
    assert (doc["converged"], doc["reference_serial"]) == (True, new), r
    st = steps_of(doc)
    assert statuses(doc) == ["ok", "ok", "fixed", "ok", "skipped", "fixed", "fixed", "ok",
                             "advice"], r
    assert st[3][1].startswith(f"same serial 10, other data than the primary's ({p.addr})"), r
    assert st[3][1].endswith("; serial raised and reloaded"), r
    assert st[8][1] == f"every server serves {new} with the same data", r
    got = actions(doc)
    assert got[:2] == [("bump", str(zf), f"10 -> {new}"), ("reload", cmd, "done")], r
    assert sorted(got[2:]) == sorted(("notify", s.addr, "acknowledged") for s in secs), r
    assert doc["findings"] == [], r
    for s in [p] + secs:
        s.wait_serial(ZONE, new, timeout=2)
        assert rdatas(s, f"www.{ZONE}") == {"192.0.2.2"}, s


def test_reload_cmd_output_stays_off_json_stdout(fleet, doctor, tmp_path):
    """--json promises one JSON object on stdout; what --reload-cmd prints
    (rndc says "zone reload queued", the example in the help) must not end
    up in front of it."""
    f = fleet(delegation=True)
    p, secs = file_zone(f, "knot")
    zf = p.zone_file(ZONE)
    p.write_zone(ZONE, 11, EDITED, reload=False)
    # it prints "reload-cmd-said-42" (the text is not in the command itself,
    # which the JSON quotes as the action's target)
    cmd = "echo reload-cmd-said-$((6 * 7)); " + reload_cmd(p, tmp_path / "reloads")
    r = doctor(f, "--zonefile", zf, "--fix", "--yes", "--reload-cmd", cmd, "--json",
               "--notify-wait", "10", "--deadline", "30")
    assert r.rc == 0, r
    assert "reload-cmd-said-42" not in r.out, f"the reload command wrote into the JSON\n{r}"
    doc = r.doc()
    assert doc["converged"] is True and doc["reference_serial"] == 11, r
    for s in [p] + secs:
        s.wait_serial(ZONE, 11, timeout=2)


def test_fix_without_reload_cmd(fleet, doctor):
    """An unpublished file and --fix --yes but no --reload-cmd: doctor says
    how to repair it and changes nothing."""
    f = fleet(delegation=True)
    p, secs = file_zone(f, "nsd")
    zf = p.zone_file(ZONE)
    p.write_zone(ZONE, 11, EDITED, reload=False)
    text = zf.read_bytes()
    r = doctor(f, "--zonefile", zf, "--fix", "--yes", "--json", "--notify-wait", "2",
               "--deadline", "30")
    assert r.rc == 2, r                       # every server still serves 10: not healed
    doc = r.doc()
    st = steps_of(doc)
    assert st[2][0] == "failed" and st[2][1].endswith("; still not served"), r
    assert actions(doc) == [("reload", "primary", "not possible: give --reload-cmd CMD")], r
    assert zf.read_bytes() == text
    assert serials(p, *secs) == {s.name: 10 for s in [p] + secs}


# --------------------------------------------------------------------------
# 6. the primary went backwards: a plan, never a change


def test_primary_backwards_plan_only(fleet, doctor, soasync, tmp_path):
    f = fleet(delegation=True)
    zs = harness.scenario_backwards(f, ZONE, high=20, low=10)
    p, s1, s2 = zs.servers
    zf = p.zone_file(ZONE)
    text = zf.read_bytes()
    marker = tmp_path / "reloads"
    plan = soasync("serial", "plan", "20", "10")
    assert plan.rc == 0, plan
    steps = " ".join(plan.out.split())                     # "2147483667 10"
    assert steps == "2147483667 10", plan

    r = doctor(f, "--json")
    assert r.rc == 2 and r.err == "", r
    doc = r.doc()
    st = steps_of(doc)
    assert statuses(doc) == ["problem", "skipped", "skipped", "problem", "skipped", "ok", "ok",
                             "problem", "advice"], r
    obs = st[4][1]
    assert obs.startswith(f"the primary ({p.addr}) serves 10, lower than 20 on "), r
    assert f"soasync serial plan 20 10: {steps}" in obs, r
    assert "soasync serial bump --at-least 21" in obs, r
    fs = findings(doc)
    assert list(fs) == ["primary-behind"], r
    assert fs["primary-behind"]["severity"] == "critical", r
    assert named(fs["primary-behind"]) == addrs(s1, s2), r

    # with every repair allowed: still only the plan; nothing is run or changed
    r = doctor(f, "--zonefile", zf, "--fix", "--yes", "--reload-cmd", reload_cmd(p, marker),
               "--json", "--notify-wait", "2", "--deadline", "30")
    assert r.rc == 2, r
    doc = r.doc()
    assert statuses(doc) == ["problem", "ok", "ok", "problem", "skipped", "ok", "ok",
                             "problem", "advice"], r
    assert f"soasync serial plan 20 10: {steps}" in steps_of(doc)[4][1], r
    assert actions(doc) == [], r
    assert reload_calls(marker) == [], r
    assert zf.read_bytes() == text, "doctor changed the zone file of a primary gone backwards"
    assert serials(p, s1, s2) == {p.name: 10, s1.name: 20, s2.name: 20}

    # text: the step and the closing line
    r = doctor(f)
    assert r.rc == 2, r
    assert text_steps(r)[4][0] == "problem", r
    assert last_line(r) == f"{ZONE}: NOT converged", r

    # a zone nobody serves: a lookup error, one line
    r = doctor(f, zone="nosuch.test.")
    assert r.rc == 3 and r.out == "", r
    assert len(r.err.splitlines()) == 1 and r.err.startswith("soasync: "), r


# --------------------------------------------------------------------------
# 7. EDNS EXPIRE in check


#: which servers answer EDNS EXPIRE (measured: BIND and Knot do, NSD 4.6 and
#: PowerDNS 4.7 never)
ANSWERS_EXPIRE = {"bind": True, "nsd": False, "knot": True, "pdns": False}


@pytest.mark.parametrize("pk", KINDS)
def test_expire_reported_per_vendor(fleet, check, pk):
    """Primary ``pk``, one secondary of each vendor, SOA expire 7200 s."""
    f = fleet(delegation=True)
    timers = harness.Timers(refresh=300, retry=60, expire=7200, minimum=60)
    p = f.server(pk, "ns1.example.test.")
    p.primary(ZONE, 5, RECORDS, timers=timers)
    secs = []
    for i, k in enumerate(KINDS):
        s = f.server(k, f"ns{i + 2}.example.test.")
        s.secondary(ZONE, p)
        secs.append(s)
    f.start()

    r, z = check(f, "--expire-warn", "0")
    assert r.rc == 0 and z["findings"] == [], r
    srv = by_addr(z)
    assert sorted(srv) == addrs(p, *secs), r
    for s in [p] + secs:
        got = srv[s.addr].get("expire_s")
        if ANSWERS_EXPIRE[s.kind]:
            # a secondary counts down from the SOA expire since its last refresh
            assert isinstance(got, int) and 7200 - 120 <= got <= 7200, (s.kind, srv[s.addr])
        else:
            assert got is None, (s.kind, srv[s.addr])
    # the primary says its SOA expire
    if ANSWERS_EXPIRE[pk]:
        assert srv[p.addr]["expire_s"] == 7200, srv[p.addr]

    # default --expire-warn (86400): a warning naming the secondaries that
    # said so, never the primary
    named_secs = [s for s in secs if ANSWERS_EXPIRE[s.kind]]
    r, z = check(f)
    assert r.rc == 1 and z["status"] == "warning", r
    fs = findings(z)
    assert list(fs) == ["expiring-soon"], r
    fd = fs["expiring-soon"]
    assert fd["severity"] == "warning" and named(fd) == addrs(*named_secs), fd
    assert p.addr not in fd["message"], fd
    assert fd["message"].startswith("secondary copies expire soon (EDNS EXPIRE): "), fd
    for s in named_secs:
        assert re.search(rf"{re.escape(s.name)} \({re.escape(s.addr)}\) in (\d+) s", fd["message"]), fd
    # a threshold below the timers: nothing
    r, z = check(f, "--expire-warn", "3600")
    assert r.rc == 0 and z["findings"] == [], r


def test_expire_critical_below_an_hour(fleet, check):
    """SOA expire 1800 s: critical; the Knot primary says 1800 too and is not
    named."""
    f = fleet(delegation=True)
    timers = harness.Timers(refresh=300, retry=60, expire=1800, minimum=60)
    p = f.server("knot", "ns1.example.test.")
    p.primary(ZONE, 5, RECORDS, timers=timers)
    secs = []
    for i, k in enumerate(KINDS):
        s = f.server(k, f"ns{i + 2}.example.test.")
        s.secondary(ZONE, p)
        secs.append(s)
    f.start()
    bind_s, nsd_s, knot_s, pdns_s = secs

    r, z = check(f)
    assert r.rc == 2 and z["status"] == "critical", r
    srv = by_addr(z)
    assert srv[p.addr]["expire_s"] == 1800, r
    fs = findings(z)
    assert list(fs) == ["expiring-soon"], r
    fd = fs["expiring-soon"]
    assert fd["severity"] == "critical" and named(fd) == addrs(bind_s, knot_s), fd
    for s in (bind_s, knot_s):
        n = srv[s.addr]["expire_s"]
        assert 1800 - 120 <= n <= 1800, srv[s.addr]
        assert f"{s.name} ({s.addr}) in {n} s" in fd["message"], fd
    assert p.addr not in fd["message"] and nsd_s.addr not in fd["message"], fd
    assert pdns_s.addr not in fd["message"], fd         # PowerDNS does not answer EXPIRE
    assert f"on {bind_s.addr}: rndc retransfer example.test" in fd["fix"], fd
    assert f"on {knot_s.addr}: knotc zone-retransfer example.test" in fd["fix"], fd

    # --expire-warn below the time left: nothing; 0: off
    r, z = check(f, "--expire-warn", "1000")
    assert r.rc == 0 and z["findings"] == [], r
    r, z = check(f, "--expire-warn", "0")
    assert r.rc == 0 and z["findings"] == [], r
    # above it (but the time left is still below an hour): critical
    r, z = check(f, "--expire-warn", "2000")
    assert r.rc == 2 and findings(z)["expiring-soon"]["severity"] == "critical", r


# --------------------------------------------------------------------------
# 8. usage errors


@pytest.mark.parametrize("args,message", [
    (["doctor", "--bogus", ZONE],
     "soasync: doctor: unknown option, or one without its value: '--bogus'; "
     "see 'soasync doctor --help'"),
    (["doctor", "a.test.", "b.test."],
     "soasync: doctor: expected exactly one ZONE; see 'soasync doctor --help'"),
    (["doctor"], "soasync: doctor: expected exactly one ZONE; see 'soasync doctor --help'"),
    (["doctor", "--zonefile", "/nonexistent/db.example", ZONE],
     "soasync: /nonexistent/db.example: cannot read the zone file"),
    (["doctor", "--fix", "--yes", "--zonefile", "/nonexistent/db.example", ZONE],
     "soasync: /nonexistent/db.example: cannot read the zone file"),
    (["doctor", "--policy", "weekly", ZONE],
     "soasync: --policy: expected increment, date or unixtime, got 'weekly'"),
    (["doctor", "--notify-wait", "0", ZONE],
     "soasync: --notify-wait: expected a duration from 1s to 1h (e.g. 1500ms, 2s, 5m; a bare "
     "number counts seconds), got '0'"),
    (["doctor", "--deadline", "2x", ZONE],
     "soasync: --deadline: expected a duration from 1s to 1d (e.g. 1500ms, 2s, 5m; a bare "
     "number counts seconds), got '2x'"),
    (["doctor", "--timeout", "soon", ZONE],
     "soasync: --timeout: expected a duration from 1s to 1d (e.g. 1500ms, 2s, 5m; a bare "
     "number counts seconds), got 'soon'"),
    (["check", "--expire-warn", "-1", ZONE],
     "soasync: --expire-warn: expected a number from 0 to 4294967294, got '-1'"),
])
def test_usage_errors(soasync, args, message):
    r = soasync(*args)
    assert r.rc == 3, r
    assert r.out == "", r
    assert r.err == message + "\n", r
