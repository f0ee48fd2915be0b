"""Self-tests of badserver.py: each behaviour does what its table says.

These need no soasync; they talk to the server with raw sockets and
dnspython.  Run with: /usr/bin/python3 -m pytest -q tests/system/test_badserver_selftest.py
"""

import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import time

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.tsigkeyring
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import badserver  # noqa: E402
from badserver import FORGED_SERIAL, GOOD_SERIAL, BadServer  # noqa: E402
from harness import wait_until  # noqa: E402

ADDR = "127.54.0.1"
DELAY = 0.02
TRICKLE = 0.1
SLOW = 0.3
HERE = os.path.dirname(os.path.abspath(__file__))


# --------------------------------------------------------------------------
# helpers


@pytest.fixture(scope="module")
def srv():
    with BadServer(ADDR, 0, delay=DELAY, trickle_interval=TRICKLE, slow_delay=SLOW,
                   hold_max=5.0) as s:
        yield s


def query(qname, qtype="SOA", rdclass="IN", edns=True, nsid=True, rd=False, qid=None):
    """A query message (wire, id)."""
    opts = [dns.edns.GenericOption(dns.edns.NSID, b"")] if (edns and nsid) else None
    m = dns.message.make_query(qname, qtype, rdclass, use_edns=0 if edns else False,
                               options=opts, payload=1232)
    if not rd:
        m.flags &= ~dns.flags.RD
    if qid is not None:
        m.id = qid
    return m.to_wire(), m.id


def udp(server, wire, count=1, window=1.0, settle=0.0, addr=None):
    """Send wire to the server; collect datagrams until `count` arrived (then
    wait `settle` more) or `window` expired. Returns [(data, (ip, port))]."""
    fam = socket.AF_INET6 if ":" in server.addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    try:
        s.sendto(wire, (addr or server.addr, server.port))
        got = []
        end = time.monotonic() + window
        settled = False
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            data, src = s.recvfrom(70000)
            got.append((data, src[:2]))
            if len(got) >= count and not settled:
                settled = True
                end = time.monotonic() + settle
        return got
    finally:
        s.close()


def tcp_connect(server):
    fam = socket.AF_INET6 if ":" in server.addr else socket.AF_INET
    s = socket.create_connection((server.addr, server.port), timeout=2)
    assert s.family == fam
    return s


def tcp_send(s, wire):
    s.sendall(struct.pack("!H", len(wire)) + wire)


