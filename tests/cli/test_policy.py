# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Policy and runtime configuration with real clients in network namespaces
(tests/integration/netlab.py): every assertion checks what the data path did
(synguard's counters, and whether the client got through).

  test_policy.py --synguard BIN --gen BUILD/gen [unittest args]

- config --ports at runtime: a port not protected before is answered from
  XDP afterwards, without a new program (same program id);
- --ports auto picks up a listener, config --ports auto follows a new one and
  leaves loopback-only listeners out;
- --deny drops a client's SYNs (drop_denied) while another client connects
  through cookies; config --del-deny lets it in again;
- --allow lets a trusted client past the cookies (pass_allowed, no SYN-ACK
  from XDP) while others still get cookies;
- --prefix protects only the listed destinations (IPv4 vs IPv6 of one host),
  and config --prefix moves the protection;
- --xdp-mode generic works on veth and is reported by attach and status;
- two attachments sharing a --secret-file accept each other's cookies
  (BPF_PROG_TEST_RUN through the attached programs), a third with its own
  random key does not.
"""
import argparse
import json
import os
import stat
import subprocess
import sys
import time
import unittest
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from netlab import PY, Lab, run, wait_port  # noqa: E402

ARGS = None
PORT, ALT_PORT = 80, 8080
CLI_DENIED, CLI_ALLOWED = "10.77.0.3", "10.77.0.4"


class Policy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(ARGS.synguard, ARGS.gen)
        for a in (CLI_DENIED, CLI_ALLOWED):
            run(["ip", "-n", cls.lab.cli, "addr", "add", f"{a}/24", "dev", cls.lab.cli_if])
        cls.lab.sysctl("srv", tcp_syncookies=1)
        for p in (PORT, ALT_PORT):
            cls.lab.peer("srv", "server", str(p))
            wait_port(cls.lab, p)

    @classmethod
    def tearDownClass(cls):
        cls.lab.destroy()

    def setUp(self):
        self.lab.detach()

    # ---- helpers ----

    def sg(self, *args, ok=True):
        r = self.lab.synguard_cmd(*args, check=False)
        if ok:
            self.assertEqual(r.returncode, 0, f"synguard {' '.join(args)}: {r.stderr.strip()}")
        return r

    def attach(self, *args):
        r = self.sg("attach", self.lab.srv_if, *args)
        self.lab.attached = True
        return r

    def counters(self, ifname=None):
        out = self.sg("stats", ifname or self.lab.srv_if, "--json", "--interval", "0").stdout
        return json.loads(out)["interfaces"][0]["counters"]

    def status(self, ifname=None):
        out = self.sg("status", ifname or self.lab.srv_if, "--json").stdout
        return json.loads(out)["interfaces"][0]

    def connect(self, dst, port, src=Lab.CLI4, timeout=5.0):
        """One client exchange; returns (ok, counter deltas)."""
        before = self.counters()
        p = self.lab.spawn("cli", PY, os.path.join(HERE, "netclient.py"), src, dst, str(port),
                           str(timeout))
        out, err = p.communicate(timeout=timeout + 10)
        self.lab.procs.remove(p)
        self.assertEqual(p.returncode, 0, err)
        after = self.counters()
        return json.loads(out)["ok"], {k: after[k] - before[k] for k in after}

    def assert_via_cookie(self, dst, port, src=Lab.CLI4):
        ok, d = self.connect(dst, port, src)
        self.assertTrue(ok, f"{src} -> {dst}:{port} failed")
        self.assertGreaterEqual(d["synack_sent"], 1, f"no SYN-ACK from XDP: {d}")
        self.assertGreaterEqual(d["cookie_valid"], 1, d)
        return d

    def assert_not_via_cookie(self, dst, port, src=Lab.CLI4):
        ok, d = self.connect(dst, port, src)
        self.assertTrue(ok, f"{src} -> {dst}:{port} failed")
        self.assertEqual(d["synack_sent"], 0, f"XDP answered a SYN it should not own: {d}")
        return d

    # ---- tests ----

    def test_config_ports_at_runtime(self):
        self.attach("--ports", str(PORT))
        prog = self.status()["xdp_prog_id"]
        d = self.assert_not_via_cookie(Lab.SRV4, ALT_PORT)
        self.assertGreaterEqual(d["pass_not_protected"], 1, d)
        r = self.sg("config", self.lab.srv_if, "--ports", f"{PORT},{ALT_PORT}")
        self.assertIn(f"{PORT},{ALT_PORT}", r.stdout)
        st = self.status()
        self.assertEqual(st["ports"], f"{PORT},{ALT_PORT}")
        self.assertEqual(st["xdp_prog_id"], prog, "config must not reload the program")
        self.assert_via_cookie(Lab.SRV4, ALT_PORT)
        self.assert_via_cookie(Lab.SRV6, ALT_PORT, src=Lab.CLI6)

    def test_ports_auto_follows_listeners(self):
        p1 = self.lab.peer("srv", "server", "9090")
        wait_port(self.lab, 9090)
        lo = self.lab.spawn("srv", PY, "-c", "import socket,time\n"
                            "s=socket.socket(); s.bind(('127.0.0.1', 9191)); s.listen()\n"
                            "time.sleep(60)")
        wait_port(self.lab, 9191)
        r = self.attach("--ports", "auto")
        self.assertIn("auto", r.stdout)
        ports = self.status()["ports"].split(",")
        for p in (str(PORT), str(ALT_PORT), "9090"):
            self.assertIn(p, ports, f"--ports auto missed the listener on {p}")
        self.assertNotIn("9191", ports, "a loopback-only listener must not be protected")
        self.assert_via_cookie(Lab.SRV4, 9090)

        # The listener moves: config --ports auto follows it.
        self.lab.stop(p1)
        p2 = self.lab.peer("srv", "server", "9292")
        wait_port(self.lab, 9292)
        self.sg("config", self.lab.srv_if, "--ports", "auto")
        ports = self.status()["ports"].split(",")
        self.assertIn("9292", ports)
        self.assertNotIn("9090", ports)
        self.assert_via_cookie(Lab.SRV4, 9292)
        self.lab.stop(p2)
        self.lab.stop(lo)

    def test_deny_list(self):
        self.attach("--ports", str(PORT), "--deny", f"{CLI_DENIED}/32")
        self.assertEqual(self.status()["deny"], [f"{CLI_DENIED}/32"])
        ok, d = self.connect(Lab.SRV4, PORT, src=CLI_DENIED, timeout=2)
        self.assertFalse(ok, "a denied client got through")
        self.assertGreaterEqual(d["drop_denied"], 1, d)
        self.assertEqual(d["synack_sent"], 0, d)
        self.assert_via_cookie(Lab.SRV4, PORT)  # another client still connects
        # Unprotected ports stay reachable for denied sources.
        ok, d = self.connect(Lab.SRV4, ALT_PORT, src=CLI_DENIED)
        self.assertTrue(ok)
        self.assertEqual(d["drop_denied"], 0, d)
        # Lifted at runtime.
        self.sg("config", self.lab.srv_if, "--del-deny", CLI_DENIED)
        self.assertEqual(self.status()["deny"], [])
        self.assert_via_cookie(Lab.SRV4, PORT, src=CLI_DENIED)

    def test_allow_list(self):
        self.attach("--ports", str(PORT), "--allow", f"{CLI_ALLOWED}/32")
        d = self.assert_not_via_cookie(Lab.SRV4, PORT, src=CLI_ALLOWED)
        self.assertGreaterEqual(d["pass_allowed"], 1, d)
        self.assert_via_cookie(Lab.SRV4, PORT)
        # Deny wins over allow.
        self.sg("config", self.lab.srv_if, "--add-deny", "10.77.0.0/24")
        ok, d = self.connect(Lab.SRV4, PORT, src=CLI_ALLOWED, timeout=2)
        self.assertFalse(ok)
        self.assertGreaterEqual(d["drop_denied"], 1, d)
        self.sg("config", self.lab.srv_if, "--deny", "none", "--allow", "none")
        st = self.status()
        self.assertEqual((st["allow"], st["deny"], st["config"]["policy_flags"]), ([], [], 0))
        self.assert_via_cookie(Lab.SRV4, PORT, src=CLI_ALLOWED)

    def test_prefix(self):
        self.attach("--ports", str(PORT), "--prefix", f"{Lab.SRV4}/32")
        self.assert_via_cookie(Lab.SRV4, PORT)
        d = self.assert_not_via_cookie(Lab.SRV6, PORT, src=Lab.CLI6)
        self.assertGreaterEqual(d["pass_not_protected"], 1, d)
        self.sg("config", self.lab.srv_if, "--prefix", "fd77::/64")
        self.assertEqual(self.status()["prefixes"], ["fd77::/64"])
        self.assert_via_cookie(Lab.SRV6, PORT, src=Lab.CLI6)
        self.assert_not_via_cookie(Lab.SRV4, PORT)
        self.sg("config", self.lab.srv_if, "--prefix", "none")
        self.assert_via_cookie(Lab.SRV4, PORT)

    def test_xdp_mode_generic(self):
        r = self.attach("--ports", str(PORT), "--xdp-mode", "generic")
        self.assertIn("XDP generic", r.stdout)
        self.assertEqual(self.status()["xdp_mode"], "generic")
        link = run(["ip", "-n", self.lab.srv, "link", "show", self.lab.srv_if]).stdout
        self.assertIn("xdpgeneric", link)
        ok, d = self.connect(Lab.SRV4, PORT)
        self.assertGreaterEqual(d["synack_sent"], 1, f"no SYN-ACK from generic XDP: {d}")
        self.assertFalse(d["cookie_valid"] and not d["handoff_ok"] and not ok,
                         "generic XDP: valid cookie, but the TC hand-off saw no XDP metadata (a "
                         "program loaded with BPF_F_XDP_HAS_FRAGS passes none in generic mode): "
                         f"the loader must load a non-frags program for generic mode. {d}")
        self.assertTrue(ok, f"client failed through generic XDP: {d}")
        # The mode cannot change in place.
        r = self.sg("attach", self.lab.srv_if, "--ports", str(PORT), "--xdp-mode", "native", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("detach", r.stderr)
        self.lab.detach()
        r = self.attach("--ports", str(PORT), "--xdp-mode", "auto")
        self.assertIn("auto chose native", r.stdout)
        self.assertEqual(self.status()["xdp_mode"], "native")

    def test_shared_secret(self):
        from scapy.all import IP, TCP, Ether  # noqa: E402 (slow import: only here)

        secret = os.path.join(self.lab.tmpdir("secret"), "key")
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, os.urandom(16))
        os.close(fd)
        self.assertEqual(stat.S_IMODE(os.stat(secret).st_mode), 0o600)
        # Two more interfaces in the server namespace: B shares A's secret, C not.
        b, c = f"{self.lab.id}B", f"{self.lab.id}C"
        for name in (b, c):
            run(["ip", "-n", self.lab.srv, "link", "add", name, "type", "veth", "peer", "name", name + "p"])
            run(["ip", "-n", self.lab.srv, "link", "set", name, "up"])
            self.addCleanup(self.lab.synguard_cmd, "detach", name, check=False)
        self.attach("--ports", str(PORT), "--secret-file", secret)
        self.sg("attach", b, "--ports", str(PORT), "--secret-file", secret, "--xdp-mode", "generic")
        self.sg("attach", c, "--ports", str(PORT), "--xdp-mode", "generic")
        prog = {n: self.status(n)["xdp_prog_id"] for n in (self.lab.srv_if, b, c)}

        def test_run(ifname, frame):
            d = self.lab.tmpdir("frames")
            fin, fout = os.path.join(d, "in"), os.path.join(d, "out")
            with open(fin, "wb") as f:
                f.write(bytes(frame))
            # In the server namespace: the SYN path looks up the listener there.
            r = run(["nsenter", f"--net=/run/netns/{self.lab.srv}", "bpftool", "prog", "run", "id",
                     str(prog[ifname]), "data_in", fin, "data_out", fout, "data_size_out", "4096"])
            verdict = int(r.stdout.split("Return value:")[1].split(",")[0])
            with open(fout, "rb") as f:
                return verdict, f.read()

        eth = Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
        syn = eth / IP(src=Lab.CLI4, dst=Lab.SRV4) / TCP(sport=40123, dport=PORT, flags="S", seq=1000,
                                                      options=[("MSS", 1460)])
        verdict, out = test_run(self.lab.srv_if, syn)
        self.assertEqual(verdict, 3, "SYN not answered with XDP_TX on A")
        synack = Ether(out)
        self.assertEqual(synack[TCP].flags, "SA")
        cookie = synack[TCP].seq
        ack = eth / IP(src=Lab.CLI4, dst=Lab.SRV4) / TCP(sport=40123, dport=PORT, flags="A", seq=1001,
                                                      ack=(cookie + 1) & 0xffffffff)
        before = {n: self.counters(n) for n in (b, c)}
        self.assertEqual(test_run(self.lab.srv_if, ack)[0], 2, "A rejects its own cookie")
        self.assertEqual(test_run(b, ack)[0], 2, "B (same secret file) rejects A's cookie")
        self.assertEqual(test_run(c, ack)[0], 1, "C (own random key) accepts A's cookie")
        after = {n: self.counters(n) for n in (b, c)}
        self.assertEqual(after[b]["cookie_valid"] - before[b]["cookie_valid"], 1)
        self.assertEqual(after[c]["cookie_valid"] - before[c]["cookie_valid"], 0)
        # And B's own cookies are accepted by A (another client port: the
        # first handshake left a flow entry on B for port 40123).
        syn[TCP].sport = ack[TCP].sport = 40124
        verdict, out = test_run(b, syn)
        self.assertEqual(verdict, 3)
        ack[TCP].ack = (Ether(out)[TCP].seq + 1) & 0xffffffff
        self.assertEqual(test_run(self.lab.srv_if, ack)[0], 2, "A rejects B's cookie")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--synguard", required=True)
    ap.add_argument("--gen", required=True)
    ARGS, rest = ap.parse_known_args()
    warnings.simplefilter("ignore", ResourceWarning)  # netlab's process pipes
    if os.geteuid() != 0:
        sys.exit("test_policy.py: must run as root (network namespaces, XDP)")
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
