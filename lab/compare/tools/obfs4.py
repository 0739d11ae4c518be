"""`obfs4`: obfs4proxy as a pluggable-transport pair, driven by our tiny pt-spec driver
(lab.compare.ptdriver) instead of Tor. The server side (port 9443 on the vps) hands each
connection to a SOCKS5 proxy on the vps's loopback; the client side offers 127.0.0.1:1080.
On the wire: bytes indistinguishable from random, from the first packet on."""
from lab.compare.base import LOCAL_SOCKS, VPS_SOCKS, SocksTool, ToolError

PORT = 9443


class Obfs4(SocksTool):
    name = "obfs4"
    summary = "obfs4proxy (pt-spec driver of ours) around a SOCKS5 proxy on the vps"
    programs = ("curl", "obfs4proxy", "microsocks")
    tunnel = (("tcp", PORT),)
    pins_family = True           # the bridge on the vps's address of the family

    def start(self, ctx) -> None:
        ctx.vps_socks()
        server_state = ctx.folder / "obfs4-server"
        args = server_state / "bridge-args"
        ctx.start(ctx.vps.name, "obfs4-server", ctx.python(
            "lab.compare.ptdriver", "server", "--bind", ctx.vps_addr(PORT),
            "--orport", f"127.0.0.1:{VPS_SOCKS}", "--state", str(server_state)),
            [("tcp", PORT)], ready=args.exists)
        if "cert=" not in args.read_text():
            raise ToolError(f"obfs4proxy gave no bridge cert: {args.read_text().strip()!r}")
        ctx.start(ctx.client, "obfs4-client", ctx.python(
            "lab.compare.ptdriver", "client", "--bridge", ctx.vps_addr(PORT),
            "--args-file", str(args), "--listen", f"127.0.0.1:{LOCAL_SOCKS}",
            "--state", str(ctx.folder / "obfs4-client")), [("tcp", LOCAL_SOCKS)])


TOOL = Obfs4()
