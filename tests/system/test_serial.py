"""System tests of 'soasync serial bump|compare|plan'.

The binary comes from $SOASYNC (default <repo>/build/soasync). Expected
results are computed here, independently of soasync: RFC 1982 in Python,
the serial's byte offset from tests/data/serial/expected.json (recorded when
the corpus was written), and ldns-read-zone as a second implementation.
"""
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOASYNC = os.environ.get("SOASYNC", os.path.join(REPO, "build", "soasync"))
DATA = os.path.join(REPO, "tests", "data", "serial")
EXPECTED = json.load(open(os.path.join(DATA, "expected.json")))
NOW = 1710504000  # 2024-03-15 12:00:00 UTC
POLICIES = ["increment", "date", "unixtime"]


def run(*args, env=None, check=None):
    e = dict(os.environ)
    e.pop("SOASYNC_NOW", None)
    if env:
        e.update(env)
    p = subprocess.run([SOASYNC, *args], capture_output=True, text=True, env=e, timeout=60)
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


def greater(a, b):
    """RFC 1982 section 3.2: a > b for SERIAL_BITS = 32."""
    return a != b and ((a < b and b - a > 2**31) or (a > b and a - b < 2**31))


def expected_next(old, policy, now):
    cand = None
    if policy == "date":
        t = time.gmtime(now)
        cand = (t.tm_year * 10000 + t.tm_mon * 100 + t.tm_mday) * 100
    elif policy == "unixtime":
        cand = now
    if cand is not None and greater(cand, old):
        return cand
    return (old + 1) % 2**32 or 1  # never 0, as BIND's increment


def copy_case(tmp_path, name):
    shutil.copy(os.path.join(DATA, name), tmp_path / name)
    if EXPECTED[name].get("include"):
        for f in os.listdir(DATA):
            if f.endswith(".records"):
                shutil.copy(os.path.join(DATA, f), tmp_path / f)
    return tmp_path / name


def replaced(original, case, new):
    off = case["offset"]
    digits = case["digits"].encode()
    # The recorded offset must point at the digits, as a whole token.
    assert original[off:off + len(digits)] == digits
    assert not original[off - 1:off].isdigit()
    assert not original[off + len(digits):off + len(digits) + 1].isdigit()
    return original[:off] + str(new).encode() + original[off + len(digits):]


def ldns_serial(path, *opts):
    # ldns formats its datecounter in local time; soasync uses UTC.
    p = subprocess.run(["ldns-read-zone", *opts, "-E", "SOA", str(path)], capture_output=True,
                       text=True, timeout=30, env=dict(os.environ, TZ="UTC"))
    assert p.returncode == 0, p.stderr
    fields = p.stdout.split()
    assert fields[3] == "SOA", p.stdout
    return int(fields[6])


def listing(d):
    return sorted(os.listdir(d))


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_byte_exact(tmp_path, name, policy):
    case = EXPECTED[name]
    path = copy_case(tmp_path, name)
    before = listing(tmp_path)
    original = path.read_bytes()
    new = expected_next(case["serial"], policy, NOW)
    p = run("serial", "bump", "--policy", policy, str(path), env={"SOASYNC_NOW": str(NOW)},
            check=0)
    assert p.stdout == f"{path}: {case['serial']} -> {new}\n"
    assert path.read_bytes() == replaced(original, case, new)
    assert listing(tmp_path) == before


# ldns-read-zone does not take these: lower-case class, class before TTL, $INCLUDE.
LDNS_CANNOT = {"lowercase.example.com.zone", "class-before-ttl.zone",
               "include-before.example.com.zone"}


def test_ldns_cannot_list_is_honest(tmp_path):
    for name in sorted(LDNS_CANNOT):
        p = subprocess.run(["ldns-read-zone", os.path.join(DATA, name)], capture_output=True)
        assert p.returncode != 0, name


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - LDNS_CANNOT))
def test_ldns_agrees(tmp_path, name):
    path = copy_case(tmp_path, name)
    assert ldns_serial(path) == EXPECTED[name]["serial"]
    # ldns goes from 4294967295 to 0; soasync skips 0, as BIND does.
    want = ldns_serial(path, "-S", "+1") or 1
    run("serial", "bump", str(path), check=0)
    assert ldns_serial(path) == want
    # Date policy against ldns' datecounter, on the real clock. ldns compares
    # in int32 arithmetic that overflows for serials of 2^31 and up, so it
    # is no reference there (see test_date_beyond_ldns).
    if EXPECTED[name]["serial"] >= 2**31:
        return
    path2 = copy_case(tmp_path, name)
    want = ldns_serial(path2, "-S", "YYYYMMDDxx")
    run("serial", "bump", "--policy", "date", str(path2), check=0)
    assert ldns_serial(path2) == want


