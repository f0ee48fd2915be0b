"""System tests of `soasync diff` (run: /usr/bin/python3 -m pytest tests/system).

The binary comes from $SOASYNC (default: <repo>/build/soasync).
"""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOASYNC = os.environ.get("SOASYNC", os.path.join(REPO, "build", "soasync"))
GENZONE = os.path.join(REPO, "bench", "genzone.py")

ZONE_A = """\
$ORIGIN example.com.
$TTL 3600
@       IN SOA ns1 hostmaster ( 2024010101 7200 3600 1209600 300 )
@       IN NS  ns1
@       IN NS  ns2.example.net.
@       IN MX  10 mail
ns1     IN A   192.0.2.1
mail    IN A   192.0.2.25
www 300 IN A   192.0.2.80
www 300 IN AAAA 2001:db8::80
ftp     IN CNAME www
_sip._tcp IN SRV 10 60 5060 sip
sip     IN A   192.0.2.50
txt     IN TXT "v=spf1 -all" "two words"
"""

# The same zone: absolute names, other case, TTL units, class after TTL,
# no $TTL, other order, comments, CRLF line ends, part of it in an
# $INCLUDEd file with its own origin.
ZONE_A_REFORMATTED = (
    "; the same zone, written otherwise\r\n"
    "EXAMPLE.COM.  1h  IN  SOA  NS1.Example.COM. HostMaster.example.com. (\r\n"
    "        2024010101 ; serial\r\n"
    "        2h         ; refresh\r\n"
    "        1h 2w 5m ) ; retry expire minimum\r\n"
    "txt.example.com. 60m TXT \"v=spf1 -all\" \"two words\"\r\n"
    "www.example.com. 5M IN AAAA 2001:DB8:0:0:0:0:0:80\r\n"
    "www.example.com. IN 300 A 192.0.2.80\r\n"
    "$INCLUDE sub/hosts.inc example.com.\r\n"
    "example.com. 3600 NS ns2.EXAMPLE.NET.\r\n"
    "example.com. 3600 NS ns1.example.com.\r\n"
    "example.com. 3600 MX 10 Mail.Example.Com.\r\n"
    "ftp.example.com. 3600 CNAME WWW.example.com.\r\n"
)
HOSTS_INC = "ns1 3600 A 192.0.2.1\nmail 1H A 192.0.2.25\nsip 3600 A 192.0.2.50\n_SIP._TCP 3600 SRV 10 60 5060 sip\n"


def run(*args, **kw):
    return subprocess.run([SOASYNC, *args], capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="session", autouse=True)
def binary():
    if not os.access(SOASYNC, os.X_OK):
        pytest.fail(f"no soasync binary at {SOASYNC}; build it or set SOASYNC")


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        f.write(text)
    return str(path)


@pytest.fixture
def zones(tmp_path):
    a = write(tmp_path / "a" / "example.com.zone", ZONE_A)
    b = write(tmp_path / "b" / "example.com.zone", ZONE_A_REFORMATTED)
    write(tmp_path / "b" / "sub" / "hosts.inc", HOSTS_INC)
    return a, b, tmp_path


def test_reformatted_copies_are_equal(zones):
    a, b, _ = zones
    r = run("diff", a, b)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert r.stderr == ""
    r = run("diff", "--json", a, b)
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"only_in_a": [], "only_in_b": []}


def test_real_differences_listed_exactly(zones):
    a, _, tmp = zones
    changed = (ZONE_A.replace("192.0.2.25", "192.0.2.26")
               .replace("ftp     IN CNAME www\n", "")
               .replace("www 300 IN A   ", "www 600 IN A   ")
               + "new IN A 192.0.2.99\n")
    b = write(tmp / "c" / "example.com.zone", changed)
    r = run("diff", a, b)
    assert r.returncode == 1, r.stderr
    assert r.stdout.splitlines() == [
        "- ftp.example.com. 3600 IN CNAME www.example.com.",
        "- mail.example.com. 3600 IN A 192.0.2.25",
        "+ mail.example.com. 3600 IN A 192.0.2.26",
        "+ new.example.com. 3600 IN A 192.0.2.99",
        "- www.example.com. 300 IN A 192.0.2.80",
        "+ www.example.com. 600 IN A 192.0.2.80",
    ]
    # Swapping the sides swaps the signs.
    r2 = run("diff", b, a)
    assert r2.returncode == 1
    swapped = sorted(("+" if l[0] == "-" else "-") + l[1:] for l in r.stdout.splitlines())
    assert sorted(r2.stdout.splitlines()) == swapped


