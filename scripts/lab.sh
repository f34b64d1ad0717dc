# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# A network-namespace lab for synguard, as a library: source it, then
#
#   LAB_XDP_PASS_OBJ=build/gen/xdp_pass.bpf.o   # required
#   LAB_SYNGUARD=build/synguard                 # optional: detach on destroy
#   lab_create                                  # sets an EXIT trap
#   lab_synguard attach "$LAB_SRV_IF" --ports 80
#   lab_ns "$LAB_CLI_NS" curl http://$LAB_SRV_IP4/
#   lab_spawn "$LAB_SRV_NS" /tmp/log python3 -m http.server 80
#   lab_destroy                                 # also runs on EXIT
#
# Topology (every name carries a per-run prefix LAB_ID, e.g. sg1a2b3c4d):
#
#   ns srv  ID-s  ─┐                      10.99.0.1  fd00:99::1
#   ns cli  ID-c  ─┼─ bridge ID-b in ns br  10.99.0.2  fd00:99::2
#   ns atk  ID-a  ─┘                      10.99.0.3  fd00:99::3
#
# synguard attaches to LAB_SRV_IF (in srv). Its SYN-ACKs leave with XDP_TX,
# which a veth delivers only if the peer has an XDP program too, so the
# bridge-side peer of LAB_SRV_IF runs tests/bpf/xdp_pass.bpf.o. The attacker
# spoofs sources from 198.18.0.0/15 (benchmarking range, RFC 2544) and
# fd00:198:18::/48; srv routes both back to atk, so every answer to a spoofed
# source stays inside the lab (atk does not forward, so it drops them).
#
# Transmit checksum offload is off on every lab veth: a local sender on veth
# otherwise leaves partial checksums, which synguard's checksum check (XDP sees
# the frame before any fix-up) would rightly reject.
#
# The addresses exist only inside the lab's namespaces: nothing here sends a
# packet outside them. Processes started with lab_spawn are killed by PID on
# destroy; nothing else is killed.

# Per-run identity: "sg" + PID in hex + 2 random hex digits, <= 10 chars, so
# "ID" + a 2-char role suffix fits IFNAMSIZ (15).
lab__rand_hex() { od -An -N1 -tx1 /dev/urandom | tr -d ' \n'; }

LAB_ID=${LAB_ID:-sg$(printf '%x' $$)$(lab__rand_hex)}
LAB_SRV_NS=$LAB_ID-srv
LAB_CLI_NS=$LAB_ID-cli
LAB_ATK_NS=$LAB_ID-atk
LAB_BR_NS=$LAB_ID-br
LAB_SRV_IF=${LAB_ID}s  # synguard's interface, in srv
LAB_SRV_PEER=${LAB_ID}sp # its peer on the bridge, runs xdp_pass
LAB_CLI_IF=${LAB_ID}c
LAB_ATK_IF=${LAB_ID}a
LAB_BRIDGE=${LAB_ID}b

LAB_NET4=10.99.0
LAB_SRV_IP4=$LAB_NET4.1
LAB_CLI_IP4=$LAB_NET4.2
LAB_ATK_IP4=$LAB_NET4.3
LAB_NET6=fd00:99:
LAB_SRV_IP6=${LAB_NET6}:1
LAB_CLI_IP6=${LAB_NET6}:2
LAB_ATK_IP6=${LAB_NET6}:3
LAB_SPOOF4=198.18.0.0/15
LAB_SPOOF6=fd00:198:18::/48

LAB_PIN_ROOT=/sys/fs/bpf/synguard

# State, so destroy removes exactly what create made.
LAB_NETNS_MADE=()
LAB_PIDS=()
LAB_CLEANUP_HOOKS=()
LAB_UP=0

lab_log() { echo "lab: $*" >&2; }

# lab_ns NS CMD...: run CMD in namespace NS. nsenter --net keeps this mount
# namespace (unlike `ip netns exec`), so synguard's pins under /sys/fs/bpf are
# the same for every call.
lab_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# lab_synguard ARGS...: the synguard CLI inside srv.
lab_synguard() {
	if [[ -z ${LAB_SYNGUARD:-} ]]; then
		lab_log "LAB_SYNGUARD is not set (path to the synguard binary)"
		return 1
	fi
	lab_ns "$LAB_SRV_NS" "$LAB_SYNGUARD" "$@"
}

