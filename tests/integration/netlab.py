# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A two-namespace lab for integration tests: a server and a client joined by
a veth pair, both with IPv4 and IPv6, unique names per run, and cleanup of
every namespace, process and synguard pin it made, also on failure.

Facts of veth it handles: frames synguard sends with XDP_TX reach the client
only if the client's veth has an XDP program too (xdp_pass), and a local
sender emits partial checksums unless tx checksum offload is off."""
import atexit
import os
import random
import shutil
import signal
import string
import subprocess
import tempfile
import time

PY = "/usr/bin/python3"  # Debian's python: where python3-scapy lives
HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, text=True, capture_output=True, **kw)


class Lab:
    SRV4, CLI4 = "10.77.0.1", "10.77.0.2"
    SRV6, CLI6 = "fd77::1", "fd77::2"

    def __init__(self, synguard, gen_dir):
        tag = "".join(random.choice(string.ascii_lowercase) for _ in range(3))
        self.id = f"sg{os.getpid() % 100000}{tag}"
        self.srv, self.cli = f"{self.id}-srv", f"{self.id}-cli"
        self.srv_if, self.cli_if = f"{self.id}s", f"{self.id}c"
        self.synguard, self.gen = synguard, gen_dir
        self.procs = []
        self.attached = False
        self.tmp = tempfile.mkdtemp(prefix=f"{self.id}-")
        atexit.register(self.destroy)
        try:
            self._create()
        except Exception:
            self.destroy()
            raise

    def _create(self):
        for ns in (self.srv, self.cli):
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "link", "add", self.srv_if, "netns", self.srv, "type", "veth",
             "peer", "name", self.cli_if, "netns", self.cli])
        for ns, dev, a4, a6 in ((self.srv, self.srv_if, self.SRV4, self.SRV6),
                                (self.cli, self.cli_if, self.CLI4, self.CLI6)):
            run(["ip", "-n", ns, "addr", "add", f"{a4}/24", "dev", dev])
            run(["ip", "-n", ns, "addr", "add", f"{a6}/64", "dev", dev, "nodad"])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
            run(["ip", "netns", "exec", ns, "ethtool", "-K", dev, "tx", "off"])
        run(["ip", "-n", self.cli, "-force", "link", "set", "dev", self.cli_if, "xdpdrv",
             "obj", os.path.join(self.gen, "xdp_pass.bpf.o"), "sec", "xdp.frags"])

    def tmpdir(self, name):
        """A directory of this lab's, removed with it."""
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        return d

    def ns(self, which):
        return self.srv if which == "srv" else self.cli

    def sysctl(self, which, **values):
        for k, v in values.items():
            run(["ip", "netns", "exec", self.ns(which), "sysctl", "-qw",
                 f"net.ipv4.{k}={v}"])

    def set_mtu(self, mtu):
        run(["ip", "-n", self.srv, "link", "set", self.srv_if, "mtu", str(mtu)])
        run(["ip", "-n", self.cli, "link", "set", self.cli_if, "mtu", str(mtu)])

    def synguard_cmd(self, *args, check=True):
        # nsenter, not `ip netns exec`: the pins under /sys/fs/bpf must be
        # the host's, shared between calls.
        return run(["nsenter", f"--net=/run/netns/{self.srv}", self.synguard, *args],
                   check=check)

    def attach(self, *args):
        self.synguard_cmd("attach", self.srv_if, *args)
        self.attached = True

    def detach(self):
        if self.attached:
            self.synguard_cmd("detach", self.srv_if, check=False)
            self.attached = False

    def wait_attached(self, timeout=15.0):
        """Until a background command (run) has attached: the XDP link is
        pinned last, after every map."""
        deadline = time.time() + timeout
        while not os.path.exists(f"/sys/fs/bpf/synguard/{self.srv_if}/link_xdp"):
            if time.time() > deadline:
                raise TimeoutError(f"synguard did not attach to {self.srv_if}")
            time.sleep(0.05)
        self.attached = True

    def stats(self):
        import json
        out = self.synguard_cmd("stats", self.srv_if, "--json", "--interval", "0").stdout
        return json.loads(out)["interfaces"][0]["counters"]

    def spawn(self, which, *cmd):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(which), *cmd],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def synguard_bg(self, *args):
        """A long-running synguard command (e.g. `run`) in the server's
        network namespace and the host's mount namespace (shared pins)."""
        p = subprocess.Popen(["nsenter", f"--net=/run/netns/{self.srv}", self.synguard, *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def peer(self, which, *args):
        """Run tests/integration/peer.py in a namespace, return its process."""
        return self.spawn(which, PY, os.path.join(HERE, "peer.py"), *args)

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def destroy(self):
        for p in self.procs:
            self.stop(p)
        self.procs = []
        self.detach()
        for ns in (self.srv, self.cli):
            run(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)


def wait_port(lab, port, timeout=5.0):
    """Until something listens on port in the server namespace."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = run(["ip", "netns", "exec", lab.srv, "ss", "-ltnH", f"sport = :{port}"]).stdout
        if out.strip():
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")
