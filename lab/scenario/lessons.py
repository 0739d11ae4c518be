"""A scenario's `lesson:` steps as data, and the checks they need no lab for (docs/teaching.md).

Owns the step and expectation forms (`Step`, `Expect`, `parse_expect`), the censor commands a
step may run (`CENSOR_COMMANDS`, which the console carries out) and `check_steps`: each
command names a host or a censor command, `enable`/`disable` name a rule the scenario has,
regular expressions compile, an `event` names a rule. Each problem comes with its place in the
lesson list, so the scenario loader (lab.scenario.build) reports it at FILE:LINE:COL like any
other scenario error and lab.teach.lesson walks only lessons that passed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import yaml

CENSOR_COMMANDS = ("rules", "enable", "disable", "add", "events", "explain", "plot",
                   "capture", "censor", "browse")
EXPECT_KEYS = ("exit", "contains", "not_contains", "regex", "event")
STEP_KEYS = ("say", "run", "expect")

Problem = tuple[tuple, str]     # (place in the lesson list: (index, key, ...), message)


class ExpectError(ValueError):
    """A bad expectation; `key` is the expectation's key at fault (None: the whole of it)."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(f"{key}: {message}" if key else message)
        self.message, self.key = message, key


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


def check_steps(raw: list, hosts: list[str] | None, rule_ids: set[str] | None,
                skip: Callable[[int], bool] = lambda i: False
                ) -> tuple[list[Step], list[Problem]]:
    """(the steps, every problem) of a lesson list. `hosts`/`rule_ids` None: not known (the
    references they would check are left alone); `skip(i)`: item i was already found bad."""
    rule_ids = set(rule_ids) if rule_ids is not None else None   # `add` grows it
    problems: list[Problem] = []
    out: list[Step] = []
    for i, item in enumerate(raw):
        if skip(i):
            continue
        if not isinstance(item, dict):
            problems.append(((i,), "expected a mapping {say, run, expect}"))
            continue
        for key in item:
            if key not in STEP_KEYS:
                problems.append(((i, key), f"unknown key {key!r} (keys: {', '.join(STEP_KEYS)})"))
        say = item.get("say") or ""
        if not isinstance(say, str):
            problems.append(((i, "say"), "expected text"))
            say = str(say)
        given = item.get("run") or []
        run = [given] if isinstance(given, str) else given
        if not isinstance(run, list) or not all(isinstance(c, str) for c in run):
            problems.append(((i, "run"), "expected a command or a list of them"))
            run = []
        for j, command in enumerate(run):
            where = (i, "run") if isinstance(given, str) else (i, "run", j)
            problems += [(where, p) for p in _check_command(command, hosts, rule_ids)]
        expect = None
        if item.get("expect") is not None:
            try:
                expect = parse_expect(item["expect"])
            except ExpectError as e:
                problems.append(((i, "expect") + ((e.key,) if e.key else ()), e.message))
            if expect is not None and expect.event and rule_ids is not None \
                    and expect.event["rule"] not in rule_ids:
                problems.append(((i, "expect", "event"), f"no rule {expect.event['rule']!r}"))
            if expect is not None and not run:
                problems.append(((i, "expect"), "there is nothing to run"))
        if not say and not run:
            problems.append(((i,), "give `say`, `run` or both"))
        out.append(Step(i + 1, say.strip(), run, expect))
    return out, problems


def _check_command(command: str, hosts: list[str] | None, rule_ids: set | None) -> list[str]:
    words = command.split(None, 1)
    if not words:
        return ["an empty command"]
    head = words[0]
    host = head[:-1] if head.endswith(":") else head
    if host in (hosts or ()) or (hosts is None and head not in CENSOR_COMMANDS):
        return [] if len(words) > 1 else [f"{command!r}: which command should {host} run?"]
    if head not in CENSOR_COMMANDS:
        return [f"{command!r}: {head!r} is neither a host ({', '.join(hosts)}) nor a "
                f"censor command ({', '.join(CENSOR_COMMANDS)})"]
    if head in ("enable", "disable") and rule_ids is not None:
        rule = words[1].strip() if len(words) > 1 else ""
        if rule not in rule_ids:
            return [f"{command!r}: no rule {rule!r} (rules: {', '.join(sorted(rule_ids))})"]
    if head == "browse" and hosts is not None:
        args = words[1].split() if len(words) > 1 else []
        if len(args) not in (2, 3) or args[0] not in hosts or \
                not args[1].startswith(("http://", "https://")):
            return [f"{command!r}: browse HOST URL [FILE.png] (hosts: {', '.join(hosts)})"]
    if head == "add" and len(words) > 1:
        try:
            body = words[1].split(None, 2)[2] if words[1].startswith("--at") else words[1]
            rule_id = yaml.safe_load(body)["id"]
            if rule_ids is not None:
                rule_ids.add(rule_id)                    # later steps may enable/disable it
        except (yaml.YAMLError, TypeError, KeyError, IndexError):
            return [f"{command!r}: the rule is not YAML with an id"]
    return []


def parse_expect(value) -> Expect:
    """An `expect:` value as an Expect; ExpectError (a ValueError) saying what is wrong."""
    if isinstance(value, str):
        _regex(value)
        return Expect(regex=value)
    if not isinstance(value, dict):
        raise ExpectError("expected a regular expression or a mapping of "
                          + ", ".join(EXPECT_KEYS))
    unknown = [k for k in value if k not in EXPECT_KEYS]
    if unknown:
        raise ExpectError(f"unknown key(s) {', '.join(map(str, unknown))} "
                          f"(keys: {', '.join(EXPECT_KEYS)})")
    e = Expect()
    if "exit" in value:
        codes = value["exit"] if isinstance(value["exit"], list) else [value["exit"]]
        if not codes or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes):
            raise ExpectError("expected an exit code or a list of them", "exit")
        e.exit = codes
    for key in ("contains", "not_contains"):
        if key in value:
            texts = value[key] if isinstance(value[key], list) else [value[key]]
            if not all(isinstance(t, str) and t for t in texts):
                raise ExpectError("expected text or a list of texts", key)
            setattr(e, key, texts)
    if "regex" in value:
        if not isinstance(value["regex"], str):
            raise ExpectError("expected a regular expression", "regex")
        _regex(value["regex"], "regex")
        e.regex = value["regex"]
    if "event" in value:
        ev = value["event"]
        if isinstance(ev, str):
            e.event = {"rule": ev, "action": None}
        elif isinstance(ev, dict) and isinstance(ev.get("rule"), str) \
                and set(ev) <= {"rule", "action"}:
            e.event = {"rule": ev["rule"], "action": ev.get("action")}
        else:
            raise ExpectError("expected a rule id or {rule: ID, action: ACTION}", "event")
    if not any((e.exit is not None, e.contains, e.not_contains, e.regex is not None, e.event)):
        raise ExpectError("an empty expectation")
    return e


def _regex(text: str, key: str | None = None) -> None:
    try:
        re.compile(text)
    except re.error as err:
        raise ExpectError(f"bad regular expression {text!r}: {err}", key) from None
