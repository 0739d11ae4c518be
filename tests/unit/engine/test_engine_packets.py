"""controllers.packets: parse what we build, checksums right, garbage never crashes."""
import struct

import pytest
from hypothesis import given, settings, strategies as st

from controllers import packets as P
from engine_helpers import ALICE, WEB, TcpClient, mac, udp, verify_checksums


def test_tcp_roundtrip_and_checksums():
    c = TcpClient()
    frame = c.data(b"hello", 0)
    p = P.parse_frame(frame)
    assert (p.src, p.sport, p.dst, p.dport) == (ALICE["ip"], 40000, WEB["ip"], 443)
    assert p.seq == 1001 and p.ack == 5001 and p.flags == P.PSH | P.ACK
    assert p.payload == b"hello" and p.proto_name == "tcp"
    assert verify_checksums(frame)


def test_udp_roundtrip_and_checksums():
    frame = udp(ALICE, WEB, 5353, 53, b"\x01\x02\x03")
    p = P.parse_frame(frame)
    assert (p.proto, p.sport, p.dport, p.payload) == (P.UDP, 5353, 53, b"\x01\x02\x03")
    assert verify_checksums(frame)


def test_rst_for_syn_is_rst_ack_answering_the_syn():
    syn = P.parse_frame(TcpClient(isn=77).syn())
    rst = P.parse_frame(P.rst_for(syn))
    assert rst.flags == P.RST | P.ACK and rst.seq == 0 and rst.ack == 78
    assert (rst.src, rst.sport, rst.dst, rst.dport) == (syn.dst, syn.dport, syn.src, syn.sport)
    assert rst.eth_src == syn.eth_dst and rst.eth_dst == syn.eth_src


def test_icmp_port_unreachable_quotes_the_datagram():
    frame = udp(ALICE, WEB, 40001, 53, b"q" * 40)
    orig = P.parse_frame(frame)
    icmp = P.icmp_unreachable(orig)
    p = P.parse_frame(icmp)
    assert p.proto == P.ICMP and (p.icmp_type, p.icmp_code) == (3, 3)
    assert p.src == WEB["ip"] and p.dst == ALICE["ip"]
    assert p.payload == orig.ip_packet            # quoted whole (short datagram)
    assert verify_checksums(icmp)


def _rfc1071(data: bytes) -> int:
    """The checksum as RFC 1071 spells it: add the words, fold the carries, complement."""
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@settings(max_examples=2000)
@given(st.one_of(st.binary(max_size=1600),
                 st.lists(st.sampled_from([b"\0\0", b"\xff\xff", b"\x00\x01", b"\xff\xfe"]),
                          max_size=40).map(b"".join)))
def test_checksum_is_rfc_1071s(data: bytes):
    assert P.checksum(data) == _rfc1071(data)


def test_odd_length_checksum_and_ip_options():
    frame = P.build_tcp(mac(ALICE), mac(WEB), ALICE["ip"], WEB["ip"], 1, 2, 3, 4, P.ACK, b"abc")
    assert verify_checksums(frame)
    # an IPv4 header with 4 bytes of options (IHL 6)
    ip = bytearray(frame[14:])
    opts = bytes(ip[:20]) + b"\x01\x01\x01\x00" + bytes(ip[20:])
    hdr = bytearray(opts[:24])
    hdr[0] = 0x46
    struct.pack_into("!H", hdr, 2, len(opts))
    struct.pack_into("!H", hdr, 10, 0)
    struct.pack_into("!H", hdr, 10, P.checksum(bytes(hdr)))
    p = P.parse_frame(frame[:14] + bytes(hdr) + opts[24:])
    assert p.ihl == 24 and p.payload == b"abc" and p.sport == 1


@pytest.mark.parametrize("cut", [0, 10, 14, 20, 33, 40, 50, -1])
def test_truncated_frames_raise_malformed(cut):
    frame = TcpClient().data(b"x" * 20)
    assert P.parse_frame(frame).payload == b"x" * 20          # whole, it parses
    with pytest.raises(P.Malformed):                         # cut anywhere, it is refused
        P.parse_frame(frame[:cut])


def test_non_ip_is_none():
    arp = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + b"\x00" * 28
    assert P.parse_frame(arp) is None


def test_later_fragment_has_no_ports():
    frame = bytearray(udp(ALICE, WEB, 1, 2, b"z" * 16))
    struct.pack_into("!H", frame, 20, 0x0002)       # offset 16 bytes
    p = P.parse_frame(bytes(frame))
    assert p.fragment and p.sport == 0 and p.dport == 0


# IPv4 packets: random bytes, and real TCP/UDP packets with a few bytes changed (which get
# past the first checks far more often than random bytes do)
_REAL = [TcpClient().data(b"hello")[14:], udp(ALICE, WEB, 5353, 53, b"\x01\x02\x03")[14:]]
_IP_BYTES = st.one_of(
    st.binary(max_size=120),
    st.builds(lambda pkt, edits: bytes(_edited(pkt, edits)), st.sampled_from(_REAL),
              st.lists(st.tuples(st.integers(0, 59), st.integers(0, 255)), max_size=3)))


def _edited(pkt: bytes, edits) -> bytearray:
    out = bytearray(pkt)
    for i, b in edits:
        out[i % len(out)] = b
    return out


@settings(max_examples=300, deadline=None)
@given(_IP_BYTES)
def test_random_bytes_give_malformed_or_a_packet_within_the_frame(data):
    frame = TcpClient().data(b"")[:14] + data
    try:
        p = P.parse_frame(frame)
    except P.Malformed:
        return                                    # anything else raised fails the test
    assert p is not None                          # the ethertype says IPv4: never "not IP"
    assert len(data) >= 20 and data[0] >> 4 == 4  # only a whole version-4 header parses
    assert 20 <= p.ihl <= p.ip_len <= len(data)   # the lengths it reports are what arrived
    assert (p.src, p.dst) == (".".join(map(str, data[12:16])), ".".join(map(str, data[16:20])))
    assert p.payload in frame[14 + p.ihl:14 + p.ip_len]   # the payload lies inside the packet
