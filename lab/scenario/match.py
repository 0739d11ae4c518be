"""A rule's `match:` to the normalised form of docs/internals.md §1.

Owns the checks on match values the schema cannot express (CIDRs, port ranges, server names,
extension numbers) and the normalisation: every key a list, `ip` as CIDR strings (IPv4 or
IPv6; an address group "@NAME" of lab/scenario/addressing.py as its addresses), `port` as
[lo, hi] pairs, name patterns in lower case, `not` recursively.
"""
from __future__ import annotations

import ipaddress
from typing import Collection

from controllers.rules.vocabulary import NAME_KEYS
from lab.scenario.addressing import ADDRESS_GROUPS
from lab.scenario.errors import Reporter, did_you_mean

LIST_KEYS = ("proto", "path", "protocol", "family")  # values the schema checked, kept as written


def build_match(rep: Reporter, path: tuple, data: object,
                servers: Collection[str] | None) -> dict | None:
    """The normalised match, or None when something in it is wrong (and reported).

    `servers`: the scenario's server names, or None when they are not all known."""
    if not isinstance(data, dict) or not rep.ok(path):
        return None
    out: dict = {}
    complete = True
    for key, value in data.items():
        where = path + (key,)
        if not rep.clean(where):
            complete = False
            continue
        if key == "not":
            result = build_match(rep, where, value, servers)
        elif key == "sport_above_dport":
            result = bool(value)
        else:
            result = _values(rep, key, where, value, servers)
        if result is None:
            complete = False
        else:
            out[key] = result
    if complete and "port" in out and out.get("proto") == ["icmp"]:
        rep.error(path + ("port",), "ports need tcp or udp, and proto is icmp")
        return None
    return out if complete else None


def _items(where: tuple, value) -> list[tuple[tuple, object]]:
    if isinstance(value, list):
        return [(where + (i,), v) for i, v in enumerate(value)]
    return [(where, value)]


def _values(rep: Reporter, key: str, where: tuple, value,
            servers: Collection[str] | None) -> list | None:
    out: list = []
    ok = True
    for at, item in _items(where, value):
        try:
            norms = _group(item) if key == "ip" and isinstance(item, str) \
                and item.startswith("@") else [_one(key, item, servers)]
        except ValueError as e:
            rep.error(at, str(e))
            ok = False
            continue
        out += [norm for norm in norms if norm not in out]
    return out if ok else None


def _group(item: str) -> list[str]:
    """The addresses (as /32 CIDRs) of the address group `item` names ("@tor-relays")."""
    known = [f"@{g}" for g in ADDRESS_GROUPS]
    if item not in known:
        raise ValueError(f"no address group '{item}'{did_you_mean(item, known)}; known: "
                         f"{', '.join(known)}")
    return [f"{ip}/32" for ip in ADDRESS_GROUPS[item[1:]]]


def _one(key: str, item, servers: Collection[str] | None):
    if key in NAME_KEYS:
        return item.lower()
    if key in LIST_KEYS:
        return item
    if key == "server":
        if servers is not None and item not in servers:
            raise ValueError(f"no server named '{item}'{did_you_mean(item, servers)}")
        return item
    if key == "ip":
        return _cidr(item)
    if key == "port":
        return _port(item)
    if key in ("tls_ext", "quic_ext"):
        number = item if isinstance(item, int) else \
            int(item[2:], 16) if item.lower().startswith("0x") else int(item, 10)
        if not 0 <= number <= 65535:
            raise ValueError(f"extension type {item} is out of range 0..65535")
        return number
    raise ValueError(f"unknown match key '{key}'")       # pragma: no cover (schema)


def _cidr(text: str) -> str:
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"bad address or CIDR '{text}' (e.g. 198.19.0.10, 10.0.0.0/8 or "
                         "2001:db8::/32)") from None
    if net.network_address != ipaddress.ip_interface(text.strip()).ip:
        raise ValueError(f"bad CIDR '{text}': host bits set (did you mean '{net}'?)")
    return str(net)


def _port(item) -> list[int]:
    if isinstance(item, int):
        lo = hi = item
    else:
        lo_text, _, hi_text = item.partition("-")
        lo, hi = int(lo_text), int(hi_text or lo_text)
    for p in (lo, hi):
        if not 1 <= p <= 65535:
            raise ValueError(f"port {p} is out of range 1..65535")
    if lo > hi:
        raise ValueError(f"bad port range '{item}': {lo} is above {hi} (did you mean "
                         f"'{hi}-{lo}'?)")
    return [lo, hi]
