"""QUIC client Initial packets (RFC 9000, RFC 9001; v2 per RFC 9369): decrypt them, read CRYPTO.

Owns: walking the long-header packets coalesced in one UDP datagram, deriving each Initial's
client keys from its Destination Connection ID (HKDF with the version's salt and labels),
removing header protection (AES-ECB), decrypting (AES-128-GCM), reading the frames an Initial
may carry, and reassembling CRYPTO data by offset across packets and datagrams into the
ClientHello (parsed by :mod:`controllers.dpi.tls`). Pure: bytes in, fields out; never raises.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from . import tls
from .result import INCOMPLETE_RESULT, INVALID_RESULT, Parsed

VERSION_1 = 0x00000001
VERSION_2 = 0x6B3343CF
MAX_CRYPTO = tls.MAX_HANDSHAKE  # bytes of CRYPTO stream kept per connection
MAX_CID = 20

FRAME_PADDING, FRAME_PING, FRAME_ACK, FRAME_ACK_ECN = 0x00, 0x01, 0x02, 0x03
FRAME_CRYPTO, FRAME_CONNECTION_CLOSE = 0x06, 0x1C

_U32 = struct.Struct("!I")
_NOT_PADDING = re.compile(rb"[^\x00]")
_SAMPLE_OFFSET, _SAMPLE_LEN, _TAG_LEN = 4, 16, 16


class _Version(NamedTuple):
    salt: bytes
    label_prefix: bytes
    initial: int  # long-header packet type codes
    retry: int


_VERSIONS = {
    VERSION_1: _Version(bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"),
                        b"quic ", initial=0, retry=3),
    VERSION_2: _Version(bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"),
                        b"quicv2 ", initial=1, retry=0),
}


@dataclass(frozen=True)
class QuicInitial:
    """One decrypted client Initial packet."""

    version: int
    dcid: bytes
    scid: bytes
    packet_number: int
    crypto: tuple[tuple[int, bytes], ...]  # CRYPTO frames as (offset, data), in packet order


class _Keys(NamedTuple):
    aead: AESGCM
    iv: int
    hp: CipherContext  # AES-ECB encryptor: stateless per block, so reused


def _expand_label(secret: bytes, label: bytes, length: int) -> bytes:
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes((len(full),)) + full + b"\x00"
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


def _extract(salt: bytes, key_material: bytes) -> bytes:
    mac = hmac.HMAC(salt, hashes.SHA256())
    mac.update(key_material)
    return mac.finalize()


@lru_cache(maxsize=512)
def _client_keys(version: int, dcid: bytes) -> _Keys:
    """The client Initial keys for a connection (RFC 9001 5.2); cached, as Initials repeat."""
    info = _VERSIONS[version]
    secret = _expand_label(_extract(info.salt, dcid), b"client in", 32)
    prefix = info.label_prefix
    key = _expand_label(secret, prefix + b"key", 16)
    iv = _expand_label(secret, prefix + b"iv", 12)
    hp = _expand_label(secret, prefix + b"hp", 16)
    encryptor = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    return _Keys(AESGCM(key), int.from_bytes(iv, "big"), encryptor)


def _varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """(value, next offset); (-1, pos) if the buffer ends inside it."""
    if pos >= len(buf):
        return -1, pos
    first = buf[pos]
    size = 1 << (first >> 6)
    if pos + size > len(buf):
        return -1, pos
    value = first & 0x3F
    for i in range(pos + 1, pos + size):
        value = (value << 8) | buf[i]
    return value, pos + size


class _Header(NamedTuple):
    first: int
    version: int
    dcid: bytes
    scid: bytes
    initial: bool
    pn_offset: int  # where the (protected) packet number starts
    end: int  # where the packet ends in the datagram


def _long_header(data: bytes, pos: int) -> _Header | None:
    """The long header at ``pos``, or None if there is none we can walk past."""
    n = len(data)
    first = data[pos]
    if not first & 0x80 or pos + 7 > n:
        return None
    version = _U32.unpack_from(data, pos + 1)[0]
    info = _VERSIONS.get(version)
    if info is None:
        return None
    packet_type = (first >> 4) & 3
    if packet_type == info.retry:  # no Length field: always last
        return None
    p = pos + 5
    dcid_len = data[p]
    scid_at = p + 1 + dcid_len
    if dcid_len > MAX_CID or scid_at >= n or data[scid_at] > MAX_CID:
        return None
    p = scid_at + 1 + data[scid_at]
    if packet_type == info.initial:
        token_len, p = _varint(data, p)
        if token_len < 0:
            return None
        p += token_len
    length, p = _varint(data, p)
    if length < 0 or p + length > n:
        return None
    scid = data[scid_at + 1:scid_at + 1 + data[scid_at]]
    return _Header(first, version, data[pos + 6:scid_at], scid, packet_type == info.initial,
                   p, p + length)


def _decrypt(data: bytes, start: int, h: _Header) -> tuple[int, bytes] | None:
    """(packet number, plaintext payload) of the Initial at ``start``, or None."""
    sample_at = h.pn_offset + _SAMPLE_OFFSET
    if sample_at + _SAMPLE_LEN > h.end:
        return None
    keys = _client_keys(h.version, h.dcid)
    mask = keys.hp.update(data[sample_at:sample_at + _SAMPLE_LEN])
    first = h.first ^ (mask[0] & 0x0F)
    pn_len = (first & 3) + 1
    payload_at = h.pn_offset + pn_len
    pn_bytes = bytes(b ^ m for b, m in zip(data[h.pn_offset:payload_at], mask[1:]))
    packet_number = int.from_bytes(pn_bytes, "big")
    header = bytes((first,)) + data[start + 1:h.pn_offset] + pn_bytes
    nonce = (keys.iv ^ packet_number).to_bytes(12, "big")
    try:
        return packet_number, keys.aead.decrypt(nonce, data[payload_at:h.end], header)
    except (InvalidTag, ValueError):
        return None


def _skip_ack(payload: bytes, pos: int, ecn: bool) -> int:
    """Offset after an ACK frame's fields (type byte already read), or -1."""
    values = 4  # largest acknowledged, delay, range count, first range
    ranges = 0
    for i in range(values):
        value, pos = _varint(payload, pos)
        if value < 0:
            return -1
        if i == 2:
            ranges = value
    for _ in range(2 * ranges + (3 if ecn else 0)):
        value, pos = _varint(payload, pos)
        if value < 0:
            return -1
    return pos


