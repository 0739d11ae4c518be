"""An echo service on UDP 7 (RFC 862) with socat: every datagram goes back to its sender.

In a dual-stack lab one IPv6 socket on `::` takes both families (IPv4 as mapped addresses,
as the HTTP/3 server does): a server host has no other addresses than its two."""
from __future__ import annotations

from pathlib import Path

from lab.services.base import Service
from lab.services.daemon import daemon

PORT = 7


def udp_echo(server, host, folder: Path) -> Service:
    folder.mkdir(parents=True, exist_ok=True)
    # One child per datagram: it writes the datagram into a pipe, reads it back, answers the
    # sender, and ends when the pipe has been idle for 1 s.
    listen = (f"UDP6-RECVFROM:{PORT},bind=[::],ipv6only=0,fork" if server.ip6 else
              f"UDP4-RECVFROM:{PORT},bind={server.ip},fork")
    cmd = ["socat", "-d", "-T", "1", listen, "PIPE"]
    return daemon(f"udp-echo@{server.name}", host, cmd, folder / "socat.log", [("udp", PORT)])
