"""Every kind of mistake in a censor rule's `match`, and the exact line it gives: keys, name
patterns, addresses and CIDRs, address groups, families, ports, TLS and QUIC extension numbers,
paths, servers.

One case per error class, as in test_scenario_errors.py (which says what a case is).
"""
from __future__ import annotations

from scenario_helpers import HEAD, exact_diagnostics

CASES = [
    ('unknown-match-key', HEAD + """\
censor:
  rules:
    - {id: a, match: {snii: example.com}, action: drop}
""",
     "s.yaml:7:23: censor.rules[0].match: unknown key 'snii' (did you mean 'sni'?)"),
    ('wrong-type-match', HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: 5}, action: drop}
""",
     's.yaml:7:28: censor.rules[0].match.sni: expected a name pattern or a list of them, got a '
     'number (5)'),
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
    ('quic-ext-bad-number', HEAD + """\
censor:
  rules:
    - {id: a, match: {quic_ext: 0xfe0dd}, action: drop}
""",
     "s.yaml:7:33: censor.rules[0].match.quic_ext: 1040605 is out of range 0..65535"),
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
]

test_broken_file_gives_exact_diagnostics = exact_diagnostics(CASES)
