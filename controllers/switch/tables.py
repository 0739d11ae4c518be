"""The layout of the switch's table 0: priorities, cookies, time-outs and flow-entry builders.

Owns which entry sits above which (and why), how entries are tagged so a group can be removed
with one RemoveFlows, and the exact matches of per-flow pairs and penalty boxes.

    priority 300  per-flow pairs            (exact 5-tuple, both directions or, for an
                                             allowed flow not in the tracker, client ->
                                             server; idle time-out)
    priority 260  allowed flows, tracked    (ct_state=+trk, ct_mark = this switch
                                             connection's mark: NORMAL)
    priority 250  the conntrack lane        (steered TCP packets, -trk, not fragments:
                                             ct(zone) and back to table 0)
    priority 201  a server-wide box's spared ports (client -> server, TCP port; up to the
                  censor, which decides them as if there were no box; hard time-out)
    priority 200  penalty boxes (residual)  (client -> server:port, or client -> server
                                             for a server-wide box; hard time-out)
    priority 102  guards: the prefilters of rules that may decide from headers alone, where
                  they overlap the passes below (everything they match still goes up)
    priority 101  where no rule can decide a steered TCP flow without data
                  (controllers.switch.steering): its SYN and bare ACKs pass (one carrying data
                  goes up, by table 1), the server's SYN-ACK passes and a copy goes up
    priority 100  steering to the controller (coarse prefilters, on client-side ports)
    priority   1  TCP and UDP, either family: NORMAL (as priority 0 would; see below)
    priority   0  NORMAL

Table 1, the size table, finishes `up_if_larger` entries: reg0 bit 0 set (the packet was
longer than the entry's limit) goes to the controller, anything else NORMAL.

The conntrack lane (with a zone, which the app gives the engine): an allowed TCP flow
gets no per-flow entry. The packet-out that releases its held packets commits its connection
to OVS's connection tracker, in the censor's zone, with the switch connection's ct_mark; its
later packets, steered, pass the tracker (250), come back tracked and marked and are switched
at 260, with no flow mod, no idle expiry, and no revalidation of every datapath flow that
each flow-table change costs OVS. Everything else (a packet of a connection nobody committed,
or committed under another mark) falls through to the same entries as before. Flows decided
against, and allowed flows of other protocols (UDP: the lane would put every steered DNS
query through the tracker), keep their pairs at 300, above the lane.
A rule change keeps the mark: a decided flow stays decided, as its pair did.

The priority-1 entries change nothing a packet meets; they make OVS look at the IP protocol
of every packet it switches, so a cached datapath flow made for one protocol never carries
another. Without them a server's IPv6 neighbour advertisement, switched by the catch-all
just before a dual-stack lab's first connection, left a datapath flow for "any IPv6 from
the server to the client"; until OVS revalidated it (its own time, after the flow mod), the
server's TCP took it past the per-flow pair the censor had just installed: a cut_after flow
carried 99 KB instead of 16 KB, an rst_handshake's SYN-ACK never came up.

Boxes sit under the per-flow pairs so the flows already decided (the one that triggered the
box included) keep their own entry, and over the steering so a new flow on the boxed
3-tuple is dropped at switch speed without a packet-in.
"""
from __future__ import annotations

import random
import zlib

from controllers.engine.effects import CONTROLLER, NORMAL, FlowSpec, conntrack
from controllers.packets import TCP, UDP

PRIO_DEFAULT, PRIO_STEER, PRIO_PASS, PRIO_GUARD, PRIO_BOX, PRIO_FLOW = 0, 100, 101, 102, 200, 300
PRIO_TRANSPORT = 1
PRIO_CT, PRIO_CT_ALLOWED = 250, 260
CT_TRACKED = 0x20                         # ct_state's +trk bit
CT_PROTOS = (TCP,)     # allowed flows the tracker carries (others: pairs). Not UDP: the lane
#                        would put every steered DNS query through the tracker on its way up
SIZE_TABLE = 1

KIND_SHIFT = 56
COOKIE_BASE = 0x01 << KIND_SHIFT          # the default NORMAL entry
COOKIE_STEER = 0x02 << KIND_SHIFT         # steering; low bits = generation
COOKIE_FLOW = 0x03 << KIND_SHIFT          # per-flow pairs
COOKIE_BOX = 0x04 << KIND_SHIFT           # penalty boxes
KIND_MASK = 0xFF << KIND_SHIFT
COPY_BIT = 1 << 40                        # steering that forwards and sends a copy up
STEER_GENERATION_MASK = 0xFFFFFFFFFFFFFFFF ^ COPY_BIT   # removes a generation, copies too

FLOW_IDLE = 30          # seconds a per-flow pair outlives the flow's last packet
METERED_HARD = 120      # metered pairs are re-installed this often (their meters' liveness)

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
_PORT_FIELDS = {TCP: ("tcp_src", "tcp_dst"), UDP: ("udp_src", "udp_dst")}


def _addresses(proto: int, src: str, dst: str) -> dict:
    """EtherType, protocol and both addresses, in the fields of the addresses' family."""
    if ":" in src:
        return {"eth_type": ETH_IPV6, "ip_proto": proto, "ipv6_src": src, "ipv6_dst": dst}
    return {"eth_type": ETH_IPV4, "ip_proto": proto, "ipv4_src": src, "ipv4_dst": dst}


def ct_zone(key: str) -> int:
    """The conntrack zone of one censor, from a key unique on this machine while it runs (its
    control socket's path): OVS's userspace tracker is one for every bridge, and labs side
    by side use the same addresses. 1..65535; a shared zone costs only speed (the marks
    differ: a flow the other censor committed comes up here and is committed again)."""
    return zlib.crc32(key.encode()) % 0xFFFF + 1


