"""System-test harness for soasync: real BIND 9, NSD, Knot, PowerDNS and unbound on loopback.

Overview
--------
A :class:`Fleet` owns one work directory and every process it starts.  Inside it
you declare servers, give each zone a role on each server, optionally enable a
real delegation (root server, ``test.`` server, unbound resolver), then call
:meth:`Fleet.start`::

    with Fleet(tmp_path / "fleet") as fleet:
        fleet.enable_delegation()                      # root + test. + resolver
        p = fleet.bind("ns1.example.test.")
        s1 = fleet.nsd("ns2.example.test.")
        s2 = fleet.knot("ns3.example.test.")
        p.primary("example.test.", serial=1, records=["www A 192.0.2.1"])
        s1.secondary("example.test.", primary=p)
        s2.secondary("example.test.", primary=p)
        fleet.start()                                   # ready and in sync
        p.bump("example.test.")                         # write file, reload, NOTIFY
        s1.wait_serial("example.test.", 2)

Leaving the ``with`` block (normally, by exception, by Ctrl-C, SIGTERM or
interpreter exit) stops every process the fleet started -- exactly those pids,
TERM then KILL, after checking the pid still runs the executable we started --
and removes every ``lo`` alias the fleet added (only those).

Address plan (per fleet, one /24 inside 127.0.0.0/8, default ``127.53.0``)
-------------------------------------------------------------------------
====================  =======================================================
``NET.1``             root server ``a.root-servers.`` (serves ``.``)
``NET.2``             TLD server ``ns.test.`` (serves ``test.``)
``NET.3``             unbound resolver (root hints -> NET.1)
``NET.10``-``.199``   authoritative servers, allocated in declaration order
``NET.200``-``.249``  extras: lame resolvers, closed and silent addresses
``NET.250``           the checker's address (``fleet.checker_addr``) for
                      ``soasync --source``
``NET.251``           the harness's own source for its dnspython queries
====================  =======================================================

Everything listens on port 53 unless a port is given (glue carries no port, so
a delegation only works on port 53).  Every address used is added as a /32
alias on ``lo`` (BIND only listens on addresses that exist on an interface;
adding all keeps source-address selection uniform) and every daemon's
outgoing source is pinned to its own address.

Readiness and state changes are always polled with a deadline
(:func:`wait_until`); nothing sleeps a fixed time.

API at a glance (details in the docstrings and README.md)
---------------------------------------------------------
* :class:`Fleet` -- ``bind/nsd/knot/pdns/server/unbound(...)`` declare daemons;
  ``enable_delegation()``, ``delegate(zone, ns)``, ``update_delegation()``;
  ``start()``, ``wait_synced()``, ``stop()``, ``close()``; ``checker_addr``,
  ``resolver``, ``closed_address()``, ``silent_address()``.
* :class:`AuthServer` (:class:`BindServer`, :class:`NsdServer`,
  :class:`KnotServer`, :class:`PowerDnsServer`; the kinds are :data:`KINDS`)
  -- ``primary()``/``secondary()`` zone roles;
  ``write_zone()``, ``bump()``, ``reload()``, ``notify()``, ``refresh()``,
  ``retransfer()``, ``reconfigure()``, ``start()``, ``stop()``; ``soa()``,
  ``serial()``, ``serials()``, ``wait_serial()``, ``wait_rcode()``, ``axfr()``,
  ``query()``, ``control()``.
* :class:`Unbound` -- ``resolve()``, ``prime()``, ``flush()``.
* Scenarios -- :func:`standard_zone`, :func:`scenario_behind`,
  :func:`scenario_backwards`, :func:`scenario_serial_step_2_31`,
  :func:`scenario_expired`, :func:`scenario_refused_transfer`,
  :func:`refusing_server`, :func:`lame_recursive`, :func:`many_zones`.
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import errno
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, Union

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsigkeyring

# --------------------------------------------------------------------------
# constants

DEFAULT_NET = "127.53.0"
ROOT_HOST, TLD_HOST, RESOLVER_HOST = 1, 2, 3
SERVER_HOSTS = range(10, 200)
EXTRA_HOSTS = range(200, 250)
CHECKER_HOST, HARNESS_HOST = 250, 251
ROOT_NS_NAME = "a.root-servers."
SERIAL_MOD = 1 << 32
#: seconds a state must hold before a wait_* helper accepts it (see wait_serial)
STABLE = 0.05

#: the authoritative server kinds of the fleet, the one list every per-vendor
#: test is parametrised with (``Fleet.server(kind, ...)``)
KINDS = ("bind", "nsd", "knot", "pdns")

#: whether a secondary of this kind stops answering (SERVFAIL) once the SOA
#: expire time passed without a successful refresh (measured here)
EXPIRES = {"bind": True, "nsd": True, "knot": True, "pdns": False}

BINARIES = {
    "bind": "/usr/sbin/named",
    "nsd": "/usr/sbin/nsd",
    "knot": "/usr/sbin/knotd",
    "unbound": "/usr/sbin/unbound",
    "pdns": "/usr/sbin/pdns_server",
}
RNDC = "/usr/sbin/rndc"
NSD_CONTROL = "/usr/sbin/nsd-control"
KNOTC = "/usr/sbin/knotc"
UNBOUND_CONTROL = "/usr/sbin/unbound-control"
PDNS_CONTROL = "/usr/bin/pdns_control"
PDNSUTIL = "/usr/bin/pdnsutil"
#: the bind backend's metadata schema (Debian: /usr/share/pdns-backend-bind/schema)
PDNS_META_SCHEMA = """
CREATE TABLE IF NOT EXISTS domainmetadata (id INTEGER PRIMARY KEY,
  domain VARCHAR(255) COLLATE NOCASE, kind VARCHAR(32) COLLATE NOCASE, content TEXT);
CREATE INDEX IF NOT EXISTS domainmetanameindex ON domainmetadata(domain);
CREATE TABLE IF NOT EXISTS cryptokeys (id INTEGER PRIMARY KEY,
  domain VARCHAR(255) COLLATE NOCASE, flags INT NOT NULL, active BOOL,
  published BOOL DEFAULT 1, content TEXT);
CREATE INDEX IF NOT EXISTS domainnameindex ON cryptokeys(domain);
CREATE TABLE IF NOT EXISTS tsigkeys (id INTEGER PRIMARY KEY,
  name VARCHAR(255) COLLATE NOCASE, algorithm VARCHAR(50) COLLATE NOCASE, secret VARCHAR(255));
CREATE UNIQUE INDEX IF NOT EXISTS namealgoindex ON tsigkeys(name, algorithm);
"""
IP = shutil.which("ip") or "/usr/sbin/ip"


class HarnessError(Exception):
    """Any failure of the harness itself (config, control channel, timeout)."""


class DaemonFailed(HarnessError):
    """A daemon exited or never became ready; the message carries its log tail."""


# --------------------------------------------------------------------------
# small helpers


def wait_until(fn: Callable[[], object], timeout: float = 10.0, interval: float = 0.02,
               what: Optional[str] = None, stable: float = 0.0):
    """Call ``fn`` until it returns a truthy value; return that value.

    Polls every ``interval`` seconds until ``timeout`` seconds have passed, then
    raises :class:`TimeoutError` (mentioning ``what`` and the last value).
    With ``stable``, the value must stay truthy on every call for that many
    seconds (NSD answers from its old server child for a moment after a
    reload; :data:`STABLE`); a falsy call starts the window again.
    Exceptions from ``fn`` propagate.  This is the only way the harness and
    the tests wait: no other polling loop, no fixed sleep.
    """
    deadline = time.monotonic() + timeout
    since = None
    while True:
        value = fn()
        now = time.monotonic()
        if not value:
            since = None
        else:
            since = now if since is None else since
            if now - since >= stable:
                return value
        if now >= deadline:
            held = f", true for only {now - since:.2f}s of {stable:g}s" if since is not None else ""
            raise TimeoutError(f"timed out after {timeout:g}s waiting for "
                               f"{what or getattr(fn, '__name__', 'condition')} "
                               f"(last: {value!r}{held})")
        time.sleep(interval)


def fqdn(name: str) -> str:
    """Return ``name`` lower-cased with exactly one trailing dot (``.`` for root)."""
    name = name.strip().lower()
    if name in ("", "."):
        return "."
    return name.rstrip(".") + "."


def in_domain(name: str, zone: str) -> bool:
    """True if ``name`` equals ``zone`` or lies below it."""
    name, zone = fqdn(name), fqdn(zone)
    return zone == "." or name == zone or name.endswith("." + zone)


def parent_of(zone: str) -> str:
    zone = fqdn(zone)
    if zone == ".":
        raise ValueError("the root has no parent")
    rest = zone.split(".", 1)[1]
    return fqdn(rest)


def is_v6(addr: str) -> bool:
    return ":" in addr


def _file_label(zone: str) -> str:
    return "root" if fqdn(zone) == "." else fqdn(zone).rstrip(".")


def _tail(path: Path, lines: int = 25) -> str:
    try:
        data = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return f"(no {path})"
    return "\n".join(data[-lines:])


def ipv6_loopback_available() -> Optional[str]:
    """Return None if a UDP and a TCP socket can bind ``[::1]``; else the reason."""
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET6, kind)
            try:
                s.bind(("::1", 0))
            finally:
                s.close()
    except OSError as exc:
        return f"IPv6 loopback ::1 unusable on this machine: {exc}"
    return None


# --------------------------------------------------------------------------
# DNS queries (dnspython)


@dataclass
class SoaAnswer:
    """Result of one SOA query: ``rcode`` is None when nothing answered."""
    rcode: Optional[int]
    aa: bool = False
    serial: Optional[int] = None

    @property
    def rcode_text(self) -> str:
        return "TIMEOUT" if self.rcode is None else dns.rcode.to_text(self.rcode)


def query(addr: str, port: int, qname: str, rdtype: Union[str, int] = "SOA", *,
          source: Optional[str] = None, rd: bool = False, timeout: float = 2.0,
          tcp: bool = False) -> dns.message.Message:
    """Send one query with dnspython and return the response (raises on timeout)."""
    msg = dns.message.make_query(qname, rdtype)
    if not rd:
        msg.flags &= ~dns.flags.RD
    fn = dns.query.tcp if tcp else dns.query.udp
    return fn(msg, addr, timeout=timeout, port=port, source=source)


def soa_of(msg: dns.message.Message, zone: str) -> SoaAnswer:
    serial = None
    for rrset in msg.answer:
        if rrset.rdtype == dns.rdatatype.SOA and rrset.name == dns.name.from_text(zone):
            serial = rrset[0].serial
    return SoaAnswer(msg.rcode(), bool(msg.flags & dns.flags.AA), serial)


def _wire_name(name: str) -> bytes:
    name = fqdn(name)
    if name == ".":
        return b"\x00"
    out = b""
    for label in name.rstrip(".").split("."):
        b = label.encode()
        out += bytes([len(b)]) + b
    return out + b"\x00"


def _read_name(data: bytes, off: int) -> tuple:
    """Decode a (possibly compressed) name at ``off``; return (name, next offset)."""
    labels, jumped, end, hops = [], False, off, 0
    while True:
        n = data[off]
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = off + 2
            off = ((n & 0x3F) << 8) | data[off + 1]
            jumped, hops = True, hops + 1
            if hops > 64:
                raise ValueError("compression loop")
            continue
        off += 1
        if n == 0:
            break
        labels.append(data[off:off + n].decode("latin-1").lower())
        off += n
    if not jumped:
        end = off
    return (".".join(labels) + ".") if labels else ".", end


def _parse_soa_response(data: bytes) -> tuple:
    """Fast minimal parse of a SOA response: (id, qname, rcode, aa, serial or None)."""
    qid, flags, qd, an = int.from_bytes(data[0:2], "big"), int.from_bytes(data[2:4], "big"), \
        int.from_bytes(data[4:6], "big"), int.from_bytes(data[6:8], "big")
    if not flags & 0x8000 or qd != 1:
        raise ValueError("not a response with one question")
    qname, off = _read_name(data, 12)
    off += 4
    serial = None
    for _ in range(an):
        owner, off = _read_name(data, off)
        rtype = int.from_bytes(data[off:off + 2], "big")
        rdlen = int.from_bytes(data[off + 8:off + 10], "big")
        rdata = off + 10
        if rtype == 6 and owner == qname and serial is None:
            _, p = _read_name(data, rdata)
            _, p = _read_name(data, p)
            serial = int.from_bytes(data[p:p + 4], "big")
        off = rdata + rdlen
    return qid, qname, flags & 0xF, bool(flags & 0x0400), serial



def bulk_soa(addr: str, port: int, zones: Sequence[str], *, source: Optional[str] = None,
             timeout: float = 5.0, window: int = 100, retry_after: float = 0.25,
             rd: bool = False, give_up_on_refused: bool = False) -> dict:
    """Query the SOA of many zones at one server over UDP, paced and retried.

    Keeps at most ``window`` queries in flight on one socket, resends a query
    unanswered after ``retry_after`` seconds, and gives up after ``timeout``.
    Returns ``{zone: SoaAnswer}`` (rcode None for zones that never answered).
    ``give_up_on_refused``: return at once when the port is closed (ICMP).
    """
    zones = [fqdn(z) for z in zones]
    fam = socket.AF_INET6 if is_v6(addr) else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_DGRAM)
    results: dict = {}
    try:
        sock.bind((source or ("::" if fam == socket.AF_INET6 else "0.0.0.0"), 0))
        sock.connect((addr, port))
        sock.setblocking(False)
        pending = list(range(len(zones)))[::-1]      # stack of indexes to send
        inflight: dict = {}                           # qid -> (index, sent_at)
        qwire = [_wire_name(z) for z in zones]
        deadline = time.monotonic() + timeout
        next_id = secrets.randbelow(65536)
        while (pending or inflight) and time.monotonic() < deadline:
            now = time.monotonic()
            for qid, (idx, sent) in list(inflight.items()):
                if now - sent > retry_after:
                    del inflight[qid]
                    pending.append(idx)
            while pending and len(inflight) < window:
                idx = pending.pop()
                qid = next_id = (next_id + 1) % 65536
                while qid in inflight:
                    qid = next_id = (next_id + 1) % 65536
                wire = (qid.to_bytes(2, "big") + (b"\x01\x00" if rd else b"\x00\x00")
                        + b"\x00\x01\x00\x00\x00\x00\x00\x00" + qwire[idx] + b"\x00\x06\x00\x01")
                try:
                    sock.send(wire)
                except OSError as exc:
                    if exc.errno == errno.ECONNREFUSED:
                        if give_up_on_refused:
                            pending, inflight = [], {}
                            break
                        pending.append(idx)           # ICMP from an earlier datagram
                        break
                    if exc.errno in (errno.EAGAIN, errno.ENOBUFS):
                        pending.append(idx)
                        break
                    raise
                inflight[qid] = (idx, time.monotonic())
            r, _, _ = select.select([sock], [], [], 0.02)
            if not r:
                continue
            while True:
                try:
                    data = sock.recv(65535)
                except BlockingIOError:
                    break
                except ConnectionRefusedError:
                    if give_up_on_refused:            # nothing listens (yet)
                        pending, inflight = [], {}
                    break
                try:
                    rid, rq, rcode, aa, serial = _parse_soa_response(data)
                except (ValueError, IndexError, UnicodeDecodeError):
                    continue
                entry = inflight.get(rid)
                if entry is None or zones[entry[0]] != rq:
                    continue
                del inflight[rid]
                results[rq] = SoaAnswer(rcode, aa, serial)
    finally:
        sock.close()
    for z in zones:
        results.setdefault(z, SoaAnswer(None))
    return results


# --------------------------------------------------------------------------
# zone and key descriptions


@dataclass
class TsigKey:
    """A TSIG key; ``secret`` is base64.  ``TsigKey.generate("xfr-key.")``."""
    name: str
    secret: str
    algorithm: str = "hmac-sha256"

    @classmethod
    def generate(cls, name: str = "xfr-key.", algorithm: str = "hmac-sha256") -> "TsigKey":
        return cls(fqdn(name), base64.b64encode(secrets.token_bytes(32)).decode(), algorithm)

    def keyring(self) -> dict:
        """A dnspython keyring (for signed queries/AXFR from tests)."""
        return dns.tsigkeyring.from_text({self.name: (self.algorithm, self.secret)})

    @property
    def label(self) -> str:
        return self.name.rstrip(".") or "root"


@dataclass
class Timers:
    """SOA timers written by a primary (seconds)."""
    refresh: int = 3600
    retry: int = 600
    expire: int = 1209600
    minimum: int = 60


#: Timers that make a secondary expire within seconds on BIND 9.18, NSD 4.6 and
#: Knot 3.2 (together with the lowered clamps the harness configures).
#: PowerDNS 4.7 never expires a secondary zone: it keeps answering the old
#: data with AA after the SOA expire time (measured: see :data:`EXPIRES`).
FAST_EXPIRE = Timers(refresh=2, retry=1, expire=4, minimum=1)

Endpoint = Union["AuthServer", str, tuple]


@dataclass
class Zone:
    """The role of one zone on one server (see :meth:`AuthServer.primary` and
    :meth:`AuthServer.secondary` for the meaning of each field)."""
    name: str
    role: str                                   # "primary" | "secondary"
    serial: int = 1
    records: list = field(default_factory=list)
    ns: Optional[list] = None                   # child NS set (None: fleet default)
    timers: Timers = field(default_factory=Timers)
    ttl: int = 300
    primaries: list = field(default_factory=list)   # [(addr, port)]
    tsig: Optional[TsigKey] = None
    allow_transfer: Optional[list] = None       # None: anyone
    deny_transfer: list = field(default_factory=list)
    notify: Optional[list] = None               # [(addr, port)]; None: fleet secondaries
    allow_notify: Optional[list] = None         # extra addresses allowed to NOTIFY
    notified: bool = True                       # secondary: primary notifies us by default
    hidden: bool = False                        # not in the default NS set
    extra: str = ""                             # raw vendor config lines for this zone
    mname: Optional[str] = None                 # primary: the SOA MNAME (None: this server)


def _endpoint(ep: Endpoint) -> tuple:
    """Normalise a server object / "addr" / "addr@port" / (addr, port) to (addr, port)."""
    if isinstance(ep, AuthServer):
        return (ep.addr, ep.port)
    if isinstance(ep, tuple):
        return (str(ep[0]), int(ep[1]))
    if isinstance(ep, str):
        if "@" in ep:
            a, p = ep.rsplit("@", 1)
            return (a, int(p))
        return (ep, 53)
    raise TypeError(f"not an endpoint: {ep!r}")


def _addr_of(x) -> str:
    if isinstance(x, Daemon):
        return x.addr
    return str(x)


# --------------------------------------------------------------------------
# process handling

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _child_setup():  # runs in the child between fork and exec
    # If the harness dies without cleaning up (SIGKILL), the kernel sends the
    # daemon SIGTERM.  The signal fires when the *thread* that spawned the
    # daemon exits, so start fleets from a thread that outlives them (pytest
    # and the demo use the main thread).
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _proc_state(pid: int) -> Optional[tuple]:
    """(state, session id) of pid, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = stat[stat.rindex(")") + 2:].split()
    return rest[0], int(rest[3])


