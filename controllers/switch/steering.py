"""Steering: which packets the switch sends up to the controller, as few table-0 entries.

Owns the coarse header prefilter of each enabled rule (its transport, destination ports and
addresses: a superset of the flows the rule can match), merging prefilters that overlap, and
turning them into CONTROLLER entries on every client-side port. `allow` rules steer nothing:
forwarding is the default, and a flow another rule steers meets them in Python in rule order.
Where only data can decide a TCP flow, its handshake passes in the switch (passes). The
server's SYN-ACKs of an `rst_handshake` rule's flows are copied up from the start
(synack_copies), not only by the flow's own entry installed when it is decided.
IPv6 is steered like IPv4 (EtherType 0x86dd, ipv6_src/ipv6_dst, ICMPv6 for `icmp`) in a lab
with IPv6 addresses, or for a rule that names IPv6 (its `family`, an IPv6 CIDR).
"""
from __future__ import annotations

import ipaddress
from typing import Iterable

from controllers.engine.effects import CONTROLLER, NORMAL, FlowSpec, up_if_larger
from controllers.rules import ip6
from controllers.rules.matching import CompiledRule
from controllers.packets import ACK, FIN, ICMP, ICMPV6, PSH, RST, SYN, TCP, UDP
from controllers.switch.tables import (ETH_IPV4, ETH_IPV6, PRIO_GUARD, PRIO_PASS, PRIO_STEER,
                                       ct_entry, steer_cookie)

MAX_PORT_BLOCKS = 8       # a port range needing more masked blocks is not steered by port
MAX_VARIANTS = 64         # per rule; beyond this the prefilter gets coarser
SYN_MAX = 74              # bytes: Linux's SYN with every option (MSS, SACK, timestamps, scale)
ACK_MAX = 66              # bytes: a bare ACK with timestamps (SACK blocks make it longer)
_DST_FIELD = {TCP: "tcp_dst", UDP: "udp_dst"}
_ALL = frozenset((TCP, UDP, ICMP))


def port_blocks(lo: int, hi: int) -> list:
    """The range lo..hi as exact ports or (value, mask) blocks; [] means any port."""
    if lo == 0 and hi == 0xFFFF:
        return []
    blocks = []
    while lo <= hi:
        size = lo & -lo if lo else 0x10000
        while size > hi - lo + 1:
            size >>= 1
        blocks.append(lo if size == 1 else (lo, (0xFFFF ^ (size - 1))))
        lo += size
    return blocks


def _net_value(cidr: str):
    net = ipaddress.ip_network(cidr, strict=False)
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return (str(net.network_address), str(net.netmask))


_FIELDS = {4: ("ipv4_src", "ipv4_dst"), 6: ("ipv6_src", "ipv6_dst")}
_ETH = {4: ETH_IPV4, 6: ETH_IPV6}


def _families(rule: CompiledRule, hosts: dict[str, dict]) -> list[int]:
    """The families a rule's flows may use: what its `family`, `ip` or `server` says; else
    IPv4, and IPv6 too where the lab's hosts have IPv6 addresses."""
    m = rule.match
    if m.family is not None:
        return [m.family]
    if m.servers is not None:
        names = rule.rule["match"]["server"]
        return [4] + ([6] if any(hosts[n].get("ip6") for n in names) else [])
    if m.ips is not None:
        v4, v6 = ip6.split(rule.rule["match"]["ip"])
        return [f for f, has in ((4, bool(v4)), (6, bool(v6))) if has]
    return [4] + ([6] if any(h.get("ip6") for h in hosts.values()) else [])


def rule_prefilters(rule: CompiledRule, hosts: dict[str, dict]) -> list[dict]:
    """Matches (without in_port) covering every client->server packet the rule may match."""
    out = []
    for family in _families(rule, hosts):
        out += _family_prefilters(rule, hosts, family)
    return out


