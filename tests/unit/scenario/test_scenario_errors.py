"""Every kind of mistake in a scenario file as a file, and the exact line it gives: YAML
syntax, encoding, required and unknown keys at the top, a section or value of the wrong type,
a value outside its enumeration.

One case per error class: a small file, and its `FILE:LINE:COL: message` diagnostics, which
name the field at fault and point at the offending key or value (a missing key: the mapping
that lacks it). The cases of the other parts of the format: test_scenario_errors*.py beside
this one; scenario_helpers.exact_diagnostics is the test they all run.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from scenario_helpers import HEAD, exact_diagnostics

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
    ('bad-enum-mode', HEAD + """\
censor: {mode: inlin}
""",
     "s.yaml:5:16: censor.mode: 'inlin' is not one of inline, tap (did you mean 'inline'?)"),
    ('wrong-type-section', HEAD + """\
timeline: {at: 1s}
""",
     's.yaml:5:11: timeline: expected a list, got a mapping'),
]

test_broken_file_gives_exact_diagnostics = exact_diagnostics(CASES)


def test_cases_are_one_per_error_class():
    """Across the files of every part of the format."""
    parts = [importlib.import_module(p.stem)
             for p in sorted(Path(__file__).parent.glob("test_scenario_errors*.py"))]
    assert len(parts) > 1
    names = [c[0] for part in parts for c in part.CASES]
    assert len(names) == len(set(names))
