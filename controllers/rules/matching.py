"""A rule's match, compiled: header part, content part, and which technique decided.

Owns the meaning of the `match` keys of docs/scenarios.md over one flow (client side -> server side):
- header: `server` (its addresses, IPv4 and IPv6), `ip` (CIDRs of either family, either
  end), `family` (ipv4 or ipv6), `proto` (`icmp` is ICMPv6 too), `port` (the server's,
  i.e. destination port), `sport_above_dport`; content keys also imply a transport (`sni`,
  `host`, `path`, `tls_ext` TCP; `quic_sni`, `quic_ext` UDP; `dns` TCP or UDP on port 53 unless `port`
  says otherwise);
- content: `dns`, `sni`, `quic_sni`, `host`, `path`, `protocol`, `tls_ext`, `quic_ext`,
  over Facts;
- `not`: a nested match that must not hold.

`matches` answers True, False or None (a fact it needs is still UNKNOWN). A flow is anything
with c_ip/c_n/c_port/s_ip/s_n/s_port/proto attributes (controllers.engine.flows.Flow).
"""
from __future__ import annotations

import ipaddress
from typing import Any

from controllers.rules.facts import UNKNOWN, Facts
from controllers.packets import ICMP, ICMPV6, TCP, UDP
from controllers.rules import ip6
from controllers.rules.patterns import NamePatterns
from controllers.rules.checks import cidr_ints
from controllers.rules.vocabulary import (CONTENT_KEYS, DATA_ACTIONS, EXT_KEYS, KEY_TRANSPORTS,
                                          NAME_KEYS)

PROTO_NUMBERS = {"tcp": TCP, "udp": UDP, "icmp": ICMP}
_ALL = frozenset(PROTO_NUMBERS.values()) | {ICMPV6}
_IMPLIED = {key: frozenset(PROTO_NUMBERS[t] for t in transports)
            for key, transports in KEY_TRANSPORTS.items()}


class IpSet:
    """IPv4 networks (and the IPv6 ones of the list, controllers.rules.ip6.Ip6Nets):
    membership costs one probe per prefix length present.

    A large set (BITMAP_MIN networks or more) keeps every network of /24 or shorter as bits
    of one 2 MiB bitmap, one bit per /24: whatever the number of networks, a lookup reads
    one byte of a table that stays in the CPU's cache, where a set of 10^6 addresses costs a
    miss to memory per probe. Longer prefixes stay in sets, one per length."""

    __slots__ = ("by_len", "bitmap", "v6")

    BITMAP_MIN = 4096

    def __init__(self, cidrs: list[str]) -> None:
        self.by_len: dict[int, set[int]] = {}
        self.bitmap: bytearray | None = None
        cidrs, v6 = ip6.split(cidrs)
        self.v6 = ip6.Ip6Nets(v6) if v6 else None
        if not cidrs:
            return
        nets, lengths = getattr(cidrs, "parsed", None) or cidr_ints(cidrs)
        if len(nets) >= self.BITMAP_MIN and min(lengths) <= 24:
            self._with_bitmap(nets, lengths)
            return
        kinds = set(lengths)
        if len(kinds) == 1:                 # a blocklist of one size: one C-level pass
            self.by_len[kinds.pop()] = set(nets)
            return
        for net, length in zip(nets, lengths):
            self.by_len.setdefault(length, set()).add(net)

    def _with_bitmap(self, nets: list[int], lengths: list[int]) -> None:
        bitmap = self.bitmap = bytearray(1 << 21)
        for net, length in zip(nets, lengths):
            if length > 24:
                self.by_len.setdefault(length, set()).add(net)
                continue
            first = net >> 8
            if length == 24:                # the common case, one bit
                bitmap[first >> 3] |= 1 << (first & 7)
                continue
            count = 1 << (24 - length)
            if count >= 8:                  # whole bytes (a /21 or shorter is byte-aligned)
                bitmap[first >> 3:(first + count) >> 3] = b"\xff" * (count >> 3)
            else:
                for i in range(first, first + count):
                    bitmap[i >> 3] |= 1 << (i & 7)

    def __contains__(self, addr: int) -> bool:
        if addr >= ip6.V6_FLAG:
            return self.v6 is not None and addr in self.v6
        bitmap = self.bitmap
        if bitmap is not None and bitmap[addr >> 11] >> ((addr >> 8) & 7) & 1:
            return True
        for plen, nets in self.by_len.items():
            mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
            if (addr & mask) in nets:
                return True
        return False


