"""Shared helpers for the scenario tests: write YAML to a file, validate it, read the lines."""
from __future__ import annotations

import textwrap
from pathlib import Path

from lab.scenario import validate

# Four lines every small case can start from: one client, one server that serves everything.
HEAD = """\
name: t
clients: [alice]
servers:
  - {name: web, domains: [example.com, "*.example.net"], serve: [dns, http, https, quic]}
"""


def write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors(tmp_path: Path, text: str | bytes, strict: bool = False) -> list[str]:
    """The diagnostics of `text` as 's.yaml:LINE:COL: message' lines."""
    path = write(tmp_path, text)
    return [str(d).replace(str(path), "s.yaml") for d in validate([str(path)], strict=strict)]
