"""From a schema-checked document to a `Scenario`: the checks a schema cannot say.

Owns the order of the passes over one document and the top-level fields (name, title, summary,
sources, resolver, censor, links, lesson), delegating hosts, rules, timeline, expectations and
lesson steps to their modules. Every pass reports into the same Reporter and skips values
already found bad, so one run finds every error once. With `strict`, also what this kernel
cannot emulate.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from controllers.dpi import profile
from lab.scenario import kernel, units
from lab.scenario.addressing import ipv6_default
from lab.scenario.errors import Reporter, did_you_mean
from lab.scenario.expect import build_expect
from lab.scenario.hosts import Hosts, build_hosts
from lab.scenario.lessons import STEP_KEYS, check_steps
from lab.scenario.model import (INJECT_TTL, ISP_HOST, PUBLIC_DNS_HOST, Censor, Link, Links, Rule,
                                Scenario)
from lab.scenario.topology import BORDER, build_topology
from lab.scenario.rules import build_rule
from lab.scenario.timeline import build_timeline, check_duplicates, raw_id

RESOLVERS = ("isp", "public")
NETEM_KEYS = ("delay", "jitter", "loss")


def build(rep: Reporter, data: dict, path: Path, strict: bool = False) -> Scenario | None:
    """The scenario, or None when anything was reported (before or during this pass)."""
    top = ()
    name = rep.get(data, top, "name", None, str)
    title = rep.get(data, top, "title", None, str) or name
    summary = rep.get(data, top, "summary", "", str)
    sources = tuple(rep.get(data, top, "sources", [], list))
    hosts = build_hosts(rep, data)
    resolver = _resolver(rep, data, hosts)
    censor, initial_ids = _censor(rep, data, hosts)
    placed_ids = _network_censors(rep, data, hosts)
    placed = [(where, c) for where, c, _ids in placed_ids]
    network, clients = build_topology(rep, data, hosts.clients, hosts.servers,
                                      _explicit(data, hosts), placed or _top_censor(data, censor))
    # each censor's rule ids, the first censor first (the timeline's default); None: unknown
    initial = {c.name: ids for _w, c, ids in placed_ids} if placed_ids else \
        {censor.name: initial_ids}
    if network is not None and network.censors:
        censor = network.censors[0]         # the timeline's and the shell's default censor
    other_ids = {r.id for _w, c in placed[1:] for r in c.rules}
    modes = {c.name: c.mode for _w, c in placed}

    def make_rule(where: tuple, value: object, name: str | None = None) -> Rule | None:
        return build_rule(rep, where, value, servers=_server_names(hosts),
                          mode=modes.get(name, censor.mode))

    names = _censor_names(rep, network, censor)
    timeline, ever_ids = build_timeline(rep, data, initial, make_rule, names is not None)
    expect = build_expect(rep, data, hosts, ever_ids | other_ids if ever_ids is not None
                          else None, names)
    links = _links(rep, data)
    _lesson(rep, data, hosts, ever_ids | other_ids if ever_ids is not None else None)
    if network is not None and links is not None:
        rep.error(("links",), "links: shapes the one-switch lab's client and internet sides, "
                              "which a routed network does not have; shape an ISP's uplink "
                              "instead: network.isps[].uplink: {bw: 10Mbit, delay: 20ms}",
                  key=True)
    network = _uplinks(rep, data, network)
    lesson = rep.get(data, top, "lesson", None, list)
    ipv6 = rep.get(data, top, "ipv6", ipv6_default(), bool)
    if strict:
        _strict(rep, data)
    if rep.diagnostics:
        return None
    servers = tuple(hosts.servers)
    if ipv6:
        clients, servers = [c.dual_stack() for c in clients], tuple(s.dual_stack() for s in servers)
    return Scenario(path, name, title, summary, sources, tuple(clients), resolver,
                    servers, censor, tuple(timeline), tuple(expect), links, lesson,
                    network, ipv6=ipv6)


def _censor_names(rep: Reporter, network, censor: Censor) -> list[str] | None:
    """The censors' names an expectation may give (None: not all could be read)."""
    if network is None:
        return [censor.name] if rep.clean(("censor",)) else None
    return [c.name for c in network.censors] if rep.clean(("network", "censors")) else None


