"""Per-flow state: one Flow per 5-tuple seen client side -> server side, in a capped LRU table.

Owns what the engine remembers about a flow between packets: its orientation and addresses,
the client->server byte stream (Reassembler: in sequence order, out-of-order segments kept,
capped), the packets held while it is undecided (inline mode), its facts, its decision and
its counters. Knows nothing of rules or OpenFlow.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

from controllers.rules.facts import Facts
from controllers.packets import PROTO_NAMES

SEQ_MOD = 1 << 32
STREAM_CAP = 32 * 1024          # reassembled client->server bytes kept per flow
PENDING_CAP = 64                # out-of-order segments kept per flow
FLOW_CAP = 100_000              # flows remembered at once (least recently used go first)

UNDECIDED, DECIDED = "undecided", "decided"


class Reassembler:
    """The client->server byte stream from `base` (a TCP sequence number), in order."""

    __slots__ = ("base", "buf", "pending", "cap", "last")

    def __init__(self, base: int, cap: int = STREAM_CAP, last: bool = False) -> None:
        self.base = base % SEQ_MOD
        self.buf = bytearray()
        self.pending: dict[int, bytes] = {}
        self.cap = cap
        self.last = last            # bytes sent twice: the last copy wins (else the first)

    @property
    def next_seq(self) -> int:
        return (self.base + len(self.buf)) % SEQ_MOD

    @property
    def full(self) -> bool:
        return len(self.buf) >= self.cap

    def data(self) -> bytes:
        return bytes(self.buf)

    def add(self, seq: int, data: bytes) -> bool:
        """Take one segment; True when the in-order stream grew."""
        if not data:
            return False
        off = (seq - self.base) % SEQ_MOD
        if off >= SEQ_MOD // 2:               # starts before base: keep only the new tail
            back = SEQ_MOD - off
            if back >= len(data):
                return False
            data, off = data[back:], 0
        if off >= self.cap:
            return False
        data = data[:self.cap - off]
        have = len(self.buf)
        if off > have:
            if len(self.pending) < PENDING_CAP and (
                    len(data) > len(self.pending.get(off, b"")) or self.last):
                self.pending[off] = data
            return False
        changed = False
        if self.last and off < have:
            old = bytes(self.buf[off:off + len(data)])
            self.buf[off:off + len(old)] = data[:len(old)]
            changed = old != data[:len(old)]
        if off + len(data) <= have:
            return changed
        self.buf += data[have - off:]
        self._drain()
        return True

    def _drain(self) -> None:
        while self.pending:
            have = len(self.buf)
            ready = [o for o in self.pending if o <= have]
            if not ready:
                return
            for o in ready:
                seg = self.pending.pop(o)
                if o + len(seg) > len(self.buf):
                    self.buf += seg[len(self.buf) - o:]


class Flow:
    """One flow as the censor sees it: c_* is the client end, s_* the server end."""

    __slots__ = ("key", "proto", "c_ip", "c_n", "c_port", "s_ip", "s_n", "s_port",
                 "c_mac", "s_mac", "c_in_port", "state", "verdict", "rule_id", "facts",
                 "stream", "data_packets", "packets", "held", "held_since", "client_ack",
                 "client_end", "choices", "meters", "cut_limit", "cut_count", "created",
                 "last_seen", "lifetime", "quic", "record", "undelivered", "actions",
                 "candidates", "tcb")

    def __init__(self, key: tuple, c_n: int, s_n: int, now: float) -> None:
        self.key = key
        self.proto, self.c_ip, self.c_port, self.s_ip, self.s_port = key
        self.c_n, self.s_n = c_n, s_n
        self.c_mac = self.s_mac = b""
        self.c_in_port: int | None = None
        self.state = UNDECIDED
        self.verdict = ""                       # allow, drop, reject, throttle, cut
        self.rule_id: str | None = None
        self.facts: Facts | None = Facts()     # None once decided (memory)
        self.stream: Reassembler | None = None
        self.data_packets = 0                   # client->server packets with payload
        self.packets = 0                        # client->server packets seen while undecided
        self.held: list[tuple[bytes, int]] = []
        self.held_since: float | None = None
        self.client_ack: int | None = None      # the server's next sequence number
        self.client_end: int | None = None      # the client's next sequence number
        self.choices: dict[str, bool] | None = None  # probability draws, by rule id
        self.meters: tuple[int, ...] = ()
        self.cut_limit = 0
        self.cut_count = 0
        self.created = self.last_seen = now
        self.lifetime = 60.0                    # seconds kept after last_seen
        self.quic = None                        # dpi.quic.CryptoAssembler while undecided
        self.record: dict | None = None         # the event's flow record
        self.undelivered: int | None = None    # first client seq the server has not got
        self.actions: tuple | None = ()         # (c2s, s2c, hard_timeout, both) of its pair;
        #                                         None: allowed in the tracker, no pair
        self.candidates: tuple | None = None    # (rule-set generation, rules, needs)
        self.tcb = None                         # controllers.engine.tcb.Tcb (a dpi profile)

    @property
    def proto_name(self) -> str:
        return PROTO_NAMES.get(self.proto, str(self.proto))

    def flow_record(self) -> dict:
        if self.record is None:
            ports = self.proto in PROTO_NAMES and self.proto_name != "icmp"
            self.record = {"proto": self.proto_name, "src": self.c_ip,
                           "sport": self.c_port if ports else None, "dst": self.s_ip,
                           "dport": self.s_port if ports else None}
            if ":" in self.c_ip:            # the family is said where it is not IPv4's
                self.record["family"] = "ipv6"
        return self.record


class FlowTable:
    """Flows by 5-tuple (client orientation), least recently used first."""

    def __init__(self, cap: int = FLOW_CAP) -> None:
        self.cap = cap
        self._flows: OrderedDict[tuple, Flow] = OrderedDict()

    def __len__(self) -> int:
        return len(self._flows)

    def __iter__(self) -> Iterator[Flow]:
        return iter(list(self._flows.values()))

    def find(self, proto: int, src: str, sport: int, dst: str, dport: int
             ) -> tuple[Flow | None, bool]:
        """The flow a packet belongs to and whether the packet goes client -> server."""
        flows = self._flows
        flow = flows.get((proto, src, sport, dst, dport))
        if flow is not None:
            flows.move_to_end(flow.key)
            return flow, True
        flow = flows.get((proto, dst, dport, src, sport))
        if flow is not None:
            flows.move_to_end(flow.key)
            return flow, False
        return None, True

    def add(self, flow: Flow) -> list[Flow]:
        """Insert a flow; returns the flows evicted to stay under the cap."""
        self._flows[flow.key] = flow
        evicted = []
        while len(self._flows) > self.cap:
            _key, old = self._flows.popitem(last=False)
            evicted.append(old)
        return evicted

    def remove(self, flow: Flow) -> None:
        self._flows.pop(flow.key, None)

    def expired(self, now: float) -> list[Flow]:
        """Remove and return the flows whose time is up (all of them, any order)."""
        gone = [f for f in self._flows.values() if f.last_seen + f.lifetime <= now
                and not f.held]
        for f in gone:
            del self._flows[f.key]
        return gone
