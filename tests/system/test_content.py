"""System tests for "same serial, same data?" against real BIND 9, NSD, Knot and unbound.

Covers ``soasync check --content``, ``--zonefile FILE``, ``--candidate-primary
ADDR[#PORT]`` (with ``--tsig-key``/``-y`` and ``--query-limit``) and ``soasync
diff @ADDR``.  Every test builds its own fleet (harness.py: root, ``test.``,
unbound, authoritative servers on 127.53.N.x:53) and runs ``soasync check
--resolver RESOLVER --source CHECKER --expire-warn 0 --no-vendor ...`` through
the real delegation.  Expectations are exact: finding codes and severities,
the addresses each finding names, per-server transfer/content states, exit
codes.  Every run is checked for sanitizer reports on stderr, so the file
doubles as an ASan/UBSan run::

    /usr/bin/python3 -m pytest -q tests/system/test_content.py
    SOASYNC=build-asan/soasync /usr/bin/python3 -m pytest -q tests/system/test_content.py

How the states are made (see tests/system/README.md and /work/shared/real-servers.md):

* "Edited without a serial bump": the primary's zone file is rewritten with
  the same serial and reloaded through its control channel.  All three vendors
  load it (BIND logs "zone serial (N) unchanged"); the secondaries are
  notified but never transfer an unchanged serial.  Since the serial cannot
  tell when the new data is live, the tests poll the primary for a changed
  RRset (and keep polling for 50 ms, for NSD's forked reload).
* Refusing transfers: the zone's ``deny_transfer`` lists the checker's
  address.  BIND and NSD answer REFUSED, Knot NOTAUTH.
* "Old provider": a hidden second primary of the same zone at an old serial,
  configured as the primary of one secondary.
* ZONEMD records are computed with dnspython's ``Zone.compute_digest``
  (RFC 8976, scheme SIMPLE) and loaded like any other record: none of the
  three vendors verifies ZONEMD on load, so a tampered zone is served as is
  (BIND 9.18 does reject a SHA-384 ZONEMD whose digest is not 48 octets, as
  a syntax error, on load and in a transfer; Knot and NSD take it).
* A transfer that breaks off: a small fake server in this file relays UDP to
  the primary and cuts every AXFR short.
"""

from __future__ import annotations

import dataclasses
import json
import select
import socket
import struct
import sys
import threading
import time
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import dns.zone
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import harness  # noqa: E402

from conftest import KINDS, addrs, by_addr, findings, named  # noqa: E402
QUIET = ("--expire-warn", "0", "--no-vendor")
#: the rcode of an unsigned AXFR from outside the transfer ACL
REFUSAL = {"bind": "REFUSED", "nsd": "REFUSED", "knot": "NOTAUTH", "pdns": "NOTAUTH"}
#: records of the zones below unless a test says otherwise
BASE = ["www IN A 192.0.2.1", '@ IN TXT "soasync content test"']
#: the same zone edited: www changed, new added
EDITED = ["www IN A 192.0.2.2", '@ IN TXT "soasync content test"', "new IN A 192.0.2.99"]
DIGEST_HEX = 96                     # SHA-384


# --------------------------------------------------------------------------
# running soasync


@pytest.fixture
def check(soasync):
    """``check(fleet, *args)``: ``soasync check --resolver R --source CHECKER
    --expire-warn 0 --no-vendor --json *args``; returns (Run, zone object)."""

    def run(f: harness.Fleet, *args, timeout: float = 60):
        r = soasync("check", "--resolver", f.resolver.addr, "--source", f.checker_addr,
                    *QUIET, "--json", *args, timeout=timeout)
        return r, r.zone()

    return run


# --------------------------------------------------------------------------
# reading results


def zonefile_of(z: dict) -> dict:
    """The zonefile object of a zone, its ZONEMD verdict shortened to the status."""
    zf = dict(z["zonefile"])
    zf["zonemd"] = zf["zonemd"]["status"]
    return zf


def content_state(s: dict) -> tuple:
    """(axfr, content, content_differs) of one server object."""
    return s.get("axfr"), s.get("content"), s.get("content_differs")


def assert_transferred(s: dict, records: int, serial: int) -> None:
    assert content_state(s)[:2] == ("allowed", "transferred"), s
    assert isinstance(s["digest"], str) and len(s["digest"]) == DIGEST_HEX, s
    assert all(c in "0123456789abcdef" for c in s["digest"]), s
    assert (s["xfr_serial"], s["records"]) == (serial, records), s


def same_serial_part(srv: harness.AuthServer, n: int, what: str, shown: str) -> str:
    """The piece of a same-serial-different-data message about one server."""
    return f"{srv.name} ({srv.addr}): {n} {what} ({shown})"


# --------------------------------------------------------------------------
# local fleet helpers


