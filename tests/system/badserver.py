#!/usr/bin/python3
"""badserver -- a scripted, misbehaving DNS server for soasync system tests.

One server answers for many zones; the **zone name selects the behaviour**.
The behaviour is the leftmost label of the query name that is a behaviour
name below; everything to its right is a free suffix (tests use e.g.
``wrongid.bad.`` or ``wrongid.t1.bad.`` to keep their query logs apart), and
everything to its left makes the name a name *inside* that zone.

Behaviours apply to queries of type SOA for the zone apex (``silent`` ignores
every query).  Other types at the apex get a plain answer (NS -> ``ns1.<zone>``,
anything else -> NODATA); names below the apex get NXDOMAIN, except
``ns1.<zone>`` A/AAAA -> the server's address.  CHAOS TXT ``version.bind`` /
``version.server`` answer ``version`` and ``hostname.bind`` / ``id.server``
answer ``identity`` (REFUSED when set to None).  An EDNS query gets an OPT RR
back (with NSID when it asked for one) unless the behaviour says otherwise.
Unknown zones: REFUSED.  Queries with QR=1 are ignored; other unparsable
queries of 12+ bytes get a header-only FORMERR.

House rule: **serial 666 is always a value a correct client must not trust**,
serial 100 (``serial=``) is the real one.  Good answers use name compression
(owner = pointer to the question name), like real servers.

Forgery family (each ``X`` also exists as ``X-only``): ``X`` sends the bad
packet(s) at once and the correct answer (AA, serial 100) ``delay`` later from
the right address; ``X-only`` sends just the bad packet(s).  Over TCP the same
packets are sent as length-prefixed messages on the connection (packets "from
another address" are skipped there).

Correct conclusion for ``X``: serial 100.  For ``X-only``: no answer at all,
i.e. a timeout / error, serial unknown (never 666).

==============  ===========================================================
zone label      bad packet sent first (forgery family)
==============  ===========================================================
wrongid         right question, ID+1, AA, serial 666
wrongqname      right ID, question name ``forged.<zone>``, SOA 666
wrongqtype      right ID, question type A instead of SOA, SOA 666
wrongqclass     right ID, question class CH instead of IN, SOA 666
noquestion      right ID, QDCOUNT=0, SOA 666
qr0             right ID/question but QR=0 (looks like a query), SOA 666
otheraddr       perfect-looking SOA 666 sent from ANOTHER address
                (``alt_addr``, same port; on IPv6 with no alt address:
                from another port) to the client's address/port
otherport       perfect-looking SOA 666 sent from the server address but
                another source port
ptr-self        answer owner name is a pointer to itself
ptr-loop        two names pointing at each other (owner -> MNAME -> owner)
ptr-forward     answer owner is a pointer to offset 0x3fff (past the end)
ptr-header      answer owner is a pointer to offset 2 (into the header;
                0x84.. is an invalid label type there)
ptr-question    the question name is a pointer to itself
label-ext       answer owner starts with extended label type 0x41
name-toolong    answer owner is a 1000+ octet name (16 labels of 63)
cut-header      first 7 bytes of a SOA 666 answer (cut mid-header)
cut-question    header + half of the question
cut-rr          header + question + 18 bytes of the SOA RR (cut mid-RR)
garbage         200 pseudo-random bytes (seeded by the ID) starting with
                the right ID and QR=1
zeros           64 zero bytes
onebyte         a 1-byte datagram
empty           a 0-byte datagram (over TCP: a zero length prefix)
count-high      SOA 666 answer with ANCOUNT=3 but one RR present
count-high-ar   SOA 666 answer with ARCOUNT 2 higher than present
rdlen-short     SOA 666 RR whose RDLENGTH is 10 (rdata is longer)
rdlen-long      SOA 666 RR whose RDLENGTH is 65535 (past the end)
soa-short       SOA 666 RR whose rdata stops after SERIAL+REFRESH
opt-overrun     SOA 666 answer + OPT whose RDLENGTH runs past the end
==============  ===========================================================

Other behaviours:

==================  ======================================  ====================
zone label          what happens                            a correct client
                                                            concludes
==================  ======================================  ====================
ok                  AA answer, SOA serial ``serial`` (100)  serial 100
serial-N            AA answer with SOA serial N             serial N (0, 2^31
                    (0 <= N < 2^32, e.g. serial-0,          and 2^32-1 are the
                    serial-2147483648, serial-4294967295)   edge cases)
tc-ok               UDP: TC=1, AA, empty; TCP: full answer  serial 100 via TCP
tc-forged           UDP: TC=1 carrying SOA 666; TCP: full   serial 100 via TCP
                    answer (serial 100)                     (ignore TC data)
tc-close            UDP: TC=1; TCP: reads the query and     error, serial
                    closes at once (FIN), no answer         unknown
tc-reset            UDP: TC=1; TCP: reads the query and     error, serial
                    resets the connection (RST)             unknown
tc-trickle          UDP: TC=1; TCP: the answer one byte     timeout (must be cut
                    per ``trickle_interval`` (0.25 s)       off by the client)
tc-short            UDP: TC=1; TCP: length prefix 256 more  timeout
                    than the bytes that follow, then stalls
tc-silent           UDP: TC=1; TCP: reads, never answers    timeout
tc-loop             TC=1 and no answer on UDP *and* TCP     error, no endless
                                                            UDP/TCP loop
tc-zerolen          UDP: TC=1; TCP: a 0-length message,     serial 100 or error,
                    then the full answer                    never 666
silent              never answers (UDP); TCP: accepts,      timeout
                    reads, never answers
slow                correct answer after ``slow_delay``     timeout when the
                    (2 s) on UDP and TCP                    client's is shorter
dropfirst           drops the 1st, 3rd, ... UDP query for   serial 100 if it
                    the name, answers the others            retries
formerr-edns        FORMERR (no OPT) if the query has an    serial 100 after a
                    OPT RR, normal answer without EDNS      retry without EDNS
notimp-edns         the same with NOTIMP                    serial 100
formerr             FORMERR to everything                   error, serial unknown
noaa                answer with AA=0, SOA 666               not authoritative
refused             REFUSED, AA=0                           not authoritative
notauth             NOTAUTH (rcode 9), AA=0                 not authoritative
servfail            SERVFAIL                                servfail
referral            NOERROR, AA=0, NS ns1/ns2.elsewhere.    not authoritative
                    invalid. in authority (a referral)
nxdomain            AA, NXDOMAIN, parent SOA 666 in auth.   error, serial unknown
nodata              AA, NOERROR, empty answer, SOA 666 in   error, serial unknown
                    authority
multisoa            AA, two SOAs for the zone: 100 then 666 100 or reject, never
                                                            666
othersoa            AA, answer = SOA of other-zone.invalid.  no valid answer
                    (serial 666) only
soa-mixed           AA, answer = other zone's SOA 666 and   serial 100 (or
                    then the zone's SOA 100                 reject), never 666
soa-empty-any       AA, answer = the zone's SOA in class    no valid answer
                    ANY with empty rdata (legal in UPDATE,  (reading a serial
                    so parsers take it)                     overruns the rdata)
soa-empty-none      the same in class NONE                  no valid answer
opt-badlen          SOA 100 + OPT whose NSID option claims  100 or reject; must
                    200 bytes but 9 follow (RR consistent)  not read past
maxsize             valid SOA 100 answer padded with a TXT  100 or drop; must
                    RR to 65507 bytes (65527 on IPv6),       not overflow
                    ignoring the client's EDNS size
==================  ======================================  ====================

Transfers and NOTIFY: these behaviours answer SOA queries like ``ok`` and
script what an AXFR or IXFR over TCP, or a NOTIFY, of the zone gets (other
behaviours answer AXFR/IXFR with NODATA and NOTIFY with NOTIMP):

==================  ======================================  ====================
zone label          what happens                            a correct client
                                                            concludes
==================  ======================================  ====================
tsig-forged         NOERROR with a whole zone (SOA 666,     an error answer: no
                    forged.<zone> A 192.0.2.66) and a TSIG  data, not signed,
                    record for the query's key with error   not acknowledged
                    BADTIME and an all-zero MAC; NOTIFY:
                    NOERROR with that TSIG record
endless-xfr         the SOA, then one 64 KB TXT record per  transfer too large,
                    message without end                     memory bounded
slow-xfr            a valid zone (SOA 100, NS, A, TXT       the zone: a steady
                    t1/t2/t3 of 60 KB, one per message),    link is no time-out
                    ``xfr_chunk`` bytes at a time at
                    ``xfr_rate`` (30 KB/s): about 6 s
==================  ======================================  ====================

Library use::

    with BadServer("127.54.0.1", 0) as srv:       # port 0: pick a free port
        ...  srv.port, srv.ns_arg ("127.54.0.1#port"), srv.queries ...

CLI::

    /usr/bin/python3 tests/system/badserver.py --addr 127.54.0.1 --port 5300

prints ``ready`` on stdout once listening (UDP+TCP), stops on SIGTERM/SIGINT.
``--list`` prints the behaviour names, ``-v`` logs each query to stderr.
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import itertools
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

# --------------------------------------------------------------------------
# wire constants

T_A, T_NS, T_SOA, T_TXT, T_AAAA, T_OPT, T_ANY = 1, 2, 6, 16, 28, 41, 255
T_TSIG, T_IXFR, T_AXFR = 250, 251, 252
OP_NOTIFY = 4
BADTIME = 18
C_IN, C_CH, C_NONE, C_ANY = 1, 3, 254, 255
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, NOTAUTH = 0, 1, 2, 3, 4, 5, 9
OPT_NSID = 3

F_QR, F_AA, F_TC, F_RD, F_RA = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080

GOOD_SERIAL = 100
FORGED_SERIAL = 666


class WireError(ValueError):
    """Malformed DNS wire data."""


# --------------------------------------------------------------------------
# raw wire helpers (no dnspython: we need to produce what it would refuse)


def name_labels(text: str) -> list[bytes]:
    """'a.b.' -> [b'a', b'b'] (no escapes)."""
    return [l.encode("ascii") for l in text.strip(".").split(".") if l]


def labels_text(labels) -> str:
    return "".join(l.decode("latin-1") + "." for l in labels) or "."


def encode_name(labels) -> bytes:
    """Uncompressed wire form; labels may be str text or a list of bytes."""
    if isinstance(labels, str):
        labels = name_labels(labels)
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\x00"


def ptr(offset: int) -> bytes:
    """A compression pointer to offset (0..0x3fff)."""
    return struct.pack("!H", 0xC000 | (offset & 0x3FFF))


def read_name(data: bytes, off: int, max_hops: int = 128):
    """Decode a (possibly compressed) name. Returns (labels, offset after it).

    Strict: rejects loops, pointers past the end, bad label types and names
    longer than 255 octets."""
    labels: list[bytes] = []
    end = None
    hops = 0
    total = 1
    while True:
        if off >= len(data):
            raise WireError("name runs past the end")
        n = data[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(data):
                raise WireError("cut pointer")
            target = ((n & 0x3F) << 8) | data[off + 1]
            if end is None:
                end = off + 2
            hops += 1
            if hops > max_hops or target >= len(data):
                raise WireError("pointer loop or pointer past the end")
            off = target
            continue
        if n & 0xC0:
            raise WireError("bad label type 0x%02x" % n)
        if n == 0:
            return labels, (end if end is not None else off + 1)
        if off + 1 + n > len(data):
            raise WireError("label runs past the end")
        labels.append(data[off + 1 : off + 1 + n])
        total += n + 1
        if total > 255:
            raise WireError("name longer than 255 octets")
        off += 1 + n


def header(id_: int, flags: int, qd=0, an=0, ns=0, ar=0) -> bytes:
    return struct.pack("!HHHHHH", id_ & 0xFFFF, flags & 0xFFFF, qd, an, ns, ar)


def rr(owner: bytes, rtype: int, rclass: int, ttl: int, rdata: bytes, rdlen=None) -> bytes:
    if rdlen is None:
        rdlen = len(rdata)
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, rdlen) + rdata


def soa_rdata(mname: bytes, rname: bytes, serial: int,
              refresh=7200, retry=3600, expire=1209600, minimum=300) -> bytes:
    return mname + rname + struct.pack("!IIIII", serial & 0xFFFFFFFF, refresh, retry, expire, minimum)


def opt_rr(payload=1232, options=(), ext_rcode=0, version=0, do=False, rdlen=None) -> bytes:
    rdata = b"".join(struct.pack("!HH", c, len(d)) + d for c, d in options)
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    return rr(b"\x00", T_OPT, payload, ttl, rdata, rdlen)


def txt_rdata_of_len(n: int) -> bytes:
    """TXT rdata of exactly n (>= 1) octets."""
    k, rem = divmod(n, 256)
    out = (b"\xff" + b"x" * 255) * k
    if rem:
        out += bytes([rem - 1]) + b"y" * (rem - 1)
    return out


# --------------------------------------------------------------------------
# queries


@dataclass
class Query:
    """One query as the server received it (also kept in BadServer.queries)."""

    transport: str  # 'udp' or 'tcp'
    client: tuple  # (address, port, ...)
    raw: bytes
    time: float = 0.0
    id: int = 0
    flags: int = 0
    qlabels: list = field(default_factory=list)
    qtype: int = 0
    qclass: int = 0
    edns: bool = False
    edns_payload: int = 0
    edns_version: int = 0
    do: bool = False
    options: list = field(default_factory=list)  # [(code, bytes)]
    tsig_name: Optional[list] = None  # the TSIG key name (labels) of a signed query
    tsig_alg: Optional[list] = None  # and its algorithm name
    error: Optional[str] = None

    @property
    def qname(self) -> str:
        return labels_text(self.qlabels)

    @property
    def rd(self) -> bool:
        return bool(self.flags & F_RD)

    @property
    def qr(self) -> bool:
        return bool(self.flags & F_QR)

    @property
    def opcode(self) -> int:
        return (self.flags >> 11) & 0xF

    @property
    def nsid_requested(self) -> bool:
        return any(c == OPT_NSID for c, _ in self.options)

    def __repr__(self):
        return "Query(%s %s#%s id=%d %s type=%d class=%d rd=%d edns=%s nsid=%s%s)" % (
            self.transport, self.client[0], self.client[1], self.id, self.qname,
            self.qtype, self.qclass, self.rd, self.edns, self.nsid_requested,
            " error=%r" % self.error if self.error else "")


def _skip_rr(data: bytes, off: int):
    _, off = read_name(data, off)
    if off + 10 > len(data):
        raise WireError("cut RR")
    rtype, rclass, ttl, rdlen = struct.unpack_from("!HHIH", data, off)
    off += 10
    if off + rdlen > len(data):
        raise WireError("rdata runs past the end")
    return rtype, rclass, ttl, data[off : off + rdlen], off + rdlen


def parse_query(data: bytes, transport: str, client) -> Query:
    """Parse a query; never raises (problems end up in .error)."""
    q = Query(transport, tuple(client), bytes(data), time.monotonic())
    try:
        if len(data) < 12:
            raise WireError("short header")
        q.id, q.flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", data, 0)
        if q.qr:
            raise WireError("QR=1 (not a query)")
        if qd != 1:
            raise WireError("QDCOUNT=%d" % qd)
        q.qlabels, off = read_name(data, 12)
        if off + 4 > len(data):
            raise WireError("cut question")
        q.qtype, q.qclass = struct.unpack_from("!HH", data, off)
        off += 4
        for _ in range(an + ns):
            off = _skip_rr(data, off)[4]
        for _ in range(ar):
            owner = read_name(data, off)[0]
            rtype, rclass, ttl, rdata, off = _skip_rr(data, off)
            if rtype == T_TSIG:
                q.tsig_name, q.tsig_alg = owner, read_name(rdata, 0)[0]
            if rtype == T_OPT:
                q.edns = True
                q.edns_payload = rclass
                q.edns_version = (ttl >> 16) & 0xFF
                q.do = bool(ttl & 0x8000)
                i = 0
                while i + 4 <= len(rdata):
                    code, olen = struct.unpack_from("!HH", rdata, i)
                    q.options.append((code, rdata[i + 4 : i + 4 + olen]))
                    i += 4 + olen
    except (WireError, struct.error) as e:
        q.error = str(e) or e.__class__.__name__
    return q


# --------------------------------------------------------------------------
# plans: what to send back


@dataclass
class Step:
    """One thing to do in reply.

    kind: 'msg'  a DNS message (UDP datagram / TCP length-prefixed message)
          'raw'  bytes as they are (TCP: no length prefix added)
          'trickle' (TCP) bytes one at a time, trickle_interval apart
          'close' / 'reset' (TCP) close with FIN / RST
          'hold' (TCP) keep the connection open, say nothing
    delay: seconds to wait before this step (after the previous one)
    via: 'main', 'alt' (other address) or 'altport' (same address, other
         port); TCP skips non-main messages."""

    kind: str
    data: bytes = b""
    delay: float = 0.0
    via: str = "main"


class Ctx:
    """Builds answers for one query to one behaviour zone."""

    def __init__(self, server: "BadServer", q: Query, zone_at: int):
        self.server = server
        self.q = q
        self.zone = q.qlabels[zone_at:]
        self.prefix = q.qlabels[:zone_at]

    @property
    def udp(self) -> bool:
        return self.q.transport == "udp"

    def qsec(self, labels=None, qtype=None, qclass=None) -> bytes:
        return encode_name(self.q.qlabels if labels is None else labels) + struct.pack(
            "!HH", self.q.qtype if qtype is None else qtype, self.q.qclass if qclass is None else qclass)

    def opt(self) -> bytes:
        s = self.server
        opts = [(OPT_NSID, s.nsid)] if (self.q.nsid_requested and s.nsid) else []
        return opt_rr(1232, opts)

    def soa_rr(self, serial: int, owner: Optional[bytes] = None, zone=None) -> bytes:
        """SOA RR; owner defaults to a pointer to the question name."""
        zone = self.zone if zone is None else zone
        if owner is None:
            owner = ptr(12)
        rdata = soa_rdata(encode_name([b"ns1"] + zone), encode_name([b"hostmaster"] + zone), serial)
        return rr(owner, T_SOA, C_IN, 3600, rdata)

    def response(self, *, id_=None, qr=True, aa=True, tc=False, rcode=NOERROR,
                 question: Optional[bytes] = None, an=(), ns=(), ar=(), edns=None,
                 counts: Optional[dict] = None) -> bytes:
        """A response; question=b'' omits it; counts overrides header counts."""
        q = self.q
        if question is None:
            question = self.qsec()
        if edns is None:
            edns = q.edns
        ar = list(ar) + ([self.opt()] if edns else [])
        flags = (F_QR if qr else 0) | (q.opcode << 11) | (F_AA if aa else 0) | \
            (F_TC if tc else 0) | (q.flags & F_RD) | (rcode & 0xF)
        c = {"qd": 1 if question else 0, "an": len(an), "ns": len(ns), "ar": len(ar)}
        c.update(counts or {})
        return header(q.id if id_ is None else id_, flags, **c) + question + \
            b"".join(an) + b"".join(ns) + b"".join(ar)

    def answer(self, serial: int, **kw) -> bytes:
        """An authoritative SOA answer (kw passed to response())."""
        return self.response(an=[self.soa_rr(serial)], **kw)

    def good(self, serial=None) -> bytes:
        return self.answer(self.server.serial if serial is None else serial)


# --------------------------------------------------------------------------
# behaviours


@dataclass
class Behavior:
    name: str
    does: str
    conclude: str
    handler: Callable[[Ctx], list]
    forgery: bool = False  # member of the forgery family (has an -only twin)
    other: Optional[Callable] = None  # AXFR, IXFR and NOTIFY at the apex (else: plain)


BEHAVIORS: dict[str, Behavior] = {}
FORGERIES: list[str] = []


def behavior(name, does, conclude):
    def deco(fn):
        BEHAVIORS[name] = Behavior(name, does, conclude, fn)
        return fn
    return deco


def forgery(name, does):
    """Register X (bad packet(s), then the good answer) and X-only."""
    def deco(fn):
        def with_good(c: Ctx):
            return fn(c) + [Step("msg", c.good(), delay=c.server.delay)]
        BEHAVIORS[name] = Behavior(name, does + "; then the correct answer",
                                   "serial %d" % GOOD_SERIAL, with_good, True)
        BEHAVIORS[name + "-only"] = Behavior(name + "-only", does + " only",
                                             "timeout/error, serial unknown", fn, True)
        FORGERIES.append(name)
        return fn
    return deco


def _msg(data, **kw):
    return [Step("msg", data, **kw)]


# --- forgeries: wrong identity -------------------------------------------

@forgery("wrongid", "SOA 666 with ID+1")
def _(c):
    return _msg(c.answer(FORGED_SERIAL, id_=c.q.id + 1))


@forgery("wrongqname", "SOA 666, right ID, question name forged.<zone>")
def _(c):
    return _msg(c.response(question=c.qsec([b"forged"] + c.zone),
                           an=[c.soa_rr(FORGED_SERIAL, owner=encode_name(c.zone))]))


@forgery("wrongqtype", "SOA 666, right ID, question type A")
def _(c):
    return _msg(c.response(question=c.qsec(qtype=T_A), an=[c.soa_rr(FORGED_SERIAL)]))


@forgery("wrongqclass", "SOA 666, right ID, question class CH")
def _(c):
    return _msg(c.response(question=c.qsec(qclass=C_CH), an=[c.soa_rr(FORGED_SERIAL)]))


@forgery("noquestion", "SOA 666, right ID, QDCOUNT=0")
def _(c):
    return _msg(c.response(question=b"", an=[c.soa_rr(FORGED_SERIAL, owner=encode_name(c.zone))]))


@forgery("qr0", "SOA 666, right ID, QR=0")
def _(c):
    return _msg(c.answer(FORGED_SERIAL, qr=False))


@forgery("otheraddr", "SOA 666 from another address")
def _(c):
    return _msg(c.answer(FORGED_SERIAL), via="alt")


@forgery("otherport", "SOA 666 from another source port")
def _(c):
    return _msg(c.answer(FORGED_SERIAL), via="altport")


# --- forgeries: compression / names ----------------------------------------

def _soa_owner(c: Ctx, owner: bytes, serial=FORGED_SERIAL) -> bytes:
    return c.response(an=[c.soa_rr(serial, owner=owner)])


@forgery("ptr-self", "answer owner is a pointer to itself")
def _(c):
    return _msg(_soa_owner(c, ptr(12 + len(c.qsec()))))


@forgery("ptr-loop", "owner and MNAME point at each other")
def _(c):
    x = 12 + len(c.qsec())  # owner offset
    y = x + 4 + 10  # rdata (MNAME) offset
    rdata = soa_rdata(b"\x01b" + ptr(x), encode_name([b"hostmaster"] + c.zone), FORGED_SERIAL)
    return _msg(c.response(an=[rr(b"\x01a" + ptr(y), T_SOA, C_IN, 3600, rdata)]))


@forgery("ptr-forward", "answer owner points to 0x3fff, past the end")
def _(c):
    return _msg(_soa_owner(c, ptr(0x3FFF)))


@forgery("ptr-header", "answer owner points into the header (offset 2)")
def _(c):
    return _msg(_soa_owner(c, ptr(2)))


@forgery("ptr-question", "question name is a pointer to itself")
def _(c):
    qsec = ptr(12) + struct.pack("!HH", c.q.qtype, c.q.qclass)
    return _msg(c.response(question=qsec, an=[c.soa_rr(FORGED_SERIAL, owner=encode_name(c.zone))]))


@forgery("label-ext", "answer owner with extended label type 0x41")
def _(c):
    return _msg(_soa_owner(c, b"\x41\x08\xaa" + encode_name(c.zone)))


@forgery("name-toolong", "answer owner of 1000+ octets")
def _(c):
    return _msg(_soa_owner(c, (b"\x3f" + b"a" * 63) * 16 + encode_name(c.zone)))


# --- forgeries: truncated packets and garbage -------------------------------

@forgery("cut-header", "7 bytes of a SOA 666 answer")
def _(c):
    return _msg(c.answer(FORGED_SERIAL)[:7])


@forgery("cut-question", "header + half the question")
def _(c):
    return _msg(c.answer(FORGED_SERIAL)[: 12 + max(1, len(encode_name(c.q.qlabels)) // 2)])


@forgery("cut-rr", "header + question + 18 bytes of the SOA RR")
def _(c):
    return _msg(c.answer(FORGED_SERIAL)[: 12 + len(c.qsec()) + 18])


@forgery("garbage", "200 random bytes with the right ID and QR=1")
def _(c):
    b = bytearray(random.Random(c.q.id).randbytes(200))
    b[0:2] = struct.pack("!H", c.q.id)
    b[2] |= 0x80
    return _msg(bytes(b))


@forgery("zeros", "64 zero bytes")
def _(c):
    return _msg(bytes(64))


@forgery("onebyte", "a 1-byte datagram")
def _(c):
    return _msg(bytes([c.q.id >> 8]))


@forgery("empty", "a 0-byte datagram")
def _(c):
    return _msg(b"")


# --- forgeries: inconsistent structure ---------------------------------------

@forgery("count-high", "SOA 666 answer with ANCOUNT=3, one RR present")
def _(c):
    return _msg(c.answer(FORGED_SERIAL, counts={"an": 3}))


@forgery("count-high-ar", "SOA 666 answer with ARCOUNT 2 too high")
def _(c):
    return _msg(c.answer(FORGED_SERIAL, counts={"ar": int(c.q.edns) + 2}))


def _soa_rdlen(c: Ctx, rdlen: int) -> bytes:
    rdata = soa_rdata(encode_name([b"ns1"] + c.zone), encode_name([b"hostmaster"] + c.zone), FORGED_SERIAL)
    return c.response(an=[rr(ptr(12), T_SOA, C_IN, 3600, rdata, rdlen=rdlen)])


@forgery("rdlen-short", "SOA 666 RR with RDLENGTH=10")
def _(c):
    return _msg(_soa_rdlen(c, 10))


@forgery("rdlen-long", "SOA 666 RR with RDLENGTH=65535")
def _(c):
    return _msg(_soa_rdlen(c, 0xFFFF))


@forgery("soa-short", "SOA 666 RR whose rdata ends after SERIAL+REFRESH")
def _(c):
    rdata = encode_name([b"ns1"] + c.zone) + encode_name([b"hostmaster"] + c.zone) + \
        struct.pack("!II", FORGED_SERIAL, 7200)
    return _msg(c.response(an=[rr(ptr(12), T_SOA, C_IN, 3600, rdata)]))


@forgery("opt-overrun", "SOA 666 answer + OPT with RDLENGTH past the end")
def _(c):
    bad_opt = opt_rr(1232, [(OPT_NSID, b"")], rdlen=200)
    return _msg(c.answer(FORGED_SERIAL, edns=False, ar=[bad_opt]))


# --- baseline / serials --------------------------------------------------------

@behavior("ok", "AA answer, SOA serial `serial` (100)", "serial 100")
def _(c):
    return _msg(c.good())


SERIAL_RE = re.compile(r"^serial-(\d{1,10})$")


def _serial_n(c: Ctx, n: int):
    return _msg(c.good(n))


# --- truncation and TCP --------------------------------------------------------

def _tc(c: Ctx, tcp_steps: list, udp_serial=None):
    if c.udp:
        an = [c.soa_rr(udp_serial)] if udp_serial is not None else []
        return _msg(c.response(tc=True, an=an))
    return tcp_steps


@behavior("tc-ok", "UDP TC=1 empty; TCP full answer", "serial 100 via TCP")
def _(c):
    return _tc(c, _msg(c.good()))


@behavior("tc-forged", "UDP TC=1 with SOA 666; TCP full answer", "serial 100 via TCP")
def _(c):
    return _tc(c, _msg(c.good()), udp_serial=FORGED_SERIAL)


@behavior("tc-close", "UDP TC=1; TCP closes (FIN) after reading", "error")
def _(c):
    return _tc(c, [Step("close")])


@behavior("tc-reset", "UDP TC=1; TCP resets (RST) after reading", "error")
def _(c):
    return _tc(c, [Step("reset")])


@behavior("tc-trickle", "UDP TC=1; TCP answer one byte per trickle_interval", "timeout")
def _(c):
    g = c.good()
    return _tc(c, [Step("trickle", struct.pack("!H", len(g)) + g), Step("hold")])


@behavior("tc-short", "UDP TC=1; TCP length prefix too big, then stall", "timeout")
def _(c):
    g = c.good()
    return _tc(c, [Step("raw", struct.pack("!H", len(g) + 256) + g), Step("hold")])


@behavior("tc-silent", "UDP TC=1; TCP reads and never answers", "timeout")
def _(c):
    return _tc(c, [Step("hold")])


@behavior("tc-loop", "TC=1, no answer, on UDP and TCP", "error, no loop")
def _(c):
    return _msg(c.response(tc=True))


@behavior("tc-zerolen", "UDP TC=1; TCP 0-length message then the answer", "100 or error")
def _(c):
    return _tc(c, [Step("raw", b"\x00\x00"), Step("msg", c.good())])


# --- silence and timing --------------------------------------------------------

@behavior("silent", "never answers; TCP reads and holds", "timeout")
def _(c):
    return [] if c.udp else [Step("hold")]


@behavior("slow", "correct answer after slow_delay", "timeout if shorter")
def _(c):
    return _msg(c.good(), delay=c.server.slow_delay)


@behavior("dropfirst", "drops odd-numbered UDP queries per name", "serial 100 on retry")
def _(c):
    if c.udp:
        n = c.server._count(("dropfirst", c.q.qname.lower()))
        if n % 2 == 1:
            return []
    return _msg(c.good())


# --- EDNS intolerance ---------------------------------------------------------------

@behavior("formerr-edns", "FORMERR to EDNS queries, answer otherwise", "serial 100 without EDNS")
def _(c):
    if c.q.edns:
        return _msg(c.response(rcode=FORMERR, aa=False, edns=False))
    return _msg(c.good())


@behavior("notimp-edns", "NOTIMP to EDNS queries, answer otherwise", "serial 100 without EDNS")
def _(c):
    if c.q.edns:
        return _msg(c.response(rcode=NOTIMP, aa=False, edns=False))
    return _msg(c.good())


@behavior("formerr", "FORMERR to everything", "error")
def _(c):
    return _msg(c.response(rcode=FORMERR, aa=False, edns=False))


# --- not authoritative / errors ------------------------------------------------

@behavior("noaa", "AA=0 answer, SOA 666", "not authoritative")
def _(c):
    return _msg(c.answer(FORGED_SERIAL, aa=False))


@behavior("refused", "REFUSED", "not authoritative")
def _(c):
    return _msg(c.response(rcode=REFUSED, aa=False))


@behavior("notauth", "NOTAUTH", "not authoritative")
def _(c):
    return _msg(c.response(rcode=NOTAUTH, aa=False))


@behavior("servfail", "SERVFAIL", "servfail")
def _(c):
    return _msg(c.response(rcode=SERVFAIL, aa=False))


@behavior("referral", "AA=0 referral to ns1/ns2.elsewhere.invalid.", "not authoritative")
def _(c):
    ns = [rr(ptr(12), T_NS, C_IN, 86400, encode_name([n, b"elsewhere", b"invalid"]))
          for n in (b"ns1", b"ns2")]
    return _msg(c.response(aa=False, ns=ns))


@behavior("nxdomain", "AA NXDOMAIN, parent SOA 666 in authority", "error")
def _(c):
    parent = c.zone[1:]
    return _msg(c.response(rcode=NXDOMAIN, ns=[c.soa_rr(FORGED_SERIAL, owner=encode_name(parent), zone=parent)]))


@behavior("nodata", "AA NOERROR empty answer, SOA 666 in authority", "error")
def _(c):
    return _msg(c.response(ns=[c.soa_rr(FORGED_SERIAL)]))


# --- odd SOA sets ---------------------------------------------------------------------

OTHER_ZONE = [b"other-zone", b"invalid"]


@behavior("multisoa", "two SOAs: 100 then 666", "100 or reject, never 666")
def _(c):
    return _msg(c.response(an=[c.soa_rr(GOOD_SERIAL), c.soa_rr(FORGED_SERIAL)]))


@behavior("othersoa", "answer is other-zone.invalid. SOA 666", "no valid answer")
def _(c):
    return _msg(c.response(an=[c.soa_rr(FORGED_SERIAL, owner=encode_name(OTHER_ZONE), zone=OTHER_ZONE)]))


@behavior("soa-mixed", "other zone's SOA 666, then the zone's SOA 100", "100 (or reject), never 666")
def _(c):
    return _msg(c.response(an=[c.soa_rr(FORGED_SERIAL, owner=encode_name(OTHER_ZONE), zone=OTHER_ZONE),
                               c.soa_rr(GOOD_SERIAL)]))


@behavior("soa-empty-any", "the zone's SOA in class ANY with empty rdata", "no valid answer")
def _(c):
    return _msg(c.response(an=[rr(ptr(12), T_SOA, C_ANY, 3600, b"")]))


@behavior("soa-empty-none", "the zone's SOA in class NONE with empty rdata", "no valid answer")
def _(c):
    return _msg(c.response(an=[rr(ptr(12), T_SOA, C_NONE, 3600, b"")]))


# --- EDNS option damage and size ------------------------------------------------------

@behavior("opt-badlen", "SOA 100 + OPT whose NSID option length (200) overruns", "100 or reject")
def _(c):
    nsid = b"badserver"
    bad = b"\x00" + struct.pack("!HHIH", T_OPT, 1232, 0, 4 + len(nsid)) + struct.pack("!HH", OPT_NSID, 200) + nsid
    return _msg(c.response(an=[c.soa_rr(c.server.serial)], ar=[bad], edns=False))


@behavior("maxsize", "SOA 100 padded to the maximum UDP size", "100 or drop")
def _(c):
    target = c.server.max_udp
    soa = c.soa_rr(c.server.serial)
    opt = [c.opt()] if c.q.edns else []
    fixed = 12 + len(c.qsec()) + len(soa) + sum(map(len, opt)) + 2 + 10
    txt = rr(ptr(12), T_TXT, C_IN, 3600, txt_rdata_of_len(target - fixed))
    return _msg(c.response(an=[soa], ar=[txt] + opt, edns=False))


# --- transfers and NOTIFY ---------------------------------------------------------------

def transfer_behavior(name, does, conclude):
    """A behaviour whose SOA answers are good and whose AXFR, IXFR and NOTIFY
    answers the decorated function scripts (it may return a generator of
    steps: an endless transfer)."""
    def deco(fn):
        BEHAVIORS[name] = Behavior(name, does, conclude, lambda c: _msg(c.good()), other=fn)
        return fn
    return deco


TSIG_MAC_SIZES = {"hmac-md5.sig-alg.reg.int.": 16, "hmac-sha1.": 20, "hmac-sha224.": 28,
                  "hmac-sha256.": 32, "hmac-sha384.": 48, "hmac-sha512.": 64}


def forged_tsig(c: Ctx, error=BADTIME) -> bytes:
    """A TSIG RR for the query's key carrying `error` and an all-zero MAC of
    the algorithm's size: what a server without the key (or a forger) sends."""
    name = c.q.tsig_name or name_labels("forged-key.")
    alg = c.q.tsig_alg or name_labels("hmac-sha256.")
    now = int(time.time())
    t48 = struct.pack("!HI", now >> 32, now & 0xFFFFFFFF)
    mac = b"\0" * TSIG_MAC_SIZES.get(labels_text(alg).lower(), 32)
    rdata = (encode_name(alg) + t48 + struct.pack("!HH", 300, len(mac)) + mac +
             struct.pack("!HHH", c.q.id, error, 6) + t48)
    return rr(encode_name(name), T_TSIG, C_ANY, 0, rdata)


