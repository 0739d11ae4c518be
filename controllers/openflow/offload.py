"""Finishing the work hosts left to offload, for frames the controller sends back out.

Hosts send with checksum and segmentation offload (that is what makes the userspace datapath
fast with TSO), so a frame that reaches the controller may carry only a partial TCP/UDP
checksum, and may be a TCP "super-segment" far larger than the link MTU. Before the censor
sends such a frame on, its checksum is completed and it is cut into MTU-sized segments;
otherwise the receiver would drop it.
"""
from __future__ import annotations

import struct

from controllers.packets import checksum

_TCP, _UDP = 6, 17
MTU = 1500


def _l4_checksum(ip_header: bytes, proto: int, segment: bytearray, offset: int) -> None:
    segment[offset:offset + 2] = b"\0\0"
    pseudo = ip_header[12:20] + struct.pack("!BBH", 0, proto, len(segment))
    value = checksum(pseudo + bytes(segment))
    if proto == _UDP and value == 0:
        value = 0xFFFF
    struct.pack_into("!H", segment, offset, value)


def _ip_header(header: bytes, total_len: int, ident: int) -> bytes:
    h = bytearray(header)
    struct.pack_into("!HH", h, 2, total_len, ident & 0xFFFF)
    h[10:12] = b"\0\0"
    struct.pack_into("!H", h, 10, checksum(bytes(h)))
    return bytes(h)


def for_the_wire(frame: bytes, mtu: int = MTU) -> list[bytes]:
    """`frame` ready for a link of `mtu`: checksums completed, TCP cut into segments.

    Anything that is not a well-formed unfragmented IPv4 TCP/UDP frame is returned unchanged."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return [frame]
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    if total == 0:                      # some GSO frames leave the length unset
        total = len(frame) - 14
    proto = frame[23]
    frag = struct.unpack_from("!H", frame, 20)[0]
    l4, end = 14 + ihl, 14 + total
    if proto not in (_TCP, _UDP) or frag & 0x3FFF or ihl < 20 or end > len(frame):
        return [frame]
    eth, ip_hdr = frame[:14], frame[14:l4]
    if proto == _UDP:
        segment = bytearray(frame[l4:end])
        if len(segment) < 8:
            return [frame]
        _l4_checksum(ip_hdr, proto, segment, 6)
        return [eth + _ip_header(ip_hdr, ihl + len(segment), _ident(ip_hdr)) + bytes(segment)]
    doff = (frame[l4 + 12] >> 4) * 4
    if doff < 20 or l4 + doff > end:
        return [frame]
    tcp_hdr, payload = frame[l4:l4 + doff], frame[l4 + doff:end]
    mss = max(mtu - ihl - doff, 1)
    seq = struct.unpack_from("!I", tcp_hdr, 4)[0]
    flags = tcp_hdr[13]
    ident = _ident(ip_hdr)
    out = []
    chunks = [payload[i:i + mss] for i in range(0, len(payload), mss)] or [b""]
    for n, chunk in enumerate(chunks):
        hdr = bytearray(tcp_hdr)
        struct.pack_into("!I", hdr, 4, (seq + n * mss) & 0xFFFFFFFF)
        if n < len(chunks) - 1:          # FIN and PSH only on the last segment
            hdr[13] = flags & ~0x09
        segment = hdr + chunk
        _l4_checksum(ip_hdr, proto, segment, 16)
        out.append(eth + _ip_header(ip_hdr, ihl + len(segment), ident + n) + bytes(segment))
    return out


def _ident(ip_hdr: bytes) -> int:
    return struct.unpack_from("!H", ip_hdr, 4)[0]
