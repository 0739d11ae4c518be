"""Finishing offload work for IPv6 frames the controller sends back out (offload.py's twin).

A host's kernel leaves a TCP or UDP checksum over IPv6 to offload the same way it does over
IPv4: the field holds the folded sum of the IPv6 pseudo-header (tcp_v6_send_check,
udp6_set_csum), and TSO hands the switch super-segments. Only the simple case is finished
here, which is every frame a lab host sends: the transport right after the fixed header (no
extension headers). Anything else goes out as it came.
"""
from __future__ import annotations

import struct

from controllers.packets import checksum, tcp_segments
from controllers.packets6 import pseudo_sum

_TCP, _UDP = 6, 17


def is_partial6(ip_header: bytes, proto: int, segment: bytes, offset: int) -> bool:
    """Whether the segment's checksum (at `offset`) is the partial one offload finishes."""
    field = (segment[offset] << 8) | segment[offset + 1]
    return field == pseudo_sum(ip_header, proto, len(segment))


def _checksum(ip_header: bytes, proto: int, segment: bytearray, offset: int) -> None:
    segment[offset:offset + 2] = b"\0\0"
    pseudo = ip_header[8:40] + struct.pack("!I3xB", len(segment), proto)
    value = checksum(pseudo + bytes(segment))
    if proto == _UDP and value == 0:
        value = 0xFFFF
    struct.pack_into("!H", segment, offset, value)


def for_the_wire6(frame: bytes, mtu: int) -> list[bytes]:
    """An IPv6 `frame` ready for a link of `mtu`: a partial checksum completed, a TCP
    super-segment cut into segments with their own checksums."""
    if len(frame) < 54:
        return [frame]
    plen = struct.unpack_from("!H", frame, 18)[0]
    proto = frame[20]
    unset = plen == 0                   # a GSO frame may leave the length unset
    end = len(frame) if unset else 54 + plen
    if proto not in (_TCP, _UDP) or end > len(frame):
        return [frame]
    eth, ip_hdr, segment = frame[:14], frame[14:54], frame[54:end]
    offset = 16 if proto == _TCP else 6
    if len(segment) < offset + 2:
        return [frame]
    partial = is_partial6(ip_hdr, proto, segment, offset)
    if proto == _UDP or (40 + len(segment) <= mtu and not unset):
        if not partial:
            return [frame]
        seg = bytearray(segment)
        _checksum(ip_hdr, proto, seg, offset)
        return [eth + _with_length(ip_hdr, len(seg)) + bytes(seg) + frame[end:]]
    doff = (segment[12] >> 4) * 4
    if doff < 20 or doff > len(segment):
        return [frame]
    tcp_hdr, payload = segment[:doff], segment[doff:]
    mss = max(mtu - 40 - doff, 1)
    out = []
    for seg in tcp_segments(tcp_hdr, payload, mss):
        _checksum(ip_hdr, proto, seg, 16)
        out.append(eth + _with_length(ip_hdr, len(seg)) + bytes(seg))
    return out


def _with_length(ip_hdr: bytes, length: int) -> bytes:
    return ip_hdr[:4] + struct.pack("!H", length) + ip_hdr[6:]
