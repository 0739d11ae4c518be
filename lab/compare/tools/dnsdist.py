"""dnsdist on the vps: the DoH and DoT front of a resolver outside the censor (shared by the
`doh` and `dot` adapters)."""
from __future__ import annotations

from lab.scenario.addressing import PUBLIC_DNS_IP


def start(ctx, doh_port: int | None = None, dot_port: int | None = None) -> None:
    cert = ctx.server_cert()
    lines = ['setLocal("127.0.0.1:5399")',
             'setSecurityPollSuffix("")',
             'setACL({"198.18.0.0/15", "2001:db8::/32", "127.0.0.0/8"})',  # the lab's clients
             f'newServer({{address="{PUBLIC_DNS_IP}:53"}})']
    ports = []
    if doh_port:
        lines.append(f'addDOHLocal("{ctx.vps_addr(doh_port)}", "{cert.cert}", "{cert.key}", '
                     '"/dns-query")')
        ports.append(("tcp", doh_port))
    if dot_port:
        lines.append(f'addTLSLocal("{ctx.vps_addr(dot_port)}", "{cert.cert}", "{cert.key}")')
        ports.append(("tcp", dot_port))
    conf = ctx.folder / "dnsdist.conf"
    conf.write_text("\n".join(lines) + "\n")
    ctx.start(ctx.vps.name, "dnsdist",
              ["dnsdist", "--supervised", "--disable-syslog", "-C", str(conf)], ports)
