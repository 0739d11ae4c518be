"""lab.clients.rst_ttl reads a reset's TTL, flags, sequence number and window off the frame."""
from __future__ import annotations

from controllers.packets import ACK, RST, SYN, build_tcp
from lab.clients.rst_ttl import reset_fields, resets

MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def test_an_injected_rst_ack_reads_as_gfw_report_wrote_it():
    frame = build_tcp(MAC_A, MAC_B, "198.19.0.10", "198.18.1.10", 443, 40000, 0, 1234,
                      RST | ACK, window=1981, ttl=62)
    assert reset_fields(frame) == ("198.19.0.10", 443, 62, "RA", 0, 1981)
    assert resets(frame) == ("198.19.0.10", 443, 62)


def test_a_segment_without_rst_is_not_a_reset():
    frame = build_tcp(MAC_A, MAC_B, "198.19.0.10", "198.18.1.10", 443, 40000, 7, 0,
                      SYN | ACK)
    assert reset_fields(frame) is None and resets(frame) is None
    assert reset_fields(frame[:40]) is None