def pid_runs(pid: int, exe: str) -> bool:
    """True if ``pid`` is a live (not zombie) process running executable ``exe``."""
    st = _proc_state(pid)
    if st is None or st[0] in ("Z", "X", "x"):
        return False
    try:
        target = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False
    return target == exe or target == exe + " (deleted)"


def session_members(sid: int, exe: str) -> list:
    """Live processes in session ``sid`` running ``exe`` (children of a setsid daemon)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        st = _proc_state(int(d))
        if st and st[1] == sid and pid_runs(int(d), exe):
            out.append(int(d))
    return out


def _signal_if_ours(pid: int, exe: str, sig: int) -> None:
    if pid_runs(pid, exe):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stop_daemons(daemons: Iterable["Daemon"], term_timeout: float = 5.0) -> None:
    """Stop the given daemons together: TERM, poll, then KILL what is left.

    Only pids the daemons started are signalled, each after checking that the
    pid still runs the executable that was started; processes left in a
    daemon's session (its forked children, e.g. NSD's) are handled the same way.
    """
    daemons = [d for d in daemons if d.proc is not None]
    if not daemons:
        return

    def leftovers():
        pids = []
        for d in daemons:
            d.proc.poll()                             # reap our direct child
            pids += [(p, d.exe) for p in session_members(d.pid, d.exe)]
            if pid_runs(d.pid, d.exe):
                pids.append((d.pid, d.exe))
        return sorted(set(pids))

    for d in daemons:
        _signal_if_ours(d.pid, d.exe, signal.SIGTERM)
    try:
        wait_until(lambda: not leftovers(), term_timeout, what="daemons to exit")
    except TimeoutError:
        for pid, exe in leftovers():
            _signal_if_ours(pid, exe, signal.SIGKILL)
        try:
            wait_until(lambda: not leftovers(), 5.0, what="killed daemons to exit")
        except TimeoutError:
            pass
    for d in daemons:
        try:
            d.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        d._stopped()


# --------------------------------------------------------------------------
# daemons


class Daemon:
    """One server process of a :class:`Fleet` (base class).

    Attributes: ``name``, ``kind`` ("bind", "nsd", "knot", "unbound"),
    ``addr``, ``port``, ``dir`` (its own directory), ``conf`` (config file),
    ``out`` (stdout/stderr log), ``log`` (the daemon's own log), ``pid``.
    """
    kind = "?"

    def __init__(self, fleet: "Fleet", name: str, addr: str, port: int = 53):
        self.fleet = fleet
        self.name = fqdn(name)
        self.addr = addr
        self.port = int(port)
        label = self.name.rstrip(".") or "root"
        suffix = "" if self.port == 53 else f"-{self.port}"
        self.dir = fleet.workdir / f"{self.kind}-{label}{suffix}"
        self.exe = BINARIES[self.kind]
        self.proc: Optional[subprocess.Popen] = None
        self.pid: Optional[int] = None
        self.out = self.dir / f"{self.kind}.out"
        self.log = self.dir / f"{self.kind}.log"
        self.conf = self.dir / f"{self.kind}.conf"
        self.started_once = False
        self.spawned_at: Optional[float] = None
        self.ready_after: Optional[float] = None

    def __repr__(self):
        return f"<{type(self).__name__} {self.name} {self.endpoint}>"

    @property
    def endpoint(self) -> str:
        return f"[{self.addr}]:{self.port}" if is_v6(self.addr) else f"{self.addr}:{self.port}"

    @property
    def source(self) -> str:
        """The source address the harness uses to query this daemon."""
        return "::1" if is_v6(self.addr) else self.fleet.harness_addr

    @property
    def source4(self) -> str:
        """Pinned IPv4 source of this daemon's own traffic (its address; for a
        server on ``::1`` an extra address of the fleet)."""
        if not is_v6(self.addr):
            return self.addr
        if getattr(self, "_source4", None) is None:
            self._source4 = self.fleet.alloc_addr(extra=True)
            self.fleet.ensure_alias(self._source4)
        return self._source4

    @property
    def source6(self) -> str:
        """Pinned IPv6 source of this daemon's own traffic (``::1``)."""
        return self.addr if is_v6(self.addr) else "::1"

    # -- subclass hooks
    def write_config(self) -> None:
        raise NotImplementedError

    def argv(self) -> list:
        raise NotImplementedError

    def is_ready(self) -> bool:
        raise NotImplementedError

    # -- process control
    @property
    def running(self) -> bool:
        """True if the started pid is alive and still runs our executable."""
        if self.proc is None:
            return False
        self.proc.poll()
        return pid_runs(self.pid, self.exe)

    def spawn(self) -> None:
        """Start the process (foreground, own session, output to ``out``)."""
        if self.running:
            raise HarnessError(f"{self} already running")
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.out, "ab") as outf:
            outf.write(f"=== start {time.strftime('%H:%M:%S')}: {' '.join(self.argv())}\n".encode())
            outf.flush()
            self.proc = subprocess.Popen(self.argv(), cwd=self.dir, stdin=subprocess.DEVNULL,
                                         stdout=outf, stderr=subprocess.STDOUT,
                                         start_new_session=True, close_fds=True,
                                         preexec_fn=_child_setup)
        self.pid = self.proc.pid
        self.spawned_at = time.monotonic()
        self.started_once = True
        self.fleet._register(self)

    def check_alive(self) -> None:
        """Raise :class:`DaemonFailed` (with log tails) if the process has exited."""
        if self.proc is not None and not self.running:
            rc = self.proc.poll()
            raise DaemonFailed(self.failure_text(f"exited (rc={rc})"))

    #: argv of the vendor's config checker ("{conf}" is replaced)
    checkconf: list = []

    def failure_text(self, what: str) -> str:
        text = (f"{self.kind} {self.name} on {self.endpoint} {what}; dir {self.dir}\n"
                f"--- tail of {self.out}:\n{_tail(self.out)}")
        if self.log != self.out:                # PowerDNS logs to its output
            text += f"\n--- tail of {self.log}:\n{_tail(self.log)}"
        if self.checkconf and self.conf.exists():
            argv = [a.replace("{conf}", str(self.conf)).replace("{dir}", str(self.dir))
                    for a in self.checkconf]
            try:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=20,
                                   stdin=subprocess.DEVNULL)
                text += (f"\n--- {' '.join(argv)} (rc={r.returncode}):\n"
                         f"{(r.stdout + r.stderr).strip()[-3000:]}")
            except (OSError, subprocess.TimeoutExpired) as exc:
                text += f"\n--- {' '.join(argv)}: {exc}"
        return text

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Poll until the daemon answers as expected; raise DaemonFailed otherwise."""
        def ready():
            self.check_alive()
            return self.is_ready()
        try:
            wait_until(ready, timeout, what=f"{self} to be ready")
        except TimeoutError:
            raise DaemonFailed(self.failure_text(f"not ready after {timeout:g}s")) from None

    def start(self, timeout: float = 15.0) -> None:
        """(Re)start with the current configuration and wait until ready."""
        self.write_config()
        self.fleet.ensure_alias(self.addr)
        self.spawn()
        self.wait_ready(timeout)

    def stop(self) -> None:
        """Stop this daemon (TERM, then KILL after 5 s) and wait until it is gone."""
        stop_daemons([self])

    def _stopped(self) -> None:
        self.proc = None

    def control(self, *args: str, timeout: float = 30.0, check: bool = True) -> str:
        raise NotImplementedError

    def _run_control(self, argv: list, timeout: float, check: bool) -> str:
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(f"{' '.join(argv)} timed out after {timeout}s") from exc
        if check and r.returncode != 0:
            raise HarnessError(f"{' '.join(argv)} failed (rc={r.returncode}): "
                               f"{r.stdout.strip()} {r.stderr.strip()}")
        return r.stdout + r.stderr

    # -- queries
    def query(self, qname: str, rdtype: Union[str, int] = "SOA", *, rd: bool = False,
              timeout: float = 2.0, tcp: bool = False) -> dns.message.Message:
        """Query this daemon directly with dnspython (RD=0 unless ``rd``)."""
        return query(self.addr, self.port, qname, rdtype, source=self.source, rd=rd,
                     timeout=timeout, tcp=tcp)


class AuthServer(Daemon):
    """An authoritative server (BIND, NSD, Knot or PowerDNS) with per-zone roles."""

    def __init__(self, fleet, name, addr, port=53):
        super().__init__(fleet, name, addr, port)
        self.zones: dict = {}
        self.zonedir = self.dir / "zones"
        self.ctl_port: Optional[int] = None
        self._ready_zones: set = set()

    # -- declaring zones
    def primary(self, zone: str, serial: int = 1, records: Optional[Sequence[str]] = None, *,
                ns: Optional[Sequence] = None, timers: Optional[Timers] = None, ttl: int = 300,
                allow_transfer: Optional[Sequence] = None, deny_transfer: Sequence = (),
                notify: Optional[Sequence[Endpoint]] = None, tsig: Optional[TsigKey] = None,
                hidden: bool = False, extra: str = "", mname: Optional[str] = None) -> Zone:
        """Serve ``zone`` as primary from a zone file the harness writes.

        records        extra zone-file lines (relative to the zone origin), e.g.
                       ``"www 300 IN A 192.0.2.1"``; SOA, NS and in-zone NS
                       addresses are generated.
        ns             the zone's own NS set (names or servers); default: every
                       non-hidden server of the fleet serving the zone.
        timers         SOA refresh/retry/expire/minimum (:class:`Timers`).
        allow_transfer addresses (or servers) that may AXFR/IXFR; None = anyone.
        deny_transfer  addresses (or servers) refused even if otherwise allowed.
        notify         NOTIFY targets ([server | "addr" | "addr@port" | (addr, port)]);
                       default: the fleet's secondaries of this zone on this
                       server that have ``notified=True``.
        tsig           require this key for transfers and sign NOTIFYs with it.
        hidden         leave this server out of the default NS set.
        extra          raw vendor config lines inside this zone's statement.
        mname          the SOA MNAME (default: this server's name), e.g. a secondary's
                       name, as a copied template or a moved primary leaves it.
        """
        z = Zone(fqdn(zone), "primary", serial=int(serial) % SERIAL_MOD,
                 records=list(records or []), ns=list(ns) if ns is not None else None,
                 timers=timers or Timers(), ttl=ttl,
                 allow_transfer=list(allow_transfer) if allow_transfer is not None else None,
                 deny_transfer=list(deny_transfer),
                 notify=[_endpoint(e) for e in notify] if notify is not None else None,
                 tsig=tsig, hidden=hidden, extra=extra,
                 mname=fqdn(mname) if mname else None)
        self.zones[z.name] = z
        self.fleet._gen += 1
        return z

    def secondary(self, zone: str, primary: Union[Endpoint, Sequence[Endpoint]], *,
                  tsig: Optional[TsigKey] = None, allow_notify: Optional[Sequence] = None,
                  allow_transfer: Optional[Sequence] = None, deny_transfer: Sequence = (),
                  notified: bool = True, hidden: bool = False, extra: str = "") -> Zone:
        """Serve ``zone`` as a secondary of ``primary`` (one or a list of servers,
        "addr", "addr@port" or (addr, port)).

        tsig          key to sign transfer requests (the primary must use the same key).
        allow_notify  addresses accepted as NOTIFY senders in addition to the primaries.
        notified      False: the primary's default NOTIFY list skips this secondary
                      (a laggard that only learns of changes by its refresh timer).
        hidden        leave this server out of the default NS set (stealth secondary).
        """
        prims = primary if isinstance(primary, list) else [primary]
        z = Zone(fqdn(zone), "secondary", primaries=[_endpoint(p) for p in prims], tsig=tsig,
                 allow_notify=list(allow_notify) if allow_notify is not None else None,
                 allow_transfer=list(allow_transfer) if allow_transfer is not None else None,
                 deny_transfer=list(deny_transfer), notified=notified, hidden=hidden,
                 extra=extra)
        self.zones[z.name] = z
        self.fleet._gen += 1
        return z

    def zone(self, zone: str) -> Zone:
        return self.zones[fqdn(zone)]

    @property
    def primary_zones(self) -> list:
        return [z for z in self.zones.values() if z.role == "primary"]

    @property
    def secondary_zones(self) -> list:
        return [z for z in self.zones.values() if z.role == "secondary"]

    def use_scratch_zonedir(self) -> None:
        """Keep this server's zone files on the fleet's tmpfs scratch directory
        (much faster for thousands of zones; deleted when the fleet closes)."""
        self.zonedir = self.fleet.rundir / self.dir.name / "zones"

    def zone_file(self, zone: str) -> Path:
        z = self.zone(zone)
        sub = "primary" if z.role == "primary" else "secondary"
        return self.zonedir / sub / f"{_file_label(zone)}.zone"

    def tsig_keys(self) -> list:
        keys = {}
        for z in self.zones.values():
            if z.tsig:
                keys[z.tsig.name] = z.tsig
        return list(keys.values())

    def notify_targets(self, z: Zone) -> list:
        if z.notify is not None:
            return list(z.notify)
        return self.fleet.default_notify(self, z.name)

    def _acl_addrs(self, items) -> list:
        return [_addr_of(x) for x in items]

    def notify_senders(self, z: Zone) -> list:
        """Addresses a secondary zone accepts NOTIFY from: its primaries, the
        pinned source those primaries use towards this server's address family
        (differs from the listening address for a primary on ``::1``), and
        ``allow_notify``."""
        out = []
        for pa, pp in z.primaries:
            out.append(pa)
            prim = self.fleet._primary_at([(pa, pp)])
            if prim is not None:
                out.append(prim.source6 if is_v6(self.addr) else prim.source4)
        out += self._acl_addrs(z.allow_notify or [])
        return list(dict.fromkeys(out))

    # -- zone files
    def render_zone(self, z: Zone) -> str:
        """The text of a primary zone file (SOA, NS, in-zone NS addresses, records)."""
        ns = self.fleet.ns_set(z.name, self)
        t = z.timers
        rname = "hostmaster." + (z.name if z.name != "." else "root-servers.")
        lines = [f"$ORIGIN {z.name}", f"$TTL {z.ttl}",
                 f"@ IN SOA {z.mname or self.name} {rname} {z.serial} {t.refresh} {t.retry} "
                 f"{t.expire} {t.minimum}"]
        lines += [f"@ IN NS {n}" for n in ns]
        seen = set()
        for n in ns:
            if in_domain(n, z.name) and n not in seen:
                seen.add(n)
                lines += self.fleet.address_records(n)
        lines += self.fleet.delegation_records(z.name, seen)
        lines += list(z.records)
        return "\n".join(lines) + "\n"

    def _write_zone_file(self, z: Zone) -> None:
        path = self.zone_file(z.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.render_zone(z))
        os.replace(tmp, path)

    def write_zone(self, zone: str, serial: int, records: Optional[Sequence[str]] = None, *,
                   reload: bool = True, wait: bool = True, timeout: float = 10.0) -> None:
        """Rewrite a primary zone's file with ``serial`` (and ``records`` if given,
        else the previous ones); with ``reload`` reload it through the control
        channel (the server then sends NOTIFY to its notify list) and with
        ``wait`` poll until the server serves ``serial``."""
        z = self.zone(zone)
        if z.role != "primary":
            raise HarnessError(f"{zone} is not primary on {self.name}")
        z.serial = int(serial) % SERIAL_MOD
        if records is not None:
            z.records = list(records)
        self._write_zone_file(z)
        if reload and self.running:
            self.reload(zone)
            if wait:
                self.wait_serial(zone, z.serial, timeout)

    def bump(self, zone: str, by: int = 1, **kw) -> int:
        """``write_zone`` with serial + ``by`` (mod 2^32); returns the new serial."""
        new = (self.zone(zone).serial + by) % SERIAL_MOD
        self.write_zone(zone, new, **kw)
        return new

    # -- state
    def soa(self, zone: str, timeout: float = 1.0) -> SoaAnswer:
        """Ask this server directly (RD=0) for the SOA of ``zone``."""
        try:
            return soa_of(self.query(zone, "SOA", timeout=timeout), fqdn(zone))
        except dns.exception.Timeout:
            return SoaAnswer(None)
        except ConnectionRefusedError:
            return SoaAnswer(None)

    def serial(self, zone: str, timeout: float = 1.0) -> Optional[int]:
        """The serial this server answers for ``zone`` (RD=0), or None
        (no answer, error rcode or no SOA in the answer)."""
        a = self.soa(zone, timeout)
        return a.serial if a.rcode == dns.rcode.NOERROR else None

    def serials(self, zones: Optional[Sequence[str]] = None, timeout: float = 10.0) -> dict:
        """``{zone: serial or None}`` for many zones at once (paced UDP)."""
        zones = list(zones) if zones is not None else list(self.zones)
        res = bulk_soa(self.addr, self.port, zones, source=self.source, timeout=timeout)
        return {z: (a.serial if a.rcode == dns.rcode.NOERROR else None) for z, a in res.items()}

    def wait_serial(self, zone: str, serial: int, timeout: float = 10.0,
                    stable: float = STABLE) -> int:
        """Poll until this server serves ``serial`` for ``zone`` and keeps
        serving it for ``stable`` seconds; raise TimeoutError otherwise.

        The stability window matters for NSD: it reloads by forking a new
        server child, and the old child (without the new data) can still
        answer for a few milliseconds -- right after an initial transfer it
        was seen to answer SERVFAIL once after the new serial was served."""
        serial = int(serial) % SERIAL_MOD
        try:
            return wait_until(lambda: self.serial(zone, timeout=0.5) == serial, timeout,
                              what=f"{self.name} to serve {zone} serial {serial}", stable=stable)
        except TimeoutError as exc:
            self.check_alive()
            raise TimeoutError(f"{exc}; it serves {self.serial(zone)}\n"
                               f"--- tail of {self.log}:\n{_tail(self.log, 12)}") from None

    def axfr(self, zone: str, *, source: Optional[str] = None, tsig: Optional[TsigKey] = None,
             timeout: float = 5.0) -> list:
        """AXFR ``zone`` from this server with dnspython (from ``source``, default
        the harness address; signed with ``tsig``) and return the sorted zone
        lines.  Raises (dns.query.TransferError, EOFError, timeout...) when the
        transfer is refused or fails."""
        import dns.zone
        kw = {"keyring": tsig.keyring(), "keyname": tsig.name} if tsig else {}
        xfr = dns.query.xfr(self.addr, fqdn(zone), port=self.port, timeout=timeout,
                            lifetime=timeout, source=source or self.source,
                            relativize=False, **kw)
        z = dns.zone.from_xfr(xfr, relativize=False, check_origin=False)
        return sorted(z.to_text(relativize=False).splitlines())

    def wait_rcode(self, zone: str, rcode: Union[int, str], timeout: float = 15.0) -> SoaAnswer:
        """Poll until a SOA query for ``zone`` returns ``rcode`` (e.g. "SERVFAIL")."""
        want = dns.rcode.from_text(rcode) if isinstance(rcode, str) else rcode
        return wait_until(lambda: (lambda a: a if a.rcode == want else None)(self.soa(zone)),
                          timeout, what=f"{self.name} to answer {zone} with "
                                        f"{dns.rcode.to_text(want)}")

    def is_ready(self) -> bool:
        """True once every zone answered: primary zones with their serial,
        secondary zones with any rcode.  Progress is kept between calls (reset
        by :meth:`spawn`), so thousands of zones become ready in bounded steps."""
        if not self.zones:
            return self.soa(".", timeout=0.2).rcode is not None
        left = [z for z in self.zones if z not in self._ready_zones]
        res = bulk_soa(self.addr, self.port, left[:2000], source=self.source, timeout=1.0,
                       retry_after=0.1, give_up_on_refused=True)
        for z, a in res.items():
            zc = self.zones[z]
            if a.rcode is None or (zc.role == "primary" and a.serial != zc.serial):
                continue
            self._ready_zones.add(z)
        return len(self._ready_zones) == len(self.zones)

    def spawn(self) -> None:
        self._ready_zones: set = set()
        super().spawn()

    # -- control channel: implemented per vendor
    def reload(self, zone: str) -> None:
        """Reload ``zone`` from its file (the server notifies if the serial changed)."""
        raise NotImplementedError

    def notify(self, zone: str) -> None:
        """Send NOTIFY for ``zone`` to this server's notify list now."""
        raise NotImplementedError

    def refresh(self, zone: str) -> None:
        """Secondary: check the primary's SOA now and transfer if it is newer."""
        raise NotImplementedError

    def retransfer(self, zone: str) -> None:
        """Secondary: transfer the zone now regardless of serial."""
        raise NotImplementedError

    def reconfigure(self) -> None:
        """Rewrite the config (after changing ``zones``) and apply it live."""
        raise NotImplementedError