def wait_stable(fn, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll until ``fn()`` is true and stays true for ``harness.STABLE`` s (NSD
    answers from its old server child for a moment after a reload)."""
    harness.wait_until(fn, timeout, what=what, stable=harness.STABLE)


def rdatas(srv: harness.AuthServer, qname: str, rdtype: str = "A") -> set:
    """The rdata strings ``srv`` answers (RD=0) for ``qname``/``rdtype``."""
    msg = srv.query(qname, rdtype)
    return {rd.to_text() for rrset in msg.answer if rrset.rdtype == dns.rdatatype.from_text(rdtype)
            for rd in rrset}


def edit_without_bump(p: harness.AuthServer, zone: str, records: list, probe: tuple) -> None:
    """Rewrite the primary's zone file with new ``records`` under the same
    serial, reload it, and wait until the primary serves ``probe`` =
    (name, type, {rdata...})."""
    serial = p.zone(zone).serial
    p.write_zone(zone, serial, records, wait=False)        # reloads; serial unchanged
    name, rdtype, want = probe
    wait_stable(lambda: rdatas(p, name, rdtype) == want,
                what=f"{p.name} to serve the unbumped edit ({name} {rdtype} {want})")
    assert p.serial(zone) == serial


def write_copy(f: harness.Fleet, p: harness.AuthServer, zone: str, name: str, serial: int,
               records: list) -> str:
    """A copy of the primary's zone file with another serial and records,
    written to the fleet's work directory; returns its path."""
    z = dataclasses.replace(p.zone(zone), serial=serial, records=list(records))
    path = f.workdir / name
    path.write_text(p.render_zone(z))
    return str(path)


def zonemd_line(srv: harness.AuthServer, zone: str, serial: int, records: list,
                hashes=(dns.zone.DigestHashAlgorithm.SHA384,)) -> list:
    """ZONEMD zone-file lines (RFC 8976, scheme SIMPLE) for ``srv``'s zone as
    it would be written with ``serial`` and ``records``, computed by dnspython."""
    z = dataclasses.replace(srv.zone(zone), serial=serial, records=list(records))
    dz = dns.zone.from_text(srv.render_zone(z), zone, relativize=False)
    return [f"@ IN ZONEMD {dz.compute_digest(h).to_text()}" for h in hashes]


def three_vendor_zone(f: harness.Fleet, zone: str, primary: str = "bind",
                      include: str | None = None, **kw) -> harness.ZoneSet:
    """``standard_zone`` with ``primary`` of that kind and two other kinds
    as secondaries (``harness.other_kinds``, with ``include`` among them; not
    started)."""
    secs = harness.other_kinds(primary, include=include)
    return harness.standard_zone(f, zone, primary=primary, secondaries=secs, serial=10,
                                 records=kw.pop("records", BASE), start=False, **kw)


class BrokenAxfrServer:
    """A fake authoritative server: UDP queries are relayed to a real server
    (so SOA, NS and everything else look exactly like it), but an AXFR over
    TCP gets the SOA and one record and then the connection is closed -- a
    transfer cut short without the closing SOA."""

    def __init__(self, addr: str, upstream: harness.AuthServer, zone: str):
        self.addr, self.upstream, self.zone = addr, upstream, zone
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((addr, 53))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((addr, 53))
        self.tcp.listen(16)
        self.axfrs = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"broken-axfr-{addr}")
        self.thread.start()

    def _relay(self, data: bytes, client) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((self.upstream.fleet.harness_addr, 0))
            s.settimeout(1.0)
            s.sendto(data, (self.upstream.addr, self.upstream.port))
            try:
                answer = s.recv(65535)
            except socket.timeout:
                return
        self.udp.sendto(answer, client)

    def _axfr(self, conn) -> None:
        conn.settimeout(2.0)
        try:
            head = conn.recv(2, socket.MSG_WAITALL)
            (n,) = struct.unpack("!H", head)
            q = dns.message.from_wire(conn.recv(n, socket.MSG_WAITALL))
            self.axfrs += 1
            full = self.upstream.query(self.zone, "SOA")
            www = self.upstream.query("www." + self.zone, "A")
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA
            r.answer = [full.answer[0], www.answer[0]]       # no closing SOA
            wire = r.to_wire()
            conn.sendall(struct.pack("!H", len(wire)) + wire)
        except (OSError, ValueError, struct.error, dns.exception.DNSException):
            pass
        finally:
            conn.close()

    def _run(self):
        while not self._stop.is_set():
            r, _, _ = select.select([self.udp, self.tcp], [], [], 0.05)
            for sock in r:
                try:
                    if sock is self.udp:
                        data, client = self.udp.recvfrom(65535)
                        self._relay(data, client)
                    else:
                        conn, _ = self.tcp.accept()
                        self._axfr(conn)
                except OSError:
                    if self._stop.is_set():
                        return

    def close(self):
        self._stop.set()
        self.thread.join(2)
        self.udp.close()
        self.tcp.close()


# --------------------------------------------------------------------------
# 1. an in-sync fleet


def test_in_sync_fleet(fleet, check):
    """BIND primary, NSD and Knot secondaries, transfers allowed to the
    checker: --content finds nothing and every digest is the same.  The
    digest leaves the serial out: a bump without other changes keeps it, a
    changed record changes it."""
    f = fleet(delegation=True)
    zone = "insync.test."
    zs = three_vendor_zone(f, zone)
    f.start()
    p, nsd, knot = zs.servers
    assert (p.kind, nsd.kind, knot.kind) == ("bind", "nsd", "knot")

    r, z = check(f, "--content", zone)
    assert r.rc == 0 and z["status"] == "ok", r
    assert z["findings"] == [], r
    assert z["primary"] == p.addr and z["reference_serial"] == 10, r
    srv = by_addr(z)
    assert sorted(srv) == addrs(*zs.servers), r
    for s in zs.servers:
        got = srv[s.addr]
        assert got["serial"] == 10, got
        # SOA, 3 NS, 3 in-zone NS addresses, www A, apex TXT
        assert_transferred(got, records=9, serial=10)
        assert got["content_differs"] is False, got
    digests = {srv[s.addr]["digest"] for s in zs.servers}
    assert len(digests) == 1, r
    digest10 = digests.pop()
    assert "zonefile" not in z and "candidates" not in z, r

    # same data, higher serial: the digest stays (the serial is left out)
    zs.bump()
    zs.wait_synced()
    r, z = check(f, "--content", zone)
    assert (r.rc, z["findings"], z["reference_serial"]) == (0, [], 11), r
    srv = by_addr(z)
    for s in zs.servers:
        assert_transferred(srv[s.addr], records=9, serial=11)
        assert srv[s.addr]["digest"] == digest10, (s.name, r)

    # one record changed (with a bump): a new digest, the same everywhere
    p.write_zone(zone, 12, ["www IN A 192.0.2.77", BASE[1]])
    zs.wait_synced()
    r, z = check(f, "--content", zone)
    assert (r.rc, z["findings"], z["reference_serial"]) == (0, [], 12), r
    srv = by_addr(z)
    digests = {srv[s.addr]["digest"] for s in zs.servers}
    assert len(digests) == 1 and digest10 not in digests, r


# --------------------------------------------------------------------------
# 2. an edit without a serial bump, each vendor as the primary


