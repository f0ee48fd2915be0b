#!/usr/bin/env bash
# Benchmark: `soasync diff` against `ldns-compare-zones` on the same two
# zone files of RECORDS records (default 1,000,000): B is A reformatted
# (relative names, case, TTL units, block order, comments) with CHANGES
# (default 300) real differences. Prints mean wall time of both, the ratio,
# and peak RSS of both. Needs hyperfine and ldnsutils.
#
#   bench/diff.sh                    # binary from build/soasync
#   SOASYNC=build-zone/soasync RECORDS=200000 bench/diff.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
SOASYNC=${SOASYNC:-$repo/build/soasync}
RECORDS=${RECORDS:-1000000}
CHANGES=${CHANGES:-300}
RUNS=${RUNS:-10}
LDNS_RUNS=${LDNS_RUNS:-3}
PY=/usr/bin/python3

for tool in hyperfine ldns-compare-zones "$SOASYNC"; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench/diff.sh: $tool not found (apt-get install hyperfine ldnsutils; build soasync)" >&2
		exit 2
	fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
a=$work/a.zone
b=$work/b.zone
echo "== generating two zones of $RECORDS records, $CHANGES changes"
"$PY" "$here/genzone.py" --records "$RECORDS" --changes "$CHANGES" "$a" "$b"
ls -l "$a" "$b" | awk '{print "   " $5 " bytes  " $NF}'

echo "== where soasync's time goes (one run)"
SOASYNC_STATS=1 "$SOASYNC" diff "$a" "$b" >"$work/soasync.out" 2>"$work/stats" || true
sed 's/^/   /' "$work/stats"
echo "   differences listed: $(wc -l <"$work/soasync.out")"

echo "== timing (hyperfine); other load on the machine shows as spread"
uptime | sed 's/^/   /'
hyperfine --ignore-failure --warmup 1 --runs "$RUNS" --export-json "$work/soasync.json" \
	-n "soasync diff" "$SOASYNC diff $a $b >/dev/null"
hyperfine --ignore-failure --runs "$LDNS_RUNS" --export-json "$work/ldns.json" \
	-n "ldns-compare-zones" "ldns-compare-zones -a $a $b >/dev/null"

rss() { # peak RSS in MiB of one run of "$@"
	/usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1 || true
	tail -n 1 "$work/rss" | awk '{printf "%.0f", $1 / 1024}'
}
rss_soasync=$(rss "$SOASYNC" diff "$a" "$b")
rss_ldns=$(rss ldns-compare-zones -a "$a" "$b")

"$PY" - "$work/soasync.json" "$work/ldns.json" "$rss_soasync" "$rss_ldns" "$RECORDS" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))["results"][0]
l = json.load(open(sys.argv[2]))["results"][0]
print("== result (%s records per zone)" % format(int(sys.argv[5]), ","))
print("   %-19s %8s %8s %8s %9s %9s" % ("", "mean s", "min s", "+-", "CPU s", "peak RSS"))
for name, r, rss in (("soasync diff", s, sys.argv[3]), ("ldns-compare-zones", l, sys.argv[4])):
    print("   %-19s %8.3f %8.3f %8.3f %9.3f %5s MiB" % (name, r["mean"], r["min"], r["stddev"] or 0,
          r["user"] + r["system"], rss))
print("   soasync is %.1fx faster (mean wall), %.1fx (min wall), %.1fx (CPU)" % (
      l["mean"] / s["mean"], l["min"] / s["min"],
      (l["user"] + l["system"]) / (s["user"] + s["system"])))
PYEOF
