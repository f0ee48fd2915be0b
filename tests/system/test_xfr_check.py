"""System tests for ``soasync xfr-check`` against real BIND 9.18, NSD 4.6 and Knot 3.2.

Vendor behaviour asserted here (measured on Debian 12):

* Unsigned AXFR from an address outside the transfer ACL: BIND and NSD answer
  REFUSED, Knot answers NOTAUTH.
* AXFR signed with a key of the right name but another secret: all three
  answer NOTAUTH with TSIG error BADSIG; with a key name they do not know:
  NOTAUTH with TSIG error BADKEY.
* IXFR from (serial - 1): a BIND primary with ``ixfr-from-differences yes``
  and a Knot primary with ``zonefile-load: difference`` answer with
  difference sequences after a change; BIND and Knot secondaries that
  received an IXFR answer incrementally too (they journal what they got);
  NSD 4.6 never serves IXFR (it sends the whole zone in AXFR form, promptly,
  also when it received the change by IXFR itself); with no history (just
  loaded, or fed by AXFR) every vendor answers in AXFR form.
* PowerDNS 4.7 (bind backend): unsigned AXFR outside the ACL -> NOTAUTH; a
  wrong secret or an unknown key name -> NOTAUTH without a TSIG record (no
  TSIG error to show); it never answers IXFR with differences (as primary
  it keeps none, as secondary it always transfers by AXFR).
"""

from __future__ import annotations

import json
import subprocess

import pytest

import harness
from conftest import KINDS, VENDOR

ZONE = "example.test."
RECORDS = ["www IN A 192.0.2.1", '@ IN TXT "soasync xfr-check test"']
KDIG = "/usr/bin/kdig"

#: unsigned AXFR outside the ACL
REFUSAL = {"bind": "REFUSED", "nsd": "REFUSED", "knot": "NOTAUTH", "pdns": "NOTAUTH"}
#: the ACL hint soasync gives per vendor in the fix text
ACL_HINT = {
    "bind": "allow-transfer { ...; }; in the zone statement (named.conf)",
    "nsd": "provide-xfr: ADDRESS KEY in the zone (nsd.conf)",
    "knot": "an acl with action: transfer (address, key) referenced by the zone (knot.conf)",
    "pdns": "the zone's ALLOW-AXFR-FROM metadata (pdnsutil set-meta ZONE ALLOW-AXFR-FROM "
            "ADDRESS; with a key: pdnsutil activate-tsig-key ZONE KEY primary) or "
            "allow-axfr-ips in pdns.conf (every zone)",
}
#: what a transfer signed with another secret for the key name gets (PowerDNS
#: answers NOTAUTH without a TSIG record)
BADSIG = {k: "NOTAUTH (TSIG BADSIG: the server has another secret for this key)"
          for k in KINDS} | {"pdns": "NOTAUTH"}


def whole_zone(kind: str) -> str:
    """How xfr-check reports an IXFR answered with the whole zone: "axfr" for
    every vendor.  PowerDNS sends its first message with the SOA alone (then
    the zone, then the SOA); soasync waits a moment for a message after a
    lone newer SOA and so tells that apart from NSD's single SOA with nothing
    after it (kdig stops at the lone SOA)."""
    return "axfr"


# --------------------------------------------------------------------------
# local helpers




