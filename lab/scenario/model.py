"""The validated scenario: frozen dataclasses, and their compiled-policy form.

Owns the types the rest of the lab codes against (Host, Server, Rule, Censor, TimelineEntry,
Expectation, Link, Links, Scenario). A Scenario only exists for a file that passed every check,
so its values are already normalised: addresses assigned, units converted, rule match and action
in the form of docs/internals.md §1 (`Rule.to_policy()`, `Scenario.policy()`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Mapping
from urllib.parse import urlsplit

from controllers.packets import INJECT_TTL
from lab.scenario.addressing import ISP, PUBLIC_DNS, ip6_for

if TYPE_CHECKING:
    from lab.scenario.topology import Topology


@dataclass(frozen=True)
class Host:
    name: str
    ip: str
    mac: str
    side: str                       # "client" (censored side) or "internet"
    # Its curl, openssl and browsers trust the run's CA (False: a host that does not).
    trust_lab_ca: bool = field(default=True, kw_only=True)
    # It also trusts the run's national CA (lab.services.intercept forges with it): its user
    # installed the state's certificate.
    trust_national_ca: bool = field(default=False, kw_only=True)
    # Its IPv6 address in a dual-stack scenario (`ipv6: true`; lab.scenario.addressing).
    ip6: str | None = field(default=None, kw_only=True)

    def to_policy(self, port: int | None = None) -> dict:
        out: dict = {"ip": self.ip, "mac": self.mac, "port": port, "side": self.side}
        if self.ip6 is not None:
            out["ip6"] = self.ip6
        return out

    def dual_stack(self) -> "Host":
        """This host with its IPv6 address (lab.scenario.addressing.ip6_for)."""
        return self if self.ip6 is not None else replace(self, ip6=ip6_for(self.ip))


@dataclass(frozen=True)
class Server(Host):
    domains: tuple[str, ...] = ()   # lower case; exact names or globs
    serve: tuple[str, ...] = ()     # dns, http, https, quic, stun, udp-echo, bulk, ssh, vps, https-alt

    def to_policy(self, port: int | None = None) -> dict:
        return {**super().to_policy(port), "domains": list(self.domains)}

    def covers(self, domain: str) -> bool:
        """Whether `domain` is one of this server's names (glob-aware, case-insensitive)."""
        name = domain.lower().rstrip(".")
        return any(name == d or fnmatchcase(name, d) for d in self.domains)


@dataclass(frozen=True)
class Rule:
    id: str
    match: dict                     # normalised (internals §1): every value a list, ports [lo, hi]
    action: dict                    # {"type": T, ...}
    residual: float | None = None   # seconds
    probability: float | None = None
    per: str = "flow"               # "flow" | "rule"
    enabled: bool = True
    residual_scope: str = "port"    # "port" | "server" (vocabulary.RESIDUAL_SCOPES)
    residual_spare: tuple[int, ...] = ()    # TCP ports a server-wide box leaves open

    def to_policy(self) -> dict:
        out = {"id": self.id, "enabled": self.enabled, "match": _copy(self.match),
               "action": dict(self.action), "residual": self.residual,
               "probability": self.probability, "per": self.per}
        if self.residual_scope != "port":      # the default is left out, as before it existed
            out.update(residual_scope=self.residual_scope,
                       residual_spare=list(self.residual_spare))
        return out


def _copy(match: dict) -> dict:
    return {k: (_copy(v) if k == "not" else [list(x) if isinstance(x, list) else x for x in v]
                if isinstance(v, list) else v)
            for k, v in match.items()}


@dataclass(frozen=True)
class Censor:
    mode: str = "inline"            # "inline" | "tap"
    reassembly: bool = True
    inspect_packets: int = 8
    fail_mode: str = "secure"       # "secure" | "standalone"
    seed: int = 0
    rules: tuple[Rule, ...] = ()
    dpi: dict | None = None         # the DPI profile (controllers.dpi.profile), when written
    name: str = "censor"            # events carry it; the shell and control address it by it
    at: str | None = None           # with a network: the link it sits on (lab.scenario.topology)
    ttl: int = INJECT_TTL           # initial IP TTL of what it injects

    def to_policy(self) -> dict:
        """The compiled policy (internals §1) without its "hosts" map."""
        doc = {"mode": self.mode, "reassembly": self.reassembly,
               "inspect_packets": self.inspect_packets, "fail_mode": self.fail_mode,
               "seed": self.seed, "rules": [r.to_policy() for r in self.rules]}
        if self.dpi is not None:
            doc["dpi"] = dict(self.dpi, teardown=list(self.dpi["teardown"]))
        if self.ttl != INJECT_TTL:
            doc["ttl"] = self.ttl
        return doc


