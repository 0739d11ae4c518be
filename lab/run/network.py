"""The lab's network: Mininet hosts on one Open vSwitch switch, the censor as its controller.

Each host is a Mininet host in its own network (and mount) namespace, with one interface on
198.18.0.0/15 and no default route: nothing in the lab can reach an address outside it. In a
dual-stack scenario (`ipv6: true`) the interface also has its 2001:db8::/96 address
(lab.scenario.addressing.ip6_for), static, with no router advertisements, no SLAAC and no
IPv6 default route either; otherwise IPv6 is off in every host. The
switch is OVS, OpenFlow 1.3, on the kernel datapath when the module is there and on the
userspace datapath (with userspace TSO, set by scripts/setup.sh) when it is not.
"""
from __future__ import annotations

import os
import shlex
from pathlib import Path

from mininet.link import TCLink
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import Host as MininetHost, OVSSwitch

from lab.run.procs import in_namespaces, netns_of, terminate
from lab.run.rundir import RunDir
from lab.scenario.addressing import prefix6
from lab.scenario.model import Host, Link

PREFIX_LEN = 15  # 198.18.0.0/15: every lab address is on one segment


def needs_netem(link: Link) -> bool:
    """Delay, jitter and loss need the kernel's netem qdisc; bandwidth alone does not."""
    return bool(link.delay_ms or link.jitter_ms or link.loss_pct)


def tc_params(link: Link) -> dict:
    """Mininet TCLink parameters for a scenario link, applied to both ends (both directions)."""
    p: dict = {}
    if link.bw_mbit:
        p["bw"] = link.bw_mbit
    if link.delay_ms:
        p["delay"] = f"{link.delay_ms:g}ms"
    if link.jitter_ms:
        p["jitter"] = f"{link.jitter_ms:g}ms"
    if link.loss_pct:
        p["loss"] = link.loss_pct
    return p


class CensorSwitch(OVSSwitch):
    """An OVS bridge whose controller is a censor's OpenFlow Unix socket (`censor`, a path;
    None: no controller). Mininet's controllers are TCP ports only: the bridge's Controller
    record is written here, with Mininet's reconnection backoff (a restarted censor is found
    within a second)."""

    def __init__(self, name: str, censor: Path | None = None, **params):
        super().__init__(name, **params)
        self.censor = censor

    def start(self, controllers) -> None:
        super().start([])
        if self.censor is not None:
            # one ovs-vsctl for a batch of bridges: a record id of each bridge's own
            target, rid = shlex.quote(f'target="unix:{self.censor}"'), f"@censor_{self}"
            self.vsctl(f"-- --id={rid} create Controller {target} "
                       f"max_backoff={self.reconnectms} -- set bridge {self} controller={rid}")


def switch_ports(hosts: list[Host]) -> dict[str, int]:
    """The switch port of each host: hosts are linked in order, from port 1."""
    return {h.name: i + 1 for i, h in enumerate(hosts)}


def kernel_datapath() -> bool:
    """True when the openvswitch kernel module is loaded (the Vagrant VM); else userspace."""
    return Path("/sys/module/openvswitch").is_dir()