def zone_body(c: Ctx, *extra) -> list:
    """The records of a small zone between its SOAs: NS, the name server's
    address, and the extra RRs."""
    ns1 = encode_name([b"ns1"] + c.zone)
    ip = ipaddress.ip_address(c.server.addr)
    return [rr(ptr(12), T_NS, C_IN, 3600, ns1),
            rr(ns1, T_A if ip.version == 4 else T_AAAA, C_IN, 3600, ip.packed), *extra]


def _axfr_messages(c: Ctx, bodies: list, serial=GOOD_SERIAL) -> list:
    """One message per body (a list of RRs), the first opening with the SOA,
    the last closing with it."""
    msgs = []
    for i, body in enumerate(bodies):
        an = ([c.soa_rr(serial)] if i == 0 else []) + body + \
            ([c.soa_rr(serial)] if i == len(bodies) - 1 else [])
        msgs.append(c.response(an=an, edns=False))
    return msgs


@transfer_behavior("tsig-forged", "AXFR/IXFR/NOTIFY: NOERROR, a whole zone (SOA 666, "
                   "forged.<zone> A 192.0.2.66), TSIG error BADTIME, all-zero MAC",
                   "an error answer: never data, never signed, never an acknowledgement")
def _(c):
    tsig = forged_tsig(c)
    if c.q.opcode == OP_NOTIFY:
        return _msg(c.response(ar=[tsig], edns=False))
    forged = rr(encode_name([b"forged"] + c.zone), T_A, C_IN, 3600, bytes([192, 0, 2, 66]))
    an = [c.soa_rr(FORGED_SERIAL)] + zone_body(c, forged) + [c.soa_rr(FORGED_SERIAL)]
    return _msg(c.response(an=an, ar=[tsig], edns=False))


