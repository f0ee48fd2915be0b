#!/bin/bash
# Benchmark of `soasync check` against real servers on loopback.
#
# Starts one NSD, one Knot and one BIND (one server thread each) serving the
# same 10,000 small zones (a few of them one serial behind on one server),
# then times 30,000 SOA answers with soasync, a dig loop (a sample,
# extrapolated), `dig -f` batches and dnsperf, and prints the ratios, the peak
# RSS of soasync, a --per-server/--max-inflight sweep and the engine's
# retransmit/timeout counts. See bench/README.md, section "check".
#
# Run by hand, as root (lo aliases, port 53):  bash bench/check.sh
# Nothing here is a test: no timed assertion; the exit status is non-zero only
# when the fleet cannot be started or soasync's output is wrong.
#
# Settings (environment):
#   SOASYNC=PATH          soasync binary (default: build/soasync of this repository)
#   ZONES=10000           zones per server
#   STALE=10              zones served one serial behind ...
#   STALE_SERVER=knot     ... by this server (nsd, knot or bind)
#   NET=127.55.0          the servers listen on NET.1 (NSD), NET.2 (Knot), NET.3 (BIND)
#   PORT=53
#   RUNS=5                hyperfine runs of the main soasync measurement
#   SWEEP_ROUNDS=5        rounds of the --per-server/--max-inflight sweep (each round
#                         runs every setting once, in a shuffled order)
#   SLOW_RUNS=2           hyperfine runs of the dig loop and the dig -f batches
#   DIG_SAMPLE=300        queries of the dig loop (spread over the 3 servers)
#   DNSPERF_SECONDS=5     dnsperf -l
#   DNSPERF_CLIENTS=1     dnsperf -c
#   DNSPERF_OUTSTANDING=100  dnsperf -q
#   PER_SERVER_VALUES="20 50 100 200 400"  MAX_INFLIGHT_VALUES="20 50 100 200 1000"
#                         (100 and 1000 are the defaults: the same setting twice)
#   BENCH_TMPDIR=/dev/shm where the work directory is made (tmpfs: 10,000 zone
#                         files are written in 0.5 s there, 3 s on this ext4)
#   KEEP=1                keep the work directory (its path is printed)
#   HOLD=SECONDS          only start the fleet, keep it up this long for experiments by
#                         hand (addresses printed), then clean up; no measurement
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
PY=/usr/bin/python3

SOASYNC=${SOASYNC:-$REPO/build/soasync}
ZONES=${ZONES:-10000}
STALE=${STALE:-10}
STALE_SERVER=${STALE_SERVER:-knot}
NET=${NET:-127.55.0}
PORT=${PORT:-53}
RUNS=${RUNS:-5}
SWEEP_ROUNDS=${SWEEP_ROUNDS:-5}
SLOW_RUNS=${SLOW_RUNS:-2}
DIG_SAMPLE=${DIG_SAMPLE:-300}
DNSPERF_SECONDS=${DNSPERF_SECONDS:-5}
DNSPERF_CLIENTS=${DNSPERF_CLIENTS:-1}
DNSPERF_OUTSTANDING=${DNSPERF_OUTSTANDING:-100}
PER_SERVER_VALUES=${PER_SERVER_VALUES:-20 50 100 200 400}
MAX_INFLIGHT_VALUES=${MAX_INFLIGHT_VALUES:-20 50 100 200 1000}
BENCH_TMPDIR=${BENCH_TMPDIR:-/dev/shm}
KEEP=${KEEP:-0}
HOLD=${HOLD:-}

NSD_ADDR=$NET.1
KNOT_ADDR=$NET.2
BIND_ADDR=$NET.3
SERVERS=(nsd knot bind)
declare -A ADDR=([nsd]=$NSD_ADDR [knot]=$KNOT_ADDR [bind]=$BIND_ADDR)
declare -A EXE=([nsd]=/usr/sbin/nsd [knot]=/usr/sbin/knotd [bind]=/usr/sbin/named)
declare -A PID=()
NS_LIST="$NSD_ADDR#$PORT,$KNOT_ADDR#$PORT,$BIND_ADDR#$PORT"
SERVERSPEC=("nsd=$NSD_ADDR:$PORT" "knot=$KNOT_ADDR:$PORT" "bind=$BIND_ADDR:$PORT")
QUERIES=$((ZONES * 3))

