"""The os-ken app: the thin adapter between OpenFlow 1.3 and the pure engine.

It owns no policy. Switch connected → install the engine's base effects; packet-in → engine →
effects, encoded by controllers.openflow.wire (flow mods, meter mods, packet-outs) or written as
event lines; commands from the control socket (controllers.openflow.controlsocket) → engine.
Errors in one packet or one command are logged, never fatal.
Packet-ins take a short way through os-ken: read in chunks (controllers.openflow.link), parsed by
controllers.openflow.wire and handed to the packet path (controllers.openflow.packetpath, compiled
with the engine: this module stays Python) in the switch connection's reader, rather than as
events queued for the app's event loop; what one read's packet-ins produce goes out in one
write, their events just before it.

Crash-safe: whenever the rule set (a live change) or the penalty boxes change, the state worth
keeping is saved to the run directory (controllers.engine.runstate); a censor started where such a
state exists (the lab's watchdog restarting it) takes that rule set, restores the boxes still
in force and appends to the same event log, with one `censor`/`restart` event.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib import hub
from os_ken.ofproto import ofproto_v1_3

from controllers.engine import runstate
from controllers.engine.eventlog import KEEP, MAX_BYTES, EventLog
from controllers.openflow import controlsocket
from controllers.openflow import link as oflink
from controllers.openflow.packetpath import PacketPath
from controllers.openflow.wire import read_packet_ins_directly
from controllers.switch.tables import ct_zone

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
        assert _settings is not None, "controllers.openflow.app.configure() was not called"
        self.settings = _settings
        log.info("%s runs %s", self.settings.name,
                 f"compiled ({os.path.dirname(os.path.dirname(oflink.__file__))})" if COMPILED
                 else "from source (setup compiles it: lab/run/compiled.py)")
        self.event_log = EventLog(self.settings.events_path, self.settings.events_max_bytes,
                                  self.settings.events_keep)
        self.path = PacketPath(None, self.event_log, self.settings.name, self.settings.t0,
                               on_box=self.save_state)
        self.engine, restart = self._engine()
        self.path.engine = self.engine
        if restart is not None:
            self.path.log_event(restart)
        read_packet_ins_directly()
        oflink.install(self.path.frame_in, before_write=self.path.flush_events)
        self.save_state()           # so that a restarted censor knows it is one
        self.ready = False
        self._barrier_xid = None
        hub.spawn(controlsocket.serve, self.settings.control_path, self.answer)
        hub.spawn(self._tick_loop)

    def _engine(self):
        """The engine for the compiled policy, or for the saved state of a previous censor
        (and then the `censor`/`restart` event to log)."""
        with open(self.settings.policy_path, encoding="utf-8") as f:
            policy = json.load(f)
        engine, restart = runstate.start_engine(policy, self.settings.state_path, self.now())
        if os.environ.get("BLOCKLAB_CONNTRACK", "1") != "0":     # 0: per-flow pairs only
            engine.use_conntrack(ct_zone(os.path.abspath(self.settings.control_path)))
        return engine, restart

    def save_state(self) -> None:
        if not self.settings.state_path:
            return
        try:
            runstate.save(self.settings.state_path, runstate.current(self.engine, self.now()))
        except Exception:
            log.exception("could not save the censor state")

    def now(self) -> float:
        """Seconds since the run's start: the packet path's clock."""
        return self.path.now()

    # --- OpenFlow events -------------------------------------------------------------------

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_switch_features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        self.path.datapath, self.ready = dp, False
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
        self.path.frame_in(msg.match["in_port"], msg.cookie, msg.data)

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def on_error(self, ev):
        msg = ev.msg
        log.warning("switch error type=%s code=%s", msg.type, msg.code)

    # --- effects → OpenFlow ----------------------------------------------------------------

    def apply(self, effects) -> None:
        """Effects from outside a packet-in (the handshake, a tick, a command): the packet
        path applies them as it does a packet's."""
        self.path.apply(effects)

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
            reply.update(ok=True, connected=self.path.datapath is not None, ready=self.ready,
                         t=round(self.now(), 3), pid=os.getpid(), compiled=COMPILED)
        if reply.get("ok") and command.get("cmd") in runstate.MUTATING:
            self.save_state()
        return reply
