"""`expect:` to Expectation values: what a correct detector should find.

Owns the checks that an expectation names things that exist: `from` a client, a `url` (or, for
a DNS-only check, a `domain`) that a server answers for or a lab address, and a `rule` that the
scenario has at some point (censor rules or timeline), a `censor` that exists, and that
`browser: true` is on a web url.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from lab.scenario.errors import Reporter, did_you_mean
from lab.scenario.hosts import Hosts
from lab.scenario.model import ISP_HOST, PUBLIC_DNS_HOST, Expectation, find_server
from lab.truth.schemes import WEB_PORTS


def build_expect(rep: Reporter, data: dict, hosts: Hosts,
                 rule_ids: set[str] | None, censors: list[str] | None = None
                 ) -> list[Expectation]:
    """`censors`: the names an expectation's `censor` may give (None: any)."""
    items = rep.part(data, (), "expect", [], list)
    out = []
    for i, item in enumerate(items):
        path = ("expect", i)
        if not isinstance(item, dict) or not rep.ok(path):
            continue
        client = _client(rep, path, item, hosts)
        target = _target(rep, path, item, hosts)
        blocked = rep.get(item, path, "blocked", None, bool)
        technique = rep.get(item, path, "technique", None, str)
        rule = rep.get(item, path, "rule", None, str)
        browser = rep.get(item, path, "browser", False, bool)
        if browser and target is not None and urlsplit(target).scheme.lower() not in WEB_PORTS:
            rep.error(path + ("browser",), f"a browser opens web pages: want an http:// or "
                                           f"https:// url, not '{target}'")
        if rule is not None and rule_ids is not None and rule not in rule_ids:
            rep.error(path + ("rule",), f"no rule named '{rule}'{did_you_mean(rule, rule_ids)}")
        censor = rep.get(item, path, "censor", None, str)
        if censor is not None and censors is not None and censor not in censors:
            rep.error(path + ("censor",), f"no censor named '{censor}'"
                                          f"{did_you_mean(censor, censors)}; censors: "
                                          f"{', '.join(censors)}")
        if None not in (client, target, blocked) and rep.clean(path):
            out.append(Expectation(client, target, blocked, technique, rule, browser,
                                   censor))
    return out


def _client(rep: Reporter, path: tuple, item: dict, hosts: Hosts) -> str | None:
    name = rep.get(item, path, "from", None, str)
    if name is None or not hosts.clients_complete:
        return name
    clients = list(dict.fromkeys(c.name for c in hosts.clients))
    if name not in clients:
        if hosts.server(name):
            rep.error(path + ("from",), f"'{name}' is a server; checks run from a client "
                                        f"({', '.join(clients)})")
        else:
            rep.error(path + ("from",), f"no client named '{name}'{did_you_mean(name, clients)}")
    return name


def _target(rep: Reporter, path: tuple, item: dict, hosts: Hosts) -> str | None:
    url = rep.get(item, path, "url", None, str)
    domain = rep.get(item, path, "domain", None, str)
    if url is not None:
        where, name = path + ("url",), _url_host(rep, path + ("url",), url)
    elif domain is not None:
        where, name = path + ("domain",), domain.strip().lower().rstrip(".")
    else:
        return None
    if name is None:
        return None
    if not name:
        rep.error(where, "empty domain")
        return None
    if hosts.servers_clean and hosts.clients_complete and not _reachable(name, hosts):
        rep.error(where, _unreachable(name))
    return url if url is not None else domain


def _url_host(rep: Reporter, where: tuple, url: str) -> str | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if not parts or not parts.scheme or not host:
        rep.error(where, f"bad url '{url}': expected something like https://example.com/")
        return None
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
        return True
    except ValueError:
        return False


def _reachable(name: str, hosts: Hosts) -> bool:
    if _is_ip(name):
        ips = {h.ip for h in [*hosts.clients, *hosts.servers, ISP_HOST, PUBLIC_DNS_HOST]}
        return name in ips
    return find_server(hosts.servers, name) is not None


def _unreachable(name: str) -> str:
    if _is_ip(name):
        return f"no lab host has address {name}"
    return f"no server answers for '{name}' (add it to a server's domains)"
