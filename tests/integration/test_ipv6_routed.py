"""Dual stack on a routed network: IPv6 crosses real routers (their ISP's, then the border),
a censor on one ISP's uplink blocks IPv6 alone (Iran switched IPv6 off per ISP: Irancell in
2022, every ISP in 2025, net4people/bbs#489), and nothing is routed outside the lab."""
from __future__ import annotations

import re
import textwrap

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab
from lab.scenario.addressing import ip6_for

SCENARIO = """\
name: routed-dual-stack
ipv6: true
clients: [alice, bob]
servers:
  - {name: web, domains: [www.example.org], serve: [https]}
network:
  isps:
    - {name: home, kind: home, prefix: 198.18.1.0/24, clients: [alice]}
    - {name: mobile, kind: mobile, prefix: 198.18.2.0/24, clients: [bob], resolver: true}
  censors:
    - name: tspu
      at: mobile.uplink
      rules:
        - {id: v6-off, match: {family: ipv6}, action: drop}
"""
WEB6 = ip6_for("198.19.0.10")
TENTATIVE_AT_START: dict[str, str] = {}      # node -> its addresses still in DAD, at lab-up


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    path = tmp_path_factory.mktemp("routed6") / "routed-dual-stack.yaml"
    path.write_text(textwrap.dedent(SCENARIO))
    with Lab(scenarios.load(str(path))) as running:
        TENTATIVE_AT_START.update({n.name: n.cmd("ip -6 -o addr show tentative").strip()
                                   for n in running.network.net.hosts})
        yield running


def test_every_address_is_usable_when_the_lab_is_up(lab):
    """No address, the fe80:: ones included, still in duplicate address detection: a router
    sends the neighbour solicitation for a packet it forwards from its link-local address,
    and while that was tentative the first IPv6 packet through it waited 1-2 s (curl's first
    connect over IPv6 in cn/2025-08-port-443-rst: 2.04 s; lab.run.network.add_ipv6)."""
    assert {"alice", "web", "BORDER", "R-home"} <= set(TENTATIVE_AT_START)
    assert {n: a for n, a in TENTATIVE_AT_START.items() if a} == {}


def test_ipv6_crosses_the_routers(lab):
    # The page first: on a path nothing has crossed yet, traceroute's parallel probes race
    # the routers' neighbour discovery and the first ones past hop 1 go unanswered.
    r = lab.run("alice", ["curl", "-6", "-sS", "--max-time", "5", "https://www.example.org/"])
    assert r.returncode == 0 and "blocklab server web" in r.stdout, r.stderr
    r = lab.run("alice", ["traceroute", "-6", "-n", "-q1", "-w1", WEB6], timeout=30)
    hops = re.findall(r"^\s*\d+\s+(\S+)", r.stdout, re.M)
    assert hops == [ip6_for("198.18.1.1"), ip6_for("198.18.255.1"), WEB6], r.stdout


def test_one_isp_switches_ipv6_off_and_its_clients_fall_back(lab):
    r = lab.run("bob", ["curl", "-6", "-sS", "--max-time", "3", "https://www.example.org/"])
    assert r.returncode == 28, r.stderr
    events = [e for e in lab.events() if e.get("rule") == "v6-off"]
    assert events and events[-1]["flow"]["family"] == "ipv6"
    r = lab.run("bob", ["curl", "-sS", "--max-time", "5", "-o", "/dev/null",
                        "-w", "%{remote_ip}", "https://www.example.org/"])
    assert r.returncode == 0 and r.stdout == "198.19.0.10", r.stderr


def test_every_ipv6_route_stays_inside_the_lab(lab):
    for name in ("alice", "bob", "web", "BORDER", "R-home"):
        shown = lab.network.net.get(name).cmd("ip -6 route show")
        for line in shown.splitlines():
            dest = line.split()[0]
            assert dest.startswith(("2001:db8::", "fe80::", "multicast", "ff00::")) or \
                dest in ("local", "anycast"), (name, line)
        assert "default" not in shown, (name, shown)
