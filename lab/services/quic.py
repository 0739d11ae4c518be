"""HTTP/3 on UDP 443 for `serve: [quic]`: lab.services.h3server (aioquic) with a certificate
from the run's CA, serving the same pages as the server's nginx (index, and /bulk/ with bulk)."""
from __future__ import annotations

import sys
from pathlib import Path

from lab.run.pki import LabCA
from lab.services.base import Service
from lab.services.daemon import daemon
from lab.services.web import _site

PORT = 443


def quic(server, host, ca: LabCA, folder: Path) -> Service:
    folder.mkdir(parents=True, exist_ok=True)
    www = _site(folder, server)
    leaf = ca.issue(f"{server.name}-h3", list(server.domains), [server.ip])
    # dual stack: "::" takes both families (IPv4 as mapped addresses); the host has no others
    cmd = [sys.executable, "-m", "lab.services.h3server", "--host",
           "::" if server.ip6 else server.ip,
           "--port", str(PORT), "--cert", str(leaf.cert), "--key", str(leaf.key),
           "--root", str(www)]
    return daemon(f"quic@{server.name}", host, cmd, folder / "h3server.log", [("udp", PORT)])
