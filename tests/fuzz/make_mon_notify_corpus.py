#!/usr/bin/python3
"""Writes the seed corpus of fuzz_mon_notify: a flags byte (bit 0: sender
allowed, bit 1: a key required) and a packet to the NOTIFY listener, well-formed
and hostile. Run: /usr/bin/python3 tests/fuzz/make_mon_notify_corpus.py"""
import os
import time

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rrset
import dns.tsigkeyring

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "mon_notify")
KEY = dns.tsigkeyring.from_text({"mon-key.": ("hmac-sha256",
                                              "c29hc3luYyBtb25pdG9yIHRlc3Qga2V5ISEhISE=")})
BAD = dns.tsigkeyring.from_text({"mon-key.": ("hmac-sha256",
                                              "YW5vdGhlciBzZWNyZXQsIG5vdCB0aGUgbW9uaXRvcnM=")})


def notify(zone="example.test.", rdtype="SOA", soa=True, opcode=dns.opcode.NOTIFY, key=None):
    m = dns.message.make_query(zone, rdtype)
    m.flags = dns.flags.AA  # (the opcode lives in the flags: set it after)
    m.set_opcode(opcode)
    m.id = 0x4242
    if soa:
        m.answer.append(dns.rrset.from_text(
            zone, 300, "IN", "SOA",
            "ns1.example.test. hostmaster.example.test. 2026010101 3600 600 86400 300"))
    if key is not None:
        m.use_tsig(key, keyname="mon-key.")
    return m.to_wire()


def main():
    os.makedirs(OUT, exist_ok=True)
    good = notify()
    cases = {
        "accepted": b"\x01" + good,
        "refused_address": b"\x00" + good,
        "no_soa": b"\x01" + notify(soa=False),
        "signed": b"\x03" + notify(key=KEY),
        "bad_signature": b"\x03" + notify(key=BAD),
        "unsigned_key_required": b"\x03" + good,
        "signed_no_key": b"\x01" + notify(key=KEY),
        "other_zone": b"\x01" + notify("other.test."),
        "qtype_a": b"\x01" + notify(rdtype="A"),
        "plain_query": b"\x01" + notify(opcode=dns.opcode.QUERY),
        "response": b"\x01" + good[:2] + bytes([good[2] | 0x80]) + good[3:],
        "truncated": b"\x01" + good[:len(good) - 7],
        "header_only": b"\x01" + good[:12],
        "two_questions": b"\x01" + good[:4] + b"\x00\x02" + good[6:],
        "garbage": b"\x01" + bytes(range(256)),
        "trailing": b"\x01" + good + b"\x00\x00\x00",
    }
    # Signed in 2020: outside any fudge, BADTIME for ever (the answer is signed).
    now = time.time
    time.time = lambda: 1600000000.0
    try:
        cases["signed_badtime"] = b"\x03" + notify(key=KEY)
    finally:
        time.time = now
    for name, data in cases.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
