"""The `blocklab` command line (a public contract: README.md, docs/design.md): the parser, the
checks each command makes before any lab comes up (lab/preflight.py has the shared ones), and
the dispatch to the command module of its stage (lab/truth/command.py for run, lab/teach/command.py for shell, serve and lesson,
lab/run/command.py for exec and clean, lab/probe, lab/compare, lab/campaign, ...), which does
the work.

Each subcommand is a small function; errors a user can cause (a bad scenario, an unknown host,
no root) end in one clear line and exit code 1, never a traceback. Arguments the parser refuses
and output folders that cannot be written (lab/run/outputs.py) end in one line and exit code 2,
before any lab comes up.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

from lab.preflight import (UserError, check_pcap, load_scenario, need_browser, need_root,
                           nonempty, ready_for_lab, signals_end_the_run)
from lab.run.outputs import OutputError, option_text, prepare

EXIT_ERROR = 1
EXIT_USAGE = 2      # argparse's code for a bad command line; ours for unusable output folders


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr (no usage block), exit 2."""

    def error(self, message: str):
        command = self.prog.removeprefix("blocklab").strip()
        self.exit(EXIT_USAGE, f"blocklab: {command + ': ' if command else ''}{message} "
                              f"(see `{self.prog} --help`)\n")


# --- subcommands --------------------------------------------------------------------------

def cmd_list(args) -> int:
    from lab.scenario.command import list_command
    from lab.scenario.loader import SEARCH_PATH_ENV
    for folder in args.path:
        if not os.path.isdir(folder):
            raise UserError(f"list: --path {folder}: no such directory")
    for folder in filter(None, os.environ.get(SEARCH_PATH_ENV, "").split(":")):
        if not os.path.isdir(folder):
            raise UserError(f"list: {SEARCH_PATH_ENV}: {folder}: no such directory")
    return list_command(args.path)


def cmd_setup(args) -> int:
    from lab import setup as system
    if args.check:
        return system.check_command(args.dev)
    try:
        system.setup(args.dev, say=system.say)
    except system.SetupError as e:
        raise UserError(f"`blocklab setup` {e}" if str(e).startswith("needs root")
                        else f"setup: {e}") from None
    return 0


def cmd_validate(args) -> int:
    from lab.scenario.command import validate_command
    return validate_command(args.files, args.strict)


def cmd_draw(args) -> int:
    from lab.report.drawing import draw
    sys.stdout.write(draw(load_scenario(args.scenario)))
    return 0


def cmd_exec(args) -> int:
    from lab.run.command import exec_command
    sc = load_scenario(args.scenario)
    names = [h.name for h in sc.hosts()]
    if args.host not in names:
        raise UserError(f"no host named {args.host!r} in {sc.name}; hosts: {', '.join(names)}")
    if not args.cmd:
        raise UserError("exec needs a command after `--`")
    ready_for_lab(args, "exec")
    return exec_command(sc, args)


def cmd_run(args) -> int:
    from lab.truth.command import run_command
    sc = load_scenario(args.scenario)
    need_browser(args)
    ready_for_lab(args, "run")
    return run_command(sc, args)


def cmd_shell(args) -> int:
    from lab.teach.command import shell_command
    sc = load_scenario(args.scenario)
    ready_for_lab(args, "shell")
    return shell_command(sc, args)


def cmd_serve(args) -> int:
    from lab.teach.command import serve_command
    from lab.teach.dashboard_http import listen
    sc = load_scenario(args.scenario)
    need_root("serve")
    check_pcap(args)
    try:
        sock = listen(args.port)
    except OSError as e:
        raise UserError(f"--port {args.port}: cannot listen on 127.0.0.1:{args.port} "
                        f"({e.strerror or e})") from None
    signals_end_the_run()
    return serve_command(sc, sock, args)


def cmd_lesson(args) -> int:
    from lab.teach.command import lesson_command
    from lab.teach.lesson import LessonError, steps
    sc = load_scenario(args.scenario)
    try:
        plan = steps(sc)
    except LessonError as e:
        problems = str(e)     # one line each; a single one stays on the error's line
        sep = "\n" if "\n" in problems else " "
        raise UserError(f"{sc.path}: the lesson cannot run:{sep}{problems}") from None
    need_root("lesson")
    files = prepare("--out", args.out) if args.out is not None else None
    signals_end_the_run()
    return lesson_command(sc, plan, files, args)


def cmd_compare(args) -> int:
    from lab.compare import CompareError
    from lab.compare.command import compare_command
    from lab.compare.runner import resolve_tools
    from lab.scenario.units import UnitError, parse_rate
    loaded = [load_scenario(ref) for ref in args.scenarios]
    names = [t.strip() for t in args.tools.split(",") if t.strip()]
    if not names:
        raise UserError(f"{option_text('--tools', args.tools)}: names no tool; "
                        "give tools separated by commas, or 'all'")
    if args.repeat < 1:
        raise UserError(f"--repeat {args.repeat}: must be at least 1")
    nonempty("--bulk-rate", args.bulk_rate)
    try:
        resolve_tools(names)
    except CompareError as e:
        raise UserError(f"{option_text('--tools', args.tools)}: {e}") from None
    try:
        rate = parse_rate(args.bulk_rate) if args.bulk_rate else None
    except UnitError as e:
        raise UserError(f"--bulk-rate: {e}") from None
    ready_for_lab(args, "compare")
    return compare_command(loaded, names, rate, args)


def cmd_campaign(args) -> int:
    from lab.campaign import command
    try:
        if args.campaign_command == "run":
            signals_end_the_run()
            return command.run(args, need_root)
        return command.merge(args) if args.campaign_command == "merge" \
            else command.show_plan(args)
    except command.CampaignError as e:
        raise UserError(str(e)) from None


