"""The lab's small asyncio proxies' common parts (lab.compare.ptdriver, lab.compare.splitproxy,
the intercept box lab.services.intercept): relaying bytes one way between two streams (copy
until EOF, then pass the EOF on), and serving connections until Ctrl-C."""
from __future__ import annotations

import asyncio


async def relay(reader, writer) -> None:
    """Copy `reader` to `writer` until EOF or a broken connection, then half-close `writer`
    (or close it when it cannot half-close)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            writer.close()


def serve_until_interrupted(handle, host: str | list[str], port: int) -> int:
    """Accept TCP connections on host:port (host: one address or several), each to `handle(reader, writer)`, until Ctrl-C;
    0 then (a proxy's exit code)."""
    async def serve():
        srv = await asyncio.start_server(handle, host, port)
        async with srv:
            await srv.serve_forever()
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0
