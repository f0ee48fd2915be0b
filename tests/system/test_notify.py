"""System tests for ``soasync notify`` against real BIND 9.18, NSD 4.6 and Knot 3.2.

Each test builds its own small fleet (see harness.py).  The checker sends
from ``fleet.checker_addr`` (``--source``), so the secondaries' NOTIFY ACLs can
tell soasync apart from the primary.

Vendor behaviour asserted here (measured on Debian 12):

* NOTIFY from an address the secondary does not accept: Knot 3.2 answers
  NOTAUTH (and logs nothing at info level), NSD 4.6 answers REFUSED (log:
  ``notify for ZONE from ADDR refused, no acl matches``), BIND 9.18 answers
  REFUSED (log: ``refused notify from non-primary: ADDR#PORT``).
* Accepted NOTIFY carries the reference SOA; each vendor logs its serial
  (Knot ``notify, incoming, remote ADDR@PORT, serial N``, NSD ``notify for
  ZONE from ADDR serial N``, BIND ``notify from ADDR#PORT: serial N``).
* TSIG-only NOTIFY ACLs (Knot ``acl`` with ``key``, NSD ``allow-notify: ADDR
  KEY``, BIND ``allow-notify { key K; }``): unsigned NOTIFY -> Knot NOTAUTH,
  NSD REFUSED, BIND REFUSED; a wrong secret -> NOTAUTH with TSIG error BADSIG
  (all three); an unknown key name -> NOTAUTH with TSIG error BADKEY (all
  three).
* PowerDNS 4.7 as the secondary: NOTIFY from anyone but the zone's primaries
  is REFUSED ("Received NOTIFY for ZONE from ADDR which is not a master
  (Refused)"); the harness's ``allow_notify`` lists the checker in
  ``trusted-notification-proxy``, then it is accepted and logged without its
  serial.  A key is required only with ``allow-unsigned-notify=no`` (global);
  an unknown key or a wrong secret is answered NOTAUTH *without* a TSIG
  record, so no TSIG error can be shown.
"""

from __future__ import annotations

import json
import re

import pytest

import harness
from conftest import KINDS

ZONE = "example.test."
RECORDS = ["www IN A 192.0.2.1", '@ IN TXT "soasync notify test"']


# --------------------------------------------------------------------------
# local helpers




def log_text(srv) -> str:
    try:
        return srv.log.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def wait_log(srv, pattern: str, timeout: float = 5.0) -> re.Match:
    """Poll the server's own log until ``pattern`` (a regex) matches."""
    rx = re.compile(pattern)
    return harness.wait_until(lambda: rx.search(log_text(srv)), timeout,
                              what=f"{srv.kind} log to show {pattern!r}")


def ynotify(key: harness.TsigKey, secret: str | None = None) -> str:
    """``-y ALG:NAME:SECRET`` for a harness key (optionally another secret)."""
    return f"{key.algorithm}:{key.name}:{secret or key.secret}"


def rows(out: str) -> dict:
    """Text output -> {address: rest of the row}."""
    res = {}
    for line in out.splitlines():
        if line.strip():
            addr, rest = line.split(None, 1)
            res[addr] = rest
    return res


ACK_RE = re.compile(r"^acknowledged \(\d+\.\d ms\)$")


#: per laggard kind: (primary kind, other secondary kind); BIND, NSD and Knot
#: are a primary once and a notified secondary once; PowerDNS is the primary
#: in test_notify_nothing_behind
LAYOUT = {"knot": ("bind", "nsd"), "nsd": ("knot", "bind"), "bind": ("nsd", "knot"),
          "pdns": ("knot", "bind")}


