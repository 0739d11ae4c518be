"""A comparison's results as a matrix (tool × scenario): JSON, Markdown, and files on disk.

Each cell sums up a tool's trials in one scenario: the status most trials had (ties go to the
worse one), the share of targets that answered, the time to first byte (the median over a
trial's answered targets) and the bulk goodput, each as the median over trials with its
spread (min–max) when there was more than one, and the censor rules that blocked or degraded it.
With several trials, 95 % confidence intervals (lab.compare.stats): Wilson for the share of
target fetches that answered (`success_rate`), a bootstrap for the medians (`ci95`).

A routed scenario whose trials ran from a client of each ISP gives one column per ISP,
`NAME · ISP` (its cells and its `scenarios` entry carry `isp` and `client`): the same tool can
work on a home ISP and be blocked on a mobile one.

A dual-stack scenario whose tools ran once per family gives a column per family,
`NAME · IPv4` and `NAME · IPv6` (cells and `scenarios` entries carry `family`; a tool that
cannot be kept to one family has its one cell in `NAME · either family`), and the matrix a
`families` list: per tool and scenario (and ISP), each family's status and where the tool got
through (`both`, `ipv4`, `ipv6`, `neither`), in the Markdown as "Which family got through".
A single-stack comparison has none of these.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from statistics import median

from lab.compare import stats

STATUS_ORDER = ("works", "degraded", "partial", "blocked", "failed")
MARK = {"works": "✅", "degraded": "🐢", "partial": "⚠️", "blocked": "⛔", "failed": "❌"}


def _spread(values: list) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    ci = stats.bootstrap_median(values)
    return {"median": round(median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "n": len(values),
            "ci95": [round(x, 3) for x in ci] if ci else None}


def _rate(trials) -> dict:
    """The share of target fetches that answered over all trials, with its Wilson interval."""
    k = sum(t.ok_count for t in trials)
    n = sum(len(t.fetches) for t in trials)
    ci = stats.wilson(k, n)
    return {"ok": k, "of": n, "rate": round(k / n, 3) if n else None,
            "wilson95": [round(x, 3) for x in ci] if ci else None}


FAMILY_NAMES = {"ipv4": "IPv4", "ipv6": "IPv6"}   # a trial's family, as columns and logs say it
UNPINNED = "either family"      # the column of a dual-stack run's unpinned trials
THROUGH = ("works", "degraded")      # statuses where a tool got through


def columns(run) -> list[tuple[str, str | None, str, str | None]]:
    """(column name, ISP label or None, client, family or None) of a run: one per ISP its
    trials ran from (`ru/2025-12 · home (AS64496)`) and per family they were kept to
    (`basics-dual-stack · IPv6`), else the run's name alone."""
    keys = list(dict.fromkeys((t.isp, t.client, getattr(t, "family", None))
                              for t in run.trials))
    if not any(isp or family for isp, _c, family in keys):
        return [(run.name, None, run.client, None)]
    dual = any(family for _i, _c, family in keys)
    return [(" · ".join([run.name] + ([isp] if isp else []) +
                        ([FAMILY_NAMES.get(family, UNPINNED)] if dual else [])),
             isp, client, family)
            for isp, client, family in keys]


