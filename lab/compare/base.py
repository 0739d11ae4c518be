"""What every tool adapter shares: the Tool interface and the context it runs in.

A Tool brings up its real programs (`start`: the server on the vps, the client on the client
host), says how to fetch a URL through itself (`options` for curl, or its own `fetch`), and
takes everything down again (`stop`). It names the vps ports its own flows use (`tunnel`), so
the runner can show what the censor did to the tunnel itself. A tunnel that cannot come up
raises ToolError with one line saying why.

In a dual-stack scenario a tool that `pins_family` runs once per family: its context's
`family` is "ipv4" or "ipv6", `ctx.vps_ip` is the vps's address of that family (a tunnel's
client connects to it), and a direct fetch gets curl's `-4`/`-6` (`ctx.curl_family()`).
"""
from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

from lab.clients.probe import address
from lab.compare import certs, measure
from lab.services.base import Service, ServiceError
from lab.services.daemon import daemon

log = logging.getLogger("blocklab.compare")

LOCAL_SOCKS = 1080        # a tool's SOCKS5 port on the client (127.0.0.1)
VPS_SOCKS = 1081          # a plain SOCKS5 proxy on the vps (127.0.0.1), behind some tunnels
START_TIMEOUT = 10.0


class ToolError(Exception):
    """The tool could not come up (or not work at all); the message says why, in one line."""


class ToolContext:
    """One tool's run in one lab: where it runs, its files, the daemons it started."""

    def __init__(self, lab, prepared, client: str, folder: Path, bulk_rate: int | None = None,
                 tor=None, family: str | None = None):
        self.lab, self.prepared, self.client = lab, prepared, client
        self.family = family                # "ipv4"/"ipv6": the one family to use; None: any
        self.bulk_rate = bulk_rate          # bit/s cap on bulk downloads (None: as fast as can)
        self.tor = tor                      # the lab's Tor network, or why it is not up (a str)
        self.bootstrap: float | None = None  # seconds a tool's client took to be ready, if it says
        self.vps = prepared.vps
        host = lab.scenario.host(client)
        self.client_ip = host.ip6 if family == "ipv6" else host.ip
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.services: list[Service] = []

    @property
    def vps_ip(self) -> str:
        """The vps's address: its IPv6 one when the trial is pinned to IPv6."""
        if self.family == "ipv6":
            return self.lab.scenario.host(self.vps.name).ip6
        return self.vps.ip

    def vps_addr(self, port: int) -> str:
        """vps_ip:port (an IPv6 address in brackets)."""
        return address(self.vps_ip, port)

    def curl_family(self) -> list[str]:
        """curl's option that keeps a direct fetch to the trial's family (none if unpinned)."""
        return {"ipv4": ["-4"], "ipv6": ["-6"]}.get(self.family or "", [])

    @property
    def vps_name(self) -> str:
        return next((d for d in self.vps.domains if "*" not in d), self.vps.ip)

    def python(self, module: str, *args: str) -> list[str]:
        """A command running one of our own host-side programs in a lab host."""
        return [sys.executable, "-m", module, *args]

    def start(self, host: str, name: str, cmd: list[str], ports=(), ready=None,
              timeout: float = START_TIMEOUT) -> Service:
        """Start `cmd` in `host` (the client, or the vps's name), ready when its own process
        tree listens on `ports` (("tcp", 1080), ...) and `ready()` holds."""
        log = self.folder / f"{name}.log"
        service = daemon(f"{name}@{host}", self.lab.host(host), cmd, log, list(ports),
                         also=ready, timeout=timeout)
        self.services.append(service)
        try:
            service.start(self.lab.run_dir)
        except ServiceError as e:
            raise ToolError(_one_line(str(e), log)) from None
        return service

    def stop_all(self) -> None:
        for service in reversed(self.services):
            try:
                service.stop(self.lab.run_dir)
            except Exception:   # a stuck daemon must not stop the comparison
                log.warning("could not stop %s; going on", service.name, exc_info=True)
        self.services.clear()

    def run(self, host: str, argv: list[str], timeout: float = 20):
        return self.lab.run(host, argv, timeout=timeout)

    def server_cert(self, name: str = "vps") -> certs.Issued:
        names = [d for d in self.vps.domains if "*" not in d]
        return certs.issue(self.lab.run_dir.path, self.folder, name, names, [self.vps_ip])

    def client_cert(self, name: str = "client") -> certs.Issued:
        return certs.issue(self.lab.run_dir.path, self.folder, name, [], [], client=True)

    def curl(self, url: str, options: list[str], max_time: float,
             bulk: bool = False) -> measure.Fetch:
        return measure.curl(self, url, options, max_time, bulk)

    def vps_socks(self) -> Service:
        """A plain SOCKS5 proxy (microsocks) on the vps's loopback, for tunnels to end in."""
        return self.start(self.vps.name, "microsocks",
                          ["microsocks", "-i", "127.0.0.1", "-p", str(VPS_SOCKS)],
                          [("tcp", VPS_SOCKS)])


def _one_line(message: str, log: Path) -> str:
    """The first line of a ServiceError and the daemon's last log line."""
    head = message.splitlines()[0] if message else "failed"
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        lines = []
    return f"{head}: {lines[-1]}" if lines else head


class Tool:
    """One circumvention tool (or the `direct` baseline)."""
    name = ""
    summary = ""
    programs: tuple[str, ...] = ("curl",)     # executables it needs on this machine
    tunnel: tuple[tuple[str, int], ...] = ()   # (proto, port) of its own flows to the vps
    tunnel_hosts: tuple[str, ...] = ()         # other addresses its own flows go to (Tor's)
    pins_family = False        # it can be kept to one IP family (run per family, dual stack)

    def missing(self) -> list[str]:
        return [p for p in self.programs if shutil.which(p) is None]

    def start(self, ctx: ToolContext) -> None:
        """Bring up the tool's server(s) and client(s); ToolError when it cannot."""

    def options(self, ctx: ToolContext, url: str) -> list[str]:
        """curl options that send `url` through the tool."""
        return []

    def fetch(self, ctx: ToolContext, url: str, max_time: float,
              bulk: bool = False) -> measure.Fetch:
        return ctx.curl(url, self.curl_family(ctx) + self.options(ctx, url), max_time, bulk)

    def curl_family(self, ctx: ToolContext) -> list[str]:
        """curl's -4/-6 for a pinned trial (curl connects to the target itself)."""
        return ctx.curl_family()

    def stop(self, ctx: ToolContext) -> None:
        ctx.stop_all()


class SocksTool(Tool):
    """A tool whose client offers SOCKS5 on 127.0.0.1:1080; names resolve at the far end."""

    def options(self, ctx: ToolContext, url: str) -> list[str]:
        return ["--socks5-hostname", f"127.0.0.1:{LOCAL_SOCKS}"]

    def curl_family(self, ctx: ToolContext) -> list[str]:
        return []            # curl talks to 127.0.0.1; the tunnel's family is its vps address
