"""The os-ken app: the thin adapter between OpenFlow 1.3 and the pure engine.

It owns no policy. Switch connected → install the engine's base effects; packet-in → engine →
flow mods, meter mods, packet-outs and event lines; a Unix control socket for live changes and
for the lab's readiness check. Errors in one packet or one command are logged, never fatal.
Packet-ins take a short way through os-ken: read in chunks (controllers.openflow.link), parsed by
controllers.openflow.wire and handed to `packet_in` in the switch connection's reader, rather than
as events queued for the app's event loop; what one read's packet-ins produce goes out in
one write.

Crash-safe: whenever the rule set (a live change) or the penalty boxes change, the state worth
keeping is saved to the run directory (controllers.engine.runstate); a censor started where such a
state exists (the lab's watchdog restarting it) takes that rule set, restores the boxes still
in force and appends to the same event log, with one `censor`/`restart` event.

The control socket (mode 0600) takes one JSON object per line, at most MAX_LINE bytes; a line
that is not a JSON object, not UTF-8, too long or too deep gets {"ok": false, "error": ...}
(a too long line also ends the connection), and an idle connection is closed after IDLE s.
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
from controllers.openflow import link as oflink
from controllers.engine import runstate
from controllers.openflow.offload import for_the_wire
from controllers.openflow.wire import (next_xid, wire, flow_mod_bytes, packed_match,
                                packet_out_bytes, read_packet_ins_directly)
from controllers.engine.engine import Engine
from controllers.switch.tables import is_copy
from controllers.engine.eventlog import KEEP, MAX_BYTES, EventLog

log = logging.getLogger("blocklab.censor")

MAX_LINE = 4 * 1024 * 1024      # bytes in one control-socket command line
IDLE = 300.0                    # seconds a control connection may sit silent
BACKLOG = 1024                  # control connections waiting to be accepted


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
        oflink.install(self.packet_in)
        assert _settings is not None, "controllers.openflow.app.configure() was not called"
        self.settings = _settings
        self.event_log = EventLog(self.settings.events_path, self.settings.events_max_bytes,
                                  self.settings.events_keep)
        self.engine = self._engine()
        self.save_state()           # so that a restarted censor knows it is one
        self.datapath = None
        self.ready = False
        self._barrier_xid = None
        hub.spawn(self._serve_control)
        hub.spawn(self._tick_loop)

    def _engine(self) -> Engine:
        """The engine for the compiled policy, or for the saved state of a previous censor."""
        with open(self.settings.policy_path, encoding="utf-8") as f:
            policy = json.load(f)
        path = self.settings.state_path
        state = runstate.load(path) if path else None
        if state is None:
            return Engine(policy)
        try:
            engine = Engine(runstate.with_rules(policy, state))
        except Exception:
            log.exception("saved rule set unusable; starting from the compiled policy")
            engine = Engine(policy)
        now = self.now()
        engine.restore_penalty_boxes(state["boxes"], now)   # installed once the switch connects
        boxes = len(engine.penalty_boxes(now))
        log.info("restarted: %d rules and %d penalty boxes restored from %s",
                 len(engine.rules.rules), boxes, path)
        self._log_event({"t": round(now, 6), "rule": None, "technique": "censor",
                         "action": "restart", "flow": None,
                         "detail": {"rules": [r.id for r in engine.rules.rules],
                                    "boxes": boxes}})
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
        in_port, now = msg.match["in_port"], self.now()
        copy = is_copy(msg.cookie)      # forwarded already: the engine only takes note
        # The censor sees what a link would carry: offloaded checksums completed, TCP
        # super-segments cut to the MTU.
        try:
            frames = for_the_wire(msg.data)
        except Exception:
            log.exception("could not prepare a frame for the wire; inspecting it as it came")
            frames = [bytes(msg.data)]
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
        """The effects as OpenFlow messages, in order, handed to the switch connection in
        one write (a packet-in's pair of flow mods and its packet-outs: one send, one read
        on the switch's side)."""
        dp = self.datapath
        boxed = False
        out: list[bytes] = []
        for effect in effects:
            if isinstance(effect, fx.Event):
                self._log_event(dict(t=round(self.now(), 6), **effect.record))
                boxed = boxed or effect.record.get("technique") == "residual"
            elif dp is None:
                continue
            elif isinstance(effect, fx.InstallFlow):
                out.append(flow_mod_bytes(next_xid(dp), effect.spec)
                           or wire(dp, self._flow_mod(dp, effect.spec)))
            elif isinstance(effect, fx.Output):
                out.append(packet_out_bytes(next_xid(dp), effect))
            elif isinstance(effect, fx.RemoveFlows):
                ofp, parser = dp.ofproto, dp.ofproto_parser
                out.append(wire(dp, parser.OFPFlowMod(
                    dp, cookie=effect.cookie, cookie_mask=effect.cookie_mask,
                    command=ofp.OFPFC_DELETE, table_id=ofp.OFPTT_ALL,
                    out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY)))
            elif isinstance(effect, fx.AddMeter):
                out.append(wire(dp, self._meter_mod(dp, effect)))
            elif isinstance(effect, fx.RemoveMeter):
                ofp, parser = dp.ofproto, dp.ofproto_parser
                out.append(wire(dp, parser.OFPMeterMod(dp, command=ofp.OFPMC_DELETE,
                                                        meter_id=effect.meter_id)))
        if out:
            oflink.send_now(dp, b"".join(out))
        if boxed:                   # a new penalty box: keep it across a restart
            self.save_state()

    @staticmethod
    def _actions(dp, atoms):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        actions, meter_id = [], None
        for atom in atoms:
            kind = atom[0]
            if kind == "normal":
                actions.append(parser.OFPActionOutput(ofp.OFPP_NORMAL))
            elif kind == "controller":
                actions.append(parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER))
            elif kind == "output":
                actions.append(parser.OFPActionOutput(atom[1]))
            elif kind == "meter":
                meter_id = atom[1]
        return actions, meter_id

    def _flow_mod(self, dp, spec: fx.FlowSpec):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        actions, meter_id = self._actions(dp, spec.actions)
        inst = []
        if meter_id is not None:
            inst.append(parser.OFPInstructionMeter(meter_id, ofp.OFPIT_METER))
        if actions:
            inst.append(parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions))
        return parser.OFPFlowMod(dp, cookie=spec.cookie, table_id=spec.table,
                                 priority=spec.priority,
                                 idle_timeout=spec.idle_timeout, hard_timeout=spec.hard_timeout,
                                 match=packed_match(spec.match) or parser.OFPMatch(**spec.match),
                                 instructions=inst)

    @staticmethod
    def _meter_mod(dp, m: fx.AddMeter):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        band = parser.OFPMeterBandDrop(rate=m.rate_kbps, burst_size=m.burst_kbits)
        return parser.OFPMeterMod(dp, command=ofp.OFPMC_ADD,
                                  flags=ofp.OFPMF_KBPS | ofp.OFPMF_BURST,
                                  meter_id=m.meter_id, bands=[band])

    # --- background loops ------------------------------------------------------------------

    def _tick_loop(self):
        while True:
            hub.sleep(0.2)  # a periodic timer, not a synchronisation wait
            try:
                self.apply(self.engine.tick(self.now()))
            except Exception:
                log.exception("engine tick failed")

    def _serve_control(self):
        path = self.settings.control_path
        if os.path.exists(path):
            os.unlink(path)
        old = os.umask(0o177)
        try:
            server = hub.StreamServer((path,), self._handle_control)
            server.server.listen(BACKLOG)   # room for bursts of clients (and silent ones)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        server.serve_forever()

    def _handle_control(self, sock, _addr):
        try:
            sock.settimeout(IDLE)
            f = sock.makefile("rwb")
            while True:
                line = f.readline(MAX_LINE + 1)
                if not line:
                    break
                too_long = len(line) > MAX_LINE
                reply = ({"ok": False, "error": f"command longer than {MAX_LINE} bytes"}
                         if too_long else self._command(line))
                f.write(_encode(reply))
                f.flush()
                if too_long:        # the rest of that line cannot be told from a command
                    break
        except Exception:           # a vanished or stalled client: only this connection ends
            pass
        finally:
            sock.close()

    def _command(self, line: bytes) -> dict:
        try:
            command = json.loads(line)
            if not isinstance(command, dict):
                raise ValueError("a command is a JSON object")
        except (ValueError, RecursionError) as e:
            return {"ok": False, "error": f"malformed command: {e}"}
        try:
            reply, effects = self.engine.control(command, self.now())
            self.apply(effects)
        except Exception as e:
            log.exception("control command failed: %r", command)
            return {"ok": False, "error": f"internal error: {e}"}
        if command.get("cmd") == "status":      # the engine's status, and the app's own
            reply.update(ok=True, connected=self.datapath is not None, ready=self.ready,
                         t=round(self.now(), 3), pid=os.getpid())
        if reply.get("ok") and command.get("cmd") in runstate.MUTATING:
            self.save_state()
        return reply


def _encode(reply: dict) -> bytes:
    try:
        return json.dumps(reply).encode() + b"\n"
    except (TypeError, ValueError) as e:
        return json.dumps({"ok": False, "error": f"internal error: reply: {e}"}).encode() + b"\n"
