"""Two-host topologies without a lab, for baselines: a plain OVS bridge, and a Linux bridge.

Both put two network namespaces (`a` 198.18.250.1, `b` 198.18.250.2, /24, no route) on one
switch over veth pairs, as Mininet does for a lab:

- `ovs`: an Open vSwitch bridge with no controller (fail_mode standalone: NORMAL switching),
  on the same datapath a lab uses (userspace `netdev` where the kernel module is missing);
  its veth ends live in the root namespace, as a lab's do. `ports=N` gives it as many ports
  as a lab of N hosts (the extra ones up and idle): the userspace datapath polls every port,
  so the port count is part of the topology.
- `linux`: a Linux bridge (`ip link add type bridge`) inside a third namespace of its own:
  nothing is added to the root namespace at all.

Nothing touches the machine's own interfaces. Names start with `blb<pid>`, so leftovers of a
killed benchmark are recognised (its pid is gone) and removed by the next one.
"""
from __future__ import annotations

import os
import re
import subprocess

from lab.run.network import disable_ipv6, kernel_datapath
from lab.run.procs import alive

A_IP, B_IP, PREFIX = "198.18.250.1", "198.18.250.2", 24


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip() or r.stdout.strip()}")
    return r


def clean_stale() -> list[str]:
    """Remove namespaces, bridges and links of benchmarks whose process is gone."""
    removed = []
    pat = re.compile(r"^blb(\d+)[a-z0-9]*$")
    for line in _run("ip", "netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        m = pat.match(name)
        if m and not alive(int(m.group(1))):
            _run("ip", "netns", "del", name, check=False)
            removed.append(name)
    for br in _run("ovs-vsctl", "list-br", check=False).stdout.split():
        m = pat.match(br)
        if m and not alive(int(m.group(1))):
            _run("ovs-vsctl", "--if-exists", "del-br", br, check=False)
            removed.append(br)
    for line in _run("ip", "-o", "link", "show", check=False).stdout.splitlines():
        name = line.split(":", 2)[1].strip().split("@")[0]
        m = pat.match(name)
        if m and not alive(int(m.group(1))):
            _run("ip", "link", "del", name, check=False)
            removed.append(name)
    return removed


class Pair:
    """Two namespaces on one bridge (`kind`: "ovs" or "linux"); a context manager."""

    def __init__(self, kind: str, ports: int = 2) -> None:
        if kind not in ("ovs", "linux"):
            raise ValueError(kind)
        self.kind = kind
        self.extra = max(0, ports - 2) if kind == "ovs" else 0
        tag = f"blb{os.getpid()}{kind[0]}"
        self.tag = tag
        self.ns = {"a": f"{tag}a", "b": f"{tag}b"}
        self.bridge_ns = f"{tag}x" if kind == "linux" else None
        self.bridge = f"{tag}br"
        self.datapath = "kernel" if kernel_datapath() else "user"
        self.ip = {"a": A_IP, "b": B_IP}

    def __enter__(self) -> "Pair":
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def up(self) -> None:
        for ns in [*self.ns.values(), *([self.bridge_ns] if self.bridge_ns else [])]:
            _run("ip", "netns", "add", ns)
            _run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            _run("ip", "netns", "exec", ns, "sysctl", "-qw",
                 "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        if self.kind == "ovs":
            opts = ["--", "set", "bridge", self.bridge, "fail_mode=standalone",
                    "other-config:disable-in-band=true"]
            if self.datapath == "user":
                opts.append("datapath_type=netdev")
            _run("ovs-vsctl", "add-br", self.bridge, *opts)
        else:
            self._br("ip", "link", "add", "br0", "type", "bridge")
            self._br("ip", "link", "set", "br0", "up")
        for side, ns in self.ns.items():
            host_end, switch_end = f"{self.tag}{side}0", f"{self.tag}{side}1"
            _run("ip", "link", "add", host_end, "type", "veth", "peer", "name", switch_end)
            _run("ip", "link", "set", host_end, "netns", ns)
            self.exec(side, "ip", "link", "set", host_end, "name", "eth0")
            self.exec(side, "ip", "addr", "add", f"{self.ip[side]}/{PREFIX}", "dev", "eth0")
            self.exec(side, "ip", "link", "set", "eth0", "up")
            if self.kind == "ovs":
                disable_ipv6(switch_end)
                _run("ip", "link", "set", switch_end, "up")
                _run("ovs-vsctl", "add-port", self.bridge, switch_end)
            else:
                _run("ip", "link", "set", switch_end, "netns", self.bridge_ns)
                self._br("ip", "link", "set", switch_end, "master", "br0")
                self._br("ip", "link", "set", switch_end, "up")
        for i in range(self.extra):     # idle ports up, as a lab's other hosts are: the
            host_end, switch_end = f"{self.tag}e{i}", f"{self.tag}f{i}"   # userspace
            _run("ip", "link", "add", host_end, "type", "veth", "peer", "name", switch_end)
            _run("ip", "link", "set", host_end, "netns", self.ns["a"])    # datapath polls
            self.exec("a", "ip", "link", "set", host_end, "up")           # every port
            disable_ipv6(switch_end)
            _run("ip", "link", "set", switch_end, "up")
            _run("ovs-vsctl", "add-port", self.bridge, switch_end)

    def _br(self, *cmd: str) -> None:
        _run("ip", "netns", "exec", self.bridge_ns, *cmd)

    def exec(self, side: str, *cmd: str) -> subprocess.CompletedProcess:
        return _run("ip", "netns", "exec", self.ns[side], *cmd)

    def popen(self, side: str, cmd: list[str], **kw) -> subprocess.Popen:
        kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.Popen(["ip", "netns", "exec", self.ns[side], *cmd], **kw)

    def down(self) -> None:
        if self.kind == "ovs":
            _run("ovs-vsctl", "--if-exists", "del-br", self.bridge, check=False)
        for ns in [*self.ns.values(), *([self.bridge_ns] if self.bridge_ns else [])]:
            for pid in _run("ip", "netns", "pids", ns, check=False).stdout.split():
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            _run("ip", "netns", "del", ns, check=False)
        for side in self.ns:
            _run("ip", "link", "del", f"{self.tag}{side}1", check=False)
        for i in range(self.extra):
            _run("ip", "link", "del", f"{self.tag}f{i}", check=False)