@pytest.mark.parametrize("primary", KINDS)
def test_edit_without_serial_bump(fleet, check, primary):
    f = fleet(delegation=True)
    zone = "unbumped.test."
    zs = three_vendor_zone(f, zone, primary=primary)
    f.start()
    p, s1, s2 = zs.servers
    edit_without_bump(p, zone, EDITED, (f"www.{zone}", "A", {"192.0.2.2"}))
    for s in (s1, s2):                      # the secondaries kept the old data
        assert s.serial(zone) == 10 and rdatas(s, f"www.{zone}") == {"192.0.2.1"}, s

    r, z = check(f, "--content", zone)
    assert r.rc == 2 and z["status"] == "critical", r
    assert z["primary"] == p.addr and z["reference_serial"] == 10, r
    fs = findings(z)
    assert list(fs) == ["same-serial-different-data"], r
    fd = fs["same-serial-different-data"]
    assert fd["severity"] == "critical", fd
    assert named(fd) == addrs(s1, s2), r
    msg = fd["message"]
    assert msg.startswith(f"same serial 10, other data than the primary's ({p.addr})"), msg
    shown = (f"- new.{zone} 300 IN A 192.0.2.99; + www.{zone} 300 IN A 192.0.2.1; "
             f"- www.{zone} 300 IN A 192.0.2.2")
    for s in (s1, s2):
        assert same_serial_part(s, 3, "records differ", shown) in msg, msg
    assert "raise the serial" in fd["fix"], fd
    srv = by_addr(z)
    assert_transferred(srv[p.addr], records=10, serial=10)
    assert srv[p.addr]["content_differs"] is False, srv[p.addr]
    for s in (s1, s2):
        assert_transferred(srv[s.addr], records=9, serial=10)
        assert srv[s.addr]["content_differs"] is True, srv[s.addr]
        assert srv[s.addr]["digest"] != srv[p.addr]["digest"], r
    assert srv[s1.addr]["digest"] == srv[s2.addr]["digest"], r

    # --zonefile with the primary's own file: it is what the primary serves
    # (the data differs only on the secondaries, which --zonefile alone does
    # not transfer), so nothing is wrong with the file ...
    pfile = str(p.zone_file(zone))
    r, z = check(f, "--zonefile", pfile, zone)
    assert r.rc == 0 and z["findings"] == [], r
    assert zonefile_of(z) == {"path": pfile, "serial": 10, "differs": False,
                             "records_differing": 0, "zonemd": "absent"}, r
    # ... and together with --content the secondaries are still named
    r, z = check(f, "--content", "--zonefile", pfile, zone)
    assert r.rc == 2, r
    assert list(findings(z)) == ["same-serial-different-data"], r
    assert named(findings(z)["same-serial-different-data"]) == addrs(s1, s2), r

    # a copy of the file edited again under the same serial: serial-not-bumped
    again = write_copy(f, p, zone, "edited-again.zone", 10, EDITED + ["again IN A 192.0.2.98"])
    r, z = check(f, "--zonefile", again, zone)
    assert r.rc == 2 and z["status"] == "critical", r
    fs = findings(z)
    assert list(fs) == ["serial-not-bumped"], r
    fd = fs["serial-not-bumped"]
    assert fd["severity"] == "critical" and named(fd) == [p.addr], fd
    assert (f"the zone file {again} and the primary's ({p.addr}) data differ at the same "
            f"serial 10 (1 records; - only served, + only in the file: "
            f"+ again.{zone} 300 IN A 192.0.2.98)") in fd["message"], fd
    assert "raise the serial in the file" in fd["fix"], fd
    assert zonefile_of(z) == {"path": again, "serial": 10, "differs": True,
                             "records_differing": 1, "zonemd": "absent"}, r


# --------------------------------------------------------------------------
# 3. an unpublished edit, and a stale zone file


@pytest.mark.parametrize("primary", KINDS)
def test_unpublished_edit_and_stale_file(fleet, check, primary):
    f = fleet(delegation=True)
    zone = "unpub.test."
    zs = three_vendor_zone(f, zone, primary=primary)
    f.start()
    p = zs.primary

    # edited with a new serial, but never reloaded
    p.write_zone(zone, 11, EDITED, reload=False)
    assert p.serial(zone) == 10
    pfile = str(p.zone_file(zone))
    r, z = check(f, "--zonefile", pfile, zone)
    assert r.rc == 2 and z["status"] == "critical", r
    fs = findings(z)
    assert list(fs) == ["zonefile-not-published"], r
    fd = fs["zonefile-not-published"]
    assert fd["severity"] == "critical" and named(fd) == [p.addr], fd
    assert (f"the zone file {pfile} has serial 11, but the primary's ({p.addr}) serial is 10"
            in fd["message"]), fd
    assert "reload" in fd["fix"], fd
    # the vendor is not asked here (--no-vendor): every vendor's command
    assert f"pdns_control bind-reload-now {zone.rstrip('.')}" in fd["fix"], fd
    higher = zonefile_of(z)

    # a copy with a lower serial (and the data the primary serves)
    old = write_copy(f, p, zone, "old.zone", 9, BASE)
    r, z = check(f, "--zonefile", old, zone)
    assert r.rc == 1 and z["status"] == "warning", r
    fs = findings(z)
    assert list(fs) == ["zonefile-behind"], r
    fd = fs["zonefile-behind"]
    assert fd["severity"] == "warning" and named(fd) == [p.addr], fd
    assert (f"the primary's ({p.addr}) serial 10 is ahead of the zone file {old} (serial 9)"
            in fd["message"]), fd
    lower = zonefile_of(z)

    # The serial is judged by its own finding; "differs" and
    # "records_differing" are about the other data, so they agree: the same
    # data at another serial differs in nothing, and the edit differs in
    # three records (www changed, new added), not five (+ the SOA twice).
    assert higher == {"path": pfile, "serial": 11, "differs": True,
                      "records_differing": 3, "zonemd": "absent"}, higher
    assert lower == {"path": old, "serial": 9, "differs": False,
                     "records_differing": 0, "zonemd": "absent"}, lower


def test_zonefile_compared_by_queries(fleet, check):
    """The primary refuses the transfer: the zone file is compared with what
    it serves by asking it RRset by RRset (the SOA serial judged apart).  The
    counts must agree with the transferred comparison of the same files."""
    f = fleet(delegation=True)
    zone = "zfq.test."
    zs = three_vendor_zone(f, zone)
    zs.primary.zone(zone).deny_transfer = [f.checker_addr]
    f.start()
    p = zs.primary

    same = write_copy(f, p, zone, "same.zone", 10, BASE)
    r, z = check(f, "--zonefile", same, zone)
    assert r.rc == 0 and z["findings"] == [], r
    assert zonefile_of(z) == {"path": same, "serial": 10, "differs": False,
                             "records_differing": 0, "zonemd": "absent"}, r
    assert content_state(by_addr(z)[p.addr])[0] == "refused", r

    edited = write_copy(f, p, zone, "edited.zone", 10, ["www IN A 192.0.2.7", BASE[1]])
    r, z = check(f, "--zonefile", edited, zone)
    assert r.rc == 2, r
    fs = findings(z)
    assert list(fs) == ["serial-not-bumped"], r
    fd = fs["serial-not-bumped"]
    assert named(fd) == [p.addr], fd
    assert f"www.{zone} A: serves www.{zone} 300 A 192.0.2.1" in fd["message"], fd
    assert zonefile_of(z) == {"path": edited, "serial": 10, "differs": True,
                             "records_differing": 1, "zonemd": "absent"}, r

    higher = write_copy(f, p, zone, "higher.zone", 11, BASE + ["new IN A 192.0.2.9"])
    r, z = check(f, "--zonefile", higher, zone)
    assert r.rc == 2 and list(findings(z)) == ["zonefile-not-published"], r
    assert zonefile_of(z) == {"path": higher, "serial": 11, "differs": True,
                             "records_differing": 1, "zonemd": "absent"}, r

    lower = write_copy(f, p, zone, "lower.zone", 9, BASE)
    r, z = check(f, "--zonefile", lower, zone)
    assert r.rc == 1 and list(findings(z)) == ["zonefile-behind"], r
    assert zonefile_of(z) == {"path": lower, "serial": 9, "differs": False,
                             "records_differing": 0, "zonemd": "absent"}, r

    # --content as well: the secondaries transfer and hold exactly what the
    # primary serves.  A zone file at another serial is no reference for
    # their data: only the stale file and the refused transfer are findings.
    r, z = check(f, "--content", "--zonefile", lower, zone)
    fs = findings(z)
    assert sorted(fs) == ["transfer-refused", "zonefile-behind"], r
    assert named(fs["transfer-refused"]) == [p.addr], r
    assert r.rc == 1 and z["status"] == "warning", r


