"""The few DNS wire helpers host-side clients share: build an A query, read an answer, find
the host's resolver. (The censor's full parser is controllers/dpi/dns.py; clients stay small.)"""
from __future__ import annotations

import socket
import struct


def a_query(name: str, qid: int, qtype: int = 1) -> bytes:
    """A recursive A/IN query (or `qtype`: 28 for AAAA) for `name` with id `qid`."""
    labels = b"".join(bytes([len(p)]) + p.encode("idna") for p in name.rstrip(".").split("."))
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\0" + \
        struct.pack("!HH", qtype, 1)


def _skip_name(msg: bytes, pos: int) -> int:
    while pos < len(msg):
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + n
    raise ValueError("truncated name")


def parse_answer(msg: bytes) -> tuple[int, list[tuple[str, int]]]:
    """(rcode, [(address, ttl)]) of a DNS response (A and AAAA records); ValueError/
    struct.error when malformed."""
    rcode = msg[3] & 0x0F
    qd, an = struct.unpack_from("!HH", msg, 4)
    pos = 12
    for _ in range(qd):
        pos = _skip_name(msg, pos) + 4
    out = []
    for _ in range(an):
        pos = _skip_name(msg, pos)
        rtype, _cls, ttl, rdlen = struct.unpack_from("!HHIH", msg, pos)
        pos += 10
        if rtype == 1 and rdlen == 4:
            out.append((socket.inet_ntoa(msg[pos:pos + 4]), ttl))
        elif rtype == 28 and rdlen == 16:
            out.append((socket.inet_ntop(socket.AF_INET6, msg[pos:pos + 16]), ttl))
        pos += rdlen
    return rcode, out


def system_resolver() -> str:
    """The first nameserver in this host's /etc/resolv.conf."""
    try:
        with open("/etc/resolv.conf") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    return parts[1]
    except OSError:
        pass
    return "127.0.0.1"
