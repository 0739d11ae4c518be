"""Every answer to one DNS query, in arrival order: what an on-path injector race looks like.

`python -m lab.clients.dns_answers NAME [--server IP] [--wait S]` sends one A query over UDP
and prints one line per response received within --wait seconds: `rcode ip,ip,...`. A stub
resolver takes the first line; the later ones are what an injecting censor could not stop.
Exit 0 when at least one answer arrived, 28 when none did.
"""
from __future__ import annotations

import argparse
import random
import socket
import struct
import sys
import time

RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}


def query(name: str, qid: int) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", 1, 1)


def _skip_name(msg: bytes, pos: int) -> int:
    while pos < len(msg):
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + n
    return pos


def answers(msg: bytes) -> tuple[int, list[str]]:
    """(rcode, IPv4 addresses) of a response."""
    rcode = msg[3] & 0x0F
    qd, an = struct.unpack_from("!HH", msg, 4)
    pos = 12
    for _ in range(qd):
        pos = _skip_name(msg, pos) + 4
    ips = []
    for _ in range(an):
        pos = _skip_name(msg, pos)
        rtype, _cls, _ttl, rdlen = struct.unpack_from("!HHIH", msg, pos)
        pos += 10
        if rtype == 1 and rdlen == 4:
            ips.append(socket.inet_ntoa(msg[pos:pos + 4]))
        pos += rdlen
    return rcode, ips


def _resolver() -> str:
    with open("/etc/resolv.conf") as f:
        for line in f:
            if line.startswith("nameserver"):
                return line.split()[1]
    return "127.0.0.1"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="dns_answers", description=__doc__.splitlines()[0])
    p.add_argument("name")
    p.add_argument("--server")
    p.add_argument("--wait", type=float, default=1.0)
    a = p.parse_args(argv)
    qid = random.randrange(1, 0xFFFF)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(query(a.name, qid), (a.server or _resolver(), 53))
        deadline = time.monotonic() + a.wait
        seen = 0
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            try:
                msg, _ = s.recvfrom(4096)
            except (socket.timeout, TimeoutError):
                break
            if len(msg) < 12 or struct.unpack_from("!H", msg)[0] != qid:
                continue
            try:
                rcode, ips = answers(msg)
            except (struct.error, IndexError):
                continue
            seen += 1
            print(f"{RCODES.get(rcode, rcode)} {','.join(ips) or '-'}", flush=True)
    if not seen:
        print("dns_answers: no answer (timed out)", file=sys.stderr)
        return 28
    return 0


if __name__ == "__main__":
    sys.exit(main())
