"""Property tests (hypothesis) for the engine's packet_in on random sessions of real-looking
frames, and for its memory bounds: the flow table's cap (LRU eviction), the packets held per
flow, the reassembly buffer and its out-of-order segments, the QUIC CRYPTO buffer, and the
frames sent back out (offload.for_the_wire)."""
from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "engine"))

from controllers import packets as P  # noqa: E402
from controllers.dpi import quic  # noqa: E402
from controllers.engine.effects import Output  # noqa: E402
from controllers.engine.engine import HELD_CAP, UNDECIDED_CAP, Engine  # noqa: E402
from controllers.engine.flows import PENDING_CAP, SEQ_MOD, FlowTable, Reassembler  # noqa: E402
from controllers.openflow.offload import MTU, for_the_wire  # noqa: E402
from engine_helpers import (ALICE, BOB, DNSSRV, ISP, WEB, TcpClient, client_hello,  # noqa: E402
                            dns_query, policy, rule)

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HOSTS = [ALICE, BOB, ISP, WEB, DNSSRV]
RULES = [rule("d", {"dns": ["*.example"]}, "nxdomain"),
         rule("s", {"sni": ["*.example"]}, "reset", residual=30),
         rule("q", {"quic_sni": ["*.example"]}, "drop"),
         rule("h", {"host": ["*.example"]}, "blockpage"),
         rule("e", {"tls_ext": [0xffce]}, "drop"),
         rule("p", {"protocol": ["stun", "wireguard", "fully-encrypted"]}, "drop"),
         rule("c", {"port": [[8443, 8443]]}, {"type": "cut_after", "bytes": 100}),
         rule("t", {"proto": ["udp"], "not": {"protocol": ["dns", "quic"]}},
              {"type": "throttle", "rate_bps": 64000}, probability=0.5)]
