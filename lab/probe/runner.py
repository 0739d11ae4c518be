"""Running a detector over a scenario's targets in a live lab, and scoring it.

`Prober(lab).run(targets)` measures the targets one after another (their order matters:
penalty boxes and probabilistic rules depend on what came before), each from its client,
and records each target's window (seconds since the lab came up) so the censor's events can
be told apart by target (lab/truth/events.py). The built-in detector runs
`python -m lab.probe.measure` in the client and, for the control, right before it, in the
`public-dns` host, which sits outside the censor, as OONI's control is a vantage point outside
the censored network; lab/probe/classify.py compares the two. An external detector
(`detector=`) runs in the client instead (lab/probe/detector.py). With `browser=True` each web
target (without it, each whose expectation says `browser: true`) is then opened in headless
Chromium in the client too, inside the target's window, and judged against the control
(lab/probe/browser_step.py); `screenshots=DIR` keeps what each tab showed as
DIR/browser-N-CLIENT.png. `Prober.score(results)` reads the events and returns a
lab.probe.score.Score.

The scenario's timeline is not played: `expect:` describes the starting policy, and so does the
censor while the prober runs.
"""
from __future__ import annotations

import ipaddress
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lab.probe import browser_step, classify, detector as ext, ooni
from lab.probe.classify import Verdict
from lab.probe import families
from lab.probe.families import by_family
from lab.probe.score import Row, Score, score
from lab.truth.events import Window, matching_events, truth_for
from lab.truth.observe import browse
from lab.truth.schemes import WEB_PORTS, transport_and_port
from lab.scenario.addressing import PUBLIC_DNS_IP

CONTROL_HOST = "public-dns"


@dataclass
class Target:
    client: str
    url: str                          # a URL, or a bare domain (DNS only)
    expected: bool | None = None      # the scenario's expect: blocked (None: no entry)
    technique: str | None = None
    rule: str | None = None
    browser: bool = False             # the expectation asks for a browser (`browser: true`)

    @property
    def host(self) -> str:
        if "://" in self.url:
            return (urlsplit(self.url).hostname or "").rstrip(".")
        return self.url.strip().lower().rstrip(".")

    def proto_port(self) -> tuple[str | None, int | None]:
        """The transport and port of the target's own flows (a bare domain: none)."""
        return transport_and_port(self.url)


def targets(scenario, urls: list[str] | tuple = ()) -> list[Target]:
    """The scenario's `expect:` entries, then each URL from the first client. A scenario with
    neither gets one target per server that serves the web (its first exact domain)."""
    out = [Target(e.client, e.target, e.blocked, e.technique, e.rule, e.browser)
           for e in scenario.expect]
    first = scenario.clients[0].name
    out += [Target(first, u) for u in urls]
    if out:
        return out
    for server in scenario.servers:
        exact = [d for d in server.domains if not d.startswith("*")]
        if not exact:
            continue
        if "https" in server.serve:
            out.append(Target(first, f"https://{exact[0]}/"))
        elif {"http", "bulk"} & set(server.serve):
            out.append(Target(first, f"http://{exact[0]}/"))
    return out


@dataclass
class Result:
    target: Target
    window: Window
    verdict: Verdict
    record: dict | None               # the OONI measurement, or the detector's own record
    seconds: float
    browser: dict | None = None       # the browser step's keys (lab/probe/browser_step.py)
    browser_verdict: Verdict | None = None


