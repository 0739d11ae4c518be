"""Every run leaves the machine as it found it: on success, error, SIGINT, SIGTERM, and after
SIGKILL once `blocklab clean` has run. These tests compare whole-machine snapshots, so they run
alone (the `serial` marker), after the parallel tests."""
from __future__ import annotations

import os
import signal
import subprocess

import pytest

from controllers.switch.tables import ct_zone
from lab.run.procs import netns_of
from lab.run.rundir import RUNS
from lab.run.wait import wait_until
from tests.integration.helpers import blocklab, blocklab_popen, snapshot

pytestmark = pytest.mark.serial


def _lab_is_up() -> bool:
    """The exec'd `sleep 300` runs inside a lab host (another network namespace)."""
    mine = netns_of(os.getpid())
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and open(f"/proc/{pid}/comm").read().strip() == "sleep" \
                    and netns_of(int(pid)) not in (None, mine):
                return True
        except OSError:
            pass
    return False


@pytest.mark.kernel
def test_successful_run_leaves_nothing():
    before = snapshot()
    assert blocklab("exec", "basics/open", "alice", "--", "true").returncode == 0
    assert snapshot() == before


def test_failed_command_leaves_nothing():
    before = snapshot()
    r = blocklab("exec", "basics/open", "alice", "--", "no-such-command-here")
    assert r.returncode != 0
    assert snapshot() == before


def _sigint_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sig, code, started", [(signal.SIGINT, 130, None),
                                                (signal.SIGTERM, 128 + 15, None),
                                                (signal.SIGINT, 130, _sigint_ignored)],
                         ids=["SIGINT", "SIGTERM", "SIGINT-ignored-by-the-parent"])
def test_interrupted_run_tears_down(sig, code, started):
    """Also when blocklab was started with SIGINT ignored, as a shell script's background job
    is (one test worker's `blocklab exec` and `blocklab shell` both ignored SIGINT once, with
    the symptom this case gives without lab/cli.py's explicit handler: no exit in 60 s)."""
    before = snapshot()
    proc = blocklab_popen("exec", "basics/open", "alice", "--", "sleep", "300",
                          preexec_fn=started)
    try:
        wait_until(_lab_is_up, 60, "the lab to come up")
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == code
    finally:
        if proc.poll() is None:
            proc.kill()
    assert snapshot() == before


@pytest.mark.kernel
def test_sigkilled_run_is_cleaned_by_blocklab_clean():
    before = snapshot()
    proc = blocklab_popen("exec", "basics/open", "alice", "--", "sleep", "300")
    wait_until(_lab_is_up, 60, "the lab to come up")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    left = snapshot()
    assert left["bridges"] != before["bridges"] and left["processes"], "SIGKILL left nothing?"
    r = blocklab("clean")
    assert r.returncode == 0, r.stderr
    assert "removed" in r.stdout
    assert snapshot() == before


def _zone_entries(zone: int) -> list[str]:
    out = subprocess.run(["ovs-appctl", "dpctl/dump-conntrack", f"zone={zone}"],
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def test_blocklab_clean_flushes_a_sigkilled_censors_allowed_connections():
    """An allowed TLS flow is committed to the censor's conntrack zone (the conntrack lane:
    controllers/switch/tables.py); a lab killed with SIGKILL cannot flush it: clean does."""
    runs_before = set(os.listdir(RUNS)) if RUNS.is_dir() else set()
    proc = blocklab_popen("exec", "basics/reset", "alice", "--", "sh", "-c",
                          "curl -s --max-time 5 https://open.example.org/ >/dev/null; "
                          "sleep 300")
    try:
        run = wait_until(lambda: next(iter(set(os.listdir(RUNS)) - runs_before), None), 60,
                         "the lab's run directory")
        zone = ct_zone(os.path.abspath(RUNS / run / "control.sock"))
        wait_until(lambda: _zone_entries(zone), 60, "the allowed flow in the censor's zone")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    r = blocklab("clean")
    assert r.returncode == 0, r.stderr
    assert f"conntrack zone {zone}" in r.stdout
    assert _zone_entries(zone) == []