SAMPLES = [b"", client_hello("a.example"), client_hello("ok.org"), dns_query("x.example"),
           b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", bytes(148), b"\x01\x00\x00\x00" * 40]

payloads = st.one_of(st.binary(max_size=600), st.sampled_from(SAMPLES),
                     st.tuples(st.sampled_from(SAMPLES), st.integers(0, 600),
                               st.binary(max_size=8)).map(lambda t: t[0][:t[1]] + t[2]))
frames = st.one_of(
    st.binary(max_size=120),
    st.builds(lambda a, b, sp, dp, seq, flags, data: P.build_tcp(
        P.mac_bytes(a["mac"]), P.mac_bytes(b["mac"]), a["ip"], b["ip"], sp, dp, seq, 1, flags,
        data), st.sampled_from(HOSTS), st.sampled_from(HOSTS), st.sampled_from([40000, 40001]),
        st.sampled_from([443, 80, 53, 8443]), st.integers(0, 3000), st.integers(0, 0x3F),
        payloads),
    st.builds(lambda a, b, sp, dp, data: P.build_udp(
        P.mac_bytes(a["mac"]), P.mac_bytes(b["mac"]), a["ip"], b["ip"], sp, dp, data),
        st.sampled_from(HOSTS), st.sampled_from(HOSTS), st.integers(1, 65535),
        st.sampled_from([53, 443, 3478, 51820, 9999]), payloads))
sessions = st.lists(st.tuples(frames, st.integers(1, 6), st.floats(0, 3), st.booleans()),
                    min_size=1, max_size=30)


@SETTINGS
@given(sessions, st.sampled_from(["inline", "tap"]), st.booleans(), st.sampled_from([1, 8]))
def test_random_sessions_never_raise_and_stay_bounded(session, mode, reassembly, inspect):
    e = Engine(policy(*RULES, mode=mode, reassembly=reassembly, inspect_packets=inspect))
    e.flows.cap = 8
    e.base_effects()
    now = 0.0
    for frame, port, dt, tick in session:
        now += dt
        for effect in e.packet_in(frame, port, now):
            if isinstance(effect, Output):
                assert isinstance(effect.frame, bytes)
        if tick:
            e.tick(now)
        assert len(e.flows) <= 8
        for flow in e.flows:
            assert len(flow.held) <= HELD_CAP and flow.packets <= UNDECIDED_CAP
            if flow.stream is not None:
                assert len(flow.stream.buf) <= flow.stream.cap
                assert len(flow.stream.pending) <= PENDING_CAP
    e.tick(now + 10)
    assert not e.held_flows
    stats = e.stats()
    assert stats["internal_errors"] == 0 and stats["parser_errors"] == 0, stats


PROFILES = ["naive", "hardened", {"overlap": "last", "state": "syn", "resync": True,
                                   "teardown": ["client_rst", "fin"], "inspect_bytes": 100,
                                   "sequence": True}]


def _spoiled(frame: bytes, at: int) -> bytes:
    """`frame` with one byte of its IP or TCP/UDP header flipped (a wrong checksum)."""
    if len(frame) < 54:
        return frame
    at = 24 + at % 30
    return frame[:at] + bytes([frame[at] ^ 0x5A]) + frame[at + 1:]


@SETTINGS
@given(sessions, st.sampled_from(PROFILES), st.sampled_from(["inline", "tap"]),
       st.lists(st.integers(0, 1000), max_size=30))
def test_dpi_profiles_on_random_sessions_never_raise_and_stay_bounded(session, dpi, mode,
                                                                      spoil):
    e = Engine({**policy(*RULES, mode=mode), "dpi": dpi})
    e.flows.cap = 8
    e.base_effects()
    now = 0.0
    for i, (frame, port, dt, tick) in enumerate(session):
        now += dt
        if i < len(spoil) and spoil[i] % 3 == 0:
            frame = _spoiled(frame, spoil[i])
        for effect in e.packet_in(frame, port, now) + e.packet_in(frame, 4, now, copy=True):
            if isinstance(effect, Output):
                assert isinstance(effect.frame, bytes)
        if tick:
            e.tick(now)
        assert len(e.flows) <= 8
        for flow in e.flows:
            assert len(flow.held) <= HELD_CAP and flow.packets <= UNDECIDED_CAP
            if flow.tcb is not None:
                assert len(flow.tcb.read) <= 8 and len(flow.tcb.spans) <= 64
    e.tick(now + 10)
    assert not e.held_flows
    stats = e.stats()
    assert stats["internal_errors"] == 0 and stats["parser_errors"] == 0, stats


def test_flood_of_new_flows_is_evicted_least_recent_first():
    e = Engine(policy(rule("p", {"protocol": ["wireguard"]}, "drop")))
    e.flows.cap = 100
    for i in range(1000):
        e.packet_in(P.build_udp(P.mac_bytes(ALICE["mac"]), P.mac_bytes(WEB["mac"]), ALICE["ip"],
                                WEB["ip"], 1024 + i, 9999, b"junk%d" % i), 1, i / 1000)
    assert len(e.flows) == 100 and e.stats()["flows_evicted"] == 900
    assert {f.c_port for f in e.flows} == set(range(1924, 2024))


def test_a_held_flow_is_decided_before_its_hold_grows_past_the_cap():
    e = Engine(policy(rule("s", {"sni": ["a.example"]}, "drop")))
    c = TcpClient()
    e.packet_in(c.syn(), 1, 0.0)
    hello = client_hello("a.example")
    for i in range(3 * HELD_CAP):           # one byte at a time: never a whole ClientHello
        e.packet_in(c.data(hello[i:i + 1], i), 1, 0.0)
        flow = next(iter(e.flows))
        assert len(flow.held) <= HELD_CAP
    assert flow.verdict and not e.held_flows


@settings(max_examples=300, deadline=None)
@given(st.integers(0, SEQ_MOD - 1), st.lists(st.tuples(st.integers(-5000, 70000),
                                                       st.binary(max_size=3000)), max_size=80))
def test_reassembly_buffer_and_pending_segments_are_capped(isn, segments):
    r = Reassembler(isn, cap=4096)
    for offset, data in segments:
        r.add((isn + offset) % SEQ_MOD, data)
        assert len(r.buf) <= 4096 and len(r.pending) <= PENDING_CAP
        assert all(off < 4096 and off + len(d) <= 4096 for off, d in r.pending.items())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-10, 200000), st.binary(max_size=5000)), max_size=40))
def test_quic_crypto_buffer_is_capped(frames):
    a = quic.CryptoAssembler()
    a.add(frames)
    assert len(a._buf) <= quic.MAX_CRYPTO and a.contiguous <= quic.MAX_CRYPTO
    assert a.client_hello().status in ("ok", "incomplete", "invalid")


def test_flow_table_cap_holds_under_any_order():
    t = FlowTable(cap=3)
    from controllers.engine.flows import Flow
    evicted = []
    for i in range(10):
        evicted += t.add(Flow((6, "198.18.0.10", i, "198.19.0.10", 443), 1, 2, 0.0))
        t.find(6, "198.18.0.10", 0, "198.19.0.10", 443)        # keep flow 0 recent
    assert len(t) == 3 and len(evicted) == 7
    assert (6, "198.18.0.10", 0, "198.19.0.10", 443) in {f.key for f in t}


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.builds(
    lambda data, flags, mss_cut: P.build_tcp(b"\x02" * 6, b"\x04" * 6, ALICE["ip"], WEB["ip"],
                                             1, 2, 3, 4, flags, data)[:mss_cut],
    st.binary(max_size=5000), st.integers(0, 0x3F), st.integers(14, 6000))))
def test_for_the_wire_never_raises_and_cuts_to_the_mtu(frame):
    out = for_the_wire(frame)
    assert out and all(isinstance(f, bytes) for f in out)
    if len(out) > 1:
        assert all(len(f) <= MTU + 14 for f in out)
