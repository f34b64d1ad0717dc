#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# synguard demo: a real HTTP server behind synguard takes a spoofed SYN flood
# while a real client keeps connecting; live per-second counters show XDP
# answering every SYN with a cookie SYN-ACK and the client's ACKs validating.
#
# Everything happens in network namespaces this script creates
# (scripts/lab.sh); the flood is bounded in packets and in time, goes only to
# the lab's server, and everything is removed at the end, also on failure or
# Ctrl-C.
#
# usage: ./scripts/demo.sh [--duration SECONDS] [--pps N]   (as root)
set -euo pipefail

DURATION=20
PPS=50000
usage() {
	cat <<EOF
Usage: $0 [--duration SECONDS] [--pps N]

Install dependencies, build synguard into build/, create a namespace lab,
start an HTTP server, attach synguard, flood it with spoofed SYNs from
198.18.0.0/15 while a client connects, print live counters, clean up.

Options:
  --duration N   length of the flood in seconds, 1-40 (default $DURATION)
  --pps N        flood rate in packets per second, 1-1000000 (default $PPS)
  -h, --help     this text

Examples:
  sudo $0
  sudo $0 --duration 10 --pps 100000
EOF
}
while (($#)); do
	case $1 in
	--duration) DURATION=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
	--duration=*) DURATION=${1#*=}; shift ;;
	--pps) PPS=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
	--pps=*) PPS=${1#*=}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "demo.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
if ! [[ $DURATION =~ ^[0-9]+$ ]] || ((DURATION < 1 || DURATION > 40)); then
	echo "demo.sh: --duration takes 1-40 seconds, not '$DURATION'" >&2
	exit 2
fi
if ! [[ $PPS =~ ^[0-9]+$ ]] || ((PPS < 1 || PPS > 1000000)); then
	echo "demo.sh: --pps takes 1-1000000, not '$PPS'" >&2
	exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "demo.sh: must run as root (installs packages, creates namespaces, attaches XDP)" >&2
	exit 1
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=/usr/bin/python3
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "dependencies"
"$ROOT/scripts/install-deps.sh"

say "build (build/, RelWithDebInfo)"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$ROOT/build" -j"$(nproc)" --target synguard >/dev/null
echo "built $ROOT/build/synguard ($("$ROOT/build/synguard" --version))"

LAB_SYNGUARD=$ROOT/build/synguard
LAB_XDP_PASS_OBJ=$ROOT/build/gen/xdp_pass.bpf.o
# shellcheck source-path=SCRIPTDIR source=lab.sh
source "$ROOT/scripts/lab.sh"
TMP=$(mktemp -d /tmp/synguard-demo.XXXXXX)
lab_on_destroy 'rm -rf "$TMP"'
lab_on_destroy 'echo; echo "== cleanup: lab $LAB_ID removed (namespaces, veths, pins, processes)"'

say "lab"
lab_create
cat <<EOF
  server   $LAB_SRV_NS  $LAB_SRV_IF  $LAB_SRV_IP4  $LAB_SRV_IP6   (synguard here)
  client   $LAB_CLI_NS  $LAB_CLI_IF  $LAB_CLI_IP4  $LAB_CLI_IP6
  attacker $LAB_ATK_NS  $LAB_ATK_IF  $LAB_ATK_IP4  $LAB_ATK_IP6   spoofing $LAB_SPOOF4
  joined by bridge $LAB_BRIDGE in $LAB_BR_NS; nothing leaves the lab
EOF

say "HTTP server: python3 -m http.server 80 in $LAB_SRV_NS"
mkdir -p "$TMP/www"
echo "hello from the synguard demo" >"$TMP/www/index.html"
lab_spawn "$LAB_SRV_NS" "$TMP/http.log" $PY -m http.server 80 --bind :: --directory "$TMP/www"
lab_wait_listen "$LAB_SRV_NS" 80
printf '  without synguard, curl from the client: '
lab_ns "$LAB_CLI_NS" curl -sS --max-time 5 "http://$LAB_SRV_IP4/"

say "attach: synguard attach $LAB_SRV_IF --ports 80"
lab_synguard attach "$LAB_SRV_IF" --ports 80

# ---- attacker: pre-built spoofed SYN frames, sent from a raw socket ----
cat >"$TMP/flood.py" <<'PY'
# Spoofed SYN flood, bounded by count and time. scapy builds one IPv4 and one
# IPv6 template; the frame pool varies the source (198.18.0.0/15 and
# fd00:198:18::/48), source port and ISN with checksums recomputed here
# (scapy per frame would take seconds). The pool is replayed from an
# AF_PACKET socket, paced to a rate, once the "go" file appears.
import ipaddress, os, random, socket, struct, sys, time
from scapy.all import Ether, IP, IPv6, TCP, raw

iface, src_mac, dst_mac, dst4, dst6, pps, duration, ready, go = sys.argv[1:10]
pps, duration = int(pps), float(duration)
max_count = int(pps * duration)  # hard bound on frames, whatever the pacing
net4 = ipaddress.ip_network("198.18.0.0/15")
net6 = ipaddress.ip_network("fd00:198:18::/48")
opts = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]
syn = TCP(dport=80, flags="S", window=64240, options=opts)
tmpl4 = bytearray(raw(Ether(src=src_mac, dst=dst_mac) / IP(dst=dst4, ttl=64) / syn))
tmpl6 = bytearray(raw(Ether(src=src_mac, dst=dst_mac) / IPv6(dst=dst6, hlim=64) / syn))

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def variant(tmpl, l3, src, rnd):
    f = bytearray(tmpl)
    tcp = 14 + l3
    if l3 == 20:
        f[26:30] = src
        f[24:26] = b"\0\0"
        f[24:26] = struct.pack("!H", csum(bytes(f[14:34])))
        pseudo = bytes(f[26:34]) + struct.pack("!BBH", 0, 6, len(f) - tcp)
    else:
        f[22:38] = src
        pseudo = bytes(f[22:54]) + struct.pack("!IxxxB", len(f) - tcp, 6)
    f[tcp:tcp + 2] = struct.pack("!H", rnd.randint(1024, 65535))
    f[tcp + 4:tcp + 8] = struct.pack("!I", rnd.getrandbits(32))
    f[tcp + 16:tcp + 18] = b"\0\0"
    f[tcp + 16:tcp + 18] = struct.pack("!H", csum(pseudo + bytes(f[tcp:])))
    return bytes(f)

