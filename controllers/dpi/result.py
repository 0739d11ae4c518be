"""The result convention shared by every protocol parser in ``controllers.dpi``.

A parser never raises: it answers with a :class:`Parsed` whose ``status`` is

- ``OK``: the bytes hold a complete, well-formed message; ``value`` carries its fields;
- ``INCOMPLETE``: the bytes are a prefix of a possibly valid message, and more bytes may
  complete it (``value`` is None);
- ``INVALID``: no continuation can make the bytes valid (``value`` is None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

OK, INCOMPLETE, INVALID = "ok", "incomplete", "invalid"


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """A parser's answer: a status and, when OK, the parsed value."""

    status: str
    value: T | None = None

    @property
    def ok(self) -> bool:
        """True when the status is OK (and so ``value`` is set)."""
        return self.status == OK


# Shared answers without a value: parsers return these instead of building new ones.
INCOMPLETE_RESULT: Parsed = Parsed(INCOMPLETE)
INVALID_RESULT: Parsed = Parsed(INVALID)
