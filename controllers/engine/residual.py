"""Penalty boxes (residual censorship): a client's traffic to a server blocked for a while after a trigger.

A box holds client -> server:port of one protocol (the 3-tuple: the GFW's ESNI and
fully-encrypted boxes), or, with protocol and port ANY, client -> the whole server address,
every protocol and port: ban_after's bans (controllers.engine.bans; Iran 2025, bbs#489) and
the boxes of rules with `residual_scope: server` (Russia 2025, after UDP to a foreign server,
bbs#490), which may spare TCP ports (SSH kept working). Owns the pure record of the boxes in
force (so an app restarting the controller can restore them, see `PenaltyBoxes.snapshot`/
`restore`), the switch entries of each (a hard time-out at PRIO_BOX, spared ports above it:
controllers.switch.tables) and its event. In inline mode a box drops; in tap mode the censor
cannot drop, so a box steers its packets up and the engine answers new TCP connections with
a RST.
"""
from __future__ import annotations

import math

from controllers.engine.bans import ANY
from controllers.engine.effects import CONTROLLER, Event, InstallFlow
from controllers.packets import PROTO_NAMES, TCP
from controllers.switch.tables import box_entry, spare_entry


def box_key(flow, scope: str) -> tuple:
    """The box a rule with this `residual_scope` puts `flow`'s client in."""
    if scope == "server":
        return (ANY, flow.c_ip, flow.s_ip, ANY)
    return (flow.proto, flow.c_ip, flow.s_ip, flow.s_port)


class PenaltyBoxes:
    """Active boxes by (proto, client ip, server ip, server port); proto and port ANY: the
    whole server address."""

    def __init__(self, tap: bool) -> None:
        self.tap = tap
        self._boxes: dict[tuple, tuple[float, str, tuple[int, ...]]] = {}

    def __len__(self) -> int:
        return len(self._boxes)

    def active(self, key: tuple, now: float) -> bool:
        """Whether `key`, or a box of its whole address pair, is in force (spared ports
        aside: see `holds`)."""
        for k in (key, (ANY, key[1], key[2], ANY)):
            box = self._boxes.get(k)
            if box is not None and box[0] > now:
                return True
        return False

    def holds(self, proto: int, client: str, server: str, port: int, now: float) -> bool:
        """Whether a box in force holds this client's packet to server:port."""
        box = self._boxes.get((proto, client, server, port))
        if box is not None and box[0] > now:
            return True
        box = self._boxes.get((ANY, client, server, ANY))
        if box is None or box[0] <= now:
            return False
        return not (proto == TCP and port in box[2])

    def add(self, key: tuple, seconds: float, rule_id: str, now: float,
            spare: tuple[int, ...] = ()) -> list:
        """Box `key` for `seconds` from now: its entries and its event."""
        until = now + seconds
        spare = tuple(spare) if key[0] == ANY else ()
        self._boxes[key] = (until, rule_id, spare)
        return self._effects(key, until, rule_id, spare, now, event=True)

    def _effects(self, key: tuple, until: float, rule_id: str, spare: tuple[int, ...],
                 now: float, event: bool) -> list:
        proto, client, server, dport = key
        actions = (CONTROLLER,) if self.tap else ()
        out: list = [InstallFlow(box_entry(proto, client, server, dport, until - now, actions))]
        out += [InstallFlow(spare_entry(client, server, p, until - now)) for p in spare]
        if event:
            name = _proto_name(proto)
            has_ports = name in ("tcp", "udp")
            # Inline, the box drops; on-path (tap) it can only answer new connections with RSTs.
            action = "reset" if self.tap else "drop"
            flow = {"proto": name, "src": client, "sport": None, "dst": server,
                    "dport": dport if has_ports else None}
            if ":" in client:
                flow["family"] = "ipv6"
            detail: dict = {"until": round(until, 3)}
            if spare:
                detail.update(scope="server", spare=list(spare))
            out.insert(0, Event({"rule": rule_id, "technique": "residual", "action": action,
                                 "flow": flow, "detail": detail}))
        return out

    def prune(self, now: float) -> None:
        for key in [k for k, (until, _r, _s) in self._boxes.items() if until <= now]:
            del self._boxes[key]

    def snapshot(self, now: float) -> list[dict]:
        """The boxes still in force, as plain data (JSON-ready)."""
        self.prune(now)
        out = []
        for k, (until, rule_id, spare) in sorted(self._boxes.items(), key=lambda kv: kv[1][:2]):
            box = {"rule": rule_id, "proto": _proto_name(k[0]), "proto_num": k[0],
                   "src": k[1], "dst": k[2], "dport": k[3], "until": until}
            if spare:
                box["spare"] = list(spare)
            out.append(box)
        return out

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


def _proto_name(proto: int) -> str:
    return "any" if proto == ANY else PROTO_NAMES.get(proto, str(proto))