def recv_exact(s, n, timeout=2.0):
    buf = b""
    end = time.monotonic() + timeout
    while len(buf) < n:
        s.settimeout(max(0.01, end - time.monotonic()))
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("EOF after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def tcp_frame(s, timeout=2.0):
    (n,) = struct.unpack("!H", recv_exact(s, 2, timeout))
    return recv_exact(s, n, timeout)


def tcp_exchange(server, wire, frames=1):
    with tcp_connect(server) as s:
        tcp_send(s, wire)
        return [tcp_frame(s) for _ in range(frames)]


def quiet_for(s, seconds):
    """True if nothing at all (no data, no EOF) arrives on s for `seconds`."""
    r, _, _ = select.select([s], [], [], seconds)
    return not r


def parse(data):
    return dns.message.from_wire(data)


def soa_serials(msg, section="answer"):
    out = []
    for rrset in getattr(msg, section):
        if rrset.rdtype == dns.rdatatype.SOA:
            out += [rd.serial for rd in rrset]
    return out


def assert_good(data, qid, qname, serial=GOOD_SERIAL):
    m = parse(data)
    assert m.id == qid
    assert m.flags & dns.flags.QR and m.flags & dns.flags.AA
    assert not m.flags & dns.flags.TC
    assert m.rcode() == dns.rcode.NOERROR
    assert m.question[0].name == dns.name.from_text(qname)
    assert m.answer[0].name == dns.name.from_text(qname)
    assert soa_serials(m) == [serial]
    return m


def malformed(data):
    try:
        dns.message.from_wire(data)
    except dns.exception.DNSException:
        return True
    return False


def qsec_len(qname):
    return len(badserver.encode_name(qname)) + 4


FORGED = struct.pack("!I", FORGED_SERIAL)


# --------------------------------------------------------------------------
# bookkeeping: everything is documented and everything is tested


def test_every_behavior_is_documented():
    doc = badserver.__doc__
    for name in badserver.BEHAVIORS:
        base = name[: -len("-only")] if name.endswith("-only") else name
        assert "\n" + base + " " in doc, name


def test_every_behavior_is_selftested():
    tested = set(FORGERY_CHECKS) | {n + "-only" for n in FORGERY_CHECKS} | set(OTHER_TESTED)
    assert set(badserver.BEHAVIORS) == tested
    assert set(FORGERY_CHECKS) == set(badserver.FORGERIES)


def test_list_cli():
    out = subprocess.run([sys.executable, os.path.join(HERE, "badserver.py"), "--list"],
                         capture_output=True, text=True, timeout=20).stdout
    for name in badserver.BEHAVIORS:
        assert name in out


# --------------------------------------------------------------------------
# baseline


def test_ok_udp(srv):
    wire, qid = query("ok.b1.bad.")
    [(data, src)] = udp(srv, wire, settle=0.1)
    assert src == (ADDR, srv.port)
    m = assert_good(data, qid, "ok.b1.bad.")
    assert not m.flags & dns.flags.RD
    assert m.edns == 0
    nsid = [o for o in m.options if o.otype == dns.edns.NSID]
    assert nsid and nsid[0].to_wire() == b"badserver"
    soa = m.answer[0][0]
    assert str(soa.mname) == "ns1.ok.b1.bad." and str(soa.rname) == "hostmaster.ok.b1.bad."
    assert data[12 + qsec_len("ok.b1.bad."):][:2] == b"\xc0\x0c"  # compressed owner
    [q] = srv.queries_for("ok.b1.bad.")
    assert q.transport == "udp" and q.edns and q.nsid_requested and not q.rd
    assert q.id == qid and q.qtype == 6 and q.qclass == 1 and q.error is None


def test_ok_tcp_and_pipelining(srv):
    w1, id1 = query("ok.b2.bad.")
    w2, id2 = query("ok.b2.bad.", edns=False)
    with tcp_connect(srv) as s:
        tcp_send(s, w1)
        tcp_send(s, w2)
        m1 = assert_good(tcp_frame(s), id1, "ok.b2.bad.")
        m2 = assert_good(tcp_frame(s), id2, "ok.b2.bad.")
    assert m1.edns == 0 and m2.edns == -1
    qs = srv.queries_for("ok.b2.bad.", transport="tcp")
    assert [q.edns for q in qs] == [True, False]


def test_ok_without_edns_has_no_opt(srv):
    wire, qid = query("ok.b3.bad.", edns=False, rd=True)
    [(data, _)] = udp(srv, wire)
    m = assert_good(data, qid, "ok.b3.bad.")
    assert m.edns == -1 and m.flags & dns.flags.RD  # RD echoed


def test_case_preserved_and_matched(srv):
    wire, qid = query("OK.MiXeD.bad.")
    [(data, _)] = udp(srv, wire)
    m = assert_good(data, qid, "ok.mixed.bad.")
    assert m.question[0].name.to_text() == "OK.MiXeD.bad."


def test_configurable_serial():
    with BadServer("127.54.0.20", 0, serial=4242) as s:
        wire, qid = query("ok.bad.")
        [(data, _)] = udp(s, wire)
        assert_good(data, qid, "ok.bad.", serial=4242)


@pytest.mark.parametrize("serial", [0, 2**31, 2**32 - 1, 100, 12345])
def test_serial_n(srv, serial):
    name = "serial-%d.bad." % serial
    wire, qid = query(name)
    [(data, _)] = udp(srv, wire)
    assert_good(data, qid, name, serial=serial)


def test_serial_out_of_range_is_unknown_zone(srv):
    wire, _ = query("serial-4294967296.bad.")
    [(data, _)] = udp(srv, wire)
    assert parse(data).rcode() == dns.rcode.REFUSED


# --------------------------------------------------------------------------
# forgery family: the bad packet, then the good one


def _ans_off(qname):
    return 12 + qsec_len(qname)


def chk_wrongid(srv, data, src, qid, qname):
    m = parse(data)
    assert m.id == (qid + 1) & 0xFFFF and soa_serials(m) == [FORGED_SERIAL]


def chk_wrongqname(srv, data, src, qid, qname):
    m = parse(data)
    assert m.id == qid and m.question[0].name == dns.name.from_text("forged." + qname)
    assert m.answer[0].name == dns.name.from_text(qname) and soa_serials(m) == [FORGED_SERIAL]


def chk_wrongqtype(srv, data, src, qid, qname):
    m = parse(data)
    assert m.id == qid and m.question[0].rdtype == dns.rdatatype.A
    assert soa_serials(m) == [FORGED_SERIAL]


def chk_wrongqclass(srv, data, src, qid, qname):
    m = parse(data)
    assert m.id == qid and m.question[0].rdclass == dns.rdataclass.CH
    assert soa_serials(m) == [FORGED_SERIAL]


def chk_noquestion(srv, data, src, qid, qname):
    m = parse(data)
    assert m.id == qid and len(m.question) == 0 and soa_serials(m) == [FORGED_SERIAL]


def chk_qr0(srv, data, src, qid, qname):
    m = parse(data)
    assert m.id == qid and not m.flags & dns.flags.QR and soa_serials(m) == [FORGED_SERIAL]


def chk_otheraddr(srv, data, src, qid, qname):
    assert src == (srv.alt_addr, srv.port) and srv.alt_addr != srv.addr
    m = parse(data)
    assert m.id == qid and m.flags & dns.flags.AA and soa_serials(m) == [FORGED_SERIAL]


def chk_otherport(srv, data, src, qid, qname):
    assert src[0] == srv.addr and src[1] != srv.port
    m = parse(data)
    assert m.id == qid and soa_serials(m) == [FORGED_SERIAL]


def _owner_ptr(data, qname):
    off = _ans_off(qname)
    (p,) = struct.unpack_from("!H", data, off)
    assert p & 0xC000 == 0xC000
    return off, p & 0x3FFF


def chk_ptr_self(srv, data, src, qid, qname):
    off, target = _owner_ptr(data, qname)
    assert target == off and malformed(data) and FORGED in data


def chk_ptr_loop(srv, data, src, qid, qname):
    off = _ans_off(qname)
    assert data[off : off + 2] == b"\x01a"
    (p,) = struct.unpack_from("!H", data, off + 2)
    y = p & 0x3FFF
    assert y == off + 14 and data[y : y + 2] == b"\x01b"
    assert struct.unpack_from("!H", data, y + 2)[0] & 0x3FFF == off
    assert malformed(data) and FORGED in data


def chk_ptr_forward(srv, data, src, qid, qname):
    _, target = _owner_ptr(data, qname)
    assert target == 0x3FFF > len(data) and malformed(data)


def chk_ptr_header(srv, data, src, qid, qname):
    _, target = _owner_ptr(data, qname)
    assert target == 2 and data[2] & 0xC0 == 0x80 and malformed(data)


def chk_ptr_question(srv, data, src, qid, qname):
    assert data[:2] == struct.pack("!H", qid) and data[12:14] == b"\xc0\x0c" and malformed(data)


def chk_label_ext(srv, data, src, qid, qname):
    assert data[12 + qsec_len(qname)] == 0x41 and malformed(data)


def chk_name_toolong(srv, data, src, qid, qname):
    off = _ans_off(qname)
    assert data[off : off + 64] == b"\x3f" + b"a" * 63 and len(data) > off + 1000
    assert malformed(data)


def chk_cut_header(srv, data, src, qid, qname):
    assert len(data) == 7 and data[:2] == struct.pack("!H", qid)


def chk_cut_question(srv, data, src, qid, qname):
    assert 12 < len(data) < _ans_off(qname) - 4 and malformed(data)
    assert struct.unpack_from("!H", data, 4)[0] == 1


def chk_cut_rr(srv, data, src, qid, qname):
    assert len(data) == _ans_off(qname) + 18 and malformed(data)
    assert struct.unpack_from("!H", data, 6)[0] == 1  # ANCOUNT says 1


def chk_garbage(srv, data, src, qid, qname):
    assert len(data) == 200 and data[:2] == struct.pack("!H", qid) and data[2] & 0x80


def chk_zeros(srv, data, src, qid, qname):
    assert data == bytes(64)


def chk_onebyte(srv, data, src, qid, qname):
    assert len(data) == 1


def chk_empty(srv, data, src, qid, qname):
    assert data == b""


def chk_count_high(srv, data, src, qid, qname):
    assert struct.unpack_from("!H", data, 6)[0] == 3 and malformed(data) and FORGED in data


def chk_count_high_ar(srv, data, src, qid, qname):
    ar = struct.unpack_from("!H", data, 10)[0]
    assert ar == 3 and malformed(data) and FORGED in data  # 1 OPT present (EDNS query)


def _rdlen(data, qname):
    return struct.unpack_from("!H", data, _ans_off(qname) + 2 + 8)[0]


def chk_rdlen_short(srv, data, src, qid, qname):
    assert _rdlen(data, qname) == 10 and malformed(data) and FORGED in data


def chk_rdlen_long(srv, data, src, qid, qname):
    assert _rdlen(data, qname) == 65535 and malformed(data) and FORGED in data


def chk_soa_short(srv, data, src, qid, qname):
    zone = len(badserver.encode_name(qname))
    assert _rdlen(data, qname) == (zone + 4) + (zone + 11) + 8
    assert malformed(data) and FORGED in data


def chk_opt_overrun(srv, data, src, qid, qname):
    # the OPT RR is last: root name, type 41, class, ttl, rdlen=200, one empty NSID option
    assert data.endswith(b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\xc8\x00\x03\x00\x00")
    assert malformed(data) and FORGED in data


FORGERY_CHECKS = {
    "wrongid": chk_wrongid, "wrongqname": chk_wrongqname, "wrongqtype": chk_wrongqtype,
    "wrongqclass": chk_wrongqclass, "noquestion": chk_noquestion, "qr0": chk_qr0,
    "otheraddr": chk_otheraddr, "otherport": chk_otherport,
    "ptr-self": chk_ptr_self, "ptr-loop": chk_ptr_loop, "ptr-forward": chk_ptr_forward,
    "ptr-header": chk_ptr_header, "ptr-question": chk_ptr_question, "label-ext": chk_label_ext,
    "name-toolong": chk_name_toolong,
    "cut-header": chk_cut_header, "cut-question": chk_cut_question, "cut-rr": chk_cut_rr,
    "garbage": chk_garbage, "zeros": chk_zeros, "onebyte": chk_onebyte, "empty": chk_empty,
    "count-high": chk_count_high, "count-high-ar": chk_count_high_ar,
    "rdlen-short": chk_rdlen_short, "rdlen-long": chk_rdlen_long, "soa-short": chk_soa_short,
    "opt-overrun": chk_opt_overrun,
}


@pytest.mark.parametrize("name", sorted(FORGERY_CHECKS))
def test_forgery_then_good(srv, name):
    qname = "%s.f1.bad." % name
    wire, qid = query(qname)
    t0 = time.monotonic()
    got = udp(srv, wire, count=2, settle=5 * DELAY)
    assert len(got) == 2, got
    (bad, bsrc), (good, gsrc) = got
    FORGERY_CHECKS[name](srv, bad, bsrc, qid, qname)
    assert gsrc == (srv.addr, srv.port)
    assert_good(good, qid, qname)
    assert time.monotonic() - t0 >= DELAY * 0.9  # the good one came `delay` later
    assert len(srv.queries_for(qname)) == 1


@pytest.mark.parametrize("name", sorted(FORGERY_CHECKS))
def test_forgery_only(srv, name):
    qname = "%s-only.f2.bad." % name
    wire, qid = query(qname)
    got = udp(srv, wire, count=1, settle=6 * DELAY)
    assert len(got) == 1, got  # just the bad packet, no good answer ever
    FORGERY_CHECKS[name](srv, got[0][0], got[0][1], qid, qname)


@pytest.mark.parametrize("name", sorted(FORGERY_CHECKS))
def test_forgery_over_tcp(srv, name):
    """TCP carries the same packets as messages (other-address ones skipped)."""
    qname = "%s.f3.bad." % name
    wire, qid = query(qname)
    alt = name in ("otheraddr", "otherport")
    with tcp_connect(srv) as s:
        tcp_send(s, wire)
        if not alt:
            FORGERY_CHECKS[name](srv, tcp_frame(s), (srv.addr, srv.port), qid, qname)
        assert_good(tcp_frame(s), qid, qname)
        assert quiet_for(s, 3 * DELAY)


def test_garbage_is_deterministic(srv):
    wire, _ = query("garbage-only.f4.bad.", qid=4321)
    a = udp(srv, wire)[0][0]
    b = udp(srv, wire)[0][0]
    assert a == b


# --------------------------------------------------------------------------
# TC=1 and the TCP side

TC_ZONES = ["tc-ok", "tc-forged", "tc-close", "tc-reset", "tc-trickle", "tc-short",
            "tc-silent", "tc-loop", "tc-zerolen"]


@pytest.mark.parametrize("name", TC_ZONES)
def test_tc_over_udp(srv, name):
    qname = name + ".t1.bad."
    wire, qid = query(qname)
    [(data, _)] = udp(srv, wire, settle=0.05)
    m = parse(data)
    assert m.id == qid and m.flags & dns.flags.TC and m.flags & dns.flags.QR
    assert soa_serials(m) == ([FORGED_SERIAL] if name == "tc-forged" else [])


@pytest.mark.parametrize("name", ["tc-ok", "tc-forged"])
def test_tc_tcp_works(srv, name):
    qname = name + ".t2.bad."
    wire, qid = query(qname)
    [data] = tcp_exchange(srv, wire)
    assert_good(data, qid, qname)
    assert srv.queries_for(qname, "tcp")


def test_tc_close(srv):
    wire, _ = query("tc-close.t3.bad.")
    with tcp_connect(srv) as s:
        tcp_send(s, wire)
        s.settimeout(1)
        t0 = time.monotonic()
        assert s.recv(100) == b""  # orderly EOF, no answer
        assert time.monotonic() - t0 < 0.5


def test_tc_reset(srv):
    wire, _ = query("tc-reset.t3.bad.")
    with tcp_connect(srv) as s:
        tcp_send(s, wire)
        s.settimeout(1)
        with pytest.raises(ConnectionResetError):
            s.recv(100)


def test_tc_trickle(srv):
    qname = "tc-trickle.t3.bad."
    wire, qid = query(qname)
    with tcp_connect(srv) as s:
        tcp_send(s, wire)
        chunks = []
        end = time.monotonic() + 5.5 * TRICKLE
        while time.monotonic() < end:
            if select.select([s], [], [], end - time.monotonic())[0]:
                chunks.append(s.recv(100))
                assert chunks[-1] != b"", "connection closed"
        data = b"".join(chunks)
        assert all(len(c) == 1 for c in chunks)  # one byte at a time
        assert 3 <= len(data) <= 8, data
        (n,) = struct.unpack("!H", data[:2])
        assert n > 60  # a whole answer was promised, only bytes trickle in
    # whole trickled message is the good answer (fast trickle server)
    with BadServer("127.54.0.21", 0, trickle_interval=0.001) as fast:
        with tcp_connect(fast) as s:
            tcp_send(s, wire)
            assert_good(tcp_frame(s, timeout=5), qid, qname)


def test_tc_short(srv):
    qname = "tc-short.t3.bad."
    wire, qid = query(qname)
    with tcp_connect(srv) as s:
        tcp_send(s, wire)
        (n,) = struct.unpack("!H", recv_exact(s, 2))
        body = b""
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            if select.select([s], [], [], end - time.monotonic())[0]:
                c = s.recv(4096)
                assert c, "closed instead of stalling"
                body += c
        assert len(body) == n - 256  # prefix promises 256 more than sent
        assert_good(body, qid, qname)
        assert quiet_for(s, 0.2)  # still open, stalled


def test_tc_silent(srv):
    wire, _ = query("tc-silent.t3.bad.")
    with tcp_connect(srv) as s:
        tcp_send(s, wire)
        assert quiet_for(s, 0.3)
    assert srv.queries_for("tc-silent.t3.bad.", "tcp")


def test_tc_loop_tcp(srv):
    wire, qid = query("tc-loop.t3.bad.")
    [data] = tcp_exchange(srv, wire)
    m = parse(data)
    assert m.id == qid and m.flags & dns.flags.TC and not m.answer


def test_tc_zerolen(srv):
    qname = "tc-zerolen.t3.bad."
    wire, qid = query(qname)
    with tcp_connect(srv) as s:
        tcp_send(s, wire)
        assert recv_exact(s, 2) == b"\x00\x00"
        assert_good(tcp_frame(s), qid, qname)


# --------------------------------------------------------------------------
# silence and timing


def test_silent(srv):
    wire, _ = query("silent.s1.bad.")
    assert udp(srv, wire, window=0.3) == []
    w2, _ = query("silent.s1.bad.", qtype="NS")
    assert udp(srv, w2, window=0.1) == []  # silent for every type
    with tcp_connect(srv) as s:
        tcp_send(s, wire)
        assert quiet_for(s, 0.3)
    assert len(srv.queries_for("silent.s1.bad.")) == 3


def test_slow(srv):
    qname = "slow.s2.bad."
    wire, qid = query(qname)
    t0 = time.monotonic()
    [(data, _)] = udp(srv, wire, window=2)
    assert time.monotonic() - t0 >= SLOW * 0.9
    assert_good(data, qid, qname)
    t0 = time.monotonic()
    [data] = tcp_exchange(srv, wire)
    assert time.monotonic() - t0 >= SLOW * 0.9
    assert_good(data, qid, qname)


def test_dropfirst(srv):
    qname = "dropfirst.s3.bad."
    answered = []
    for _ in range(4):
        wire, qid = query(qname)
        got = udp(srv, wire, window=0.15)
        answered.append(bool(got))
        if got:
            assert_good(got[0][0], qid, qname)
    assert answered == [False, True, False, True]


# --------------------------------------------------------------------------
# EDNS intolerance


@pytest.mark.parametrize("name,rcode", [("formerr-edns", dns.rcode.FORMERR),
                                        ("notimp-edns", dns.rcode.NOTIMP)])
def test_edns_intolerant(srv, name, rcode):
    qname = name + ".e1.bad."
    wire, qid = query(qname)
    [(data, _)] = udp(srv, wire)
    m = parse(data)
    assert m.id == qid and m.rcode() == rcode and m.edns == -1 and not m.answer
    assert m.question[0].name == dns.name.from_text(qname)
    wire, qid = query(qname, edns=False)
    [(data, _)] = udp(srv, wire)
    assert_good(data, qid, qname)


def test_formerr_always(srv):
    for edns in (True, False):
        wire, qid = query("formerr.e2.bad.", edns=edns)
        [(data, _)] = udp(srv, wire)
        m = parse(data)
        assert m.id == qid and m.rcode() == dns.rcode.FORMERR and not m.answer


# --------------------------------------------------------------------------
# not authoritative / errors


def test_noaa(srv):
    wire, qid = query("noaa.n1.bad.")
    m = parse(udp(srv, wire)[0][0])
    assert m.id == qid and not m.flags & dns.flags.AA and soa_serials(m) == [FORGED_SERIAL]


@pytest.mark.parametrize("name,rcode", [("refused", dns.rcode.REFUSED),
                                        ("notauth", dns.rcode.NOTAUTH),
                                        ("servfail", dns.rcode.SERVFAIL)])
def test_error_rcodes(srv, name, rcode):
    wire, qid = query(name + ".n2.bad.")
    m = parse(udp(srv, wire)[0][0])
    assert m.id == qid and m.rcode() == rcode and not m.answer and not m.flags & dns.flags.AA


def test_referral(srv):
    qname = "referral.n3.bad."
    wire, qid = query(qname)
    m = parse(udp(srv, wire)[0][0])
    assert m.rcode() == dns.rcode.NOERROR and not m.flags & dns.flags.AA and not m.answer
    [ns] = m.authority
    assert ns.rdtype == dns.rdatatype.NS and ns.name == dns.name.from_text(qname)
    assert sorted(str(r.target) for r in ns) == ["ns1.elsewhere.invalid.", "ns2.elsewhere.invalid."]


def test_nxdomain(srv):
    wire, qid = query("nxdomain.n4.bad.")
    m = parse(udp(srv, wire)[0][0])
    assert m.rcode() == dns.rcode.NXDOMAIN and m.flags & dns.flags.AA and not m.answer
    assert m.authority[0].name == dns.name.from_text("n4.bad.")
    assert soa_serials(m, "authority") == [FORGED_SERIAL]


def test_nodata(srv):
    wire, qid = query("nodata.n5.bad.")
    m = parse(udp(srv, wire)[0][0])
    assert m.rcode() == dns.rcode.NOERROR and m.flags & dns.flags.AA and not m.answer
    assert soa_serials(m, "authority") == [FORGED_SERIAL]


# --------------------------------------------------------------------------
# odd SOA sets


def test_multisoa(srv):
    qname = "multisoa.o1.bad."
    wire, qid = query(qname)
    data = udp(srv, wire)[0][0]
    assert struct.unpack_from("!H", data, 6)[0] == 2
    assert data.index(struct.pack("!I", GOOD_SERIAL)) < data.index(FORGED)
    # (plain dnspython keeps only the last SOA of the set -- i.e. 666!)
    m = dns.message.from_wire(data, one_rr_per_rrset=True)
    assert m.flags & dns.flags.AA and soa_serials(m) == [GOOD_SERIAL, FORGED_SERIAL]


@pytest.mark.parametrize("label,rdclass", [("soa-empty-any", 255), ("soa-empty-none", 254)])
def test_soa_empty_other_class(srv, label, rdclass):
    qname = label + ".o4.bad."
    wire, qid = query(qname)
    data = udp(srv, wire)[0][0]
    (id_, flags, qd, an) = struct.unpack_from("!HHHH", data, 0)
    assert id_ == qid and flags & 0x8400 == 0x8400 and flags & 0xF == 0  # QR, AA, NOERROR
    assert (qd, an) == (1, 1)
    # dnspython refuses empty SOA rdata, so the bytes are read here: the owner
    # points to the question, type SOA, the class, TTL 3600, RDLENGTH 0.
    at = 12 + qsec_len(qname)
    assert data[at:at + 12] == b"\xc0\x0c" + struct.pack("!HHIH", 6, rdclass, 3600, 0)


def test_othersoa(srv):
    wire, qid = query("othersoa.o2.bad.")
    m = parse(udp(srv, wire)[0][0])
    assert m.flags & dns.flags.AA
    assert [str(r.name) for r in m.answer] == ["other-zone.invalid."]
    assert soa_serials(m) == [FORGED_SERIAL]


def test_soa_mixed(srv):
    qname = "soa-mixed.o3.bad."
    wire, qid = query(qname)
    m = parse(udp(srv, wire)[0][0])
    assert [str(r.name) for r in m.answer] == ["other-zone.invalid.", qname]
    assert [r[0].serial for r in m.answer] == [FORGED_SERIAL, GOOD_SERIAL]


# --------------------------------------------------------------------------
# EDNS option damage, maximum size


def test_opt_badlen(srv):
    qname = "opt-badlen.x1.bad."
    wire, qid = query(qname)
    data = udp(srv, wire)[0][0]
    # OPT RR is last: rdlen 13 (consistent), NSID option claiming 200 bytes, 9 present
    assert data.endswith(b"\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x0d\x00\x03\x00\xc8badserver")
    assert struct.pack("!I", GOOD_SERIAL) in data and malformed(data)


def test_maxsize_udp(srv):
    qname = "maxsize.x2.bad."
    wire, qid = query(qname)
    [(data, _)] = udp(srv, wire)
    assert len(data) == 65507
    m = assert_good(data, qid, qname)
    assert m.additional[0].rdtype == dns.rdatatype.TXT
    [data] = tcp_exchange(srv, wire)
    assert len(data) == 65507


# --------------------------------------------------------------------------
# CHAOS, plain answers, unknown zones, odd queries


@pytest.mark.parametrize("name,want", [("version.bind.", "badserver 1.0"),
                                       ("version.server.", "badserver 1.0"),
                                       ("hostname.bind.", "badserver"),
                                       ("id.server.", "badserver")])
def test_chaos(srv, name, want):
    wire, qid = query(name, "TXT", "CH")
    m = parse(udp(srv, wire)[0][0])
    assert m.id == qid and m.rcode() == dns.rcode.NOERROR
    [txt] = m.answer
    assert txt.rdclass == dns.rdataclass.CH and txt[0].strings == (want.encode(),)


def test_chaos_configurable_and_refused(srv):
    wire, _ = query("other.bind.", "TXT", "CH")
    assert parse(udp(srv, wire)[0][0]).rcode() == dns.rcode.REFUSED
    with BadServer("127.54.0.22", 0, version="Knot DNS 3.2.6", identity=None) as s:
        wire, _ = query("version.bind.", "TXT", "CH")
        assert parse(udp(s, wire)[0][0]).answer[0][0].strings == (b"Knot DNS 3.2.6",)
        wire, _ = query("id.server.", "TXT", "CH")
        assert parse(udp(s, wire)[0][0]).rcode() == dns.rcode.REFUSED


def test_plain_answers(srv):
    wire, _ = query("ok.p1.bad.", "NS")
    m = parse(udp(srv, wire)[0][0])
    assert str(m.answer[0][0].target) == "ns1.ok.p1.bad."
    wire, _ = query("ns1.ok.p1.bad.", "A")
    m = parse(udp(srv, wire)[0][0])
    assert m.flags & dns.flags.AA and m.answer[0][0].address == ADDR
    wire, _ = query("www.ok.p1.bad.", "SOA")
    m = parse(udp(srv, wire)[0][0])
    assert m.rcode() == dns.rcode.NXDOMAIN and soa_serials(m, "authority") == [GOOD_SERIAL]
    wire, _ = query("wrongid.p1.bad.", "A")  # behaviours are for SOA only
    m = parse(udp(srv, wire, settle=0.1)[0][0])
    assert m.rcode() == dns.rcode.NOERROR and not m.answer


def test_unknown_zone_refused(srv):
    wire, qid = query("example.com.")
    m = parse(udp(srv, wire)[0][0])
    assert m.id == qid and m.rcode() == dns.rcode.REFUSED


def test_odd_queries(srv):
    # too short: ignored; a response: ignored; QDCOUNT=0: header-only FORMERR
    assert udp(srv, b"\x12\x34\x00", window=0.1) == []
    wire, _ = query("ok.q1.bad.")
    assert udp(srv, wire[:2] + b"\x80" + wire[3:], window=0.1) == []
    [(data, _)] = udp(srv, struct.pack("!HHHHHH", 0x4242, 0x0100, 0, 0, 0, 0))
    assert data == struct.pack("!HHHHHH", 0x4242, 0x8101, 0, 0, 0, 0)
    # compression loop in a query's name: FORMERR, server survives
    [(data, _)] = udp(srv, struct.pack("!HHHHHH", 0x4343, 0, 1, 0, 0, 0) + b"\xc0\x0c\x00\x06\x00\x01")
    assert data[:2] == b"\x43\x43" and data[3] & 0xF == 1
    assert any(q.error for q in srv.queries)
    # opcode NOTIFY: NOTIMP
    m = dns.message.make_query("ok.q1.bad.", "SOA")
    m.set_opcode(dns.opcode.NOTIFY)
    r = parse(udp(srv, m.to_wire())[0][0])
    assert r.rcode() == dns.rcode.NOTIMP
    wire, qid = query("ok.q1.bad.")  # still alive
    assert_good(udp(srv, wire)[0][0], qid, "ok.q1.bad.")


def test_query_log(srv):
    srv.clear_queries()
    assert srv.queries == []
    wire, qid = query("ok.l1.bad.", edns=False, rd=True)
    udp(srv, wire)
    [q] = srv.queries
    assert (q.transport, q.id, q.qname, q.edns, q.rd, q.nsid_requested) == \
        ("udp", qid, "ok.l1.bad.", False, True, False)
    assert q.client[0] in ("127.0.0.1", ADDR) and q.raw == wire


# --------------------------------------------------------------------------
# lifecycle, IPv6, CLI


def test_stop_is_fast_and_frees_port():
    s = BadServer("127.54.0.23", 0, hold_max=30).start()
    port = s.port
    conn = tcp_connect(s)
    tcp_send(conn, query("silent.bad.")[0])  # a held connection
    wait_until(lambda: s.queries_for("silent.bad.", "tcp"), 2, what="the query to be held")
    t0 = time.monotonic()
    s.stop()
    assert time.monotonic() - t0 < 1.5
    conn.close()
    with BadServer("127.54.0.23", port) as again:
        wire, qid = query("ok.bad.")
        assert_good(udp(again, wire)[0][0], qid, "ok.bad.")


def _ipv6_ok():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_ok(), reason="no IPv6 loopback")
def test_ipv6():
    with BadServer("::1", 0, delay=DELAY) as s:
        assert s.alt_addr is None  # otheraddr falls back to another port
        wire, qid = query("ok.v6.bad.")
        [(data, src)] = udp(s, wire)
        assert src == ("::1", s.port)
        assert_good(data, qid, "ok.v6.bad.")
        [data] = tcp_exchange(s, wire)
        assert_good(data, qid, "ok.v6.bad.")
        wire, qid = query("wrongid.v6.bad.")
        (bad, _), (good, _) = udp(s, wire, count=2)
        chk_wrongid(s, bad, None, qid, "wrongid.v6.bad.")
        assert_good(good, qid, "wrongid.v6.bad.")
        wire, qid = query("otheraddr.v6.bad.")
        (bad, bsrc), (good, gsrc) = udp(s, wire, count=2)
        assert bsrc[0] == "::1" and bsrc[1] != s.port and gsrc == ("::1", s.port)
        wire, qid = query("tc-ok.v6.bad.")
        assert parse(udp(s, wire)[0][0]).flags & dns.flags.TC
        assert_good(tcp_exchange(s, wire)[0], qid, "tc-ok.v6.bad.")
        wire, qid = query("maxsize.v6.bad.")
        [(data, _)] = udp(s, wire)
        assert len(data) == 65527


def _free_port(addr):
    for _ in range(20):
        p = random.randint(20000, 60000)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
                    socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                u.bind((addr, p))
                t.bind((addr, p))
            return p
        except OSError:
            continue
    raise RuntimeError("no free port")


def test_cli_ready_and_sigterm():
    addr = "127.54.9.1"
    port = _free_port(addr)
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "badserver.py"), "--addr", addr,
                          "--port", str(port), "--serial", "77", "--delay-ms", "10"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        r, _, _ = select.select([p.stdout], [], [], 10)
        assert r, "no output"
        assert p.stdout.readline().strip() == "ready"

        class S:  # what udp()/tcp_exchange() need
            pass
        S.addr, S.port = addr, port
        wire, qid = query("ok.cli.bad.")
        assert_good(udp(S, wire)[0][0], qid, "ok.cli.bad.", serial=77)
        assert_good(tcp_exchange(S, wire)[0], qid, "ok.cli.bad.", serial=77)
        wire, qid = query("otheraddr.cli.bad.")
        (bad, bsrc), (good, gsrc) = udp(S, wire, count=2)
        assert bsrc == ("127.54.9.2", port) and gsrc == (addr, port)
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=5) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


