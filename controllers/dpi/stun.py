"""STUN messages (RFC 5389 / RFC 8489, and classic RFC 3489 Binding Requests).

Owns: recognising a STUN message from its 20-byte header (two zero bits, type, length a
multiple of 4, magic cookie 0x2112A442, transaction id) and a well-formed attribute list. A
message without the magic cookie is taken as classic RFC 3489 only when it is a Binding Request
(type 0x0001) whose length matches the bytes exactly. Pure: bytes in, fields out; never raises.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .result import INCOMPLETE_RESULT, INVALID_RESULT, OK, Parsed

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
HEADER_LEN = 20

_HEADER = struct.Struct("!HHI")
_ATTRIBUTE = struct.Struct("!HH")


@dataclass(frozen=True)
class StunMessage:
    """A STUN message header."""

    msg_type: int
    length: int  # of the attributes, header excluded
    transaction_id: bytes  # 12 bytes (RFC 5389), or 16 with classic=True (RFC 3489)
    classic: bool


def _attributes_fit(data: bytes, end: int) -> bool:
    """Whether the attributes from offset 20 end exactly at ``end`` (values padded to 4)."""
    pos = HEADER_LEN
    while pos < end:
        if pos + 4 > end:
            return False
        length = _ATTRIBUTE.unpack_from(data, pos)[1]
        pos += 4 + ((length + 3) & ~3)
    return pos == end


def _prefix_ok(data: bytes) -> bool:
    """Whether a header shorter than 20 bytes can still begin a STUN message."""
    n = len(data)
    if n >= 1 and data[0] & 0xC0:
        return False
    if n >= 4 and data[3] & 3:
        return False
    if n >= 8 and _HEADER.unpack_from(data)[2] != MAGIC_COOKIE:
        return (data[0] << 8 | data[1]) == BINDING_REQUEST
    return True


def parse(data: bytes) -> Parsed[StunMessage]:
    """Parse the STUN message at the start of ``data``. Never raises.

    An RFC 5389 message may be followed by more bytes (a TCP stream); a classic one may not.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    if len(data) < HEADER_LEN:
        return INCOMPLETE_RESULT if _prefix_ok(data) else INVALID_RESULT
    if not _prefix_ok(data[:8]):
        return INVALID_RESULT
    msg_type, length, cookie = _HEADER.unpack_from(data)
    classic = cookie != MAGIC_COOKIE
    end = HEADER_LEN + length
    if len(data) < end:
        return INCOMPLETE_RESULT
    if (classic and len(data) != end) or not _attributes_fit(data, end):
        return INVALID_RESULT
    transaction_id = data[4:HEADER_LEN] if classic else data[8:HEADER_LEN]
    return Parsed(OK, StunMessage(msg_type, length, transaction_id, classic))


def looks_like_stun(data: bytes) -> bool:
    """True if ``data`` is a complete, well-formed STUN message."""
    return parse(data).ok
