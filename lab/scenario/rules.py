"""A censor rule from YAML to `Rule`: action, modifiers, and whether the action can apply.

Owns the action's normalised form (`{"type": T, ...}` of docs/internals.md §1: forge/inject
`ip`, blockpage `status`/`body`, throttle `rate_bps`, cut_after `bytes`), the modifiers
(residual, probability, per, enabled), and the checks that an action fits its match and the
censor's mode: DNS answers need a `dns` match, a block page an HTTP `host`/`path`, a reset
TCP; nothing QUIC can be reset or answered with a page; a tap (copies only) cannot forge, drop,
throttle or cut.
"""
from __future__ import annotations

import ipaddress
import math
from typing import Collection

from controllers.rules.vocabulary import (COUNTING_ACTIONS, DNS_ANSWERS, HANDSHAKE_ACTIONS,
                                          HEADER_KEYS, HTTP_KEYS, SHAPING_ACTIONS, TAP_ACTS_AS,
                                          TCP_FINGERPRINTS, TCP_ONLY_KEYS)
from lab.scenario import units
from lab.scenario.errors import Reporter
from lab.scenario.match import build_match
from lab.scenario.model import Rule

DEFAULT_STATUS = 403
DEFAULT_RSTS = 3            # RST+ACKs per handshake packet (gfw.report, 2025-08-20)
DEFAULT_BODY = None                 # the censor's own "Access denied" page
# why a tap cannot carry out an inline-only action (vocabulary.TAP_ACTS_AS; forge: its own)
TAP_CANNOT = {"drop": "cannot drop (use reset or reject)",
              "drop_reply": "cannot drop the server's answer (use reset)", "throttle": "cannot slow a flow",
              "cut_after": "cannot cut a flow (use reset)",
              "ban_after": "cannot drop what it counts",
              "intercept": "cannot divert a flow to its TLS proxy"}


def build_rule(rep: Reporter, path: tuple, data: object, *,
               servers: Collection[str] | None, mode: str) -> Rule | None:
    """The rule at `path`, or None when anything in it is wrong (all of it reported)."""
    if not isinstance(data, dict) or not rep.ok(path):
        return None
    rule_id = rep.get(data, path, "id", None, str)
    match = build_match(rep, path + ("match",), data.get("match"), servers)
    action = _action(rep, path + ("action",), data) if "action" in data else None
    shape = _shape(rep, path + ("match",), data.get("match"))
    if shape is not None and action is not None:
        problem = compatibility(shape, action["type"], mode)
        if problem:
            rep.error(path + ("action",), problem)
            action = None
    if action is not None and action["type"] == "intercept" and servers is not None \
            and action["via"] not in servers:
        rep.error(path + ("action", "intercept"),
                  f"unknown server '{action['via']}': intercept diverts to a server of this "
                  f"scenario with serve: [intercept] (known: {', '.join(servers) or 'none'})")
        action = None
    residual = _residual(rep, path, data, action)
    scope, spare = _residual_scope(rep, path, data, residual)
    probability = rep.get(data, path, "probability", None, (int, float))
    if probability is not None and not math.isfinite(probability):
        rep.error(path + ("probability",), "must be a number from 0 to 1")
        probability = None
    per = rep.get(data, path, "per", "flow", str)
    if per == "rule" and action is not None and action["type"] != "throttle":
        rep.error(path + ("per",), f"'rule' shares a throttle's rate between flows, but "
                                   f"this rule's action is {action['type']}")
    enabled = rep.get(data, path, "enabled", True, bool)
    if rule_id is None or match is None or action is None or not rep.clean(path):
        return None
    return Rule(rule_id, match, action, residual,
                None if probability is None else float(probability), per, enabled,
                scope, spare)


def _residual_scope(rep: Reporter, path: tuple, data: dict, residual: float | None
                    ) -> tuple[str, tuple[int, ...]]:
    """`residual_scope` and `residual_spare`: what a box holds, and the ports it leaves."""
    scope = rep.get(data, path, "residual_scope", "port", str)
    spare = rep.get(data, path, "residual_spare", [], list)
    if "residual_scope" in data and residual is None:
        rep.error(path + ("residual_scope",), "scopes a penalty box, but the rule has no "
                                              "residual (add e.g. residual: 10m)")
    if spare and scope != "server":
        rep.error(path + ("residual_spare",), "spares ports of a server-wide box: add "
                                              "residual_scope: server")
    return scope or "port", tuple(sorted(set(p for p in spare or () if isinstance(p, int))))


def _residual(rep: Reporter, path: tuple, data: dict, action: dict | None) -> float | None:
    value = rep.get(data, path, "residual", None)
    if value is None:
        if action is not None and action["type"] in COUNTING_ACTIONS:
            rep.error(path + ("action",), f"{action['type']} bans a client from a server "
                      "address for the rule's residual: add one, e.g. residual: 10s")
        return None
    try:
        seconds = units.parse_duration(value, zero=False)
    except units.UnitError as e:
        rep.error(path + ("residual",), str(e))
        return None
    if action is not None and action["type"] == "allow":
        rep.error(path + ("residual",), "an allow rule blocks nothing, so it has no residual")
    return seconds