def _dq(s: str) -> str:
    return '"' + s + '"'


class BindServer(AuthServer):
    """BIND 9 (``named -f -n 1 -c named.conf``), control via rndc with its own key."""
    kind = "bind"
    checkconf = [shutil.which("named-checkconf") or "/usr/bin/named-checkconf", "{conf}"]

    def __init__(self, fleet, name, addr, port=53):
        super().__init__(fleet, name, addr, port)
        self.rndc_conf = self.dir / "rndc.conf"
        self.rndc_secret = base64.b64encode(secrets.token_bytes(32)).decode()

    def argv(self):
        return [self.exe, "-f", "-n", "1", "-c", str(self.conf)]

    def _acl(self, z: Zone, allow, tsig) -> str:
        items = [f"!{a};" for a in self._acl_addrs(z.deny_transfer)]
        if tsig is not None:
            items.append(f'key "{tsig.name}";')
        elif allow is None:
            items.append("any;")
        else:
            items += [f"{a};" for a in self._acl_addrs(allow)]
        return "{ " + " ".join(items) + " }" if items else "{ none; }"

    @staticmethod
    def _target(addr, port, key=None) -> str:
        k = f' key "{key.name}"' if key else ""
        return f"{addr} port {port}{k};"

    def write_config(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.zonedir / "primary").mkdir(parents=True, exist_ok=True)
        (self.zonedir / "secondary").mkdir(parents=True, exist_ok=True)
        if self.ctl_port is None:
            self.ctl_port = self.fleet.free_tcp_port(self.addr)
        a, d, v6 = self.addr, self.dir, is_v6(self.addr)
        keys = "".join(f'key "{k.name}" {{ algorithm {k.algorithm}; secret "{k.secret}"; }};\n'
                       for k in self.tsig_keys())
        s4, s6 = self.source4, self.source6
        src = (f"transfer-source {s4}; notify-source {s4}; query-source address {s4};\n  "
               f"transfer-source-v6 {s6}; notify-source-v6 {s6}; query-source-v6 address {s6};")
        listen = (f"listen-on {{ none; }}; listen-on-v6 port {self.port} {{ {a}; }};" if v6 else
                  f"listen-on port {self.port} {{ {a}; }}; listen-on-v6 {{ none; }};")
        zones = []
        for z in self.zones.values():
            zname = _dq(z.name if z.name == "." else z.name.rstrip("."))
            body = [f"file {_dq(str(self.zone_file(z.name)))};"]
            if z.role == "primary":
                self._write_zone_file(z)
                body.insert(0, "type primary;")
                targets = self.notify_targets(z)
                if targets:
                    body.append("notify explicit; also-notify { " + " ".join(
                        self._target(ta, tp, z.tsig) for ta, tp in targets) + " };")
                else:
                    body.append("notify no;")
            else:
                body.insert(0, "type secondary;")
                body.append("primaries { " + " ".join(
                    self._target(pa, pp, z.tsig) for pa, pp in z.primaries) + " };")
                body.append("notify no;")
                body.append("allow-notify { " + " ".join(
                    f"{x};" for x in self.notify_senders(z)) + " };")
            body.append(f"allow-transfer {self._acl(z, z.allow_transfer, z.tsig)};")
            if z.extra:
                body.append(z.extra)
            zones.append(f"zone {zname} {{\n  " + "\n  ".join(body) + "\n};")
        conf = f"""# generated by the soasync system-test harness
key "rndc-key" {{ algorithm hmac-sha256; secret "{self.rndc_secret}"; }};
controls {{ inet {a} port {self.ctl_port} allow {{ any; }} keys {{ "rndc-key"; }}; }};
{keys}
options {{
  directory "{d}";
  pid-file "{d}/named.pid";
  session-keyfile "{d}/session.key";
  managed-keys-directory "{d}";
  dump-file "{d}/named_dump.db";
  statistics-file "{d}/named.stats";
  {listen}
  {src}
  // 9.18 retries a failed transfer from an unpinned "alternate" source
  // (default yes without views); it would bypass per-address ACLs
  use-alt-transfer-source no;
  automatic-interface-scan no;
  recursion no;
  dnssec-validation no;
  allow-query {{ any; }};
  notify-delay 0;
  notify-rate 1000;
  startup-notify-rate 1000;
  serial-query-rate 1000;
  min-refresh-time 1;
  min-retry-time 1;
  max-retry-time 10;
  transfers-in 100;
  transfers-out 100;
  transfers-per-ns 100;
  masterfile-format text;
  max-journal-size 10M;
}};
logging {{
  channel log {{ file "{self.log}"; print-time yes; print-category yes; print-severity yes; severity info; }};
  category default {{ log; }};
  category lame-servers {{ null; }};
}};
""" + "\n".join(zones) + "\n"
        self.conf.write_text(conf)
        self.rndc_conf.write_text(
            f'key "rndc-key" {{ algorithm hmac-sha256; secret "{self.rndc_secret}"; }};\n'
            f'options {{ default-key "rndc-key"; default-server {a}; default-port {self.ctl_port}; }};\n')

    def control(self, *args, timeout=30.0, check=True):
        """Run ``rndc`` against this server with its own rndc.conf."""
        return self._run_control([RNDC, "-c", str(self.rndc_conf), *args], timeout, check)

    @staticmethod
    def _z(zone):
        zone = fqdn(zone)
        return zone if zone == "." else zone.rstrip(".")

    def reload(self, zone):
        self.control("reload", self._z(zone))

    def notify(self, zone):
        self.control("notify", self._z(zone))

    def refresh(self, zone):
        self.control("refresh", self._z(zone))

    def retransfer(self, zone):
        self.control("retransfer", self._z(zone))

    def reconfigure(self):
        self.write_config()
        self.control("reconfig")


