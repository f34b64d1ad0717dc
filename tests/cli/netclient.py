# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""One TCP client for tests/cli: connect from a given source address, run
one exchange with tests/integration/peer.py's server (8-byte length, data;
reply: a JSON line and the same number of bytes), print one JSON line.

  netclient.py SRC DST PORT TIMEOUT
  -> {"ok": true|false, "error": null|"TimeoutError"|..., "seconds": S}
"""
import json
import socket
import struct
import sys
import time


def recv_line(s):
    buf = bytearray()
    while not buf.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            raise ConnectionError("peer closed mid-line")
        buf += c
    return bytes(buf)


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed early")
        buf += chunk
    return bytes(buf)


def main(src, dst, port, timeout):
    t0 = time.monotonic()
    err = None
    try:
        with socket.create_connection((dst, port), timeout=timeout,
                                      source_address=(src, 0)) as s:
            s.sendall(struct.pack("!Q", 16) + b"0123456789abcdef")
            json.loads(recv_line(s))
            recv_exact(s, 16)
    except (OSError, ConnectionError, ValueError) as e:
        err = type(e).__name__
    print(json.dumps({"ok": err is None, "error": err, "seconds": time.monotonic() - t0}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
