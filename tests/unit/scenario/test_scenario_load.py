"""Valid scenarios load to the expected dataclasses and compile to the policy of internals §1."""
from __future__ import annotations

import json

import pytest

from lab.scenario import (Censor, Expectation, Host, Link, Links, Rule, ScenarioError, Server,
                          TimelineEntry, load)
from scenario_helpers import write

FULL_EXAMPLE = """\
name: ru-2025-12
title: Russia blocks FaceTime; YouTube throttled; WhatsApp calls cut
sources: ["Reuters, 2025-12-04", "..."]
clients: [alice]                   # hosts on the censored side
resolver: isp                      # clients' DNS: isp (inside, censorable) or a server name
servers:                           # the internet; addresses auto-assigned from 198.18.0.0/15
  - name: apple
    domains: [facetime.apple.com]
    serve: [https, stun]
  - name: youtube
    domains: [www.youtube.com, "*.googlevideo.com"]
    serve: [https, bulk]
censor:
  mode: inline                     # inline (can hold/drop) | tap (copies only; injects)
  reassembly: true                 # reassemble TLS/HTTP across TCP segments before matching
  rules:                           # first match wins
    - id: facetime
      match: {sni: [facetime.apple.com]}
      action: drop
    - id: youtube-slow
      match: {sni: ["*.googlevideo.com"]}
      action: {throttle: 128kbit}
    - id: calls
      match: {protocol: stun}
      action: drop
timeline:
  - {at: 30s, disable: facetime}
expect:                            # what a correct detector should find (used for scoring)
  - {from: alice, url: "https://facetime.apple.com/", blocked: true}
"""


def rule_json(rule_id, match, action, residual=None, probability=None, per="flow",
              enabled=True):
    return {"id": rule_id, "enabled": enabled, "match": match, "action": action,
            "residual": residual, "probability": probability, "per": per}


def test_design_example_loads_to_dataclasses(tmp_path, monkeypatch):
    monkeypatch.setenv("BLOCKLAB_IPV6", "0")        # the IPv4-only shape of the example
    sc = load(write(tmp_path, FULL_EXAMPLE))
    assert sc.name == "ru-2025-12"
    assert sc.title.startswith("Russia blocks FaceTime")
    assert sc.summary == ""
    assert sc.sources == ("Reuters, 2025-12-04", "...")
    assert sc.clients == (Host("alice", "198.18.0.10", "02:00:c6:12:00:0a", "client"),)
    assert sc.resolver == "isp" and sc.resolver_ip() == "198.18.0.2"
    assert sc.servers == (
        Server("apple", "198.19.0.10", "02:00:c6:13:00:0a", "internet",
               ("facetime.apple.com",), ("https", "stun")),
        Server("youtube", "198.19.0.11", "02:00:c6:13:00:0b", "internet",
               ("www.youtube.com", "*.googlevideo.com"), ("https", "bulk")))
    assert sc.censor == Censor(rules=(
        Rule("facetime", {"sni": ["facetime.apple.com"]}, {"type": "drop"}),
        Rule("youtube-slow", {"sni": ["*.googlevideo.com"]},
             {"type": "throttle", "rate_bps": 128000}),
        Rule("calls", {"protocol": ["stun"]}, {"type": "drop"})))
    assert sc.timeline == (TimelineEntry(30.0, "disable", rule_id="facetime"),)
    assert sc.expect == (Expectation("alice", "https://facetime.apple.com/", True),)
    assert sc.links is None and sc.lesson is None


