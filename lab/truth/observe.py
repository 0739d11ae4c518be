"""What a client sees, next to what the censor did: the table `blocklab run` prints.

For each target (the scenario's `expect:` entries, or every server's first domain when there
are none) a real client fetches it with curl; the censor's events for that client and target
say what the censor did. Issue 5's prober classifies further; this is the plain observation.
An expectation with `browser: true` is also opened in headless Chromium (lab/clients/browser.py)
and the table shows what the browser said next to what curl said.
On a routed network (`network:`) each row names the client's ISP, and each action the censor
that took it (`tspu/sni-reset: reset (sni)`).
"""
from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lab.truth.events import ALWAYS, Window, matching_events
from lab.truth.schemes import WEB_PORTS, transport_and_port
from lab.truth.table import text_table

CURL_TIMEOUT = 6
BROWSER_TIMEOUT = 6     # seconds a page may take to load in the browser (its start not counted)


@dataclass
class Observation:
    client: str
    target: str
    expected_blocked: bool | None
    censor: str          # what the events say: "rule/action" list, or "-"
    saw: str             # what the client saw
    reachable: bool
    server_ip: str | None = None
    browser: dict | None = None     # what the browser showed (lab/clients/browser.py's report)
    isp: str | None = None      # the client's ISP on a routed network: `home (AS12389)`
    expected_censor: str | None = None      # the censor that must act (expect's `censor`)
    acted: tuple[str, ...] = ()             # the censors whose events are attributed here

    @property
    def holds(self) -> bool | None:
        if self.expected_blocked is None:
            return None
        if self.expected_censor and self.expected_censor not in self.acted:
            return False
        return self.expected_blocked != self.reachable

    def as_dict(self) -> dict:
        return dict(asdict(self), holds=self.holds)


def _targets(scenario) -> list[tuple[str, str, bool | None, str | None]]:
    if scenario.expect:
        return [(e.client, e.target, e.blocked, e.censor) for e in scenario.expect]
    client = scenario.clients[0].name
    out = []
    for server in scenario.servers:
        exact = [d for d in server.domains if not d.startswith("*")]
        if not exact:
            continue
        scheme = "https" if "https" in server.serve else "http"
        if scheme == "http" and not {"http", "bulk"} & set(server.serve):
            continue
        out.append((client, f"{scheme}://{exact[0]}/", None, None))
    return out


def fetch(lab, client: str, url: str, browser: bool = False) -> tuple[bool, str]:
    """Fetch `url` from `client` with a real client: (reachable, what it saw, one line).

    http(s):// with curl (or, with `browser`, headless Chromium: browse()), a bare domain with
    dig, and the schemes of lab.clients.targets (stun://, quic://, udp://, tcp://, ssh://)
    with their probes."""
    from lab.clients import targets
    if browser:
        from lab.clients.browser import summary
        report = browse(lab, client, url)
        return not report.get("error"), f"browser: {summary(report)}"
    if urlsplit(url).scheme.lower() in targets.CLIENTS:
        return targets.fetch(lab, client, url)
    if "://" not in url:
        r = lab.run(client, ["dig", "+short", "+time=2", "+tries=1", url], timeout=10)
        out = (r.stdout or r.stderr).strip().replace("\n", " ")
        return (r.returncode == 0 and bool(out) and not out.startswith(";")), \
            f"dig: {out or 'no answer'}"
    r = lab.run(client, ["curl", "-sS", "-o", "/dev/null", "--max-time", str(CURL_TIMEOUT),
                         "-w", "%{http_code} %{size_download} %{time_total}", url],
                timeout=CURL_TIMEOUT + 5)
    if r.returncode == 0:
        code, size, secs = (r.stdout.split() + ["?", "?", "?"])[:3]
        return code.startswith(("2", "3")), f"HTTP {code}, {size} B in {float(secs):.2f}s"
    # curl's own error line ("curl: (60) SSL certificate problem: ..."), not the advice after it
    err = [line for line in r.stderr.strip().splitlines() if line.startswith("curl: (")] or \
        r.stderr.strip().splitlines()
    return False, (err[-1] if err else f"curl exit {r.returncode}")


def browse(lab, client: str, url: str, screenshot: str | None = None,
           max_time: float = BROWSER_TIMEOUT, options: tuple[str, ...] = ()) -> dict:
    """Open `url` in headless Chromium in `client`: the browser client's report (its error,
    title, status, time; lab/clients/browser.py, whose `options` such as --quic and
    --revisit pass through). A browser that could not run says so in the report's error."""
    argv = [sys.executable, "-m", "lab.clients.browser", url, "--max-time", f"{max_time:g}",
            *options]
    if screenshot:
        argv += ["--screenshot", screenshot]
    r = lab.run(client, argv, timeout=max_time + 60)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        err = (r.stderr or "").strip().splitlines()
        return {"url": url, "error": f"no browser report: {err[-1] if err else r.returncode}"}


def attributed(events: list[dict], client_ip: str, target: str, server_ip: str | None,
               window: Window = ALWAYS) -> list[dict]:
    """The events of `client_ip`'s traffic for `target` during `window` (lab/truth/events.py
    decides which events are the target's)."""
    host = urlsplit(target).hostname if "://" in target else target
    proto, port = transport_and_port(target)
    return matching_events(events, client_ip, host, server_ip, window, proto, port)


