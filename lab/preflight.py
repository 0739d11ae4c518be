"""The checks a `blocklab` command makes before any lab comes up, and what it sets up for one.

Owns the failures a user can fix (UserError: one line, exit 1, never a traceback): no root,
no Chromium for `--browser`, an option given empty, a scenario that does not load; the
output folders checked before the lab (lab/run/outputs.py); and the signals that must tear
a lab down (SIGTERM as an exit, SIGINT as a KeyboardInterrupt). lab/cli.py calls these in
each command before dispatching to its stage.
"""
from __future__ import annotations

import os
import signal
import sys

from lab import scenario as scenarios
from lab.run.outputs import option_text, prepare


class UserError(Exception):
    """Something the user can fix; printed as `blocklab: message`."""


def need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise UserError(f"`blocklab {what}` needs root: it creates network namespaces, veth "
                        "pairs and an Open vSwitch bridge. Run it with sudo.")


def need_browser(args) -> None:
    """`--browser` without a Chromium to run: one line before any lab comes up."""
    if getattr(args, "browser", False):
        from lab.clients.browser import UsageError, find_chromium
        try:
            find_chromium()
        except UsageError as e:
            raise UserError(f"--browser: {e}") from None


def nonempty(option: str, value: str | None) -> None:
    """An option given as an empty string is a mistake, not a way to leave it out."""
    if value is not None and not value.strip():
        raise UserError(f"{option_text(option, value)}: empty; leave the option out instead")


def signals_end_the_run() -> None:
    """SIGTERM becomes an exit (128 + 15) and SIGINT a KeyboardInterrupt, so that either
    tears the lab down: SIGINT even when this process was started with it ignored or
    blocked (as a shell script's background job is: Python keeps an inherited SIG_IGN)."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def check_pcap(args) -> None:
    """`--pcap DIR`: checked like the other output folders, before any lab comes up."""
    if getattr(args, "pcap", None) is not None:
        prepare("--pcap", args.pcap)


def ready_for_lab(args, command: str) -> None:
    """The last checks before `command`'s lab comes up, in this order: root, --report and
    --pcap (the output folders, where the command has them); then SIGTERM and SIGINT end
    the run, so that the lab is torn down."""
    need_root(command)
    if getattr(args, "report", None) is not None:
        prepare("--report", args.report)
    check_pcap(args)
    signals_end_the_run()


def load_scenario(ref: str):
    try:
        return scenarios.load(ref)
    except scenarios.ScenarioError as e:
        raise UserError(str(e)) from None
