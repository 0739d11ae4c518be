"""Ethernet/IPv4/TCP/UDP/ICMP on the wire: a fast parse into a small object, and builders.

Owns the byte layout only: `parse_frame` turns a frame the switch sent up into a `Packet`
(or None for anything that is not IP, or raises `Malformed`), and the `build_*` functions
make the frames the censor injects, with correct IPv4/TCP/UDP/ICMP checksums. IPv6 frames
(and builders given IPv6 addresses) are controllers.packets6's, behind the same functions.
No os-ken, no policy: the struct module and nothing else.
"""
from __future__ import annotations

import socket
import struct

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
TCP, UDP, ICMP, ICMPV6 = 6, 17, 1, 58
PROTO_NAMES = {TCP: "tcp", UDP: "udp", ICMP: "icmp", ICMPV6: "icmp"}

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

_ETH = struct.Struct("!6s6sH")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_TCP = struct.Struct("!HHIIBBHHH")
_UDP = struct.Struct("!HHHH")
_PORTS = struct.Struct("!HH")
_ICMP_HEAD = struct.Struct("!BBHI")

_ntoa = socket.inet_ntoa
_aton = socket.inet_aton


class Malformed(ValueError):
    """An Ethernet/IP frame whose headers do not hold together."""


class Packet:
    """The fields of one IP frame the engine looks at (ports 0 where the protocol has none).

    `family` is 4 or 6; for IPv6, `ihl` is the length of the fixed and extension headers,
    `ttl` the hop limit and `proto` the last next-header (the transport)."""

    __slots__ = ("frame", "eth_dst", "eth_src", "ip_off", "ip_len", "ihl", "ttl", "proto",
                 "src", "dst", "fragment", "first_fragment", "sport", "dport", "seq", "ack",
                 "flags", "window", "payload", "icmp_type", "icmp_code", "family")

    def __init__(self) -> None:
        self.family = 4
        self.sport = self.dport = self.seq = self.ack = self.flags = self.window = 0
        self.icmp_type = self.icmp_code = -1
        self.payload = b""
        self.fragment = self.first_fragment = False

    @property
    def proto_name(self) -> str:
        return PROTO_NAMES.get(self.proto, str(self.proto))

    @property
    def ip_packet(self) -> bytes:
        """The whole IP packet (header and data, without Ethernet padding)."""
        return self.frame[self.ip_off:self.ip_off + self.ip_len]

    def __repr__(self) -> str:
        return (f"Packet({self.proto_name} {self.src}:{self.sport} -> {self.dst}:{self.dport}"
                f" flags={self.flags:#x} len={len(self.payload)})")


def parse_frame(frame: bytes) -> Packet | None:
    """Parse an Ethernet frame: a Packet for IPv4 and IPv6, None for other ethertypes.

    Raises Malformed when the frame claims IP but its headers are cut or inconsistent."""
    if len(frame) < 14:
        raise Malformed("short ethernet header")
    eth_dst, eth_src, eth_type = _ETH.unpack_from(frame, 0)
    if eth_type != ETH_IPV4:
        if eth_type == ETH_IPV6:
            return packets6.parse(frame, eth_dst, eth_src)
        return None
    if len(frame) < 34:
        raise Malformed("short ipv4 header")
    vihl, _tos, total, _ident, frag, ttl, proto, _csum, src, dst = _IPV4.unpack_from(frame, 14)
    ihl = (vihl & 0x0F) * 4
    if vihl >> 4 != 4 or ihl < 20 or total < ihl or 14 + total > len(frame):
        raise Malformed("bad ipv4 header")
    p = Packet()
    p.frame = frame
    p.eth_dst, p.eth_src = eth_dst, eth_src
    p.ip_off, p.ip_len, p.ihl, p.ttl, p.proto = 14, total, ihl, ttl, proto
    p.src, p.dst = _ntoa(src), _ntoa(dst)
    offset = frag & 0x1FFF
    more = bool(frag & 0x2000)
    if offset:
        p.fragment = True          # a later fragment: no transport header in it
        p.payload = frame[14 + ihl:14 + total]
        return p
    p.first_fragment = more
    parse_transport(p, frame, 14 + ihl, 14 + total, more)
    return p


