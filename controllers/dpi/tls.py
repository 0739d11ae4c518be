"""TLS ClientHello (RFC 8446, RFC 5246): SNI, extensions, ALPN and versions, from first bytes.

Owns: the TLS record layer of a client->server stream (joining a handshake message fragmented
over several records, or not, as a DPI that does not reassemble records would), and the
ClientHello handshake message itself, which QUIC also carries bare in its CRYPTO frames
(:func:`parse_handshake`). Opaque extensions (GREASE, ECH 0xfe0d, ESNI 0xffce, padding, large
post-quantum key shares) are only listed. Pure: bytes in, fields out; never raises.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .result import INCOMPLETE_RESULT, INVALID_RESULT, OK, Parsed

CONTENT_HANDSHAKE = 0x16
HANDSHAKE_CLIENT_HELLO = 1
EXT_SERVER_NAME = 0x0000
EXT_ALPN = 0x0010
EXT_PADDING = 0x0015
EXT_SUPPORTED_VERSIONS = 0x002B
EXT_KEY_SHARE = 0x0033
EXT_ECH = 0xFE0D
EXT_ESNI = 0xFFCE

MAX_RECORD = 1 << 14  # plaintext record payload limit (RFC 8446 5.1)
MAX_HANDSHAKE = 1 << 16  # largest ClientHello accepted, 4-byte header included
_HOST_NAME = 0
_PARSED_EXTENSIONS = frozenset((EXT_SERVER_NAME, EXT_ALPN, EXT_SUPPORTED_VERSIONS))
_TYPE_LENGTH = struct.Struct("!HH")


@dataclass(frozen=True)
class ClientHello:
    """The fields of a ClientHello a censor matches on."""

    sni: str | None  # first host_name, lower case
    extensions: tuple[int, ...]  # extension types in order, GREASE included
    alpn: tuple[str, ...]
    legacy_version: int
    supported_versions: tuple[int, ...]


class _Need(Exception):
    """The bytes end before the structure does: more may complete it."""


class _Bad(Exception):
    """The bytes cannot begin a valid structure."""


class _Reader:
    """A cursor over ``buf[pos:end]``, where ``end`` may lie beyond the bytes we have."""

    __slots__ = ("buf", "pos", "end", "have")

    def __init__(self, buf: memoryview, pos: int, end: int) -> None:
        self.buf, self.pos, self.end, self.have = buf, pos, end, len(buf)

    def skip(self, n: int) -> int:
        start, new = self.pos, self.pos + n
        if new > self.end:
            raise _Bad
        if new > self.have:
            raise _Need
        self.pos = new
        return start

    def u8(self) -> int:
        return self.buf[self.skip(1)]

    def u16(self) -> int:
        i = self.skip(2)
        return (self.buf[i] << 8) | self.buf[i + 1]

    def u24(self) -> int:
        i = self.skip(3)
        return (self.buf[i] << 16) | (self.buf[i + 1] << 8) | self.buf[i + 2]

    def sub(self, n: int) -> _Reader:
        """A reader over the next ``n`` bytes, which this one then steps over."""
        start, end = self.pos, self.pos + n
        if end > self.end:
            raise _Bad
        self.pos = end
        return _Reader(self.buf, start, end)

    def take(self, n: int) -> bytes:
        i = self.skip(n)
        return self.buf[i:i + n].tobytes()

    def at_end(self) -> bool:
        return self.pos >= self.end


def _server_name(r: _Reader) -> str | None:
    names = r.sub(r.u16())
    if not r.at_end():
        raise _Bad
    while not names.at_end():
        name_type = names.u8()
        name = names.take(names.u16())
        if name_type == _HOST_NAME:
            return name.lower().decode("latin-1")
    return None


def _alpn(r: _Reader) -> tuple[str, ...]:
    protocols = r.sub(r.u16())
    if not r.at_end():
        raise _Bad
    out = []
    while not protocols.at_end():
        out.append(protocols.take(protocols.u8()).decode("latin-1"))
    return tuple(out)


def _supported_versions(r: _Reader) -> tuple[int, ...]:
    length = r.u8()
    versions = r.sub(length)
    if length & 1 or not r.at_end():
        raise _Bad
    return tuple(versions.u16() for _ in range(length // 2))


class _Extensions:
    """What the extension block says; only the first of a duplicated extension counts."""

    __slots__ = ("sni", "types", "alpn", "versions")

    def __init__(self) -> None:
        self.sni: str | None = None
        self.types: list[int] = []
        self.alpn: tuple[str, ...] = ()
        self.versions: tuple[int, ...] = ()

    def read(self, r: _Reader) -> None:
        buf, pos, end, have = r.buf, r.pos, r.end, r.have
        seen: set[int] = set()
        while pos < end:
            if pos + 4 > end:
                raise _Bad
            if pos + 4 > have:
                raise _Need
            ext_type, length = _TYPE_LENGTH.unpack_from(buf, pos)
            pos += 4
            if pos + length > end:
                raise _Bad
            self.types.append(ext_type)
            if ext_type in _PARSED_EXTENSIONS and ext_type not in seen:
                seen.add(ext_type)
                self._parse_one(ext_type, _Reader(buf, pos, pos + length))
            pos += length

    def _parse_one(self, ext_type: int, data: _Reader) -> None:
        if ext_type == EXT_SERVER_NAME:
            self.sni = _server_name(data)
        elif ext_type == EXT_ALPN:
            self.alpn = _alpn(data)
        else:
            self.versions = _supported_versions(data)


def _client_hello_body(r: _Reader) -> ClientHello:
    legacy_version = r.u16()
    if legacy_version >> 8 != 3:
        raise _Bad
    r.skip(32)  # random
    session_id = r.u8()
    if session_id > 32:
        raise _Bad
    r.skip(session_id)
    suites = r.u16()
    if suites < 2 or suites & 1:
        raise _Bad
    r.skip(suites)
    compressions = r.u8()
    if compressions < 1:
        raise _Bad
    r.skip(compressions)
    fields = _Extensions()
    if r.pos != r.end:  # no extension block at all is legal (TLS 1.0 style)
        extensions = r.sub(r.u16())
        if extensions.end != r.end:
            raise _Bad
        fields.read(extensions)
    return ClientHello(fields.sni, tuple(fields.types), fields.alpn, legacy_version,
                       fields.versions)


def _handshake(buf: memoryview, cap: int) -> ClientHello:
    """Parse a ClientHello handshake message at the start of ``buf``; it may not exceed ``cap``."""
    r = _Reader(buf, 0, cap)
    if r.u8() != HANDSHAKE_CLIENT_HELLO:
        raise _Bad
    length = r.u24()
    if 4 + length > cap:
        raise _Bad
    hello = _client_hello_body(r.sub(length))
    if 4 + length > len(buf):  # opaque tails (padding, key shares) are stepped over unread
        raise _Need
    return hello


def _run(buf: memoryview, cap: int) -> Parsed[ClientHello]:
    try:
        return Parsed(OK, _handshake(buf, cap))
    except _Need:
        return INCOMPLETE_RESULT
    except _Bad:
        return INVALID_RESULT


def parse_handshake(msg: bytes) -> Parsed[ClientHello]:
    """Parse a bare ClientHello handshake message (type, 3-byte length, body), as QUIC carries it.

    Bytes after the message are ignored. Never raises.
    """
    return _run(memoryview(msg), MAX_HANDSHAKE)


def _record_length(stream: memoryview, pos: int) -> int:
    """Check the record header at ``pos`` and return its payload length."""
    r = _Reader(stream, pos, pos + 5)
    if r.u8() != CONTENT_HANDSHAKE or r.u8() != 3 or r.u8() > 0x0F:
        raise _Bad
    length = r.u16()
    if length == 0 or length > MAX_RECORD:
        raise _Bad
    return length


def _first_record(stream: memoryview) -> tuple[memoryview, int]:
    """The first record's payload (as much as we have) and its declared length."""
    try:
        length = _record_length(stream, 0)
    except _Need:
        return stream[5:5], 1
    return stream[5:5 + length], length