class CompiledMatch:
    """One normalised `match` mapping, ready to test flows and facts."""

    def __init__(self, match: dict[str, Any], hosts: dict[str, dict]) -> None:
        self.keys = tuple(match)
        self.servers: dict[int, str] | None = None
        if "server" in match:
            self.servers = {int(ipaddress.IPv4Address(hosts[n]["ip"])): n
                            for n in match["server"]}
            self.servers.update({ip6.addr_int(hosts[n]["ip6"]): n for n in match["server"]
                                 if hosts[n].get("ip6")})
        self.family = ip6.FAMILIES[match["family"][0]] \
            if len(match.get("family", ())) == 1 else None
        self.ips = IpSet(match["ip"]) if "ip" in match else None
        protos = frozenset(PROTO_NUMBERS[p] for p in match["proto"]) if "proto" in match \
            else _ALL
        if ICMP in protos:
            protos |= {ICMPV6}
        for key, implied in _IMPLIED.items():      # content keys and `port`
            if key in match:
                protos &= implied
        self.protos = protos
        ports = match.get("port")
        if ports is None and "dns" in match:
            ports = [[53, 53]]
        self.ports = tuple((lo, hi) for lo, hi in ports) if ports is not None else None
        self.sad = bool(match.get("sport_above_dport"))
        self.dns = NamePatterns(match["dns"]) if "dns" in match else None
        self.sni = NamePatterns(match["sni"]) if "sni" in match else None
        self.quic_sni = NamePatterns(match["quic_sni"]) if "quic_sni" in match else None
        self.host = NamePatterns(match["host"]) if "host" in match else None
        self.path = tuple(match["path"]) if "path" in match else None
        self.protocol = frozenset(match["protocol"]) if "protocol" in match else None
        self.tls_ext = frozenset(match["tls_ext"]) if "tls_ext" in match else None
        self.quic_ext = frozenset(match["quic_ext"]) if "quic_ext" in match else None
        self.content_keys = tuple(k for k in CONTENT_KEYS if k in match)
        self.negated = CompiledMatch(match["not"], hosts) if "not" in match else None
        self.needs = frozenset(self.content_keys) | (self.negated.needs if self.negated
                                                     else frozenset())

    @property
    def header_only(self) -> bool:
        return not self.needs

    # -- header ---------------------------------------------------------------------------
    def header_ok(self, flow) -> bool:
        if flow.proto not in self.protos:
            return False
        if self.family is not None and ip6.family_of(flow.c_n) != self.family:
            return False
        if self.ports is not None:
            port = flow.s_port
            for lo, hi in self.ports:
                if lo <= port <= hi:
                    break
            else:
                return False
        if self.servers is not None and flow.c_n not in self.servers \
                and flow.s_n not in self.servers:
            return False
        if self.ips is not None and flow.c_n not in self.ips and flow.s_n not in self.ips:
            return False
        if self.sad and not flow.c_port > flow.s_port:
            return False
        return True

    def header_may_match(self, flow) -> bool:
        """False when no content can make this match hold for the flow."""
        if not self.header_ok(flow):
            return False
        neg = self.negated
        if neg is not None and neg.header_only and neg.header_ok(flow):
            return False
        return True

    # -- content --------------------------------------------------------------------------
    def matches(self, flow, facts: Facts, header_known: bool = False) -> bool | None:
        """True, False, or None while a fact it needs is UNKNOWN. `header_known`: the
        caller has checked header_ok (a candidate rule of the flow)."""
        if not header_known and not self.header_ok(flow):
            return False
        result: bool | None = True
        for key in self.content_keys:
            value = getattr(facts, key)
            if value is UNKNOWN:
                result = None
                continue
            if value is None or not self._content_ok(key, value):
                return False
        if self.negated is not None:
            inner = self.negated.matches(flow, facts)
            if inner is True:
                return False
            if inner is None:
                result = None
        return result

    def _content_ok(self, key: str, value: Any) -> bool:
        if key in NAME_KEYS:
            return getattr(self, key).match(value)
        if key == "path":
            return any(value.startswith(prefix) for prefix in self.path)
        if key == "protocol":
            return bool(self.protocol & value)
        return bool(getattr(self, key) & value)     # tls_ext, quic_ext

    # -- explanation ----------------------------------------------------------------------
    def explain(self, flow, facts: Facts) -> tuple[str, dict]:
        """The event's technique and detail for a flow this match holds for."""
        if self.content_keys:
            key = self.content_keys[0]
            value = getattr(facts, key)
            if key in EXT_KEYS:
                value = getattr(self, key) & value  # the extensions the rule looked for
            return key, {key: _jsonable(value)}
        if self.negated is not None and self.negated.content_keys:
            key = self.negated.content_keys[0]
            value = getattr(facts, key)
            return key, {key: _jsonable(value), "negated": True}
        if self.servers is not None:
            name = self.servers.get(flow.s_n) or self.servers.get(flow.c_n)
            return "server", {"server": name}
        if self.ips is not None:
            addr = flow.s_ip if flow.s_n in self.ips else flow.c_ip
            return "ip", {"ip": addr}
        if self.ports is not None:
            return "port", {"port": flow.s_port}
        if "proto" in self.keys:
            return "proto", {"proto": flow.proto_name}
        if self.sad:
            return "sport_above_dport", {"sport": flow.c_port, "dport": flow.s_port}
        if self.family is not None:
            return "family", {"family": ip6.family_name(flow.c_ip)}
        if self.negated is not None:
            return "not", {}
        return "any", {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(value)
    return value


class CompiledRule:
    """A checked rule (controllers.rules.checks.check_rule) with its compiled match."""

    def __init__(self, rule: dict, hosts: dict[str, dict]) -> None:
        self.rule = rule
        self.id: str = rule["id"]
        self.enabled: bool = rule["enabled"]
        self.action: dict = rule["action"]
        self.kind: str = self.action["type"]
        self.residual = rule["residual"]
        self.residual_scope: str = rule.get("residual_scope", "port")
        self.residual_spare: tuple[int, ...] = tuple(rule.get("residual_spare", ()))
        self.probability = rule["probability"]
        self.per: str = rule["per"]
        self.match = CompiledMatch(rule["match"], hosts)
        self.needs = self.match.needs

    def needs_data(self, proto: int) -> bool:
        """True when this rule can only decide once the flow carries data (TCP)."""
        return bool(self.needs) or (proto == TCP and self.kind in DATA_ACTIONS)
