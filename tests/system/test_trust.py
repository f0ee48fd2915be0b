"""soasync at its trust boundaries (issue 10), against scripted servers
(badserver.py): a forged TSIG error, endless transfers, a slow but steady
link, many server addresses under a small open-file limit.

    SOASYNC=$PWD/build/soasync /usr/bin/python3 -m pytest -q tests/system/test_trust.py
"""

import json
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from badserver import FORGED_SERIAL, GOOD_SERIAL, BadServer, ManyServer  # noqa: E402
from conftest import findings  # noqa: E402

ADDR = "127.54.3.1"
KEY = "hmac-sha256:xfr-key.:c29hc3luYy10ZXN0LWtleS1zb2FzeW5jLXRlc3Qta2V5MTI="


@pytest.fixture(scope="module")
def bad():
    with BadServer(ADDR, 0) as s:
        yield s


def zone_file(tmp_path, zone, bad):
    """The zone a correct server of `zone` would transfer (badserver's SOA
    100, NS, the name server's address)."""
    path = tmp_path / "z.zone"
    path.write_text(f"$ORIGIN {zone}\n"
                    f"@ 3600 SOA ns1 hostmaster {GOOD_SERIAL} 7200 3600 1209600 300\n"
                    f"@ 3600 NS ns1\nns1 3600 A {bad.addr}\n")
    return path


# --------------------------------------------------------------------------
# 1. a forged TSIG error: NOERROR, the whole zone, TSIG error BADTIME, an
# all-zero MAC. An error answer (RFC 8945 5.3): never data, never signed.


def no_forged_data(r):
    """No record of the forged zone (forged.<zone> A 192.0.2.66, SOA 666) shows."""
    assert "192.0.2.66" not in r.out and not re.search(r"\bforged\.tsig", r.out), r
    assert not re.search(r"SOA .* %d " % FORGED_SERIAL, r.out), r


def test_xfr_check_forged_tsig_error(soasync, bad):
    zone = "tsig-forged.t1.bad."
    r = soasync("xfr-check", "--ns", bad.ns_arg, "-y", KEY, "--no-ixfr", "--json", zone)
    z = r.zone()
    [s] = z["servers"]
    assert s["axfr_tsig"] == "refused", r
    assert "BADTIME" in s["error"], r
    assert "transfer-refused" in findings(z), r
    assert s["axfr_serial"] is None and s["axfr_records"] is None, r
    no_forged_data(r)


def test_diff_forged_tsig_error(soasync, bad, tmp_path):
    zone = "tsig-forged.t2.bad."
    r = soasync("diff", "-y", KEY, zone_file(tmp_path, zone, bad), "@" + bad.ns_arg)
    assert r.rc == 2, r
    assert "NOTAUTH" in r.err and "BADTIME" in r.err, r
    no_forged_data(r)


def test_check_content_forged_tsig_error(soasync, bad):
    zone = "tsig-forged.t3.bad."
    r = soasync("check", "--ns", bad.ns_arg, "--content", "-y", KEY, "--json", zone)
    z = r.zone()
    [s] = z["servers"]
    assert s["serial"] == GOOD_SERIAL
    assert s["axfr"] == "refused" and s["content"] == "failed", r
    assert s["digest"] is None, r
    assert "transfer-refused" in findings(z), r
    no_forged_data(r)


def test_notify_forged_tsig_error_is_no_ack(soasync, bad):
    zone = "tsig-forged.t4.bad."
    r = soasync("notify", "--to", bad.ns_arg, "--ns", bad.ns_arg, "-y", KEY, "--deadline", "3",
                "--json", zone)
    assert r.rc == 2, r
    [t] = r.zone()["targets"]
    assert t["status"] == "refused" and t["rcode"] == "NOTAUTH", r
    assert t["tsig_error"] == "BADTIME", r


# --------------------------------------------------------------------------
# 3. an endless transfer: memory stays within --max-transfer-size, and the
# finding (or diff's error) names the limit and the option.


