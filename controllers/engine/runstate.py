"""What a restarted censor needs to carry on: the rule set in force and the penalty boxes.

The app saves it (atomically: a temporary file renamed over the old one) to `censor-state.json`
in the run directory whenever either changes: a live change from the control socket (the
timeline's enable/disable/replace/add/policy) or a new penalty box. A censor started with an
existing state file (the lab's watchdog restarting it after a crash) uses that rule set instead
of the compiled policy's and restores the boxes still in force. Pure: plain data in and out,
no os-ken; a missing or unreadable file reads as no state (the compiled policy then stands).

    {"rules": [RULE, ...], "boxes": [BOX, ...], "t": 12.3}

RULE is a checked rule as in policy.json (controllers.rules.checks.check_rule); BOX is one entry of
Engine.penalty_boxes(now); `t` is when it was written, in seconds since the lab came up.
"""
from __future__ import annotations

import json
import os
from typing import Any

MUTATING = frozenset(("enable", "disable", "replace", "add", "policy"))


def current(engine, now: float) -> dict[str, Any]:
    """The engine's state worth keeping across a restart."""
    return {"rules": [dict(r.rule) for r in engine.rules.rules],
            "boxes": engine.penalty_boxes(now), "t": round(now, 3)}


def save(path: str, state: dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, separators=(",", ":"))
    os.replace(tmp, path)


def load(path: str) -> dict[str, Any] | None:
    """The saved state, or None when there is none (or it cannot be read)."""
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    rules, boxes = state.get("rules"), state.get("boxes", [])
    if not isinstance(rules, list) or not isinstance(boxes, list):
        return None
    return {"rules": rules, "boxes": [b for b in boxes if isinstance(b, dict)],
            "t": state.get("t")}


def with_rules(policy: dict[str, Any], state: dict[str, Any] | None) -> dict[str, Any]:
    """The compiled policy with the saved rule set in place of its own (if there is one)."""
    if state is None:
        return policy
    return dict(policy, rules=state["rules"])