def test_date_beyond_ldns(tmp_path):
    """Where ldns' int32 comparison goes wrong, soasync follows RFC 1982."""
    name = "ttl-units.example.com.zone"
    old = EXPECTED[name]["serial"]
    assert old >= 2**31
    path = copy_case(tmp_path, name)
    today = expected_next(0, "date", int(time.time()))
    assert not greater(today, old)  # today's date would go backwards
    run("serial", "bump", "--policy", "date", str(path), check=0)
    assert ldns_serial(path) == old + 1


@pytest.mark.parametrize("name", ["bind-classic.example.com.zone", "oneline.zone"])
def test_ldns_agrees_unixtime(tmp_path, name):
    path = copy_case(tmp_path, name)
    want = ldns_serial(path, "-S", "unixtime")
    run("serial", "bump", "--policy", "unixtime", str(path), check=0)
    got = ldns_serial(path)
    old = EXPECTED[name]["serial"]
    if want == old + 1:
        assert got == want
    else:  # the clock may tick between the two runs
        assert want <= got <= want + 5


ZONE = """$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster ( 2024010101 3600 900 604800 3600 )
@ IN NS ns1
ns1 IN A 192.0.2.1
"""


def refused(tmp_path, text, name="example.com.zone", *args):
    path = tmp_path / name
    path.write_bytes(text.encode())
    os.utime(path, (1000000000, 1000000000))
    st = os.stat(path)
    files = listing(tmp_path)
    p = run("serial", "bump", *args, str(path))
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    after = os.stat(path)
    assert path.read_bytes() == text.encode()
    assert (after.st_ino, after.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    assert listing(tmp_path) == files
    return lines[0]


def test_refuse_no_soa(tmp_path):
    msg = refused(tmp_path, "$ORIGIN example.com.\n@ NS ns1\nns1 A 192.0.2.1\n")
    assert re.fullmatch(r"soasync: .*example\.com\.zone:3: no SOA record", msg), msg


def test_refuse_two_soa(tmp_path):
    msg = refused(tmp_path, ZONE + "\n@ IN SOA ns1 hostmaster 5 1 2 3 4\n")
    assert re.fullmatch(r"soasync: .*example\.com\.zone:7: a second, different SOA record "
                        r"\(the first is at .*example\.com\.zone:3\)", msg), msg


def test_refuse_parse_error(tmp_path):
    msg = refused(tmp_path, ZONE + "www IN A 192.0.2.300\n")
    assert re.fullmatch(r"soasync: .*example\.com\.zone:6: does not parse: .*", msg), msg


def test_refuse_unclosed_paren(tmp_path):
    msg = refused(tmp_path, "$ORIGIN example.com.\n@ SOA ns1 h ( 1 2 3 4 5\n@ NS ns1\n")
    assert "does not parse" in msg


def test_refuse_soa_in_include(tmp_path):
    (tmp_path / "soa.inc").write_text("@ IN SOA ns1 hostmaster 7 1 2 3 4\n")
    msg = refused(tmp_path, "$ORIGIN example.com.\n$INCLUDE soa.inc\n@ NS ns1\n")
    assert re.fullmatch(r"soasync: .*soa\.inc:1: the SOA record is in this \$INCLUDEd file.*",
                        msg), msg


def test_refuse_generic_rdata(tmp_path):
    msg = refused(tmp_path, "$ORIGIN example.com.\n@ SOA \\# 22 00 00 0000000a 00000001 "
                            "00000002 00000003 00000004\n")
    assert "cannot edit it in place" in msg


def test_refuse_all_files_checked(tmp_path):
    good = tmp_path / "good.example.com.zone"
    good.write_text(ZONE)
    bad = tmp_path / "bad.example.com.zone"
    bad.write_text("$ORIGIN example.com.\n@ NS ns1\n")
    p = run("serial", "bump", str(bad), str(good))
    assert p.returncode == 2
    assert p.stdout == f"{good}: 2024010101 -> 2024010102\n"
    assert "2024010102" in good.read_text()
    assert bad.read_text() == "$ORIGIN example.com.\n@ NS ns1\n"


def test_missing_file(tmp_path):
    p = run("serial", "bump", str(tmp_path / "nope.zone"))
    assert p.returncode == 2
    assert "nope.zone: cannot read: No such file or directory" in p.stderr


def test_mode_and_owner_kept(tmp_path):
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE)
    os.chmod(path, 0o604)
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
    st = os.stat(path)
    run("serial", "bump", str(path), check=0)
    after = os.stat(path)
    assert stat.S_IMODE(after.st_mode) == 0o604
    assert (after.st_uid, after.st_gid) == (st.st_uid, st.st_gid)
    # Replaced by rename, not rewritten in place.
    assert after.st_ino != st.st_ino
    assert listing(tmp_path) == ["example.com.zone"]


