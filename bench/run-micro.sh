#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Build (if needed) and run the XDP micro-benchmark; prints the results table.
# Bounded in time: the timed part stops after 75 s, the whole run after 110 s.
#
#   bench/run-micro.sh [--build-dir DIR] [--selftest FILE] [-- sg_microbench options]
#
#   --build-dir DIR   CMake build directory (default: build-bench in the repo)
#   --selftest FILE   also time the kernel's XDP SYN proxy selftest program on the
#                     same packets: FILE is xdp_synproxy_kern.c from the kernel
#                     tree (tools/testing/selftests/bpf/progs/; compiled here into
#                     a temporary directory, never into the repo) or its .o
#
# EXAMPLES
#   sudo bench/run-micro.sh
#   sudo bench/run-micro.sh --selftest /tmp/xdp_synproxy_kern.c
#   sudo bench/run-micro.sh -- -n 300000 -r 20
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build="$repo/build-bench"
selftest=""
extra=()

usage() { sed -n '4,18p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir) build=$2; shift 2 ;;
	--selftest) selftest=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	--) shift; extra=("$@"); break ;;
	*) echo "run-micro.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	echo "run-micro.sh: needs root (BPF_PROG_TEST_RUN, a network namespace of its own)" >&2
	exit 1
fi

[ -f "$build/CMakeCache.txt" ] || cmake -S "$repo" -B "$build" >/dev/null
cmake --build "$build" -j2 --target sg_microbench >/dev/null

tmp=$(mktemp -d /tmp/sg-micro.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

args=(-t 75)
if [ -n "$selftest" ]; then
	case "$selftest" in
	*.c)
		clang=$(command -v clang-19 || command -v clang-16 || command -v clang-14 || command -v clang)
		# Selftest flags: it compares packet pointers of distinct types.
		"$clang" -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wno-compare-distinct-pointer-types \
			-I"$build/gen" -I/usr/include/"$(uname -m)"-linux-gnu \
			-c "$selftest" -o "$tmp/xdp_synproxy_kern.bpf.o"
		obj="$tmp/xdp_synproxy_kern.bpf.o" ;;
	*) obj=$selftest ;;
	esac
	args+=(--extra-obj "$obj" --extra-prog syncookie_xdp --extra-label "kernel xdp_synproxy selftest")
fi

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
timeout 110 "$build/bench/sg_microbench" "${args[@]}" "${extra[@]}"
