"""The ground-truth log: one JSON object per line, appended as each event happens.

Bounded on disk: when writing a line would take `events.jsonl` past `max_bytes` (64 MiB by
default), the file is rotated first: `events.jsonl.1` becomes `.2` and so on, the current file
becomes `.1`, and a new `events.jsonl` is started. At most `keep` rotated files are kept (4 by
default), the oldest is deleted, so the log never takes more than about (keep + 1) * max_bytes.
The newest events are always in `events.jsonl`; read `.N` (oldest) down to `.1` and then the
current file for the whole history. Opening appends: a restarted censor (the lab's watchdog)
continues the same log. A line is written out (to the kernel: a crash of the censor does not
lose it) when it is written, or, with `write(..., flush=False)`, at the next `flush()`: the
censor's packet path (controllers.openflow.packetpath) writes a read's events out together, just
before the packets they decided leave, so no packet is ever out without its event in the file.
"""
from __future__ import annotations

import json
import os

MAX_BYTES = 64 * 1024 * 1024    # rotate when events.jsonl would grow past this
KEEP = 4                        # rotated files kept: events.jsonl.1 (newest) .. .KEEP
BUFFER = 1 << 20                # bytes of lines held between flushes before Python writes
_ENCODER = json.JSONEncoder(separators=(",", ":"))
# A line is written for every event: the C encoder that json.dumps makes anew for each call
# (json.encoder.c_make_encoder, the same arguments as JSONEncoder's one-shot), made once;
# where the C accelerator is missing, JSONEncoder's own encode.
if json.encoder.c_make_encoder is not None:
    _chunks = json.encoder.c_make_encoder(
        None, _ENCODER.default, json.encoder.encode_basestring_ascii, None, ":", ",", False,
        False, True)

    def _encode(record: dict) -> str:
        return "".join(_chunks(record, 0))
else:                                                   # pragma: no cover
    _encode = _ENCODER.encode


def rotated(path: str, keep: int = KEEP) -> list[str]:
    """The log's files that exist, oldest first (events.jsonl.KEEP ... .1, events.jsonl)."""
    files = [f"{path}.{n}" for n in range(keep, 0, -1)] + [path]
    return [f for f in files if os.path.exists(f)]


class EventLog:
    """Append-only JSONL writer, rotated by size."""

    def __init__(self, path: str, max_bytes: int = MAX_BYTES, keep: int = KEEP):
        self.path = path
        self.max_bytes = max(1, int(max_bytes))
        self.keep = max(0, int(keep))
        self.rotations = 0
        self._open()

    def _open(self) -> None:
        self._file = open(self.path, "a", encoding="utf-8", buffering=BUFFER)
        self._size = self._file.tell()

    def write(self, record: dict, flush: bool = True) -> None:
        """Append one record; written out now, or with the next flush() if not `flush`."""
        line = _encode(record) + "\n"
        size = len(line)                # the encoder escapes all but ASCII: a char a byte
        if self._size and self._size + size > self.max_bytes:
            self.rotate()
        self._file.write(line)
        self._size += size
        if flush:
            self._file.flush()

    def flush(self) -> None:
        """Write out the lines written with flush=False."""
        self._file.flush()

    def rotate(self) -> None:
        """Start a new file now: current -> .1, .1 -> .2, ...; beyond `keep` is deleted."""
        self._file.close()
        if self.keep == 0:
            os.unlink(self.path)
        else:
            oldest = f"{self.path}.{self.keep}"
            if os.path.exists(oldest):
                os.unlink(oldest)
            for n in range(self.keep - 1, 0, -1):
                if os.path.exists(f"{self.path}.{n}"):
                    os.replace(f"{self.path}.{n}", f"{self.path}.{n + 1}")
            os.replace(self.path, f"{self.path}.1")
        self.rotations += 1
        self._open()

    def close(self) -> None:
        self._file.close()
