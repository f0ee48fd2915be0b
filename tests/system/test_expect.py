"""System tests for ``soasync check --expect`` and ``soasync wait --expect``.

Real BIND 9, NSD and Knot servers (harness.py) serve ``example.test.`` behind
a real delegation (root, ``test.``, unbound resolver); soasync runs as
``soasync check|wait --resolver RESOLVER --source CHECKER --expect ... ZONE``.

What is checked, exactly: the per-server ``expect`` status in ``--json``
(``match``/``differs``/``missing``/``absent``/``present``/``error``), what
each server serves, the ``expect`` lines of the table, finding codes, the
addresses each finding names, the cause in the message (not transferred yet,
or never reached the primary), exit codes, and the one-line usage errors.
Every run is checked for sanitizer reports on stderr, so the file doubles as
an ASan/UBSan run::

    /usr/bin/python3 -m pytest -q tests/system/test_expect.py
    SOASYNC=build-asan/soasync /usr/bin/python3 -m pytest -q tests/system/test_expect.py

Scenario used by most tests (``changed_on_some``): the zone is in sync at
serial 1 with ``OLD``; the primary then loads serial 2 with ``NEW`` (``www``
A changed, ``new`` TXT added, ``old`` A deleted, apex TXT changed) and
notifies every secondary but one, the laggard, which keeps serial 1 and the
old data (refresh 3600 s, so it does not move on its own).

``--no-vendor`` everywhere: the vendor does not matter here and BIND
rate-limits ``version.bind`` answers.  ``--expire-warn 0`` everywhere: the
expected-record findings should be the only ones besides ``serial-behind``.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import harness  # noqa: E402

ZONE = "example.test."
from conftest import sanitizer_report  # noqa: E402
COMMON = ("--no-vendor", "--expire-warn", "0")

OLD = [
    "www IN A 192.0.2.1",
    "@ IN TXT \"v1\"",
    "old IN A 192.0.2.5",
    "mail IN A 192.0.2.25",
    "@ IN MX 10 mail",
]
NEW = [
    "www IN A 192.0.2.2",
    "@ IN TXT \"v2\"",
    "new IN TXT \"added\"",
    "mail IN A 192.0.2.25",
    "@ IN MX 10 mail",
]

# The synced zone of the module fleet: multi-value RRsets of several types.
BIG_TXT = [f"big IN TXT \"{i:03d}-{'x' * 200}\"" for i in range(20)]     # > 4 KB: TC, TCP
RICH = [
    "multi IN A 192.0.2.11",
    "multi IN A 192.0.2.12",
    "multi IN A 192.0.2.13",
    "v6 IN AAAA 2001:db8::1",
    "v6 IN AAAA 2001:db8::2",
    "txt IN TXT \"alpha\"",
    "txt IN TXT \"beta gamma\"",
    "txt IN TXT \"Delta\"",
    "@ IN MX 10 mail",
    "@ IN MX 20 mx2.example.test.",
    "mail IN A 192.0.2.25",
    "mx2 IN A 192.0.2.26",
    "alias IN CNAME www",
    "www IN A 192.0.2.1",
    "*.wild IN A 192.0.2.50",
    "sub IN NS ns.elsewhere.test.",
] + BIG_TXT


# --------------------------------------------------------------------------
# helpers


def check(soasync, f, *args, zone=ZONE, json_out=True):
    """``soasync check`` through the fleet's resolver; returns (result, zone object or None)."""
    r = soasync("check", "--resolver", f.resolver.addr, "--source", f.checker_addr, *COMMON,
                *(("--json",) if json_out else ()), *args, zone)
    doc = None
    if json_out and r.rc in (0, 1, 2):
        rows = r.json_lines()
        assert len(rows) == 1, r
        doc = rows[0]
    return r, doc


def expect_of(doc, name, rtype) -> dict:
    """``{address: expect entry}`` for the expected RRset NAME TYPE, one per server."""
    out = {}
    for s in doc["servers"]:
        hits = [e for e in s.get("expect", []) if e["name"] == name and e["type"] == rtype]
        assert len(hits) == 1, f"{s['address']}: {name} {rtype} in {s.get('expect')}"
        out[s["address"]] = hits[0]
    return out


def statuses(doc, name, rtype) -> dict:
    return {a: e["status"] for a, e in expect_of(doc, name, rtype).items()}


