"""`blocklab run SCENARIO --report DIR`: a report for someone who was not in the room.

`write_report(directory, lab, rows, timeline)` runs while the lab is still up (it samples
downloads and asks the censor for its rules' hit counts), then writes into DIR:
report.md, report.html (self-contained: CSS inline, PNGs as data: URIs), timeline.png (the
censor's events over time, one row per rule, a marker per action), throughput.png (goodput
of sampled downloads from servers that serve `bulk`, every 100 ms) and events.jsonl (the
censor's ground truth for the run) and network.svg (the drawing, lab/report/drawing.py,
also inline in the page). With `--pcap`, the page links the capture files and shows the
packets around each censor event (lab/report/packets.py).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

from lab.truth.observe import table
from lab.report import document, downloads, packets, plots
from lab.scenario.ruletext import action_text, match_text

DOWNLOAD_SECONDS = 6.0
HOW_TO_READ = (
    "blocklab built a small network on this machine: clients on the censored side, servers "
    "standing in for the internet, and between them one Open vSwitch switch whose "
    "controller is the censor. Real programs ran in it (curl, dig, nginx, a DNS resolver). "
    "The censor records every flow it touches in `events.jsonl`, the ground truth: which "
    "rule decided, what it did (drop, reset, throttle, ...) and to which flow. The tables "
    "below put what each client saw next to what the censor did; the plots show when the "
    "censor acted and what that did to throughput.")


def _targets(lab, rows) -> list[tuple[str, str]]:
    """(client, bulk URL) for each http(s) row whose server serves `bulk`, once each."""
    sc = lab.scenario
    out, seen = [], set()
    for row in rows:
        parts = urlsplit(row.target) if "://" in row.target else None
        if not parts or parts.scheme not in ("http", "https"):
            continue
        server = sc.server_for(parts.hostname or "")
        if server is None or "bulk" not in server.serve:
            continue
        key = (row.client, parts.scheme, parts.hostname)
        if key in seen:
            continue
        seen.add(key)
        path = parts.path if parts.path.startswith("/bulk/") else "/bulk/100M"
        out.append((row.client, f"{parts.scheme}://{parts.netloc}{path}"))
    return out


def write_report(directory, lab, rows, timeline=(), progress=None) -> Path:
    """Write the report into `directory` (created); returns report.html's path."""
    say = progress or (lambda message: None)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    sc = lab.scenario
    targets = _targets(lab, rows)
    samples = downloads.sample(lab, targets, DOWNLOAD_SECONDS, progress=say) if targets else []
    say("asking the censor for its rules and hit counts")
    rules_of = {}                        # censor name -> its rules, in the censors' order
    for name in list(getattr(lab, "censors", {}) or {}):
        reply = lab.control({"cmd": "rules"}, name)
        rules_of[name] = reply.get("rules", []) if reply.get("ok") else []
    rules = [r for each in rules_of.values() for r in each]
    events = lab.events()
    until = time.time() - lab.t0
    (out / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    from lab.report.drawing import draw
    (out / "network.svg").write_text(draw(sc), encoding="utf-8")
    say("plotting")
    timeline_png = plots.timeline_png(out / "timeline.png", events, [r["id"] for r in rules],
                                      f"{sc.name}: censor events", until)
    throughput_png = None
    if samples:
        series = []
        for d in samples:
            rates, marks = downloads.shaping_of([d], rules)
            series.append({"label": f"{d.client} <- {urlsplit(d.url).hostname}",
                           "samples": d.samples, "offset": d.offset, "rates": rates,
                           "marks": marks})
        throughput_png = plots.goodput_png(
            out / "throughput.png", series, f"{sc.name}: goodput of sampled downloads",
            xlabel="seconds since the lab came up")
    say(f"writing {out / 'report.html'}")
    blocks = _blocks(lab, rows, timeline, rules_of, events, samples, timeline_png,
                     throughput_png, out)
    (out / "report.md").write_text(document.markdown(blocks), encoding="utf-8")
    page = out / "report.html"
    page.write_text(document.html_page(f"{sc.name}: {sc.title}", blocks), encoding="utf-8")
    say("")
    return page


def _blocks(lab, rows, timeline, rules_of, events, samples, timeline_png, throughput_png, out):
    sc = lab.scenario
    when = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(lab.t0))
    b: list[tuple] = [
        ("h", 1, sc.title),
        ("p", f"Scenario `{sc.name}` (`{_ref(sc.path)}`), run on {when}; the lab came up in "
              f"{lab.timings.get('up', 0):.1f} s. Made with "
              f"`blocklab run {_ref(sc.path)} --report DIR`."),
    ]
    if sc.summary:
        b += [("h", 2, "What this scenario shows"), ("p", " ".join(sc.summary.split()))]
    b += [("h", 2, "Sources"),
          ("list", list(sc.sources)) if sc.sources else ("p", "None given.")]
    b += [("h", 2, "How to read this report"), ("p", HOW_TO_READ)]
    b += [("h", 2, "The network"),
          ("svg", out / "network.svg", "the network: clients, resolvers, the censor and its "
                                       "rules, servers and their names"),
          ("table", ("host", "address", "side", "names", "serves"),
           [(h.name, h.ip, "censored" if h.side == "client" else "internet",
             ", ".join(getattr(h, "domains", ()) or ()) or _infra(h.name),
             ", ".join(getattr(h, "serve", ()) or ())) for h in sc.hosts()])]
    c = sc.censor
    mode = ("in the path: it can hold, drop and slow packets" if c.mode == "inline"
            else "a tap: it sees copies and can only inject")
    b += [("h", 2, "The censors' rules" if len(rules_of) > 1 else "The censor's rules"),
          ("p", f"Mode `{c.mode}` ({mode}); "
                f"reassembly {'on' if c.reassembly else 'off'}{_dpi_text(c.dpi)}. "
                "The first rule that matches a "
                "flow decides; hits count the flows each rule decided during this run.")]
    if sc.network:
        b.append(("p", "A routed network with " + (", ".join(
            f"censor `{x.name}` on link `{x.at}` ({x.mode}, {len(x.rules)} rules, injecting "
            f"with TTL {x.ttl})" for x in sc.censors()) or "no censor") +
            ("; the rules of each follow." if len(rules_of) > 1 else ".")))
    for name, rules in rules_of.items():
        if len(rules_of) > 1:
            b.append(("p", f"Censor `{name}`:"))
        if rules:
            b.append(("table", ("#", "rule", "on", "hits", "action", "match"),
                      [(i, r["id"], "yes" if r["enabled"] else "no", r.get("hits", 0),
                        action_text(r["action"]), match_text(r["match"]))
                       for i, r in enumerate(rules, 1)]))
        else:
            b.append(("p", "No rules: the censor let everything through."))
    if not rules_of:
        b.append(("p", "No censor: every link is a plain switch."))
    checked = [r for r in rows if r.expected_blocked is not None]
    held = [r for r in checked if r.holds]
    b += [("h", 2, "What the clients saw"),
          ("p", f"Each row is one real fetch from a client. {len(held)} of {len(checked)} "
                "expectations held." if checked else
                "Each row is one real fetch from a client (the scenario states no "
                "expectations)."),
          ("table", *table(rows))]
    b += _browser_blocks(rows)
    b += [("h", 2, "Censor events over time"),
          ("p", f"{len(events)} events. One row per rule; each marker is one event at the "
                "time the censor logged it (seconds since the lab came up), shaped and "
                "coloured by action. Rule changes (enable, disable, add) are markers too."),
          ("image", timeline_png, "censor events over time")]
    counts: dict = {}
    for ev in events:
        key = (str(ev.get("rule")), str(ev.get("action")), str(ev.get("technique")))
        counts[key] = counts.get(key, 0) + 1
    if counts:
        b.append(("table", ("rule", "action", "technique", "events"),
                  [(*k, n) for k, n in sorted(counts.items())]))
    b.append(("h", 2, "Throughput"))
    if samples:
        b += [("p", f"Each panel is one download of a large file (`/bulk/100M`) from a server "
                    f"that serves bulk, {DOWNLOAD_SECONDS:g} s at most, all at once, sampled "
                    "every 100 ms inside the client; each panel has its own linear axis. "
                    "Bold: the 2 s average; pale: each 100 ms. Dashed: the rate of the "
                    "throttle that decided this flow; dotted: when the censor decided."),
              ("image", throughput_png, "goodput of sampled downloads"),
              ("table", ("client", "download", "result", "mean", "after 1 s", "censor"),
               [(d.client, d.url, d.outcome(), f"{d.mean_kbit:,.0f} kbit/s",
                 f"{d.tail_kbit():,.0f} kbit/s",
                 "; ".join(f"{e.get('rule')}: {e.get('action')}" for e in d.decisions)
                 or "-") for d in samples])]
    else:
        b.append(("p", "No server in this scenario serves `bulk`, so no download was "
                       "sampled (add `bulk` to a server's `serve` to see throughput)."))
    if timeline:
        b += [("h", 2, "Timeline of rule changes"),
              ("table", ("due", "sent", "change", "censor replied"),
               [(f"{r.at:g} s", "-" if r.t is None else f"{r.t:.3f} s",
                 f"{r.censor}: {r.change}" if r.censor else r.change,
                 "ok" if r.status == "ok" else f"{r.status}: {r.error}") for r in timeline])]
    capture = getattr(lab, "capture", None)
    if capture:
        b += [("h", 2, "Packet captures"),
              ("p", "What went on the wire, for Wireshark or tshark: tcpdump on each host's "
                    "port (what that host sent and received, the censor's injected packets "
                    "with the TTL the host saw) and on each side of each censor. Snap length "
                    "2048 bytes; a ring of 3 files of 10 MB per port."),
              ("links", [(os.path.relpath(path, out), f"{path.name}: {what}")
                         for path, what in capture.planned()])]
        b += packets.blocks(events, capture.planned(), sc.hosts(), lab.t0)
    b += [("h", 2, "Files"),
          ("list", ["`report.md` and `report.html`: this report",
                    "`network.svg`: the drawing of the network",
                    "`timeline.png`, `throughput.png`: the plots",
                    "`events.jsonl`: every censor event of the run, one JSON object a line "
                    "(the format is in docs/design.md)"])]
    return b


