"""What a lab host sees of the file system: its resolver and the CAs it trusts.

Every Mininet host has its own mount namespace, so a bind mount made inside it changes only
that host's view: /etc/resolv.conf names the scenario's resolver and /etc/ssl/certs holds only
the lab CA, for curl, openssl, dig and Python alike.
"""
from __future__ import annotations

from pathlib import Path


class HostConfigError(Exception):
    pass


def bind(host, source: Path, target: str) -> None:
    out = host.cmd(f"mount --bind {source} {target} 2>&1; echo rc=$?").strip()
    if not out.endswith("rc=0"):
        raise HostConfigError(f"{host.name}: cannot mount {source} on {target}: {out}")


def configure(host, folder: Path, resolver_ip: str, trust_dir: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    resolv = folder / "resolv.conf"
    resolv.write_text(f"nameserver {resolver_ip}\noptions timeout:2 attempts:2\n")
    bind(host, resolv, "/etc/resolv.conf")
    bind(host, trust_dir, "/etc/ssl/certs")
    hosts = folder / "hosts"
    hosts.write_text(f"127.0.0.1 localhost\n127.0.1.1 {host.name}\n")
    bind(host, hosts, "/etc/hosts")
