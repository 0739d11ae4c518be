"""lab.clients.rst_ttl reads a reset's TTL (IPv6: hop limit), flags, sequence number and window off the frame."""
from __future__ import annotations

from controllers.packets import ACK, RST, SYN, build_tcp
from lab.clients.rst_ttl import reset_fields, resets

MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def test_an_injected_rst_ack_reads_as_gfw_report_wrote_it():
    frame = build_tcp(MAC_A, MAC_B, "198.19.0.10", "198.18.1.10", 443, 40000, 0, 1234,
                      RST | ACK, window=1981, ttl=62)
    assert reset_fields(frame) == ("198.19.0.10", 443, 62, "RA", 0, 1981)
    assert resets(frame) == ("198.19.0.10", 443, 62)


def test_an_ipv6_rst_reads_its_hop_limit():
    frame = build_tcp(MAC_A, MAC_B, "2001:db8::c613:a", "2001:db8::c612:10a", 443, 40000, 0,
                      1234, RST | ACK, window=1980, ttl=49)
    assert reset_fields(frame) == ("2001:db8::c613:a", 443, 49, "RA", 0, 1980)
    assert reset_fields(frame[:60]) is None


def test_a_segment_without_rst_is_not_a_reset():
    frame = build_tcp(MAC_A, MAC_B, "198.19.0.10", "198.18.1.10", 443, 40000, 7, 0,
                      SYN | ACK)
    assert reset_fields(frame) is None and resets(frame) is None
    assert reset_fields(frame[:40]) is None