def test_json_shape(zones):
    a, _, tmp = zones
    b = write(tmp / "c" / "example.com.zone",
              ZONE_A.replace("192.0.2.1\n", "192.0.2.2\n") + 'q IN TXT "say \\"hi\\""\n')
    r = run("diff", "--json", a, b)
    assert r.returncode == 1, r.stderr
    obj = json.loads(r.stdout)
    assert set(obj) == {"only_in_a", "only_in_b"}
    assert obj["only_in_a"] == ["ns1.example.com. 3600 IN A 192.0.2.1"]
    assert obj["only_in_b"] == ["ns1.example.com. 3600 IN A 192.0.2.2",
                                'q.example.com. 3600 IN TXT "say \\"hi\\""']
    assert r.stdout.count("\n") == 1


def test_ignore_ttl(zones):
    a, _, tmp = zones
    b = write(tmp / "c" / "example.com.zone", ZONE_A.replace("$TTL 3600", "$TTL 7200"))
    r = run("diff", a, b)
    assert r.returncode == 1
    assert len(r.stdout.splitlines()) == 2 * 10  # every record without its own TTL
    r = run("diff", "--ignore-ttl", a, b)
    assert r.returncode == 0, r.stdout
    assert r.stdout == ""
    # A real change still shows, with B's TTL on the + side.
    c = write(tmp / "d" / "example.com.zone",
              ZONE_A.replace("$TTL 3600", "$TTL 7200").replace("192.0.2.50", "192.0.2.51"))
    r = run("diff", "--ignore-ttl", a, c)
    assert r.returncode == 1
    assert r.stdout.splitlines() == ["- sip.example.com. 3600 IN A 192.0.2.50",
                                     "+ sip.example.com. 7200 IN A 192.0.2.51"]


@pytest.mark.parametrize("text,line,what", [
    ("www IN A 192.0.2.300\n", 15, "IPv4"),
    ("bad IN MX 10\n", 15, ""),
    ("x IN A 192.0.2.1 (\n", 15, "multiline"),
    ("$TTL forever\n", 15, ""),
])
def test_broken_file_exit_2_names_file_and_line(zones, text, line, what):
    a, _, tmp = zones
    b = write(tmp / "c" / "example.com.zone", ZONE_A + text)
    r = run("diff", a, b)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert re.fullmatch(rf"soasync: {re.escape(b)}:{line}: .+", lines[0]), lines[0]
    assert what.lower() in lines[0].lower()


def test_error_in_included_file_names_it(zones):
    a, b, tmp = zones
    write(tmp / "b" / "sub" / "hosts.inc", HOSTS_INC + "oops 3600 AAAA 2001:db8::zz\n")
    r = run("diff", a, b)
    assert r.returncode == 2
    assert re.fullmatch(r"soasync: \S*sub/hosts\.inc:5: .+\n", r.stderr), r.stderr


def test_errors_exit_2_usage_3(zones):
    a, _, tmp = zones
    r = run("diff", a, str(tmp / "missing.zone"))
    assert r.returncode == 2
    assert "missing.zone" in r.stderr and "No such file" in r.stderr
    no_soa = write(tmp / "c" / "example.com.zone", "$ORIGIN example.com.\nwww A 192.0.2.1\n")
    r = run("diff", a, no_soa)
    assert r.returncode == 2
    assert "no SOA" in r.stderr
    two_soa = write(tmp / "d" / "example.com.zone",
                    ZONE_A + "@ IN SOA ns1 hostmaster 2024010102 7200 3600 1209600 300\n")
    r = run("diff", a, two_soa)
    assert r.returncode == 2
    assert re.search(r":15: .*SOA", r.stderr), r.stderr
    # Usage errors exit 3, as in every command.
    for args in (["diff"], ["diff", a], ["diff", a, a, a], ["diff", "--bogus", a, a],
                 ["diff", "--origin", "a..b", a, a], ["diff", "--default-ttl", "1.5s", a, a],
                 ["diff", "--timeout", "2 parsecs", a, a]):
        r = run(*args)
        assert r.returncode == 3, args
        assert r.stderr.startswith("soasync: "), args


