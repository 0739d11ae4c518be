"""UDP echo check: send a datagram to HOST:PORT and expect the same bytes back.

    python -m lab.clients.udp_probe HOST:PORT [--max-time S] [--size N]

Prints `echoed 32 bytes from 198.19.0.13:7 in 0.9 ms`; exit 28 when nothing comes back in time
(the datagram is resent every 0.5 s), 7 on ICMP port unreachable, 56 on different bytes.
"""
from __future__ import annotations

import argparse
import os
import socket
import time

from lab.clients.probe import BAD_ANSWER, CONNECT, TIMEOUT, ProbeError, host_port, resolve, run

RESEND = 0.5


def main(argv=None) -> str:
    p = argparse.ArgumentParser(prog="udp_probe", description=__doc__.splitlines()[0])
    p.add_argument("target", help="HOST:PORT")
    p.add_argument("--max-time", type=float, default=5.0)
    p.add_argument("--size", type=int, default=32, help="payload bytes (default 32)")
    args = p.parse_args(argv)
    host, port = host_port(args.target, None)
    ip = resolve(host)
    payload = (b"blocklab-echo " + os.urandom(args.size).hex().encode())[:max(args.size, 1)]
    start = time.monotonic()
    deadline, next_send = start + args.max_time, start
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((ip, port))
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise ProbeError(TIMEOUT, f"UDP echo timed out after {args.max_time:g}s "
                                          f"({ip}:{port})")
            if now >= next_send:
                s.send(payload)
                next_send = now + RESEND
            s.settimeout(max(0.001, min(next_send, deadline) - now))
            try:
                got = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionRefusedError:
                raise ProbeError(CONNECT, f"connection refused ({ip}:{port}, "
                                          "ICMP port unreachable)") from None
            except OSError as e:      # host or network unreachable
                raise ProbeError(CONNECT, f"{e.strerror} ({ip}:{port})") from None
            if got != payload:
                raise ProbeError(BAD_ANSWER, f"answer is not the echo ({len(got)} bytes "
                                             f"back for {len(payload)})")
            ms = (time.monotonic() - start) * 1000
            return f"echoed {len(got)} bytes from {ip}:{port} in {ms:.1f} ms"


if __name__ == "__main__":
    run("udp_probe", main)
