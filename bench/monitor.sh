#!/bin/bash
# Benchmark of `soasync monitor` against real servers on loopback: NSD (two
# addresses) and Knot serving ZONES zones, watched at INTERVAL; CPU per
# query, RSS, database growth (start, steady state, changes), and the same
# servers probed by prometheus-blackbox-exporter for its CPU per query.
# See bench/README.md, section "monitor", and bench/monitor/run.py for the
# settings (ZONES=100000 INTERVAL=60 STEADY=2 CHANGES=1000 BB_ZONES=2000 ...).
#
# Run by hand, as root:  bash bench/monitor.sh
# Nothing here is a test; the exit status is non-zero when the fleet or the
# monitor does not work.
set -eu -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
export SOASYNC=${SOASYNC:-$REPO/build/soasync}
export PYTHONDONTWRITEBYTECODE=1
[ "$(id -u)" = 0 ] || { echo "monitor.sh: run as root (port 53)" >&2; exit 1; }
[ -x "$SOASYNC" ] || { echo "monitor.sh: no soasync at $SOASYNC" >&2; exit 1; }
for t in nsd knotd nsd-control knotc prometheus-blackbox-exporter; do
	command -v "$t" >/dev/null || { echo "monitor.sh: $t is missing" >&2; exit 1; }
done
exec /usr/bin/python3 "$HERE/monitor/run.py"
