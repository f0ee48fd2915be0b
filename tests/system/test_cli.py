"""What every command shares: JSON that stays JSON whatever the zone's name,
usage errors that exit 3, option names in messages, durations with units.

The JSON tests ask the scripted server of badserver.py (``ok`` zones answer
serial 100) for zones whose names hold a backslash, a double quote, bytes
above 0x7f written as UTF-8 and as \\DDD, and check that stdout is UTF-8 and
every line parses; the zone-file test runs a real BIND primary.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

import badserver
import harness
from conftest import findings, sanitizer_report

#: Zone names that need escaping in JSON; "ok" is the badserver behaviour.
NAMES = ['ok.a\\\\b.bad.', 'ok.q"uote.bad.', 'ok.\u00e9t\u00e9.bad.', 'ok.\\200\\255x.bad.',
         'ok.all\\\\in"one.\u00fc\\201.bad.']


def run_bytes(binary, *args, timeout=60):
    """stdout as bytes (UTF-8 is checked by the caller), stderr as text."""
    p = subprocess.run([binary, *args], capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    err = p.stderr.decode(errors="backslashreplace")
    assert not sanitizer_report(err), err
    return p.returncode, p.stdout, err


def json_docs(out: bytes) -> list:
    """Every stdout line a JSON document; the whole output UTF-8."""
    text = out.decode("utf-8")  # raises on anything but UTF-8
    docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert docs, "no JSON on stdout"
    return docs


@pytest.fixture(scope="module")
def bad():
    with badserver.BadServer("127.54.0.41", 0) as srv:
        yield srv


def zone_text(name: str) -> str:
    """The presentation form soasync prints for name (what JSON must carry):
    a double quote escaped, bytes above 0x7f as \\DDD (libknot's rules)."""
    out = []
    for ch in name:
        b = ch.encode()
        out.append("".join(f"\\{x:03d}" for x in b) if len(b) > 1 else
                   '\\"' if ch == '"' else ch)
    return "".join(out)


QUICK = ["--timeout", "300ms", "--tries", "2", "--no-vendor"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("cmd", [
    ["check", *QUICK],
    ["notify", "--timeout", "300ms", "--tries", "2"],
    ["xfr-check", "--timeout", "300ms", "--tries", "2", "--transfer-deadline", "2s"],
    ["wait", "--query-timeout", "300ms", "--tries", "2"],
    ["doctor", "--query-timeout", "300ms", "--tries", "2"],
])
def test_json_zone_names(soasync_bin, bad, cmd, name):
    rc, out, err = run_bytes(soasync_bin, *cmd, "--json", "--ns", bad.ns_arg, name)
    assert rc in (0, 1, 2), (rc, out, err)
    docs = json_docs(out)
    zone = docs[-1].get("zone")
    assert zone == zone_text(name), (zone, docs)


def test_notify_nothing_to_notify_is_json(soasync_bin, bad):
    """The path that was a printf: every server at the reference."""
    name = 'ok.a\\\\b.q"uote.bad.'
    rc, out, err = run_bytes(soasync_bin, "notify", "--json", "--ns", bad.ns_arg, name)
    assert rc == 0, err
    assert json_docs(out) == [{"zone": zone_text(name), "serial": 100, "targets": []}]
    assert "nothing to notify" in err


def test_diff_json_names_and_data(soasync_bin, tmp_path):
    origin = 'a\\\\b.q\\"uote.\\195\\169.\\200.test.'  # as the zone file and soasync write it
    a = tmp_path / "a.zone"
    b = tmp_path / "b.zone"
    text = (f"$ORIGIN {origin}\n$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n"
            'txt TXT "back\\\\slash \\"quoted\\" \\200 \\195\\169"\n')
    a.write_text(text)
    b.write_text(text + 'w\\"x\\195\\169 A 192.0.2.1\n')
    rc, out, err = run_bytes(soasync_bin, "diff", "--json", str(a), str(b))
    assert rc == 1, err
    [doc] = json_docs(out)
    assert doc["only_in_a"] == []
    [rec] = doc["only_in_b"]
    assert rec.startswith('w\\"x\\195\\169.' + origin), rec
    assert rec.endswith(" 300 IN A 192.0.2.1")


# --------------------------------------------------------------------------
# usage errors

USAGE = [
    ["check", "--bogus", "example.test."],
    ["check", "--timeout", "soon", "example.test."],
    ["notify", "--deadline", "-1", "example.test."],
    ["notify", "example.test.", "example.org."],
    ["xfr-check", "--transfer-deadline", "0", "example.test."],
    ["xfr-check"],
    ["wait", "--bogus", "example.test."],
    ["doctor", "--bogus", "example.test."],
    ["diff", "only-one"],
    ["diff", "--default-ttl", "0", "a", "b"],
    ["serial", "bump"],
    ["serial", "bump", "--at-least", "x", "f"],
    ["serial", "compare", "1"],
    ["serial", "plan", "x", "1"],
    ["serial", "frobnicate"],
    ["guard", "one"],
    ["guard", "--git", "--install-hook"],
    ["frobnicate"],
]


@pytest.mark.parametrize("args", USAGE)
def test_usage_errors_exit_3(soasync_bin, args):
    rc, out, err = run_bytes(soasync_bin, *args, "--ns", "127.0.0.1#1") \
        if args[0] in ("check", "notify", "xfr-check", "wait", "doctor") and len(args) > 2 \
        else run_bytes(soasync_bin, *args)
    assert rc == 3, (args, rc, err)
    assert out == b""
    lines = err.splitlines()
    assert lines and lines[0].startswith("soasync: "), err


def test_zones_from_names_the_option(soasync_bin, tmp_path):
    missing = tmp_path / "nonexist"
    rc, out, err = run_bytes(soasync_bin, "check", "--ns", "127.0.0.1#1", "--zones-from",
                             str(missing))
    assert rc == 3
    assert err == f"soasync: --zones-from {missing}: No such file or directory\n"


@pytest.mark.parametrize("value,ok", [("1500ms", True), ("2s", True), ("1500", True),
                                      ("1m", True), ("0", False), ("11m", False),
                                      ("2 s", False), ("1.5s", False)])
def test_timeout_durations(soasync_bin, value, ok):
    """--timeout takes units; a bare number keeps counting milliseconds."""
    rc, out, err = run_bytes(soasync_bin, "check", "--ns", "127.0.0.1#1", "--tries", "1",
                             "--timeout", value, "--json", "--zones-from", "/dev/null")
    if ok:
        assert rc == 0 and err == "", (value, err)
    else:
        assert rc == 3 and err.startswith("soasync: --timeout: expected a duration"), err


# --------------------------------------------------------------------------
# check --zonefile --default-ttl against BIND


NOTTL = """$ORIGIN nottl.test.
@ IN SOA {ns} hostmaster.nottl.test. 11 3600 900 604800 120
@ IN NS {ns}
{ns} IN A {addr}
www IN A 192.0.2.80
"""


def test_check_zonefile_default_ttl(fleet, soasync):
    """A file without $TTL or TTLs: BIND serves every record with the SOA
    minimum (120), soasync took 3600 and reported every record as changed.
    It warns now, and --default-ttl 120 reads the file as BIND does."""
    f = fleet()
    p = f.bind("ns1")
    p.primary("nottl.test.", serial=10)
    f.start()
    text = NOTTL.format(ns="ns1.nottl.test.", addr=p.addr)
    p.zone_file("nottl.test.").write_text(text)
    p.reload("nottl.test.")
    p.wait_serial("nottl.test.", 11)
    zf = f.workdir / "nottl.zone"
    zf.write_text(text)
    base = ["check", "--ns", p.addr, "--source", f.checker_addr, "--no-vendor", "--json",
            "--zonefile", zf]
    r = soasync(*base, "nottl.test.")
    assert "serial-not-bumped" in findings(r.zone()), r
    assert (f"soasync: warning: {zf}: no $TTL and no TTL on the first record: 4 records took "
            "the TTL 3600 (BIND takes the SOA minimum, 120)") in r.err, r
    r = soasync(*base, "--default-ttl", "2m", "nottl.test.")
    assert r.rc == 0 and findings(r.zone()) == {}, r
    assert r.zone()["zonefile"]["differs"] is False, r
    assert "warning" not in r.err, r
    r = soasync("check", "--ns", p.addr, "--default-ttl", "120", "nottl.test.")
    assert r.rc == 3 and "--default-ttl goes with --zonefile" in r.err, r


# --------------------------------------------------------------------------
# house rules the CLI keeps (issue 11): the library reads the wire, the
# renderers write JSON through jansson

CLI_DIR = Path(__file__).resolve().parent.parent.parent / "cli"
#: every C file of cli/: none reads DNS wire data or writes JSON by hand
RULED = sorted(p.name for p in CLI_DIR.glob("*.c"))


def test_cli_reads_no_wire_data_and_writes_no_json_by_hand():
    wire = re.compile(r"\bknot_(pkt|rrset|rdata|rdataset|soa|wire)_\w+\s*\(")
    by_hand = re.compile(r"printf\s*\([^;]*[\"']\{\\?\"")
    bad = []
    assert len(RULED) > 20, RULED
    for name in RULED:
        text = (CLI_DIR / name).read_text()
        for n, line in enumerate(text.splitlines(), 1):
            if wire.search(line) or by_hand.search(line):
                bad.append(f"cli/{name}:{n}: {line.strip()}")
    assert not bad, "\n".join(bad)
