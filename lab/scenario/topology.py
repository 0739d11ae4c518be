"""The routed network of a scenario's `network:` section: ISPs, routers, places of censors.

Owns the shape and the address plan of a routed lab (docs/internals.md, "The routed network"):

    clients ─ ISP.access ─ R-ISP [─ R-ISP-2 ..] ─ ISP.uplink ──┐
    (LAN: the ISP's prefix)                     ├─ BORDER ─ border ─ servers, public-dns
    clients ─ ISP2.access ─ R-ISP2 ─ ISP2.uplink┘    │      (LAN 198.19.0.0/16)
                                                     └─ core: the isp resolver (198.18.0.0/24)

Every ISP has one LAN for its clients (its `prefix`, default 198.18.N.0/24 for the Nth ISP;
its router is the prefix's first address, clients are numbered from its 10th) and one
point-to-point uplink to the border router (198.18.255.4N/30). An ISP with `hops: N` has N
routers in a chain, R-ISP (its clients' gateway) then R-ISP-2 .. R-ISP-N (the last one holds
the uplink), joined by /30s from 198.18.255.64 up (three per ISP). The border router also holds
the core LAN with the lab's `isp` resolver (198.18.0.1, resolver 198.18.0.2) and the internet
LAN with the servers (198.19.0.1; servers from 198.19.0.10 as in addressing.py).

The places a censor can sit (`at:`) are the links: `ISP.access`, `ISP.uplink` and `border`.
Checked here: names of ISPs and places, each client in exactly one ISP, prefixes inside the lab
network and apart from each other and from the lab's own nets, explicit addresses inside their
ISP's prefix (clients) or the internet LAN (servers).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from lab.scenario import addressing
from lab.scenario.errors import Reporter, did_you_mean
from lab.scenario.model import Censor, Host, Link

CORE_NET = ipaddress.IPv4Network("198.18.0.0/24")       # border router and the isp resolver
UPLINK_NET = ipaddress.IPv4Network("198.18.255.0/24")   # the ISPs' /30 uplinks
INTERNET_NET = ipaddress.IPv4Network("198.19.0.0/16")   # the servers' LAN
BORDER_CORE_IP = "198.18.0.1"
BORDER_INTERNET_IP = "198.19.0.1"
KINDS = ("home", "mobile", "business", "university")
PLACE_KINDS = ("access", "uplink")
BORDER = "border"
CLIENT_OFFSET = 10          # clients from the prefix's 10th address
MAX_HOPS = 4                # routers in one ISP: 16 ISPs x 3 inner /30s fill 198.18.255.64/26+


@dataclass(frozen=True)
class Isp:
    name: str
    kind: str
    prefix: str                     # "198.18.1.0/24"
    clients: tuple[str, ...]
    index: int                      # 0-based, in file order
    resolver: bool = False          # runs its own resolver on its clients' LAN
    asn: str | None = None          # "AS12389", as OONI reports the network (None: not given)
    hops: int = 1                   # routers between its clients and the border router
    shaping: Link | None = None     # its uplink's bandwidth/delay/loss (`uplink:`), both ways

    @property
    def label(self) -> str:
        """How per-ISP tables name it: `home (AS12389)`, or its name without an ASN."""
        return f"{self.name} ({self.asn})" if self.asn else self.name

    @property
    def resolver_host(self) -> Host | None:
        """Its own resolver, `NAME-dns`, at the prefix's 2nd address (None: it has none)."""
        if not self.resolver:
            return None
        ip = str(self.net.network_address + 2)
        return Host(f"{self.name}-dns", ip, addressing.mac_for(ip), "client")

    @property
    def members(self) -> set[str]:
        """The hosts on its clients' LAN (its router aside): its clients and resolver."""
        return set(self.clients) | ({self.resolver_host.name} if self.resolver else set())

    @property
    def net(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.prefix)

    @property
    def router_ip(self) -> str:
        """The ISP router's address on its clients' LAN (the clients' gateway)."""
        return str(self.net.network_address + 1)

    @property
    def uplink(self) -> tuple[str, str]:
        """(border router's, ISP router's) address on the ISP's /30 uplink."""
        base = UPLINK_NET.network_address + 4 * self.index
        return str(base + 1), str(base + 2)

    @property
    def router(self) -> str:
        """The ISP router's node name (upper case: never a host name): its clients' gateway."""
        return f"R-{self.name}"

    @property
    def routers(self) -> list[str]:
        """Its routers from its clients to the border: R-NAME, R-NAME-2, .. R-NAME-N."""
        return [self.router, *(f"{self.router}-{k}" for k in range(2, self.hops + 1))]

    @property
    def uplink_router(self) -> str:
        """The router that holds its uplink to the border (the last of `routers`)."""
        return self.routers[-1]

    def inner_link(self, j: int) -> tuple[str, str]:
        """(routers[j]'s, routers[j + 1]'s) address on the /30 between them."""
        base = UPLINK_NET.network_address + 64 + 4 * (MAX_HOPS - 1) * self.index + 4 * j
        return str(base + 1), str(base + 2)


