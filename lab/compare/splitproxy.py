"""A local SOCKS5 proxy that splits TLS ClientHellos, as byedpi, GoodbyeDPI or zapret do.

    python -m lab.compare.splitproxy --listen 127.0.0.1:1080 --mode MODE [-6]

MODE: tcp, records, or a desync method of lab.clients.desync (fake-badsum, fake-badseq,
disorder, multisplit: the hello is then handed to the kernel as sent and put on the wire
by the proxy's packet socket, shaped by the method; one line per connection on stdout says
what went out).

It connects straight to the destination (resolving names with the host's resolver, as the
browser would) and passes bytes through unchanged, except a connection's first record when it
is a TLS ClientHello: `tcp` sends it as two TCP segments cut in the middle of the server name,
`records` re-frames the handshake as two TLS records cut there (one TCP segment). A DPI that
reads packets (or records) one at a time finds no name; one that reassembles still does.
It connects over IPv4; `-6` over IPv6, to the destination's AAAA, for a comparison kept to
IPv6 (the desync methods' packet socket then sends IPv6 frames: lab.clients.fakes).
"""
from __future__ import annotations

import argparse
import asyncio
import socket
import struct
import sys

from lab.clients import desync
from lab.clients.fakes import Connection
from lab.clients.tls_hello import sni_span
from lab.compare.relay import relay, serve_until_interrupted

CONNECT_TIMEOUT = 5.0


def sni_cut(record: bytes) -> int:
    """An offset inside the server name of a ClientHello record (else just past the header)."""
    span = sni_span(record)
    return span[0] + max(1, span[1] // 2) if span else 6


def two_records(record: bytes, cut: int) -> bytes:
    """The handshake in `record` as two TLS records, the first ending at byte `cut`."""
    body, head = record[5:], record[:3]
    k = max(1, min(len(body) - 1, cut - 5))
    return b"".join(head + struct.pack("!H", len(p)) + p for p in (body[:k], body[k:]))


async def _first_record(reader) -> bytes:
    data = await reader.read(65536)
    if len(data) >= 5 and data[0] == 0x16 and data[1] == 3:
        want = 5 + struct.unpack_from("!H", data, 3)[0]
        while len(data) < want:
            more = await reader.read(65536)
            if not more:
                break
            data += more
    return data


async def _socks_request(reader, writer) -> tuple[str, int]:
    head = await reader.readexactly(2)
    await reader.readexactly(head[1])
    writer.write(b"\x05\x00")
    ver, cmd, _, atyp = await reader.readexactly(4)
    if atyp == 1:
        host = socket.inet_ntoa(await reader.readexactly(4))
    elif atyp == 3:
        host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
    else:
        raise ConnectionError("only IPv4 and names")
    port = struct.unpack("!H", await reader.readexactly(2))[0]
    if cmd != 1:
        raise ConnectionError("only CONNECT")
    return host, port


async def _connect(host: str, port: int, mode: str, family: int = socket.AF_INET):
    """(reader, writer, the fakes.Connection of a desync mode or None) to host:port."""
    if mode not in desync.METHODS:
        return (*await asyncio.open_connection(host, port, family=family), None)
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, family=family, type=socket.SOCK_STREAM)
    conn = await asyncio.to_thread(Connection, infos[0][4][0], port, CONNECT_TIMEOUT)
    try:
        return (*await asyncio.open_connection(sock=conn.sock), conn)
    except OSError:
        conn.close()
        raise


async def _handle(reader, writer, mode: str, family: int = socket.AF_INET) -> None:
    try:
        host, port = await _socks_request(reader, writer)
        up_r, up_w, conn = await _connect(host, port, mode, family)
    except (OSError, ConnectionError, asyncio.IncompleteReadError, UnicodeError,
            TimeoutError):
        writer.write(b"\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00")
        writer.close()
        return
    sock = up_w.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    writer.write(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
    await writer.drain()
    first = await _first_record(reader)
    hello = first[:1] == b"\x16" and len(first) > 10
    if conn is not None and hello:             # the kernel is told it is sent; we send it
        try:
            lines = await asyncio.to_thread(desync.send, conn, mode, first)
            print(f"{host}:{port}", "; ".join(lines), flush=True)
        finally:
            conn.raw.close()
    elif hello:
        cut = sni_cut(first)
        if mode == "records":
            up_w.write(two_records(first, cut))
        else:
            up_w.write(first[:cut])
            await up_w.drain()
            await asyncio.sleep(0.05)          # two segments on the wire
            up_w.write(first[cut:])
    elif first:
        up_w.write(first)
    if conn is not None:
        conn.raw.close()
    await up_w.drain()
    await asyncio.gather(relay(reader, up_w), relay(up_r, writer))
    writer.close()
    up_w.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="splitproxy", description=__doc__.splitlines()[0])
    p.add_argument("--listen", default="127.0.0.1:1080")
    p.add_argument("--mode", choices=("tcp", "records", *desync.METHODS), default="tcp")
    p.add_argument("-6", dest="ipv6", action="store_true", help="connect over IPv6")
    a = p.parse_args(argv)
    host, port = a.listen.rsplit(":", 1)
    family = socket.AF_INET6 if a.ipv6 else socket.AF_INET
    return serve_until_interrupted(lambda r, w: _handle(r, w, a.mode, family), host, int(port))


if __name__ == "__main__":
    sys.exit(main())
