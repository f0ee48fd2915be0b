"""The monitor's web faces against a real fleet: a real Prometheus scraping
/metrics, the JSON API read with the check --json readers, bad requests, and
the dashboard in a real browser (Debian's chromium through chromium-driver).

The fleet: a BIND primary, an NSD and a Knot secondary serving three zones;
Knot is left off the NOTIFY list of ``web.test.``, so after a serial bump it
is the one laggard until the test refreshes it.

Artifacts (screenshots, the monitor's log): ``$SOASYNC_ARTIFACTS`` or
``<repo>/build/artifacts/web``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import harness
from conftest import REPO, by_addr, checked, findings, SoasyncResult

ZONE = "web.test."
CALM = ("calm.test.", "quiet.test.")
ARTIFACTS = Path(os.environ.get("SOASYNC_ARTIFACTS", REPO / "build" / "artifacts" / "web"))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Proc:
    """A process this test started: stopped by its pid (TERM, then KILL),
    only while that pid still runs the executable started."""

    def __init__(self, argv: list, log: Path, cwd: Path | None = None):
        self.argv, self.log = argv, log
        self.exe = os.path.realpath(shutil.which(argv[0]) or argv[0])
        self.out = open(log, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=cwd,
                                     start_new_session=True, preexec_fn=harness._child_setup)

    def running(self) -> bool:
        return self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="backslashreplace")

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None and harness.pid_runs(self.proc.pid, self.exe):
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                if harness.pid_runs(self.proc.pid, self.exe):
                    self.proc.kill()
                self.proc.wait(5)
        self.out.close()
        return self.proc.returncode


def http(url: str, method: str = "GET", timeout: float = 10.0, headers: dict | None = None):
    """(status, headers, body bytes); HTTP errors are answers too."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Monitor:
    """``soasync monitor --config FILE`` on the fleet, its web faces on a free port."""

    def __init__(self, soasync_bin: str, workdir: Path, zones: list, *, interval="2s",
                 lag_warning="10m", lag_critical="1h", extra=""):
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        zl = "\n".join(f"  - name: {z['name']}\n    primary: {z['primary']}\n"
                       f"    ns: [{', '.join(z['ns'])}]" for z in zones)
        self.config = workdir / "monitor.yml"
        self.config.write_text(
            f"database: {workdir / 'monitor.db'}\n"
            f"interval: {interval}\nfast_interval: 500ms\n"
            f"lag_warning: {lag_warning}\nlag_critical: {lag_critical}\n"
            f"query_timeout: 500ms\n"
            f"source: [{zones[0]['source']}]\n"
            f"listen:\n  http: 127.0.0.1:{self.port}\n"
            f"{extra}"
            f"zones:\n{zl}\n")
        self.proc = Proc([soasync_bin, "monitor", "--config", str(self.config)],
                         workdir / "monitor.log")

    def get(self, path: str, **kw):
        return http(self.base + path, **kw)

    def json(self, path: str) -> dict:
        status, _, body = self.get(path)
        assert status == 200, (path, status, body[:500])
        return json.loads(body)

    def zones(self) -> dict:
        return {z["zone"]: z for z in self.json("/api/v1/zones")["zones"]}

    def wait_checked(self, names, timeout: float = 30.0) -> dict:
        def ready():
            if not self.proc.running():
                raise AssertionError(f"the monitor exited:\n{self.proc.text()}")
            try:
                zs = self.zones()
            except (OSError, AssertionError):
                return None
            return zs if all(zs.get(n, {}).get("checked") for n in names) else None
        return harness.wait_until(ready, timeout, 0.1, "the monitor's first checks")

    def close(self) -> SoasyncResult:
        rc = self.proc.stop()
        res = SoasyncResult(self.proc.argv, rc, "", self.proc.text())
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.proc.log, ARTIFACTS / f"{self.workdir.name}-monitor.log")
        return checked(res)