def parse_transport(p: Packet, frame: bytes, start: int, end: int, more: bool) -> None:
    """Fill p's transport fields from frame[start:end] (`more`: a first fragment, whose
    UDP length may run past it)."""
    proto = p.proto
    if proto == TCP:
        if end - start < 20:
            raise Malformed("short tcp header")
        (p.sport, p.dport, p.seq, p.ack, off, p.flags, p.window, _c, _u) = \
            _TCP.unpack_from(frame, start)
        doff = (off >> 4) * 4
        if doff < 20 or start + doff > end:
            raise Malformed("bad tcp data offset")
        p.payload = frame[start + doff:end]
    elif proto == UDP:
        if end - start < 8:
            raise Malformed("short udp header")
        p.sport, p.dport, ulen, _c = _UDP.unpack_from(frame, start)
        if not more and (ulen < 8 or start + ulen > end):
            raise Malformed("bad udp length")
        p.payload = frame[start + 8:start + ulen] if not more else frame[start + 8:end]
    elif proto == ICMP or proto == ICMPV6:
        if end - start < 8:
            raise Malformed("short icmp header")
        p.icmp_type, p.icmp_code = frame[start], frame[start + 1]
        p.payload = frame[start + 8:end]
    else:
        p.payload = frame[start:end]


# ---------------------------------------------------------------------------- checksums

def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of `data`. The 16-bit words' one's-complement sum,
    read as one big number: 2**16 is 1 modulo 0xFFFF, so the number is its words' sum modulo
    0xFFFF, and the end-around-carry fold of a sum that is not zero never gives 0 (a quarter
    of the CPU of unpacking the words and adding them)."""
    if len(data) % 2:
        data += b"\0"
    whole = int.from_bytes(data, "big")
    total = whole % 0xFFFF
    if total == 0 and whole:
        total = 0xFFFF
    return ~total & 0xFFFF


def _pseudo(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    return src + dst + struct.pack("!BBH", 0, proto, length)


# ---------------------------------------------------------------------------- builders

def mac_bytes(mac: str | bytes) -> bytes:
    if isinstance(mac, bytes):
        return mac
    return bytes(int(x, 16) for x in mac.split(":"))


def build_ipv4(src: str, dst: str, proto: int, data: bytes, ttl: int = 64,
               ident: int = 0) -> bytes:
    """An IPv4 packet (DF set, no options) carrying `data`, with its header checksum."""
    head = _IPV4.pack(0x45, 0, 20 + len(data), ident, 0x4000, ttl, proto, 0,
                      _aton(src), _aton(dst))
    csum = checksum(head)
    return head[:10] + struct.pack("!H", csum) + head[12:] + data


INJECT_TTL = 64          # the initial IP TTL of what the censor sends (a Linux host's default)


def with_ttl(frame: bytes, ttl: int) -> bytes:
    """`frame` (Ethernet + IPv4, no options or any) with its IP TTL set to `ttl` and the
    header checksum redone: a censor's injections leave it with the TTL of its place.
    An IPv6 frame gets its hop limit set."""
    if frame[12:14] == b"\x86\xdd":
        return packets6.with_hop_limit(frame, ttl)
    ihl = (frame[14] & 0x0F) * 4
    head = bytearray(frame[14:14 + ihl])
    head[8] = ttl & 0xFF
    head[10:12] = b"\0\0"
    head[10:12] = struct.pack("!H", checksum(bytes(head)))
    return frame[:14] + bytes(head) + frame[14 + ihl:]


def with_eth_dst(frame: bytes, mac: str) -> bytes:
    """`frame` sent to another Ethernet address (a flow diverted to a host of the lab)."""
    return mac_bytes(mac) + frame[6:]


def build_frame(eth_src: bytes, eth_dst: bytes, ip_packet: bytes) -> bytes:
    return _ETH.pack(mac_bytes(eth_dst), mac_bytes(eth_src), ETH_IPV4) + ip_packet


def build_tcp(eth_src: bytes, eth_dst: bytes, src: str, dst: str, sport: int, dport: int,
              seq: int, ack: int, flags: int, payload: bytes = b"", window: int = 65535,
              ttl: int = 64) -> bytes:
    """A TCP segment in an Ethernet frame, checksums filled in."""
    head = _TCP.pack(sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                     window, 0, 0)
    seg = head + payload
    if ":" in src:
        return packets6.frame(eth_src, eth_dst, src, dst, TCP, seg, 16, ttl)
    csum = checksum(_pseudo(_aton(src), _aton(dst), TCP, len(seg)) + seg)
    seg = seg[:16] + struct.pack("!H", csum) + seg[18:]
    return build_frame(eth_src, eth_dst, build_ipv4(src, dst, TCP, seg, ttl))


def build_udp(eth_src: bytes, eth_dst: bytes, src: str, dst: str, sport: int, dport: int,
              payload: bytes, ttl: int = 64) -> bytes:
    """A UDP datagram in an Ethernet frame, checksums filled in."""
    length = 8 + len(payload)
    seg = _UDP.pack(sport, dport, length, 0) + payload
    if ":" in src:
        return packets6.frame(eth_src, eth_dst, src, dst, UDP, seg, 6, ttl)
    csum = checksum(_pseudo(_aton(src), _aton(dst), UDP, length) + seg) or 0xFFFF
    seg = seg[:6] + struct.pack("!H", csum) + seg[8:]
    return build_frame(eth_src, eth_dst, build_ipv4(src, dst, UDP, seg, ttl))


def build_icmp(eth_src: bytes, eth_dst: bytes, src: str, dst: str, icmp_type: int,
               code: int, rest: int, data: bytes, ttl: int = 64) -> bytes:
    msg = _ICMP_HEAD.pack(icmp_type, code, 0, rest) + data
    csum = checksum(msg)
    msg = msg[:2] + struct.pack("!H", csum) + msg[4:]
    return build_frame(eth_src, eth_dst, build_ipv4(src, dst, ICMP, msg, ttl))


# ---------------------------------------------------------------------------- replies

def reply_tcp(p: Packet, seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
    """A segment from p's destination back to p's source (MACs, addresses, ports swapped)."""
    return build_tcp(p.eth_dst, p.eth_src, p.dst, p.src, p.dport, p.sport, seq, ack, flags,
                     payload)


def forward_tcp(p: Packet, seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
    """A segment that looks like p's sender sent it (same MACs, addresses and ports)."""
    return build_tcp(p.eth_src, p.eth_dst, p.src, p.dst, p.sport, p.dport, seq, ack, flags,
                     payload)


