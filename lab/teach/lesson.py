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

`steps(scenario)` checks a lesson before any lab comes up (hosts, rule ids, regexes, keys),
raising LessonError with every problem; `Lesson(lab, steps).run(...)` walks it: pausing for
Enter between steps, or (`auto`) straight through, checking each step's expectation.
"""
from __future__ import annotations

import re
import sys
import textwrap
import time
from dataclasses import dataclass, field

import yaml

from lab.teach.console import CENSOR_COMMANDS, Console, Reply, paint, use_colour

EXPECT_KEYS = ("exit", "contains", "not_contains", "regex", "event")
STEP_KEYS = ("say", "run", "expect")
EVENT_WAIT = 1.5          # seconds to wait for an expected event to reach events.jsonl


class LessonError(Exception):
    """A lesson that cannot run; the message lists each problem by step."""


@dataclass
class Expect:
    exit: list[int] | None = None
    contains: list[str] = field(default_factory=list)
    not_contains: list[str] = field(default_factory=list)
    regex: str | None = None
    event: dict | None = None        # {"rule": id, "action": name or None}

    def describe(self) -> str:
        parts = []
        if self.exit is not None:
            parts.append("exit " + " or ".join(str(c) for c in self.exit))
        parts += [f"output contains {t!r}" for t in self.contains]
        parts += [f"output lacks {t!r}" for t in self.not_contains]
        if self.regex is not None:
            parts.append(f"output matches /{self.regex}/")
        if self.event:
            action = self.event.get("action")
            parts.append(f"censor event: rule {self.event['rule']}"
                         + (f" {action}" if action else ""))
        return "; ".join(parts) or "anything"

    def failures(self, code: int, output: str, events: list[dict]) -> list[str]:
        out = []
        if self.exit is not None and code not in self.exit:
            out.append(f"exit {code}, expected {' or '.join(str(c) for c in self.exit)}")
        out += [f"output lacks {t!r}" for t in self.contains if t not in output]
        out += [f"output contains {t!r}" for t in self.not_contains if t in output]
        if self.regex is not None and not re.search(self.regex, output, re.MULTILINE):
            out.append(f"output does not match /{self.regex}/")
        if self.event and not matching_events(events, self.event):
            action = self.event.get("action")
            seen = sorted({f"{e.get('rule')} {e.get('action')}" for e in events}) or ["none"]
            out.append(f"no censor event for rule {self.event['rule']}"
                       + (f" {action}" if action else "") + f" (saw: {', '.join(seen)})")
        return out


def matching_events(events: list[dict], want: dict) -> list[dict]:
    return [e for e in events if e.get("rule") == want["rule"]
            and (want.get("action") is None or e.get("action") == want["action"])]


@dataclass
class Step:
    number: int
    say: str
    run: list[str]
    expect: Expect | None


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
    """The scenario's lesson as Steps; LessonError naming every problem."""
    raw = scenario.lesson
    if not raw:
        raise LessonError(f"{scenario.name} has no lesson: add a `lesson:` list to "
                          f"{scenario.path} (docs/teaching.md)")
    hosts = [h.name for h in scenario.hosts()]
    rule_ids = {r.id for c in scenario.censors() for r in c.rules}
    for entry in scenario.timeline:
        rule_ids |= {r.id for r in (entry.rules or ())} | ({entry.rule.id} if entry.rule else set())
    problems: list[str] = []
    out: list[Step] = []
    for i, item in enumerate(raw, 1):
        where = f"lesson step {i}"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a mapping {{say, run, expect}}")
            continue
        for key in item:
            if key not in STEP_KEYS:
                problems.append(f"{where}: unknown key {key!r} (keys: {', '.join(STEP_KEYS)})")
        say = item.get("say") or ""
        if not isinstance(say, str):
            problems.append(f"{where}.say: expected text")
            say = str(say)
        run = item.get("run") or []
        run = [run] if isinstance(run, str) else run
        if not isinstance(run, list) or not all(isinstance(c, str) for c in run):
            problems.append(f"{where}.run: expected a command or a list of them")
            run = []
        for command in run:
            problems += [f"{where}.run: {p}" for p in _check_command(command, hosts, rule_ids)]
        expect = None
        if "expect" in item and item["expect"] is not None:
            try:
                expect = parse_expect(item["expect"])
            except ValueError as e:
                problems.append(f"{where}.expect: {e}")
            if expect is not None and expect.event and expect.event["rule"] not in rule_ids:
                problems.append(f"{where}.expect.event: no rule {expect.event['rule']!r}")
            if expect is not None and not run:
                problems.append(f"{where}.expect: there is nothing to run")
        if not say and not run:
            problems.append(f"{where}: give `say`, `run` or both")
        out.append(Step(i, say.strip(), run, expect))
    if problems:
        raise LessonError("\n".join(problems))
    return out


