"""`blocklab probe SCENARIO`: bring the lab up, run a detector over its targets, score, gate.

stdout is the result — the terminal table (default), Markdown (`--markdown`), or JSON lines
(`--json`): one OONI measurement per target (an external detector's own, or
`{"input": URL, "x_detector": its line}`), each with an `x_blocklab` key (client, outcome,
reason, verdict, truth), then one last line `{"blocklab_score": {...}}`. Progress goes to
stderr. `--report DIR` also writes measurements.jsonl, score.json, score.md, score.txt and
the censor's events.jsonl there, while the lab is still up (with `--browser`, also each tab's
screenshot, browser-N-CLIENT.png): when that fails the result is
still printed, one line says what was not written, and the run directory keeps the censor's
events. Exit 0, or 1 when `--min-precision`/`--min-recall` are not met (one line on stderr says
which and names the targets at fault) or the report could not be written.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

from lab.run.capture import PCAP_HELP
from lab.run.outputs import not_written
from lab.probe.runner import Prober, targets
from lab.probe.score import render_json, render_markdown, render_text

EXIT_GATE = 1


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _records(results, sc) -> list[dict]:
    """One JSON object per target: the OONI measurement (the built-in prober's, or a
    detector's own), else `{"input": URL, "x_detector": its line}`; each with `x_blocklab`."""
    out = []
    for res, row in zip(results, sc.rows):
        rec = res.record
        if rec is None or "test_keys" not in rec:
            rec = {"input": res.target.url, "x_detector": rec}
        rec["x_blocklab"] = row.blocklab_keys()
        out.append(rec)
    return out


def probe_command(scenario, args) -> int:
    from lab.run.lab import Lab
    who = f"detector `{args.detector}`" if args.detector else \
        "the built-in prober (OONI Web Connectivity steps)"
    chosen = targets(scenario, args.url or [])
    if getattr(args, "browser", False) or any(t.browser for t in chosen):
        who += " and headless Chromium"
    if not chosen:
        _say(f"blocklab: {scenario.name} has no targets: no expect: entries, no --url, and no "
             "server that serves the web")
        return 1
    started = time.monotonic()
    unwritten = None
    with Lab(scenario, pcap=getattr(args, "pcap", None)) as lab:
        _say(f"{scenario.name}: {scenario.title}")
        _say(f"lab up in {lab.timings['up']:.1f}s; {len(chosen)} target(s), {who}")
        browser = getattr(args, "browser", False)
        prober = Prober(lab, timeout=args.timeout, detector=args.detector,
                        detector_timeout=args.detector_timeout, browser=browser,
                        screenshots=Path(args.report) if browser and args.report else None)
        results = prober.run(chosen, progress=lambda t: _say(f"  {t.client}: {t.url}"))
        sc = prober.score(results)
        secs = time.monotonic() - started
        title = f"{scenario.name} — {who}, {len(chosen)} target(s), {secs:.1f}s"
        summary = {"scenario": scenario.name, "detector": args.detector or "builtin",
                   "seconds": round(secs, 1)}
        records = _records(results, sc)
        if args.report is not None:
            try:
                _write_report(Path(args.report), records, sc, title, summary, lab.events())
            except OSError as e:
                unwritten = not_written("--report", args.report, "the report", e,
                                        kept=lab.keep_events())
    for path, what in lab.capture_files():
        _say(f"pcap: {path} ({what})")
    if args.json:
        for rec in records:
            print(json.dumps(rec))
        body = json.loads(render_json(sc, **summary))
        body.pop("targets")
        print(json.dumps({"blocklab_score": body}))
    elif args.markdown:
        print(render_markdown(sc, title))
    else:
        print(render_text(sc, title))
    if args.report is not None and not unwritten:
        _say(f"report written to {args.report}/")
    failed = sc.gate(args.min_precision, args.min_recall)
    for line in failed:
        _say(f"blocklab: gate failed: {line}")
    if unwritten:
        _say(f"blocklab: {unwritten}")
    return EXIT_GATE if failed or unwritten else 0


def _write_report(out: Path, records, sc, title: str, summary: dict, events) -> None:
    """`--report DIR`: measurements, score (JSON, Markdown, text) and the censor's events."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "measurements.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (out / "score.json").write_text(render_json(sc, **summary) + "\n")
    (out / "score.md").write_text(render_markdown(sc, title) + _screenshots_markdown(sc))
    (out / "score.txt").write_text(render_text(sc, title) + "\n")
    (out / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))


def _screenshots_markdown(sc) -> str:
    """score.md's last part with `--browser`: each tab's screenshot, captioned with what the
    browser saw (the files sit next to score.md)."""
    from lab.probe.browser_step import said
    shots = [r for r in sc.rows if (r.browser_step or {}).get("screenshot")
             and Path(r.browser_step["screenshot"]).is_file()]
    if not shots:
        return ""
    out = ["", "### What the browser showed", ""]
    for r in shots:
        name = Path(r.browser_step["screenshot"]).name
        out += [f"{r.client} → `{r.url}`: {said(r.browser_step)} ({r.browser_outcome})", "",
                f"![{r.client} opening {r.url}]({name})", ""]
    return "\n".join(out)


def fraction(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    import argparse
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def seconds(text: str) -> float:
    """argparse type: a finite number of seconds, more than 0."""
    import argparse
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds more than 0")
    return value


def add_arguments(s) -> None:
    """The `probe` subcommand's options (lab/cli.py's parser block calls this)."""
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--url", action="append", metavar="URL",
                   help="also probe URL (or a bare domain), from the first client; repeatable")
    s.add_argument("--detector", metavar="CMD",
                   help="run CMD in the client for each target instead of the built-in prober; "
                        "{url} and {host} are replaced (shell-quoted); it prints OONI JSONL or "
                        '{"url": ..., "blocked": true|false, "technique": ...} lines')
    s.add_argument("--json", action="store_true",
                   help="JSON lines: one OONI measurement per target, then the score")
    s.add_argument("--markdown", action="store_true", help="the score as Markdown")
    s.add_argument("--report", metavar="DIR",
                   help="also write measurements, score (JSON, Markdown, text) and events here")
    s.add_argument("--pcap", metavar="DIR", help=PCAP_HELP)
    s.add_argument("--browser", action="store_true",
                   help="also open each web target in headless Chromium from its client: what "
                        "the browser saw, as an OONI failure, scored too (--report keeps the "
                        "screenshots)")
    s.add_argument("--min-precision", type=fraction, metavar="P",
                   help="exit 1 when precision is below P (a CI gate)")
    s.add_argument("--min-recall", type=fraction, metavar="R",
                   help="exit 1 when recall is below R (a CI gate)")
    s.add_argument("--timeout", type=seconds, default=3.0, metavar="S",
                   help="the built-in prober's timeout per step (default 3 s)")
    s.add_argument("--detector-timeout", type=seconds, default=60.0, metavar="S",
                   help="how long CMD may run per target (default 60 s)")
