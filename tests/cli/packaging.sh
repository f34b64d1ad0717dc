#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Packaging and documentation: `cmake --install` into a staging directory
# puts the binary, synguard(8), the bash completion, the systemd unit and the
# example configuration in place; the man page renders without warnings and
# documents every command, every option of every command's --help, every
# counter and every JSON field the CLI prints; the completion completes; the
# unit passes systemd-analyze verify; the example configuration is accepted.
#
# usage: packaging.sh SYNGUARD_BIN BUILD_DIR SOURCE_DIR   (no root needed)
set -euo pipefail

if [[ $# -ne 3 || ! -x $1 ]]; then
	echo "usage: $0 SYNGUARD_BIN BUILD_DIR SOURCE_DIR" >&2
	exit 2
fi
SG=$(realpath "$1")
BUILD=$(realpath "$2")
SRC=$(realpath "$3")
MAN=$SRC/doc/synguard.8
STAGE=$(mktemp -d /tmp/synguard-pkg.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; }
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# ---- cmake --install ----
if DESTDIR=$STAGE cmake --install "$BUILD" >"$STAGE.log" 2>&1; then
	pass "cmake --install into a staging directory"
else
	fail "cmake --install: $(tail -3 "$STAGE.log")"
fi
rm -f "$STAGE.log"
find_one() { find "$STAGE" -path "*/$1" -type f | head -1; }
BIN=$(find_one sbin/synguard)
MANPAGE=$(find_one man/man8/synguard.8)
COMPL=$(find_one bash-completion/completions/synguard)
UNIT=$(find_one systemd/system/synguard.service)
EXAMPLE=$(find_one synguard/synguard.conf.example)
for f in BIN MANPAGE COMPL UNIT EXAMPLE; do
	if [[ -n ${!f} ]]; then pass "installed: ${!f#"$STAGE"}"; else fail "not installed: $f"; fi
done
quiet() { "$@" >/dev/null 2>&1; }
check "installed binary runs (--version)" quiet "$BIN" --version

# ---- the man page ----
warnings=$(groff -man -Tutf8 -ww -z "$MAN" 2>&1 || true)
if [[ -z $warnings ]]; then pass "man page: groff -ww renders it without warnings"; else fail "man page warnings: $warnings"; fi
TEXT=$(MANWIDTH=200 man -l "$MAN" 2>/dev/null | col -b)
in_man() { grep -qF -- "$1" <<<"$TEXT"; }
missing=
COMMANDS=$("$SG" --help | awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}')
for cmd in $COMMANDS; do
	in_man "synguard $cmd" || missing+=" $cmd"
	# every long option of the command's help text
	for opt in $("$SG" "$cmd" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
		in_man "$opt" || missing+=" $cmd:$opt"
	done
done
if [[ -z $missing ]]; then pass "man page: every command and every option of every --help"; else fail "man page lacks:$missing"; fi
missing=
# every counter (names from the binary's own table, via --prometheus HELP lines
# would need pins: take them from the source instead)
for c in $(grep -oE '\[SG_CNT_[A-Z0-9_]+\] = "[a-z0-9_]+"' "$SRC/include/synguard/abi.h" | grep -oE '"[a-z0-9_]+"' | tr -d '"'); do
	in_man "$c" || missing+=" $c"
done
if [[ -z $missing ]]; then pass "man page: every counter"; else fail "man page lacks counters:$missing"; fi
missing=
for field in timestamp interval_s interfaces ifname counters rates version kernel release \
	kfunc_bpf_sk_assign_tcp_reqsk helper_bpf_tcp_gen_syncookie tcp_syncookies tcp_timestamps ifindex \
	attached xdp_mode xdp_prog_id xdp_prog_name xdp_link_id handoff tc_link_id ports ports_count prefixes \
	allow deny secret_installed config mss4 mss6 window wscale ttl epoch_shift msl idle_timeout syn_rate \
	syn_burst rate_prefix4 rate_prefix6 policy_flags legacy_timestamps maps name type entries max_entries \
	elsewhere; do
	in_man "\"$field\"" || missing+=" $field"
done
if [[ -z $missing ]]; then pass "man page: every JSON field of stats and status"; else fail "man page lacks JSON fields:$missing"; fi
for sec in "EXIT STATUS" "CONFIGURATION FILE" "STATS JSON" "STATUS JSON" "METRICS" "EXAMPLES" "FILES"; do
	in_man "$sec" || fail "man page lacks the section $sec"
done
pass "man page: sections EXIT STATUS, CONFIGURATION FILE, JSON, METRICS, EXAMPLES, FILES"

# ---- bash completion ----
complete_words() {
	bash -c '
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_synguard; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPL" "$@"
}
check "completion: 'synguard att' -> attach" grep -qx attach <<<"$(complete_words synguard att)"
check "completion: attach options include --secret-file" grep -qx -- --secret-file <<<"$(complete_words synguard attach eth0 --sec)"
check "completion: --xdp-mode values" test "$(complete_words synguard attach eth0 --xdp-mode "" | sort | tr '\n' ' ')" = "auto generic native "
check "completion: config has --add-deny" grep -qx -- --add-deny <<<"$(complete_words synguard config eth0 --add-d)"
check "completion: attach IFACE offers lo" grep -qx lo <<<"$(complete_words synguard attach l)"

# ---- systemd unit ----
check "unit: ExecStart runs the installed binary with --config" \
	grep -qE "^ExecStart=/.*/sbin/synguard run --config /.*/synguard/synguard.conf$" "$UNIT"
check "unit: capability bounding set" grep -qx "CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN CAP_PERFMON CAP_SYS_ADMIN" "$UNIT"
if command -v systemd-analyze >/dev/null; then
	# Verify a copy that runs the staged binary (the real path is not installed).
	mkdir -p "$STAGE/verify"
	sed "s|^ExecStart=[^ ]*|ExecStart=$BIN|" "$UNIT" >"$STAGE/verify/synguard.service"
	out=$(systemd-analyze verify "$STAGE/verify/synguard.service" 2>&1 | grep -v "man synguard(8)" || true)
	if [[ -z $out ]]; then pass "unit: systemd-analyze verify (only the not yet installed man page missing)"; else fail "unit: systemd-analyze verify: $out"; fi
fi

# ---- example configuration ----
check "example config: accepted by the parser (cli_units checks it too)" grep -qx "interface = eth0" "$EXAMPLE"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
