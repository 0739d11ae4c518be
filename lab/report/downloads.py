"""Sampled downloads in a running lab (lab.report.sampler inside client hosts), in parallel,
and what the censor's events say about each one's flow (which rule throttled or cut it, when).
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lab.scenario.addressing import host_ip
from lab.scenario.ruletext import rate_text
from lab.truth.events import from_host


@dataclass
class Download:
    client: str
    url: str
    samples: list = field(default_factory=list)   # [[t, bytes so far], ...]
    offset: float = 0.0          # when it started, seconds since the lab came up
    exit: int | None = None
    error: str = ""
    decisions: list = field(default_factory=list)  # censor events on its flow

    @property
    def bytes(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    @property
    def seconds(self) -> float:
        return self.samples[-1][0] if self.samples else 0.0

    @property
    def mean_kbit(self) -> float:
        return self.bytes * 8 / self.seconds / 1000 if self.seconds else 0.0

    def tail_kbit(self, skip: float = 1.0) -> float:
        """Mean goodput after the first `skip` seconds (past a policer's initial burst)."""
        later = [s for s in self.samples if s[0] >= skip]
        if len(later) < 2 or later[-1][0] <= later[0][0]:
            return self.mean_kbit
        return (later[-1][1] - later[0][1]) * 8 / (later[-1][0] - later[0][0]) / 1000

    def outcome(self) -> str:
        if self.exit == 0:
            return f"done: {self.bytes} B in {self.seconds:.1f}s"
        if self.exit == 28 and self.bytes:
            return f"stopped after {self.seconds:.1f}s"
        return self.error or f"curl exit {self.exit}"


def sample(lab, targets: list[tuple[str, str]], seconds: float = 6.0, every: float = 0.1,
           progress=None) -> list[Download]:
    """Download each (client, url) at once, for at most `seconds`, sampling every `every`."""
    procs = []
    for client, url in targets:
        cmd = [sys.executable, "-m", "lab.report.sampler", url, "--seconds", f"{seconds:g}",
               "--every", f"{every:g}"]
        procs.append((client, url, lab.popen(client, cmd, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True)))
    out = []
    for i, (client, url, proc) in enumerate(procs, 1):
        if progress:
            progress(f"sampling downloads {i}/{len(procs)}: {client} <- {url}")
        try:
            stdout, stderr = proc.communicate(timeout=seconds + 15)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        d = Download(client, url)
        try:
            raw = json.loads(stdout)
            d.samples, d.exit, d.error = raw["samples"], raw["exit"], raw["error"]
            d.offset = raw["start"] - lab.t0
        except (ValueError, KeyError, TypeError):
            lines = (stderr or "").strip().splitlines()
            d.error = lines[-1] if lines else "the sampler gave no result"
        out.append(d)
    if progress:
        progress("")
    attach_events(lab, out)
    return out


def attach_events(lab, downloads: list[Download]) -> None:
    """Each download's censor events: same client, same server address and port, in time;
    over either family (a dual-stack client's download may go over IPv6)."""
    events = lab.events()
    sc = lab.scenario
    for d in downloads:
        client_ip = sc.host(d.client).ip
        parts = urlsplit(d.url)
        server = sc.server_for(parts.hostname or "")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        for ev in events:
            flow = ev.get("flow") or {}
            t = float(ev.get("t", 0))
            if from_host(ev, client_ip) and flow.get("dport") == port \
                    and (server is None or host_ip(str(flow.get("dst"))) == server.ip) \
                    and d.offset - 0.5 <= t <= d.offset + d.seconds + 0.5:
                d.decisions.append(ev)


def shaping_of(downloads: list[Download], rules: list[dict], origin: float = 0.0
               ) -> tuple[list, list]:
    """(rates, marks) for goodput_png: each throttle rule that decided a download's flow, at
    its rate, and the time of each decision (seconds since `origin`, in lab time)."""
    by_id = {r["id"]: r for r in rules}
    rates, marks = [], []
    for d in downloads:
        for ev in d.decisions:
            rule = by_id.get(ev.get("rule"), {})
            action = rule.get("action") or {}
            label = f"{ev.get('rule')}: {ev.get('action')}"
            if (float(ev.get("t")) - origin, label) not in marks:
                marks.append((float(ev.get("t")) - origin, label))
            if action.get("type") == "throttle":
                rate = (f"rule {rule['id']}: throttle {rate_text(action['rate_bps'])}",
                        action["rate_bps"])
                if rate not in rates:
                    rates.append(rate)
    return rates, marks
