# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The end-to-end SYN-flood benchmark (run it through bench/flood-bench.sh).

For each configuration, on a freshly built lab of network namespaces:
  r  floor: an XDP program that bounces every SYN back (no cookie)
  a  kernel only, net.ipv4.tcp_syncookies=1
  b  kernel only, net.ipv4.tcp_syncookies=2
  c  netfilter SYNPROXY (nftables, the standard recipe)
  d  synguard (synguard attach IF --ports 80 --handoff local)
it floods the server with spoofed SYNs and measures: the SYN-ACKs per second
that come back, the server's CPU per SYN at saturation, its CPU at fixed
rates, and the success rate and latency of a legit client during the flood.

Lab (names carry the run's id, so concurrent labs do not collide):

  ns cli: IDc (10.98.0.2) ──veth── IDp ┐
                                       ├ bridge IDb (10.98.0.3) in ns atk
  ns srv: IDs (10.98.0.1) ──veth── IDa ┘  flooder sends on IDa directly
                                          bench_sink (XDP) on IDa drops and
                                          counts the answers to 198.18.0.0/15

The flood and the client share the server's one interface and its one
receive ring, as they would share a NIC queue. The flooder sends straight
into IDa, so its frames cross no bridge. The server routes the spoofed range
back to the attacker's address, so every answer stays in the lab.

CPU placement (veth has no IRQ to steer; see bench/README.md): both ends of
the server's veth use NAPI (an XDP program, or GRO with tx offloads off on
the sender), NAPI is threaded, and the kthread napi/IDs-N is pinned to the
server CPU (the last one) with the server process; the flooder, the client
and the attacker's NAPI thread run on CPU 0. Both NAPI threads run at
SCHED_FIFO, as softirq work would preempt tasks (--server-fair: the
server's at nice -20 with a 100 us slice instead); the server process, the
flooder and the client at nice -20.

Server CPU = run time of the server's NAPI thread (/proc/PID/schedstat, ns)
+ CPU time of the server process (/proc/PID/stat), over the measurement
window. `core busy` is the server CPU's busy share from /proc/stat, which
also counts whatever else ran there.
"""
import argparse
import atexit
import datetime
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PY = "/usr/bin/python3"
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
SERVER_CPU = NCPU - 1
OUTSIDE_CPU = 0

SRV_IP, CLI_IP, ATK_IP = "10.98.0.1", "10.98.0.2", "10.98.0.3"
SPOOF = "198.18.0.0/15"
PORT = 80

CONFIGS = {
    "r": "floor: XDP reflect, no cookie",
    "a": "(a) kernel, tcp_syncookies=1",
    "b": "(b) kernel, tcp_syncookies=2",
    "c": "(c) nftables SYNPROXY",
    "d": "(d) synguard, local hand-off",
}

SYNPROXY_RULES = """
table ip {table} {{
    chain raw {{
        type filter hook prerouting priority raw; policy accept;
        tcp dport {port} tcp flags & (fin|syn|rst|ack) == syn notrack
    }}
    chain filter {{
        type filter hook input priority filter; policy accept;
        tcp dport {port} ct state invalid,untracked synproxy mss 1460 wscale 7 timestamp sack-perm
        ct state invalid drop
    }}
}}
"""


def log(msg):
    print(f"flood-bench: {msg}", file=sys.stderr, flush=True)


class Skip(Exception):
    """This configuration cannot run here; the message says why."""


def run(cmd, check=True, timeout=60, **kw):
    r = subprocess.run(cmd, text=True, capture_output=True, timeout=timeout, **kw)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {(r.stderr or r.stdout).strip()}")
    return r


# ---- the lab ----

class Lab:
    def __init__(self, args, letter):
        self.a = args
        base = f"{args.id}{letter}"
        self.srv, self.atk, self.cli = f"{base}-srv", f"{base}-atk", f"{base}-cli"
        self.srv_if, self.atk_if = f"{base}s", f"{base}a"
        self.cli_if, self.cli_peer, self.br = f"{base}c", f"{base}p", f"{base}b"
        self.made = []
        self.procs = []
        self.synguard_on = False
        self.server = None
        self.srv_napi = []
        self.atk_napi = []
        self.ksoftirqd = None

    # -- commands in namespaces --
    def nse(self, ns, *cmd):
        """nsenter: this mount namespace (bpffs pins are shared)."""
        return ["nsenter", f"--net=/run/netns/{ns}", "--", *cmd]

    def nsx(self, ns, *cmd):
        """ip netns exec: also remounts /sys, so /sys/class/net is the namespace's."""
        return ["ip", "netns", "exec", ns, *cmd]

    def spawn(self, ns, cpu, cmd, nice=-20):
        full = self.nse(ns, "taskset", "-c", str(cpu), "nice", "-n", str(nice), *cmd)
        p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def create(self):
        for ns in (self.srv, self.atk, self.cli):
            run(["ip", "netns", "add", ns])
            self.made.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "link", "add", self.srv_if, "netns", self.srv, "type", "veth",
             "peer", "name", self.atk_if, "netns", self.atk])
        run(["ip", "link", "add", self.cli_if, "netns", self.cli, "type", "veth",
             "peer", "name", self.cli_peer, "netns", self.atk])
        run(["ip", "-n", self.atk, "link", "add", self.br, "type", "bridge", "stp_state", "0"])
        for dev in (self.atk_if, self.cli_peer):
            run(["ip", "-n", self.atk, "link", "set", dev, "master", self.br])
        run(["ip", "-n", self.srv, "addr", "add", f"{SRV_IP}/24", "dev", self.srv_if])
        run(["ip", "-n", self.cli, "addr", "add", f"{CLI_IP}/24", "dev", self.cli_if])
        run(["ip", "-n", self.atk, "addr", "add", f"{ATK_IP}/24", "dev", self.br])
        # Transmit offloads off on every sender: veth then hands frames to a
        # NAPI receiver (GRO eligibility), and no frame carries a partial
        # checksum (synguard checks the checksums of what it answers).
        for ns, dev in ((self.srv, self.srv_if), (self.atk, self.atk_if), (self.atk, self.cli_peer),
                        (self.cli, self.cli_if)):
            run(self.nse(ns, "ethtool", "-K", dev, "tx", "off"))
        for ns, dev in ((self.srv, self.srv_if), (self.atk, self.atk_if), (self.atk, self.cli_peer),
                        (self.atk, self.br), (self.cli, self.cli_if)):
            run(["ip", "-n", ns, "link", "set", dev, "up"])
        # NAPI on the server's receive side in every configuration: GRO on
        # (it must be switched on while both ends are up).
        run(self.nse(self.srv, "ethtool", "-K", self.srv_if, "gro", "on"))
        # The attacker's sink: XDP (so XDP_TX frames from the server arrive at
        # all), drops and counts the answers to spoofed sources.
        run(["ip", "-n", self.atk, "link", "set", "dev", self.atk_if, "xdpdrv", "obj",
             self.a.sink_obj, "sec", "xdp"])
        run(["ip", "-n", self.srv, "route", "add", SPOOF, "via", ATK_IP])
        run(self.nse(self.atk, "sysctl", "-qw", "net.ipv4.ip_forward=0"))
        self.srv_mac = json.loads(run(["ip", "-j", "-n", self.srv, "link", "show", self.srv_if]).stdout)[0]["address"]

    def configure(self, letter):
        sysctl = lambda *kv: run(self.nse(self.srv, "sysctl", "-qw", *kv))  # noqa: E731
        if letter == "r":
            run(["ip", "-n", self.srv, "link", "set", "dev", self.srv_if, "xdpdrv", "obj",
                 self.a.reflect_obj, "program", "bench_reflect"])
        elif letter == "a":
            sysctl("net.ipv4.tcp_syncookies=1")
        elif letter == "b":
            sysctl("net.ipv4.tcp_syncookies=2")
        elif letter == "c":
            if not self.a.nft:
                raise Skip("nft is not installed (Debian package: nftables)")
            sysctl("net.ipv4.tcp_syncookies=1")
            rules = SYNPROXY_RULES.format(table="sgbench", port=PORT)
            r = run(self.nsx(self.srv, self.a.nft, "-f", "-"), check=False, input=rules)
            if r.returncode:
                raise Skip(f"nft refused the SYNPROXY rules: {r.stderr.strip()}")
            # conntrack must not pick up mid-stream flows (the recipe).
            sysctl("net.netfilter.nf_conntrack_tcp_loose=0")
        elif letter == "d":
            sysctl("net.ipv4.tcp_syncookies=1")
            run(self.nse(self.srv, self.a.synguard, "attach", self.srv_if, "--ports", str(PORT),
                         "--handoff", "local"))
            self.synguard_on = True

    def start_server(self):
        self.server = self.spawn(self.srv, SERVER_CPU, [PY, os.path.join(HERE, "http_server.py"), SRV_IP,
                                                         str(PORT), "4096"])
        deadline = time.time() + 10
        while time.time() < deadline:
            out = run(self.nse(self.srv, "ss", "-Hltn", f"sport = :{PORT}")).stdout
            if out.strip():
                return
            if self.server.poll() is not None:
                raise RuntimeError(f"server exited: {self.server.stderr.read()}")
            time.sleep(0.05)
        raise RuntimeError("server does not listen")

    def napi_threads(self, dev):
        """PIDs of the threaded-NAPI kthreads of dev (comm napi/DEV-ID)."""
        want = f"napi/{dev}-"
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm.startswith(want[:15]) and (len(comm) < len(want) or comm.startswith(want)):
                pids.append(int(pid))
        return pids

    def pin(self):
        """Threaded NAPI on both ends of the server's veth; pin the kthreads."""
        for ns, dev in ((self.srv, self.srv_if), (self.atk, self.atk_if)):
            run(self.nsx(ns, "sh", "-c", f"echo 1 > /sys/class/net/{dev}/threaded"))
        time.sleep(0.1)
        self.srv_napi = self.napi_threads(self.srv_if)
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == f"ksoftirqd/{SERVER_CPU}":
                        self.ksoftirqd = int(pid)
            except (OSError, ValueError):
                pass
        self.atk_napi = self.napi_threads(self.atk_if)
        if not self.srv_napi or not self.atk_napi:
            raise RuntimeError(f"no threaded NAPI kthreads for {self.srv_if} / {self.atk_if}")
        for pid in self.srv_napi:
            run(["taskset", "-pc", str(SERVER_CPU), str(pid)])
            if not self.a.server_fair:
                # Like softirq: preempts any task the moment frames arrive.
                run(["chrt", "-f", "-p", "40", str(pid)])
            elif not set_short_slice(pid):
                run(["renice", "-n", "-20", "-p", str(pid)])
        for pid in self.atk_napi:
            run(["taskset", "-pc", str(OUTSIDE_CPU), str(pid)])
            run(["chrt", "-f", "-p", "50", str(pid)])

    # -- measuring --
    def ethtool_stat(self, ns, dev, name):
        out = run(self.nse(ns, "ethtool", "-S", dev)).stdout
        m = re.search(rf"^\s*{re.escape(name)}:\s*(\d+)", out, re.M)
        return int(m.group(1)) if m else 0

    def link_stats(self, ns, dev):
        j = json.loads(run(["ip", "-j", "-s", "-n", ns, "link", "show", dev]).stdout)[0]["stats64"]
        return j["rx"]["packets"], j["tx"]["packets"], j["tx"]["dropped"]

    def sample(self):
        """Counters now; each slow read (a command) carries its own time."""
        t0 = time.monotonic()
        s = {"synack": self.ethtool_stat(self.atk, self.atk_if, "rx_queue_0_xdp_drops")}
        t1 = time.monotonic()
        s["t_synack"] = (t0 + t1) / 2
        s["srv_rx"], s["srv_tx"], s["srv_tx_drop"] = self.link_stats(self.srv, self.srv_if)
        s["t_link"] = (t1 + time.monotonic()) / 2
        t0 = time.monotonic()
        st = [schedstat(p) for p in self.srv_napi]
        s["napi_ns"] = sum(x[0] for x in st)
        s["napi_wait_ns"] = sum(x[1] for x in st)
        s["napi_runs"] = sum(x[2] for x in st)
        s["ksoftirqd_ns"] = schedstat(self.ksoftirqd)[0] if self.ksoftirqd else 0
        s["app_s"] = proc_cpu_s(self.server.pid) if self.server else 0.0
        s["core"] = cpu_ticks(SERVER_CPU)
        s["t"] = (t0 + time.monotonic()) / 2
        return s

    def destroy(self):
        for p in self.procs:
            stop_proc(p)
        self.procs = []
        if self.synguard_on:
            run(self.nse(self.srv, self.a.synguard, "detach", self.srv_if), check=False)
            self.synguard_on = False
        pin_dir = f"/sys/fs/bpf/synguard/{self.srv_if}"
        if os.path.isdir(pin_dir):
            run(["rm", "-rf", pin_dir], check=False)
        for ns in self.made:
            run(["ip", "netns", "del", ns], check=False)
        self.made = []


