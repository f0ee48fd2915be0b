#!/ usr / bin / python3
"""Write two versions of a large zone for bench/diff.sh.

A is written plainly (absolute names, numeric TTLs, one line per record). B holds
the same data plus CHANGES differences (changed, added and removed records,
TTL changes), reformatted: relative names under $ORIGIN, upper case, TTL
units, $TTL defaults, comments, blocks of records moved around.
"""
import argparse
import random

p = argparse.ArgumentParser()
p.add_argument("--records", type=int, default=1_000_000)
p.add_argument("--changes", type=int, default=300)
p.add_argument("--origin", default="bench.example.")
p.add_argument("--seed", type=int, default=1)
p.add_argument("a")
p.add_argument("b")
args = p.parse_args()
rnd = random.Random(args.seed)
origin = args.origin


def host_records(i):
    """Four to five records for host i: (owner label, ttl, type, rdata)."""
    h = f"host{i}"
    recs = [
        (h, 3600, "A", f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"),
        (h, 3600, "AAAA", f"2001:db8::{i >> 16:x}:{i & 0xffff:x}"),
        (h, 7200, "TXT", f'"v=spf1 ip4:10.0.0.{i % 250} -all" "id {i}"'),
    ]
    if i % 3 == 0:
        recs.append((h, 3600, "MX", f"10 mail{i % 97}.{origin}"))
    else:
        recs.append((f"www.{h}", 300, "CNAME", f"{h}.{origin}"))
    if i % 10 == 0:
        recs.append((f"_sip._tcp.{h}", 600, "SRV", f"10 60 5060 {h}.{origin}"))
    return recs


records = [("@", 3600, "SOA", f"ns1.{origin} hostmaster.{origin} 2024010101 7200 3600 1209600 300"),
           ("@", 3600, "NS", f"ns1.{origin}"), ("@", 3600, "NS", f"ns2.{origin}"),
           ("ns1", 3600, "A", "192.0.2.1"), ("ns2", 3600, "A", "192.0.2.2")]
i = 0
while len(records) < args.records:
    records.extend(host_records(i))
    i += 1
del records[args.records:]

#The changes : B differs from A in these records only.
b_records = list(records)
n = args.changes
picked = rnd.sample(range(5, len(records)), n)
for k, idx in enumerate(picked):
    owner, ttl, rtype, rdata = b_records[idx]
    kind = k % 4
    if kind == 0 and rtype == "A":
        b_records[idx] = (owner, ttl, rtype, "192.0.2.%d" % (k % 250))
    elif kind == 1:
        b_records[idx] = (owner, ttl + 60, rtype, rdata)
    elif kind == 2:
        b_records[idx] = None
    else:
        b_records.append((f"new{k}", 300, "A", f"198.51.100.{k % 250}"))
b_records = [r for r in b_records if r is not None]


def absolute(owner):
    return origin if owner == "@" else f"{owner}.{origin}"


def ttl_units(ttl):
    if ttl % 3600 == 0:
        return f"{ttl // 3600}H"
    if ttl % 60 == 0:
        return f"{ttl // 60}m"
    return str(ttl)


with open(args.a, "w") as f:
    for owner, ttl, rtype, rdata in records:
        f.write(f"{absolute(owner)}\t{ttl}\tIN\t{rtype}\t{rdata}\n")

#B : SOA first, then the rest in blocks of 1000 records in shuffled order.
soa, rest = b_records[0], b_records[1:]
blocks = [rest[k:k + 1000] for k in range(0, len(rest), 1000)]
rnd.shuffle(blocks)
with open(args.b, "w") as f:
    f.write(f"; bench zone, reformatted\n$ORIGIN {origin.upper()}\n$TTL 1h\n")
    f.write(f"@ IN SOA ns1 HOSTMASTER ( 2024010101 ; serial\n  2h 1h 2w 5m )\n")
    for block in blocks:
        f.write("; block\n")
        for owner, ttl, rtype, rdata in block:
            rdata = rdata.replace(origin, "") .rstrip(".") if rtype in ("MX", "CNAME", "SRV") else rdata
            if rdata == "":
                rdata = "@"
            t = "" if ttl == 3600 else ttl_units(ttl) + " "
            o = owner.upper() if len(owner) % 2 else owner
            f.write(f"{o} {t}{rtype} {rdata}\n")