class Behind:
    """``ns1`` primary, ``ns2`` the laggard (not notified, refresh 3600 s),
    ``ns3`` a notified secondary; the primary moved from 1 to 2."""

    def __init__(self, f, laggard_kind, *, accept_checker, tsig=None):
        pk, ok = LAYOUT[laggard_kind]
        self.f = f
        self.primary = f.server(pk, "ns1.example.test.")
        self.primary.primary(ZONE, 1, RECORDS, tsig=tsig)
        self.laggard = f.server(laggard_kind, "ns2.example.test.")
        allow = None
        if accept_checker == "address":
            allow = [f.checker_addr]
        elif accept_checker == "key":
            # a key-only ACL: Knot and NSD get the checker's address with the
            # zone's key (the harness writes the key into their notify ACL);
            # the harness has no key option for BIND's allow-notify, but it
            # writes the elements verbatim: 'key "NAME"' allows the key alone
            allow = [f'key "{tsig.name}"'] if laggard_kind == "bind" else [f.checker_addr]
        self.laggard.secondary(ZONE, self.primary, notified=False, tsig=tsig, allow_notify=allow)
        self.other = f.server(ok, "ns3.example.test.")
        self.other.secondary(ZONE, self.primary, tsig=tsig)
        f.start()
        self.old = 1
        self.new = self.primary.bump(ZONE)
        self.other.wait_serial(ZONE, self.new)
        assert self.laggard.serial(ZONE) == self.old, "the laggard moved on its own"

    @property
    def servers(self):
        return [self.primary, self.laggard, self.other]

    def ns_args(self):
        return ["--ns", ",".join(s.addr for s in self.servers), "--primary", self.primary.addr,
                "--source", self.f.checker_addr]


def knot_refresh_not_scheduled(srv) -> None:
    """Knot logs nothing at info level for a NOTIFY it refuses; its zone status
    shows that no refresh was scheduled (the next one is still ~1 h away)."""
    if srv.kind == "knot":
        out = srv.control("zone-status", ZONE)
        m = re.search(r"refresh: \+(\S+?)\s*(\||$)", out)
        assert m, f"knot did not schedule its refresh in the future: {out}"
        secs = sum(int(n) * {"D": 86400, "h": 3600, "m": 60, "s": 1}[u]
                   for n, u in re.findall(r"(\d+)([Dhms])", m.group(1)))
        assert secs > 600, f"knot refreshes soon: {out}"


# --------------------------------------------------------------------------
# 1. a laggard that accepts NOTIFY from the checker catches up


@pytest.mark.parametrize("laggard_kind", KINDS)
def test_notify_laggard_accepts_and_catches_up(fleet, soasync, laggard_kind):
    f = fleet(delegation=True)
    b = Behind(f, laggard_kind, accept_checker="address")
    r = soasync("notify", "--resolver", f.resolver.addr, "--source", f.checker_addr, ZONE)
    assert r.rc == 0, r
    assert r.err == "", r
    got = rows(r.out)
    assert list(got) == [b.laggard.addr], r        # only the server behind is notified
    assert ACK_RE.match(got[b.laggard.addr]), r
    b.laggard.wait_serial(ZONE, b.new, timeout=10)
    # the NOTIFY came from the checker and carried the reference SOA (serial 2)
    chk = re.escape(f.checker_addr)
    pattern = {
        "knot": rf"\[example\.test\.\] notify, incoming, remote {chk}@\d+, serial {b.new}",
        "nsd": rf"notify for example\.test\. from {chk} serial {b.new}",
        "bind": rf"zone example\.test/IN: notify from {chk}#\d+: serial {b.new}",
        # PowerDNS takes it only as a trusted-notification-proxy, logs no serial
        "pdns": rf"(?m)Received NOTIFY for example\.test from trusted-notification-proxy {chk}$",
    }[laggard_kind]
    wait_log(b.laggard, pattern)
    # afterwards nobody is behind any more
    r2 = soasync("notify", "--resolver", f.resolver.addr, "--source", f.checker_addr, ZONE)
    assert r2.rc == 0 and r2.out == "", r2
    assert r2.err == (f"soasync: {ZONE}: every server serves the reference serial {b.new}: "
                      f"nothing to notify (--all notifies every secondary)\n"), r2


# --------------------------------------------------------------------------
# 2. a laggard that refuses NOTIFY from the checker stays behind

REFUSAL = {"knot": "NOTAUTH", "nsd": "REFUSED", "bind": "REFUSED", "pdns": "REFUSED"}
#: how a NOTIFY signed with an unknown key / a wrong secret shows (PowerDNS
#: answers NOTAUTH without a TSIG record: no TSIG error to show)
BADKEY = {"knot": "BADKEY", "nsd": "BADKEY", "bind": "BADKEY", "pdns": "refused (NOTAUTH)"}
BADSIG = {"knot": "BADSIG", "nsd": "BADSIG", "bind": "BADSIG", "pdns": "refused (NOTAUTH)"}


