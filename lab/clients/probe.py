"""What the probes share: curl-like exit codes, one-line errors, resolving a host name.

Exit codes (curl's, where curl has one): 0 ok, 1 other failure, 2 bad usage, 6 could not
resolve host, 7 could not connect (refused: ICMP port unreachable), 28 timed out,
35 handshake failed, 56 bad or unexpected answer, 60 certificate not trusted.
"""
from __future__ import annotations

import ipaddress
import socket
import sys
import time
from typing import Callable, TypeVar

T = TypeVar("T")

OK, FAILED, USAGE, RESOLVE, CONNECT, TIMEOUT, HANDSHAKE, BAD_ANSWER, CERT = \
    0, 1, 2, 6, 7, 28, 35, 56, 60


class ProbeError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def resolve(host: str, family: int = socket.AF_INET) -> str:
    """The IPv4 (or, with AF_INET6, IPv6) address of `host` (the host's resolver, as curl
    would ask it); an address is itself, whatever its family."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.getaddrinfo(host, None, family, socket.SOCK_DGRAM)[0][4][0]
    except socket.gaierror as e:
        raise ProbeError(RESOLVE, f"Could not resolve host: {host} ({e.strerror})") from None


def host_port(text: str, default: int | None) -> tuple[str, int]:
    """`host[:port]` -> (host, port); an IPv6 address in brackets (`[2001:db8::1]:3478`), or
    bare without a port."""
    if text.startswith("["):
        host, close, rest = text[1:].partition("]")
        if not close or (rest and not rest.startswith(":")):
            raise ProbeError(USAGE, f"bad address in {text!r} (want [IPv6]:port)")
        port = rest[1:]
    elif text.count(":") > 1:
        host, port = text, ""                          # a bare IPv6 address: no port
    else:
        host, _, port = text.partition(":")
    if not port:
        if default is None:
            raise ProbeError(USAGE, f"no port in {text!r} (want host:port)")
        return host, default
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ProbeError(USAGE, f"bad port in {text!r}")
    return host, int(port)


def address(ip: str, port: int) -> str:
    """ip:port, an IPv6 address in brackets (as OONI's `address` and URLs write it)."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def socket_family(ip: str) -> int:
    """The socket family for an address of either family."""
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def udp_exchange(ip: str, port: int, datagram: bytes, answer: Callable[[bytes], T | None],
                 max_time: float, what: str, rto: float = 0.5, backoff: float = 1.0) -> T:
    """Send `datagram` to ip:port, resending after `rto` seconds (times `backoff` each time),
    until `answer(reply)` gives something or `max_time` passes (TIMEOUT). An ICMP port
    unreachable or an unreachable network ends it with CONNECT."""
    deadline = time.monotonic() + max_time
    next_send = time.monotonic()
    with socket.socket(socket_family(ip), socket.SOCK_DGRAM) as s:
        s.connect((ip, port))
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise ProbeError(TIMEOUT, f"{what} timed out after {max_time:g}s "
                                          f"({address(ip, port)})")
            if now >= next_send:
                s.send(datagram)
                next_send, rto = now + rto, rto * backoff
            s.settimeout(max(0.001, min(next_send, deadline) - now))
            try:
                reply = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionRefusedError:
                raise ProbeError(CONNECT, f"connection refused ({address(ip, port)}, "
                                          "ICMP port unreachable)") from None
            except OSError as e:      # host or network unreachable
                raise ProbeError(CONNECT, f"{e.strerror} ({address(ip, port)})") from None
            got = answer(reply)
            if got is not None:
                return got


def run(name: str, main, argv=None) -> None:
    """Run a probe's main(argv) -> str, print what it returns, exit curl-like."""
    try:
        print(main(argv))
    except ProbeError as e:
        print(f"{name}: {e}", file=sys.stderr)
        sys.exit(e.code)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(OK)