def test_origin_option(tmp_path):
    text = "@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300\nwww 3600 A 192.0.2.1\n"
    a = write(tmp_path / "zonefile-a", text)
    b = write(tmp_path / "zonefile-b", text.replace("192.0.2.1", "192.0.2.2"))
    r = run("diff", a, b)
    assert r.returncode == 2
    assert "origin" in r.stderr
    r = run("diff", "--origin", "example.org", a, b)
    assert r.returncode == 1, r.stderr
    assert r.stdout.splitlines() == ["- www.example.org. 3600 IN A 192.0.2.1",
                                     "+ www.example.org. 3600 IN A 192.0.2.2"]


def test_axfr_source_errors(zones):
    a, _, _ = zones
    # Port 1 on loopback: nothing listens; the transfer fails with a reason.
    r = run("diff", a, "@127.0.0.1#1")
    assert r.returncode == 2
    assert r.stderr == "soasync: @127.0.0.1#1: AXFR failed: connection refused\n", r.stderr
    # Two transfers and no file: the zone's name must be given.
    r = run("diff", "@127.0.0.1#1", "@127.0.0.1#2")
    assert r.returncode == 2
    assert "--origin" in r.stderr
    r = run("diff", a, "@not-an-address")
    assert r.returncode == 2 and "expected @ADDR or @ADDR#PORT" in r.stderr, r.stderr


def test_help():
    r = run("diff", "--help")
    assert r.returncode == 0
    assert "Usage: soasync diff" in r.stdout
    assert "--ignore-ttl" in r.stdout and "--json" in r.stdout and "--origin" in r.stdout
    r = run("--help")
    assert "diff" in r.stdout


def ldns_set(out):
    """ldns-compare-zones -a lines as comparable tuples: "~-"/"~+" for records
    of a name in both zones, "--"/"++" for names in one zone only."""
    rows = set()
    for line in out.splitlines():
        line = line.lstrip("~")
        if not line or line[0] not in "+-":
            continue
        f = line.lstrip("+-").split()
        rows.add((line[0], f[0].lower(), f[3].upper(), " ".join(f[4:]).lower()))
    return rows


def soasync_set(out):
    rows = set()
    for line in out.splitlines():
        f = line[2:].split()
        rows.add((line[0], f[0].lower(), f[3].upper(), " ".join(f[4:]).lower()))
    return rows


@pytest.mark.skipif(shutil.which("ldns-compare-zones") is None, reason="ldnsutils not installed")
def test_cross_check_with_ldns_compare_zones(tmp_path):
    a, b = str(tmp_path / "a.zone"), str(tmp_path / "b.zone")
    subprocess.run([sys.executable, GENZONE, "--records", "20000", "--changes", "120",
                    "--seed", "7", a, b], check=True)
    ours = run("diff", "--ignore-ttl", "--origin", "bench.example.", a, b)
    assert ours.returncode == 1, ours.stderr
    ldns = subprocess.run(["ldns-compare-zones", "-a", "-s", a, b], capture_output=True,
                          text=True, timeout=300)
    assert ldns.returncode == 0, ldns.stderr
    want = ldns_set(ldns.stdout)
    assert len(want) > 50
    assert soasync_set(ours.stdout) == want


def test_origin_from_file_name_is_said(tmp_path):
    """A zone's name guessed from the file name is said, not silently taken."""
    text = "$TTL 1h\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\nwww A 192.0.2.1\n"
    a = write(tmp_path / "a" / "db.example.org", text)
    b = write(tmp_path / "b" / "db.example.org", text.replace("192.0.2.1", "192.0.2.2"))
    r = run("diff", a, b)
    assert r.returncode == 1
    for f in (a, b):
        assert (f"soasync: warning: {f}: no $ORIGIN and a relative SOA owner: the zone's "
                "name example.org. comes from the file name (--origin states it)") in r.stderr
    assert "- www.example.org. 3600 IN A 192.0.2.1" in r.stdout
    r = run("diff", "--origin", "example.org", a, b)
    assert r.returncode == 1 and r.stderr == ""