# --------------------------------------------------------------------------
# transfers and NOTIFY

KEYRING = {"xfr-key.": "c29hc3luYy10ZXN0LWtleS1zb2FzeW5jLXRlc3Qta2V5MTI="}


def xfr_frames(srv, qname, qtype="AXFR", signed=True, frames=None, timeout=10.0):
    """Send a (TSIG-signed) AXFR/IXFR; the raw frames until the closing SOA
    (or `frames` of them) arrived."""
    m = dns.message.make_query(qname, qtype)
    if signed:
        m.use_tsig(dns.tsigkeyring.from_text(KEYRING), keyname="xfr-key.")
    out = []
    with tcp_connect(srv) as s:
        tcp_send(s, m.to_wire())
        while frames is None or len(out) < frames:
            out.append(tcp_frame(s, timeout))
            if frames is None and sum(len(soa_serials(unsigned(f))) for f in out) >= 2:
                break
    return m, out


def unsigned(data):
    """A message parsed without looking at its TSIG record, if any."""
    ar = struct.unpack_from("!H", data, 10)[0]
    return split_tsig(data)[0] if ar and data.rfind(b"\x00\xfa\x00\xff") > 0 else parse(data)


def split_tsig(data):
    """(the message without its TSIG record, parsed; the TSIG's key name,
    MAC and error), read by hand: dnspython refuses a TSIG error."""
    qd, an, ns, ar = struct.unpack_from("!HHHH", data, 4)
    off = badserver.read_name(data, 12)[1] + 4
    for _ in range(an + ns + ar - 1):
        off = badserver._skip_rr(data, off)[4]
    owner, _ = badserver.read_name(data, off)
    rtype, _, _, rdata, _ = badserver._skip_rr(data, off)
    assert rtype == badserver.T_TSIG
    a = badserver.read_name(rdata, 0)[1] + 8
    (maclen,) = struct.unpack_from("!H", rdata, a)
    mac = rdata[a + 2:a + 2 + maclen]
    (error,) = struct.unpack_from("!H", rdata, a + 4 + maclen)
    bare = data[:10] + struct.pack("!H", ar - 1) + data[12:off]
    return (dns.message.from_wire(bare, one_rr_per_rrset=True), badserver.labels_text(owner),
            mac, error)