def _ref(path: Path) -> str:
    """A bundled scenario's name (`ru/2025-12`), else its path."""
    from lab.scenario.loader import SCENARIOS
    try:
        return path.resolve().relative_to(SCENARIOS.resolve()).with_suffix("").as_posix()
    except ValueError:
        return str(path)


def _browser_blocks(rows) -> list[tuple]:
    """The browser's screenshots, one per target it opened, captioned with what it said."""
    from lab.clients.browser import summary
    shots = [r for r in rows if r.browser and r.browser.get("screenshot")
             and Path(r.browser["screenshot"]).is_file()]
    if not shots:
        return []
    out: list[tuple] = [("h", 2, "What the browser showed"),
                        ("p", "Headless Chromium in the client opened each of these targets; "
                              "this is its tab, as a person there would see it.")]
    for r in shots:
        out += [("p", f"{r.client} → {r.target}: {summary(r.browser)}"),
                ("image", r.browser["screenshot"], f"{r.client} opening {r.target}")]
    return out


def _infra(name: str) -> str:
    return {"isp": "the ISP's resolver", "public-dns": "a public resolver"}.get(name, "")


__all__ = ["write_report"]


def _dpi_text(dpi: dict | None) -> str:
    """The DPI profile's departures from today's censor, in words (docs/scenarios.md)."""
    if not dpi:
        return ""
    words = []
    if dpi["checksums"]:
        words.append("ignores segments with a wrong checksum")
    if dpi["sequence"]:
        words.append("ignores segments outside the window")
    if dpi["overlap"] == "last":
        words.append("believes the last copy of bytes sent twice")
    if dpi["state"] == "syn":
        words.append("reads only flows whose handshake it saw")
    if dpi["teardown"]:
        words.append("forgets a flow on " + ", ".join(dpi["teardown"]))
    if dpi["resync"]:
        words.append("starts afresh on a SYN")
    if dpi["inspect_bytes"]:
        words.append(f"reads at most {dpi['inspect_bytes']} bytes")
    return "; its DPI " + ", ".join(words) if words else ""