def test_broken_zonefile_is_a_usage_error(soasync, tmp_path):
    """A zone file with a syntax error: exit 3 with FILE:LINE before any query."""
    bad = tmp_path / "bad.zone"
    bad.write_text("$ORIGIN bad.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n"
                   "@ IN NS ns1\nns1 IN A 192.0.2.300\n")
    # a "resolver" that only counts what it receives
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as lsn:
        lsn.bind(("127.0.0.1", 0))
        port = lsn.getsockname()[1]
        r = soasync("check", "--resolver", f"127.0.0.1#{port}", "--zonefile", str(bad),
                    "bad.test.")
        assert r.rc == 3, r
        assert r.out == "", r
        lines = r.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"soasync: {bad}:5: "), r
        assert len(lines[0]) > len(f"soasync: {bad}:5: "), r
        got, _, _ = select.select([lsn], [], [], 0.2)
        assert not got, "soasync queried the resolver before rejecting the zone file"

    r = soasync("check", "--resolver", "127.0.0.1#9", "--zonefile", str(tmp_path / "none.zone"),
                "bad.test.")
    assert r.rc == 3 and r.out == "", r
    assert r.err.startswith(f"soasync: {tmp_path / 'none.zone'}: "), r


# --------------------------------------------------------------------------
# 4. a secondary refuses the transfer


@pytest.mark.parametrize("victim", KINDS)
def test_refused_transfer_compared_by_queries(fleet, check, victim):
    f = fleet(delegation=True)
    zone = "refused.test."
    zs = three_vendor_zone(f, zone, primary="knot" if victim == "bind" else "bind",
                           include=victim)
    p, s1, s2 = zs.servers
    v = s1 if s1.kind == victim else s2
    other = s2 if v is s1 else s1
    assert v.kind == victim
    v.zone(zone).deny_transfer = [f.checker_addr]
    f.start()

    r, z = check(f, "--content", zone)
    assert r.rc == 1 and z["status"] == "warning", r
    fs = findings(z)
    assert list(fs) == ["transfer-refused"], r
    fd = fs["transfer-refused"]
    assert fd["severity"] == "warning" and named(fd) == [v.addr], fd
    assert f"{v.name} ({v.addr}): AXFR: {REFUSAL[victim]}" in fd["message"], fd
    srv = by_addr(z)
    assert content_state(srv[v.addr]) == ("refused", "queried", False), srv[v.addr]
    assert srv[v.addr]["digest"] is None, srv[v.addr]
    for s in (p, other):
        assert_transferred(srv[s.addr], records=9, serial=10)

    # the primary changes data without a bump: the refusing secondary is
    # still named, found by asking it RRset by RRset
    edit_without_bump(p, zone, EDITED, (f"www.{zone}", "A", {"192.0.2.2"}))
    r, z = check(f, "--content", zone)
    assert r.rc == 2 and z["status"] == "critical", r
    fs = findings(z)
    assert sorted(fs) == ["same-serial-different-data", "transfer-refused"], r
    assert named(fs["transfer-refused"]) == [v.addr], r
    fd = fs["same-serial-different-data"]
    assert fd["severity"] == "critical" and named(fd) == addrs(s1, s2), fd
    assert same_serial_part(v, 2, "RRsets differ when asked one by one",
                            f"new.{zone} A: serves nothing; "
                            f"www.{zone} A: serves www.{zone} 300 A 192.0.2.1") in fd["message"], fd
    assert same_serial_part(other, 3, "records differ",
                            f"- new.{zone} 300 IN A 192.0.2.99; + www.{zone} 300 IN A 192.0.2.1; "
                            f"- www.{zone} 300 IN A 192.0.2.2") in fd["message"], fd
    srv = by_addr(z)
    assert content_state(srv[v.addr]) == ("refused", "queried", True), srv[v.addr]
    assert content_state(srv[other.addr]) == ("allowed", "transferred", True), srv[other.addr]

    # --query-limit 1: only the first RRset in canonical order (the apex NS
    # set, the SOA is never asked) -- the changed ones are not reached
    r, z = check(f, "--content", "--query-limit", "1", zone)
    fs = findings(z)
    assert named(fs["same-serial-different-data"]) == [other.addr], r
    assert content_state(by_addr(z)[v.addr]) == ("refused", "queried", False), r


def test_primary_refuses_transfer(fleet, check):
    """The primary refuses the checker (a common setup: it transfers only to
    its secondaries), the secondaries allow it.  The primary is then compared
    by asking it every RRset known from the secondaries, so an edit without a
    serial bump is still found, and it is the secondaries that hold other
    data than the primary's."""
    f = fleet(delegation=True)
    zone = "prefused.test."
    zs = three_vendor_zone(f, zone)
    zs.primary.zone(zone).deny_transfer = [f.checker_addr]
    f.start()
    p, s1, s2 = zs.servers

    r0, z0 = check(f, "--content", zone)                   # in sync
    edit_without_bump(p, zone, EDITED, (f"www.{zone}", "A", {"192.0.2.2"}))
    r, z = check(f, "--content", zone)

    fs = findings(z)
    assert "same-serial-different-data" in fs, (
        f"edit without a serial bump on a primary that refuses the transfer not found\n{r}")
    assert sorted(fs) == ["same-serial-different-data", "transfer-refused"], r
    assert named(fs["same-serial-different-data"]) == addrs(s1, s2), r
    assert named(fs["transfer-refused"]) == [p.addr], r
    assert r.rc == 2 and z["status"] == "critical", r

    fs = findings(z0)
    assert list(fs) == ["transfer-refused"] and named(fs["transfer-refused"]) == [p.addr], r0
    assert r0.rc == 1, r0
    srv = by_addr(z0)
    for s in (s1, s2):
        assert_transferred(srv[s.addr], records=9, serial=10)
        assert srv[s.addr]["content_differs"] is False, r0
    assert srv[p.addr]["axfr"] == "refused" and srv[p.addr]["digest"] is None, r0
    assert srv[p.addr]["content"] == "queried", (
        f"the primary refused the transfer but was not compared by queries\n{r0}")