class Prometheus:
    """Debian's prometheus on loopback with its own config and data dir,
    scraping targets every second, with the shipped rules loaded."""

    def __init__(self, workdir: Path, targets: list):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        rules = workdir / "soasync-rules.yml"
        shutil.copy(REPO / "doc" / "prometheus" / "soasync-rules.yml", rules)
        cfg = workdir / "prometheus.yml"
        cfg.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"rule_files: [{rules}]\n"
            "scrape_configs:\n  - job_name: soasync\n    scrape_interval: 1s\n"
            f"    scrape_timeout: 900ms\n    static_configs:\n      - targets: {json.dumps(targets)}\n")
        self.proc = Proc(["prometheus", f"--config.file={cfg}",
                          f"--storage.tsdb.path={workdir / 'data'}",
                          f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                         workdir / "prometheus.log", cwd=workdir)
        harness.wait_until(self.ready, 60, 0.2, "prometheus ready")

    def ready(self) -> bool:
        if not self.proc.running():
            raise AssertionError(f"prometheus exited:\n{self.proc.text()}")
        try:
            return http(self.base + "/-/ready", timeout=2)[0] == 200
        except OSError:
            return False

    def api(self, path: str, **params) -> dict:
        q = urllib.parse.urlencode(params)
        status, _, body = http(f"{self.base}/api/v1/{path}?{q}")
        doc = json.loads(body)
        assert status == 200 and doc["status"] == "success", (path, params, doc)
        return doc["data"]

    def query(self, promql: str) -> list:
        """[(labels, float value)] of an instant query."""
        return [(r["metric"], float(r["value"][1]))
                for r in self.api("query", query=promql)["result"]]

    def close(self):
        self.proc.stop()


@pytest.fixture
def web_fleet(fleet):
    """BIND primary, NSD and Knot secondaries; Knot the laggard of web.test."""
    f = fleet()
    p = f.bind("ns1.web.test.")
    s1 = f.nsd("ns2.web.test.")
    s2 = f.knot("ns3.web.test.")
    for z in (ZONE,) + CALM:
        p.primary(z, 1, ["www IN A 192.0.2.1", "@ IN TXT \"soasync web test\""])
        s1.secondary(z, p)
        s2.secondary(z, p, notified=z != ZONE)
    f.start()
    for z in (ZONE,) + CALM:
        for s in (s1, s2):
            s.wait_serial(z, 1)
    return f, p, s1, s2


def monitor_zones(f, p, servers) -> list:
    return [{"name": z, "primary": p.addr, "ns": [s.addr for s in servers],
             "source": f.checker_addr} for z in (ZONE,) + CALM]


@pytest.fixture
def monitor(soasync_bin, web_fleet, tmp_path):
    f, p, s1, s2 = web_fleet
    (tmp_path / "mon").mkdir()
    m = Monitor(soasync_bin, tmp_path / "mon", monitor_zones(f, p, [p, s1, s2]))
    try:
        m.wait_checked((ZONE,) + CALM)
        yield m
    finally:
        r = m.close()
        assert r.rc == 0, f"the monitor did not stop cleanly\n{r}"


def make_laggard(web_fleet, monitor) -> tuple:
    """Bump web.test. on the primary: NSD follows (NOTIFY), Knot does not.
    Returns (laggard, new serial) once the monitor's API shows it behind."""
    f, p, s1, s2 = web_fleet
    new = p.bump(ZONE)
    s1.wait_serial(ZONE, new)
    assert s2.serial(ZONE) == new - 1

    def behind():
        z = monitor.zones()[ZONE]
        lag = by_addr(z)[s2.addr]
        return z if z["reference_serial"] == new and lag["behind"] and lag["lag_s"] > 0 else None
    harness.wait_until(behind, 20, 0.1, "the monitor to see the laggard")
    return s2, new


# --------------------------------------------------------------------------
# Prometheus


def test_prometheus_sees_exactly_the_laggard(web_fleet, monitor, tmp_path):
    f, p, s1, s2 = web_fleet
    lag, new = make_laggard(web_fleet, monitor)
    prom = Prometheus(tmp_path / "prom", [f"127.0.0.1:{monitor.port}"])
    try:
        q = 'soasync_server_behind == 1'

        def behind_addresses():
            return {m["address"] for m, v in prom.query(q)} or None
        got = harness.wait_until(behind_addresses, 30, 0.25, "PromQL: the laggard behind")
        assert got == {lag.addr}, got
        rows = prom.query(q)
        name = by_addr(monitor.zones()[ZONE])[lag.addr]["name"] or ""   # "" drops the label
        assert [(m["zone"], m.get("server", "")) for m, v in rows] == [(ZONE, name)], rows
        assert prom.query(f'soasync_serial{{zone="{ZONE}",address="{lag.addr}"}}')[0][1] \
            == new - 1
        assert prom.query(f'soasync_reference_serial{{zone="{ZONE}"}}')[0][1] == new
        # the scrape itself is healthy and every family is there
        assert prom.query('up{job="soasync"}')[0][1] == 1
        names = set(prom.api("label/__name__/values"))
        for fam in ("soasync_zone_status", "soasync_lag_seconds", "soasync_findings",
                    "soasync_queries_total", "soasync_checks_total",
                    "soasync_check_duration_seconds_bucket", "soasync_build_info"):
            assert fam in names, (fam, sorted(n for n in names if n.startswith("soasync")))
        # the shipped rules load and evaluate in a real Prometheus
        groups = {g["name"]: g for g in prom.api("rules")["groups"]}
        assert set(groups) == {"soasync-recording", "soasync-alerts"}, groups
        assert all(r["health"] == "ok" for g in groups.values() for r in g["rules"]), groups

        lag.refresh(ZONE)
        lag.wait_serial(ZONE, new, timeout=20)

        vals = harness.wait_until(
            lambda: [v for m, v in prom.query(
                f'soasync_server_behind{{address="{lag.addr}",zone="{ZONE}"}}')] == [0.0],
            30, 0.25, "PromQL: the laggard caught up (0)")
        assert vals
        assert prom.query(q) == []
    finally:
        prom.close()


def test_metrics_parse_with_prometheus_parsers(web_fleet, monitor):
    """The live exposition through promtool's linter and prometheus_client."""
    prom_client = pytest.importorskip("prometheus_client.parser")
    lag, new = make_laggard(web_fleet, monitor)
    status, headers, body = monitor.get("/metrics")
    assert status == 200, status
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8", headers
    lint = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                          timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fams = {f.name: f for f in prom_client.text_string_to_metric_families(body.decode())}
    for name in ("soasync_zone_status", "soasync_serial", "soasync_reference_serial",
                 "soasync_server_behind", "soasync_lag_seconds", "soasync_expire_seconds",
                 "soasync_findings", "soasync_notify_received", "soasync_queries",
                 "soasync_query_errors", "soasync_checks", "soasync_check_duration_seconds",
                 "soasync_build_info", "soasync_convergence_seconds"):
        assert name in fams, (name, sorted(fams))
    behind = {s.labels["address"] for s in fams["soasync_server_behind"].samples if s.value == 1}
    assert behind == {lag.addr}, behind
    lagging = [s for s in fams["soasync_lag_seconds"].samples
               if s.labels["address"] == lag.addr and s.labels["zone"] == ZONE]
    assert len(lagging) == 1 and lagging[0].value > 0, lagging


# --------------------------------------------------------------------------
# the API


def test_api_zones_with_the_check_readers(web_fleet, monitor):
    f, p, s1, s2 = web_fleet
    lag, new = make_laggard(web_fleet, monitor)
    doc = monitor.json("/api/v1/zones")
    assert set(doc) == {"time", "site", "zones"}, doc.keys()
    zones = {z["zone"]: z for z in doc["zones"]}
    assert set(zones) == {ZONE, *CALM}, zones.keys()
    for z in zones.values():
        fs = findings(z)                       # exactly the check --json keys
        servers = by_addr(z)                   # each address once
        assert set(servers) == {p.addr, s1.addr, s2.addr}, z
        for s in z["servers"]:
            assert {"name", "address", "port", "primary", "serial", "verdict", "behind",
                    "lag_s"} <= set(s), s
        assert servers[p.addr]["primary"] is True and z["primary"] == p.addr, z
    z = zones[ZONE]
    fs = findings(z)
    assert list(fs) == ["serial-behind"], z
    assert fs["serial-behind"]["servers"] == [lag.addr], z
    assert fs["serial-behind"]["severity"] == "info", z     # within lag_warning (10m)
    assert by_addr(z)[lag.addr]["serial"] == new - 1 and by_addr(z)[lag.addr]["behind"], z
    assert by_addr(z)[s1.addr]["lag_s"] == 0 and not by_addr(z)[s1.addr]["behind"], z
    for calm in CALM:
        assert zones[calm]["status"] == "ok" and findings(zones[calm]) == {}, zones[calm]

    one = monitor.json(f"/api/v1/zones/{ZONE.rstrip('.').upper()}")
    assert one["zone"] == ZONE and findings(one).keys() == {"serial-behind"}, one
    assert by_addr(one)[lag.addr]["behind_since"], one
    hist = one["history"]
    assert hist and hist[-1]["serial"] == new, hist
    for h in hist:
        assert set(h) == {"zone", "serial", "first_seen", "via", "servers"}, h
        for s in h["servers"]:
            assert set(s) == {"address", "name", "converged_at", "lag_s"}, s
    last = {s["address"]: s for s in hist[-1]["servers"]}
    assert last[lag.addr]["lag_s"] is None and last[s1.addr]["lag_s"] is not None, hist[-1]
    assert isinstance(one["events"], list), one
    status, _, body = monitor.get("/api/v1/zones/nope.test.")
    assert status == 404 and json.loads(body) == {"error": "no such zone"}, body


def test_healthz(monitor):
    status, headers, body = monitor.get("/healthz")
    assert (status, body) == (200, b"ok\n"), (status, body)
    status, headers, body = monitor.get("/healthz", method="HEAD")
    assert status == 200 and body == b"", (status, body)


# --------------------------------------------------------------------------
# bad requests: the monitor keeps checking and answering


def raw(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
        return out


def checks_total(monitor) -> float:
    status, _, body = monitor.get("/metrics")
    assert status == 200
    m = re.search(rb"^soasync_checks_total(?:\{[^}]*\})? (\d+)$", body, re.M)
    assert m, body[-2000:]
    return float(m.group(1))


def test_bad_requests(web_fleet, monitor):
    for path in ("/nope", "/etc/passwd", "/../../etc/passwd", "/assets/../../etc/passwd",
                 "/zone/nope.test.", "/api/v2/zones"):
        status, _, body = monitor.get(path)
        assert status == 404, (path, status, body)
        assert b"root:" not in body
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        status, headers, _ = monitor.get("/metrics", method=method)
        assert status == 405 and headers.get("Allow") == "GET, HEAD", (method, status, headers)
    # a request line and headers over the limit
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    assert re.match(rb"HTTP/1\.1 (431|413|414) ", raw(monitor.port, big)), "oversized headers"
    long_uri = b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert re.match(rb"HTTP/1\.1 (414|431) ", raw(monitor.port, long_uri)), "oversized URI"
    garbage = raw(monitor.port, b"\x16\x03\x01garbage\r\n\r\n")
    assert garbage == b"" or garbage.startswith(b"HTTP/1.1 400"), garbage   # closed, or 400
    # the monitor answers and still checks
    before = checks_total(monitor)
    harness.wait_until(lambda: checks_total(monitor) > before, 20, 0.2, "more checks")


def test_many_idle_connections(web_fleet, monitor):
    """Hundreds of idle connections from one address: they hold at most the
    per-address slots; others are answered at once and the checks go on."""
    f = web_fleet[0]
    idle, source = [], f.addr(249)
    try:
        for _ in range(300):
            s = socket.socket()
            s.bind((source, 0))
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", monitor.port))
            except OSError:
                s.close()
                continue
            idle.append(s)
        assert len(idle) >= 100, len(idle)
        before = checks_total(monitor)
        t0 = time.monotonic()
        status, _, body = monitor.get("/api/v1/zones", timeout=5)
        assert status == 200 and json.loads(body)["zones"], body[:200]
        assert time.monotonic() - t0 < 5.0, "the idle connections held up another client"
        harness.wait_until(lambda: checks_total(monitor) > before, 20, 0.2, "checks go on")
        # most of them were closed by the monitor at once (per-address limit)
        closed = 0
        for s in idle:
            s.settimeout(0.05)
            try:
                closed += s.recv(1) == b""
            except (socket.timeout, ConnectionResetError):
                pass
        assert closed >= len(idle) - 16, (closed, len(idle))
    finally:
        for s in idle:
            s.close()


# --------------------------------------------------------------------------
# the dashboard in a real browser


def browser(tmp_path, width=1280, height=900, phone=False):
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("chromium and chromium-driver are needed")
    opts = Options()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              "--disable-dev-shm-usage", f"--window-size={width},{height}",
              f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if phone:   # headless chromium's windows are 500 px wide at least: emulate the screen
        opts.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0}})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def console_errors(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_dashboard_in_chromium(web_fleet, monitor, tmp_path):
    from selenium.webdriver.common.by import By
    f, p, s1, s2 = web_fleet
    lag, new = make_laggard(web_fleet, monitor)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    d = browser(tmp_path)
    try:
        d.get(monitor.base + "/")
        row = d.find_element(By.CSS_SELECTOR, f'tr[data-zone="{ZONE}"]')
        cell = row.find_element(By.CSS_SELECTOR, f'td.cell[data-address="{lag.addr}"]')
        assert cell.get_attribute("data-state") == "behind", cell.get_attribute("outerHTML")
        assert "behind" in cell.get_attribute("class").split(), cell.get_attribute("class")
        assert str(new - 1) in cell.text and re.search(r"behind \d", cell.text), cell.text
        assert int(cell.get_attribute("data-lag-s")) >= 0
        ok = row.find_element(By.CSS_SELECTOR, f'td.cell[data-address="{s1.addr}"]')
        assert ok.get_attribute("data-state") == "in-sync" and "in sync" in ok.text, ok.text
        # the problem zone first
        rows = d.find_elements(By.CSS_SELECTOR, "table.matrix tbody tr")
        assert rows[0].get_attribute("data-zone") == ZONE, [r.get_attribute("data-zone")
                                                             for r in rows]
        tiles = {t.find_element(By.CSS_SELECTOR, ".l").text: t.find_element(By.CSS_SELECTOR,
                                                                            ".n").text
                 for t in d.find_elements(By.CSS_SELECTOR, ".tiles .tile")}
        assert tiles["zones"] == "3" and tiles["server behind"] == "1", tiles
        d.save_screenshot(str(ARTIFACTS / "matrix.png"))

        # the filter: rows hide as one types, the server's answer follows
        box = d.find_element(By.ID, "q")
        box.send_keys("calm")
        harness.wait_until(lambda: [r.get_attribute("data-zone") for r in d.find_elements(
            By.CSS_SELECTOR, "table.matrix tbody tr") if r.is_displayed()] == ["calm.test."],
            10, 0.1, "the filter")
        harness.wait_until(lambda: "q=calm" in d.current_url, 10, 0.1, "the filter in the URL")
        # and the page refreshes itself in place (the footer's time moves)
        stamp = d.find_element(By.CSS_SELECTOR, "footer .updated").text
        harness.wait_until(lambda: d.find_element(By.CSS_SELECTOR, "footer .updated").text
                           != stamp, 30, 0.2, "the refresh")
        assert d.find_element(By.ID, "q").get_attribute("value") == "calm"

        # the zone page: the laggard in words, the finding, the timeline
        d.get(monitor.base + f"/zone/{ZONE}")
        srow = d.find_element(By.CSS_SELECTOR, f'table.servers tr[data-address="{lag.addr}"]')
        assert "behind" in srow.text, srow.text
        fnd = d.find_element(By.CSS_SELECTOR, 'li.finding[data-code="serial-behind"]')
        assert lag.addr in fnd.text and "Fix:" in fnd.text, fnd.text
        svg = d.find_element(By.CSS_SELECTOR, "figure.timeline svg")
        groups = svg.find_elements(By.CSS_SELECTOR, "g.serial")
        assert groups and groups[0].get_attribute("data-serial") == str(new), \
            [g.get_attribute("data-serial") for g in groups]
        waiting = svg.find_elements(By.CSS_SELECTOR, f'g.lane.waiting[data-address="{lag.addr}"]')
        assert waiting, svg.get_attribute("outerHTML")[:2000]
        d.save_screenshot(str(ARTIFACTS / "zone.png"))
        assert console_errors(d) == [], console_errors(d)
    finally:
        d.quit()

    # a phone
    d = browser(tmp_path, 390, 844, phone=True)
    try:
        d.get(monitor.base + "/")
        width = d.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide on a 390px screen"
        d.save_screenshot(str(ARTIFACTS / "matrix-phone.png"))
        d.get(monitor.base + f"/zone/{ZONE}")
        width = d.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the zone page is {width}px wide on a 390px screen"
        d.save_screenshot(str(ARTIFACTS / "zone-phone.png"))
    finally:
        d.quit()


def test_dashboard_without_javascript(web_fleet, monitor):
    """The page itself carries the state: a plain GET, the filter as a form."""
    make_laggard(web_fleet, monitor)
    status, headers, body = monitor.get("/?q=calm")
    html = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html"), headers
    assert '<meta http-equiv="refresh"' in html
    assert 'data-zone="calm.test."' in html and f'data-zone="{ZONE}"' not in html
    assert "default-src 'none'" in headers["Content-Security-Policy"], headers
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith("/"), f"an external resource: {url}"
        if url.startswith("/assets/"):
            assert monitor.get(url)[0] == 200, url
