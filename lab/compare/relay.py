"""Relaying bytes one way between two asyncio streams, for the compare tools' small proxies
(lab.compare.ptdriver, lab.compare.splitproxy): copy until EOF, then pass the EOF on."""
from __future__ import annotations


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