@dataclass(frozen=True)
class TimelineEntry:
    at: float                       # seconds since the lab came up
    op: str                         # "enable" | "disable" | "replace" | "policy"
    rule_id: str | None = None      # enable, disable, replace
    rule: Rule | None = None        # replace
    rules: tuple[Rule, ...] | None = None   # policy
    censor: str | None = None       # the censor it changes (None: the first)

    def to_command(self) -> dict:
        """The control-socket command (internals §3) that makes this change."""
        if self.op == "replace":
            return {"cmd": "replace", "rule": self.rule.to_policy()}
        if self.op == "policy":
            return {"cmd": "policy", "rules": [r.to_policy() for r in self.rules]}
        return {"cmd": self.op, "rule": self.rule_id}


@dataclass(frozen=True)
class Expectation:
    client: str
    target: str                     # a URL (has "://") or, for a DNS-only check, a domain
    blocked: bool
    technique: str | None = None
    rule: str | None = None
    browser: bool = False           # also opened in headless Chromium (lab/clients/browser.py)
    censor: str | None = None       # the censor that must act on it (several censors)

    @property
    def is_url(self) -> bool:
        return "://" in self.target

    @property
    def domain(self) -> str:
        """The name the check resolves (a URL's host, lower case)."""
        if self.is_url:
            return (urlsplit(self.target).hostname or "").rstrip(".")
        return self.target.lower().rstrip(".")


@dataclass(frozen=True)
class Link:
    bw_mbit: float | None = None
    delay_ms: float | None = None
    jitter_ms: float | None = None
    loss_pct: float | None = None


@dataclass(frozen=True)
class Links:
    client: Link | None = None
    internet: Link | None = None


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    title: str
    summary: str
    sources: tuple[str, ...]
    clients: tuple[Host, ...]
    resolver: str                   # "isp", "public" or a server's name
    servers: tuple[Server, ...]
    censor: Censor = field(default_factory=Censor)
    timeline: tuple[TimelineEntry, ...] = ()   # sorted by `at` (stable)
    expect: tuple[Expectation, ...] = ()
    links: Links | None = None
    lesson: list | None = None
    network: "Topology | None" = None          # the routed network (lab.scenario.topology)
    ipv6: bool = False                         # dual stack: every host has an IPv6 address

    def hosts(self) -> list[Host]:
        """Every lab host: the clients, the lab's resolvers (`isp`, the ISPs' own, `public-dns`),
        the servers."""
        own = self.network.resolvers() if self.network else []
        return self._stack([*self.clients, ISP_HOST, *own, PUBLIC_DNS_HOST, *self.servers])

    def _stack(self, hosts: list[Host]) -> list[Host]:
        return [h.dual_stack() for h in hosts] if self.ipv6 else hosts

    def host(self, name: str) -> Host | None:
        return next((h for h in self.hosts() if h.name == name), None)

    def server_for(self, domain: str) -> Server | None:
        """The server answering for `domain`: an exact name first, then the first glob."""
        return find_server(self.servers, domain)

    def resolvers(self) -> list[Host]:
        """The lab's own resolvers: `isp`, the ISPs' own (`NAME-dns`), `public-dns`."""
        own = self.network.resolvers() if self.network else []
        return self._stack([ISP_HOST, *own, PUBLIC_DNS_HOST])

    def resolver_ip(self, client: str | None = None) -> str:
        """The address the clients' resolv.conf names (`client`'s: its ISP's own resolver
        when it has one and `resolver` is isp)."""
        if self.resolver == "isp":
            isp = self.network.isp_of(client) if self.network and client else None
            return isp.resolver_host.ip if isp and isp.resolver else ISP_HOST.ip
        if self.resolver == "public":
            return PUBLIC_DNS_HOST.ip
        return self.host(self.resolver).ip

    def censors(self) -> list[Censor]:
        """Every censor: the network's, each at its place, or the one `censor:`."""
        return list(self.network.censors) if self.network else [self.censor]

    def isp_of(self, client: str) -> str | None:
        """The name of `client`'s ISP (None without a network)."""
        isp = self.network.isp_of(client) if self.network else None
        return isp.name if isp else None

    def policy(self, ports: Mapping[str, int] | None = None, censor: Censor | None = None,
               client_side: set[str] | None = None) -> dict:
        """The compiled policy document of docs/internals.md §1 (`ports`: switch port by host)
        for `censor` (default: the first); `client_side`: the hosts on its clients' side
        (default: the clients and the isp resolver, as on the star network)."""
        ports = ports or {}
        doc = (censor or self.censor).to_policy()
        rules = doc.pop("rules")
        doc["hosts"] = {h.name: h.to_policy(ports.get(h.name)) for h in self.hosts()}
        if client_side is not None:
            for name, host in doc["hosts"].items():
                host["side"] = "client" if name in client_side else "internet"
        doc["rules"] = rules
        return doc


def find_server(servers, domain: str) -> Server | None:
    """The server of `servers` answering for `domain`: an exact name first, then a glob."""
    name = domain.lower().rstrip(".")
    exact = next((s for s in servers if name in s.domains), None)
    return exact or next((s for s in servers if s.covers(name)), None)


ISP_HOST = Host(*ISP)
PUBLIC_DNS_HOST = Host(*PUBLIC_DNS)