ENDLESS_TXT = 65000  # TXT rdata octets per message of the endless transfer


@transfer_behavior("endless-xfr", "AXFR/IXFR: the SOA, then one 64 KB TXT record per "
                   "message, without end", "transfer-too-large, memory bounded")
def _(c):
    if c.udp or c.q.opcode != 0:
        return []
    return _endless(c)


def _endless(c: Ctx):
    yield Step("msg", c.response(an=[c.soa_rr(GOOD_SERIAL)], edns=False))
    txt = txt_rdata_of_len(ENDLESS_TXT)
    for n in itertools.count():
        owner = encode_name([b"r%d" % n] + c.zone)
        yield Step("msg", c.response(an=[rr(owner, T_TXT, C_IN, 3600, txt)], edns=False))


SLOW_TXT = 60000  # TXT rdata octets in each of the three messages of slow-xfr


def slow_xfr_records(c: Ctx) -> list:
    """The three TXT records of slow-xfr (t1, t2, t3.<zone>), one per message."""
    txt = txt_rdata_of_len(SLOW_TXT)
    return [rr(encode_name([b"t%d" % i] + c.zone), T_TXT, C_IN, 3600, txt) for i in (1, 2, 3)]


@transfer_behavior("slow-xfr", "AXFR/IXFR: a valid zone in three 60 KB messages, sent "
                   "xfr_chunk bytes at a time at xfr_rate (30 KB/s)",
                   "the zone: a slow but steady link is no time-out")
