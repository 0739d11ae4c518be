"""Recomputing the TCP/UDP checksum of a frame the switch handed to the controller.

Hosts send with checksum offload (it is what makes the userspace datapath fast with TSO), so
a packet that reaches the controller may carry only the partial pseudo-header sum the kernel
leaves for the NIC to finish. Before the censor sends such a frame on, its checksum is
completed here; otherwise the receiver would drop it.
"""
from __future__ import annotations

import struct

from controllers.packets import checksum

_TCP, _UDP = 6, 17


def complete_l4_checksum(frame: bytes) -> bytes:
    """`frame` with a correct TCP or UDP checksum (unchanged if it is neither, or malformed)."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    proto = frame[23]
    frag = struct.unpack_from("!H", frame, 20)[0]
    l4 = 14 + ihl
    end = 14 + total
    if proto not in (_TCP, _UDP) or frag & 0x3FFF or ihl < 20 or end > len(frame):
        return frame
    offset = l4 + (16 if proto == _TCP else 6)
    if offset + 2 > end:
        return frame
    segment = bytearray(frame[l4:end])
    segment[offset - l4:offset - l4 + 2] = b"\0\0"
    pseudo = frame[26:34] + struct.pack("!BBH", 0, proto, end - l4)
    value = checksum(pseudo + bytes(segment))
    if proto == _UDP and value == 0:
        value = 0xFFFF
    out = bytearray(frame[:end])
    struct.pack_into("!H", out, offset, value)
    return bytes(out)
