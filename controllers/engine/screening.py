"""What the DPI profile (controllers.dpi.profile) makes of TCP: a mixin of the Engine.

Owns the reading a profile gives a client's TCP packet before the flow's state sees it
(a bad checksum or a TTL unlike the SYN's left unread, a SYN that restarts the reading, a
RST or FIN that tears the flow's state down), the copies of the server's SYN-ACK and RST the
switch sends up (where the client's stream starts; an rst_handshake flow's RSTs after the
SYN-ACK), and the DPI detail a decision's event carries (what was read, what was ignored).
controllers.engine.engine.Engine mixes it in: it works on the engine's flow table, held
flows, executor and profile.
"""
from __future__ import annotations

from controllers.engine import tcb as _tcb
from controllers.engine.effects import Effect, Event, Output
from controllers.engine.flows import DECIDED, Flow
from controllers.packets import ACK, RST, SYN, TCP, Malformed, Packet, parse_frame


class Screening:
    """The Engine's DPI-profile methods (controllers.engine.engine holds the state)."""

    def _copied(self, frame: bytes, now: float) -> list[Effect]:
        """A server's SYN-ACK the switch forwarded and copied up: its ack number is where
        the client's stream will start (the client's own SYN and ACK passed the switch);
        for a flow decided `rst_handshake`, the RSTs that follow it (steering's
        synack_copies)."""
        try:
            pkt = parse_frame(frame)
        except Malformed:
            self.counters["malformed"] += 1
            return []
        if pkt is None or pkt.proto != TCP:
            return []
        key = (TCP, pkt.dst, pkt.dport, pkt.src, pkt.sport)
        if pkt.flags & RST and self._server_rsts:
            return self._server_rst(key, pkt)
        if pkt.flags & (SYN | ACK | RST) != SYN | ACK:
            return []
        flow, _c2s = self.flows.find(*key)
        if flow is not None and flow.verdict == "rst_handshake":    # forwarded already: its
            return self.executor.handshake_rsts(                     # RSTs follow it
                flow, self.rules.get(flow.rule_id), pkt)
        if flow is not None and flow.verdict == "ended":
            self.flows.remove(flow)       # a new connection on the 5-tuple of an ended one
            flow = None
        out: list[Effect] = []
        if flow is None:
            flow, out = self._new_flow(key, now)
        flow.last_seen = now
        if flow.state != DECIDED and flow.stream is None and self.reassembly:
            flow.stream = self._stream(pkt.ack)
        if self.tcb_on and flow.state != DECIDED:
            if flow.tcb is None:
                flow.tcb = _tcb.Tcb()
            if flow.tcb.base is None:
                flow.tcb.base = pkt.ack
        return out

    def _server_rst(self, key: tuple, pkt: Packet) -> list[Effect]:
        """A copy of the server's RST, under a profile that forgets a flow on it."""
        flow, _c2s = self.flows.find(*key)
        if flow is None or flow.state == DECIDED:
            return []
        return self._teardown(flow, pkt, "server_rst")

    def _teardown(self, flow: Flow, pkt: Packet, why: str) -> list[Effect]:
        detail = {"by": why}
        if not _tcb.checksums_ok(pkt):
            detail["checksum"] = "bad"
        event = Event({"rule": None, "technique": "dpi", "action": "teardown",
                       "flow": flow.flow_record(), "detail": detail})
        return self._forget(flow) + [event]

    def _screen(self, flow: Flow | None, c2s: bool, pkt: Packet, frame: bytes, in_port: int
                ) -> tuple[Flow | None, list[Effect], bool]:
        """What the DPI profile makes of a TCP packet before the flow's state sees it:
        (the flow, None when its state ended; effects; whether the packet goes no
        further here)."""
        p = self.profile
        if flow is not None and flow.state == DECIDED:
            return flow, [], False
        if not (c2s if flow is not None else self._from_client(pkt, in_port)):
            return flow, [], False
        if p.checksums and not _tcb.checksums_ok(pkt):
            if flow is not None and pkt.payload:
                self._tcb_of(flow).note(pkt, False, "bad checksum")
            return flow, [Output(frame, in_port)], True   # not read: passed on as it came
        syn = pkt.flags & (SYN | ACK) == SYN
        if p.ttl_check and flow is not None and not syn and _tcb.ttl_differs(flow.tcb, pkt):
            if pkt.payload or pkt.flags & RST:
                flow.tcb.note(pkt, _tcb.checksums_ok(pkt), "TTL differs from the SYN's")
            return flow, [Output(frame, in_port)], True   # not read: passed on as it came
        out: list[Effect] = []
        if flow is not None and syn and p.resync:
            out += self._forget(flow)
            flow = None
        if flow is not None:
            why = _tcb.tears_down(pkt, p.teardown)
            if why is not None:
                return None, self._teardown(flow, pkt, why) + [Output(frame, in_port)], True
        if flow is None and p.state == "syn" and not syn:
            return None, out + [Output(frame, in_port)], True   # no handshake seen: unread
        return flow, out, False

    def _tcb_of(self, flow: Flow) -> _tcb.Tcb:
        if flow.tcb is None:
            flow.tcb = _tcb.Tcb(flow.stream.base if flow.stream is not None else None)
        return flow.tcb

    def _explain(self, flow: Flow, rule, out: list[Effect]) -> list[Effect]:
        """What the DPI read and ignored, in the decision's event; for a flow no rule
        decided, an event of its own when what it read was not what the server got
        (a fake believed, segments out of order or twice, read one at a time)."""
        tcb = flow.tcb
        if rule is not None:
            for e in out:
                if isinstance(e, Event) and e.record.get("rule") == rule.id:
                    e.record["detail"]["dpi"] = tcb.detail()
            return out
        if flow.proto != TCP or not tcb.read:
            return out
        if not self.reassembly and len(tcb.read) > 1:
            tcb.anomalies.append("segments read one at a time")
        if not tcb.anomalies:
            return out
        facts = flow.facts.as_dict() if flow.facts is not None else {}
        return out + [Event({"rule": None, "technique": "dpi", "action": "allow",
                             "flow": flow.flow_record(),
                             "detail": {**facts, **tcb.detail(passed=True)}})]