@pytest.mark.parametrize("laggard_kind", KINDS)
def test_notify_refused_by_laggard(fleet, soasync, laggard_kind):
    f = fleet()
    b = Behind(f, laggard_kind, accept_checker=None)
    r = soasync("notify", *b.ns_args(), "--json", ZONE)
    assert r.rc == 2, r
    assert r.err == "", r
    doc = json.loads(r.out)
    assert doc == {"zone": ZONE, "serial": b.new, "targets": [{
        "address": b.laggard.addr, "port": 53, "status": "refused",
        "rcode": REFUSAL[laggard_kind], "error": None, "attempts": 1}]}, r
    # the text form says the same
    r = soasync("notify", *b.ns_args(), ZONE)
    assert r.rc == 2, r
    assert rows(r.out) == {b.laggard.addr: f"refused ({REFUSAL[laggard_kind]})"}, r
    chk = re.escape(f.checker_addr)
    if laggard_kind == "nsd":
        wait_log(b.laggard, rf"notify for example\.test\. from {chk} refused, no acl matches")
    elif laggard_kind == "bind":
        wait_log(b.laggard, rf"refused notify from non-primary: {chk}#\d+")
    elif laggard_kind == "pdns":
        wait_log(b.laggard, rf"Received NOTIFY for example\.test from {chk} which is not a "
                            rf"master \(Refused\)")
    else:
        assert not re.search(rf"notify, incoming, remote {chk}", log_text(b.laggard))
    knot_refresh_not_scheduled(b.laggard)
    assert b.laggard.serial(ZONE) == b.old
    assert b.primary.serial(ZONE) == b.new


# --------------------------------------------------------------------------
# 3. targets: --to (closed, silent, port), --all, nothing behind, JSON shape


def test_notify_to_closed_port_no_answer_within_deadline(fleet, soasync):
    f = fleet()
    zs = harness.standard_zone(f, ZONE, primary="knot", secondaries=("nsd",))
    closed = f.closed_address()
    args = ["--ns", ",".join(s.addr for s in zs.servers), "--primary", zs.primary.addr,
            "--source", f.checker_addr]
    r = soasync("notify", *args, "--to", closed, "--deadline", "2", ZONE)
    assert r.rc == 2, r
    assert r.err == "", r
    got = rows(r.out)
    assert list(got) == [closed], r
    m = re.fullmatch(r"no answer \(connection refused after (\d+) attempts\)", got[closed])
    assert m, r
    assert int(m.group(1)) >= 2, f"a refused port is retried until the deadline: {r}"
    assert 1.5 <= r.elapsed < 3.0, f"took {r.elapsed:.2f}s with --deadline 2: {r}"
    # JSON, with a port given as ADDR#PORT (nothing listens on 5353 there either)
    r = soasync("notify", *args, "--to", f"{zs.secondaries[0].addr}#5353", "--deadline", "1",
            "--json", ZONE)
    assert r.rc == 2, r
    doc = json.loads(r.out)
    (t,) = doc["targets"]
    assert (t["address"], t["port"], t["status"], t["rcode"], t["error"]) == \
        (zs.secondaries[0].addr, 5353, "no answer", None, "connection refused"), r
    assert t["attempts"] >= 2, r
    assert r.elapsed < 2.0, r


def test_notify_to_silent_server_honours_deadline(fleet, soasync):
    """A server that never answers: give up when --deadline passes, not a
    whole query timeout (1.5 s x tries) later."""
    f = fleet()
    zs = harness.standard_zone(f, ZONE, primary="knot", secondaries=("nsd",))
    silent = f.silent_address()
    r = soasync("notify", "--ns", ",".join(s.addr for s in zs.servers), "--primary",
            zs.primary.addr, "--source", f.checker_addr, "--to", silent, "--deadline", "1",
            "--json", ZONE)
    assert r.rc == 2, r
    (t,) = json.loads(r.out)["targets"]
    assert (t["address"], t["status"], t["rcode"], t["error"]) == \
        (silent, "no answer", None, "timed out"), r
    assert r.elapsed < 1.6, f"--deadline 1 but the command took {r.elapsed:.2f}s: {r}"


def test_notify_to_explicit_targets_mixed(fleet, soasync):
    """--to with several addresses (comma list and repeated option): each gets
    its own row, in the given order; exit 2 because one is refused."""
    f = fleet()
    b = Behind(f, "knot", accept_checker="address")        # primary bind, other nsd
    closed = f.closed_address()
    r = soasync("notify", *b.ns_args(), "--to", f"{b.laggard.addr},{b.other.addr}",
            "--to", closed, "--deadline", "1", "--json", ZONE)
    assert r.rc == 2, r
    doc = json.loads(r.out)
    assert doc["zone"] == ZONE and doc["serial"] == b.new, r
    st = [(t["address"], t["status"], t["rcode"]) for t in doc["targets"]]
    assert st == [(b.laggard.addr, "acknowledged", "NOERROR"),
                  (b.other.addr, "refused", "REFUSED"),          # NSD: checker not allowed
                  (closed, "no answer", None)], r
    b.laggard.wait_serial(ZONE, b.new, timeout=10)


