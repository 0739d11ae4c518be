"""`explain`: what the censor will do to a URL fetched from a client, without sending traffic.

A fetch is a few flows ("legs") that cross the censor: the DNS lookup of the URL's name
(client -> its resolver, and the ISP resolver -> the name's authoritative server when that
server serves dns), then the connection to the server (scheme -> transport and port). Each
leg's facts are what the censor would read from it: the query name, the TLS SNI, the HTTP
Host and path, the QUIC SNI. The rules in force (the control socket's `rules` reply) are
walked in order with the censor's own matching code (controllers.rules.matching, pure), so `*.x`
and `*t.co*` mean here what they mean to the censor.

Some keys cannot be known without traffic: `protocol` (a fingerprint of the first bytes),
`tls_ext` and `quic_ext` (the client's ClientHello), `sport_above_dport` (the client port is
picked when it connects) and `probability` (a draw per flow). A rule that needs them *may* decide; the walk
goes on, and a second verdict assumes what a stock client would send (curl's TLS for https).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from controllers.rules.facts import UNKNOWN, Facts
from controllers.rules.matching import CompiledMatch
from controllers.rules.vocabulary import CONTENT_KEYS
from controllers.packets import TCP, UDP
from lab.scenario.ruletext import action_text, rate_text
from lab.truth.schemes import SCHEMES

# extensions an OpenSSL/curl ClientHello carries (no ESNI 0xffce, no ECH 0xfe0d)
TYPICAL_TLS_EXT = frozenset((0, 10, 11, 13, 16, 22, 23, 35, 43, 45, 49, 51))
EPHEMERAL = 45000          # a typical Linux client port (32768-60999) for the "likely" walk
NEEDS_TRAFFIC = {
    "protocol": "the fingerprint of the flow's first bytes",
    "tls_ext": "the extensions in the client's ClientHello",
    "quic_ext": "the extensions in the client's ClientHello, inside QUIC",
    "sport_above_dport": "the client port, picked when it connects",
}
DNS_FAILS = {"nxdomain": "NXDOMAIN: curl: (6) Could not resolve host",
             "servfail": "SERVFAIL: curl: (6) Could not resolve host",
             "refused": "REFUSED: curl: (6) Could not resolve host",
             "drop": "no answer: the lookup times out (curl: (6) or (28))",
             "reject": "ICMP port unreachable: the lookup fails at once (curl: (6))"}
SEEN = {"drop": "the flow's packets vanish: it times out (curl: (28))",
        "drop_reply": "the server's answer vanishes: it times out (curl: (28))",
        "rst_handshake": "forged RST+ACKs to the SYN: connection refused (curl: (7))",
        "ban_after": "the first {packets} packets pass, then the server's address is cut off "
                     "for the rule's residual, every protocol (ping stops answering)",
        "reject": "a closed port's answer: connection refused (curl: (7))",
        "reset": "RSTs after the first data: connection reset (curl: (35)/(56))",
        "blockpage": "the censor's block page instead of the site",
        "throttle": "it goes through, policed to {rate}",
        "cut_after": "the first {size} pass, then it stalls",
        "intercept": "the censor's box answers with a certificate from the national CA: "
                     "a certificate error (curl: (60)) unless the client trusts that CA",
        "allow": "nothing: an exception above broader rules"}


@dataclass
class Flow:
    """The flow shape controllers.rules.matching reads (client side -> server side)."""
    proto: int
    c_ip: str
    s_ip: str
    s_port: int
    c_port: int = EPHEMERAL

    @property
    def c_n(self) -> int:
        return int(ipaddress.IPv4Address(self.c_ip))

    @property
    def s_n(self) -> int:
        return int(ipaddress.IPv4Address(self.s_ip))

    @property
    def proto_name(self) -> str:
        return {TCP: "tcp", UDP: "udp"}.get(self.proto, "icmp")


@dataclass
class Leg:
    what: str                    # "DNS lookup of x via isp", "TLS connection to x"
    flow: Flow
    facts: dict                  # fact name -> value (absent: known not there)
    guesses: dict                # fact name -> what a stock client would show (needs traffic)
    kind: str = "connect"        # "dns" | "connect"


@dataclass
class RuleVerdict:
    rule: str
    action: dict
    holds: bool | None           # True, False, None (needs traffic)
    unknown: list[str] = field(default_factory=list)
    probability: float | None = None


@dataclass
class LegResult:
    leg: Leg
    walk: list[RuleVerdict]      # the rules that hold or may hold, in order, until one decides
    decided: RuleVerdict | None  # the first rule that surely holds (None: nothing does)
    likely: RuleVerdict | None   # the first that holds assuming a stock client


@dataclass
class Explanation:
    client: str
    url: str
    legs: list[LegResult]
    notes: list[str]

    @property
    def deciding_rules(self) -> list[str]:
        return [r.decided.rule for r in self.legs if r.decided]

    def render(self) -> str:
        out = [f"{self.url} from {self.client}:"]
        for i, res in enumerate(self.legs, 1):
            f = res.leg.flow
            out.append(f"  {i}. {res.leg.what}  [{f.proto_name} {f.c_ip} -> "
                       f"{f.s_ip}:{f.s_port}]")
            for v in res.walk:
                out.append("       " + _verdict_line(v))
            if res.decided:
                out.append(f"     => rule {res.decided.rule} decides: "
                           f"{action_text(res.decided.action)}; the client sees "
                           f"{seen_text(res.decided.action, res.leg.kind)}")
            elif not res.walk:
                out.append("     => no rule applies: it passes untouched")
            else:
                chance = [v for v in res.walk if v.holds and v.probability is not None]
                out.append(f"     => rule {chance[0].rule} decides for "
                           f"{chance[0].probability:.0%} of flows; the others pass on"
                           if chance else "     => no rule surely applies without traffic")
            if res.likely and res.likely is not res.decided:
                guess = ", ".join(f"{k}={_show(v)}" for k, v in res.leg.guesses.items())
                out.append(f"     => most likely (a stock client: {guess}): rule "
                           f"{res.likely.rule} decides: {action_text(res.likely.action)}")
        out += ["  note: " + n for n in self.notes]
        return "\n".join(out)


def _verdict_line(v: RuleVerdict) -> str:
    act = action_text(v.action)
    if v.holds is None:
        keys = ", ".join(f"{k} ({NEEDS_TRAFFIC.get(k, 'needs traffic')})" for k in v.unknown)
        return f"? {v.rule} ({act}) may hold: it needs {keys}, which only traffic shows"
    text = f"✓ {v.rule} ({act}) holds"
    if v.probability is not None:
        text += (f", for {v.probability:.0%} of flows (a draw per flow, known only when "
                 f"the flow comes)")
    return text


def _show(value) -> str:
    if isinstance(value, frozenset):
        return "{" + ", ".join(str(x) for x in sorted(value)) + "}"
    return str(value)


def seen_text(action: dict, kind: str) -> str:
    t = action.get("type")
    if kind == "dns":
        if t in DNS_FAILS:
            return DNS_FAILS[t]
        if t in ("forge", "inject"):
            return f"an answer pointing at {action.get('ip')} instead of the real address"
        return "the real answer"
    return SEEN.get(t, t or "?").format(rate=rate_text(action.get("rate_bps", 0)),
                                         size=f"{action.get('bytes')} B",
                                         packets=action.get("packets"))


# --- legs --------------------------------------------------------------------------------

def legs_for(scenario, client: str, url: str) -> tuple[list[Leg], list[str]]:
    """The flows fetching `url` from `client` puts through the censor, and notes."""
    notes: list[str] = []
    client_host = scenario.host(client)
    if client_host is None:
        raise ValueError(f"no host named {client!r}")
    if "://" not in url:
        url_parts, scheme, name = None, None, url.lower().rstrip(".")
    else:
        url_parts = urlsplit(url)
        scheme = url_parts.scheme.lower()
        name = (url_parts.hostname or "").rstrip(".")
        if scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {scheme!r} (one of {', '.join(SCHEMES)})")
    legs: list[Leg] = []
    server_ip = None
    try:
        server_ip = str(ipaddress.IPv4Address(name))
    except ValueError:
        legs += _dns_legs(scenario, client_host, name)
        server = scenario.server_for(name)
        if server is None:
            notes.append(f"no server answers for {name}: the lab's DNS says NXDOMAIN")
        elif not _dns_can_say(server, name):
            notes.append(f"{name} matches {server.name}'s pattern, but DNS cannot answer "
                         "for a glob like that: the lookup says NXDOMAIN")
        else:
            server_ip = server.ip
    if url_parts is not None and server_ip is not None:
        legs.append(_connect_leg(client_host, url_parts, scheme, name, server_ip))
    return legs, notes


def _dns_can_say(server, name: str) -> bool:
    from lab.services.dns import dns_names
    exact, zones = dns_names(server)
    return name in exact or any(name.endswith("." + z) for z in zones)


def _dns_legs(scenario, client_host, name: str) -> list[Leg]:
    resolver_ip = scenario.resolver_ip(client_host.name)
    resolver_name = next((h.name for h in scenario.hosts() if h.ip == resolver_ip), resolver_ip)
    facts = {"dns": name, "protocol": frozenset(("dns",))}
    legs = [Leg(f"DNS lookup of {name} via {resolver_name}",
                Flow(UDP, client_host.ip, resolver_ip, 53), facts, {"protocol": "dns"}, "dns")]
    server = scenario.server_for(name)
    if scenario.resolver == "isp" and server is not None and "dns" in server.serve:
        legs.append(Leg(f"the ISP resolver asks {server.name}'s name server",
                        Flow(UDP, resolver_ip, server.ip, 53), dict(facts),
                        {"protocol": "dns"}, "dns"))
    return legs


def _connect_leg(client_host, parts, scheme: str, name: str, server_ip: str) -> Leg:
    s = SCHEMES[scheme]
    transport, default_port, fingerprint = s.transport, s.port, s.first_bytes
    port = parts.port or default_port
    if port is None:
        raise ValueError(f"{scheme}:// needs a port ({scheme}://host:port)")
    facts: dict = {}
    guesses: dict = {}
    if scheme == "https":
        facts["sni"] = name
        guesses["tls_ext"] = TYPICAL_TLS_EXT
        what = f"TLS connection to {name} (SNI {name}; Host and path are encrypted)"
    elif scheme == "http":
        facts["host"] = name
        facts["path"] = parts.path or "/"
        what = f"HTTP request for {name}{parts.path or '/'} (in the clear)"
    elif scheme == "quic":
        facts["quic_sni"] = name
        guesses["quic_ext"] = TYPICAL_TLS_EXT | {57}      # aioquic's hello: transport parameters
        what = f"QUIC (HTTP/3) connection to {name}"
    else:
        what = f"{scheme.upper()} to {name}:{port}"
    if fingerprint:
        guesses["protocol"] = frozenset((fingerprint,))
    return Leg(what, Flow(TCP if transport == "tcp" else UDP, client_host.ip, server_ip, port),
               facts, guesses)


# --- the walk ----------------------------------------------------------------------------

def _facts(leg: Leg, likely: bool) -> Facts:
    facts = Facts()
    for name in CONTENT_KEYS:
        if name in NEEDS_TRAFFIC:                           # protocol, tls_ext, quic_ext
            setattr(facts, name, leg.guesses.get(name) if likely else UNKNOWN)
        else:
            setattr(facts, name, leg.facts.get(name))       # None: known not there
    if leg.kind == "dns":                                   # a DNS query's bytes are known
        facts.protocol = frozenset(("dns",))
        facts.tls_ext = facts.quic_ext = None
    return facts


def _unknown_keys(match: dict, leg: Leg) -> list[str]:
    keys = [k for k in match if k in NEEDS_TRAFFIC]
    if leg.kind == "dns":
        keys = [k for k in keys if k == "sport_above_dport"]
    if "not" in match:
        keys += [k for k in _unknown_keys(match["not"], leg) if k not in keys]
    return keys


def walk(leg: Leg, rules: list[dict], hosts: dict) -> LegResult:
    """Walk `rules` (internals §1 form, with `enabled`) in order over one leg."""
    shown: list[RuleVerdict] = []
    decided = likely = None
    for rule in rules:
        if not rule.get("enabled", True):
            continue
        match = CompiledMatch(rule["match"], hosts)
        prob = rule.get("probability")
        strict_flow = leg.flow
        unknown = _unknown_keys(rule["match"], leg)
        sure = match.matches(strict_flow, _facts(leg, likely=False))
        if "sport_above_dport" in unknown and sure is not False:
            sure = None
        guess = match.matches(strict_flow, _facts(leg, likely=True))
        if sure is False and not guess:
            continue
        verdict = RuleVerdict(rule["id"], rule["action"], sure,
                              unknown if sure is None else [], prob)
        shown.append(verdict)
        if likely is None and guess and prob is None:
            likely = verdict
        if sure and prob is None:
            decided = verdict
            break
    return LegResult(leg, shown, decided, likely if decided is None else decided)


def explain(scenario, rules: list[dict], client: str, url: str,
            probabilities: dict | None = None) -> Explanation:
    """What the censor does to `url` from `client`, leg by leg, under `rules` (the control
    socket's `rules` reply; `probabilities` fills in each rule's `probability` by id)."""
    hosts = {h.name: {"ip": h.ip} for h in scenario.hosts()}
    probabilities = probabilities or {}
    rules = [dict(r, probability=r.get("probability", probabilities.get(r["id"])))
             for r in rules]
    legs, notes = legs_for(scenario, client, url)
    results = []
    for leg in legs:
        res = walk(leg, rules, hosts)
        results.append(res)
        final = res.decided
        if leg.kind == "dns" and final and final.action.get("type") in DNS_FAILS:
            notes.append("the lookup fails, so no connection is made")
            break
        if leg.kind == "dns" and final and final.action.get("type") in ("forge", "inject"):
            forged = final.action["ip"]
            notes.append(f"the client connects to the forged address {forged}, not the "
                         "real server")
            rest = [lg for lg in legs if lg.kind != "dns"]
            for other in rest:
                other.flow.s_ip = forged
            server = next((s for s in scenario.servers if s.ip == forged), None)
            if server is None:
                notes.append(f"no lab host has {forged}: the connection times out")
                break
    if any(r.walk and any(v.holds is None for v in r.walk) for r in results):
        notes.append("'?' rules need traffic to decide; send it and look at `events`")
    return Explanation(client, url, results, notes)