def new_ct_mark() -> int:
    """A fresh ct_mark for a switch connection: a connection committed under an earlier one
    (a restarted censor, a reconnected switch, another lab in the same zone) is not ours."""
    return random.randrange(1, 1 << 32)


def ct_allowed_entry(mark: int) -> FlowSpec:
    """Table 0: a packet the tracker has seen (after a conntrack entry) whose connection an
    allowed flow's packet-out committed with this connection's mark: switched NORMAL."""
    return FlowSpec(PRIO_CT_ALLOWED, {"ct_state": (CT_TRACKED, CT_TRACKED), "ct_mark": mark},
                    (NORMAL,), cookie=COOKIE_BASE)


def ct_entry(in_port: int, prefilter: dict, zone: int, cookie: int) -> FlowSpec | None:
    """Table 0: a steered TCP packet not yet tracked (and not an IP fragment: those go up
    as they are) goes through the tracker and back to table 0; None for a prefilter of
    another protocol."""
    if prefilter.get("ip_proto", TCP) not in CT_PROTOS:
        return None
    match = {"in_port": in_port, **prefilter, "ip_proto": prefilter.get("ip_proto", TCP),
             "ip_frag": (0, 1), "ct_state": (0, CT_TRACKED)}
    return FlowSpec(PRIO_CT, match, (conntrack(zone, 0),), cookie=cookie)


def default_entry() -> FlowSpec:
    return FlowSpec(priority=PRIO_DEFAULT, match={}, actions=(NORMAL,), cookie=COOKIE_BASE)


def transport_entries() -> list[FlowSpec]:
    """TCP and UDP of both families switched NORMAL just above the catch-all: what the
    catch-all does, with the IP protocol looked at (the module's docstring)."""
    return [FlowSpec(priority=PRIO_TRANSPORT, match={"eth_type": eth, "ip_proto": proto},
                     actions=(NORMAL,), cookie=COOKIE_BASE)
            for eth in (ETH_IPV4, ETH_IPV6) for proto in (TCP, UDP)]


def size_table() -> list[FlowSpec]:
    """Table 1: what `up_if_larger` found too long goes up, the rest is switched."""
    return [FlowSpec(1, {"reg0": (1, 1)}, (CONTROLLER,), cookie=COOKIE_BASE, table=SIZE_TABLE),
            FlowSpec(0, {}, (NORMAL,), cookie=COOKIE_BASE, table=SIZE_TABLE)]


def steer_cookie(generation: int, copy: bool = False) -> int:
    return COOKIE_STEER | (generation & 0xFFFFFFFF) | (COPY_BIT if copy else 0)


def is_copy(cookie: int) -> bool:
    """Whether a packet-in's entry (its cookie) forwarded the packet and sent a copy up."""
    return cookie & KIND_MASK == COOKIE_STEER and bool(cookie & COPY_BIT)


def directed_match(proto: int, src: str, sport: int, dst: str, dport: int) -> dict:
    """The exact match of one direction of a flow (ports only where the protocol has them)."""
    match = _addresses(proto, src, dst)
    fields = _PORT_FIELDS.get(proto)
    if fields is not None:
        match[fields[0]] = sport
        match[fields[1]] = dport
    return match


def flow_pair(flow, actions_c2s: tuple, actions_s2c: tuple | None = None,
              hard_timeout: int = 0, both: bool = True) -> list[FlowSpec]:
    """Both directions of `flow` (controllers.engine.flows.Flow), client -> server first; with
    `both` False only client -> server (the other direction is switched NORMAL anyway)."""
    if actions_s2c is None:
        actions_s2c = actions_c2s
    c2s = directed_match(flow.proto, flow.c_ip, flow.c_port, flow.s_ip, flow.s_port)
    out = [FlowSpec(PRIO_FLOW, c2s, actions_c2s, idle_timeout=FLOW_IDLE,
                    hard_timeout=hard_timeout, cookie=COOKIE_FLOW)]
    if both:
        s2c = directed_match(flow.proto, flow.s_ip, flow.s_port, flow.c_ip, flow.c_port)
        out.append(FlowSpec(PRIO_FLOW, s2c, actions_s2c, idle_timeout=FLOW_IDLE,
                            hard_timeout=hard_timeout, cookie=COOKIE_FLOW))
    return out


def box_entry(proto: int, client: str, server: str, dport: int, seconds: float,
              actions: tuple = ()) -> FlowSpec:
    """A penalty box: client -> server (:dport) for `seconds` (rounded up, at least 1);
    proto 0 (ANY): every packet from client to server (a ban of the address pair)."""
    match = _addresses(proto, client, server)
    if not proto:                   # 0: every protocol (a ban of the address pair)
        del match["ip_proto"]
    fields = _PORT_FIELDS.get(proto)
    if fields is not None:
        match[fields[1]] = dport
    hard = max(1, int(-(-seconds // 1)))
    return FlowSpec(PRIO_BOX, match, actions, hard_timeout=hard, cookie=COOKIE_BOX)


def spare_entry(client: str, server: str, dport: int, seconds: float) -> FlowSpec:
    """A TCP port a server-wide box spares: up to the censor, which decides its flows as
    without the box (their own per-flow pairs, above, then carry them)."""
    match = {**_addresses(TCP, client, server), "tcp_dst": dport}
    hard = max(1, int(-(-seconds // 1)))
    return FlowSpec(PRIO_BOX + 1, match, (CONTROLLER,), hard_timeout=hard, cookie=COOKIE_BOX)