def set_short_slice(pid, nice=-20, slice_ns=100_000):
    """SCHED_OTHER at `nice` with a short EEVDF slice (sched_attr.sched_runtime,
    Linux 6.12+): a task with a shorter slice preempts the running one as it
    wakes, where nice alone waits up to a whole slice of the current task
    (RUN_TO_PARITY). Returns False if the kernel refuses (older kernels)."""
    import ctypes
    import struct
    libc = ctypes.CDLL(None, use_errno=True)
    # struct sched_attr (v1, 56 bytes): size, policy, flags, nice, priority,
    # runtime, deadline, period, util_min, util_max
    attr = struct.pack("=IIQiIQQQII", 56, 0, 0, nice, 0, slice_ns, 0, 0, 0, 0)
    buf = ctypes.create_string_buffer(attr, len(attr))
    SYS_sched_setattr = 314  # x86_64
    return libc.syscall(SYS_sched_setattr, ctypes.c_int(pid), buf, ctypes.c_uint(0)) == 0


def stop_proc(p, timeout=5):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def schedstat(pid):
    """(run time ns, runnable-but-waiting time ns, times scheduled in) of a thread."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            v = f.read().split()
            return int(v[0]), int(v[1]), int(v[2])
    except (OSError, IndexError, ValueError):
        return 0, 0, 0


def proc_cpu_s(pid):
    """utime + stime of a process, its exited threads included."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_ticks(cpu):
    """(busy, total) ticks of one CPU from /proc/stat (steal excluded from both)."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                v = [int(x) for x in line.split()[1:]]
                user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
                busy = user + nice + system + irq + softirq
                return busy, busy + idle + iowait
    return 0, 0


def delta(s0, s1):
    dt = s1["t"] - s0["t"]
    # SYN-ACKs over their own interval, then scaled to the CPU's interval
    synack_rate = (s1["synack"] - s0["synack"]) / (s1["t_synack"] - s0["t_synack"])
    synack = synack_rate * dt
    cpu_s = (s1["napi_ns"] - s0["napi_ns"]) / 1e9 + (s1["app_s"] - s0["app_s"])
    busy = s1["core"][0] - s0["core"][0]
    total = s1["core"][1] - s0["core"][1]
    return {
        "seconds": round(dt, 3),
        "synack_per_s": synack_rate,
        "srv_rx_per_s": (s1["srv_rx"] - s0["srv_rx"]) / (s1["t_link"] - s0["t_link"]),
        "srv_tx_drop_per_s": (s1["srv_tx_drop"] - s0["srv_tx_drop"]) / (s1["t_link"] - s0["t_link"]),
        "server_cpu": cpu_s / dt,  # fraction of one core
        "napi_cpu": (s1["napi_ns"] - s0["napi_ns"]) / 1e9 / dt,
        # the NAPI thread runnable but not running (another task had the CPU)
        "napi_wait": (s1["napi_wait_ns"] - s0["napi_wait_ns"]) / 1e9 / dt,
        "ksoftirqd_cpu": (s1["ksoftirqd_ns"] - s0["ksoftirqd_ns"]) / 1e9 / dt,
        "core_busy": busy / total if total else None,
        # frames the server's NAPI thread took per time it was woken: how
        # well the per-wakeup costs (scheduling, the wake-up of the peer's
        # NAPI thread for the answers) are amortised
        "rx_per_napi_run": (s1["srv_rx"] - s0["srv_rx"]) / max(1, s1["napi_runs"] - s0["napi_runs"]),
        "us_per_synack": cpu_s / synack * 1e6 if synack else None,
    }


# ---- phases ----

def flood(lab, pps, seconds):
    count = int((pps or 3_000_000) * seconds * 1.2) + 1000
    cmd = [lab.a.flooder, "-i", lab.atk_if, "--dst-mac", lab.srv_mac, "-d", SRV_IP, "-p", str(PORT),
           "-s", SPOOF, "-r", str(int(pps)), "-n", str(count), "-t", str(seconds)]
    return lab.spawn(lab.atk, OUTSIDE_CPU, cmd)


def finish(p, what, timeout):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_proc(p)
        out, err = p.communicate()
    if p.returncode:
        raise RuntimeError(f"{what} failed ({p.returncode}): {err.strip()[-400:]}")
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError(f"{what} printed no JSON: {out!r} {err!r}")


def client(lab, count, budget):
    cmd = [PY, os.path.join(HERE, "latency_client.py"), SRV_IP, str(PORT), "--count", str(count),
           "--concurrency", str(lab.a.concurrency), "--budget", str(budget)]
    return lab.spawn(lab.cli, OUTSIDE_CPU, cmd)


def phase_fixed(lab, pps, seconds):
    """Flood at pps (0: as fast as possible), measure the middle of it."""
    fl = flood(lab, pps, seconds)
    time.sleep(1.0)
    s0 = lab.sample()
    time.sleep(max(0.5, seconds - 1.6))
    s1 = lab.sample()
    res = delta(s0, s1)
    res["flooder"] = finish(fl, "flooder", seconds + 10)
    return res


def phase_saturation(lab, pps, seconds, with_client):
    fl = flood(lab, pps, seconds)
    time.sleep(1.0)
    s0 = lab.sample()
    cl = client(lab, lab.a.clients, lab.a.client_budget) if with_client else None
    time.sleep(max(0.5, seconds - 1.6))
    s1 = lab.sample()
    res = delta(s0, s1)
    res["flooder"] = finish(fl, "flooder", seconds + 10)
    if cl:
        res["client"] = finish(cl, "client", lab.a.client_budget + 15)
    return res


def run_config(args, letter, sat_pps):
    lab = Lab(args, letter)
    LABS.append(lab)
    out = {"config": letter, "label": CONFIGS[letter]}
    try:
        lab.create()
        lab.configure(letter)
        lab.start_server()
        lab.pin()
        if letter != "r":
            # Without a flood, every connection must work: else the
            # configuration is broken and its figures would mean nothing.
            pre = finish(client(lab, 20, 5), "client", 30)
            out["no_flood_client"] = pre
            if pre["ok"] != pre["attempts"]:
                raise RuntimeError(f"without a flood only {pre['ok']} of {pre['attempts']} connections worked: "
                                   f"{pre['failures']}")
        log(f"{CONFIGS[letter]}: saturation, {'max' if not sat_pps else int(sat_pps)} pps for {args.sat_seconds} s")
        out["saturation"] = phase_saturation(lab, sat_pps, args.sat_seconds, letter != "r")
        out["fixed"] = {}
        for rate in args.fixed_rates:
            log(f"{CONFIGS[letter]}: {int(rate)} pps for {args.fixed_seconds} s")
            out["fixed"][str(int(rate))] = phase_fixed(lab, rate, args.fixed_seconds)
        if letter == "d":
            st = run(lab.nse(lab.srv, args.synguard, "stats", lab.srv_if, "--json", "--interval", "0"), check=False)
            try:
                c = json.loads(st.stdout)["interfaces"][0]["counters"]
                out["synguard_counters"] = {k: v for k, v in c.items() if v}
            except (ValueError, KeyError, IndexError):
                pass
    except Skip as e:
        out["skipped"] = str(e)
        log(f"{CONFIGS[letter]}: SKIPPED: {e}")
    except Exception as e:  # report and go on with the next configuration
        out["error"] = str(e)
        log(f"{CONFIGS[letter]}: ERROR: {e}")
    finally:
        lab.destroy()
        LABS.remove(lab)
    return out


LABS = []


def cleanup_all():
    for lab in list(LABS):
        lab.destroy()


# ---- report ----

def fmt(v, spec, none="-"):
    return none if v is None else format(v, spec)


def ratio(v, ref):
    return f"{v / ref:.2f}x" if v is not None and ref else "-"


def cpu_at(r, key):
    """(server CPU measured at fixed rate `key`, CPU that rate needs, answered
    at that rate?). Where the SYN-ACKs fell short of the rate (the server
    saturated, or the flooder did not reach it), what the rate needs is the
    CPU per SYN-ACK measured in that phase times the rate."""
    f = r["fixed"].get(key) if r else None
    if not f or not f["us_per_synack"]:
        return None, None, None
    rate = float(key)
    at_rate = abs(f["synack_per_s"] - rate) <= 0.03 * rate
    need = f["server_cpu"] if at_rate else f["us_per_synack"] * rate / 1e6
    return f["server_cpu"], need, at_rate


def table(results, rate_labels):
    ref = next((r for r in results if r["config"] == "a" and "saturation" in r), None)
    floor = next((r for r in results if r["config"] == "r" and "saturation" in r), None)
    hdr = ["configuration", "offered pps", "SYN-ACK/s", "ratio", "µs CPU/SYN (sat.)", "ratio",
           "SYN-ACK/s per core"]
    for lbl in rate_labels:
        hdr += [f"CPU @{lbl}", "ratio"]
    hdr += ["legit ok", "connect p50/p99 ms", "request p50/p99 ms"]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    for r in results:
        if "saturation" not in r:
            why = r.get("skipped") or r.get("error") or "not run"
            lines.append(f"| {r['label']} | " + " | ".join(["-"] * (len(hdr) - 2)) + f" | {why} |")
            continue
        s = r["saturation"]
        rs = ref["saturation"] if ref else None
        us = s["us_per_synack"]
        row = [r["label"], fmt(s["flooder"]["attempted_pps"], ",.0f"), fmt(s["synack_per_s"], ",.0f"),
               ratio(s["synack_per_s"], rs and rs["synack_per_s"]), fmt(us, ".2f"),
               ratio(us, rs and rs["us_per_synack"]), fmt(us and 1e6 / us, ",.0f")]
        for key in r["fixed"]:
            cpu, need, ok = cpu_at(r, key)
            _, ref_need, _ = cpu_at(ref, key) if ref else (None, None, None)
            cell = f"{cpu * 100:.0f}%" if ok else f"~{need * 100:.0f}% *"
            row += [cell, ratio(need, ref_need)]
        c = s.get("client")
        if c:
            row += [f"{c['success'] * 100:.1f}% of {c['attempts']}",
                    f"{fmt(c['connect_ms']['p50'], '.1f')} / {fmt(c['connect_ms']['p99'], '.1f')}",
                    f"{fmt(c['request_ms']['p50'], '.1f')} / {fmt(c['request_ms']['p99'], '.1f')}"]
        else:
            row += ["n/a (reflects the client too)", "-", "-"]
        lines.append("| " + " | ".join(row) + " |")
    notes = []
    d = next((r for r in results if r["config"] == "d" and "saturation" in r), None)
    if d:
        s = d["saturation"]
        off = s["flooder"]["attempted_pps"]
        notes.append(f"synguard answered {s['synack_per_s']:,.0f} SYN-ACK/s of {off:,.0f} pps offered "
                     f"({s['synack_per_s'] / off * 100:.1f}%; target: all of it)"
                     + (f"; {s['synack_per_s'] / ref['saturation']['synack_per_s']:.2f}x the SYN-ACK rate and "
                        f"{ref['saturation']['us_per_synack'] / s['us_per_synack']:.2f}x the SYN-ACKs per core of "
                        f"(a) (target >= 2.2x)" if ref else ""))
        k0 = next(iter(d["fixed"]), None)
        if k0:
            _, dn, _ = cpu_at(d, k0)
            parts = []
            if floor and k0 in floor["fixed"]:
                parts.append(f"{dn / cpu_at(floor, k0)[1]:.2f}x the reflect floor's (target <= 1.1x)")
            if ref and k0 in ref["fixed"]:
                parts.append(f"{dn / cpu_at(ref, k0)[1]:.2f}x what (a) needs (target about 0.45x)")
            if parts:
                notes.append(f"synguard's CPU at {rate_labels[0]} pps: " + ", ".join(parts))
        c = s.get("client")
        if c:
            notes.append(f"legit success at saturation {c['success'] * 100:.1f}% (target >= 99.9%), request p99 "
                         f"{fmt(c['request_ms']['p99'], '.1f')} ms (target < 10 ms)")
    if any("*" in line for line in lines[2:]):
        notes.insert(0, "*: SYN-ACKs fell short of that rate (the server saturated, or the flooder did not reach "
                        "it): the CPU per SYN-ACK measured in that phase times the rate (more than 100%: more "
                        "than one core); measured values are in the table of every phase")
    return "\n".join(lines), notes


def details(results):
    """Every phase of every configuration, one row each."""
    lines = ["| configuration | phase | offered pps | delivered pps | refused (ring full) | SYN-ACK/s | server CPU "
             "| µs CPU/SYN-ACK | frames per NAPI wake-up | server core busy (all tasks) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        if "saturation" not in r:
            continue
        phases = [("saturation", r["saturation"])] + [(f"{int(k) // 1000}k pps", v) for k, v in r["fixed"].items()]
        for name, v in phases:
            f = v["flooder"]
            refused = f["dropped"] / f["attempted"] * 100 if f["attempted"] else 0
            lines.append(f"| {r['label']} | {name} | {f['attempted_pps']:,.0f} | {f['pps']:,.0f} | {refused:.1f}% | "
                         f"{v['synack_per_s']:,.0f} | {v['server_cpu'] * 100:.0f}% | {fmt(v['us_per_synack'], '.2f')} | "
                         f"{v['rx_per_napi_run']:.1f} | {fmt(v['core_busy'] and v['core_busy'] * 100, '.0f')}% |")
    return "\n".join(lines)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    rev = run(["git", "-C", REPO, "describe", "--always", "--dirty"], check=False).stdout.strip() or "unknown"
    return {"kernel": platform.release(), "machine": platform.machine(), "cpu": model, "nproc": NCPU,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"), "tree": rev,
            "loadavg": open("/proc/loadavg").read().split()[:3]}


def main():
    ap = argparse.ArgumentParser(description="SYN-flood benchmark (use bench/flood-bench.sh)")
    ap.add_argument("--id", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--configs", default="r,a,b,c,d")
    ap.add_argument("--rates", default="250000,450000")
    ap.add_argument("--sat-pps", type=float, default=None,
                    help="offered rate of the saturation phase (default: what the flooder reaches against the floor)")
    ap.add_argument("--server-fair", action="store_true",
                    help="the server's NAPI thread at nice -20 with a short slice instead of SCHED_FIFO")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    ap.add_argument("--command", default="bench/flood-bench.sh")
    args = ap.parse_args()

    b = args.build_dir
    args.synguard = os.path.join(b, "synguard")
    args.flooder = os.path.join(b, "bench", "sg_flooder")
    args.sink_obj = os.path.join(b, "gen", "bench_sink.bpf.o")
    args.reflect_obj = os.path.join(b, "gen", "bench_reflect.bpf.o")
    args.nft = next((p for p in ("/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft") if os.access(p, os.X_OK)), None)
    if args.quick:
        args.sat_seconds, args.fixed_seconds, args.clients, args.client_budget = 6, 3.5, 100, 3
    else:
        args.sat_seconds, args.fixed_seconds, args.clients, args.client_budget = 14, 7, 300, 9
    args.concurrency = 8
    letters = [x for x in args.configs.split(",") if x]
    for x in letters:
        if x not in CONFIGS:
            ap.error(f"unknown configuration {x!r} (choose from {', '.join(CONFIGS)})")
    if "r" in letters:  # the floor first: it calibrates the offered rate
        letters.remove("r")
        letters.insert(0, "r")

    atexit.register(cleanup_all)
    # If whoever started us dies (flood-bench.sh's `timeout`, killed), stop
    # as if told to: the labs are removed on the way out.
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:
        sys.exit(143)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(143))

    info = machine()
    log(f"run {args.id}: kernel {info['kernel']}, {info['cpu']} x {info['nproc']}, server CPU {SERVER_CPU}, "
        f"flooder/client CPU {OUTSIDE_CPU}, load {' '.join(info['loadavg'])}")
    wanted = [float(x) for x in args.rates.split(",") if x]
    results = []
    sat_pps = args.sat_pps or 0
    args.fixed_rates = wanted
    rate_labels = [f"{int(r / 1000)}k" for r in wanted]
    for x in letters:
        res = run_config(args, x, sat_pps)
        results.append(res)
        if x == "r" and "saturation" in res and not args.sat_pps:
            # The floor answers everything the flooder sends: that is the
            # flooder's ceiling here. Offer it to every configuration, and
            # cap the fixed rates at it.
            ceiling = res["saturation"]["flooder"]["pps"]
            sat_pps = ceiling
            args.fixed_rates = [min(r, ceiling) for r in wanted]
            rate_labels = [f"{int(r / 1000)}k" if r <= ceiling else f"{int(ceiling / 1000)}k (max; {int(r / 1000)}k asked)"
                           for r in wanted]
            log(f"flooder ceiling against the floor: {ceiling:,.0f} pps; saturation offers that to every configuration")
    tbl, notes = table(results, rate_labels)
    doc = {"machine": info, "command": args.command, "quick": args.quick, "sat_seconds": args.sat_seconds,
           "fixed_seconds": args.fixed_seconds, "saturation_pps": sat_pps, "fixed_rates": args.fixed_rates,
           "results": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    md = [f"Run {info['date']}, tree `{info['tree']}`, `{args.command}`; kernel `{info['kernel']}` "
          f"{info['machine']}, CPU `{info['cpu']}` x {info['nproc']}; load average before the run "
          f"{' '.join(info['loadavg'])}.",
          f"Saturation: {args.sat_seconds} s at {sat_pps:,.0f} pps offered (0 = flooder's max) with "
          f"{args.clients} legit connections (8 at a time, budget {args.client_budget} s); fixed rates: "
          f"{args.fixed_seconds} s each. Ratios are to (a).", "", tbl, ""]
    md += [f"- {n}" for n in notes]
    md += ["", "Every phase:", "", details(results)]
    for r in results:
        c = r.get("saturation", {}).get("client")
        if c and c["failures"]:
            md.append(f"- {r['label']}: legit failures at saturation: {c['failures']}")
        if r.get("synguard_counters"):
            md.append(f"- {r['label']}: synguard counters at the end: " +
                      ", ".join(f"{k} {v}" for k, v in r["synguard_counters"].items()))
    text = "\n".join(md)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
