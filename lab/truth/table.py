"""Plain-text tables for the terminal: the one layout every table blocklab prints uses.

Columns left-aligned to their widest cell, two spaces apart, a dashed rule under the head,
trailing spaces trimmed (the run table, the timeline, probe scores, the shell's listings).
"""
from __future__ import annotations


def text_table(head: tuple, body: list[tuple]) -> list[str]:
    """The table's lines: head, rule, one line per row."""
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]

    def line(cells) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return [line(head), line(["-" * w for w in widths])] + [line(b) for b in body]
