"""DNS resolvers with dnsmasq: the ISP resolver inside the censor, a public one outside it.

Both answer for every server's domains (exact names as host records, `*.zone` wildcards as
address records) and NXDOMAIN for anything else, as a resolver with no upstream would.
"""
from __future__ import annotations

from pathlib import Path

from lab.services.base import Service, listening


def records(servers) -> list[str]:
    """dnsmasq lines mapping each server's domains to its address."""
    lines = []
    for server in servers:
        for domain in server.domains:
            name = domain.lower().rstrip(".")
            if name.startswith("*."):
                lines.append(f"address=/{name[2:]}/{server.ip}")
            else:
                lines.append(f"host-record={name},{server.ip}")
    return lines


def resolver(name: str, host, ip: str, servers, folder: Path) -> Service:
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "dnsmasq.conf"
    conf.write_text("\n".join([
        "no-resolv", "no-hosts", "no-poll", "bind-interfaces", f"listen-address={ip}",
        "except-interface=lo", "port=53", "user=root", "group=root", "cache-size=1000",
        "local=/#/", "log-queries", "log-facility=-", *records(servers), ""]))
    cmd = ["dnsmasq", "--keep-in-foreground", f"--conf-file={conf}", "--pid-file="]
    return Service(f"dns@{name}", host, cmd, folder / "dnsmasq.log",
                   ready=lambda: listening(host.pid, "udp", 53) and listening(host.pid, "tcp", 53))
