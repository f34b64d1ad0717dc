#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# SYN-flood benchmark, end to end: the kernel's SYN cookies (tcp_syncookies=1
# and =2), netfilter SYNPROXY and synguard side by side, plus the reflect-only
# XDP floor, each on a freshly built lab of network namespaces. Prints one
# table (ratios to the kernel with tcp_syncookies=1); see bench/README.md.
#
#   bench/flood-bench.sh [--quick] [--build-dir DIR] [--configs r,a,b,c,d]
#                        [--rates 250000,450000] [--sat-pps N] [--json FILE]
#                        [--write-readme]
#
#   --quick          shorter phases and 100 legit connections (< 2 min)
#   --build-dir DIR  CMake build directory (default: build-bench in the repo)
#   --configs LIST   r floor (XDP reflect), a syncookies=1, b syncookies=2,
#                    c nftables SYNPROXY, d synguard (default: all)
#   --rates LIST     fixed flood rates for the CPU columns (pps)
#   --sat-pps N      offered rate at saturation (default: the flooder's
#                    ceiling, measured against the floor)
#   --json FILE      every measurement, as JSON
#   --server-fair    the server's NAPI thread at nice -20 with a 100 us slice
#                    instead of SCHED_FIFO (see bench/README.md)
#   --write-readme   put the table into bench/README.md (between the
#                    flood-bench markers)
#
# Bounded: the default run takes about 4 minutes and is killed after 10; the
# quick run about 90 s, killed after 2 min. Every flood is bounded in count and
# time. Everything it creates (namespaces, veths, pins, processes) carries a
# per-run id and is removed on every exit path.
#
# EXAMPLES
#   sudo bench/flood-bench.sh --quick
#   sudo bench/flood-bench.sh --configs r,a,d --json /tmp/flood.json
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build="$repo/build-bench"
quick=0
write_readme=0
py_args=()
cmdline="bench/flood-bench.sh${*:+ $*}"

usage() { sed -n '4,33p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; py_args+=(--quick); shift ;;
	--build-dir) build=$2; shift 2 ;;
	--configs|--rates|--sat-pps|--json) py_args+=("$1" "$2"); shift 2 ;;
	--server-fair) py_args+=("$1"); shift ;;
	--write-readme) write_readme=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "flood-bench.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	echo "flood-bench.sh: needs root (network namespaces, XDP, sysctls)" >&2
	exit 1
fi
for t in ip nsenter ethtool ss taskset chrt renice /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "flood-bench.sh: missing $t (run scripts/install-deps.sh)" >&2; exit 1; }
done
command -v nft >/dev/null ||
	echo "flood-bench.sh: nft not found: configuration (c) SYNPROXY will be skipped (Debian package: nftables)" >&2

[ -f "$build/CMakeCache.txt" ] || cmake -S "$repo" -B "$build" >/dev/null
cmake --build "$build" -j2 --target synguard sg_flooder bench_bpf bpf_skeletons >/dev/null

# Per-run id: short, because interface names are "<id><config><role>" and
# the NAPI kthread is "napi/<ifname>-N" (15 visible characters).
id=sgb$(printf '%x' $(($$ % 65536)))$(od -An -N1 -tx1 /dev/urandom | tr -d ' \n')
state=$(mktemp -d "/tmp/$id.XXXXXX")
py_pid=

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local pid ns
	trap - EXIT INT TERM HUP
	if [ -n "$py_pid" ] && kill -0 "$py_pid" 2>/dev/null; then
		kill -TERM "$py_pid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$py_pid" 2>/dev/null || break; sleep 0.5; done
		kill -KILL "$py_pid" 2>/dev/null || true
	fi
	# Backstop for what the Python side did not remove (it removes
	# everything itself unless it was killed): processes still inside this
	# run's namespaces (only this run puts any there), the namespaces, pins.
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$id" || true); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf /sys/fs/bpf/synguard/"$id"* 2>/dev/null || true
	rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

limit=600
[ "$quick" = 1 ] && limit=120
echo "flood-bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)" >&2
set +e
timeout --foreground -k 10 "$limit" /usr/bin/python3 "$repo/bench/flood_bench.py" --id "$id" --build-dir "$build" \
	--markdown "$state/table.md" --command "$cmdline" "${py_args[@]}" &
py_pid=$!
wait "$py_pid"
rc=$?
set -e
py_pid=
if [ "$rc" = 124 ]; then
	echo "flood-bench.sh: stopped after $limit s" >&2
fi
if [ "$write_readme" = 1 ] && [ -s "$state/table.md" ]; then
	/usr/bin/python3 - "$repo/bench/README.md" "$state/table.md" <<'PY'
import sys
readme, table = sys.argv[1], open(sys.argv[2]).read().strip()
text = open(readme).read()
begin, end = "<!-- flood-bench:begin -->", "<!-- flood-bench:end -->"
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    text = head + begin + "\n" + table + "\n" + end + rest.split(end, 1)[1]
else:
    text = text.rstrip() + "\n\n" + begin + "\n" + table + "\n" + end + "\n"
open(readme, "w").write(text)
print("flood-bench: table written to " + readme, file=sys.stderr)
PY
fi
exit "$rc"