class Prober:
    def __init__(self, lab, timeout: float = 3.0, detector: str | None = None,
                 detector_timeout: float = 60.0, throughput: bool = True,
                 browser: bool = False, screenshots: Path | None = None) -> None:
        self.lab = lab
        self.scenario = lab.scenario
        self.timeout = timeout
        self.detector = detector
        self.detector_timeout = detector_timeout
        self.throughput = throughput
        self.browser = browser
        self.screenshots = screenshots
        self._count = 0

    # --- the built-in prober's two vantage points -----------------------------------------

    def _measure_cmd(self, resolver: str, urls: list[str]) -> list[str]:
        cmd = [sys.executable, "-m", "lab.probe.measure", "--resolver", resolver,
               "--timeout", f"{self.timeout:g}"]
        if not self.throughput:
            cmd.append("--no-throughput")
        if self.scenario.ipv6:              # dual stack: each family measured (families.py)
            cmd.append("--ipv6")
        return cmd + list(urls)

    def _run_measure(self, host: str, resolver: str, urls: list[str]) -> tuple[dict, str]:
        budget = (8 * self.timeout + 10) * len(urls)
        r = self.lab.run(host, self._measure_cmd(resolver, urls), timeout=budget)
        out = {}
        for line in (r.stdout or "").splitlines():
            try:
                m = json.loads(line)
            except ValueError:
                continue
            out[m.get("input")] = m
        err = (r.stderr or "").strip().splitlines()
        return out, (err[-1] if err else f"exit {r.returncode}")

    def control(self, url: str) -> dict | None:
        """The control measurement of `url`, from outside the censor. Taken again for each
        target, right before the client's: the two throughput steps then share the machine's
        load of the moment."""
        got, _err = self._run_measure(CONTROL_HOST, PUBLIC_DNS_IP, [url])
        return got.get(url)

    def _builtin(self, target: Target, control: dict | None) -> tuple[Verdict, dict | None]:
        got, err = self._run_measure(target.client, self.scenario.resolver_ip(target.client),
                                    [target.url])
        raw = got.get(target.url)
        if raw is None:
            return Verdict(target.url, None, None, f"the prober failed: {err}"), None
        test_keys, verdict = classify.classify(raw, control)
        if "x_ipv6" in raw:
            test_keys["x_ipv6"] = raw["x_ipv6"]
            test_keys["x_families"] = by_family(raw, control)
            verdict = families.verdict(verdict, test_keys["x_families"])
        host = self.scenario.host(target.client)
        isp = self.isp(target.client)
        record = ooni.measurement(
            target.url, test_keys, start_time=raw["measurement_start_time"],
            runtime=raw.get("test_runtime", 0.0),
            test_start_time=ooni.now_string(self.lab.t0), client=target.client,
            client_ip=host.ip if host else "", scenario=self.scenario.name,
            control=f"{CONTROL_HOST} ({PUBLIC_DNS_IP}), outside the censor",
            **({"probe_asn": isp.asn or "AS0", "network_name": isp.name} if isp else {}))
        return verdict, record

    def isp(self, client: str):
        """The client's ISP (lab.scenario.topology.Isp) on a routed network, else None."""
        network = self.scenario.network
        return network.isp_of(client) if network else None

    def _external(self, target: Target) -> tuple[Verdict, dict | None]:
        cmd = ext.command(self.detector, target.url)
        r = self.lab.run(target.client, ["sh", "-c", cmd], timeout=self.detector_timeout)
        return ext.parse(r.stdout or "", r.stderr or "", r.returncode, target.url)

    # --- running and scoring ----------------------------------------------------------------

    def now(self) -> float:
        """Seconds since the lab came up: the clock of the censor's events."""
        return time.time() - self.lab.t0

    def measure(self, target: Target) -> Result:
        """One target: its measurement (or the detector's verdict) and its window."""
        self._count += 1
        browsed = (self.browser or target.browser) and "://" in target.url and \
            urlsplit(target.url).scheme.lower() in WEB_PORTS
        control = self.control(target.url) if self.detector is None or browsed else None
        start = self.now()         # the control, outside the censor, is left out of the window
        t = time.monotonic()
        if self.detector is None:
            verdict, record = self._builtin(target, control)
        else:
            verdict, record = self._external(target)
        secs = time.monotonic() - t
        result = Result(target, Window(start, self.now()), verdict, record, secs)
        if browsed:
            shot = self.screenshots / f"browser-{self._count}-{target.client}.png" \
                if self.screenshots is not None else None
            began = time.monotonic()
            report = browse(self.lab, target.client, target.url, str(shot) if shot else None)
            result.browser, result.browser_verdict = browser_step.judge(report, control)
            result.browser["x_runtime"] = round(time.monotonic() - began, 3)
            result.window = Window(start, self.now())
        return result

    def run(self, targets: list[Target], progress=None) -> list[Result]:
        out = []
        for t in targets:
            if progress:
                progress(t)
            out.append(self.measure(t))
        return out

    def server_ip(self, target: Target) -> str | None:
        host = target.host
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            server = self.scenario.server_for(host) if host else None
            return server.ip if server else None

    def rows(self, results: list[Result], events: list[dict] | None = None) -> list[Row]:
        events = self.lab.events() if events is None else events
        rows = []
        for res in results:
            t = res.target
            client = self.scenario.host(t.client)
            proto, port = t.proto_port()
            matched = matching_events(events, client.ip if client else "", t.host,
                                      self.server_ip(t), res.window, proto, port)
            truth = truth_for(matched, t.expected, t.technique)
            isp = self.isp(t.client)
            rows.append(Row(t.client, t.url, res.verdict, truth, seconds=res.seconds,
                            browser=res.browser_verdict, browser_step=res.browser,
                            isp=isp.label if isp else None))
        return rows

    def score(self, results: list[Result], events: list[dict] | None = None) -> Score:
        self.lab.settle()    # the censor logs as it decides: its last decisions land first
        return score(self.rows(results, events))


def attach(results: list[Result], sc: Score) -> None:
    """Copy each target's outcome into its record's `x_blocklab` key."""
    for res, row in zip(results, sc.rows):
        if res.record is not None:
            res.record["x_blocklab"] = row.blocklab_keys()