def test_hidden_primary_refuses_secondaries_differ(fleet, check):
    """A hidden primary (given with --primary) that transfers only to its
    secondaries, after an edit without a serial bump that one secondary took
    (forced retransfer) and the other did not.  The two secondaries hold
    different data at the same serial; the primary's data is known only by
    asking it, and it matches the secondary that retransferred."""
    f = fleet(delegation=True)
    zone = "hidref.test."
    zs = harness.standard_zone(f, zone, serial=10, records=BASE, hidden_primary=True,
                               start=False)
    p, s1, s2 = zs.servers
    p.zone(zone).deny_transfer = [f.checker_addr]
    f.start()
    edit_without_bump(p, zone, EDITED, (f"www.{zone}", "A", {"192.0.2.2"}))
    s1.retransfer(zone)
    wait_stable(lambda: rdatas(s1, f"www.{zone}") == {"192.0.2.2"},
                what=f"{s1.name} to retransfer")
    assert rdatas(s2, f"www.{zone}") == {"192.0.2.1"}

    r, z = check(f, "--content", "--primary", p.addr, zone)
    srv = by_addr(z)
    assert srv[s1.addr]["digest"] != srv[s2.addr]["digest"], r     # they do differ
    fs = findings(z)
    assert "same-serial-different-data" in fs, (
        f"two secondaries with different data at the same serial, not reported because "
        f"the primary refuses the transfer\n{r}")
    assert named(fs["same-serial-different-data"]) == [s2.addr], r
    assert sorted(fs) == ["same-serial-different-data", "transfer-refused"], r
    assert named(fs["transfer-refused"]) == [p.addr], r
    assert r.rc == 2 and z["status"] == "critical", r
    assert srv[p.addr]["content"] == "queried", r
    assert (srv[s1.addr]["content_differs"], srv[s2.addr]["content_differs"]) == (False, True), r


def test_tsig_transfers(fleet, check):
    """Every server of the zone transfers only with a TSIG key: without it all
    three refuse (warning, nothing compared), with the key (-y or a BIND key
    file) all three allow, and an unbumped edit is found; a key with the
    wrong secret is refused with BADSIG."""
    f = fleet(delegation=True)
    zone = "tsig.test."
    key = harness.TsigKey.generate("content-key.")
    zs = three_vendor_zone(f, zone, tsig=key)
    f.start()
    p, s1, s2 = zs.servers
    y = f"{key.algorithm}:{key.name}:{key.secret}"
    keyfile = f.workdir / "content.key"
    keyfile.write_text(f'key "{key.name}" {{\n\talgorithm {key.algorithm};\n'
                       f'\tsecret "{key.secret}";\n}};\n')

    r, z = check(f, "--content", zone)
    assert r.rc == 1, r
    fs = findings(z)
    assert list(fs) == ["transfer-refused"], r
    fd = fs["transfer-refused"]
    assert fd["severity"] == "warning" and named(fd) == addrs(p, s1, s2), fd
    for s in zs.servers:
        assert f"{s.name} ({s.addr}): AXFR: {REFUSAL[s.kind]}" in fd["message"], fd
        assert by_addr(z)[s.addr]["axfr"] == "refused", r
        assert by_addr(z)[s.addr]["digest"] is None, r

    for opt in (("-y", y), ("--tsig-key", str(keyfile))):
        r, z = check(f, "--content", *opt, zone)
        assert r.rc == 0 and z["findings"] == [], r
        srv = by_addr(z)
        for s in zs.servers:
            assert_transferred(srv[s.addr], records=9, serial=10)
            assert srv[s.addr]["content_differs"] is False, r
        assert len({srv[s.addr]["digest"] for s in zs.servers}) == 1, r

    wrong = harness.TsigKey.generate(key.name)
    r, z = check(f, "--content", "-y", f"{wrong.algorithm}:{wrong.name}:{wrong.secret}", zone)
    assert r.rc == 1, r
    fs = findings(z)
    assert list(fs) == ["transfer-refused"], r
    assert named(fs["transfer-refused"]) == addrs(p, s1, s2), r
    assert "signed with the given key" in fs["transfer-refused"]["message"], r
    assert fs["transfer-refused"]["message"].count("BADSIG") == 3, r

    edit_without_bump(p, zone, EDITED, (f"www.{zone}", "A", {"192.0.2.2"}))
    r, z = check(f, "--content", "-y", y, zone)
    assert r.rc == 2, r
    fs = findings(z)
    assert list(fs) == ["same-serial-different-data"], r
    assert named(fs["same-serial-different-data"]) == addrs(s1, s2), r


def test_transfer_failed(fleet, check):
    """A server in the NS set answers like the primary over UDP but cuts the
    AXFR short (no closing SOA): transfer-failed names exactly it; its data
    is then compared by queries (and matches)."""
    f = fleet(delegation=True)
    zone = "xfail.test."
    zs = three_vendor_zone(f, zone)
    fake_addr = f.closed_address()
    fake_name = f"ns4.{zone}"
    f.delegate(zone, ns=[*zs.servers, (fake_name, fake_addr)])
    zs.primary.zone(zone).ns = [s.name for s in zs.servers] + [fake_name]
    f.start()
    fake = BrokenAxfrServer(fake_addr, zs.primary, zone)
    try:
        r, z = check(f, "--content", zone)
    finally:
        fake.close()
    assert fake.axfrs >= 1, r
    assert r.rc == 1 and z["status"] == "warning", r
    fs = findings(z)
    assert list(fs) == ["transfer-failed"], r
    fd = fs["transfer-failed"]
    assert fd["severity"] == "warning" and named(fd) == [fake_addr], fd
    assert f"{fake_name} ({fake_addr}): AXFR" in fd["message"], fd
    srv = by_addr(z)
    assert srv[fake_addr]["serial"] == 10, r
    assert srv[fake_addr]["axfr"] == "failed" and srv[fake_addr]["digest"] is None, r
    assert srv[fake_addr]["content"] == "queried", r
    assert srv[fake_addr]["content_differs"] is False, r
    for s in zs.servers:
        assert_transferred(srv[s.addr], records=11, serial=10)     # + NS and A of ns4


