"""What a restarted censor needs to carry on: the rule set in force and the penalty boxes.

The app saves it (atomically: a temporary file renamed over the old one) to `censor-state.json`
in the run directory whenever either changes: a live change from the control socket (the
timeline's enable/disable/replace/add/policy) or a new penalty box. A censor started with an
existing state file (the lab's watchdog restarting it after a crash) uses that rule set instead
of the compiled policy's and restores the boxes still in force. Pure: plain data in and out,
no os-ken (`start_engine` builds the engine a censor starts with); a missing or unreadable file reads as no state (the compiled policy then stands).

    {"rules": [RULE, ...], "boxes": [BOX, ...], "t": 12.3}

RULE is a checked rule as in policy.json (controllers.rules.checks.check_rule); BOX is one entry of
Engine.penalty_boxes(now); `t` is when it was written, in seconds since the lab came up.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any

from controllers.engine.engine import Engine

log = logging.getLogger("blocklab.censor")

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


def start_engine(policy: dict[str, Any], state_path: str | None, now: float):
    """The engine a censor starts with, and its `restart` event record (None on a first start).

    With a saved state (a restart) the saved rule set stands in for the compiled one — unless
    it no longer checks, then the compiled policy does — and the penalty boxes still in force
    are restored (installed once the switch connects)."""
    state = load(state_path) if state_path else None
    if state is None:
        return Engine(policy), None
    try:
        engine = Engine(with_rules(policy, state))
    except Exception:
        log.exception("saved rule set unusable; starting from the compiled policy")
        engine = Engine(policy)
    engine.restore_penalty_boxes(state["boxes"], now)
    boxes = len(engine.penalty_boxes(now))
    log.info("restarted: %d rules and %d penalty boxes restored from %s",
             len(engine.rules.rules), boxes, state_path)
    return engine, {"t": round(now, 6), "rule": None, "technique": "censor",
                    "action": "restart", "flow": None,
                    "detail": {"rules": [r.id for r in engine.rules.rules], "boxes": boxes}}
