"""The `network:` section (issue 15): ISPs, their prefixes and clients, censors on links.

Each mistake gives its FILE:LINE:COL diagnostic, at the key or value at fault; a good file
gives the addresses and places the routed lab is built from (lab.scenario.topology).
"""
from __future__ import annotations

import pytest

from lab.scenario import load
from scenario_helpers import errors, write

HEAD = """\
name: t
clients: [alice, bob]
servers:
  - {name: web, domains: [example.com], serve: [https]}
"""

GOOD = HEAD + """\
network:
  isps:
    - {name: home, kind: home, clients: [alice]}
    - {name: mobile, kind: mobile, prefix: 198.18.64.0/20, clients: [bob]}
  censors:
    - name: tspu
      at: home.uplink
      ttl: 50
      rules:
        - {id: r1, match: {sni: example.com}, action: reset}
    - name: gfw
      at: border
      rules:
        - {id: r2, match: {sni: example.com}, action: drop}
expect:
  - {from: bob, url: "https://example.com/", blocked: true, rule: r2}
"""


def test_a_good_network_gives_addresses_isps_and_placed_censors(tmp_path):
    sc = load(write(tmp_path, GOOD))
    assert [(c.name, c.ip) for c in sc.clients] == [("alice", "198.18.1.10"),
                                                    ("bob", "198.18.64.10")]
    assert sc.isp_of("alice") == "home" and sc.isp_of("bob") == "mobile"
    assert [(c.name, c.at, c.ttl) for c in sc.censors()] == [("tspu", "home.uplink", 50),
                                                             ("gfw", "border", 64)]
    assert sc.censor.name == "tspu"                     # the first: timeline, shell default
    topo = sc.network
    assert topo.places() == ["home.access", "home.uplink", "mobile.access", "mobile.uplink",
                             "border"]
    assert topo.isps[0].router_ip == "198.18.1.1" and topo.isps[1].uplink == (
        "198.18.255.5", "198.18.255.6")
    assert topo.hops("alice", "home.access") == 0 and topo.hops("alice", "home.uplink") == 1
    assert topo.hops("bob", "border") == 2
    policy = sc.policy({}, sc.network.censors[0],
                       topo.client_side("home.uplink", sc.hosts()))
    assert policy["ttl"] == 50 and policy["hosts"]["alice"]["side"] == "client"
    assert policy["hosts"]["bob"]["side"] == "internet"


def test_a_scenario_without_network_is_the_star_as_before(tmp_path):
    sc = load(write(tmp_path, HEAD))
    assert sc.network is None and sc.clients[0].ip == "198.18.0.10"
    assert sc.censors() == [sc.censor] and "ttl" not in sc.policy()


def test_a_top_level_censor_in_a_network_sits_at_the_border(tmp_path):
    sc = load(write(tmp_path, HEAD + """\
network:
  isps: [{name: home, clients: [alice, bob]}]
censor:
  rules: [{id: r1, match: {sni: example.com}, action: reset}]
"""))
    assert [(c.name, c.at) for c in sc.censors()] == [("censor", "border")]


