#!/usr/bin/python3
"""Seed corpus of fuzz_xfr_tsig: transfer streams whose TSIG part the target
plays at run time, as each message's control byte says (0 sign, 1 unsigned,
2 | ERR << 2 a forged TSIG error with an all-zero MAC (ERR 0 BADSIG, 1 BADKEY,
2 BADTIME, 3 none), 3 | N << 2 signed with MAC byte N flipped).
Run: /usr/bin/python3 tests/fuzz/make_xfr_tsig_corpus.py"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_xfr_corpus  # noqa: E402
from make_xfr_corpus import Z, msg, rr, soa  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "xfr_tsig")
SIGN, UNSIGNED = 0, 1
BADSIG, BADKEY, BADTIME = (2 | (e << 2) for e in range(3))


def flip(n):
    return 3 | (n << 2)


def stream(first, msgs):
    """msgs: [(control byte, message)], all with one ID as in a real stream
    (the MAC of a message covers the unsigned ones before it, IDs included)."""
    out = bytes([first])
    for ctrl, m in msgs:
        m = b"\x12\x34" + m[2:]
        out += bytes([ctrl]) + struct.pack("!H", len(m)) + m
    return out


def write(name, data):
    make_xfr_corpus.write(name, data, OUT)


def main():
    os.makedirs(OUT, exist_ok=True)
    body = [rr(Z, "NS", f"ns1.{Z}"), rr(f"ns1.{Z}", "A", "192.0.2.1"), rr(f"www.{Z}", "A", "192.0.2.2")]
    whole = msg([soa(7)] + body + [soa(7)])
    three = [msg([soa(7), body[0]]), msg(body[1:2]), msg([body[2], soa(7)])]
    write("signed_one", stream(0, [(SIGN, whole)]))
    write("signed_three", stream(0, [(SIGN, m) for m in three]))
    write("middle_unsigned", stream(0, [(SIGN, three[0]), (UNSIGNED, three[1]), (SIGN, three[2])]))
    write("last_unsigned", stream(0, [(SIGN, three[0]), (SIGN, three[1]), (UNSIGNED, three[2])]))
    write("first_unsigned", stream(0, [(UNSIGNED, whole)]))
    # the forgery of issue 10: NOERROR, the whole zone, TSIG BADTIME, all-zero MAC
    write("forged_badtime", stream(0, [(BADTIME, whole)]))
    write("forged_badsig_noerror", stream(0, [(BADSIG, whole)]))
    write("badsig_notauth", stream(0, [(BADSIG, msg([], rcode=9))]))
    write("badkey_notauth", stream(0, [(BADKEY, msg([], rcode=9))]))
    write("forged_error_later", stream(0, [(SIGN, three[0]), (BADTIME, three[1]), (SIGN, three[2])]))
    write("flipped_first", stream(0, [(flip(3), whole)]))
    write("flipped_later", stream(0, [(SIGN, three[0]), (flip(31), three[1]), (SIGN, three[2])]))
    many = [msg([rr(f"h{i}.{Z}", "A", "192.0.2.9")]) for i in range(101)]
    write("too_many_unsigned", stream(0, [(SIGN, msg([soa(7)]))] + [(UNSIGNED, m) for m in many] +
                                       [(SIGN, msg([soa(7)]))]))
    write("ixfr_signed", stream(1, [(SIGN, msg([soa(7), soa(5), body[2], soa(7), body[1], soa(7)],
                                               qtype="IXFR"))]))
    write("refused_unsigned", stream(0, [(UNSIGNED, msg([], rcode=5))]))


if __name__ == "__main__":
    main()
