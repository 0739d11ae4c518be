"""Real frames and a small policy for driving the engine in tests."""
from __future__ import annotations

import functools
import ssl
import struct

import dns.message
import dns.rrset
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as ofp_parser

from controllers import packets as P
from controllers.engine.effects import Event, InstallFlow, Output

ALICE = {"ip": "198.18.0.10", "mac": "02:00:c6:12:00:0a", "port": 1, "side": "client"}
BOB = {"ip": "198.18.0.11", "mac": "02:00:c6:12:00:0b", "port": 2, "side": "client"}
ISP = {"ip": "198.18.0.2", "mac": "02:00:c6:12:00:02", "port": 3, "side": "client"}
WEB = {"ip": "198.19.0.10", "mac": "02:00:c6:13:00:0a", "port": 4, "side": "internet",
       "domains": ["facetime.apple.com"]}
DNSSRV = {"ip": "198.19.0.53", "mac": "02:00:c6:13:00:35", "port": 5, "side": "internet"}
HOSTS = {"alice": ALICE, "bob": BOB, "isp": ISP, "web": WEB, "dns": DNSSRV}


def rule(rid, match, action, **extra):
    if isinstance(action, str):
        action = {"type": action}
    r = {"id": rid, "enabled": True, "match": match, "action": action, "residual": None,
         "probability": None, "per": "flow"}
    r.update(extra)
    return r


def policy(*rules, mode="inline", reassembly=True, inspect_packets=8, seed=1):
    return {"mode": mode, "reassembly": reassembly, "inspect_packets": inspect_packets,
            "fail_mode": "secure", "seed": seed, "hosts": HOSTS, "rules": list(rules)}


@functools.lru_cache(maxsize=None)
def _context(alpn: tuple) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def client_hello(sni: str | None, alpn=("h2", "http/1.1")) -> bytes:
    """The ClientHello record(s) Python's ssl module sends for `sni`."""
    ctx = _context(tuple(alpn or ()))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def dns_query(name: str, qtype: str = "A", ident: int = 0x1234) -> bytes:
    msg = dns.message.make_query(name, qtype)
    msg.id = ident
    return msg.to_wire()


def mac(host):
    return P.mac_bytes(host["mac"])


class TcpClient:
    """One TCP connection from `client` to `server`, frames as the client would send them."""

    def __init__(self, client=ALICE, server=WEB, sport=40000, dport=443, isn=1000,
                 server_isn=5000):
        self.c, self.s = client, server
        self.sport, self.dport = sport, dport
        self.seq = isn
        self.ack = server_isn + 1
        self.server_isn = server_isn

    def syn(self) -> bytes:
        return P.build_tcp(mac(self.c), mac(self.s), self.c["ip"], self.s["ip"], self.sport,
                           self.dport, self.seq, 0, P.SYN)

    def synack(self) -> bytes:
        return P.build_tcp(mac(self.s), mac(self.c), self.s["ip"], self.c["ip"], self.dport,
                           self.sport, self.server_isn, self.seq + 1, P.SYN | P.ACK)

    def ack_(self) -> bytes:
        return P.build_tcp(mac(self.c), mac(self.s), self.c["ip"], self.s["ip"], self.sport,
                           self.dport, self.seq + 1, self.ack, P.ACK)

    def data(self, payload: bytes, offset: int = 0, flags=P.PSH | P.ACK) -> bytes:
        """A segment carrying payload starting `offset` bytes into the client's stream."""
        return P.build_tcp(mac(self.c), mac(self.s), self.c["ip"], self.s["ip"], self.sport,
                           self.dport, self.seq + 1 + offset, self.ack, flags, payload)

    def server_data(self, payload: bytes, offset: int = 0) -> bytes:
        return P.build_tcp(mac(self.s), mac(self.c), self.s["ip"], self.c["ip"], self.dport,
                           self.sport, self.server_isn + 1 + offset, self.seq + 1, P.PSH | P.ACK,
                           payload)

    def segments(self, payload: bytes, parts: int) -> list[bytes]:
        size = -(-len(payload) // parts)
        return [self.data(payload[i:i + size], i) for i in range(0, len(payload), size)]


def udp(client, server, sport, dport, payload) -> bytes:
    return P.build_udp(mac(client), mac(server), client["ip"], server["ip"], sport, dport,
                       payload)


def packet_in_message(frame: bytes, in_port: int) -> bytes:
    """The OpenFlow 1.3 packet-in OVS sends for `frame` from `in_port` (no buffer, cookie 0),
    in wire form: what the switch connection's reader (controllers.openflow.link) reads."""
    match, buf = ofp_parser.OFPMatch(in_port=in_port), bytearray()
    match.serialize(buf, 0)
    body = struct.pack("!IHBBQ", 0xFFFFFFFF, len(frame), 1, 0, 0) + bytes(buf) + b"\0\0" + frame
    return struct.pack("!BBHI", 4, ofp.OFPT_PACKET_IN, 8 + len(body), 7) + body


def events(effects):
    return [e.record for e in effects if isinstance(e, Event)]


def installs(effects):
    return [e.spec for e in effects if isinstance(e, InstallFlow)]


def outputs(effects):
    return [e for e in effects if isinstance(e, Output)]


def parsed_outputs(effects):
    return [(P.parse_frame(o.frame), o) for o in outputs(effects)]


def verify_checksums(frame: bytes) -> bool:
    """IPv4 header and TCP/UDP/ICMP checksums of a frame are all right."""
    ihl = (frame[14] & 0x0F) * 4
    ip = frame[14:14 + struct.unpack("!H", frame[16:18])[0]]
    if P.checksum(ip[:ihl]) != 0:
        return False
    proto, src, dst = ip[9], ip[12:16], ip[16:20]
    seg = ip[ihl:]
    if proto in (P.TCP, P.UDP):
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
        return P.checksum(pseudo + seg) == 0
    if proto == P.ICMP:
        return P.checksum(seg) == 0
    return True


