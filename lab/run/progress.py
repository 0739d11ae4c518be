"""Progress of long steps on stderr: "starting services 3/7: web@apple".

A progress callback takes one message; an empty message means the step is over. On a
terminal each message replaces the last on one line (cleared at the end); elsewhere (logs,
CI) `lines()` prints one line each and `default()` prints nothing, so captured output stays
as it was.
"""
from __future__ import annotations

import os
import sys
from typing import Callable

Progress = Callable[[str], None]


def terminal(stream=None, prefix: str = "") -> Progress:
    """One line, rewritten in place: for a person watching a terminal."""
    stream = stream or sys.stderr

    def show(message: str) -> None:
        text = f"{prefix}{message}" if message else ""
        width = _width()
        if len(text) > width - 1:
            text = text[:width - 2] + "…"
        stream.write("\r\x1b[K" + text)
        stream.flush()
    return show


def lines(stream=None, prefix: str = "") -> Progress:
    """One line per message (empty messages print nothing)."""
    stream = stream or sys.stderr

    def show(message: str) -> None:
        if message:
            print(f"{prefix}{message}", file=stream, flush=True)
    return show


def default() -> Progress | None:
    """`terminal()` when stderr is a terminal (and BLOCKLAB_PROGRESS is not 0); else None."""
    if os.environ.get("BLOCKLAB_PROGRESS", "") == "0":
        return None
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return terminal() if tty else None


def auto(prefix: str = "") -> Progress:
    """In place on a terminal, one line each elsewhere."""
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return terminal(prefix=prefix) if tty else lines(prefix=prefix)


def _width() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 100