def cell(run, tool: str, isp: str | None = None, column: str | None = None,
         family: str | None = None) -> dict:
    """The cell of `tool` in `run` (of its trials from `isp`'s client, when given, kept to
    `family`: None is the unpinned trials, all of a single-stack run's)."""
    trials = [t for t in run.trials if t.tool == tool and (isp is None or t.isp == isp)
              and getattr(t, "family", None) == family]
    counts = Counter(t.status for t in trials)
    status = max(counts, key=lambda s: (counts[s], STATUS_ORDER.index(s)))
    rules = lambda attr: sorted({r for t in trials for r in getattr(t, attr)})
    tunnel = list(dict.fromkeys(f"{e.get('rule')}: {e.get('action')} ({e.get('technique')})"
                                for t in trials for e in t.events if e.get("on_tunnel")))
    per_target = {}
    for t in trials:
        for f in t.fetches:
            per_target.setdefault(f.url, []).append(f)
    return {
        "scenario": column or run.name, "tool": tool, "status": status,
        **({"isp": isp, "client": trials[0].client} if isp else {}),
        **({"family": family} if family else {}),
        "success": round(median(t.success for t in trials), 3),
        "success_rate": _rate(trials),
        "ttfb_ms": _spread([t.ttfb * 1000 if t.ttfb is not None else None for t in trials]),
        "goodput_mbit": _spread([t.goodput_mbit for t in trials]),
        "bootstrap_s": _spread([t.bootstrap for t in trials]),
        "blocked_by": rules("blocked_by"), "degraded_by": rules("degraded_by"),
        "on_tunnel": tunnel,
        "dpi_believed": list(dict.fromkeys(
            e["detail"]["believed"] for t in trials for e in t.events
            if e.get("technique") == "dpi" and e.get("action") == "allow"
            and (e.get("detail") or {}).get("believed"))),
        "dpi_noticed": list(dict.fromkeys(
            ((e.get("detail") or {}).get("dpi") or {}).get("noticed") for t in trials
            for e in t.events if e.get("rule")
            and ((e.get("detail") or {}).get("dpi") or {}).get("noticed"))),
        "dpi_ignored": list(dict.fromkeys(
            i.get("why", "") for t in trials for e in t.events if e.get("rule")
            for i in (((e.get("detail") or {}).get("dpi") or {}).get("ignored") or ()))),
        "dpi_forgot": list(dict.fromkeys(
            (e.get("detail") or {}).get("by", "") for t in trials for e in t.events
            if e.get("technique") == "dpi" and e.get("action") == "teardown")),
        "errors": list(dict.fromkeys(t.error for t in trials if t.error)),
        "targets": {url: {"ok": sum(f.ok for f in fs), "of": len(fs),
                          "saw": next((f.error for f in fs if not f.ok), "") or
                          f"HTTP {fs[0].status}" + (f" via {fs[0].via}" if fs[0].via else "")}
                    for url, fs in per_target.items()},
        "trials": [t.as_dict() for t in trials],
    }


def matrix(runs, repeat: int, bulk_rate: int | None = None) -> dict:
    tools = list(dict.fromkeys(t.tool for r in runs for t in r.trials))
    out = {
        "repeat": repeat,
        "bulk_rate_bps": bulk_rate,
        "tools": tools,
        "scenarios": [{"name": col, "title": r.title, "ref": r.ref, "client": client,
                       **({"scenario": r.name} if col != r.name else {}),
                       **({"isp": isp} if isp else {}),
                       **({"family": family} if family else {}),
                       "vps": r.vps, "bulk_url": r.bulk_url,
                       "targets": _targets(r, client) if isp else r.targets,
                       "tor_network_s": getattr(r, "tor_network_s", None)}
                      for r in runs for col, isp, client, family in columns(r)],
        "cells": [cell(r, tool, isp, col, family)
                  for r in runs for col, isp, _c, family in columns(r) for tool in tools
                  if any(t.tool == tool and t.isp == isp and
                         getattr(t, "family", None) == family
                         for t in r.trials)],     # a campaign may lack some
    }
    fams = families(out["cells"])
    if fams:
        out["families"] = fams
    return out


def families(cells: list[dict]) -> list[dict]:
    """Per tool, scenario (and ISP) run once per family: each family's status and where the
    tool got through (`both`, `ipv4`, `ipv6`, `neither`)."""
    pairs: dict[tuple, dict] = {}
    for c in cells:
        if c.get("family"):
            base = c["scenario"].rsplit(" · ", 1)[0]
            pairs.setdefault((c["tool"], base), {})[c["family"]] = c["status"]
    out = []
    for (tool, base), status in pairs.items():
        got = [f for f in ("ipv4", "ipv6") if status.get(f) in THROUGH]
        out.append({"tool": tool, "scenario": base, "ipv4": status.get("ipv4"),
                    "ipv6": status.get("ipv6"),
                    "through": "both" if len(got) == 2 else got[0] if got else "neither"})
    return out


