"""`shadowsocks`: shadowsocks-libev. ss-server on the vps (port 8388, an AEAD cipher), ss-local
on the client offering SOCKS5; the server resolves and connects. Its first packet looks like
random bytes: what the GFW's fully-encrypted-traffic detector (2021) blocks."""
from lab.compare.base import LOCAL_SOCKS, SocksTool

PORT = 8388
METHOD = "chacha20-ietf-poly1305"
PASSWORD = "blocklab-compare"


class Shadowsocks(SocksTool):
    name = "shadowsocks"
    summary = "shadowsocks-libev: ss-server on the vps, ss-local on the client"
    programs = ("curl", "ss-server", "ss-local")
    tunnel = (("tcp", PORT),)
    pins_family = True

    def start(self, ctx) -> None:
        common = ["-p", str(PORT), "-k", PASSWORD, "-m", METHOD, "-t", "30"]
        ctx.start(ctx.vps.name, "ss-server", ["ss-server", "-s", ctx.vps_ip, *common],
                  [("tcp", PORT)])
        ctx.start(ctx.client, "ss-local", ["ss-local", "-s", ctx.vps_ip, *common,
                                           "-b", "127.0.0.1", "-l", str(LOCAL_SOCKS)],
                  [("tcp", LOCAL_SOCKS)])


TOOL = Shadowsocks()
