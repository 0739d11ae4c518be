"""A small fake OpenFlow table 0 (after faucet's clib/fakeoftable.py, our own code).

Entries of the size table (table 1) are kept aside; an `up_if_larger(n)` entry sends a
frame longer than n bytes up and switches the others, as check_pkt_larger and table 1 do.

Applies the engine's effects (InstallFlow, RemoveFlows, AddMeter, RemoveMeter) to a list of
entries and tells what the switch would do with a packet: the highest-priority entry whose
match holds, with idle and hard time-outs. Packets that hit a CONTROLLER entry are handed
to the engine and its effects applied, so a test can count packet-ins per flow. Fields are
read from frames here with struct, independently of controllers.packets.
"""
from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass

from controllers.engine.effects import (CONTROLLER, NORMAL, AddMeter, Event, FlowSpec, InstallFlow,
                                 Output, RemoveFlows, RemoveMeter)
from controllers.switch.tables import SIZE_TABLE, is_copy


def frame_fields(frame: bytes, in_port: int) -> dict:
    """The OXM fields of a frame (only those the engine matches on)."""
    fields = {"in_port": in_port}
    if len(frame) < 14:
        return fields
    eth_type = struct.unpack("!H", frame[12:14])[0]
    fields["eth_type"] = eth_type
    if eth_type != 0x0800 or len(frame) < 34:
        return fields
    ihl = (frame[14] & 0x0F) * 4
    proto = frame[23]
    fields["ip_proto"] = proto
    fields["ipv4_src"] = int.from_bytes(frame[26:30], "big")
    fields["ipv4_dst"] = int.from_bytes(frame[30:34], "big")
    frag_offset = struct.unpack("!H", frame[20:22])[0] & 0x1FFF
    l4 = 14 + ihl
    if frag_offset == 0 and proto in (6, 17) and len(frame) >= l4 + 4:
        sport, dport = struct.unpack("!HH", frame[l4:l4 + 4])
        name = "tcp" if proto == 6 else "udp"
        fields[f"{name}_src"], fields[f"{name}_dst"] = sport, dport
        if proto == 6 and len(frame) >= l4 + 14:
            fields["tcp_flags"] = frame[l4 + 13]
    return fields


def _compile(match: dict) -> tuple:
    """(field, value, mask) triples with addresses as integers."""
    out = []
    for name, want in match.items():
        if name.startswith("ipv4"):
            if isinstance(want, tuple):
                value, mask = (int(ipaddress.IPv4Address(x)) for x in want)
            else:
                value, mask = int(ipaddress.IPv4Address(want)), 0xFFFFFFFF
        elif isinstance(want, tuple):
            value, mask = want
        else:
            value, mask = want, -1
        out.append((name, value & mask, mask))
    return tuple(out)


def matches(compiled: tuple, fields: dict) -> bool:
    for name, value, mask in compiled:
        have = fields.get(name)
        if have is None or have & mask != value:
            return False
    return True


_PORTS = {6: {"tcp_src", "tcp_dst", "tcp_flags"}, 17: {"udp_src", "udp_dst"}}


def _shape_fields(proto) -> set:
    return {"eth_type", "ip_proto", "ipv4_src", "ipv4_dst"} | _PORTS.get(proto, set())


def _exact_key(priority: int, match: dict):
    """A hash key for an exact per-flow entry (all of a packet's fields but TCP flags, no
    masks), else None."""
    if set(match) != _shape_fields(match.get("ip_proto")) - {"tcp_flags"} \
            or any(isinstance(v, tuple) for v in match.values()):
        return None
    return (priority, tuple(sorted(match.items())))


@dataclass
class Entry:
    spec: FlowSpec
    installed: float
    last_used: float
    packets: int = 0
    compiled: tuple = ()


