# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The flow table with real clients and servers in network namespaces:
closes from either side and both, as `synguard conns` shows them; TIME_WAIT
expiring after 2*MSL (short MSL); ACK and RST floods against a live
connection; a full table (small max_entries) with live flows; key rotation by
`synguard run` while handshakes are in flight.

  test_flows_netns.py --synguard BIN --gen BUILD/gen [unittest args]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlab import PY, HERE, Lab, run, wait_port  # noqa: E402

ARGS = None
CLOSE_PORT, ECHO_PORT, DATA_PORT = 7000, 7001, 80


class FlowsNetns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(ARGS.synguard, ARGS.gen)
        cls.lab.peer("srv", "close-server", str(CLOSE_PORT))
        cls.lab.peer("srv", "echo-server", str(ECHO_PORT))
        cls.lab.peer("srv", "server", str(DATA_PORT))
        for p in (CLOSE_PORT, ECHO_PORT, DATA_PORT):
            wait_port(cls.lab, p)

    @classmethod
    def tearDownClass(cls):
        cls.lab.destroy()

    def setUp(self):
        self.lab.detach()

    def attach(self, *extra):
        self.lab.attach("--ports", f"{CLOSE_PORT},{ECHO_PORT},{DATA_PORT}", *extra)

    def conns(self):
        out = self.lab.synguard_cmd("conns", self.lab.srv_if, "--json").stdout
        return json.loads(out)["interfaces"][0]

    def flow_of(self, client_port):
        for f in self.conns()["flows"]:
            if f["client_port"] == client_port and f["server_port"] == CLOSE_PORT:
                return f
        return None

    def close(self, who, family=4):
        addr = Lab.SRV4 if family == 4 else Lab.SRV6
        p = self.lab.peer("cli", "close-client", addr, str(CLOSE_PORT), who)
        out, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        return json.loads(out)["local_port"]

    def wait_state(self, port, states, timeout=3.0):
        deadline, f = time.time() + timeout, None
        while time.time() < deadline:
            f = self.flow_of(port)
            if f and f["state"] in states:
                return f
            time.sleep(0.05)
        self.fail(f"flow of client port {port}: {f} never reached {states}")

    def test_close_from_either_side_and_both(self):
        self.attach("--msl", "1")
        for family in (4, 6):
            with self.subTest(family=family, who="client"):
                # Client first: the server goes CLOSE_WAIT, LAST_ACK, CLOSED.
                f = self.wait_state(self.close("client", family), {"CLOSED"})
                self.assertEqual(f["origin"], "cookie")
            with self.subTest(family=family, who="server"):
                # Server first: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT here.
                self.wait_state(self.close("server", family), {"TIME_WAIT"})
            with self.subTest(family=family, who="both"):
                # Both close at once: whichever FIN goes first, the server
                # ends in TIME_WAIT (it sent its FIN before acking the
                # client's) or CLOSED (after acking it).
                self.wait_state(self.close("both", family), {"TIME_WAIT", "CLOSED"})
        s = self.lab.stats()
        self.assertGreaterEqual(s["flow_created"], 6)
        self.assertGreaterEqual(s["state_changes"], 12)

    def test_time_wait_expires_after_2msl(self):
        # MSL 1 s: TIME_WAIT lasts 2 s; `run` sweeps each second.
        self.attach("--msl", "1")
        runner = self.lab.synguard_bg("run", self.lab.srv_if, "--sweep", "1", "--report", "0")
        try:
            port = self.close("server")
            t0 = time.time()
            self.wait_state(port, {"TIME_WAIT"})
            while self.flow_of(port) and time.time() - t0 < 6:
                time.sleep(0.1)
            gone = time.time() - t0
            self.assertIsNone(self.flow_of(port), "TIME_WAIT outlived 2*MSL + a sweep")
            self.assertGreater(gone, 1.5, "TIME_WAIT ended before 2*MSL")
            print(f"\n  TIME_WAIT gone after {gone:.1f} s (2*MSL = 2 s, sweep 1 s)", file=sys.stderr)
        finally:
            self.lab.stop(runner)
        self.assertEqual(runner.returncode, 0, "run did not exit cleanly on SIGTERM")
        self.assertTrue(os.path.exists(f"/sys/fs/bpf/synguard/{self.lab.srv_if}"),
                        "run without --detach-on-exit must leave protection attached")

    def srv_mac(self):
        return json.loads(run(["ip", "-j", "-n", self.lab.srv, "link", "show", self.lab.srv_if]).stdout)[0]["address"]

    def flood(self, kind, seconds, *extra):
        """Start a bounded flood at ECHO_PORT; returns once it is sending."""
        f = self.lab.spawn("cli", PY, os.path.join(HERE, "flood.py"), self.lab.cli_if, self.srv_mac(), Lab.SRV4,
                           str(ECHO_PORT), "2000000", str(seconds), "--kind", kind, *extra)
        self.assertEqual(f.stdout.readline().strip(), "ready", "flood did not start")
        return f

    def test_ack_and_rst_floods_against_a_live_connection(self):
        self.attach()
        # Spoofed ACKs from random sources while a 10 MB echo runs.
        before = self.lab.stats()
        flood = self.flood("ack", 8)
        stream = self.lab.peer("cli", "stream", Lab.SRV4, str(ECHO_PORT), "3")
        stream.stdout.readline()  # connected
        out, _ = stream.communicate(timeout=60)
        self.lab.stop(flood)
        sent = flood.stdout.read().strip()
        s = self.lab.stats()
        acks = s["drop_oos_ack"] - before["drop_oos_ack"]
        print(f"\n  ACK flood: {sent}; dropped out of state: {acks}", file=sys.stderr)
        self.assertTrue(json.loads(out)["ok"], "the transfer broke under an ACK flood")
        self.assertGreater(acks, 10000, "spoofed ACKs were not dropped in XDP")
        # Blind RSTs aimed at a live connection's own 4-tuple.
        stream = self.lab.peer("cli", "stream", Lab.SRV4, str(ECHO_PORT), "6")
        port = json.loads(stream.stdout.readline())["port"]
        before = self.lab.stats()
        flood = self.flood("rst", 4, "--src", Lab.CLI4, "--sport", str(port), "--frames", "512")
        out, _ = stream.communicate(timeout=60)
        self.lab.stop(flood)
        sent = flood.stdout.read().strip()
        s = self.lab.stats()
        rsts = s["drop_rst_window"] - before["drop_rst_window"]
        print(f"  RST flood on port {port}: {sent}; blind RSTs dropped: {rsts}", file=sys.stderr)
        self.assertTrue(json.loads(out)["ok"], "a blind RST flood broke the live connection")
        self.assertGreater(rsts, 10000, "blind RSTs were not dropped by the window check")

    def test_floods_do_not_grow_the_table(self):
        # State exhaustion: spoofed SYNs and forged ACKs from random sources
        # never make an entry (only a valid cookie or a kernel socket does).
        self.attach()
        n0 = len(self.conns()["flows"])
        for kind, seconds in (("syn", 3), ("ack", 3)):
            flood = self.flood(kind, seconds)
            flood.wait(timeout=seconds + 30)
            print(f"\n  {kind} flood: {flood.stdout.read().strip()}", file=sys.stderr, end="")
        n1 = len(self.conns()["flows"])
        s = self.lab.stats()
        print(f"; table {n0} -> {n1} entries; synack_sent {s['synack_sent']}, drop_oos_ack {s['drop_oos_ack']}",
              file=sys.stderr)
        self.assertGreater(s["synack_sent"], 10000)
        self.assertGreater(s["drop_oos_ack"], 10000)
        self.assertEqual(n1, n0, "a flood made flow entries")
        self.assertEqual(s["flow_created"] + s["flow_relearned"], 0)

    def test_full_table_keeps_live_flows(self):
        # 1024 entries (the smallest allowed) and 1300 live connections: the
        # least recently used are evicted and re-learned when they speak.
        self.attach("--flow-table-size", "1024")
        p = self.lab.peer("cli", "many", Lab.SRV4, str(ECHO_PORT), "1300", "2", "0.2")
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 0, err)
        r = json.loads(out)
        s = self.lab.stats()
        print(f"\n  full table: {r}; relearned {s['flow_relearned']}, created {s['flow_created']}",
              file=sys.stderr)
        self.assertEqual((r["opened"], r["failed"]), (1300, 0))
        self.assertEqual(r["ok"], 2600)
        self.assertGreater(s["flow_relearned"], 0, "the table never overflowed: the test proves nothing")
        self.assertLessEqual(self.conns()["max"], 1024)

    def test_rotation_during_handshakes(self):
        # 268 ms epochs, a new key every second, HANDSHAKES handshakes (2000
        # in CI; SG_HANDSHAKES=10000 for the long variant) over 2 ms each.
        n = int(os.environ.get("SG_HANDSHAKES", "2000"))
        self.attach("--epoch-shift", "28")
        runner = self.lab.synguard_bg("run", self.lab.srv_if, "--rotate", "1", "--report", "1")
        try:
            p = self.lab.peer("cli", "connect", Lab.SRV4, str(DATA_PORT), str(n), "3", str(n / 500))
            out, err = p.communicate(timeout=120)
        finally:
            self.lab.stop(runner)
        r = json.loads(out)
        log = runner.stdout.read()
        rotations = log.count("key rotated")
        s = self.lab.stats()
        print(f"\n  rotation: {r['ok']} ok, {r['failed']} failed, {rotations} reports with a rotation, "
              f"cookie_invalid {s['cookie_invalid']}", file=sys.stderr)
        self.assertGreaterEqual(rotations, 2, "run did not rotate the key: " + log[-300:])
        self.assertEqual((r["ok"], r["failed"]), (n, 0), "handshakes were lost across key rotations: %s" %
                         {k: v for k, v in s.items() if v})
        self.assertEqual(s["cookie_invalid"], 0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--synguard", required=True)
    ap.add_argument("--gen", required=True)
    ARGS, rest = ap.parse_known_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
