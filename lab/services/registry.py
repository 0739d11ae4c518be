"""Which daemons a server runs: one entry per `serve:` name.

A factory takes the run's Context and a Server and returns a Service (not started yet).
Several names may share a factory (nginx does http, https, https-alt and bulk; sshd does ssh and vps):
a server gets each factory once, in the order of its `serve:` list. Adding a service is one
entry here and a module with its factory.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from lab.run.pki import LabCA
from lab.services.base import Service
from lab.services.dns import authoritative, resolver
from lab.services.echo import udp_echo
from lab.services.quic import quic
from lab.services.ssh import sshd
from lab.services.stun import stun
from lab.services.web import web


@dataclass(frozen=True)
class Context:
    """What a factory may use: the lab (its hosts), the run's CA and directory."""
    lab: object
    ca: LabCA

    @property
    def run_path(self) -> Path:
        return self.lab.run_dir.path

    def folder(self, server, what: str) -> Path:
        return self.run_path / "services" / server.name / what

    def host(self, server):
        return self.lab.host(server.name)


Factory = Callable[[Context, object], Service]


def _web(ctx: Context, s) -> Service:
    return web(s, ctx.host(s), ctx.ca, ctx.folder(s, "web"))


def _dns(ctx: Context, s) -> Service:
    return authoritative(s, ctx.host(s), ctx.folder(s, "dns"))


def _quic(ctx: Context, s) -> Service:
    return quic(s, ctx.host(s), ctx.ca, ctx.folder(s, "quic"))


def _stun(ctx: Context, s) -> Service:
    return stun(s, ctx.host(s), ctx.folder(s, "stun"))


def _udp_echo(ctx: Context, s) -> Service:
    return udp_echo(s, ctx.host(s), ctx.folder(s, "udp-echo"))


def _intercept(ctx: Context, s) -> Service:
    from lab.services.intercept import intercept
    national = getattr(ctx.lab, "national_ca", None) or ctx.ca   # no rule uses it: lab CA
    return intercept(s, ctx.host(s), national, ctx.ca, ctx.folder(s, "intercept"))


def _sshd(ctx: Context, s) -> Service:
    return sshd(s, ctx.host(s), ctx.run_path, ctx.folder(s, "ssh"))


REGISTRY: dict[str, Factory] = {
    "dns": _dns,
    "http": _web,
    "https": _web,
    "https-alt": _web,
    "bulk": _web,
    "quic": _quic,
    "stun": _stun,
    "udp-echo": _udp_echo,
    "ssh": _sshd,
    "vps": _sshd,        # circumvention servers are installed there by their own code
    "intercept": _intercept,    # the censor's TLS interception box (action intercept)
}


def for_server(ctx: Context, server) -> list[Service]:
    """The services `server` runs, one per distinct factory, in `serve:` order."""
    factories: list[Factory] = []
    for name in server.serve:
        factory = REGISTRY[name]
        if factory not in factories:
            factories.append(factory)
    return [factory(ctx, server) for factory in factories]


def resolvers(ctx: Context, hosts, servers) -> list[Service]:
    """The lab's own resolvers (`isp`, `public-dns`)."""
    return [resolver(h.name, ctx.lab.host(h.name), h.ip, servers,
                     ctx.run_path / "services" / h.name, ip6=h.ip6) for h in hosts]