rnd = random.Random()
frames = []
for i in range(8192):
    if i % 4 == 3:
        src = net6[rnd.randrange(1, 2**80)].packed
        frames.append(variant(tmpl6, 40, src, rnd))
    else:
        src = net4[rnd.randrange(1, net4.num_addresses - 1)].packed
        frames.append(variant(tmpl4, 20, src, rnd))
# The hand-made checksums must agree with scapy's, or synguard drops them.
for f in frames[:4]:
    p = Ether(f)
    l3 = p[IP] if IP in p else p[IPv6]
    chk = TCP(raw(p[TCP]))
    del p[TCP].chksum
    if IP in p:
        del p[IP].chksum
    assert Ether(raw(p))[TCP].chksum == chk.chksum, "bad TCP checksum in the frame pool"

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
open(ready, "w").close()
deadline = time.monotonic() + 30
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit("attacker: no go signal")
    time.sleep(0.01)

batch = max(1, pps // 100)  # pace in 10 ms steps
sent, start = 0, time.monotonic()
sched = start  # schedule origin: slides forward when we fall behind
while sent < max_count:
    now = time.monotonic()
    if now - start >= duration:
        break
    ahead = sched + sent / pps - now
    if ahead > 0:
        time.sleep(ahead)
    elif ahead < -0.05:
        sched -= ahead + 0.05  # behind (CPU busy): no catch-up bursts
    for _ in range(min(batch, max_count - sent)):
        try:
            s.send(frames[sent % len(frames)])
        except BlockingIOError:
            pass
        sent += 1
elapsed = time.monotonic() - start
print(f"attacker: sent {sent} spoofed SYNs in {elapsed:.1f} s ({sent / elapsed:.0f}/s)")
PY

# ---- client: HTTP GETs again and again ----
cat >"$TMP/client.py" <<'PY'
# Real HTTP GETs, alternating IPv4 and IPv6. Each try is "served" (got an
# HTTP response), "handshake" (connect() completed, so the SYN-ACK arrived,
# but the connection was reset before a response: ECONNRESET, not
# ECONNREFUSED) or "failed". Writes "handshakes served failed" to a status
# file after each try.
import os, socket, sys, time
dst4, dst6, duration, status = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
ok = served = bad = 0
end = time.monotonic() + duration
i = 0
while time.monotonic() < end:
    addr = dst4 if i % 2 == 0 else dst6
    i += 1
    try:
        s = socket.create_connection((addr, 80), timeout=1)
        ok += 1
        try:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            if s.recv(16).startswith(b"HTTP/1"):
                served += 1
        except OSError:
            pass
        s.close()
    except ConnectionResetError:
        ok += 1
    except OSError:
        bad += 1
    with open(status + ".tmp", "w") as f:
        f.write(f"{ok} {served} {bad}\n")
    os.replace(status + ".tmp", status)
    time.sleep(0.05)
PY

# ---- live counters ----
cat >"$TMP/monitor.py" <<'PY'
# Per-second deltas of synguard's counters (synguard stats --json).
import json, subprocess, sys, time
cmd, duration, client_status = sys.argv[1:-2], float(sys.argv[-2]), sys.argv[-1]
def read():
    doc = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    c = doc["interfaces"][0]["counters"]
    c["drops"] = sum(v for k, v in c.items() if k.startswith("drop_"))
    return c
def client():
    try:
        return [int(x) for x in open(client_status).read().split()]
    except (OSError, ValueError):
        return [0, 0, 0]
cols = ["syn_seen", "synack_sent", "cookie_valid", "cookie_invalid", "drops"]
print(f"{'t':>4} " + " ".join(f"{c + '/s':>17}" for c in cols) + f"  client handshakes/served/failed")
first = prev = read()
t0 = time.monotonic()
for t in range(1, int(duration) + 2):
    time.sleep(max(0, t0 + t - time.monotonic()))
    cur = read()
    ok, served, bad = client()
    print(f"{t:>3}s " + " ".join(f"{cur[c] - prev[c]:>17,}" for c in cols)
          + f"  {ok:>10}/{served}/{bad}", flush=True)
    prev = cur
print("total " + " ".join(f"{cur[c] - first[c]:>17,}" for c in cols))
PY

SRV_MAC=$(lab_mac "$LAB_SRV_NS" "$LAB_SRV_IF")
ATK_MAC=$(lab_mac "$LAB_ATK_NS" "$LAB_ATK_IF")
say "flood: $PPS spoofed SYN/s for ${DURATION}s from $LAB_SPOOF4 + $LAB_SPOOF6, while the client connects"
cat <<'EOF'
  The client does a full HTTP GET each time. A connect() that completes
  means the SYN-ACK (from XDP) arrived and the ACK carried a valid cookie;
  the request is only served once the validated connection is handed to
  the server (synguard's hand-off stage).

EOF
lab_spawn "$LAB_ATK_NS" "$TMP/flood.log" $PY "$TMP/flood.py" "$LAB_ATK_IF" "$ATK_MAC" "$SRV_MAC" \
	"$LAB_SRV_IP4" "$LAB_SRV_IP6" "$PPS" "$DURATION" "$TMP/flood.ready" "$TMP/flood.go"
FLOOD_PID=$LAB_LAST_PID
for ((i = 0; i < 300; i++)); do
	[[ -e $TMP/flood.ready ]] && break
	kill -0 "$FLOOD_PID" 2>/dev/null || break
	sleep 0.1
done
if [[ ! -e $TMP/flood.ready ]]; then
	echo "demo.sh: the attacker did not get ready:" >&2
	cat "$TMP/flood.log" >&2
	exit 1
fi
touch "$TMP/flood.go"
lab_spawn "$LAB_CLI_NS" "$TMP/client.log" $PY "$TMP/client.py" "$LAB_SRV_IP4" "$LAB_SRV_IP6" \
	"$DURATION" "$TMP/client.status"
CLIENT_PID=$LAB_LAST_PID
$PY "$TMP/monitor.py" nsenter --net="/run/netns/$LAB_SRV_NS" "$LAB_SYNGUARD" stats "$LAB_SRV_IF" --json --interval 0 \
	"$DURATION" "$TMP/client.status"
wait "$FLOOD_PID" "$CLIENT_PID" 2>/dev/null || true

say "result"
cat "$TMP/flood.log"
read -r ok served bad <"$TMP/client.status" || { ok=0; served=0; bad=0; }
echo "client: $ok handshakes completed (SYN-ACK from XDP), $served HTTP requests served, $bad failed"
if ((ok > 0 && served == 0)); then
	cat <<'EOF'
  The hand-off of validated connections to the server is not implemented in
  this build: every connect() got its SYN-ACK from XDP and its ACK validated
  (cookie_valid), then the server's kernel, which never saw the SYN, reset
  the connection. The SYN-ACK path and its rates are what this demo shows.
EOF
fi
syn_recv=$(lab_ns "$LAB_SRV_NS" ss -Htn state syn-recv | wc -l)
cookies=$(lab_ns "$LAB_SRV_NS" awk '/^TcpExt:/ { if (!h) { split($0, n); h = 1 } else { for (i = 2; i <= NF; i++) if (n[i] == "SyncookiesSent") print $i } }' /proc/net/netstat)
echo "server kernel: $syn_recv half-open (SYN_RECV) sockets, ${cookies:-0} kernel SYN cookies sent: the flood never reached it"
echo
lab_synguard stats "$LAB_SRV_IF"
lab_synguard detach "$LAB_SRV_IF"
printf '  after detach, curl from the client: '
lab_ns "$LAB_CLI_NS" curl -sS --max-time 5 "http://$LAB_SRV_IP4/" || true
lab_destroy
