"""The ground truth for one target: what the censor really did to its flows. Pure.

The censor logs every flow it decided (events.jsonl, docs/design.md's event record). A target's
events are those
- whose flow's `src` is the target's client (either of its addresses in a dual-stack lab:
  lab.scenario.addressing.host_ip), and
- that happened while that target was being measured (its *window*: targets are measured one
  after another, so flows to a server two targets share are told apart by time), and
- whose `detail` names the target's host (a DNS query, an SNI, a Host header) — a name read
  from a flow's data (not a DNS query) only on the target's own transport, so that a QUIC
  target is not credited with its HTTPS twin's SNI — or whose flow goes to the target's server,
  on its transport and port when the target has them (lab/truth/schemes.py);
plus the penalty boxes (`residual` events) in force during the window for the client, the
target's server address and its port (any port of a server-wide box but those it spares): a
boxed flow is dropped at the switch and leaves no event of its own.

An `allow` event is not censorship. A `throttle` is censorship, of technique `throttle`; any
other action is censorship of the technique the event names (`dns`, `sni`, `ip`, `server`,
`protocol`, `host`, `path`, `quic_sni`, `residual`, ...).

The target is *censored* when the censor did censor its flows, or when the scenario's
`expect:` says it is blocked. Where the two disagree the truth says so in `note`: the
expectation and the censor's log, side by side, tell a wrong scenario from a broken censor.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from lab.scenario.addressing import host_ip


@dataclass(frozen=True)
class Window:
    start: float           # seconds since the lab came up, as the events' `t`
    end: float


ALWAYS = Window(float("-inf"), float("inf"))


@dataclass
class Truth:
    censored: bool
    techniques: list[str] = field(default_factory=list)   # the censoring events', in order
    rules: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    allowed_by: list[str] = field(default_factory=list)   # `allow` rules that matched
    expected: bool | None = None
    expected_technique: str | None = None
    note: str = ""
    events: list[dict] = field(default_factory=list)

    @property
    def technique(self) -> str | None:
        """The main technique: the first censoring event's that is not a box, else the box."""
        main = [t for t in self.techniques if t != "residual"]
        if main:
            return main[0]
        if self.techniques:
            return self.techniques[0]
        return self.expected_technique if self.censored else None

    def describe(self) -> str:
        if self.rules:
            did = "; ".join(f"{r}: {a} ({t})" for r, a, t in
                            _unique(zip(self.rules, self.actions, self.techniques)))
        elif self.allowed_by:
            did = f"allowed by {', '.join(self.allowed_by)}"
        else:
            did = "nothing"
        return did + (f" [{self.note}]" if self.note else "")

    def as_dict(self) -> dict:
        return dict(asdict(self), technique=self.technique)


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def technique_of(event: dict) -> str:
    if event.get("action") == "throttle":
        return "throttle"
    return str(event.get("technique") or event.get("action") or "?")


def names_in(detail: dict | None) -> set[str]:
    out = set()
    for value in (detail or {}).values():
        for v in (value if isinstance(value, list) else [value]):
            if isinstance(v, str):
                out.add(v.lower().rstrip("."))
    return out


def from_host(event: dict, ip: str) -> bool:
    """Whether `event`'s flow comes from the host whose IPv4 address is `ip`, over either
    family (a dual-stack client's curl prefers IPv6)."""
    flow = event.get("flow")
    return isinstance(flow, dict) and host_ip(str(flow.get("src"))) == ip


def matching_events(events: list[dict], client_ip: str, host: str | None,
                    server_ip: str | None, window: Window, proto: str | None = None,
                    port: int | None = None) -> list[dict]:
    """The events that belong to one target (see the module's docstring)."""
    host = (host or "").lower().rstrip(".") or None
    out = []
    for ev in events:
        flow = ev.get("flow")
        if not from_host(ev, client_ip):
            continue
        if flow.get("family") == "ipv6":        # a dual-stack lab: the host, either family
            flow = {**flow, "dst": host_ip(str(flow.get("dst")))}
        t = float(ev.get("t", -1))
        if ev.get("technique") == "residual" and server_ip and flow.get("dst") == server_ip:
            detail = ev.get("detail") or {}
            until = float(detail.get("until", t))
            same_port = port is None or flow.get("dport") in (None, port)
            # a server-wide box (proto "any") holds every port but the TCP ones it spares
            same_proto = proto is None or flow.get("proto") in (None, "any", proto)
            if flow.get("proto") == "any" and proto == "tcp" and port in detail.get("spare", ()):
                same_port = False
            if t <= window.end and until >= window.start and same_port and same_proto:
                out.append(ev)
            continue
        if not window.start <= t <= window.end:
            continue
        detail = ev.get("detail")
        on_transport = proto is None or flow.get("proto") == proto
        if host and host in names_in(detail):
            if on_transport or ev.get("technique") == "dns" or "dns" in (detail or {}):
                out.append(ev)
        elif server_ip and flow.get("dst") == server_ip and on_transport and \
                (port is None or flow.get("dport") == port):
            out.append(ev)
    return out


def truth_for(matched: list[dict], expected: bool | None = None,
              expected_technique: str | None = None) -> Truth:
    """The truth from a target's events and its `expect:` entry (None: no entry)."""
    truth = Truth(censored=False, expected=expected, expected_technique=expected_technique,
                  events=matched)
    for ev in matched:
        if ev.get("action") == "allow":
            if ev.get("rule") not in truth.allowed_by:
                truth.allowed_by.append(str(ev.get("rule")))
            continue
        truth.techniques.append(technique_of(ev))
        truth.rules.append(str(ev.get("rule")))
        truth.actions.append(str(ev.get("action")))
    did = bool(truth.techniques)
    truth.censored = did or expected is True
    if expected is True and not did:
        truth.note = "expect says blocked, but no censor event touched this target's flows"
    elif expected is False and did:
        kinds = sorted(set(truth.actions))
        truth.note = f"expect says not blocked; the censor did {', '.join(kinds)}"
    return truth
