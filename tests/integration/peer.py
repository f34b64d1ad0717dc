# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Real TCP endpoints for the integration tests, one per namespace.

  peer.py server PORT            accepts forever; per connection: reads an
                                 8-byte length N and N bytes, replies with a
                                 JSON line {tcp_info of the accepted socket,
                                 sha256 of what it got} and N bytes of its own
  peer.py client ADDR PORT N SEED  sends N seeded bytes, checks the reply;
                                 prints one JSON line
  peer.py greet-server PORT      server speaks first: sends "HELLO\\n" on
                                 accept, then echoes one line
  peer.py greet-client ADDR PORT DELAY  connects, waits DELAY s without
                                 sending, then sends a line; prints JSON
  peer.py connect ADDR PORT COUNT TIMEOUT [SPREAD]  COUNT sequential
                                 connects (evenly over SPREAD seconds), each
                                 sending a request and reading the reply;
                                 prints JSON {ok, failed, p50, p99}
  peer.py refused ADDR PORT      one connect; prints JSON {error, seconds}
  peer.py close-server PORT      per connection: reads "client\n" (client
                                 closes first), "server\n" (server closes
                                 first) or "both\n" (both at once), acts
  peer.py close-client ADDR PORT WHO  one connection closed as WHO says;
                                 prints JSON {local_port}
  peer.py echo-server PORT       many concurrent connections, echoes bytes
  peer.py many ADDR PORT N ROUNDS SECONDS  opens N connections, keeps them,
                                 then ROUNDS ping-pongs on each, SECONDS apart;
                                 prints JSON {opened, ok, failed}
  peer.py streams ADDR PORT N SIZE SECONDS  N concurrent transfers of SIZE
                                 bytes each (echoed back, checked), spread
                                 over SECONDS; prints JSON {ok, failed}
  peer.py stream ADDR PORT SECONDS  one long transfer (10 MB up, echoed
                                 back) spread over SECONDS; prints JSON
                                 {port} once connected, then JSON {ok}
