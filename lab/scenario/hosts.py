"""The scenario's hosts: `clients:` and `servers:` to Host and Server values.

Owns host names (unique across clients and servers, not the lab's own `isp`/`public-dns`),
explicit addresses (checked against the addressing plan, unique), server domains (unique) and
the address assignment for everyone else (addressing.assign).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lab.scenario import addressing
from lab.scenario.errors import Reporter
from lab.scenario.model import Host, Server


@dataclass
class Hosts:
    clients: list[Host] = field(default_factory=list)
    servers: list[Server] = field(default_factory=list)
    clients_complete: bool = True   # every client's name is known (reference checks can run)
    servers_complete: bool = True
    servers_clean: bool = True      # every server's name and domains are known
    paths: dict = field(default_factory=dict)   # host name -> where its entry is

    def server(self, name: str) -> Server | None:
        return next((s for s in self.servers if s.name == name), None)


@dataclass
class _Entry:
    name: str
    path: tuple                     # where the entry is (item path)
    name_path: tuple
    address: str | None = None
    trust_lab_ca: bool = True
    trust_national_ca: bool = False
    domains: tuple = ()
    serve: tuple = ()
    raw_domains: list = field(default_factory=list)


def build_hosts(rep: Reporter, data: dict) -> Hosts:
    out = Hosts()
    clients, out.clients_complete = _entries(rep, data, "clients")
    servers, out.servers_complete = _entries(rep, data, "servers")
    out.paths = {e.name: e.path for e in clients + servers}
    out.servers_clean = out.servers_complete and all(
        rep.clean(e.path + ("domains",)) for e in servers)
    _check_names(rep, clients + servers)
    _check_addresses(rep, clients + servers)
    _check_domains(rep, servers)
    taken = [e.address for e in clients + servers if e.address]
    try:
        c_ips = addressing.assign([e.address for e in clients], addressing.CLIENT_START, taken)
        s_ips = addressing.assign([e.address for e in servers], addressing.SERVER_START, taken)
    except ValueError as e:                              # pragma: no cover (65,000 hosts)
        rep.error(("clients",), str(e))
        return out
    out.clients = [Host(e.name, ip, addressing.mac_for(ip), "client",
                        trust_lab_ca=e.trust_lab_ca, trust_national_ca=e.trust_national_ca)
                   for e, ip in zip(clients, c_ips)]
    out.servers = [Server(e.name, ip, addressing.mac_for(ip), "internet", e.domains, e.serve)
                   for e, ip in zip(servers, s_ips)]
    return out


def _entries(rep: Reporter, data: dict, key: str) -> tuple[list[_Entry], bool]:
    items = rep.part(data, (), key, [], list)
    complete = isinstance(data.get(key), list) and rep.ok((key,))
    out = []
    for i, item in enumerate(items):
        path = (key, i)
        if isinstance(item, str) and rep.clean(path):
            out.append(_Entry(item, path, path))
            continue
        name = rep.get(item, path, "name", None, str) if rep.ok(path) else None
        if name is None:
            complete = False
            continue
        entry = _Entry(name, path, path + ("name",))
        entry.address = rep.get(item, path, "address", None, str)
        if key == "clients":
            entry.trust_lab_ca = rep.get(item, path, "trust_lab_ca", True, bool)
            entry.trust_national_ca = rep.get(item, path, "trust_national_ca", False, bool)
        if key == "servers":
            entry.raw_domains = rep.get(item, path, "domains", [], list)
            entry.domains = tuple(_unique(d.lower() for d in
                                          rep.get(item, path, "domains", [], list)))
            entry.serve = tuple(_unique(rep.get(item, path, "serve", [], list)))
        out.append(entry)
    return out, complete


def _unique(values) -> list:
    out: list = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _check_names(rep: Reporter, entries: list[_Entry]) -> None:
    seen: dict[str, _Entry] = {}
    for e in entries:
        if e.name in addressing.RESERVED_NAMES:
            rep.error(e.name_path, f"'{e.name}' is the name of a host the lab creates itself; "
                                   "choose another")
        elif e.name in seen:
            first = seen[e.name]
            kind = "client" if first.path[0] == "clients" else "server"
            rep.error(e.name_path, f"duplicate host name '{e.name}' (already a {kind}, "
                                   f"line {rep.marks.value(first.name_path)[0]})")
        else:
            seen[e.name] = e


def _check_addresses(rep: Reporter, entries: list[_Entry]) -> None:
    seen: dict[str, _Entry] = {}
    for e in entries:
        if e.address is None:
            continue
        where = e.path + ("address",)
        try:
            e.address = addressing.check_lab_address(e.address)
        except ValueError as err:
            rep.error(where, str(err))
            e.address = None
            continue
        if e.address in seen:
            first = seen[e.address]
            rep.error(where, f"address {e.address} is already used by '{first.name}' "
                             f"(line {rep.marks.value(first.path + ('address',))[0]})")
            e.address = None
        else:
            seen[e.address] = e


def _check_domains(rep: Reporter, servers: list[_Entry]) -> None:
    owner: dict[str, str] = {}
    for e in servers:
        for i, domain in enumerate(e.raw_domains):
            if not isinstance(domain, str):
                continue
            d = domain.lower()
            where = e.path + ("domains", i)
            if d in owner and rep.ok(where):
                other = owner[d]
                rep.error(where, f"'{domain}' is listed twice" if other == e.name else
                          f"'{domain}' is already served by '{other}'")
            owner.setdefault(d, e.name)
