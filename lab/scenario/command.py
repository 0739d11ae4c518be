"""`blocklab list` and `blocklab validate`: their output once lab.cli has checked their
arguments (the folders to search exist): the scenarios one a line with where each comes from,
and every file's problems as FILE:LINE:COL: message (exit 1) or how many files are valid."""
from __future__ import annotations

from lab import scenario as scenarios

EXIT_ERROR = 1


def list_command(folders: list[str]) -> int:
    """Name, source and title of every scenario, in columns."""
    rows = scenarios.available(folders)
    width = max((len(name) for name, _, _ in rows), default=0)
    source_width = max((len(source) for _, _, source in rows), default=0)
    for name, title, source in rows:
        print(f"{name:<{width}}  {source:<{source_width}}  {title}".rstrip())
    return 0


def validate_command(files: list[str], strict: bool) -> int:
    """The files' problems one a line (exit 1), or `N file(s) valid`."""
    diagnostics = scenarios.validate(files, strict=strict)
    for d in diagnostics:
        print(d)
    if not diagnostics:
        print(f"{len(files)} file(s) valid")
    return EXIT_ERROR if diagnostics else 0
