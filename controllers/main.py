"""Entry point of the censor process: `python -m controllers.main --policy FILE ...`.

It configures os-ken (hub type first, then CONF), hands the run's settings to the app and runs
it until SIGTERM. The lab starts this as its own process; nothing here is imported by `lab`.
The switch connects to the censor over a Unix socket (`--openflow`, in OVS's run directory:
lab/run/censor.py): no port to pick (and race other labs for) on the machine's loopback, and
under a third of the CPU that loopback TCP costs per message (2.7 against 8.9 µs for a
150-byte message each way, on the 2-core machine this was written on); a held query is a
packet-in and a packet-out.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from controllers.engine.eventlog import KEEP, MAX_BYTES


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="blocklab-censor", description=__doc__)
    p.add_argument("--policy", required=True, help="compiled policy JSON (docs/internals.md)")
    p.add_argument("--events", required=True, help="events.jsonl to append ground truth to")
    p.add_argument("--control", required=True, help="path of the control socket to create")
    p.add_argument("--openflow", required=True,
                   help="path of the Unix socket the switch connects to (OpenFlow 1.3)")
    p.add_argument("--t0", type=float, required=True, help="epoch seconds the lab came up")
    p.add_argument("--state", help="censor-state.json: the rule set and penalty boxes, saved "
                   "when they change and taken back by a restarted censor")
    p.add_argument("--name", default="censor",
                   help="this censor's name, written in each event's `censor` field")
    p.add_argument("--events-max-bytes", type=int, default=MAX_BYTES,
                   help="rotate the event log when it would grow past this (default 64 MiB)")
    p.add_argument("--events-keep", type=int, default=KEEP,
                   help="rotated event logs kept: events.jsonl.1 .. .N (default 4)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("OSKEN_HUB_TYPE", "eventlet")
    import warnings
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from os_ken import cfg
    from os_ken.base.app_manager import AppManager      # registers the options CONF reads

    from controllers.openflow.sockpath import unix_address
    with unix_address(args.openflow) as address:
        if os.path.lexists(args.openflow):      # a previous censor's (the watchdog restarts)
            os.unlink(args.openflow)
        # os-ken listens on a Unix socket when the listen host is a path in a folder (the
        # port is not used then; without one it would also listen on the old port 6633)
        cfg.CONF(args=["--ofp-listen-host", address, "--ofp-tcp-listen-port", "6653"],
                 project="os_ken")
        return _run(args, AppManager)


def _run(args: argparse.Namespace, manager) -> int:
    from controllers.openflow import app
    app.configure(app.Settings(policy_path=args.policy, events_path=args.events,
                               control_path=args.control, t0=args.t0,
                               state_path=args.state, events_max_bytes=args.events_max_bytes,
                               events_keep=args.events_keep, name=args.name))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        manager.run_apps(["controllers.openflow.app"])
    except (SystemExit, KeyboardInterrupt):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
