"""HTTP/3 GET with aioquic, trusting the lab CA (the host's /etc/ssl/certs).

    python -m lab.clients.quic_probe https://HOST[:PORT]/PATH [--max-time S] [--cafile F] [-6]
                                     [--sni NAME] [--add-ext 0xfe0d]

Prints `HTTP/3 200, 187 B in 0.04s`; exit 0 for any HTTP status (as curl without -f), 28 when
the handshake or response does not come in time, 60 when the certificate is not trusted,
35 when the server closes the handshake for another reason, 7 on an ICMP error (port
unreachable: refused), 6 when HOST does not resolve. `-6`: over IPv6 (HOST's AAAA), as
curl -6 (a dual-stack scenario). `--sni NAME` names another server in the ClientHello;
`--add-ext TYPE` adds an extension of that type (16 zero bytes) to it, as an ECH client's
outer hello carries 0xfe0d (the server ignores it; a censor may not: Russia 2024,
net4people/bbs#417).
"""
from __future__ import annotations

import argparse
import asyncio
import socket
import time
from urllib.parse import urlsplit

from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, QuicEvent

from lab.clients.probe import CERT, CONNECT, HANDSHAKE, TIMEOUT, USAGE, ProbeError, resolve, run

CAFILE = "/etc/ssl/certs/ca-certificates.crt"


class ExtraExtensionConnection(QuicConnection):
    """aioquic's connection with one more extension in its ClientHello (after its own)."""

    def __init__(self, *args, extension: tuple[int, bytes], **kwargs):
        self._extra_extension = extension
        super().__init__(*args, **kwargs)

    def _initialize(self, peer_cid: bytes) -> None:
        super()._initialize(peer_cid)
        self.tls.handshake_extensions.append(self._extra_extension)


def connection(config: QuicConfiguration, add_ext: int | None = None) -> QuicConnection:
    if add_ext is None:
        return QuicConnection(configuration=config)
    return ExtraExtensionConnection(configuration=config, extension=(add_ext, b"\x00" * 16))


class _Client(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.status: int | None = None
        self.size = 0
        self.done = asyncio.get_running_loop().create_future()
        self.refused = asyncio.get_running_loop().create_future()
        self.closed: ConnectionTerminated | None = None
        self.peer = ""

    def error_received(self, exc: OSError) -> None:
        """ICMP port/host unreachable, on the connected socket."""
        if not self.refused.done():
            self.refused.set_result(exc)

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, ConnectionTerminated):
            self.closed = event
            if not self.done.done():
                self.done.set_exception(ConnectionError(event.reason_phrase))
        for ev in self.h3.handle_event(event):
            if isinstance(ev, HeadersReceived):
                self.status = int(dict(ev.headers).get(b":status", b"0"))
            elif isinstance(ev, DataReceived):
                self.size += len(ev.data)
            if getattr(ev, "stream_ended", False) and not self.done.done():
                self.done.set_result(None)

    def get(self, authority: str, path: str) -> None:
        stream_id = self._quic.get_next_available_stream_id()
        self.h3.send_headers(stream_id, [
            (b":method", b"GET"), (b":scheme", b"https"), (b":authority", authority.encode()),
            (b":path", path.encode()), (b"user-agent", b"blocklab-quic-probe")],
            end_stream=True)
        self.transmit()


async def _until(client: _Client, step, timeout: float) -> bool:
    """Run `step` until done, the deadline (False), or an ICMP error (ProbeError 7)."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task, client.refused}, timeout=timeout,
                                 return_when=asyncio.FIRST_COMPLETED)
    if client.refused in done:
        task.cancel()
        exc = client.refused.result()
        what = "connection refused" if isinstance(exc, ConnectionRefusedError) else exc.strerror
        raise ProbeError(CONNECT, f"{what} (ICMP from {client.peer})")
    if task not in done:
        task.cancel()
        return False
    task.result()
    return True


def _failure(client: _Client) -> ProbeError:
    event = client.closed
    reason = (event.reason_phrase if event else "") or "connection closed"
    code = event.error_code if event else None
    # TLS alerts arrive as CRYPTO_ERROR 0x100 + alert: 42-48 and 116 are certificate trouble.
    alert = code - 0x100 if code is not None and 0x100 <= code <= 0x1ff else None
    if alert in (42, 43, 44, 45, 46, 48, 116) or "certificate" in reason.lower():
        return ProbeError(CERT, f"QUIC handshake: certificate not trusted: {reason}")
    return ProbeError(HANDSHAKE, f"QUIC handshake failed: {reason}"
                                 + (f" (error 0x{code:x})" if code is not None else ""))


async def fetch(url: str, max_time: float, cafile: str, family: int = socket.AF_INET,
                sni: str | None = None, add_ext: int | None = None) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "quic") or not parts.hostname:
        raise ProbeError(USAGE, f"want https://HOST[:PORT]/PATH, not {url!r}")
    host, port = parts.hostname, parts.port or 443
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    ip = resolve(host, family)
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name=sni or host)
    config.load_verify_locations(cafile=cafile)
    loop = asyncio.get_running_loop()
    start = time.monotonic()
    addr = (ip, port) if family == socket.AF_INET else (ip, port, 0, 0)   # as sendto wants
    transport, client = await loop.create_datagram_endpoint(
        lambda: _Client(connection(config, add_ext)),
        remote_addr=(ip, port), family=family)     # connected: ICMP errors come back
    client.peer = f"{ip}:{port}"
    try:
        client.connect(addr)
        try:
            if not await _until(client, client.wait_connected(), max_time):
                raise ProbeError(TIMEOUT, f"QUIC handshake timed out after {max_time:g}s "
                                          f"({ip}:{port})")
        except ConnectionError:
            raise _failure(client) from None
        client.get(parts.netloc, path)
        left = max(0.001, max_time - (time.monotonic() - start))
        try:
            if not await _until(client, asyncio.shield(client.done), left):
                raise ProbeError(TIMEOUT, f"HTTP/3 response timed out after {max_time:g}s "
                                          f"({client.size} B received)")
        except ConnectionError:
            raise _failure(client) from None
        secs = time.monotonic() - start
        return f"HTTP/3 {client.status}, {client.size} B in {secs:.2f}s"
    finally:
        client.close()
        transport.close()


def main(argv=None) -> str:
    p = argparse.ArgumentParser(prog="quic_probe", description=__doc__.splitlines()[0])
    p.add_argument("url", help="https://HOST[:PORT]/PATH")
    p.add_argument("--max-time", type=float, default=6.0)
    p.add_argument("--cafile", default=CAFILE)
    p.add_argument("-6", dest="ipv6", action="store_true", help="over IPv6")
    p.add_argument("--sni", help="server name in the ClientHello (default: HOST)")
    p.add_argument("--add-ext", type=lambda v: int(v, 0), help="extension type to add, e.g. 0xfe0d")
    args = p.parse_args(argv)
    family = socket.AF_INET6 if args.ipv6 else socket.AF_INET
    return asyncio.run(fetch(args.url, args.max_time, args.cafile, family, args.sni,
                             args.add_ext))


if __name__ == "__main__":
    run("quic_probe", main)
