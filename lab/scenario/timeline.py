"""`timeline:` to TimelineEntry values, and which rule ids exist when.

Owns the entry forms (`{at, enable: ID}`, `{at, disable: ID}`, `{at, replace: RULE}`,
`{at, policy: [RULES]}`), their order (sorted by `at`, file order for ties) and the check that
an enable or disable names a rule in force at that moment: the censor's rules, plus rules added
by earlier `replace` entries, or exactly the rules of the latest `policy`.
"""
from __future__ import annotations

from typing import Callable, Optional

from lab.scenario import units
from lab.scenario.errors import Reporter, did_you_mean
from lab.scenario.model import Rule, TimelineEntry

OPS = ("enable", "disable", "replace", "policy")
MakeRule = Callable[[tuple, object], Optional[Rule]]


def raw_id(rule: object) -> str | None:
    """A rule mapping's id as written, if it is a string."""
    value = rule.get("id") if isinstance(rule, dict) else None
    return value if isinstance(value, str) else None


def build_timeline(rep: Reporter, data: dict, initial: list[str] | None,
                   make_rule: MakeRule) -> tuple[list[TimelineEntry], set[str] | None]:
    """(entries sorted by time, every rule id the scenario ever has, or None if not known).

    `initial`: ids of the censor's rules, or None when some could not be read."""
    items = rep.part(data, (), "timeline", [], list)
    known = rep.ok(("timeline",))
    staged: list[tuple[float, str, object, tuple]] = []   # (at, op, ids or id, path)
    entries: list[tuple[float, TimelineEntry]] = []
    unplaced: list[tuple[str, tuple]] = []
    for i, item in enumerate(items):
        path = ("timeline", i)
        if not isinstance(item, dict) or not rep.ok(path):
            known = False
            continue
        ops = [op for op in OPS if op in item]
        changes = [op for op in ops if op in ("replace", "policy")]
        at = _at(rep, path, item)
        if len(ops) != 1:
            known = known and not changes
            continue
        op = ops[0]
        where = path + (op,)
        entry, ids = _entry(rep, where, op, 0.0 if at is None else at, item[op], make_rule)
        if at is None and op in ("enable", "disable") and ids is not None:
            unplaced.append((ids, where))     # checked against every id the scenario has
        if at is None or ids is None:
            known = known and not changes     # an unknown change makes later sets unknown
            continue
        staged.append((at, op, ids, where))
        if entry is not None:
            entries.append((at, entry))
    staged.sort(key=lambda s: s[0])
    entries.sort(key=lambda e: e[0])
    ever = _check_references(rep, staged, initial) if known and initial is not None else None
    for rule_id, where in unplaced if ever is not None else ():
        if rule_id not in ever:
            rep.error(where, f"no rule named '{rule_id}'{did_you_mean(rule_id, ever)}")
    return [e for _, e in entries], ever


def _at(rep: Reporter, path: tuple, item: object) -> float | None:
    value = rep.get(item, path, "at", None)
    if value is None:
        return None
    if value == 0 and not isinstance(value, (bool, str)):
        return 0.0
    try:
        return units.parse_duration(value)
    except units.UnitError as e:
        rep.error(path + ("at",), str(e))
        return None


def _entry(rep: Reporter, where: tuple, op: str, at: float, value: object,
           make_rule: MakeRule) -> tuple[TimelineEntry | None, object]:
    """(the entry or None if broken, the id(s) it names or None if unreadable)."""
    if op in ("enable", "disable"):
        rule_id = value if isinstance(value, str) and rep.clean(where) else None
        entry = TimelineEntry(at, op, rule_id=rule_id) if rule_id is not None else None
        return entry, rule_id
    if op == "replace":
        rule = make_rule(where, value)
        entry = TimelineEntry(at, op, rule_id=rule.id, rule=rule) if rule else None
        return entry, raw_id(value)
    if not isinstance(value, list) or not rep.ok(where):
        return None, None
    rules = [make_rule(where + (i,), item) for i, item in enumerate(value)]
    ids = [raw_id(item) for item in value]
    check_duplicates(rep, where, value)
    if None in ids:
        return None, None
    if None in rules or not rep.clean(where):
        return None, ids
    return TimelineEntry(at, op, rules=tuple(rules)), ids


def check_duplicates(rep: Reporter, where: tuple, rules: list) -> None:
    """Report a rule id used twice in one list of rules."""
    first: dict[str, int] = {}
    for i, item in enumerate(rules):
        rule_id = raw_id(item)
        if rule_id is None or not rep.ok(where + (i, "id")):
            continue
        if rule_id in first:
            line = rep.marks.value(where + (first[rule_id], "id"))[0]
            rep.error(where + (i, "id"), f"duplicate rule id '{rule_id}' (first at line {line})")
        else:
            first[rule_id] = i


def _check_references(rep: Reporter, staged: list, initial: list[str]) -> set[str]:
    current = list(initial)
    ever = set(initial)
    policy_at = None
    for at, op, ids, where in staged:
        if op == "replace":
            current += [ids] if ids not in current else []
            ever.add(ids)
        elif op == "policy":
            current, policy_at = list(ids), at
            ever.update(ids)
        elif ids not in current:
            why = did_you_mean(ids, current)
            if not why and ids in ever and policy_at is not None:
                why = f" (the policy at {policy_at:g}s replaced the rules)"
            rep.error(where, f"no rule '{ids}' at {at:g}s{why}")
    return ever