def _targets(run, client: str) -> list[dict]:
    """The run's targets with what `client`'s expectations say of each (None: none)."""
    mine = getattr(run, "expected", {}).get(client, {})
    return [{**t, "expected_blocked": mine.get(t["url"])} for t in run.targets]


def _num(s: dict | None, unit: str, digits: int) -> str:
    if not s:
        return "–"
    text = f"{s['median']:.{digits}f}"
    if s["n"] > 1 and s["min"] != s["max"]:
        text += f" ({s['min']:.{digits}f}–{s['max']:.{digits}f})"
    return f"{text} {unit}"


def cell_text(c: dict) -> str:
    """One matrix cell in a line: status, why, TTFB, goodput."""
    parts = [f"{MARK[c['status']]} {c['status']}"]
    n = len(c["targets"])
    if c["status"] in ("partial", "blocked") and n:
        ok = sum(1 for t in c["targets"].values() if t["ok"])
        parts[0] += f" ({ok}/{n} ok)"
    if c["blocked_by"]:        # a tool that works anyway got past them (quic-fallback)
        got_through = c["status"] in ("works", "degraded")
        parts.append(("got past " if got_through else "by ") + ", ".join(c["blocked_by"]))
    if c["degraded_by"]:
        parts.append("slowed by " + ", ".join(c["degraded_by"]))
    if c.get("dpi_believed") and c["status"] in ("works", "degraded", "partial"):
        parts.append("the DPI believed " + "; ".join(c["dpi_believed"]))
    if c.get("dpi_forgot") and c["status"] in ("works", "degraded", "partial"):
        parts.append("the DPI forgot the flow on a " + ", ".join(c["dpi_forgot"]))
    if c.get("dpi_ignored"):
        parts.append("the DPI ignored a segment: " + ", ".join(c["dpi_ignored"]))
    if c.get("dpi_noticed") and c["status"] in ("blocked", "partial"):
        parts.append("the DPI read through " + "; ".join(c["dpi_noticed"]))
    if c["status"] == "failed" and c["errors"]:
        parts.append(c["errors"][0][:80])
    if c.get("bootstrap_s"):
        parts.append("bootstrap " + _num(c["bootstrap_s"], "s", 1))
    parts.append("TTFB " + _num(c["ttfb_ms"], "ms", 1))
    parts.append(_num(c["goodput_mbit"], "Mbit/s", 2))
    return " · ".join(parts)


