"""`tor`: a Tor client (Debian's tor) on the client host, bootstrapping from the lab's private
Tor network (lab/services/tor/): its directory authorities, then a three-hop circuit over its
relays. It offers SOCKS5 on 127.0.0.1:1080 and names resolve at the exit. Ready when its log
says "Bootstrapped 100%"; how long that took is the trial's bootstrap time.

`TorClient(bridge=...)` is the same client through a bridge (`UseBridges 1`, obfs4proxy as
its transport): the `tor-obfs4` and `tor-obfs4-builtin` tools.
"""
from __future__ import annotations

import time

from lab.compare.base import LOCAL_SOCKS, SocksTool, ToolError
from lab.services.tor import torrc
from lab.services.tor.plan import AUTHORITIES

BOOTSTRAP_TIMEOUT = 30.0     # seconds; a bootstrap the censor stops never finishes
READY = "Bootstrapped 100%"


class TorClient(SocksTool):
    name = "tor"
    summary = "Tor client over the lab's private Tor network (3 authorities/relays)"
    programs = ("curl", "tor")
    needs_tor = True          # the runner brings the lab's Tor network up for it

    def __init__(self, bridge=None):
        self.bridge = bridge  # a lab.services.tor.plan.Node, or None: straight to the relays
        # its own flows: to the bridge, or to the relays (authorities) it bootstraps from
        self.tunnel_hosts = (bridge.ip,) if bridge else tuple(n.ip for n in AUTHORITIES)

    def start(self, ctx) -> None:
        network = ctx.tor
        if not hasattr(network, "dir_authorities"):
            raise ToolError(f"the lab's Tor network is not up: {network or 'not started'}")
        line = network.bridge_line(self.bridge) if self.bridge else ""
        conf = ctx.folder / "torrc"
        conf.write_text(torrc.client(ctx.folder / "tor-data", LOCAL_SOCKS,
                                     network.dir_authorities, line))
        log = ctx.folder / "tor-client.log"
        begin = time.monotonic()
        ctx.start(ctx.client, "tor-client", ["tor", "-f", str(conf)],
                  [("tcp", LOCAL_SOCKS)], ready=lambda: _said(log, READY),
                  timeout=BOOTSTRAP_TIMEOUT)
        ctx.bootstrap = time.monotonic() - begin


def _said(log, text: str) -> bool:
    try:
        return text in log.read_text(errors="replace")
    except OSError:
        return False


TOOL = TorClient()