def test_symlink_followed(tmp_path):
    real = tmp_path / "real.zone"
    real.write_text(ZONE)
    link = tmp_path / "example.com.zone"
    link.symlink_to("real.zone")
    run("serial", "bump", str(link), check=0)
    assert os.path.islink(link)
    assert "2024010102" in real.read_text()


def test_unwritable_directory_leaves_file():
    """The temporary goes next to the file: no write access there, no change."""
    d = tempfile.mkdtemp(prefix="soasync-ro-")
    try:
        os.chmod(d, 0o755)
        path = os.path.join(d, "example.com.zone")
        with open(path, "w") as f:
            f.write(ZONE)
        binary = SOASYNC
        if os.geteuid() == 0:
            # As nobody: may write the file itself, not the directory. The
            # binary goes where nobody can run it (the build tree may not be).
            os.chown(path, 65534, 65534)
            bindir = tempfile.mkdtemp(prefix="soasync-bin-")
            os.chmod(bindir, 0o755)
            binary = shutil.copy(SOASYNC, os.path.join(bindir, "soasync"))
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        else:
            os.chmod(d, 0o555)
            cmd = []
        p = subprocess.run(cmd + [binary, "serial", "bump", path], capture_output=True,
                           text=True, timeout=60)
        if binary != SOASYNC:
            shutil.rmtree(os.path.dirname(binary))
        assert p.returncode == 2
        assert re.fullmatch(r"soasync: .*example\.com\.zone: cannot write: Permission denied; "
                            r"left unchanged\n", p.stderr), p.stderr
        assert open(path).read() == ZONE
        assert os.listdir(d) == ["example.com.zone"]
    finally:
        os.chmod(d, 0o755)
        shutil.rmtree(d)


def test_atomic_readers_never_see_half(tmp_path):
    """A reader racing many bumps sees only whole files."""
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE)
    pattern = re.compile(re.escape(ZONE).replace("2024010101", r"(\d+)"))
    stop = threading.Event()
    bad = []
    reads = [0]

    def reader():
        while not stop.is_set():
            try:
                text = path.read_text()
            except FileNotFoundError:
                bad.append("missing")
                continue
            reads[0] += 1
            if not pattern.fullmatch(text):
                bad.append(text)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(60):
            run("serial", "bump", str(path), check=0)
    finally:
        stop.set()
        t.join()
    assert bad == []
    assert reads[0] > 0
    assert "2024010161" in path.read_text()
    assert listing(tmp_path) == ["example.com.zone"]


def test_hard_link_refused(tmp_path):
    """A rename would give only one name the new serial: refused, named."""
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE)
    other = tmp_path / "copy.zone"
    os.link(path, other)
    p = run("serial", "bump", str(path))
    assert p.returncode == 2
    assert p.stdout == ""
    assert "has 2 hard links" in p.stderr and "left unchanged" in p.stderr
    assert path.read_text() == ZONE and other.read_text() == ZONE
    assert os.stat(path).st_ino == os.stat(other).st_ino
    assert listing(tmp_path) == ["copy.zone", "example.com.zone"]
    # A symbolic link is followed: every name sees the new serial.
    other.unlink()
    os.symlink("example.com.zone", other)
    run("serial", "bump", str(other), check=0)
    assert "2024010102" in path.read_text()


