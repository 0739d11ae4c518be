"""Every kind of mistake in a scenario file, and the exact line it gives.

One case per error class: a small file, and its `FILE:LINE:COL: message` diagnostics, which
name the field at fault and point at the offending key or value (a missing key: the mapping
that lacks it).
"""
from __future__ import annotations

import pytest

from scenario_helpers import HEAD, errors

CASES = [
    ('yaml-syntax', """\
name: t
clients: [alice
servers: []
""",
     "s.yaml:3:8: YAML: expected ',' or ']', but got ':' (while parsing a flow sequence at line "
     '2)'),
    ('yaml-colon-in-value', """\
name: t
title: Open: nothing blocked
clients: [alice]
servers: []
""",
     "s.yaml:2:12: YAML: mapping values are not allowed here (a value with ': ' in it needs "
     'quotes)'),
    ('yaml-tab', """\
name: t
\tclients: [alice]
""",
     "s.yaml:2:1: YAML: found character '\\t' that cannot start any token"),
    ('yaml-duplicate-key', HEAD + """\
clients: [bob]
""",
     "s.yaml:5:1: duplicate key 'clients' (first at line 2)"),
    ('yaml-two-documents', HEAD + """\
---
name: u
""",
     's.yaml:5:1: YAML: expected a single document in the stream, but found another document'),
    ('yaml-unknown-tag', HEAD + """\
summary: !shout hello
""",
     "s.yaml:5:10: YAML: could not determine a constructor for the tag '!shout'"),
    ('not-utf8', b'name: t\nsummary: caf\xe9\n',
     's.yaml:2:13: not UTF-8 text (byte 0xe9)'),
    ('empty-file', """\
""",
     's.yaml:1:1: empty scenario: it needs at least name, clients and servers'),
    ('not-a-mapping', """\
- name: t
""",
     's.yaml:1:1: expected a mapping, got a list'),
    ('missing-required', """\
title: nothing else
""",
     ["s.yaml:1:1: missing required key 'name'",
      "s.yaml:1:1: missing required key 'clients'",
      "s.yaml:1:1: missing required key 'servers'"]),
    ('unknown-key-top', HEAD + """\
resolvr: isp
""",
     "s.yaml:5:1: unknown key 'resolvr' (did you mean 'resolver'?)"),
    ('unknown-key-rule', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, acton: drop}
""",
     "s.yaml:7:42: censor.rules[0]: unknown key 'acton' (did you mean 'action'?)"),
    ('unknown-match-key', HEAD + """\
censor:
  rules:
    - {id: a, match: {snii: example.com}, action: drop}
""",
     "s.yaml:7:23: censor.rules[0].match: unknown key 'snii' (did you mean 'sni'?)"),
    ('wrong-type-list', """\
name: t
clients: alice
servers: []
""",
     "s.yaml:2:10: clients: expected a list, got a string ('alice')"),
    ('wrong-type-bool', HEAD + """\
censor: {reassembly: maybe}
""",
     "s.yaml:5:22: censor.reassembly: expected true or false, got a string ('maybe')"),
    ('wrong-type-match', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: 5}, action: drop}
""",
     's.yaml:7:28: censor.rules[0].match.sni: expected a name pattern or a list of them, got a '
     'number (5)'),
    ('bad-enum-mode', HEAD + """\
censor: {mode: inlin}
""",
     "s.yaml:5:16: censor.mode: 'inlin' is not one of inline, tap (did you mean 'inline'?)"),
    ('bad-host-name', """\
name: t
clients: [Alice]
servers: []
""",
     "s.yaml:2:11: clients[0]: bad host name 'Alice': use 1-10 characters a-z, 0-9 and '-', "
     'starting with a letter'),
    ('reserved-host-name', """\
name: t
clients: [isp]
servers: []
""",
     "s.yaml:2:11: clients[0]: 'isp' is the name of a host the lab creates itself; choose another"),
    ('duplicate-client', """\
name: t
clients: [alice, bob, alice]
servers: []
""",
     "s.yaml:2:23: clients[2]: duplicate host name 'alice' (already a client, line 2)"),
    ('duplicate-host-across', """\
name: t
clients: [web]
servers:
  - {name: web, domains: [example.com, "*.example.net"], serve: [dns, http, https, quic]}
""",
     "s.yaml:4:12: servers[0].name: duplicate host name 'web' (already a client, line 2)"),
    ('bad-address', """\
name: t
clients: [{name: alice, address: 198.18.0.300}]
servers: []
""",
     "s.yaml:2:34: clients[0].address: bad address '198.18.0.300': expected an IPv4 address such "
     'as 198.18.0.50'),
    ('address-outside-lab', """\
name: t
clients: [{name: alice, address: 10.0.0.5}]
servers: []
""",
     "s.yaml:2:34: clients[0].address: address 10.0.0.5 is outside the lab's 198.18.0.0/15"),
    ('address-reserved', """\
name: t
clients: [{name: alice, address: 198.18.0.2}]
servers: []
""",
     's.yaml:2:34: clients[0].address: address 198.18.0.2 is reserved for the ISP resolver (isp)'),
    ('address-duplicate', """\
name: t
clients:
  - {name: alice, address: 198.18.0.50}
  - {name: bob, address: 198.18.0.50}
servers: []
""",
     "s.yaml:4:26: clients[1].address: address 198.18.0.50 is already used by 'alice' (line 3)"),
    ('duplicate-domain', HEAD + """\
  - {name: other, domains: [Example.com]}
""",
     "s.yaml:5:29: servers[1].domains[0]: 'Example.com' is already served by 'web'"),
    ('bad-serve', """\
name: t
clients: [alice]
servers: [{name: web, serve: [htps]}]
""",
     "s.yaml:3:31: servers[0].serve[0]: 'htps' is not one of dns, http, https, quic, stun, "
     "udp-echo, bulk, ssh, vps, https-alt, intercept (did you mean 'https'?)"),
    ('resolver-unknown', HEAD + """\
resolver: pubic
""",
     "s.yaml:5:11: resolver: 'pubic' is not isp, public or a server's name (did you mean "
     "'public'?)"),
    ('resolver-no-dns', """\
name: t
clients: [alice]
servers: [{name: web, serve: [http]}]
resolver: web
""",
     "s.yaml:4:11: resolver: server 'web' does not serve dns (add dns to its serve list)"),
    ('bad-cidr-host-bits', HEAD + """\
censor:
  rules:
    - {id: a, match: {ip: 198.19.0.10/16}, action: drop}
""",
     "s.yaml:7:27: censor.rules[0].match.ip: bad CIDR '198.19.0.10/16': host bits set (did you "
     "mean '198.19.0.0/16'?)"),
    ('bad-cidr', HEAD + """\
censor:
  rules:
    - {id: a, match: {ip: [198.19.0.10, 10.0.0.0/33]}, action: drop}
""",
     "s.yaml:7:41: censor.rules[0].match.ip[1]: bad address or CIDR '10.0.0.0/33' (e.g. "
     '198.19.0.10, 10.0.0.0/8 or 2001:db8::/32)'),
    ('address-group-unknown', HEAD + """\
censor:
  rules:
    - {id: a, match: {ip: ['198.19.0.10', '@tor-relay']}, action: drop}
""",
     "s.yaml:7:43: censor.rules[0].match.ip[1]: no address group '@tor-relay' (did you mean "
     "'@tor-relays'?); known: @tor-relays, @tor-bridges"),
    ('ipv6-cidr-host-bits', HEAD + """\
censor:
  rules:
    - {id: a, match: {ip: '2001:db8::1/32'}, action: drop}
""",
     "s.yaml:7:27: censor.rules[0].match.ip: bad CIDR '2001:db8::1/32': host bits set (did "
     "you mean '2001:db8::/32'?)"),
    ('family-typo', HEAD + """\
censor:
  rules:
    - {id: a, match: {family: ip6}, action: drop}
""",
     "s.yaml:7:31: censor.rules[0].match.family: 'ip6' is not one of ipv4, ipv6 (did you "
     "mean 'ipv6'?)"),
    ('port-out-of-range', HEAD + """\
censor:
  rules:
    - {id: a, match: {port: 70000}, action: drop}
""",
     's.yaml:7:29: censor.rules[0].match.port: 70000 is out of range 1..65535'),
    ('port-range-reversed', HEAD + """\
censor:
  rules:
    - {id: a, match: {port: [443, 9000-8000]}, action: drop}
""",
     "s.yaml:7:35: censor.rules[0].match.port[1]: bad port range '9000-8000': 9000 is above 8000 "
     "(did you mean '8000-9000'?)"),
    ('port-range-out', HEAD + """\
censor:
  rules:
    - {id: a, match: {port: 1-99999}, action: drop}
""",
     's.yaml:7:29: censor.rules[0].match.port: port 99999 is out of range 1..65535'),
    ('port-not-a-port', HEAD + """\
censor:
  rules:
    - {id: a, match: {port: https}, action: drop}
""",
     "s.yaml:7:29: censor.rules[0].match.port: bad port 'https': a number 1-65535 or a range "
     "'lo-hi'"),
    ('port-with-icmp', HEAD + """\
censor:
  rules:
    - {id: a, match: {proto: icmp, port: 7}, action: drop}
""",
     's.yaml:7:42: censor.rules[0].match.port: ports need tcp or udp, and proto is icmp'),
    ('tls-ext-range', HEAD + """\
censor:
  rules:
    - {id: a, match: {tls_ext: '99999'}, action: reset}
""",
     's.yaml:7:32: censor.rules[0].match.tls_ext: extension type 99999 is out of range 0..65535'),
    ('bad-rate', HEAD + """\
censor:
  rules:
    - id: a
      match: {sni: example.com}
      action: {throttle: 128kbps}
""",
     "s.yaml:9:26: censor.rules[0].action.throttle: bad rate '128kbps' (did you mean '128kbit'?)"),
    ('bad-rate-bytes', HEAD + """\
censor:
  rules:
    - id: a
      match: {sni: example.com}
      action: {throttle: 16KB/s}
""",
     "s.yaml:9:26: censor.rules[0].action.throttle: bad rate '16KB/s' (did you mean '128kbit'? "
     'rates are bits per second)'),
    ('rate-no-unit', HEAD + """\
censor:
  rules:
    - id: a
      match: {sni: example.com}
      action: {throttle: 128}
""",
     's.yaml:9:26: censor.rules[0].action.throttle: bad rate 128: a rate needs a unit, kbit, '
     "Mbit or Gbit (bits per second), e.g. '128kbit'"),
    ('rate-zero', HEAD + """\
censor:
  rules:
    - id: a
      match: {sni: example.com}
      action: {throttle: 0kbit}
""",
     "s.yaml:9:26: censor.rules[0].action.throttle: bad rate '0kbit': must be more than 0"),
    ('bad-size', HEAD + """\
censor:
  rules:
    - id: a
      match: {sni: example.com}
      action: {cut_after: 16kb}
""",
     "s.yaml:9:27: censor.rules[0].action.cut_after: bad size '16kb' (did you mean '16KB'?)"),
    ('bad-duration', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: drop, residual: 90sec}
