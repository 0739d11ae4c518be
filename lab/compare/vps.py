"""The circumvention server's side of a comparison: a `vps` host outside the censor.

Every comparison needs a box beyond the censor to run tunnel servers on. `prepare(scenario)`
uses the scenario's first server with `serve: [vps]`; when there is none it adds one, in memory
only: host `vps` (or `vps2`, ... if taken), domain `vps.example.net` (or a free variant), the
first free address from 198.19.200.10 (and its IPv6 twin in a dual-stack scenario), serving
https, bulk and vps. It also picks the bulk download used for goodput: the first http(s)
target whose server has `serve: [bulk]`, else any bulk server, else the vps itself (which
then gets `bulk` added to its `serve:`).

Once the lab is up, `outside_resolver(lab, vps)` points the vps's /etc/resolv.conf (in its own
mount namespace) at the lab's public resolver: a tunnel server resolves names as a rented
server abroad does, not through the censored ISP's resolver.
"""
from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from lab.run.hostconfig import bind
from lab.scenario.addressing import PUBLIC_DNS_IP, mac_for

ADDED_START = ipaddress.IPv4Address("198.19.200.10")
BULK_PATH = "/bulk/100M"


@dataclass(frozen=True)
class Prepared:
    scenario: object          # the scenario to bring up (the original, or with a vps added)
    vps: object               # its vps Server
    vps_added: bool
    bulk_url: str
    targets: tuple            # ((url, expected_blocked or None), ...): what each tool fetches


def _free_name(taken: set[str], base: str) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def _free_domain(scenario, base: str = "vps.example.net") -> str:
    name, n = base, 2
    while scenario.server_for(name) is not None:
        name, n = f"vps{n}.example.net", n + 1
    return name


def _free_address(scenario) -> str:
    used = {h.ip for h in scenario.hosts()}
    addr = ADDED_START
    while str(addr) in used:
        addr += 1
    return str(addr)


def _exact(server) -> str | None:
    return next((d for d in server.domains if "*" not in d), None)


def targets(scenario) -> tuple:
    """The http(s) URLs a tool fetches: the `expect:` ones (each once), else every server's
    first exact domain (https where it serves https)."""
    out, seen = [], set()
    for e in scenario.expect:
        if urlsplit(e.target).scheme.lower() in ("http", "https") and e.target not in seen:
            seen.add(e.target)
            out.append((e.target, e.blocked))
    if out:
        return tuple(out)
    for s in scenario.servers:
        name = _exact(s)
        if name and "vps" not in s.serve and {"http", "https", "bulk"} & set(s.serve):
            scheme = "https" if "https" in s.serve else "http"
            out.append((f"{scheme}://{name}/", None))
    return tuple(out)


def _bulk_url(scenario, urls) -> str | None:
    for url, _ in urls:
        parts = urlsplit(url)
        server = scenario.server_for(parts.hostname or "")
        if server and "bulk" in server.serve:
            if parts.scheme == "http" or "https" in server.serve:
                return f"{parts.scheme}://{parts.netloc}{BULK_PATH}"
    for server in scenario.servers:
        name = _exact(server)
        if "bulk" in server.serve and name:
            return f"{'https' if 'https' in server.serve else 'http'}://{name}{BULK_PATH}"
    return None


def prepare(scenario) -> Prepared:
    """The scenario with a vps (added if it has none) and the bulk download to measure."""
    vps = next((s for s in scenario.servers if "vps" in s.serve), None)
    added = vps is None
    servers = list(scenario.servers)
    if added:
        from lab.scenario.model import Server
        ip = _free_address(scenario)
        vps = Server(_free_name({h.name for h in scenario.hosts()}, "vps"), ip, mac_for(ip),
                     "internet", (_free_domain(scenario),), ("https", "bulk", "vps"))
        if scenario.ipv6:                # dual stack: its IPv6 address too, as the loader's
            vps = vps.dual_stack()
        servers.append(vps)
    urls = targets(scenario) or ((f"https://{_exact(vps) or vps.ip}/", None),)
    bulk = _bulk_url(scenario, urls)
    if bulk is None:
        if "bulk" not in vps.serve:
            grown = dataclasses.replace(vps, serve=(*vps.serve, "bulk"))
            servers[servers.index(vps)] = grown
            vps = grown
        scheme = "https" if "https" in vps.serve else "http"
        bulk = f"{scheme}://{_exact(vps) or vps.ip}{BULK_PATH}"
    if tuple(servers) != scenario.servers:
        scenario = dataclasses.replace(scenario, servers=tuple(servers))
    return Prepared(scenario, vps, added, bulk, urls)


def outside_resolver(lab, vps) -> None:
    """The vps resolves with the public resolver (outside the censor), in its namespace only."""
    conf = lab.run_dir.file("compare", "vps-resolv.conf")
    conf.write_text(f"nameserver {PUBLIC_DNS_IP}\noptions timeout:2 attempts:2\n")
    bind(lab.host(vps.name), conf, "/etc/resolv.conf")
