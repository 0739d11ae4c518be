"""The `lesson:` section's shape: {say, run, expect}, with expect a regex or a known mapping."""
from __future__ import annotations

import textwrap

import pytest

from lab.scenario import ScenarioError, load

HEAD = """\
name: t
clients: [alice]
servers: [{name: web, domains: [www.example.com], serve: [https]}]
censor:
  rules: [{id: r, match: {sni: www.example.com}, action: drop}]
"""


def _load(tmp_path, lesson: str):
    path = tmp_path / "t.yaml"
    path.write_text(HEAD + textwrap.dedent(lesson))
    return load(path)


def test_steps_in_every_form_load(tmp_path):
    sc = _load(tmp_path, """\
        lesson:
          - say: Just words.
          - {say: a regex, run: "alice curl https://www.example.com/", expect: 'timed out'}
          - say: a mapping
            run: [disable r, "alice curl -sS https://www.example.com/"]
            expect: {exit: [0, 28], contains: [a, b], not_contains: c, regex: x, event: r}
          - {run: "alice true", expect: {event: {rule: r, action: drop}}}
        """)
    assert len(sc.lesson) == 4 and sc.lesson[2]["expect"]["exit"] == [0, 28]


@pytest.mark.parametrize("lesson, message", [
    ("lesson: [{say: x, expcet: y}]", "expcet"),
    ("lesson: [{run: 'alice true', expect: {exits: 0}}]", "exits"),
    ("lesson: [{run: 'alice true', expect: {}}]", "lesson[0].expect"),
    ("lesson: [{run: 'alice true', expect: {event: {action: drop}}}]", "lesson[0].expect"),
    ("lesson: [{run: [1, 2]}]", "lesson[0].run"),
])
def test_bad_steps_are_reported_where_they_are(tmp_path, lesson, message):
    with pytest.raises(ScenarioError) as err:
        _load(tmp_path, lesson + "\n")
    assert message in str(err.value)
    assert ":6:" in str(err.value)          # the lesson's line, not line 1
