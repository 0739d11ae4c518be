"""Output folders a command writes into (`--report DIR`, `--out DIR`).

`prepare` is the one check every subcommand makes before any lab comes up: the folder is
created if missing, must be a folder and must take a new file; otherwise an OutputError with
one line naming the option, e.g. `--report /proc/nope: cannot create the folder (No such file
or directory)`. `not_written` is the line a command prints when writing fails at the end
anyway (disk full, folder removed meanwhile), after it has printed its table.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


class OutputError(Exception):
    """An output folder that cannot be used; the message is one line naming the option."""


def _reason(e: OSError) -> str:
    return e.strerror or (os.strerror(e.errno) if e.errno else str(e))


def option_text(option: str, value: str) -> str:
    """An option and its value as a one-line error names them: `--report DIR`, `--out ''`."""
    return f"{option} {value}" if value.strip() and value.isprintable() else f"{option} {value!r}"


def prepare(option: str, path: str) -> Path:
    """The folder `path` (given as `option`), created if missing and checked writable."""
    where = option_text(option, path)
    if not path.strip():
        raise OutputError(f"{where}: an empty path; name a folder")
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{where}: is a file, not a folder") from None
    except OSError as e:
        if e.errno == errno.ENOTDIR:
            raise OutputError(f"{where}: a part of it is a file, not a folder") from None
        raise OutputError(f"{where}: cannot create the folder ({_reason(e)})") from None
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".blocklab-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OutputError(f"{where}: cannot write in the folder ({_reason(e)})") from None
    return folder


def not_written(option: str, path, what: str, e: OSError, kept: Path | None = None) -> str:
    """The one line saying what a failed write at the end left unwritten, and why; with
    `kept`, where the run's events survive (Lab.keep_events)."""
    line = f"{option_text(option, str(path))}: {what} not written in full ({_reason(e)})"
    return line + (f"; the censor's events are kept in {kept}" if kept else "")
