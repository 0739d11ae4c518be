"""`blocklab shell`, `serve` and `lesson`: their options, and the teaching lab run once lab.cli
has checked their arguments (scenario loaded, root, --pcap/--out writable, the page's port
taken, the lesson's steps valid): the lab up, the prompt, the live page or the lesson walked
through, the lab down with one line saying so."""
from __future__ import annotations

import sys
from pathlib import Path

from lab.argtypes import port
from lab.run.capture import PCAP_HELP, say_captured

EXIT_ERROR = 1


def add_shell_arguments(s) -> None:
    """The options of `blocklab shell` on its subparser `s`."""
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--no-timeline", action="store_true",
                   help="do not apply the scenario's timeline (the rules stay as you set them)")


def add_serve_arguments(s) -> None:
    """The options of `blocklab serve` on its subparser `s`."""
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--port", type=port, default=0, metavar="N",
                   help="the port on 127.0.0.1 (default: any free one); the URL with its "
                        "token is printed")
    s.add_argument("--pcap", metavar="DIR",
                   help=PCAP_HELP + "; from the start (the page can also start and stop "
                        "captures, into DIR or a new folder under /tmp)")


def add_lesson_arguments(s) -> None:
    """The options of `blocklab lesson` on its subparser `s`."""
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--auto", action="store_true",
                   help="no pauses; check each step's expectation, exit 1 if one fails")
    s.add_argument("--out", metavar="DIR",
                   help="write the lesson's plots to DIR (default: a new folder under /tmp, "
                        "printed at the end)")


def shell_command(sc, args) -> int:
    """The lab behind the shell's prompt, the timeline applied unless --no-timeline."""
    from lab.run import progress
    from lab.run.lab import Lab
    from lab.teach.shell import run_shell
    from lab.truth.timeline import TimelineRunner
    with Lab(sc, progress=progress.auto(f"{sc.name}: ")) as lab:
        entries = () if args.no_timeline else None
        with TimelineRunner(lab, entries):
            run_shell(lab)
    print("lab torn down", file=sys.stderr)
    return 0


def serve_command(sc, sock, args) -> int:
    """The live page on `sock` (already listening on 127.0.0.1) until Ctrl-C."""
    from lab.run import progress
    from lab.run.lab import Lab
    from lab.teach.dashboard import serve
    with sock, Lab(sc, progress=progress.auto(f"{sc.name}: "), pcap=args.pcap) as lab:
        print(f"{sc.name}: lab up in {lab.timings['up']:.1f}s", file=sys.stderr)
        serve(lab, sock, captures=Path(args.pcap) if args.pcap else None)
    say_captured(lab)
    print("lab torn down", file=sys.stderr)
    return 0


def lesson_command(sc, plan, files: Path | None, args) -> int:
    """The lesson's steps in `plan`; its files into `files` (--out, already prepared) or a new
    folder under /tmp, removed again if nothing was written. 1 if --auto and a step failed."""
    from lab.run import progress
    from lab.run.lab import Lab
    from lab.teach.lesson import Lesson
    if files is None:
        import tempfile
        files = Path(tempfile.mkdtemp(prefix="blocklab-lesson-"))
    with Lab(sc, progress=progress.auto(f"{sc.name}: ")) as lab:
        ok = Lesson(lab, plan, files=files).run(auto=args.auto)
    written = sorted(p for p in files.iterdir() if not p.name.startswith("."))
    if written:
        print(f"lesson files: {files} ({', '.join(p.name for p in written)})", file=sys.stderr)
    elif args.out is None:
        files.rmdir()          # nothing written: no empty temp folder left behind
    return 0 if ok or not args.auto else EXIT_ERROR
