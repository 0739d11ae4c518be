"""Lessons: a scenario's `lesson:` steps, walked through in a running lab.

A step is `{say, run, expect}` (docs/teaching.md):
- `say`: narration for the students;
- `run`: a command, or a list run in order: `HOST CMD...` (CMD in HOST's shell; `HOST:` also
  works) or a censor command of `blocklab shell` (`disable RULE`, `rules`, `explain URL`, ...);
- `expect`: what students should see. A string is a regular expression searched for in the
  step's output; a mapping holds any of
    exit: N or [N, ...]       the last command's exit code (curl: 6 resolve, 7 refused,
                              28 timeout, 35 TLS failed, 56 reset, 22 HTTP error with -f)
    contains: TEXT or [...]   each text appears in the output
    not_contains: TEXT or [...]  none of them appears
    regex: RE                 the regular expression matches somewhere in the output
    event: RULE or {rule: RULE, action: ACTION}   the censor logged it during the step
  and every key given must hold.

The checks that need no lab (hosts, rule ids, regexes, keys) are lab.scenario.lessons', run
when the scenario is loaded (so `blocklab validate` reports them at FILE:LINE:COL);
`steps(scenario)` gives a scenario's lesson as Steps (LessonError when it has none);
`Lesson(lab, steps).run(...)` walks it: pausing for Enter between steps, or (`auto`) straight
through, checking each step's expectation.
"""
from __future__ import annotations

import sys
import textwrap
import time
from dataclasses import dataclass, field

from lab.run.wait import Timeout, wait_until
from lab.scenario.lessons import CENSOR_COMMANDS, Expect, Step, check_steps, matching_events
from lab.teach.console import Console, Reply, paint, use_colour

EVENT_WAIT = 1.5          # seconds to wait for an expected event to reach events.jsonl


class LessonError(Exception):
    """A lesson that cannot run; the message lists each problem by step."""


@dataclass
class Outcome:
    step: Step
    code: int = 0
    output: str = ""
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    runs: list = field(default_factory=list)     # (command, Reply, seconds) in order

    @property
    def holds(self) -> bool:
        return not self.failures


# --- checking a lesson -----------------------------------------------------------------------

def steps(scenario) -> list[Step]:
    """The scenario's lesson as Steps; LessonError naming every problem (a loaded scenario's
    lesson passed these checks already: lab.scenario.lessons, run by the loader)."""
    raw = scenario.lesson
    if not raw:
        raise LessonError(f"{scenario.name} has no lesson: add a `lesson:` list to "
                          f"{scenario.path} (docs/teaching.md)")
    hosts = [h.name for h in scenario.hosts()]
    rule_ids = {r.id for c in scenario.censors() for r in c.rules}
    for entry in scenario.timeline:
        rule_ids |= {r.id for r in (entry.rules or ())} | ({entry.rule.id} if entry.rule else set())
    out, problems = check_steps(raw, hosts, rule_ids)
    if problems:
        raise LessonError("\n".join(f"{_where(place)}: {message}" for place, message in problems))
    return out


def _where(place: tuple) -> str:
    """(0, 'expect', 'event') -> 'lesson step 1.expect.event'."""
    return f"lesson step {place[0] + 1}" + "".join(f".{k}" for k in place[1:] if isinstance(k, str))


# --- walking a lesson ------------------------------------------------------------------------

class Lesson:
    """Walks `steps` in `lab`; prints to `out`, reads Enter from `inp` unless `auto`."""

    def __init__(self, lab, steps: list[Step], out=None, inp=None, files=None):
        self.lab = lab
        self.steps = steps
        self.out = out or sys.stdout
        self.inp = inp or sys.stdin
        self.colour = use_colour(self.out)
        # where `plot` steps write (`blocklab lesson --out`); the current folder when None
        self.console = Console(lab, colour=False, plot_dir=files)
        self.outcomes: list[Outcome] = []

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def run(self, auto: bool = False) -> bool:
        """True when every step's expectation held (steps without one always hold)."""
        sc = self.lab.scenario
        self.say(f"Lesson: {sc.title} ({len(self.steps)} steps)")
        for step in self.steps:
            self.say("")
            self.say(paint(f"Step {step.number}/{len(self.steps)}", "1", self.colour))
            for para in step.say.split("\n\n"):
                self.say(textwrap.fill(" ".join(para.split()), 88))
            for command in step.run:
                self.say(paint(f"  $ {command}", "36", self.colour))
            if step.run and not auto and not self._wait("[Enter runs it, q quits] "):
                return self._summary(stopped=True)
            outcome = self.do(step)
            self.outcomes.append(outcome)
            self._show(outcome)
            if not step.run and not auto and step is not self.steps[-1] \
                    and not self._wait("[Enter: next step, q quits] "):
                return self._summary(stopped=True)
        return self._summary()

    def _wait(self, prompt: str) -> bool:
        self.out.write(prompt)
        self.out.flush()
        line = self.inp.readline()
        return bool(line) and line.strip().lower() not in ("q", "quit", "exit")

    def do(self, step: Step) -> Outcome:
        start_t = time.time() - self.lab.t0
        start = time.monotonic()
        runs, reply = [], Reply(0, "")
        for command in step.run:
            began = time.monotonic()
            reply = self.console.run(command)
            runs.append((command, reply, time.monotonic() - began))
        outcome = Outcome(step, reply.code, "\n".join(r.text for _, r, _ in runs if r.text),
                          seconds=time.monotonic() - start, runs=runs)
        if step.expect:
            events = self._events_since(start_t, step.expect)
            outcome.failures = step.expect.failures(outcome.code, outcome.output, events)
        return outcome

    def _events_since(self, t: float, expect: Expect) -> list[dict]:
        """The events from `t` on; when the step expects one, once it has come (or after
        EVENT_WAIT)."""
        events: list[dict] = []

        def arrived() -> bool:
            events[:] = [e for e in self.lab.events() if float(e.get("t", 0)) >= t - 0.2]
            return not expect.event or bool(matching_events(events, expect.event))
        try:
            wait_until(arrived, EVENT_WAIT, "the step's event", interval=0.1)
        except Timeout:
            pass                        # the step's check says which event did not come
        return events

    def _show(self, o: Outcome) -> None:
        for command, reply, seconds in o.runs:
            if len(o.runs) > 1:
                self.say(paint(f"  $ {command}", "36", self.colour))
            text = reply.text.rstrip("\n")
            for line in (text.split("\n") if text.strip() else []):
                self.say("    " + line)
            if command.split(None, 1)[0] not in CENSOR_COMMANDS or reply.code:
                self.say(paint(f"    (exit {reply.code}, {seconds:.1f}s)", "2", self.colour))
        if o.step.expect:
            if o.holds:
                self.say(paint(f"  ✓ as expected: {o.step.expect.describe()}", "32",
                               self.colour))
            else:
                self.say(paint(f"  ✗ expected {o.step.expect.describe()}: "
                               + "; ".join(o.failures), "31", self.colour))

    def _summary(self, stopped: bool = False) -> bool:
        checked = [o for o in self.outcomes if o.step.expect]
        held = [o for o in checked if o.holds]
        self.say("")
        if stopped:
            self.say(f"Lesson stopped after {len(self.outcomes)} of {len(self.steps)} steps.")
        self.say(f"{len(held)} of {len(checked)} expected observations held"
                 + ("." if len(held) == len(checked) else ": steps "
                    + ", ".join(str(o.step.number) for o in checked if not o.holds)
                    + " did not."))
        return not stopped and len(held) == len(checked)
