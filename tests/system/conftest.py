"""pytest fixtures for soasync system tests (real servers, see harness.py).

Fixtures
--------
``fleet``         factory: ``fleet(delegation=False, net=None, **kw) -> Fleet``.
                  Each call gets its own work directory under ``tmp_path`` and
                  its own /24 (the first free one from 127.53.0 up, locked
                  machine-wide while the fleet lives); every fleet is closed at
                  teardown even if the test failed.
``soasync_bin``   path of the binary under test: ``$SOASYNC`` or
                  ``<repo>/build/soasync``; skips (or, with
                  ``SOASYNC_REQUIRED=1``, fails) with a clear message if missing.
``run_soasync``   ``run_soasync(*args, timeout=60, input=None) -> SoasyncResult``
                  with ``rc``, ``out``, ``err``, ``argv`` and ``json_lines()``.
``wait_until``    the harness's ``wait_until(fn, timeout=10, interval=0.02)``.
``ipv6_loopback`` skips the test when ``[::1]`` is unusable on this machine.

``SOASYNC_TMP_KEEP=failed`` (set by scripts/test-all): the temporary directory
of every test that passed (its fleets' configs, zone files and logs) is
removed when the test ends; those of failed tests stay for inspection.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import harness  # noqa: E402

#: the kinds of authoritative server every per-vendor test runs with
KINDS = harness.KINDS
#: the vendor name soasync reports (``--json`` "vendor") for each kind
VENDOR = {"bind": "bind", "nsd": "nsd", "knot": "knot", "pdns": "powerdns"}


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With SOASYNC_TMP_KEEP=failed, remove a passed test's tmp_path after
    its teardown (fleets are closed by then)."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        item.stash[_FAILED] = True
    if (rep.when == "teardown" and os.environ.get("SOASYNC_TMP_KEEP") == "failed"
            and not item.stash.get(_FAILED, False)):
        path = getattr(item, "funcargs", {}).get("tmp_path")
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)


def _require_root():
    if os.geteuid() != 0:
        pytest.skip("system tests need root (they add /32 aliases to lo and bind port 53)")


@pytest.fixture
def wait_until():
    """The harness's polling helper: ``wait_until(fn, timeout=10, interval=0.02)``."""
    return harness.wait_until


@pytest.fixture
def fleet(tmp_path):
    """Factory for :class:`harness.Fleet` objects closed at teardown.

    ``fleet(delegation=True)`` also creates root server, ``test.`` server and
    the unbound resolver (``f.resolver``); other keyword arguments go to
    :meth:`Fleet.enable_delegation` (``tld``, ``root_kind``, ...) when
    ``delegation`` is true.  Nothing is started until ``f.start()`` (or a
    scenario helper) is called.
    """
    _require_root()
    made = []

    def make(delegation: bool = False, net: str | None = None, **kw) -> harness.Fleet:
        n = len(made)
        f = harness.Fleet(tmp_path / f"fleet{n}", net)     # None: first free /24
        made.append(f)
        if delegation:
            f.enable_delegation(**kw)
        elif kw:
            raise TypeError(f"unexpected arguments without delegation: {sorted(kw)}")
        return f

    yield make
    errors = []
    for f in reversed(made):
        try:
            f.close()
        except Exception as exc:                # pragma: no cover - reported below
            errors.append(exc)
    if errors:
        raise errors[0]


@pytest.fixture
def ipv6_loopback():
    reason = harness.ipv6_loopback_available()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def soasync_bin() -> str:
    path = Path(os.environ.get("SOASYNC", REPO / "build" / "soasync"))
    if not (path.is_file() and os.access(path, os.X_OK)):
        msg = (f"soasync binary not found or not executable at {path}: build it "
               f"(e.g. into {REPO / 'build'}) or set SOASYNC=/path/to/soasync")
        if os.environ.get("SOASYNC_REQUIRED") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return str(path)


#: Text a sanitizer (ASan, LSan, UBSan) writes on stderr; no soasync run may show it.
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                     "MemorySanitizer", "ThreadSanitizer", "runtime error:", "SUMMARY: ")


def sanitizer_report(err: str) -> list:
    """The sanitizer markers found in a run's stderr (empty: clean)."""
    return [m for m in SANITIZER_MARKERS if m in err]


