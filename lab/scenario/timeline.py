"""`timeline:` to TimelineEntry values, and which rule ids exist when.

Owns the entry forms (`{at, enable: ID}`, `{at, disable: ID}`, `{at, replace: RULE}`,
`{at, policy: [RULES]}`, each with an optional `censor: NAME`: the censor it changes, default
the first), their order (sorted by `at`, file order for ties) and the check that an enable or
disable names a rule in force at that moment at that censor: its rules, plus rules added by
earlier `replace` entries to it, or exactly the rules of its latest `policy`.
"""
from __future__ import annotations

from typing import Callable, Optional

from lab.scenario import units
from lab.scenario.errors import Reporter, did_you_mean
from lab.scenario.model import Rule, TimelineEntry

OPS = ("enable", "disable", "replace", "policy")
MakeRule = Callable[[tuple, object, Optional[str]], Optional[Rule]]


def raw_id(rule: object) -> str | None:
    """A rule mapping's id as written, if it is a string."""
    value = rule.get("id") if isinstance(rule, dict) else None
    return value if isinstance(value, str) else None


def build_timeline(rep: Reporter, data: dict, initial: dict[str, list[str] | None],
                   make_rule: MakeRule, names_known: bool = True
                   ) -> tuple[list[TimelineEntry], set[str] | None]:
    """(entries sorted by time, every rule id the scenario ever has, or None if not known).

    `initial`: each censor's name -> the ids of its rules (None when some could not be
    read), the first censor first (entries without `censor:` change it); `names_known`:
    whether every censor's name could be read (else an unknown `censor:` is not reported)."""
    items = rep.part(data, (), "timeline", [], list)
    known = rep.ok(("timeline",))
    default = next(iter(initial), None)
    staged: list[tuple[float, str, object, tuple, str]] = []   # (at, op, id(s), path, censor)
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
        censor = _censor(rep, path, item, initial, names_known)
        if len(ops) != 1 or censor is False:
            known = known and not changes
            continue
        op = ops[0]
        where = path + (op,)
        entry, ids = _entry(rep, where, op, 0.0 if at is None else at, item[op], make_rule,
                            censor)
        if at is None and op in ("enable", "disable") and ids is not None:
            unplaced.append((ids, where))     # checked against every id the scenario has
        if at is None or ids is None:
            known = known and not changes     # an unknown change makes later sets unknown
            continue
        staged.append((at, op, ids, where, censor or default))
        if entry is not None:
            entries.append((at, entry))
    staged.sort(key=lambda s: s[0])
    entries.sort(key=lambda e: e[0])
    ever: set[str] | None = set()
    for name, ids in initial.items():
        mine = [s[:4] for s in staged if s[4] == name]
        if not known or ids is None:
            ever = None
        elif ever is not None:
            ever |= _check_references(rep, mine, ids)
    for rule_id, where in unplaced if ever is not None else ():
        if rule_id not in ever:
            rep.error(where, f"no rule named '{rule_id}'{did_you_mean(rule_id, ever)}")
    return [e for _, e in entries], ever


def _censor(rep: Reporter, path: tuple, item: dict, initial: dict, names_known: bool):
    """The censor an entry names (None: the default one; False: a name that is no censor's)."""
    name = rep.get(item, path, "censor", None, str)
    if name is None or name in initial:
        return name
    if names_known and rep.clean(path + ("censor",)):
        names = list(initial)
        rep.error(path + ("censor",), f"no censor named '{name}'{did_you_mean(name, names)}; "
                                      f"censors: {', '.join(names)}")
    return False


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
           make_rule: MakeRule, censor: str | None) -> tuple[TimelineEntry | None, object]:
    """(the entry or None if broken, the id(s) it names or None if unreadable)."""
    if op in ("enable", "disable"):
        rule_id = value if isinstance(value, str) and rep.clean(where) else None
        entry = TimelineEntry(at, op, rule_id=rule_id, censor=censor) \
            if rule_id is not None else None
        return entry, rule_id
    if op == "replace":
        rule = make_rule(where, value, censor)
        entry = TimelineEntry(at, op, rule_id=rule.id, rule=rule, censor=censor) \
            if rule else None
        return entry, raw_id(value)
    if not isinstance(value, list) or not rep.ok(where):
        return None, None
    rules = [make_rule(where + (i,), item, censor) for i, item in enumerate(value)]
    ids = [raw_id(item) for item in value]
    check_duplicates(rep, where, value)
    if None in ids:
        return None, None
    if None in rules or not rep.clean(where):
        return None, ids
    return TimelineEntry(at, op, rules=tuple(rules), censor=censor), ids


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