def censor_actions(events: list[dict], client_ip: str, target: str, server_ip: str | None,
                   window: Window = ALWAYS, named: bool = False) -> str:
    """What the censor did to this client's traffic for `target` during `window`, one
    `rule: action (technique)` each; `named`: which censor did it (`tspu/...`, several)."""
    labels = []
    for ev in attributed(events, client_ip, target, server_ip, window):
        label = f"{ev.get('rule')}: {ev.get('action')} ({ev.get('technique')})"
        if named:
            label = f"{ev.get('censor')}/{label}"
        if label not in labels:
            labels.append(label)
    return "; ".join(labels) or "-"


def _order_matters(scenario) -> bool:
    """A penalty box or a probability makes one check's traffic change the next one's fate."""
    return any(r.residual or r.probability for c in scenario.censors() for r in c.rules)


def check_expectations(lab, browser: bool = False,
                       screenshots: Path | None = None) -> list[Observation]:
    """Fetch every target (at once, or in order when the censor has memory) and attribute.
    The targets an expectation asks a browser for (all web targets with `browser`) are opened
    in headless Chromium too; with `screenshots`, what each tab showed is saved there."""
    sc = lab.scenario
    targets = _targets(sc)
    asked = [e.browser for e in sc.expect] if sc.expect else [False] * len(targets)
    browsers = [i for i, (_, url, _, _) in enumerate(targets)
                if asked[i] or (browser and urlsplit(url).scheme.lower() in WEB_PORTS)]
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)

    def show(i: int) -> dict:
        shot = screenshots / f"browser-{i + 1}-{targets[i][0]}.png" if screenshots else None
        return browse(lab, targets[i][0], targets[i][1], str(shot) if shot else None)
    workers = 1 if _order_matters(sc) else min(16, max(1, len(targets) + len(browsers)))
    start = time.time() - lab.t0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        seen = pool.map(lambda t: fetch(lab, t[0], t[1]), targets)
        shown = pool.map(show, browsers)
        seen, shown = list(seen), dict(zip(browsers, shown))
    window = Window(start, time.time() - lab.t0)
    rows = []
    for i, ((client, target, blocked, censor), (reachable, saw)) in \
            enumerate(zip(targets, seen)):
        host = urlsplit(target).hostname if "://" in target else target
        server = sc.server_for(host) if host else None
        rows.append(Observation(client, target, blocked, "", saw, reachable,
                                server.ip if server else None, shown.get(i), _isp_label(sc, client),
                                censor))
    events = lab.events()
    named = len(sc.censors()) > 1
    for row in rows:
        client_ip = sc.host(row.client).ip
        row.censor = censor_actions(events, client_ip, row.target, row.server_ip, window,
                                    named)
        row.acted = tuple(dict.fromkeys(
            str(e.get("censor")) for e in attributed(events, client_ip, row.target,
                                                     row.server_ip, window)))
    _measure_throttles(lab, rows)
    return rows


def _measure_throttles(lab, rows: list[Observation], seconds: int = 3) -> None:
    """For a throttled target whose server has a bulk file, say what a download gets."""
    todo = []
    for row in rows:
        server = next((s for s in lab.scenario.servers if s.ip == row.server_ip), None)
        if "throttle" in row.censor and server and "bulk" in server.serve and row.reachable:
            base = row.target.split("://", 1)
            todo.append((row, f"{base[0]}://{urlsplit(row.target).netloc}/bulk/100M"))

    def speed(item):
        row, url = item
        r = lab.run(row.client, ["curl", "-sS", "-o", "/dev/null", "--max-time", str(seconds),
                                 "-w", "%{speed_download}", url], timeout=seconds + 5)
        try:
            return float(r.stdout)
        except ValueError:
            return None
    with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        for (row, _), bps in zip(todo, pool.map(speed, todo)):
            if bps is not None:
                row.saw += f"; download {bps * 8 / 1000:.0f} kbit/s"


def table(rows: list[Observation]) -> tuple[tuple, list[tuple]]:
    """The run table's head and rows (the terminal's and the report's): an "isp" column on a
    routed network, a "browser saw" column when some target was opened in a browser."""
    from lab.clients.browser import summary
    isps = any(r.isp for r in rows)
    browsed = any(r.browser is not None for r in rows)
    head = ("client", *(("isp",) if isps else ()), "target", "censor did", "client saw",
            *(("browser saw",) if browsed else ()), "expected")
    body = []
    for r in rows:
        exp = "-" if r.expected_blocked is None else \
            ("blocked" if r.expected_blocked else "open") + \
            (f" ({r.expected_censor})" if r.expected_censor else "") + \
            (" ✓" if r.holds else " ✗")
        shown = ((summary(r.browser) if r.browser else "-",) if browsed else ())
        body.append((r.client, *((r.isp or "-",) if isps else ()), r.target, r.censor, r.saw,
                     *shown, exp))
    return head, body


def render_table(rows: list[Observation]) -> str:
    return "\n".join(text_table(*table(rows)))


def _isp_label(sc, client: str) -> str | None:
    """`client`'s ISP as every per-ISP table names it (probe's and compare's too)."""
    isp = sc.network.isp_of(client) if sc.network else None
    return isp.label if isp else None