def _lesson(rep: Reporter, data: dict, hosts: Hosts, rule_ids: set[str] | None) -> None:
    """Report what the schema cannot see in the lesson steps (lab.scenario.lessons): hosts and
    censor commands, rule ids, regular expressions. Steps the schema rejected are skipped."""
    items = rep.part(data, (), "lesson", None, list)
    if not items:
        return
    names = None
    if hosts.clients_complete and hosts.servers_complete:
        names = [h.name for h in (*hosts.clients, ISP_HOST, PUBLIC_DNS_HOST, *hosts.servers)]
    _, problems = check_steps(items, names, rule_ids,
                              skip=lambda i: not rep.clean(("lesson", i)))
    for place, message in problems:
        unknown_key = len(place) == 2 and place[1] not in STEP_KEYS
        rep.error(("lesson",) + place, message, key=unknown_key)


def _server_names(hosts: Hosts) -> list[str] | None:
    return [s.name for s in hosts.servers] if hosts.servers_complete else None


def _resolver(rep: Reporter, data: dict, hosts: Hosts) -> str:
    resolver = rep.get(data, (), "resolver", "isp", str)
    if resolver in RESOLVERS or not hosts.servers_complete:
        return resolver
    server = hosts.server(resolver)
    if server is None:
        choices = [*RESOLVERS, *(s.name for s in hosts.servers)]
        rep.error(("resolver",), f"'{resolver}' is not isp, public or a server's name"
                                 f"{did_you_mean(resolver, choices)}")
    elif "dns" not in server.serve and rep.clean(hosts.paths[resolver] + ("serve",)):
        rep.error(("resolver",), f"server '{resolver}' does not serve dns "
                                 "(add dns to its serve list)")
    return resolver


def _censor(rep: Reporter, data: dict, hosts: Hosts) -> tuple[Censor, list[str] | None]:
    """(the censor, its rules' ids or None when some id could not be read)."""
    where = ("censor",)
    if not rep.ok(where):
        return Censor(), None
    section = rep.part(data, (), "censor", {}, dict)
    censor, ids = _censor_at(rep, where, section, hosts)
    if censor.at is not None and "network" not in data:
        rep.error(where + ("at",), "a censor's place (at:) needs a network: section",
                  key=True)
    return censor, ids


def _network_censors(rep: Reporter, data: dict, hosts: Hosts
                     ) -> list[tuple[tuple, Censor, list[str] | None]]:
    """(where, censor, its rules' ids or None) of each of `network.censors` that could be
    read."""
    network = rep.part(data, (), "network", None, dict)
    if network is None or "censors" not in network:
        return []
    if "censor" in data:
        rep.error(("censor",), "give either censor: or network.censors:, not both (put this "
                               "censor in network.censors with its at:)", key=True)
    items = rep.part(network, ("network",), "censors", [], list)
    out = []
    for i, item in enumerate(items):
        where = ("network", "censors", i)
        if isinstance(item, dict) and rep.ok(where):
            out.append((where, *_censor_at(rep, where, item, hosts)))
    return out


def _top_censor(data: dict, censor: Censor) -> list[tuple[tuple, Censor]]:
    """The top-level censor as the network's only one (at the border unless it says)."""
    if censor.at is None and "censor" not in data:
        return []
    return [(("censor",), censor if censor.at else replace(censor, at=BORDER))]


def _explicit(data: dict, hosts: Hosts) -> dict[str, tuple]:
    """host name -> (its address as given in the file, normalised; where it is)."""
    out = {}
    for host in [*hosts.clients, *hosts.servers]:
        path = hosts.paths.get(host.name)
        if path is None:
            continue
        item = data[path[0]][path[1]]
        if isinstance(item, dict) and "address" in item:
            out[host.name] = (host.ip, path + ("address",))
    return out


def _censor_at(rep: Reporter, where: tuple, section: dict, hosts: Hosts
               ) -> tuple[Censor, list[str] | None]:
    """One censor's section (at `where`): (the censor, its rules' ids or None)."""
    mode = rep.get(section, where, "mode", "inline", str)
    items = rep.part(section, where, "rules", [], list) if rep.ok(where + ("rules",)) else None
    rules: list[Rule] = []
    for i, item in enumerate(items or []):
        rule = build_rule(rep, where + ("rules", i), item, servers=_server_names(hosts),
                          mode=mode)
        if rule is not None:
            rules.append(rule)
    ids = [raw_id(item) for item in items] if items is not None else None
    check_duplicates(rep, where + ("rules",), items or [])
    number = (int, float)
    reassembly = rep.get(section, where, "reassembly", True, bool)
    inspect_packets = int(rep.get(section, where, "inspect_packets", 8, number))
    dpi = _dpi(rep, section, where)
    if dpi is not None:
        reassembly, inspect_packets = dpi["reassembly"], dpi["inspect_packets"]
    censor = Censor(mode=mode, reassembly=reassembly, inspect_packets=inspect_packets,
                    fail_mode=rep.get(section, where, "fail_mode", "secure", str),
                    seed=int(rep.get(section, where, "seed", 0, number)),
                    rules=tuple(rules), dpi=dpi,
                    name=rep.get(section, where, "name", "censor", str),
                    at=rep.get(section, where, "at", None, str),
                    ttl=int(rep.get(section, where, "ttl", INJECT_TTL, number)))
    return censor, (None if ids is None or None in ids else ids)


