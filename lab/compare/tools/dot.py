"""`dot`: names resolved over DNS-over-TLS (kdig +tls to dnsdist on the vps, port 853,
verified against the lab CA), then a direct fetch to that address (curl --resolve)."""
import ipaddress
from urllib.parse import urlsplit

from lab.compare import measure
from lab.compare.base import Tool
from lab.compare.tools import dnsdist

PORT = 853


class DoT(Tool):
    name = "dot"
    summary = "DNS over TLS (kdig to dnsdist on the vps), then a direct fetch"
    programs = ("curl", "kdig", "dnsdist")
    tunnel = (("tcp", PORT),)
    pins_family = True           # kdig to the vps's address of the family, A or AAAA

    def start(self, ctx) -> None:
        dnsdist.start(ctx, dot_port=PORT)

    def resolve(self, ctx, name: str) -> str | None:
        r = ctx.run(ctx.client, [
            "kdig", "+noidn", "+tls", "+tls-ca=/etc/ssl/certs/ca-certificates.crt",
            f"+tls-hostname={ctx.vps_name}", "+short", "+time=3", "+retry=0",
            f"@{ctx.vps_ip}", "-p", str(PORT), name,
            "AAAA" if ctx.family == "ipv6" else "A"], timeout=10)
        want = 6 if ctx.family == "ipv6" else 4
        answers = [a for a in (r.stdout or "").split() if _version(a) == want]
        return answers[0] if r.returncode == 0 and answers else None

    def fetch(self, ctx, url, max_time, bulk=False):
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        ip = self.resolve(ctx, parts.hostname)
        if ip is None:
            return measure.failed(url, f"DoT: no answer for {parts.hostname}")
        pinned = f"[{ip}]" if ":" in ip else ip
        return ctx.curl(url, [*ctx.curl_family(), "--resolve",
                              f"{parts.hostname}:{port}:{pinned}"], max_time, bulk)


def _version(text: str) -> int | None:
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return None


TOOL = DoT()
