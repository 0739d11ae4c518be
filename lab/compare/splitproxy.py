"""A local SOCKS5 proxy that splits TLS ClientHellos, as byedpi, GoodbyeDPI or zapret do.

    python -m lab.compare.splitproxy --listen 127.0.0.1:1080 --mode tcp|records

It connects straight to the destination (resolving names with the host's resolver, as the
browser would) and passes bytes through unchanged, except a connection's first record when it
is a TLS ClientHello: `tcp` sends it as two TCP segments cut in the middle of the server name,
`records` re-frames the handshake as two TLS records cut there (one TCP segment). A DPI that
reads packets (or records) one at a time finds no name; one that reassembles still does.
"""
from __future__ import annotations

import argparse
import asyncio
import socket
import struct
import sys

from lab.compare.relay import relay


def sni_cut(record: bytes) -> int:
    """An offset inside the server name of a ClientHello record (else just past the header)."""
    try:
        pos = 5 + 4 + 2 + 32
        pos += 1 + record[pos]
        pos += 2 + struct.unpack_from("!H", record, pos)[0]
        pos += 1 + record[pos]
        end = pos + 2 + struct.unpack_from("!H", record, pos)[0]
        pos += 2
        while pos + 4 <= end:
            kind, size = struct.unpack_from("!HH", record, pos)
            if kind == 0:                        # server_name: list len, type, name len, name
                name_at, name_len = pos + 4 + 5, struct.unpack_from("!H", record, pos + 7)[0]
                return name_at + max(1, name_len // 2)
            pos += 4 + size
    except (IndexError, struct.error):
        pass
    return 6


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


async def _handle(reader, writer, mode: str) -> None:
    try:
        host, port = await _socks_request(reader, writer)
        up_r, up_w = await asyncio.open_connection(host, port, family=socket.AF_INET)
    except (OSError, ConnectionError, asyncio.IncompleteReadError, UnicodeError):
        writer.write(b"\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00")
        writer.close()
        return
    sock = up_w.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    writer.write(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
    await writer.drain()
    first = await _first_record(reader)
    if first[:1] == b"\x16" and len(first) > 10:
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
    await up_w.drain()
    await asyncio.gather(relay(reader, up_w), relay(up_r, writer))
    writer.close()
    up_w.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="splitproxy", description=__doc__.splitlines()[0])
    p.add_argument("--listen", default="127.0.0.1:1080")
    p.add_argument("--mode", choices=("tcp", "records"), default="tcp")
    a = p.parse_args(argv)
    host, port = a.listen.rsplit(":", 1)

    async def serve():
        srv = await asyncio.start_server(lambda r, w: _handle(r, w, a.mode), host, int(port))
        async with srv:
            await srv.serve_forever()
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