@dataclass(frozen=True)
class Topology:
    isps: tuple[Isp, ...]
    censors: tuple[Censor, ...]     # each with its name and place (`at`)

    def isp_of(self, host: str) -> Isp | None:
        """The ISP whose LAN `host` is on (a client, or an ISP's own resolver)."""
        return next((i for i in self.isps if host in i.members), None)

    def resolvers(self) -> list[Host]:
        """The ISPs' own resolvers."""
        return [i.resolver_host for i in self.isps if i.resolver]

    def places(self) -> list[str]:
        """Every link a censor may sit on."""
        return [f"{i.name}.{k}" for i in self.isps for k in PLACE_KINDS] + [BORDER]

    def censor_at(self, place: str) -> Censor | None:
        return next((c for c in self.censors if c.at == place), None)

    def client_side(self, place: str, hosts: list[Host]) -> set[str]:
        """The names of the hosts on the clients' side of a place's link (all the others
        are on its internet side)."""
        if place == BORDER:
            return {h.name for h in hosts if not _in(h.ip, INTERNET_NET)}
        isp = next(i for i in self.isps if place.startswith(i.name + "."))
        return isp.members

    def on_path(self, client: str, place: str) -> bool:
        """Whether a censor at `place` sees `client`'s traffic to the servers."""
        isp = self.isp_of(client)
        return place == BORDER or (isp is not None and place.startswith(isp.name + "."))

    def hops(self, client: str, place: str) -> int:
        """Routers between `client` and a censor at `place` (on the client's path)."""
        isp = self.isp_of(client)
        if place == f"{isp.name}.access":
            return 0
        return isp.hops if place == f"{isp.name}.uplink" else isp.hops + 1


def _in(ip: str, net: ipaddress.IPv4Network) -> bool:
    return ipaddress.IPv4Address(ip) in net


def build_topology(rep: Reporter, data: dict, clients: list[Host], servers: list,
                   explicit: dict[str, str], censors: list[tuple[tuple, Censor]]
                   ) -> tuple[Topology | None, list[Host]]:
    """(the topology, the clients with addresses from their ISPs' prefixes); (None, clients)
    when the scenario has no `network:` (or it could not be read).

    `explicit`: host name -> (address given in the file, where); `censors`: (where, censor)
    of every censor the file declares."""
    where = ("network",)
    section = rep.part(data, (), "network", None, dict)
    if section is None:
        return None, clients
    items = rep.part(section, where, "isps", [], list)
    client_names = [c.name for c in clients]
    isps: list[Isp] = []
    owner: dict[str, tuple] = {}
    nets: list[tuple[ipaddress.IPv4Network, tuple]] = []
    complete = rep.ok(where + ("isps",)) and isinstance(section.get("isps"), list)
    for i, item in enumerate(items):
        path = where + ("isps", i)
        if not isinstance(item, dict) or not rep.clean(path + ("clients",)):
            complete = False
        if not isinstance(item, dict) or not rep.ok(path):
            continue
        name = rep.get(item, path, "name", None, str)
        if name is None:
            continue
        if any(x.name == name for x in isps):
            rep.error(path + ("name",), f"duplicate ISP name '{name}'")
            complete = False
            continue
        net = _prefix(rep, path, item, i, nets)
        members = []
        for j, client in enumerate(rep.get(item, path, "clients", [], list)):
            at = path + ("clients", j)
            if client not in client_names:
                rep.error(at, f"no client named '{client}'{did_you_mean(client, client_names)}")
            elif client in owner:
                rep.error(at, f"client '{client}' is already in ISP "
                              f"'{owner[client][0]}' (line {rep.marks.value(owner[client][1])[0]})"
                              "; a client is in exactly one ISP")
            else:
                owner[client] = (name, at)
                members.append(client)
        isps.append(Isp(name, rep.get(item, path, "kind", "home", str),
                        str(net) if net else "", tuple(members), i,
                        rep.get(item, path, "resolver", False, bool),
                        rep.get(item, path, "asn", None, str),
                        hops=int(rep.get(item, path, "hops", 1, int))))
        if isps[-1].resolver and f"{name}-dns" in client_names + [x.name for x in servers]:
            rep.error(path + ("resolver",), f"the ISP's resolver is the host '{name}-dns', "
                                            "and a client or server has that name", key=True)
    if complete:                    # every ISP's clients are known
        for c in clients:
            if c.name not in owner:
                rep.error(where + ("isps",), f"client '{c.name}' is in no ISP: list it in "
                                             "one ISP's clients")
    topo = Topology(tuple(isps), tuple(c for _w, c in censors))
    _check_places(rep, topo, censors)
    _check_servers(rep, servers, explicit)
    if not all(i.prefix for i in isps):
        return topo, clients
    return topo, _assign(rep, topo, clients, explicit)