def _dpi(rep: Reporter, section: dict, where: tuple) -> dict | None:
    """The censor's DPI profile, compiled (controllers.dpi.profile), or None when not
    written. `reassembly` and `inspect_packets` then belong inside it."""
    value = rep.get(section, where, "dpi", None, (str, dict))
    if value is None:
        return None
    for key in ("reassembly", "inspect_packets"):
        if key in section:
            rep.error(where + (key,), f"with a dpi profile, write it inside dpi: "
                                      f"(dpi: {{profile: ..., {key}: ...}})", key=True)
    try:
        return profile.check(value).as_policy()
    except profile.ProfileError as e:
        key = str(e).split(":")[0].partition(".")[2]
        at = where + ("dpi",) + ((key,) if key and isinstance(value, dict) and key in value
                                 else ())
        rep.error(at, str(e).partition(": ")[2], field=where + ("dpi",) + at[len(where) + 1:])
        return None


def _links(rep: Reporter, data: dict) -> Links | None:
    section = rep.part(data, (), "links", None, dict)
    if section is None:
        return None
    sides = {}
    for side in ("client", "internet"):
        where = ("links", side)
        link = section.get(side) if rep.ok(where) else None
        sides[side] = _link(rep, where, link) if isinstance(link, dict) else None
    return Links(**sides)


def _uplinks(rep: Reporter, data: dict, network):
    """The network with each ISP's `uplink:` shaping read (network.isps[].uplink)."""
    if network is None:
        return None
    items = (data.get("network") or {}).get("isps") or []
    isps = []
    for isp in network.isps:
        item = items[isp.index] if isp.index < len(items) else None
        where = ("network", "isps", isp.index, "uplink")
        link = item.get("uplink") if isinstance(item, dict) and rep.ok(where) else None
        isps.append(replace(isp, shaping=_link(rep, where, link))
                    if isinstance(link, dict) else isp)
    return replace(network, isps=tuple(isps))


def _link(rep: Reporter, where: tuple, link: dict) -> Link:
    def parsed(key, parse, scale):
        value = rep.get(link, where, key, None)
        if value is None:
            return None
        try:
            return parse(value) * scale
        except units.UnitError as e:
            rep.error(where + (key,), str(e))
            return None
    result = Link(bw_mbit=parsed("bw", units.parse_rate, 1e-6),
                  delay_ms=parsed("delay", units.parse_duration, 1e3),
                  jitter_ms=parsed("jitter", units.parse_duration, 1e3),
                  loss_pct=parsed("loss", units.parse_percent, 1))
    if "jitter" in link and "delay" not in link:
        rep.error(where + ("jitter",), "jitter varies the delay: give a delay too", key=True)
    return result


def _strict(rep: Reporter, data: dict) -> None:
    """Report link settings this kernel cannot emulate (netem), at each key that asks."""
    links = data.get("links")
    wanted = [(("links", side), key) for side in ("client", "internet") for key in NETEM_KEYS
              if isinstance(links, dict) and isinstance(links.get(side), dict)
              and key in links[side]]
    isps = (data.get("network") or {}).get("isps") if isinstance(data.get("network"),
                                                                  dict) else None
    wanted += [(("network", "isps", i, "uplink"), key)
               for i, item in enumerate(isps if isinstance(isps, list) else [])
               for key in NETEM_KEYS if isinstance(item, dict)
               and isinstance(item.get("uplink"), dict) and key in item["uplink"]]
    if not wanted:
        return
    has, reason = kernel.netem_support()
    if has:
        return
    for where, key in wanted:
        rep.error(where + (key,), f"this kernel cannot emulate {key}: {reason}", key=True)
