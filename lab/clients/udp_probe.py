"""UDP echo check: send a datagram to HOST:PORT and expect the same bytes back.

    python -m lab.clients.udp_probe HOST:PORT [--max-time S] [--size N] [-6]

Prints `echoed 32 bytes from 198.19.0.13:7 in 0.9 ms`; `-6` (or an IPv6 address in brackets,
`[2001:db8::c613:d]:7`) goes over IPv6. Exit 28 when nothing comes back in time
(the datagram is resent every 0.5 s), 7 on ICMP port unreachable, 56 on different bytes.
"""
from __future__ import annotations

import argparse
import os
import socket
import time

from lab.clients.probe import (BAD_ANSWER, ProbeError, address, host_port, resolve, run,
                               udp_exchange)

RESEND = 0.5


def main(argv=None) -> str:
    p = argparse.ArgumentParser(prog="udp_probe", description=__doc__.splitlines()[0])
    p.add_argument("target", help="HOST:PORT")
    p.add_argument("--max-time", type=float, default=5.0)
    p.add_argument("--size", type=int, default=32, help="payload bytes (default 32)")
    p.add_argument("-6", dest="ipv6", action="store_true", help="over IPv6 (HOST's AAAA)")
    args = p.parse_args(argv)
    host, port = host_port(args.target, None)
    ip = resolve(host, socket.AF_INET6 if args.ipv6 else socket.AF_INET)
    payload = (b"blocklab-echo " + os.urandom(args.size).hex().encode())[:max(args.size, 1)]
    start = time.monotonic()

    def echoed(got: bytes) -> bytes:
        if got != payload:
            raise ProbeError(BAD_ANSWER, f"answer is not the echo ({len(got)} bytes "
                                         f"back for {len(payload)})")
        return got
    got = udp_exchange(ip, port, payload, echoed, args.max_time, "UDP echo", rto=RESEND)
    ms = (time.monotonic() - start) * 1000
    return f"echoed {len(got)} bytes from {address(ip, port)} in {ms:.1f} ms"

if __name__ == "__main__":
    run("udp_probe", main)