class FakeSwitch:
    """Table 0 and meters of one switch, driven by an Engine."""

    def __init__(self, engine, now: float = 0.0) -> None:
        self.engine = engine
        self.entries: list[Entry] = []          # entries with masks, in_port or wildcards
        self.exact: dict[tuple, Entry] = {}       # exact per-flow entries, by key
        self.meters: dict[int, tuple[int, int]] = {}
        self.packet_ins = 0
        self.outputs: list[Output] = []
        self.events: list[dict] = []
        self.tables: dict[int, list[FlowSpec]] = {}     # entries of tables other than 0
        self.apply(engine.base_effects(), now)

    def apply(self, effects, now: float) -> None:
        for eff in effects:
            if isinstance(eff, InstallFlow):
                s = eff.spec
                if s.table != 0:        # the size table: up_if_larger is played in send()
                    self.tables.setdefault(s.table, []).append(s)
                    continue
                key = _exact_key(s.priority, s.match)
                entry = Entry(s, now, now, compiled=_compile(s.match))
                if key is not None:
                    self.exact[key] = entry
                    continue
                self.entries = [e for e in self.entries if not (
                    e.spec.priority == s.priority and e.spec.match == s.match)]
                self.entries.append(entry)
            elif isinstance(eff, RemoveFlows):
                def keep(e: Entry) -> bool:
                    return e.spec.cookie & eff.cookie_mask != eff.cookie & eff.cookie_mask
                self.entries = [e for e in self.entries if keep(e)]
                self.exact = {k: e for k, e in self.exact.items() if keep(e)}
            elif isinstance(eff, AddMeter):
                assert eff.meter_id not in self.meters, f"meter {eff.meter_id} exists"
                self.meters[eff.meter_id] = (eff.rate_kbps, eff.burst_kbits)
            elif isinstance(eff, RemoveMeter):
                self.meters.pop(eff.meter_id, None)
                self.entries = [e for e in self.entries
                                if ("meter", eff.meter_id) not in e.spec.actions]
                self.exact = {k: e for k, e in self.exact.items()
                              if ("meter", eff.meter_id) not in e.spec.actions}
            elif isinstance(eff, Output):
                self.outputs.append(eff)
            elif isinstance(eff, Event):
                self.events.append(eff.record)

    def expire(self, now: float) -> None:
        def alive(e: Entry) -> bool:
            s = e.spec
            if s.hard_timeout and now - e.installed >= s.hard_timeout:
                return False
            if s.idle_timeout and now - e.last_used >= s.idle_timeout:
                return False
            return True
        self.entries = [e for e in self.entries if alive(e)]
        self.exact = {k: e for k, e in self.exact.items() if alive(e)}

    def all_entries(self) -> list[Entry]:
        return self.entries + list(self.exact.values())

    def lookup(self, frame: bytes, in_port: int, now: float) -> Entry | None:
        if now != getattr(self, "_expired_at", None):
            self.expire(now)
            self._expired_at = now
        fields = frame_fields(frame, in_port)
        candidates = list(self.entries)
        if set(fields) - {"in_port"} == _shape_fields(fields.get("ip_proto")):
            shape = {k: v for k, v in fields.items() if k not in ("in_port", "tcp_flags")}
            for k in ("ipv4_src", "ipv4_dst"):
                shape[k] = socket.inet_ntoa(shape[k].to_bytes(4, "big"))
            items = tuple(sorted(shape.items()))
            for prio in {k[0] for k in self.exact}:
                e = self.exact.get((prio, items))
                if e is not None:
                    candidates.append(e)
        best = None
        for e in candidates:
            if matches(e.compiled, fields) and (best is None
                                                 or e.spec.priority > best.spec.priority):
                best = e
        return best

    def send(self, frame: bytes, in_port: int, now: float) -> str:
        """What the switch does with a frame: controller, normal, copied (normal, and a copy
        to the controller), drop or meter:N."""
        entry = self.lookup(frame, in_port, now)
        if entry is None:
            return "drop"                       # table miss (no default entry)
        entry.last_used = now
        entry.packets += 1
        actions = entry.spec.actions
        larger = [a[1] for a in actions if a[0] == "up_if_larger"]
        if larger:                              # check_pkt_larger, then the size table
            assert self.tables.get(SIZE_TABLE), "up_if_larger without the size table"
            if len(frame) <= larger[0]:
                return "normal"
            actions = (CONTROLLER,)
        if is_copy(entry.spec.cookie):          # forwarded, and a copy goes up
            assert actions == (NORMAL, CONTROLLER), actions
            self.packet_ins += 1
            self.apply(self.engine.packet_in(frame, in_port, now, copy=True), now)
            return "copied"
        if CONTROLLER in actions:
            self.packet_ins += 1
            self.apply(self.engine.packet_in(frame, in_port, now), now)
            return "controller"
        # as controllers.openflow.app translates them: a meter atom is a meter instruction, the other
        # atoms are output actions; no output action drops (after the meter)
        meters = [a[1] for a in actions if a[0] == "meter"]
        outs = tuple(a for a in actions if a[0] != "meter")
        assert all(m in self.meters for m in meters), "entry uses a missing meter"
        if not outs:
            return "drop"
        assert outs == (NORMAL,), actions
        return f"meter:{meters[0]}" if meters else "normal"

    def tick(self, now: float) -> None:
        self.apply(self.engine.tick(now), now)

    def steering(self) -> list[FlowSpec]:
        """Table 0's entries that send packets up (all of them, or the longer ones)."""
        return [e.spec for e in self.all_entries() if CONTROLLER in e.spec.actions
                or any(a[0] == "up_if_larger" for a in e.spec.actions)]