def served(doc, name, rtype) -> dict:
    return {a: sorted(e["served"]) for a, e in expect_of(doc, name, rtype).items()}


def findings(doc, code) -> list:
    return [x for x in doc["findings"] if x["code"] == code]


def finding_for(doc, code, name, rtype) -> dict:
    """The one finding ``code`` about the RRset NAME TYPE (its message starts with it)."""
    hits = [x for x in findings(doc, code) if x["message"].startswith(f"{name} {rtype}: ")]
    assert len(hits) == 1, json.dumps(doc["findings"], indent=1)
    assert hits[0]["severity"] == "critical", hits[0]
    return hits[0]


EXPECT_LINE = re.compile(r"^  expect (absent )?(\S+) (\S+):(.*)$")


def table_expect(out: str) -> dict:
    """The table's ``expect`` lines: ``{(absent?, name, type): {address: status}}``."""
    rows = {}
    for line in out.splitlines():
        m = EXPECT_LINE.match(line)
        if m:
            per = {}
            for part in m.group(4).split(","):
                addr, status = part.split()
                per[addr] = status
            rows[(bool(m.group(1)), m.group(2), m.group(3))] = per
    return rows


def changed_on_some(f, *, primary, secondaries, laggard, old=OLD, new=NEW):
    """``ZONE`` in sync at serial 1 with ``old``; then the primary loads serial
    2 with ``new`` and notifies every secondary but ``secondaries[laggard]``,
    which is left at serial 1 with the old data (``zs.laggard``)."""
    notified = [i != laggard for i in range(len(secondaries))]
    zs = harness.standard_zone(f, ZONE, primary=primary, secondaries=secondaries,
                               records=old, notified=notified)
    first = zs.serial
    zs.laggard = zs.secondaries[laggard]
    zs.primary.write_zone(ZONE, first + 1, new)
    zs.wait_synced([s for s in zs.secondaries if s is not zs.laggard])
    assert zs.laggard.serial(ZONE) == first, zs.serials()
    zs.notes.update(old=first, new=first + 1)
    return zs


def others(zs):
    """Every server of the zone set but the laggard (the primary first)."""
    return [s for s in zs.servers if s is not zs.laggard]


# --------------------------------------------------------------------------
# 1 + 8: a change transferred to one secondary only; each vendor as the laggard

LAGGARD_SETUPS = {
    # laggard kind: (primary, secondaries, index of the laggard)
    "bind": ("knot", ("bind", "nsd"), 0),
    "nsd": ("bind", ("knot", "nsd"), 1),
    "knot": ("nsd", ("knot", "bind"), 0),
    # PowerDNS as the primary and as the laggard at once
    "pdns": ("pdns", ("pdns", "nsd"), 0),
}


