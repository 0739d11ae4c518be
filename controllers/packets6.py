"""IPv6 on the wire: the parse of an IPv6 frame into the censor's Packet, and IPv6 builders.

Owns the IPv6 byte layout only (RFC 8200): the fixed header, the chain of extension headers
(hop-by-hop, routing, destination options, fragment, AH) walked to the transport, the
fragment header (a later fragment has no transport header, as in IPv4), ICMPv6 (RFC 4443)
and the pseudo-header TCP, UDP and ICMPv6 checksums cover. controllers.packets dispatches
here for EtherType 0x86dd and for addresses with a colon, so the rest of the censor sees one
Packet whatever the family (`Packet.family` is 4 or 6). No os-ken, no policy.
"""
from __future__ import annotations

import socket
import struct

from controllers import packets as _p

ETH_IPV6 = 0x86DD
ICMPV6 = 58
HOP_BY_HOP, ROUTING, FRAGMENT, ESP, AH, NO_NEXT, DEST_OPTS = 0, 43, 44, 50, 51, 59, 60
EXTENSIONS = frozenset((HOP_BY_HOP, ROUTING, DEST_OPTS, AH, FRAGMENT))
EXT_CHAIN_MAX = 8           # extension headers walked before the packet is called malformed
MIN_MTU = 1280              # RFC 8200: an ICMPv6 error fits in it (RFC 4443 2.4(c))
# ICMPv6 types: destination unreachable, echo request, and Neighbor Discovery (RFC 4861:
# router solicitation/advertisement, neighbor solicitation/advertisement, redirect).
UNREACHABLE, ECHO_REQUEST = 1, 128
NEIGHBOR_DISCOVERY = frozenset(range(133, 138))
# Multicast Listener Discovery (RFC 2710, RFC 3810): query, reports, done. A host sends its
# reports (to ff02::16) when its link comes up and a few times after.
MULTICAST_LISTENER = frozenset((130, 131, 132, 143))
LINK_PLUMBING = NEIGHBOR_DISCOVERY | MULTICAST_LISTENER
# ICMPv4 unreachable code -> ICMPv6 unreachable code (RFC 4443 3.1): port -> port (4),
# administratively prohibited (13) -> communication administratively prohibited (1).
CODES_FROM_V4 = {3: 4, 13: 1}

_IPV6 = struct.Struct("!IHBB16s16s")
_ETH = struct.Struct("!6s6sH")

_ntop6 = socket.inet_ntop
_pton6 = socket.inet_pton
_AF6 = socket.AF_INET6


def parse(frame: bytes, eth_dst: bytes, eth_src: bytes) -> "_p.Packet":
    """The Packet of an IPv6 frame (EtherType already checked); raises packets.Malformed."""
    if len(frame) < 54:
        raise _p.Malformed("short ipv6 header")
    vtf, plen, nh, hops, src, dst = _IPV6.unpack_from(frame, 14)
    if vtf >> 28 != 6 or 54 + plen > len(frame):
        raise _p.Malformed("bad ipv6 header")
    p = _p.Packet()
    p.family = 6
    p.frame = frame
    p.eth_dst, p.eth_src = eth_dst, eth_src
    p.ip_off, p.ip_len, p.ttl = 14, 40 + plen, hops
    p.src, p.dst = _ntop6(_AF6, src), _ntop6(_AF6, dst)
    end = 54 + plen
    start, more = 54, False
    for _ in range(EXT_CHAIN_MAX):
        if nh not in EXTENSIONS:
            break
        if start + 8 > end:
            raise _p.Malformed("short ipv6 extension header")
        if nh == FRAGMENT:
            offset_flags = struct.unpack_from("!H", frame, start + 2)[0]
            nh, start = frame[start], start + 8
            more = bool(offset_flags & 1)
            if offset_flags & 0xFFF8:        # a later fragment: no transport header in it
                p.proto, p.ihl, p.fragment = nh, start - 14, True
                p.payload = frame[start:end]
                return p
            continue
        size = (frame[start + 1] + 2) * 4 if nh == AH else (frame[start + 1] + 1) * 8
        nh, start = frame[start], start + size
        if start > end:
            raise _p.Malformed("ipv6 extension header overruns the packet")
    else:
        raise _p.Malformed("ipv6 extension header chain too long")
    p.proto, p.ihl, p.first_fragment = nh, start - 14, more
    _p.parse_transport(p, frame, start, end, more)
    return p