def test_dry_run(tmp_path):
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE)
    st = os.stat(path)
    p = run("serial", "bump", "--dry-run", "--policy", "date", str(path),
            env={"SOASYNC_NOW": str(NOW)}, check=0)
    assert p.stdout == f"{path}: 2024010101 -> 2024031500\n"
    assert path.read_text() == ZONE
    assert os.stat(path).st_ino == st.st_ino


def test_at_least(tmp_path):
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE)
    p = run("serial", "bump", "--at-least", "2030010100", str(path), check=0)
    assert p.stdout.endswith("2024010101 -> 2030010100\n")
    p = run("serial", "bump", "--at-least", "5", str(path), check=0)
    assert p.stdout.endswith("2030010100 -> 2030010101\n")
    # 2^31 ahead cannot be reached in one step.
    p = run("serial", "bump", "--at-least", str((2030010101 + 2**31) % 2**32), str(path))
    assert p.returncode == 2
    assert "soasync serial plan" in p.stderr
    assert "2030010101" in path.read_text()


def test_at_least_far_ahead_prints_the_plan(tmp_path):
    """N 2^31 or more above the serial was silently ignored: refused now,
    with the steps of 'serial plan'."""
    path = tmp_path / "example.com.zone"
    text = ZONE.replace("2024010101", "2024010104")
    path.write_text(text)
    p = run("serial", "bump", "--at-least", "4200000000", str(path))
    assert p.returncode == 2 and p.stdout == ""
    steps = run("serial", "plan", "2024010104", "4200000000", check=0).stdout.split()
    assert len(steps) >= 2 and steps[-1] == "4200000000"
    assert "Publish " + ", then ".join(steps) + "," in p.stderr, p.stderr
    assert "soasync serial plan 2024010104 4200000000" in p.stderr
    assert path.read_text() == text


@pytest.mark.parametrize("policy,now", [("increment", NOW), ("unixtime", 0)])
def test_never_serial_0(tmp_path, policy, now):
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE.replace("2024010101", "4294967295"))
    p = run("serial", "bump", "--policy", policy, str(path), env={"SOASYNC_NOW": str(now)},
            check=0)
    assert p.stdout.endswith(": 4294967295 -> 1\n")
    assert "( 1 3600" in path.read_text()


def test_usage_errors(tmp_path):
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE)
    # Usage errors exit 3, as in every command (2 is a refused file).
    for args in (["--policy", "weekly"], ["--at-least", "-1"], ["--at-least", "4294967296"],
                 ["--live", "not-an-address"], ["--origin", "a..b"], ["--bogus"],
                 ["--timeout", "fast"], []):
        p = run("serial", "bump", *args, *([str(path)] if args else []))
        assert p.returncode == 3, args
        assert p.stderr.startswith("soasync: "), args
    p = run("serial", "bump", str(path), env={"SOASYNC_NOW": "yesterday"})
    assert p.returncode == 3
    assert "SOASYNC_NOW" in p.stderr
    assert path.read_text() == ZONE
    assert run("serial", "frobnicate").returncode == 3
    assert run("serial").returncode == 3


@pytest.mark.parametrize("sub", ["bump", "compare", "plan"])
def test_help(sub):
    p = run("serial", sub, "--help", check=0)
    assert p.stdout.startswith(f"Usage: soasync serial {sub}")
    p = run("help", "serial", check=0)
    assert "bump" in p.stdout and "compare" in p.stdout and "plan" in p.stdout


def test_origin_from_file_name_and_override(tmp_path):
    rel = "@ IN SOA ns1 hostmaster 1 2 3 4 5\n@ IN NS ns1\n"
    with DnsServer(serial=100) as srv:
        path = tmp_path / "db.example.org"
        path.write_text(rel)
        p = run("serial", "bump", "--live", srv.addr, str(path), check=0)
        assert p.stdout.endswith(": 1 -> 101\n")
        assert srv.qnames[-1] == "example.org."
        path2 = tmp_path / "zonefile"
        path2.write_text(rel)
        p = run("serial", "bump", "--live", srv.addr, str(path2))
        assert p.returncode == 2
        assert "--origin" in p.stderr
        p = run("serial", "bump", "--live", srv.addr, "--origin", "example.net", str(path2),
                check=0)
        assert srv.qnames[-1] == "example.net."