class NsdServer(AuthServer):
    """NSD (``nsd -d -c nsd.conf``), control via nsd-control on a unix socket."""
    kind = "nsd"
    checkconf = ["/usr/sbin/nsd-checkconf", "{conf}"]

    def argv(self):
        return [self.exe, "-d", "-c", str(self.conf)]

    @property
    def ctl_socket(self) -> Path:
        return self.fleet.sockdir / f"nsd-{self.addr}-{self.port}.ctl"

    def write_config(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.zonedir / "primary").mkdir(parents=True, exist_ok=True)
        (self.zonedir / "secondary").mkdir(parents=True, exist_ok=True)
        (self.dir / "xfr").mkdir(exist_ok=True)
        d = self.dir
        out = [f"""# generated by the soasync system-test harness
server:
  ip-address: {self.addr}@{self.port}
  port: {self.port}
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "{d}"
  database: ""
  zonelistfile: "{d}/zone.list"
  xfrdfile: "{d}/xfrd.state"
  xfrdir: "{d}/xfr"
  pidfile: "{d}/nsd.pid"
  logfile: "{self.log}"
  verbosity: 2
  xfrd-reload-timeout: 0
  zonefiles-check: yes
  zonefiles-write: 3600
  reuseport: no
  # Debian's NSD has response rate limiting on (200 q/s per source /24): it
  # answers TC-empty or drops queries, which looks like a broken server
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: yes
  control-interface: {self.ctl_socket}
"""]
        for k in self.tsig_keys():
            out.append(f"key:\n  name: {_dq(k.name)}\n  algorithm: {k.algorithm}\n"
                       f"  secret: {_dq(k.secret)}\n")
        zones = []
        for z in self.zones.values():
            key = _dq(z.tsig.name) if z.tsig else "NOKEY"
            # everything but the name lives in a per-zone pattern: nsd-control
            # reconfig applies pattern changes, not changes inside zone: clauses
            pname = "zp-" + _file_label(z.name)
            lines = ["pattern:", f"  name: {_dq(pname)}",
                     f"  zonefile: {_dq(str(self.zone_file(z.name)))}",
                     f"  outgoing-interface: {self.source4}",
                     f"  outgoing-interface: {self.source6}"]
            for a in self._acl_addrs(z.deny_transfer):
                lines.append(f"  provide-xfr: {a} BLOCKED")
            if z.allow_transfer is None:
                lines += [f"  provide-xfr: 0.0.0.0/0 {key}", f"  provide-xfr: ::0/0 {key}"]
            else:
                lines += [f"  provide-xfr: {a} {key}" for a in self._acl_addrs(z.allow_transfer)]
            if z.role == "primary":
                self._write_zone_file(z)
                lines += [f"  notify: {ta}@{tp} {key}" for ta, tp in self.notify_targets(z)]
                lines.append("  notify-retry: 3")
            else:
                for pa, pp in z.primaries:
                    lines.append(f"  request-xfr: {pa}@{pp} {key}")
                for a in self.notify_senders(z):
                    lines.append(f"  allow-notify: {a} {key}")
                lines += ["  allow-axfr-fallback: yes", "  min-refresh-time: 1",
                          "  min-retry-time: 1", "  min-expire-time: 2", "  max-retry-time: 10"]
            if z.extra:
                lines.append(z.extra)
            out.append("\n".join(lines) + "\n")
            zones.append(f"zone:\n  name: {_dq(z.name)}\n  include-pattern: {_dq(pname)}\n")
        self.conf.write_text("\n".join(out + zones))

    def stop(self) -> None:
        """Write changed secondary zones to their files (NSD does not do that
        at shutdown), then stop, so that a restart keeps the transferred data."""
        if self.running and self.secondary_zones:
            self.control("write", check=False)
            for z in self.secondary_zones:
                if self.serial(z.name, timeout=0.3) is not None:
                    try:
                        wait_until(lambda: self.zone_file(z.name).exists(), 5,
                                   what=f"nsd to write {z.name}")
                    except TimeoutError:
                        pass
        super().stop()

    def control(self, *args, timeout=30.0, check=True):
        """Run ``nsd-control -c nsd.conf`` (unix socket) against this server."""
        return self._run_control([NSD_CONTROL, "-c", str(self.conf), *args], timeout, check)

    def reload(self, zone):
        self.control("reload", fqdn(zone))

    def notify(self, zone):
        self.control("notify", fqdn(zone))

    def refresh(self, zone):
        self.control("transfer", fqdn(zone))

    def retransfer(self, zone):
        self.control("force_transfer", fqdn(zone))

    def reconfigure(self):
        self.write_config()
        self.control("reconfig")


class KnotServer(AuthServer):
    """Knot DNS (``knotd -c knot.conf``), control via knotc on a unix socket.

    Knot 3.2 accepts NOTIFY only when an ACL allows it (automatic-acl is off by
    default), so the harness writes a notify ACL for the primaries (plus
    ``allow_notify``).
    """
    kind = "knot"
    checkconf = [KNOTC, "-c", "{conf}", "conf-check"]

    def __init__(self, fleet, name, addr, port=53):
        super().__init__(fleet, name, addr, port)
        #: write the notify ACL for secondary zones (False reproduces Knot's
        #: default: NOTIFY refused with NOTAUTH)
        self.notify_acl = True

    def argv(self):
        return [self.exe, "-c", str(self.conf)]

    @property
    def ctl_socket(self) -> Path:
        return self.fleet.sockdir / f"knot-{self.addr}-{self.port}.sock"

    def write_config(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.zonedir / "primary").mkdir(parents=True, exist_ok=True)
        (self.zonedir / "secondary").mkdir(parents=True, exist_ok=True)
        (self.dir / "db").mkdir(exist_ok=True)
        d = self.dir
        remotes: dict = {}

        def remote(addr, port, key):
            rid = f"r-{addr}-{port}" + (f"-{key.label}" if key else "")
            if rid not in remotes:
                r = (f"  - id: {rid}\n    address: {addr}@{port}\n"
                     f"    via: [{self.source4}, {self.source6}]\n")
                if key:
                    r += f"    key: {key.label}\n"
                remotes[rid] = r
            return rid

        acls: list = []
        zones: list = []
        for i, z in enumerate(self.zones.values()):
            zacl = []
            deny = self._acl_addrs(z.deny_transfer)
            if deny:
                acls.append(f"  - id: z{i}-deny\n    address: [{', '.join(deny)}]\n"
                            f"    action: transfer\n    deny: on\n")
                zacl.append(f"z{i}-deny")
            allow = (["0.0.0.0/0", "::/0"] if z.allow_transfer is None
                     else self._acl_addrs(z.allow_transfer))
            if allow:
                acls.append(f"  - id: z{i}-xfr\n    address: [{', '.join(allow)}]\n"
                            f"    action: transfer\n" + (f"    key: {z.tsig.label}\n" if z.tsig else ""))
                zacl.append(f"z{i}-xfr")
            lines = [f"  - domain: {_dq(z.name)}", f"    file: {_dq(str(self.zone_file(z.name)))}"]
            if z.role == "primary":
                self._write_zone_file(z)
                targets = [remote(ta, tp, z.tsig) for ta, tp in self.notify_targets(z)]
                if targets:
                    lines.append(f"    notify: [{', '.join(targets)}]")
                lines += ["    zonefile-sync: -1", "    zonefile-load: whole"]
            else:
                lines.append(f"    master: [{', '.join(remote(pa, pp, z.tsig) for pa, pp in z.primaries)}]")
                senders = self.notify_senders(z)
                if self.notify_acl:
                    acls.append(f"  - id: z{i}-notify\n    address: [{', '.join(senders)}]\n"
                                f"    action: notify\n"
                                + (f"    key: {z.tsig.label}\n" if z.tsig else ""))
                    zacl.append(f"z{i}-notify")
                lines += ["    zonefile-sync: 0"]
            if zacl:
                lines.append(f"    acl: [{', '.join(zacl)}]")
            if z.extra:
                lines.append(z.extra)
            zones.append("\n".join(lines) + "\n")
        keys = "".join(f"  - id: {k.label}\n    algorithm: {k.algorithm}\n    secret: {k.secret}\n"
                       for k in self.tsig_keys())
        conf = f"""# generated by the soasync system-test harness
server:
  rundir: "{d}"
  pidfile: "{d}/knot.pid"
  listen: {self.addr}@{self.port}
log:
  - target: "{self.log}"
    any: info
database:
  storage: "{d}/db"
control:
  listen: "{self.ctl_socket}"
""" + (f"key:\n{keys}" if keys else "") \
    + (f"remote:\n{''.join(remotes.values())}" if remotes else "") \
    + (f"acl:\n{''.join(acls)}" if acls else "") + """template:
  - id: default
    semantic-checks: off
    refresh-min-interval: 2
    retry-min-interval: 1
    retry-max-interval: 10
    expire-min-interval: 3
zone:
""" + "".join(zones)
        if not zones:
            conf = conf.rstrip().rsplit("\nzone:", 1)[0] + "\n"
        self.conf.write_text(conf)

    def control(self, *args, timeout=30.0, check=True):
        """Run ``knotc -s SOCKET`` against this server."""
        return self._run_control([KNOTC, "-s", str(self.ctl_socket), *args], timeout, check)

    def reload(self, zone):
        self.control("zone-reload", fqdn(zone))

    def notify(self, zone):
        self.control("zone-notify", fqdn(zone))

    def refresh(self, zone):
        self.control("zone-refresh", fqdn(zone))

    def retransfer(self, zone):
        self.control("zone-retransfer", fqdn(zone))

    def reconfigure(self):
        self.write_config()
        self.control("reload")


