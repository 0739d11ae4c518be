"""`blocklab exec` and `blocklab clean`: their work once lab.cli has checked their arguments
(scenario loaded, the host known, a command given, root, --pcap writable): the lab up, the
command run in its host with its output on ours and its exit code as ours, the lab down; what
a crashed run left behind removed and listed."""
from __future__ import annotations

import argparse

from lab.run.capture import PCAP_HELP, say_captured


def add_exec_arguments(s) -> None:
    """The options of `blocklab exec` on its subparser `s` (lab.cli takes `--pcap DIR` out of
    the command when it stands after HOST)."""
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("host", metavar="HOST")
    s.add_argument("--pcap", metavar="DIR", help=PCAP_HELP)
    s.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD")


def exec_command(sc, args) -> int:
    """CMD in HOST; its exit code. Ctrl-C kills it, and the lab comes down."""
    from lab.run.lab import Lab
    lab = Lab(sc, pcap=args.pcap)
    with lab:
        proc = lab.popen(args.host, args.cmd, stdout=None, stderr=None)
        try:
            code = proc.wait()
        except KeyboardInterrupt:
            proc.kill()
            proc.wait()
            raise
    say_captured(lab)
    return code


def clean_command(args) -> int:
    """Remove what crashed runs left (with --force, also runs whose owner is alive); one line
    per run, or `nothing to clean`."""
    from lab.run.clean import clean
    done = clean(force=args.force)
    for run_id, removed in done:
        print(f"run {run_id}: removed {', '.join(removed) or 'its directory'}")
    if not done:
        print("nothing to clean")
    return 0
