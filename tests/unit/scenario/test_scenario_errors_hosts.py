"""Every kind of mistake in a scenario's hosts, and the exact line it gives: clients' and
servers' names, addresses, domains, what they serve, the resolver.

One case per error class, as in test_scenario_errors.py (which says what a case is).
"""
from __future__ import annotations

from scenario_helpers import HEAD, exact_diagnostics

CASES = [
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
]

test_broken_file_gives_exact_diagnostics = exact_diagnostics(CASES)
