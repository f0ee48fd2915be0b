#!/bin/bash
# Benchmark of the monitor's web faces: /metrics, /api/v1/zones and the
# dashboard for 10,000 and 100,000 zones (3 server addresses each), response
# time and size, and how late a 10 ms timer on the same loop gets while they
# are served (what the monitor's checks would feel). The zones are synthetic
# (tests/unit/web_fixture.h through build/tests/unit/web_serve): the renderers
# and the HTTP server are the monitor's own; the state behind them is not a
# fleet. See bench/README.md, section "web".
#
#   bash bench/web.sh                 # build/ of this repository
#   BUILD=build-x RUNS=5 bash bench/web.sh
#
# Settings: BUILD (build dir), SIZES ("10000 100000"), RUNS (curl runs per
# path, 5), PORT (19153). Nothing here is a test: it prints figures.
set -eu -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${BUILD:-$REPO/build}
SIZES=${SIZES:-10000 100000}
RUNS=${RUNS:-5}
PORT=${PORT:-19153}
SERVE=$BUILD/tests/unit/web_serve
[ -x "$SERVE" ] || { echo "web.sh: $SERVE missing: build first (scripts/build.sh)" >&2; exit 1; }

PID=""
LOG=$(mktemp)
cleanup() {
	if [ -n "$PID" ] && [ "$(readlink /proc/"$PID"/exe 2>/dev/null)" = "$(readlink -f "$SERVE")" ]; then
		kill -TERM "$PID" 2>/dev/null || true
		for _ in $(seq 50); do [ -d /proc/"$PID" ] || break; sleep 0.1; done
	fi
	PID=""
}
trap 'cleanup; rm -f "$LOG"' EXIT

# median and minimum of numbers on stdin
stats() { sort -n | awk '{a[NR]=$1} END {printf "min %.3f s, median %.3f s", a[1], a[int((NR+1)/2)]}'; }

measure() { # PATH
	local path=$1 times=() size=0 i out
	for ((i = 0; i < RUNS; i++)); do
		out=$(curl -s -o /dev/null -w '%{time_total} %{size_download} %{http_code}' \
			"http://127.0.0.1:$PORT$path")
		read -r t s code <<<"$out"
		[ "$code" = 200 ] || { echo "web.sh: $path: HTTP $code" >&2; exit 1; }
		times+=("$t")
		size=$s
	done
	printf '  %-16s %9.1f MB  %s\n' "$path" "$(echo "$size / 1000000" | bc -l)" \
		"$(printf '%s\n' "${times[@]}" | stats)"
}

echo "== renderers alone (64 KiB steps, no HTTP; best of 3)"
for n in $SIZES; do
	"$SERVE" render "$n"
	"$SERVE" render "$n" per-zone metrics
done

for n in $SIZES; do
	for variant in per-address per-zone; do
		args=()
		[ "$variant" = per-zone ] && args=(per-zone)
		: >"$LOG"
		setsid "$SERVE" serve "$n" "127.0.0.1#$PORT" "${args[@]}" 2>"$LOG" &
		PID=$!
		for _ in $(seq 100); do
			[ -d /proc/"$PID" ] || { echo "web.sh: web_serve exited: $(cat "$LOG")" >&2; exit 1; }
			curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
			sleep 0.1
		done
		echo "== $n zones, metrics $variant, over HTTP (curl, $RUNS runs each)"
		measure /metrics
		if [ "$variant" = per-address ]; then
			measure /api/v1/zones
			measure /
			measure "/zone/z000003.example."
		fi
		echo "  server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/"$PID"/status)"
		cleanup
		sed 's/^/  /' "$LOG" | grep -v "serving on" || true
	done
done
