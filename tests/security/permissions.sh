#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Who can touch synguard's pins and its secret.
#
# In a namespace with a veth pair made for this run, `synguard attach`
# (through nsenter, so the pins land in the host's bpffs), then:
#   - the pin directories are mode 0700 and every pin has no group or other
#     bits; the user nobody (setpriv, no capabilities) can neither list the
#     pin directory nor open() a pin, `bpftool map dump pinned` of the secret
#     fails for it, and so does `bpftool map dump id` (the kernel wants
#     CAP_SYS_ADMIN to turn an id into a map); nothing it prints contains
#     the key that root can read;
#   - the CLI refuses nobody, and nobody with CAP_NET_ADMIN alone, clearly:
#     exit status 1 and a message naming the missing privileges, for stats,
#     status, attach and detach; the attachment is untouched afterwards;
#   - a --secret-file readable by group or others is refused (exit 1, a
#     message, nothing attached), one of mode 0600 is accepted (on a second
#     veth pair);
#   - detach removes every pin and the XDP and TC programs, and the secret
#     map is freed.
#
# usage: permissions.sh SYNGUARD_BIN XDP_PASS_OBJ   (root; "N passed, N failed" last)
#   XDP_PASS_OBJ goes on the veth peer, as in the other labs, so the pair is
#   a working link (XDP_TX frames are delivered).
set -uo pipefail

