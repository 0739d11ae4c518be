"""A packet of a flow already decided: its verdict, again. A mixin of the Engine.

Owns what the censor does with a packet that comes up after its flow was decided (a race
with the flow mod, a per-flow pair that timed out, a flow whose verdict keeps it in the
censor's hands: DNS answers, reject, cut_after, rst_handshake's server side): the verdict's
action for that one packet, and the pair installed again where the flow has one; and with a
packet of a flow held in a penalty box (dropped, or in tap mode passed after a RST to the
client). controllers.engine.engine.Engine mixes it in.
"""
from __future__ import annotations

from controllers.engine.effects import Effect, InstallFlow, Output
from controllers.engine.flows import Flow
from controllers.packets import ACK, RST, SYN, TCP, Packet, rst_for
from controllers.switch.tables import flow_pair


class Verdicts:
    """The Engine's methods for decided and boxed flows' packets (controllers.engine.engine
    holds the state)."""

    def _decided(self, flow: Flow, pkt: Packet, frame: bytes, in_port: int, c2s: bool
                 ) -> list[Effect]:
        """A packet of a decided flow reached us (a race, or its pair timed out)."""
        verdict = flow.verdict
        if verdict == "ended":           # strays after the censor's RST/FIN: dropped here
            return []
        if verdict == "dns":
            if not c2s:
                return [Output(frame, in_port)]
            return self.executor.dns_again(flow, self.rules.get(flow.rule_id), pkt, frame,
                                           in_port)
        if verdict == "reject":
            return self.executor.reject_answer(flow, pkt) if c2s else []
        if verdict == "cut":
            size = len(pkt.payload)
            if size and flow.cut_count + size > flow.cut_limit:
                self.counters["cut"] += 1
                return self.executor.pair(flow, (), "drop")
            flow.cut_count += size
            return [Output(frame, in_port)]
        if verdict == "rst_handshake" and not c2s:      # the server's packets come up
            return [Output(frame, in_port)] + self.executor.handshake_rsts(
                flow, self.rules.get(flow.rule_id), pkt)
        if flow.actions is None:        # allowed in the tracker: expired there, or not steered
            return [self.executor.committed(frame, in_port)]    # through it: commit again
        refresh = [InstallFlow(s) for s in flow_pair(flow, *flow.actions)]
        if verdict == "intercept" and c2s:
            return refresh + [self.executor.diverted(flow, frame, in_port)]
        if verdict == "drop" or (verdict == "drop_reply" and not c2s):
            return refresh
        return refresh + [Output(frame, in_port)]

    def _boxed(self, pkt: Packet, frame: bytes, in_port: int) -> list[Effect]:
        self.counters["boxed"] += 1
        if not self.tap:
            return []
        out: list[Effect] = []
        if pkt.proto == TCP and pkt.flags & (SYN | ACK | RST) == SYN:
            out.append(Output(self.executor.as_injected(rst_for(pkt)), None, in_port))
            self.counters["injected"] += 1
        return out + [Output(frame, in_port)]
