"""Lessons are checked before a lab comes up (when the scenario is loaded, each problem at its
FILE:LINE:COL); every bundled lesson passes those checks."""
from __future__ import annotations

from pathlib import Path

import pytest

from lab import scenario as scenarios
from lab.scenario.lessons import Expect, check_steps, parse_expect
from lab.teach.lesson import LessonError, steps

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
WITH_LESSONS = sorted(p.relative_to(SCENARIOS).with_suffix("").as_posix()
                      for p in SCENARIOS.rglob("*.yaml") if "\nlesson:" in p.read_text())


def test_the_flagship_and_the_basics_have_lessons():
    assert "ru/2025-12" in WITH_LESSONS
    assert len([n for n in WITH_LESSONS if n.startswith("basics/")]) >= 27


@pytest.mark.parametrize("ref", WITH_LESSONS)
def test_bundled_lessons_are_runnable(ref):
    plan = steps(scenarios.load(ref))
    assert plan and all(s.say for s in plan)
    assert any(s.expect for s in plan)


def test_expect_forms():
    assert parse_expect("timed out") == Expect(regex="timed out")
    e = parse_expect({"exit": 28, "contains": "x", "not_contains": ["y"], "event": "r"})
    assert (e.exit, e.contains, e.not_contains, e.event) == ([28], ["x"], ["y"],
                                                              {"rule": "r", "action": None})
    assert e.failures(28, "x", [{"rule": "r", "action": "drop"}]) == []
    assert e.failures(0, "y", []) == [
        "exit 0, expected 28", "output lacks 'x'", "output contains 'y'",
        "no censor event for rule r (saw: none)"]


@pytest.mark.parametrize("bad", [{"exits": 1}, {}, {"exit": "28"}, "(", {"event": {"x": 1}}, 3])
def test_bad_expectations(bad):
    with pytest.raises(ValueError):
        parse_expect(bad)


def test_every_problem_is_reported(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: t\nclients: [alice]\nservers: []\n"
                    "lesson:\n  - {run: 'bob ls'}\n  - {run: 'enable x'}\n  - {say: ok}\n")
    with pytest.raises(scenarios.ScenarioError) as err:
        scenarios.load(path)
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and "lesson[0]" in lines[0] and "lesson[1]" in lines[1]


def test_validate_reports_bad_lesson_steps_at_file_line_col(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("""\
name: t
clients: [alice]
servers: []
censor:
  rules: [{id: r1, match: {dns: x.example}, action: nxdomain}]
lesson:
  - say: hi
    run: 'bob ls'
  - run:
      - 'alice ls'
      - 'enable x'
  - say: ok
    run: 'alice ls'
    expect: {regex: '('}
  - {run: 'alice ls', expect: {event: r9}}
  - say: fine
""")
    assert [str(d) for d in scenarios.validate([str(path)])] == [
        f"{path}:8:10: lesson[0].run: 'bob ls': 'bob' is neither a host (alice, isp, "
        "public-dns) nor a censor command (rules, enable, disable, add, events, explain, plot, capture, censor, browse)",
        f"{path}:11:9: lesson[1].run[1]: 'enable x': no rule 'x' (rules: r1)",
        f"{path}:14:21: lesson[2].expect.regex: bad regular expression '(': missing ), "
        "unterminated subpattern at position 0",
        f"{path}:15:39: lesson[3].expect.event: no rule 'r9'",
    ]


def test_a_rule_a_lesson_adds_can_be_disabled_later():
    plan, problems = check_steps([{"run": "add {id: extra, match: {dns: a.example}, action: drop}"},
                                  {"run": "disable extra"}], ["alice"], {"r1"})
    assert problems == [] and [s.run for s in plan] == [
        ["add {id: extra, match: {dns: a.example}, action: drop}"], ["disable extra"]]


def test_steps_of_a_scenario_without_a_lesson_is_a_lesson_error(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: t\nclients: [alice]\nservers: []\n")
    with pytest.raises(LessonError, match="has no lesson"):
        steps(scenarios.load(path))


@pytest.mark.parametrize("command", ["browse", "browse alice", "browse bob https://x.example/",
                                     "browse alice ftp://x.example/",
                                     "browse alice https://x.example/ a.png extra"])
def test_a_browse_step_names_a_host_and_a_web_url(command):
    _, problems = check_steps([{"run": command}], ["alice", "isp"], set())
    assert problems == [((0, "run"), f"{command!r}: browse HOST URL [FILE.png] "
                                     "(hosts: alice, isp)")]
    assert check_steps([{"run": "browse alice https://x.example/ tab.png"}], ["alice"],
                       set())[1] == []
