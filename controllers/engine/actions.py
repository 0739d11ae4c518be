"""What each action does to a decided flow, as effects: entries, meters, injected frames, event.

Owns the client-observable behaviour of the scenario format's actions (docs/scenarios.md), in both modes. Inline: held
packets are released or discarded and per-flow pairs may drop or meter. Tap: injections
first, then the original is forwarded; nothing is dropped (drop/throttle/cut_after act as
allow, forge as inject; the event still names the rule's action).

    allow      pair NORMAL, held packets released in order (event only for an allow rule)
    drop       pair with no actions, held packets discarded
    reject     TCP without data: RST|ACK answering the segment (the SYN), no pair, every
               retransmission answered again; TCP with data: as reset; UDP: ICMP port
               unreachable; ICMP echo: ICMP admin-prohibited
    reset      RST|ACK to the client (seq = its ack field) and to the server (seq = first
               client byte it has not got), data dropped, pair drop
    nxdomain/servfail/refused/forge
               UDP: the answer from the resolver's address and port, query dropped, no pair
               (later queries of the flow are answered too); TCP: PSH|ACK with every query
               of the stream answered, FIN|ACK, RST to the server, pair drop
    inject     the forged answer, then the query forwarded (UDP: no pair, later queries of
               the flow get the same; TCP: pair NORMAL)
    blockpage  HTTP response (PSH|ACK segments), FIN|ACK, RST to the server, pair drop;
               on a flow without an HTTP request: as reset
    throttle   pair through meters then NORMAL (per flow: one meter per direction; per rule:
               the rule's shared meter), hard time-out METERED_HARD so Python sees liveness
    cut_after  pair CONTROLLER both ways; the engine counts payload and drops past the size
    drop_reply pair NORMAL client -> server, drop server -> client; held packets released
    intercept  decided on the client's SYN (headers only): the flow diverted to the host named
               `via` (the censor's TLS proxy, lab.services.intercept), its Ethernet
               destination rewritten; pair client -> server set eth_dst + output to that
               host's port, server -> client NORMAL (the proxy answers as the server)
    rst_handshake
               decided on the client's SYN (headers only): `count` RST+ACKs to the client,
               the SYN forwarded; pair NORMAL client -> server, CONTROLLER server -> client,
               where the server's SYN-ACK gets `count` RST+ACKs after it (gfw.report,
               2025-08-20)

Injected frames answer from the server's address and port with the original's MACs swapped.
"""
from __future__ import annotations

from controllers.dpi import dns
from controllers.engine.answers import blockpage_bytes, dns_responses
from controllers.engine.bans import PacketCounts
from controllers.engine.effects import CONTROLLER, NORMAL, AddMeter, Event, InstallFlow, Output, meter
from controllers.engine.flows import Flow
from controllers.rules.matching import CompiledRule
from controllers.packets6 import ECHO_REQUEST as ECHO_REQUEST6
from controllers.packets import (ACK, FIN, ICMP, ICMPV6, INJECT_TTL, PSH, RST, SYN, TCP, UDP, Malformed,
                                 Packet, build_tcp, forward_tcp, icmp_unreachable, parse_frame,
                                 reply_tcp, reply_udp, rst_for, with_eth_dst, with_ttl)
from controllers.rules.ruleset import MeterPool, meter_shape
from controllers.rules.vocabulary import DNS_ANSWERS, TAP_ACTS_AS
from controllers.switch.tables import CT_PROTOS, METERED_HARD, flow_pair

SEGMENT = 1400


