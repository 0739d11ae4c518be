"""A rule in words: its match, its action and a rate, as the shell, lessons, `explain` and
reports print them (one wording, whoever prints it). Works on the policy form of a rule
(`Rule.to_policy()`, docs/internals.md §1)."""
from __future__ import annotations


def match_text(match: dict) -> str:
    parts = []
    for key, value in match.items():
        if key == "not":
            parts.append(f"not ({match_text(value)})")
            continue
        if key == "port":
            value = [f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in value]
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


def action_text(action: dict) -> str:
    kind = action.get("type", "?")
    if kind == "throttle":
        return f"throttle {rate_text(action.get('rate_bps', 0))}"
    if kind == "cut_after":
        return f"cut_after {action.get('bytes')} B"
    if kind in ("forge", "inject"):
        ip6 = f", {action['ip6']}" if action.get("ip6") else ""
        return f"{kind} {action.get('ip')}{ip6}"
    if kind == "blockpage":
        return f"blockpage {action.get('status', 403)}"
    return kind


def rate_text(bps: float) -> str:
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= scale:
            return f"{bps / scale:g} {unit}"
    return f"{bps:g} bit/s"
