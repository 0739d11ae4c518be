"""The pure censor: policy in, packets in, effects out (docs/internals.md section 2).

Ties the parts together and owns the per-packet pipeline: parse the frame, find or create
the flow (client -> server orientation), answer decided flows from their verdict, and feed
undecided ones to inspection until the rules (first match wins) decide; then the action's
effects. No os-ken, no I/O, no clock (`now` is passed in), no threads. Nothing a frame holds
makes it raise: bad frames are counted and ignored (or forwarded when not IPv4).

    engine = Engine(policy)
    effects = engine.base_effects()                 # once the switch connects
    effects = engine.packet_in(frame, in_port, now) # each packet-in
    effects = engine.tick(now)                      # about every 0.2 s
    reply, effects = engine.control(command, now)   # the control socket

A flow's life: its first steered packet creates it (client = the client-side end, else the
initiator; where only data can decide, the handshake passes in the switch and a copy of
the server's SYN-ACK comes first). Handshake packets (TCP without payload) pass at once;
client data is held (inline) while the candidate rules wait on a fact (parser INCOMPLETE).
It is decided when the rules can answer, after `inspect_packets` data packets, 16 client
packets, a full stream or 2 s of holding; what is still unknown then is absent. The
decision installs a per-flow pair (controllers.switch.tables), or for an allowed TCP flow
marks it in the switch's connection tracker (the conntrack lane), so later packets stay in
the switch; a packet of a decided flow that still comes up re-installs its pair (or is
committed again). An allowed UDP DNS query installs none and is forgotten: the socket's next
query is a new decision.
One Event per decided flow by a rule (allow rules included, so exceptions show), one per
penalty box, one per control change.
"""
from __future__ import annotations

import logging
from typing import Any

from controllers.dpi import profile as dpi_profile
from controllers.engine import commands as _control
from controllers.engine import tcb as _tcb
from controllers.switch import proactive
from controllers.engine.actions import Executor
from controllers.engine.effects import Effect, Output, count_events
from controllers.engine.flows import DECIDED, SEQ_MOD, Flow, FlowTable, Reassembler
from controllers.engine.housekeeping import Housekeeping
from controllers.engine.screening import Screening
from controllers.engine.verdicts import Verdicts
from controllers.rules import ip6
from controllers.rules.inspect import Inspector
from controllers.packets6 import is_link_plumbing
from controllers.packets import ACK, FIN, INJECT_TTL, RST, SYN, TCP, UDP, Malformed, Packet, \
    parse_frame
from controllers.rules.ruleset import MeterPool, RuleSet
from controllers.rules.vocabulary import MODES
from controllers.engine.bans import ANY
from controllers.engine.residual import PenaltyBoxes, box_key
from controllers.switch.tables import new_ct_mark

log = logging.getLogger("blocklab.censor")

HELD_CAP = 32              # packets held per flow before it is decided anyway
UNDECIDED_CAP = 16         # client->server packets of an undecided flow, data or not

_COUNTERS = ("packets_in", "non_ip", "malformed", "fragments", "flows_created",
             "flows_expired", "flows_evicted", "decisions", "held", "released", "discarded",
             "injected", "events", "boxed", "cut", "internal_errors")


