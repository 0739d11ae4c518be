"""Bad input on the wire never raises; fragments; QUIC Initials; STUN fingerprints."""
import os
import struct

from hypothesis import given, settings, strategies as st

from controllers import packets as P
from controllers.engine.effects import NORMAL, Output
from controllers.engine.engine import Engine
from engine_helpers import (ALICE, WEB, TcpClient, client_hello, dns_query, events, installs,
                            outputs, policy, rule, udp)

BUSY = policy(rule("d", {"dns": ["*.example"]}, "nxdomain"),
              rule("s", {"sni": ["*.example"]}, "reset"),
              rule("q", {"quic_sni": ["*.example"]}, "drop"),
              rule("h", {"host": ["*.example"]}, "blockpage"),
              rule("p", {"protocol": ["stun", "wireguard"]}, "drop"),
              rule("i", {"ip": ["198.19.0.0/24"], "proto": ["icmp"]}, "reject"),
              rule("f", {"proto": ["tcp"], "not": {"protocol": ["tls", "http"]}},
                   {"type": "throttle", "rate_bps": 64000}),
              mode="inline")

SAMPLES = [TcpClient().syn(), TcpClient().data(client_hello("a.example")),
           udp(ALICE, WEB, 5000, 53, dns_query("a.example")),
           TcpClient(dport=80).data(b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n")]


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200), st.integers(1, 6))
def test_random_frames_never_raise(data, port):
    e = Engine(BUSY)
    for frame in (data, b"\x02" * 12 + b"\x08\x00" + data):
        eff = e.packet_in(frame, port, 0.0)
        assert isinstance(eff, list)
    e.tick(5.0)
    assert e.stats()["internal_errors"] == 0 and e.stats()["parser_errors"] == 0


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SAMPLES), st.integers(0, 400), st.lists(st.tuples(
    st.integers(14, 400), st.integers(0, 255)), max_size=6), st.booleans())
def test_mutated_frames_never_raise(sample, cut, flips, tap):
    e = Engine(dict(BUSY, mode="tap") if tap else BUSY)
    frame = bytearray(sample[:max(cut, 14)])
    for pos, value in flips:
        if pos < len(frame):
            frame[pos] = value
    e.packet_in(bytes(frame), 1, 0.0)
    e.packet_in(bytes(frame), 1, 0.1)
    e.tick(3.0)
    assert e.stats()["internal_errors"] == 0


def test_non_ip_is_forwarded_and_truncated_ip_ignored():
    e = Engine(BUSY)
    arp = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + bytes(28)
    assert e.packet_in(arp, 1, 0.0) == [Output(arp, 1)]
    assert e.packet_in(SAMPLES[1][:40], 1, 0.0) == []
    assert e.stats()["non_ip"] == 1 and e.stats()["malformed"] == 1


def test_later_fragments_follow_address_rules():
    e = Engine(policy(rule("ip", {"ip": ["198.19.0.10/32"]}, "drop")))
    frag = bytearray(udp(ALICE, WEB, 1, 2, b"z" * 16))
    struct.pack_into("!H", frag, 20, 0x0002)
    assert e.packet_in(bytes(frag), 1, 0.0) == []
    other = Engine(policy(rule("ip", {"ip": ["198.19.0.99/32"]}, "drop")))
    assert other.packet_in(bytes(frag), 1, 0.0) == [Output(bytes(frag), 1)]
    assert e.stats()["fragments"] == 1


def aioquic_datagrams(server_name, alpn=("h3",), add_ext=None):
    from aioquic.quic.configuration import QuicConfiguration
    from lab.clients.quic_probe import connection
    config = QuicConfiguration(is_client=True, alpn_protocols=list(alpn), server_name=server_name)
    conn = connection(config, add_ext)
    conn.connect((WEB["ip"], 443), now=0.0)
    return [d for d, _ in conn.datagrams_to_send(now=0.0)]


