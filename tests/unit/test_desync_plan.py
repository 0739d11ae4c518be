"""lab.clients.desync's shapes: what each method puts on the wire, segment by segment, for a
real ClientHello (the sending itself needs root and a lab: tests/integration/test_compare.py
and the lessons of basics/dpi-naive and basics/dpi-hardened)."""
import pytest

from controllers import packets as P

from lab.clients import desync
from lab.clients.tls_hello import client_hello, sni_span

NAME = "blocked.example.com"


@pytest.fixture(scope="module")
def hello() -> bytes:
    return client_hello(NAME)[3]


def covers(parts, hello) -> bool:
    out = bytearray(len(hello))
    for p in parts:
        out[p["seq"] - 1:p["seq"] - 1 + len(p["data"])] = p["data"]
    return bytes(out) == hello


def test_fakes_name_an_allowed_host_and_are_spoiled_the_methods_way(hello):
    for method, seq, ack, spoil in (("fake-badsum", 1, 1, "badsum"),
                                    ("fake-badseq", 1 - 10000, 1 - 66000, None)):
        fake, real = desync.plan(method, hello)
        assert desync.FAKE_SNI.encode() in fake["data"] and NAME.encode() not in fake["data"]
        assert (fake["seq"], fake["ack"], fake["spoil"], fake["what"]) == (seq, ack, spoil, "fake")
        assert (real["seq"], real["data"], real["spoil"]) == (1, hello, None)


def test_disorder_sends_the_second_part_first_cut_inside_the_name(hello):
    second, first = desync.plan("disorder", hello)
    at, size = sni_span(hello)
    assert first["seq"] == 1 and at < second["seq"] - 1 < at + size
    assert covers([second, first], hello)


def test_multisplit_cuts_after_byte_one_at_the_name_and_inside_it(hello):
    parts = desync.plan("multisplit", hello)
    at, size = sni_span(hello)
    assert [p["seq"] for p in parts] == [1, 2, at + 2, at + size // 2 + 1]
    assert not any(NAME.encode() in p["data"] for p in parts)
    assert covers(parts, hello)


def test_ttl_methods_send_one_ttl_limited_packet_then_the_real_hello(hello):
    fake, real = desync.plan("fake-ttl", hello, 2)
    assert desync.FAKE_SNI.encode() in fake["data"] and (fake["ttl"], fake["seq"]) == (2, 1)
    assert (real["data"], real["ttl"], real["spoil"]) == (hello, None, None)
    rst, real = desync.plan("tcb-teardown", hello, 2)
    assert (rst["data"], rst["ttl"], rst["flags"]) == (b"", 2, P.RST | P.ACK)
    assert real["data"] == hello


@pytest.mark.parametrize("received, delta, ttl", [
    (62, 0, 2), (62, -1, 1), (64, 0, None), (63, -1, None), (116, 0, 12), (250, -1, 4)])
def test_autottl_is_the_hop_count_from_the_servers_ttl_plus_delta(received, delta, ttl):
    """zapret's and GoodbyeDPI's guess: the server started at 64, 128 or 255."""
    assert desync.autottl(received, delta) == ttl
