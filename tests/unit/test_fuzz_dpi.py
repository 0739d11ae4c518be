"""Every DPI parser, fed real samples mutated (bytes changed, cut, spliced, repeated), answers
OK, INCOMPLETE or INVALID and never raises; and a real sample cut short is never INVALID for
the stream parsers (a prefix can still become the message). Random bytes alone rarely get past
a parser's first checks; mutated samples reach the deep paths, as the atheris harnesses do."""
from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "dpi"))

from controllers.dpi import dns, fingerprint, http, quic, stun, tls  # noqa: E402
from controllers.dpi.result import INCOMPLETE, INVALID, OK  # noqa: E402
from dpi_samples import (CLASSIC_STUN, CURL_GET, DIG_QUERY, ICE_CHECK, crypto_frame,  # noqa: E402
                         handshake_of, post_quantum_hello, protect_initial, records,
                         ssl_client_hello)

HELLO = ssl_client_hello("www.example.com")
SAMPLES = {
    "tls": [HELLO, records(handshake_of(HELLO), (5, 60)), records(post_quantum_hello())],
    "dns": [DIG_QUERY, dns.frame_tcp(DIG_QUERY)],
    "http": [CURL_GET, b"GET http://a.example/x HTTP/1.1\r\nHost: b\r\n\r\n"],
    "stun": [ICE_CHECK, CLASSIC_STUN],
    "quic": [crypto_frame(0, handshake_of(HELLO))],
}
STATUSES = (OK, INCOMPLETE, INVALID)


def mutated(kind: str):
    edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5000), st.binary(max_size=6)),
                     max_size=6)

    def apply(sample: bytes, todo) -> bytes:
        data = bytearray(sample)
        for op, pos, chunk in todo:
            pos %= len(data) + 1
            if op == 0:
                data[pos:pos + len(chunk)] = chunk          # overwrite
            elif op == 1:
                data[pos:pos] = chunk                       # insert
            elif op == 2:
                del data[pos:pos + len(chunk) * 40 + 1]     # delete a run
            else:
                data = data[:pos]                           # truncate
        return bytes(data)
    return st.builds(apply, st.sampled_from(SAMPLES[kind]), edits)


ANY = dict(max_examples=200, deadline=None)


@settings(**ANY)
@given(mutated("tls"), st.booleans())
def test_tls(data, join):
    assert tls.parse_client_hello(data, join).status in STATUSES
    assert tls.parse_handshake(data[5:]).status in STATUSES
    tls.looks_like_tls(data)


@settings(**ANY)
@given(mutated("dns"))
def test_dns(data):
    r = dns.parse_query(data)
    assert r.status in STATUSES
    if r.ok:
        dns.build_response(data, 2, ["198.19.0.1"])
    messages, used = dns.split_tcp_stream(data)
    assert used <= len(data)


@settings(**ANY)
@given(mutated("http"))
def test_http(data):
    assert http.parse_request(data).status in STATUSES
    http.looks_like_http(data)


@settings(**ANY)
@given(mutated("stun"))
def test_stun(data):
    assert stun.parse(data).status in STATUSES
    stun.looks_like_stun(data)


@settings(max_examples=150, deadline=None)
@given(mutated("quic"))
def test_quic_payload_behind_real_packet_protection(payload):
    datagram = protect_initial(bytes(8), payload + bytes(max(0, 20 - len(payload))))
    initials = quic.parse_initials(datagram)
    assert len(initials) == 1
    assembler = quic.CryptoAssembler()
    assembler.add(initials[0].crypto)
    assert assembler.client_hello().status in STATUSES


@settings(**ANY)
@given(st.sampled_from([s for v in SAMPLES.values() for s in v]), st.integers(0, 2000),
       st.sampled_from(["tcp", "udp"]))
def test_fingerprint_on_cut_samples(sample, cut, transport):
    found = fingerprint.classify(sample[:cut], transport)
    assert isinstance(found, frozenset)


@settings(**ANY)
@given(st.sampled_from(["tls", "http"]), st.data())
def test_a_prefix_of_a_real_message_is_never_invalid(kind, data):
    sample = data.draw(st.sampled_from(SAMPLES[kind]))
    cut = data.draw(st.integers(0, len(sample) - 1))
    parse = tls.parse_client_hello if kind == "tls" else http.parse_request
    assert parse(sample[:cut]).status == INCOMPLETE
