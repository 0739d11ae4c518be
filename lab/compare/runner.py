"""Running a comparison: for each scenario one lab, in it each tool in turn, `repeat` times.

A trial is one tool in one lab: start it (server on the vps, client on the client host), fetch
every target through it at once (a page each, `PAGE_TIME` at most), download the bulk file for
`BULK_TIME` seconds, stop it. The censor's events are then read once per lab and each trial gets
those of its time window that involve its client: the ones on the tool's own flows (to the vps
ports it names, or to the other hosts it names: Tor's relays or bridge) are the tunnel's, the
rest are the targets'.

A trial's status:
- `works`: every target answered; `degraded`: it did, but the censor throttled or cut a flow;
- `partial`: some targets answered; `blocked`: none did (or the tunnel never came up) and the
  censor's events show it acting, or a penalty box it opened earlier still covers the tool's
  tunnel; `failed`: the tool did not work and the censor did nothing (a broken tool or lab,
  not censorship).

On a routed network (`network:`) `compare` runs each trial from one client of every ISP (the
first client each ISP lists), so the results read per ISP: each trial names its client and
ISP, and the matrix has a column per scenario and ISP (lab.compare.report). A campaign's
shard keeps to the scenario's first client.

In a dual-stack scenario (`ipv6: true`) each tool that can be kept to one family
(`Tool.pins_family`: its curl gets -4/-6, its tunnel's client the vps's address of the
family) runs once per family, IPv4 then IPv6; each such trial names its `family`, and the
matrix has a column per family. The other tools run once, over whichever family their
programs pick. A single-stack scenario's trials have no family; nor do a campaign shard's
(one result file per tool and repeat: it keeps to unpinned trials, as to the first client).
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import product
from statistics import median
from typing import Callable
from urllib.parse import urlsplit

from controllers.rules.vocabulary import PASSING_ACTIONS, SHAPING_ACTIONS
from lab.compare import tools as registry
from lab.compare import vps as vpsmod
from lab.compare.base import ToolContext, ToolError
from lab.compare.measure import Fetch
from lab.compare.report import FAMILY_NAMES
from lab.scenario.addressing import ISP_IP, ip6_for
from lab.services.tor import plan as torplan

log = logging.getLogger("blocklab.compare")

PAGE_TIME = 5.0           # seconds per page fetch
BULK_TIME = 3.0           # seconds of bulk download per trial
EVENT_SLACK = 1.0         # the censor writes an event just after it acts


class CompareError(Exception):
    """The comparison cannot run as asked (unknown tool, a program missing, ...)."""


@dataclass
class Trial:
    scenario: str
    tool: str
    repeat: int
    started: bool = False
    error: str = ""                          # why the tool did not come up
    fetches: list[Fetch] = field(default_factory=list)
    bulk: Fetch | None = None
    window: tuple[float, float] = (0.0, 0.0)  # seconds since the lab came up
    events: list[dict] = field(default_factory=list)
    status: str = ""
    blocked_by: list[str] = field(default_factory=list)
    degraded_by: list[str] = field(default_factory=list)
    bootstrap: float | None = None           # seconds its client took to be ready (Tor's)
    client: str = ""                         # the client it ran from
    isp: str | None = None                   # that client's ISP (its label), routed networks
    family: str | None = None                # "ipv4"/"ipv6": the one family it was kept to

    @property
    def ok_count(self) -> int:
        return sum(f.ok for f in self.fetches)

    @property
    def success(self) -> float:
        return self.ok_count / len(self.fetches) if self.fetches else 0.0

    @property
    def ttfb(self) -> float | None:
        times = [f.ttfb for f in self.fetches if f.ok and f.ttfb is not None]
        return median(times) if times else None

    @property
    def goodput_mbit(self) -> float | None:
        return self.bulk.goodput_mbit if self.bulk else None

    def as_dict(self) -> dict:
        return {"repeat": self.repeat, "status": self.status, "started": self.started,
                "error": self.error, "ok": self.ok_count, "targets": len(self.fetches),
                "ttfb_ms": _ms(self.ttfb), "goodput_mbit": self.goodput_mbit,
                "blocked_by": self.blocked_by, "degraded_by": self.degraded_by,
                "fetches": [f.as_dict() for f in self.fetches],
                "bulk": self.bulk.as_dict() if self.bulk else None,
                "window": list(self.window), "events": self.events,
                "bootstrap_s": None if self.bootstrap is None else round(self.bootstrap, 3),
                "client": self.client, **({"isp": self.isp} if self.isp else {}),
                **({"family": self.family} if self.family else {})}

    @classmethod
    def from_dict(cls, scenario: str, tool: str, d: dict) -> "Trial":
        """The trial `as_dict` wrote (a campaign's result file)."""
        return cls(scenario, tool, d["repeat"], d["started"], d["error"],
                   [Fetch.from_dict(f) for f in d["fetches"]],
                   Fetch.from_dict(d["bulk"]) if d["bulk"] else None,
                   tuple(d["window"]), d["events"], d["status"], d["blocked_by"],
                   d["degraded_by"], d.get("bootstrap_s"), d.get("client", ""), d.get("isp"),
                   d.get("family"))


@dataclass
class ScenarioRun:
    name: str
    title: str
    ref: str
    client: str
    vps: dict
    bulk_url: str
    targets: list[dict]
    trials: list[Trial] = field(default_factory=list)
    tor_network_s: float | None = None       # how long the lab's Tor network took to come up
    expected: dict = field(default_factory=dict)     # client -> {url: blocked} (expect:)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def resolve_tools(names: list[str]) -> list:
    """Tools by name ('all' for every one); CompareError naming unknown or uninstalled ones."""
    if names == ["all"]:
        names = list(registry.NAMES)
    unknown = [n for n in names if n not in registry.NAMES]
    if unknown:
        hint = "; ".join(f"{n}: left out ({registry.LEFT_OUT[n]})" for n in unknown
                         if n in registry.LEFT_OUT)
        raise CompareError(f"unknown tool(s) {', '.join(unknown)}; known: "
                           f"{', '.join(registry.NAMES)}" + (f". {hint}" if hint else ""))
    chosen = [registry.get(n) for n in dict.fromkeys(names)]
    missing = sorted({p for t in chosen for p in t.missing()})
    if missing:
        raise CompareError(f"missing program(s) {', '.join(missing)}: run `make setup` "
                           "(scripts/setup.sh installs them)")
    return chosen


def classify(trial: Trial) -> None:
    """Set the trial's status and the rules that blocked or degraded it (from its events)."""
    acts = [(e.get("rule"), e.get("action")) for e in trial.events]
    trial.blocked_by = sorted({r for r, a in acts if a not in PASSING_ACTIONS and r})
    trial.degraded_by = sorted({r for r, a in acts if a in SHAPING_ACTIONS and r})
    if not trial.started or trial.ok_count == 0:
        trial.status = "blocked" if trial.blocked_by else "failed"
    elif trial.ok_count < len(trial.fetches):
        trial.status = "partial"
    else:
        trial.status = "degraded" if trial.degraded_by else "works"


def _penalty_boxes(events: list[dict], residual: dict[str, float]) -> list[dict]:
    """The penalty boxes the censor opened (one `residual` event each) with their end."""
    out = []
    for ev in events:
        if ev.get("technique") == "residual" and ev.get("rule") in residual:
            t = float(ev.get("t", 0))
            out.append({**ev, "until_t": t + residual[ev["rule"]]})
    return out


def _addresses(ip) -> set[str]:
    """One address (a str) or several (an iterable), as a set; None left out."""
    return {ip} if isinstance(ip, str) else {a for a in ip if a}


def attribute(trials: list[Trial], events: list[dict], client_ip, vps_ip,
              residual: dict[str, float] | None = None,
              target_ips: frozenset = frozenset()) -> None:
    """Give each event that involves the client (or its ISP resolver) to the one trial running
    when it happened (the censor logs just after it acts: up to EVENT_SLACK after a trial's
    end still counts, unless the next trial had begun), then classify every trial.

    A penalty box outlives its trial and the censor logs it once, when it opens: a later trial
    that got nothing through while a box of its client covered the tool's tunnel (or a
    target's address) gets that box's event too, marked `carried: true`. `client_ip` and
    `vps_ip` are an address each, or (dual stack) each one's addresses of both families."""
    clients, vpses = _addresses(client_ip), _addresses(vps_ip)
    resolvers = {ISP_IP, ip6_for(ISP_IP)}
    ordered = sorted(trials, key=lambda t: t.window[0])
    for trial in ordered:
        trial.events = []
    tunnels = {tr.tool: set(registry.get(tr.tool).tunnel) for tr in ordered}
    elsewhere = {tr.tool: set(registry.get(tr.tool).tunnel_hosts) for tr in ordered}

    def on_tunnel(flow: dict, tool: str) -> bool:
        return (flow.get("dst") in vpses and
                (flow.get("proto"), flow.get("dport")) in tunnels[tool]) or \
            flow.get("dst") in elsewhere[tool]

    for ev in events:
        flow = ev.get("flow") or {}
        if not (clients | resolvers) & {flow.get("src"), flow.get("dst")}:
            continue
        t = float(ev.get("t", -1))
        owner = next((tr for tr in reversed(ordered) if tr.window[0] <= t), None)
        if owner is None or t > owner.window[1] + EVENT_SLACK:
            continue
        owner.events.append({**ev, "on_tunnel": on_tunnel(flow, owner.tool)})
    boxes = [b for b in _penalty_boxes(events, residual or {})
             if (b.get("flow") or {}).get("src") in clients]
    for trial in ordered:
        classify(trial)
        if trial.status not in ("failed", "partial") or trial.blocked_by:
            continue
        lo = trial.window[0]
        for box in boxes:
            flow = box["flow"]
            tunnel = on_tunnel(flow, trial.tool)
            if box["t"] < lo and box["until_t"] > lo and \
                    (tunnel or flow.get("dst") in target_ips):
                trial.events.append({**{k: v for k, v in box.items() if k != "until_t"},
                                     "on_tunnel": tunnel, "carried": True})
        classify(trial)


def run_trial(lab, prepared, tool, client: str, repeat: int, folder,
              bulk_rate: int | None = None, tor=None, family: str | None = None) -> Trial:
    trial = Trial(prepared.scenario.name, tool.name, repeat, family=family)
    ctx = ToolContext(lab, prepared, client, folder, bulk_rate, tor, family)
    begin = time.time() - lab.t0
    try:
        tool.start(ctx)
        trial.started = True
        trial.bootstrap = ctx.bootstrap
        urls = [url for url, _ in prepared.targets]
        with ThreadPoolExecutor(max_workers=min(8, len(urls))) as pool:
            trial.fetches = list(pool.map(lambda u: tool.fetch(ctx, u, PAGE_TIME), urls))
        trial.bulk = tool.fetch(ctx, prepared.bulk_url, BULK_TIME, bulk=True)
    except Exception as e:        # ToolError, or a bug of the adapter: the run goes on
        if isinstance(e, ToolError):
            log.debug("%s did not come up: %s", tool.name, e)
        else:
            log.exception("the %s adapter failed; the trial records the error", tool.name)
        trial.error = str(e) if isinstance(e, ToolError) else f"{type(e).__name__}: {e}"
        trial.fetches = [Fetch(url, False, error=f"{tool.name} did not come up")
                         for url, _ in prepared.targets]
        trial.bulk = None
    finally:
        tool.stop(ctx)
    trial.window = (begin, time.time() - lab.t0)
    return trial


def run_scenario(scenario, tools: list, repeat: int,
                 say: Callable[[str], None] = lambda s: None,
                 bulk_rate: int | None = None, *,
                 only: set[tuple[str, int]] | None = None,
                 on_trial: Callable[[ScenarioRun, Trial], None] | None = None,
                 pcap=None, per_isp: bool = False, per_family: bool = False) -> ScenarioRun:
    """Every tool `repeat` times in one lab of `scenario` (repeat-major, tools in order).

    `only` keeps the (tool name, repeat) pairs to run (a campaign's share of them). With
    `on_trial`, each trial is attributed as soon as it ends (the censor settled, its events
    read) and handed over at once, so a caller can keep it before the next one starts.
    With `pcap`, the lab's packets are captured into a folder per scenario under it. With
    `per_isp` on a routed network, each trial runs from the first client of every ISP. With
    `per_family` in a dual-stack scenario, a tool that pins its family runs once per family."""
    from lab.run.lab import Lab
    tor_wanted = any(getattr(tool, "needs_tor", False) for tool in tools)
    if tor_wanted:
        try:
            scenario = torplan.with_network(scenario)
        except torplan.PlanError as e:
            raise CompareError(str(e)) from None
    prepared = vpsmod.prepare(scenario)
    sc = prepared.scenario
    client = sc.clients[0].name
    clients = _clients(sc) if per_isp else [(client, None)]
    v = prepared.vps
    out = ScenarioRun(sc.name, sc.title, str(scenario.path), client,
                      {"name": v.name, "ip": v.ip, "domains": list(v.domains),
                       "added": prepared.vps_added,
                       **({"ip6": sc.host(v.name).ip6} if sc.ipv6 else {})},
                      prepared.bulk_url,
                      [{"url": u, "expected_blocked": b} for u, b in prepared.targets])
    for e in sc.expect:
        out.expected.setdefault(e.client, {}).setdefault(e.target, e.blocked)
    with Lab(sc, pcap=pcap and _pcap_folder(pcap, sc.name)) as lab:
        say(f"{sc.name}: lab up in {lab.timings['up']:.1f}s; client {client}, vps {v.name} "
            f"({v.ip}{', added' if prepared.vps_added else ''}); {len(prepared.targets)} "
            f"target(s); bulk {prepared.bulk_url}")
        vpsmod.outside_resolver(lab, v)
        tor = _start_tor(lab, out, say) if tor_wanted else None
        residual = {r.id: r.residual for c in sc.censors() for r in c.rules if r.residual}
        ips = frozenset(a for url, _ in prepared.targets
                        if (s := sc.server_for(urlsplit(url).hostname or ""))
                        for a in (s.ip, s.ip6) if a)

        def judge() -> None:
            lab.settle(EVENT_SLACK)       # the last trial's packets decided and logged
            events = lab.events()
            vps_ips = (v.ip, sc.host(v.name).ip6)
            for name, _isp in clients:
                host = sc.host(name)
                attribute([t for t in out.trials if t.client == name], events,
                          (host.ip, host.ip6), vps_ips, residual, ips)

        for r in range(repeat):
            for tool in tools:
                if only is not None and (tool.name, r) not in only:
                    continue
                fams = families(sc, tool) if per_family else (None,)
                for (name, isp), family in product(clients, fams):
                    leaf = f"{tool.name}-{r}" + (f"-{name}" if isp else "") + \
                        (f"-{family}" if family else "")
                    folder = lab.run_dir.path / "compare" / leaf
                    trial = run_trial(lab, prepared, tool, name, r, folder, bulk_rate, tor,
                                      family)
                    trial.client, trial.isp = name, isp
                    out.trials.append(trial)
                    say(f"  {tool.name}{f' #{r + 1}' if repeat > 1 else ''}"
                        + (f" from {name} ({isp})" if isp else "")
                        + (f" over {FAMILY_NAMES[family]}" if family else "") + ": "
                        f"{trial.ok_count}/{len(trial.fetches)} targets"
                        + (f", did not come up: {trial.error}" if trial.error else "")
                        + (f", bootstrap {trial.bootstrap:.1f}s" if trial.bootstrap else "")
                        + (f", {trial.goodput_mbit:.2f} Mbit/s" if trial.goodput_mbit else ""))
                    if on_trial is not None:
                        judge()
                        on_trial(out, trial)
        if on_trial is None:
            judge()
    for path, what in lab.capture_files():
        say(f"  pcap: {path} ({what})")
    return out



def families(sc, tool) -> tuple[str | None, ...]:
    """The families a tool's trials are kept to: both, in a dual-stack scenario, for a tool
    that can be (`pins_family`); else one unpinned trial (None)."""
    return ("ipv4", "ipv6") if sc.ipv6 and tool.pins_family else (None,)


def _start_tor(lab, out: ScenarioRun, say: Callable[[str], None]):
    """The lab's private Tor network, up (a TorNetwork), or why it is not (a str): the Tor
    tools' trials then fail with that reason, the other tools run as ever."""
    from lab.services.tor.network import TorNetwork, TorNetworkError
    network = TorNetwork(lab)
    say("  starting the lab's Tor network (3 authorities/relays, 2 obfs4 bridges)")
    try:
        out.tor_network_s = round(network.start(), 2)
    except TorNetworkError as e:
        say(f"  the lab's Tor network did not come up: {e}")
        return str(e)
    say(f"  Tor network up in {out.tor_network_s:.1f}s (keys {network.key_seconds:.1f}s)")
    return network


def _clients(sc) -> list[tuple[str, str | None]]:
    """(client, its ISP's label) of the first client of each ISP; the first client alone
    (no ISP) on the one-switch lab."""
    if not sc.network:
        return [(sc.clients[0].name, None)]
    return [(isp.clients[0], isp.label) for isp in sc.network.isps if isp.clients]


def _pcap_folder(pcap, name: str):
    """`--pcap DIR` with several scenarios: one subfolder each (ru/2025-12 -> ru-2025-12)."""
    from pathlib import Path
    folder = Path(pcap) / name.replace("/", "-")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def compare(scenarios: list, tool_names: list[str], repeat: int = 1,
            say: Callable[[str], None] = lambda s: None,
            bulk_rate: int | None = None, pcap=None) -> list[ScenarioRun]:
    """Every tool through every scenario (loaded Scenario objects), `repeat` times each;
    `bulk_rate` (bit/s) caps the bulk downloads made with curl."""
    if repeat < 1:
        raise CompareError("--repeat must be at least 1")
    tools = resolve_tools(tool_names)
    return [run_scenario(sc, tools, repeat, say, bulk_rate, pcap=pcap, per_isp=True,
                         per_family=True) for sc in scenarios]