def _(c):
    if c.udp or c.q.opcode != 0:
        return []
    recs = slow_xfr_records(c)
    bodies = [zone_body(c, recs[0]), [recs[1]], [recs[2]]]
    data = b"".join(struct.pack("!H", len(m)) + m for m in _axfr_messages(c, bodies))
    n, gap = c.server.xfr_chunk, c.server.xfr_chunk / c.server.xfr_rate
    return [Step("raw", data[i:i + n], delay=gap if i else 0.0) for i in range(0, len(data), n)]


# --------------------------------------------------------------------------
# the server


def lookup_behavior(label: bytes):
    """Behaviour for a label, or None."""
    try:
        name = label.decode("ascii").lower()
    except UnicodeDecodeError:
        return None
    if name in BEHAVIORS:
        return BEHAVIORS[name]
    m = SERIAL_RE.match(name)
    if m and int(m.group(1)) <= 0xFFFFFFFF:
        n = int(m.group(1))
        return Behavior(name, "serial %d" % n, "serial %d" % n, lambda c: _serial_n(c, n))
    return None


def _default_alt(addr: str):
    ip = ipaddress.ip_address(addr)
    if ip.version == 4 and ip.is_loopback:
        last = int(ip) & 0xFF
        return str(ipaddress.ip_address(int(ip) + (1 if last < 254 else -1)))
    return None


