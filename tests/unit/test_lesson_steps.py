"""Lessons are checked before a lab comes up; every bundled lesson passes those checks."""
from __future__ import annotations

from pathlib import Path

import pytest

from lab import scenario as scenarios
from lab.teach.lesson import Expect, LessonError, parse_expect, steps

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
    with pytest.raises(LessonError) as err:
        steps(scenarios.load(path))
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and "step 1" in lines[0] and "step 2" in lines[1]
