"""DNS: the lab's resolvers (dnsmasq) and authoritative servers (NSD) for `serve: [dns]`.

The resolvers are the ISP's, inside the censor (`isp`), and a public one outside it
(`public-dns`). A server that serves dns holds authoritative zones for its own domains; both
resolvers resolve those names by asking it (forwarding over the lab network, so a censor on the
path between resolver and authoritative server sees those queries too). Every other server's
names the resolvers answer from local records; anything else is NXDOMAIN, as from a resolver
with no upstream.

Name patterns DNS can express: exact names, and `*.zone` (subdomains of zone, not zone
itself). Other globs (`*t.co*`) exist only for the censor's matching: DNS has no record for them.

In a dual-stack scenario every name also has an AAAA record (the server's IPv6 address), and
the resolvers and NSD listen on both families.
"""
from __future__ import annotations

from pathlib import Path

from lab.services.base import Service
from lab.services.daemon import daemon

TTL = 30            # short: a lab run is minutes long
NEGATIVE_TTL = 10


def dns_names(server) -> tuple[list[str], list[str]]:
    """A server's domains DNS can express: (exact names, zones of `*.zone` wildcards)."""
    exact, wild = [], []
    for domain in server.domains:
        name = domain.lower().rstrip(".")
        if name.startswith("*.") and not any(c in name[2:] for c in "*?[]!"):
            wild.append(name[2:])
        elif not any(c in name for c in "*?[]!"):
            exact.append(name)
    return exact, wild


def records(servers) -> list[str]:
    """dnsmasq lines: forward an authoritative server's names to it, answer the rest locally."""
    lines = []
    for server in servers:
        exact, wild = dns_names(server)
        if "dns" in server.serve:
            lines += [f"server=/{n}/{server.ip}" for n in exact]
            lines += [f"server=/*.{z}/{server.ip}" for z in wild]
        else:
            both = f"{server.ip},{server.ip6}" if server.ip6 else server.ip
            lines += [f"host-record={n},{both}" for n in exact]
            for addr in filter(None, (server.ip, server.ip6)):       # subdomains only
                lines += [f"address=/*.{z}/{addr}" for z in wild]
    return lines


def resolver(name: str, host, ip: str, servers, folder: Path, ip6: str | None = None
             ) -> Service:
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "dnsmasq.conf"
    listen = f"listen-address={ip},{ip6}" if ip6 else f"listen-address={ip}"
    conf.write_text("\n".join([
        "no-resolv", "no-hosts", "no-poll", "bind-interfaces", listen,
        "except-interface=lo", "port=53", "user=root", "group=root", "cache-size=1000",
        "local=/#/", "log-queries", "log-facility=-", *records(servers), ""]))
    cmd = ["dnsmasq", "--keep-in-foreground", f"--conf-file={conf}", "--pid-file="]
    return daemon(f"dns@{name}", host, cmd, folder / "dnsmasq.log", [("udp", 53), ("tcp", 53)])


# --- authoritative: NSD ----------------------------------------------------------------------

def zones(server) -> dict[str, list[str]]:
    """Zone apex -> owner names of the A records in it, for one server's domains.

    Each exact name and each `*.zone`'s zone is an apex, unless it lies inside another apex
    of the same server (then its records go into that zone)."""
    exact, wild = dns_names(server)
    apexes = set(exact) | set(wild)
    top = sorted(a for a in apexes if not any(a.endswith("." + b) for b in apexes))
    out: dict[str, list[str]] = {a: [] for a in top}
    for owner in exact + [f"*.{z}" for z in wild]:
        bare = owner[2:] if owner.startswith("*.") else owner
        apex = next(a for a in top if bare == a or bare.endswith("." + a))
        if owner not in out[apex]:
            out[apex].append(owner)
    return out


def zone_file(apex: str, owners: list[str], ip: str, ip6: str | None = None) -> str:
    lines = [f"$ORIGIN {apex}.", f"$TTL {TTL}",
             f"@ IN SOA ns.{apex}. hostmaster.{apex}. 1 3600 600 86400 {NEGATIVE_TTL}",
             f"@ IN NS ns.{apex}.", f"ns.{apex}. IN A {ip}"]
    lines += [f"{owner}. IN A {ip}" for owner in owners if owner != f"ns.{apex}"]
    if ip6:
        lines += [f"ns.{apex}. IN AAAA {ip6}"]
        lines += [f"{owner}. IN AAAA {ip6}" for owner in owners if owner != f"ns.{apex}"]
    return "\n".join(lines) + "\n"


def authoritative(server, host, folder: Path) -> Service:
    """NSD serving `server`'s zones on its address, UDP and TCP 53."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "nsd.log"
    zone_conf, checks = [], []
    for apex, owners in zones(server).items():
        path = folder / f"{apex}.zone"
        path.write_text(zone_file(apex, owners, server.ip, server.ip6))
        zone_conf.append(f'zone:\n  name: "{apex}"\n  zonefile: "{path}"\n')
        checks.append(["nsd-checkzone", apex, str(path)])
    conf = folder / "nsd.conf"
    conf.write_text(f"""server:
  ip-address: {server.ip}
{f"  ip-address: {server.ip6}" if server.ip6 else ""}
  port: 53
  do-ip6: {"yes" if server.ip6 else "no"}
  server-count: 1
  rrl-ratelimit: 0      # NSD answers at most 200/s per /24 by default: no limit here
  username: ""
  chroot: ""
  zonesdir: "{folder}"
  zonelistfile: "{folder}/zone.list"
  xfrdfile: "{folder}/xfrd.state"
  xfrdir: "{folder}"
  pidfile: "{folder}/nsd.pid"
  database: ""
  logfile: "{log}"
  log-time-ascii: yes
  verbosity: 1
  hide-version: yes
remote-control:
  control-enable: no
""" + "".join(zone_conf))
    checks.insert(0, ["nsd-checkconf", str(conf)])

    def zones_loaded() -> bool:     # NSD says "nsd started" once its zones are read
        try:
            return "nsd started" in log.read_text(errors="replace")
        except OSError:
            return False
    return daemon(f"dns@{server.name}", host, ["nsd", "-d", "-c", str(conf)], log,
                  [("udp", 53), ("tcp", 53)], checks=checks, also=zones_loaded)
