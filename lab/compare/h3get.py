"""HTTP/3 GET for comparisons: prints what curl's -w prints for the runner, bytes and all.

    python -m lab.compare.h3get URL [--max-time S] [--connect-timeout S] [-6]

Prints `STATUS TTFB BYTES SECONDS` (curl's `%{http_code} %{time_starttransfer}
%{size_download} %{time_total}`). Exit 0 when the response ended, 28 when --max-time cut it
(a bulk download: the bytes so far count), 7 on ICMP unreachable, 35 when the QUIC handshake
fails or does not finish within --connect-timeout. It drives lab.clients.quic_probe's client.
`-6`: over IPv6 (the name's AAAA), as curl -6.
"""
from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
from urllib.parse import urlsplit

from aioquic.h3.connection import H3_ALPN
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection

from lab.clients.probe import ProbeError, resolve
from lab.clients.quic_probe import CAFILE, _Client


class _Timed(_Client):
    first_byte: float | None = None

    def quic_event_received(self, event) -> None:
        before = self.status
        super().quic_event_received(event)
        if self.first_byte is None and (self.status != before or self.size):
            self.first_byte = time.monotonic()


async def get(url: str, max_time: float, connect_timeout: float,
              family: int = socket.AF_INET) -> tuple[int, str]:
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 443
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    start = time.monotonic()
    ip = resolve(host, family)
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name=host)
    config.load_verify_locations(cafile=CAFILE)
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(
        lambda: _Timed(QuicConnection(configuration=config)), remote_addr=(ip, port),
        family=family)
    client.peer = f"{ip}:{port}"
    addr = (ip, port) if family == socket.AF_INET else (ip, port, 0, 0)   # as sendto wants

    def line(code: int) -> str:
        ttfb = (client.first_byte - start) if client.first_byte else 0.0
        return f"{client.status or 0} {ttfb:.6f} {client.size} {time.monotonic() - start:.6f}"
    try:
        client.connect(addr)
        waiting = asyncio.ensure_future(client.wait_connected())
        done, _ = await asyncio.wait({waiting, client.refused}, timeout=connect_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if client.refused in done:
            return 7, line(7)
        if waiting not in done or waiting.exception():
            waiting.cancel()
            return 35, line(35)
        client.get(parts.netloc, path)
        left = max(0.001, max_time - (time.monotonic() - start))
        try:
            await asyncio.wait_for(asyncio.shield(client.done), left)
        except asyncio.TimeoutError:
            return 28, line(28)
        except ConnectionError:
            return 56, line(56)
        return 0, line(0)
    finally:
        client.close()
        transport.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="h3get", description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--max-time", type=float, default=6.0)
    p.add_argument("--connect-timeout", type=float, default=2.0)
    p.add_argument("-6", dest="ipv6", action="store_true", help="over IPv6")
    a = p.parse_args(argv)
    family = socket.AF_INET6 if a.ipv6 else socket.AF_INET
    try:
        code, out = asyncio.run(get(a.url, a.max_time, a.connect_timeout, family))
    except ProbeError as e:
        print(f"h3get: {e}", file=sys.stderr)
        return e.code
    print(out)
    return code


if __name__ == "__main__":
    sys.exit(main())