def xfr_json(r) -> dict:
    """Parse xfr-check --json output: exactly one object on one line."""
    lines = [line for line in r.out.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line:\n{r}"
    doc = json.loads(lines[0])
    assert set(doc) == {"zone", "status", "servers", "findings"}, doc
    for s in doc["servers"]:
        assert set(s) == {"name", "address", "port", "soa_serial", "axfr", "axfr_tsig", "ixfr",
                          "error", "vendor", "axfr_records", "axfr_serial"}, s
        if s["axfr"] == "allowed" or s["axfr_tsig"] == "allowed":
            assert s["axfr_records"] > 0 and s["axfr_serial"] == s["soa_serial"], s
        else:
            assert s["axfr_records"] is None and s["axfr_serial"] is None, s
        # checked here; the tests compare the other fields
        doc.setdefault("_records", {})[s["address"]] = s.pop("axfr_records")
        s.pop("axfr_serial")
    for fd in doc["findings"]:
        assert set(fd) == {"code", "severity", "servers", "message", "fix"}, fd
    return doc


#: the parts of a server's "error", in the order the transfers were started;
#: soasync appends them as the transfers finish (which varies from run to run)
ERROR_PARTS = ("AXFR: ", "AXFR with the key: ", "IXFR: ")


def canon_error(err):
    """A server's error with its parts in a fixed order (see ERROR_PARTS)."""
    if err is None:
        return None
    parts = err.split("; ")
    for p in parts:
        assert p.startswith(ERROR_PARTS), f"unexpected error part {p!r} in {err!r}"
    return "; ".join(sorted(parts, key=lambda p: [p.startswith(x) for x in ERROR_PARTS]
                            .index(True)))


def by_addr(doc) -> dict:
    """{address: server} with the error parts in a fixed order."""
    out = {}
    for s in doc["servers"]:
        assert s["address"] not in out, f"server listed twice: {doc}"
        out[s["address"]] = dict(s, error=canon_error(s["error"]))
    return out


def assert_named(message: str, label: str, error: str) -> None:
    """The finding message names ``label`` followed by the parts of ``error``."""
    i = message.find(f"{label}: ")
    assert i >= 0, f"{label} not named in {message!r}"
    rest = message[i + len(label) + 2:]
    for part in error.split("; "):
        assert part in rest, f"{part!r} missing after {label} in {message!r}"


def findings(doc) -> dict:
    out = {}
    for fd in doc["findings"]:
        assert fd["code"] not in out, f"finding {fd['code']} twice: {doc}"
        out[fd["code"]] = fd
    return out


def ykey(key: harness.TsigKey, secret: str | None = None) -> str:
    return f"{key.algorithm}:{key.name}:{secret or key.secret}"


def kdig_axfr_count(srv, zone, key: harness.TsigKey | None = None) -> int:
    """Records of an AXFR by kdig (both SOAs counted), from the harness address."""
    argv = [KDIG, "-b", srv.fleet.harness_addr, f"@{srv.addr}", "-p", str(srv.port), "AXFR",
            zone, "+noall", "+answer", "+timeout=10"]
    if key is not None:
        argv += ["-y", ykey(key)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [x for x in r.stdout.splitlines() if x.strip() and not x.startswith(";")]
    return len(lines)


# --------------------------------------------------------------------------
# 4. open primary, secondaries that refuse the checker


def test_open_primary_and_refusing_secondaries(fleet, soasync):
    f = fleet(delegation=True)
    p = f.bind("ns1.example.test.")
    p.primary(ZONE, 3, RECORDS)                               # allow-transfer any
    secs = []
    for i, kind in enumerate(("nsd", "knot", "bind", "pdns")):
        s = f.server(kind, f"ns{i + 2}.example.test.")
        s.secondary(ZONE, p, allow_transfer=[p])              # only the primary's address
        secs.append(s)
    f.start()
    disc = ["--resolver", f.resolver.addr, "--source", f.checker_addr]
    r = soasync("xfr-check", *disc, "--json", ZONE)
    assert r.rc == 1, r
    doc = xfr_json(r)
    assert doc["zone"] == ZONE and doc["status"] == "warning", r
    got = by_addr(doc)
    assert set(got) == {p.addr} | {s.addr for s in secs}, r
    assert got[p.addr] == {"name": p.name, "address": p.addr, "port": 53, "soa_serial": 3,
                           "axfr": "allowed", "axfr_tsig": "skipped", "ixfr": "axfr",
                           "error": None, "vendor": "bind"}, r
    for s in secs:
        rc = REFUSAL[s.kind]
        assert got[s.addr] == {"name": s.name, "address": s.addr, "port": 53, "soa_serial": 3,
                               "axfr": "refused", "axfr_tsig": "skipped", "ixfr": "refused",
                               "error": f"AXFR: {rc}; IXFR: {rc}",
                               "vendor": VENDOR[s.kind]}, r
    fs = findings(doc)
    assert set(fs) == {"transfer-open", "transfer-refused"}, r
    op = fs["transfer-open"]
    assert op["severity"] == "warning" and op["servers"] == [p.addr], r
    assert f"(asked from {f.checker_addr})" in op["message"], r
    assert f"{p.name} ({p.addr})" in op["message"], r
    assert f"{p.addr}: {ACL_HINT['bind']}" in op["fix"], r
    ref = fs["transfer-refused"]
    assert ref["severity"] == "info", r                       # no key given: the norm
    assert sorted(ref["servers"]) == sorted(s.addr for s in secs), r
    assert ref["message"].startswith(
        f"these servers refuse AXFR (asked from {f.checker_addr}): "), r
    for s in secs:
        rc = REFUSAL[s.kind]
        assert_named(ref["message"], f"{s.name} ({s.addr})", f"AXFR: {rc}; IXFR: {rc}")
        assert f"{s.addr}: {ACL_HINT[s.kind]}" in ref["fix"], r
    assert p.addr not in ref["servers"]

    # the table says the same
    r = soasync("xfr-check", *disc, "--color", "never", ZONE)
    assert r.rc == 1, r
    lines = r.out.splitlines()
    assert lines[0] == f"{ZONE} warning", r
    assert lines[1].split() == ["NAME", "ADDRESS", "SERIAL", "AXFR", "AXFR-TSIG", "IXFR", "ERROR"]
    table = {ln.split()[1]: ln.split(None, 6) for ln in lines[2:3 + len(secs)]}
    assert table[p.addr] == [p.name, p.addr, "3", "allowed", "skipped", "axfr"], r
    for s in secs:
        rc = REFUSAL[s.kind]
        row = table[s.addr]
        assert row[:6] == [s.name, s.addr, "3", "refused", "skipped", "refused"], r
        assert canon_error(row[6]) == f"AXFR: {rc}; IXFR: {rc}", r
    assert any(ln.startswith("  info transfer-refused: ") for ln in lines), r
    assert any(ln.startswith("  warning transfer-open: ") for ln in lines), r

    # allowing the checker's address on one secondary turns it "open"
    secs[0].zone(ZONE).allow_transfer = [p, f.checker_addr]
    secs[0].reconfigure()

    def allowed():
        try:
            return secs[0].axfr(ZONE, source=f.checker_addr, timeout=2)
        except Exception:                  # refused until NSD applied the new ACL
            return None
    harness.wait_until(allowed, 10, what="nsd to allow the checker")
    doc = xfr_json(soasync("xfr-check", *disc, "--no-ixfr", "--json", ZONE))
    got = by_addr(doc)
    assert got[secs[0].addr]["axfr"] == "allowed" and got[secs[0].addr]["ixfr"] == "skipped"
    assert findings(doc)["transfer-refused"]["servers"] == sorted(
        s.addr for s in secs[1:]), doc


# --------------------------------------------------------------------------
# TSIG


def tsig_fleet(f, key):
    """Knot primary, NSD and BIND secondaries; every transfer needs ``key``."""
    return harness.standard_zone(f, ZONE, primary="knot", secondaries=("nsd", "bind"),
                                 serial=5, records=RECORDS, tsig=key)


def test_tsig_allowed_no_warning(fleet, soasync, tmp_path):
    key = harness.TsigKey.generate("xfr-key.")
    f = fleet()
    zs = tsig_fleet(f, key)
    args = ["--ns", ",".join(s.addr for s in zs.servers), "--primary", zs.primary.addr,
            "--source", f.checker_addr]
    r = soasync("xfr-check", *args, "-y", ykey(key), "--json", ZONE)
    assert r.rc == 0, r
    doc = xfr_json(r)
    assert doc["status"] == "ok" and doc["findings"] == [], r
    got = by_addr(doc)
    for s in zs.servers:
        assert got[s.addr] == {"name": None, "address": s.addr, "port": 53, "soa_serial": 5,
                               "axfr": "refused", "axfr_tsig": "allowed", "ixfr": "axfr",
                               "error": f"AXFR: {REFUSAL[s.kind]}", "vendor": s.kind}, r
    # the same key from a BIND key file
    kf = tmp_path / "xfr.key"
    kf.write_text(f'key "{key.name}" {{\n\talgorithm {key.algorithm};\n'
                  f'\tsecret "{key.secret}";\n}};\n')
    r = soasync("xfr-check", *args, "--tsig-key", kf, "--no-ixfr", "--json", ZONE)
    assert r.rc == 0, r
    doc = xfr_json(r)
    assert doc["status"] == "ok" and doc["findings"] == [], r
    assert {s["address"]: (s["axfr"], s["axfr_tsig"], s["ixfr"]) for s in doc["servers"]} == \
        {s.addr: ("refused", "allowed", "skipped") for s in zs.servers}, r
    # without the key: everyone refuses, which is only "info"
    r = soasync("xfr-check", *args, "--json", ZONE)
    assert r.rc == 0, r
    doc = xfr_json(r)
    assert doc["status"] == "ok", r
    got = by_addr(doc)
    for s in zs.servers:
        rc = REFUSAL[s.kind]
        assert (got[s.addr]["axfr"], got[s.addr]["axfr_tsig"], got[s.addr]["ixfr"],
                got[s.addr]["error"]) == ("refused", "skipped", "refused",
                                          f"AXFR: {rc}; IXFR: {rc}"), r
    (fd,) = doc["findings"]
    assert (fd["code"], fd["severity"]) == ("transfer-refused", "info"), r
    assert sorted(fd["servers"]) == sorted(s.addr for s in zs.servers), r


@pytest.mark.parametrize("which", ["other-secret", "unknown-name"])
def test_tsig_wrong_key_refused_with_tsig_error(fleet, soasync, which):
    key = harness.TsigKey.generate("xfr-key.")
    if which == "other-secret":
        wrong, terr = harness.TsigKey.generate("xfr-key."), "BADSIG"
        why = "the server has another secret for this key"
    else:
        wrong, terr = harness.TsigKey.generate("not-known.key."), "BADKEY"
        why = "the server does not know this key name or algorithm"
    f = fleet()
    zs = tsig_fleet(f, key)
    args = ["--ns", ",".join(s.addr for s in zs.servers), "--primary", zs.primary.addr,
            "--source", f.checker_addr]
    r = soasync("xfr-check", *args, "-y", ykey(wrong), "--json", ZONE)
    assert r.rc == 1, r
    doc = xfr_json(r)
    assert doc["status"] == "warning", r
    got = by_addr(doc)
    tsig_text = f"NOTAUTH (TSIG {terr}: {why})"
    for s in zs.servers:
        assert (got[s.addr]["axfr"], got[s.addr]["axfr_tsig"], got[s.addr]["ixfr"]) == \
            ("refused", "refused", "refused"), r
        assert got[s.addr]["error"] == (f"AXFR: {REFUSAL[s.kind]}; AXFR with the key: "
                                        f"{tsig_text}; IXFR: {tsig_text}"), r
    (fd,) = doc["findings"]
    assert (fd["code"], fd["severity"]) == ("transfer-refused", "warning"), r
    assert sorted(fd["servers"]) == sorted(s.addr for s in zs.servers), r
    assert fd["message"].startswith("these servers refuse the transfer signed with the given key "
                                    f"(asked from {f.checker_addr}): "), r
    for s in zs.servers:
        assert_named(fd["message"], s.addr, f"AXFR: {REFUSAL[s.kind]}; AXFR with the key: "
                     f"{tsig_text}; IXFR: {tsig_text}")
    assert fd["fix"].startswith("give the key transfer rights:"), r


@pytest.mark.parametrize("refusing_kind", KINDS)
def test_primary_refusing_the_key(fleet, soasync, refusing_kind):
    """Three servers with identical zone data; the primary wants another
    secret for the key name than the two others: only it is named, with
    BADSIG in the message; no transfer-open (every server needs a key)."""
    key = harness.TsigKey.generate("xfr-key.")
    primary_key = harness.TsigKey.generate("xfr-key.")       # same name, other secret
    f = fleet()
    name = "ns1.keys.test."
    zone = "keys.test."
    kinds = [refusing_kind] + [k for k in KINDS if k != refusing_kind]
    srv = []
    for i, kind in enumerate(kinds):
        # one name for all three, so the SOA MNAME (and the whole zone) is identical
        s = f.server(kind, name)
        s.primary(zone, 9, RECORDS, ns=[name], tsig=primary_key if i == 0 else key)
        srv.append(s)
    f.start()
    prim = srv[0]
    r = soasync("xfr-check", "--ns", ",".join(s.addr for s in srv), "--primary", prim.addr,
            "--source", f.checker_addr, "-y", ykey(key), "--json", zone)
    assert r.rc == 1, r
    doc = xfr_json(r)
    assert doc["status"] == "warning", r
    got = by_addr(doc)
    bad = BADSIG[refusing_kind]
    assert (got[prim.addr]["axfr"], got[prim.addr]["axfr_tsig"], got[prim.addr]["ixfr"]) == \
        ("refused", "refused", "refused"), r
    assert got[prim.addr]["error"] == (f"AXFR: {REFUSAL[prim.kind]}; AXFR with the key: {bad}; "
                                       f"IXFR: {bad}"), r
    for s in srv[1:]:
        assert (got[s.addr]["soa_serial"], got[s.addr]["axfr"], got[s.addr]["axfr_tsig"],
                got[s.addr]["ixfr"], got[s.addr]["error"]) == \
            (9, "refused", "allowed", whole_zone(s.kind), f"AXFR: {REFUSAL[s.kind]}"), r
    (fd,) = doc["findings"]
    assert (fd["code"], fd["severity"], fd["servers"]) == \
        ("transfer-refused", "warning", [prim.addr]), r
    assert_named(fd["message"], prim.addr, got[prim.addr]["error"])
    for s in srv[1:]:
        assert s.addr not in fd["message"] and s.addr not in fd["fix"], r


# --------------------------------------------------------------------------
# IXFR per vendor

#: what makes each vendor's primary keep differences between zone-file loads
IXFR_EXTRA = {"bind": "ixfr-from-differences yes;", "knot": "    zonefile-load: difference",
              "nsd": "", "pdns": ""}
#: the kinds that never answer IXFR with differences (NSD 4.6, PowerDNS 4.7)
NO_IXFR = ("nsd", "pdns")



@pytest.mark.parametrize("primary_kind", ["bind", "knot", "nsd", "pdns"])
def test_ixfr_per_vendor(fleet, soasync, primary_kind):
    f = fleet()
    zone = f"{primary_kind}p.test."
    p = f.server(primary_kind, f"ns1.{zone}")
    p.primary(zone, 1, ["www IN A 192.0.2.1"], extra=IXFR_EXTRA[primary_kind])
    secs = []
    for i, kind in enumerate(("bind", "knot", "nsd", "pdns")):
        s = f.server(kind, f"ns{i + 2}.{zone}")
        s.secondary(zone, p)
        secs.append(s)
    f.start()
    args = ["--ns", ",".join(s.addr for s in [p] + secs), "--primary", p.addr,
            "--source", f.checker_addr, "--json", zone]
    # no history yet: the whole zone in AXFR form everywhere
    r = soasync("xfr-check", *args)
    assert r.rc == 1, r                                       # transfer-open
    assert {s["address"]: (s["soa_serial"], s["ixfr"], s["error"])
            for s in xfr_json(r)["servers"]} == \
        {s.addr: (1, whole_zone(s.kind), None) for s in [p] + secs}, r
    # one change: who answers with differences?
    p.write_zone(zone, 2, ["www IN A 192.0.2.2", "new IN A 192.0.2.3"])
    for s in secs:
        s.wait_serial(zone, 2)
    r = soasync("xfr-check", *args)
    assert r.rc == 1, r
    assert r.elapsed < 5, f"xfr-check took {r.elapsed:.1f}s: {r}"
    incremental_primary = primary_kind not in NO_IXFR
    want = {p.addr: "incremental" if incremental_primary else whole_zone(p.kind)}
    for s in secs:
        # BIND and Knot secondaries journal an incoming IXFR; NSD and PowerDNS
        # never serve IXFR
        want[s.addr] = "incremental" if (incremental_primary and s.kind not in NO_IXFR) \
            else whole_zone(s.kind)
    got = {s["address"]: (s["soa_serial"], s["axfr"], s["ixfr"], s["error"])
           for s in xfr_json(r)["servers"]}
    assert got == {a: (2, "allowed", k, None) for a, k in want.items()}, r
    # --no-ixfr skips it
    r = soasync("xfr-check", "--no-ixfr", *args)
    assert {s["ixfr"] for s in xfr_json(r)["servers"]} == {"skipped"}, r


# --------------------------------------------------------------------------
# a primary that refuses one secondary (scenario_refused_transfer)


def test_refused_transfer_scenario_seen_from_the_checker(fleet, soasync):
    """The primary denies the victim (NSD) only; the checker itself is allowed
    everywhere, so xfr-check sees every server open, the victim one serial
    behind (critical serial-behind), and no transfer refusal."""
    f = fleet(delegation=True)
    zs = harness.scenario_refused_transfer(f, ZONE)
    victim = zs.laggard
    r = soasync("xfr-check", "--resolver", f.resolver.addr, "--source", f.checker_addr,
            "--json", ZONE)
    assert r.rc == 2, r
    doc = xfr_json(r)
    assert doc["status"] == "critical", r
    got = by_addr(doc)
    assert {a: (s["name"], s["soa_serial"], s["axfr"], s["axfr_tsig"], s["ixfr"], s["error"])
            for a, s in got.items()} == {
        s.addr: (s.name, zs.notes["old"] if s is victim else zs.notes["new"], "allowed",
                 "skipped", "axfr", None) for s in zs.servers}, r
    fs = findings(doc)
    assert set(fs) == {"serial-behind", "transfer-open"}, r
    assert fs["serial-behind"]["servers"] == [victim.addr], r
    assert fs["serial-behind"]["severity"] == "critical", r
    assert sorted(fs["transfer-open"]["servers"]) == sorted(s.addr for s in zs.servers), r


# --------------------------------------------------------------------------
# 5. a large zone: multi-message AXFR, unsigned and signed

BIG = 20000


def test_large_zone_multi_message_axfr(fleet, soasync):
    key = harness.TsigKey.generate("big-key.")
    recs = [f"h{i} IN A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}" for i in range(BIG)]
    recs += [f"t{i} IN TXT \"record {i} {'x' * 40}\"" for i in range(0, BIG // 10)]
    f = fleet()
    open_zs = harness.standard_zone(f, "big.test.", primary="bind", secondaries=("nsd", "knot"),
                                    records=recs, start=False)
    signed_zs = harness.standard_zone(f, "bigt.test.", primary="knot",
                                      secondaries=("bind", "nsd"), records=recs, tsig=key,
                                      start=False)
    f.start(timeout=60)
    expected = BIG + BIG // 10 + 1 + 3 + 3 + 1             # + SOA, NS x3, A x3, closing SOA
    for zs, k in ((open_zs, None), (signed_zs, key)):
        for s in zs.servers:
            assert kdig_axfr_count(s, zs.zone, k) == expected, (s, zs.zone)

    # unsigned, from all three vendors
    args = ["--source", f.checker_addr, "--json"]
    r = soasync("xfr-check", "--ns", ",".join(s.addr for s in open_zs.servers),
            "--primary", open_zs.primary.addr, *args, "big.test.")
    assert r.rc == 1, r                                       # transfer-open only
    doc = xfr_json(r)
    assert {s["address"]: (s["soa_serial"], s["axfr"], s["axfr_tsig"], s["ixfr"], s["error"])
            for s in doc["servers"]} == \
        {s.addr: (1, "allowed", "skipped", "axfr", None) for s in open_zs.servers}, r
    assert doc["_records"] == {s.addr: expected for s in open_zs.servers}, r
    assert [fd["code"] for fd in doc["findings"]] == ["transfer-open"], r
    assert r.elapsed < 10, r
    # signed, from all three vendors (every message of the stream is verified)
    r = soasync("xfr-check", "--ns", ",".join(s.addr for s in signed_zs.servers),
            "--primary", signed_zs.primary.addr, "-y", ykey(key), *args, "bigt.test.")
    assert r.rc == 0, r
    doc = xfr_json(r)
    assert {s["address"]: (s["soa_serial"], s["axfr"], s["axfr_tsig"], s["ixfr"])
            for s in doc["servers"]} == \
        {s.addr: (1, "refused", "allowed", "axfr") for s in signed_zs.servers}, r
    assert doc["_records"] == {s.addr: expected for s in signed_zs.servers}, r
    assert doc["findings"] == [], r
    assert r.elapsed < 10, r
