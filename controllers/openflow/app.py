"""The os-ken app: the thin adapter between OpenFlow 1.3 and the pure engine.

It owns no policy. Switch connected → install the engine's base effects; packet-in → engine →
effects, encoded by controllers.openflow.wire (flow mods, meter mods, packet-outs) or written as
event lines; commands from the control socket (controllers.openflow.controlsocket) → engine.
Errors in one packet or one command are logged, never fatal.
Packet-ins take a short way through os-ken: read in chunks (controllers.openflow.link), parsed by
controllers.openflow.wire and handed to `packet_in` in the switch connection's reader, rather than
as events queued for the app's event loop; what one read's packet-ins produce goes out in
one write.

Crash-safe: whenever the rule set (a live change) or the penalty boxes change, the state worth
keeping is saved to the run directory (controllers.engine.runstate); a censor started where such a
state exists (the lab's watchdog restarting it) takes that rule set, restores the boxes still
in force and appends to the same event log, with one `censor`/`restart` event.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib import hub
from os_ken.ofproto import ofproto_v1_3

from controllers.engine import effects as fx
from controllers.engine import runstate
from controllers.engine.eventlog import KEEP, MAX_BYTES, EventLog
from controllers.openflow import controlsocket
from controllers.openflow import link as oflink
from controllers.openflow.offload import for_the_wire
from controllers.openflow.wire import encode, read_packet_ins_directly
from controllers.switch.tables import ct_zone, is_copy

log = logging.getLogger("blocklab.censor")
# Whether the engine runs compiled (lab/run/compiled.py: the censor started on a Cython build).
COMPILED = not oflink.__file__.endswith(".py")


@dataclass(frozen=True)
class Settings:
    policy_path: str
    events_path: str
    control_path: str
    t0: float
    state_path: str | None = None        # censor-state.json: rules and boxes across restarts
    events_max_bytes: int = MAX_BYTES
    events_keep: int = KEEP
    name: str = "censor"                 # the censor's name: each event's `censor` field


_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """Set the run's settings; must be called before os-ken instantiates the app."""
    global _settings
    _settings = settings


class CensorApp(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        read_packet_ins_directly()
        oflink.install(self.frame_in)
        assert _settings is not None, "controllers.openflow.app.configure() was not called"
        self.settings = _settings
        log.info("%s runs %s", self.settings.name,
                 f"compiled ({os.path.dirname(os.path.dirname(oflink.__file__))})" if COMPILED
                 else "from source (setup compiles it: lab/run/compiled.py)")
        self.event_log = EventLog(self.settings.events_path, self.settings.events_max_bytes,
                                  self.settings.events_keep)
        self.engine = self._engine()
        self.save_state()           # so that a restarted censor knows it is one
        self.datapath = None
        self.ready = False
        self._barrier_xid = None
        hub.spawn(controlsocket.serve, self.settings.control_path, self.answer)
        hub.spawn(self._tick_loop)

    def _engine(self):
        """The engine for the compiled policy, or for the saved state of a previous censor."""
        with open(self.settings.policy_path, encoding="utf-8") as f:
            policy = json.load(f)
        engine, restart = runstate.start_engine(policy, self.settings.state_path, self.now())
        if os.environ.get("BLOCKLAB_CONNTRACK", "1") != "0":     # 0: per-flow pairs only
            engine.use_conntrack(ct_zone(os.path.abspath(self.settings.control_path)))
        if restart is not None:
            self._log_event(restart)
        return engine

    def save_state(self) -> None:
        if not self.settings.state_path:
            return
        try:
            runstate.save(self.settings.state_path, runstate.current(self.engine, self.now()))
        except Exception:
            log.exception("could not save the censor state")

    def _log_event(self, record: dict) -> None:
        try:
            self.event_log.write({**record, "censor": self.settings.name})
        except Exception:
            log.exception("could not write an event")

    def now(self) -> float:
        return time.time() - self.settings.t0

    # --- OpenFlow events -------------------------------------------------------------------

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_switch_features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        self.datapath, self.ready = dp, False
        dp.send_msg(parser.OFPSetConfig(dp, ofp.OFPC_FRAG_NORMAL, 0xFFFF))
        dp.send_msg(parser.OFPFlowMod(dp, command=ofp.OFPFC_DELETE, table_id=ofp.OFPTT_ALL,
                                      out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY))
        dp.send_msg(parser.OFPMeterMod(dp, command=ofp.OFPMC_DELETE, meter_id=ofp.OFPM_ALL))
        self.apply(self.engine.base_effects())
        barrier = parser.OFPBarrierRequest(dp)
        dp.set_xid(barrier)
        self._barrier_xid = barrier.xid
        dp.send_msg(barrier)
        log.info("switch %016x connected; base rules sent", dp.id)

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def on_barrier(self, ev):
        if ev.msg.xid == self._barrier_xid:
            self.ready = True
            log.info("base rules installed: ready")

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        """os-ken's way in; controllers.openflow.link calls packet_in directly (see install())."""
        self.packet_in(ev.msg)

    def packet_in(self, msg) -> None:
        self.frame_in(msg.match["in_port"], msg.cookie, msg.data)

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
        for frame in frames:
            try:
                effects = self.engine.packet_in(frame, in_port, now, copy)
            except Exception:  # one bad packet must never stop the censor
                log.exception("engine failed on a packet; forwarding it unchanged")
                effects = [] if copy else [fx.Output(frame, in_port)]
            self.apply(effects)

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def on_error(self, ev):
        msg = ev.msg
        log.warning("switch error type=%s code=%s", msg.type, msg.code)

    # --- effects → OpenFlow ----------------------------------------------------------------

    def apply(self, effects) -> None:
        """The effects in order: events to the log, the rest as OpenFlow messages handed to
        the switch connection in one write (a packet-in's flow mods and its packet-outs: one
        send, one read on the switch's side)."""
        dp = self.datapath
        boxed = False
        out: list[bytes] = []
        for effect in effects:
            if isinstance(effect, fx.Event):
                self._log_event(dict(t=round(self.now(), 6), **effect.record))
                boxed = boxed or effect.record.get("technique") == "residual"
            elif dp is not None:
                out.append(encode(dp, effect))
        if out:
            oflink.send_now(dp, b"".join(out))
        if boxed:                   # a new penalty box: keep it across a restart
            self.save_state()

    # --- background loops ------------------------------------------------------------------

    def _tick_loop(self):
        while True:
            hub.sleep(0.2)  # a periodic timer, not a synchronisation wait
            try:
                self.apply(self.engine.tick(self.now()))
            except Exception:
                log.exception("engine tick failed")

    def answer(self, command: dict) -> dict:
        """The reply to one control-socket command (controllers.openflow.controlsocket)."""
        reply, effects = self.engine.control(command, self.now())
        self.apply(effects)
        if command.get("cmd") == "status":      # the engine's status, and the app's own
            reply.update(ok=True, connected=self.datapath is not None, ready=self.ready,
                         t=round(self.now(), 3), pid=os.getpid(), compiled=COMPILED)
        if reply.get("ok") and command.get("cmd") in runstate.MUTATING:
            self.save_state()
        return reply
