#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# valgrind on the CLI's commands that touch the kernel and the pins:
#
#   valgrind --leak-check=full --error-exitcode=1 synguard attach|stats|detach
#
# on a veth in a namespace made for this run. Every run must end with no
# error and no leak ("ERROR SUMMARY: 0 errors", "All heap blocks were
# freed" or no definite/indirect/possible loss), and do its job (pins after
# attach, counters from stats, no pins after detach). False reports about
# libbpf's bpf() calls are suppressed by tests/security/valgrind.supp, which
# says why for each.
#
# usage: valgrind.sh SYNGUARD_BIN [--all]   (root; "N passed, N failed" last)
#   --all also runs a re-attach, status and conns (slower: each attach
#   under valgrind takes about a minute, most of it reading kernel BTF).
set -uo pipefail

if [[ $# -lt 1 || ! -x $1 ]]; then
	echo "usage: $0 SYNGUARD_BIN [--all]" >&2
	exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "valgrind.sh: must run as root (namespaces, XDP)" >&2
	exit 1
fi
if ! command -v valgrind >/dev/null; then
	echo "valgrind.sh: valgrind is not installed (apt install valgrind)" >&2
	exit 1
fi
SG=$(realpath "$1")
ALL=0
[[ ${2:-} == --all ]] && ALL=1
HERE=$(cd "$(dirname "$0")" && pwd)
SUPP=$HERE/valgrind.supp

ID=sge$$
NS=$ID-vg
IF=${ID}v
PIN=/sys/fs/bpf/synguard/$IF
TMP=$(mktemp -d /tmp/sge-vg.XXXXXX)

cleanup() {
	if [[ -e $PIN && -e /run/netns/$NS ]]; then
		nsenter --net="/run/netns/$NS" "$SG" detach "$IF" >/dev/null 2>&1
	fi
	rm -rf "$PIN"
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL - $1"
	[[ $# -lt 2 ]] || while IFS= read -r line; do echo "       $line"; done <<<"$2"
}

# vg NAME ARGS...: synguard ARGS under valgrind in the namespace; passes if
# valgrind found nothing and synguard exited 0.
vg() {
	local name=$1 rc log
	shift
	log=$TMP/$name.log
	nsenter --net="/run/netns/$NS" valgrind --leak-check=full --error-exitcode=1 --suppressions="$SUPP" \
		--log-file="$log" "$SG" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
	local errs leak
	errs=$(grep -o 'ERROR SUMMARY: [0-9]* errors' "$log" | head -1)
	leak=$(grep -E 'All heap blocks were freed|definitely lost|indirectly lost|possibly lost' "$log" |
		sed 's/^==[0-9]*== *//' | tr '\n' ';')
	if [[ $rc -eq 0 && $errs == 'ERROR SUMMARY: 0 errors' ]] && ! grep -qE '(definitely|indirectly|possibly) lost: [1-9]' "$log"; then
		pass "valgrind synguard $* ($errs; ${leak:-no leak summary})"
	else
		fail "valgrind synguard $* (exit $rc; ${errs:-no summary})" \
			"$(grep -E '^==[0-9]+== (Invalid|Conditional|Syscall|Use of|  (at|by)|.*lost)' "$log" | head -30)
$(head -c 500 "$TMP/$name.err")"
	fi
}

echo "# valgrind: $(valgrind --version), synguard $SG, namespace $NS"
if ! { ip netns add "$NS" &&
	ip -n "$NS" link set lo up &&
	ip -n "$NS" link add "$IF" type veth peer name "${IF}p" &&
	ip -n "$NS" link set "$IF" up &&
	ip -n "$NS" link set "${IF}p" up; }; then
	fail "namespace $NS with veth $IF could not be built"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi

vg attach attach "$IF" --ports 80,443
if [[ -e $PIN/sg_secret ]]; then pass "attach pinned its maps"; else fail "attach left no pins in $PIN"; fi
vg stats stats "$IF"
if grep -q synack_sent "$TMP/stats.out"; then pass "stats printed the counters"; else fail "stats printed no counters" "$(head -c 300 "$TMP/stats.out")"; fi
vg stats_json stats "$IF" --json
if ((ALL)); then
	vg reattach attach "$IF" --ports 80
	vg status status "$IF"
	vg conns conns "$IF"
fi
vg detach detach "$IF"
if [[ ! -e $PIN ]]; then pass "detach removed the pins"; else fail "detach left $PIN"; fi

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
