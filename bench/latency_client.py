# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A legit client for the flood benchmark: a few hundred real TCP
connections, each one HTTP/1.0 GET, from a few threads; it measures for each
the connect time (SYN to established, SYN retransmissions included) and the
request time (GET sent to the whole response read), and prints one JSON
line: attempts, successes, failures by reason, and p50/p90/p99/max of both
times over the successful connections (ms).

  latency_client.py HOST PORT [--count N] [--concurrency C] [--budget S]
                    [--connect-timeout S] [--request-timeout S]

A connection fails when it is refused or reset, when connect() takes longer
than --connect-timeout (default 3 s: the SYN and two retransmissions, at 1 s
and 3 s), when the response takes longer than --request-timeout (default 3 s),
or when the response is not the whole 200 answer. No new connection starts
after --budget seconds, so a run is bounded by budget + both timeouts.
"""
import argparse
import json
import math
import socket
import threading
import time

REQUEST = b"GET /bench HTTP/1.0\r\nHost: bench\r\n\r\n"


def one(host, port, ct, rt):
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(ct)
        try:
            s.connect((host, port))
        except socket.timeout:
            return "connect_timeout", None, None
        except ConnectionRefusedError:
            return "connect_refused", None, None
        except OSError as e:
            return "connect_error:" + (e.strerror or str(e)), None, None
        t1 = time.monotonic()
        s.settimeout(max(0.001, rt))
        deadline = t1 + rt
        data = b""
        try:
            s.sendall(REQUEST)
            while True:
                s.settimeout(max(0.001, deadline - time.monotonic()))
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            return "request_timeout", None, None
        except OSError as e:
            return "request_error:" + (e.strerror or str(e)), None, None
        t2 = time.monotonic()
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.0 200") and not head.startswith(b"HTTP/1.1 200"):
            return "bad_response", None, None
        length = None
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        if length is not None and len(body) != length:
            return "short_response", None, None
        return "ok", t1 - t0, t2 - t1
    finally:
        s.close()


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    k = min(len(v) - 1, max(0, math.ceil(p / 100.0 * len(v)) - 1))  # nearest rank
    return round(v[k] * 1000, 3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--budget", type=float, default=10.0)
    ap.add_argument("--connect-timeout", type=float, default=3.0)
    ap.add_argument("--request-timeout", type=float, default=3.0)
    a = ap.parse_args()

    lock = threading.Lock()
    state = {"next": 0}
    results = []
    t_start = time.monotonic()

    def worker():
        while True:
            with lock:
                if state["next"] >= a.count or time.monotonic() - t_start > a.budget:
                    return
                state["next"] += 1
            r = one(a.host, a.port, a.connect_timeout, a.request_timeout)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r[0] == "ok"]
    fails = {}
    for r in results:
        if r[0] != "ok":
            fails[r[0]] = fails.get(r[0], 0) + 1
    conn = [r[1] for r in ok]
    req = [r[2] for r in ok]
    out = {
        "attempts": len(results),
        "ok": len(ok),
        "success": round(len(ok) / len(results), 5) if results else None,
        "failures": fails,
        "seconds": round(time.monotonic() - t_start, 3),
        "connect_ms": {"p50": pct(conn, 50), "p90": pct(conn, 90), "p99": pct(conn, 99),
                       "max": pct(conn, 100)},
        "request_ms": {"p50": pct(req, 50), "p90": pct(req, 90), "p99": pct(req, 99),
                       "max": pct(req, 100)},
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