""",
     "s.yaml:7:66: censor.rules[0].residual: bad duration '90sec' (did you mean '90s'?)"),
    ('duration-no-unit', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: drop}
timeline:
  - {at: 30, disable: a}
""",
     "s.yaml:9:10: timeline[0].at: bad duration 30: give a unit (did you mean '30s' or '30ms'?)"),
    ('bad-percent', HEAD + """\
links:
  client: {loss: 0.5}
""",
     "s.yaml:6:18: links.client.loss: bad percentage 0.5 (did you mean '0.5%'?)"),
    ('jitter-without-delay', HEAD + """\
links:
  internet: {jitter: 5ms}
""",
     's.yaml:6:14: links.internet.jitter: jitter varies the delay: give a delay too'),
    ('probability-range', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: drop, probability: 1.5}
""",
     's.yaml:7:69: censor.rules[0].probability: 1.5 is out of range 0..1'),
    ('probability-nan', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: drop, probability: .nan}
""",
     's.yaml:7:69: censor.rules[0].probability: must be a number from 0 to 1'),
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
    ('empty-match', HEAD + """\
censor:
  rules:
    - {id: a, match: {}, action: drop}
""",
     's.yaml:7:22: censor.rules[0].match: empty match: give at least one key (server, ip, proto, '
     'port, dns, sni, ...); to match everything use ip: 0.0.0.0/0'),
    ('empty-not', HEAD + """\
censor:
  rules:
    - {id: a, match: {port: 443, not: {}}, action: drop}
""",
     's.yaml:7:39: censor.rules[0].match.not: empty match: give at least one key (server, ip, '
     'proto, port, dns, sni, ...); to match everything use ip: 0.0.0.0/0'),
    ('match-unknown-server', HEAD + """\
censor:
  rules:
    - {id: a, match: {server: wbe}, action: drop}
""",
     "s.yaml:7:31: censor.rules[0].match.server: no server named 'wbe' (did you mean 'web'?)"),
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
    ('quic-ext-bad-number', HEAD + """\
censor:
  rules:
    - {id: a, match: {quic_ext: 0xfe0dd}, action: drop}
""",
     "s.yaml:7:33: censor.rules[0].match.quic_ext: 1040605 is out of range 0..65535"),
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
    ('timeline-unknown-rule', HEAD + """\
censor:
  rules:
    - {id: facetime, match: {sni: example.com}, action: drop}
timeline:
  - {at: 30s, disable: facetim}
""",
     "s.yaml:9:24: timeline[0].disable: no rule 'facetim' at 30s (did you mean 'facetime'?)"),
    ('timeline-two-ops', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: drop}
