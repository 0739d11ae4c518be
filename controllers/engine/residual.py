"""Penalty boxes (residual censorship): a client's traffic to a server blocked for a while after a trigger.

A box holds client -> server:port of one protocol (scope `port`, the 3-tuple: the GFW's ESNI
and fully-encrypted boxes), or client -> the whole server, every protocol and port but the TCP
ports it spares (scope `server`: Russia 2025, after UDP to a foreign server, bbs#490; SSH kept
working). Owns the pure record of the boxes in force (so an app restarting the controller can
restore them, see `PenaltyBoxes.snapshot`/`restore`), the switch entries of each (a hard
time-out at PRIO_BOX, spared ports above it: controllers.switch.tables) and its event. In
inline mode a box drops; in tap mode the censor cannot drop, so a box steers its packets up
and the engine answers new TCP connections with a RST.
"""
from __future__ import annotations

import math

from controllers.engine.effects import CONTROLLER, Event, InstallFlow
from controllers.packets import PROTO_NAMES, TCP
from controllers.switch.tables import box_entry, spare_entry

WHOLE = 0           # a box key's proto and port for a server-wide box


def box_key(flow, scope: str) -> tuple:
    """The box a rule with this `residual_scope` puts `flow`'s client in."""
    if scope == "server":
        return (WHOLE, flow.c_ip, flow.s_ip, WHOLE)
    return (flow.proto, flow.c_ip, flow.s_ip, flow.s_port)


class PenaltyBoxes:
    """Active boxes by (proto, client ip, server ip, server port); proto and port 0: the
    whole server."""

    def __init__(self, tap: bool) -> None:
        self.tap = tap
        self._boxes: dict[tuple, tuple[float, str, tuple[int, ...]]] = {}

    def __len__(self) -> int:
        return len(self._boxes)

    def active(self, key: tuple, now: float) -> bool:
        box = self._boxes.get(key)
        return box is not None and box[0] > now

    def holds(self, proto: int, client: str, server: str, port: int, now: float) -> bool:
        """Whether a box in force holds this client's packet to server:port."""
        if self.active((proto, client, server, port), now):
            return True
        box = self._boxes.get((WHOLE, client, server, WHOLE))
        if box is None or box[0] <= now:
            return False
        return not (proto == TCP and port in box[2])

    def add(self, key: tuple, seconds: float, rule_id: str, now: float,
            spare: tuple[int, ...] = ()) -> list:
        """Box `key` for `seconds` from now: its entries and its event."""
        until = now + seconds
        spare = tuple(spare) if key[0] == WHOLE else ()
        self._boxes[key] = (until, rule_id, spare)
        return self._effects(key, until, rule_id, spare, now, event=True)

    def _effects(self, key: tuple, until: float, rule_id: str, spare: tuple[int, ...],
                 now: float, event: bool) -> list:
        proto, client, server, dport = key
        actions = (CONTROLLER,) if self.tap else ()
        out: list = [InstallFlow(box_entry(proto, client, server, dport, until - now, actions))]
        out += [InstallFlow(spare_entry(client, server, p, until - now)) for p in spare]
        if event:
            name = "any" if proto == WHOLE else PROTO_NAMES.get(proto, str(proto))
            has_ports = name in ("tcp", "udp")
            # Inline, the box drops; on-path (tap) it can only answer new connections with RSTs.
            action = "reset" if self.tap else "drop"
            detail: dict = {"until": round(until, 3)}
            if proto == WHOLE:
                detail.update(scope="server", spare=list(spare))
            out.insert(0, Event({"rule": rule_id, "technique": "residual", "action": action,
                                 "flow": {"proto": name, "src": client, "sport": None,
                                          "dst": server, "dport": dport if has_ports else None},
                                 "detail": detail}))
        return out

    def prune(self, now: float) -> None:
        for key in [k for k, (until, _r, _s) in self._boxes.items() if until <= now]:
            del self._boxes[key]

    def snapshot(self, now: float) -> list[dict]:
        """The boxes still in force, as plain data (JSON-ready)."""
        self.prune(now)
        return [{"rule": rule_id, "proto": "any" if k[0] == WHOLE else
                 PROTO_NAMES.get(k[0], str(k[0])), "proto_num": k[0],
                 "src": k[1], "dst": k[2], "dport": k[3], "until": until, "spare": list(spare)}
                for k, (until, rule_id, spare) in sorted(self._boxes.items(),
                                                         key=lambda kv: kv[1][:2])]

    def restore(self, boxes: list[dict], now: float) -> list:
        """Re-create boxes from `snapshot` output (after a restart); no new events."""
        out: list = []
        for b in boxes:
            until = float(b["until"])
            if not math.isfinite(until) or until <= now:
                continue
            key = (int(b["proto_num"]), str(b["src"]), str(b["dst"]), int(b["dport"]))
            spare = tuple(int(p) for p in b.get("spare", ()))
            self._boxes[key] = (until, str(b["rule"]), spare)
            out += self._effects(key, until, str(b["rule"]), spare, now, event=False)
        return out