def test_design_example_compiles_to_policy(tmp_path, monkeypatch):
    monkeypatch.setenv("BLOCKLAB_IPV6", "0")        # the IPv4-only shape of the example
    sc = load(write(tmp_path, FULL_EXAMPLE))
    ports = {h.name: i + 1 for i, h in enumerate(sc.hosts())}
    policy = sc.policy(ports)
    assert json.loads(json.dumps(policy)) == policy      # plain JSON
    assert policy == {
        "mode": "inline", "reassembly": True, "inspect_packets": 8, "fail_mode": "secure",
        "seed": 0,
        "hosts": {
            "alice": {"ip": "198.18.0.10", "mac": "02:00:c6:12:00:0a", "port": 1,
                      "side": "client"},
            "isp": {"ip": "198.18.0.2", "mac": "02:00:c6:12:00:02", "port": 2,
                    "side": "client"},
            "public-dns": {"ip": "198.19.0.2", "mac": "02:00:c6:13:00:02", "port": 3,
                           "side": "internet"},
            "apple": {"ip": "198.19.0.10", "mac": "02:00:c6:13:00:0a", "port": 4,
                      "side": "internet", "domains": ["facetime.apple.com"]},
            "youtube": {"ip": "198.19.0.11", "mac": "02:00:c6:13:00:0b", "port": 5,
                        "side": "internet",
                        "domains": ["www.youtube.com", "*.googlevideo.com"]},
        },
        "rules": [
            rule_json("facetime", {"sni": ["facetime.apple.com"]}, {"type": "drop"}),
            rule_json("youtube-slow", {"sni": ["*.googlevideo.com"]},
                      {"type": "throttle", "rate_bps": 128000}),
            rule_json("calls", {"protocol": ["stun"]}, {"type": "drop"}),
        ],
    }


def test_helpers(tmp_path):
    sc = load(write(tmp_path, FULL_EXAMPLE))
    assert [h.name for h in sc.hosts()] == ["alice", "isp", "public-dns", "apple", "youtube"]
    assert sc.host("apple").ip == "198.19.0.10"
    assert sc.host("isp").ip == "198.18.0.2" and sc.host("nobody") is None
    assert sc.server_for("r1.googlevideo.com").name == "youtube"
    assert sc.server_for("R1.GoogleVideo.com.").name == "youtube"
    assert sc.server_for("googlevideo.com") is None      # *.x covers subdomains only
    assert sc.server_for("facetime.apple.com").name == "apple"
    assert sc.server_for("apple.com") is None
    assert sc.timeline[0].to_command() == {"cmd": "disable", "rule": "facetime"}
    assert sc.expect[0].is_url and sc.expect[0].domain == "facetime.apple.com"


EVERYTHING = """\
name: everything
summary: Every key the format has.
clients:
  - alice
  - {name: bob, address: 198.18.0.50}
  - carol
resolver: dns
servers:
  - {name: dns, domains: [resolver.example], serve: [dns]}
  - name: web
    domains: [Example.COM, "*.example.com"]
    serve: [http, https, quic]
    address: 198.19.0.11
  - {name: vps, serve: [vps, ssh]}
censor:
  mode: inline
  reassembly: false
  inspect_packets: 4
  fail_mode: standalone
  seed: 7
  rules:
    - id: ok
      match: {server: web, path: [/public]}
      action: allow
    - id: nx
      match: {dns: ["*.Example.com"], proto: udp}
      action: nxdomain
    - id: lie
      match: {dns: example.com}
      action: {inject: 10.10.34.34}
      probability: 0.5
    - id: page
      match: {host: example.com, path: /news}
      action: {blockpage: {status: 451, body: "<h1>451</h1>"}}
    - id: page2
      match: {host: example.com}
      action: blockpage
    - id: rst
      match: {sni: "*t.co*", port: [443, "8000-8100", "80"]}
      action: reset
      residual: 90s
    - id: slow
      match: {ip: [198.19.0.11, 198.19.0.0/16], proto: [tcp, udp]}
      action: {throttle: 1.5Mbit}
      per: rule
    - id: cut
      match: {protocol: [tls], tls_ext: [0xffce, "0x0010", 43]}
      action: {cut_after: 16KB}
    - id: quic
      match: {quic_sni: example.com, sport_above_dport: true}
      action: drop
      enabled: false
    - id: fet
      match: {proto: tcp, not: {protocol: [dns, http, tls]}}
      action: reject
    - {id: srv, match: {dns: example.com}, action: servfail}
    - {id: ref, match: {dns: example.com}, action: refused}
timeline:
  - {at: 2m, policy: [{id: all, match: {ip: 0.0.0.0/0}, action: drop}]}
  - {at: 0, enable: quic}
  - {at: 1.5s, replace: {id: slow, match: {server: web}, action: {throttle: 1Gbit}}}
  - {at: 500ms, disable: ok}
expect:
  - {from: bob, url: "https://www.example.com/news", blocked: true, technique: sni, rule: rst}
  - {from: carol, domain: example.com, blocked: true, rule: nx}
  - {from: alice, url: "ssh://198.19.0.12/", blocked: false}
links:
  client: {bw: 10Mbit, delay: 20ms, jitter: 5ms, loss: 0.5%}
  internet: {bw: 1Gbit}
lesson:
  - {say: "Try the site.", run: "alice: curl https://www.example.com/", expect: blocked}
"""