timeline:
  - {at: 30s, enable: a, disable: a}
""",
     's.yaml:9:26: timeline[0]: give only one of enable, disable, replace, policy, not both '
     'enable and disable'),
    ('timeline-no-op', HEAD + """\
timeline:
  - {at: 30s}
""",
     's.yaml:6:5: timeline[0]: missing key: one of enable, disable, replace, policy'),
    ('timeline-after-policy', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: drop}
timeline:
  - {at: 10s, policy: [{id: b, match: {dns: example.com}, action: nxdomain}]}
  - {at: 20s, disable: a}
""",
     "s.yaml:10:24: timeline[1].disable: no rule 'a' at 20s (the policy at 10s replaced the "
     'rules)'),
    ('timeline-replace-bad-rule', HEAD + """\
timeline:
  - {at: 1m, replace: {id: a, match: {sni: example.com}, action: nxdomain}}
""",
     's.yaml:6:66: timeline[0].replace.action: nxdomain answers DNS queries, so the match needs '
     'a dns key (e.g. dns: [example.com])'),
    ('timeline-policy-duplicate', HEAD + """\
timeline:
  - at: 0
    policy:
      - {id: a, match: {sni: example.com}, action: drop}
      - {id: a, match: {sni: example.net}, action: drop}
""",
     "s.yaml:9:14: timeline[0].policy[1].id: duplicate rule id 'a' (first at line 8)"),
    ('expect-unknown-client', HEAD + """\
expect:
  - {from: alcie, url: 'https://example.com/', blocked: false}
""",
     "s.yaml:6:12: expect[0].from: no client named 'alcie' (did you mean 'alice'?)"),
    ('expect-server-as-client', HEAD + """\
expect:
  - {from: web, url: 'https://example.com/', blocked: false}
""",
     "s.yaml:6:12: expect[0].from: 'web' is a server; checks run from a client (alice)"),
    ('expect-unknown-domain', HEAD + """\
expect:
  - {from: alice, url: 'https://example.org/', blocked: false}
""",
     "s.yaml:6:24: expect[0].url: no server answers for 'example.org' (add it to a server's "
     'domains)'),
    ('expect-dns-unknown-domain', HEAD + """\
expect:
  - {from: alice, domain: example.org, blocked: true}
""",
     "s.yaml:6:27: expect[0].domain: no server answers for 'example.org' (add it to a server's "
     'domains)'),
    ('expect-bad-url', HEAD + """\
expect:
  - {from: alice, url: example.com, blocked: false}
""",
     "s.yaml:6:24: expect[0].url: bad url 'example.com': expected something like "
     'https://example.com/'),
    ('expect-unknown-rule', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: drop}