CASES = [
    ("unknown-client", """\
network:
  isps:
    - {name: home, clients: [alice, bob, carol]}
""", ["s.yaml:7:42: network.isps[0].clients[2]: no client named 'carol'"]),
    ("client-in-two-isps", """\
network:
  isps:
    - {name: home, clients: [alice, bob]}
    - {name: mobile, clients: [bob]}
""", ["s.yaml:8:32: network.isps[1].clients[0]: client 'bob' is already in ISP 'home' "
      "(line 7); a client is in exactly one ISP"]),
    ("client-in-no-isp", """\
network:
  isps:
    - {name: home, clients: [alice]}
""", ["s.yaml:7:5: network.isps: client 'bob' is in no ISP: list it in one ISP's clients"]),
    ("duplicate-isp", """\
network:
  isps:
    - {name: home, clients: [alice]}
    - {name: home, clients: [bob]}
""", ["s.yaml:8:14: network.isps[1].name: duplicate ISP name 'home'"]),
    ("unknown-link", """\
network:
  isps: [{name: home, clients: [alice, bob]}]
  censors:
    - {name: tspu, at: mobile.uplink}
""", ["s.yaml:8:24: network.censors[0].at: no link 'mobile.uplink' in this network (did you "
      "mean 'home.uplink'?); links: "
      "home.access, home.uplink, border"]),
    ("bad-place", """\
network:
  isps: [{name: home, clients: [alice, bob]}]
  censors:
    - {name: tspu, at: home.core}
""", ["s.yaml:8:24: network.censors[0].at: bad place 'home.core': use ISP.access, ISP.uplink "
      "or border"]),
    ("censor-without-place", """\
network:
  isps: [{name: home, clients: [alice, bob]}]
  censors:
    - {name: tspu}
""", ["s.yaml:8:7: network.censors[0]: this censor needs a place: at: ISP.access, "
      "ISP.uplink or border (home.access, home.uplink, border)"]),
    ("two-censors-one-link", """\
network:
  isps: [{name: home, clients: [alice, bob]}]
  censors:
    - {name: a, at: border}
    - {name: b, at: border}
""", ["s.yaml:9:21: network.censors[1].at: link 'border' already has a censor (line 8)"]),
    ("bad-asn", """\
network:
  isps: [{name: home, asn: "12389", clients: [alice, bob]}]
""", ["s.yaml:6:28: network.isps[0].asn: bad ASN '12389': write AS and a number, such as "
      "AS12389"]),
    ("links-with-network", """\
links:
  client: {bw: 10Mbit}
network:
  isps: [{name: home, clients: [alice, bob]}]
""", ["s.yaml:5:1: links: links: shapes the one-switch lab's client and internet sides, which "
      "a routed network does not have; shape an ISP's uplink instead: "
      "network.isps[].uplink: {bw: 10Mbit, delay: 20ms}"]),
    ("uplink-jitter-without-delay", """\
network:
  isps: [{name: home, uplink: {jitter: 5ms}, clients: [alice, bob]}]
""", ["s.yaml:6:32: network.isps[0].uplink.jitter: jitter varies the delay: give a delay "
      "too"]),
    ("too-many-hops", """\
network:
  isps: [{name: home, hops: 5, clients: [alice, bob]}]
""", ["s.yaml:6:29: network.isps[0].hops: 5 is out of range 1..4"]),
    ("prefix-outside-lab", """\
network:
  isps: [{name: home, prefix: 10.0.0.0/24, clients: [alice, bob]}]
""", ["s.yaml:6:31: network.isps[0].prefix: prefix 10.0.0.0/24 is outside the lab's "
      "198.18.0.0/15"]),
    ("prefix-on-servers", """\
network:
  isps: [{name: home, prefix: 198.19.4.0/24, clients: [alice, bob]}]
""", ["s.yaml:6:31: network.isps[0].prefix: prefix 198.19.4.0/24 overlaps 198.19.0.0/16, "
      "the servers' LAN"]),
    ("prefixes-overlap", """\
network:
  isps:
    - {name: home, prefix: 198.18.8.0/22, clients: [alice]}
    - {name: mobile, prefix: 198.18.9.0/24, clients: [bob]}
""", ["s.yaml:8:30: network.isps[1].prefix: prefix 198.18.9.0/24 overlaps 198.18.8.0/22 "
      "(line 7)"]),
    ("censor-and-censors", """\
censor: {rules: []}
network:
  isps: [{name: home, clients: [alice, bob]}]
  censors: [{name: a, at: border}]
""", ["s.yaml:5:1: censor: give either censor: or network.censors:, not both (put this "
      "censor in network.censors with its at:)"]),
    ("at-without-network", """\
censor: {at: border, rules: []}
""", ["s.yaml:5:10: censor.at: a censor's place (at:) needs a network: section"]),
]


@pytest.mark.parametrize("text,want", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_network_mistakes_point_at_the_value(tmp_path, text, want):
    assert errors(tmp_path, HEAD + text) == want


def test_client_address_outside_its_isp(tmp_path):
    text = """\
name: t
clients: [{name: alice, address: 198.18.7.5}, bob]
servers:
  - {name: web, address: 198.18.9.9, domains: [example.com], serve: [https]}
network:
  isps: [{name: home, clients: [alice, bob]}]
"""
    assert errors(tmp_path, text) == [
        "s.yaml:2:34: clients[0].address: address 198.18.7.5 is outside the prefix "
        "198.18.1.0/24 of 'alice''s ISP 'home'",
        "s.yaml:4:26: servers[0].address: address 198.18.9.9 is outside the servers' LAN "
        "198.19.0.0/16 of the routed network"]


def test_the_network_example_in_the_docs_loads(tmp_path):
    import re
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[3] / "docs" / "scenarios.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "network:" in b
                 and b.startswith("name:"))
    sc = load(write(tmp_path, block))
    assert [(c.name, c.at) for c in sc.censors()] == [("tspu", "home.uplink")]
    assert sc.isp_of("bob") == "mobile" and sc.host("bob").ip == "198.18.2.10"