"""
import selectors
import hashlib
import json
import random
import socket
import struct
import sys
import time

def tcp_info(sock):
    """What the handshake negotiated, from TCP_INFO (ss -tin shows the same,
    but iproute2 6.1's ss omits ts/sack/ecn against newer kernels). Not
    rcv_mss: an estimate updated as data arrives, racy by nature."""
    b = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    (snd_mss,) = struct.unpack_from("I", b, 16)
    (advmss,) = struct.unpack_from("I", b, 84)
    return {"options": b[5] & 0x0f,  # TS, SACK, WSCALE, ECN (not ECN_SEEN)
            "snd_wscale": b[6] & 0x0f, "rcv_wscale": b[6] >> 4,
            "snd_mss": snd_mss, "advmss": advmss}


def data(seed, n):
    return random.Random(seed).randbytes(n)


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(1 << 20, n - len(buf)))
        if not chunk:
            raise ConnectionError(f"peer closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_line(s):
    buf = bytearray()
    while not buf.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            raise ConnectionError("peer closed mid-line")
        buf += c
    return bytes(buf)


def listener(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(1024)
    return s


def server(port):
    ls = listener(port)
    while True:
        c, _ = ls.accept()
        with c:
            try:
                info = tcp_info(c)
                n = struct.unpack("!Q", recv_exact(c, 8))[0]
                got = hashlib.sha256(recv_exact(c, n)).hexdigest()
                c.sendall(json.dumps({"info": info, "sha": got}).encode() + b"\n")
                c.sendall(data(n ^ 0x5a5a, n))
            except (OSError, ConnectionError):
                pass


def client(addr, port, n, seed):
    out = data(seed, n)
    s = socket.create_connection((addr, port), timeout=20)
    s.sendall(struct.pack("!Q", n) + out)
    reply = json.loads(recv_line(s))
    back = recv_exact(s, n)
    print(json.dumps({"server_info": reply["info"], "client_info": tcp_info(s),
                      "upload_ok": reply["sha"] == hashlib.sha256(out).hexdigest(),
                      "download_ok": back == data(n ^ 0x5a5a, n)}))


def greet_server(port):
    ls = listener(port)
    while True:
        c, _ = ls.accept()
        with c:
            try:
                c.sendall(b"HELLO\n")
                c.sendall(b"ECHO " + recv_line(c))
            except (OSError, ConnectionError):
                pass


def greet_client(addr, port, delay):
    s = socket.create_connection((addr, port), timeout=10)
    s.settimeout(delay)
    try:
        early = s.recv(100).decode()
    except socket.timeout:
        early = ""
    s.settimeout(10)
    s.sendall(b"hi there\n")
    rest = b""
    while b"ECHO" not in rest or not rest.endswith(b"\n"):
        chunk = s.recv(100)
        if not chunk:
            break
        rest += chunk
    print(json.dumps({"before_data": early, "after_data": (early.encode() + rest).decode()}))


def connect_loop(addr, port, count, timeout, spread=0.0):
    ok, failed, lat = 0, 0, []
    start = time.monotonic()
    for i in range(count):
        if spread:  # pace the handshakes evenly over `spread` seconds
            time.sleep(max(0.0, start + spread * i / count - time.monotonic()))
        t0 = time.monotonic()
        try:
            with socket.create_connection((addr, port), timeout=timeout) as s:
                s.sendall(struct.pack("!Q", 16) + data(i, 16))
                json.loads(recv_line(s))
                recv_exact(s, 16)
            ok += 1
            lat.append(time.monotonic() - t0)
        except (OSError, ConnectionError, ValueError):
            failed += 1
    lat.sort()
    print(json.dumps({"ok": ok, "failed": failed,
                      "p50": lat[len(lat) // 2] if lat else None,
                      "p99": lat[int(len(lat) * 0.99)] if lat else None}))


def refused(addr, port):
    t0 = time.monotonic()
    err = None
    try:
        socket.create_connection((addr, port), timeout=5).close()
    except OSError as e:
        err = type(e).__name__
    print(json.dumps({"error": err, "seconds": time.monotonic() - t0}))


def close_server(port):
    ls = listener(port)
    while True:
        c, _ = ls.accept()
        try:
            who = recv_line(c).strip()
            if who == b"server":
                c.close()  # our FIN first: TIME_WAIT here
                continue
            if who == b"both":
                c.shutdown(socket.SHUT_WR)
            while c.recv(100):  # until the client's FIN
                pass
            c.close()
        except (OSError, ConnectionError):
            c.close()


def close_client(addr, port, who):
    s = socket.create_connection((addr, port), timeout=10)
    port_ = s.getsockname()[1]
    s.sendall(who.encode() + b"\n")
    if who == "client":
        s.shutdown(socket.SHUT_WR)
        while s.recv(100):
            pass
    elif who == "both":
        s.shutdown(socket.SHUT_WR)
        while s.recv(100):
            pass
    else:
        while s.recv(100):  # the server closes first
            pass
    s.close()
    print(json.dumps({"local_port": port_}))


def echo_server(port):
    ls = listener(port)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is ls:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
            else:
                c = key.fileobj
                try:
                    data = c.recv(65536)
                except (BlockingIOError, ConnectionError):
                    data = None
                if data:
                    c.setblocking(True)  # echo it whole, then back to polling
                    c.sendall(data)
                    c.setblocking(False)
                elif data == b"":
                    sel.unregister(c)
                    c.close()


def many(addr, port, n, rounds, gap):
    socks, failed, ok = [], 0, 0
    for _ in range(n):
        try:
            socks.append(socket.create_connection((addr, port), timeout=5))
        except OSError:
            failed += 1
    opened = len(socks)
    for r in range(rounds):
        time.sleep(gap)
        for i, s in enumerate(socks):
            msg = b"%d.%d\n" % (r, i)
            try:
                s.sendall(msg)
                if recv_exact(s, len(msg)) == msg:
                    ok += 1
                else:
                    failed += 1
            except (OSError, ConnectionError):
                failed += 1
    for s in socks:
        s.close()
    print(json.dumps({"opened": opened, "ok": ok, "failed": failed}))


def one_stream(addr, port, size, seconds, seed, results):
    try:
        out = data(seed, size)
        s = socket.create_connection((addr, port), timeout=30)
        s.settimeout(30)
        chunk = 16 * 1024
        got = bytearray()
        per = seconds / max(1, size // chunk)
        for off in range(0, size, chunk):
            s.sendall(out[off:off + chunk])
            while len(got) < min(size, off + chunk):
                got += s.recv(1 << 20)
            time.sleep(per)
        s.close()
        results.append(bytes(got) == out)
    except (OSError, ConnectionError):
        results.append(False)


def streams(addr, port, n, size, seconds):
    import threading
    results = []
    threads = [threading.Thread(target=one_stream, args=(addr, port, size, seconds, i, results))
               for i in range(n)]
    for t in threads:
        t.start()
        time.sleep(0.005)
    for t in threads:
        t.join()
    print(json.dumps({"ok": results.count(True), "failed": results.count(False)}))


def stream(addr, port, seconds):
    n, chunk = 10 * 1024 * 1024, 64 * 1024
    out = data(11, n)
    s = socket.create_connection((addr, port), timeout=20)
    print(json.dumps({"port": s.getsockname()[1]}), flush=True)
    got = bytearray()
    t_end = time.monotonic() + seconds
    for off in range(0, n, chunk):
        s.sendall(out[off:off + chunk])
        while len(got) < off + chunk and len(got) < n:
            got += s.recv(1 << 20)
        time.sleep(max(0.0, (t_end - time.monotonic()) / max(1, (n - off) // chunk)))
    while len(got) < n:
        got += s.recv(1 << 20)
    s.close()
    print(json.dumps({"ok": bytes(got) == out}))


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "server":
        server(int(args[0]))
    elif mode == "client":
        client(args[0], int(args[1]), int(args[2]), int(args[3]))
    elif mode == "greet-server":
        greet_server(int(args[0]))
    elif mode == "greet-client":
        greet_client(args[0], int(args[1]), float(args[2]))
    elif mode == "connect":
        connect_loop(args[0], int(args[1]), int(args[2]), float(args[3]), float(args[4]) if len(args) > 4 else 0.0)
    elif mode == "refused":
        refused(args[0], int(args[1]))
    elif mode == "close-server":
        close_server(int(args[0]))
    elif mode == "close-client":
        close_client(args[0], int(args[1]), args[2])
    elif mode == "echo-server":
        echo_server(int(args[0]))
    elif mode == "many":
        many(args[0], int(args[1]), int(args[2]), int(args[3]), float(args[4]))
    elif mode == "streams":
        streams(args[0], int(args[1]), int(args[2]), int(args[3]), float(args[4]))
    elif mode == "stream":
        stream(args[0], int(args[1]), float(args[2]))
    else:
        sys.exit(f"unknown mode {mode}")
