"""rst_handshake (scenarios/basics/rst-handshake.yaml, gfw.report 2025-08-20) over both
families: the client gets three RST+ACKs after its SYN (windows 1980-1982) AND three after
the server's SYN-ACK (windows 3293-3295), also on a connection that follows other packets
between the same two hosts at once (a plain HTTP fetch, or IPv6's neighbour discovery before
a first connection). Before steering's synack_copies, such a SYN-ACK followed OVS's cached
datapath flow made for the earlier packets (re-translated only after the flow's own entry
was installed) and went by unseen: the client got only the first three. The frames are read
at the client's switch port; curl says "Couldn't connect" (exit 7) either way. Every forged
RST (its window says it is one) must come from the server's address of the family, and the
order is read from that address's frames (CI once saw a frame from port 443 of another address
on the port; the failure message now lists every frame).
"""
from __future__ import annotations

import pytest

from controllers.packets import ACK, RST, SYN, parse_frame
from lab.run.lab import Lab
from lab.run.wait import Timeout, wait_until
from lab.scenario.addressing import ip6_for
from tests.integration.test_checksums import PortCapture, dual_stack

WEB = "198.19.0.10"
SYN_RSTS, SYNACK_RSTS = [1980, 1981, 1982], [3293, 3294, 3295]


@pytest.fixture(scope="module")
def lab():
    with Lab(dual_stack("basics/rst-handshake")) as running:
        yield running


def to_alice_from_443(frame: bytes):
    try:
        p = parse_frame(frame)
    except ValueError:
        return None
    return p if p is not None and p.proto == 6 and p.sport == 443 else None


@pytest.mark.parametrize("family", [6, 4])
def test_the_client_gets_the_rsts_after_its_syn_and_after_the_servers_syn_ack(lab, family):
    capture = PortCapture(lab, "alice")
    try:
        r = lab.run("alice", ["sh", "-c",
                              f"curl -{family} -sS -o /dev/null --max-time 3 "
                              f"http://www.example.org/ && curl -{family} -sS --max-time 3 "
                              "https://www.example.org/"], timeout=30)
        assert r.returncode == 7 and "Couldn't connect" in r.stderr, r.stderr

        def from_443() -> list:
            capture.find(lambda f: False)                   # read what has arrived
            return [p for p in map(to_alice_from_443, capture.frames) if p is not None]
        try:
            wait_until(lambda: sum(p.flags & RST != 0 for p in from_443()) >= 6, 5,
                       "six RST+ACKs toward alice")
        except Timeout:
            pass                                            # the order below says what came
        got = from_443()
    finally:
        capture.close()
    web = ip6_for(WEB) if family == 6 else WEB
    seen = [(p.src, p.dst, p.dport, p.flags, p.window) for p in got]
    forged = [p for p in got if p.flags & RST and p.window in SYN_RSTS + SYNACK_RSTS]
    assert forged and all(p.src == web for p in forged), seen     # as from the server
    order = ["synack" if p.flags & (SYN | ACK) == SYN | ACK else p.window for p in got
             if p.src == web and (p.flags & SYN or p.flags & RST)]
    assert order == SYN_RSTS + ["synack"] + SYNACK_RSTS, seen