class BadServer:
    """The misbehaving server; a context manager (start() / stop()).

    Attributes after start(): port, alt_addr (None if unused), alt_port,
    queries (list of Query, a copy), ns_arg ("addr#port")."""

    def __init__(self, addr: str = "127.54.0.1", port: int = 0, *, alt_addr="auto",
                 serial: int = GOOD_SERIAL, delay: float = 0.03, trickle_interval: float = 0.25,
                 slow_delay: float = 2.0, hold_max: float = 60.0,
                 xfr_rate: float = 30000.0, xfr_chunk: int = 1500,
                 version: Optional[str] = "badserver 1.0", identity: Optional[str] = "badserver",
                 nsid: bytes = b"badserver", log=None):
        self.addr = addr
        self.port = port
        self.alt_addr = _default_alt(addr) if alt_addr == "auto" else alt_addr
        self.alt_port = None
        self.serial = serial
        self.delay = delay
        self.trickle_interval = trickle_interval
        self.slow_delay = slow_delay
        self.hold_max = hold_max
        self.xfr_rate = xfr_rate  # slow-xfr: bytes per second
        self.xfr_chunk = xfr_chunk  # slow-xfr: bytes per write
        self.version = version
        self.identity = identity
        self.nsid = nsid
        self.log = log
        self.family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.max_udp = 65527 if self.family == socket.AF_INET6 else 65507
        self._queries: list[Query] = []
        self._lock = threading.Lock()
        self._counters: dict = {}
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._heap: list = []
        self._seq = itertools.count()
        self._threads: list[threading.Thread] = []
        self._conns: set = set()
        self._socks: dict = {}
        self.tcp_connections = 0
        self.started = False

    # -- public ----------------------------------------------------------

    @property
    def ns_arg(self) -> str:
        return "%s#%d" % (self.addr, self.port)

    @property
    def queries(self) -> list:
        with self._lock:
            return list(self._queries)

    def queries_for(self, qname: str, transport=None) -> list:
        want = qname.lower().rstrip(".") + "."
        return [q for q in self.queries
                if q.qname.lower() == want and (transport is None or q.transport == transport)]

    def clear_queries(self):
        with self._lock:
            self._queries.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self) -> "BadServer":
        self._bind()
        for target in (self._udp_loop, self._tcp_loop, self._sched_loop):
            t = threading.Thread(target=target, daemon=True, name="badserver-" + target.__name__)
            t.start()
            self._threads.append(t)
        self.started = True
        return self

    def stop(self):
        if self._stop.is_set():
            return
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for t in list(self._threads):
            t.join(timeout=2)
        for s in self._socks.values():
            try:
                s.close()
            except OSError:
                pass

    # -- internals ---------------------------------------------------------

    def _log(self, msg):
        if self.log:
            print("badserver: " + msg, file=self.log, flush=True)

    def _count(self, key) -> int:
        with self._lock:
            self._counters[key] = self._counters.get(key, 0) + 1
            return self._counters[key]

    def _bind(self):
        fam = self.family
        for _ in range(50):
            udp = socket.socket(fam, socket.SOCK_DGRAM)
            udp.bind((self.addr, self.port))
            port = udp.getsockname()[1]
            tcp = socket.socket(fam, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.addr, port))
            except OSError:
                udp.close()
                tcp.close()
                if self.port:
                    raise
                continue
            break
        else:
            raise OSError("badserver: no port free for UDP+TCP on %s" % self.addr)
        tcp.listen(64)
        self.port = port
        udp.settimeout(0.05)
        tcp.settimeout(0.05)
        self._socks = {"main": udp, "tcp": tcp}
        ap = socket.socket(fam, socket.SOCK_DGRAM)
        ap.bind((self.addr, 0))
        self._socks["altport"] = ap
        if self.alt_addr:
            alt = socket.socket(fam, socket.SOCK_DGRAM)
            try:
                alt.bind((self.alt_addr, port))
            except OSError:
                alt.bind((self.alt_addr, 0))
            self.alt_port = alt.getsockname()[1]
            self._socks["alt"] = alt
        else:
            self._socks["alt"] = ap
            self.alt_port = ap.getsockname()[1]
        self._log("listening on %s#%d udp+tcp, other address %s#%d" % (
            self.addr, port, self.alt_addr or self.addr, self.alt_port))

    def _record(self, q: Query):
        with self._lock:
            self._queries.append(q)
        self._log(repr(q))

    def plan(self, q: Query) -> list:
        """Steps to answer q (public for tests that want to look at bytes)."""
        if q.error:
            if q.qr or len(q.raw) < 12:
                return []
            flags = F_QR | (q.flags & 0x7900) | FORMERR  # opcode + RD echoed
            return _msg(header(q.id, flags))
        scripted = self._transfer_or_notify(q)
        if scripted is not None:
            return scripted
        if q.opcode != 0:
            return _msg(Ctx(self, q, 0).response(rcode=NOTIMP, aa=False))
        if q.qclass == C_CH:
            return self._chaos(q)
        if q.qclass not in (C_IN, C_ANY):
            return _msg(Ctx(self, q, 0).response(rcode=REFUSED, aa=False))
        for i, label in enumerate(q.qlabels):
            b = lookup_behavior(label)
            if b:
                c = Ctx(self, q, i)
                if b.name == "silent":
                    return b.handler(c)
                if c.prefix:
                    return self._below(c)
                if q.qtype != T_SOA:
                    return self._apex_other(c)
                return b.handler(c)
        return _msg(Ctx(self, q, 0).response(rcode=REFUSED, aa=False))

    def _transfer_or_notify(self, q: Query):
        """Steps for an AXFR, IXFR or NOTIFY of a zone whose behaviour scripts
        them (Behavior.other), else None."""
        if q.qclass != C_IN or not (q.opcode == OP_NOTIFY or
                                    (q.opcode == 0 and q.qtype in (T_AXFR, T_IXFR))):
            return None
        b = lookup_behavior(q.qlabels[0]) if q.qlabels else None
        return b.other(Ctx(self, q, 0)) if b is not None and b.other else None

    def _chaos(self, q: Query):
        c = Ctx(self, q, 0)
        names = {"version.bind.": self.version, "version.server.": self.version,
                 "hostname.bind.": self.identity, "id.server.": self.identity}
        name = q.qname.lower()
        if names.get(name) is None:  # unknown name, or answer switched off
            return _msg(c.response(rcode=REFUSED, aa=False))
        if q.qtype not in (T_TXT, T_ANY):
            return _msg(c.response())
        v = names[name].encode("utf-8")[:255]
        return _msg(c.response(an=[rr(ptr(12), T_TXT, C_CH, 0, bytes([len(v)]) + v)]))

    def _apex_other(self, c: Ctx):
        if c.q.qtype == T_NS:
            return _msg(c.response(an=[rr(ptr(12), T_NS, C_IN, 3600, encode_name([b"ns1"] + c.zone))]))
        return _msg(c.response(ns=[c.soa_rr(self.serial)]))

    def _below(self, c: Ctx):
        zone_soa = [c.soa_rr(self.serial, owner=encode_name(c.zone))]
        if [l.lower() for l in c.prefix] != [b"ns1"]:
            return _msg(c.response(rcode=NXDOMAIN, ns=zone_soa))
        ip = ipaddress.ip_address(self.addr)
        if (c.q.qtype, ip.version) in ((T_A, 4), (T_AAAA, 6)):
            return _msg(c.response(an=[rr(ptr(12), c.q.qtype, C_IN, 3600, ip.packed)]))
        return _msg(c.response(ns=zone_soa))

    def _safe_plan(self, q: Query) -> list:
        try:
            return self.plan(q)
        except Exception as e:  # a bug here must not kill the server
            self._log("plan failed for %r: %r" % (q, e))
            return []

    # UDP -------------------------------------------------------------------

    def _udp_loop(self):
        sock = self._socks["main"]
        while not self._stop.is_set():
            try:
                data, client = sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            q = parse_query(data, "udp", client)
            self._record(q)
            t = time.monotonic()
            for s in self._safe_plan(q):
                t += s.delay
                if s.kind in ("msg", "raw"):
                    self._schedule(t, s.via, s.data, client)

    def _schedule(self, when, via, data, dest):
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), via, data, dest))
            self._cond.notify()

    def _sched_loop(self):
        while True:
            with self._cond:
                while not self._stop.is_set():
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        break
                    self._cond.wait(0.2 if not self._heap else self._heap[0][0] - now)
                if self._stop.is_set():
                    return
                _, _, via, data, dest = heapq.heappop(self._heap)
            try:
                self._socks[via].sendto(data, dest)
            except OSError as e:
                self._log("sendto %s failed: %s" % (dest, e))

    # TCP ---------------------------------------------------------------------

    def _tcp_loop(self):
        lsock = self._socks["tcp"]
        while not self._stop.is_set():
            try:
                conn, peer = lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            with self._lock:
                self.tcp_connections += 1
            t = threading.Thread(target=self._tcp_conn, args=(conn, peer), daemon=True)
            t.start()
            self._threads = [x for x in self._threads if x.is_alive()] + [t]

    def _recv_exact(self, conn, n, idle=10.0):
        buf = b""
        deadline = time.monotonic() + idle
        while len(buf) < n:
            if self._stop.is_set() or time.monotonic() > deadline:
                return None
            try:
                chunk = conn.recv(n - len(buf))
            except socket.timeout:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    def _tcp_conn(self, conn, peer):
        conn.settimeout(0.05)
        try:
            while not self._stop.is_set():
                lp = self._recv_exact(conn, 2)
                if lp is None:
                    break
                data = self._recv_exact(conn, struct.unpack("!H", lp)[0])
                if data is None:
                    break
                q = parse_query(data, "tcp", peer)
                self._record(q)
                if not self._run_tcp(conn, self._safe_plan(q)):
                    break
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _send_all(self, conn, data: bytes):
        """sendall() that waits for a slow reader (the socket's short timeout
        is for noticing stop()), however long it takes, until stop()."""
        view = memoryview(data)
        while view:
            try:
                view = view[conn.send(view):]
            except socket.timeout:
                if self._stop.is_set():
                    raise OSError("stopped") from None

    def _run_tcp(self, conn, steps) -> bool:
        """Run steps on conn; False when the connection is finished."""
        try:
            for s in steps:
                if s.delay and self._stop.wait(s.delay):
                    return False
                if s.kind == "msg":
                    if s.via == "main":
                        self._send_all(conn, struct.pack("!H", len(s.data)) + s.data)
                elif s.kind == "raw":
                    self._send_all(conn, s.data)
                elif s.kind == "trickle":
                    for b in s.data:
                        conn.sendall(bytes([b]))
                        if self._stop.wait(self.trickle_interval):
                            return False
                elif s.kind == "close":
                    return False
                elif s.kind == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return False
                elif s.kind == "hold":
                    self._hold(conn)
                    return False
        except OSError:
            return False
        return True

    def _hold(self, conn):
        """Say nothing until the peer closes, the server stops or hold_max."""
        deadline = time.monotonic() + self.hold_max
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                if conn.recv(4096) == b"":
                    return
            except socket.timeout:
                continue
            except OSError:
                return


