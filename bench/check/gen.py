#!/usr/bin/python3
"""Generate the bench fleet: N small zones, one zone file each, and the
configuration of one NSD, one Knot and one BIND serving all of them.

Usage: gen.py WORKDIR ZONES STALE_SERVER STALE_COUNT NSD_ADDR KNOT_ADDR BIND_ADDR PORT

Writes under WORKDIR:
  zones.txt                  the zone names, one a line (soasync --zones-from)
  queries.txt                "ZONE SOA" lines (dnsperf -d)
  dig-<server>.txt           "@ADDR -p PORT +norec +short ZONE SOA" lines for `dig -f`
  stale.txt                  the zones that STALE_SERVER serves at the older serial
  expect.json                {server: {"addr", "stale": [...]}} for ready.py
  zones/<zone>.zone          the zone files (shared by the three servers, read only)
  zones-stale/<zone>.zone    the older copies, loaded by STALE_SERVER only
  nsd/nsd.conf, knot/knot.conf, bind/named.conf
"""
import json
import os
import sys

SERIAL = 2025010101
STALE_SERIAL = SERIAL - 1

ZONE_TEMPLATE = (
    "$TTL 3600\n"
    "@\tIN\tSOA\tns1.bench. hostmaster.bench. {serial} 3600 600 1209600 300\n"
    "@\tIN\tNS\tns1.bench.\n"
    "@\tIN\tNS\tns2.bench.\n"
    "@\tIN\tA\t192.0.2.1\n"
    "www\tIN\tA\t192.0.2.1\n"
)


