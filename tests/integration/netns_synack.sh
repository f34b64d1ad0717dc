#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The SYN-ACK path end to end, with real sockets in a namespace lab
# (scripts/lab.sh): a listener on port 80 (IPv4 + IPv6) in srv, synguard on
# srv's veth, a client's connect() in cli.
#
# It proves the SYN-ACK came from XDP, not from the server's kernel:
#   - the SYN-ACK captured in cli carries the configured TTL / hop limit, MSS,
#     window and window scale (attach --ttl 99 --mss4 1400 ...), none of which
#     the kernel would send;
#   - syn_seen and synack_sent rise, and cookie_valid rises by the client's
#     ACK: an ACK for a kernel SYN-ACK would not carry a synguard cookie.
# The hand-off of the validated ACK to the listener is not implemented yet,
# so the server kernel resets the connection after the ACK; a connect() that
# returned, or failed with ECONNRESET (a reset after the handshake completed,
# unlike ECONNREFUSED), both mean the client got the SYN-ACK. No data
# transfer is asserted while synguard is attached.
# Then: a non-protected port is passed to the kernel, detach leaves no pins and
# no XDP program, and the kernel serves the listener again.
#
# usage: netns_synack.sh SYNGUARD_BIN XDP_PASS_OBJ   (root; "N passed, N failed" last)
set -euo pipefail

if [[ $# -ne 2 || ! -x $1 || ! -r $2 ]]; then
	echo "usage: $0 SYNGUARD_BIN XDP_PASS_OBJ" >&2
	exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "netns_synack.sh: must run as root (network namespaces, XDP)" >&2
	exit 1
fi
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
LAB_SYNGUARD=$(realpath "$1")
LAB_XDP_PASS_OBJ=$(realpath "$2")
# shellcheck source-path=SCRIPTDIR/../../scripts source=lab.sh
source "$HERE/../../scripts/lab.sh"

TMP=$(mktemp -d /tmp/synguard-synack.XXXXXX)
lab_on_destroy 'rm -rf "$TMP"'

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL - $1"
	[[ $# -lt 2 ]] || echo "       $2"
}
# check DESC CMD...: pass if CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc" "failed: $*"; fi
}

# counters FILE: synguard stats --json of the lab interface into FILE.
counters() { lab_synguard stats "$LAB_SRV_IF" --json --interval 0 >"$1"; }
# delta BEFORE AFTER NAME: how much counter NAME grew.
delta() {
	$PY - "$@" <<'PY'
import json, sys
def get(path, name):
    with open(path) as f:
        return json.load(f)["interfaces"][0]["counters"][name]
print(get(sys.argv[2], sys.argv[3]) - get(sys.argv[1], sys.argv[3]))
PY
}

# client PORT ADDR...: connect() to each ADDR and print one word per address:
# "data" (connected and read the greeting), "handshake" (connected, or reset
# after connecting), "refused", or "error:<what>".
client() {
	lab_ns "$LAB_CLI_NS" $PY - "$@" <<'PY'
import errno, socket, sys
port = int(sys.argv[1])
for addr in sys.argv[2:]:
    try:
        s = socket.create_connection((addr, port), timeout=5)
    except ConnectionResetError:
        print("handshake")
        continue
    except ConnectionRefusedError:
        print("refused")
        continue
    except OSError as e:
        print(f"error:{e}")
        continue
    try:
        data = s.recv(64)
        print("data" if data == b"hello\n" else "handshake")
    except OSError:
        print("handshake")
    s.close()
PY
}

echo "# netns_synack: synguard $LAB_SYNGUARD"
if ! lab_create; then
	fail "the namespace lab could not be built (message above)"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi

# A real listener, dual stack, greeting every accepted connection.
lab_spawn "$LAB_SRV_NS" "$TMP/server.log" $PY -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 80))
s.listen(128)
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"hello\n")
    except OSError:
        pass
    c.close()
'
lab_wait_listen "$LAB_SRV_NS" 80

# ---- without synguard: the kernel serves the listener ----
mapfile -t got < <(client 80 "$LAB_SRV_IP4" "$LAB_SRV_IP6")
check "before attach: IPv4 client gets data from the listener (${got[0]:-none})" test "${got[0]:-}" = data
check "before attach: IPv6 client gets data from the listener (${got[1]:-none})" test "${got[1]:-}" = data

# ---- attach with settings the kernel would never use ----
TTL=99 MSS4=1400 MSS6=1340 WINDOW=12345 WSCALE=5
if lab_synguard attach "$LAB_SRV_IF" --ports 80 --ttl $TTL --mss4 $MSS4 --mss6 $MSS6 \
	--window $WINDOW --wscale $WSCALE >"$TMP/attach.out" 2>&1; then
	pass "attach --ports 80 --ttl $TTL to $LAB_SRV_IF"
else
	fail "attach failed" "$(cat "$TMP/attach.out")"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi
check "pins exist under $LAB_PIN_ROOT/$LAB_SRV_IF" test -d "$LAB_PIN_ROOT/$LAB_SRV_IF"

# Capture SYN-ACKs in the client namespace (scapy; no tcpdump needed).
# (Background jobs read stdin from /dev/null: the script goes in a file.)
cat >"$TMP/sniff.py" <<'PY'
import json, sys
from scapy.all import sniff, IP, IPv6, TCP
iface, out, ready = sys.argv[1:4]
got = []
def keep(p):
    return TCP in p and p[TCP].sport == 80 and (p[TCP].flags & 0x12) == 0x12
