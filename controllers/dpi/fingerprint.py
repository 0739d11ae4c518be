"""Protocol fingerprints of a flow's first data packet, including GFW-style "fully encrypted".

Owns: naming which of ``dns, stun, quic, tls, http, ssh, openvpn, wireguard, fully-encrypted``
a first payload matches, for the ``protocol`` rule key. The fully-encrypted test follows the
exemption rules published in Wu et al., "How the Great Firewall of China Detects and Blocks
Fully Encrypted Traffic" (USENIX Security 2023), section 4: a TCP first packet is exempt if
(Ex1) its average popcount per byte is <= 3.4 or >= 4.6, (Ex2) its first 6 bytes are printable
ASCII, (Ex3) more than 50% of it is printable, (Ex4) it has more than 20 contiguous printable
bytes, or (Ex5) its first bytes match TLS or HTTP; otherwise it is fully encrypted.
Pure: bytes in, names out; never raises.
"""

from __future__ import annotations

import re

from . import dns, http, quic, stun, tls

DNS, STUN, QUIC, TLS, HTTP = "dns", "stun", "quic", "tls", "http"
SSH, OPENVPN, WIREGUARD, FULLY_ENCRYPTED = "ssh", "openvpn", "wireguard", "fully-encrypted"
NAMES = frozenset((DNS, STUN, QUIC, TLS, HTTP, SSH, OPENVPN, WIREGUARD, FULLY_ENCRYPTED))

POPCOUNT_LOW, POPCOUNT_HIGH = 3.4, 4.6
_NOT_PRINTABLE = bytes(b for b in range(256) if not 0x20 <= b <= 0x7E)
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]{21}")
_PRINTABLE_6 = re.compile(rb"[\x20-\x7e]{6}")
_TLS_START = re.compile(rb"[\x16\x17]\x03[\x00-\x09]")
_HTTP_STARTS = (b"GET ", b"PUT ", b"POST ", b"HEAD ")

_SSH_BANNERS = (b"SSH-2.0-", b"SSH-1.99-")
_OPENVPN_HARD_RESET = frozenset((7 << 3, 10 << 3))  # P_CONTROL_HARD_RESET_CLIENT_V2/V3, key 0
_OPENVPN_MIN, _OPENVPN_MAX = 14, 1600  # opcode + session id + ack array length + packet id
_WIREGUARD_SIZES = {1: 148, 2: 92, 3: 64}
_WIREGUARD_DATA_MIN = 32  # type 4: 16-byte header + 16-byte tag, payload padded to 16


def popcount_per_byte(data: bytes) -> float:
    """Average number of set bits per byte (0.0 for no bytes)."""
    if not data:
        return 0.0
    return int.from_bytes(data, "big").bit_count() / len(data)


def fully_encrypted(data: bytes) -> bool:
    """True if no exemption of Wu et al. (2023) applies to this first packet."""
    if not data:
        return False
    popcount = popcount_per_byte(data)
    if popcount <= POPCOUNT_LOW or popcount >= POPCOUNT_HIGH:  # Ex1
        return False
    if _PRINTABLE_6.match(data):  # Ex2
        return False
    if 2 * len(data.translate(None, _NOT_PRINTABLE)) > len(data):  # Ex3
        return False
    if _PRINTABLE_RUN.search(data):  # Ex4
        return False
    return not (_TLS_START.match(data) or data.startswith(_HTTP_STARTS))  # Ex5


def _is_dns(data: bytes, transport: str) -> bool:
    if transport == "udp":
        return dns.parse_query(data).ok
    messages, _ = dns.split_tcp_stream(data)
    return bool(messages) and dns.parse_query(messages[0]).ok


def _is_openvpn(data: bytes, transport: str) -> bool:
    if transport == "udp":
        return data[0] in _OPENVPN_HARD_RESET and _OPENVPN_MIN <= len(data) <= _OPENVPN_MAX
    if len(data) < 3 or data[2] not in _OPENVPN_HARD_RESET:
        return False
    length = (data[0] << 8) | data[1]
    return _OPENVPN_MIN <= length <= _OPENVPN_MAX and len(data) >= 2 + length


def _is_wireguard(data: bytes) -> bool:
    if len(data) < 4 or data[1:4] != b"\x00\x00\x00":
        return False
    size = _WIREGUARD_SIZES.get(data[0])
    if size is not None:
        return len(data) == size
    return data[0] == 4 and len(data) >= _WIREGUARD_DATA_MIN and len(data) % 16 == 0


def _is_quic(data: bytes) -> bool:
    return quic.looks_like_quic_initial(data) and bool(quic.parse_initials(data))


def classify(data: bytes, transport: str, is_dns: bool | None = None) -> frozenset[str]:
    """The fingerprint names a flow's first payload matches; ``transport`` is "tcp" or "udp".
    ``is_dns``: whether the payload parsed as a DNS query, when the caller knows already."""
    if not data or transport not in ("tcp", "udp"):
        return frozenset()
    if not isinstance(data, bytes):
        data = bytes(data)
    names = []
    if _is_dns(data, transport) if is_dns is None else is_dns:
        names.append(DNS)
    if stun.looks_like_stun(data):
        names.append(STUN)
    # An OpenVPN reset is only an opcode byte and a length: a DNS query whose id starts with
    # 0x38 or 0x50 has that shape too. A datagram that parses as DNS is DNS.
    if DNS not in names and _is_openvpn(data, transport):
        names.append(OPENVPN)
    if transport == "udp":
        if _is_wireguard(data):
            names.append(WIREGUARD)
        if _is_quic(data):
            names.append(QUIC)
    else:
        if tls.looks_like_tls(data):
            names.append(TLS)
        if http.looks_like_http(data):
            names.append(HTTP)
        if data.startswith(_SSH_BANNERS):
            names.append(SSH)
        if fully_encrypted(data):
            names.append(FULLY_ENCRYPTED)
    return frozenset(names)
