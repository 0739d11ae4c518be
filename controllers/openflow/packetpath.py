"""The censor's per-packet path: a packet-in's frame to the engine, its effects to the switch
and the event log.

Owns what happens to one packet-in between the switch connection's reader
(controllers.openflow.link) and the engine: the frame made what a link would carry
(controllers.openflow.offload), the engine's effects applied in order (events to the log with
the time and the censor's name, everything else encoded by controllers.openflow.wire into one
write), and when the event log's lines are written out: with each batch of OpenFlow messages,
before it (`link.install(before_write=...)`), so every event of a read is in the file before
any packet it decided leaves the censor, with one write for all of them; at once for effects
that come outside a read (a tick, a command, the switch's handshake).

Kept apart from the os-ken app (controllers.openflow.app) because the app must stay Python
(os-ken finds its handlers by introspection) while this is compiled with the rest of the
package (lab/run/compiled.py), and tests/unit/engine/bench_dns_path.py measures it as it runs.
"""
from __future__ import annotations

import logging
from time import time as _time
from typing import Callable

from controllers.engine import effects as fx
from controllers.engine.eventlog import EventLog
from controllers.openflow import link
from controllers.openflow.offload import for_the_wire
from controllers.openflow.wire import encode
from controllers.switch.tables import is_copy

log = logging.getLogger("blocklab.censor")

_Event = fx.Event
_Output = fx.Output


class PacketPath:
    """One censor's path from packet-ins to effects, and the run's clock (`now()`: seconds
    since `t0`, the run's start). `on_box()` is called after effects that made a penalty box
    (the app saves its state then)."""

    def __init__(self, engine, event_log: EventLog, name: str, t0: float,
                 on_box: Callable[[], None] | None = None) -> None:
        self.engine, self.event_log, self.name = engine, event_log, name
        self.t0, self.on_box = t0, on_box
        self.datapath = None            # the switch connection, once it is up

    def now(self) -> float:
        return _time() - self.t0

    def frame_in(self, in_port: int, cookie: int, data: bytes) -> None:
        """One packet-in: the port it came in on, its entry's cookie, the frame."""
        now = self.now()
        copy = is_copy(cookie)      # forwarded already: the engine only takes note
        # The censor sees what a link would carry: offloaded checksums completed, TCP
        # super-segments cut to the MTU.
        try:
            frames = for_the_wire(data)
        except Exception:
            log.exception("could not prepare a frame for the wire; inspecting it as it came")
            frames = [bytes(data)]
        engine = self.engine
        for frame in frames:
            try:
                effects = engine.packet_in(frame, in_port, now, copy)
            except Exception:  # one bad packet must never stop the censor
                log.exception("engine failed on a packet; forwarding it unchanged")
                effects = [] if copy else [_Output(frame, in_port)]
            if effects:
                self.apply(effects)

    def apply(self, effects) -> None:
        """The effects in order: events to the log, the rest as OpenFlow messages handed to
        the switch connection in one write (a packet-in's flow mods and its packet-outs: one
        send, one read on the switch's side)."""
        dp = self.datapath
        boxed = False
        logged = False
        out: list[bytes] = []
        for effect in effects:
            if isinstance(effect, _Event):
                record = effect.record
                self._write_event({"t": round(self.now(), 6), **record, "censor": self.name},
                                  False)
                logged = True
                boxed = boxed or record.get("technique") == "residual"
            elif dp is not None:
                out.append(encode(dp, effect))
        if logged and not link.batching(dp):
            self.flush_events()             # no read's batch to go out with
        if out:
            link.send_now(dp, b"".join(out))
        if boxed and self.on_box is not None:   # a new penalty box: keep it across a restart
            self.on_box()

    def log_event(self, record: dict) -> None:
        """One event line, with the censor's name, written out now."""
        self._write_event({**record, "censor": self.name}, True)

    def _write_event(self, line: dict, flush: bool) -> None:
        try:
            self.event_log.write(line, flush=flush)
        except Exception:
            log.exception("could not write an event")

    def flush_events(self) -> None:
        try:
            self.event_log.flush()
        except Exception:
            log.exception("could not write the event log")
