"""The chunked switch-connection reader: every message dispatched once and in order, however
the bytes are cut, and what handlers send during one read leaves in one write."""
from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from os_ken.controller.handler import MAIN_DISPATCHER

from controllers.openflow import link as oflink
from controllers.openflow import wire as ofwire

sys.path.insert(0, str(Path(__file__).parent / "engine"))
from engine_helpers import packet_in_message as packet_in  # noqa: E402


class Socket:
    def __init__(self, chunks):
        self.chunks = list(chunks)

    def recv(self, _size):
        return self.chunks.pop(0) if self.chunks else b""


class Brick:
    """The ofp_brick: its observer plays the app (answers each packet-in with a send)."""

    def __init__(self, dp):
        self.dp, self.seen = dp, []

    def send_event_to_observers(self, ev, _state):
        self.seen.append((ev.msg.match["in_port"], ev.msg.data))
        oflink.send_now(self.dp, bytes([ev.msg.match["in_port"]]))

    def get_handlers(self, _ev):
        return []


class Datapath:
    def __init__(self, chunks):
        self.socket, self.state = Socket(chunks), MAIN_DISPATCHER
        self.ofp_brick, self.sent = Brick(self), []

    def send(self, data):
        self.sent.append(data)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=300), min_size=1, max_size=8),
       st.lists(st.integers(1, 50), min_size=1, max_size=20))
def test_every_message_once_in_order_however_cut(frames, cuts):
    ofwire.read_packet_ins_directly()
    stream = b"".join(packet_in(f, i + 1) for i, f in enumerate(frames))
    chunks, pos = [], 0
    for c in cuts * (len(stream) // max(1, sum(cuts)) + 1):
        if pos >= len(stream):
            break
        chunks.append(stream[pos:pos + c])
        pos += c
    if pos < len(stream):
        chunks.append(stream[pos:])
    dp = Datapath(chunks)
    oflink._recv_loop(dp)
    assert dp.ofp_brick.seen == [(i + 1, f) for i, f in enumerate(frames)]
    # one write per read that completed messages, holding their answers in order
    assert b"".join(dp.sent) == bytes(range(1, len(frames) + 1))
    assert len(dp.sent) <= len(chunks)
    assert dp.blocklab_batch is None


def test_one_read_one_write():
    ofwire.read_packet_ins_directly()
    dp = Datapath([b"".join(packet_in(b"x" * 60, p) for p in (1, 2, 3))])
    oflink._recv_loop(dp)
    assert dp.sent == [b"\x01\x02\x03"]


def test_sends_outside_a_read_go_at_once():
    sent = []

    class Dp:
        def send(self, data):
            sent.append(data)

    oflink.send_now(Dp(), b"tick")
    assert sent == [b"tick"]


def test_packet_ins_go_straight_to_the_app_handler():
    ofwire.read_packet_ins_directly()
    got = []

    def handler(in_port, cookie, frame):
        got.append((in_port, frame))
        oflink.send_now(dp, b"!")

    dp = Datapath([b"".join(packet_in(b"y" * 40, p) for p in (4, 5))])
    oflink._packet_in[:] = [handler]
    try:
        oflink._recv_loop(dp)
    finally:
        oflink._packet_in[:] = []
    assert got == [(4, b"y" * 40), (5, b"y" * 40)]
    assert dp.ofp_brick.seen == [] and dp.sent == [b"!!"]
