"""Entry point of the censor process: `python -m controllers.main --policy FILE ...`.

It configures os-ken (hub type first, then CONF), hands the run's settings to the app and runs
it until SIGTERM. The lab starts this as its own process; nothing here is imported by `lab`.
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
    p.add_argument("--port", type=int, required=True, help="OpenFlow port on 127.0.0.1")
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
    from os_ken.base.app_manager import AppManager

    cfg.CONF(args=["--ofp-tcp-listen-port", str(args.port), "--ofp-listen-host", "127.0.0.1"],
             project="os_ken")
    from controllers.openflow import app
    app.configure(app.Settings(policy_path=args.policy, events_path=args.events,
                               control_path=args.control, t0=args.t0,
                               state_path=args.state, events_max_bytes=args.events_max_bytes,
                               events_keep=args.events_keep, name=args.name))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        AppManager.run_apps(["controllers.openflow.app"])
    except (SystemExit, KeyboardInterrupt):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
