"""Equality, hash and text for the small value classes made for every packet.

A DnsQuery (controllers.dpi.dns), a parser's Parsed (controllers.dpi.result) and an Output
(controllers.engine.effects) are made once or more per packet-in: plain classes with
`__slots__` and an `__init__` of their own (compiled, extension types: their .pxd), where a
frozen dataclass would run a generated __init__ as Python each time. This module gives them
what the dataclass gave: equal when of the same class with equal fields, hashed by their
fields, shown as `Name(field=value, ...)`. The fields are the class's `__slots__`, in order.
"""
from __future__ import annotations


def fields(obj) -> tuple:
    return tuple(getattr(obj, name) for name in type(obj).__slots__)


def equal(a, b):
    """a == b for two values (NotImplemented for another class, as a dataclass says)."""
    if type(a) is not type(b):
        return NotImplemented
    return fields(a) == fields(b)


def text(obj) -> str:
    inner = ", ".join(f"{name}={getattr(obj, name)!r}" for name in type(obj).__slots__)
    return f"{type(obj).__name__}({inner})"
