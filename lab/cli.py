"""The `blocklab` command line (a public contract: README.md, docs/design.md).

Each subcommand is a small function; errors a user can cause (a bad scenario, an unknown host,
no root) end in one clear message and exit code 1, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from lab import scenario as scenarios

EXIT_ERROR = 1


class UserError(Exception):
    """Something the user can fix; printed as `blocklab: message`."""


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise UserError(f"`blocklab {what}` needs root: it creates network namespaces, veth "
                        "pairs and an Open vSwitch bridge. Run it with sudo.")


def _sigterm_as_exit() -> None:
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _load(ref: str):
    try:
        return scenarios.load(ref)
    except scenarios.ScenarioError as e:
        raise UserError(str(e)) from None


# --- subcommands --------------------------------------------------------------------------

def cmd_list(args) -> int:
    rows = scenarios.bundled()
    width = max((len(name) for name, _ in rows), default=0)
    for name, title in rows:
        print(f"{name:<{width}}  {title}")
    return 0


def cmd_validate(args) -> int:
    diagnostics = scenarios.validate(args.files, strict=args.strict)
    for d in diagnostics:
        print(d)
    if not diagnostics:
        print(f"{len(args.files)} file(s) valid")
    return EXIT_ERROR if diagnostics else 0


def cmd_exec(args) -> int:
    from lab.run.lab import Lab
    sc = _load(args.scenario)
    names = [h.name for h in sc.hosts()]
    if args.host not in names:
        raise UserError(f"no host named {args.host!r} in {sc.name}; hosts: {', '.join(names)}")
    if not args.cmd:
        raise UserError("exec needs a command after `--`")
    _need_root("exec")
    _sigterm_as_exit()
    with Lab(sc) as lab:
        proc = lab.popen(args.host, args.cmd, stdout=None, stderr=None)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.kill()
            proc.wait()
            raise


def cmd_run(args) -> int:
    import json
    import time
    from lab.run.lab import Lab
    from lab.truth.observe import check_expectations, render_table
    from lab.truth.timeline import TimelineRunner, render
    sc = _load(args.scenario)
    _need_root("run")
    _sigterm_as_exit()
    with Lab(sc) as lab:
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
        if args.report:
            _report(args.report, lab, rows, records)
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
    return EXIT_ERROR if failures else 0


def _report(directory: str, lab, rows, records) -> None:
    """`run --report DIR`: the report, written while the lab is still up."""
    from lab.run import progress
    from lab.report import write_report
    page = write_report(directory, lab, rows, records, progress=progress.auto("report: "))
    print(f"report: {page} (and report.md, timeline.png, events.jsonl beside it)",
          file=sys.stderr)


def cmd_shell(args) -> int:
    from lab.run import progress
    from lab.run.lab import Lab
    from lab.teach.shell import run_shell
    from lab.truth.timeline import TimelineRunner
    sc = _load(args.scenario)
    _need_root("shell")
    _sigterm_as_exit()
    with Lab(sc, progress=progress.auto(f"{sc.name}: ")) as lab:
        entries = () if args.no_timeline else None
        with TimelineRunner(lab, entries):
            run_shell(lab)
    print("lab torn down", file=sys.stderr)
    return 0


def cmd_lesson(args) -> int:
    from lab.run import progress
    from lab.run.lab import Lab
    from lab.teach.lesson import Lesson, LessonError, steps
    sc = _load(args.scenario)
    try:
        plan = steps(sc)
    except LessonError as e:
        raise UserError(f"{sc.path}: the lesson cannot run:\n{e}") from None
    _need_root("lesson")
    _sigterm_as_exit()
    with Lab(sc, progress=progress.auto(f"{sc.name}: ")) as lab:
        ok = Lesson(lab, plan).run(auto=args.auto)
    return 0 if ok or not args.auto else EXIT_ERROR


def cmd_compare(args) -> int:
    import json
    from pathlib import Path
    from lab.compare import CompareError, compare
    from lab.compare.report import markdown, matrix, write
    from lab.compare.runner import resolve_tools
    from lab.scenario.units import UnitError, parse_rate
    loaded = [_load(ref) for ref in args.scenarios]
    names = [t.strip() for t in args.tools.split(",") if t.strip()]
    if args.repeat < 1:
        raise UserError("--repeat must be at least 1")
    try:
        resolve_tools(names)
        rate = parse_rate(args.bulk_rate) if args.bulk_rate else None
    except (CompareError, UnitError) as e:
        raise UserError(f"compare: {e}") from None
    _need_root("compare")
    _sigterm_as_exit()
    runs = compare(loaded, names, args.repeat, say=lambda s: print(s, file=sys.stderr),
                   bulk_rate=rate)
    m = matrix(runs, args.repeat, rate)
    if args.report:
        files = write(m, Path(args.report))
        print(f"report: {', '.join(str(f) for f in files)}", file=sys.stderr)
    print(json.dumps(m, indent=1) if args.json else markdown(m), end="\n" if args.json else "")
    failed = [c for c in m["cells"] if c["status"] == "failed"]
    for c in failed:
        print(f"blocklab: {c['tool']} failed in {c['scenario']} without the censor acting: "
              f"{(c['errors'] or ['no target answered'])[0]}", file=sys.stderr)
    return EXIT_ERROR if failed else 0


def cmd_probe(args) -> int:
    from lab.probe.command import probe_command
    sc = _load(args.scenario)
    if args.json and args.markdown:
        raise UserError("choose one of --json and --markdown")
    _need_root("probe")
    _sigterm_as_exit()
    return probe_command(sc, args)


def cmd_bench(args) -> int:
    from bench import suite
    _need_root("bench")
    _sigterm_as_exit()
    try:
        return suite.main(args.quick, args.json, args.out, args.only)
    except ValueError as e:
        raise UserError(str(e)) from None


def cmd_clean(args) -> int:
    from lab.run.clean import clean
    _need_root("clean")
    done = clean(force=args.force)
    for run_id, removed in done:
        print(f"run {run_id}: removed {', '.join(removed) or 'its directory'}")
    if not done:
        print("nothing to clean")
    return 0


# --- parser -------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="blocklab", description="Censorship in a box.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    s = sub.add_parser("list", help="bundled scenarios, one line each")
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("validate", help="check scenario files; FILE:LINE:COL: message on error")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--strict", action="store_true",
                   help="also report what this machine's kernel cannot do (e.g. netem)")
    s.set_defaults(fn=cmd_validate)

    s = sub.add_parser("run", help="bring the lab up, check expectations, print a table, down")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--report", metavar="DIR",
                   help="write report.md and report.html (self-contained) with plots to DIR")
    s.add_argument("--json", action="store_true")
    s.add_argument("--browser", action="store_true",
                   help="open every http(s) target in headless Chromium too (the table shows "
                        "what the browser said; --report keeps its screenshots)")
    s.set_defaults(fn=cmd_run)

    s = sub.add_parser("exec", help="bring the lab up, run CMD in HOST, print its output, down")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("host", metavar="HOST")
    s.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD")
    s.set_defaults(fn=cmd_exec)

    s = sub.add_parser("shell", help="interactive lab: host commands, live censor control")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--no-timeline", action="store_true",
                   help="do not apply the scenario's timeline (the rules stay as you set them)")
    s.set_defaults(fn=cmd_shell)

    s = sub.add_parser("lesson", help="walk through a scenario's lesson, step by step")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--auto", action="store_true",
                   help="no pauses; check each step's expectation, exit 1 if one fails")
    s.set_defaults(fn=cmd_lesson)

    s = sub.add_parser("compare", help="circumvention tools through scenarios: a matrix")
    s.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    s.add_argument("--tools", default="all", metavar="T,...",
                   help="comma-separated tools, or 'all' (the default): direct, doh, dot, "
                        "ssh-socks, shadowsocks, obfs4, tls-tunnel, openvpn, split-hello-tcp, "
                        "split-hello-records, quic-fallback")
    s.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run each tool N times; cells show the median and min–max")
    s.add_argument("--json", action="store_true", help="print the matrix as JSON")
    s.add_argument("--report", metavar="DIR",
                   help="write compare.json, compare.md, goodput.png and success.png to DIR")
    s.add_argument("--bulk-rate", metavar="RATE",
                   help="cap each bulk download (curl), e.g. 100Mbit: lighter on a shared "
                        "machine; throttles below the cap still show")
    s.set_defaults(fn=cmd_compare)

    s = sub.add_parser("probe", help="measure the scenario's targets and score the verdicts "
                                     "against the censor's ground truth")
    from lab.probe.command import add_arguments as probe_arguments
    probe_arguments(s)
    s.set_defaults(fn=cmd_probe)

    s = sub.add_parser("bench", help="performance suite: goodput, new flows, DNS, blocklist "
                                     "scale, lab size; JSON, a table and plots")
    s.add_argument("--quick", action="store_true", help="a small version of everything (~90 s)")
    s.add_argument("--json", action="store_true", help="print the results as JSON")
    s.add_argument("--out", default="bench-results", metavar="DIR",
                   help="write results.json, results.md and the PNG plots to DIR "
                        "(default: ./bench-results)")
    s.add_argument("--only", metavar="S,...",
                   help="only these sections: goodput, new_flows, dns, scale, lab_size")
    s.set_defaults(fn=cmd_bench)

    s = sub.add_parser("clean", help="remove anything a crashed run left behind")
    s.add_argument("--force", action="store_true", help="also runs whose owner is still alive")
    s.set_defaults(fn=cmd_clean)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "cmd", None) and args.cmd[:1] == ["--"]:
        args.cmd = args.cmd[1:]
    try:
        return args.fn(args)
    except UserError as e:
        print(f"blocklab: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("blocklab: interrupted; the lab was torn down", file=sys.stderr)
        return 130
    except Exception as e:  # a lab part failed: say which, without a traceback
        from lab.run.censor import CensorError
        from lab.run.lab import LabError
        from lab.services.base import ServiceError
        from lab.run.wait import Timeout
        if isinstance(e, (CensorError, LabError, ServiceError, Timeout,
                          subprocess.SubprocessError)):
            print(f"blocklab: {e}", file=sys.stderr)
            return EXIT_ERROR
        raise


if __name__ == "__main__":
    sys.exit(main())
