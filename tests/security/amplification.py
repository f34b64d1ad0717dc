#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""synguard as a reflector: what comes back for N spoofed SYNs?

    /usr/bin/python3 tests/security/amplification.py --synguard BUILD/synguard --gen BUILD/gen [-n N]

A two-namespace lab (tests/integration/netlab.py): synguard attached to the
server's veth with a listener on port 8080; the client namespace sends N
SYNs with spoofed sources (198.18.0.0/15 and fd77::/64, random ports, a mix of
option layouts from none to Linux's) from an AF_PACKET socket, and captures
everything the server sends back for a few seconds after the last one
(longer than the kernel's first SYN-ACK retransmission, 1 s).

Asserts:
  - at most one SYN-ACK per SYN, each answering a SYN that was sent (ack =
    ISN + 1, addresses and ports swapped), no SYN-ACK twice for a tuple and
    no repeated (tuple, seq): no retransmissions;
  - every SYN-ACK synguard counted (synack_sent) arrived, and all N were
    answered (no per-source limit is configured);
  - TCP bytes out <= 1.2 x bytes in (frame bytes; the worst mix is about
    1.07: a SYN without options gets an MSS option back);
  - nothing else TCP came from the server (the kernel never saw the SYNs).
Then, with --syn-rate 50 --syn-burst 20, one source sending 300 SYNs in
about 1.5 s gets at most burst + rate x t (+ one per CPU: the XXX in
bpf/ratelimit.h) SYN-ACKs, and at least the burst, while another source's
20 SYNs in the same time are all answered.

Exit status 0 if every check passed; "N passed, N failed" is the last line.
"""
import argparse
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

PORT = 8080
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


# ---- frames (built by hand: no scapy needed, and malformed-free) ------------


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


OPTION_MIXES = {
    "none": b"",
    "linux": struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02\x08\x0a" + struct.pack("!II", 12345, 0) + b"\x01\x03\x03\x07",
    "ts": b"\x01\x01\x08\x0a" + struct.pack("!II", 777, 0),
    "sack": b"\x04\x02\x01\x01",
    "ws": b"\x01\x03\x03\x08",
    "sack_ts_ws": b"\x04\x02\x08\x0a" + struct.pack("!II", 99, 0) + b"\x03\x03\x07\x00",
}


def syn_frame(dmac, smac, v6, src, dst, sport, dport, isn, opts):
    tcp_len = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, isn, 0, (tcp_len // 4) << 4, 0x02, 64240, 0, 0) + opts
    s, d = socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, src), \
        socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, dst)
    if v6:
        pseudo = s + d + struct.pack("!IxxxB", tcp_len, 6)
    else:
        pseudo = s + d + struct.pack("!xBH", 6, tcp_len)
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    if v6:
        ip = struct.pack("!IHBB", 0x60000000, tcp_len, 6, 64) + s + d
        return dmac + smac + b"\x86\xdd" + ip + tcp
    ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + tcp_len, random.getrandbits(16), 0x4000, 64, 6, 0) + s + d
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dmac + smac + b"\x08\x00" + ip + tcp


def parse_tcp(frame):
    """(v6, src, dst, sport, dport, seq, ack, flags) of a TCP frame, else None."""
    et = struct.unpack_from("!H", frame, 12)[0]
    if et == 0x0800 and len(frame) >= 34 and frame[23] == 6:
        ihl = (frame[14] & 15) * 4
        src, dst = socket.inet_ntop(socket.AF_INET, frame[26:30]), socket.inet_ntop(socket.AF_INET, frame[30:34])
        t, v6 = 14 + ihl, False
    elif et == 0x86DD and len(frame) >= 54 and frame[20] == 6:
        src, dst = socket.inet_ntop(socket.AF_INET6, frame[22:38]), socket.inet_ntop(socket.AF_INET6, frame[38:54])
        t, v6 = 54, True
    else:
        return None
    if len(frame) < t + 20:
        return None
    sport, dport, seq, ack, _, flags = struct.unpack_from("!HHIIBB", frame, t)
    return v6, src, dst, sport, dport, seq, ack, flags


# ---- the client side: runs inside the client namespace ----------------------


def peer(args):
    """Send SYNs, capture the answers, print one JSON summary."""
    rnd = random.Random(args.seed)
    dmac, smac = bytes.fromhex(args.dmac.replace(":", "")), bytes.fromhex(args.smac.replace(":", ""))
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE: hold every answer
    rx.bind((args.iface, ETH_P_ALL))
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind((args.iface, 0))

    sent = {}  # (v6, client addr, client port) -> (isn, source group)
    bytes_in = 0
    plan = []
    for i in range(args.n):
        v6 = args.single is None and i % 4 == 3
        if args.single is not None:
            src = args.single if i % args.control_every else args.control
        elif v6:
            src = "fd77::%x:%x:%x" % (rnd.getrandbits(16) | 1, rnd.getrandbits(16), rnd.getrandbits(16))
        else:
            src = "198.%d.%d.%d" % (18 + rnd.getrandbits(1), rnd.getrandbits(8), 1 + rnd.randrange(254))
        v6 = ":" in src
        sport = 1024 + rnd.randrange(64000)
        while (v6, src, sport) in sent:
            sport = 1024 + rnd.randrange(64000)
        isn = rnd.getrandbits(32)
        mix = list(OPTION_MIXES)[i % len(OPTION_MIXES)]
        frame = syn_frame(dmac, smac, v6, src, args.dst6 if v6 else args.dst4, sport, PORT, isn, OPTION_MIXES[mix])
        sent[(v6, src, sport)] = (isn, "control" if src == args.control else "main")
        plan.append(frame)

    t_first = time.monotonic()
    for i, frame in enumerate(plan):
        tx.send(frame)
        bytes_in += len(frame)
        if args.pace and (i + 1) % args.batch == 0:
            # Pace: veth drops XDP_TX frames beyond its ring otherwise.
            time.sleep(args.pace)
    t_last = time.monotonic()

    synacks, seen_seq, problems = {}, set(), []
    other_tcp = other_bytes = bytes_out = retrans = 0
    deadline = time.monotonic() + args.listen
    rx.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            frame, addr = rx.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] == PACKET_OUTGOING or frame[6:12] != dmac:
            continue  # ours, or not from the server
        p = parse_tcp(frame)
        if p is None:
            other_bytes += len(frame)
            continue
        v6, src, dst, sport, dport, seq, ack, flags = p
        bytes_out += len(frame)
        if flags & 0x12 != 0x12 or sport != PORT:
            other_tcp += 1
            problems.append("unexpected TCP from the server: %s:%d -> %s:%d flags %#x" % (src, sport, dst, dport, flags))
            continue
        key = (v6, dst, dport)
        if (key, seq) in seen_seq:
            retrans += 1
        seen_seq.add((key, seq))
        if key not in sent:
            problems.append("SYN-ACK to %s:%d, which sent no SYN" % (dst, dport))
            continue
        isn, group = sent[key]
        if ack != (isn + 1) & 0xFFFFFFFF:
            problems.append("SYN-ACK to %s:%d acks %#x, ISN was %#x" % (dst, dport, ack, isn))
        if src != (args.dst6 if v6 else args.dst4):
            problems.append("SYN-ACK from %s, not the server" % src)
        synacks.setdefault(key, []).append(group)
    print(json.dumps({
        "sent": len(plan), "bytes_in": bytes_in, "bytes_out": bytes_out, "seconds": t_last - t_first,
        "answered": sum(len(v) for v in synacks.values()),
        "tuples_answered": len(synacks),
        "answered_main": sum(1 for v in synacks.values() for g in v if g == "main"),
        "answered_control": sum(1 for v in synacks.values() for g in v if g == "control"),
        "sent_control": sum(1 for v in sent.values() if v[1] == "control"),
        "twice": sum(1 for v in synacks.values() if len(v) > 1),
        "retransmissions": retrans, "other_tcp": other_tcp, "other_bytes": other_bytes,
        "problems": problems[:10],
    }))
    return 0


# ---- the controller ---------------------------------------------------------


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, ok, desc, detail=""):
        if ok:
            self.passed += 1
            print("ok   - " + desc)
        else:
            self.failed += 1
            print("FAIL - " + desc + ("\n       " + detail if detail else ""))
        return ok


def mac_of(ns, dev):
    out = subprocess.run(["ip", "-n", ns, "-j", "link", "show", "dev", dev], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)[0]["address"]


def run_peer(lab, args, **kw):
    cmd = ["ip", "netns", "exec", lab.cli, sys.executable, os.path.abspath(__file__), "--peer",
           "--iface", lab.cli_if, "--dmac", mac_of(lab.srv, lab.srv_if), "--smac", mac_of(lab.cli, lab.cli_if),
           "--dst4", lab.SRV4, "--dst6", lab.SRV6, "--seed", str(kw.pop("seed", args.seed))]
    for k, v in kw.items():
        cmd += ["-n" if k == "n" else "--" + k.replace("_", "-"), str(v)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if out.returncode:
        raise RuntimeError("peer failed: %s" % out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def delta(before, after, name):
    return after.get(name, 0) - before.get(name, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synguard")
    ap.add_argument("--gen")
    ap.add_argument("-n", type=int, default=2000, help="spoofed SYNs (default 2000)")
    ap.add_argument("--seed", type=int, default=None)
    # peer mode (inside the client namespace)
    ap.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--iface", help=argparse.SUPPRESS)
    ap.add_argument("--dmac", help=argparse.SUPPRESS)
    ap.add_argument("--smac", help=argparse.SUPPRESS)
    ap.add_argument("--dst4", help=argparse.SUPPRESS)
    ap.add_argument("--dst6", help=argparse.SUPPRESS)
    ap.add_argument("--single", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--control", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--control-every", type=int, default=15, help=argparse.SUPPRESS)
    ap.add_argument("--listen", type=float, default=3.5, help=argparse.SUPPRESS)
    ap.add_argument("--pace", type=float, default=0.002, help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=32, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.getrandbits(32)
    if args.peer:
        return peer(args)
    if not args.synguard or not args.gen:
        ap.error("--synguard and --gen are required")
    if os.geteuid() != 0:
        print("amplification.py: needs root (network namespaces, XDP)", file=sys.stderr)
        return 1

    from netlab import Lab, wait_port  # noqa: E402 (the lab helper of tests/integration)

    check = Checks()
    lab = None
    try:
        lab = Lab(os.path.abspath(args.synguard), os.path.abspath(args.gen))
        print("# amplification: lab %s, %d spoofed SYNs, seed %d" % (lab.id, args.n, args.seed))
        lab.spawn("srv", sys.executable, "-c", """
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", %d))
s.listen(128)
time.sleep(3600)
""" % PORT)
        wait_port(lab, PORT)
        lab.attach("--ports", str(PORT))

        # ---- N spoofed SYNs, no limit ----
        before = lab.stats()
        r = run_peer(lab, args, n=args.n)
        time.sleep(0.2)
        after = lab.stats()
        sent, got = r["sent"], r["answered"]
        print("# sent %d SYNs (%d bytes) in %.2f s; %d SYN-ACKs back (%d bytes): ratio %.3f" % (
            sent, r["bytes_in"], r["seconds"], got, r["bytes_out"], r["bytes_out"] / max(r["bytes_in"], 1)))
        check(got <= sent, "at most one SYN-ACK per SYN: %d for %d" % (got, sent))
        check(r["twice"] == 0 and r["retransmissions"] == 0,
              "no tuple answered twice, no retransmission (%d, %d)" % (r["twice"], r["retransmissions"]))
        check(not r["problems"], "every SYN-ACK answers a SYN that was sent", "; ".join(r["problems"]))
        check(r["other_tcp"] == 0, "no other TCP from the server: %d" % r["other_tcp"])
        check(r["bytes_out"] <= 1.2 * r["bytes_in"], "bytes out <= 1.2 x bytes in: %d <= %.0f" % (
            r["bytes_out"], 1.2 * r["bytes_in"]))
        check(delta(before, after, "syn_seen") == sent, "syn_seen rose by %d (sent %d)" % (
            delta(before, after, "syn_seen"), sent))
        check(delta(before, after, "synack_sent") == got,
              "every SYN-ACK counted arrived: synack_sent +%d, captured %d" % (delta(before, after, "synack_sent"), got))
        check(got == sent, "without a per-source limit every SYN is answered: %d of %d" % (got, sent))

        # ---- one source over its rate ----
        rate, burst, n1 = 50, 20, 300
        lab.attach("--ports", str(PORT), "--syn-rate", str(rate), "--syn-burst", str(burst))
        before = lab.stats()
        r = run_peer(lab, args, n=n1, single="198.18.7.7", control="198.18.8.8", control_every=15,
                     pace=0.02, batch=4, seed=args.seed + 1)
        after = lab.stats()
        ncpu = os.cpu_count() or 1
        main_sent = r["sent"] - r["sent_control"]
        bound = burst + rate * (r["seconds"] + 0.05) + ncpu
        print("# one source: %d SYNs in %.2f s, %d answered (bound %.0f); another: %d of %d answered" % (
            main_sent, r["seconds"], r["answered_main"], bound, r["answered_control"], r["sent_control"]))
        check(r["answered_main"] <= bound, "one source gets at most burst + rate x t: %d <= %.0f" % (
            r["answered_main"], bound))
        check(r["answered_main"] >= burst, "... and at least its burst: %d >= %d" % (r["answered_main"], burst))
        check(r["answered_control"] == r["sent_control"],
              "another source is not limited by it: %d of %d" % (r["answered_control"], r["sent_control"]))
        check(r["twice"] == 0 and r["retransmissions"] == 0 and not r["problems"],
              "rate phase: no duplicates, no retransmissions, no strays", "; ".join(r["problems"]))
        check(delta(before, after, "drop_rate_limit") == main_sent - r["answered_main"],
              "drop_rate_limit counts the rest: +%d (%d not answered)" % (
                  delta(before, after, "drop_rate_limit"), main_sent - r["answered_main"]))
    except Exception as e:  # report, clean up, fail
        check(False, "amplification test ran to the end", "%s: %s" % (type(e).__name__, e))
    finally:
        if lab:
            lab.destroy()
    print("%d passed, %d failed" % (check.passed, check.failed))
    return 0 if check.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