def test_notify_all_secondaries(fleet, soasync):
    """--all notifies every secondary, also those already current, never the
    primary; the default (without --all) only the one behind."""
    f = fleet(delegation=True)
    p = f.bind("ns1.example.test.")
    p.primary(ZONE, 1, RECORDS)
    k = f.knot("ns2.example.test.")
    k.secondary(ZONE, p, notified=False, allow_notify=[f.checker_addr])
    n = f.nsd("ns3.example.test.")
    n.secondary(ZONE, p, allow_notify=[f.checker_addr])
    bs = f.bind("ns4.example.test.")
    bs.secondary(ZONE, p)                                   # refuses the checker
    f.start()
    new = p.bump(ZONE)
    n.wait_serial(ZONE, new)
    bs.wait_serial(ZONE, new)
    assert k.serial(ZONE) == 1
    disc = ["--resolver", f.resolver.addr, "--source", f.checker_addr]
    r = soasync("notify", *disc, "--all", "--json", ZONE)
    assert r.rc == 2, r                                     # BIND refuses
    doc = json.loads(r.out)
    got = {t["address"]: (t["status"], t["rcode"], t["error"], t["port"])
           for t in doc["targets"]}
    assert got == {k.addr: ("acknowledged", "NOERROR", None, 53),
                   n.addr: ("acknowledged", "NOERROR", None, 53),
                   bs.addr: ("refused", "REFUSED", None, 53)}, r
    assert doc["serial"] == new and doc["zone"] == ZONE, r
    k.wait_serial(ZONE, new, timeout=10)
    # now everyone is current: the default has nothing to do; --all still works
    r = soasync("notify", *disc, "--json", ZONE)
    assert r.rc == 0, r
    assert json.loads(r.out) == {"zone": ZONE, "serial": new, "targets": []}, r
    assert "nothing to notify" in r.err, r
    r = soasync("notify", *disc, "--all", "--to", k.addr, ZONE)
    assert r.rc == 3 and "exclude each other" in r.err, r


@pytest.mark.parametrize("primary", ["nsd", "pdns"])
def test_notify_nothing_behind(fleet, soasync, primary):
    f = fleet()
    zs = harness.standard_zone(f, ZONE, primary=primary, secondaries=("knot", "bind"), serial=41)
    args = ["--ns", ",".join(s.addr for s in zs.servers), "--primary", zs.primary.addr,
            "--source", f.checker_addr]
    r = soasync("notify", *args, ZONE)
    assert r.rc == 0, r
    assert r.out == "", r
    assert r.err == (f"soasync: {ZONE}: every server serves the reference serial 41: nothing "
                     f"to notify (--all notifies every secondary)\n"), r
    r = soasync("notify", *args, "--json", ZONE)
    assert r.rc == 0, r
    assert json.loads(r.out) == {"zone": ZONE, "serial": 41, "targets": []}, r


def test_notify_json_shape(fleet, soasync):
    f = fleet()
    b = Behind(f, "nsd", accept_checker="address")          # primary knot, other bind
    r = soasync("notify", *b.ns_args(), "--all", "--json", ZONE)
    assert r.rc == 2, r                                      # BIND refuses the checker
    assert r.out.count("\n") == 1, r                         # one JSON object, one line
    doc = json.loads(r.out)
    assert set(doc) == {"zone", "serial", "targets"}, r
    assert doc["zone"] == ZONE and doc["serial"] == b.new
    assert len(doc["targets"]) == 2, r
    for t in doc["targets"]:
        assert set(t) == {"address", "port", "status", "rcode", "error", "attempts"}, t
        assert isinstance(t["port"], int) and isinstance(t["attempts"], int), t
        assert t["status"] in ("acknowledged", "refused", "no answer"), t
    got = {t["address"]: (t["status"], t["rcode"], t["error"], t["attempts"])
           for t in doc["targets"]}
    assert got == {b.laggard.addr: ("acknowledged", "NOERROR", None, 1),
                   b.other.addr: ("refused", "REFUSED", None, 1)}, r
    b.laggard.wait_serial(ZONE, b.new, timeout=10)