def test_every_key_loads(tmp_path):
    sc = load(write(tmp_path, EVERYTHING))
    assert sc.title == "everything" and sc.summary == "Every key the format has."
    assert [(h.name, h.ip) for h in sc.clients] == [
        ("alice", "198.18.0.10"), ("bob", "198.18.0.50"), ("carol", "198.18.0.11")]
    assert [(h.name, h.ip) for h in sc.servers] == [
        ("dns", "198.19.0.10"), ("web", "198.19.0.11"), ("vps", "198.19.0.12")]
    assert sc.servers[1].domains == ("example.com", "*.example.com")
    assert sc.resolver == "dns" and sc.resolver_ip() == "198.19.0.10"
    c = sc.censor
    assert (c.mode, c.reassembly, c.inspect_packets, c.fail_mode, c.seed) == (
        "inline", False, 4, "standalone", 7)
    rules = {r.id: r.to_policy() for r in c.rules}
    assert rules["ok"] == rule_json("ok", {"server": ["web"], "path": ["/public"]},
                                    {"type": "allow"})
    assert rules["nx"]["match"] == {"dns": ["*.example.com"], "proto": ["udp"]}
    assert rules["lie"]["action"] == {"type": "inject", "ip": "10.10.34.34"}
    assert rules["lie"]["probability"] == 0.5
    assert rules["page"]["action"] == {"type": "blockpage", "status": 451, "body": "<h1>451</h1>"}
    assert rules["page2"]["action"] == {"type": "blockpage", "status": 403, "body": None}
    assert rules["rst"]["match"] == {"sni": ["*t.co*"],
                                     "port": [[443, 443], [8000, 8100], [80, 80]]}
    assert rules["rst"]["residual"] == 90.0
    assert rules["slow"]["match"] == {"ip": ["198.19.0.11/32", "198.19.0.0/16"],
                                      "proto": ["tcp", "udp"]}
    assert rules["slow"]["action"] == {"type": "throttle", "rate_bps": 1500000}
    assert rules["slow"]["per"] == "rule"
    assert rules["cut"]["match"] == {"protocol": ["tls"], "tls_ext": [0xffce, 16, 43]}
    assert rules["cut"]["action"] == {"type": "cut_after", "bytes": 16384}
    assert rules["quic"]["match"] == {"quic_sni": ["example.com"], "sport_above_dport": True}
    assert rules["quic"]["enabled"] is False
    assert rules["fet"]["match"] == {"proto": ["tcp"], "not": {"protocol": ["dns", "http", "tls"]}}
    assert rules["srv"]["action"] == {"type": "servfail"}
    assert rules["ref"]["action"] == {"type": "refused"}
    assert [(e.at, e.op) for e in sc.timeline] == [
        (0.0, "enable"), (0.5, "disable"), (1.5, "replace"), (120.0, "policy")]
    assert sc.timeline[2].rule_id == "slow"
    assert sc.timeline[2].to_command()["rule"]["action"] == {"type": "throttle",
                                                            "rate_bps": 1000000000}
    assert sc.timeline[3].to_command() == {"cmd": "policy", "rules": [
        rule_json("all", {"ip": ["0.0.0.0/0"]}, {"type": "drop"})]}
    assert sc.expect == (
        Expectation("bob", "https://www.example.com/news", True, "sni", "rst"),
        Expectation("carol", "example.com", True, None, "nx"),
        Expectation("alice", "ssh://198.19.0.12/", False))
    assert not sc.expect[1].is_url and sc.expect[1].domain == "example.com"
    assert sc.links == Links(Link(10.0, 20.0, 5.0, 0.5), Link(1000.0, None, None, None))
    assert sc.lesson == [{"say": "Try the site.", "run": "alice: curl https://www.example.com/",
                          "expect": "blocked"}]


