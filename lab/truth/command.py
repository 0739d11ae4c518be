"""`blocklab run`: its options, and the run once lab.cli has checked its arguments: the lab
up, the timeline applied on time, the expectations fetched by real clients, the table (or JSON)
printed, the report written while the lab is still up, the lab down; exit 1 if a timeline
entry failed or the report could not be written."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from lab.run.capture import PCAP_HELP, say_captured
from lab.run.outputs import not_written

EXIT_ERROR = 1


def add_arguments(s) -> None:
    """The options of `blocklab run` on its subparser `s`."""
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--report", metavar="DIR",
                   help="write report.md and report.html (self-contained) with plots to DIR")
    s.add_argument("--json", action="store_true")
    s.add_argument("--browser", action="store_true",
                   help="open every http(s) target in headless Chromium too (the table shows "
                        "what the browser said; --report keeps its screenshots)")
    s.add_argument("--pcap", metavar="DIR", help=PCAP_HELP)


def run_command(sc, args) -> int:
    from lab.run.lab import Lab
    from lab.truth.observe import check_expectations, render_table
    from lab.truth.timeline import TimelineRunner, render
    unwritten = None
    with Lab(sc, pcap=args.pcap) as lab:
        print(f"{sc.name}: {sc.title}", file=sys.stderr)
        print(f"lab up in {lab.timings['up']:.1f}s", file=sys.stderr)
        with TimelineRunner(lab) as timeline:
            rows = check_expectations(lab, browser=args.browser,
                                      screenshots=Path(args.report) if args.report else None)
            if not timeline.done:
                left = timeline.last_at - (time.time() - lab.t0)
                print(f"waiting for the timeline: its last change is due at "
                      f"{timeline.last_at:g}s ({max(left, 0):.1f}s from now)", file=sys.stderr)
                # a deadline, not a guess: the last entry's time plus a censor round trip each
                timeline.wait_done(max(left, 0) + 10 + 6 * len(timeline.entries))
        timeline.attach_events(lab.events())
        records = timeline.applied
        if args.report is not None:
            unwritten = _report(args.report, lab, rows, records)
    say_captured(lab)
    failures = [r for r in records if r.status != "ok"]
    if args.json:
        print(json.dumps({"rows": [r.as_dict() for r in rows],
                          "timeline": [r.as_dict() for r in records]}, indent=1))
    else:
        print(render_table(rows))
        if records:
            print("\ntimeline (seconds since the lab came up):")
            print(render(records))
    for r in failures:
        print(f"blocklab: timeline entry at {r.at:g}s ({r.change}) {r.status}: {r.error}",
              file=sys.stderr)
    if unwritten:
        print(f"blocklab: {unwritten}", file=sys.stderr)
    return EXIT_ERROR if failures or unwritten else 0


def _report(directory: str, lab, rows, records) -> str | None:
    """`run --report DIR`: the report, written while the lab is still up. When writing fails,
    the line saying so (printed after the table); the lab then keeps its events file."""
    from lab.run import progress
    from lab.report import write_report
    try:
        page = write_report(directory, lab, rows, records, progress=progress.auto("report: "))
    except OSError as e:
        return not_written("--report", directory, "the report", e, kept=lab.keep_events())
    print(f"report: {page} (and report.md, timeline.png, events.jsonl beside it)",
          file=sys.stderr)
    return None
