"""controllers.dpi.stun: RFC 5389 and classic RFC 3489 Binding Requests."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controllers.dpi import stun
from controllers.dpi.result import INCOMPLETE, INVALID, OK
from dpi_samples import (CLASSIC_STUN, CLASSIC_STUN_CHANGE_REQUEST, ICE_CHECK, TXID,
                         rfc5389_request)


def test_plain_binding_request():
    msg = stun.parse(rfc5389_request()).value
    assert msg == stun.StunMessage(0x0001, 0, TXID, False)


def test_ice_check():
    msg = stun.parse(ICE_CHECK).value
    assert msg.length == len(ICE_CHECK) - 20 and not msg.classic and msg.transaction_id == TXID


@pytest.mark.parametrize("data", [CLASSIC_STUN, CLASSIC_STUN_CHANGE_REQUEST])
def test_classic_binding_request(data):
    msg = stun.parse(data).value
    assert msg.classic and msg.msg_type == 1 and msg.transaction_id == bytes(range(16))


def test_binding_response_and_stream_tail():
    assert stun.parse(rfc5389_request(msg_type=0x0101)).value.msg_type == 0x0101
    assert stun.parse(ICE_CHECK + b"next message").status == OK  # TCP stream: more follows


@pytest.mark.parametrize("data", [ICE_CHECK, CLASSIC_STUN_CHANGE_REQUEST])
def test_every_prefix_is_incomplete(data):
    for n in range(len(data)):
        assert stun.parse(data[:n]).status == INCOMPLETE, n


@pytest.mark.parametrize("data", [
    pytest.param(b"\x40" + ICE_CHECK[1:], id="top-bits-set"),
    pytest.param(ICE_CHECK[:3] + b"\x05", id="length-not-multiple-of-4"),
    pytest.param(CLASSIC_STUN + b"\x00" * 4, id="classic-trailing-bytes"),
    pytest.param(bytes.fromhex("01010000") + bytes(16), id="classic-non-binding-request"),
    pytest.param(rfc5389_request(struct.pack("!HH", 6, 9) + bytes(4)), id="attribute-overruns"),
    pytest.param(rfc5389_request(b"\x00\x06\x00\x00" + b"\x00\x06"), id="length-not-aligned"),
])
def test_invalid(data):
    assert stun.parse(data).status == INVALID


def test_header_without_cookie_may_still_be_classic():
    assert stun.parse(bytes.fromhex("0001000000000000")).status == INCOMPLETE
    assert stun.parse(bytes.fromhex("0101000000000000")).status == INVALID


def test_looks_like_stun():
    assert stun.looks_like_stun(ICE_CHECK) and stun.looks_like_stun(CLASSIC_STUN)
    assert not stun.looks_like_stun(ICE_CHECK[:-1])
    assert not stun.looks_like_stun(b"\x16\x03\x01\x00\x10" + bytes(30))
    assert not stun.looks_like_stun(b"")


@settings(max_examples=400)
@given(st.binary(max_size=200))
def test_never_raises(data):
    assert stun.parse(data).status in (OK, INCOMPLETE, INVALID)


@settings(max_examples=300)
@given(st.binary(max_size=120))
def test_never_raises_behind_a_valid_header(body):
    data = struct.pack("!HHI", 0x0001, len(body) & ~3, stun.MAGIC_COOKIE) + TXID + body
    assert stun.parse(data).status in (OK, INCOMPLETE, INVALID)
