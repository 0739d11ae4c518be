"""Fakes with wrong checksums, sent from a lab client the way evasion tools send them.

The "badsum" fake of zapret, byedpi and Geneva: a data segment inside the client's live
connection whose TCP checksum (or IP header checksum) is wrong, sent before the real data. A
DPI that does not check checksums takes it for the start of the stream; the server's kernel
drops it, and the real data follows. This module owns those fakes: learning a connection's
sequence numbers from its SYN-ACK, making the fake (controllers.packets builds it, one byte
pair is then spoiled), sending it through AF_PACKET on the host's interface, and asking the
server where its stream stands (an out-of-window ACK, which it answers with a duplicate ACK).
Either family: over IPv6 (`-6`: HOST's AAAA, or an IPv6 address) the packet socket takes
EtherType 0x86dd and the wrong checksum is the TCP/UDP one over IPv6's pseudo-header; IPv6
has no header checksum, so `badipsum` is IPv4's alone.

    python -m lab.clients.fakes tcp HOST [--port 443] [--fake badsum|badipsum] [--payload S]
        [--wait] [--timeout S] [-6]
    python -m lab.clients.fakes udp HOST PORT [--payload HEX] [-6]

`tcp` connects, sends the fake and prints `fake FRAME-HEX`; with --wait it then waits for a
line on standard input (a test's cue that the fake has arrived); then it prints
`server acks N`, N counted from the client's first byte as tcpdump counts (1: nothing taken).
`udp` sends one datagram with a wrong UDP checksum and prints `fake FRAME-HEX`.
Run as root in a lab host. lab.clients.tls_hello --fake sends a fake before its ClientHello.
"""
from __future__ import annotations

import argparse
import select
import socket
import struct
import sys
import time

from controllers import packets6
from controllers.openflow.offload import pseudo_sum
from controllers.packets import (ACK, ETH_IPV4, ETH_IPV6, PSH, SYN, TCP, build_tcp, build_udp,
                                 mac_bytes, parse_frame)
from lab.clients.probe import ProbeError, resolve, socket_family
from lab.scenario.addressing import host_ip, mac_for

FAKES = ("badsum", "badipsum")
# linux/tcp.h: repair mode, its queue selector, and leaving it without a window probe
TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, TCP_REPAIR_OFF_NO_WP = 19, 20, 2, -1
PAYLOAD = b"FAKE-DATA!"         # 10 bytes, as in the report of issue 23 (seq 1:11)


def interface() -> str:
    """The host's one lab interface (every lab host has exactly one besides lo)."""
    names = [name for _i, name in socket.if_nameindex() if name != "lo"]
    if len(names) != 1:
        raise OSError(f"expected one network interface besides lo, found {names}")
    return names[0]


def ethertype(address: str) -> int:
    """The EtherType of frames to and from `address` (either family)."""
    return ETH_IPV6 if ":" in address else ETH_IPV4


def spoil(frame: bytes, kind: str) -> bytes:
    """`frame` (correct checksums) with a wrong TCP/UDP checksum (badsum) or a wrong IP
    header checksum (badipsum, IPv4 only: IPv6 has none). The wrong value is never the
    pseudo-header sum, which would read as a partial checksum (controllers.openflow.offload,
    offload6). An IPv6 frame is one the builders made: no extension headers."""
    out = bytearray(frame)
    if frame[12:14] == ETH_IPV6.to_bytes(2, "big"):
        if kind == "badipsum":
            raise ValueError("badipsum: IPv6 has no header checksum (an IPv4 fake only)")
        proto, length = frame[20], struct.unpack_from("!H", frame, 18)[0]
        at = 54 + (16 if proto == TCP else 6)
        avoid = packets6.pseudo_sum(frame[14:54], proto, length)
        return _spoiled(out, at, avoid)
    ihl = (frame[14] & 0x0F) * 4
    if kind == "badipsum":
        at = 24
        avoid = -1
    else:
        at = 14 + ihl + (16 if frame[23] == TCP else 6)
        total = struct.unpack_from("!H", frame, 16)[0]
        avoid = pseudo_sum(frame[14:14 + ihl], frame[23], total - ihl)
    return _spoiled(out, at, avoid)


def _spoiled(out: bytearray, at: int, avoid: int) -> bytes:
    """`out` with the checksum at `at` made wrong, and neither `avoid` nor 0."""
    value = struct.unpack_from("!H", out, at)[0]
    wrong = (value + 0x1111) & 0xFFFF
    if wrong in (avoid, 0):
        wrong = (wrong + 0x1111) & 0xFFFF
    struct.pack_into("!H", out, at, wrong)
    return bytes(out)