class PowerDnsServer(AuthServer):
    """PowerDNS Authoritative 4.7 (``pdns_server --config-dir=DIR``) with the
    bind backend: zones listed in a named.conf-style file and read from zone
    files, like the other three, so ``write_zone`` + ``bind-reload-now`` moves
    a serial at once.  Control via ``pdns_control`` on a unix socket.

    PowerDNS keeps per-zone ACLs and TSIG keys as zone metadata; the bind
    backend stores them in a small SQLite file (``bind-dnssec-db``) that the
    harness writes directly: ``ALLOW-AXFR-FROM`` (the global
    ``allow-axfr-ips`` stays empty, it would override every zone),
    ``TSIG-ALLOW-AXFR`` (transfers and signed NOTIFY) and
    ``AXFR-MASTER-TSIG`` (a secondary's key).  ``deny_transfer`` becomes the
    complement netmasks (PowerDNS has no deny rule).

    Differences from the others the harness accounts for (measured here):
    a secondary accepts NOTIFY only from its masters' addresses or from
    ``trusted-notification-proxy``, a *global* setting, so ``allow_notify``
    of any zone (and the IPv4 source of a primary on ``::1``) applies to all
    zones of the server, and so does a secondary zone's ``tsig`` for NOTIFY
    (``allow-unsigned-notify=no``: unsigned NOTIFY is refused for every
    zone); it has no "refresh now"
    command (``pdns_control retrieve`` transfers unconditionally), so
    :meth:`refresh` sends the NOTIFY the primary would send, from the
    primary's address; a primary notifies a changed serial on its own
    ``xfr-cycle-interval`` (1 s here) after ``bind-reload-now``.
    """
    kind = "pdns"
    checkconf = [PDNSUTIL, "--config-dir={dir}", "check-all-zones"]
    #: seconds between the primary's checks for changed serials (it sends
    #: NOTIFY for them) and the secondary's refresh checks; PowerDNS's
    #: default is 60
    xfr_cycle_interval = 1

    def __init__(self, fleet, name, addr, port=53):
        super().__init__(fleet, name, addr, port)
        self.log = self.out                     # it logs to stderr (disable-syslog)
        self.named_conf = self.dir / "named.conf"
        self.meta_db = self.dir / "meta.sqlite3"

    def argv(self):
        return [self.exe, f"--config-dir={self.dir}"]

    @property
    def ctl_dir(self) -> Path:
        return self.fleet.sockdir / f"pdns-{self.addr}-{self.port}"

    @staticmethod
    def _hostport(addr: str, port: int) -> str:
        return f"[{addr}]:{port}" if is_v6(addr) else f"{addr}:{port}"

    def transfer_acl(self, z: Zone) -> list:
        """The netmasks of the zone's ALLOW-AXFR-FROM (empty: key only / nobody)."""
        import ipaddress
        if z.tsig is not None:
            return []
        allow = (["0.0.0.0/0", "::/0"] if z.allow_transfer is None
                 else self._acl_addrs(z.allow_transfer))
        nets = [ipaddress.ip_network(a, strict=False) for a in allow]
        for d in self._acl_addrs(z.deny_transfer):
            hole = ipaddress.ip_network(d, strict=False)
            out = []
            for n in nets:
                if n.version == hole.version and hole.subnet_of(n):
                    out += list(n.address_exclude(hole)) if n != hole else []
                elif not (n.version == hole.version and n.subnet_of(hole)):
                    out.append(n)
            nets = out
        return [str(n) for n in nets]

    def _write_meta(self) -> None:
        import sqlite3
        rows = []
        for z in self.zones.values():
            name = z.name.rstrip(".") or "."
            rows += [(name, "ALLOW-AXFR-FROM", n) for n in self.transfer_acl(z)]
            if z.tsig is not None:
                rows.append((name, "TSIG-ALLOW-AXFR", z.tsig.name.rstrip(".")))
                if z.role == "secondary":
                    rows.append((name, "AXFR-MASTER-TSIG", z.tsig.name.rstrip(".")))
        keys = [(k.name.rstrip("."), k.algorithm, k.secret) for k in self.tsig_keys()]
        db = sqlite3.connect(self.meta_db, timeout=10)
        try:
            db.execute("PRAGMA synchronous=OFF")        # test data: no fsync
            with db:
                db.executescript(PDNS_META_SCHEMA)
                db.execute("DELETE FROM domainmetadata")
                db.execute("DELETE FROM tsigkeys")
                db.executemany("INSERT INTO domainmetadata (domain, kind, content) "
                               "VALUES (?, ?, ?)", rows)
                db.executemany("INSERT INTO tsigkeys (name, algorithm, secret) "
                               "VALUES (?, ?, ?)", keys)
        finally:
            db.close()

    def _pdns_conf(self) -> str:
        # NOTIFY senders that are not a listed primary address: allow_notify,
        # and the pinned source of a primary on ::1 towards IPv4 (PowerDNS
        # checks the sender against the masters, and nothing per zone widens that)
        proxies = []
        for z in self.secondary_zones:
            prims = {pa for pa, _ in z.primaries}
            proxies += [a for a in self.notify_senders(z) if a not in prims]
        d = self.dir
        return f"""# generated by the soasync system-test harness
launch=bind
bind-config={self.named_conf}
bind-dnssec-db={self.meta_db}
bind-check-interval=0
local-address={self.addr}
local-port={self.port}
query-local-address={self.source4} {self.source6}
socket-dir={self.ctl_dir}
daemon=no
guardian=no
disable-syslog=yes
log-timestamp=yes
# notice: transfers, NOTIFY in and out, refusals; info adds a line a second
loglevel=5
primary=yes
secondary=yes
# what the tests change must show at once
cache-ttl=0
query-cache-ttl=0
negquery-cache-ttl=0
zone-cache-refresh-interval=0
zone-metadata-cache-ttl=0
# notify changed serials and check due secondaries every second (default 60)
xfr-cycle-interval={self.xfr_cycle_interval}
# transfers: per zone (ALLOW-AXFR-FROM metadata), never this global list
allow-axfr-ips=
# NOTIFY goes to the zone's also-notify list only, not to every NS
only-notify=
trusted-notification-proxy={",".join(dict.fromkeys(proxies))}
# a zone with a key takes only signed NOTIFY (global: every zone of the server)
allow-unsigned-notify={"no" if any(z.tsig for z in self.secondary_zones) else "yes"}
security-poll-suffix=
webserver=no
api=no
distributor-threads=1
receiver-threads=1
retrieval-threads=2
signing-threads=1
max-tcp-connections=100
# never write anything outside {d}
bind-supermaster-destdir={d}
"""

    def _zone_lines(self, z: Zone) -> list:
        """The bind backend's named.conf statement body for one zone (it
        knows type, file, masters and also-notify; nothing else)."""
        file = f"file {_dq(str(self.zone_file(z.name)))};"
        extra = [z.extra] if z.extra else []
        if z.role == "secondary":
            masters = " ".join(f"{self._hostport(pa, pp)};" for pa, pp in z.primaries)
            return [f"type slave; {file}", f"masters {{ {masters} }};"] + extra
        self._write_zone_file(z)
        targets = " ".join(f"{self._hostport(ta, tp)};" for ta, tp in self.notify_targets(z))
        return ([f"type master; {file}"] + ([f"also-notify {{ {targets} }};"] if targets else [])
                + extra)

    def write_config(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.zonedir / "primary").mkdir(parents=True, exist_ok=True)
        (self.zonedir / "secondary").mkdir(parents=True, exist_ok=True)
        self.ctl_dir.mkdir(parents=True, exist_ok=True)
        zones = [f"zone {_dq(self._z(z.name))} {{\n  " + "\n  ".join(self._zone_lines(z))
                 + "\n};" for z in self.zones.values()]
        self.named_conf.write_text("# generated by the soasync system-test harness\n"
                                   + "\n".join(zones) + "\n")
        self._write_meta()
        self.conf.write_text(self._pdns_conf())

    def control(self, *args, timeout=30.0, check=True):
        """Run ``pdns_control --config-dir=DIR`` (unix socket) against this
        server; with ``check``, an answer naming an error raises."""
        out = self._run_control([PDNS_CONTROL, f"--config-dir={self.dir}", *args],
                                timeout, check)
        low = out.lower()
        if check and any(w in low for w in ("unknown", "error", "no such", "not a secondary",
                                             "failed")):
            raise HarnessError(f"pdns_control {' '.join(args)}: {out.strip()}")
        return out

    @staticmethod
    def _z(zone):
        return fqdn(zone).rstrip(".") or "."

    def reload(self, zone):
        """``pdns_control bind-reload-now ZONE`` (synchronous); the server
        notifies the changed serial on its next xfr cycle (<= 1 s)."""
        self.control("bind-reload-now", self._z(zone))

    def notify(self, zone):
        self.control("notify", self._z(zone))

    def refresh(self, zone):
        """Check the primary's serial now and transfer if it is newer.
        PowerDNS has no command for that (``retrieve`` transfers whatever
        the serial), so this sends the NOTIFY its primary would send: from
        the primary's address, which is what a PowerDNS secondary accepts."""
        z = self.zone(zone)
        if z.role != "secondary":
            raise HarnessError(f"{zone} is not secondary on {self.name}")
        pa, _ = z.primaries[0]
        msg = dns.message.make_query(fqdn(zone), "SOA")
        msg.set_opcode(dns.opcode.NOTIFY)
        msg.flags |= dns.flags.AA
        msg.flags &= ~dns.flags.RD
        if z.tsig:
            msg.use_tsig(z.tsig.keyring(), keyname=z.tsig.name)
        r = dns.query.udp(msg, self.addr, port=self.port, source=pa, timeout=2)
        if r.rcode() != dns.rcode.NOERROR:
            raise HarnessError(f"{self.name} answered the refresh NOTIFY for {zone} with "
                               f"{dns.rcode.to_text(r.rcode())}\n--- {self.log}:\n"
                               f"{_tail(self.log, 8)}")

    def retransfer(self, zone):
        self.control("retrieve", self._z(zone))

    def reconfigure(self):
        """Rewrite named.conf, metadata and pdns.conf; new or changed zones
        are applied with ``rediscover``, per-zone ACLs at once (metadata is
        read per query); a changed pdns.conf (trusted-notification-proxy)
        needs a restart, which this does."""
        old = self.conf.read_text() if self.conf.exists() else None
        self.write_config()
        if old != self.conf.read_text() and self.running:
            self.stop()
            self.start()
            return
        self.control("rediscover")


