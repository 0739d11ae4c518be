"""The routed network of a scenario with `network:`: ISPs, real routers, censors on links.

Owns building, starting and stopping that network (its shape and addresses are
lab.scenario.topology's). Every node is a Mininet host in its own namespaces: the clients,
the lab's resolvers, the servers, and the routers (`R-<isp>` per ISP and `BORDER`), which
forward (ip_forward=1), decrement the TTL and answer with ICMP time-exceeded (unlimited rate,
so that traceroute's three probes per hop all get answers). Routes are static and cover
198.18.0.0/15 only: nothing in the lab has a default route. A dual-stack scenario (`ipv6:
true`) gives every interface with an IPv4 address its twin from the IPv6 plan
(lab.scenario.addressing.ip6_for, the prefix 96 bits longer) and the same routes for
2001:db8::c612:0/111; the routers forward IPv6 and answer with ICMPv6 time-exceeded.

LANs (each ISP's clients and router; the servers and the border router) are OVS bridges; a
router-to-router uplink is a veth pair, or, with a censor on it, a two-port OVS bridge. A
bridge with a censor has that censor as its only controller (its `fail_mode`); one without is
a standalone learning switch with no controller. A censor's switch is a bump in the wire:
it has no address, decrements nothing and never answers traceroute. An ISP's `uplink:`
shaping (bandwidth, delay, loss) is tc on both ends of its router's uplink (Mininet's TCLink:
HTB, netem), so both directions are shaped whether or not a censor sits on that link.
"""
from __future__ import annotations

import os
import string
from pathlib import Path

from mininet.link import TCLink
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import Host, OVSSwitch

from lab.run.network import (CensorSwitch, Network, add_ipv6, disable_ipv6,
                             kernel_datapath, tc_params)
from lab.run.rundir import RunDir
from lab.scenario import addressing
from lab.scenario.addressing import ip6_for, prefix6
from lab.scenario.topology import (BORDER, BORDER_CORE_IP, BORDER_INTERNET_IP, CORE_NET,
                                   INTERNET_NET)

LAB = str(addressing.LAB_NET)
LAB6 = f"{ip6_for(str(addressing.LAB_NET.network_address))}/{prefix6(addressing.LAB_NET.prefixlen)}"
BORDER_NODE = "BORDER"
_SUFFIX = string.ascii_lowercase + string.digits


class Segment:
    """One OVS bridge: its name, ports in order (node name -> port number), its censor."""

    def __init__(self, name: str, place: str | None):
        self.name = name
        self.place = place
        self.ports: dict[str, int] = {}
        self.switch = None

    def port_of(self, node: str) -> int:
        self.ports.setdefault(node, len(self.ports) + 1)
        return self.ports[node]