if [[ $# -ne 2 || ! -x $1 || ! -r $2 ]]; then
	echo "usage: $0 SYNGUARD_BIN XDP_PASS_OBJ" >&2
	exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "permissions.sh: must run as root (namespaces, XDP, setpriv)" >&2
	exit 1
fi
for t in ip nsenter setpriv bpftool stat; do
	command -v "$t" >/dev/null || { echo "permissions.sh: missing $t" >&2; exit 1; }
done
SG=$(realpath "$1")
XDP_PASS_OBJ=$(realpath "$2")
PY=/usr/bin/python3

ID=sge$$
NS=$ID-perm
IF=${ID}a  # synguard's interface
IF2=${ID}b # its peer
IF3=${ID}c # a second pair, target of the secret-file checks
IF4=${ID}d
PIN_ROOT=/sys/fs/bpf/synguard
PIN=$PIN_ROOT/$IF
TMP=$(mktemp -d /tmp/sge-perm.XXXXXX)
chmod 755 "$TMP"

cleanup() {
	local i
	for i in "$IF" "$IF3"; do
		if [[ -e $PIN_ROOT/$i && -e /run/netns/$NS ]]; then
			nsenter --net="/run/netns/$NS" "$SG" detach "$i" >/dev/null 2>&1
		fi
		rm -rf "${PIN_ROOT:?}/$i"
	done
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
	[[ $# -lt 2 ]] || echo "       $2"
}
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc" "failed: $*"; fi
}

in_ns() { nsenter --net="/run/netns/$NS" "$@"; }
# "${NOBODY[@]}" CMD...: uid/gid 65534, no groups, no capabilities at all.
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all)
# "${NOBODY_NETADMIN[@]}" CMD...: the same user holding CAP_NET_ADMIN only.
# shellcheck disable=SC2054 # the commas belong to setpriv's --inh-caps list
NOBODY_NETADMIN=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+net_admin
	--ambient-caps=+net_admin)
as_nobody() { "${NOBODY[@]}" "$@"; }
quiet() { "$@" >/dev/null 2>&1; }
as_nobody_netadmin() { "${NOBODY_NETADMIN[@]}" "$@"; }

# refused DESC EXPECT_RC CMD...: CMD exits EXPECT_RC with a message about
# privileges on stderr.
refused() {
	local desc=$1 want=$2 rc
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [[ $rc -eq $want ]] && grep -qiE 'privilege|CAP_|root' "$TMP/err"; then
		pass "$desc (exit $rc: $(head -c 100 "$TMP/err"))"
	else
		fail "$desc" "exit $rc, stderr: $(head -c 300 "$TMP/err")"
	fi
}

echo "# permissions: synguard $SG, namespace $NS, interface $IF"
echo "# kernel.unprivileged_bpf_disabled = $(sysctl -n kernel.unprivileged_bpf_disabled 2>/dev/null || echo '?')"

if ! { ip netns add "$NS" &&
	ip -n "$NS" link set lo up &&
	ip -n "$NS" link add "$IF" type veth peer name "$IF2" &&
	ip -n "$NS" link set "$IF" up &&
	ip -n "$NS" link set "$IF2" up &&
	ip -n "$NS" link add "$IF3" type veth peer name "$IF4" &&
	ip -n "$NS" link set "$IF3" up &&
	ip -n "$NS" link set "$IF4" up &&
	in_ns ip -force link set dev "$IF2" xdpdrv obj "$XDP_PASS_OBJ" sec xdp.frags; }; then
	fail "namespace $NS with veth $IF/$IF2 could not be built"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi

if in_ns "$SG" attach "$IF" --ports 80 >"$TMP/attach.out" 2>&1; then
	pass "attach $IF --ports 80"
else
	fail "attach failed" "$(cat "$TMP/attach.out")"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi
check "pins exist under $PIN, among them sg_secret" test -e "$PIN/sg_secret"

# ---- modes ----
mode_of() { stat -c %a "$1"; }
check "$PIN_ROOT is mode 0700 ($(mode_of "$PIN_ROOT"))" test "$(mode_of "$PIN_ROOT")" = 700
check "$PIN is mode 0700 ($(mode_of "$PIN"))" test "$(mode_of "$PIN")" = 700
loose=""
for f in "$PIN"/*; do
	m=$(stat -c %a "$f")
	((8#$m & 8#077)) && loose+=" $(basename "$f"):$m"
done
check "no pin is group or other accessible (${loose:-all 0600 or stricter})" test -z "$loose"

# What root reads from the secret: the key words, to look for below.
bpftool -j map dump pinned "$PIN/sg_secret" >"$TMP/secret.json" 2>/dev/null
KEYS=$($PY - "$TMP/secret.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = d[0]
v = e.get("formatted", {}).get("value") or e.get("value")
if isinstance(v, dict):  # BTF-formatted: {"key": [[k0, k1], [k2, k3]], ...}
    words = [w for pair in v["key"] for w in pair]
    print(" ".join("%016x" % (w & (2**64 - 1)) for w in words))
else:  # raw bytes: the first 32 are the key
    b = bytes(int(x, 16) for x in v[:32])
    print(" ".join(b[i:i + 8][::-1].hex() for i in range(0, 32, 8)))
PY
)
check "root can read the secret (key words: ${KEYS:0:16}...)" test -n "$KEYS"
SECRET_ID=$(bpftool -j map show pinned "$PIN/sg_secret" 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# ---- nobody and the pins ----
if as_nobody ls "$PIN" >"$TMP/out" 2>&1; then
	fail "nobody can list $PIN" "$(head -c 200 "$TMP/out")"
else
	pass "nobody cannot list $PIN ($(head -c 80 "$TMP/out"))"
fi
# open() of each pin, reporting errno: EACCES expected (the directory is
# 0700, so the pins cannot even be reached).
opened=$(as_nobody $PY - "$PIN" <<'PY'
import errno, os, sys
pin = sys.argv[1]
names = ["sg_secret", "sg_config", "sg_ports", "sg_stats", "link_xdp"]
for n in names:
    try:
        fd = os.open(os.path.join(pin, n), os.O_RDONLY)
        os.close(fd)
        print("%s:OPENED" % n)
    except OSError as e:
        print("%s:%s" % (n, errno.errorcode.get(e.errno, e.errno)))
PY
)
if grep -q OPENED <<<"$opened" || ! grep -q 'sg_secret:EACCES' <<<"$opened"; then
	fail "nobody cannot open() the pins" "$(tr '\n' ' ' <<<"$opened")"
else
	pass "nobody cannot open() the pins: $(tr '\n' ' ' <<<"$opened")"
fi
as_nobody bpftool map dump pinned "$PIN/sg_secret" >"$TMP/dump1" 2>&1
rc1=$?
as_nobody bpftool map dump id "${SECRET_ID:-0}" >"$TMP/dump2" 2>&1
rc2=$?
check "nobody: bpftool map dump pinned .../sg_secret fails (exit $rc1)" test $rc1 -ne 0
check "nobody: bpftool map dump id $SECRET_ID (the secret) fails (exit $rc2)" test $rc2 -ne 0
leak=""
for k in $KEYS; do
	grep -qi "$k" "$TMP/dump1" "$TMP/dump2" "$TMP/dump3" && leak+=" $k"
	# also as the byte sequence bpftool prints without BTF (little-endian)
	kb=""
	for ((i = 14; i >= 0; i -= 2)); do
		kb+="${k:i:2}${i:+ }"
	done
	kb=${kb% }
	grep -qi "$kb" "$TMP/dump1" "$TMP/dump2" "$TMP/dump3" && leak+=" $k"
done
check "no key word appears in what nobody got" test -z "$leak"
as_nobody_netadmin bpftool map dump id "${SECRET_ID:-0}" >"$TMP/dump3" 2>&1
rc3=$?
check "nobody with CAP_NET_ADMIN: bpftool map dump id fails too (exit $rc3)" test $rc3 -ne 0

# ---- the CLI without privileges ----
refused "nobody: synguard stats $IF is refused" 1 as_nobody "$SG" stats "$IF"
refused "nobody: synguard status $IF is refused" 1 as_nobody "$SG" status "$IF"
refused "nobody: synguard attach is refused" 1 in_ns "${NOBODY[@]}" "$SG" attach "$IF" --ports 81
refused "nobody: synguard detach is refused" 1 in_ns "${NOBODY[@]}" "$SG" detach "$IF"
refused "nobody + CAP_NET_ADMIN only: synguard stats is refused" 1 as_nobody_netadmin "$SG" stats "$IF"
refused "nobody + CAP_NET_ADMIN only: synguard detach is refused" 1 in_ns "${NOBODY_NETADMIN[@]}" "$SG" detach "$IF"
check "after the refusals the pins are all there" test -e "$PIN/sg_secret" -a -e "$PIN/link_xdp"
if in_ns "$SG" stats "$IF" --json >"$TMP/stats.json" 2>&1 && grep -q '"ports"\|80\|counters' "$TMP/stats.json"; then
	pass "root still reads the attachment's counters"
else
	fail "root cannot read the counters after the refusals" "$(head -c 300 "$TMP/stats.json")"
fi

# ---- secret files ----
if "$SG" attach --help 2>/dev/null | grep -q -- '--secret-file'; then
	head -c 16 /dev/urandom >"$TMP/secret.loose"
	chmod 0644 "$TMP/secret.loose"
	in_ns "$SG" attach "$IF3" --ports 80 --secret-file "$TMP/secret.loose" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [[ $rc -eq 1 ]] && grep -qiE 'mode|permission|0600|group or others' "$TMP/err" &&
		[[ ! -e $PIN_ROOT/$IF3/link_xdp ]]; then
		pass "a secret file of mode 0644 is refused (exit 1: $(head -c 100 "$TMP/err"))"
	else
		fail "a secret file of mode 0644 is refused" "exit $rc, stderr: $(head -c 300 "$TMP/err"), pins: $(find "$PIN_ROOT/$IF3" 2>&1 | tr '\n' ' ')"
	fi
	cp "$TMP/secret.loose" "$TMP/secret.ok"
	chmod 0600 "$TMP/secret.ok"
	if in_ns "$SG" attach "$IF3" --ports 80 --secret-file "$TMP/secret.ok" >"$TMP/out" 2>&1; then
		pass "a secret file of mode 0600 is accepted"
		check "detach $IF3" quiet in_ns "$SG" detach "$IF3"
	else
		fail "a secret file of mode 0600 is accepted" "$(head -c 300 "$TMP/out")"
	fi
else
	echo "# skip: this synguard has no --secret-file"
fi

# ---- detach ----
if in_ns "$SG" detach "$IF" >"$TMP/detach.out" 2>&1; then
	pass "detach $IF"
else
	fail "detach failed" "$(cat "$TMP/detach.out")"
fi
check "detach: $PIN is gone" test ! -e "$PIN"
check "detach: no pins left for $IF3 either" test ! -e "$PIN_ROOT/$IF3"
if in_ns ip link show dev "$IF" | grep -q 'xdp'; then
	fail "detach: an XDP program is still on $IF" "$(in_ns ip link show dev "$IF")"
else
	pass "detach: no XDP program on $IF"
fi
if in_ns bpftool net show dev "$IF" 2>/dev/null | grep -qE 'synguard|tcx'; then
	fail "detach: a TC program is still on $IF" "$(in_ns bpftool net show dev "$IF")"
else
	pass "detach: no TC program on $IF"
fi
freed=0
for _ in $(seq 1 50); do
	if ! bpftool map show id "${SECRET_ID:-0}" >/dev/null 2>&1; then
		freed=1
		break
	fi
	sleep 0.1
done
check "detach: the secret map (id $SECRET_ID) is freed" test $freed -eq 1

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