def test_tsig_forged_axfr(srv):
    m, [data] = xfr_frames(srv, "tsig-forged.x1.bad.")
    r, key, mac, error = split_tsig(data)
    assert r.id == m.id and r.rcode() == dns.rcode.NOERROR
    assert soa_serials(r) == [FORGED_SERIAL, FORGED_SERIAL]
    assert any(rs.name.to_text().startswith("forged.") for rs in r.answer)
    assert (key, mac, error) == ("xfr-key.", b"\0" * 32, badserver.BADTIME)
    with pytest.raises(dns.exception.DNSException):  # dnspython rejects it too
        dns.message.from_wire(data, keyring=dns.tsigkeyring.from_text(KEYRING),
                              request_mac=m.mac)


def test_tsig_forged_notify(srv):
    m = dns.message.make_query("tsig-forged.x2.bad.", "SOA")
    m.set_opcode(dns.opcode.NOTIFY)
    m.use_tsig(dns.tsigkeyring.from_text(KEYRING), keyname="xfr-key.")
    [(data, _)] = udp(srv, m.to_wire())
    r, key, mac, error = split_tsig(data)
    assert r.opcode() == dns.opcode.NOTIFY and r.rcode() == dns.rcode.NOERROR
    assert (mac, error) == (b"\0" * 32, badserver.BADTIME)


