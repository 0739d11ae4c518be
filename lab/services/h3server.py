"""A small HTTP/3 server (aioquic): serves a folder over QUIC on UDP, for `serve: [quic]`.

    python -m lab.services.h3server --host IP --port 443 --cert C --key K --root DIR [--log F]

GET and HEAD of files under DIR (`/` is index.html); 404 otherwise. Large files go out in
chunks as the client acknowledges them, so a 100 MB bulk file costs little memory.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import mimetypes
import signal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from aioquic.asyncio import QuicConnectionProtocol, serve
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ProtocolNegotiated, QuicEvent

log = logging.getLogger("h3server")

CHUNK = 64 * 1024
IN_FLIGHT = 1024 * 1024      # unacknowledged bytes per stream before we wait for ACKs
SERVER = b"blocklab-h3"


def resolve(root: Path, target: str) -> Path | None:
    """The file a request target names under root, or None (missing, or outside root)."""
    path = unquote(urlsplit(target).path or "/")
    candidate = (root / path.lstrip("/")).resolve()
    if candidate.is_dir():
        candidate = candidate / "index.html"
    try:
        candidate.relative_to(root)
    except ValueError:
        return None
    return candidate if candidate.is_file() else None


class H3Server(QuicConnectionProtocol):
    root: Path = Path(".")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._h3: H3Connection | None = None
        self._sending: dict[int, object] = {}    # stream id -> open file still being sent

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, ProtocolNegotiated) and event.alpn_protocol in H3_ALPN:
            self._h3 = H3Connection(self._quic)
        if self._h3 is None:
            return
        for ev in self._h3.handle_event(event):
            if isinstance(ev, HeadersReceived):
                self._request(ev.stream_id, dict(ev.headers))

    def _request(self, stream_id: int, headers: dict) -> None:
        method = headers.get(b":method", b"").decode()
        target = headers.get(b":path", b"/").decode(errors="replace")
        path = resolve(self.root, target) if method in ("GET", "HEAD") else None
        status = 200 if path else (404 if method in ("GET", "HEAD") else 405)
        if path:
            ctype = (mimetypes.guess_type(path.name)[0] or "application/octet-stream").encode()
            size = path.stat().st_size
        else:
            ctype, size = b"text/plain", len(b"not found\n")
        log.info("%s %s %d", method, target, status)
        self._h3.send_headers(stream_id, [
            (b":status", str(status).encode()), (b"server", SERVER),
            (b"content-type", ctype), (b"content-length", str(size).encode())],
            end_stream=method == "HEAD")
        if method == "HEAD":
            self.transmit()
            return
        if path:
            self._sending[stream_id] = open(path, "rb")
            self._top_up()
        else:
            self._h3.send_data(stream_id, b"not found\n", end_stream=True)
        self.transmit()

    def _top_up(self) -> None:
        """Queue more of each file being sent while little of it is unacknowledged."""
        for stream_id, f in list(self._sending.items()):
            stream = self._quic._streams.get(stream_id)
            if stream is None:                      # reset or closed by the client
                f.close()
                del self._sending[stream_id]
                continue
            sender = stream.sender
            while sender._buffer_stop - sender._buffer_start < IN_FLIGHT:
                chunk = f.read(CHUNK)
                if not chunk:
                    self._h3.send_data(stream_id, b"", end_stream=True)
                    f.close()
                    del self._sending[stream_id]
                    break
                self._h3.send_data(stream_id, chunk, end_stream=False)

    def datagram_received(self, data, addr) -> None:
        super().datagram_received(data, addr)
        if self._sending and self._h3 is not None:
            self._top_up()
            self.transmit()

    def connection_lost(self, exc) -> None:
        for f in self._sending.values():
            f.close()
        self._sending.clear()
        super().connection_lost(exc)


async def main(args) -> None:
    config = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    config.load_cert_chain(args.cert, args.key)
    H3Server.root = Path(args.root).resolve()
    server = await serve(args.host, args.port, configuration=config,
                         create_protocol=H3Server)
    log.info("serving %s on udp %s:%d", H3Server.root, args.host, args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def cli(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--root", required=True)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