#: records of many types, names in mixed case, a delegation with glue, a
#: wildcard, an empty non-terminal and RRsets too large for 1232-octet UDP
MANY_TYPES = [
    "WWW IN A 192.0.2.1", "MiXeD.Case IN AAAA 2001:DB8::1", "@ IN MX 10 Mail.Types.Test.",
    "mail IN A 192.0.2.25", "_sip._tcp IN SRV 10 60 5060 SIP.types.test.", "sip IN A 192.0.2.50",
    '@ IN TXT "v=spf1 -all" "second \\"quoted\\" string"',
    'esc IN TXT "semi\\;colon" "tab\\009x"', '@ IN CAA 0 issue "letsencrypt.org"',
    'naptr IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.types.test.',
    "ssh IN SSHFP 1 1 0123456789abcdef0123456789abcdef01234567",
    "_443._tcp IN TLSA 3 1 1 " + "0123456789abcdef" * 4,
    'hinfo IN HINFO "PC" "Linux"', "gen IN TYPE65280 \\# 4 deadbeef", "ftp IN CNAME WWW",
    "*.wild IN A 192.0.2.77", "a.b.c.ent IN A 192.0.2.88", "sub IN NS ns.sub",
    "ns.sub IN A 192.0.2.53", "dname IN DNAME elsewhere.example.", "ptr IN PTR host.example.",
    "loc IN LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m",
    "big IN TXT " + " ".join(['"' + "x" * 250 + '"'] * 4),
    "ttl 60 IN A 192.0.2.60", 'uri IN URI 10 1 "https://example.com/"',
    "svc IN SVCB 1 . alpn=h2,h3 port=8443", "https IN HTTPS 1 . alpn=h2",
] + [f'many IN TXT "record number {i} ' + "y" * 180 + '"' for i in range(12)]


@pytest.mark.parametrize("victim", KINDS)
def test_many_record_types(fleet, check, victim):
    """Records of many types in all three vendors' hands: the transferred
    copies have one digest; the secondary that refuses the transfer matches
    when asked RRset by RRset (large RRsets over TCP); a change inside the
    large TXT RRset and the CAA, unbumped, is found both ways."""
    f = fleet(delegation=True)
    zone = "types.test."
    zs = three_vendor_zone(f, zone, primary="knot" if victim == "bind" else "bind",
                           include=victim, records=MANY_TYPES)
    p, s1, s2 = zs.servers
    v = s1 if s1.kind == victim else s2
    other = s2 if v is s1 else s1
    v.zone(zone).deny_transfer = [f.checker_addr]
    f.start()
    nrec = 7 + len(MANY_TYPES)

    r, z = check(f, "--content", zone)
    fs = findings(z)
    assert list(fs) == ["transfer-refused"] and named(fs["transfer-refused"]) == [v.addr], r
    assert r.rc == 1, r
    srv = by_addr(z)
    for s in (p, other):
        assert_transferred(srv[s.addr], records=nrec, serial=10)
    assert srv[p.addr]["digest"] == srv[other.addr]["digest"], r
    assert content_state(srv[v.addr]) == ("refused", "queried", False), r

    changed = [x.replace("record number 7 ", "record number seven ")
               .replace("letsencrypt.org", "example.net") for x in MANY_TYPES]
    edit_without_bump(p, zone, changed, (zone, "CAA", {'0 issue "example.net"'}))
    r, z = check(f, "--content", zone)
    fs = findings(z)
    assert sorted(fs) == ["same-serial-different-data", "transfer-refused"], r
    fd = fs["same-serial-different-data"]
    assert named(fd) == addrs(s1, s2), r
    assert f"{v.name} ({v.addr}): 2 RRsets differ when asked one by one" in fd["message"], fd
    assert f"{other.name} ({other.addr}): 4 records differ" in fd["message"], fd
    assert r.rc == 2, r


# --------------------------------------------------------------------------
# 5. a secondary pulling from an old provider


@pytest.mark.parametrize("stale,old_port", [("knot", 53), ("nsd", 53), ("bind", 5353),
                                            ("pdns", 53)])
def test_secondary_on_stale_source(fleet, check, stale, old_port):
    """The zone moved to a new primary (serial 20, new data); the old provider
    (hidden, serial 10, the old data) still serves it and one secondary still
    pulls from there.  A decoy candidate at the same serial 10 with other data
    must not be blamed."""
    f = fleet(delegation=True)
    zone = "moved.test."
    kinds = [k for k in KINDS if k != stale]
    p = f.server(kinds[0], f"ns1.{zone}")
    good = f.server(kinds[1], f"ns2.{zone}")
    lag = f.server(stale, f"ns3.{zone}")
    old = f.server("nsd" if stale != "nsd" else "knot", f"old-provider.{zone}", port=old_port)
    decoy = f.server("knot" if stale != "knot" else "bind", f"decoy.{zone}")
    p.primary(zone, 20, ["www IN A 192.0.2.20", BASE[1]])
    old.primary(zone, 10, ["www IN A 192.0.2.10", BASE[1]], hidden=True)
    decoy.primary(zone, 10, ["www IN A 192.0.2.10", BASE[1], "extra IN A 192.0.2.11"],
                  hidden=True)
    for o in (old, decoy):          # the same SOA MNAME and NS set as the new primary
        o.render_zone = (lambda z, o=o: p.render_zone(z))
    good.secondary(zone, p)
    lag.secondary(zone, old)
    f.start()
    assert {s.name: s.serial(zone) for s in (p, good, lag)} == \
        {p.name: 20, good.name: 20, lag.name: 10}
    old_arg = old.addr if old_port == 53 else f"{old.addr}#{old_port}"

    # without candidates: just a secondary behind
    r, z = check(f, zone)
    assert r.rc == 2, r
    fs = findings(z)
    assert list(fs) == ["serial-behind"] and named(fs["serial-behind"]) == [lag.addr], r

    r, z = check(f, "--candidate-primary", old_arg, "--candidate-primary", decoy.addr, zone)
    assert r.rc == 2 and z["status"] == "critical", r
    assert z["primary"] == p.addr and z["reference_serial"] == 20, r
    fs = findings(z)
    assert sorted(fs) == ["secondary-wrong-source", "serial-behind"], r
    assert named(fs["serial-behind"]) == [lag.addr], r
    fd = fs["secondary-wrong-source"]
    assert fd["severity"] == "critical" and named(fd) == [lag.addr], fd
    assert (f"{lag.name} ({lag.addr}) serves serial 10 with exactly the data of candidate "
            f"{old_arg}, not the primary's serial 20: it is pulling from {old_arg}"
            in fd["message"]), fd
    assert decoy.addr not in fd["message"] and decoy.addr not in fd["fix"], fd
    assert fd["fix"].startswith(f"point {lag.addr} at the primary {p.addr}"), fd
    assert f"stop {old_arg} from serving the zone" in fd["fix"], fd
    cands = {c["address"]: c for c in z["candidates"]}
    assert sorted(cands) == sorted([old.addr, decoy.addr]), r
    assert (cands[old.addr]["port"], cands[decoy.addr]["port"]) == (old_port, 53), r
    srv = by_addr(z)
    for c in cands.values():
        assert c["serial"] == 10 and c["axfr"] == "allowed", c
        assert c["content"] == "transferred" and len(c["digest"]) == DIGEST_HEX, c
    assert srv[lag.addr]["digest"] == cands[old.addr]["digest"], r
    assert cands[decoy.addr]["digest"] != cands[old.addr]["digest"], r
    assert srv[p.addr]["digest"] not in (cands[old.addr]["digest"], None), r

    # the decoy alone explains nothing
    r, z = check(f, "--candidate-primary", decoy.addr, zone)
    fs = findings(z)
    assert list(fs) == ["serial-behind"] and named(fs["serial-behind"]) == [lag.addr], r


