"""Dual stack (`ipv6: true`): the IPv6 plan, what the hosts, the policy and the resolvers
get, the one mistake the loader reports, and attribution of IPv6 flows to their host."""
from __future__ import annotations

import pytest

from lab.scenario import addressing, load
from lab.services.dns import records, zone_file
from lab.truth.events import Window, matching_events
from scenario_helpers import HEAD, errors, write


def test_the_ipv6_plan_mirrors_the_ipv4_one():
    assert addressing.ip6_for("198.18.0.10") == "2001:db8::c612:a"
    assert addressing.ip6_for("198.19.0.2") == "2001:db8::c613:2"
    assert addressing.prefix6(15) == 111
    assert addressing.host_ip("2001:db8::c613:a") == "198.19.0.10"
    assert addressing.host_ip("198.19.0.10") == "198.19.0.10"
    assert addressing.host_ip("2001:db8:1::1") == "2001:db8:1::1"      # not the plan's
    assert addressing.host_ip("not an address") == "not an address"


def test_dual_stack_hosts_policy_and_records(tmp_path):
    sc = load(str(write(tmp_path, HEAD + "ipv6: true\n")))
    assert sc.ipv6
    assert {h.name: h.ip6 for h in sc.hosts()} == {
        "alice": "2001:db8::c612:a", "isp": "2001:db8::c612:2",
        "public-dns": "2001:db8::c613:2", "web": "2001:db8::c613:a"}
    assert sc.policy()["hosts"]["web"]["ip6"] == "2001:db8::c613:a"
    web = sc.servers[0]
    assert "2001:db8::c613:a" in zone_file("example.com", ["example.com"], web.ip, web.ip6)
    plain = load(str(write(tmp_path, HEAD.replace("dns, ", "") + "ipv6: false\n", "p.yaml")))
    plain6 = load(str(write(tmp_path, HEAD.replace("dns, ", "") + "ipv6: true\n", "q.yaml")))
    assert records(plain.servers) == ["host-record=example.com,198.19.0.10",
                                      "address=/*.example.net/198.19.0.10"]
    assert records(plain6.servers) == ["host-record=example.com,198.19.0.10,2001:db8::c613:a",
                                       "address=/*.example.net/198.19.0.10",
                                       "address=/*.example.net/2001:db8::c613:a"]


def test_dual_stack_by_default_ipv4_only_when_it_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv(addressing.IPV6_SWITCH, raising=False)
    sc = load(str(write(tmp_path, HEAD)))
    assert sc.ipv6 and all(h.ip6 for h in sc.hosts())
    sc = load(str(write(tmp_path, HEAD + "ipv6: false\n", "v4.yaml")))
    assert not sc.ipv6 and all(h.ip6 is None for h in sc.hosts())
    assert all("ip6" not in h for h in sc.policy()["hosts"].values())


def test_blocklab_ipv6_makes_every_scenario_dual_stack_unless_it_says_no(tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("BLOCKLAB_IPV6", "1")
    assert load(str(write(tmp_path, HEAD))).ipv6
    assert not load(str(write(tmp_path, HEAD + "ipv6: false\n", "n.yaml"))).ipv6
    monkeypatch.setenv("BLOCKLAB_IPV6", "off")
    assert not load(str(write(tmp_path, HEAD))).ipv6
    assert load(str(write(tmp_path, HEAD + "ipv6: true\n", "y.yaml"))).ipv6


def test_a_bad_blocklab_ipv6_says_what_it_wants(tmp_path, monkeypatch):
    monkeypatch.setenv("BLOCKLAB_IPV6", "maybe")
    with pytest.raises(SystemExit) as e:
        load(str(write(tmp_path, HEAD)))
    assert str(e.value).startswith("blocklab: BLOCKLAB_IPV6='maybe': want 1 ")


def test_ipv6_on_a_routed_network_gives_routers_and_resolvers_addresses(tmp_path):
    text = HEAD + "ipv6: true\nnetwork:\n  isps: [{name: home, clients: [alice], resolver: true}]\n"
    sc = load(str(write(tmp_path, text)))
    hosts = {h.name: h for h in sc.hosts()}
    assert hosts["alice"].ip6 == addressing.ip6_for(hosts["alice"].ip)
    assert hosts["home-dns"].ip6 == addressing.ip6_for(hosts["home-dns"].ip)


def test_ipv6_must_be_a_boolean(tmp_path):
    [message] = errors(tmp_path, HEAD + "ipv6: yes please\n")
    assert message.startswith("s.yaml:5:7: ipv6:")


def test_ipv6_flows_are_attributed_to_their_host():
    ev = {"t": 1.0, "rule": "r", "action": "reset", "technique": "sni",
          "detail": {"sni": "other.example"},
          "flow": {"proto": "tcp", "src": "2001:db8::c612:a", "sport": 5, "family": "ipv6",
                   "dst": "2001:db8::c613:a", "dport": 443}}
    window = Window(0.0, 2.0)
    assert matching_events([ev], "198.18.0.10", "www.example", "198.19.0.10", window,
                           "tcp", 443) == [ev]
    assert matching_events([ev], "198.18.0.11", "www.example", "198.19.0.10", window) == []


def test_forge_takes_an_ipv6_answer_after_a_comma(tmp_path):
    rules = ("censor:\n  rules:\n    - {id: f, match: {dns: example.com}, action: "
             "{forge: '%s'}}\n")
    sc = load(str(write(tmp_path, HEAD + rules % "198.19.0.9, 2001:DB8::9")))
    assert sc.censor.rules[0].action == {"type": "forge", "ip": "198.19.0.9",
                                         "ip6": "2001:db8::9"}
    assert errors(tmp_path, HEAD + rules % "198.19.0.9, 10.0.0.1") == [
        "s.yaml:7:58: censor.rules[0].action.forge: bad address '10.0.0.1': forge's answer "
        "to AAAA queries must be an IPv6 address such as 2001:db8::99"]


def test_the_shells_event_lines_name_hosts_over_ipv6_too(tmp_path):
    from types import SimpleNamespace
    from lab.teach.console import Console
    console = Console(SimpleNamespace(scenario=load(str(write(tmp_path, HEAD + "ipv6: true\n")))))
    line = console.event_line({"t": 1.0, "action": "reset", "rule": "r", "technique": "sni",
                               "flow": {"proto": "tcp", "src": "2001:db8::c612:a", "sport": 4000,
                                        "dst": "2001:db8::c613:a", "dport": 443,
                                        "family": "ipv6"}})
    assert "tcp alice:4000 -> web:443" in line, line