def _prefix(rep: Reporter, path: tuple, item: dict, index: int,
            nets: list) -> ipaddress.IPv4Network | None:
    raw = rep.get(item, path, "prefix", None, str)
    at = path + ("prefix",)
    if raw is None:
        net = ipaddress.IPv4Network(f"198.18.{index + 1}.0/24")
    else:
        try:
            net = ipaddress.IPv4Network(raw.strip())
        except ValueError:
            rep.error(at, f"bad prefix '{raw}': expected a network such as 198.18.1.0/24")
            return None
        if not net.subnet_of(addressing.LAB_NET):
            rep.error(at, f"prefix {net} is outside the lab's 198.18.0.0/15")
            return None
        if not 16 <= net.prefixlen <= 29:
            rep.error(at, f"prefix {net}: give a /16 to /29")
            return None
    for other, name in ((CORE_NET, "the core LAN (border router, isp resolver)"),
                        (UPLINK_NET, "the routers' uplinks"),
                        (INTERNET_NET, "the servers' LAN")):
        if net.overlaps(other):
            rep.error(at if raw is not None else path, f"prefix {net} overlaps {other}, "
                                                       f"{name}")
            return None
    for other, other_path in nets:
        if net.overlaps(other):
            rep.error(at if raw is not None else path, f"prefix {net} overlaps {other} "
                      f"(line {rep.marks.value(other_path)[0]})")
            return None
    nets.append((net, at if raw is not None else path))
    return net


def _check_places(rep: Reporter, topo: Topology, censors: list[tuple[tuple, Censor]]) -> None:
    places = topo.places()
    seen: dict[str, tuple] = {}
    names: dict[str, tuple] = {}
    for where, censor in censors:
        if censor.name in names:
            rep.error(where + ("name",), f"duplicate censor name '{censor.name}'")
        names.setdefault(censor.name, where)
        if censor.at is None:
            if rep.clean(where):
                rep.error(where, "this censor needs a place: at: ISP.access, ISP.uplink or border "
                                 f"({', '.join(places)})")
            continue
        if censor.at not in places:
            rep.error(where + ("at",), f"no link '{censor.at}' in this network"
                                       f"{did_you_mean(censor.at, places)}; links: "
                                       f"{', '.join(places)}")
        elif censor.at in seen:
            rep.error(where + ("at",), f"link '{censor.at}' already has a censor "
                                       f"(line {rep.marks.value(seen[censor.at] + ('at',))[0]})")
        else:
            seen[censor.at] = where
        for i, r in enumerate(censor.rules):
            if r.action.get("type") == "intercept" and censor.at != BORDER:
                rep.error(where + ("rules", i, "action", "intercept"),
                          f"intercept diverts to a server, and only the border link's censor "
                          f"has the servers on its switch: put this censor at: border "
                          f"(it is at {censor.at})")


def _check_servers(rep: Reporter, servers: list, explicit: dict[str, tuple]) -> None:
    for s in servers:
        ip, at = explicit.get(s.name, (None, None))
        if ip and not _in(ip, INTERNET_NET):
            rep.error(at, f"address {ip} is outside the servers' LAN {INTERNET_NET} of the "
                          "routed network")


def _assign(rep: Reporter, topo: Topology, clients: list[Host],
            explicit: dict[str, tuple]) -> list[Host]:
    """Clients numbered inside their ISP's prefix; an explicit one must lie inside it."""
    out = []
    nxt = {i.name: i.net.network_address + CLIENT_OFFSET for i in topo.isps}
    taken = {ip for ip, _at in explicit.values()}
    taken |= {str(i.net.network_address + k) for i in topo.isps for k in (1, 2)}
    for c in clients:
        isp = topo.isp_of(c.name)
        if isp is None:
            out.append(c)
            continue
        ip, at = explicit.get(c.name, (None, None))
        if ip is not None and not _in(ip, isp.net):
            rep.error(at, f"address {ip} is outside the prefix {isp.prefix} of "
                          f"'{c.name}''s ISP '{isp.name}'")
        elif ip in (isp.router_ip, str(isp.net.network_address + 2)):
            rep.error(at, f"address {ip} is the ISP router's or resolver's (the prefix's 1st "
                          "and 2nd addresses)")
        if ip is None:
            while str(nxt[isp.name]) in taken:
                nxt[isp.name] += 1
            if nxt[isp.name] >= isp.net.broadcast_address:
                rep.error(("network", "isps", isp.index, "prefix"),
                          f"prefix {isp.prefix} has no room for client '{c.name}'")
                out.append(c)
                continue
            ip = str(nxt[isp.name])
            taken.add(ip)
        out.append(Host(c.name, ip, addressing.mac_for(ip), "client"))
    return out
