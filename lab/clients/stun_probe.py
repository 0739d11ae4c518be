"""STUN binding request (RFC 5389) over UDP: prints the address the server saw us at.

    python -m lab.clients.stun_probe HOST[:PORT] [--max-time S] [-6]     (port 3478)

Prints `mapped 198.18.0.10:40211 (from 198.19.0.12:3478, 3.1 ms)`; `-6` (or an IPv6 address,
`[2001:db8::c613:c]:3478`) asks over IPv6 and the mapped address is the client's IPv6 one
(RFC 5389 §15.2: XORed with the magic cookie and the transaction id). Exit 28 when no
response arrives in time (requests are retransmitted as RFC 5389 §7.2.1 says: 0.5 s, then
doubling).
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import struct
import time

from lab.clients.probe import (BAD_ANSWER, ProbeError, address, host_port, resolve, run,
                               udp_exchange)

MAGIC = 0x2112A442
BINDING_REQUEST, BINDING_SUCCESS, BINDING_ERROR = 0x0001, 0x0101, 0x0111
MAPPED_ADDRESS, XOR_MAPPED_ADDRESS = 0x0001, 0x0020


def request(txid: bytes) -> bytes:
    return struct.pack("!HHI", BINDING_REQUEST, 0, MAGIC) + txid


def mapped_address(msg: bytes, txid: bytes) -> tuple[str, int] | None:
    """The (XOR-)MAPPED-ADDRESS of a success response to `txid`; None if it is not one."""
    if len(msg) < 20:
        return None
    kind, length, magic = struct.unpack("!HHI", msg[:8])
    if magic != MAGIC or msg[8:20] != txid:
        return None
    if kind == BINDING_ERROR:
        raise ProbeError(BAD_ANSWER, "STUN error response")
    if kind != BINDING_SUCCESS:
        return None
    found = None
    pos, end = 20, min(len(msg), 20 + length)
    while pos + 4 <= end:
        atype, alen = struct.unpack("!HH", msg[pos:pos + 4])
        value = msg[pos + 4:pos + 4 + alen]
        size = {1: 4, 2: 16}.get(value[1] if len(value) > 1 else 0)
        if atype in (XOR_MAPPED_ADDRESS, MAPPED_ADDRESS) and size and len(value) >= 4 + size:
            port, addr = struct.unpack("!H", value[2:4])[0], value[4:4 + size]
            if atype == XOR_MAPPED_ADDRESS:
                mask = struct.pack("!I", MAGIC) + txid         # IPv6: cookie, then txid
                port ^= MAGIC >> 16
                addr = bytes(a ^ m for a, m in zip(addr, mask))
            found = (str(ipaddress.ip_address(addr)), port)
            if atype == XOR_MAPPED_ADDRESS:
                return found
        pos += 4 + alen + (-alen % 4)
    if found is None:
        raise ProbeError(BAD_ANSWER, "STUN response without a mapped address")
    return found


def main(argv=None) -> str:
    p = argparse.ArgumentParser(prog="stun_probe", description=__doc__.splitlines()[0])
    p.add_argument("target", help="HOST[:PORT]")
    p.add_argument("--max-time", type=float, default=5.0)
    p.add_argument("-6", dest="ipv6", action="store_true", help="over IPv6 (HOST's AAAA)")
    args = p.parse_args(argv)
    host, port = host_port(args.target, 3478)
    ip = resolve(host, socket.AF_INET6 if args.ipv6 else socket.AF_INET)
    txid = os.urandom(12)
    start = time.monotonic()
    # Retransmission as RFC 5389 §7.2.1 says: 0.5 s, then doubling.
    ip_port = udp_exchange(ip, port, request(txid), lambda msg: mapped_address(msg, txid),
                           args.max_time, "STUN", rto=0.5, backoff=2.0)
    ms = (time.monotonic() - start) * 1000
    return f"mapped {address(*ip_port)} (from {address(ip, port)}, {ms:.1f} ms)"

if __name__ == "__main__":
    run("stun_probe", main)
