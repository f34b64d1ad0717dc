#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# CLI behaviour of `synguard`: help texts, exit codes (0 ok, 1 runtime error,
# 2 usage error) and their messages, attach/stats/detach on a veth in a
# network namespace this test creates, and refusal without privileges.
#
# usage: cli.sh SYNGUARD_BIN       (as root; prints "N passed, N failed" last)
set -euo pipefail

if [[ $# -ne 1 || ! -x $1 ]]; then
	echo "usage: $0 SYNGUARD_BIN (an executable synguard)" >&2
	exit 2
fi
SG=$(realpath "$1")
if [[ $(id -u) -ne 0 ]]; then
	echo "cli.sh: must run as root (creates a network namespace, attaches XDP)" >&2
	exit 1
fi
PY=/usr/bin/python3
PIN_ROOT=/sys/fs/bpf/synguard

# Unique per run: namespace and veth names (pins are keyed by interface name).
ID=sgc$(printf '%x' $$)$(od -An -N1 -tx1 /dev/urandom | tr -d ' \n')
NS=$ID-ns
IF=${ID}v
PEER=${ID}p
MISSING_IF=${ID}x # never created
TMP=$(mktemp -d /tmp/synguard-cli.XXXXXX)

cleanup() {
	set +e
	[[ -e /run/netns/$NS ]] && nsenter --net="/run/netns/$NS" -- "$SG" detach "$IF" >/dev/null 2>&1
	rm -rf "${PIN_ROOT:?}/$IF"
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

PASSED=0
FAILED=0
OUT="" ERR="" RC=0

# run CMD...: capture stdout, stderr and exit code into OUT, ERR, RC.
run() {
	RC=0
	"$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
	OUT=$(<"$TMP/out")
	ERR=$(<"$TMP/err")
}

pass() {
	PASSED=$((PASSED + 1))
	echo "ok   - $1"
}

fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL - $1"
	shift
	local line
	for line in "$@"; do
		echo "       $line"
	done
	echo "       exit=$RC"
	echo "       stdout: ${OUT:0:600}"
	echo "       stderr: ${ERR:0:600}"
}

# check DESC COND_RESULT: pass if the previous command (a test) returned 0.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc" "failed: $*"; fi
}

rc_is() { [[ $RC -eq $1 ]]; }
out_has() { grep -Eq -- "$1" <<<"$OUT"; }
err_has() { grep -Eq -- "$1" <<<"$ERR"; }
is_json() { $PY -c 'import json,sys; json.load(sys.stdin)' <<<"$OUT" 2>/dev/null; }
in_ns() { nsenter --net="/run/netns/$NS" -- "$@"; }
# A JSON stats document lists interface $1 with a synack_sent counter.
json_lists() {
	$PY -c '
import json, sys
doc = json.load(sys.stdin)
sys.exit(0 if any(i["ifname"] == sys.argv[1] and "synack_sent" in i["counters"]
                  for i in doc["interfaces"]) else 1)' "$1" <<<"$OUT" 2>/dev/null
}
xdp_on() { in_ns ip link show dev "$IF" | grep -Eq 'prog/xdp|xdp'; }

# expect_usage DESC ARGS...: usage error, exit 2, message on stderr.
expect_usage() {
	local desc=$1
	shift
	run "$SG" "$@"
	if rc_is 2 && [[ -n $ERR ]] && err_has 'synguard'; then
		pass "$desc: exit 2 with a message"
	else
		fail "$desc: expected exit 2 and a message on stderr" "args: $*"
	fi
}

echo "# synguard CLI tests ($SG), namespace $NS, interface $IF"

# ---- help and version ----
for cmd in "" attach detach stats; do
	for flag in --help -h; do
		# shellcheck disable=SC2086
		run "$SG" $cmd $flag
		name="synguard ${cmd:+$cmd }$flag"
		if rc_is 0 && out_has '^Usage: synguard' && out_has '^Examples?:'; then
			pass "$name: exit 0, Usage and Examples on stdout"
		else
			fail "$name: expected exit 0 with 'Usage: synguard' and 'Examples:' on stdout"
		fi
	done
done
run "$SG" --help
unlisted=
for cmd in attach detach stats; do
	out_has "^ +$cmd " || unlisted+=" $cmd"
done
if [[ -z $unlisted ]]; then pass "--help lists every command"; else fail "--help does not list:$unlisted"; fi

run "$SG" --version
if rc_is 0 && out_has '^synguard [0-9]+\.[0-9]+'; then
	pass "--version: exit 0, prints 'synguard X.Y'"
else
	fail "--version: expected exit 0 and 'synguard X.Y'"
fi

# ---- usage errors: exit 2 ----
run "$SG"
if rc_is 2 && err_has 'Usage'; then pass "no command: exit 2, usage on stderr"; else fail "no command: expected exit 2 + usage"; fi
run "$SG" frobnicate
if rc_is 2 && err_has "unknown command 'frobnicate'"; then
	pass "unknown command: exit 2, names the command"
else
	fail "unknown command: expected exit 2 naming 'frobnicate'"
fi
expect_usage "attach --bogus" attach lo --ports 80 --bogus
expect_usage "detach --bogus" detach lo --bogus
expect_usage "stats --bogus" stats --bogus
run "$SG" attach lo
if rc_is 2 && err_has '--ports'; then pass "attach without --ports: exit 2, mentions --ports"; else fail "attach without --ports: expected exit 2 mentioning --ports"; fi
expect_usage "attach without an interface" attach --ports 80
expect_usage "attach with two interfaces" attach lo lo --ports 80
expect_usage "detach without an interface" detach
expect_usage "stats with two interfaces" stats lo lo
for ports in 0 70000 80-20 abc 80,,443 "" "80," -5 1-70000; do
	run "$SG" attach lo --ports "$ports"
	if rc_is 2 && err_has 'port|range' && err_has '--help'; then
		pass "--ports '$ports': exit 2, says what is wrong"
	else
		fail "--ports '$ports': expected exit 2 with a message about the port list"
	fi
done
for bad in "--ttl 0" "--ttl 256" "--mss4 100" "--mss6 99999" "--wscale 15" "--window 0" "--epoch-shift 3" "--ttl x"; do
	# shellcheck disable=SC2086
	run "$SG" attach lo --ports 80 $bad
	opt=${bad%% *}
	if rc_is 2 && err_has "$opt"; then
		pass "attach $bad: exit 2, names $opt"
	else
		fail "attach $bad: expected exit 2 naming $opt"
	fi
done

# ---- runtime errors: exit 1 ----
run "$SG" attach "$MISSING_IF" --ports 80
if rc_is 1 && err_has "$MISSING_IF"; then
	pass "attach to a missing interface: exit 1, names it"
else
	fail "attach to a missing interface: expected exit 1 naming $MISSING_IF"
fi

# ---- attach / stats / detach on a veth in our namespace ----
ip netns add "$NS"
in_ns ip link set lo up
in_ns ip link add name "$IF" type veth peer name "$PEER"
in_ns ip link set "$IF" up
in_ns ip link set "$PEER" up

run in_ns "$SG" detach "$IF"
if rc_is 1 && err_has "$IF"; then pass "detach when not attached: exit 1, names the interface"; else fail "detach when not attached: expected exit 1"; fi
run in_ns "$SG" stats "$IF"
if rc_is 1 && err_has "$IF"; then pass "stats of a not-attached interface: exit 1"; else fail "stats of a not-attached interface: expected exit 1"; fi

run in_ns "$SG" attach "$IF" --ports 80,443,8000-8010 --ttl 77
if rc_is 0 && out_has "attached to $IF" && out_has '80,443,8000-8010'; then
	pass "attach: exit 0, reports interface and ports"
else
	fail "attach: expected exit 0 and 'attached to $IF ... 80,443,8000-8010'"
fi
check "attach: pins under $PIN_ROOT/$IF" test -d "$PIN_ROOT/$IF"
check "attach: pinned stats map exists" test -e "$PIN_ROOT/$IF/sg_stats"
check "attach: ip link shows an XDP program on $IF" xdp_on

run in_ns "$SG" stats "$IF"
if rc_is 0 && out_has "^$IF:" && out_has 'synack_sent' && out_has 'cookie_valid'; then
	pass "stats IFACE: exit 0, text table with counter names"
else
	fail "stats IFACE: expected exit 0 and a counter table"
fi
run in_ns "$SG" stats "$IF" --json
if rc_is 0 && is_json && json_lists "$IF"; then
	pass "stats IFACE --json: exit 0, valid JSON with the interface's counters"
else
	fail "stats IFACE --json: expected valid JSON listing $IF"
fi
run in_ns "$SG" stats --json
if is_json && json_lists "$IF"; then
	pass "stats --json (all interfaces): valid JSON that lists $IF"
else
	fail "stats --json: expected valid JSON listing $IF"
fi
run in_ns "$SG" stats
if out_has "^$IF:"; then pass "stats (all interfaces): lists $IF"; else fail "stats: expected $IF in the table"; fi

run in_ns "$SG" attach "$IF" --ports 22
if rc_is 0 && out_has "re-attached to $IF"; then
	pass "attach again: exit 0, re-attached in place"
else
	fail "attach again: expected exit 0 and 're-attached to $IF'"
fi
check "attach again: XDP still on $IF" xdp_on

# ---- without privileges: exit 1, says so ----
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
SG_NOBODY=$SG
if ! "${NOBODY[@]}" test -x "$SG"; then
	# The build tree is not reachable for nobody: use a copy it can run.
	install -m 0755 -d "$TMP/bin" && install -m 0755 "$SG" "$TMP/bin/synguard"
	chmod 0755 "$TMP"
	SG_NOBODY=$TMP/bin/synguard
fi
for args in "attach $IF --ports 80" "detach $IF" "stats $IF"; do
	# shellcheck disable=SC2086
	run in_ns "${NOBODY[@]}" "$SG_NOBODY" $args
	if rc_is 1 && err_has 'privilege|root'; then
		pass "unprivileged '$args': exit 1, mentions privileges/root"
	else
		fail "unprivileged '$args': expected exit 1 and a message about privileges"
	fi
done
check "unprivileged calls left the attachment alone" test -d "$PIN_ROOT/$IF"

run in_ns "$SG" detach "$IF"
if rc_is 0 && out_has "detached from $IF"; then pass "detach: exit 0"; else fail "detach: expected exit 0"; fi
check "detach: no pins left ($PIN_ROOT/$IF gone)" test ! -e "$PIN_ROOT/$IF"
check "detach: no XDP program left on $IF" eval '! xdp_on'
run in_ns "$SG" detach "$IF"
if rc_is 1 && err_has "not attached"; then pass "detach twice: exit 1, says not attached"; else fail "detach twice: expected exit 1"; fi

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
