#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Install what synguard needs to build, test and demo on Debian 12, as root.
# Only packages that are missing are installed, and `apt-get update` runs only
# then, so a second run is fast and needs no network.
set -euo pipefail

# Build: compilers, BPF toolchain, libbpf.
BUILD_PKGS=(cmake make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev)
# Lab, tests and demo: namespaces, packet crafting, traffic generators.
RUN_PKGS=(iproute2 ethtool python3 python3-scapy hping3 netsniff-ng curl procps util-linux nftables)
# Tests beyond the lab: leak checks, the man page, libFuzzer's runtime for clang.
TEST_PKGS=(valgrind groff-base libclang-rt-14-dev)
# One of these provides a netcat; ncat is installed when neither is.
NETCAT_ALTERNATIVES=(ncat netcat-openbsd)

is_installed() {
	[[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps.sh: must run as root (it installs packages with apt-get); try: sudo $0" >&2
	exit 1
fi
if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
	echo "install-deps.sh: needs dpkg and apt-get (Debian 12 or a derivative)" >&2
	exit 1
fi

missing=()
for p in "${BUILD_PKGS[@]}" "${RUN_PKGS[@]}" "${TEST_PKGS[@]}"; do
	is_installed "$p" || missing+=("$p")
done
have_netcat=0
for p in "${NETCAT_ALTERNATIVES[@]}"; do
	is_installed "$p" && have_netcat=1
done
((have_netcat)) || missing+=("${NETCAT_ALTERNATIVES[0]}")

if ((${#missing[@]} == 0)); then
	echo "install-deps.sh: all dependencies are installed"
	exit 0
fi

echo "install-deps.sh: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -q; then
	echo "install-deps.sh: apt-get update failed; check the network and /etc/apt/sources.list" >&2
	exit 1
fi
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
	echo "install-deps.sh: apt-get install failed for: ${missing[*]}" >&2
	exit 1
fi
echo "install-deps.sh: done"
