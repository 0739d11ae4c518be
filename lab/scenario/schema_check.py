"""Checking a document against schema.json, in words a person understands.

Owns the translation of jsonschema's errors into `Reporter` errors: each at the line:column of
the key or value at fault, named by its field (`censor.rules[1].action`), with a did-you-mean
for unknown keys and enum values. The schema carries a few hints for this: `x-unit` (the value is
a rate/size/duration/percent: units.explain says what is wrong), `x-messages` (a message per
failing keyword, `{value}` replaced), `x-expect` (what an anyOf wants) and `x-hints`.
For an anyOf, the branch whose type fits the value explains the failure.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from lab.scenario import units
from lab.scenario.errors import Reporter, closest, did_you_mean, kind_of, show

SCHEMA_PATH = Path(__file__).with_name("schema.json")

_TYPE_WORDS = {"string": "a string", "array": "a list", "object": "a mapping",
               "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "null": "nothing"}


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def check(data: object, rep: Reporter, validator: Draft202012Validator | None = None) -> None:
    """Report every way `data` breaks the schema (each problem once); `validator` checks
    against another schema of the same style (a campaign plan's) instead of the scenario's."""
    findings = [f for error in (validator or _validator()).iter_errors(data)
                for f in _explain(error)]
    # a misspelt key explains the required key it was meant to be: say it once
    meant = {(f.field, f.meant) for f in findings if f.meant}
    seen: set = set()
    for f in findings:
        if not f.message or (f.missing and (f.field, f.blame[-1]) in meant):
            rep.bad.add(f.blame)            # only marks the value bad
            continue
        if (f.blame, f.message) not in seen:
            seen.add((f.blame, f.message))
            rep.error(f.blame, f.message, key=f.on_key, field=f.field)


class Finding(NamedTuple):
    blame: tuple                    # the value at fault (or the missing key's path)
    message: str                    # "" only marks `blame` bad
    on_key: bool = False            # point at the key rather than the value
    field: tuple | None = None      # the field the message names (default: blame)
    meant: str | None = None        # an unknown key's closest known key
    missing: bool = False           # a required key is missing


def _explain(e: ValidationError) -> list[Finding]:
    path = tuple(e.absolute_path)
    node = e.schema if isinstance(e.schema, dict) else {}
    v, inst = e.validator, e.instance
    unit = node.get("x-unit")
    if unit and v in ("type", "pattern", "anyOf", "oneOf", "const"):
        return [Finding(path, units.explain(unit, inst))]
    custom = node.get("x-messages", {}).get(v)
    if custom:
        return [Finding(path, custom.replace("{value}", show(inst)))]
    if v in ("anyOf", "oneOf"):
        return _alternatives(e, path, node)
    if v == "additionalProperties":
        allowed, hints = list(node.get("properties", {})), node.get("x-hints", {})
        return [Finding(path + (k,), hints.get(k) or f"unknown key '{k}'"
                        f"{did_you_mean(k, allowed)}", True, path, closest(k, allowed))
                for k in inst if k not in allowed]
    if v == "required":
        return [Finding(path + (k,), f"missing required key '{k}'", field=path, missing=True)
                for k in e.validator_value if k not in inst]
    return [Finding(path, _simple(v, e.validator_value, inst, node))]



def _simple(v: str, value, inst, node: dict) -> str:
    if v == "type":
        return f"expected {node.get('x-expect') or _type_words(value)}, got {kind_of(inst)}"
    if v == "enum":
        hint = node.get("x-hints", {}).get(inst) if isinstance(inst, str) else None
        if hint:
            return hint
        return (f"{show(inst)} is not one of {', '.join(map(str, value))}"
                f"{did_you_mean(inst, [str(x) for x in value])}")
    if v == "const":
        return f"expected {show(value)}, got {show(inst)}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        lo, hi = node.get("minimum"), node.get("maximum")
        if lo is not None and hi is not None:
            return f"{show(inst)} is out of range {lo}..{hi}"
        return f"{show(inst)} must be at least {lo}" if lo is not None \
            else f"{show(inst)} must be at most {hi}"
    if v in ("minItems", "minLength", "minProperties"):
        return "must not be empty" if value == 1 else f"needs at least {value} entries"
    if v in ("maxItems", "maxLength", "maxProperties"):
        return f"takes at most {value} entries"
    if v == "pattern":
        return f"bad value {show(inst)}"
    return f"{show(inst)} is not valid ({v})"


def _type_words(value) -> str:
    types = value if isinstance(value, list) else [value]
    return " or ".join(_TYPE_WORDS.get(t, t) for t in types)


def _alternatives(e: ValidationError, path: tuple, node: dict) -> list[Finding]:
    branches = node.get(e.validator, [])
    inst = e.instance
    if branches and all(set(b) == {"required"} and len(b["required"]) == 1 for b in branches):
        if not isinstance(inst, dict):
            return []                       # "expected a mapping" says it
        keys = [b["required"][0] for b in branches]
        present = [k for k in keys if isinstance(inst, dict) and k in inst]
        if not present:
            return [Finding(path + (keys[0],), f"missing key: one of {', '.join(keys)}",
                            field=path)]
        return [Finding(path + (present[1],),
                        f"give only one of {', '.join(keys)}, not both {present[0]} and "
                        f"{present[1]}", True, path)]
    groups = _groups(e)
    depth = len(path)
    fitting = [(_root_count(errs, depth), i) for i, errs in groups.items() if _fits(errs, depth)]
    if not fitting:
        expected = node.get("x-expect") or "something else"
        return [Finding(path, f"expected {expected}, got {kind_of(inst)}")]
    best = groups[min(fitting)[1]]
    findings = [Finding(path, "")]          # the whole value is bad, whatever the details
    for sub in best:
        findings.extend(_explain(sub))
    return findings


def _groups(e: ValidationError) -> dict[int, list[ValidationError]]:
    groups: dict[int, list[ValidationError]] = {}
    for sub in e.context or []:
        groups.setdefault(sub.relative_schema_path[0], []).append(sub)
    return groups


def _root_count(errors: list[ValidationError], depth: int) -> int:
    return sum(1 for sub in errors if len(sub.absolute_path) == depth)


def _fits(errors: list[ValidationError], depth: int) -> bool:
    """The branch accepts the value's type (its errors are about content, not kind)."""
    for sub in errors:
        if len(sub.absolute_path) != depth:
            continue
        if sub.validator in ("type", "const"):
            return False
        if sub.validator in ("anyOf", "oneOf") and sub.context:
            if not any(_fits(errs, depth) for errs in _groups(sub).values()):
                return False
    return True