def _check_command(command: str, hosts: list[str], rule_ids: set) -> list[str]:
    words = command.split(None, 1)
    if not words:
        return ["an empty command"]
    head = words[0]
    host = head[:-1] if head.endswith(":") else head
    if host in hosts:
        return [] if len(words) > 1 else [f"{command!r}: which command should {host} run?"]
    if head not in CENSOR_COMMANDS:
        return [f"{command!r}: {head!r} is neither a host ({', '.join(hosts)}) nor a "
                f"censor command ({', '.join(CENSOR_COMMANDS)})"]
    if head in ("enable", "disable"):
        rule = words[1].strip() if len(words) > 1 else ""
        if rule not in rule_ids:
            return [f"{command!r}: no rule {rule!r} (rules: {', '.join(sorted(rule_ids))})"]
    if head == "add" and len(words) > 1:
        body = words[1].split(None, 2)[2] if words[1].startswith("--at") else words[1]
        try:
            data = yaml.safe_load(body)
            rule_ids.add(data["id"])                 # later steps may enable/disable it
        except (yaml.YAMLError, TypeError, KeyError):
            return [f"{command!r}: the rule is not YAML with an id"]
    return []


def parse_expect(value) -> Expect:
    if isinstance(value, str):
        _regex(value)
        return Expect(regex=value)
    if not isinstance(value, dict):
        raise ValueError("expected a regular expression or a mapping of "
                         + ", ".join(EXPECT_KEYS))
    unknown = [k for k in value if k not in EXPECT_KEYS]
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(map(str, unknown))} "
                         f"(keys: {', '.join(EXPECT_KEYS)})")
    e = Expect()
    if "exit" in value:
        codes = value["exit"] if isinstance(value["exit"], list) else [value["exit"]]
        if not codes or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes):
            raise ValueError("exit: expected an exit code or a list of them")
        e.exit = codes
    for key in ("contains", "not_contains"):
        if key in value:
            texts = value[key] if isinstance(value[key], list) else [value[key]]
            if not all(isinstance(t, str) and t for t in texts):
                raise ValueError(f"{key}: expected text or a list of texts")
            setattr(e, key, texts)
    if "regex" in value:
        if not isinstance(value["regex"], str):
            raise ValueError("regex: expected a regular expression")
        _regex(value["regex"])
        e.regex = value["regex"]
    if "event" in value:
        ev = value["event"]
        if isinstance(ev, str):
            e.event = {"rule": ev, "action": None}
        elif isinstance(ev, dict) and isinstance(ev.get("rule"), str) \
                and set(ev) <= {"rule", "action"}:
            e.event = {"rule": ev["rule"], "action": ev.get("action")}
        else:
            raise ValueError("event: expected a rule id or {rule: ID, action: ACTION}")
    if not any((e.exit is not None, e.contains, e.not_contains, e.regex is not None, e.event)):
        raise ValueError("an empty expectation")
    return e


def _regex(text: str) -> None:
    try:
        re.compile(text)
    except re.error as err:
        raise ValueError(f"bad regular expression {text!r}: {err}") from None


# --- walking a lesson ------------------------------------------------------------------------

class Lesson:
    """Walks `steps` in `lab`; prints to `out`, reads Enter from `inp` unless `auto`."""

    def __init__(self, lab, steps: list[Step], out=None, inp=None):
        self.lab = lab
        self.steps = steps
        self.out = out or sys.stdout
        self.inp = inp or sys.stdin
        self.colour = use_colour(self.out)
        self.console = Console(lab, colour=False)
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
        deadline = time.monotonic() + (EVENT_WAIT if expect.event else 0)
        while True:
            events = [e for e in self.lab.events() if float(e.get("t", 0)) >= t - 0.2]
            if not expect.event or matching_events(events, expect.event) \
                    or time.monotonic() >= deadline:
                return events
            time.sleep(0.1)

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