class Unbound(Daemon):
    """unbound (``unbound -d -c unbound.conf``): the fleet's recursive resolver,
    or (``lame=True``) a recursive server listed as an NS, which answers
    recursively without AA.

    Resolver settings: root hints pointing at the fleet's root server,
    ``do-not-query-localhost: no``, ``local-zone: "test." nodefault``,
    ``cache-max-ttl: 0`` (no stale answers between test steps),
    ``module-config: "iterator"`` (nothing is signed, so no validator),
    ``qname-minimisation`` as given (default yes, relaxed mode, which works with
    our servers), ``harden-referral-path: no`` (the default; "yes" adds
    extra NS queries to every server and is slower with lame NS).
    """
    kind = "unbound"
    checkconf = ["/usr/sbin/unbound-checkconf", "{conf}"]

    def __init__(self, fleet, name, addr, port=53, *, lame=False, qname_minimisation=True,
                 extra: str = ""):
        super().__init__(fleet, name, addr, port)
        self.lame = lame
        self.qname_minimisation = qname_minimisation
        self.extra = extra
        self.hints = self.dir / "root.hints"

    @property
    def ctl_socket(self) -> Path:
        return self.fleet.sockdir / f"unbound-{self.addr}-{self.port}.ctl"

    def argv(self):
        return [self.exe, "-d", "-c", str(self.conf)]

    def write_config(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        root = self.fleet.root
        if root is None:
            raise HarnessError("unbound needs the fleet's delegation (enable_delegation())")
        self.hints.write_text(f". 3600000 IN NS {root.name}\n"
                              + "\n".join(self.fleet.address_records(root.name, ttl=3600000))
                              + "\n")
        d = self.dir
        outgoing = [self.addr] + (["::1"] if not is_v6(self.addr) else [])
        cache = "" if self.lame else "  cache-max-ttl: 0\n  cache-max-negative-ttl: 0\n"
        acl = "allow_snoop" if self.lame else "allow"
        # a lame NS resolves through the delegation that lists itself: never
        # query ourselves (it would answer its own RD=0 queries from cache)
        selfish = f"  do-not-query-address: {self.addr}\n" if self.lame else ""
        conf = f"""# generated by the soasync system-test harness
server:
  verbosity: 1
  num-threads: 1
  interface: {self.addr}@{self.port}
  port: {self.port}
""" + "".join(f"  outgoing-interface: {o}\n" for o in outgoing) + f"""  do-ip4: yes
  do-ip6: yes
  do-udp: yes
  do-tcp: yes
  access-control: 0.0.0.0/0 {acl}
  access-control: ::/0 {acl}
  access-control: 127.0.0.0/8 {acl}
  access-control: ::1 {acl}
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: "{d}/unbound.pid"
  logfile: "{self.log}"
  use-syslog: no
  log-time-ascii: yes
  root-hints: "{self.hints}"
  do-not-query-localhost: no
  local-zone: "test." nodefault
{cache}  module-config: "iterator"
  qname-minimisation: {"yes" if self.qname_minimisation else "no"}
  harden-referral-path: no
  target-fetch-policy: "0 0 0 0 0"
  infra-keep-probing: yes
  infra-host-ttl: 10
  outgoing-range: 64
  num-queries-per-thread: 32
  so-reuseport: no
  msg-cache-size: 1m
  rrset-cache-size: 1m
  minimal-responses: no
  prefetch: no
  trust-anchor-signaling: no
  root-key-sentinel: no
{selfish}{self.extra}
remote-control:
  control-enable: yes
  control-interface: "{self.ctl_socket}"
  control-use-cert: no
"""
        self.conf.write_text(conf)

    def is_ready(self) -> bool:
        try:
            self.query("localhost.", "A", rd=True, timeout=0.2)
            return True
        except (dns.exception.Timeout, ConnectionRefusedError, OSError):
            return False

    def control(self, *args, timeout=30.0, check=True):
        """Run ``unbound-control -c unbound.conf`` against this resolver."""
        return self._run_control([UNBOUND_CONTROL, "-c", str(self.conf), *args], timeout, check)

    def prime(self, *zones: str, timeout: float = 20.0) -> None:
        """Resolve SOA and NS of ``zones`` (RD=1) until both are answered, so
        that this (lame) instance answers RD=0 queries for them from its cache,
        without AA.  Retries with a flushed cache: when the delegation also
        lists a server that only refers back to the zone (e.g. the parent's),
        unbound 1.17 scrubs that referral into an empty NOERROR (NODATA)
        whenever it picks that server."""
        def has(z: str, t: str) -> bool:
            try:
                m = self.resolve(z, t, timeout=2.0)
            except dns.exception.Timeout:
                return False        # it tried a dead or lame server first: again
            return any(rr.rdtype == dns.rdatatype.from_text(t) for rr in m.answer)

        for z in zones:
            def answered():
                if all(has(z, t) for t in ("NS", "SOA")):
                    return True
                self.control("flush_zone", fqdn(z))
                self.control("flush_infra", "all")
                return False
            wait_until(answered, timeout, interval=0, what=f"{self.name} to resolve {z} SOA+NS")

    def flush(self) -> None:
        """Forget cached data and server (infra) state."""
        self.control("flush_zone", ".")
        self.control("flush_infra", "all")
        self.control("flush_requestlist")

    def resolve(self, qname: str, rdtype: Union[str, int] = "A",
                timeout: float = 5.0) -> dns.message.Message:
        """Recursive query (RD=1) through this resolver."""
        return self.query(qname, rdtype, rd=True, timeout=timeout)


class SilentServer:
    """An address that swallows DNS: a UDP socket read by a thread that never
    answers, and a TCP socket that listens (the kernel completes handshakes)
    but never reads or replies."""
    kind = "silent"

    def __init__(self, addr: str, port: int = 53):
        self.addr, self.port = addr, port
        fam = socket.AF_INET6 if is_v6(addr) else socket.AF_INET
        self.udp = socket.socket(fam, socket.SOCK_DGRAM)
        self.udp.bind((addr, port))
        self.udp.settimeout(0.1)
        self.tcp = socket.socket(fam, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((addr, port))
        self.tcp.listen(64)
        self.received = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"silent-{addr}", daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.udp.recvfrom(65535)
                self.received += 1
            except socket.timeout:
                pass
            except OSError:
                return

    def stop(self):
        self._stop.set()
        self.thread.join(2)
        self.udp.close()
        self.tcp.close()


# --------------------------------------------------------------------------
# the fleet

_LIVE_FLEETS: list = []
_HANDLERS_INSTALLED = False


def _cleanup_all() -> None:
    for f in list(_LIVE_FLEETS):
        try:
            f.close()
        except Exception:                               # pragma: no cover - best effort
            pass


def _on_signal(signum, frame):
    _cleanup_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_cleanup_handlers() -> None:
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(_cleanup_all)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _on_signal)
        # SIGINT: Python raises KeyboardInterrupt, which unwinds through
        # Fleet.__exit__ and, at the latest, atexit.


class Fleet:
    """Owns a work directory, every daemon it starts and every lo alias it adds.

    ``Fleet(workdir, net=None)`` -- ``net`` is the /24 to use ("127.53.7" or
    "127.53.7.0/24"); None takes the first free one from 127.53.0 up.  A /24
    is claimed with an flock on ``/tmp/soasync-harness-NET.lock`` for the
    fleet's lifetime, so fleets of different processes never collide (an
    explicit ``net`` that is taken raises :class:`HarnessError`); closing the
    fleet removes the file (safely: see :meth:`_claim_net`).
    Use as a context manager (or call :meth:`close`).  A module-level atexit
    hook and SIGTERM/SIGHUP handlers close any fleet still open.
    """

    def __init__(self, workdir: Union[str, Path], net: Optional[str] = None):
        self._lock_fd: Optional[int] = None
        if net is None:
            self.net = self._claim_free_net()
        else:
            self.net = _norm_net(net)
            if not self._claim_net(self.net):
                raise HarnessError(f"{self.net}.0/24 is in use by another fleet "
                                   f"({_lock_path(self.net)}: {_lock_owner(self.net)})")
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        # short path for unix control sockets (108-byte limit), and scratch
        # space for bulk zone files; on tmpfs when available; removed by close()
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else "/tmp"
        self.rundir = Path(tempfile.mkdtemp(prefix="ssf-", dir=shm))
        self.sockdir = self.rundir
        self.daemons: list = []           # declared, in order
        self.names: dict = {}             # NS name -> address (glue registry)
        self.silent: list = []
        # Holding the /24's lock, any alias already in it is a leftover of a
        # fleet that could not clean up (a SIGKILLed harness): this fleet
        # takes it over and removes it when it closes.
        self._aliases_added: list = lo_aliases(self.net + ".")
        self._started: list = []          # daemons ever spawned (for cleanup)
        self._used_addrs: set = set()
        self._next_server = iter(SERVER_HOSTS)
        self._next_extra = iter(EXTRA_HOSTS)
        self._delegations: dict = {}      # child zone -> list of NS names (None: auto)
        self._gen = 0                     # bumped on every zone declaration
        self._tree: tuple = (-1, {})
        self.root: Optional[AuthServer] = None
        self.tld: Optional[AuthServer] = None
        self.tld_name: Optional[str] = None
        self.resolver: Optional[Unbound] = None
        self.timings: dict = {}
        self.closed = False
        _install_cleanup_handlers()
        _LIVE_FLEETS.append(self)

    # -- the /24 lock (one fleet per /24 across all processes on the machine)
    def _claim_net(self, net: str) -> bool:
        """flock the /24's lock file.  The holder unlinks the file when it
        releases the net, so a claim counts only if the locked file is still
        the one at the path: a process that opened the old file just before
        the unlink gets a lock nobody else looks at, and tries again."""
        import fcntl
        path = _lock_path(net)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            try:
                current = os.stat(path).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(fd).st_ino:
                break
            os.close(fd)                        # unlinked by its last holder: again
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}\n".encode())
        self._lock_fd = fd
        self._lock_path = path
        return True

    def _claim_free_net(self) -> str:
        first = int(DEFAULT_NET.split(".")[2])
        for i in list(range(first, 256)) + list(range(0, first)):
            net = f"127.53.{i}"
            if self._claim_net(net):
                return net
        raise HarnessError("no free /24 in 127.53.0.0/16")

    def _release_net(self) -> None:
        """Remove the lock file while still holding its lock (see _claim_net),
        then release it: no lock file is left behind."""
        if self._lock_fd is not None:
            try:
                os.unlink(self._lock_path)
            except FileNotFoundError:
                pass
            os.close(self._lock_fd)            # releases the flock
            self._lock_fd = None

    # -- context manager
    def __enter__(self) -> "Fleet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- addresses
    def addr(self, host: int) -> str:
        """Address ``NET.host`` of this fleet."""
        return f"{self.net}.{host}"

    @property
    def checker_addr(self) -> str:
        """The address reserved for the checker (``soasync --source``), on lo."""
        a = self.addr(CHECKER_HOST)
        self.ensure_alias(a)
        return a

    @property
    def harness_addr(self) -> str:
        """Source address of the harness's own dnspython queries."""
        return self.addr(HARNESS_HOST)

    def alloc_addr(self, extra: bool = False) -> str:
        """Next free address from the server (``.10``-``.199``) or extra
        (``.200``-``.249``) range."""
        it = self._next_extra if extra else self._next_server
        for host in it:
            a = self.addr(host)
            if a not in self._used_addrs:
                self._used_addrs.add(a)
                return a
        raise HarnessError("address range exhausted")

    def ensure_alias(self, addr: str) -> None:
        """Add ``addr``/32 to lo unless present (IPv4 only; ``::1`` always exists).
        Only aliases added here are removed by :meth:`close`."""
        self.ensure_aliases([addr])

    def ensure_aliases(self, addrs: Iterable[str]) -> None:
        want = [a for a in dict.fromkeys(addrs) if not is_v6(a) and a != "127.0.0.1"]
        if not want:
            return
        present = set(_lo_v4_addrs())
        todo = [a for a in want if a not in present]
        if not todo:
            return
        batch = "".join(f"address add {a}/32 dev lo\n" for a in todo)
        r = subprocess.run([IP, "-batch", "-"], input=batch, text=True, capture_output=True)
        if r.returncode != 0:
            now = set(_lo_v4_addrs())
            self._aliases_added += [a for a in todo if a in now and a not in present]
            raise HarnessError(f"ip address add failed: {r.stderr.strip()}")
        self._aliases_added += todo

    def _remove_aliases(self) -> None:
        present = set(_lo_v4_addrs())
        todo = [a for a in self._aliases_added if a in present]
        if todo:
            batch = "".join(f"address del {a}/32 dev lo\n" for a in todo)
            subprocess.run([IP, "-force", "-batch", "-"], input=batch, text=True,
                           capture_output=True)
        self._aliases_added = []

    @staticmethod
    def free_tcp_port(addr: str) -> int:
        fam = socket.AF_INET6 if is_v6(addr) else socket.AF_INET
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.bind((addr, 0))
            return s.getsockname()[1]

    # -- declaring servers
    def _add(self, cls, name, addr, port, **kw):
        if self.closed:
            raise HarnessError("fleet is closed")
        addr = addr or self.alloc_addr()
        self._used_addrs.add(addr)
        for d in self.daemons:
            if d.addr == addr and d.port == port:
                raise HarnessError(f"{addr}@{port} already used by {d}")
        srv = cls(self, name, addr, port, **kw)
        if srv.dir.exists():            # stale state from an earlier fleet in this workdir
            shutil.rmtree(srv.dir)
        self.daemons.append(srv)
        if port == 53:
            self.names.setdefault(srv.name, addr)
        return srv

    def bind(self, name: str, addr: Optional[str] = None, port: int = 53) -> BindServer:
        """Declare a BIND 9 server (address allocated if not given)."""
        return self._add(BindServer, name, addr, port)

    def nsd(self, name: str, addr: Optional[str] = None, port: int = 53) -> NsdServer:
        """Declare an NSD server."""
        return self._add(NsdServer, name, addr, port)

    def knot(self, name: str, addr: Optional[str] = None, port: int = 53) -> KnotServer:
        """Declare a Knot DNS server."""
        return self._add(KnotServer, name, addr, port)

    def pdns(self, name: str, addr: Optional[str] = None, port: int = 53) -> "PowerDnsServer":
        """Declare a PowerDNS Authoritative server (bind backend)."""
        return self._add(PowerDnsServer, name, addr, port)

    def server(self, kind: str, name: str, addr: Optional[str] = None, port: int = 53) -> AuthServer:
        """Declare an authoritative server of ``kind`` (one of :data:`KINDS`)."""
        return {"bind": self.bind, "nsd": self.nsd, "knot": self.knot,
                "pdns": self.pdns}[kind](name, addr, port)

    def unbound(self, name: str, addr: Optional[str] = None, port: int = 53, *,
                lame: bool = False, **kw) -> Unbound:
        """Declare an unbound instance (``lame=True``: a recursive server meant
        to be listed as an NS; it answers without AA)."""
        return self._add(Unbound, name, addr or self.alloc_addr(extra=True), port, lame=lame, **kw)

    def add_name(self, name: str, addr: str) -> None:
        """Register ``name`` -> ``addr`` for glue/address records (e.g. a lame
        NS name pointing at a closed or silent address)."""
        self.names[fqdn(name)] = addr

    # -- delegation
    def enable_delegation(self, tld: str = "test.", *, root_kind: str = "knot",
                          tld_kind: str = "knot", resolver: bool = True,
                          qname_minimisation: bool = True, resolver_extra: str = "") -> Unbound:
        """Create the root server (``NET.1``, ``a.root-servers.``, serving ``.``
        and delegating ``tld``), the TLD server (``NET.2``, ``ns.<tld>``) and
        unbound as resolver (``NET.3``; ``resolver_extra``: raw ``server:``
        lines, e.g. ``"  harden-referral-path: yes"``).  Every primary zone below ``tld`` is
        delegated automatically with its own NS set unless :meth:`delegate`
        says otherwise.  Returns the resolver (or None)."""
        if self.root is not None:
            raise HarnessError("delegation already enabled")
        self.tld_name = fqdn(tld)
        self.root = self.server(root_kind, ROOT_NS_NAME, self.addr(ROOT_HOST))
        self.root.primary(".", serial=1, ns=[ROOT_NS_NAME], timers=Timers(1800, 900, 604800, 0))
        self.tld = self.server(tld_kind, "ns." + self.tld_name, self.addr(TLD_HOST))
        self.tld.primary(self.tld_name, serial=1, ns=[self.tld.name], timers=Timers(1800, 900, 604800, 0))
        if resolver:
            self.resolver = self.unbound("resolver.", self.addr(RESOLVER_HOST),
                                         qname_minimisation=qname_minimisation,
                                         extra=resolver_extra)
        return self.resolver

    def delegate(self, zone: str, ns: Optional[Sequence] = None) -> None:
        """Set the parent-side NS set of ``zone`` (names, servers or
        ``(name, addr)`` pairs, which also register glue).  ``ns=None``: the
        child's own NS set.  Use this to make parent and child NS differ or to
        list lame servers.  Call :meth:`update_delegation` if already started."""
        names = None
        if ns is not None:
            names = []
            for n in ns:
                if isinstance(n, tuple):
                    self.add_name(n[0], n[1])
                    n = n[0]
                names.append(n.name if isinstance(n, Daemon) else fqdn(n))
        self._delegations[fqdn(zone)] = names
        self._gen += 1

    def update_delegation(self) -> None:
        """Rewrite and reload the root and TLD zones (bumping their serials)."""
        for srv, zone in ((self.root, "."), (self.tld, self.tld_name)):
            if srv is not None and srv.running:
                srv.bump(zone)

    def _zone_parents(self) -> dict:
        """{child zone: closest enclosing zone served or delegated in this fleet}."""
        if self._tree[0] == self._gen:
            return self._tree[1]
        zones = set(self._delegations)
        for d in self.daemons:
            if isinstance(d, AuthServer):
                zones.update(z.name for z in d.primary_zones)
        parents = {}
        for z in zones:
            p = z
            while p != ".":
                p = parent_of(p)
                if p in zones:
                    parents[z] = p
                    break
        children: dict = {}
        for c, p in parents.items():
            children.setdefault(p, []).append(c)
        self._tree = (self._gen, children)
        return children

    def _delegated_children(self, parent: str) -> dict:
        """{child: NS names} delegated from ``parent``: every zone of the fleet
        whose closest enclosing fleet zone is ``parent``; NS from
        :meth:`delegate` or else the child's own NS set."""
        out: dict = {}
        for child in sorted(self._zone_parents().get(fqdn(parent), [])):
            ns = self._delegations.get(child)
            ns = ns if ns is not None else self.ns_set(child)
            if ns:
                out[child] = ns
        return out

    def delegation_records(self, zone: str, seen: set) -> list:
        """NS and glue lines for the children delegated from ``zone``."""
        lines = []
        for child, ns in self._delegated_children(zone).items():
            lines += [f"{child} IN NS {n}" for n in ns]
            for n in ns:
                if n not in seen and in_domain(n, zone):
                    seen.add(n)
                    lines += self.address_records(n)
        return lines

    def address_records(self, name: str, ttl: Optional[int] = None) -> list:
        name = fqdn(name)
        addr = self.names.get(name)
        if addr is None:
            return []
        t = f" {ttl}" if ttl else ""
        return [f"{name}{t} IN {'AAAA' if is_v6(addr) else 'A'} {addr}"]

    # -- zone relationships
    def servers_of(self, zone: str) -> list:
        """All authoritative servers with ``zone`` configured (primary first)."""
        zone = fqdn(zone)
        srv = [d for d in self.daemons if isinstance(d, AuthServer) and zone in d.zones]
        return sorted(srv, key=lambda d: d.zones[zone].role != "primary")

    def primary_of(self, zone: str) -> Optional[AuthServer]:
        for d in self.servers_of(zone):
            if d.zones[fqdn(zone)].role == "primary":
                return d
        return None

    def ns_set(self, zone: str, primary: Optional[AuthServer] = None) -> list:
        """The child NS set of ``zone``: the primary's explicit ``ns`` or every
        non-hidden server of the zone."""
        zone = fqdn(zone)
        primary = primary or self.primary_of(zone)
        z = primary.zones.get(zone) if primary else None
        if z is not None and z.ns is not None:
            return [n.name if isinstance(n, Daemon) else fqdn(n) for n in z.ns]
        return [d.name for d in self.servers_of(zone) if not d.zones[zone].hidden]

    def default_notify(self, primary: AuthServer, zone: str) -> list:
        """NOTIFY targets: fleet secondaries of ``zone`` whose primaries include
        ``primary`` and which have ``notified=True``."""
        me = (primary.addr, primary.port)
        out = []
        for d in self.servers_of(zone):
            z = d.zones[fqdn(zone)]
            if d is not primary and z.role == "secondary" and z.notified and me in z.primaries:
                out.append((d.addr, d.port))
        return out

    # -- start / stop
    def start(self, timeout: float = 30.0) -> None:
        """Start every declared daemon not yet running; return when all are ready.

        Configs and zone files are generated now (so all declarations are
        known).  Daemons start in layers -- first those that are nobody's
        secondary within this batch, then their secondaries -- each layer in
        parallel; a daemon is ready when it answers SOA queries for all its
        zones with its primary serials.  Finally every secondary zone is
        waited for (and kicked with a refresh if needed) until it serves its
        primary's serial.  The root/TLD zones are rewritten if the delegation
        changed.  Raises :class:`DaemonFailed` with log tails on failure.
        """
        t0 = time.monotonic()
        todo = [d for d in self.daemons if not d.running]
        if self.root is not None and any(d.running for d in (self.root, self.tld)):
            self.update_delegation()
        self.ensure_aliases([d.addr for d in todo] + [self.harness_addr])
        for d in todo:
            d.write_config()
        t_conf = time.monotonic()
        layers = self._layers(todo)
        deadline = time.monotonic() + timeout
        for layer in layers:
            for d in layer:
                d.spawn()
            self._wait_ready(layer, deadline)
        t_ready = time.monotonic()
        self.wait_synced(servers=todo, timeout=max(1.0, deadline - time.monotonic()))
        t_end = time.monotonic()
        self.timings = {"config": t_conf - t0, "ready": t_ready - t_conf,
                        "sync": t_end - t_ready, "total": t_end - t0}

    def _layers(self, todo: list) -> list:
        pending = list(todo)
        by_ep = {(d.addr, d.port): d for d in todo}
        layers = []
        placed: set = set()
        while pending:
            layer = []
            for d in pending:
                deps = set()
                if isinstance(d, AuthServer):
                    for z in d.secondary_zones:
                        deps.update(by_ep.get(p) for p in z.primaries)
                deps.discard(None)
                deps.discard(d)
                if deps <= placed:
                    layer.append(d)
            if not layer:               # cycle: start the rest together
                layer = pending
            layers.append(layer)
            placed.update(layer)
            pending = [d for d in pending if d not in placed]
        return layers

    def _wait_ready(self, daemons: list, deadline: float) -> None:
        waiting = list(daemons)

        def all_ready():
            for d in list(waiting):
                d.check_alive()
                if d.is_ready():
                    waiting.remove(d)
                    d.ready_after = time.monotonic() - d.spawned_at
            return not waiting
        try:
            wait_until(all_ready, max(0.0, deadline - time.monotonic()),
                       what="daemons to be ready")
        except TimeoutError:
            raise DaemonFailed("\n\n".join(d.failure_text("not ready in time")
                                           for d in waiting)) from None

    def wait_synced(self, zone: Optional[str] = None, servers: Optional[list] = None,
                    timeout: float = 15.0, kick_after: float = 1.0) -> None:
        """Wait until every secondary zone (of ``zone`` only, or on ``servers``
        only) serves its primary's current serial.  Zones still behind after
        ``kick_after`` seconds get one explicit refresh."""
        targets = []          # (server, zone, expected)
        for d in servers if servers is not None else self.daemons:
            if not isinstance(d, AuthServer):
                continue
            for z in d.secondary_zones:
                if zone is not None and z.name != fqdn(zone):
                    continue
                prim = self._primary_at(z.primaries)
                if prim is None:
                    continue
                targets.append((d, z.name, prim.zones[z.name].serial))
        if not targets:
            return
        by_server: dict = {}
        for d, zname, serial in targets:
            by_server.setdefault(d, {})[zname] = serial
        start = time.monotonic()
        state = {"kicked": False, "behind": {}}

        def synced():
            behind = {}
            for d, want in by_server.items():
                d.check_alive()
                got = d.serials(list(want), timeout=3.0)
                lag = {z: s for z, s in want.items() if got.get(z) != s}
                if lag:
                    behind[d] = lag
            state["behind"] = behind
            if behind and not state["kicked"] and time.monotonic() - start >= kick_after:
                state["kicked"] = True
                for d, lag in behind.items():
                    if isinstance(d, KnotServer):
                        d.control("zone-refresh", *lag)
                    else:
                        for z in list(lag)[:50]:
                            d.refresh(z)
            return not behind
        try:
            # all in sync, and still so STABLE seconds later
            wait_until(synced, timeout, stable=STABLE, what="secondaries in sync")
        except TimeoutError:
            behind = state["behind"]
            desc = "; ".join(f"{d.name}: {sorted(lag)[:5]}{'...' if len(lag) > 5 else ''}"
                             for d, lag in behind.items())
            raise HarnessError(f"secondaries not in sync after {timeout:g}s: {desc}\n"
                               + "\n".join(f"--- {d.log}:\n{_tail(d.log, 10)}"
                                           for d in behind)) from None

    def _primary_at(self, endpoints) -> Optional[AuthServer]:
        for d in self.daemons:
            if isinstance(d, AuthServer) and (d.addr, d.port) in endpoints:
                return d
        return None

    def _register(self, d: Daemon) -> None:
        if d not in self._started:
            self._started.append(d)

    def silent_address(self, addr: Optional[str] = None, port: int = 53) -> str:
        """Start a :class:`SilentServer` and return its address."""
        addr = addr or self.alloc_addr(extra=True)
        self.ensure_alias(addr)
        self.silent.append(SilentServer(addr, port))
        return addr

    def closed_address(self) -> str:
        """An address of this fleet where nothing listens (UDP gets ICMP port
        unreachable, TCP gets RST)."""
        addr = self.alloc_addr(extra=True)
        self.ensure_alias(addr)
        return addr

    def stop(self) -> None:
        """Stop every daemon this fleet started (they can be restarted)."""
        stop_daemons([d for d in self._started if d.proc is not None])

    def close(self) -> None:
        """Stop everything, remove the lo aliases this fleet added and the socket
        directory.  Idempotent; the work directory (logs) is kept."""
        if self.closed:
            return
        self.closed = True
        try:
            self.stop()
        finally:
            for s in self.silent:
                s.stop()
            self.silent = []
            self._remove_aliases()
            shutil.rmtree(self.rundir, ignore_errors=True)
            self._release_net()
            if self in _LIVE_FLEETS:
                _LIVE_FLEETS.remove(self)

    @property
    def pids(self) -> list:
        return [d.pid for d in self._started if d.pid is not None]

    @property
    def aliases(self) -> list:
        """lo aliases added by this fleet (and not yet removed)."""
        return list(self._aliases_added)

    def describe(self) -> str:
        """A human-readable table of the daemons and their zones."""
        rows = []
        for d in self.daemons:
            zones = ""
            if isinstance(d, AuthServer):
                zones = ", ".join(f"{z.name}({z.role[0]}{'@' + str(z.serial) if z.role == 'primary' else ''})"
                                  for z in list(d.zones.values())[:4])
                if len(d.zones) > 4:
                    zones += f", ... ({len(d.zones)} zones)"
            if isinstance(d, Unbound):
                zones = "lame recursive NS" if d.lame else "resolver"
            rows.append(f"  {d.kind:7} {d.name:28} {d.endpoint:20} pid {d.pid or '-':>7}  {zones}")
        return "\n".join(rows)