def reply_udp(p: Packet, payload: bytes) -> bytes:
    """A datagram from p's destination address and port back to p's source."""
    return build_udp(p.eth_dst, p.eth_src, p.dst, p.src, p.dport, p.sport, payload)


def rst_for(p: Packet) -> bytes:
    """The RST a closed port sends in answer to p (RFC 793 reset generation)."""
    seg_len = len(p.payload) + (1 if p.flags & SYN else 0) + (1 if p.flags & FIN else 0)
    if p.flags & ACK:
        return reply_tcp(p, p.ack, 0, RST)
    return reply_tcp(p, 0, p.seq + seg_len, RST | ACK)


def icmp_unreachable(p: Packet, code: int = 3) -> bytes:
    """ICMP destination unreachable (default: port) from p's destination, quoting p.

    The quote is p's IP header and as much data as keeps the error within 576 bytes. For
    an IPv6 packet: ICMPv6 unreachable, the code translated (controllers.packets6)."""
    if p.family == 6:
        return packets6.unreachable(p, code)
    quote = p.ip_packet[:576 - 20 - 8]
    return build_icmp(p.eth_dst, p.eth_src, p.dst, p.src, 3, code, 0, quote)


from controllers import packets6  # noqa: E402  (IPv6 builds on the names above)


def tcp_segments(tcp_hdr: bytes, payload: bytes, mss: int) -> list[bytearray]:
    """A TCP header and its payload cut into segments of at most `mss` bytes of payload (what
    segmentation offload leaves to the NIC): sequence numbers advance, FIN and PSH only on
    the last; checksums are left for the caller, who knows the IP family."""
    seq = struct.unpack_from("!I", tcp_hdr, 4)[0]
    flags = tcp_hdr[13]
    chunks = [payload[i:i + mss] for i in range(0, len(payload), mss)] or [b""]
    out = []
    for n, chunk in enumerate(chunks):
        hdr = bytearray(tcp_hdr)
        struct.pack_into("!I", hdr, 4, (seq + n * mss) & 0xFFFFFFFF)
        if n < len(chunks) - 1:
            hdr[13] = flags & ~0x09
        out.append(hdr + chunk)
    return out