def test_default_ttl(tmp_path):
    """No $TTL and no TTL before the records: 3600 with a warning that BIND
    takes the SOA minimum; --default-ttl sets it, quietly."""
    bare = ("$ORIGIN example.com.\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
            "@ IN NS ns1\nns1 IN A 192.0.2.1\n")
    a = write(tmp_path / "a" / "example.com.zone", bare)
    b = write(tmp_path / "b" / "example.com.zone", bare.replace("$ORIGIN", "$TTL 300\n$ORIGIN"))
    r = run("diff", a, b)
    assert r.returncode == 1
    assert r.stderr == (f"soasync: warning: {a}: no $TTL and no TTL on the first record: 3 "
                        "records took the TTL 3600 (BIND takes the SOA minimum, 300); set $TTL "
                        "in the file, or give --default-ttl\n")
    assert "- ns1.example.com. 3600 IN A 192.0.2.1" in r.stdout
    r = run("diff", "--default-ttl", "300", a, b)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    r = run("diff", "--default-ttl", "5m", a, b)
    assert r.returncode == 0
    # A TTL written on the first record counts for those after it (RFC 1035).
    c = write(tmp_path / "c" / "example.com.zone", bare.replace("@ IN SOA", "@ 300 IN SOA"))
    r = run("diff", b, c)
    assert (r.returncode, r.stderr) == (0, "")


# $GENERATE as reverse zones and BIND's own tests use it: ranges with steps,
# every modifier form, $$ and \$, TTL and class in both orders, quoted rhs,
# a relative and an out-of-zone lhs, no $TTL (a TTL on a $GENERATE counts as
# the last one written), an $INCLUDEd file with more of it.
GENERATE_ZONE = """\
$ORIGIN 2.0.192.in-addr.arpa.
@ 3600 IN SOA ns1.example.net. hostmaster.example.net. ( 7 3600 900 604800 300 )
@ 3600 IN NS ns1.example.net.
$GENERATE 1-40 $ PTR host-$.example.net.
$GENERATE 100-160/20 ${0,4} 300 IN PTR h${-100,3,x}.${7,0,X}.example.net.
$GENERATE 200-203 ${0,3,d} IN 600 CNAME ${0,5,n}.nib
$GENERATE 0-2 nib.$ TXT "count \\"$\\" $$ \\$ ${1,2,o}"
$generate 5-6 mx$ MX "10 mail$.example.net."
after A 192.0.2.250
$GENERATE 1-2 $.outside.invalid. A 192.0.2.1
  AAAA 2001:db8::250
$INCLUDE more.inc sub.2.0.192.in-addr.arpa.
"""
GENERATE_INC = "$GENERATE 9-11 $ PTR inc$.example.net.\n"


def test_generate_as_bind_reads_it(tmp_path):
    """soasync's zone from a file using $GENERATE holds exactly the records
    BIND's named-checkzone -D writes out for it."""
    checkzone = shutil.which("named-checkzone")
    if checkzone is None:
        pytest.skip("named-checkzone (bind9-utils) is not installed")
    src = write(tmp_path / "2.0.192.in-addr.arpa.zone", GENERATE_ZONE)
    write(tmp_path / "more.inc", GENERATE_INC)
    dump = tmp_path / "dump.zone"
    p = subprocess.run([checkzone, "-D", "-o", str(dump), "2.0.192.in-addr.arpa", src],
                       capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    dumped = dump.read_text()
    assert sum(" PTR" in line for line in dumped.splitlines()) == 47, dumped
    r = run("diff", src, str(dump), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 records outside 2.0.192.in-addr.arpa. ignored" in r.stderr
    # A changed $GENERATE line is a change of every record it makes.
    edited = write(tmp_path / "edited" / "2.0.192.in-addr.arpa.zone",
                   GENERATE_ZONE.replace("host-$", "node-$"))
    write(tmp_path / "edited" / "more.inc", GENERATE_INC)
    r = run("diff", src, edited)
    assert r.returncode == 1
    assert len(r.stdout.splitlines()) == 80
    assert "- 40.2.0.192.in-addr.arpa. 3600 IN PTR host-40.example.net." in r.stdout
    assert "+ 40.2.0.192.in-addr.arpa. 3600 IN PTR node-40.example.net." in r.stdout
