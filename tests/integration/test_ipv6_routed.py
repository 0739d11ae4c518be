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


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    path = tmp_path_factory.mktemp("routed6") / "routed-dual-stack.yaml"
    path.write_text(textwrap.dedent(SCENARIO))
    with Lab(scenarios.load(str(path))) as running:
        yield running


def test_ipv6_crosses_the_routers(lab):
    r = lab.run("alice", ["traceroute", "-6", "-n", "-q1", "-w1", WEB6], timeout=30)
    hops = re.findall(r"^\s*\d+\s+(\S+)", r.stdout, re.M)
    assert hops == [ip6_for("198.18.1.1"), ip6_for("198.18.255.1"), WEB6], r.stdout
    r = lab.run("alice", ["curl", "-6", "-sS", "--max-time", "5", "https://www.example.org/"])
    assert r.returncode == 0 and "blocklab server web" in r.stdout, r.stderr


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