@pytest.fixture(scope="module")
def endless_pair():
    with BadServer("127.54.3.11", 0, alt_addr=None) as a, \
            BadServer("127.54.3.21", 0, alt_addr=None) as b:
        yield a, b


def peak_rss_mib(soasync_bin, *args, timeout=120):
    """(rc, stdout, stderr, peak RSS in MiB) of soasync under /usr/bin/time."""
    p = subprocess.run(["/usr/bin/time", "-f", "peak-rss-kb=%M", soasync_bin, *map(str, args)],
                       capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    m = re.search(r"peak-rss-kb=(\d+)\s*$", p.stderr)
    assert m, p.stderr
    err = p.stderr[:m.start()]
    assert not any(x in err for x in ("AddressSanitizer", "runtime error:")), err
    return p.returncode, p.stdout, err, int(m.group(1)) / 1024


LIMIT_NAMED = re.compile(r"larger than the (\d+ [KMG]iB) all transfers may hold at once "
                         r"\(--max-transfer-size\)")


def test_check_content_two_endless_servers_bounded(soasync_bin, endless_pair):
    a, b = endless_pair
    zone = "endless-xfr.t5.bad."
    rc, out, err, rss = peak_rss_mib(soasync_bin, "check", "--ns", f"{a.ns_arg},{b.ns_arg}",
                                     "--content", "--max-transfer-size", "64M", "--json", zone)
    assert rc == 1, (out, err)
    z = json.loads(out)
    fd = findings(z)["transfer-too-large"]
    assert sorted(fd["servers"]) == sorted([a.ns_arg, b.ns_arg]), fd
    assert LIMIT_NAMED.findall(fd["message"]) == ["64 MiB", "64 MiB"], fd
    assert "--max-transfer-size" in fd["fix"], fd
    assert "transfer-failed" not in findings(z), z
    assert all(s["content"] == "failed" for s in z["servers"]), z
    # 64 MiB of records at most, whatever the servers send (unbounded: GiBs)
    assert rss < 400, f"peak RSS {rss:.0f} MiB"


def test_diff_endless_server_exit_2(soasync_bin, endless_pair, tmp_path):
    a, _ = endless_pair
    zone = "endless-xfr.t6.bad."
    rc, out, err, rss = peak_rss_mib(soasync_bin, "diff", "--max-transfer-size", "16M",
                                     zone_file(tmp_path, zone, a), "@" + a.ns_arg)
    assert rc == 2, (out, err)
    assert LIMIT_NAMED.findall(err) == ["16 MiB"], err
    assert out == ""
    assert rss < 300, f"peak RSS {rss:.0f} MiB"


def test_xfr_check_endless_server(soasync, endless_pair):
    a, _ = endless_pair
    r = soasync("xfr-check", "--ns", a.ns_arg, "--no-ixfr", "--max-transfer-size", "8M",
                "--json", "endless-xfr.t7.bad.")
    z = r.zone()
    [s] = z["servers"]
    assert s["axfr"] == "failed", r
    assert LIMIT_NAMED.findall(findings(z)["transfer-too-large"]["message"]) == ["8 MiB"], r


def test_max_transfer_size_is_checked(soasync):
    for bad in ("12X", "-1M", "1"):
        r = soasync("check", "--max-transfer-size", bad, "--ns", "127.0.0.1", "x.test.")
        assert r.rc == 3 and "--max-transfer-size" in r.err, r


# --------------------------------------------------------------------------
# 4. a slow but steady link: three 60 KB messages at ~30 KB/s (each longer
# than the 1.5 s time-out) arrive with the defaults; the whole transfer has
# a deadline of its own.


def test_slow_steady_transfer_succeeds(soasync, bad):
    r = soasync("xfr-check", "--ns", bad.ns_arg, "--no-ixfr", "--json", "slow-xfr.t8.bad.")
    [s] = r.zone()["servers"]
    assert s["axfr"] == "allowed", r
    assert s["axfr_records"] == 7 and s["axfr_serial"] == GOOD_SERIAL, r  # both SOAs
    assert r.elapsed > 4.0, r  # it was slow indeed


def test_transfer_deadline(soasync, bad):
    r = soasync("xfr-check", "--ns", bad.ns_arg, "--no-ixfr", "--transfer-deadline", "2s",
                "--json", "slow-xfr.t9.bad.")
    z = r.zone()
    [s] = z["servers"]
    assert s["axfr"] == "failed", r
    assert "longer than 2s (--transfer-deadline)" in s["error"], r
    assert "transfer-failed" in findings(z), r
    assert r.elapsed < 15.0, r  # cut off, not left to run


# --------------------------------------------------------------------------
# 5. many server addresses under a small open-file limit: sockets stay
# within the limit (queries wait for one), and running out of files is a
# local error, never the servers' fault.

MANY = 1100


@pytest.fixture(scope="module")
def many():
    """One scripted server on MANY addresses (127.56.0-4.x, one port); this
    process needs a socket for each, so its own limit is raised meanwhile."""
    import resource
    saved = resource.getrlimit(resource.RLIMIT_NOFILE)
    if saved[1] != resource.RLIM_INFINITY and saved[1] < MANY + 200:
        pytest.skip(f"hard open-file limit {saved[1]} is too small for {MANY} sockets")
    resource.setrlimit(resource.RLIMIT_NOFILE, (saved[1], saved[1]))
    addrs = [f"127.56.{i // 250}.{i % 250 + 1}" for i in range(MANY)]
    try:
        with ManyServer(addrs) as m:
            yield m
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, saved)


