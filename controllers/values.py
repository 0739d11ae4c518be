"""The small value classes made for every packet: equality, hash and text from their fields.

A DnsQuery (controllers.dpi.dns), a parser's Parsed (controllers.dpi.result) and an Output
(controllers.engine.effects) are made once or more per packet-in: plain classes with
`__slots__` and an `__init__` of their own (compiled, extension types: their .pxd), where a
frozen dataclass would run a generated __init__ as Python each time. `Value`, their base,
gives them what the dataclass gave: equal when of the same class with equal fields, hashed
by their fields, shown as `Name(field=value, ...)`. The fields are the class's `__slots__`,
in order.
"""
from __future__ import annotations


class Value:
    __slots__ = ()

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in type(self).__slots__)

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in type(self).__slots__)
        return f"{type(self).__name__}({inner})"
