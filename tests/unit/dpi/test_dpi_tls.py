"""controllers.dpi.tls: ClientHellos from Python's ssl module, split, truncated and broken."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controllers.dpi import tls
from controllers.dpi.result import INCOMPLETE, INVALID, OK
from dpi_samples import (handshake_of, join_extensions, post_quantum_hello, records,
                         sni_extension, split_extensions, ssl_client_hello)

HELLO = ssl_client_hello("Example.COM", ("h2", "http/1.1"))
HANDSHAKE = handshake_of(HELLO)


def test_ssl_module_hello():
    result = tls.parse_client_hello(HELLO)
    assert result.status == OK
    hello = result.value
    assert hello.sni == "example.com"
    assert hello.alpn == ("h2", "http/1.1")
    assert hello.legacy_version == 0x0303
    assert 0x0304 in hello.supported_versions
    assert hello.extensions[0] == tls.EXT_SERVER_NAME
    assert {tls.EXT_ALPN, tls.EXT_SUPPORTED_VERSIONS, tls.EXT_KEY_SHARE} <= set(hello.extensions)


def test_hello_without_sni_or_alpn():
    hello = tls.parse_client_hello(ssl_client_hello(None, ())).value
    assert hello.sni is None and hello.alpn == ()
    assert tls.EXT_SERVER_NAME not in hello.extensions


def test_parse_handshake_bare_message():
    assert tls.parse_handshake(HANDSHAKE).value == tls.parse_client_hello(HELLO).value
    assert tls.parse_handshake(HANDSHAKE + b"trailing").status == OK


def test_every_prefix_is_incomplete():
    for n in range(len(HELLO)):
        assert tls.parse_client_hello(HELLO[:n]).status == INCOMPLETE, n
        assert tls.parse_client_hello(HELLO[:n], join_records=False).status == INCOMPLETE, n
    for n in range(len(HANDSHAKE)):
        assert tls.parse_handshake(HANDSHAKE[:n]).status == INCOMPLETE, n


def test_bytes_after_the_hello_are_ignored():
    assert tls.parse_client_hello(HELLO + b"\x14\x03\x03\x00\x01\x01").status == OK


@pytest.mark.parametrize("split", [1, 2, 3, 4, 5, 40, 100, len(HANDSHAKE) - 1])
def test_hello_split_across_two_records(split):
    stream = records(HANDSHAKE, (split,))
    joined = tls.parse_client_hello(stream)
    assert joined.status == OK and joined.value.sni == "example.com"
    assert tls.parse_client_hello(stream, join_records=False).status == INVALID


def test_hello_in_many_one_byte_records():
    stream = records(HANDSHAKE, (1,) * (len(HANDSHAKE) - 1))
    assert tls.parse_client_hello(stream).value.sni == "example.com"
    for n in range(0, len(stream), 7):
        assert tls.parse_client_hello(stream[:n]).status == INCOMPLETE


def test_split_record_prefixes_say_incomplete_or_invalid_without_join():
    stream = records(HANDSHAKE, (100,))
    for n in range(len(stream)):
        assert tls.parse_client_hello(stream[:n]).status == INCOMPLETE
        expected = INCOMPLETE if n < 9 else INVALID  # once both lengths are known
        assert tls.parse_client_hello(stream[:n], join_records=False).status == expected, n


def test_record_version_variants():
    for version in (0x0300, 0x0301, 0x0303):
        assert tls.parse_client_hello(records(HANDSHAKE, version=version)).status == OK


@pytest.mark.parametrize("stream", [
    pytest.param(b"\x17" + HELLO[1:], id="application-data-record"),
    pytest.param(b"\x16\x02" + HELLO[2:], id="record-major-2"),
    pytest.param(b"\x16\x03\x10" + HELLO[3:], id="record-minor-0x10"),
    pytest.param(b"\x16\x03\x01\x00\x00" + HELLO[5:], id="empty-record"),
    pytest.param(b"\x16\x03\x01\x40\x01" + HELLO[5:], id="record-over-16384"),
    pytest.param(HELLO[:5] + b"\x02" + HELLO[6:], id="server-hello-type"),
    pytest.param(records(HANDSHAKE[:50]) + b"\x14\x03\x03\x00\x01\x01" + records(HANDSHAKE[50:]),
                 id="ccs-between-fragments"),
    pytest.param(b"\x80\x2e\x01\x03\x01", id="sslv2-hello"),
    pytest.param(b"GET / HTTP/1.1\r\n", id="http"),
])
def test_invalid_streams(stream):
    assert tls.parse_client_hello(stream).status == INVALID


def _with_body(mutate) -> bytes:
    body = bytearray(HANDSHAKE[4:])
    mutate(body)
    return records(b"\x01" + len(body).to_bytes(3, "big") + bytes(body))


def _session_id_33(body: bytearray) -> None:
    body[34] = 33


def _odd_suites(body: bytearray) -> None:
    at = 35 + body[34]
    suites = struct.unpack_from("!H", body, at)[0]
    body[at:at + 2] = struct.pack("!H", suites - 1)


def _trailing_byte(body: bytearray) -> None:
    body.append(0)


def _legacy_version_2(body: bytearray) -> None:
    body[0] = 2


@pytest.mark.parametrize("mutate", [_session_id_33, _odd_suites, _trailing_byte,
                                    _legacy_version_2])
def test_invalid_hello_bodies(mutate):
    assert tls.parse_client_hello(_with_body(mutate)).status == INVALID


def _rebuilt(exts_change) -> bytes:
    head, exts = split_extensions(HANDSHAKE)
    return records(join_extensions(head, exts_change(exts)))


def test_malformed_sni_extension_is_invalid():
    def broken_sni(exts):
        return [(t, d[:-1] if t == 0 else d) for t, d in exts]
    assert tls.parse_client_hello(_rebuilt(broken_sni)).status == INVALID


def test_extension_overrunning_block_is_invalid():
    head, exts = split_extensions(HANDSHAKE)
    hs = bytearray(join_extensions(head, exts))
    last_len_at = len(hs) - len(exts[-1][1]) - 2
    hs[last_len_at:last_len_at + 2] = struct.pack("!H", len(exts[-1][1]) + 1)
    assert tls.parse_client_hello(records(bytes(hs))).status == INVALID


def test_duplicate_sni_first_counts():
    def twice(exts):
        return exts + [(0, sni_extension(b"second.example"))]
    hello = tls.parse_client_hello(_rebuilt(twice)).value
    assert hello.sni == "example.com" and hello.extensions.count(0) == 2


def test_hello_without_extension_block():
    head, _ = split_extensions(HANDSHAKE)
    hs = b"\x01" + len(head).to_bytes(3, "big") + head
    hello = tls.parse_client_hello(records(hs)).value
    assert hello.extensions == () and hello.sni is None and hello.supported_versions == ()


def test_oversized_handshake_length_is_invalid():
    assert tls.parse_client_hello(b"\x16\x03\x01\x00\x04\x01\x01\x00\x01").status == INVALID
    assert tls.parse_handshake(b"\x01\x01\x00\x01").status == INVALID
    # just inside the bound it stays a valid prefix
    assert tls.parse_handshake(b"\x01\x00\xff\xf0" + HANDSHAKE[4:40]).status == INCOMPLETE


# ------------------------------------------------------------ post-quantum, GREASE, ECH, ESNI

PQ = post_quantum_hello()


def test_post_quantum_hello_fields():
    assert 1700 < len(PQ) < 2000
    hello = tls.parse_handshake(PQ).value
    assert hello.sni == "pq.example.net"
    assert hello.extensions[0] == 0x0A0A  # GREASE first, as Chrome sends it
    assert tls.EXT_ECH in hello.extensions and tls.EXT_PADDING in hello.extensions
    assert hello.extensions.index(tls.EXT_KEY_SHARE) < hello.extensions.index(tls.EXT_ECH)


def test_post_quantum_hello_in_two_tcp_segments():
    stream = records(PQ)
    first, second = stream[:1448], stream[1448:]
    assert tls.parse_client_hello(first).status == INCOMPLETE
    assert tls.parse_client_hello(first, join_records=False).status == INCOMPLETE
    assert tls.parse_client_hello(first + second).value.sni == "pq.example.net"


def test_post_quantum_hello_in_two_records():
    stream = records(PQ, (1400,))
    assert tls.parse_client_hello(stream).value.sni == "pq.example.net"
    assert tls.parse_client_hello(stream, join_records=False).status == INVALID


def test_esni_extension_is_listed():
    def with_esni(exts):
        return [(t, d) for t, d in exts if t != 0] + [(tls.EXT_ESNI, bytes(80))]
    hello = tls.parse_client_hello(_rebuilt(with_esni)).value
    assert hello.sni is None and tls.EXT_ESNI in hello.extensions


# ------------------------------------------------------------ looks_like_tls


@pytest.mark.parametrize("data,expected", [
    (HELLO, True),
    (HELLO[:6], True),
    (records(PQ), True),
    (HELLO[:5], False),
    (b"\x17" + HELLO[1:], False),
    (b"\x16\x03\x10" + HELLO[3:], False),
    (b"\x16\x03\x01\x00\x00\x01", False),
    (b"\x16\x03\x01\x40\x01\x01", False),
    (HELLO[:5] + b"\x02", False),
    (b"", False),
])
def test_looks_like_tls(data, expected):
    assert tls.looks_like_tls(data) is expected


# ------------------------------------------------------------ properties


@settings(max_examples=400)
@given(st.binary(max_size=600), st.booleans())
def test_never_raises_on_random_bytes(data, join):
    assert tls.parse_client_hello(data, join).status in (OK, INCOMPLETE, INVALID)
    assert tls.parse_handshake(data).status in (OK, INCOMPLETE, INVALID)


@settings(max_examples=400)
@given(st.binary(max_size=600), st.booleans())
def test_never_raises_behind_a_valid_record_header(body, join):
    stream = struct.pack("!BHH", 0x16, 0x0301, max(1, len(body))) + body
    assert tls.parse_client_hello(stream, join).status in (OK, INCOMPLETE, INVALID)


@settings(max_examples=400)
@given(st.lists(st.tuples(st.integers(0, len(HELLO) - 1), st.integers(0, 255)), max_size=6),
       st.booleans())
def test_never_raises_on_mutated_hellos(flips, join):
    data = bytearray(HELLO)
    for at, value in flips:
        data[at] = value
    result = tls.parse_client_hello(bytes(data), join)
    assert result.status in (OK, INCOMPLETE, INVALID)


@settings(max_examples=100)
@given(st.lists(st.integers(1, 300), max_size=8))
def test_any_record_split_gives_the_same_hello(sizes):
    assert tls.parse_client_hello(records(HANDSHAKE, tuple(sizes))).value.sni == "example.com"