def _norm_net(net: str) -> str:
    parts = net.split("/")[0].split(".")
    if len(parts) == 4:
        parts = parts[:3]
    if len(parts) != 3 or parts[0] != "127" or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise ValueError(f"net must be a /24 inside 127.0.0.0/8, got {net!r}")
    return ".".join(parts)


def _lock_path(net: str) -> str:
    return f"/tmp/soasync-harness-{net}.lock"


def _lock_owner(net: str) -> str:
    try:
        return Path(_lock_path(net)).read_text().strip() or "?"
    except OSError:
        return "?"


def _lo_v4_addrs() -> list:
    r = subprocess.run([IP, "-o", "-4", "addr", "show", "dev", "lo"], capture_output=True,
                       text=True, check=True)
    out = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if "inet" in parts:
            out.append(parts[parts.index("inet") + 1].split("/")[0])
    return out


def lo_aliases(net: str = "127.53.") -> list:
    """IPv4 addresses on lo starting with ``net`` (for leak checks)."""
    return [a for a in _lo_v4_addrs() if a.startswith(net)]


def processes_of(exes: Iterable[str] = tuple(BINARIES.values())) -> list:
    """(pid, exe) of live processes running any of ``exes`` (for leak checks)."""
    out = []
    exes = set(exes)
    for d in os.listdir("/proc"):
        if d.isdigit():
            for e in exes:
                if pid_runs(int(d), e):
                    out.append((int(d), e))
    return out


# --------------------------------------------------------------------------
# scenario builders


