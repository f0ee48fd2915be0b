#!/usr/bin/python3
"""Writes the seed corpus of fuzz_response: answers to example.test. SOA,
well-formed and hostile. Run: /usr/bin/python3 tests/fuzz/make_response_corpus.py"""
import os
import struct

import dns.edns
import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "response")


def answer(aa=True, rcode=0, soa=True, nsid=None, expire=None, referral=False, tc=False):
    q = dns.message.make_query("example.test.", "SOA", use_edns=0)
    q.id = 0x1234
    r = dns.message.make_response(q)
    r.flags &= ~dns.flags.AA
    if aa:
        r.flags |= dns.flags.AA
    if tc:
        r.flags |= dns.flags.TC
    r.set_rcode(rcode)
    if soa:
        r.answer.append(dns.rrset.from_text(
            "example.test.", 300, "IN", "SOA",
            "ns1.example.test. hostmaster.example.test. 2026112501 3600 600 86400 300"))
    if referral:
        r.authority.append(dns.rrset.from_text("example.test.", 300, "IN", "NS", "ns1.other.test."))
    opts = []
    if nsid is not None:
        opts.append(dns.edns.GenericOption(dns.edns.NSID, nsid))
    if expire is not None:
        opts.append(dns.edns.GenericOption(9, struct.pack("!I", expire)))
    r.use_edns(0, options=opts)
    return r.to_wire()


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    good = answer(nsid=b"ns1", expire=86400)
    write("soa_aa", good)
    write("soa_noaa", answer(aa=False))
    write("referral", answer(aa=False, soa=False, referral=True))
    write("nxdomain", answer(rcode=3, soa=False))
    write("refused", answer(rcode=5, soa=False))
    write("servfail", answer(rcode=2, soa=False))
    write("tc", answer(tc=True, soa=False))
    write("truncated_mid_rr", good[: len(good) - 20])
    write("header_only", good[:12])
    # Compression pointer to itself in the question name.
    write("ptr_loop", struct.pack("!HHHHHH", 0x1234, 0x8400, 1, 0, 0, 0) + b"\xc0\x0c" + b"\x00\x06\x00\x01")
    # Pointer forward beyond the packet.
    write("ptr_forward", struct.pack("!HHHHHH", 0x1234, 0x8400, 1, 0, 0, 0) + b"\xc0\xff" + b"\x00\x06\x00\x01")
    # Counts larger than the records present.
    hdr = bytearray(good)
    struct.pack_into("!H", hdr, 6, 40)
    write("counts_too_big", bytes(hdr))
    # A bogus EDNS option length.
    bad = bytearray(good)
    idx = bad.find(b"\x00\x03\x00\x03ns1")
    if idx > 0:
        struct.pack_into("!H", bad, idx + 2, 900)
    write("opt_bad_len", bytes(bad))
    write("garbage", bytes(range(256)))


if __name__ == "__main__":
    main()
