#!/bin/bash
# Installs what soasync needs to build, test and demo on Debian 12 (as root).
# Idempotent: does nothing when everything is installed already.
set -eu

PACKAGES=(
	# build
	gcc pkg-config meson ninja-build git
	libknot-dev libuv1-dev libjansson-dev libssl-dev libcmocka-dev clang-format
	# the monitor: config, state, alerts, HTTP
	libyaml-dev libsqlite3-dev libcurl4-openssl-dev libmicrohttpd-dev sqlite3
	# the peers of the system tests and the demo fleet
	bind9 bind9-dnsutils nsd knot knot-dnsutils unbound ldnsutils iproute2
	pdns-server pdns-backend-bind pdns-tools
	python3-pytest python3-dnspython python3-yaml
	# the monitor's peers: Prometheus (promtool), its blackbox exporter, a real
	# browser for the dashboard, Prometheus's own exposition parser
	prometheus prometheus-blackbox-exporter chromium chromium-driver
	python3-selenium python3-prometheus-client
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "soasync: deps: missing packages: ${missing[*]}; run as root (apt-get)" >&2
	exit 1
fi
echo "soasync: deps: installing ${missing[*]}" >&2
# The servers are only peers of the tests: never start their packaged services
# (they would take port 53 on every address).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod +x "$policy"
	created_policy=1
fi
trap '[ $created_policy -eq 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