# --- --live against a small authoritative server on loopback -----------------

class DnsServer:
    """Answers SOA queries for any name with the configured serial and flags."""

    def __init__(self, serial, aa=True, rcode=0, answer=True):
        self.serial, self.aa, self.rcode, self.answer = serial, aa, rcode, answer
        self.qnames = []

    def __enter__(self):
        import dns.flags
        import dns.message
        import dns.rrset
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.addr = "127.0.0.1#%d" % self.sock.getsockname()[1]
        self.stop = threading.Event()

        def serve():
            while not self.stop.is_set():
                try:
                    data, peer = self.sock.recvfrom(4096)
                except socket.timeout:
                    continue
                q = dns.message.from_wire(data)
                name = q.question[0].name
                self.qnames.append(name.to_text())
                r = dns.message.make_response(q)
                r.set_rcode(self.rcode)
                if self.aa:
                    r.flags |= dns.flags.AA
                if self.answer and self.rcode == 0:
                    r.answer.append(dns.rrset.from_text(
                        name, 3600, "IN", "SOA",
                        "ns1.%s h.%s %d 3600 900 604800 3600" % (name, name, self.serial)))
                self.sock.sendto(r.to_wire(), peer)

        self.thread = threading.Thread(target=serve)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.sock.close()


def test_live_ahead(tmp_path):
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE)
    with DnsServer(serial=2024010150) as srv:
        p = run("serial", "bump", "--live", srv.addr, str(path), check=0)
    assert p.stdout == f"{path}: 2024010101 -> 2024010151\n"
    assert "ahead" in p.stderr
    assert srv.qnames == ["example.com."]
    assert "2024010151" in path.read_text()


def test_live_behind(tmp_path):
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE)
    with DnsServer(serial=2024010001) as srv:
        p = run("serial", "bump", "--live", srv.addr, str(path), check=0)
    assert p.stdout == f"{path}: 2024010101 -> 2024010102\n"


@pytest.mark.parametrize("kw,word", [({"aa": False}, "AA not set"),
                                     ({"rcode": 5}, "REFUSED"),
                                     ({"answer": False}, "no SOA in the answer")])
def test_live_not_authoritative(tmp_path, kw, word):
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE)
    with DnsServer(serial=2024010150, **kw) as srv:
        p = run("serial", "bump", "--live", srv.addr, str(path))
    assert p.returncode == 2
    assert word in p.stderr
    assert "no authoritative SOA for example.com." in p.stderr
    assert path.read_text() == ZONE


@pytest.mark.parametrize("label,cls", [("soa-empty-any", "ANY"), ("soa-empty-none", "NONE")])
def test_live_soa_empty_rdata_other_class(tmp_path, label, cls):
    """A live primary answering with the zone's SOA in class ANY/NONE and
    empty rdata: the bump is refused (reading a serial from it overran the
    heap before), the file untouched, the reason named."""
    import badserver
    zone = f"{label}.t1.bad"
    path = tmp_path / f"{zone}.zone"
    text = ZONE.replace("example.com.", zone + ".")
    path.write_text(text)
    with badserver.BadServer("127.54.0.31", 0) as srv:
        p = run("serial", "bump", "--live", srv.ns_arg, str(path))
        assert srv.queries_for(zone + "."), "the live server was not asked"
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stdout == ""
    assert f"of class {cls}, not IN" in p.stderr
    assert "left unchanged" in p.stderr
    assert "AddressSanitizer" not in p.stderr
    assert path.read_text() == text


def test_live_silent(tmp_path):
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        p = run("serial", "bump", "--timeout", "100", "--live",
                "127.0.0.1#%d" % s.getsockname()[1], str(path))
    finally:
        s.close()
    assert p.returncode == 2
    assert "timed out" in p.stderr
    assert path.read_text() == ZONE


# --- compare and plan ---------------------------------------------------------

