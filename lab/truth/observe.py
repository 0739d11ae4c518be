"""What a client sees, next to what the censor did: the table `blocklab run` prints.

For each target (the scenario's `expect:` entries, or every server's first domain when there
are none) a real client fetches it with curl; the censor's events for that client and target
say what the censor did. Issue 5's prober classifies further; this is the plain observation.
On a routed network (`network:`) each row names the client's ISP, and each action the censor
that took it (`tspu/sni-reset: reset (sni)`).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

CURL_TIMEOUT = 6


@dataclass
class Observation:
    client: str
    target: str
    expected_blocked: bool | None
    censor: str          # what the events say: "rule/action" list, or "-"
    saw: str             # what the client saw
    reachable: bool
    server_ip: str | None = None
    isp: str | None = None      # the client's ISP on a routed network
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


def _targets(scenario) -> list[tuple[str, str, bool | None]]:
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


def fetch(lab, client: str, url: str) -> tuple[bool, str]:
    """Fetch `url` from `client` with a real client: (reachable, what it saw, one line).

    http(s):// with curl, a bare domain with dig, and the schemes of lab.clients.targets
    (stun://, quic://, udp://, tcp://, ssh://) with their probes."""
    from lab.clients import targets
    if urlsplit(url).scheme.lower() in targets.SCHEMES:
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
    err = r.stderr.strip().splitlines()
    return False, (err[-1] if err else f"curl exit {r.returncode}")


# Where a target's traffic goes: (transport, default port) by URL scheme.
_TRANSPORT = {"https": ("tcp", 443), "http": ("tcp", 80), "quic": ("udp", 443),
              "stun": ("udp", 3478), "udp": ("udp", None), "tcp": ("tcp", None),
              "ssh": ("tcp", 22)}


def _aims_at(flow: dict, target: str, server_ip: str | None) -> bool:
    """Is `flow` the target's own traffic (its server, transport and port)?"""
    if not server_ip or flow.get("dst") != server_ip:
        return False
    parts = urlsplit(target)
    proto, port = _TRANSPORT.get(parts.scheme, (None, None))
    port = parts.port or port
    return flow.get("proto") == proto and (port is None or flow.get("dport") == port)


_NAME_KEYS = ("dns", "sni", "quic_sni", "host")


def censor_actions(events: list[dict], client_ip: str, target: str, server_ip: str | None,
                   named: bool = False) -> str:
    """What the censor did to this client's traffic for `target`, from the ground truth:
    events naming the target's host (DNS, SNI, Host), or on flows to its server and port.
    `named`: say which censor did it (several censors)."""
    seen = []
    for ev in attributed(events, client_ip, target, server_ip):
        label = f"{ev.get('rule')}: {ev.get('action')} ({ev.get('technique')})"
        if named:
            label = f"{ev.get('censor')}/{label}"
        if label not in seen:
            seen.append(label)
    return "; ".join(seen) or "-"


def attributed(events: list[dict], client_ip: str, target: str, server_ip: str | None
               ) -> list[dict]:
    """The events of `client_ip`'s traffic for `target` (censor_actions says how)."""
    host = urlsplit(target).hostname if "://" in target else target
    out = []
    for ev in events:
        flow = ev.get("flow") or {}
        if flow.get("src") != client_ip:
            continue
        detail = ev.get("detail") or {}
        names = {str(detail[k]).lower() for k in _NAME_KEYS if k in detail}
        if names:   # a name the censor read: DNS names any target; others its transport's
            hit = (host or "").lower() in names and (
                "dns" in detail or "://" not in target or
                flow.get("proto") == _TRANSPORT.get(urlsplit(target).scheme, (None,))[0])
        else:
            hit = "://" in target and _aims_at(flow, target, server_ip)
        if hit:
            out.append(ev)
    return out


def _order_matters(scenario) -> bool:
    """A penalty box or a probability makes one check's traffic change the next one's fate."""
    return any(r.residual or r.probability for c in scenario.censors() for r in c.rules)


def check_expectations(lab) -> list[Observation]:
    """Fetch every target (at once, or in order when the censor has memory) and attribute."""
    sc = lab.scenario
    targets = _targets(sc)
    workers = 1 if _order_matters(sc) else min(16, max(1, len(targets)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        seen = list(pool.map(lambda t: fetch(lab, t[0], t[1]), targets))
    rows = []
    for (client, target, blocked, censor), (reachable, saw) in zip(targets, seen):
        host = urlsplit(target).hostname if "://" in target else target
        server = sc.server_for(host) if host else None
        rows.append(Observation(client, target, blocked, "", saw, reachable,
                                server.ip if server else None, sc.isp_of(client), censor))
    events = lab.events()
    named = len(sc.censors()) > 1
    for row in rows:
        client_ip = sc.host(row.client).ip
        row.censor = censor_actions(events, client_ip, row.target, row.server_ip, named)
        row.acted = tuple(dict.fromkeys(
            str(e.get("censor")) for e in attributed(events, client_ip, row.target,
                                                     row.server_ip)))
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


def render_table(rows: list[Observation]) -> str:
    isps = any(r.isp for r in rows)
    head = ("client", *(("isp",) if isps else ()), "target", "censor did", "client saw",
            "expected")
    body = []
    for r in rows:
        exp = "-" if r.expected_blocked is None else \
            ("blocked" if r.expected_blocked else "open") + \
            (f" ({r.expected_censor})" if r.expected_censor else "") + \
            (" ✓" if r.holds else " ✗")
        body.append((r.client, *((r.isp or "-",) if isps else ()), r.target, r.censor, r.saw,
                     exp))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(b) for b in body])
