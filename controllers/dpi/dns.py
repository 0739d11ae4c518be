"""DNS messages (RFC 1035): parse a query's first question, build forged responses.

Owns: reading the header and first question of a DNS query (UDP payload, or one TCP message
without its length prefix), following compression pointers safely, building the censor's
responses (NXDOMAIN / SERVFAIL / REFUSED / forged A records) and the 2-byte length framing of
DNS over TCP. Pure: bytes in, fields out; :func:`parse_query` never raises.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Sequence

from controllers.values import Value

from .result import INCOMPLETE, INCOMPLETE_RESULT, INVALID, INVALID_RESULT, OK, Parsed

NOERROR, SERVFAIL, NXDOMAIN, REFUSED = 0, 2, 3, 5
QTYPE_A, QTYPE_AAAA = 1, 28
CLASS_IN = 1

_HEADER = struct.Struct("!HHHHHH")
_TYPE_CLASS = struct.Struct("!HH")
_ANSWER_A = struct.Struct("!HHHIH")  # name pointer, type, class, ttl, rdlength
_HEADER_LEN = 12
_MAX_NAME = 255  # wire length of a name, root byte included (RFC 1035 3.1)
_QR, _OPCODE, _RD, _RA = 0x8000, 0x7800, 0x0100, 0x0080
_POINTER_TO_QUESTION = 0xC000 | _HEADER_LEN
_MAX_TTL = 0x7FFFFFFF


class DnsQuery(Value):
    """The header and first question of a DNS query: a value (controllers.values).

    One is made for every query the censor reads: compiled, dns.pxd makes it an extension
    type whose fields Python code can read and not set."""

    __slots__ = ("id", "flags", "qname", "qtype", "qclass", "question_end")

    def __init__(self, id: int, flags: int, qname: str, qtype: int, qclass: int,
                 question_end: int) -> None:
        self.id = id
        self.flags = flags
        self.qname = qname                  # lower case, no trailing dot; "" is the root
        self.qtype = qtype
        self.qclass = qclass
        self.question_end = question_end    # offset just past the first question


def _read_name(msg: bytes, pos: int) -> tuple[str, list[bytes], int]:
    """Read the name at ``pos``: (status, its labels, offset just past it in place).

    A compression pointer must jump strictly before the start of the segment that holds it,
    so the targets decrease and every name ends; the 255-byte name limit bounds the work too.
    """
    labels: list[bytes] = []
    size = 1
    end = -1
    segment_start = pos
    n = len(msg)
    while True:
        if pos >= n:
            return INCOMPLETE, labels, 0
        length = msg[pos]
        if length == 0:
            return OK, labels, pos + 1 if end < 0 else end
        if length >= 0xC0:
            if pos + 1 >= n:
                return INCOMPLETE, labels, 0
            target = ((length & 0x3F) << 8) | msg[pos + 1]
            if target >= segment_start:
                return INVALID, labels, 0
            if end < 0:
                end = pos + 2
            pos = segment_start = target
            continue
        if length > 63:  # 0x40 and 0x80: extended and reserved label types
            return INVALID, labels, 0
        size += length + 1
        if size > _MAX_NAME:
            return INVALID, labels, 0
        if pos + 1 + length > n:
            return INCOMPLETE, labels, 0
        labels.append(msg[pos + 1:pos + 1 + length])
        pos += 1 + length


def _name_text(labels: list[bytes]) -> str:
    """Labels as lower-case text; a dot or backslash inside a label is escaped as in zone files."""
    joined = b".".join(labels)
    if labels and (b"\\" in joined or joined.count(b".") != len(labels) - 1):
        joined = b".".join(label.replace(b"\\", b"\\\\").replace(b".", b"\\.")
                           for label in labels)
    return joined.lower().decode("latin-1")


def _parse(msg: bytes) -> tuple[Parsed[DnsQuery], list[bytes]]:
    n = len(msg)
    if n >= 3 and msg[2] & 0xF8:  # QR=1 (a response) or an opcode other than QUERY
        return INVALID_RESULT, []
    if n < _HEADER_LEN:
        return INCOMPLETE_RESULT, []
    ident, flags, qdcount, _, _, _ = _HEADER.unpack_from(msg)
    if qdcount == 0:
        return INVALID_RESULT, []
    status, labels, end = _read_name(msg, _HEADER_LEN)
    if status == INVALID:
        return INVALID_RESULT, []
    if status == INCOMPLETE or end + 4 > n:
        return INCOMPLETE_RESULT, []
    qtype, qclass = _TYPE_CLASS.unpack_from(msg, end)
    query = DnsQuery(ident, flags, _name_text(labels), qtype, qclass, end + 4)
    return Parsed(OK, query), labels


def parse_query(msg: bytes) -> Parsed[DnsQuery]:
    """Parse a DNS query (QR=0, opcode QUERY, at least one question). Never raises."""
    if not isinstance(msg, bytes):
        msg = bytes(msg)
    return _parse(msg)[0]


def _encode_name(labels: list[bytes]) -> bytes:
    return b"".join(bytes((len(label),)) + label for label in labels) + b"\x00"


def build_response(query: bytes, rcode: int, ipv4_answers: Sequence[str] = (),
                   ttl: int = 60, ipv6_answers: Sequence[str] = ()) -> bytes:
    """A response to ``query``: same id, QR=1, RD copied, RA=1, the first question copied.

    The question keeps the query's letter case (resolvers using 0x20 randomisation check it).
    A records for ``ipv4_answers`` are added only when the query asks for A, AAAA records for
    ``ipv6_answers`` only when it asks for AAAA; otherwise the response has no answers. Raises ValueError if ``query`` is not a parseable query, ``rcode``
    is outside 0..15 or an address is not IPv4.
    """
    if not 0 <= rcode <= 15:
        raise ValueError(f"rcode out of range: {rcode}")
    if not isinstance(query, bytes):
        query = bytes(query)
    parsed, labels = _parse(query)
    if parsed.value is None:
        raise ValueError(f"not a DNS query ({parsed.status})")
    q = parsed.value
    addresses = []
    if q.qtype == QTYPE_A:
        addresses = [ipaddress.IPv4Address(a).packed for a in ipv4_answers]
    elif q.qtype == QTYPE_AAAA:
        addresses = [ipaddress.IPv6Address(a).packed for a in ipv6_answers]
    flags = _QR | (q.flags & (_OPCODE | _RD)) | _RA | rcode
    ttl = min(max(ttl, 0), _MAX_TTL)
    parts = [_HEADER.pack(q.id, flags, 1, len(addresses), 0, 0),
             _encode_name(labels), _TYPE_CLASS.pack(q.qtype, q.qclass)]
    for packed in addresses:
        parts.append(_ANSWER_A.pack(_POINTER_TO_QUESTION, q.qtype, CLASS_IN, ttl,
                                    len(packed)))
        parts.append(packed)
    return b"".join(parts)


def split_tcp_stream(stream: bytes) -> tuple[list[bytes], int]:
    """The complete length-prefixed messages opening a TCP DNS stream, and the bytes they use."""
    messages: list[bytes] = []
    pos, n = 0, len(stream)
    while pos + 2 <= n:
        end = pos + 2 + ((stream[pos] << 8) | stream[pos + 1])
        if end > n:
            break
        messages.append(bytes(stream[pos + 2:end]))
        pos = end
    return messages, pos


def frame_tcp(msg: bytes) -> bytes:
    """``msg`` with the 2-byte length prefix of DNS over TCP; ValueError above 65535 bytes."""
    if len(msg) > 0xFFFF:
        raise ValueError("DNS message too long for TCP framing")
    return len(msg).to_bytes(2, "big") + msg