def test_quic_initial_sni_drop_and_allow():
    e = Engine(policy(rule("q", {"quic_sni": ["*.example"]}, "drop")))
    [dgram] = aioquic_datagrams("video.example")[:1]
    eff = e.packet_in(udp(ALICE, WEB, 50000, 443, dgram), 1, 0.0)
    assert events(eff) == [{"rule": "q", "technique": "quic_sni", "action": "drop",
                            "flow": {"proto": "udp", "src": ALICE["ip"], "sport": 50000,
                                     "dst": WEB["ip"], "dport": 443},
                            "detail": {"quic_sni": "video.example"}}]
    frame = udp(ALICE, WEB, 50001, 443, aioquic_datagrams("fine.org")[0])
    eff = e.packet_in(frame, 1, 0.0)
    assert outputs(eff) == [Output(frame, 1)] and {s.actions for s in installs(eff)} == {(NORMAL,)}


def test_quic_client_hello_over_two_datagrams_is_held_then_matched():
    alpn = tuple(f"x-{i:03d}-" + "p" * 93 for i in range(14))
    dgrams = aioquic_datagrams("video.example", alpn)
    assert len(dgrams) >= 2
    e = Engine(policy(rule("q", {"quic_sni": ["*.example"]}, "drop")))
    assert e.packet_in(udp(ALICE, WEB, 50002, 443, dgrams[0]), 1, 0.0) == []
    eff = e.packet_in(udp(ALICE, WEB, 50002, 443, dgrams[1]), 1, 0.0)
    assert events(eff)[0]["detail"] == {"quic_sni": "video.example"}
    assert e.stats()["discarded"] == 2


def test_stun_fingerprint_drop_and_wireguard():
    e = Engine(policy(rule("calls", {"protocol": ["stun"]}, "drop")))
    stun = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + os.urandom(12)
    eff = e.packet_in(udp(ALICE, WEB, 40000, 3478, stun), 1, 0.0)
    assert events(eff)[0]["technique"] == "protocol"
    assert "stun" in events(eff)[0]["detail"]["protocol"]
    plain = udp(ALICE, WEB, 40001, 9999, b"hello there")
    assert outputs(e.packet_in(plain, 1, 0.0)) == [Output(plain, 1)]


def test_icmp_reject_answers_echo_with_admin_prohibited():
    e = Engine(BUSY)
    echo = P.build_icmp(P.mac_bytes(ALICE["mac"]), P.mac_bytes(WEB["mac"]), ALICE["ip"],
                        WEB["ip"], 8, 0, 1, b"ping")
    [out] = outputs(e.packet_in(echo, 1, 0.0))
    p = P.parse_frame(out.frame)
    assert (p.icmp_type, p.icmp_code, p.src) == (3, 13, WEB["ip"])


def test_flow_table_is_capped():
    e = Engine(policy(rule("s", {"sni": ["x.example"]}, "drop")))
    e.flows.cap = 50
    for i in range(120):
        e.packet_in(TcpClient(sport=10000 + i).syn(), 1, 0.0)
    assert len(e.flows) == 50 and e.stats()["flows_evicted"] == 70


def test_quic_ext_with_quic_sni_needs_both():
    # Russia, 2024-11 (bbs#417): cloudflare-ech.com AND an ECH extension, over QUIC too
    e = Engine(policy(rule("ech", {"quic_sni": ["cloudflare-ech.com"], "quic_ext": [0xFE0D]},
                           "drop")))
    [both] = aioquic_datagrams("cloudflare-ech.com", add_ext=0xFE0D)[:1]
    eff = e.packet_in(udp(ALICE, WEB, 50010, 443, both), 1, 0.0)
    assert [(r["rule"], r["technique"], r["detail"]) for r in events(eff)] == \
        [("ech", "quic_sni", {"quic_sni": "cloudflare-ech.com"})]
    assert outputs(eff) == []
    for port, name, ext in ((50011, "cloudflare-ech.com", None), (50012, "other.org", 0xFE0D)):
        frame = udp(ALICE, WEB, port, 443, aioquic_datagrams(name, add_ext=ext)[0])
        eff = e.packet_in(frame, 1, 0.0)
        assert events(eff) == [] and outputs(eff) == [Output(frame, 1)], (name, ext)