def cmd_probe(args) -> int:
    from lab.probe.command import probe_command
    sc = load_scenario(args.scenario)
    if args.json and args.markdown:
        raise UserError("--json --markdown: choose one of them")
    nonempty("--detector", args.detector)
    for url in args.url or []:
        nonempty("--url", url)
    need_browser(args)
    ready_for_lab(args, "probe")
    return probe_command(sc, args)


def cmd_bench(args) -> int:
    from bench import suite
    try:
        suite.sections_of(args.only)
    except ValueError as e:
        raise UserError(f"{option_text('--only', args.only)}: {e}") from None
    need_root("bench")
    prepare("--out", args.out)
    signals_end_the_run()
    try:
        return suite.main(args.quick, args.json, args.out, args.only)
    except ValueError as e:
        raise UserError(str(e)) from None


def cmd_clean(args) -> int:
    from lab.run.command import clean_command
    need_root("clean")
    return clean_command(args)


# --- parser -------------------------------------------------------------------------------

def _version() -> str:
    """The installed package's version (pyproject.toml's, through its metadata)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("blocklab")
    except PackageNotFoundError:
        return "unknown (not installed)"


def parser() -> argparse.ArgumentParser:
    from bench import SECTIONS as BENCH_SECTIONS     # the names only (bench/__init__.py)
    from lab.run.command import add_exec_arguments as exec_arguments
    from lab.teach import command as teach
    from lab.truth.command import add_arguments as run_arguments
    p = _Parser(prog="blocklab", description="Censorship in a box.")
    p.add_argument("--version", action="version", version=f"blocklab {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    s = sub.add_parser("list", help="scenarios by name, one line each, with where each is from")
    s.add_argument("--path", action="append", default=[], metavar="DIR",
                   help="also scenarios in DIR (before BLOCKLAB_SCENARIOS and the bundled ones)")
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("setup", help="install what labs need (Debian packages, Open vSwitch, "
                                     "Mininet); idempotent")
    s.add_argument("--check", action="store_true",
                   help="only report what is missing (exit 1 if anything is); change nothing")
    s.add_argument("--dev", action="store_true",
                   help="also the checkers blocklab's own tests run (shellcheck, vagrant)")
    s.set_defaults(fn=cmd_setup)

    s = sub.add_parser("validate", help="check scenario files; FILE:LINE:COL: message on error")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--strict", action="store_true",
                   help="also report what this machine's kernel cannot do (e.g. netem)")
    s.set_defaults(fn=cmd_validate)

    s = sub.add_parser("run", help="bring the lab up, check expectations, print a table, down")
    run_arguments(s)
    s.set_defaults(fn=cmd_run)

    s = sub.add_parser("draw", help="the scenario's network as SVG on stdout (no root, no lab)")
    s.add_argument("scenario", metavar="SCENARIO")
    s.set_defaults(fn=cmd_draw)

    s = sub.add_parser("exec", help="bring the lab up, run CMD in HOST, print its output, down")
    exec_arguments(s)
    s.set_defaults(fn=cmd_exec)

    s = sub.add_parser("shell", help="interactive lab: host commands, live censor control")
    teach.add_shell_arguments(s)
    s.set_defaults(fn=cmd_shell)

    s = sub.add_parser("serve", help="bring the lab up and serve a live page on 127.0.0.1: "
                                     "the drawing, rules with on/off switches, events, commands")
    teach.add_serve_arguments(s)
    s.set_defaults(fn=cmd_serve)

    s = sub.add_parser("lesson", help="walk through a scenario's lesson, step by step")
    teach.add_lesson_arguments(s)
    s.set_defaults(fn=cmd_lesson)

    s = sub.add_parser("compare", help="circumvention tools through scenarios: a matrix")
    from lab.compare.command import add_arguments as compare_arguments
    compare_arguments(s)
    s.set_defaults(fn=cmd_compare)

    s = sub.add_parser("campaign", help="a study split over shards (CI matrix, Kubernetes, "
                                        "Slurm): run a shard, merge the results")
    from lab.campaign.command import add_arguments as campaign_arguments
    campaign_arguments(s)
    s.set_defaults(fn=cmd_campaign)

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
                   help="only these sections: " + ", ".join(BENCH_SECTIONS))
    s.set_defaults(fn=cmd_bench)

    s = sub.add_parser("clean", help="remove anything a crashed run left behind")
    s.add_argument("--force", action="store_true", help="also runs whose owner is still alive")
    s.set_defaults(fn=cmd_clean)
    for s in sub.choices.values():
        s.set_defaults(parser=s)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args, extra = p.parse_known_args(argv)
    if extra:       # said by the subcommand's parser, which knows its own --help
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    cmd = getattr(args, "cmd", None)
    if cmd and cmd[0].startswith("--pcap"):     # `exec SC HOST --pcap DIR -- CMD`
        if "=" in cmd[0]:
            args.pcap, args.cmd = cmd[0].split("=", 1)[1], cmd[1:]
        elif len(cmd) >= 2:
            args.pcap, args.cmd = cmd[1], cmd[2:]
        else:
            args.parser.error("argument --pcap: expected one argument")
    if getattr(args, "cmd", None) and args.cmd[:1] == ["--"]:
        args.cmd = args.cmd[1:]
    try:
        return args.fn(args)
    except UserError as e:
        print(f"blocklab: {e}", file=sys.stderr)
        return EXIT_ERROR
    except OutputError as e:
        print(f"blocklab: {e}", file=sys.stderr)
        return EXIT_USAGE
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
