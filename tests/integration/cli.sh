#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# CLI behaviour of `synguard`: help texts, exit codes (0 ok, 1 runtime error,
# 2 usage error) and their messages; attach/status/stats/config/detach on a
# veth in a network namespace this test creates (options land in the maps,
# JSON is valid and has the documented fields, --xdp-mode, --secret-file
# permissions, --ports auto); refusal without privileges. Traffic through
# the policy lists is tests/cli/test_policy.py's.
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
IF2=${ID}w	  # a second veth: shared secret, generic mode
PEER2=${ID}q
MISSING_IF=${ID}x # never created
TMP=$(mktemp -d /tmp/synguard-cli.XXXXXX)

PIDS=()
cleanup() {
	set +e
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[[ -e /run/netns/$NS ]] && nsenter --net="/run/netns/$NS" -- "$SG" detach "$IF" >/dev/null 2>&1
	[[ -e /run/netns/$NS ]] && nsenter --net="/run/netns/$NS" -- "$SG" detach "$IF2" >/dev/null 2>&1
	rm -rf "${PIN_ROOT:?}/$IF" "${PIN_ROOT:?}/$IF2"
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
# jcheck PYEXPR: the JSON in OUT makes the Python expression PYEXPR true;
# it sees the document as `d`, its first interface as `i` and that one's
# config as `c`.
jcheck() {
	$PY -c '
import json, sys
d = json.loads(sys.stdin.read())
i = (d.get("interfaces") or [{}])[0] if isinstance(d, dict) else {}
c = i.get("config", {})
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$1" <<<"$OUT" 2>/dev/null
}
# jlines_check PYEXPR: every line of OUT is JSON making PYEXPR true (as `d`).
jlines_check() {
	$PY -c '
import json, sys
lines = sys.stdin.read().splitlines()
sys.exit(0 if lines and all(eval("(" + sys.argv[1] + ")", {"d": json.loads(l)}) for l in lines) else 1)' "$1" <<<"$OUT" 2>/dev/null
}

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
run "$SG" --help
COMMANDS=$(awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}' <<<"$OUT")
for cmd in attach detach status stats config; do
	grep -qx "$cmd" <<<"$COMMANDS" || fail "--help does not list '$cmd'"
done
# shellcheck disable=SC2086
for cmd in "" $COMMANDS; do
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
for cmd in attach detach status stats config; do
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

for bad in "--syn-rate x" "--syn-burst 0" "--rate-prefix4 33" "--rate-prefix6 129" "--msl 0" \
	"--msl 601" "--idle-timeout 0" "--xdp-mode turbo" "--handoff remote" "--flow-table-size 10"; do
	# shellcheck disable=SC2086
	run "$SG" attach lo --ports 80 $bad
	opt=${bad%% *}
	if rc_is 2 && err_has "$opt"; then
		pass "attach $bad: exit 2, names $opt"
	else
		fail "attach $bad: expected exit 2 naming $opt"
	fi
done
for opt in --prefix --allow --deny; do
	for cidr in 10.0.0.0/33 fe80::/129 abc 10.0.0.0/ 300.1.1.1 ""; do
		run "$SG" attach lo --ports 80 "$opt" "$cidr"
		if rc_is 2 && err_has "$opt" && err_has 'prefix|address'; then
			pass "attach $opt '$cidr': exit 2, says what is wrong"
		else
			fail "attach $opt '$cidr': expected exit 2 with a message about the prefix"
		fi
	done
done
run "$SG" attach lo --ports 80 --prefix 10.0.0.0/33
if err_has '/0 to /32'; then pass "--prefix 10.0.0.0/33: says IPv4 takes /0 to /32"; else fail "--prefix /33: expected the valid range"; fi
run "$SG" attach lo --ports 80 --deny fe80::/129
if err_has '/0 to /128'; then pass "--deny fe80::/129: says IPv6 takes /0 to /128"; else fail "--deny /129: expected the valid range"; fi
for args in "config" "config lo" "config lo lo --ttl 9" "config lo --ttl 0" "config lo --allow abc" \
	"config lo --add-deny 1.2.3.4/40" "config lo --del-allow x" "config lo --ports 0" \
	"config lo --xdp-mode generic" "config lo --handoff legacy" "config lo --epoch-shift 30" \
	"status lo lo" "status --bogus" "stats --watch 0" "stats --watch x" "stats --interval -1" \
	"stats --count 3" "stats --watch 1 --interval 1" "stats --prometheus --json"; do
	# shellcheck disable=SC2086
	expect_usage "$args" $args
done
run "$SG" config lo
if rc_is 2 && err_has 'nothing to change'; then pass "config without options: exit 2, says nothing to change"; else fail "config without options: expected exit 2"; fi
run "$SG" config lo --xdp-mode generic
if rc_is 2 && err_has 'attach'; then pass "config --xdp-mode: exit 2, points to attach"; else fail "config --xdp-mode: expected exit 2 pointing to attach"; fi

# ---- runtime errors: exit 1 ----
run "$SG" attach "$MISSING_IF" --ports 80
if rc_is 1 && err_has "$MISSING_IF"; then
	pass "attach to a missing interface: exit 1, names it"
else
	fail "attach to a missing interface: expected exit 1 naming $MISSING_IF"
fi

for args in "status $MISSING_IF" "config $MISSING_IF --ttl 9" "stats $MISSING_IF"; do
	# shellcheck disable=SC2086
	run "$SG" $args
	if rc_is 1 && err_has "$MISSING_IF"; then
		pass "$args: exit 1, names the interface"
	else
		fail "$args: expected exit 1 naming $MISSING_IF"
	fi
done

# ---- attach / stats / detach on a veth in our namespace ----
ip netns add "$NS"
in_ns ip link set lo up
in_ns ip link add name "$IF" type veth peer name "$PEER"
in_ns ip link set "$IF" up
in_ns ip link set "$PEER" up
in_ns ip link add name "$IF2" type veth peer name "$PEER2"
in_ns ip link set "$IF2" up
in_ns ip link set "$PEER2" up

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

run in_ns "$SG" stats "$IF" --interval 0
if rc_is 0 && out_has "^$IF:" && out_has 'synack_sent' && out_has 'cookie_valid'; then
	pass "stats IFACE: exit 0, text table with counter names"
else
	fail "stats IFACE: expected exit 0 and a counter table"
fi
run in_ns "$SG" stats "$IF" --json --interval 0
if rc_is 0 && is_json && json_lists "$IF"; then
	pass "stats IFACE --json: exit 0, valid JSON with the interface's counters"
else
	fail "stats IFACE --json: expected valid JSON listing $IF"
fi
run in_ns "$SG" stats --json --interval 0
if is_json && json_lists "$IF"; then
	pass "stats --json (all interfaces): valid JSON that lists $IF"
else
	fail "stats --json: expected valid JSON listing $IF"
fi
run in_ns "$SG" stats --interval 0
if out_has "^$IF:"; then pass "stats (all interfaces): lists $IF"; else fail "stats: expected $IF in the table"; fi

# ---- stats: rates, JSON fields, watch, Prometheus ----
run in_ns "$SG" stats "$IF" --json --interval 0.2
if rc_is 0 && jcheck 'set(d) >= {"timestamp", "interval_s", "interfaces"} and d["interval_s"] > 0.1 and
	all(set(i) == {"ifname", "counters", "rates", "flows"} and set(i["counters"]) == set(i["rates"]) and
	    {"synack_sent", "cookie_valid", "drop_denied", "pass_allowed"} <= set(i["counters"]) and
	    set(i["flows"]) == {"total", "max", "states"} and
	    set(i["flows"]["states"]) == {"ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT",
	                                  "CLOSE_WAIT", "LAST_ACK", "CLOSED"}
	    for i in d["interfaces"])'; then
	pass "stats --json: timestamp, interval_s, interfaces[].{ifname,counters,rates,flows}, same names"
else
	fail "stats --json: expected the documented fields"
fi
run in_ns "$SG" stats "$IF" --json --interval 0
if rc_is 0 && jcheck '"rates" not in d["interfaces"][0] and d["interval_s"] == 0'; then
	pass "stats --json --interval 0: totals only, no rates"
else
	fail "stats --json --interval 0: expected no rates"
fi
run in_ns "$SG" stats "$IF" --interval 0.2
if rc_is 0 && out_has 'per second' && out_has '^  rx_packets +[0-9]+ +[0-9.]+$'; then
	pass "stats: text table with totals and per-second rates"
else
	fail "stats: expected a table with rates"
fi
start=$(date +%s%N)
run timeout 10 nsenter --net="/run/netns/$NS" -- "$SG" stats "$IF" --watch 0.3 --count 3 --json
ms=$((($(date +%s%N) - start) / 1000000))
if rc_is 0 && [[ $(wc -l <<<"$OUT") -eq 3 ]] && jlines_check 'd["interfaces"][0]["ifname"] and "rates" in d["interfaces"][0]' &&
	((ms >= 800 && ms < 5000)); then
	pass "stats --watch 0.3 --count 3 --json: three JSON lines with rates (${ms} ms)"
else
	fail "stats --watch --count --json: expected three JSON lines in about 0.9 s (${ms} ms)"
fi
run timeout 10 nsenter --net="/run/netns/$NS" -- "$SG" stats "$IF" --watch 0.2 --count 2
if rc_is 0 && [[ $(grep -c '^synguard stats' <<<"$OUT") -eq 2 ]]; then
	pass "stats --watch --count 2: two compact tables"
else
	fail "stats --watch --count 2: expected two tables"
fi
# SIGINT ends --watch with exit 0.
nsenter --net="/run/netns/$NS" -- "$SG" stats "$IF" --watch 0.2 >"$TMP/watch" 2>&1 &
wpid=$!
PIDS+=("$wpid")
sleep 0.7
kill -INT "$wpid"
RC=0
wait "$wpid" || RC=$?
OUT=$(<"$TMP/watch") ERR=""
if rc_is 0 && out_has '^synguard stats'; then pass "stats --watch: SIGINT ends it with exit 0"; else fail "stats --watch: expected exit 0 on SIGINT"; fi
run in_ns "$SG" stats "$IF" --prometheus
if rc_is 0 && out_has "^synguard_synack_sent_total\{interface=\"$IF\"\} [0-9]+$" &&
	out_has '^# TYPE synguard_synack_sent_total counter$' &&
	out_has "^synguard_map_max_entries\{interface=\"$IF\",map=\"sg_flows\"\} [0-9]+$"; then
	pass "stats --prometheus: counters and map gauges in the text format"
else
	fail "stats --prometheus: expected synguard_*_total and synguard_map_* samples"
fi

# ---- status ----
run in_ns "$SG" status
if rc_is 0 && out_has "^$IF \(ifindex [0-9]+\): attached" && out_has '^  ports: +80,443,8000-8010$' &&
	out_has '^  XDP: +native' && out_has 'hand-off: +local' && out_has 'bpf_sk_assign_tcp_reqsk' &&
	out_has '^ +sg_flows +lru_hash'; then
	pass "status: interface, XDP mode, hand-off, ports, kernel features, maps"
else
	fail "status: expected the attachment of $IF"
fi
run in_ns "$SG" status "$IF" --json
if rc_is 0 && jcheck 'set(d) >= {"version", "kernel", "interfaces", "elsewhere"} and
	set(d["kernel"]) >= {"release", "kfunc_bpf_sk_assign_tcp_reqsk", "helper_bpf_tcp_gen_syncookie",
	                     "tcp_syncookies", "tcp_timestamps"} and len(d["interfaces"]) == 1 and
	set(d["interfaces"][0]) >= {"ifname", "ifindex", "attached", "xdp_mode", "xdp_prog_id", "xdp_link_id",
	    "handoff", "tc_link_id", "ports", "ports_count", "prefixes", "allow", "deny", "secret_installed",
	    "config", "maps"} and
	set(d["interfaces"][0]["config"]) >= {"mss4", "mss6", "window", "wscale", "ttl", "epoch_shift", "msl",
	    "idle_timeout", "syn_rate", "syn_burst", "rate_prefix4", "rate_prefix6", "policy_flags"} and
	all(set(m) >= {"name", "type", "entries", "max_entries"} for m in d["interfaces"][0]["maps"])'; then
	pass "status --json: the documented fields"
else
	fail "status --json: expected the documented fields"
fi
if jcheck 'd["interfaces"][0]["attached"] and d["interfaces"][0]["xdp_mode"] == "native" and
	d["interfaces"][0]["handoff"] == "local" and d["interfaces"][0]["ports"] == "80,443,8000-8010" and
	d["interfaces"][0]["ports_count"] == 13 and d["interfaces"][0]["config"]["ttl"] == 77 and
	d["interfaces"][0]["secret_installed"] and
	{m["name"]: m["entries"] for m in d["interfaces"][0]["maps"]}["sg_config"] == 1'; then
	pass "status --json: values of the attachment (native, local, ports, ttl 77, secret)"
else
	fail "status --json: expected native/local/ports/ttl 77"
fi
run "$SG" status --json
if rc_is 0 && jcheck '"'"$IF"'" not in [i["ifname"] for i in d["interfaces"]] and "'"$IF"'" in d["elsewhere"]'; then
	pass "status outside the namespace: $IF listed under elsewhere, not as attached here"
else
	fail "status outside the namespace: expected $IF under elsewhere"
fi

# ---- config: changes land in the maps, the program stays ----
prog_before=$(in_ns "$SG" status "$IF" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["xdp_prog_id"])')
run in_ns "$SG" config "$IF" --ports 22,8080 --ttl 99 --syn-rate 500 --msl 45 --idle-timeout 120 \
	--prefix 192.0.2.0/24 --prefix 2001:db8::/32 --allow 198.51.100.0/24,2001:db8:1::/48 --deny 203.0.113.7
if rc_is 0 && out_has "updated $IF" && out_has 'ports 22,8080'; then pass "config: exit 0, says what changed"; else fail "config: expected exit 0"; fi
run in_ns "$SG" status "$IF" --json
if jcheck 'i["ports"] == "22,8080" and c["ttl"] == 99 and c["syn_rate"] == 500 and c["syn_burst"] == 500 and
c["msl"] == 45 and c["idle_timeout"] == 120 and c["mss4"] == 1460 and
i["prefixes"] == ["192.0.2.0/24", "2001:db8::/32"] and
i["allow"] == ["198.51.100.0/24", "2001:db8:1::/48"] and i["deny"] == ["203.0.113.7/32"] and
c["policy_flags"] == 7 and i["xdp_prog_id"] == '"$prog_before"; then
	pass "config: ports, lists, flags and fields in the maps; other fields kept; same program"
else
	fail "config: expected the new settings in status --json (same program $prog_before)"
fi
run in_ns "$SG" config "$IF" --add-allow 192.0.2.77 --del-allow 198.51.100.0/24 --add-deny 2001:db8:bad::/48 \
	--del-deny 203.0.113.7 --prefix none
run in_ns "$SG" status "$IF" --json
if jcheck 'i["allow"] == ["192.0.2.77/32", "2001:db8:1::/48"] and i["deny"] == ["2001:db8:bad::/48"] and
i["prefixes"] == [] and i["config"]["policy_flags"] == 6 and
{m["name"]: m["entries"] for m in i["maps"]}["sg_allow4"] == 1'; then
	pass "config --add-*/--del-*/none: lists edited, prefix flag off"
else
	fail "config --add-*/--del-*: expected the edited lists"
fi
run in_ns "$SG" config "$IF" --allow none --deny none --ports 80,443,8000-8010 --ttl 77 --syn-rate 0
run in_ns "$SG" status "$IF" --json
if jcheck 'i["allow"] == [] and i["deny"] == [] and i["config"]["policy_flags"] == 0'; then
	pass "config --allow none --deny none: lists empty, no policy flags"
else
	fail "config none: expected empty lists and policy_flags 0"
fi

# ---- --ports auto picks up listeners (not loopback-only ones) ----
nsenter --net="/run/netns/$NS" -- $PY -c 'import socket, time
a = socket.socket(); a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); a.bind(("0.0.0.0", 18765)); a.listen()
b = socket.socket(); b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); b.bind(("127.0.0.1", 18766)); b.listen()
time.sleep(60)' >/dev/null 2>&1 &
PIDS+=("$!")
for _ in $(seq 50); do in_ns ss -ltnH 'sport = :18766' | grep -q . && break; sleep 0.1; done
run in_ns "$SG" config "$IF" --ports auto
run in_ns "$SG" status "$IF" --json
if jcheck '"18765" in d["interfaces"][0]["ports"].split(",") and "18766" not in d["interfaces"][0]["ports"].split(",")'; then
	pass "config --ports auto: picks up the listener on 18765, leaves loopback-only 18766 out"
