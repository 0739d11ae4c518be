"""Checks one normalised rule (docs/internals.md section 1) before the engine compiles it.

Owns the shape of a rule as the controller receives it, from policy.json or from a control
command: which keys, which types, which action parameters (the words themselves are
controllers.rules.vocabulary's). `check_rule` returns a clean copy with defaults filled in,
or raises RuleError with a message naming the offending field. It does not match anything
(controllers.rules.matching) and does not know scenarios (lab/).
"""
from __future__ import annotations

import ipaddress
import re
import socket
from itertools import repeat
from typing import Any

from controllers.dpi import profile as dpi_profile
from controllers.rules import ip6
from controllers.rules.vocabulary import (ACTIONS, EXT_KEYS, FAMILIES, FINGERPRINTS,
                                          MATCH_KEYS, NAME_KEYS, PER_VALUES, PROTOS,
                                          RESIDUAL_SCOPES, RULE_KEYS)


class RuleError(ValueError):
    """A rule that the engine cannot use; the message names the field."""


_CIDR_CHARS = re.compile(r"[0-9./\n]*")     # what "\n"-joined plain CIDRs are made of
_MASKS = [(0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF for n in range(33)]


def cidr_int(cidr: str) -> tuple[int, int] | None:
    """(network address as an int, prefix length) of a plain `a.b.c.d[/len]`, host bits
    cleared; None when it is written any other way (ipaddress judges those)."""
    addr, slash, plen = cidr.partition("/")
    if slash and not (0 < len(plen) <= 2 and plen.isascii() and plen.isdigit()):
        return None
    length = int(plen) if slash else 32
    if length > 32:
        return None
    try:
        packed = socket.inet_pton(socket.AF_INET, addr)   # four decimal parts, no leading 0
    except OSError:
        return None
    return int.from_bytes(packed, "big") & _MASKS[length], length


def cidr_ints(cidrs: list[str]) -> tuple[list[int], list[int]]:
    """(network addresses, prefix lengths) of the CIDRs, as cidr_int; ValueError for one
    that is no IPv4 network.

    A list of plain `a.b.c.d/len` goes through C-level maps, not a Python loop (10^6 in
    about half a second): inet_pton takes only four decimal parts without leading zeros, as
    ipaddress does, and anything misplaced (a second "/", an empty part) makes a call fail.
    Any other list goes one by one, through ipaddress where need be: same answers, same
    errors."""
    joined = "\n".join(cidrs)
    n = len(cidrs)
    if n and joined.count("/") == n and joined.count("\n") == n - 1 \
            and _CIDR_CHARS.fullmatch(joined):
        parts = joined.replace("/", "\n").split("\n")
        try:
            packed = list(map(socket.inet_pton, repeat(socket.AF_INET), parts[0::2]))
            lengths = list(map(int, parts[1::2]))
            if max(lengths) <= 32:
                masks = map(_MASKS.__getitem__, lengths)
                addrs = map(int.from_bytes, packed, repeat("big"))
                return list(map(int.__and__, addrs, masks)), lengths
        except (OSError, ValueError):
            pass
    nets, lengths = [], []
    for cidr in cidrs:
        fast = cidr_int(cidr)
        if fast is None:
            net = ipaddress.IPv4Network(cidr, strict=False)
            fast = int(net.network_address), net.prefixlen
        nets.append(fast[0])
        lengths.append(fast[1])
    return nets, lengths


def normalise_cidrs(cidrs: list[str]) -> list[str]:
    """Each as str(IPv4Network(cidr, strict=False)) or, with a colon, str(IPv6Network(...));
    ValueError for one that is neither. A list already in that form is kept as it is (one
    copy of a 10^6 blocklist)."""
    if any(":" in c for c in cidrs):
        return [ip6.normalise6(c) if ":" in c else normalise_cidrs([c])[0] for c in cidrs]
    nets, lengths = cidr_ints(cidrs)
    addrs = map(socket.inet_ntoa, map(int.to_bytes, nets, repeat(4), repeat("big")))
    texts = list(map("{}/{}".format, addrs, lengths))
    out = CidrList(cidrs if texts == cidrs else
                   [c if c == t else t for c, t in zip(cidrs, texts)])
    out.parsed = nets, lengths
    return out


class CidrList(list):
    """A checked rule's `ip` list (a plain list to JSON and to every reader) that keeps
    what checking parsed, so that compiling it (matching.IpSet) does not parse it again."""

    parsed: tuple[list[int], list[int]] | None = None


def _strings(where: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(map(isinstance, value, repeat(str))):
        raise RuleError(f"{where}: expected a list of strings")
    return list(value)


def _check_match(match: Any, hosts: dict, where: str) -> dict:
    if not isinstance(match, dict):
        raise RuleError(f"{where}: expected a mapping")
    unknown = sorted(set(match) - set(MATCH_KEYS))
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {', '.join(unknown)}")
    out: dict[str, Any] = {}
    for key, value in match.items():
        at = f"{where}.{key}"
        if key == "server":
            names = _strings(at, value)
            missing = [n for n in names if n not in hosts]
            if missing:
                raise RuleError(f"{at}: unknown host(s) {', '.join(missing)}")
            out[key] = names
        elif key == "ip":
            nets = _strings(at, value)
            try:
                out[key] = normalise_cidrs(nets)
            except ValueError as exc:
                raise RuleError(f"{at}: {exc}") from None
        elif key == "family":
            families = _strings(at, value)
            bad = [f for f in families if f not in FAMILIES]
            if bad or not families:
                raise RuleError(f"{at}: expected ipv4 or ipv6, not {', '.join(bad)}")
            out[key] = families
        elif key == "proto":
            protos = _strings(at, value)
            bad = [p for p in protos if p not in PROTOS]
            if bad:
                raise RuleError(f"{at}: unknown protocol(s) {', '.join(bad)}")
            out[key] = protos
        elif key == "port":
            out[key] = _check_ports(at, value)
        elif key in NAME_KEYS:
            out[key] = [v if v.islower() else v.lower() for v in _strings(at, value)]
        elif key == "path":
            out[key] = _strings(at, value)
        elif key == "protocol":
            names = _strings(at, value)
            bad = [n for n in names if n not in FINGERPRINTS]
            if bad:
                raise RuleError(f"{at}: unknown fingerprint(s) {', '.join(bad)}")
            out[key] = names
        elif key in EXT_KEYS:
            vals = value if isinstance(value, list) else [value]
            if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 0xFFFF
                       for v in vals):
                raise RuleError(f"{at}: expected extension numbers 0..65535")
            out[key] = list(vals)
        elif key == "sport_above_dport":
            if not isinstance(value, bool):
                raise RuleError(f"{at}: expected true or false")
            out[key] = value
        else:  # not
            out[key] = _check_match(value, hosts, at)
    return out


def _check_ports(at: str, value: Any) -> list[list[int]]:
    items = value if isinstance(value, list) else [value]
    ranges = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            lo = hi = item
        elif (isinstance(item, (list, tuple)) and len(item) == 2
              and all(isinstance(v, int) and not isinstance(v, bool) for v in item)):
            lo, hi = item
        else:
            raise RuleError(f"{at}: expected [lo, hi] port pairs")
        if not 0 <= lo <= hi <= 65535:
            raise RuleError(f"{at}: bad port range {lo}-{hi}")
        ranges.append([lo, hi])
    return ranges


def _check_action(action: Any) -> dict:
    if isinstance(action, str):
        action = {"type": action}
    if not isinstance(action, dict) or action.get("type") not in ACTIONS:
        raise RuleError(f"action: expected one of {', '.join(ACTIONS)}")
    kind = action["type"]
    out = dict(action)
    if kind in ("forge", "inject"):
        try:
            out["ip"] = str(ipaddress.IPv4Address(action.get("ip")))
        except ValueError:
            raise RuleError(f"action.ip: {kind} needs an IPv4 address") from None
        if action.get("ip6") is not None:           # the AAAA answer (dual stack)
            try:
                out["ip6"] = str(ipaddress.IPv6Address(action["ip6"]))
            except ValueError:
                raise RuleError(f"action.ip6: {kind}'s AAAA answer must be an IPv6 "
                                "address") from None
    elif kind == "blockpage":
        status = action.get("status", 403)
        body = action.get("body")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise RuleError("action.status: expected an HTTP status 100..599")
        if body is not None and not isinstance(body, str):
            raise RuleError("action.body: expected a string")
        out["status"], out["body"] = status, body
    elif kind == "throttle":
        rate = action.get("rate_bps")
        if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
            raise RuleError("action.rate_bps: expected a positive integer")
    elif kind == "cut_after":
        size = action.get("bytes")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise RuleError("action.bytes: expected a non-negative integer")
    elif kind == "intercept":
        if not isinstance(action.get("via"), str) or not action["via"]:
            raise RuleError("action.via: intercept needs the name of the host that "
                            "terminates TLS")
    elif kind == "rst_handshake":
        count = action.get("count", 3)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 16:
            raise RuleError("action.count: expected an integer from 1 to 16")
        out["count"] = count
    elif kind == "ban_after":
        packets = action.get("packets")
        if not isinstance(packets, int) or isinstance(packets, bool) or not 1 <= packets <= 1000:
            raise RuleError("action.packets: expected an integer from 1 to 1000")
    return out


def check_rule(rule: Any, hosts: dict) -> dict:
    """A validated copy of `rule` with defaults (enabled, residual, probability, per)."""
    if not isinstance(rule, dict):
        raise RuleError("rule: expected a mapping")
    rid = rule.get("id")
    if not isinstance(rid, str) or not rid:
        raise RuleError("rule.id: expected a non-empty string")
    unknown = sorted(set(rule) - set(RULE_KEYS))
    if unknown:
        raise RuleError(f"rule {rid}: unknown key(s) {', '.join(unknown)}")
    enabled = rule.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleError(f"rule {rid}.enabled: expected true or false")
    residual = rule.get("residual")
    if residual is not None and (not isinstance(residual, (int, float))
                                 or isinstance(residual, bool) or not 0 < residual < 1e9):
        raise RuleError(f"rule {rid}.residual: expected seconds > 0 or null")
    scope = rule.get("residual_scope", "port") or "port"
    if scope not in RESIDUAL_SCOPES:
        raise RuleError(f"rule {rid}.residual_scope: expected {' or '.join(RESIDUAL_SCOPES)}")
    spare = rule.get("residual_spare") or []
    if not isinstance(spare, list) or not all(
            isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 65535 for p in spare):
        raise RuleError(f"rule {rid}.residual_spare: expected a list of ports 1-65535")
    if spare and scope != "server":
        raise RuleError(f"rule {rid}.residual_spare: spares ports of a server-wide box "
                        f"(residual_scope: server)")
    prob = rule.get("probability")
    if prob is not None and (not isinstance(prob, (int, float)) or isinstance(prob, bool)
                             or not 0 <= prob <= 1):
        raise RuleError(f"rule {rid}.probability: expected 0..1 or null")
    per = rule.get("per", "flow") or "flow"
    if per not in PER_VALUES:
        raise RuleError(f"rule {rid}.per: expected flow or rule")
    try:
        match = _check_match(rule.get("match", {}), hosts, "match")
        action = _check_action(rule.get("action"))
    except RuleError as exc:
        raise RuleError(f"rule {rid}: {exc}") from None
    return {"id": rid, "enabled": enabled, "match": match, "action": action,
            "residual": residual, "residual_scope": scope, "residual_spare": sorted(set(spare)),
            "probability": prob, "per": per}


def check_dpi(value: Any) -> dict:
    """A policy's "dpi" section (a named profile or a mapping of vocabulary.DPI_KEYS):
    its normalised form, every key filled in (controllers.dpi.profile); RuleError naming
    the key otherwise."""
    try:
        return dpi_profile.check(value).as_policy()
    except dpi_profile.ProfileError as e:
        raise RuleError(str(e)) from None
