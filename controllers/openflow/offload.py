"""Finishing the work hosts left to offload, for frames the controller sends back out.

Hosts send with checksum and segmentation offload (that is what makes the userspace datapath
fast with TSO), so a frame that reaches the controller may carry only a partial TCP/UDP
checksum, and may be a TCP "super-segment" far larger than the link MTU. Before the censor
sends such a frame on, its partial checksum is completed and it is cut into MTU-sized
segments; otherwise the receiver would drop it.

Everything else is left as the sender made it: a checksum that is not partial is the sender's
own, right or wrong (a "badsum" fake must reach the server as sent, for its kernel to drop),
and the IP header (TTL, ID, options, its checksum) is rewritten only when a super-segment is
cut. A partial checksum is told from a written one by its value: a kernel that leaves the
checksum to offload (CHECKSUM_PARTIAL) puts the folded sum of the IPv4 pseudo-header there
(tcp_v4_send_check, udp4_hwcsum), and a packet-in of the userspace datapath carries it as is
(measured: every TCP and UDP packet-in of curl and dig traffic, super-segments included).
See docs/internals.md, "Checksums".
"""
from __future__ import annotations

import struct

from controllers.openflow.offload6 import for_the_wire6
from controllers.packets import checksum, tcp_segments

_TCP, _UDP = 6, 17
MTU = 1500
_ADDRS = struct.Struct("!HHHH")


def pseudo_sum(ip_header: bytes, proto: int, length: int) -> int:
    """The folded one's-complement sum of the IPv4 pseudo-header for an L4 segment of
    `length` bytes: what the checksum field holds when the sender left it to offload."""
    total = sum(_ADDRS.unpack_from(ip_header, 12)) + proto + length
    total = (total & 0xFFFF) + (total >> 16)
    return (total & 0xFFFF) + (total >> 16)


def is_partial(ip_header: bytes, proto: int, segment: bytes, offset: int) -> bool:
    """Whether the TCP/UDP `segment`'s checksum (at `offset`) is a partial one, left for
    offload to finish, rather than one its sender wrote (correct or not)."""
    field = (segment[offset] << 8) | segment[offset + 1]
    return field == pseudo_sum(ip_header, proto, len(segment))


def _completed(segment: bytes, proto: int) -> int:
    """The full checksum of a segment whose field holds its pseudo-header sum: that sum
    stands in for the pseudo-header, so summing the segment as it is gives the checksum."""
    value = checksum(segment)
    return 0xFFFF if proto == _UDP and value == 0 else value


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


def _complete(frame: bytes, proto: int, l4: int, end: int, offset: int) -> bytes:
    """`frame` with its partial checksum completed, every other byte as it came."""
    segment = frame[l4:end]
    if not is_partial(frame[14:l4], proto, segment, offset):
        return frame
    out = bytearray(frame)
    struct.pack_into("!H", out, l4 + offset, _completed(segment, proto))
    return bytes(out)


def for_the_wire(frame: bytes, mtu: int = MTU) -> list[bytes]:
    """`frame` ready for a link of `mtu`: a partial checksum completed, TCP super-segments
    cut into segments (with new IP headers and correct checksums).

    Anything that is not a well-formed unfragmented IPv4 TCP/UDP frame is returned
    unchanged, and so is a frame whose checksum its sender wrote. IPv6: offload6."""
    if frame[12:14] == b"\x86\xdd":
        return for_the_wire6(frame, mtu)
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return [frame]
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    unset = total == 0                  # some GSO frames leave the length unset
    if unset:
        total = len(frame) - 14
    proto = frame[23]
    frag = struct.unpack_from("!H", frame, 20)[0]
    l4, end = 14 + ihl, 14 + total
    if proto not in (_TCP, _UDP) or frag & 0x3FFF or ihl < 20 or end > len(frame):
        return [frame]
    eth, ip_hdr = frame[:14], frame[14:l4]
    if proto == _UDP:
        if end - l4 < 8:
            return [frame]
        if not unset:
            return [_complete(frame, proto, l4, end, 6)]
        segment = bytearray(frame[l4:end])
        _l4_checksum(ip_hdr, proto, segment, 6)
        return [eth + _ip_header(ip_hdr, ihl + len(segment), _ident(ip_hdr)) + bytes(segment)]
    doff = (frame[l4 + 12] >> 4) * 4
    if doff < 20 or l4 + doff > end:
        return [frame]
    if total <= mtu and not unset:
        return [_complete(frame, proto, l4, end, 16)]
    tcp_hdr, payload = frame[l4:l4 + doff], frame[l4 + doff:end]
    mss = max(mtu - ihl - doff, 1)
    ident = _ident(ip_hdr)
    out = []
    for n, segment in enumerate(tcp_segments(tcp_hdr, payload, mss)):
        _l4_checksum(ip_hdr, proto, segment, 16)
        out.append(eth + _ip_header(ip_hdr, ihl + len(segment), ident + n) + bytes(segment))
    return out


def _ident(ip_hdr: bytes) -> int:
    return struct.unpack_from("!H", ip_hdr, 4)[0]
