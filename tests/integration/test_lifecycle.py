# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Lifecycle with real clients in network namespaces: re-attach (the program
replaced atomically, maps and flows kept) while handshakes and long
transfers run; `synguard run` killed with SIGKILL leaves protection working;
detach leaves no pins, no XDP program and no TC links, and attach works again.

  test_lifecycle.py --synguard BIN --gen BUILD/gen [unittest args]
"""
import argparse
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlab import Lab, run, wait_port  # noqa: E402

ARGS = None
DATA_PORT, ECHO_PORT = 80, 7001


class Lifecycle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(ARGS.synguard, ARGS.gen)
        cls.lab.peer("srv", "server", str(DATA_PORT))
        cls.lab.peer("srv", "echo-server", str(ECHO_PORT))
        wait_port(cls.lab, DATA_PORT)
        wait_port(cls.lab, ECHO_PORT)

    @classmethod
    def tearDownClass(cls):
        cls.lab.destroy()

    def setUp(self):
        self.lab.detach()

    def attach(self, *extra):
        self.lab.attach("--ports", f"{DATA_PORT},{ECHO_PORT}", *extra)

    def pins(self):
        d = f"/sys/fs/bpf/synguard/{self.lab.srv_if}"
        return sorted(os.listdir(d)) if os.path.isdir(d) else None

    def link_prog_ids(self):
        """Program ids behind synguard's pinned links (XDP, TC in, TC out)."""
        d = f"/sys/fs/bpf/synguard/{self.lab.srv_if}"
        return [json.loads(run(["bpftool", "-j", "link", "show", "pinned", f"{d}/{name}"]).stdout)["prog_id"]
                for name in ("link_xdp", "link_tc", "link_egress")]

    def prog_exists(self, prog_id):
        return run(["bpftool", "prog", "show", "id", str(prog_id)], check=False).returncode == 0

    def test_reattach_under_load_loses_nothing(self):
        # 100 long transfers and 1500 handshakes run while the program is
        # replaced three times with changed options.
        self.attach()
        streams = self.lab.peer("cli", "streams", Lab.SRV4, str(ECHO_PORT), "100", str(1 << 20), "6")
        conns = self.lab.peer("cli", "connect", Lab.SRV4, str(DATA_PORT), "1500", "3", "6")
        for ttl in (99, 100, 101):
            time.sleep(1.2)
            t0 = time.time()
            self.attach("--ttl", str(ttl))
            print(f"\n  re-attach (--ttl {ttl}) took {time.time() - t0:.2f} s", file=sys.stderr, end="")
        s_out, s_err = streams.communicate(timeout=120)
        c_out, c_err = conns.communicate(timeout=120)
        s, c = json.loads(s_out), json.loads(c_out)
        print(f"\n  transfers {s}, handshakes {c['ok']} ok / {c['failed']} failed", file=sys.stderr)
        self.assertEqual((s["ok"], s["failed"]), (100, 0), "a transfer broke across a re-attach")
        self.assertEqual((c["ok"], c["failed"]), (1500, 0), "a handshake was lost across a re-attach")
        st = self.lab.stats()
        oos = {k: v for k, v in st.items() if k.startswith(("drop_oos", "drop_rst")) and v}
        self.assertEqual(oos, {}, "a live flow's segment was dropped as out of state: %s" %
                         {k: v for k, v in st.items() if v})

    def test_time_wait_from_before_the_attach(self):
        # 200 client ports only: the second round of connections reuses
        # tuples the server still holds in TIME_WAIT (it closes first) from
        # before synguard was attached. attach learns those from the socket
        # table, so the reusing SYNs reach the kernel and none fails.
        self.lab.sysctl("cli", ip_local_port_range="40000 40199")
        try:
            p = self.lab.peer("cli", "connect", Lab.SRV4, str(DATA_PORT), "200", "3")
            self.assertEqual(json.loads(p.communicate(timeout=60)[0])["failed"], 0)
            kernel_tw = sum(1 for f in ("/proc/net/tcp", "/proc/net/tcp6")
                            for line in run(["ip", "netns", "exec", self.lab.srv, "cat", f]).stdout.splitlines()[1:]
                            if line.split()[3] == "06")
            self.attach()
            tw = [f for f in json.loads(self.lab.synguard_cmd("conns", self.lab.srv_if, "--json").stdout)
                  ["interfaces"][0]["flows"] if f["state"] == "TIME_WAIT" and f["origin"] == "relearned"]
            self.assertGreater(kernel_tw, 50, "the server closed too few connections first: nothing to test")
            # (A few of the earlier tests' TIME_WAIT sockets may end between
            # the two readings.)
            self.assertGreaterEqual(len(tw), kernel_tw - 5, "attach did not learn the kernel's TIME_WAIT sockets")
            p = self.lab.peer("cli", "connect", Lab.SRV4, str(DATA_PORT), "200", "3")
            r = json.loads(p.communicate(timeout=120)[0])
            st = self.lab.stats()
            print(f"\n  learned {len(tw)} TIME_WAIT; reuse round {r['ok']} ok / {r['failed']} failed; "
                  f"SYNs to the kernel {st['pass_syn_tracked']}", file=sys.stderr)
            self.assertEqual(r["failed"], 0, "a SYN reusing a TIME_WAIT tuple from before the attach failed")
            self.assertGreater(st["pass_syn_tracked"], 100)
        finally:
            self.lab.sysctl("cli", ip_local_port_range="32768 60999")

    def test_metrics_scraped_match_stats(self):
        self.attach()
        runner = self.lab.synguard_bg("run", self.lab.srv_if, "--report", "0", "--metrics", "127.0.0.1:9477")
        try:
            p = self.lab.peer("cli", "connect", Lab.SRV4, str(DATA_PORT), "20", "3")
            self.assertEqual(json.loads(p.communicate(timeout=60)[0])["failed"], 0)
            time.sleep(0.3)  # quiet: both readings see the same totals
            text = run(["ip", "netns", "exec", self.lab.srv, "curl", "-sf", "--max-time", "5",
                        "http://127.0.0.1:9477/metrics"]).stdout
            stats = json.loads(self.lab.synguard_cmd("stats", self.lab.srv_if, "--json", "--interval", "0")
                               .stdout)["interfaces"][0]
        finally:
            self.lab.stop(runner)
        scraped, flows = {}, {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, value = line.rsplit(" ", 1)
            if name.startswith("synguard_flows{"):
                flows[name.split('state="')[1].split('"')[0]] = int(value)
            elif name.endswith(f'_total{{interface="{self.lab.srv_if}"}}'):
                scraped[name[len("synguard_"):-len(f'_total{{interface="{self.lab.srv_if}"}}')]] = int(value)
        self.assertEqual(scraped, stats["counters"], "metrics differ from stats --json")
        self.assertEqual(flows, stats["flows"]["states"])
        self.assertGreaterEqual(scraped["handoff_ok"], 20)

    def test_run_reloads_config_on_sighup(self):
        conf = os.path.join(self.lab.tmpdir("conf"), "synguard.conf")
        with open(conf, "w") as f:
            f.write(f"interface = {self.lab.srv_if}\nports = {DATA_PORT}\nmetrics = off\n")
        runner = self.lab.synguard_bg("run", "--config", conf, "--report", "0")
        try:
            self.lab.wait_attached()
            before = self.lab.stats()
            p = self.lab.peer("cli", "connect", Lab.SRV4, str(ECHO_PORT), "3", "3")
            p.communicate(timeout=30)
            self.assertEqual(self.lab.stats()["synack_sent"], before["synack_sent"], "echo port not yet protected")
            with open(conf, "w") as f:
                f.write(f"interface = {self.lab.srv_if}\nports = {DATA_PORT},{ECHO_PORT}\nmetrics = off\n")
            runner.send_signal(signal.SIGHUP)
            deadline = time.time() + 5
            while time.time() < deadline:
                status = json.loads(self.lab.synguard_cmd("status", self.lab.srv_if, "--json").stdout)
                if str(ECHO_PORT) in json.dumps(status):
                    break
                time.sleep(0.1)
            before = self.lab.stats()
            p = self.lab.peer("cli", "connect", Lab.SRV4, str(ECHO_PORT), "3", "3")
            p.communicate(timeout=30)
            self.assertGreaterEqual(self.lab.stats()["synack_sent"] - before["synack_sent"], 3,
                                    "SIGHUP did not apply the new ports")
            # A broken file is refused and the configuration stays.
            with open(conf, "w") as f:
                f.write("interface = \nports = 99999\n")
            runner.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            self.assertIsNone(runner.poll(), "run died on a bad config file")
        finally:
            self.lab.stop(runner)
        self.assertIn("keeping the configuration in force", runner.stderr.read())

    def test_run_killed_with_sigkill_keeps_protection(self):
        self.attach()
        runner = self.lab.synguard_bg("run", self.lab.srv_if, "--report", "0")
        time.sleep(0.5)
        self.assertIsNone(runner.poll(), "run exited early: " + (runner.stderr.read() if runner.poll() else ""))
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
        before = self.lab.stats()
        p = self.lab.peer("cli", "connect", Lab.SRV4, str(DATA_PORT), "50", "3")
        r = json.loads(p.communicate(timeout=60)[0])
        after = self.lab.stats()
        d = {k: after[k] - before[k] for k in after}
        self.assertEqual(r["failed"], 0)
        # Every SYN is still synguard's: answered from XDP and handed off,
        # or (a client port the server still holds in TIME_WAIT from the
        # earlier tests) passed to the kernel as a tracked tuple.
        self.assertGreaterEqual(d["synack_sent"] + d["pass_syn_tracked"], 50,
                                "SYN-ACKs no longer come from XDP after run was killed")
        self.assertGreaterEqual(d["handoff_ok"] + d["pass_syn_tracked"], 50)
        self.assertGreater(d["synack_sent"], 25, "most SYNs must still be answered from XDP")

    def test_detach_leaves_nothing_and_attach_works_again(self):
        for _ in range(2):
            self.attach()
            want = {"link_xdp", "link_tc", "link_egress", "sg_config", "sg_flows", "sg_secret", "sg_stats"}
            self.assertTrue(want <= set(self.pins()), f"pins: {self.pins()}")
            ids = self.link_prog_ids()
            self.assertTrue(all(self.prog_exists(i) for i in ids))
            self.lab.detach()
            self.assertIsNone(self.pins(), "detach left pins behind")
            # The programs are gone from the kernel, not only from the pins.
            time.sleep(0.2)
            self.assertEqual([i for i in ids if self.prog_exists(i)], [], "detach left programs loaded")
            link = run(["ip", "-n", self.lab.srv, "link", "show", self.lab.srv_if]).stdout
            self.assertNotIn("xdp", link)
        # And the server still works without synguard.
        p = self.lab.peer("cli", "connect", Lab.SRV4, str(DATA_PORT), "5", "3")
        self.assertEqual(json.loads(p.communicate(timeout=30)[0])["failed"], 0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--synguard", required=True)
    ap.add_argument("--gen", required=True)
    ARGS, rest = ap.parse_known_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