@dataclass
class SoasyncResult:
    """Outcome of one soasync run (``elapsed`` in seconds)."""
    argv: list
    rc: int
    out: str
    err: str
    timed_out: bool = False
    extra: dict = field(default_factory=dict)
    elapsed: float = 0.0

    def json_lines(self) -> list:
        """Parse stdout as JSON Lines (blank lines ignored); raises with the
        offending line on a parse error."""
        out = []
        for i, line in enumerate(self.out.splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise AssertionError(f"stdout line {i} is not JSON: {line!r} ({exc})\n{self}") \
                    from None
        return out

    lines = json_lines

    def zone(self) -> dict:
        """The one JSON object of a one-zone ``--json`` run: stdout must be
        exactly one line (nothing else may share stdout with the report)."""
        rows = self.out.splitlines()
        assert len(rows) == 1, f"expected exactly one line of JSON on stdout\n{self}"
        return self.json_lines()[0]

    doc = zone

    def __str__(self):
        return (f"$ {shlex.join(self.argv)}\nrc={self.rc} in {self.elapsed:.2f}s"
                f"{' (timed out)' if self.timed_out else ''}\n"
                f"--- stdout:\n{self.out}--- stderr:\n{self.err}")

    __repr__ = __str__


def _text(data) -> str:
    """Output decoded leniently: garbage bytes must show in an assertion, not
    as a UnicodeDecodeError."""
    return data.decode(errors="backslashreplace") if isinstance(data, bytes) else (data or "")


def checked(r: SoasyncResult) -> SoasyncResult:
    """What every run must show: no sanitizer report (always checked here)."""
    bad = sanitizer_report(r.err)
    assert not bad, f"sanitizer report ({', '.join(bad)}):\n{r}"
    return r


@pytest.fixture
def run_soasync(soasync_bin):
    """``run_soasync(*args, timeout=60, input=None, env=None)`` runs the
    binary and returns a :class:`SoasyncResult` with its wall time in
    ``elapsed`` (a timeout gives rc=-9, timed_out=True). Every run must be
    free of sanitizer reports: one fails the test at once."""

    def run(*args, timeout: float = 60, input: str | None = None,
            env: dict | None = None) -> SoasyncResult:
        argv = [soasync_bin, *map(str, args)]
        t0 = time.monotonic()
        try:
            r = subprocess.run(argv, capture_output=True, timeout=timeout, env=env,
                               input=input.encode() if input is not None else None,
                               stdin=None if input is not None else subprocess.DEVNULL)
            res = SoasyncResult(argv, r.returncode, _text(r.stdout), _text(r.stderr))
        except subprocess.TimeoutExpired as exc:
            res = SoasyncResult(argv, -9, _text(exc.stdout), _text(exc.stderr), timed_out=True)
        res.elapsed = time.monotonic() - t0
        return checked(res)

    return run


@pytest.fixture
def soasync(run_soasync):
    """``run_soasync`` for runs that must end on their own, with one of
    soasync's exit statuses (0-3): no hang, no crash."""

    def run(*args, **kw) -> SoasyncResult:
        r = run_soasync(*args, **kw)
        assert not r.timed_out, f"soasync hung\n{r}"
        assert r.rc in (0, 1, 2, 3), f"soasync died (rc {r.rc})\n{r}"
        return r

    return run


# --------------------------------------------------------------------------
# reading --json results


def findings(z: dict) -> dict:
    """``{code: finding}``; each code at most once, each finding with
    exactly the documented keys."""
    codes = [fd["code"] for fd in z["findings"]]
    assert len(codes) == len(set(codes)), f"a finding code appears twice: {codes}\n{z}"
    for fd in z["findings"]:
        assert set(fd) == {"code", "severity", "servers", "message", "fix"}, fd
    return {fd["code"]: fd for fd in z["findings"]}


def by_addr(z: dict) -> dict:
    """``{address: server object}``; each address must appear once."""
    seen = [s["address"] for s in z["servers"]]
    assert len(seen) == len(set(seen)), f"an address appears twice: {seen}"
    return {s["address"]: s for s in z["servers"]}


def named(fd: dict) -> list:
    """The addresses a finding names, sorted (no duplicates allowed)."""
    assert len(fd["servers"]) == len(set(fd["servers"])), fd
    return sorted(fd["servers"])


def addrs(*servers) -> list:
    """The addresses of harness servers, sorted (to compare with named())."""
    return sorted(s.addr for s in servers)
