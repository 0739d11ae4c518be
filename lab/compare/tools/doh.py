"""`doh`: names resolved over DNS-over-HTTPS, then a direct fetch.

The vps runs dnsdist with a DoH front (https://VPS:8443/dns-query, a certificate from the lab
CA) forwarding to the lab's public resolver; the client's curl resolves through it
(`--doh-url`) and then connects to the target itself. It defeats DNS censorship only.
"""
from lab.compare.base import Tool
from lab.compare.tools import dnsdist

PORT = 8443


class DoH(Tool):
    name = "doh"
    summary = "DNS over HTTPS (dnsdist on the vps), then a direct fetch"
    programs = ("curl", "dnsdist")
    tunnel = (("tcp", PORT),)
    pins_family = True        # the DoH server's address and the fetch both of the family

    def start(self, ctx) -> None:
        dnsdist.start(ctx, doh_port=PORT)

    def options(self, ctx, url):
        return ["--doh-url", f"https://{ctx.vps_addr(PORT)}/dns-query"]


TOOL = DoH()