else
	fail "config --ports auto: expected 18765 and not 18766"
fi

# ---- --secret-file: permissions and size checked; shared by two attachments ----
umask 077
head -c 16 /dev/urandom >"$TMP/secret"
chmod 0644 "$TMP/secret"
run in_ns "$SG" attach "$IF2" --ports 80 --secret-file "$TMP/secret"
if rc_is 1 && err_has 'chmod 600' && err_has '0644'; then
	pass "--secret-file with mode 0644: exit 1, says chmod 600"
else
	fail "--secret-file 0644: expected exit 1 and 'chmod 600'"
fi
check "refused secret file left no pins for $IF2" test ! -e "$PIN_ROOT/$IF2"
head -c 15 /dev/urandom >"$TMP/short"
chmod 0600 "$TMP/short"
run in_ns "$SG" attach "$IF2" --ports 80 --secret-file "$TMP/short"
if rc_is 1 && err_has '15 bytes' && err_has 'exactly 16'; then
	pass "--secret-file of 15 bytes: exit 1, says the size"
else
	fail "--secret-file of 15 bytes: expected exit 1 about the size"
fi
chmod 0600 "$TMP/secret"
run in_ns "$SG" attach "$IF2" --ports 80 --secret-file "$TMP/secret" --xdp-mode generic
if rc_is 0 && out_has "cookie secret from $TMP/secret: installed" && out_has 'XDP generic'; then
	pass "--secret-file with mode 0600 and --xdp-mode generic: attached, key installed"