@pytest.mark.parametrize("lag_kind", sorted(LAGGARD_SETUPS), ids=lambda k: f"laggard-{k}")
def test_change_not_transferred_names_only_the_laggard(fleet, soasync, lag_kind):
    primary, secondaries, lag = LAGGARD_SETUPS[lag_kind]
    f = fleet(delegation=True)
    zs = changed_on_some(f, primary=primary, secondaries=secondaries, laggard=lag)
    L = zs.laggard
    assert L.kind == lag_kind
    good = [s.addr for s in others(zs)]
    args = ("--expect", "www A 192.0.2.2",                  # changed
            "--expect", "new TXT \"added\"",                # added
            "--expect", "mail A 192.0.2.25")                # unchanged: everyone has it
    r, doc = check(soasync, f, *args)
    assert r.rc == 2, r
    assert doc["status"] == "critical", r
    assert doc["primary"] == zs.primary.addr and doc["reference_serial"] == zs.notes["new"], r
    assert len(doc["servers"]) == 3, r

    assert statuses(doc, "www.example.test.", "A") == \
        {**{a: "match" for a in good}, L.addr: "differs"}, r
    assert served(doc, "www.example.test.", "A") == \
        {**{a: ["www.example.test. 300 A 192.0.2.2"] for a in good},
         L.addr: ["www.example.test. 300 A 192.0.2.1"]}, r
    assert statuses(doc, "new.example.test.", "TXT") == \
        {**{a: "match" for a in good}, L.addr: "missing"}, r
    assert served(doc, "new.example.test.", "TXT")[L.addr] == [], r
    assert statuses(doc, "mail.example.test.", "A") == {s.addr: "match" for s in zs.servers}, r

    # exactly two record-not-published findings, each naming only the laggard
    assert len(findings(doc, "record-not-published")) == 2, r
    assert not findings(doc, "record-still-present"), r
    www = finding_for(doc, "record-not-published", "www.example.test.", "A")
    new = finding_for(doc, "record-not-published", "new.example.test.", "TXT")
    for fd in (www, new):
        assert fd["servers"] == [L.addr], fd
        msg = fd["message"]
        assert f"{L.name} ({L.addr}) serves " in msg, msg
        assert f"those servers are also behind the primary's serial {zs.notes['new']}" in msg, msg
        assert "the change is on the primary and has not been transferred to them" in msg, msg
        assert "never reached the primary" not in msg, msg
        for a in good:
            assert a not in msg, msg
    assert "serves {www.example.test. 300 A 192.0.2.1}; expected {www.example.test. A 192.0.2.2}" \
        in www["message"], www
    assert "serves nothing; expected {new.example.test. TXT \"added\"}" in new["message"], new
    # the serial finding agrees
    behind = findings(doc, "serial-behind")
    assert len(behind) == 1 and behind[0]["servers"] == [L.addr], r

    # the table shows the same per-server statuses, one line per expected RRset
    t, _ = check(soasync, f, *args, json_out=False)
    assert t.rc == 2, t
    assert table_expect(t.out) == {
        (False, "www.example.test.", "A"): {**{a: "match" for a in good}, L.addr: "differs"},
        (False, "new.example.test.", "TXT"): {**{a: "match" for a in good}, L.addr: "missing"},
        (False, "mail.example.test.", "A"): {s.addr: "match" for s in zs.servers},
    }, t
    assert "critical record-not-published: www.example.test. A: " in t.out, t


# --------------------------------------------------------------------------
# 2: the change never reached the primary


def test_change_never_loaded_on_primary_names_every_server(fleet, soasync):
    f = fleet(delegation=True)
    zs = harness.standard_zone(f, ZONE, primary="nsd", secondaries=("bind", "knot"), records=OLD)
    # The new data is saved to the primary's zone file but never loaded.
    zs.primary.write_zone(ZONE, zs.serial + 1, NEW, reload=False)
    assert zs.serials() == {s.name: 1 for s in zs.servers}
    everyone = sorted(s.addr for s in zs.servers)
    r, doc = check(soasync, f, "--expect", "www A 192.0.2.2", "--expect", "ghost A 192.0.2.99")
    assert r.rc == 2, r
    assert doc["status"] == "critical", r
    assert statuses(doc, "www.example.test.", "A") == {a: "differs" for a in everyone}, r
    assert served(doc, "www.example.test.", "A") == \
        {a: ["www.example.test. 300 A 192.0.2.1"] for a in everyone}, r
    assert statuses(doc, "ghost.example.test.", "A") == {a: "missing" for a in everyone}, r
    assert served(doc, "ghost.example.test.", "A") == {a: [] for a in everyone}, r
    assert not findings(doc, "serial-behind"), r
    assert len(findings(doc, "record-not-published")) == 2, r
    for name in ("www.example.test.", "ghost.example.test."):
        fd = finding_for(doc, "record-not-published", name, "A")
        assert sorted(fd["servers"]) == everyone and len(fd["servers"]) == 3, fd
        msg = fd["message"]
        assert "every server that answered lacks it: the change never reached the primary" in msg, msg
        assert "has not been transferred" not in msg, msg
        for s in zs.servers:
            assert f"{s.name} ({s.addr}) serves " in msg, msg
    assert "expected {ghost.example.test. A 192.0.2.99}" in \
        finding_for(doc, "record-not-published", "ghost.example.test.", "A")["message"]


# --------------------------------------------------------------------------
# 3: a deletion a lagging secondary has not seen


