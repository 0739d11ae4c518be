"""The packets around each censor event, for the report (`--report` with `--pcap`).

For an event with a flow, the capture of the host that opened the flow (`HOST.pcap`, what it
sent and received: lab/run/capture.py) is read once with Debian's tshark (`-T fields`: time,
addresses, IP TTL, ports, protocol and tshark's own one-line summary), and the flow's packets
nearest the event are shown as a few lines, each with its time relative to the event: the
ClientHello or query that triggered the censor, then its RST or forged answer with the TTL the
host saw. tshark reads tcpdump's files while they are still written (`-U`: flushed per packet).
Either family: an IPv6 flow's event names the host's IPv6 address (its IPv4 twin says which
host, lab.scenario.addressing.host_ip), and its packets show their hop limit.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lab.run.capture import ring_files
from lab.scenario.addressing import host_ip, ip6_for

WINDOW = 2.0            # seconds either side of the event
LINES = 6               # packets shown per event
MAX_EVENTS = 12         # events shown in the report
FIELDS = ("frame.time_epoch", "ip.src", "ip.dst", "ip.ttl", "ipv6.src", "ipv6.dst",
          "ipv6.hlim", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "_ws.col.Protocol", "_ws.col.Info")


@dataclass(frozen=True)
class Packet:
    t: float            # epoch seconds
    src: str
    dst: str
    ttl: str
    sport: str
    dport: str
    proto: str
    info: str
    family: int = 4     # 6: `ttl` is the hop limit

    def line(self, at: float) -> str:
        name = "hop limit" if self.family == 6 else "ttl"
        ttl = f"{name} {self.ttl}" if self.ttl else ""
        info = self.info if len(self.info) <= 90 else self.info[:89] + "…"
        return f"{self.t - at:+7.3f} s  {self.src} → {self.dst}  {ttl}  {self.proto}  {info}"


def parse(text: str) -> list[Packet]:
    """tshark's `-T fields -e FIELDS...` output, one packet a line (pure)."""
    out = []
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) < len(FIELDS):
            continue
        t, src, dst, ttl, src6, dst6, hlim, tsp, tdp, usp, udp_, proto, info = \
            cols[:len(FIELDS)]
        try:
            when = float(t)
        except ValueError:
            continue
        family = 4 if src else 6
        if family == 6:
            src, dst, ttl = src6, dst6, hlim
        # ICMP errors quote the packet they answer: its fields follow the outer ones
        first = lambda v: v.split(",")[0]  # noqa: E731
        out.append(Packet(when, first(src), first(dst), first(ttl), first(tsp or usp),
                          first(tdp or udp_), proto, info, family))
    return out


def read(files: list[Path], address: str) -> list[Packet]:
    """The packets to or from `address` (an IPv4 address) or its IPv6 twin in `files` (a
    host's capture, its ring), by time."""
    tshark = shutil.which("tshark")
    if not tshark:
        return []
    packets = []
    wanted = f"ip.addr == {address} || ipv6.addr == {ip6_for(address)}"
    for f in files:
        r = subprocess.run([tshark, "-r", str(f), "-n", "-Y", wanted,
                            "-T", "fields", *[a for x in FIELDS for a in ("-e", x)]],
                           capture_output=True, text=True, timeout=120)
        if r.returncode == 0:
            packets += parse(r.stdout)
    return sorted(packets, key=lambda p: p.t)


def of_flow(packets: list[Packet], flow: dict) -> list[Packet]:
    """The packets of an event's flow, both directions (pure)."""
    ends = {flow.get("src"), flow.get("dst")}
    ports = {str(p) for p in (flow.get("sport"), flow.get("dport")) if p is not None}
    return [p for p in packets if {p.src, p.dst} == ends
            and (not ports or {p.sport, p.dport} == ports)]


def around(packets: list[Packet], flow: dict, at: float) -> list[str]:
    """Up to LINES lines: the flow's packets within WINDOW of `at` (epoch), those nearest
    the event, in time order (pure)."""
    near = [p for p in of_flow(packets, flow) if abs(p.t - at) <= WINDOW]
    near = sorted(sorted(near, key=lambda p: abs(p.t - at))[:LINES], key=lambda p: p.t)
    return [p.line(at) for p in near]


def capture_of(files: list[tuple[Path, str]], host: str) -> list[Path]:
    """The files holding `host`'s capture: tcpdump's ring while it runs, the settled file
    after."""
    for path, _ in files:
        if path.name == f"{host}.pcap":
            return [p for p in [path, *ring_files(path)] if p.is_file()]
    return []


def blocks(events: list[dict], files: list[tuple[Path, str]], hosts: list, t0: float
           ) -> list[tuple]:
    """The report's blocks: per event with a flow (the first MAX_EVENTS), a line saying
    what the censor did, then the packets around it from the flow's host's capture."""
    by_ip = {h.ip: h.name for h in hosts}
    shown = [e for e in events if isinstance(e.get("flow"), dict) and e.get("rule")]
    if not shown or not shutil.which("tshark"):
        return []
    out: list[tuple] = [
        ("h", 2, "Packets around each censor event"),
        ("p", f"For each event, the packets of its flow within {WINDOW:g} s of it, from the "
              "capture of the host that opened the flow (tshark's one-line summary; times "
              "relative to the event, the IP TTL as that host saw it)."
              + (f" The first {MAX_EVENTS} of {len(shown)} events." if len(shown) > MAX_EVENTS
                 else ""))]
    cache: dict[str, list[Packet]] = {}
    for e in shown[:MAX_EVENTS]:
        flow = e["flow"]
        host = by_ip.get(host_ip(str(flow.get("src")))) or \
            by_ip.get(host_ip(str(flow.get("dst"))))
        where = capture_of(files, host) if host else []
        censor = f"censor {e['censor']}: " if e.get("censor") else ""
        head = (f"{e.get('t', 0):.3f} s, {censor}rule `{e['rule']}` {e.get('action')} "
                f"({e.get('technique')}), {flow.get('proto')} {flow.get('src')}:"
                f"{flow.get('sport')} → {flow.get('dst')}:{flow.get('dport')}")
        if not where:
            out.append(("p", head + ": no capture of its host."))
            continue
        if host not in cache:
            cache[host] = read(where, next(h.ip for h in hosts if h.name == host))
        lines = around(cache[host], flow, t0 + float(e.get("t") or 0.0))
        out.append(("p", f"{head}, from `{host}.pcap`:"))
        out.append(("pre", "\n".join(lines) if lines else "(no packets of this flow near it)"))
    return out