def _family_prefilters(rule: CompiledRule, hosts: dict[str, dict], family: int
                       ) -> list[dict]:
    m = rule.match
    src_field, dst_field = _FIELDS[family]
    if not m.protos:
        return []
    protos = [None] if m.protos >= _ALL else \
        sorted({ICMPV6 if p in (ICMP, ICMPV6) and family == 6 else p for p in m.protos
                if p != (ICMPV6 if family == 4 else ICMP)})
    ports: list | None = None
    if m.ports is not None:
        ports = []
        for lo, hi in m.ports:
            blocks = port_blocks(lo, hi)
            if not blocks:
                ports = None
                break
            ports.extend(blocks)
        if ports is not None and len(ports) > MAX_PORT_BLOCKS:
            ports = None
    nets: list[tuple[str, object]] | None = None
    if m.servers is not None:
        nets = []
        for name in rule.rule["match"]["server"]:
            host = hosts[name]
            addr = host["ip"] if family == 4 else host.get("ip6")
            if addr is None:
                continue
            nets.append((dst_field, addr))
            if host.get("side") == "client":
                nets.append((src_field, addr))
    elif m.ips is not None:
        cidrs = ip6.split(rule.rule["match"]["ip"])[family == 6]
        nets = []
        if len(protos) * 2 * len(cidrs) <= MAX_VARIANTS:
            for cidr in cidrs:
                value = _net_value(cidr)
                nets += [(dst_field, value), (src_field, value)]
        else:       # too many: steered by transport alone (what count() below would decide)
            nets = ports = None

    def count() -> int:
        return len(protos) * max(1, len(ports or ())) * max(1, len(nets or ()))

    if count() > MAX_VARIANTS:
        ports = None
    if count() > MAX_VARIANTS:
        nets = None
    out = []
    for proto in protos:
        base = {"eth_type": _ETH[family]}
        if proto is not None:
            base["ip_proto"] = proto
        port_opts = [None]
        if ports and proto in _DST_FIELD:
            port_opts = [(_DST_FIELD[proto], p) for p in ports]
        for popt in port_opts:
            for nopt in (nets or [None]):
                match = dict(base)
                if popt is not None:
                    match[popt[0]] = popt[1]
                if nopt is not None:
                    match[nopt[0]] = nopt[1]
                out.append(match)
    return out


def _as_block(field: str, value) -> tuple[int, int]:
    """(value, mask) as integers, for comparing matches."""
    if field.startswith("ipv4"):
        if isinstance(value, tuple):
            return int(ipaddress.IPv4Address(value[0])), int(ipaddress.IPv4Address(value[1]))
        return int(ipaddress.IPv4Address(value)), 0xFFFFFFFF
    if field.startswith("ipv6"):
        if isinstance(value, tuple):
            return int(ipaddress.IPv6Address(value[0])), int(ipaddress.IPv6Address(value[1]))
        return int(ipaddress.IPv6Address(value)), (1 << 128) - 1
    if isinstance(value, tuple):
        return value[0], value[1]
    full = 0xFFFF if field.endswith(("_src", "_dst")) else -1
    return value, full


def covers(general: dict, specific: dict) -> bool:
    """True when every packet `specific` matches is also matched by `general`."""
    for field, gval in general.items():
        if field not in specific:
            return False
        sval = specific[field]
        if gval == sval:
            continue
        if field.startswith(("ipv4", "ipv6", "tcp", "udp")):
            gv, gm = _as_block(field, gval)
            sv, sm = _as_block(field, sval)
            if gm & sm == gm and (sv & gm) == (gv & gm):
                continue
        return False
    return True


def merge(matches: Iterable[dict]) -> list[dict]:
    """Drop duplicates and matches that another one already covers."""
    unique: list[dict] = []
    for m in matches:
        if m not in unique:
            unique.append(m)
    kept = []
    for i, m in enumerate(unique):
        if any(j != i and covers(other, m) and not (covers(m, other) and j > i)
               for j, other in enumerate(unique)):
            continue
        kept.append(m)
    return sorted(kept, key=lambda m: sorted((k, str(v)) for k, v in m.items()))


def overlap(a: dict, b: dict) -> bool:
    """True when some packet matches both `a` and `b`."""
    for field in a.keys() & b.keys():
        av, bv = a[field], b[field]
        if av == bv:
            continue
        if field.startswith(("ipv4", "ipv6", "tcp", "udp")):
            v1, m1 = _as_block(field, av)
            v2, m2 = _as_block(field, bv)
            if (v1 ^ v2) & m1 & m2 == 0:
                continue
        return False
    return True


def handshake_passes(merged: list[dict], guards: list[dict]) -> list[dict]:
    """The TCP prefilters whose handshakes may pass (without tcp_flags; see passes()).

    A flow steered here is decided on the client's first data at the earliest, unless a
    rule that may decide from headers alone (an address block's reject, a header-only
    throttle) holds for it: those rules' prefilters are the guards, which sit above the
    passes and keep sending everything up. A prefilter a guard covers gets no passes."""
    out = []
    for m in merged:
        if m.get("ip_proto", TCP) != TCP:
            continue
        tcp = {**m, "ip_proto": TCP}
        if not any(covers(g, tcp) for g in guards):
            out.append(tcp)
    return out


def mirrored(match: dict) -> dict:
    """The same prefilter for the server -> client direction."""
    swap = {"ipv4_src": "ipv4_dst", "ipv4_dst": "ipv4_src", "ipv6_src": "ipv6_dst",
            "ipv6_dst": "ipv6_src", "tcp_src": "tcp_dst", "tcp_dst": "tcp_src"}
    return {swap.get(k, k): v for k, v in match.items()}