# --------------------------------------------------------------------------
# TSIG-signed NOTIFY


@pytest.mark.parametrize("laggard_kind", KINDS)
def test_notify_tsig(fleet, soasync, laggard_kind):
    """A secondary that accepts NOTIFY from the checker only with the key:
    unsigned and unknown-key NOTIFYs are refused, the signed one is
    acknowledged and the secondary transfers."""
    key = harness.TsigKey.generate("notify-key.")
    unknown = harness.TsigKey.generate("unknown-key.")
    f = fleet()
    b = Behind(f, laggard_kind, accept_checker="key", tsig=key)
    args = [*b.ns_args(), "--deadline", "3", ZONE]

    # unsigned: the ACL wants the key
    r = soasync("notify", "--json", *args)
    assert r.rc == 2, r
    assert json.loads(r.out)["targets"] == [{
        "address": b.laggard.addr, "port": 53, "status": "refused",
        "rcode": REFUSAL[laggard_kind], "error": None, "attempts": 1}], r
    # a key name the server does not know: NOTAUTH + TSIG error BADKEY
    r = soasync("notify", "-y", ynotify(unknown), "--json", *args)
    assert r.rc == 2, r
    (t,) = json.loads(r.out)["targets"]
    assert (t["address"], t["status"]) == (b.laggard.addr, "refused"), r
    assert t["rcode"] in ("BADKEY", "NOTAUTH"), r
    r = soasync("notify", "-y", ynotify(unknown), *args)
    assert r.rc == 2, r
    assert list(rows(r.out)) == [b.laggard.addr] and BADKEY[laggard_kind] in r.out, r
    assert b.laggard.serial(ZONE) == b.old
    # the right key: acknowledged, and the secondary transfers (with the key)
    r = soasync("notify", "-y", ynotify(key), "--json", *args)
    assert r.rc == 0, r
    (t,) = json.loads(r.out)["targets"]
    assert (t["address"], t["status"], t["rcode"], t["error"]) == \
        (b.laggard.addr, "acknowledged", "NOERROR", None), r
    b.laggard.wait_serial(ZONE, b.new, timeout=10)


@pytest.mark.parametrize("laggard_kind", KINDS)
def test_notify_tsig_badsig_named(fleet, soasync, laggard_kind):
    """The right key name with another secret: every vendor answers NOTAUTH
    with TSIG error BADSIG (16).  soasync must call it BADSIG (or NOTAUTH),
    not BADVERS, the EDNS meaning of the same extended RCODE value."""
    key = harness.TsigKey.generate("notify-key.")
    other_secret = harness.TsigKey.generate("notify-key.").secret
    f = fleet()
    b = Behind(f, laggard_kind, accept_checker="key", tsig=key)
    args = [*b.ns_args(), "--deadline", "3", "-y", ynotify(key, other_secret), ZONE]
    r = soasync("notify", *args)
    assert r.rc == 2, r
    got = rows(r.out)
    assert list(got) == [b.laggard.addr] and got[b.laggard.addr].startswith("refused ("), r
    assert BADSIG[laggard_kind] in r.out and "BADVERS" not in r.out, r
    r = soasync("notify", "--json", *args)
    assert r.rc == 2, r
    (t,) = json.loads(r.out)["targets"]
    assert (t["address"], t["status"]) == (b.laggard.addr, "refused"), r
    assert t["rcode"] in ("BADSIG", "NOTAUTH"), f"TSIG BADSIG shown as {t['rcode']}: {r}"
    assert b.laggard.serial(ZONE) == b.old


def test_notify_tsig_key_file(fleet, soasync, tmp_path):
    """--tsig-key FILE (BIND key-file syntax, as tsig-keygen writes it)."""
    key = harness.TsigKey.generate("file-key.")
    f = fleet()
    b = Behind(f, "knot", accept_checker="key", tsig=key)
    kf = tmp_path / "notify.key"
    kf.write_text(f'key "{key.name.rstrip(".")}" {{\n\talgorithm {key.algorithm};\n'
                  f'\tsecret "{key.secret}";\n}};\n')
    r = soasync("notify", *b.ns_args(), "--tsig-key", kf, ZONE)
    assert r.rc == 0, r
    got = rows(r.out)
    assert list(got) == [b.laggard.addr] and ACK_RE.match(got[b.laggard.addr]), r
    b.laggard.wait_serial(ZONE, b.new, timeout=10)
