"""Shared helpers for the scenario tests: write YAML to a file, validate it, read the lines."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

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


def exact_diagnostics(cases: list[tuple]):
    """The test of test_scenario_errors*.py: each case (id, text, expected), a broken file and
    its exact diagnostics (one line, or a list of them)."""
    @pytest.mark.parametrize("text, expected", [c[1:] for c in cases], ids=[c[0] for c in cases])
    def test_broken_file_gives_exact_diagnostics(tmp_path, text, expected):
        expected = [expected] if isinstance(expected, str) else expected
        assert errors(tmp_path, text) == expected
    return test_broken_file_gives_exact_diagnostics
