"""soasync at its trust boundaries (issue 10), against scripted servers
(badserver.py): a forged TSIG error, endless transfers, a slow but steady
link, many server addresses under a small open-file limit.

    SOASYNC=$PWD/build/soasync /usr/bin/python3 -m pytest -q tests/system/test_trust.py
"""

import os
import re
import resource
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from badserver import FORGED_SERIAL, GOOD_SERIAL, BadServer  # noqa: E402
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