def test_an_expectation_names_a_censor_that_exists(tmp_path):
    text = GOOD + """\
  - {from: alice, url: "https://example.com/", blocked: true, censor: tspu}
  - {from: alice, url: "https://example.com/", blocked: true, censor: tsp}
"""
    assert errors(tmp_path, text) == [
        "s.yaml:22:71: expect[2].censor: no censor named 'tsp' (did you mean 'tspu'?); "
        "censors: tspu, gfw"]
    text = text.replace("  - {from: alice, url: \"https://example.com/\", blocked: true, "
                        "censor: tsp}\n", "")
    assert load(write(tmp_path, text)).expect[1].censor == "tspu"


def test_an_isp_may_run_its_own_resolver(tmp_path):
    sc = load(write(tmp_path, GOOD.replace("prefix: 198.18.64.0/20, clients: [bob]}",
                                           "prefix: 198.18.64.0/20, clients: [bob], "
                                           "resolver: true}")))
    assert [h.name for h in sc.resolvers()] == ["isp", "mobile-dns", "public-dns"]
    assert sc.host("mobile-dns").ip == "198.18.64.2" and sc.isp_of("mobile-dns") == "mobile"
    assert sc.resolver_ip("bob") == "198.18.64.2" and sc.resolver_ip("alice") == "198.18.0.2"
    assert "mobile-dns" in sc.policy()["hosts"]
    side = sc.network.client_side("mobile.uplink", sc.hosts())
    assert side == {"bob", "mobile-dns"}


def test_an_isps_resolver_and_router_addresses_are_its_own(tmp_path):
    text = """\
name: t
clients: [{name: alice, address: 198.18.1.1}, home-dns]
servers: []
network:
  isps: [{name: home, resolver: true, clients: [alice, home-dns]}]
"""
    assert errors(tmp_path, text) == [
        "s.yaml:2:34: clients[0].address: address 198.18.1.1 is the ISP router's or "
        "resolver's (the prefix's 1st and 2nd addresses)",
        "s.yaml:5:23: network.isps[0].resolver: the ISP's resolver is the host 'home-dns', "
        "and a client or server has that name"]


def test_an_isp_may_give_its_asn(tmp_path):
    """OONI reports each measurement with its network's ASN: an ISP's `asn:` labels it."""
    sc = load(write(tmp_path, HEAD + """\
network:
  isps:
    - {name: home, asn: AS12389, clients: [alice]}
    - {name: mobile, clients: [bob]}
"""))
    home, mobile = sc.network.isps
    assert (home.asn, home.label) == ("AS12389", "home (AS12389)")
    assert (mobile.asn, mobile.label) == (None, "mobile")


def test_an_isps_uplink_may_be_shaped(tmp_path):
    """`uplink:` shapes the ISP router's link to the border (Mininet TCLink on both ends)."""
    from lab.scenario.model import Link
    sc = load(write(tmp_path, HEAD + """\
network:
  isps:
    - {name: home, uplink: {bw: 8Mbit}, clients: [alice]}
    - {name: mobile, clients: [bob]}
"""))
    home, mobile = sc.network.isps
    assert home.shaping == Link(bw_mbit=8.0) and mobile.shaping is None
    assert sc.links is None


def test_an_isp_with_hops_has_a_chain_of_routers(tmp_path):
    """`hops: 3`: R-home, R-home-2, R-home-3 on /30s from 198.18.255.64; a censor on its
    uplink is three routers from its clients, the border four."""
    sc = load(write(tmp_path, HEAD + """\
network:
  isps:
    - {name: home, hops: 3, clients: [alice]}
    - {name: mobile, hops: 2, clients: [bob]}
"""))
    home, mobile = sc.network.isps
    assert home.routers == ["R-home", "R-home-2", "R-home-3"]
    assert home.uplink_router == "R-home-3"
    assert [home.inner_link(j) for j in range(2)] == [("198.18.255.65", "198.18.255.66"),
                                                     ("198.18.255.69", "198.18.255.70")]
    assert mobile.inner_link(0) == ("198.18.255.77", "198.18.255.78")
    topo = sc.network
    assert topo.hops("alice", "home.access") == 0 and topo.hops("alice", "home.uplink") == 3
    assert topo.hops("alice", "border") == 4 and topo.hops("bob", "border") == 3