class Network:
    """Builds, starts and stops the Mininet network for one run."""

    def __init__(self, run: RunDir, hosts: list[Host], censor: Path,
                 fail_mode: str = "secure", shaping: dict[str, Link] | None = None):
        self.run = run
        self.specs = hosts
        self.bridge = f"bl{run.state.run_id}"
        self.ports = switch_ports(hosts)
        self.datapath = "kernel" if kernel_datapath() else "user"
        setLogLevel(os.environ.get("BLOCKLAB_MININET_LOG", "error"))
        self.net = Mininet(topo=None, build=False, controller=None, host=MininetHost,
                           switch=OVSSwitch, autoSetMacs=False, waitConnected=False)
        # batch: the bridge and all its ports in one ovs-vsctl run as a subprocess. Without
        # it Mininet types that command into the switch's shell, whose tty cuts a line at
        # 4095 bytes: past ~45 hosts the bridge was silently never created.
        self.switch = self.net.addSwitch(
            self.bridge, cls=CensorSwitch, censor=censor, datapath=self.datapath,
            protocols="OpenFlow13",
            failMode=fail_mode, dpid=f"{int(run.state.run_id, 16):016x}", batch=True)
        shaping = shaping or {}
        for spec in hosts:
            host = self.net.addHost(spec.name, ip=f"{spec.ip}/{PREFIX_LEN}", mac=spec.mac)
            params = tc_params(shaping[spec.side]) if spec.side in shaping else {}
            if params:
                # TSO stays on: HTB shapes the host's super-segments like any other packet.
                self.net.addLink(host, self.switch, port2=self.ports[spec.name], cls=TCLink,
                                 **params)
            else:
                self.net.addLink(host, self.switch, port2=self.ports[spec.name])

    def start(self) -> None:
        self.run.set_bridge(self.bridge)
        self.net.build()
        ip6 = {spec.name: spec.ip6 for spec in self.specs}
        for host in self.net.hosts:
            self.run.add_pid(f"host:{host.name}", host.pid)
            if ip6.get(host.name):
                add_ipv6(host, ip6[host.name], prefix6(PREFIX_LEN))
                continue
            # One IPv4 interface and nothing else: no IPv6 chatter through the censor.
            host.cmd("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
                     "net.ipv6.conf.default.disable_ipv6=1")
        self.run.add_pid("switch-shell", self.switch.pid)
        self.net.start()
        for intf in self.switch.intfList():
            if intf.name != "lo":
                disable_ipv6(intf.name)

    def host(self, name: str) -> MininetHost:
        return self.net.get(name)

    def capture_plan(self):
        """Where to capture (lab/run/capture.py): each host's switch-side veth, in order
        (`HOST.pcap`), merged per side of the censor (`censor-client-side.pcap`, ...)."""
        from lab.run.capture import CapturePoint, Merge
        sides = {spec.name: spec.side for spec in self.specs}
        points = []
        for intf in self.switch.intfList():
            link = getattr(intf, "link", None)
            if not link:
                continue
            other = link.intf2 if link.intf1 is intf else link.intf1
            name = other.node.name
            if name in sides:
                points.append(CapturePoint(f"{name}.pcap", f"switch port toward {name} "
                                           f"({sides[name]} side)", intf.name))
        merges = [Merge(f"censor-{side}-side.pcap", f"every port on the censor's {side} side, "
                        "merged", tuple(p.file for p in points
                                        if sides[p.name] == side))
                  for side in ("client", "internet") if side in sides.values()]
        return points, merges

    def stop(self) -> None:
        # End everything started in the hosts (commands, their children), then the hosts.
        shells = [h.pid for h in self.net.hosts if h.shell]
        stragglers = set(in_namespaces({netns_of(p) for p in shells})) - set(shells)
        terminate(sorted(stragglers))
        self.net.stop()
        self.run.set_bridge("")
        for name in list(self.run.state.pids):
            if name.startswith(("host:", "switch-shell")):
                self.run.drop_pid(name)


def add_ipv6(host: MininetHost, address: str, prefixlen: int, intf: str | None = None
             ) -> None:
    """Give `host`'s interface (default: its first) its static IPv6 address at once (no
    duplicate address detection: the lab's plan has no duplicates) and nothing automatic: no
    router solicitations or advertisements accepted, no SLAAC address, so no route leads out.

    The link-local address too is usable at once: the interface came up (and began duplicate
    address detection on its fe80:: address) before this runs, so IPv6 is switched off and on
    again with detection off. A router sends its neighbour solicitations for a packet it
    forwards from its link-local address; while that was tentative, the first IPv6 packet
    forwarded in a routed lab waited 1-2 s (curl's first connect over IPv6: 2.04 s)."""
    intf = intf or host.defaultIntf().name
    host.cmd("sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 "
             "net.ipv6.conf.all.autoconf=0 net.ipv6.conf.default.autoconf=0 "
             f"net.ipv6.conf.{intf}.accept_ra=0 net.ipv6.conf.{intf}.autoconf=0 "
             f"net.ipv6.conf.{intf}.router_solicitations=0 net.ipv6.conf.{intf}.accept_dad=0 "
             f"net.ipv6.conf.{intf}.disable_ipv6=1 net.ipv6.conf.{intf}.disable_ipv6=0")
    out = host.cmd(f"ip -6 addr add {address}/{prefixlen} dev {intf} nodad")
    if out.strip():
        raise RuntimeError(f"IPv6 address {address} in {host.name}: {out.strip()}")


def disable_ipv6(intf: str) -> None:
    """No IPv6 on `intf`, an interface in the root namespace (a switch port's veth end):
    best effort, as a lab and the bench's baseline bridges both want it."""
    try:
        with open(f"/proc/sys/net/ipv6/conf/{intf}/disable_ipv6", "w") as f:
            f.write("1")
    except OSError:
        pass
