"""HTTP/1.x requests (RFC 9112): method, target, version and Host from a client's first bytes.

Owns: the request line and header block of the first request on a client->server stream, with
the Host a censor matches on (from the absolute-form target if there is one, as a server would
use it, else from the Host header). Lines may end in CRLF or a bare LF, as servers accept. The
header block is bounded: one that has not ended within 16 KiB is INVALID. Pure: bytes in, fields
out; never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .result import INCOMPLETE, INCOMPLETE_RESULT, INVALID, INVALID_RESULT, OK, Parsed

MAX_HEADER_BYTES = 16 * 1024
METHODS = (b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"CONNECT", b"OPTIONS", b"TRACE",
           b"PATCH")
_METHOD_PREFIXES = tuple(m + b" " for m in METHODS)
_MAX_METHOD = 20

_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TARGET = re.compile(rb"[^\x00-\x20\x7f]+")
_VERSION = re.compile(rb"HTTP/[0-9]\.[0-9]")
_VERSION_SHAPE = b"HTTP/9.9"
_HEADER_NAME = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):")
_ABSOLUTE = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)(.*)", re.S)


@dataclass(frozen=True)
class HttpRequest:
    """The first request on a stream."""

    method: str
    path: str  # the request target; for an absolute-form target, its path part ("/" if empty)
    version: str  # e.g. "HTTP/1.1"
    host: str | None  # lower case, port (and IPv6 brackets) stripped


def _is_version_prefix(data: bytes) -> bool:
    """True if ``data`` can begin "HTTP/d.d"."""
    if len(data) > len(_VERSION_SHAPE):
        return False
    for got, shape in zip(data, _VERSION_SHAPE):
        if got != shape and not (shape == 0x39 and 0x30 <= got <= 0x39):
            return False
    return True


def _request_line_prefix_ok(line: bytes) -> bool:
    """Whether an unfinished request line (no LF yet) can still become a valid one."""
    parts = line.split(b" ", 2)
    method = parts[0]
    if len(method) > _MAX_METHOD or (method and not _TOKEN.fullmatch(method)):
        return False
    if len(parts) == 1:
        return True
    if not method or (parts[1] and not _TARGET.fullmatch(parts[1])):
        return False
    if len(parts) == 2:
        return True
    version = parts[2]
    if version.endswith(b"\r"):
        return bool(_VERSION.fullmatch(version[:-1]))
    return bool(parts[1]) and _is_version_prefix(version)


def _request_line(line: bytes) -> tuple[bytes, bytes, bytes] | None:
    parts = line.split(b" ")
    if len(parts) != 3:
        return None
    method, target, version = parts
    if (len(method) > _MAX_METHOD or not _TOKEN.fullmatch(method)
            or not _TARGET.fullmatch(target) or not _VERSION.fullmatch(version)):
        return None
    return method, target, version


def _header_lines(stream: bytes, start: int) -> tuple[str, list[bytes]]:
    """The header lines after the request line, up to the empty line that ends the block."""
    lines: list[bytes] = []
    pos, limit = start, min(len(stream), MAX_HEADER_BYTES)
    while True:
        nl = stream.find(b"\n", pos, limit)
        if nl < 0:
            return (INVALID if len(stream) >= MAX_HEADER_BYTES else INCOMPLETE), lines
        line = stream[pos:nl - 1] if nl > pos and stream[nl - 1] == 0x0D else stream[pos:nl]
        if not line:
            return OK, lines
        lines.append(line)
        pos = nl + 1


def _strip_port(authority: bytes) -> bytes:
    authority = authority.rpartition(b"@")[2]
    if authority.startswith(b"["):
        return authority[1:authority.find(b"]")] if b"]" in authority else authority[1:]
    host, colon, port = authority.rpartition(b":")
    if colon and (not port or port.isdigit()):
        return host
    return authority


def _host(lines: list[bytes], target_authority: bytes | None) -> tuple[bool, str | None]:
    """(well-formed, host): header lines must be "name: value" (or obs-fold continuations)."""
    found: bytes | None = target_authority
    for line in lines:
        if line[0] in b" \t":
            continue  # obs-fold continuation of the previous header
        match = _HEADER_NAME.match(line)
        if match is None:
            return False, None
        if found is None and match.group(1).lower() == b"host":
            found = line[match.end():].strip(b" \t")
    if found is None:
        return True, None
    host = _strip_port(found).lower()
    return True, host.decode("latin-1") if host else None


def _split_target(method: bytes, target: bytes) -> tuple[bytes, bytes | None]:
    """(path, authority from the target or None)."""
    if method == b"CONNECT":  # authority-form
        return target, target
    match = _ABSOLUTE.fullmatch(target)
    if match is None:
        return target, None
    return match.group(2) or b"/", match.group(1)


def parse_request(stream: bytes) -> Parsed[HttpRequest]:
    """Parse the request line and headers at the start of a client->server stream. Never raises.

    INCOMPLETE until the header block ends; INVALID if it does not end within 16 KiB.
    """
    if not isinstance(stream, bytes):
        stream = bytes(stream)
    start = _skip_empty_lines(stream)
    nl = stream.find(b"\n", start, MAX_HEADER_BYTES)
    if nl < 0:
        if stream.endswith(b"\r") and len(stream) == start + 1:
            return INCOMPLETE_RESULT  # half of a leading CRLF
        if len(stream) >= MAX_HEADER_BYTES or not _request_line_prefix_ok(stream[start:]):
            return INVALID_RESULT
        return INCOMPLETE_RESULT
    end = nl - 1 if nl > start and stream[nl - 1] == 0x0D else nl
    parts = _request_line(stream[start:end])
    if parts is None:
        return INVALID_RESULT
    status, lines = _header_lines(stream, nl + 1)
    if status != OK:
        if status == "invalid" or not _complete_lines_ok(lines):
            return INVALID_RESULT
        return INCOMPLETE_RESULT
    method, target, version = parts
    path, authority = _split_target(method, target)
    well_formed, host = _host(lines, authority)
    if not well_formed:
        return INVALID_RESULT
    return Parsed(OK, HttpRequest(method.decode("ascii"), path.decode("latin-1"),
                                  version.decode("ascii"), host))


def _skip_empty_lines(stream: bytes) -> int:
    """Offset of the request line: servers skip empty lines before it (RFC 9112 2.2)."""
    pos = 0
    while stream.startswith(b"\n", pos) or stream.startswith(b"\r\n", pos):
        pos += 1 if stream[pos] == 0x0A else 2
    return pos


def _complete_lines_ok(lines: list[bytes]) -> bool:
    return all(line[0] in b" \t" or _HEADER_NAME.match(line) for line in lines)


def looks_like_http(data: bytes) -> bool:
    """A known request method followed by a space at the very start."""
    return data.startswith(_METHOD_PREFIXES)
