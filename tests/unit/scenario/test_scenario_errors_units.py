"""Every kind of mistake in a value with a unit, and the exact line it gives: rates, sizes,
durations, percentages, probabilities (in rules, links and the timeline).

One case per error class, as in test_scenario_errors.py (which says what a case is).
"""
from __future__ import annotations

from scenario_helpers import HEAD, exact_diagnostics

CASES = [
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
]

test_broken_file_gives_exact_diagnostics = exact_diagnostics(CASES)