def _action(rep: Reporter, where: tuple, rule: dict) -> dict | None:
    if not rep.clean(where):
        return None
    value = rule["action"]
    if isinstance(value, str):
        if value == "blockpage":
            return {"type": "blockpage", "status": DEFAULT_STATUS, "body": DEFAULT_BODY}
        if value == "rst_handshake":
            return {"type": "rst_handshake", "count": DEFAULT_RSTS}
        return {"type": value}
    if not isinstance(value, dict) or len(value) != 1:     # pragma: no cover (schema)
        rep.error(where, "expected one action")
        return None
    (kind, arg), = value.items()
    try:
        return _action_with_argument(kind, arg)
    except (ValueError, units.UnitError) as e:
        rep.error(where + (kind,), str(e))
        return None


def _action_with_argument(kind: str, arg) -> dict:
    if kind in ("forge", "inject"):
        ip, comma, ip6 = arg.partition(",")
        try:
            out = {"type": kind, "ip": str(ipaddress.IPv4Address(ip.strip()))}
        except ValueError:
            raise ValueError(f"bad address '{arg}': {kind} needs an IPv4 address such as "
                             "198.19.0.99 (and, for AAAA queries, an IPv6 one after a comma: "
                             "'198.19.0.99, 2001:db8::99')") from None
        if comma:
            try:
                out["ip6"] = str(ipaddress.IPv6Address(ip6.strip()))
            except ValueError:
                raise ValueError(f"bad address '{ip6.strip()}': {kind}'s answer to AAAA "
                                 "queries must be an IPv6 address such as 2001:db8::99") \
                    from None
        return out
    if kind == "blockpage":
        arg = arg or {}
        return {"type": "blockpage", "status": int(arg.get("status", DEFAULT_STATUS)),
                "body": arg.get("body", DEFAULT_BODY)}
    if kind == "throttle":
        return {"type": "throttle", "rate_bps": units.parse_rate(arg)}
    if kind == "cut_after":
        return {"type": "cut_after", "bytes": units.parse_size(arg)}
    if kind == "rst_handshake":
        return {"type": "rst_handshake", "count": DEFAULT_RSTS if arg is None else int(arg)}
    if kind == "ban_after":
        return {"type": "ban_after", "packets": int(arg)}
    if kind == "intercept":
        if not isinstance(arg, str) or not arg:
            raise ValueError("intercept needs the name of a server with serve: [intercept] "
                             "(the censor's TLS proxy): {intercept: mitm}")
        return {"type": "intercept", "via": arg}
    raise ValueError(f"unknown action '{kind}'")            # pragma: no cover (schema)


def _shape(rep: Reporter, where: tuple, match: object) -> dict | None:
    """The match's keys, with proto and protocol values, even when other values are wrong
    (so that an action that cannot apply is reported in the same pass); None if unknown."""
    if not isinstance(match, dict) or not match or not rep.ok(where):
        return None
    shape: dict = {}
    for key, value in match.items():
        if key in ("proto", "protocol"):
            if not rep.clean(where + (key,)):
                return None
            value = [value] if isinstance(value, str) else value
        shape[key] = value
    return shape


def _is_tcp(match: dict) -> bool:
    if "proto" in match:
        return "tcp" in match["proto"]
    return bool(TCP_ONLY_KEYS & set(match)) \
        or bool(TCP_FINGERPRINTS & set(match.get("protocol", ())))


def compatibility(match: dict, action: str, mode: str) -> str | None:
    """Why `action` cannot apply to flows selected by `match` under `mode`, or None."""
    keys = set(match)
    if action in DNS_ANSWERS and "dns" not in keys:
        return f"{action} answers DNS queries, so the match needs a dns key " \
               "(e.g. dns: [example.com])"
    if action == "forge" and mode == "tap":
        return "forge needs mode: inline (a tap cannot drop the real answer): use inject"
    if action in TAP_ACTS_AS and mode == "tap":
        return f"{action} needs mode: inline: a tap only sees copies and {TAP_CANNOT[action]}"
    quic = sorted(keys & {"quic_sni", "quic_ext"})
    if action in ("reset", "blockpage") and quic:
        what = "no TCP connection to reset" if action == "reset" else "no HTTP to answer"
        return f"{quic[0]} matches QUIC over UDP: there is {what}; use drop"
    if action == "blockpage" and not keys & HTTP_KEYS:
        return "blockpage answers an HTTP request, so the match needs a host or path key"
    if action == "reset" and not _is_tcp(match):
        return "reset sends TCP RSTs, so the match must be TCP: add proto: tcp, or match " \
               "sni, host, path, tls_ext or a TCP protocol"
    if action in HANDSHAKE_ACTIONS and (keys - set(HEADER_KEYS) - {"not"}
                                        or not _is_tcp(match)):
        return f"{action} answers the TCP handshake, before any data: match on headers " \
               "only (ip, port, server) with proto: tcp"
    if action in COUNTING_ACTIONS and keys - set(HEADER_KEYS) - {"not"}:
        return f"{action} counts packets by their headers: match on headers only " \
               "(ip, proto, port, server), e.g. proto: icmp"
    if action in SHAPING_ACTIONS and "dns" in keys:
        return f"{action} acts on a flow's bytes, but a dns match decides single DNS " \
               "queries (use drop or nxdomain)"
    return None
