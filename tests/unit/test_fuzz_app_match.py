"""The app packs the engine's matches itself (the hot path of a packet-in): byte for byte what
os-ken's OFPMatch gives, for any match the engine makes; other fields fall back to OFPMatch."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from os_ken.ofproto import ofproto_v1_3_parser as parser

from controllers.openflow.wire import packed_match

ips = st.integers(0, 2**32 - 1).map(lambda n: ".".join(str(n >> s & 255) for s in (24, 16, 8, 0)))
ports = st.integers(0, 65535)
matches = st.fixed_dictionaries({}, optional={
    "in_port": st.integers(1, 0xFFFFFF00), "eth_type": st.just(0x0800),
    "ip_proto": st.sampled_from([1, 6, 17]),
    "ipv4_src": st.one_of(ips, st.tuples(ips, st.sampled_from(["255.255.0.0", "255.254.0.0",
                                                               "255.255.255.255"]))),
    "ipv4_dst": st.one_of(ips, st.tuples(ips, ips)),
    "tcp_src": ports, "tcp_dst": st.one_of(ports, st.tuples(ports, ports)),
    "udp_src": ports, "udp_dst": st.one_of(ports, st.tuples(ports, ports))})


def wire(match) -> bytes:
    buf = bytearray()
    n = match.serialize(buf, 0)
    assert n == len(buf) and n % 8 == 0
    return bytes(buf)


@settings(max_examples=300, deadline=None)
@given(matches)
def test_packed_match_is_what_os_ken_sends(match):
    assert wire(packed_match(match)) == wire(parser.OFPMatch(**match))


def test_a_flow_mod_with_a_packed_match_serializes_the_same():
    match = {"in_port": 2, "eth_type": 0x0800, "ip_proto": 6, "ipv4_src": "198.18.0.10",
             "ipv4_dst": "198.19.0.10", "tcp_src": 40000, "tcp_dst": 443}

    def flow_mod(m):
        msg = parser.OFPFlowMod(None, cookie=7, priority=100, idle_timeout=10, match=m)
        msg.version, msg.msg_type, msg.xid = 4, 14, 1
        msg._serialize_header = lambda: None       # the body is what differs
        msg.buf = bytearray(56)
        msg._serialize_body()
        return bytes(msg.buf)
    assert flow_mod(packed_match(match)) == flow_mod(parser.OFPMatch(**match))


def test_other_fields_fall_back():
    assert packed_match({"eth_src": "02:00:00:00:00:01"}) is None
    assert packed_match({"ipv4_src": "not an address"}) is None
