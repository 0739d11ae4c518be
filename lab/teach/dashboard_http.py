"""The dashboard's HTTP plumbing (lab/teach/dashboard.py): the socket on 127.0.0.1, JSON
request bodies, one-line JSON errors, writes to a server-sent event stream, and reading the
lines appended to a growing file (the censors' events.jsonl)."""
from __future__ import annotations

import socket

from aiohttp import web


class BadRequest(Exception):
    """A request the page (or a hand-written client) got wrong; one line for the user."""


async def json_body(request) -> dict:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def listen(port: int) -> socket.socket:
    """A socket on 127.0.0.1:port (0: a free port); OSError says why not."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    return sock


async def send(response, text: str) -> bool:
    try:
        await response.write(text.encode())
        return True
    except (ConnectionError, RuntimeError):    # aiohttp's ClientConnectionResetError too
        return False


def new_lines(path, offset: int) -> tuple[list[str], int]:
    """Complete lines appended to the events file since `offset`."""
    if path is None:
        return [], offset
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            chunk = f.read()
    except OSError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    return chunk[:end].decode("utf-8", "replace").splitlines(), offset + end