def _joined_records(stream: memoryview) -> memoryview:
    """The handshake bytes of consecutive handshake records, up to the end of the first message."""
    fragments: list[memoryview] = []
    have, want, pos = 0, 4, 0
    while have < want:
        try:
            length = _record_length(stream, pos)
        except _Need:
            break
        fragments.append(stream[pos + 5:pos + 5 + length])
        have += len(fragments[-1])
        pos += 5 + length
        if want == 4 and have >= 4:
            head = b"".join(fragments[:4])[:4]
            want = 4 + int.from_bytes(head[1:4], "big")
            if want > MAX_HANDSHAKE:
                raise _Bad
    if len(fragments) == 1:
        return fragments[0]
    return memoryview(b"".join(fragments))


def parse_client_hello(stream: bytes, join_records: bool = True) -> Parsed[ClientHello]:
    """Parse the ClientHello at the start of a client->server TLS stream. Never raises.

    With ``join_records`` the handshake message may span consecutive handshake records; without
    it only the first record counts, and a ClientHello that does not fit in it is INVALID.
    """
    view = memoryview(stream)
    try:
        if join_records:
            return _run(_joined_records(view), MAX_HANDSHAKE)
        payload, length = _first_record(view)
    except _Bad:
        return INVALID_RESULT
    return _run(payload, min(length, MAX_HANDSHAKE))


def looks_like_tls(data: bytes) -> bool:
    """A handshake record header (0x16 0x03 0x0?, length 1..16384) opening a ClientHello."""
    if len(data) < 6 or data[0] != CONTENT_HANDSHAKE or data[1] != 3 or data[2] > 0x0F:
        return False
    length = (data[3] << 8) | data[4]
    return 0 < length <= MAX_RECORD and data[5] == HANDSHAKE_CLIENT_HELLO
