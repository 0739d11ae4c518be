"""controllers.dpi.fingerprint: a table of first packets, and the GFW exemptions one by one."""

from __future__ import annotations

import random
import re
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controllers.dpi import dns, fingerprint as fp
from dpi_samples import (CLASSIC_STUN, CURL_GET, DIG_QUERY, ICE_CHECK, RFC9001_CLIENT_INITIAL,
                         ssl_client_hello)

RNG = random.Random(2)
RANDOM_400 = RNG.randbytes(400)  # a Shadowsocks-like first packet

OPENVPN_RESET_V2 = b"\x38" + bytes.fromhex("1122334455667788") + b"\x00" + bytes(4)
OPENVPN_RESET_V2_TLS_AUTH = (b"\x38" + bytes(range(8)) + bytes(range(20)) + b"\x00\x00\x00\x01"
                             + b"\x65\x00\x00\x00" + b"\x00" + bytes(4))
OPENVPN_RESET_V3 = b"\x50" + bytes(range(8)) + RNG.randbytes(290)  # tls-crypt-v2 wrapped key
WG_INITIATION = b"\x01\x00\x00\x00" + RNG.randbytes(144)


def framed(payload: bytes) -> bytes:
    return struct.pack("!H", len(payload)) + payload


def flipped_last(data: bytes) -> bytes:
    return data[:-1] + bytes((data[-1] ^ 1,))


TABLE = [
    # name, data, transport, matches
    ("dns", DIG_QUERY, "udp", True),
    ("dns", dns.frame_tcp(DIG_QUERY), "tcp", True),
    ("dns", DIG_QUERY, "tcp", False),  # TCP DNS without its length prefix
    ("dns", DIG_QUERY[:2] + b"\x81\x80" + DIG_QUERY[4:], "udp", False),  # a response
    ("stun", ICE_CHECK, "udp", True),
    ("stun", CLASSIC_STUN, "udp", True),
    ("stun", ICE_CHECK, "tcp", True),
    ("stun", b"\x01\x01" + CLASSIC_STUN[2:], "udp", False),  # no cookie, not a Binding Request
    ("quic", RFC9001_CLIENT_INITIAL, "udp", True),
    ("quic", flipped_last(RFC9001_CLIENT_INITIAL), "udp", False),  # fails to decrypt
    ("quic", RFC9001_CLIENT_INITIAL, "tcp", False),
    ("tls", ssl_client_hello(), "tcp", True),
    ("tls", b"\x17" + ssl_client_hello()[1:], "tcp", False),
    ("tls", ssl_client_hello(), "udp", False),
    ("http", CURL_GET, "tcp", True),
    ("http", b"GETS / HTTP/1.1\r\n\r\n", "tcp", False),
    ("ssh", b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "tcp", True),
    ("ssh", b"SSH-1.99-Cisco-1.25\r\n", "tcp", True),
    ("ssh", b"SSH-2.1-nope\r\n", "tcp", False),
    ("openvpn", framed(OPENVPN_RESET_V2), "tcp", True),
    ("openvpn", framed(OPENVPN_RESET_V2_TLS_AUTH), "tcp", True),
    ("openvpn", framed(OPENVPN_RESET_V3), "tcp", True),
    ("openvpn", OPENVPN_RESET_V2, "udp", True),
    ("openvpn", OPENVPN_RESET_V3, "udp", True),
    ("openvpn", framed(b"\x40" + OPENVPN_RESET_V2[1:]), "tcp", False),  # server reset
    ("openvpn", b"\x39" + OPENVPN_RESET_V2[1:], "udp", False),  # key id 1
    ("openvpn", b"\x01\x00" + OPENVPN_RESET_V2, "tcp", False),  # length beyond the packet
    ("openvpn", OPENVPN_RESET_V2[:10], "udp", False),
    ("wireguard", WG_INITIATION, "udp", True),
    ("wireguard", b"\x02\x00\x00\x00" + bytes(88), "udp", True),
    ("wireguard", b"\x03\x00\x00\x00" + bytes(60), "udp", True),
    ("wireguard", b"\x04\x00\x00\x00" + bytes(28), "udp", True),
    ("wireguard", b"\x04\x00\x00\x00" + bytes(44), "udp", True),
    ("wireguard", WG_INITIATION + b"\x00", "udp", False),
    ("wireguard", b"\x01\x00\x01\x00" + WG_INITIATION[4:], "udp", False),
    ("wireguard", b"\x04\x00\x00\x00" + bytes(36), "udp", False),
    ("wireguard", WG_INITIATION, "tcp", False),
    ("fully-encrypted", RANDOM_400, "tcp", True),
    ("fully-encrypted", RANDOM_400, "udp", False),
    ("fully-encrypted", ssl_client_hello(), "tcp", False),
]


@pytest.mark.parametrize("name,data,transport,matches", TABLE,
                         ids=[f"{t[0]}-{t[2]}-{i}" for i, t in enumerate(TABLE)])
def test_table(name, data, transport, matches):
    assert (name in fp.classify(data, transport)) is matches


@pytest.mark.parametrize("data,transport,expected", [
    (DIG_QUERY, "udp", {"dns"}),
    (ssl_client_hello(), "tcp", {"tls"}),
    (CURL_GET, "tcp", {"http"}),
    (RFC9001_CLIENT_INITIAL, "udp", {"quic"}),
    (WG_INITIATION, "udp", {"wireguard"}),
    (RANDOM_400, "tcp", {"fully-encrypted"}),
    (b"", "tcp", set()),
    (b"", "udp", set()),
    (RANDOM_400, "sctp", set()),
])
def test_exact_sets(data, transport, expected):
    assert fp.classify(data, transport) == expected