class Connection:
    """A kernel TCP connection to `ip` (an address of either family), with a packet socket
    beside it that saw its handshake."""

    def __init__(self, ip: str, port: int, timeout: float) -> None:
        self.timeout = timeout
        kind = ethertype(ip)
        self.raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(kind))
        self.raw.bind((interface(), kind))
        try:
            self.sock = socket.create_connection((ip, port), timeout=timeout)
        except BaseException:
            self.raw.close()
            raise
        self.src, self.sport = self.sock.getsockname()[:2]
        self.dst, self.dport = self.sock.getpeername()[:2]
        synack = self._receive(lambda p: p.flags & (SYN | ACK) == SYN | ACK)
        self.isn, self.irs = synack.ack - 1, synack.seq
        self.synack_ttl = synack.ttl        # (IPv6: hop limit) how far the server is (desync)
        self.mac, self.peer_mac = synack.eth_dst, synack.eth_src

    def _receive(self, want):
        """The next segment of this connection from the server that `want` accepts."""
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.raw], [], [], left)[0]:
                raise TimeoutError("no answer from the server")
            frame, addr = self.raw.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            try:
                p = parse_frame(frame)
            except ValueError:
                continue
            if (p is not None and p.proto == TCP and p.src == self.dst and p.sport == self.dport
                    and p.dport == self.sport and want(p)):
                return p

    def segment(self, seq: int, flags: int, payload: bytes = b"", ack: int = 1) -> bytes:
        """A segment of this connection (seq counted from the client's first byte, 1; ack
        from the server's, 1: nothing received yet)."""
        return build_tcp(self.mac, self.peer_mac, self.src, self.dst, self.sport, self.dport,
                         (self.isn + seq) % 2 ** 32, (self.irs + ack) % 2 ** 32, flags,
                         payload)

    def queue_as_sent(self, data: bytes) -> None:
        """Hand `data` to the kernel as already sent and not yet acknowledged, without a
        packet on the wire (TCP_REPAIR's send queue, as CRIU restores one): the caller
        sends it in its own shape (lab.clients.desync), the server's ACK then covers it,
        and should every copy be lost the kernel retransmits it whole after its RTO."""
        self.sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE)
            self.sock.sendall(data)
        finally:
            self.sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF_NO_WP)

    def send_fake(self, kind: str, payload: bytes = PAYLOAD) -> bytes:
        """Send a fake data segment at the start of the stream; the frame sent."""
        frame = spoil(self.segment(1, PSH | ACK, payload), kind)
        self.raw.send(frame)
        return frame

    def server_ack(self) -> int:
        """Where the server's stream from us stands: it answers an ACK below its window
        with a duplicate ACK (RFC 793, 9293 3.10.7.4). Counted as tcpdump counts (1: no
        data taken)."""
        self.raw.send(self.segment(0, ACK))
        reply = self._receive(lambda p: p.flags & ACK and not p.flags & SYN)
        return (reply.ack - self.isn) % 2 ** 32

    def close(self) -> None:
        self.sock.close()
        self.raw.close()


def send_udp_fake(dst: str, port: int, payload: bytes) -> bytes:
    """A datagram to dst:port (an address of either family) with a wrong UDP checksum, from
    an unused source port, to the MAC the lab's addressing plan gives dst's host."""
    probe = socket.socket(socket_family(dst), socket.SOCK_DGRAM)
    probe.connect((dst, port))                  # the route's source address and a free port
    src, sport = probe.getsockname()[:2]
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((interface(), 0))
    try:
        frame = spoil(build_udp(raw.getsockname()[4], mac_bytes(mac_for(host_ip(dst))), src,
                                dst, sport, port, payload), "badsum")
        raw.send(frame)
    finally:
        raw.close()
        probe.close()
    return frame


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="fakes", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="kind", required=True)
    t = sub.add_parser("tcp", help="a fake segment in a live TCP connection")
    t.add_argument("host")
    t.add_argument("--port", type=int, default=443)
    t.add_argument("--fake", choices=FAKES, default="badsum")
    t.add_argument("--payload", default=PAYLOAD.decode())
    t.add_argument("--wait", action="store_true", help="wait for a line on stdin, then probe")
    t.add_argument("--timeout", type=float, default=5.0)
    u = sub.add_parser("udp", help="one datagram with a wrong UDP checksum")
    u.add_argument("host")
    u.add_argument("port", type=int)
    u.add_argument("--payload", default=PAYLOAD.hex(), help="the payload, in hex")
    for each in (t, u):
        each.add_argument("-6", dest="ipv6", action="store_true",
                          help="over IPv6 (HOST's AAAA record)")
    a = p.parse_args(argv)
    if a.kind == "tcp" and a.ipv6 and a.fake == "badipsum":
        p.error("-6: IPv6 has no header checksum to spoil (badipsum is an IPv4 fake)")
    try:
        ip = resolve(a.host, socket.AF_INET6 if a.ipv6 else socket.AF_INET)
        if a.kind == "udp":
            print("fake", send_udp_fake(ip, a.port, bytes.fromhex(a.payload)).hex(),
                  flush=True)
            return 0
        conn = Connection(ip, a.port, a.timeout)
        try:
            print("fake", conn.send_fake(a.fake, a.payload.encode()).hex(), flush=True)
            if a.wait:
                sys.stdin.readline()
            print("server acks", conn.server_ack(), flush=True)
        finally:
            conn.close()
    except (OSError, TimeoutError, ProbeError) as e:
        print(f"fakes: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
