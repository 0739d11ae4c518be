"""`tls-tunnel`: stunnel on both ends. The client's stunnel (SOCKS port 1080) wraps each
connection in TLS to the vps's stunnel (port 4443; SNI and certificate check: the vps's name,
lab CA), which hands it to a plain SOCKS5 proxy (microsocks) on the vps's loopback. On the
wire: an ordinary TLS connection."""
from lab.compare.base import LOCAL_SOCKS, VPS_SOCKS, SocksTool

PORT = 4443


class TlsTunnel(SocksTool):
    name = "tls-tunnel"
    summary = "stunnel (TLS, lab CA) on both ends around a SOCKS5 proxy on the vps"
    programs = ("curl", "stunnel4", "microsocks")
    tunnel = (("tcp", PORT),)
    pins_family = True           # both stunnels on the vps's address of the family

    def start(self, ctx) -> None:
        ctx.vps_socks()
        cert = ctx.server_cert()
        server = ctx.folder / "stunnel-server.conf"
        server.write_text(f"""foreground = yes
pid =
debug = notice
[tunnel]
accept = {ctx.vps_ip}:{PORT}
connect = 127.0.0.1:{VPS_SOCKS}
cert = {cert.cert}
key = {cert.key}
""")
        client = ctx.folder / "stunnel-client.conf"
        client.write_text(f"""foreground = yes
pid =
debug = notice
[tunnel]
client = yes
accept = 127.0.0.1:{LOCAL_SOCKS}
connect = {ctx.vps_ip}:{PORT}
sni = {ctx.vps_name}
checkHost = {ctx.vps_name}
verifyChain = yes
CAfile = /etc/ssl/certs/ca-certificates.crt
""")
        ctx.start(ctx.vps.name, "stunnel-server", ["stunnel4", str(server)], [("tcp", PORT)])
        ctx.start(ctx.client, "stunnel-client", ["stunnel4", str(client)],
                  [("tcp", LOCAL_SOCKS)])


TOOL = TlsTunnel()
