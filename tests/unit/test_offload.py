"""controllers.openflow.offload: a partial checksum is completed, a written one (right or wrong) and the
IP header are left as the sender made them; super-segments are cut with correct checksums.

The partial values are the ones measured on packet-ins of the userspace datapath (issue 23):
a SYN 198.18.0.10 -> 198.19.0.11 of 40 TCP bytes came up with 0x8c69, the pseudo-header sum.
Tests with real packets: tests/integration/test_checksums.py.
"""
from __future__ import annotations

import struct

import pytest

from controllers import packets as P
from controllers.openflow.offload import MTU, for_the_wire, is_partial, pseudo_sum
from lab.clients.fakes import spoil

MAC_A, MAC_B = b"\x02\x00\xc6\x12\x00\x0a", b"\x02\x00\xc6\x13\x00\x0b"
ALICE, OPEN = "198.18.0.10", "198.19.0.11"


def tcp(payload: bytes = b"hello", flags: int = P.PSH | P.ACK) -> bytes:
    return P.build_tcp(MAC_A, MAC_B, ALICE, OPEN, 40000, 443, 1000, 2000, flags, payload)


def udp(payload: bytes = b"query") -> bytes:
    return P.build_udp(MAC_A, MAC_B, ALICE, OPEN, 40000, 53, payload)


def l4_field(frame: bytes) -> int:
    ihl = (frame[14] & 0x0F) * 4
    return 14 + ihl + (16 if frame[23] == P.TCP else 6)


def partial(frame: bytes) -> bytes:
    """`frame` as a kernel hands it to offload: the pseudo-header sum in the L4 field."""
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    out = bytearray(frame)
    struct.pack_into("!H", out, l4_field(frame), pseudo_sum(frame[14:14 + ihl], frame[23],
                                                           total - ihl))
    return bytes(out)


def correct(frame: bytes) -> bool:
    """IP header and TCP/UDP checksums both verify."""
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    seg = frame[14 + ihl:14 + total]
    pseudo = frame[26:34] + struct.pack("!BBH", 0, frame[23], len(seg))
    return P.checksum(frame[14:14 + ihl]) == 0 and P.checksum(pseudo + seg) == 0


def test_pseudo_sum_is_what_the_kernel_writes():
    syn = tcp(b"", P.SYN)                        # 20-byte header; the kernel's had 40
    assert pseudo_sum(syn[14:34], P.TCP, 40) == 0x8c69


def test_partial_tcp_and_udp_checksums_are_completed():
    for frame in (tcp(), tcp(b"x" * 1400), udp(), udp(b"odd")):
        sent = partial(frame)
        assert sent != frame and is_partial(sent[14:34], sent[23], sent[34:], l4_field(sent) - 34)
        assert for_the_wire(sent) == [frame]


def test_written_checksums_right_or_wrong_pass_unchanged():
    for frame in (tcp(), udp()):
        assert for_the_wire(frame) == [frame]
        for kind in ("badsum", "badipsum"):
            fake = spoil(frame, kind)
            assert not correct(fake) and not is_partial(fake[14:34], fake[23], fake[34:],
                                                         l4_field(fake) - 34)
            assert for_the_wire(fake) == [fake]


def test_udp_without_checksum_stays_without():
    frame = bytearray(udp())
    frame[40:42] = b"\0\0"
    assert for_the_wire(bytes(frame)) == [bytes(frame)]


def test_a_partial_checksum_is_the_only_change():
    """TTL, IP ID, IP options, the IP checksum (even a wrong one) and Ethernet padding stay."""
    seg = tcp(b"")[34:]
    header = struct.pack("!BBHHHBBH4s4s", 0x46, 0, 24 + len(seg), 0xBEEF, 0, 3, P.TCP, 0x1234,
                         bytes([198, 18, 0, 10]), bytes([198, 19, 0, 11])) + b"\x01\x01\x01\x00"
    frame = MAC_B + MAC_A + b"\x08\x00" + header + seg
    sent = bytearray(frame + b"\0" * (60 - len(frame)) if len(frame) < 60 else frame)
    sent_l4 = 14 + 24 + 16
    pseudo = pseudo_sum(header, P.TCP, len(seg))
    struct.pack_into("!H", sent, sent_l4, pseudo)
    out, = for_the_wire(bytes(sent))
    assert len(out) == len(sent)
    assert out[:sent_l4] == sent[:sent_l4] and out[sent_l4 + 2:] == sent[sent_l4 + 2:]
    pseudo_hdr = header[12:20] + struct.pack("!BBH", 0, P.TCP, len(seg))
    assert P.checksum(pseudo_hdr + out[14 + 24:14 + 24 + len(seg)]) == 0


def test_super_segments_are_cut_with_correct_checksums():
    payload = bytes(range(256)) * 20                  # 5120 bytes: four segments
    big = partial(tcp(payload))
    out = for_the_wire(big)
    assert len(out) == 4 and all(len(f) <= MTU + 14 and correct(f) for f in out)
    assert b"".join(f[54:] for f in out) == payload
    assert [f[18:20] for f in out] == [struct.pack("!H", n) for n in range(4)]   # IP IDs


ALICE6, OPEN6 = "2001:db8::c612:a", "2001:db8::c613:b"


def test_ipv6_fakes_keep_their_wrong_checksum_and_badipsum_is_refused():
    """lab.clients.fakes over IPv6: the TCP/UDP checksum is wrong, neither right nor the
    pseudo-header sum a partial one holds, and the censor's offload leaves it so; IPv6 has
    no header checksum, so there is no badipsum fake to make."""
    from controllers.openflow.offload6 import is_partial6
    from controllers.packets6 import l4_checksum
    for frame in (P.build_tcp(MAC_A, MAC_B, ALICE6, OPEN6, 40000, 443, 1000, 2000,
                              P.PSH | P.ACK, b"hello"),
                  P.build_udp(MAC_A, MAC_B, ALICE6, OPEN6, 40000, 53, b"query")):
        proto = frame[20]
        at = 16 if proto == P.TCP else 6
        fake = spoil(frame, "badsum")
        assert fake[:54 + at] == frame[:54 + at] and fake[54 + at + 2:] == frame[54 + at + 2:]
        seg = bytearray(fake[54:])
        written = struct.unpack_from("!H", seg, at)[0]
        seg[at:at + 2] = b"\0\0"
        assert written not in (0, l4_checksum(ALICE6, OPEN6, proto, bytes(seg)))
        assert not is_partial6(fake[14:54], proto, fake[54:], at)
        assert for_the_wire(fake) == [fake]
        with pytest.raises(ValueError, match="IPv6 has no header checksum"):
            spoil(frame, "badipsum")
