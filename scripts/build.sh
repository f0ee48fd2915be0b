#!/bin/bash
# Configures and builds soasync in build/ (and, with "asan", build-asan/ with
# AddressSanitizer + UndefinedBehaviorSanitizer).
set -eu
cd "$(dirname "$0")/.."
build() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
}
build build
if [ "${1:-}" = asan ]; then
	build build-asan -Db_sanitize=address,undefined -Db_lundef=false
fi
