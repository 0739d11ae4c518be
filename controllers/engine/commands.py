"""Control-socket commands (docs/internals.md section 3) applied to an Engine.

Owns the command language: status, rules, enable, disable, replace, add, policy. A change
edits the engine's RuleSet, emits one timeline Event, and returns the effects that rebuild
the proactive entries (steering under a new cookie generation, then the old generation
removed; rule meters added or removed). Per-flow pairs stay, so established flows keep their
decision. A malformed command gets {"ok": false, "error": ...} and changes nothing.
"""
from __future__ import annotations

from typing import Any

from controllers.engine.effects import Event
from controllers.rules.checks import RuleError

COMMANDS = ("status", "rules", "enable", "disable", "replace", "add", "policy")


def _event(rule_id: Any, action: str, detail: dict) -> Event:
    return Event({"rule": rule_id, "technique": "timeline", "action": action, "flow": None,
                  "detail": detail})


def run(engine, command: Any, now: float) -> tuple[dict, list]:
    if not isinstance(command, dict):
        return {"ok": False, "error": "command: expected a JSON object"}, []
    cmd = command.get("cmd")
    if cmd not in COMMANDS:
        return {"ok": False, "error": f"cmd: expected one of {', '.join(COMMANDS)}"}, []
    rules = engine.rules
    if cmd == "status":
        reply = {"ok": True, "mode": engine.mode, "reassembly": engine.reassembly,
                 "rules": len(rules.rules), "enabled": sum(r.enabled for r in rules.rules),
                 "boxes": len(engine.penalty_boxes(now)), "stats": engine.stats()}
        if engine.tcb_on:                   # a DPI profile (controllers.dpi.profile)
            reply["dpi"] = engine.profile.as_policy()
        return reply, []
    if cmd == "rules":
        return {"ok": True, "rules": rules.describe()}, []
    try:
        if cmd in ("enable", "disable"):
            rule = rules.set_enabled(command.get("rule"), cmd == "enable")
            event = _event(rule.id, cmd, {})
        elif cmd == "replace":
            rule, new = rules.replace(command.get("rule"))
            event = _event(rule.id, "replace", {"added": new, "match": rule.rule["match"],
                                                "action": rule.action})
        elif cmd == "add":
            rule, index = rules.add(command.get("rule"), command.get("index"))
            event = _event(rule.id, "add", {"index": index, "match": rule.rule["match"],
                                            "action": rule.action})
        else:
            rules.set_all(command.get("rules"))
            event = _event(None, "policy", {"rules": [r.id for r in rules.rules]})
    except (RuleError, KeyError, ValueError, TypeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        return {"ok": False, "error": str(message)}, []
    return {"ok": True}, [event] + engine.rebuild_effects()