class Executor:
    """Applies a rule's action (or the default allow) to a flow being decided."""

    def __init__(self, tap: bool, server_ports: dict[str, int], meters: MeterPool,
                 rule_meters: dict[tuple, int], stats: dict[str, int],
                 side_of_ip: dict[str, str | None] | None = None,
                 ttl: int = INJECT_TTL, hosts: dict[str, dict] | None = None) -> None:
        self.tap = tap
        self.hosts = hosts or {}        # the policy's hosts by name (intercept's `via`)
        self.ttl = ttl                  # initial IP TTL of injected packets (the censor's)
        self.server_ports = server_ports
        self.side_of_ip = side_of_ip or {}
        self.meters = meters
        self.rule_meters = rule_meters
        self.stats = stats
        self.counts = PacketCounts()    # ban_after (controllers.engine.bans)
        self.ct: tuple[int, int] | None = None  # (zone, mark): the conntrack lane, if on

    # -- small helpers ----------------------------------------------------------------------
    def to_client(self, flow: Flow, frame: bytes) -> Output:
        self.stats["injected"] += 1
        return Output(self.as_injected(frame), None, flow.c_in_port)

    def to_server(self, flow: Flow, frame: bytes) -> Output:
        self.stats["injected"] += 1
        return Output(self.as_injected(frame), None, self.server_ports.get(flow.s_ip))

    def as_injected(self, frame: bytes) -> bytes:
        """An injection as it leaves this censor: built with INJECT_TTL, set to its own."""
        return frame if self.ttl == INJECT_TTL else with_ttl(frame, self.ttl)

    def release(self, flow: Flow) -> list:
        out = [Output(frame, port) for frame, port in flow.held]
        self.stats["released"] += len(out)
        flow.held, flow.held_since, flow.undelivered = [], None, None
        return out

    def committed(self, frame: bytes, in_port: int | None) -> Output:
        """A frame of an allowed flow, forwarded after committing its connection."""
        return Output(frame, in_port, commit=self.ct)

    def allow(self, flow: Flow, both: bool = True) -> list:
        """Forward the flow from now on, and its held packets now: in the tracker (their
        packet-outs commit the connection: no per-flow entry), or by a per-flow pair."""
        if self.ct is None or flow.proto not in CT_PROTOS:
            return self.pair(flow, (NORMAL,), "allow", both=both) + self.release(flow)
        flow.verdict, flow.actions = "allow", None
        return [self.committed(o.frame, o.in_port) for o in self.release(flow)]

    def discard(self, flow: Flow) -> None:
        self.stats["discarded"] += len(flow.held)
        flow.held, flow.held_since = [], None

    def pair(self, flow: Flow, c2s: tuple, verdict: str, s2c: tuple | None = None,
             hard_timeout: int = 0, both: bool = True) -> list:
        """Install the flow's per-flow pair and remember it (for refreshes)."""
        flow.verdict = verdict
        flow.actions = (c2s, c2s if s2c is None else s2c, hard_timeout, both)
        return [InstallFlow(s) for s in flow_pair(flow, *flow.actions)]

    # -- the decision -----------------------------------------------------------------------
    def execute(self, flow: Flow, rule: CompiledRule | None, pkt: Packet | None,
                now: float) -> list:
        """Effects for deciding `flow` by `rule` (None: no rule applies, forward it).

        `pkt` is the client->server packet that completed the decision."""
        if rule is None:
            return self._allow(flow)
        kind = rule.kind
        if self.tap:
            kind = TAP_ACTS_AS.get(kind, kind)
        technique, detail = rule.match.explain(flow, flow.facts)
        detail = dict(detail)
        act = rule.action
        if rule.kind in ("forge", "inject"):
            detail["answer"] = act["ip"]
            if act.get("ip6"):
                detail["answer6"] = act["ip6"]
        elif rule.kind == "throttle":
            detail["rate_bps"] = act["rate_bps"]
        elif rule.kind == "cut_after":
            detail["bytes"] = act["bytes"]
        elif rule.kind == "blockpage":
            detail["status"] = act["status"]
        if kind == "ban_after":         # counted: the first packets pass, one at a time
            if self.counts.passes(rule.id, flow.c_ip, flow.s_ip, act["packets"]):
                flow.verdict = "datagram"
                return self.release(flow)
            self.counts.forget(rule.id, flow.c_ip, flow.s_ip)
            detail["after"] = act["packets"]
        flow.rule_id = rule.id
        out: list = [Event({"rule": rule.id, "technique": technique, "action": rule.kind,
                            "flow": flow.flow_record(), "detail": detail})]
        out += self._act(flow, rule, kind, pkt)
        return out

    def _act(self, flow: Flow, rule: CompiledRule, kind: str, pkt: Packet | None) -> list:
        tcp_data = (flow.proto == TCP and pkt is not None and bool(pkt.payload))
        if kind == "allow":
            return self._allow(flow)
        if kind == "drop":
            self.discard(flow)
            return self.pair(flow, (), "drop")
        if kind == "ban_after":         # past the count: this packet goes; the box does the rest
            self.discard(flow)
            flow.verdict = "banned"
            return []
        if kind == "drop_reply":        # the client's packets go on, the server's vanish
            return self.pair(flow, (NORMAL,), "drop_reply", s2c=()) + self.release(flow)
        if kind == "rst_handshake":     # the server's packets come up: its SYN-ACK too
            injected = self.handshake_rsts(flow, rule, pkt) if pkt is not None else []
            return injected + self.pair(flow, (NORMAL,), "rst_handshake", s2c=(CONTROLLER,)) \
                + self.release(flow)
        if kind == "intercept":
            return self._intercept(flow, rule)
        if kind in DNS_ANSWERS:
            return self._dns(flow, rule, kind, pkt)
        if kind == "blockpage" and tcp_data and flow.facts.host is not None \
                and flow.facts.path is not None:
            page = blockpage_bytes(rule.action["status"], rule.action.get("body"))
            return self._answer_tcp(flow, pkt, page, close=True)
        if kind == "reject" and not tcp_data:
            return self._reject(flow, pkt)
        if kind in ("reject", "reset", "blockpage"):
            if flow.proto != TCP:
                return self._reject(flow, pkt) if kind == "reject" else \
                    self._act(flow, rule, "drop", pkt)
            return self._reset(flow, pkt)
        if kind == "throttle":
            return self._throttle(flow, rule)
        if kind == "cut_after":
            flow.cut_limit, flow.cut_count = rule.action["bytes"], 0
            passed = []
            for frame, port in flow.held:
                size = _payload_len(frame)
                if size and flow.cut_count + size > flow.cut_limit:
                    self.stats["discarded"] += len(flow.held) - len(passed)
                    flow.held = passed          # the limit falls within the held data
                    return self.pair(flow, (), "drop") + self.release(flow)
                flow.cut_count += size
                passed.append((frame, port))
            return self.pair(flow, (CONTROLLER,), "cut") + self.release(flow)
        return self._act(flow, rule, "drop", pkt)          # unreachable: checked rules

    # -- the actions ------------------------------------------------------------------------
    @staticmethod
    def diverted(flow: Flow, frame: bytes, in_port: int | None) -> Output:
        """A client packet of an intercepted flow that came up: on to the proxy's port."""
        (_set, mac), (_out, port) = flow.actions[0]
        return Output(with_eth_dst(frame, mac), in_port, port)

    def _intercept(self, flow: Flow, rule: CompiledRule) -> list:
        """The flow goes to the `via` host instead of the server (its kernel takes it for
        itself: lab.services.intercept redirects port 443 to the proxy)."""
        via = self.hosts.get(rule.action["via"]) or {}
        port, mac = via.get("port"), via.get("mac")
        if port is None or mac is None:             # no such host on this switch: dropped
            self.discard(flow)
            return self.pair(flow, (), "drop")
        out = [Output(with_eth_dst(f, mac), p, port) for f, p in flow.held]
        self.stats["released"] += len(out)
        flow.held, flow.held_since, flow.undelivered = [], None, None
        return self.pair(flow, (("set_eth_dst", mac), ("output", port)), "intercept",
                         s2c=(NORMAL,)) + out

    def handshake_rsts(self, flow: Flow, rule: CompiledRule | None, pkt: Packet) -> list:
        """rst_handshake: `count` RST+ACKs to the client, from the server, for the client's
        SYN (seq 0, windows 1980, 1981, ...) or the server's SYN-ACK (seq = its own + 1,
        windows 3293, ...): what gfw.report measured on 2025-08-20 on port 443."""
        flags = pkt.flags & (SYN | ACK | RST)
        if rule is None or pkt.proto != TCP or flags not in (SYN, SYN | ACK):
            return []
        port = flow.c_in_port if flow.c_in_port is not None else self.port_of_ip.get(flow.c_ip)
        count = rule.action.get("count", 3)
        if flags == SYN:        # answered as from the server
            frames = [build_tcp(pkt.eth_dst, pkt.eth_src, pkt.dst, pkt.src, pkt.dport,
                                pkt.sport, 0, pkt.seq + 1, RST | ACK, window=1980 + i)
                      for i in range(count)]
        else:                   # the server's own SYN-ACK, followed by its RSTs
            frames = [build_tcp(pkt.eth_src, pkt.eth_dst, pkt.src, pkt.dst, pkt.sport,
                                pkt.dport, pkt.seq + 1, pkt.ack, RST | ACK, window=3293 + i)
                      for i in range(count)]
        self.stats["injected"] += len(frames)
        return [Output(self.as_injected(f), None, port) for f in frames]


    def _allow(self, flow: Flow) -> list:
        """Forward the flow. A UDP DNS query is allowed on its own ("datagram"): no pair, so
        the socket's next query comes up and is decided afresh, as a censor reading every
        query would; it also spares the switch two flow mods per query."""
        facts = flow.facts
        if flow.proto == UDP and facts is not None and facts.dns_query is not None:
            flow.verdict = "datagram"
            return self.release(flow)
        # One entry, client -> server: the server's packets are switched NORMAL without
        # one, unless the server sits on the client side (its port is steered). A second
        # entry would cost a flow mod, and its exact match a datapath flow per connection.
        both = self.side_of_ip.get(flow.s_ip) != "internet"
        return self.allow(flow, both)

    def _finish(self, flow: Flow, injected: list) -> list:
        """Inline: the injections end the connection, and what strays after them is dropped
        here rather than by a switch rule: a client may reuse the 5-tuple for a new
        connection at once (no TIME_WAIT after a reset), and its SYN must reach the censor.
        Tap: injections, then forward it."""
        if self.tap:
            return injected + self.allow(flow)
        self.discard(flow)
        flow.verdict, flow.actions = "ended", ((), (), 0, True)
        return injected

    def _reject(self, flow: Flow, pkt: Packet | None) -> list:
        injected = self.reject_answer(flow, pkt)
        if self.tap:
            return injected + self.allow(flow)
        self.discard(flow)
        flow.verdict = "reject"
        return injected

    def reject_answer(self, flow: Flow, pkt: Packet | None) -> list:
        """What a closed port says to `pkt`: RST for TCP, ICMP unreachable otherwise."""
        if pkt is None:
            return []
        if pkt.proto == TCP:
            return [] if pkt.flags & RST else [self.to_client(flow, rst_for(pkt))]
        if pkt.proto == UDP:
            return [self.to_client(flow, icmp_unreachable(pkt, 3))]
        if pkt.proto in (ICMP, ICMPV6) and pkt.icmp_type not in (8, ECHO_REQUEST6):
            return []                                   # never answer an ICMP error
        return [self.to_client(flow, icmp_unreachable(pkt, 13))]

    def _seqs(self, flow: Flow, pkt: Packet) -> tuple[int, int, int]:
        """(server's next seq, client's next seq, first client seq the server lacks)."""
        server_next = pkt.ack if pkt.flags & ACK else (flow.client_ack or 0)
        client_next = flow.client_end if flow.client_end is not None else \
            pkt.seq + len(pkt.payload)
        if self.tap or flow.undelivered is None:
            undelivered = pkt.seq
        else:
            undelivered = flow.undelivered
        return server_next, client_next, undelivered

    def _rst_pair(self, flow: Flow, pkt: Packet) -> list:
        server_next, client_next, undelivered = self._seqs(flow, pkt)
        return [self.to_client(flow, reply_tcp(pkt, server_next, client_next, RST | ACK)),
                self.to_server(flow, forward_tcp(pkt, undelivered, server_next, RST | ACK))]

    def _reset(self, flow: Flow, pkt: Packet | None) -> list:
        if pkt is None or not pkt.payload:
            return self._finish(flow, self.reject_answer(flow, pkt))
        return self._finish(flow, self._rst_pair(flow, pkt))

    def _answer_tcp(self, flow: Flow, pkt: Packet, data: bytes, close: bool) -> list:
        """`data` to the client as the server would send it; with close, FIN it and RST the
        server."""
        server_next, client_next, _u = self._seqs(flow, pkt)
        injected = []
        seq = server_next
        for i in range(0, len(data), SEGMENT):
            chunk = data[i:i + SEGMENT]
            injected.append(self.to_client(flow, reply_tcp(pkt, seq, client_next, PSH | ACK,
                                                           chunk)))
            seq += len(chunk)
        if not close:
            return injected + self.allow(flow)
        injected.append(self.to_client(flow, reply_tcp(pkt, seq, client_next, FIN | ACK)))
        injected.append(self._rst_pair(flow, pkt)[1])
        return self._finish(flow, injected)

    def _dns(self, flow: Flow, rule: CompiledRule, kind: str, pkt: Packet | None) -> list:
        facts = flow.facts
        responses = dns_responses(rule, kind, [facts.dns_msg]) \
            if facts.dns_query is not None and pkt is not None else []
        if not responses:
            return self._act(flow, rule, "allow" if self.tap else "drop", pkt)
        forward = kind == "inject" or self.tap
        if flow.proto == UDP:
            # no pair: the flow's later queries (glibc sends A and AAAA from one socket)
            # come up through the steering and are answered too (dns_again)
            flow.verdict = "dns"
            injected = [self.to_client(flow, reply_udp(pkt, responses[0]))]
            if forward:
                return injected + self.release(flow)
            self.discard(flow)
            return injected
        stream = flow.stream.data() if flow.stream is not None else pkt.payload
        messages = dns.split_tcp_stream(stream)[0] or [facts.dns_msg]
        data = b"".join(dns.frame_tcp(r) for r in dns_responses(rule, kind, messages))
        return self._answer_tcp(flow, pkt, data, close=kind != "inject")

    def dns_again(self, flow: Flow, rule: CompiledRule | None, pkt: Packet, frame: bytes,
                  in_port: int) -> list:
        """A later datagram of a UDP flow whose first query got a DNS answer: the same answer
        to the same rule's names (forwarded after it, for inject or in tap mode)."""
        r = dns.parse_query(pkt.payload)
        if rule is None or not rule.enabled or r.status != "ok" or (
                rule.match.dns is not None and not rule.match.dns.match(r.value.qname)):
            return [Output(frame, in_port)]
        responses = dns_responses(rule, rule.kind, [pkt.payload])
        out = [self.to_client(flow, reply_udp(pkt, responses[0]))] if responses else []
        if self.tap or rule.kind == "inject":
            out.append(Output(frame, in_port))
        return out

    def _throttle(self, flow: Flow, rule: CompiledRule) -> list:
        rate = rule.action["rate_bps"]
        mid = self.rule_meters.get((rule.id, rate)) if rule.per == "rule" else None
        if mid is None:                     # per flow (or the rule's meter is gone)
            return self._throttle_flow(flow, rate)
        flow.lifetime = METERED_HARD + 60
        return (self.pair(flow, (meter(mid), NORMAL), "throttle", hard_timeout=METERED_HARD)
                + self.release(flow))

    def _throttle_flow(self, flow: Flow, rate: int) -> list:
        kbps, burst = meter_shape(rate)
        up, down = self.meters.take(), self.meters.take()
        flow.meters = (up, down)
        flow.lifetime = METERED_HARD + 60
        return ([AddMeter(up, kbps, burst), AddMeter(down, kbps, burst)]
                + self.pair(flow, (meter(up), NORMAL), "throttle", (meter(down), NORMAL),
                            METERED_HARD)
                + self.release(flow))


def _payload_len(frame: bytes) -> int:
    try:
        p = parse_frame(frame)
    except Malformed:
        return 0
    return len(p.payload) if p is not None else 0