def test_deleted_record_still_served_by_laggard(fleet, soasync):
    f = fleet(delegation=True)
    zs = changed_on_some(f, primary="knot", secondaries=("bind", "nsd"), laggard=1)
    L = zs.laggard
    good = [s.addr for s in others(zs)]
    args = ("--expect-absent", "old A",                     # deleted on the primary
            "--expect-absent", "OLD.example.test. TXT")     # never existed
    r, doc = check(soasync, f, *args)
    assert r.rc == 2, r
    assert statuses(doc, "old.example.test.", "A") == \
        {**{a: "absent" for a in good}, L.addr: "present"}, r
    assert served(doc, "old.example.test.", "A") == \
        {**{a: [] for a in good}, L.addr: ["old.example.test. 300 A 192.0.2.5"]}, r
    assert statuses(doc, "old.example.test.", "TXT") == {s.addr: "absent" for s in zs.servers}, r
    assert not findings(doc, "record-not-published"), r
    assert len(findings(doc, "record-still-present")) == 1, r
    fd = finding_for(doc, "record-still-present", "old.example.test.", "A")
    assert fd["servers"] == [L.addr], fd
    msg = fd["message"]
    assert f"{L.name} ({L.addr}) serves {{old.example.test. 300 A 192.0.2.5}}" in msg, msg
    assert f"those servers are also behind the primary's serial {zs.notes['new']}" in msg, msg
    assert "the deletion is on the primary and has not been transferred to them" in msg, msg
    for a in good:
        assert a not in msg, msg

    t, _ = check(soasync, f, *args, json_out=False)
    assert t.rc == 2, t
    assert table_expect(t.out) == {
        (True, "old.example.test.", "A"): {**{a: "absent" for a in good}, L.addr: "present"},
        (True, "old.example.test.", "TXT"): {s.addr: "absent" for s in zs.servers},
    }, t


# --------------------------------------------------------------------------
# 4, 5: one synced fleet with multi-value RRsets


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """A module-wide fleet: ``ZONE`` with ``RICH`` on a BIND primary and NSD
    and Knot secondaries, in sync.  Yields the ZoneSet."""
    if os.geteuid() != 0:
        pytest.skip("system tests need root (they add /32 aliases to lo and bind port 53)")
    with harness.Fleet(tmp_path_factory.mktemp("expect-synced")) as f:
        f.enable_delegation()
        zs = harness.standard_zone(f, ZONE, primary="bind", secondaries=("nsd", "knot"),
                                   records=RICH)
        yield zs


# Every RRset of RICH, given in another order, another case, relative or
# absolute, with other formatting; all must match.
MATCHING = [
    ("MULTI A 192.0.2.13", "multi.example.test. A 192.0.2.11", "Multi IN A 192.0.2.12"),
    ("WWW A 192.0.2.1",),
    ("v6 AAAA 2001:DB8:0:0::2", "V6.example.test. AAAA 2001:0db8::1"),
    ("txt TXT Delta", "TXT IN TXT \"beta gamma\"", "txt.example.test. TXT alpha"),
    ("@ MX 20 MX2", "example.test. MX 10 MAIL.EXAMPLE.TEST."),
    ("alias CNAME WWW.example.test.",),
    ("foo.WILD A 192.0.2.50",),                       # a wildcard answers for any name
    ("mail 5m A 192.0.2.25",),                        # TTL given, 5m = 300: equal
    tuple(reversed(BIG_TXT)),                          # 4 KB RRset: truncated over UDP
]
MATCHING_KEYS = [
    ("multi.example.test.", "A"), ("www.example.test.", "A"), ("v6.example.test.", "AAAA"),
    ("txt.example.test.", "TXT"), ("example.test.", "MX"), ("alias.example.test.", "CNAME"),
    ("foo.wild.example.test.", "A"), ("mail.example.test.", "A"), ("big.example.test.", "TXT"),
]


def test_multi_value_rrsets_match_in_any_order_case_and_form(synced, soasync):
    zs = synced
    args = [a for group in MATCHING for line in group for a in ("--expect", line)]
    r, doc = check(soasync, zs.fleet, *args)
    assert r.rc == 0, r
    assert doc["status"] == "ok" and doc["findings"] == [], r
    assert all(len(s["expect"]) == len(MATCHING_KEYS) for s in doc["servers"]), r
    for name, rtype in MATCHING_KEYS:
        assert statuses(doc, name, rtype) == {s.addr: "match" for s in zs.servers}, (name, r)
    assert sorted(served(doc, "multi.example.test.", "A")[zs.primary.addr]) == [
        "multi.example.test. 300 A 192.0.2.11", "multi.example.test. 300 A 192.0.2.12",
        "multi.example.test. 300 A 192.0.2.13"], r
    assert len(served(doc, "big.example.test.", "TXT")[zs.primary.addr]) == 20, r

    t, _ = check(soasync, zs.fleet, *args, json_out=False)
    assert t.rc == 0, t
    rows = table_expect(t.out)
    assert set(rows) == {(False, n, ty) for n, ty in MATCHING_KEYS}, t
    assert all(per == {s.addr: "match" for s in zs.servers} for per in rows.values()), t