# lab_spawn NS LOGFILE CMD...: start CMD in NS in the background; its PID is
# remembered (and printed in LAB_LAST_PID) so destroy kills it.
lab_spawn() {
	local ns=$1 log=$2
	shift 2
	nsenter --net="/run/netns/$ns" -- "$@" >"$log" 2>&1 &
	LAB_LAST_PID=$!
	LAB_PIDS+=("$LAB_LAST_PID")
}

# lab_kill PID...: stop processes this lab started (TERM, then KILL after 2 s).
lab_kill() {
	local pid i
	for pid in "$@"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "$@"; do
		for ((i = 0; i < 20; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# lab_on_destroy CMD: run CMD (a string, eval'd) first thing in lab_destroy.
lab_on_destroy() { LAB_CLEANUP_HOOKS+=("$1"); }

# lab_wait_listen NS PORT [TIMEOUT_S]: wait until a TCP listener is on PORT.
lab_wait_listen() {
	local ns=$1 port=$2 timeout=${3:-10} i
	for ((i = 0; i < timeout * 10; i++)); do
		if lab_ns "$ns" ss -Hltn "sport = :$port" | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	lab_log "nothing listens on port $port in $ns after ${timeout}s"
	return 1
}

lab__mkns() {
	ip netns add "$1" || { lab_log "cannot create namespace $1"; return 1; }
	LAB_NETNS_MADE+=("$1")
	lab_ns "$1" ip link set lo up || return 1
	# Addresses are usable at once (no duplicate address detection wait).
	lab_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 || return 1
}

# lab__host NS IF IP4 IP6: a host namespace joined to the bridge by a veth.
lab__host() {
	local ns=$1 ifc=$2 ip4=$3 ip6=$4
	ip link add name "$ifc" netns "$ns" type veth peer name "${ifc}p" netns "$LAB_BR_NS" || return 1
	lab_ns "$LAB_BR_NS" ip link set "${ifc}p" master "$LAB_BRIDGE" up || return 1
	lab_ns "$ns" ip addr add "$ip4/24" dev "$ifc" || return 1
	lab_ns "$ns" ip -6 addr add "$ip6/64" dev "$ifc" nodad || return 1
	lab_ns "$ns" ethtool -K "$ifc" tx off >/dev/null || return 1
	lab_ns "$LAB_BR_NS" ethtool -K "${ifc}p" tx off >/dev/null || return 1
	lab_ns "$ns" ip link set "$ifc" up || return 1
}

# lab__xdp_pass NS IF: attach LAB_XDP_PASS_OBJ to IF, in driver mode. Its
# section is "xdp" or "xdp.frags" (multi-buffer aware); LAB_XDP_PASS_SEC
# forces one.
lab__xdp_pass() {
	local ns=$1 ifc=$2 sec err=
	for sec in ${LAB_XDP_PASS_SEC:-xdp.frags xdp}; do
		if err=$(lab_ns "$ns" ip -force link set dev "$ifc" xdpdrv obj "$LAB_XDP_PASS_OBJ" sec "$sec" 2>&1); then
			return 0
		fi
	done
	lab_log "cannot attach $LAB_XDP_PASS_OBJ to $ifc: $err"
	return 1
}

# lab_create: build the lab; 0, or 1 with a message. Installs `trap
# lab_destroy EXIT` (and exits on INT/TERM) so the lab is removed however the
# caller ends. Every step checks its result, so `lab_create || ...` is safe
# too (errexit is off in such a context).
lab_create() {
	local t
	if [[ $(id -u) -ne 0 ]]; then
		lab_log "must run as root (creates network namespaces)"
		return 1
	fi
	if [[ -z ${LAB_XDP_PASS_OBJ:-} || ! -r ${LAB_XDP_PASS_OBJ:-} ]]; then
		lab_log "LAB_XDP_PASS_OBJ must name build/gen/xdp_pass.bpf.o (got '${LAB_XDP_PASS_OBJ:-}')"
		return 1
	fi
	for t in ip nsenter ethtool ss sysctl; do
		command -v "$t" >/dev/null || { lab_log "missing $t (run scripts/install-deps.sh)"; return 1; }
	done
	trap lab_destroy EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	# Output piped into `head` that has quit: clean up all the same.
	trap 'exit 141' PIPE
	LAB_UP=1

	lab__mkns "$LAB_BR_NS" || return 1
	lab__mkns "$LAB_SRV_NS" || return 1
	lab__mkns "$LAB_CLI_NS" || return 1
	lab__mkns "$LAB_ATK_NS" || return 1

	lab_ns "$LAB_BR_NS" ip link add name "$LAB_BRIDGE" type bridge stp_state 0 mcast_snooping 0 || return 1
	lab_ns "$LAB_BR_NS" sysctl -qw "net.ipv6.conf.$LAB_BRIDGE.disable_ipv6=1" || return 1
	lab_ns "$LAB_BR_NS" ip link set "$LAB_BRIDGE" up || return 1

	lab__host "$LAB_SRV_NS" "$LAB_SRV_IF" "$LAB_SRV_IP4" "$LAB_SRV_IP6" || return 1
	lab__host "$LAB_CLI_NS" "$LAB_CLI_IF" "$LAB_CLI_IP4" "$LAB_CLI_IP6" || return 1
	lab__host "$LAB_ATK_NS" "$LAB_ATK_IF" "$LAB_ATK_IP4" "$LAB_ATK_IP6" || return 1

	# XDP_TX on LAB_SRV_IF reaches the bridge only with XDP on the peer.
	lab__xdp_pass "$LAB_BR_NS" "$LAB_SRV_PEER" || return 1

	# Answers to the attacker's spoofed sources go back to the attacker.
	lab_ns "$LAB_SRV_NS" ip route add "$LAB_SPOOF4" via "$LAB_ATK_IP4" || return 1
	lab_ns "$LAB_SRV_NS" ip -6 route add "$LAB_SPOOF6" via "$LAB_ATK_IP6" || return 1
	lab_ns "$LAB_ATK_NS" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 || return 1

	# Reachability, both families: a TCP connect to a closed port of srv must
	# be refused (answered with RST), not time out.
	for t in "$LAB_CLI_NS" "$LAB_ATK_NS"; do
		lab_ns "$t" /usr/bin/python3 - "$LAB_SRV_IP4" "$LAB_SRV_IP6" <<'PY' ||
import socket, sys
for addr in sys.argv[1:]:
    try:
        socket.create_connection((addr, 9), timeout=3).close()
    except ConnectionRefusedError:
        continue
    except OSError as e:
        sys.exit(f"lab: {addr} unreachable: {e}")
PY
			{ lab_log "$t cannot reach the server"; return 1; }
	done
	lab_log "up: id $LAB_ID, synguard interface $LAB_SRV_IF in $LAB_SRV_NS"
}

# lab_mac NS IF: MAC address of IF.
lab_mac() { lab_ns "$1" ip -br link show dev "$2" | awk '{print $3}'; }

# lab_destroy: remove everything lab_create made; safe to call twice.
lab_destroy() {
	local hook ns ifc errexit=0
	((LAB_UP)) || return 0
	LAB_UP=0
	[[ $- == *e* ]] && errexit=1
	set +e
	for hook in "${LAB_CLEANUP_HOOKS[@]}"; do
		eval "$hook"
	done
	LAB_CLEANUP_HOOKS=()
	((${#LAB_PIDS[@]})) && lab_kill "${LAB_PIDS[@]}"
	LAB_PIDS=()
	# synguard pins are per interface name, in bpffs, outside any netns.
	for ifc in "$LAB_SRV_IF" "$LAB_CLI_IF" "$LAB_ATK_IF"; do
		[[ -e $LAB_PIN_ROOT/$ifc ]] || continue
		if [[ -n ${LAB_SYNGUARD:-} && -e /run/netns/$LAB_SRV_NS ]]; then
			lab_synguard detach "$ifc" >/dev/null 2>&1
		fi
		rm -rf "${LAB_PIN_ROOT:?}/$ifc"
	done
	for ns in "${LAB_NETNS_MADE[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	LAB_NETNS_MADE=()
	trap - EXIT INT TERM HUP PIPE
	((errexit)) && set -e
	return 0
}
