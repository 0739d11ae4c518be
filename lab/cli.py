"""The `blocklab` command line (DESIGN.md's CLI is a public contract).

Each subcommand is a small function; errors a user can cause (a bad scenario, an unknown host,
no root) end in one clear message and exit code 1, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

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
    from lab.lab import Lab
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
    from lab.lab import Lab
    from lab.observe import check_expectations, render_table
    from lab.timeline import TimelineRunner, render
    sc = _load(args.scenario)
    _need_root("run")
    _sigterm_as_exit()
    with Lab(sc) as lab:
        print(f"{sc.name}: {sc.title}", file=sys.stderr)
        print(f"lab up in {lab.timings['up']:.1f}s", file=sys.stderr)
        with TimelineRunner(lab) as timeline:
            rows = check_expectations(lab)
            if not timeline.done:
                left = timeline.last_at - (time.time() - lab.t0)
                print(f"waiting for the timeline: its last change is due at "
                      f"{timeline.last_at:g}s ({max(left, 0):.1f}s from now)", file=sys.stderr)
                # a deadline, not a guess: the last entry's time plus a censor round trip each
                timeline.wait_done(max(left, 0) + 10 + 6 * len(timeline.entries))
        timeline.attach_events(lab.events())
        records = timeline.applied
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


def cmd_clean(args) -> int:
    from lab.clean import clean
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
    s.add_argument("--report", metavar="DIR")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_run)

    s = sub.add_parser("exec", help="bring the lab up, run CMD in HOST, print its output, down")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("host", metavar="HOST")
    s.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD")
    s.set_defaults(fn=cmd_exec)

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
        from lab.censor import CensorError
        from lab.lab import LabError
        from lab.services.base import ServiceError
        from lab.wait import Timeout
        if isinstance(e, (CensorError, LabError, ServiceError, Timeout,
                          subprocess.SubprocessError)):
            print(f"blocklab: {e}", file=sys.stderr)
            return EXIT_ERROR
        raise


if __name__ == "__main__":
    sys.exit(main())