class ManyServer(BadServer):
    """The behaviours over UDP on many addresses at once (one port, one
    thread): for tests with many server addresses, e.g. under a small
    open-file limit. No TCP, no packets from other addresses, no delays.

    Attributes after start(): port, addrs, ns_args ("a#port,b#port,...")."""

    def __init__(self, addrs, port: int = 0, **kw):
        super().__init__(addrs[0], port, alt_addr=None, **kw)
        self.addrs = list(addrs)

    @property
    def ns_args(self) -> str:
        return ",".join("%s#%d" % (a, self.port) for a in self.addrs)

    def start(self) -> "ManyServer":
        self._bind_many()
        t = threading.Thread(target=self._many_loop, daemon=True, name="badserver-many")
        t.start()
        self._threads.append(t)
        self.started = True
        return self

    def _bind_many(self):
        fam = self.family
        for _ in range(50):
            socks = []
            try:
                for a in self.addrs:
                    u = socket.socket(fam, socket.SOCK_DGRAM)
                    socks.append(u)
                    u.bind((a, self.port or (socks[0].getsockname()[1] if len(socks) > 1 else 0)))
                break
            except OSError:
                for u in socks:
                    u.close()
                if self.port:
                    raise
        else:
            raise OSError("badserver: no port free on all %d addresses" % len(self.addrs))
        self.port = socks[0].getsockname()[1]
        self._socks = {i: u for i, u in enumerate(socks)}

    def _many_loop(self):
        import selectors
        sel = selectors.DefaultSelector()
        for u in self._socks.values():
            sel.register(u, selectors.EVENT_READ)
        while not self._stop.is_set():
            for key, _ in sel.select(0.2):
                try:
                    data, client = key.fileobj.recvfrom(65535)
                except OSError:
                    continue
                q = parse_query(data, "udp", client)
                self._record(q)
                for st in self._safe_plan(q):
                    if st.kind in ("msg", "raw") and st.via == "main":
                        try:
                            key.fileobj.sendto(st.data, client)
                        except OSError:
                            pass
        sel.close()