# ------------------------------------------------------------ fully encrypted, rule by rule

_PRINTABLE = re.compile(rb"[\x20-\x7e]")


def exemptions(data: bytes) -> set[str]:
    """The exemptions of Wu et al. (2023) that apply, computed independently of the module."""
    bits = sum(bin(b).count("1") for b in data) / len(data)
    printable = [0x20 <= b <= 0x7E for b in data]
    run = best = 0
    for p in printable:
        run = run + 1 if p else 0
        best = max(best, run)
    found = set()
    if bits <= 3.4 or bits >= 4.6:
        found.add("ex1")
    if len(data) >= 6 and all(printable[:6]):
        found.add("ex2")
    if sum(printable) > len(data) / 2:
        found.add("ex3")
    if best > 20:
        found.add("ex4")
    if re.match(rb"[\x16\x17]\x03[\x00-\x09]", data) or data[:5] in (b"POST ", b"HEAD ") \
            or data[:4] in (b"GET ", b"PUT "):
        found.add("ex5")
    return found


def _non_printable_gap(data: bytes) -> int:
    """An offset with non-printable bytes on both sides."""
    return next(i for i in range(100, len(data)) if not _PRINTABLE.match(data[i - 1:i + 1]))


def _printables(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    alphabet = b"0123456789:;<=>?@PQRSTUVWXYZ[\\]^_`pqrstuvwxyz{|}~"
    return bytes(rng.choice(alphabet) for _ in range(n))


def _mixed(printable_share: int, block: int, seed: int) -> bytes:
    """Blocks of one non-printable byte then ``printable_share`` printable ones."""
    rng = random.Random(seed)
    out = b""
    while len(out) < 400:
        out += bytes((rng.choice(b"\x8b\x8d\x8e\x93\x95\x96\xa3\xa5\xa6"),)) + _printables(
            printable_share, rng.randrange(10**6))
    return out[:block]


GAP = _non_printable_gap(RANDOM_400)
LOW_BITS = bytes(random.Random(5).choice(b"\x01\x02\x04\x08\x10\x80\x81\x82\x84\x03\x05\x06")
                 for _ in range(400))
HIGH_BITS = bytes(random.Random(6).choice(b"\xff\xfe\xfd\xfb\xf7\xef\xdf\xbf\x7f")
                  for _ in range(400))

EXEMPTION_CASES = [
    ("none", RANDOM_400),
    ("ex1", LOW_BITS),
    ("ex1", HIGH_BITS),
    ("ex1", b"\x0f\x0f\x0f\x0f\x01"),  # exactly 3.4 bits per byte
    ("none", b"\x0f\x0f\x0f\x0f\x03"),  # 3.6
    ("ex1", b"\x1f\x1f\x1f\x1f\x07"),  # exactly 4.6
    ("none", b"\x1f\x1f\x1f\x1f\x03"),  # 4.4
    ("ex2", b"abc:ef" + RANDOM_400[6:]),
    ("none", b"abc:e\x80" + RANDOM_400[6:]),
    ("ex3", _mixed(9, 400, 1)),
    ("none", b"\x8f!" * 100),  # exactly 50% printable
    ("ex4", RANDOM_400[:GAP] + _printables(21, 1) + RANDOM_400[GAP:]),
    ("none", RANDOM_400[:GAP] + _printables(20, 1) + RANDOM_400[GAP:]),
    ("ex5", b"\x16\x03\x01" + RANDOM_400[3:]),
    ("ex5", b"\x17\x03\x03" + RANDOM_400[3:]),
    ("none", b"\x16\x03\x0a" + RANDOM_400[3:]),
    ("ex5", b"GET " + RANDOM_400[4:]),
    ("ex5", b"POST " + b"\x80" + RANDOM_400[6:]),
]


@pytest.mark.parametrize("rule,data", EXEMPTION_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(EXEMPTION_CASES)])
def test_each_exemption_alone_flips_the_verdict(rule, data):
    expected = set() if rule == "none" else {rule}
    assert exemptions(data) == expected  # the case isolates exactly one rule
    assert fp.fully_encrypted(data) is (rule == "none")
    assert ("fully-encrypted" in fp.classify(data, "tcp")) is (rule == "none")


def test_popcount_per_byte():
    assert fp.popcount_per_byte(b"") == 0.0
    assert fp.popcount_per_byte(b"\x00") == 0.0
    assert fp.popcount_per_byte(b"\xff") == 8.0
    assert fp.popcount_per_byte(b"\x0f\xf0\x01\x07") == 3.0


def test_fully_encrypted_empty():
    assert not fp.fully_encrypted(b"")


# ------------------------------------------------------------ properties


@settings(max_examples=300)
@given(st.binary(max_size=1500), st.sampled_from(["tcp", "udp"]))
def test_classify_never_raises(data, transport):
    names = fp.classify(data, transport)
    assert names <= fp.NAMES
    assert fp.fully_encrypted(data) == (fp.FULLY_ENCRYPTED in fp.classify(data, "tcp"))


@settings(max_examples=300)
@given(st.binary(min_size=1, max_size=1500))
def test_fully_encrypted_matches_the_rules(data):
    assert fp.fully_encrypted(data) is (not exemptions(data))


def test_a_dns_query_whose_id_looks_like_an_openvpn_opcode_is_dns_only():
    import struct
    from controllers.dpi.fingerprint import classify
    question = b"\x07example\x03com\x00" + struct.pack("!HH", 1, 1)
    for first in (0x38, 0x50):
        query = struct.pack("!HHHHHH", (first << 8) | 0x12, 0x0100, 1, 0, 0, 0) + question
        assert classify(query, "udp") == frozenset({"dns"})