class Engine(Screening, Verdicts, Housekeeping):
    """The censor's decisions for one compiled policy (the DPI profile's reading of TCP in
    controllers.engine.screening, decided flows' packets in controllers.engine.verdicts, the
    housekeeping without packets in controllers.engine.housekeeping)."""

    def __init__(self, policy: dict[str, Any]) -> None:
        if not isinstance(policy, dict):
            raise ValueError("policy: expected a mapping")
        self.mode = policy.get("mode", "inline")
        if self.mode not in MODES:
            raise ValueError(f"policy.mode: expected inline or tap, not {self.mode!r}")
        self.tap = self.mode == "tap"
        self.profile = dpi_profile.from_policy(policy)
        self.reassembly = self.profile.reassembly
        self.inspect_packets = self.profile.inspect_packets
        self.tcb_on = policy.get("dpi") is not None     # a profile: controllers.engine.tcb
        self._last = self.profile.overlap == "last"
        self._server_rsts = "server_rst" in self.profile.teardown
        self._client_syns = self.tcb_on     # the client's SYN comes up: its TTL, the baseline
        self.hosts: dict[str, dict] = dict(policy.get("hosts", {}))
        addrs = [(a, h) for h in self.hosts.values() for a in (h.get("ip"), h.get("ip6")) if a]
        self.side_of_ip = {a: h.get("side") for a, h in addrs}
        self.port_of_ip = {a: h["port"] for a, h in addrs if h.get("port") is not None}
        self.client_ports = {h["port"] for h in self.hosts.values()
                             if h.get("side") == "client" and h.get("port") is not None}
        self.rules = RuleSet(policy.get("rules", []), self.hosts, policy.get("seed", 0))
        self.flows = FlowTable()
        self._numbers = ip6.Numbers()       # flows' address numbers (rules match on them)
        self.boxes = PenaltyBoxes(self.tap)
        self.meters = MeterPool()
        self.rule_meters: dict[tuple, int] = {}
        self.counters = dict.fromkeys(_COUNTERS, 0)
        self.inspector = Inspector()
        self.executor = Executor(self.tap, self.port_of_ip, self.meters, self.rule_meters,
                                 self.counters, self.side_of_ip,
                                 int(policy.get("ttl", INJECT_TTL)), self.hosts)
        self.held_flows: dict[tuple, Flow] = {}
        self.steer_gen = 1
        self.ct_zone: int | None = None     # the conntrack lane's zone (use_conntrack)
        self._last_sweep = 0.0
        self._connected = False
        self._boxes_due = False
        for key, rate in self.rules.rule_meters_wanted().items():
            self.rule_meters[key] = self.meters.take()

    # ---------------------------------------------------------------- proactive table
    def use_conntrack(self, zone: int) -> None:
        """Allowed TCP flows go to OVS's connection tracker in `zone` instead of getting
        per-flow entries (the conntrack lane: controllers.switch.tables). Before the switch
        connects."""
        self.ct_zone = zone

    def base_effects(self) -> list[Effect]:
        """The proactive table (controllers.switch.proactive), and (from the next tick on) the
        penalty boxes still in force.

        Called again (the switch reconnected, and the app emptied its tables), it forgets the
        per-flow state that pointed at the old tables: those flows are decided afresh."""
        if self._connected:
            for flow in self.flows:
                for m in flow.meters:
                    self.meters.give(m)
            self.flows = FlowTable(self.flows.cap)
            self.held_flows.clear()
        self._connected = True
        if self.ct_zone is not None:        # a fresh mark: what was committed before is not
            self.executor.ct = (self.ct_zone, new_ct_mark())    # this connection's
        out = proactive.base_table(self.rules, self.hosts, self.steer_gen, self.rule_meters,
                                   self._server_rsts, self._client_syns, self.executor.ct)
        self._boxes_due = len(self.boxes) > 0     # re-installed by the next tick (needs now)
        return out

    def rebuild_effects(self) -> list[Effect]:
        """After a rule change: new steering (next cookie generation) and rule meters."""
        old, self.steer_gen = self.steer_gen, self.steer_gen + 1
        return proactive.rebuild(self.rules, self.hosts, old, self.steer_gen, self.rule_meters,
                                 self.meters, self._server_rsts, self._client_syns,
                                 self.ct_zone if self.executor.ct else None)

    # ---------------------------------------------------------------- packets
    def packet_in(self, frame: bytes, in_port: int, now: float, copy: bool = False
                  ) -> list[Effect]:
        """Effects for one packet the switch sent up (never raises). `copy`: the switch
        forwarded it already (a server's SYN-ACK: controllers.switch.steering.passes)."""
        self.counters["packets_in"] += 1
        if copy:
            try:
                out = self._copied(bytes(frame), now)
            except Exception:
                log.exception("engine failed on a copied packet; ignoring it")
                self.counters["internal_errors"] += 1
                return []
            self.counters["events"] += count_events(out)
            return out
        try:
            out = self._packet_in(bytes(frame), in_port, now)
        except Exception:                   # a bug here must not stop the censor
            log.exception("engine failed on a packet; forwarding it unchanged")
            self.counters["internal_errors"] += 1
            return [Output(bytes(frame), in_port)]
        self.counters["events"] += count_events(out)
        return out

    def _packet_in(self, frame: bytes, in_port: int, now: float) -> list[Effect]:
        try:
            pkt = parse_frame(frame)
        except Malformed:
            self.counters["malformed"] += 1
            return []
        if pkt is None or (pkt.family == 6 and is_link_plumbing(pkt)):
            self.counters["non_ip"] += 1        # and IPv6's neighbour and multicast listener
            return [Output(frame, in_port)]     # discovery: the link's plumbing, no rule's
        if pkt.fragment:                    # a later IP fragment: no ports to go by
            self.counters["fragments"] += 1
            passes = self.rules.fragment_passes(pkt, self.tap)
            return [Output(frame, in_port)] if passes else []
        flow, c2s = self.flows.find(pkt.proto, pkt.src, pkt.sport, pkt.dst, pkt.dport)
        out: list[Effect] = []
        if flow is not None and flow.verdict == "ended" and c2s and _opens(pkt):
            self.flows.remove(flow)       # a new connection on the 5-tuple of an ended one
            flow = None
        if self.tcb_on and pkt.proto == TCP:
            flow, screened, done = self._screen(flow, c2s, pkt, frame, in_port)
            out += screened
            if done:
                return out
        if flow is None:
            c2s = self._from_client(pkt, in_port)
            key = (pkt.proto, pkt.src, pkt.sport, pkt.dst, pkt.dport) if c2s else \
                (pkt.proto, pkt.dst, pkt.dport, pkt.src, pkt.sport)
            flow, evicted = self._new_flow(key, now)
            out += evicted
        flow.last_seen = now
        if c2s:
            flow.c_in_port = in_port
        if flow.state == DECIDED:
            return out + self._decided(flow, pkt, frame, in_port, c2s)
        if c2s and self.boxes.holds(flow.proto, flow.c_ip, flow.s_ip, flow.s_port, now):
            return out + self._boxed(pkt, frame, in_port)
        return out + self._undecided(flow, pkt, frame, in_port, c2s, now)

    def _new_flow(self, key: tuple, now: float) -> tuple[Flow, list[Effect]]:
        numbers = self._numbers
        flow = Flow(key, numbers[key[1]], numbers[key[3]], now)
        self.counters["flows_created"] += 1
        return flow, self._evict(self.flows.add(flow))

    def _stream(self, base: int) -> Reassembler:
        return Reassembler(base, last=self._last)

    def _from_client(self, pkt: Packet, in_port: int) -> bool:
        """Whether a packet of a new flow was sent by the flow's client: the client-side end,
        else the initiator (a SYN-ACK comes from the server)."""
        if pkt.proto == TCP and pkt.flags & (SYN | ACK) == SYN | ACK:
            return False
        src = self.side_of_ip.get(pkt.src) or \
            ("client" if in_port in self.client_ports else "internet")
        if src == "client":
            return True
        return self.side_of_ip.get(pkt.dst) != "client"

    def _undecided(self, flow: Flow, pkt: Packet, frame: bytes, in_port: int, c2s: bool,
                   now: float) -> list[Effect]:
        if not c2s:
            return [Output(frame, in_port)]
        if self._client_syns and pkt.proto == TCP and pkt.flags & (SYN | ACK) == SYN:
            self._tcb_of(flow).ttl = pkt.ttl
        if self.tcb_on and pkt.proto == TCP and pkt.payload:
            tcb = self._tcb_of(flow)
            seq = pkt.seq + 1 if pkt.flags & SYN else pkt.seq
            good = _tcb.checksums_ok(pkt)
            if self.profile.sequence and not _tcb.in_window(tcb.base, seq, len(pkt.payload)):
                tcb.note(pkt, good, "out of window")
                return [Output(frame, in_port)]         # not read: passed on as it came
            tcb.note(pkt, good)
        flow.packets += 1
        tcp = pkt.proto == TCP
        payload = pkt.payload
        if tcp:
            self._track_seq(flow, pkt)
            has_data = bool(payload)
        else:
            has_data = True
        if has_data:
            flow.data_packets += 1
        candidates, needs = self.rules.flow_candidates(flow)
        if not candidates:
            flow.held.append((frame, in_port))
            return self._decide(flow, None, pkt, now)
        if has_data:
            self._inspect(flow, pkt, needs)
        flow.held.append((frame, in_port))
        if tcp and has_data and flow.undelivered is None:
            flow.undelivered = pkt.seq
        decided, rule = self.rules.walk(flow, candidates, flow.data_packets > 0, False)
        if not decided and (flow.data_packets >= self.inspect_packets
                            or len(flow.held) >= HELD_CAP or flow.packets >= UNDECIDED_CAP
                            or (flow.stream is not None and flow.stream.full)
                            or (flow.tcb is not None and self.profile.inspect_bytes is not None
                                and flow.tcb.bytes >= self.profile.inspect_bytes)):
            flow.facts.finalise()
            decided, rule = self.rules.walk(flow, candidates, flow.data_packets > 0, True)
        if decided:
            return self._decide(flow, rule, pkt, now)
        if self.tap or (tcp and not has_data and len(flow.held) == 1):
            flow.held.pop()                 # handshake packets (and all, in tap mode) pass,
            return [Output(frame, in_port)]  # unless data waits ahead of them
        self.counters["held"] += 1
        if flow.held_since is None:
            flow.held_since = now
        self.held_flows[flow.key] = flow
        return []

    def _track_seq(self, flow: Flow, pkt: Packet) -> None:
        if pkt.flags & ACK:
            flow.client_ack = pkt.ack
        end = (pkt.seq + len(pkt.payload) + (1 if pkt.flags & SYN else 0)
               + (1 if pkt.flags & FIN else 0)) % SEQ_MOD
        if flow.client_end is None or 0 < (end - flow.client_end) % SEQ_MOD < SEQ_MOD // 2:
            flow.client_end = end
        if flow.stream is None and self.reassembly:
            if pkt.flags & SYN:
                flow.stream = self._stream(pkt.seq + 1)
            elif pkt.flags & (ACK | FIN | RST) == ACK and not pkt.payload:
                flow.stream = self._stream(pkt.seq)  # a bare ACK: the next byte to come
        if flow.tcb is not None and flow.tcb.base is None and flow.stream is not None:
            flow.tcb.base = flow.stream.base

    def _inspect(self, flow: Flow, pkt: Packet, needs: frozenset) -> None:
        if not needs:
            return
        facts = flow.facts
        if pkt.proto == TCP:
            seq = pkt.seq + 1 if pkt.flags & SYN else pkt.seq    # a SYN's data (TFO)
            if self.reassembly:
                if flow.stream is None:
                    flow.stream = self._stream(seq)
                if flow.stream.add(seq, pkt.payload):
                    self.inspector.tcp(facts, flow.stream.data(), needs, True)
            else:
                self.inspector.tcp(facts, pkt.payload, needs, False)
        elif pkt.proto == UDP:
            self.inspector.udp(facts, flow, pkt.payload, needs)
        else:
            self.inspector.no_data(facts)

    def _decide(self, flow: Flow, rule, pkt: Packet | None, now: float) -> list[Effect]:
        flow.state = DECIDED
        self.held_flows.pop(flow.key, None)
        self.counters["decisions"] += 1
        if rule is not None:
            self.rules.hit(rule)
        out = self.executor.execute(flow, rule, pkt, now)
        if flow.tcb is not None:
            out = self._explain(flow, rule, out)
        if flow.verdict in ("datagram", "banned"):  # decided alone: the next is decided anew
            self.flows.remove(flow)
        flow.stream = flow.quic = flow.facts = flow.candidates = flow.tcb = None  # done
        if rule is not None and rule.residual and rule.kind != "allow" \
                and flow.verdict != "datagram":      # ban_after: a counted packet passed
            key = (ANY, flow.c_ip, flow.s_ip, ANY) if rule.kind == "ban_after" else \
                box_key(flow, rule.residual_scope)
            out += self.boxes.add(key, rule.residual, rule.id, now, rule.residual_spare)
        return out

    # ---------------------------------------------------------------- control and state
    def control(self, command: Any, now: float) -> tuple[dict, list[Effect]]:
        """A control-socket command: (reply, effects). Never raises."""
        try:
            reply, out = _control.run(self, command, now)
        except Exception as exc:            # a bug, not a bad command: say so, keep going
            log.exception("control command %r failed", command)
            self.counters["internal_errors"] += 1
            return {"ok": False, "error": f"internal error: {exc}"}, []
        self.counters["events"] += count_events(out)
        return reply, out

    def stats(self) -> dict[str, int]:
        """Counters since start, and the sizes of the tables."""
        out = dict(self.counters)
        out.update(parser_errors=self.inspector.parser_errors, flows=len(self.flows),
                   held_flows=len(self.held_flows), boxes=len(self.boxes),
                   meters=self.meters.in_use)
        return out

    def penalty_boxes(self, now: float) -> list[dict]:
        """The penalty boxes in force (plain data: keep it to restore after a restart)."""
        return self.boxes.snapshot(now)

    def restore_penalty_boxes(self, boxes: list[dict], now: float) -> list[Effect]:
        """Re-create boxes saved by `penalty_boxes` (no new events)."""
        try:
            return self.boxes.restore(boxes, now)
        except (KeyError, TypeError, ValueError):
            return []


def _opens(pkt: Packet) -> bool:
    """The first packet of a new connection the censor sees: a SYN without ACK, or a bare
    ACK (the handshake's last, when the SYN passed in the switch: after the censor's RST
    the old connection sends nothing more)."""
    if pkt.proto != TCP:
        return False
    flags = pkt.flags & (SYN | ACK | RST | FIN)
    return flags == SYN or (flags == ACK and not pkt.payload)
