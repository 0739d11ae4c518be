"""The flow table's housekeeping, without a packet: a mixin of the Engine.

Owns what time and space do to the engine's state: flows whose held packets waited HOLD_MAX
seconds are decided with what is known then (`tick`), the sweep that expires idle flows
every SWEEP_EVERY seconds, the penalty boxes re-installed on the first tick after the switch
(re)connected, and what a flow gives back when it is evicted or its state ends (its held
packets released, its meters freed). controllers.engine.engine.Engine mixes it in.
"""
from __future__ import annotations

import logging

from controllers.engine.effects import Effect, RemoveMeter, count_events
from controllers.engine.flows import Flow
from controllers.packets import Malformed, parse_frame

log = logging.getLogger("blocklab.censor")

HOLD_MAX = 2.0             # seconds a held packet waits before the flow is decided anyway
SWEEP_EVERY = 5.0          # seconds between expiry sweeps of the flow table (O(flows))


class Housekeeping:
    """The Engine's time- and space-driven methods (controllers.engine.engine holds the
    state)."""

    def _forget(self, flow: Flow) -> list[Effect]:
        """An undecided flow's state ends: its held packets go on, its meters are freed."""
        self.held_flows.pop(flow.key, None)
        self.flows.remove(flow)
        return self.executor.release(flow) + self._free_meters(flow)

    def _evict(self, flows: list[Flow]) -> list[Effect]:
        out: list[Effect] = []
        for flow in flows:
            self.counters["flows_evicted"] += 1
            self.held_flows.pop(flow.key, None)
            out += self.executor.release(flow)
            out += self._free_meters(flow)
        return out

    def _free_meters(self, flow: Flow) -> list[Effect]:
        out = [RemoveMeter(m) for m in flow.meters]
        for m in flow.meters:
            self.meters.give(m)
        flow.meters = ()
        return out

    def tick(self, now: float) -> list[Effect]:
        """Decide flows whose held packets waited too long; expire old state."""
        out: list[Effect] = []
        if self._boxes_due:
            self._boxes_due = False
            out += self.boxes.restore(self.boxes.snapshot(now), now)
        try:
            for flow in list(self.held_flows.values()):
                if flow.held_since is not None and now - flow.held_since > HOLD_MAX:
                    out += self._timeout(flow, now)
            if now - self._last_sweep >= SWEEP_EVERY:
                self._last_sweep = now
                for flow in self.flows.expired(now):
                    self.counters["flows_expired"] += 1
                    out += self._free_meters(flow)
                self.boxes.prune(now)
        except Exception:
            log.exception("engine tick failed (held flows, expiry sweep); going on")
            self.counters["internal_errors"] += 1
        self.counters["events"] += count_events(out)
        return out

    def _timeout(self, flow: Flow, now: float) -> list[Effect]:
        flow.facts.finalise()
        decided, rule = self.rules.walk(flow, self.rules.candidates(flow),
                                        flow.data_packets > 0, True)
        pkt = None
        for frame, _port in reversed(flow.held):
            try:
                pkt = parse_frame(frame)
            except Malformed:
                continue
            break
        return self._decide(flow, rule, pkt, now)
