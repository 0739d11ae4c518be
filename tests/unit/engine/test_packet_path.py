"""The censor's packet path (controllers.openflow.packetpath) behind the switch connection's
reader (controllers.openflow.link), with a real engine and a real event log: what the switch
is sent for a read of packet-ins, and what events.jsonl holds at the moment it is sent."""
from __future__ import annotations

import json
import time

import pytest
from os_ken.controller.handler import MAIN_DISPATCHER
from os_ken.ofproto import ofproto_v1_3 as ofp

from controllers.engine.effects import Event
from controllers.engine.engine import Engine
from controllers.engine.eventlog import EventLog
from controllers.openflow import link, wire
from controllers.openflow.packetpath import PacketPath
from engine_helpers import ALICE, DNSSRV, dns_query, packet_in_message, policy, rule, udp


class Switch:
    """The switch connection as the reader sees it: one read's bytes, and what is sent,
    with the event log's lines as they were when it was sent."""

    def __init__(self, data: bytes, log_path) -> None:
        self.chunks, self.log_path = [data], log_path
        self.state, self.ofp_brick, self.xid = MAIN_DISPATCHER, None, 0
        self.socket = self
        self.writes: list[tuple[bytes, list[dict]]] = []

    def recv(self, _size: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def send(self, data: bytes) -> None:
        lines = self.log_path.read_text().splitlines() if self.log_path.exists() else []
        self.writes.append((data, [json.loads(line) for line in lines]))


def _message_types(data: bytes) -> list[int]:
    types = []
    while data:
        types.append(data[1])
        data = data[int.from_bytes(data[2:4], "big"):]
    return types


@pytest.fixture
def path(tmp_path, monkeypatch):
    engine = Engine(policy(rule("dns-block", {"dns": ["blocked.example"]}, "nxdomain")))
    engine.base_effects()
    log_path = tmp_path / "events.jsonl"
    path = PacketPath(engine, EventLog(str(log_path)), "censor", time.time())
    wire.read_packet_ins_directly()
    monkeypatch.setattr(link, "_packet_in", [path.frame_in])
    monkeypatch.setattr(link, "_before_write", [path.flush_events])
    return path


def test_a_reads_events_are_in_the_file_before_its_packets_are_sent(path, tmp_path):
    queries = [("blocked.example", 40001), ("open.example", 40002), ("blocked.example", 40003)]
    data = b"".join(packet_in_message(udp(ALICE, DNSSRV, port, 53, dns_query(name)), 1)
                    for name, port in queries)
    switch = path.datapath = Switch(data, tmp_path / "events.jsonl")
    link._recv_loop(switch)
    assert len(switch.writes) == 1                          # one write for the read
    sent, logged = switch.writes[0]
    # two NXDOMAIN answers and the open query released: three packet-outs
    assert _message_types(sent) == [ofp.OFPT_PACKET_OUT] * 3
    # and both blocks were already in events.jsonl when they went
    assert [(e["rule"], e["flow"]["sport"], e["censor"]) for e in logged] == [
        ("dns-block", 40001, "censor"), ("dns-block", 40003, "censor")]


def test_an_event_outside_a_read_is_written_at_once(path, tmp_path):
    path.apply([Event({"rule": "r", "technique": "dns"})])     # a tick's or a command's
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert [json.loads(line)["rule"] for line in lines] == ["r"]
