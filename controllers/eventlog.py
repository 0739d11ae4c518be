"""The ground-truth log: one JSON object per line, appended and flushed as each event happens."""
from __future__ import annotations

import json


class EventLog:
    """Append-only JSONL writer; every line is flushed so a crash loses nothing written."""

    def __init__(self, path: str):
        self._file = open(path, "a", encoding="utf-8", buffering=1)

    def write(self, record: dict) -> None:
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._file.close()