def run_limited(soasync_bin, soft, hard, *args, timeout=60):
    """soasync under an open-file limit (soft, hard): (rc, stdout, stderr)."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    # LeakSanitizer needs files of its own at exit: none left at the lowest limits
    env = {**os.environ, "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"}
    p = subprocess.run([soasync_bin, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, preexec_fn=limit, stdin=subprocess.DEVNULL, env=env)
    assert not any(x in p.stderr for x in ("AddressSanitizer", "runtime error:")), p.stderr
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("soft,hard", [(1024, None), (256, 256)],
                         ids=["ulimit-n-1024", "hard-limit-256"])
def test_many_addresses_under_a_small_limit(soasync_bin, many, soft, hard):
    import resource
    hard = hard or resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    rc, out, err = run_limited(soasync_bin, soft, hard, "check", "--ns", many.ns_args,
                               "--no-vendor", "--json", "ok.many.bad.")
    z = json.loads(out)
    assert len(z["servers"]) == MANY, err
    wrong = [s["address"] for s in z["servers"] if s["serial"] != GOOD_SERIAL]
    assert wrong == [], f"{len(wrong)} of {MANY} without the serial: {wrong[:5]}...\n{err}"
    assert z["findings"] == [] and rc == 0, (z["findings"], err)


def test_no_files_left_is_a_local_error(soasync_bin, bad):
    """From a limit too small to start to one that suffices: each run either
    cannot start (a usage-level error), says local-error, or works; the
    server is never called unreachable."""
    seen = set()
    for n in range(6, 24):
        rc, out, err = run_limited(soasync_bin, n, n, "check", "--ns", bad.ns_arg, "--json",
                                   "ok.t10.bad.")
        if "cannot start the event loop" in err:
            assert rc == 3 and out == "", err
            seen.add("no-loop")
            continue
        fs = findings(json.loads(out))
        assert "unreachable" not in fs, (n, out)
        if "local-error" in fs:
            assert rc == 3 and "too many open files" in fs["local-error"]["message"], out
            assert fs["local-error"]["severity"] == "unknown"
            seen.add("local")
        else:
            assert rc == 0, (n, out, err)
            seen.add("ok")
    assert "local" in seen and "ok" in seen, seen