# ---------------------------------------------------------------------------- checksums

def pseudo(src: str, dst: str, proto: int, length: int) -> bytes:
    """The IPv6 pseudo-header (RFC 8200 8.1) for an upper-layer packet of `length` bytes."""
    return _pton6(_AF6, src) + _pton6(_AF6, dst) + struct.pack("!I3xB", length, proto)


def pseudo_sum(ip_header: bytes, proto: int, length: int) -> int:
    """The folded one's-complement sum of the pseudo-header of the IPv6 `ip_header` (its
    first 40 bytes): what a kernel leaving the checksum to offload writes in the field
    (tcp_v6_send_check, udp6_set_csum)."""
    total = sum(struct.unpack_from("!16H", ip_header, 8)) + proto + (length >> 16) \
        + (length & 0xFFFF)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def l4_checksum(src: str, dst: str, proto: int, segment: bytes) -> int:
    """The checksum of a TCP/UDP/ICMPv6 `segment` (its own field zero) over IPv6."""
    value = _p.checksum(pseudo(src, dst, proto, len(segment)) + segment)
    return 0xFFFF if proto == _p.UDP and value == 0 else value


# ---------------------------------------------------------------------------- builders

def build_ipv6(src: str, dst: str, proto: int, data: bytes, hops: int = 64) -> bytes:
    """An IPv6 packet (no extension headers, flow label 0) carrying `data`."""
    return _IPV6.pack(6 << 28, len(data), proto, hops, _pton6(_AF6, src),
                      _pton6(_AF6, dst)) + data


def frame(eth_src, eth_dst, src: str, dst: str, proto: int, segment: bytes, at: int,
          hops: int = 64) -> bytes:
    """An Ethernet frame carrying `segment` over IPv6, its checksum (at offset `at` in the
    segment) computed over the pseudo-header."""
    csum = l4_checksum(src, dst, proto, segment)
    segment = segment[:at] + struct.pack("!H", csum) + segment[at + 2:]
    return _ETH.pack(_p.mac_bytes(eth_dst), _p.mac_bytes(eth_src), ETH_IPV6) + \
        build_ipv6(src, dst, proto, segment, hops)


def build_icmp6(eth_src, eth_dst, src: str, dst: str, icmp_type: int, code: int, rest: int,
                data: bytes, hops: int = 64) -> bytes:
    msg = struct.pack("!BBHI", icmp_type, code, 0, rest) + data
    return frame(eth_src, eth_dst, src, dst, ICMPV6, msg, 2, hops)


def unreachable(p: "_p.Packet", v4_code: int) -> bytes:
    """ICMPv6 destination unreachable from p's destination, quoting as much of p as keeps
    the error within the minimum MTU; `v4_code` is the ICMPv4 code the caller means."""
    quote = p.ip_packet[:MIN_MTU - 40 - 8]
    return build_icmp6(p.eth_dst, p.eth_src, p.dst, p.src, UNREACHABLE,
                       CODES_FROM_V4.get(v4_code, 1), 0, quote)


def with_hop_limit(frame_: bytes, hops: int) -> bytes:
    """`frame_` (Ethernet + IPv6) with its hop limit set: IPv6 has no header checksum."""
    return frame_[:21] + bytes((hops & 0xFF,)) + frame_[22:]


def is_link_plumbing(p: "_p.Packet") -> bool:
    """The link's own plumbing, which a censor on a router never sees and the lab's bridge
    must pass: Neighbor Discovery (router/neighbor solicitations and advertisements,
    redirects), Multicast Listener Discovery (a host's MLD reports were counted as pings by
    an `icmp` rule's ban_after, and banned it), and anything else to or from a link-scoped
    address (link-local, unspecified, link-scope multicast), which no router forwards."""
    if p.family != 6:
        return False
    if p.proto == ICMPV6 and p.icmp_type in LINK_PLUMBING:
        return True
    return _link_scoped(p.src) or _link_scoped(p.dst)


def _link_scoped(address: str) -> bool:
    """fe80::/10, ::, or multicast of link scope (ffX2::), from the address as text."""
    a = address.lower()
    return a == "::" or a[:3] in ("fe8", "fe9", "fea", "feb") or \
        (a[:2] == "ff" and a[3:4] == "2")