# --------------------------------------------------------------------------
# 6. ZONEMD


@pytest.mark.parametrize("primary", KINDS)
def test_zonemd(fleet, check, primary):
    f = fleet(delegation=True)
    zone = "zonemd.test."
    zs = three_vendor_zone(f, zone, primary=primary)
    p, s1, s2 = zs.servers
    valid = BASE + zonemd_line(p, zone, 10, BASE, (dns.zone.DigestHashAlgorithm.SHA384,
                                                   dns.zone.DigestHashAlgorithm.SHA512))
    p.zone(zone).records = valid
    f.start()
    assert len(rdatas(p, zone, "ZONEMD")) == 2

    r, z = check(f, "--content", zone)
    assert r.rc == 0 and z["findings"] == [], r
    srv = by_addr(z)
    for s in zs.servers:
        assert_transferred(srv[s.addr], records=11, serial=10)

    # a record changed after the ZONEMD was computed (for serial 11)
    tampered = ["www IN A 192.0.2.66", BASE[1]] + zonemd_line(p, zone, 11, BASE)
    p.write_zone(zone, 11, tampered)
    zs.wait_synced()
    r, z = check(f, "--content", zone)
    assert r.rc == 2 and z["status"] == "critical", r
    fs = findings(z)
    assert list(fs) == ["zonemd-invalid"], r
    fd = fs["zonemd-invalid"]
    assert fd["severity"] == "critical" and named(fd) == addrs(p, s1, s2), fd
    for s in zs.servers:
        assert f"{s.name} ({s.addr}) (ZONEMD digest" in fd["message"], fd
    assert "zone file" not in fd["message"], fd

    # the same file given as --zonefile: the file and the primary are named
    pfile = str(p.zone_file(zone))
    r, z = check(f, "--zonefile", pfile, zone)
    assert r.rc == 2, r
    fs = findings(z)
    assert list(fs) == ["zonemd-invalid"], r
    fd = fs["zonemd-invalid"]
    assert named(fd) == [p.addr], fd
    assert f"in the zone file {pfile} (ZONEMD digest" in fd["message"], fd

    # serial bumped, ZONEMD left from the old serial
    stale = BASE + zonemd_line(p, zone, 11, BASE)
    p.write_zone(zone, 12, stale)
    zs.wait_synced()
    r, z = check(f, "--content", zone)
    assert r.rc == 2, r
    fs = findings(z)
    assert list(fs) == ["zonemd-invalid"], r
    assert named(fs["zonemd-invalid"]) == addrs(p, s1, s2), r
    stale_msg = "ZONEMD serial 11 is not the SOA serial 12"
    assert fs["zonemd-invalid"]["message"].count(stale_msg) == 3, r

    # recomputed: valid again
    p.write_zone(zone, 13, BASE + zonemd_line(p, zone, 13, BASE))
    zs.wait_synced()
    r, z = check(f, "--content", zone)
    assert r.rc == 0 and z["findings"] == [], r


def test_zonemd_rules(fleet, check):
    """RFC 8976 verification rules, each case served by the primary and given
    as --zonefile: one matching ZONEMD of a supported hash is enough, two
    with the same scheme and hash are invalid, unsupported schemes or hashes
    are not verifiable (RFC 8976 section 4: zonemd-unsupported, a warning), a
    SHA-384 ZONEMD whose digest is not 48 octets cannot match, a ZONEMD below
    the apex is plain data.  The verdict is in the JSON for the zone file and
    for every transferred copy, with the scheme and algorithm of each apex
    ZONEMD.  (BIND 9.18 refuses a SHA-384 ZONEMD of another length, on load
    and in a transfer, so this fleet is a Knot primary and an NSD secondary,
    which both take it.)"""
    f = fleet(delegation=True)
    zone = "mdrules.test."
    zs = harness.standard_zone(f, zone, primary="knot", secondaries=("nsd",), serial=10,
                               records=BASE)
    p = zs.primary
    h512 = dns.zone.DigestHashAlgorithm.SHA512
    deep = BASE + ["deep IN ZONEMD 10 1 1 " + "ab" * 48]
    cases = [       # (name, records without the serial's ZONEMD, ZONEMD maker, verdict,
                    #  apex (scheme, algorithm) pairs)
        ("sha384 valid, sha512 garbage", BASE,
         lambda n: zonemd_line(p, zone, n, BASE) + [f"@ IN ZONEMD {n} 1 2 " + "cd" * 64],
         "valid", [(1, 1), (1, 2)]),
        ("sha384 garbage, sha512 valid", BASE,
         lambda n: [f"@ IN ZONEMD {n} 1 1 " + "ee" * 48] + zonemd_line(p, zone, n, BASE, (h512,)),
         "valid", [(1, 1), (1, 2)]),
        ("two sha384", BASE,
         lambda n: zonemd_line(p, zone, n, BASE) + [f"@ IN ZONEMD {n} 1 1 " + "ef" * 48],
         "invalid", [(1, 1), (1, 1)]),
        ("private hash only", BASE, lambda n: [f"@ IN ZONEMD {n} 1 240 " + "ab" * 20],
         "unsupported", [(1, 240)]),
        ("private scheme only", BASE, lambda n: [f"@ IN ZONEMD {n} 240 1 " + "ab" * 48],
         "unsupported", [(240, 1)]),
        ("sha384 digest of 12 octets", BASE, lambda n: [f"@ IN ZONEMD {n} 1 1 " + "ab" * 12],
         "invalid", [(1, 1)]),
        ("zonemd below the apex", deep, lambda n: zonemd_line(p, zone, n, deep), "valid",
         [(1, 1)]),
        ("no zonemd", BASE, lambda n: [], "absent", []),
    ]
    finding = {"invalid": "zonemd-invalid", "unsupported": "zonemd-unsupported"}
    status = {"invalid": 2, "unsupported": 1}
    wrong = []
    for i, (name, records, maker, verdict, pairs) in enumerate(cases):
        serial = 11 + i
        p.write_zone(zone, serial, records + maker(serial))
        zs.wait_synced()
        pfile = str(p.zone_file(zone))
        r, z = check(f, "--content", "--zonefile", pfile, zone)
        got = sorted(findings(z))
        want = [finding[verdict]] if verdict in finding else []
        ok = got == want and r.rc == status.get(verdict, 0)
        if ok and want:
            fd = findings(z)[want[0]]
            ok = named(fd) == addrs(*zs.servers) and f"in the zone file {pfile}" in fd["message"]
        copies = [z["zonefile"]["zonemd"]] + [s["zonemd"] for s in z["servers"]]
        seen = [(c["status"], sorted((x["scheme"], x["algorithm"]) for x in c["records"]))
                for c in copies]
        if not ok or seen != [(verdict, sorted(pairs))] * len(copies):
            wrong.append(f"{name}: want {want} {verdict} {pairs}, got rc {r.rc} {got} {seen}: "
                         f"{[fd['message'] for fd in z['findings']]}")
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------
# 7. soasync diff @ADDR


