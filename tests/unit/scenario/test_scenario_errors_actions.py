"""Every kind of mistake in a censor rule and its action, and the exact line it gives: rule
ids, the `action` (names, arguments, what each needs from the match and the censor's mode),
residual penalty boxes, intercept.

One case per error class, as in test_scenario_errors.py (which says what a case is).
"""
from __future__ import annotations

from scenario_helpers import HEAD, errors, exact_diagnostics

CASES = [
    ('unknown-key-rule', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, acton: drop}
""",
     "s.yaml:7:42: censor.rules[0]: unknown key 'acton' (did you mean 'action'?)"),
    ('duplicate-rule-id', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: drop}
    - {id: a, match: {dns: example.com}, action: nxdomain}
""",
     "s.yaml:8:12: censor.rules[1].id: duplicate rule id 'a' (first at line 7)"),
    ('bad-rule-id', HEAD + """\
censor:
  rules:
    - {id: 'a b', match: {sni: example.com}, action: drop}
""",
     "s.yaml:7:12: censor.rules[0].id: bad rule id 'a b': use letters, digits, '_', '.' and '-' "
     '(at most 64)'),
    ('rule-missing-action', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}}
""",
     "s.yaml:7:7: censor.rules[0]: missing required key 'action'"),
    ('bad-action', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: dorp}
""",
     "s.yaml:7:50: censor.rules[0].action: 'dorp' is not one of drop, drop_reply, reject, reset, rst_handshake, nxdomain, "
     "servfail, refused, blockpage, allow (did you mean 'drop'?)"),
    ('action-needs-argument', HEAD + """\
censor:
  rules:
    - {id: a, match: {dns: example.com}, action: forge}
""",
     's.yaml:7:50: censor.rules[0].action: forge needs an address: {forge: 198.19.0.99}'),
    ('ban-after-needs-residual', HEAD + """\
censor:
  rules:
    - {id: a, match: {proto: icmp}, action: {ban_after: 2}}
""",
     's.yaml:7:45: censor.rules[0].action: ban_after bans a client from a server address for '
     'the rule\'s residual: add one, e.g. residual: 10s'),
    ('ban-after-headers-only', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: {ban_after: 2}, residual: 5s}
""",
     's.yaml:7:50: censor.rules[0].action: ban_after counts packets by their headers: match on '
     'headers only (ip, proto, port, server), e.g. proto: icmp'),
    ('ban-after-not-on-a-tap', HEAD + """\
censor:
  mode: tap
  rules:
    - {id: a, match: {proto: icmp}, action: {ban_after: 2}, residual: 5s}
""",
     's.yaml:8:45: censor.rules[0].action: ban_after needs mode: inline: a tap only sees copies '
     'and cannot drop what it counts'),
    ('action-two-keys', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: {throttle: 1Mbit, cut_after: 1MB}}
""",
     's.yaml:7:50: censor.rules[0].action: give one action, not several'),
    ('action-unknown-key', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: {throtle: 1Mbit}}
""",
     "s.yaml:7:51: censor.rules[0].action: unknown key 'throtle' (did you mean 'throttle'?)"),
    ('forge-bad-ip', HEAD + """\
censor:
  rules:
    - {id: a, match: {dns: example.com}, action: {forge: 10.0.0}}
""",
     "s.yaml:7:58: censor.rules[0].action.forge: bad address '10.0.0': forge needs an IPv4 "
     "address such as 198.19.0.99 (and, for AAAA queries, an IPv6 one after a comma: "
     "'198.19.0.99, 2001:db8::99')"),
    ('blockpage-bad-status', HEAD + """\
censor:
  rules:
    - {id: a, match: {host: example.com}, action: {blockpage: {status: 999}}}
""",
     's.yaml:7:72: censor.rules[0].action.blockpage.status: 999 is out of range 100..599'),
    ('dns-action-needs-dns', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: nxdomain}
""",
     's.yaml:7:50: censor.rules[0].action: nxdomain answers DNS queries, so the match needs a '
     'dns key (e.g. dns: [example.com])'),
    ('inject-needs-dns', HEAD + """\
censor:
  rules:
    - {id: a, match: {ip: 198.19.0.10}, action: {inject: 10.10.34.34}}
""",
     's.yaml:7:49: censor.rules[0].action: inject answers DNS queries, so the match needs a dns '
     'key (e.g. dns: [example.com])'),
    ('blockpage-needs-http', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: blockpage}
""",
     's.yaml:7:50: censor.rules[0].action: blockpage answers an HTTP request, so the match needs '
     'a host or path key'),
    ('reset-needs-tcp', HEAD + """\
censor:
  rules:
    - {id: a, match: {proto: udp, port: 443}, action: reset}
""",
     's.yaml:7:55: censor.rules[0].action: reset sends TCP RSTs, so the match must be TCP: add '
     'proto: tcp, or match sni, host, path, tls_ext or a TCP protocol'),
    ('reset-needs-tcp-protocol', HEAD + """\
censor:
  rules:
    - {id: a, match: {protocol: stun}, action: reset}
""",
     's.yaml:7:48: censor.rules[0].action: reset sends TCP RSTs, so the match must be TCP: add '
     'proto: tcp, or match sni, host, path, tls_ext or a TCP protocol'),
    ('quic-sni-reset', HEAD + """\