def test_absolute_names_in_upper_case_match(synced, soasync, tmp_path):
    """Owner names compare case-insensitively also when given absolute, in
    --expect, --expect-absent and --expect-file alike."""
    zs = synced
    everyone = {s.addr for s in zs.servers}
    path = tmp_path / "upper.zone"
    path.write_text("TXT.EXAMPLE.TEST. TXT alpha\nTXT.EXAMPLE.TEST. TXT \"beta gamma\"\n"
                    "Txt.Example.Test. TXT Delta\n")
    r, doc = check(soasync, zs.fleet,
                   "--expect", "WWW.EXAMPLE.TEST. A 192.0.2.1",
                   "--expect", "multi.EXAMPLE.test. A 192.0.2.11",
                   "--expect", "MULTI.Example.Test. A 192.0.2.12",
                   "--expect", "multi A 192.0.2.13",
                   "--expect", "EXAMPLE.TEST. MX 10 mail",
                   "--expect", "Example.Test. MX 20 mx2",
                   "--expect-absent", "GONE.EXAMPLE.TEST. A",
                   "--expect-file", path)
    assert r.rc == 0, r
    assert doc["findings"] == [], r
    for name, rtype in (("www.example.test.", "A"), ("multi.example.test.", "A"),
                        ("example.test.", "MX"), ("txt.example.test.", "TXT")):
        assert statuses(doc, name, rtype) == {a: "match" for a in everyone}, (name, r)
    assert statuses(doc, "gone.example.test.", "A") == {a: "absent" for a in everyone}, r


# Each of these differs from what every server serves (the RRset name, type).
DIFFERING = {
    "ttl": (("multi 3600 A 192.0.2.11", "multi 3600 A 192.0.2.12", "multi 3600 A 192.0.2.13"),
            "multi.example.test.", "A"),
    "ttl-zero": (("www 0 A 192.0.2.1",), "www.example.test.", "A"),
    "subset": (("multi A 192.0.2.11", "multi A 192.0.2.13"), "multi.example.test.", "A"),
    "superset": (("multi A 192.0.2.11", "multi A 192.0.2.12", "multi A 192.0.2.13",
                  "multi A 192.0.2.14"), "multi.example.test.", "A"),
    # the case of names does not count, the case of text does (RFC 4034 6.2)
    "txt-case": (("txt TXT ALPHA", "txt TXT \"beta gamma\"", "txt TXT Delta"),
                 "txt.example.test.", "TXT"),
    "mx-preference": (("@ MX 10 mail", "@ MX 30 mx2"), "example.test.", "MX"),
    "cname-instead": (("alias A 192.0.2.1",), "alias.example.test.", "A"),
}


@pytest.mark.parametrize("case", sorted(DIFFERING))
def test_rrset_that_differs_is_not_published_anywhere(synced, soasync, case):
    zs = synced
    lines, name, rtype = DIFFERING[case]
    everyone = sorted(s.addr for s in zs.servers)
    r, doc = check(soasync, zs.fleet, *[a for line in lines for a in ("--expect", line)])
    assert r.rc == 2, r
    assert statuses(doc, name, rtype) == {a: "differs" for a in everyone}, r
    fd = finding_for(doc, "record-not-published", name, rtype)
    assert sorted(fd["servers"]) == everyone, fd
    assert len(doc["findings"]) == 1, r
    assert "the change never reached the primary" in fd["message"], fd
    if case == "ttl":
        # the TTL is shown on both sides when it was given
        assert "expected {multi.example.test. 3600 A 192.0.2.11 | " in fd["message"], fd
    if case == "cname-instead":
        assert served(doc, name, rtype)[zs.primary.addr] == \
            ["alias.example.test. 300 CNAME www.example.test."], r


