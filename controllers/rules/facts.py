"""What inspection has learnt about one flow's first data, for the rules to match on.

Owns the three-valued state of each fact: UNKNOWN (the parser wants more bytes), None (known
absent: not that protocol, or not seen in time), or the value. Filled by
controllers.rules.inspect, read by controllers.rules.matching.
"""
from __future__ import annotations

from typing import Any

from controllers.rules.vocabulary import CONTENT_KEYS


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()

FACT_NAMES = CONTENT_KEYS             # one fact per content key of a match


class Facts:
    """One flow's facts. `dns` is the query name; `protocol`, `tls_ext` and `quic_ext` are frozensets.

    `dns_query`/`dns_msg`/`dns_tcp` keep the parsed query so an action can answer it."""

    __slots__ = FACT_NAMES + ("dns_query", "dns_msg", "dns_tcp", "alpn")

    def __init__(self) -> None:
        # FACT_NAMES one by one (a Facts is made for every flow: compiled, these are stores
        # into the object, where setattr by name is a lookup each)
        self.dns = self.sni = self.quic_sni = self.host = self.path = self.protocol = \
            self.tls_ext = self.quic_ext = UNKNOWN
        self.dns_query = None
        self.dns_msg = b""
        self.dns_tcp = False
        self.alpn = None

    def finalise(self) -> None:
        """No more bytes will come: what is still unknown is absent."""
        for name in FACT_NAMES:
            if getattr(self, name) is UNKNOWN:
                setattr(self, name, None)

    def known(self, name: str) -> bool:
        return getattr(self, name) is not UNKNOWN

    def as_dict(self) -> dict:
        out = {}
        for name in FACT_NAMES:
            v = getattr(self, name)
            if v is not UNKNOWN and v is not None:
                out[name] = sorted(v) if isinstance(v, frozenset) else v
        return out