censor:
  rules:
    - {id: a, match: {quic_sni: example.com}, action: reset}
""",
     's.yaml:7:55: censor.rules[0].action: quic_sni matches QUIC over UDP: there is no TCP '
     'connection to reset; use drop'),
    ('quic-ext-reset', HEAD + """\
censor:
  rules:
    - {id: a, match: {quic_ext: 0xfe0d}, action: reset}
""",
     's.yaml:7:50: censor.rules[0].action: quic_ext matches QUIC over UDP: there is no TCP '
     'connection to reset; use drop'),
    ('quic-sni-blockpage', HEAD + """\
censor:
  rules:
    - {id: a, match: {quic_sni: example.com, host: example.com}, action: blockpage}
""",
     's.yaml:7:74: censor.rules[0].action: quic_sni matches QUIC over UDP: there is no HTTP to '
     'answer; use drop'),
    ('throttle-dns', HEAD + """\
censor:
  rules:
    - {id: a, match: {dns: example.com}, action: {throttle: 1Mbit}}
""",
     "s.yaml:7:50: censor.rules[0].action: throttle acts on a flow's bytes, but a dns match "
     'decides single DNS queries (use drop or nxdomain)'),
    ('forge-in-tap', HEAD + """\
censor:
  mode: tap
  rules:
    - {id: a, match: {dns: example.com}, action: {forge: 10.10.34.34}}
""",
     's.yaml:8:50: censor.rules[0].action: forge needs mode: inline (a tap cannot drop the real '
     'answer): use inject'),
    ('per-rule-not-throttle', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: drop, per: rule}
""",
     "s.yaml:7:61: censor.rules[0].per: 'rule' shares a throttle's rate between flows, but this "
     "rule's action is drop"),
    ('residual-on-allow', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: allow, residual: 90s}
""",
     's.yaml:7:67: censor.rules[0].residual: an allow rule blocks nothing, so it has no residual'),
    ('residual-scope-without-residual', HEAD + """\
censor:
  rules:
    - {id: a, match: {proto: udp}, action: drop, residual_scope: server}
""",
     's.yaml:7:66: censor.rules[0].residual_scope: scopes a penalty box, but the rule has no '
     'residual (add e.g. residual: 10m)'),
    ('residual-spare-on-a-port-box', HEAD + """\
censor:
  rules:
    - {id: a, match: {proto: udp}, action: drop, residual: 10s, residual_spare: [22]}
""",
     's.yaml:7:81: censor.rules[0].residual_spare: spares ports of a server-wide box: add '
     'residual_scope: server'),
    ('residual-scope-unknown', HEAD + """\
censor:
  rules:
    - {id: a, match: {proto: udp}, action: drop, residual: 10s, residual_scope: host}
""",
     "s.yaml:7:81: censor.rules[0].residual_scope: 'host' is not one of port, server"),
    ('drop-in-tap', HEAD + """\
censor:
  mode: tap
  rules:
    - {id: a, match: {sni: example.com}, action: drop}
""",
     's.yaml:8:50: censor.rules[0].action: drop needs mode: inline: a tap only sees copies and '
     'cannot drop (use reset or reject)'),
    ('throttle-in-tap', HEAD + """\
censor:
  mode: tap
  rules:
    - {id: a, match: {sni: example.com}, action: {throttle: 1Mbit}}
""",
     's.yaml:8:50: censor.rules[0].action: throttle needs mode: inline: a tap only sees copies '
     'and cannot slow a flow'),
    ('action-empty', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: {}}
""",
     's.yaml:7:50: censor.rules[0].action: empty action: give one, e.g. drop or {throttle: '
     '128kbit}'),
    ('action-simple-with-value', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: {drop: true}}
""",
     "s.yaml:7:51: censor.rules[0].action: 'drop' takes no value: write action: drop"),
    ('action-null', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action:}
""",
     's.yaml:7:49: censor.rules[0].action: expected an action (drop, drop_reply, reject, reset, rst_handshake, nxdomain, '
     'servfail, refused, blockpage, allow) or a mapping such as {throttle: 128kbit}, got nothing '
     '(null)'),
]

test_broken_file_gives_exact_diagnostics = exact_diagnostics(CASES)


def test_intercept_names_a_server_of_the_scenario(tmp_path):
    text = HEAD + """\
censor:
  rules:
    - {id: mitm, match: {server: [web], proto: tcp}, action: {intercept: box}}
"""
    [message] = errors(tmp_path, text)
    assert message.startswith("s.yaml:7:"), message
    assert "censor.rules[0].action.intercept: unknown server 'box'" in message, message
    assert "serve: [intercept]" in message and "(known: web)" in message


def test_intercept_on_a_routed_network_needs_the_border_censor(tmp_path):
    text = """\
name: t
clients: [alice]
servers:
  - {name: web, domains: [a.example], serve: [https]}
  - {name: box, domains: [box.example], serve: [intercept]}
network:
  isps:
    - {name: home, kind: home, clients: [alice]}
  censors:
    - name: c
      at: home.uplink
      rules:
        - {id: m, match: {server: [web], proto: tcp}, action: {intercept: box}}
"""
    assert errors(tmp_path, text) == [
        "s.yaml:13:75: network.censors[0].rules[0].action.intercept: intercept diverts to a "
        "server, and only the border link's censor has the servers on its switch: put this "
        "censor at: border (it is at home.uplink)"]