class RoutedNetwork(Network):
    """Builds, starts and stops the routed network for one run (Network's host(), stop())."""

    def __init__(self, run: RunDir, scenario, hosts, censors: dict[str, Path]):
        self.run = run
        self.specs = hosts
        self.scenario = scenario
        topo = scenario.network
        self.topo = topo
        self.ports = {h.name: None for h in hosts}        # the hosts lab.host() may name
        self.datapath = "kernel" if kernel_datapath() else "user"
        setLogLevel(os.environ.get("BLOCKLAB_MININET_LOG", "error"))
        self.net = Mininet(topo=None, build=False, controller=None, host=Host,
                           switch=OVSSwitch, autoSetMacs=False, waitConnected=False)
        self.segments: list[Segment] = []
        self.censor_sockets = censors       # place -> the OpenFlow socket of its censor
        isp_of = {c: i for i in topo.isps for c in i.members}
        for h in hosts:
            plen = isp_of[h.name].net.prefixlen if h.name in isp_of else \
                (CORE_NET.prefixlen if h.name == "isp" else INTERNET_NET.prefixlen)
            self.net.addHost(h.name, ip=f"{h.ip}/{plen}", mac=h.mac)
        border = self.net.addHost(BORDER_NODE, ip=None)
        self.routes: dict[str, list[tuple[str, str]]] = {BORDER_NODE: []}
        # the core LAN: the isp resolver straight on the border router
        self.net.addLink(self.net.get("isp"), border, intfName2="core",
                         params2={"ip": f"{BORDER_CORE_IP}/{CORE_NET.prefixlen}"})
        self.routes["isp"] = [(LAB, BORDER_CORE_IP)]
        for isp in topo.isps:
            router = self.net.addHost(isp.router, ip=None)
            lan = self._segment(f"{isp.name}.access")
            for client in isp.clients:
                self.net.addLink(self.net.get(client), lan.switch, port2=lan.port_of(client))
                self.routes[client] = [(LAB, isp.router_ip)]
            if isp.resolver:                # its own resolver, on its clients' LAN
                name = isp.resolver_host.name
                self.net.addLink(self.net.get(name), lan.switch, port2=lan.port_of(name),
                                 intfName1="eth0")
                self.routes[name] = [(LAB, isp.router_ip)]
            self.net.addLink(router, lan.switch, port2=lan.port_of(isp.router), intfName1="lan",
                             params1={"ip": f"{isp.router_ip}/{isp.net.prefixlen}"})
            up_border, up_isp = isp.uplink
            router = self._chain(isp, router, up_border)
            place = f"{isp.name}.uplink"
            p1 = {"ip": f"{up_isp}/30"}
            p2 = {"ip": f"{up_border}/30"}
            # `uplink:` shaping: tc on both ends of the router's own link (both directions)
            shaped = {"cls": TCLink, **tc_params(isp.shaping)} if isp.shaping else {}
            if place in self.censor_sockets:
                wire = self._segment(place)
                self.net.addLink(router, wire.switch, port2=wire.port_of(isp.uplink_router),
                                 intfName1="up", params1=p1, **shaped)
                self.net.addLink(border, wire.switch, port2=wire.port_of(BORDER_NODE),
                                 intfName1=f"to{isp.index}", params1=p2)
            else:
                self.net.addLink(router, border, intfName1="up", intfName2=f"to{isp.index}",
                                 params1=p1, params2=p2, **shaped)
            self.routes[BORDER_NODE].append((isp.prefix, up_isp))
        internet = self._segment(BORDER)
        for h in hosts:
            if h.name not in isp_of and h.name != "isp":
                self.net.addLink(self.net.get(h.name), internet.switch,
                                 port2=internet.port_of(h.name))
                self.routes[h.name] = [(LAB, BORDER_INTERNET_IP)]
        self.net.addLink(border, internet.switch, port2=internet.port_of(BORDER_NODE),
                         intfName1="inet",
                         params1={"ip": f"{BORDER_INTERNET_IP}/{INTERNET_NET.prefixlen}"})

    def _chain(self, isp, gateway, up_border: str):
        """The ISP's routers after its gateway (`hops:`), each linked to the one before by a
        /30 ("up" to "down"), with their routes: the lab onward, the ISP's prefix back.
        Returns the last one, which holds the uplink."""
        nodes = [gateway]
        for name in isp.routers[1:]:
            near, far = isp.inner_link(len(nodes) - 1)
            nodes.append(self.net.addHost(name, ip=None))
            self.net.addLink(nodes[-2], nodes[-1], intfName1="up", intfName2="down",
                             params1={"ip": f"{near}/30"}, params2={"ip": f"{far}/30"})
        for k, name in enumerate(isp.routers):
            onward = isp.inner_link(k)[1] if k < len(nodes) - 1 else up_border
            self.routes[name] = [(LAB, onward)]
            if k:
                self.routes[name].append((isp.prefix, isp.inner_link(k - 1)[0]))
        return nodes[-1]

    def _segment(self, place: str) -> Segment:
        seg = Segment(f"bl{self.run.state.run_id}{_SUFFIX[len(self.segments)]}", place)
        censored = place in self.censor_sockets
        censor = self.topo.censor_at(place)
        seg.switch = self.net.addSwitch(
            seg.name, cls=CensorSwitch, censor=self.censor_sockets.get(place),
            datapath=self.datapath, protocols="OpenFlow13",
            failMode=censor.fail_mode if censored else "standalone",
            dpid=f"{int(self.run.state.run_id, 16) << 8 | len(self.segments):016x}", batch=True)
        self.segments.append(seg)
        return seg

    def switch_ports(self, place: str) -> dict[str, int]:
        """Each lab host's port on the switch at `place`: its own, or the port it lies
        beyond (the router's, on the way to it)."""
        seg = next(s for s in self.segments if s.place == place)
        if place == BORDER:
            far = seg.ports[BORDER_NODE]
            return {h.name: seg.ports.get(h.name, far) for h in self.specs}
        if place.endswith(".uplink"):
            isp = next(i for i in self.topo.isps if place == f"{i.name}.uplink")
            near, far = seg.ports[isp.uplink_router], seg.ports[BORDER_NODE]
            return {h.name: near if h.name in isp.members else far for h in self.specs}
        isp = next(i for i in self.topo.isps if place == f"{i.name}.access")
        far = seg.ports[isp.router]
        return {h.name: seg.ports.get(h.name, far) for h in self.specs}

    def capture_plan(self):
        """Where to capture (lab/run/capture.py): each host's port (`HOST.pcap`; the `isp`
        resolver, wired straight to the border router, inside its own namespace); each
        censor's switch per side (`censor-NAME-client-side.pcap`, `-internet-side.pcap`: a
        router's port captured straight into it, host ports merged); each uplink without a
        censor at its ISP's router (`link-ISP-uplink.pcap`)."""
        from lab.run.capture import CapturePoint, Merge
        hosts = {h.name for h in self.specs}
        points, merges = [], []
        on_switch = set()
        for seg in self.segments:
            censor = self.topo.censor_at(seg.place) if seg.place in self.censor_sockets else None
            toward = self.switch_ports(seg.place) if censor else {}
            clients = self.topo.client_side(seg.place, self.specs) if censor else set()
            sides: dict[str, list[tuple[str, str]]] = {"client": [], "internet": []}
            for node, intf in _switch_intfs(seg.switch):
                if node in hosts:
                    on_switch.add(node)
                    points.append(CapturePoint(f"{node}.pcap", f"what {node} sent and "
                                               f"received (its port on {seg.place})", intf))
                if censor:
                    behind = {h for h, port in toward.items() if port == seg.ports[node]}
                    sides["client" if behind & clients else "internet"].append((node, intf))
            for side, ports in sides.items():
                file = f"censor-{censor.name}-{side}-side.pcap" if censor else ""
                what = f"censor {censor.name} ({seg.place}), its {side} side" if censor else ""
                if len(ports) == 1 and ports[0][0] not in hosts:
                    points.append(CapturePoint(file, f"{what}: its port toward {ports[0][0]}",
                                               ports[0][1]))
                    continue
                parts = []
                for node, intf in ports:
                    if node not in hosts:
                        parts.append(f"censor-{censor.name}-port-{node}.pcap")
                        points.append(CapturePoint(parts[-1], f"censor {censor.name}'s port "
                                                   f"toward {node}", intf))
                    else:
                        parts.append(f"{node}.pcap")
                if parts:
                    merges.append(Merge(file, f"{what}: every port on it, merged",
                                        tuple(parts)))
        for name in sorted(hosts - on_switch):
            node = self.net.get(name)
            points.append(CapturePoint(f"{name}.pcap", f"what {name} sent and received",
                                       node.intfList()[0].name, node.pid))
        for isp in self.topo.isps:
            if f"{isp.name}.uplink" not in self.censor_sockets:
                name = isp.uplink_router            # the last of its routers (hops:)
                points.append(CapturePoint(f"link-{isp.name}-uplink.pcap",
                                           f"the link from {name} to the border router "
                                           f"(no censor on it), at {name}", "up",
                                           self.net.get(name).pid))
        return points, merges

    @property
    def bridge(self) -> str:
        return self.segments[0].name if self.segments else ""

    def start(self) -> None:
        self.run.set_bridges([s.name for s in self.segments])
        self.net.build()
        for node in self.net.hosts:
            self.run.add_pid(f"host:{node.name}", node.pid)
            if self.scenario.ipv6:
                self._dual_stack(node)
                continue
            node.cmd("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
                     "net.ipv6.conf.default.disable_ipv6=1")
        for seg in self.segments:
            self.run.add_pid(f"switch-shell:{seg.name}", seg.switch.pid)
        for name in [BORDER_NODE, *(r for i in self.topo.isps for r in i.routers)]:
            self.net.get(name).cmd("sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 "
                                   "net.ipv4.conf.all.rp_filter=0")
            if self.scenario.ipv6:
                self.net.get(name).cmd("sysctl -qw net.ipv6.conf.all.forwarding=1 "
                                       "net.ipv6.icmp.ratelimit=0")
        for name, routes in self.routes.items():
            node = self.net.get(name)
            for prefix, via in routes:
                out = node.cmd(f"ip route replace {prefix} via {via}")
                if out.strip():
                    raise RuntimeError(f"route {prefix} via {via} in {name}: {out.strip()}")
                if not self.scenario.ipv6:
                    continue
                prefix6_ = LAB6 if prefix == LAB else _net6(prefix)
                out = node.cmd(f"ip -6 route replace {prefix6_} via {ip6_for(via)}")
                if out.strip():
                    raise RuntimeError(f"route {prefix6_} via {ip6_for(via)} in {name}: "
                                       f"{out.strip()}")
        for seg in self.segments:
            seg.switch.start([])
        OVSSwitch.batchStartup([s.switch for s in self.segments])
        for seg in self.segments:
            for intf in seg.switch.intfList():
                if intf.name != "lo":
                    disable_ipv6(intf.name)

    def stop(self) -> None:
        super().stop()
        self.run.set_bridges([])

    @staticmethod
    def _dual_stack(node) -> None:
        """Each of `node`'s interfaces with an IPv4 address gets its IPv6 twin."""
        for intf in node.intfList():
            if intf.name != "lo" and intf.IP():
                add_ipv6(node, ip6_for(intf.IP()), prefix6(int(intf.prefixLen)), intf.name)


def _net6(prefix: str) -> str:
    """An IPv4 prefix of the lab as its IPv6 twin."""
    addr, _slash, plen = prefix.partition("/")
    return f"{ip6_for(addr)}/{prefix6(int(plen or 32))}"


def _switch_intfs(switch) -> list[tuple[str, str]]:
    """(the node at the other end, the switch's own interface) for each port of `switch`."""
    out = []
    for intf in switch.intfList():
        link = getattr(intf, "link", None)
        if link:
            other = link.intf2 if link.intf1 is intf else link.intf1
            out.append((other.node.name, intf.name))
    return out
