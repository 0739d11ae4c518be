"""Isolation: `blocklab run` leaves the machine as it found it, however the run ends, and the
lab never takes an address outside 198.18.0.0/15.

Whole-machine snapshots (tests/integration/helpers.py: routes, links, addresses, namespaces,
nftables and iptables rules, OVS bridges and controllers, policy routing, forwarding
switches, root mounts, lab processes, run directories) are compared before and after:
a good run, a run whose service dies (a failed run, the service named), a run whose censor is
SIGKILLed (the watchdog brings it back; its new process goes too), a SIGKILLed run cleaned by
`blocklab clean`, and a scenario refused for an address outside the lab. These compare the
whole machine, so they run alone (`serial`).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from lab.run.rundir import RUNS
from lab.run.wait import wait_until
from tests.integration.helpers import blocklab, blocklab_popen, snapshot

pytestmark = pytest.mark.serial

# A run that lasts: its timeline's last change is due at 25 s, and `run` waits for it.
LONG = """\
name: isolation-long
title: "isolation: a run that lasts while it is hurt"
clients: [alice]
servers:
  - {name: example, domains: [www.example.com], serve: [https]}
censor:
  rules:
    - {id: sni-drop, match: {sni: [blocked.example.com]}, action: drop}
timeline:
  - {at: 25s, disable: sni-drop}
"""


def _state() -> dict | None:
    """The state.json of the one run under way (None until its services are up)."""
    for d in RUNS.glob("*/state.json") if RUNS.is_dir() else []:
        try:
            state = json.loads(d.read_text())
        except (OSError, ValueError):
            continue
        if state.get("owner_pid") in _ours and any(k.startswith("svc:") for k in state["pids"]):
            return state
    return None


_ours: set[int] = set()


def _start_long(tmp_path: Path) -> tuple[subprocess.Popen, dict]:
    path = tmp_path / "long.yaml"
    path.write_text(LONG)
    proc = blocklab_popen("run", str(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _ours.add(proc.pid)
    state = wait_until(_state, 90, "the long run's lab to come up")
    return proc, state


def test_good_run_leaves_nothing():
    before = snapshot()
    r = blocklab("run", "basics/open")
    assert r.returncode == 0, r.stderr
    assert snapshot() == before


def test_run_whose_service_dies_names_it_and_leaves_nothing(tmp_path):
    before = snapshot()
    proc, state = _start_long(tmp_path)
    try:
        os.kill(state["pids"]["svc:web@example"], signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    # Killed while the lab is coming up or once it is up: either way it is named.
    assert re.search(r"service web@example (died \(exit code -9\)|exited with code -9)", err), err
    assert snapshot() == before


def test_run_whose_censor_is_sigkilled_goes_on_and_leaves_nothing(tmp_path):
    before = snapshot()
    proc, state = _start_long(tmp_path)
    try:
        first = state["pids"]["censor"]
        os.kill(first, signal.SIGKILL)
        run_dir = RUNS / state["run_id"]

        def restarted():
            try:
                pid = json.loads((run_dir / "state.json").read_text())["pids"].get("censor")
            except (OSError, ValueError):
                return None
            return pid if pid and pid != first else None
        assert wait_until(restarted, 40, "the watchdog to start a new censor")
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, 1), err
    assert "Traceback" not in err
    assert snapshot() == before


def test_sigkilled_run_command_is_cleaned_by_blocklab_clean(tmp_path):
    before = snapshot()
    proc, _state_ = _start_long(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    assert snapshot() != before, "a SIGKILLed run leaves its lab behind until clean"
    r = blocklab("clean")
    assert r.returncode == 0, r.stderr
    assert snapshot() == before


@pytest.mark.parametrize("where, host", [
    ("clients", "{name: alice, address: 10.0.0.5}"),
    ("servers", "{name: outside, address: 8.8.8.8, serve: [https]}"),
])
def test_hosts_outside_the_lab_network_are_refused(tmp_path, where, host):
    clients = host if where == "clients" else "alice"
    servers = host if where == "servers" else "{name: example, serve: [https]}"
    path = tmp_path / "outside.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: outside
        title: a host outside 198.18.0.0/15
        clients: [{clients}]
        servers: [{servers}]
        """))
    before = snapshot()
    for cmd in (["run", str(path)], ["validate", str(path)]):
        r = blocklab(*cmd)
        assert r.returncode == 1
        text = r.stdout + r.stderr
        assert f"{path}:3:" in text or f"{path}:4:" in text, text
        assert "is outside the lab's 198.18.0.0/15" in text, text
        assert "Traceback" not in text
    assert snapshot() == before