def test_explicit_addresses_are_skipped_by_auto_assignment(tmp_path):
    sc = load(write(tmp_path, """\
        name: t
        clients: [{name: a, address: 198.18.0.10}, b, {name: c, address: 198.19.0.10}]
        servers: [{name: s}, {name: u, address: 198.19.0.11}, {name: v}]
        """))
    assert [h.ip for h in sc.clients] == ["198.18.0.10", "198.18.0.11", "198.19.0.10"]
    assert [h.ip for h in sc.servers] == ["198.19.0.12", "198.19.0.11", "198.19.0.13"]


def test_merge_keys_and_anchors(tmp_path):
    sc = load(write(tmp_path, """\
        name: t
        clients: [alice]
        servers: [{name: web, domains: [x.com], serve: [dns, http]}]
        censor:
          rules:
            - &dns {id: a, match: {dns: x.com}, action: nxdomain}
            - <<: *dns
              id: b
              action: servfail
        """))
    assert [(r.id, r.action["type"]) for r in sc.censor.rules] == [("a", "nxdomain"),
                                                                   ("b", "servfail")]


def test_rule_objects_are_immutable(tmp_path):
    sc = load(write(tmp_path, FULL_EXAMPLE))
    with pytest.raises(AttributeError):
        sc.censor.rules[0].id = "x"
    policy = sc.censor.rules[0].to_policy()
    policy["match"]["sni"].append("evil.example")
    assert sc.censor.rules[0].match == {"sni": ["facetime.apple.com"]}


def test_load_reports_every_problem(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load(write(tmp_path, "name: T\nclients: []\nservers: {}\n"))
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.diagnostics) == 3
    assert all(line.startswith(str(tmp_path / "s.yaml") + ":") or line.startswith("s.yaml:")
               or "s.yaml:" in line for line in lines)


def test_a_tap_can_inject_reset_reject_and_answer(tmp_path):
    sc = load(write(tmp_path, """\
        name: gfw
        clients: [alice]
        servers: [{name: web, domains: [example.com], serve: [dns, http, https]}]
        censor:
          mode: tap
          rules:
            - {id: ok, match: {host: example.com, path: /ok}, action: allow}
            - {id: dns, match: {dns: example.com}, action: {inject: 10.10.34.34}}
            - {id: nx, match: {dns: "*.example.com"}, action: nxdomain}
            - {id: rst, match: {sni: example.com}, action: reset, residual: 90s}
            - {id: page, match: {host: example.com}, action: blockpage}
            - {id: icmp, match: {proto: udp, port: 3478}, action: reject}
        """))
    assert sc.censor.mode == "tap"
    assert [r.action["type"] for r in sc.censor.rules] == [
        "allow", "inject", "nxdomain", "reset", "blockpage", "reject"]


def test_an_address_group_loads_as_the_lab_hosts_addresses(tmp_path):
    from lab.scenario.addressing import TOR_KNOWN_BRIDGES, TOR_RELAYS
    sc = load(write(tmp_path, """\
        name: t
        clients: [alice]
        servers: [{name: web, serve: [https]}]
        censor:
          rules:
            - {id: relays, match: {ip: "@tor-relays", proto: tcp}, action: drop}
            - {id: bridges, match: {ip: ["@tor-bridges", 198.19.0.10, "@tor-bridges"]},
               action: drop}
        """))
    relays, bridges = sc.censor.rules
    assert relays.match["ip"] == [f"{ip}/32" for ip in TOR_RELAYS]
    assert bridges.match["ip"] == [f"{ip}/32" for ip in TOR_KNOWN_BRIDGES] + ["198.19.0.10/32"]