# --------------------------------------------------------------------------
# CLI


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Scripted misbehaving DNS server (zone name selects behaviour).")
    p.add_argument("--addr", default="127.54.0.1", help="listen address (127.x or ::1)")
    p.add_argument("--port", type=int, default=5300, help="UDP+TCP port (0: pick one, see stderr)")
    p.add_argument("--alt-addr", default="auto", help="address for 'otheraddr' ('auto': addr+1, 'none')")
    p.add_argument("--serial", type=int, default=GOOD_SERIAL)
    p.add_argument("--delay-ms", type=float, default=30, help="bad packet -> good answer delay")
    p.add_argument("--trickle-ms", type=float, default=250)
    p.add_argument("--slow-ms", type=float, default=2000)
    p.add_argument("--version-string", default="badserver 1.0", help="CHAOS version.bind answer")
    p.add_argument("--no-version", action="store_true", help="REFUSE version.bind/version.server")
    p.add_argument("--identity", default="badserver", help="CHAOS hostname.bind/id.server answer")
    p.add_argument("--nsid", default="badserver")
    p.add_argument("--list", action="store_true", help="list behaviours and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="log queries to stderr")
    a = p.parse_args(argv)
    if a.list:
        for b in BEHAVIORS.values():
            print("%-18s %s  =>  %s" % (b.name, b.does, b.conclude))
        print("%-18s %s  =>  %s" % ("serial-N", "AA answer with SOA serial N", "serial N"))
        return 0
    srv = BadServer(a.addr, a.port, alt_addr=None if a.alt_addr == "none" else a.alt_addr,
                    serial=a.serial, delay=a.delay_ms / 1000, trickle_interval=a.trickle_ms / 1000,
                    slow_delay=a.slow_ms / 1000, version=None if a.no_version else a.version_string,
                    identity=a.identity, nsid=a.nsid.encode(), log=sys.stderr if a.verbose else None)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    srv.start()
    print("badserver: listening on %s#%d (udp+tcp), other address %s#%d" % (
        srv.addr, srv.port, srv.alt_addr or srv.addr, srv.alt_port), file=sys.stderr, flush=True)
    print("ready", flush=True)
    while not stop.wait(0.2):
        pass
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