def test_expect_file_several_rrsets(synced, soasync, tmp_path):
    zs = synced
    everyone = {s.addr for s in zs.servers}
    good = tmp_path / "expected.zone"
    good.write_text(
        "; the state after the change\n"
        "$TTL 300\n"
        "multi          A     192.0.2.12\n"
        "MULTI.example.test.  IN A 192.0.2.11   ; trailing comment\n"
        "\n"
        "multi          A     192.0.2.13\n"
        "@              MX    20 mx2\n"
        "@              MX    10 MAIL\n"
        "txt            TXT   \"Delta\"\n"
        "txt            TXT   ( \"beta gamma\" )\n"
        "txt            TXT   alpha\n")
    keys = [("multi.example.test.", "A"), ("example.test.", "MX"), ("txt.example.test.", "TXT")]
    r, doc = check(soasync, zs.fleet, "--expect-file", good)
    assert r.rc == 0, r
    assert doc["findings"] == [], r
    for name, rtype in keys:
        assert statuses(doc, name, rtype) == {a: "match" for a in everyone}, (name, r)
    assert all(len(s["expect"]) == 3 for s in doc["servers"]), r

    # --expect-file and --expect together; one RRset with a TTL nobody serves
    extra = tmp_path / "extra.zone"
    extra.write_text("v6 3600 AAAA 2001:db8::1\nv6 3600 AAAA 2001:db8::2\n")
    r, doc = check(soasync, zs.fleet, "--expect-file", good, "--expect-file", extra,
                   "--expect", "www A 192.0.2.1")
    assert r.rc == 2, r
    for name, rtype in keys + [("www.example.test.", "A")]:
        assert statuses(doc, name, rtype) == {a: "match" for a in everyone}, (name, r)
    assert statuses(doc, "v6.example.test.", "AAAA") == {a: "differs" for a in everyone}, r
    assert [(x["code"], sorted(x["servers"])) for x in doc["findings"]] == \
        [("record-not-published", sorted(everyone))], r
    assert doc["findings"][0]["message"].startswith("v6.example.test. AAAA: "), r