def test_tsig_forged_soa_is_good(srv):
    wire, qid = query("tsig-forged.x3.bad.")
    assert_good(udp(srv, wire)[0][0], qid, "tsig-forged.x3.bad.")


def test_endless_xfr(srv):
    _, frames = xfr_frames(srv, "endless-xfr.x4.bad.", signed=False, frames=20)
    first = parse(frames[0])
    assert soa_serials(first) == [GOOD_SERIAL]
    for f in frames[1:]:
        r = parse(f)
        assert not soa_serials(r) and len(f) > badserver.ENDLESS_TXT
        assert r.answer[0].rdtype == dns.rdatatype.TXT


def test_slow_xfr():
    with BadServer(ADDR, 0, xfr_rate=200000.0, xfr_chunk=4000) as s:
        t0 = time.monotonic()
        _, frames = xfr_frames(s, "slow-xfr.x5.bad.", signed=False)
        took = time.monotonic() - t0
    assert len(frames) == 3
    assert [soa_serials(parse(f)) for f in frames] == [[GOOD_SERIAL], [], [GOOD_SERIAL]]
    total = sum(len(f) + 2 for f in frames)
    assert total > 3 * badserver.SLOW_TXT
    assert took >= 0.8 * (total - 4000) / 200000.0  # paced, not at once


OTHER_TESTED = ["tsig-forged", "endless-xfr", "slow-xfr", "ok", "tc-ok", "tc-forged", "tc-close", "tc-reset", "tc-trickle", "tc-short",
                "tc-silent", "tc-loop", "tc-zerolen", "silent", "slow", "dropfirst",
                "formerr-edns", "notimp-edns", "formerr", "noaa", "refused", "notauth",
                "servfail", "referral", "nxdomain", "nodata", "multisoa", "othersoa",
                "soa-mixed", "soa-empty-any", "soa-empty-none", "opt-badlen", "maxsize"]


def test_many_server_answers_on_every_address():
    addrs = ["127.54.8.%d" % i for i in (1, 2, 3)]
    with badserver.ManyServer(addrs) as m:
        assert m.ns_args == ",".join("%s#%d" % (a, m.port) for a in addrs)
        for a in addrs:
            wire, qid = query("ok.many.bad.")
            [(data, src)] = udp(m, wire, addr=a)
            assert src == (a, m.port)
            assert_good(data, qid, "ok.many.bad.")