def test_diff_transfers(fleet, soasync):
    f = fleet()
    zone = "diff.test."
    tzone = "tsigdiff.test."
    key = harness.TsigKey.generate("diff-key.")
    p = f.bind(f"ns1.{zone}")
    s1 = f.nsd(f"ns2.{zone}")
    s2 = f.knot(f"ns3.{zone}")
    p.primary(zone, 10, BASE)
    s1.secondary(zone, p)
    s2.secondary(zone, p, deny_transfer=[f.checker_addr])
    tp = f.knot(f"ns1.{tzone}")
    ts = f.nsd(f"ns2.{tzone}")
    tp.primary(tzone, 5, BASE, tsig=key)
    ts.secondary(tzone, tp, tsig=key)
    f.start()
    src = ("--source", f.checker_addr)

    def diff(*args):
        return soasync("diff", *src, *args)

    r = diff(f"@{p.addr}", f"@{s1.addr}", "--origin", zone)
    assert (r.rc, r.out, r.err) == (0, "", ""), r
    r = diff(str(p.zone_file(zone)), f"@{s1.addr}")          # origin from the file
    assert (r.rc, r.out, r.err) == (0, "", ""), r

    edit_without_bump(p, zone, EDITED, (f"www.{zone}", "A", {"192.0.2.2"}))
    want = [f"- new.{zone} 300 IN A 192.0.2.99",
            f"+ www.{zone} 300 IN A 192.0.2.1",
            f"- www.{zone} 300 IN A 192.0.2.2"]
    r = diff(f"@{p.addr}", f"@{s1.addr}", "--origin", zone)
    assert r.rc == 1 and r.out.splitlines() == want and r.err == "", r
    r = diff(str(p.zone_file(zone)), f"@{s1.addr}")
    assert r.rc == 1 and r.out.splitlines() == want and r.err == "", r
    r = diff("--json", f"@{s1.addr}", f"@{p.addr}", "--origin", zone)
    assert r.rc == 1, r
    assert json.loads(r.out) == {
        "only_in_a": [f"www.{zone} 300 IN A 192.0.2.1"],
        "only_in_b": [f"new.{zone} 300 IN A 192.0.2.99", f"www.{zone} 300 IN A 192.0.2.2"]}, r

    # a zone that transfers only with its TSIG key
    y = f"{key.algorithm}:{key.name}:{key.secret}"
    r = diff("-y", y, f"@{tp.addr}", f"@{ts.addr}", "--origin", tzone)
    assert (r.rc, r.out, r.err) == (0, "", ""), r
    r = diff("-y", y, str(tp.zone_file(tzone)), f"@{ts.addr}")
    assert (r.rc, r.out, r.err) == (0, "", ""), r
    r = diff(f"@{ts.addr}", str(tp.zone_file(tzone)))
    assert r.rc == 2 and r.out == "", r
    assert r.err.splitlines() == [f"soasync: @{ts.addr}: AXFR failed: REFUSED"], r

    # refused by address: exit 2, one line naming the server and the rcode
    r = diff(f"@{p.addr}", f"@{s2.addr}", "--origin", zone)
    assert r.rc == 2 and r.out == "", r
    assert r.err.splitlines() == [f"soasync: @{s2.addr}: AXFR failed: {REFUSAL['knot']}"], r
    r = diff(f"@{s1.addr}", f"@{p.addr}")                   # no file to tell the zone
    assert r.rc == 2 and r.out == "" and "--origin" in r.err, r


# --------------------------------------------------------------------------
# 8. a large zone


def test_large_zone_three_vendors(fleet, check, capsys):
    """20,000 records on BIND (primary), NSD and Knot: --content finds
    nothing; then one record changed without a bump is found on both
    secondaries.  The run time is printed, not asserted tightly."""
    f = fleet(delegation=True)
    zone = "large.test."
    n = 20000
    records = [f"h{i} IN A 10.{i >> 16}.{(i >> 8) & 255}.{i & 255}" for i in range(n)]
    t0 = time.monotonic()
    zs = three_vendor_zone(f, zone, records=records)
    f.start(timeout=120)
    started = time.monotonic() - t0
    p, s1, s2 = zs.servers

    r, z = check(f, "--content", zone, timeout=120)
    assert r.rc == 0 and z["findings"] == [], r
    srv = by_addr(z)
    for s in zs.servers:
        assert_transferred(srv[s.addr], records=n + 7, serial=10)
    assert len({srv[s.addr]["digest"] for s in zs.servers}) == 1, r
    elapsed = r.elapsed

    changed = list(records)
    changed[12345] = "h12345 IN A 192.0.2.45"
    edit_without_bump(p, zone, changed, (f"h12345.{zone}", "A", {"192.0.2.45"}))
    r, z = check(f, "--content", zone, timeout=120)
    assert r.rc == 2, r
    fs = findings(z)
    assert list(fs) == ["same-serial-different-data"], r
    assert named(fs["same-serial-different-data"]) == addrs(s1, s2), r
    for s in (s1, s2):
        assert same_serial_part(s, 2, "records differ",
                                f"+ h12345.{zone} 300 IN A 10.0.48.57; "
                                f"- h12345.{zone} 300 IN A 192.0.2.45") in \
            fs["same-serial-different-data"]["message"], r
    with capsys.disabled():
        print(f"\n[large zone] {n + 7} records x 3 servers: fleet up in {started:.2f}s, "
              f"check --content {elapsed:.2f}s (in sync), {r.elapsed:.2f}s (one change)")
    assert elapsed < 30 and r.elapsed < 30, r                # a hang guard, not a benchmark