def record(p):
    ip = p[IP] if IP in p else p[IPv6]
    got.append({
        "family": 4 if IP in p else 6,
        "ttl": ip.ttl if IP in p else ip.hlim,
        "window": p[TCP].window,
        "options": {k: v for k, v in p[TCP].options if k not in ("NOP", "EOL")},
    })
sniff(iface=iface, lfilter=keep, prn=record, timeout=15, store=False,
      stop_filter=lambda p: len(got) >= 2,
      started_callback=lambda: open(ready, "w").close())
with open(out, "w") as f:
    json.dump(got, f, default=str)
PY
lab_spawn "$LAB_CLI_NS" "$TMP/sniff.log" $PY "$TMP/sniff.py" "$LAB_CLI_IF" "$TMP/synacks.json" "$TMP/sniff.ready"
SNIFF_PID=$LAB_LAST_PID
for ((i = 0; i < 100; i++)); do
	[[ -e $TMP/sniff.ready ]] && break
	sleep 0.1
done
check "packet capture started in $LAB_CLI_NS" test -e "$TMP/sniff.ready"

counters "$TMP/before.json"
mapfile -t got < <(client 80 "$LAB_SRV_IP4" "$LAB_SRV_IP6")
sleep 0.3 # let the client's ACK reach XDP before reading counters
counters "$TMP/after.json"

# connect() completes the handshake; the server kernel then resets it.
check "IPv4 connect() completed the handshake (${got[0]:-none})" eval '[[ ${got[0]:-} == handshake || ${got[0]:-} == data ]]'
check "IPv6 connect() completed the handshake (${got[1]:-none})" eval '[[ ${got[1]:-} == handshake || ${got[1]:-} == data ]]'

for c in syn_seen synack_sent cookie_valid; do
	d=$(delta "$TMP/before.json" "$TMP/after.json" $c)
	check "$c rose by >= 2 (one per connection): +$d" test "$d" -ge 2
done
d=$(delta "$TMP/before.json" "$TMP/after.json" cookie_invalid)
check "cookie_invalid did not rise for real clients: +$d" test "$d" -eq 0

# The captured SYN-ACKs carry synguard's settings.
wait "$SNIFF_PID" 2>/dev/null || true
if [[ -s $TMP/synacks.json ]]; then
	pass "SYN-ACKs captured in $LAB_CLI_NS"
else
	fail "no capture written" "$(cat "$TMP/sniff.log")"
	echo '[]' >"$TMP/synacks.json"
fi
synack_check() {
	$PY - "$TMP/synacks.json" "$@" <<'PY'
import json, sys
path, family, ttl, mss, window, wscale = sys.argv[1], *map(int, sys.argv[2:])
got = [s for s in json.load(open(path)) if s["family"] == family]
if not got:
    sys.exit(f"no IPv{family} SYN-ACK captured")
s = got[0]
want = {"ttl": ttl, "window": window, "MSS": mss, "WScale": wscale}
have = {"ttl": s["ttl"], "window": s["window"],
        "MSS": s["options"].get("MSS"), "WScale": s["options"].get("WScale")}
if have != want:
    sys.exit(f"IPv{family} SYN-ACK: want {want}, captured {have}")
PY
}
check "IPv4 SYN-ACK: TTL $TTL, MSS $MSS4, window $WINDOW, wscale $WSCALE" \
	synack_check 4 $TTL $MSS4 $WINDOW $WSCALE
check "IPv6 SYN-ACK: hop limit $TTL, MSS $MSS6, window $WINDOW, wscale $WSCALE" \
	synack_check 6 $TTL $MSS6 $WINDOW $WSCALE

# A port synguard does not protect goes to the kernel (nothing listens: RST).
counters "$TMP/before.json"
mapfile -t got < <(client 81 "$LAB_SRV_IP4")
counters "$TMP/after.json"
check "unprotected port 81: the kernel answers (${got[0]:-none})" test "${got[0]:-}" = refused
d=$(delta "$TMP/before.json" "$TMP/after.json" pass_not_protected)
check "unprotected port 81: pass_not_protected rose: +$d" test "$d" -ge 1
d=$(delta "$TMP/before.json" "$TMP/after.json" synack_sent)
check "unprotected port 81: no SYN-ACK from XDP: +$d" test "$d" -eq 0

# ---- detach: nothing left, the kernel serves the listener again ----
if lab_synguard detach "$LAB_SRV_IF" >"$TMP/detach.out" 2>&1; then
	pass "detach exits 0"
else
	fail "detach failed" "$(cat "$TMP/detach.out")"
fi
check "detach: $LAB_PIN_ROOT/$LAB_SRV_IF is gone" test ! -e "$LAB_PIN_ROOT/$LAB_SRV_IF"
if lab_ns "$LAB_SRV_NS" ip link show dev "$LAB_SRV_IF" | grep -q 'xdp'; then
	fail "detach: an XDP program is still on $LAB_SRV_IF" "$(lab_ns "$LAB_SRV_NS" ip link show dev "$LAB_SRV_IF")"
else
	pass "detach: no XDP program on $LAB_SRV_IF"
fi
mapfile -t got < <(client 80 "$LAB_SRV_IP4" "$LAB_SRV_IP6")
check "after detach: IPv4 client gets data from the listener (${got[0]:-none})" test "${got[0]:-}" = data
check "after detach: IPv6 client gets data from the listener (${got[1]:-none})" test "${got[1]:-}" = data

lab_destroy
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
