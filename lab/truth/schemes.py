"""The schemes an `expect:` target (or a probe's URL) may use, and where each one's traffic goes.

One table for every part that needs to know what a target's flows look like: the run table's
attribution (lab/truth/observe.py), the prober (lab/probe: measurement and truth windows), the
scheme clients (lab/clients/targets.py) and `explain` (lab/teach/explain.py). A bare domain (no
scheme) is a DNS-only target and has no entry here.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Scheme:
    transport: str                  # "tcp" or "udp"
    port: int | None                # the default port (None: the URL must give one)
    first_bytes: str | None         # what a stock client's first data looks like (a fingerprint)
    web: bool = False               # fetched as a web page (curl; the prober's web steps)


SCHEMES: dict[str, Scheme] = {
    "https": Scheme("tcp", 443, "tls", web=True),
    "http": Scheme("tcp", 80, "http", web=True),
    "quic": Scheme("udp", 443, "quic"),
    "stun": Scheme("udp", 3478, "stun"),
    "udp": Scheme("udp", None, None),
    "tcp": Scheme("tcp", None, None),
    "ssh": Scheme("tcp", 22, "ssh"),
}
WEB_PORTS = {name: s.port for name, s in SCHEMES.items() if s.web}
REACH_PORTS = {name: s.port for name, s in SCHEMES.items() if not s.web}


def transport_and_port(url: str) -> tuple[str | None, int | None]:
    """The transport and port of a target's own flows: (None, None) for a bare domain or an
    unknown scheme; the port is the URL's, else the scheme's default (None if it has none)."""
    if "://" not in url:
        return None, None
    parts = urlsplit(url)
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        return None, None
    return scheme.transport, parts.port or scheme.port
