"""The routed network several integration tests build (test_topology, test_capture,
test_dashboard): three ISPs and three censors, each at its own place."""
from __future__ import annotations


def three_isps(name: str, gfw_rule: str, expect: str = "") -> str:
    """A scenario's text: alice at home, bob on mobile, carol at a university with its own
    resolver; servers a, b and c (a.example, ... over https); censors tspu on home's uplink
    (TTL 50, one router from alice) resetting a.example, mob on mobile's access LAN (TTL 40,
    next to bob) resetting c.example, and gfw at the border (two routers from every client)
    with `gfw_rule`, a rule as a YAML flow mapping; then `expect`, its lines if any."""
    return f"""\
name: {name}
clients: [alice, bob, carol]
servers:
  - {{name: a, domains: [a.example], serve: [https]}}
  - {{name: b, domains: [b.example], serve: [https]}}
  - {{name: c, domains: [c.example], serve: [https]}}
network:
  isps:
    - {{name: home, clients: [alice]}}
    - {{name: mobile, kind: mobile, clients: [bob]}}
    - {{name: uni, kind: university, clients: [carol], resolver: true}}
  censors:
    - name: tspu                      # inside the home ISP, one router from its clients
      at: home.uplink
      ttl: 50
      rules: [{{id: tspu-a, match: {{sni: a.example}}, action: reset}}]
    - name: mob                       # on the mobile ISP's access LAN, next to its clients
      at: mobile.access
      ttl: 40
      rules: [{{id: mob-c, match: {{sni: c.example}}, action: reset}}]
    - name: gfw                       # at the border, two routers from every client
      at: border
      rules: [{gfw_rule}]
""" + expect
