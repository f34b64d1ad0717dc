# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The flood benchmark's server: Python's threading HTTP server with a real
listen backlog (http.server's default is 5), answering GET with a small
fixed body. It runs until SIGTERM.

  http_server.py ADDRESS PORT [BACKLOG]
"""
import http.server
import signal
import sys

BODY = b"synguard flood bench\n" * 50  # 1050 bytes


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 4096
    daemon_threads = True


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    if len(sys.argv) > 3:
        Server.request_queue_size = int(sys.argv[3])
    srv = Server((addr, port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening", flush=True)
    try:
        srv.serve_forever(poll_interval=0.5)
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
