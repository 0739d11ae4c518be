"""The result convention shared by every protocol parser in ``controllers.dpi``.

A parser never raises: it answers with a :class:`Parsed` whose ``status`` is

- ``OK``: the bytes hold a complete, well-formed message; ``value`` carries its fields;
- ``INCOMPLETE``: the bytes are a prefix of a possibly valid message, and more bytes may
  complete it (``value`` is None);
- ``INVALID``: no continuation can make the bytes valid (``value`` is None).
"""

from __future__ import annotations

from controllers.values import Value

OK, INCOMPLETE, INVALID = "ok", "incomplete", "invalid"


class Parsed(Value):
    """A parser's answer: a status and, when OK, the parsed value (a value itself:
    controllers.values; compiled, result.pxd makes it an extension type, read-only).
    Annotations say `Parsed[X]` for an answer whose value is an X."""

    __slots__ = ("status", "value")

    def __init__(self, status: str, value=None) -> None:
        self.status = status
        self.value = value

    @property
    def ok(self) -> bool:
        """True when the status is OK (and so ``value`` is set)."""
        return self.status == OK


# Shared answers without a value: parsers return these instead of building new ones.
INCOMPLETE_RESULT: Parsed = Parsed(INCOMPLETE)
INVALID_RESULT: Parsed = Parsed(INVALID)
