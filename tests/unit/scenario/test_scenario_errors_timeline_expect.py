"""Every kind of mistake in the timeline and the expectations, and the exact line it gives:
`timeline` entries (the rules they name, one change each, policies) and `expect` entries
(clients, targets, rules, the browser).

One case per error class, as in test_scenario_errors.py (which says what a case is).
"""
from __future__ import annotations

from scenario_helpers import HEAD, exact_diagnostics

CASES = [
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
    ('browser-on-a-non-web-url', HEAD + """\
expect:
  - {from: alice, url: "quic://example.com/", blocked: false, browser: true}
""",
     "s.yaml:6:72: expect[0].browser: a browser opens web pages: want an http:// or https:// "
     "url, not 'quic://example.com/'"),
]

test_broken_file_gives_exact_diagnostics = exact_diagnostics(CASES)