def markdown(m: dict) -> str:
    cells = {(c["tool"], c["scenario"]): c for c in m["cells"]}
    names = [s["name"] for s in m["scenarios"]]
    runs = len({s.get("scenario", s["name"]) for s in m["scenarios"]})
    per = " and ".join(w for w, key in (("ISP", "isp"), ("family", "family"))
                       if any(key in x for x in m["scenarios"]))
    isps = "" if runs == len(names) else f" ({len(names)} columns: one per {per})"
    out = ["# blocklab compare", "",
           f"{len(m['tools'])} tool(s) × {runs} scenario(s){isps}, {m['repeat']} run(s) each. "
           "A cell: status (✅ works, 🐢 degraded: throttled or cut, ⚠️ partial, ⛔ blocked, "
           "❌ failed without the censor acting), the censor rules behind it, the median time "
           "to first byte over the targets, the bulk download's goodput"
           + (" (median, and min–max over runs)" if m["repeat"] > 1 else "")
           + (f", capped at {m['bulk_rate_bps'] / 1e6:g} Mbit/s."
              if m.get("bulk_rate_bps") else "."), "",
           "| tool | " + " | ".join(names) + " |",
           "|---|" + "---|" * len(names)]
    for tool in m["tools"]:
        out.append(f"| {tool} | " + " | ".join(cell_text(cells[(tool, n)])
                                               if (tool, n) in cells else "– (no trials)"
                                               for n in names) + " |")
    if m.get("families"):
        out += ["", "## Which family got through", "",
                "Dual stack: each tool that can be kept to one family ran once over IPv4 "
                "and once over IPv6 (curl -4/-6, or the tunnel's client aimed at the vps's "
                "address of that family).", "",
                "| tool | scenario | IPv4 | IPv6 | got through on |", "|---|---|---|---|---|"]
        said = {"both": "both", "ipv4": "IPv4 only", "ipv6": "IPv6 only", "neither": "neither"}
        for f in m["families"]:
            marks = [f"{MARK[f[k]]} {f[k]}" if f[k] else "–" for k in ("ipv4", "ipv6")]
            out.append(f"| {f['tool']} | {f['scenario']} | {' | '.join(marks)} | "
                       f"{said[f['through']]} |")
    if any(len(c["trials"]) > 1 for c in m["cells"]):
        out += ["", "95 % confidence intervals: targets answered over all trials (Wilson), "
                "median goodput (bootstrap).", "",
                "| tool | scenario | trials | answered | goodput Mbit/s |", "|---|---|---|---|---|"]
        for c in m["cells"]:
            r, g = c["success_rate"], c["goodput_mbit"]
            lo_hi = lambda ci, f: f"[{f.format(ci[0])}–{f.format(ci[1])}]" if ci else ""
            rate = f"{r['ok']}/{r['of']} {lo_hi(r['wilson95'], '{:.0%}')}" if r["of"] else "–"
            good = f"{g['median']:.2f} {lo_hi(g.get('ci95'), '{:.2f}')}" if g else "–"
            out.append(f"| {c['tool']} | {c['scenario']} | {len(c['trials'])} | {rate} | "
                       f"{good.strip()} |")
    for s in m["scenarios"]:
        vps = s["vps"]
        out += ["", f"## {s['name']}", "", s["title"], "",
                f"Client `{s['client']}`; vps `{vps['name']}` {vps['ip']}"
                + (f", {vps['ip6']}" if vps.get("ip6") else "")
                + (" (added for the comparison)" if vps["added"] else "")
                + f"; bulk download `{s['bulk_url']}`.", "",
                "| target | expected | " + " | ".join(m["tools"]) + " |",
                "|---|---|" + "---|" * len(m["tools"])]
        for t in s["targets"]:
            exp = {True: "blocked", False: "open", None: "–"}[t["expected_blocked"]]
            row = []
            for tool in m["tools"]:
                r = cells.get((tool, s["name"]), {"targets": {}})["targets"].get(t["url"], {})
                mark = "–" if not r else "✓" if r.get("ok") == r.get("of") else (
                    "✗" if not r.get("ok") else "½")
                row.append(f"{mark} {r.get('saw', '')}".strip())
            out.append(f"| {t['url']} | {exp} | " + " | ".join(row) + " |")
        seen = [(tool, cells[(tool, s["name"])]["on_tunnel"]) for tool in m["tools"]
                if (tool, s["name"]) in cells]
        seen = [(tool, ev) for tool, ev in seen if ev]
        if seen:
            out += ["", "What the censor did to the tools' own flows (to the vps, Tor's relays or "
                    "bridges):", ""]
            out += [f"- {tool}: {'; '.join(ev)}" for tool, ev in seen]
    return "\n".join(out) + "\n"


def write(m: dict, folder: Path) -> list[Path]:
    """compare.json, compare.md, goodput.png and success.png in `folder`."""
    from lab.compare import plots
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compare.json").write_text(json.dumps(m, indent=1) + "\n")
    (folder / "compare.md").write_text(markdown(m))
    return [folder / "compare.json", folder / "compare.md",
            plots.goodput(m, folder / "goodput.png"), plots.success(m, folder / "success.png")]
