# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Hand-off with real clients and servers in network namespaces: the server
socket negotiates the same options with synguard as without it, across a
client option and MTU matrix, in local and legacy mode; 10 MB both ways per
case; the lost third ACK; a closed port refused at once; a bounded spoofed
SYN flood while 200 real connections run.

  test_handoff.py --synguard BIN --gen BUILD/gen [unittest args]
"""
import argparse
import itertools
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlab import PY, HERE, Lab, run, wait_port  # noqa: E402

ARGS = None
MB10 = 10 * 1024 * 1024
PORT, CLOSED_PORT, GREET_PORT, HTTP_PORT = 80, 81, 25, 8080
# (family, MTU) groups of the matrix; the MTU is set on both veth ends.
GROUPS = [(1500, (4, 6)), (9000, (4, 6)), (1280, (6,))]
# Client sysctl combinations: timestamps, SACK, window scaling, ECN.
COMBOS = list(itertools.product((1, 0), repeat=4))


def combo_name(c):
    ts, sack, ws, ecn = c
    return f"ts={ts} sack={sack} ws={ws} ecn={ecn}"


class Handoff(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(ARGS.synguard, ARGS.gen)
        cls.server = cls.lab.peer("srv", "server", str(PORT))
        wait_port(cls.lab, PORT)

    @classmethod
    def tearDownClass(cls):
        cls.lab.destroy()

    def setUp(self):
        self.lab.detach()
        self.lab.sysctl("srv", tcp_syncookies=1, tcp_timestamps=1)
        self.lab.sysctl("cli", tcp_timestamps=1, tcp_sack=1, tcp_window_scaling=1, tcp_ecn=2)
        self.lab.set_mtu(1500)

    def transfer(self, family, combo, size=MB10):
        ts, sack, ws, ecn = combo
        self.lab.sysctl("cli", tcp_timestamps=ts, tcp_sack=sack, tcp_window_scaling=ws, tcp_ecn=ecn)
        addr = Lab.SRV4 if family == 4 else Lab.SRV6
        p = self.lab.peer("cli", "client", addr, str(PORT), str(size), "7")
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, f"client failed: {err.strip()}")
        self.lab.procs.remove(p)
        r = json.loads(out)
        self.assertTrue(r["upload_ok"], "server got corrupted data")
        self.assertTrue(r["download_ok"], "client got corrupted data")
        return r["server_info"]

    baseline = {}  # (mtu, family, combo) -> server socket options without synguard

    def matrix(self, attach_args, compare, srv_sysctls=None):
        """Run every case without synguard (once per class, with the
        server's default sysctls: the kernel's normal, cookie-less path),
        then with synguard and srv_sysctls. Returns the number of connections
        made with synguard and synguard's counters summed over the MTU groups
        (each detach resets them)."""
        made, totals = 0, {}
        for mtu, families in GROUPS:
            self.lab.set_mtu(mtu)
            self.lab.detach()
            self.lab.sysctl("srv", tcp_syncookies=1, tcp_timestamps=1)
            for f in families:
                for c in COMBOS:
                    if (mtu, f, c) not in self.baseline:
                        self.baseline[(mtu, f, c)] = self.transfer(f, c)
            self.lab.sysctl("srv", **(srv_sysctls or {}))
            self.lab.attach("--ports", f"{PORT},{CLOSED_PORT}", *attach_args)
            for f in families:
                for c in COMBOS:
                    with self.subTest(mtu=mtu, family=f, combo=combo_name(c)):
                        got = self.transfer(f, c)
                        made += 1
                        compare(c, self.baseline[(mtu, f, c)], got)
            for k, v in self.lab.stats().items():
                totals[k] = totals.get(k, 0) + v
        return made, totals

    def test_local_option_matrix(self):
        def same(combo, base, got):
            self.assertEqual(got, base, "server socket options differ from the run without synguard")

        made, s = self.matrix(["--handoff", "local"], same)
        # A connection that reuses a tuple the server still has in TIME_WAIT
        # (from the runs without synguard; attach learns those) is the
        # kernel's to open: SYN passed, no cookie.
        self.assertGreaterEqual(s["handoff_ok"] + s["pass_syn_tracked"], made)
        self.assertGreater(s["handoff_ok"], made // 2)
        self.assertEqual(s["handoff_einval"] + s["handoff_enomem"] + s["handoff_eother"], 0)
        self.assertEqual(s["cookie_invalid"], 0)

    def test_legacy_option_matrix(self):
        # Legacy hand-off: the kernel's own cookies. They keep window scaling,
        # SACK and ECN only in timestamps, and only without per-host TS
        # offsets (tcp_timestamps=2); their MSS table is the kernel's.
        def same_options(combo, base, got):
            if combo[0]:  # client timestamps on: options survive exactly
                for k in ("options", "snd_wscale", "rcv_wscale"):
                    self.assertEqual(got[k], base[k], f"{k} differs in legacy mode")
            else:  # no timestamps: kernel cookies keep only the MSS
                self.assertEqual(got["options"], 0)

        made, s = self.matrix(["--handoff", "legacy"], same_options,
                              dict(tcp_syncookies=2, tcp_timestamps=2))
        # (Tuples the server still has in TIME_WAIT go to the kernel, as in local mode.)
        self.assertGreaterEqual(s["cookie_valid"] + s["pass_syn_tracked"], made)
        self.assertEqual(s["handoff_ok"], 0, "legacy mode must not use the TC hand-off")
        self.assertEqual(s["cookie_invalid"], 0)

    def test_lost_third_ack(self):
        self.lab.attach("--ports", f"{PORT},{GREET_PORT}")
        obj = os.path.join(ARGS.gen, "drop_handshake_ack.bpf.o")
        cli = ["ip", "netns", "exec", self.lab.cli]
        run(cli + ["tc", "qdisc", "add", "dev", self.lab.cli_if, "clsact"])
        try:
            run(cli + ["tc", "filter", "add", "dev", self.lab.cli_if, "egress", "bpf", "da",
                       "obj", obj, "sec", "tc"])
            # Client speaks first: its first data segment completes the handshake.
            for family in (4, 6):
                self.transfer(family, (1, 1, 1, 0), size=100000)
            # Server speaks first: nothing arrives while the client is silent
            # (the server never saw the handshake), all of it once it speaks.
            greet = self.lab.peer("srv", "greet-server", str(GREET_PORT))
            wait_port(self.lab, GREET_PORT)
            p = self.lab.peer("cli", "greet-client", Lab.SRV4, str(GREET_PORT), "0.5")
            out, err = p.communicate(timeout=20)
            self.lab.stop(greet)
            self.assertEqual(p.returncode, 0, err)
            r = json.loads(out)
            self.assertEqual(r["before_data"], "", "server spoke before the handshake completed?")
            self.assertIn("HELLO", r["after_data"])
            self.assertIn("ECHO hi there", r["after_data"])
            self.assertGreaterEqual(dropped_acks(self.lab), 3, "the test program dropped no ACK")
        finally:
            run(cli + ["tc", "qdisc", "del", "dev", self.lab.cli_if, "clsact"], check=False)

    def test_curl_against_http_server(self):
        # A real HTTP server (python3 -m http.server) and curl, in both
        # hand-off modes, IPv4 and IPv6; the body is checked byte for byte.
        body = os.urandom(3 * 1024 * 1024)
        www = self.lab.tmpdir("www")
        with open(os.path.join(www, "blob"), "wb") as f:
            f.write(body)
        http = self.lab.spawn("srv", PY, "-m", "http.server", str(HTTP_PORT), "--bind", "::",
                              "--directory", www)
        wait_port(self.lab, HTTP_PORT)
        out = os.path.join(self.lab.tmpdir("curl"), "blob")
        for mode, sysctls in (("local", dict(tcp_syncookies=1)), ("legacy", dict(tcp_syncookies=2))):
            self.lab.detach()
            self.lab.sysctl("srv", **sysctls)
            self.lab.attach("--ports", str(HTTP_PORT), "--handoff", mode)
            for host in (Lab.SRV4, f"[{Lab.SRV6}]"):
                with self.subTest(mode=mode, host=host):
                    r = run(["ip", "netns", "exec", self.lab.cli, "curl", "-sS", "--max-time", "10",
                             "-o", out, "-w", "%{http_code}", f"http://{host}:{HTTP_PORT}/blob"],
                            check=False)
                    self.assertEqual(r.stdout, "200", r.stderr)
                    with open(out, "rb") as f:
                        self.assertEqual(f.read(), body, "body differs")
            self.assertGreaterEqual(self.lab.stats()["cookie_valid"], 2)
        self.lab.stop(http)

    def test_attach_checks_syncookie_sysctls(self):
        self.lab.sysctl("srv", tcp_syncookies=0)
        r = self.lab.synguard_cmd("attach", self.lab.srv_if, "--ports", str(PORT), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("tcp_syncookies", r.stderr)
        self.lab.sysctl("srv", tcp_syncookies=1)
        r = self.lab.synguard_cmd("attach", self.lab.srv_if, "--ports", str(PORT), "--handoff", "legacy",
                                  check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("tcp_syncookies=2", r.stderr)
        self.assertFalse(os.path.exists(f"/sys/fs/bpf/synguard/{self.lab.srv_if}"), "a failed attach left pins")

    def test_closed_port_refused(self):
        self.lab.attach("--ports", f"{PORT},{CLOSED_PORT}")
        for addr in (Lab.SRV4, Lab.SRV6):
            p = self.lab.peer("cli", "refused", addr, str(CLOSED_PORT))
            out, _ = p.communicate(timeout=10)
            r = json.loads(out)
            self.assertEqual(r["error"], "ConnectionRefusedError", addr)
            self.assertLess(r["seconds"], 0.1, f"refusal took {r['seconds']:.3f} s")
        self.assertGreaterEqual(self.lab.stats()["pass_no_listener"], 2)

    def test_flood_with_real_clients(self):
        self.lab.attach("--ports", str(PORT))
        before = self.lab.stats()
        mac = json.loads(run(["ip", "-j", "-n", self.lab.srv, "link", "show", self.lab.srv_if])
                         .stdout)[0]["address"]
        flood = self.lab.spawn("cli", PY, os.path.join(HERE, "flood.py"), self.lab.cli_if, mac,
                               Lab.SRV4, str(PORT), "3000000", "30")
        self.assertEqual(flood.stdout.readline().strip(), "ready", "flood did not start")
        time.sleep(0.3)  # let the flood get going
        p = self.lab.peer("cli", "connect", Lab.SRV4, str(PORT), "200", "3")
        out, err = p.communicate(timeout=120)
        self.lab.stop(flood)
        fout = flood.stdout.read()
        r = json.loads(out)
        s = self.lab.stats()
        syn_acks = s["synack_sent"] - before["synack_sent"]
        print(f"\n  flood: {fout.strip() or 'stopped'}; SYN-ACKs {syn_acks}; "
              f"real clients {r['ok']}/200 ok, p50 {r['p50']}, p99 {r['p99']}", file=sys.stderr)
        self.assertGreater(syn_acks, 10000, "the flood did not reach synguard")
        self.assertGreaterEqual(r["ok"] / 200, 0.999, f"{r['failed']} of 200 connections failed")


def dropped_acks(lab):
    """The `dropped` counter of drop_handshake_ack on the client's egress."""
    out = run(["ip", "netns", "exec", lab.cli, "tc", "-j", "filter", "show", "dev", lab.cli_if,
               "egress"]).stdout
    prog_id = next(f["options"]["prog"]["id"] for f in json.loads(out)
                   if "options" in f and "prog" in f["options"])
    info = json.loads(run(["bpftool", "-j", "prog", "show", "id", str(prog_id)]).stdout)
    for map_id in info.get("map_ids", []):
        m = json.loads(run(["bpftool", "-j", "map", "show", "id", str(map_id)]).stdout)
        if m["name"].endswith(".bss"):
            dump = json.loads(run(["bpftool", "-j", "map", "dump", "id", str(map_id)]).stdout)
            # The raw value: `dropped` is the only variable in .bss.
            return int.from_bytes(bytes(int(b, 16) for b in dump[0]["value"][:8]), "little")
    raise AssertionError("no .bss map on the drop program")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--synguard", required=True)
    ap.add_argument("--gen", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
