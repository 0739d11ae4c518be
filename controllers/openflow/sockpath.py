"""Unix socket paths of any length: AF_UNIX addresses hold at most 107 bytes of path.

A run directory can sit deep (pytest's tmp paths, BLOCKLAB_RUNS under a long home), and a
routed lab's censors put their control sockets one level further down
(`RUN/censors/NAME/control.sock`). Past the limit, bind() and connect() fail. `unix_address`
gives an address that fits for as long as its block runs: the path itself when short enough,
else the same file reached through an O_PATH descriptor of its folder
(`/proc/self/fd/N/NAME`), which Linux resolves like the long path. Pure standard library:
the censor binds with it and `lab` connects with it.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

MAX_PATH = 107      # bytes of sun_path, less the terminating NUL


@contextmanager
def unix_address(path: str | os.PathLike) -> Iterator[str]:
    """An AF_UNIX address for `path`, valid inside the `with` block."""
    path = os.fspath(path)
    if len(os.fsencode(path)) <= MAX_PATH:
        yield path
        return
    folder, name = os.path.split(path)
    fd = os.open(folder or ".", os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{name}"
    finally:
        os.close(fd)
