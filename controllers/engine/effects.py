"""What the pure censor asks the switch to do.

The engine (controllers.engine.engine) never talks OpenFlow: it returns these values and the os-ken
app (controllers.openflow.app) translates each into a flow mod, meter mod, packet-out or an event line.
Matches use os-ken's OFPMatch keyword names (in_port, eth_type, ip_proto, ipv4_src, ipv4_dst,
tcp_src, tcp_dst, udp_src, udp_dst), plus OVS's tcp_flags and reg0; a value with a mask is a
tuple (value, mask).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from controllers.values import Value

# Action atoms of a FlowSpec, applied in order. An empty tuple drops.
NORMAL = ("normal",)            # forward like a learning switch
CONTROLLER = ("controller",)    # send the whole packet to the controller


def meter(meter_id: int) -> tuple:
    """The atom that polices a flow with meter `meter_id` (an OpenFlow meter instruction).

    It does not forward: pair it with NORMAL, as in `(meter(n), NORMAL)`."""
    return ("meter", meter_id)


def conntrack(zone: int, table: int) -> tuple:
    """The atom that passes a packet through OVS's connection tracker in `zone` and goes on
    with it in `table` (ct_state and ct_mark then say what the tracker knows). It ends the
    entry's actions (controllers.switch.tables: the conntrack lane)."""
    return ("ct", zone, table)


def up_if_larger(nbytes: int) -> tuple:
    """The atom that sends a packet longer than `nbytes` (the whole frame) to the controller
    and forwards a shorter one like NORMAL: OVS's check_pkt_larger into reg0, then the size
    table (controllers.switch.tables) reads the bit. It ends the entry's actions."""
    return ("up_if_larger", nbytes)


@dataclass(frozen=True)
class FlowSpec:
    """One flow-table entry."""
    priority: int
    match: dict[str, Any]
    actions: tuple = ()          # atoms: NORMAL, CONTROLLER, meter(n), ("output", port),
    idle_timeout: int = 0        # up_if_larger(n), ("set_eth_dst", mac) (before an output)
    hard_timeout: int = 0
    cookie: int = 0
    table: int = 0


@dataclass(frozen=True)
class InstallFlow:
    spec: FlowSpec


@dataclass(frozen=True)
class RemoveFlows:
    """Delete every flow whose cookie & mask == cookie & mask (strict priority/match not used)."""
    cookie: int
    cookie_mask: int = 0xFFFFFFFFFFFFFFFF


@dataclass(frozen=True)
class AddMeter:
    meter_id: int
    rate_kbps: int
    burst_kbits: int


@dataclass(frozen=True)
class RemoveMeter:
    meter_id: int


class Output(Value):
    """Send an Ethernet frame out of the switch.

    out_port None means NORMAL forwarding; in_port is the port the frame came in on (None for a
    frame the censor made itself, sent from the controller). `commit` (zone, mark): the frame
    first commits its connection to OVS's connection tracker in that zone with that ct_mark,
    which lets the connection's later packets pass at switch speed (an allowed flow,
    controllers.switch.tables). A value like the others here, but made for nearly every
    packet-in: a plain class (controllers.values; compiled, effects.pxd makes it an extension
    type, read-only) rather than a frozen dataclass, whose __init__ runs as Python."""

    __slots__ = ("frame", "in_port", "out_port", "commit")

    def __init__(self, frame: bytes, in_port: int | None = None, out_port: int | None = None,
                 commit: tuple[int, int] | None = None) -> None:
        self.frame = frame
        self.in_port = in_port
        self.out_port = out_port
        self.commit = commit


@dataclass(frozen=True)
class Event:
    """One ground-truth record for events.jsonl (docs/design.md's event record, without `t`:
    the app stamps it)."""
    record: dict[str, Any] = field(default_factory=dict)


Effect = Union[InstallFlow, RemoveFlows, AddMeter, RemoveMeter, Output, Event]


def count_events(effects: list) -> int:
    """How many of `effects` are events (a loop: counted for every packet-in, where a
    generator expression costs more than the count)."""
    n = 0
    for effect in effects:
        if isinstance(effect, Event):
            n += 1
    return n