@pytest.mark.parametrize("a,b", [(1, 2), (2, 1), (7, 7), (0, 2**31), (2**31, 0),
                                 (4294967295, 0), (0, 4294967295), (10, 10 + 2**31 - 1),
                                 (10, 10 + 2**31 + 1), (2024010101, 2024010100)])
def test_compare(a, b):
    want = "equal" if a == b else "greater" if greater(a, b) else \
        "less" if greater(b, a) else "undefined"
    p = run("serial", "compare", str(a), str(b), check=0)
    assert p.stdout == want + "\n"


@pytest.mark.parametrize("args", [["x", "1"], ["1", "-1"], ["1", "4294967296"], ["1"],
                                  ["1", "2", "3"], ["", "1"], ["1 ", "1"], ["0x10", "1"]])
def test_compare_errors(args):
    p = run("serial", "compare", *args)
    assert p.returncode == 3
    assert p.stdout == ""
    assert p.stderr.startswith("soasync: serial compare: ")


@pytest.mark.parametrize("a,b,steps", [(100, 200, 1), (100, 100, 1), (1000, 999, 3),
                                       (0, 2**31, 2), (2026112501, 2026010100, 2),
                                       (4294967295, 5, 1), (5, 4294967295, 2)])
def test_plan(a, b, steps):
    p = run("serial", "plan", "--zone", "example.com", str(a), str(b), check=0)
    out = [int(x) for x in p.stdout.split()]
    assert len(out) == steps
    assert out[-1] == b
    cur = a
    for s in out:
        assert s == cur or greater(s, cur)
        assert (s - cur) % 2**32 <= 2**31 - 1
        cur = s
    if steps > 1:
        for s in out[:-1]:
            assert f"soasync wait example.com --serial {s}" in p.stderr


def test_plan_errors():
    assert run("serial", "plan", "1").returncode == 3
    assert run("serial", "plan", "1", "abc").returncode == 3
    assert run("serial", "plan", "--zone", "x", "1").returncode == 3


# --- files BIND writes or reads that libzscanner alone refuses ----------------

GENERATE = """$ORIGIN 2.0.192.in-addr.arpa.
$TTL 3600
@ IN SOA ns1.example.net. hostmaster.example.net. ( 2024010101 3600 900 604800 300 )
@ IN NS ns1.example.net.
$GENERATE 1-254 $ PTR host-$.example.net.
$GENERATE 0-10/5 ${0,3,d} CNAME "${0,3,n}.nibbles"
"""


# An AXFR dump (dig axfr) starts and ends with the same SOA.
AXFR_DUMP = """; <<>> DiG 9.18 <<>> axfr example.com @192.0.2.53
;; global options: +cmd
example.com.\t\t3600\tIN\tSOA\tns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300
example.com.\t\t3600\tIN\tNS\tns1.example.com.
ns1.example.com.\t3600\tIN\tA\t192.0.2.1
www.example.com.\t300\tIN\tA\t192.0.2.80
example.com.\t\t3600\tIN\tSOA\tns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300
;; Query time: 1 msec
;; XFR size: 5 records (messages 1, bytes 210)
"""


@pytest.mark.parametrize("name,text,copies", [("db.2.0.192.in-addr.arpa", GENERATE, 1),
                                              ("example.com.zone", AXFR_DUMP, 2)])
def test_bumped_byte_exact_generate_and_axfr_dump(tmp_path, name, text, copies):
    """$GENERATE is skipped; every copy of a repeated SOA gets the serial."""
    path = tmp_path / name
    path.write_text(text)
    p = run("serial", "bump", str(path), check=0)
    assert p.stdout == f"{path}: 2024010101 -> 2024010102\n"
    assert path.read_text() == text.replace("2024010101", "2024010102")
    assert path.read_text().count("2024010102") == copies


def test_axfr_dump_different_soas_refused(tmp_path):
    path = tmp_path / "example.com.zone"
    path.write_text(AXFR_DUMP.replace("7200 3600 1209600 300\n;;", "7201 3600 1209600 300\n;;"))
    p = run("serial", "bump", str(path))
    assert p.returncode == 2
    assert ":7: a second, different SOA record (the first is at " in p.stderr
