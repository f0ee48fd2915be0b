#!/usr/bin/python3
"""Seed corpus of fuzz_xfr: transfer streams, good and hostile.
Run: /usr/bin/python3 tests/fuzz/make_xfr_corpus.py"""
import os
import struct

import dns.message
import dns.rrset

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "xfr")
Z = "example.test."


def soa(serial):
    return dns.rrset.from_text(Z, 300, "IN", "SOA", f"ns1.{Z} h.{Z} {serial} 3600 600 86400 300")


def rr(name, rtype, data):
    return dns.rrset.from_text(name, 300, "IN", rtype, data)


def msg(records, rcode=0, qtype="AXFR"):
    q = dns.message.make_query(Z, qtype)
    r = dns.message.make_response(q)
    r.set_rcode(rcode)
    for x in records:
        r.answer.append(x)
    return r.to_wire()


def stream(first, msgs):
    out = bytes([first])
    for m in msgs:
        out += struct.pack("!H", len(m)) + m
    return out


def write(name, data, out=OUT):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    body = [rr(Z, "NS", f"ns1.{Z}"), rr(f"ns1.{Z}", "A", "192.0.2.1"), rr(f"www.{Z}", "A", "192.0.2.2")]
    write("axfr_one", stream(0, [msg([soa(7)] + body + [soa(7)])]))
    write("axfr_three", stream(0, [msg([soa(7), body[0]]), msg(body[1:]), msg([soa(7)])]))
    write("axfr_bad_close", stream(0, [msg([soa(7)] + body + [soa(8)])]))
    write("axfr_no_soa_first", stream(0, [msg(body + [soa(7)])]))
    write("axfr_out_of_zone", stream(0, [msg([soa(7), rr("x.other.", "A", "192.0.2.9"), soa(7)])]))
    write("axfr_refused", stream(0, [msg([], rcode=5)]))
    write("axfr_after_close", stream(0, [msg([soa(7), soa(7), body[0]])]))
    write("ixfr_single", stream(1, [msg([soa(7)], qtype="IXFR")]))
    write("ixfr_diff", stream(1, [msg([soa(7), soa(5), rr(f"www.{Z}", "A", "192.0.2.2"), soa(7),
                                       rr(f"www.{Z}", "A", "192.0.2.3"), soa(7)], qtype="IXFR")]))
    write("ixfr_as_axfr", stream(1, [msg([soa(7)] + body + [soa(7)], qtype="IXFR")]))
    write("truncated", stream(0, [msg([soa(7)] + body)])[:-7])


if __name__ == "__main__":
    main()