def passes(prefilter: dict, client_ports: list[int], cookie: int, copy_cookie: int,
           server_rsts: bool = False, client_syns: bool = False) -> list[FlowSpec]:
    """Table 0 entries that let a handshake pass in the switch:

    - the client's SYN, unless it carries data (longer than SYN_MAX: TCP Fast Open), or
      `client_syns` (a DPI profile: the SYN's TTL is the flow's baseline);
    - the client's bare ACKs, unless longer than ACK_MAX (then they may carry data: the
      first segment of a ClientHello larger than the MSS has no PSH);
    - the server's SYN-ACK, forwarded with a copy up: its ack number is where the client's
      stream starts (the reassembly's base), and the copy waits for nobody;
    - with `server_rsts` (a DPI profile that forgets a flow on the server's RST), the
      server's RSTs, forwarded with a copy up too."""
    syn = {**prefilter, "tcp_flags": (SYN, SYN | ACK)}
    ack = {**prefilter, "tcp_flags": (ACK, ACK | SYN | FIN | RST | PSH)}
    synack = {**mirrored(prefilter), "tcp_flags": (SYN | ACK, SYN | ACK)}
    kinds = ((ack, ACK_MAX),) if client_syns else ((syn, SYN_MAX), (ack, ACK_MAX))
    out = [FlowSpec(PRIO_PASS, {"in_port": port, **m}, (up_if_larger(limit),), cookie=cookie)
           for port in client_ports for m, limit in kinds]
    out.append(FlowSpec(PRIO_PASS, synack, (NORMAL, CONTROLLER), cookie=copy_cookie))
    if server_rsts:
        rst = {**mirrored(prefilter), "tcp_flags": (RST, RST)}
        out.append(FlowSpec(PRIO_PASS, rst, (NORMAL, CONTROLLER), cookie=copy_cookie))
    return out


def steering_entries(rules: Iterable[CompiledRule], hosts: dict[str, dict],
                     generation: int, server_rsts: bool = False,
                     client_syns: bool = False, zone: int | None = None) -> list[FlowSpec]:
    """CONTROLLER entries for the enabled rules' prefilters on every client-side port, and
    the handshake entries above them (passes), under the generation's cookies; with a
    conntrack `zone`, the same prefilters' entries of the conntrack lane
    (controllers.switch.tables) above them all."""
    prefilters: list[dict] = []
    header: list[dict] = []
    answered: list[dict] = []
    for rule in rules:
        if rule.enabled and rule.kind != "allow":
            mine = rule_prefilters(rule, hosts)
            prefilters += mine
            if not rule.needs_data(TCP):
                header += mine
            if rule.kind == "rst_handshake":
                answered += mine
    merged = merge(prefilters)
    client_ports = sorted({h["port"] for h in hosts.values()
                           if h.get("side") == "client" and h.get("port") is not None})
    cookie = steer_cookie(generation)
    out = [FlowSpec(PRIO_STEER, {"in_port": port, **m}, (CONTROLLER,), cookie=cookie)
           for port in client_ports for m in merged]
    if zone is not None:
        lane = (ct_entry(port, m, zone, cookie) for port in client_ports for m in merged)
        out += [e for e in lane if e is not None]
    if not client_ports:
        return out
    guards = [g for g in merge(header) if g.get("ip_proto", TCP) == TCP]
    tcp = handshake_passes(merged, guards)
    guards = [g for g in guards if any(overlap(g, m) for m in tcp)]
    out += [FlowSpec(PRIO_GUARD, {"in_port": port, **g}, (CONTROLLER,), cookie=cookie)
            for port in client_ports for g in guards]
    for m in tcp:
        out += passes(m, client_ports, cookie, steer_cookie(generation, copy=True),
                      server_rsts, client_syns)
    made = [spec.match for spec in out if spec.priority == PRIO_PASS]
    out += [spec for spec in synack_copies(answered, steer_cookie(generation, copy=True))
            if spec.match not in made]
    return out


def synack_copies(prefilters: list[dict], copy_cookie: int) -> list[FlowSpec]:
    """The server's SYN-ACKs of these (rst_handshake) prefilters' flows: forwarded, and a
    copy up, from the start. The flow's own entry (decided at the client's SYN) sends them
    up too, but OVS re-translates its cached datapath flows only after a flow-table change:
    a SYN-ACK that arrives first may follow a cached flow made for the same two hosts'
    earlier packets (IPv6's neighbour advertisement, just before every first connection; an
    earlier connection's packets), and went by unseen. An entry in the table before those
    packets makes every cached flow tell the SYN-ACK apart."""
    tcp = merge({**m, "ip_proto": TCP} for m in prefilters if m.get("ip_proto", TCP) == TCP)
    return [FlowSpec(PRIO_PASS, {**mirrored(m), "tcp_flags": (SYN | ACK, SYN | ACK)},
                     (NORMAL, CONTROLLER), cookie=copy_cookie) for m in tcp]