else
	fail "--secret-file 0600: expected exit 0 and 'installed'"
fi
run in_ns "$SG" attach "$IF" --ports 80,443,8000-8010 --ttl 77 --secret-file "$TMP/secret"
if rc_is 0 && out_has 'cookie secret from .*: (rotated|replaced)'; then
	pass "re-attach with a secret file: the running key is rotated to it"
else
	fail "re-attach with a secret file: expected the key rotated"
fi
# Both attachments hold the same newest key (compared in the maps).
same_key() {
	local a b
	a=$(bpftool map lookup pinned "$PIN_ROOT/$IF/sg_secret" key 0 0 0 0 -j)
	b=$(bpftool map lookup pinned "$PIN_ROOT/$IF2/sg_secret" key 0 0 0 0 -j)
	$PY -c '
import json, sys
def newest(doc):
    v = bytes(int(x, 16) for x in json.loads(doc)["value"])
    idx = v[36] & 1  # select: switch epoch (u32) | new_idx << 32
    return v[idx * 16:idx * 16 + 16]
sys.exit(0 if newest(sys.argv[1]) == newest(sys.argv[2]) else 1)' "$a" "$b"
}
check "two attachments with one secret file share the newest key" same_key
run in_ns "$SG" config "$IF" --secret-file "$TMP/secret"
if rc_is 0 && out_has 'unchanged'; then pass "config --secret-file with the key in force: unchanged"; else fail "config --secret-file: expected unchanged"; fi
run in_ns "$SG" status "$IF2" --json
if jcheck 'd["interfaces"][0]["xdp_mode"] == "generic"'; then pass "status: reports generic mode for $IF2"; else fail "status: expected generic for $IF2"; fi
run in_ns "$SG" attach "$IF2" --ports 80 --xdp-mode native
if rc_is 1 && err_has 'detach'; then pass "attach --xdp-mode native over generic: exit 1, says detach first"; else fail "changing the XDP mode in place: expected exit 1"; fi
run in_ns "$SG" detach "$IF2"
check "detach $IF2: no pins left" test ! -e "$PIN_ROOT/$IF2"

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
for args in "attach $IF --ports 80" "detach $IF" "stats $IF" "status" "config $IF --ttl 9"; do
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