def _skip_close(payload: bytes, pos: int) -> int:
    """Offset after a CONNECTION_CLOSE frame's fields, or -1."""
    for _ in range(2):  # error code, frame type
        value, pos = _varint(payload, pos)
        if value < 0:
            return -1
    reason, pos = _varint(payload, pos)
    if reason < 0 or pos + reason > len(payload):
        return -1
    return pos + reason


def _crypto_frames(payload: bytes) -> tuple[tuple[int, bytes], ...]:
    """The CRYPTO frames of an Initial's payload, up to the first frame not allowed there."""
    frames: list[tuple[int, bytes]] = []
    pos, n = 0, len(payload)
    while pos < n:
        frame_type = payload[pos]
        pos += 1
        if frame_type == FRAME_PADDING:
            match = _NOT_PADDING.search(payload, pos)
            pos = match.start() if match else n
        elif frame_type == FRAME_PING:
            continue
        elif frame_type == FRAME_CRYPTO:
            offset, pos = _varint(payload, pos)
            length, pos = _varint(payload, pos)
            if offset < 0 or length < 0 or pos + length > n:
                break
            frames.append((offset, payload[pos:pos + length]))
            pos += length
        elif frame_type in (FRAME_ACK, FRAME_ACK_ECN):
            pos = _skip_ack(payload, pos, frame_type == FRAME_ACK_ECN)
        elif frame_type == FRAME_CONNECTION_CLOSE:
            pos = _skip_close(payload, pos)
        else:
            break
        if pos < 0:
            break
    return tuple(frames)


def parse_initials(datagram: bytes) -> list[QuicInitial]:
    """Every client Initial in a UDP datagram that decrypts. Never raises.

    Coalesced packets are walked by their Length; other long-header packets are skipped;
    a short header, a Retry, a Version Negotiation or an unknown version ends the walk.
    """
    if not isinstance(datagram, bytes):
        datagram = bytes(datagram)
    found: list[QuicInitial] = []
    pos = 0
    while pos < len(datagram):
        header = _long_header(datagram, pos)
        if header is None:
            break
        if header.initial:
            decrypted = _decrypt(datagram, pos, header)
            if decrypted is not None:
                number, payload = decrypted
                found.append(QuicInitial(header.version, header.dcid, header.scid, number,
                                         _crypto_frames(payload)))
        pos = header.end
    return found


def looks_like_quic_initial(datagram: bytes) -> bool:
    """Long header with the fixed bit, a known version, type Initial, and room for the CIDs."""
    if len(datagram) < 7 or datagram[0] & 0xC0 != 0xC0:
        return False
    info = _VERSIONS.get(_U32.unpack_from(datagram, 1)[0])
    if info is None or (datagram[0] >> 4) & 3 != info.initial:
        return False
    dcid_len = datagram[5]
    return dcid_len <= MAX_CID and len(datagram) > 6 + dcid_len


class CryptoAssembler:
    """Reassembles one connection's client CRYPTO stream by offset, up to 64 KiB.

    Frames may come in any order, repeat or overlap, across Initial packets and datagrams.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._ranges: list[list[int]] = []  # sorted, disjoint [start, end) spans received
        self._overflow = False

    def add(self, frames: Iterable[tuple[int, bytes]]) -> None:
        """Take CRYPTO frames as (offset, data), e.g. ``QuicInitial.crypto``."""
        for offset, data in frames:
            end = offset + len(data)
            if end > MAX_CRYPTO:
                self._overflow = True
                end = MAX_CRYPTO
            if offset < 0 or offset >= end:
                continue
            if len(self._buf) < end:
                self._buf.extend(bytes(end - len(self._buf)))
            self._buf[offset:end] = data[:end - offset]
            self._insert(offset, end)

    def _insert(self, start: int, end: int) -> None:
        merged: list[list[int]] = []
        for span in self._ranges:
            if span[1] < start or span[0] > end:
                merged.append(span)
            else:
                start, end = min(start, span[0]), max(end, span[1])
        merged.append([start, end])
        merged.sort()
        self._ranges = merged

    @property
    def contiguous(self) -> int:
        """How many bytes from offset 0 have arrived without a gap."""
        if self._ranges and self._ranges[0][0] == 0:
            return self._ranges[0][1]
        return 0

    def client_hello(self) -> Parsed[tls.ClientHello]:
        """The ClientHello once its bytes are all here; INCOMPLETE before, INVALID if malformed."""
        have = self.contiguous
        if have == 0:
            return INCOMPLETE_RESULT
        result = tls.parse_handshake(self._buf[:have])  # a copy: the buffer may grow later
        if not result.ok and have == MAX_CRYPTO and self._overflow:
            return INVALID_RESULT
        return result
