"""The DPI's TCP state machine where a profile (controllers.dpi.profile) makes it differ.

Owns, per flow, what the censor's DPI noted about the client's segments while the flow was
undecided: where it expects the stream to start, which segments it read and which it
ignored (a wrong checksum, out of the window), and the ground truth of each: a segment's
checksum is judged even by a DPI that does not check it, so the event can say what the DPI
believed. And the per-packet questions a profile asks: is the checksum right (an offloaded,
partial one is not wrong: controllers.openflow.offload.is_partial), is the segment in the
window, does a packet tear the state down or start it afresh. Pure: no I/O, no clock.

Only a policy with a "dpi" section gets a Tcb per flow; without one the engine is today's.
"""
from __future__ import annotations

from controllers.openflow.offload import is_partial
from controllers.openflow.offload6 import is_partial6
from controllers.packets6 import pseudo as pseudo6
from controllers.packets import FIN, RST, SYN, TCP, UDP, Packet, checksum

SEQ_MOD = 1 << 32
WINDOW = 65535          # bytes from the first expected byte a checking DPI accepts
NOTES_CAP = 8           # segments listed in an event's detail


def checksums_ok(pkt: Packet) -> bool:
    """Whether the packet's IPv4 header checksum and TCP/UDP checksum are right, or left
    to offload (a partial TCP/UDP checksum holds the pseudo-header sum). IPv6 has no header
    checksum; its TCP/UDP checksum covers IPv6's pseudo-header."""
    ip = pkt.ip_packet
    v6 = pkt.family == 6
    if not v6 and checksum(ip[:pkt.ihl]) != 0:
        return False
    if pkt.proto not in (TCP, UDP):
        return True
    segment = ip[pkt.ihl:]
    offset = 16 if pkt.proto == TCP else 6
    if len(segment) < offset + 2:
        return False
    if v6:
        if is_partial6(ip, pkt.proto, segment, offset):
            return True
        return checksum(pseudo6(pkt.src, pkt.dst, pkt.proto, len(segment)) + segment) == 0
    if pkt.proto == UDP and segment[6:8] == b"\0\0":
        return True                             # no UDP checksum (IPv4 only)
    if is_partial(ip[:pkt.ihl], pkt.proto, segment, offset):
        return True
    pseudo = ip[12:20] + bytes((0, pkt.proto)) + len(segment).to_bytes(2, "big")
    return checksum(pseudo + segment) == 0


def relative(base: int | None, seq: int) -> int | None:
    """`seq` counted as tcpdump counts from `base` (the first expected byte is 1), signed."""
    if base is None:
        return None
    off = (seq - base) % SEQ_MOD
    return (off - SEQ_MOD if off >= SEQ_MOD // 2 else off) + 1


def in_window(base: int | None, seq: int, length: int) -> bool:
    """Whether a segment of `length` bytes at `seq` carries a byte of [base, base + WINDOW):
    RFC 9293's acceptability test against the flow's first expected byte."""
    if base is None:
        return True
    start = relative(base, seq) - 1
    return start < WINDOW and start + max(length, 1) > 0


class Tcb:
    """One undecided flow's notes: its base (the client's first expected byte), the data
    segments read and ignored, the highest byte seen so far."""

    __slots__ = ("base", "ttl", "read", "ignored", "spans", "anomalies", "bytes")

    def __init__(self, base: int | None = None) -> None:
        self.base = base
        self.ttl: int | None = None             # the IP TTL the client's SYN came with
        self.read: list[dict] = []
        self.ignored: list[dict] = []
        self.spans: list[list[int]] = []        # [start, end) of the bytes read, relative
        self.anomalies: list[str] = []          # what in the bytes read was not as sent
        self.bytes = 0                          # data bytes read

    def note(self, pkt: Packet, good_sum: bool, why: str | None = None) -> dict:
        """Record one client data segment: read (why None) or ignored (why)."""
        seq = pkt.seq + 1 if pkt.flags & SYN else pkt.seq
        if self.base is None:
            self.base = seq
        rel = relative(self.base, seq)
        entry = {"seq": rel, "len": len(pkt.payload)}
        if pkt.flags & RST:
            entry["flags"] = "RST"
        if self.ttl is not None and pkt.ttl != self.ttl:
            entry["ttl"] = pkt.ttl
        if not good_sum:
            entry["checksum"] = "bad"
        if not in_window(self.base, seq, len(pkt.payload)):
            entry["window"] = "out"
        if why is not None:
            entry["why"] = why
            if len(self.ignored) < NOTES_CAP:
                self.ignored.append(entry)
            return entry
        found = []
        if not good_sum:
            found.append("a segment with a bad checksum")
        if "ttl" in entry:
            found.append("a segment with another TTL")
        if "window" in entry:
            found.append("a segment outside the window")
        else:
            end = rel + len(pkt.payload)
            if any(a < end and rel < b for a, b in self.spans):
                found.append("bytes sent twice")
            if rel != self._next():
                found.append("segments out of order")
            if len(self.spans) < 64:
                self.spans.append([rel, end])
        self.bytes += len(pkt.payload)
        for f in found:
            if f not in self.anomalies:
                self.anomalies.append(f)
        if len(self.read) < NOTES_CAP:
            self.read.append(entry)
        return entry

    def _next(self) -> int:
        """The first byte (relative) not yet read in order from 1."""
        nxt = 1
        for a, b in sorted(self.spans):
            if a > nxt:
                break
            nxt = max(nxt, b)
        return nxt

    def detail(self, passed: bool = False) -> dict:
        """What it read and ignored; what in the bytes read was not as the server got them,
        as `believed` (the flow passed on it) or `noticed`."""
        out: dict = {"read": self.read}
        if self.ignored:
            out["ignored"] = self.ignored
        if self.anomalies:
            out["believed" if passed else "noticed"] = ", ".join(self.anomalies)
        return out


def ttl_differs(tcb: "Tcb | None", pkt: Packet) -> bool:
    """Whether a client packet's IP TTL is not the one its flow's SYN came with (a
    TTL-limited fake or RST arrives with less: it was sent to die beyond the DPI)."""
    return tcb is not None and tcb.ttl is not None and pkt.ttl != tcb.ttl


def tears_down(pkt: Packet, teardown: tuple[str, ...]) -> str | None:
    """What in a client packet ends an undecided flow's state under `teardown`, or None."""
    if pkt.flags & RST and "client_rst" in teardown:
        return "client_rst"
    if pkt.flags & FIN and "fin" in teardown:
        return "fin"
    return None
