"""Penalty boxes (residual censorship): client -> server:port blocked for a while after a trigger.
A box with protocol and port ANY (ban_after's, controllers.engine.bans) holds every packet from
the client to the server address.

Owns the pure record of the boxes in force (so an app restarting the controller can restore
them, see `PenaltyBoxes.snapshot`/`restore`), the switch entry of each (a hard time-out at
PRIO_BOX, controllers.switch.tables) and its event. In inline mode a box drops; in tap mode the
censor cannot drop, so a box steers the 3-tuple up and the engine answers new TCP
connections with a RST.
"""
from __future__ import annotations

import math

from controllers.engine.bans import ANY
from controllers.engine.effects import CONTROLLER, Event, InstallFlow
from controllers.packets import PROTO_NAMES
from controllers.switch.tables import box_entry


class PenaltyBoxes:
    """Active boxes by (proto, client ip, server ip, server port)."""

    def __init__(self, tap: bool) -> None:
        self.tap = tap
        self._boxes: dict[tuple, tuple[float, str]] = {}

    def __len__(self) -> int:
        return len(self._boxes)

    def active(self, key: tuple, now: float) -> bool:
        """Whether `key`, or a box of its whole address pair (ban_after's), is in force."""
        for k in (key, (ANY, key[1], key[2], ANY)):
            box = self._boxes.get(k)
            if box is not None and box[0] > now:
                return True
        return False

    def add(self, key: tuple, seconds: float, rule_id: str, now: float) -> list:
        """Box `key` for `seconds` from now: its entry and its event."""
        until = now + seconds
        self._boxes[key] = (until, rule_id)
        return self._effects(key, until, rule_id, now, event=True)

    def _effects(self, key: tuple, until: float, rule_id: str, now: float, event: bool
                 ) -> list:
        proto, client, server, dport = key
        actions = (CONTROLLER,) if self.tap else ()
        out: list = [InstallFlow(box_entry(proto, client, server, dport, until - now, actions))]
        if event:
            name = _proto_name(proto)
            has_ports = name in ("tcp", "udp")
            # Inline, the box drops; on-path (tap) it can only answer new connections with RSTs.
            action = "reset" if self.tap else "drop"
            flow = {"proto": name, "src": client, "sport": None, "dst": server,
                    "dport": dport if has_ports else None}
            if ":" in client:
                flow["family"] = "ipv6"
            out.insert(0, Event({"rule": rule_id, "technique": "residual", "action": action,
                                 "flow": flow, "detail": {"until": round(until, 3)}}))
        return out

    def prune(self, now: float) -> None:
        for key in [k for k, (until, _r) in self._boxes.items() if until <= now]:
            del self._boxes[key]

    def snapshot(self, now: float) -> list[dict]:
        """The boxes still in force, as plain data (JSON-ready)."""
        self.prune(now)
        return [{"rule": rule_id, "proto": _proto_name(k[0]), "proto_num": k[0],
                 "src": k[1], "dst": k[2], "dport": k[3], "until": until}
                for k, (until, rule_id) in sorted(self._boxes.items(), key=lambda kv: kv[1])]

    def restore(self, boxes: list[dict], now: float) -> list:
        """Re-create boxes from `snapshot` output (after a restart); no new events."""
        out: list = []
        for b in boxes:
            until = float(b["until"])
            if not math.isfinite(until) or until <= now:
                continue
            key = (int(b["proto_num"]), str(b["src"]), str(b["dst"]), int(b["dport"]))
            self._boxes[key] = (until, str(b["rule"]))
            out += self._effects(key, until, str(b["rule"]), now, event=False)
        return out


def _proto_name(proto: int) -> str:
    return "any" if proto == ANY else PROTO_NAMES.get(proto, str(proto))