W=""
ALIASES_ADDED=()
DP=() # dnsperf processes running in the background
HOLD_PID=""
FAILED=0

die() {
	echo "check.sh: error: $*" >&2
	exit 1
}
note() { echo "== $*" >&2; }

# ---- cleanup ------------------------------------------------------------------

proc_alive() { # PID: running and not a zombie
	local st
	st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# TERM a process we started (if it still runs that executable), up to 5 s, then KILL.
term_kill() { # PID EXE
	local pid=$1 exe=$2 i
	proc_alive "$pid" && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		proc_alive "$pid" || return 0
		sleep 0.1
	done
	echo "check.sh: pid $pid ($exe) ignored TERM, sending KILL" >&2
	kill -KILL "$pid" 2>/dev/null
}

stop_daemon() { # NAME: the started pid, then any descendant left (NSD forks two)
	local name=$1 pid=${PID[$1]:-} kids k
	[ -n "$pid" ] || return 0
	kids=$($PY "$HERE/check/proc.py" tree "$pid" 2>/dev/null)
	term_kill "$pid" "${EXE[$name]}"
	for k in $kids; do
		term_kill "$k" "${EXE[$name]}"
	done
	wait "$pid" 2>/dev/null # reap our own child (never a bare wait)
	unset "PID[$name]"
}

cleanup() {
	local rc=$? name a
	trap - EXIT INT TERM
	[ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null
	for p in "${DP[@]}"; do
		term_kill "$p" "$(command -v dnsperf)"
	done
	for name in "${SERVERS[@]}"; do
		stop_daemon "$name"
	done
	for a in "${ALIASES_ADDED[@]}"; do
		ip addr del "$a/32" dev lo 2>/dev/null || echo "check.sh: could not remove lo alias $a" >&2
	done
	if [ -n "$W" ] && [ -d "$W" ]; then
		if [ "$KEEP" = 1 ]; then
			echo "check.sh: work directory kept: $W" >&2
		else
			rm -rf "$W"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- preconditions ----------------------------------------------------------------

[ "$(id -u)" = 0 ] || die "run as root (lo aliases for BIND, port $PORT)"
[ -x "$SOASYNC" ] || die "no soasync binary at $SOASYNC (ninja -C build, or set SOASYNC)"
for t in nsd knotd named dig dnsperf hyperfine ip ss "$PY" /usr/bin/time; do
	command -v "$t" >/dev/null || die "$t is missing (apt-get install -y nsd knot bind9 bind9-dnsutils dnsperf hyperfine time)"
done
case "$STALE_SERVER" in nsd | knot | bind) ;; *) die "STALE_SERVER must be nsd, knot or bind" ;; esac
for a in "$NSD_ADDR" "$KNOT_ADDR" "$BIND_ADDR"; do
	if ss -Hlun "src $a:$PORT" | grep -q . || ss -Hltn "src $a:$PORT" | grep -q .; then
		die "something already listens on $a port $PORT (another run of this script?)"
	fi
done
if ss -Hlun "sport = :$PORT" | awk '{print $4}' | grep -Eq '^(0\.0\.0\.0|\*|\[::\]):'; then
	die "a wildcard listener holds port $PORT; set PORT to a free port"
fi

NCPU=$(nproc)
W=$(mktemp -d -p "$BENCH_TMPDIR" soasync-bench.XXXXXX) || die "cannot create a work directory under $BENCH_TMPDIR"
R=$W/results
mkdir -p "$R"

now() { date +%s.%N; }

# Load of the machine (other users' processes skew every figure): uptime and
# the five busiest processes over one second.
machine_load() { # TAG
	{
		echo "[$1] $(uptime)"
		top -b -n 2 -d 1 -w 200 | awk '/^top -/ { f++ } f == 2 && /^ *[0-9]+ / { print "  " $0 }' | head -n 5
	} >>"$R/load.txt"
}
# Datagrams the kernel dropped on the servers' UDP sockets (receive buffer full).
udp_mark() { # TAG
	echo "$1 $($PY "$HERE/check/proc.py" udpdrops "${SERVERSPEC[@]}")" >>"$R/udp.txt"
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# CPU time of each daemon (and its children) before and after a measurement.
fleet_ticks() { $PY "$HERE/check/proc.py" snap nsd="${PID[nsd]}" knot="${PID[knot]}" bind="${PID[bind]}"; }
ticks_delta() { $PY "$HERE/check/proc.py" delta "$1" "$2"; }

# ---- 1. generate -------------------------------------------------------------------

note "generating $ZONES zones x 3 servers in $W"
t0=$(now)
$PY "$HERE/check/gen.py" "$W" "$ZONES" "$STALE_SERVER" "$STALE" "$NSD_ADDR" "$KNOT_ADDR" "$BIND_ADDR" "$PORT" ||
	die "generating the zones failed"
t1=$(now)
echo "gen_s=$(elapsed "$t0" "$t1")" >>"$R/fleet.txt"

# ---- 2. start the fleet ------------------------------------------------------------

# BIND listens only on addresses that exist on an interface.
if ! ip -4 addr show dev lo | grep -qw "inet $BIND_ADDR/32"; then
	ip addr add "$BIND_ADDR/32" dev lo || die "cannot add $BIND_ADDR/32 to lo"
	ALIASES_ADDED+=("$BIND_ADDR")
fi

note "starting NSD ($NSD_ADDR), Knot ($KNOT_ADDR), BIND ($BIND_ADDR), port $PORT, one server thread each"
t0=$(now)
setsid /usr/sbin/nsd -d -c "$W/nsd/nsd.conf" >"$W/nsd/stdout.log" 2>&1 </dev/null &
PID[nsd]=$!
setsid /usr/sbin/knotd -c "$W/knot/knot.conf" >"$W/knot/stdout.log" 2>&1 </dev/null &
PID[knot]=$!
setsid /usr/sbin/named -f -4 -n 1 -c "$W/bind/named.conf" >"$W/bind/stdout.log" 2>&1 </dev/null &
PID[bind]=$!

if ! $PY "$HERE/check/ready.py" "$W" "$t0" 180 nsd="${PID[nsd]}" knot="${PID[knot]}" bind="${PID[bind]}" >"$R/ready.txt"; then
	for n in "${SERVERS[@]}"; do
		echo "---- $n: last log lines" >&2
		tail -n 5 "$W/$n"/*.log >&2 2>/dev/null
	done
	die "the fleet did not start (see above)"
fi
t1=$(now)
echo "start_s=$(elapsed "$t0" "$t1")" >>"$R/fleet.txt"
sed 's/^\([a-z]*\) /ready_\1_s=/' "$R/ready.txt" >>"$R/fleet.txt"
note "fleet up in $(elapsed "$t0" "$t1") s: $(tr '\n' ' ' <"$R/ready.txt")(all $ZONES zones verified on each, independently of soasync)"
for n in "${SERVERS[@]}"; do
	echo "pid_$n=${PID[$n]}" >>"$R/fleet.txt"
	echo "version_$n=$(dig +short +norec +time=1 +tries=2 -p "$PORT" @"${ADDR[$n]}" version.bind CH TXT | tr -d '"')" >>"$R/fleet.txt"
done

if [ -n "$HOLD" ]; then
	note "HOLD: fleet up for $HOLD s: --ns $NS_LIST, work directory $W (zones.txt, queries.txt);" \
		"pids nsd ${PID[nsd]} knot ${PID[knot]} bind ${PID[bind]}; send TERM to $$ to stop early"
	sleep "$HOLD" &
	HOLD_PID=$!
	wait "$HOLD_PID"
	exit 0
fi

# ---- 3. soasync ----------------------------------------------------------------------

machine_load "start"
CHECK=("$SOASYNC" check --ns "$NS_LIST" --zones-from "$W/zones.txt")
CHECK_S="$SOASYNC check --ns $NS_LIST --zones-from $W/zones.txt"

verify_out() { # json|nagios FILE TAG
	if ! $PY "$HERE/check/verify.py" "$1" "$W" "$2" >"$R/verify-$3.txt" 2>&1; then
		FAILED=1
		echo "check.sh: soasync output wrong ($3):" >&2
	fi
	cat "$R/verify-$3.txt" >&2
}

# Correctness runs first: exit status, output, engine stats, peak RSS, CPU of every process.
note "soasync check --json and --nagios: one run each under /usr/bin/time -v, SOASYNC_STATS=1"
udp_mark soasync-once-start
for mode in json nagios; do
	before=$(fleet_ticks)
	SOASYNC_STATS=1 /usr/bin/time -v -o "$R/time-$mode.txt" "${CHECK[@]}" "--$mode" >"$W/out.$mode" 2>"$R/stderr-$mode.txt"
	echo "exit=$?" >>"$R/time-$mode.txt"
	after=$(fleet_ticks)
	echo "fleet_cpu $(ticks_delta "$before" "$after")" >>"$R/time-$mode.txt"
	verify_out "$mode" "$W/out.$mode" "$mode"
done
udp_mark soasync-once-end

# Memory per zone: peak RSS with 1 and 1,000 zones as well (the slope is the per-zone cost).
for n in 1 1000; do
	head -n "$n" "$W/zones.txt" >"$W/zones-$n.txt"
	/usr/bin/time -v -o "$R/time-rss-$n.txt" "$SOASYNC" check --ns "$NS_LIST" --zones-from "$W/zones-$n.txt" --json >/dev/null 2>&1
done

note "hyperfine: soasync --json and --nagios, $RUNS runs each (+1 warmup)"
udp_mark soasync-start
hyperfine --style basic --warmup 1 --runs "$RUNS" -i --export-json "$R/hf-soasync.json" \
	-n json "SOASYNC_STATS=1 $CHECK_S --json > $W/out.json 2>>$R/stats-json.txt" \
	-n nagios "SOASYNC_STATS=1 $CHECK_S --nagios > $W/out.nagios 2>>$R/stats-nagios.txt" >&2
udp_mark soasync-end
verify_out json "$W/out.json" json-last
verify_out nagios "$W/out.nagios" nagios-last

# ---- 4. dnsperf, one server at a time, then all three at once -------------------------

DNSPERF_OPTS="-p $PORT -d $W/queries.txt -c $DNSPERF_CLIENTS -q $DNSPERF_OUTSTANDING -T 1 -l $DNSPERF_SECONDS"
for n in "${SERVERS[@]}"; do
	note "dnsperf -s ${ADDR[$n]} ($n), ${DNSPERF_SECONDS} s"
	udp_mark "dnsperf-$n-start"
	before=$(fleet_ticks)
	# shellcheck disable=SC2086
	/usr/bin/time -f "dnsperf_cpu_s=%U+%S elapsed=%e" -o "$R/dnsperf-$n.time" \
		dnsperf -s "${ADDR[$n]}" $DNSPERF_OPTS >"$R/dnsperf-$n.txt" 2>&1
	after=$(fleet_ticks)
	echo "fleet_cpu $(ticks_delta "$before" "$after")" >>"$R/dnsperf-$n.time"
	udp_mark "dnsperf-$n-end"
done
note "dnsperf against the three servers at once (three dnsperf processes), ${DNSPERF_SECONDS} s"
udp_mark dnsperf-par-start
for n in "${SERVERS[@]}"; do
	# shellcheck disable=SC2086
	dnsperf -s "${ADDR[$n]}" $DNSPERF_OPTS >"$R/dnsperf-par-$n.txt" 2>&1 &
	DP+=($!)
done
for p in "${DP[@]}"; do wait "$p"; done
DP=()
udp_mark dnsperf-par-end

# ---- 5. dig -f batches, one dig per server, in sequence ---------------------------------

note "dig -f: one batch of $ZONES queries per server, the three in sequence, $SLOW_RUNS runs"
for n in "${SERVERS[@]}"; do
	dig -f "$W/dig-$n.txt" >"$W/digf-$n.out" 2>&1
	echo "digf_${n}_answers=$(grep -c ' 2025010' "$W/digf-$n.out")" >>"$R/dig.txt"
	rm -f "$W/digf-$n.out"
done
udp_mark digf-start
hyperfine --style basic --runs "$SLOW_RUNS" -i --export-json "$R/hf-digf.json" \
	-n "dig -f nsd" "dig -f $W/dig-nsd.txt > /dev/null" \
	-n "dig -f knot" "dig -f $W/dig-knot.txt > /dev/null" \
	-n "dig -f bind" "dig -f $W/dig-bind.txt > /dev/null" >&2
udp_mark digf-end

# ---- 6. dig, one process per query (a sample, extrapolated) -----------------------------

per=$(((DIG_SAMPLE + 2) / 3))
DIG_N=$((per * 3))
{
	echo "#!/bin/bash"
	head -n "$per" "$W/zones.txt" | while read -r z; do
		for n in "${SERVERS[@]}"; do
			echo "dig +norec +short +tries=3 +time=2 -p $PORT @${ADDR[$n]} $z SOA"
		done
	done
} >"$W/dig-loop.sh"
note "dig loop: $DIG_N processes (one per query), $SLOW_RUNS runs, extrapolated to $QUERIES"
bash "$W/dig-loop.sh" >"$W/dig-loop.out" 2>&1
echo "dig_loop_queries=$DIG_N dig_loop_answers=$(grep -c ' 2025010' "$W/dig-loop.out")" >>"$R/dig.txt"
udp_mark digloop-start
hyperfine --style basic --runs "$SLOW_RUNS" -i --export-json "$R/hf-digloop.json" \
	-n "dig loop ($DIG_N)" "bash $W/dig-loop.sh > /dev/null" >&2
udp_mark digloop-end

# ---- 7. --per-server / --max-inflight sweep, interleaved ----------------------------------

SETTINGS=()
for v in $PER_SERVER_VALUES; do SETTINGS+=("--per-server $v"); done
for v in $MAX_INFLIGHT_VALUES; do SETTINGS+=("--max-inflight $v"); done
note "sweep: ${#SETTINGS[@]} settings x $SWEEP_ROUNDS rounds, interleaved (each round runs every setting once, shuffled)"
$PY "$HERE/check/sweep.py" "$W" "$SWEEP_ROUNDS" "$(
	IFS=,
	echo "${SERVERSPEC[*]}"
)" "${CHECK[@]}" -- "${SETTINGS[@]}" || FAILED=1
machine_load "end"

# ---- 8. report ------------------------------------------------------------------------------

{
	echo "soasync:   SOASYNC_STATS=1 $CHECK_S --json > out.json"
	echo "           (and --nagios; hyperfine --warmup 1 --runs $RUNS; /usr/bin/time -v for peak RSS)"
	echo "sweep:     the same with --per-server N or --max-inflight N, $SWEEP_ROUNDS rounds, each running every setting once in a shuffled order"
	echo "dnsperf:   dnsperf -s ADDR $DNSPERF_OPTS"
	echo "           (queries.txt: the $ZONES \"ZONE SOA\" lines; one server at a time, then three at once)"
	echo "dig -f:    dig -f dig-SERVER.txt, lines \"@ADDR -p $PORT +norec +short +tries=3 +time=2 ZONE SOA\"; one dig per server, in sequence (hyperfine --runs $SLOW_RUNS)"
	echo "dig loop:  dig +norec +short +tries=3 +time=2 -p $PORT @ADDR ZONE SOA, one process per query, $DIG_N queries (hyperfine --runs $SLOW_RUNS)"
} >"$R/commands.txt"
$PY "$HERE/check/report.py" "$W" "$ZONES" "$STALE_SERVER" "$NCPU" || FAILED=1

if [ "$FAILED" != 0 ]; then
	echo "check.sh: soasync's output or exit status was wrong in at least one run (see above)" >&2
	exit 1
fi
exit 0
