"""The censor's control socket: a Unix stream server, one JSON object per line each way.

It owns the transport only — the socket file (mode 0600), line framing and limits, JSON in and
out — and hands each command (a dict) to the app's `answer`, whose reply it writes back. A
line that is not a JSON object, not UTF-8, too long or too deep gets {"ok": false, "error": ...}
(a too long line also ends the connection); an idle connection is closed after IDLE s; one
client's failure never reaches another (docs/internals.md, "the control socket").
"""
from __future__ import annotations

import json
import logging
import os
from typing import Callable

from os_ken.lib import hub
from controllers.openflow.sockpath import unix_address

log = logging.getLogger("blocklab.censor")

MAX_LINE = 4 * 1024 * 1024      # bytes in one command line
IDLE = 300.0                    # seconds a connection may sit silent
BACKLOG = 1024                  # connections waiting to be accepted

Answer = Callable[[dict], dict]


def serve(path: str, answer: Answer) -> None:
    """Listen on `path` (replacing a stale socket) and answer forever (a greenthread)."""
    if os.path.exists(path):
        os.unlink(path)
    old = os.umask(0o177)
    try:
        with unix_address(path) as address:     # bound by the time the block ends
            server = hub.StreamServer((address,), lambda sock, _addr: handle(sock, answer))
        server.server.listen(BACKLOG)   # room for bursts of clients (and silent ones)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    server.serve_forever()


def handle(sock, answer: Answer) -> None:
    """One connection: a reply line for every command line, until the client goes."""
    try:
        sock.settimeout(IDLE)
        f = sock.makefile("rwb")
        while True:
            line = f.readline(MAX_LINE + 1)
            if not line:
                break
            too_long = len(line) > MAX_LINE
            reply = ({"ok": False, "error": f"command longer than {MAX_LINE} bytes"}
                     if too_long else reply_to(line, answer))
            f.write(encode(reply))
            f.flush()
            if too_long:        # the rest of that line cannot be told from a command
                break
    except Exception as e:      # a vanished or stalled client: only this connection ends
        log.info("control connection ended: %s", e)
    finally:
        sock.close()


def reply_to(line: bytes, answer: Answer) -> dict:
    """The reply to one command line."""
    try:
        command = json.loads(line)
        if not isinstance(command, dict):
            raise ValueError("a command is a JSON object")
    except (ValueError, RecursionError) as e:
        return {"ok": False, "error": f"malformed command: {e}"}
    try:
        return answer(command)
    except Exception as e:      # one command must never stop the censor
        log.exception("control command failed: %r", command)
        return {"ok": False, "error": f"internal error: {e}"}


def encode(reply: dict) -> bytes:
    try:
        return json.dumps(reply).encode() + b"\n"
    except (TypeError, ValueError) as e:
        return json.dumps({"ok": False, "error": f"internal error: reply: {e}"}).encode() + b"\n"