BROKEN_FILES = {
    "bad-rdata": ("; comment\n$TTL 300\nwww A 192.0.2.1\nmail A 192.0.2\n", 4,
                  "invalid IPv4 address"),
    "outside-zone": ("www A 192.0.2.1\n\nwww.elsewhere.test. A 192.0.2.1\nmail A 192.0.2.25\n", 3,
                     "www.elsewhere.test. is outside the zone"),
    "include": ("www A 192.0.2.1\n$INCLUDE /etc/hosts\n", 2, "$INCLUDE is not supported here"),
    "unknown-type": ("; c\nwww BOGUS 1\n", 2, None),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
@pytest.mark.parametrize("cmd", ["check", "wait"])
def test_expect_file_broken_line(soasync, tmp_path, cmd, case):
    text, line, why = BROKEN_FILES[case]
    path = tmp_path / "broken.zone"
    path.write_text(text)
    # Nothing listens at the --ns address: had the file been accepted, the run
    # would end with 2 (unreachable), not with the usage error 3.
    extra = ("--serial", "1", "--timeout", "2") if cmd == "wait" else ("--timeout", "200")
    r = soasync(cmd, "--ns", "127.0.0.1#1", *extra, "--expect-file", path, ZONE, timeout=30)
    assert r.rc == 3, r
    assert r.out == "", r
    assert r.err.count("\n") == 1, r
    prefix = f"soasync: --expect-file {path}:{line}: "
    assert r.err.startswith(prefix), r
    if why is not None:
        assert r.err == prefix + why + "\n", r
    else:
        assert len(r.err) > len(prefix) + 1, r


def test_expect_file_missing_or_empty(soasync, tmp_path):
    empty = tmp_path / "empty.zone"
    empty.write_text("; nothing but a comment\n$TTL 300\n")
    for path, why in ((tmp_path / "absent.zone", None), (empty, "no record")):
        r = soasync("check", "--ns", "127.0.0.1#1", "--expect-file", path, ZONE)
        assert r.rc == 3, r
        assert r.out == "" and r.err.count("\n") == 1, r
        assert r.err.startswith(f"soasync: --expect-file {path}"), r
        if why:
            assert r.err == f"soasync: --expect-file {path}: {why}\n", r


# --------------------------------------------------------------------------
# 6: bad --expect input


BAD_INPUT = {
    "bad-rdata": (["--expect", "www A 192.0.2"], [ZONE],
                  r"--expect 'www A 192\.0\.2': .*invalid IPv4 address"),
    "bad-mx": (["--expect", "@ MX mail"], [ZONE], r"--expect '@ MX mail': .*invalid number"),
    "unknown-type": (["--expect", "www BOGUS x"], [ZONE], r"--expect 'www BOGUS x': "),
    "empty": (["--expect", ""], [ZONE], r"--expect '': .*no record"),
    "outside-zone": (["--expect", "www.elsewhere.test. A 192.0.2.1"], [ZONE],
                     r"--expect 'www\.elsewhere\.test\. A 192\.0\.2\.1': "
                     r".*www\.elsewhere\.test\. is outside the zone"),
    "parent-zone": (["--expect", "test. A 192.0.2.1"], [ZONE], r"test\. is outside the zone"),
    "two-zones": (["--expect", "www A 192.0.2.1"], [ZONE, "other.test."],
                  r"check: --expect needs exactly one ZONE"),
    "zones-from": (["--expect", "www A 192.0.2.1", "--zones-from", "/dev/null"], [ZONE],
                   r"check: --expect needs exactly one ZONE"),
    "absent-no-type": (["--expect-absent", "www"], [ZONE],
                       r"--expect-absent: 'www': expected NAME TYPE"),
    "absent-extra": (["--expect-absent", "www A 192.0.2.1"], [ZONE],
                     r"--expect-absent: 'www A 192\.0\.2\.1': expected NAME TYPE"),
    "absent-outside": (["--expect-absent", "www.elsewhere.test. A"], [ZONE],
                       r"--expect-absent: www\.elsewhere\.test\. is outside the zone"),
    "present-and-absent": (["--expect", "www A 192.0.2.1", "--expect-absent", "www A"], [ZONE],
                           r"--expect-absent: 'www A' is also expected present"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_expect_input_is_a_one_line_usage_error(soasync, case):
    opts, zones, pattern = BAD_INPUT[case]
    r = soasync("check", "--ns", "127.0.0.1#1", "--timeout", "200", "--tries", "1",
                    *opts, *zones, timeout=30)
    assert r.rc == 3, r
    assert r.out == "", r
    assert r.err.count("\n") == 1 and r.err.startswith("soasync: "), r
    assert re.search(pattern, r.err), r


@pytest.mark.parametrize("case", ["bad-rdata", "outside-zone", "absent-no-type",
                                  "present-and-absent"])
def test_bad_expect_input_for_wait(soasync, case):
    opts, zones, pattern = BAD_INPUT[case]
    # --serial: had the input been accepted, this wait would end 2 at its deadline
    r = soasync("wait", "--ns", "127.0.0.1#1", "--serial", "1", "--timeout", "2", *opts, *zones,
                timeout=30)
    assert r.rc == 3, r
    assert r.out == "", r
    assert r.err.count("\n") == 1 and r.err.startswith("soasync: "), r
    assert re.search(pattern, r.err), r


# --------------------------------------------------------------------------
# expectations no server can confirm


def test_expectation_no_server_answers_authoritatively_is_not_ok(synced, soasync):
    """Names at and below a zone cut get referrals (no AA) from every server:
    status ``error`` everywhere.  The expectation is then unconfirmed; check
    must not report the zone ok (``wait`` never converges on it either)."""
    zs = synced
    everyone = sorted(s.addr for s in zs.servers)
    for line, name, rtype in (("host.sub A 192.0.2.1", "host.sub.example.test.", "A"),
                              ("sub NS ns.elsewhere.test.", "sub.example.test.", "NS")):
        r, doc = check(soasync, zs.fleet, "--expect", line)
        assert statuses(doc, name, rtype) == {a: "error" for a in everyone}, r
        assert r.rc != 0 and doc["status"] != "ok", \
            f"an expected RRset no server served authoritatively passed as ok:\n{r}"
        assert any(sorted(x["servers"]) == everyone for x in doc["findings"]), r


# --------------------------------------------------------------------------
# 7: soasync wait --expect


def wait_argv(soasync_bin, f, *args):
    return [soasync_bin, "wait", "--resolver", f.resolver.addr, "--source", f.checker_addr,
            *args, ZONE]


class PtyProc:
    """A soasync process with stderr on a pseudo-terminal (so ``wait`` shows
    its progress line) and stdout on a pipe."""

    def __init__(self, argv):
        self.argv = argv
        master, slave = pty.openpty()
        self.master = master
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=slave, close_fds=True)
        os.close(slave)
        self.err = b""

    def _read(self, wait: float) -> bool:
        r, _, _ = select.select([self.master], [], [], wait)
        if not r:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:                       # EIO: the child closed the terminal
            return False
        self.err += data
        return bool(data)

    def wait_for(self, needle: str, timeout: float) -> str:
        def seen_or_gone():
            more = self._read(0.05)
            return needle in self.text or (not more and self.p.poll() is not None)
        try:
            harness.wait_until(seen_or_gone, timeout, interval=0, what=f"{needle!r} on stderr")
        except TimeoutError:
            pass                              # the assertion shows what came instead
        assert needle in self.text, f"{needle!r} not on stderr of {self.argv}:\n{self.text}"
        return self.text

    def finish(self, timeout: float):
        try:
            out, _ = self.p.communicate(timeout=timeout)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
        while self._read(0.05):
            pass
        os.close(self.master)
        return self.p.returncode, out.decode(errors="replace"), self.text

    @property
    def text(self) -> str:
        return self.err.decode(errors="replace")


@pytest.mark.parametrize("target", ["new-serial", "old-serial"])
def test_wait_expect_converges_when_laggard_transfers(fleet, soasync_bin, target):
    """``wait`` keeps waiting while the laggard lacks the change and ends 0
    once it has transferred.  With ``--serial`` at the old serial every server
    is at the target serial from the start: only --expect keeps it waiting."""
    f = fleet(delegation=True)
    zs = changed_on_some(f, primary="bind", secondaries=("nsd", "knot"), laggard=1)
    L = zs.laggard
    serial = zs.notes["new"] if target == "new-serial" else zs.notes["old"]
    extra = () if target == "new-serial" else ("--serial", str(serial))
    proc = PtyProc(wait_argv(soasync_bin, f, "--timeout", "60", *extra,
                             "--expect", "www A 192.0.2.2", "--expect", "new TXT added",
                             "--expect-absent", "old A"))
    try:
        progress = proc.wait_for(
            f"{L.name} ({L.addr}) serves {zs.notes['old']} without the expected records", 15)
        assert proc.p.poll() is None, progress
        m = re.search(r"(\d+)/(\d+) at (\d+) or later", progress)
        assert m and m.groups() == ("2", "3", str(serial)), progress
        for s in others(zs):
            assert s.addr not in progress, progress
        L.retransfer(ZONE)
        rc, out, err = proc.finish(30)
    finally:
        if proc.p.poll() is None:
            proc.p.kill()
            proc.p.wait()
    assert not sanitizer_report(err), f"sanitizer report in stderr of {proc.argv}:\n{err}"
    assert rc == 0, (rc, out, err)
    m = re.fullmatch(rf"{re.escape(ZONE)}: every server serves {serial} or later "
                     r"\(\d+\.\d s, (\d+) rounds?\)\n", out)
    assert m, (out, err)
    assert int(m.group(1)) >= 2, (out, err)
    assert L.serial(ZONE) == zs.notes["new"]


def test_wait_expect_deadline_names_the_laggard(fleet, soasync_bin):
    """Two waits at once, both ``--timeout 3``: towards the primary's serial,
    and towards the old serial every server has (only the records are
    missing).  Each ends 2 naming only the laggard, without the records."""
    f = fleet(delegation=True)
    zs = changed_on_some(f, primary="knot", secondaries=("bind", "nsd"), laggard=0)
    L = zs.laggard
    assert L.kind == "bind"
    old, new = zs.notes["old"], zs.notes["new"]
    expect = ("--expect", "www A 192.0.2.2", "--expect-absent", "old A")
    runs = {}
    t0 = time.monotonic()
    for serial in (new, old):
        extra = () if serial == new else ("--serial", str(old))
        argv = wait_argv(soasync_bin, f, "--timeout", "3", *extra, *expect)
        runs[serial] = (argv, subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                               text=True))
    for serial, (argv, p) in runs.items():
        try:
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        took = time.monotonic() - t0
        assert not sanitizer_report(err), f"sanitizer report in stderr of {argv}:\n{err}"
        assert p.returncode == 2, (argv, p.returncode, out, err)
        assert 2.5 <= took < 15, took
        assert out == "", out
        want = (f"soasync: {ZONE}: deadline passed after 3 s: not at {serial}: "
                f"{L.name} ({L.addr}) serves {old} without the expected records\n")
        assert err == want, (argv, err)
    assert L.serial(ZONE) == old