def main():
    if len(sys.argv) != 9:
        sys.exit(__doc__)
    work, nzones, stale_server, nstale = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    addrs = {"nsd": sys.argv[5], "knot": sys.argv[6], "bind": sys.argv[7]}
    port = int(sys.argv[8])
    if stale_server not in addrs:
        sys.exit("gen.py: stale server must be nsd, knot or bind")

    zones = ["z%05d.bench." % i for i in range(1, nzones + 1)]
    # Spread the stale zones evenly over the list: first, middle and last
    # parts of the run all see one.
    step = max(1, nzones // max(1, nstale))
    stale = [zones[min(nzones - 1, step // 2 + k * step)] for k in range(nstale)] if nstale else []
    stale_set = set(stale)

    for d in ("zones", "zones-stale", "nsd", "knot", "knot/db", "bind"):
        os.makedirs(os.path.join(work, d), exist_ok=True)

    good = ZONE_TEMPLATE.format(serial=SERIAL)
    old = ZONE_TEMPLATE.format(serial=STALE_SERIAL)
    zdir = os.path.join(work, "zones")
    for z in zones:
        with open(os.path.join(zdir, z + "zone"), "w") as f:
            f.write(good)
    for z in stale:
        with open(os.path.join(work, "zones-stale", z + "zone"), "w") as f:
            f.write(old)

    with open(os.path.join(work, "zones.txt"), "w") as f:
        f.write("".join(z + "\n" for z in zones))
    with open(os.path.join(work, "queries.txt"), "w") as f:
        f.write("".join(z + " SOA\n" for z in zones))
    for s, a in addrs.items():
        # Every option on every line: dig -f applies few command-line options to batch lines.
        with open(os.path.join(work, "dig-%s.txt" % s), "w") as f:
            f.write("".join("@%s -p %d +norec +short +tries=3 +time=2 %s SOA\n" % (a, port, z)
                            for z in zones))
    with open(os.path.join(work, "stale.txt"), "w") as f:
        f.write("".join(z + "\n" for z in stale))
    expect = {
        s: {"addr": a, "port": port, "stale": stale if s == stale_server else []}
        for s, a in addrs.items()
    }
    with open(os.path.join(work, "expect.json"), "w") as f:
        json.dump({"serial": SERIAL, "stale_serial": STALE_SERIAL, "servers": expect}, f)

    def zfile(server, z):
        sub = "zones-stale" if server == stale_server and z in stale_set else "zones"
        return os.path.join(work, sub, z + "zone")

    # ---- NSD ---------------------------------------------------------------
    nd = os.path.join(work, "nsd")
    out = [
        "server:",
        "  ip-address: %s@%d" % (addrs["nsd"], port),
        "  do-ip6: no",
        "  server-count: 1",          # one server process (the brief: one thread each)
        "  username: \"\"",
        "  chroot: \"\"",
        "  database: \"\"",           # no nsd.db: load zone files directly
        "  zonelistfile: \"%s/zone.list\"" % nd,
        "  xfrdfile: \"%s/xfrd.state\"" % nd,
        "  xfrdir: \"%s\"" % nd,
        "  pidfile: \"%s/nsd.pid\"" % nd,
        "  logfile: \"%s/nsd.log\"" % nd,
        "  zonefiles-check: no",
        "  zonefiles-write: 0",
        "  verbosity: 1",
        "  hide-version: no",
        "  rrl-ratelimit: 0",         # NSD rate-limits by default; off for a benchmark
        "  rrl-whitelist-ratelimit: 0",
        "remote-control:",
        "  control-enable: no",
        "",
    ]
    for z in zones:
        out += ["zone:", "  name: %s" % z, "  zonefile: \"%s\"" % zfile("nsd", z)]
    with open(os.path.join(nd, "nsd.conf"), "w") as f:
        f.write("\n".join(out) + "\n")

    # ---- Knot --------------------------------------------------------------
    kd = os.path.join(work, "knot")
    out = [
        "server:",
        "  rundir: \"%s\"" % kd,
        "  pidfile: \"%s/knot.pid\"" % kd,
        "  listen: %s@%d" % (addrs["knot"], port),
        "  udp-workers: 1",
        "  tcp-workers: 1",
        "  background-workers: 1",
        "  # Knot 3.2 has no response rate limiting unless mod-rrl is configured.",
        "control:",
        "  listen: \"%s/knot.sock\"" % kd,
        "database:",
        "  storage: \"%s/db\"" % kd,
        "log:",
        "  - target: \"%s/knot.log\"" % kd,
        "    any: notice",
        "template:",
        "  - id: default",
        "    storage: \"%s/zones\"" % work,
        "    file: \"%s.zone\"",
        "    zonefile-sync: -1",
        "    zonefile-load: whole",
        "    journal-content: none",
        "    semantic-checks: off",
        "  - id: stale",
        "    storage: \"%s/zones-stale\"" % work,
        "    file: \"%s.zone\"",
        "    zonefile-sync: -1",
        "    zonefile-load: whole",
        "    journal-content: none",
        "    semantic-checks: off",
        "zone:",
    ]
    for z in zones:
        if stale_server == "knot" and z in stale_set:
            out += ["  - domain: %s" % z, "    template: stale"]
        else:
            out.append("  - domain: %s" % z)
    with open(os.path.join(kd, "knot.conf"), "w") as f:
        f.write("\n".join(out) + "\n")

    # ---- BIND --------------------------------------------------------------
    bd = os.path.join(work, "bind")
    out = [
        "options {",
        "  directory \"%s\";" % bd,
        "  pid-file \"%s/named.pid\";" % bd,
        "  session-keyfile \"%s/session.key\";" % bd,
        "  managed-keys-directory \"%s\";" % bd,
        "  listen-on port %d { %s; };" % (port, addrs["bind"]),
        "  listen-on-v6 { none; };",
        "  query-source address %s;" % addrs["bind"],
        "  transfer-source %s;" % addrs["bind"],
        "  notify-source %s;" % addrs["bind"],
        "  recursion no;",
        "  allow-query { any; };",
        "  notify no;",
        "  dnssec-validation no;",
        "  automatic-interface-scan no;",
        "  zone-statistics no;",
        "  // no rate-limit { } block here: BIND does not rate-limit IN answers unless configured",
        "};",
        "controls { };",
        "logging {",
        "  channel f { file \"%s/named.log\"; severity info; print-time yes; };" % bd,
        "  category default { f; };",
        "  category lame-servers { null; };",
        "};",
    ]
    # BIND's built-in CHAOS view "_bind" rate-limits its answers (3 a second per /24,
    # slip 0): a benchmark running soasync many times a second loses its version.bind
    # query and waits for the timeout. A CHAOS view of our own comes first and
    # answers instead (the name "_bind" is reserved).
    out += [
        "view \"chaos\" CH {",
        "  recursion no;",
        "  notify no;",
        "  zone \"version.bind\" CH { type primary; database \"_builtin version\"; };",
        "  zone \"hostname.bind\" CH { type primary; database \"_builtin hostname\"; };",
        "  zone \"id.server\" CH { type primary; database \"_builtin id\"; };",
        "};",
        "view \"bench\" IN {",
    ]
    for z in zones:
        out.append("  zone \"%s\" { type primary; file \"%s\"; };" % (z, zfile("bind", z)))
    out.append("};")
    with open(os.path.join(bd, "named.conf"), "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
