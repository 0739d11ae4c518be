"""controllers.dpi.quic: RFC 9001 / 9369 vectors, aioquic Initials, CRYPTO reassembly."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controllers.dpi import quic
from controllers.dpi.result import INCOMPLETE, INVALID, OK, Parsed
from dpi_samples import (RFC9001_CLIENT_INITIAL, RFC9001_CRYPTO_FRAME, RFC9001_DCID,
                         RFC9369_CLIENT_INITIAL, aioquic_datagrams, crypto_frame, long_alpn,
                         post_quantum_hello, protect_initial, varint)

RFC_HELLO = RFC9001_CRYPTO_FRAME[4:]  # the frame: type, offset 0, 2-byte length 0x00f1


def _hello_of(initials) -> Parsed:
    assembler = quic.CryptoAssembler()
    for initial in initials:
        assembler.add(initial.crypto)
    return assembler.client_hello()


# ------------------------------------------------------------ RFC test vectors


def test_builder_matches_rfc9001_vector():
    # The test-side encryptor reproduces RFC 9001 A.2 byte for byte, so packets it builds
    # below are real Initials.
    packet = protect_initial(RFC9001_DCID, RFC9001_CRYPTO_FRAME + bytes(917), packet_number=2)
    assert packet == RFC9001_CLIENT_INITIAL


@pytest.mark.parametrize("datagram,version", [(RFC9001_CLIENT_INITIAL, quic.VERSION_1),
                                              (RFC9369_CLIENT_INITIAL, quic.VERSION_2)])
def test_rfc_client_initial(datagram, version):
    [initial] = quic.parse_initials(datagram)
    assert initial.version == version
    assert initial.dcid == RFC9001_DCID and initial.scid == b""
    assert initial.packet_number == 2
    assert initial.crypto == ((0, RFC_HELLO),)
    hello = _hello_of([initial]).value
    assert hello.sni == "example.com" and hello.alpn == ("alpn",)
    assert hello.supported_versions == (0x0304,) and 0x39 in hello.extensions


@pytest.mark.parametrize("datagram", [RFC9001_CLIENT_INITIAL, RFC9369_CLIENT_INITIAL])
def test_looks_like_quic_initial_vectors(datagram):
    assert quic.looks_like_quic_initial(datagram)


def test_any_flipped_byte_fails_to_decrypt():
    rng = random.Random(7)
    for at in [0, 5, 6, 17, 18, 19, 30, 600, 1199] + rng.sample(range(1200), 20):
        data = bytearray(RFC9001_CLIENT_INITIAL)
        data[at] ^= 0x01 << rng.randrange(8)
        assert quic.parse_initials(bytes(data)) == [], at


def test_truncated_vector_yields_nothing():
    for n in (0, 1, 6, 7, 20, 40, 600, 1199):
        assert quic.parse_initials(RFC9001_CLIENT_INITIAL[:n]) == []


@pytest.mark.parametrize("data", [
    pytest.param(b"\x40" + RFC9001_CLIENT_INITIAL[1:], id="short-header"),
    pytest.param(b"\x80" + RFC9001_CLIENT_INITIAL[1:], id="fixed-bit-clear"),
    pytest.param(b"\xe0" + RFC9001_CLIENT_INITIAL[1:], id="handshake-type"),
    pytest.param(RFC9001_CLIENT_INITIAL[:1] + b"\xff\x00\x00\x1d" + RFC9001_CLIENT_INITIAL[5:],
                 id="draft-29-version"),
    pytest.param(RFC9001_CLIENT_INITIAL[:1] + bytes(4) + RFC9001_CLIENT_INITIAL[5:],
                 id="version-negotiation"),
    pytest.param(RFC9001_CLIENT_INITIAL[:5] + b"\x15" + RFC9001_CLIENT_INITIAL[6:],
                 id="dcid-over-20"),
    pytest.param(RFC9001_CLIENT_INITIAL[:6], id="truncated"),
    pytest.param(b"", id="empty"),
])
def test_looks_like_quic_initial_negatives(data):
    assert not quic.looks_like_quic_initial(data)


# ------------------------------------------------------------ coalesced packets


def _fake_long_packet(packet_type: int, body: bytes = bytes(40)) -> bytes:
    """A v1 long-header packet of the given type (not decrypted by the parser, only walked)."""
    return (bytes((0xC0 | packet_type << 4,)) + b"\x00\x00\x00\x01" + b"\x04abcd\x00"
            + varint(len(body)) + body)


def test_coalesced_initials_and_other_packets():
    dcid = bytes(range(8))
    first = protect_initial(dcid, crypto_frame(0, RFC_HELLO[:100]) + bytes(30), 0)
    second = protect_initial(dcid, crypto_frame(100, RFC_HELLO[100:]) + bytes(30), 1)
    datagram = (first + _fake_long_packet(2) + second + _fake_long_packet(1)
                + b"\x41" + bytes(30))  # Handshake, 0-RTT, then a short header ends the walk
    initials = quic.parse_initials(datagram)
    assert [i.packet_number for i in initials] == [0, 1]
    assert _hello_of(initials).value.sni == "example.com"


def test_walk_stops_at_retry_and_skips_undecryptable():
    dcid = b"\x11" * 8
    good = protect_initial(dcid, crypto_frame(0, RFC_HELLO) + bytes(20), 3)
    bad = bytearray(good)
    bad[-1] ^= 1
    retry = b"\xf0\x00\x00\x00\x01" + b"\x00\x00" + bytes(30)
    assert [i.packet_number for i in quic.parse_initials(bytes(bad) + good)] == [3]
    assert quic.parse_initials(retry + good) == []


def test_frames_chrome_style():
    # Chrome scatters CRYPTO frames, PINGs and PADDING through the packet, out of order.
    pieces = [RFC_HELLO[i:i + 37] for i in range(0, len(RFC_HELLO), 37)]
    offsets = list(range(0, len(RFC_HELLO), 37))
    order = [3, 0, 5, 1, 6, 2, 4]
    payload = b""
    for index in order:
        payload += crypto_frame(offsets[index], pieces[index]) + b"\x01" + bytes(index)
    payload += b"\x02" + varint(0) + varint(0) + varint(1) + varint(0) + varint(0) + varint(0)
    payload += b"\x03" + varint(0) + varint(0) + varint(0) + varint(0) + varint(1) * 3
    payload += b"\x1c" + varint(0) + varint(6) + varint(2) + b"ok" + bytes(200)
    [initial] = quic.parse_initials(protect_initial(b"\x22" * 8, payload, 9, scid=b"\x01\x02"))
    assert [offset for offset, _ in initial.crypto] == [offsets[i] for i in order]
    assert initial.scid == b"\x01\x02"
    assert _hello_of([initial]).value.sni == "example.com"


def test_unknown_frame_stops_frame_reading_but_keeps_earlier_crypto():
    payload = crypto_frame(0, RFC_HELLO[:50]) + b"\x08" + crypto_frame(50, RFC_HELLO[50:])
    [initial] = quic.parse_initials(protect_initial(b"\x33" * 8, payload + bytes(40)))
    assert initial.crypto == ((0, RFC_HELLO[:50]),)


def test_token_and_one_byte_packet_number():
    payload = crypto_frame(0, RFC_HELLO) + bytes(40)
    [initial] = quic.parse_initials(protect_initial(b"\x44" * 8, payload, 7, token=b"t" * 70,
                                                    pn_len=1))
    assert initial.packet_number == 7


# ------------------------------------------------------------ aioquic


def test_aioquic_initial():
    datagrams = aioquic_datagrams("www.Example.org", ("h3",))
    assert len(datagrams) == 1 and len(datagrams[0]) >= 1200
    assert quic.looks_like_quic_initial(datagrams[0])
    hello = _hello_of(quic.parse_initials(datagrams[0])).value
    assert hello.sni == "www.example.org" and hello.alpn == ("h3",)


def test_aioquic_version_2_initial():
    [datagram] = aioquic_datagrams("v2.example", ("h3",), version="2")
    [initial] = quic.parse_initials(datagram)
    assert initial.version == quic.VERSION_2
    assert _hello_of([initial]).value.sni == "v2.example"


def test_aioquic_post_quantum_sized_hello_spans_two_datagrams():
    # A ~1.8 KB ClientHello (the size of an X25519MLKEM768 one) does not fit one Initial.
    datagrams = aioquic_datagrams("pq.example", long_alpn(1400))
    assert len(datagrams) == 2
    initials = [quic.parse_initials(d) for d in datagrams]
    assert all(len(i) == 1 for i in initials)
    assembler = quic.CryptoAssembler()
    assembler.add(initials[1][0].crypto)  # the second datagram arrives first
    assert assembler.client_hello().status == INCOMPLETE
    assembler.add(initials[0][0].crypto)
    hello = assembler.client_hello().value
    assert hello.sni == "pq.example" and 1700 < assembler.contiguous < 2000


def test_aioquic_initials_coalesced_into_one_datagram():
    datagrams = aioquic_datagrams("coalesced.example", long_alpn(1400))
    initials = quic.parse_initials(b"".join(datagrams))
    assert [i.packet_number for i in initials] == [0, 1]
    assert _hello_of(initials).value.sni == "coalesced.example"


# ------------------------------------------------------------ CryptoAssembler

PQ = post_quantum_hello(b"quic-pq.example")


def test_assembler_out_of_order_overlapping_duplicated():
    rng = random.Random(3)
    frames = []
    pos = 0
    while pos < len(PQ):
        size = rng.randrange(1, 200)
        start = max(0, pos - rng.randrange(0, 20))  # overlaps the previous frame
        frames.append((start, PQ[start:pos + size]))
        pos += size
    frames += frames[:5]
    rng.shuffle(frames)
    assembler = quic.CryptoAssembler()
    for frame in frames[:-1]:
        assembler.add([frame])
    assembler.add(frames[-1:])
    assert assembler.client_hello().value.sni == "quic-pq.example"


def test_assembler_gap_is_incomplete():
    assembler = quic.CryptoAssembler()
    assert assembler.client_hello().status == INCOMPLETE
    assembler.add([(1000, PQ[1000:])])
    assert assembler.contiguous == 0 and assembler.client_hello().status == INCOMPLETE
    assembler.add([(0, PQ[:999])])
    assert assembler.contiguous == 999 and assembler.client_hello().status == INCOMPLETE
    assembler.add([(999, PQ[999:1000])])
    assert assembler.contiguous == len(PQ) and assembler.client_hello().status == OK


def test_assembler_grows_after_being_asked():
    assembler = quic.CryptoAssembler()
    assembler.add([(0, PQ[:10])])
    assert assembler.client_hello().status == INCOMPLETE
    assembler.add([(10, PQ[10:])])  # the buffer grows: no view of it may still be held
    assert assembler.client_hello().status == OK


def test_assembler_rejects_garbage_and_bounds_memory():
    assembler = quic.CryptoAssembler()
    assembler.add([(0, b"\x02\x00\x00\x10")])
    assert assembler.client_hello().status == INVALID
    assembler = quic.CryptoAssembler()
    assembler.add([(10_000_000, b"x" * 100), (-5, b"abc"), (0, b"")])
    assert assembler.contiguous == 0
    huge = quic.CryptoAssembler()
    huge.add([(0, b"\x01\x00\xff\xff"), (4, bytes(quic.MAX_CRYPTO + 100))])
    assert huge.contiguous == quic.MAX_CRYPTO
    assert huge.client_hello().status == INVALID


# ------------------------------------------------------------ properties


@settings(max_examples=300)
@given(st.binary(max_size=1400))
def test_parse_initials_never_raises(data):
    assert isinstance(quic.parse_initials(data), list)
    assert isinstance(quic.looks_like_quic_initial(data), bool)


@settings(max_examples=300)
@given(st.binary(max_size=60), st.integers(0, 1199))
def test_parse_initials_never_raises_on_spliced_vectors(patch, at):
    data = RFC9001_CLIENT_INITIAL[:at] + patch + RFC9001_CLIENT_INITIAL[at + len(patch):]
    assert isinstance(quic.parse_initials(data), list)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_decrypted_garbage_frames_never_raise(payload):
    initials = quic.parse_initials(protect_initial(b"\x55" * 8, payload + bytes(20)))
    assert len(initials) == 1


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(-10, 70_000), st.binary(max_size=300)), max_size=10))
def test_assembler_never_raises(frames):
    assembler = quic.CryptoAssembler()
    assembler.add(frames)
    assert assembler.client_hello().status in (OK, INCOMPLETE, INVALID)
