"""`split-hello-tcp`: the ClientHello cut into two TCP segments in the middle of the server
name, by a local SOCKS5 proxy of ours (lab.compare.splitproxy, the technique of byedpi's
--split and GoodbyeDPI; neither is in Debian). Evades DPI that does not reassemble."""
from lab.compare.base import LOCAL_SOCKS, SocksTool


class SplitHelloTcp(SocksTool):
    name = "split-hello-tcp"
    summary = "ClientHello split across two TCP segments (local splitting proxy)"
    mode = "tcp"

    pins_family = True      # the proxy connects over the family (-6), its desync methods too

    def start(self, ctx) -> None:
        ctx.start(ctx.client, f"splitproxy-{self.mode}", ctx.python(
            "lab.compare.splitproxy", "--listen", f"127.0.0.1:{LOCAL_SOCKS}",
            "--mode", self.mode, *(["-6"] if ctx.family == "ipv6" else [])),
            [("tcp", LOCAL_SOCKS)])


TOOL = SplitHelloTcp()