expect:
  - {from: alice, url: 'https://example.com/', blocked: true, rule: b}
""",
     "s.yaml:9:69: expect[0].rule: no rule named 'b'"),
    ('expect-url-and-domain', HEAD + """\
expect:
  - {from: alice, url: 'https://example.com/', domain: example.com, blocked: true}
""",
     's.yaml:6:48: expect[0]: give only one of url, domain, not both url and domain'),
    ('expect-no-target', HEAD + """\
expect:
  - {from: alice, blocked: true}
""",
     's.yaml:6:5: expect[0]: missing key: one of url, domain'),
    ('expect-missing-blocked', HEAD + """\
expect:
  - {from: alice, url: 'https://example.com/'}
""",
     "s.yaml:6:5: expect[0]: missing required key 'blocked'"),
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
    ('client-wrong-kind', """\
name: t
clients: [5]
servers: []
""",
     's.yaml:2:11: clients[0]: expected a host name or a mapping {name, address}, got a number '
     '(5)'),
    ('client-unknown-key', """\
name: t
clients: [{name: alice, adress: 198.18.0.9}]
servers: []
""",
     "s.yaml:2:25: clients[0]: unknown key 'adress' (did you mean 'address'?)"),
    ('client-trust-not-bool', """\
name: t
clients: [{name: alice, trust_lab_ca: no-thanks}]
servers: []
""",
     "s.yaml:2:39: clients[0].trust_lab_ca: expected true or false, got a string ('no-thanks')"),
    ('browser-on-a-non-web-url', HEAD + """\
expect:
  - {from: alice, url: "quic://example.com/", blocked: false, browser: true}
""",
     "s.yaml:6:72: expect[0].browser: a browser opens web pages: want an http:// or https:// "
     "url, not 'quic://example.com/'"),
    ('path-not-a-prefix', HEAD + """\
censor:
  rules:
    - {id: a, match: {path: news}, action: blockpage}
""",
     "s.yaml:7:29: censor.rules[0].match.path: bad path 'news': a path prefix starts with '/' "
     'and has no spaces'),
    ('name-pattern-is-url', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: 'https://example.com/'}, action: drop}
""",
     "s.yaml:7:28: censor.rules[0].match.sni: bad name pattern 'https://example.com/': a name "
     'like example.com or a shell glob like *.example.com'),
    ('wrong-type-section', HEAD + """\
timeline: {at: 1s}
""",
     's.yaml:5:11: timeline: expected a list, got a mapping'),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_file_gives_exact_diagnostics(tmp_path, text, expected):
    expected = [expected] if isinstance(expected, str) else expected
    assert errors(tmp_path, text) == expected


def test_cases_are_one_per_error_class():
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


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