@dataclass
class ZoneSet:
    """One zone on a primary and its secondaries, as built by the scenario helpers."""
    fleet: Fleet
    zone: str
    primary: AuthServer
    secondaries: list
    laggard: Optional[AuthServer] = None
    notes: dict = field(default_factory=dict)

    @property
    def servers(self) -> list:
        return [self.primary] + list(self.secondaries)

    @property
    def serial(self) -> int:
        return self.primary.zone(self.zone).serial

    def serials(self) -> dict:
        """``{server name: serial or None}`` as each server answers now."""
        return {s.name: s.serial(self.zone) for s in self.servers}

    def bump(self, by: int = 1, **kw) -> int:
        return self.primary.bump(self.zone, by, **kw)

    def wait_synced(self, servers: Optional[list] = None, timeout: float = 10.0) -> None:
        for s in servers if servers is not None else self.secondaries:
            s.wait_serial(self.zone, self.serial, timeout)


def other_kinds(primary: str, count: int = 2, include: Optional[str] = None) -> tuple:
    """``count`` secondary kinds for a mixed fleet whose primary is of kind
    ``primary``: the first other kinds in :data:`KINDS` order (so BIND, NSD
    and Knot fleets stay what they were before PowerDNS joined: bind ->
    nsd, knot; nsd -> bind, knot; knot -> bind, nsd; pdns -> bind, nsd), with
    ``include`` (a kind that must be among them, e.g. the victim of a test)
    in place of the last one if it is not there already."""
    kinds = [k for k in KINDS if k != primary][:count]
    if include is not None and include != primary and include not in kinds:
        kinds[-1] = include
    return tuple(kinds)


def standard_zone(fleet: Fleet, zone: str = "example.test.", *, primary: str = "bind",
                  secondaries: Sequence[str] = ("nsd", "knot"), serial: int = 1,
                  records: Optional[Sequence[str]] = None, hidden_primary: bool = False,
                  timers: Optional[Timers] = None, tsig: Optional[TsigKey] = None,
                  notified: Optional[Sequence[bool]] = None, addr6: bool = False,
                  names: Optional[Sequence[str]] = None, start: bool = True,
                  **primary_opts) -> ZoneSet:
    """Declare ``zone`` on a ``primary`` kind and ``secondaries`` kinds named
    ``ns1.<zone>``, ``ns2.<zone>``, ... (the primary is ``hidden.<zone>`` when
    ``hidden_primary``), start the fleet and wait until all are in sync.

    ``notified[i]=False`` keeps secondary i off the primary's NOTIFY list;
    ``addr6=True`` puts the primary on ``::1``; ``primary_opts`` go to
    :meth:`AuthServer.primary` (allow_transfer, deny_transfer, ns, ...).
    """
    zone = fqdn(zone)
    base = zone.rstrip(".")
    if names is None:
        names = [f"ns{i + 1}.{base}." for i in range(1 + len(secondaries))]
        if hidden_primary:
            names[0] = f"hidden.{base}."
    p = fleet.server(primary, names[0], "::1" if addr6 else None)
    p.primary(zone, serial, records or ["www IN A 192.0.2.1", "@ IN TXT \"soasync test zone\""],
              timers=timers, tsig=tsig, hidden=hidden_primary, **primary_opts)
    secs = []
    for i, kind in enumerate(secondaries):
        s = fleet.server(kind, names[i + 1])
        s.secondary(zone, p, tsig=tsig, notified=True if notified is None else notified[i])
        secs.append(s)
    zs = ZoneSet(fleet, zone, p, secs)
    if start:
        fleet.start()
    return zs


def scenario_behind(fleet: Fleet, zone: str = "example.test.", *, laggard: int = 0,
                    by: int = 1, **kw) -> ZoneSet:
    """One secondary is behind: all synced at serial N, then the primary moves
    to N+``by`` and reloads; NOTIFY goes to every secondary except
    ``secondaries[laggard]``, whose refresh timer is long (3600 s).  Returns
    with the others at N+by and the laggard (``zs.laggard``) still at N."""
    n = len(kw.get("secondaries", ("nsd", "knot")))
    notified = [i != laggard for i in range(n)]
    zs = standard_zone(fleet, zone, notified=notified, **kw)
    old = zs.serial
    zs.laggard = zs.secondaries[laggard]
    zs.bump(by)
    zs.wait_synced([s for s in zs.secondaries if s is not zs.laggard])
    if zs.laggard.serial(zs.zone) != old:
        raise HarnessError(f"laggard {zs.laggard.name} moved to {zs.laggard.serial(zs.zone)}")
    zs.notes.update(old=old, new=zs.serial)
    return zs


def scenario_backwards(fleet: Fleet, zone: str = "example.test.", *, high: int = 20,
                       low: int = 10, **kw) -> ZoneSet:
    """The primary went backwards: secondaries transferred ``high``, then the
    primary was reloaded with the lower serial ``low`` (and told to notify).
    The secondaries keep ``high``; the primary serves ``low``."""
    zs = standard_zone(fleet, zone, serial=high, **kw)
    zs.primary.write_zone(zs.zone, low)
    zs.primary.notify(zs.zone)
    zs.notes.update(high=high, low=low)
    return zs


def scenario_serial_step_2_31(fleet: Fleet, zone: str = "example.test.", *, start_serial: int = 1,
                              secondaries: Sequence[str] = ("bind", "nsd", "knot"),
                              primary: str = "knot", wait: bool = True, **kw) -> ZoneSet:
    """Primary steps its serial by exactly 2^31 and notifies.  Measured here:
    BIND 9.18 does not transfer, NSD 4.6 and Knot 3.2 do.  With ``wait`` this
    returns once the NSD/Knot secondaries show the new serial (``zs.notes``:
    old, new, and ``moved``: names of secondaries that transferred)."""
    zs = standard_zone(fleet, zone, serial=start_serial, primary=primary,
                       secondaries=secondaries, **kw)
    old = zs.serial
    new = zs.bump(1 << 31)
    if wait:
        for s in zs.secondaries:
            if s.kind in ("nsd", "knot"):
                s.wait_serial(zs.zone, new)
    zs.notes.update(old=old, new=new,
                    moved=[s.name for s in zs.secondaries if s.serial(zs.zone) == new])
    return zs


def scenario_expired(fleet: Fleet, zone: str = "example.test.", *,
                     secondaries: Sequence[str] = ("bind", "nsd", "knot"), primary: str = "knot",
                     timers: Timers = FAST_EXPIRE, method: str = "stop", wait: bool = True,
                     timeout: float = 30.0, **kw) -> ZoneSet:
    """Secondaries expire: they transfer with short SOA timers (refresh 2, retry 1,
    expire 4), then the primary stops (``method="stop"``) or refuses them
    transfers after a serial bump (``method="refuse"``).  With ``wait``
    returns when every secondary that expires (:data:`EXPIRES`; PowerDNS
    never does) answers SERVFAIL (``zs.notes["expired_after"]`` seconds)."""
    zs = standard_zone(fleet, zone, primary=primary, secondaries=secondaries, timers=timers, **kw)
    t0 = time.monotonic()
    if method == "stop":
        zs.primary.stop()
    elif method == "refuse":
        zs.primary.zone(zs.zone).deny_transfer = list(zs.secondaries)
        zs.primary.reconfigure()
        zs.bump()
    else:
        raise ValueError(method)
    if wait:
        for s in zs.secondaries:
            if EXPIRES[s.kind]:
                s.wait_rcode(zs.zone, "SERVFAIL", timeout)
        zs.notes["expired_after"] = time.monotonic() - t0
    return zs


def scenario_refused_transfer(fleet: Fleet, zone: str = "example.test.", *, victim: int = 0,
                              **kw) -> ZoneSet:
    """After the initial sync the primary refuses transfers to
    ``secondaries[victim]`` (config change applied live), then moves to N+1
    and notifies everyone: the others follow, the victim stays at N
    (``zs.laggard``) and its refresh/retransfer attempts are refused."""
    zs = standard_zone(fleet, zone, **kw)
    victim_srv = zs.secondaries[victim]
    zs.primary.zone(zs.zone).deny_transfer = [victim_srv.addr]
    zs.primary.reconfigure()
    old = zs.serial
    zs.bump()
    zs.wait_synced([s for s in zs.secondaries if s is not victim_srv])
    zs.laggard = victim_srv
    zs.notes.update(old=old, new=zs.serial)
    return zs


def refusing_server(fleet: Fleet, name: str, kind: str = "nsd",
                    zone: Optional[str] = None) -> AuthServer:
    """A running server that does not serve the zone under test (it serves
    only ``zone``, default ``other.test.``, ``other2.test.``, ... whichever is
    free): asked for another zone it answers REFUSED (all three vendors).
    Declared only; started by the next :meth:`Fleet.start`."""
    if zone is None:
        served = set(fleet._zone_parents()) | {z for d in fleet.daemons
                                                if isinstance(d, AuthServer) for z in d.zones}
        n = 1
        while (zone := f"other{n if n > 1 else ''}.{fleet.tld_name or 'test.'}") in served:
            n += 1
    srv = fleet.server(kind, name)
    srv.primary(zone, 1, ns=[srv.name])
    return srv


def lame_recursive(fleet: Fleet, name: str, addr: Optional[str] = None) -> Unbound:
    """An unbound registered as ``name``: listed as NS it answers recursively
    (RA, no AA).  Declared only; started by the next :meth:`Fleet.start`."""
    u = fleet.unbound(name, addr, lame=True)
    fleet.names[u.name] = u.addr
    return u


@dataclass
class ManyZones:
    zones: list
    primary: AuthServer
    secondaries: list
    behind: list
    laggard: AuthServer
    timings: dict


def many_zones(fleet: Fleet, n: int = 2000, *, kinds: Sequence[str] = ("knot", "nsd", "bind"),
               behind: Sequence[int] = (7, 1234), laggard: int = 1, prefix: str = "z",
               parent: str = "test.", preseed: bool = True, scratch: bool = True,
               start: bool = True) -> ManyZones:
    """``n`` zones (``z0000.test.`` ...) on a primary (``kinds[0]``) and two
    secondaries; the zones with index in ``behind`` are then bumped on the
    primary with NOTIFY withheld from secondary ``kinds[laggard]``, which is
    left behind on exactly those zones.

    ``preseed=True`` writes the secondaries' zone files before start (the same
    data they would transfer) so start-up does not need n AXFRs per secondary
    (measured for 2,000 zones: 1.3-2.1 s preseeded, 7-23 s with 4,000 initial
    AXFRs, slowest with BIND as the primary).  The
    laggard's behind zones are not preseeded: a secondary that loads a zone
    from disk re-checks the primary some seconds after start (BIND schedules
    that refresh a few seconds out), which would undo the lag; a zone
    transferred at start gets a fresh refresh timer (SOA refresh, 3600 s).  ``scratch=True`` keeps the
    zone files on tmpfs (creating thousands of files on this ext4 costs about
    0.3-0.7 ms each).  Timings go to ``.timings``.
    """
    t0 = time.monotonic()
    width = max(4, len(str(n - 1)))
    zones = [fqdn(f"{prefix}{i:0{width}d}.{fqdn(parent)}") for i in range(n)]
    behind = [i for i in behind if i < n]
    p = fleet.server(kinds[0], f"ns1.{prefix}-zones.{fqdn(parent)}")
    secs = [fleet.server(k, f"ns{i + 2}.{prefix}-zones.{fqdn(parent)}") for i, k in enumerate(kinds[1:])]
    lag = secs[laggard - 1]
    if scratch:
        for srv in [p] + secs:
            srv.use_scratch_zonedir()
    behind_set = set(zones[i] for i in behind)
    for z in zones:
        p.primary(z, 1, ["www IN A 192.0.2.1"], ns=[p.name] + [s.name for s in secs])
        for s in secs:
            s.secondary(z, p, notified=not (s is lag and z in behind_set))
    if preseed:
        for s in secs:
            for z in zones:
                if s is lag and z in behind_set:
                    continue        # transferred at start, so its refresh timer is fresh
                path = s.zone_file(z)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(p.render_zone(p.zones[z]))
    t_decl = time.monotonic()
    timings = {"declare": t_decl - t0}
    if start:
        fleet.start(timeout=120)
        timings["start"] = dict(fleet.timings)
        t1 = time.monotonic()
        for z in sorted(behind_set):
            p.write_zone(z, 2, wait=False)
        for z in sorted(behind_set):
            p.wait_serial(z, 2)
        others = [s for s in secs if s is not lag]
        for s in others:
            for z in sorted(behind_set):
                s.wait_serial(z, 2)
        got = lag.serials(sorted(behind_set))
        if any(v != 1 for v in got.values()):
            raise HarnessError(f"laggard {lag.name} not behind: {got}")
        timings["bump"] = time.monotonic() - t1
    timings["total"] = time.monotonic() - t0
    return ManyZones(zones, p, secs, sorted(behind_set), lag, timings)


if __name__ == "__main__":                                   # pragma: no cover
    import argparse
    import sys

    ap = argparse.ArgumentParser(description="soasync harness maintenance")
    ap.add_argument("--remove-aliases", metavar="NET",
                    help="remove every /32 alias NET.x from lo (recovery after a harness "
                         "process was SIGKILLed; make sure no fleet on NET is running)")
    ap.add_argument("--list", action="store_true",
                    help="list lo aliases in 127.53.0.0/16 and running named/nsd/knotd/unbound")
    a = ap.parse_args()
    if a.remove_aliases:
        net = a.remove_aliases.split("/")[0].rsplit(".", 1)[0] \
            if a.remove_aliases.count(".") == 3 else a.remove_aliases
        gone = lo_aliases(net + ".")
        for addr in gone:
            subprocess.run([IP, "addr", "del", f"{addr}/32", "dev", "lo"], check=False)
        print(f"removed {len(gone)} aliases: {' '.join(gone)}")
    if a.list or not a.remove_aliases:
        print("lo aliases:", " ".join(lo_aliases("127.53.")) or "none")
        for pid, exe in processes_of():
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                cwd = "?"
            print(f"{pid:>8} {exe:18} cwd {cwd}")
    sys.exit(0)
