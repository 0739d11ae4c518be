"""`blocklab shell` through a pseudo-terminal, as a teacher types it: host commands, live
censor control (disable, add, explain, events, plot) and teardown on exit and on Ctrl-D."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from typing import Iterator

import pexpect
from matplotlib import image as mpimg

from lab.run.procs import alive
from lab.run.rundir import RUNS
from lab.run.wait import Timeout, wait_until

PROMPT = "blocklab> "
UP = 120             # seconds for the lab to come up on a loaded machine


def _spawn(scenario: str, cwd) -> pexpect.spawn:
    env = dict(os.environ, NO_COLOR="1")
    child = pexpect.spawn(sys.executable, ["-m", "lab.cli", "shell", scenario], cwd=str(cwd),
                          env=env, encoding="utf-8", timeout=60, dimensions=(60, 200))
    child.logfile_read = io.StringIO()           # the whole session, as the teacher saw it
    child.expect_exact(PROMPT, timeout=UP)
    return child


@contextmanager
def _shell(scenario: str, cwd) -> Iterator[pexpect.spawn]:
    """`blocklab shell SCENARIO` at its first prompt; killed if still running when the block
    ends (a failed test), closed (its exit status read) in any case."""
    child = _spawn(scenario, cwd)
    try:
        yield child
    finally:
        if child.isalive():
            child.terminate(force=True)
        child.close()


def _do(child: pexpect.spawn, line: str, timeout: float = 60) -> str:
    """Type one line; what the shell printed before the next prompt (without the echo)."""
    child.sendline(line)
    child.expect_exact(PROMPT, timeout=timeout)
    text = child.before.replace("\r\n", "\n")
    return text.split("\n", 1)[1] if "\n" in text else ""


def _run_of(child: pexpect.spawn) -> dict:
    """The run directory's state.json of the shell's lab (its owner is the shell)."""
    for d in RUNS.iterdir():
        try:
            state = json.loads((d / "state.json").read_text())
        except (OSError, ValueError):
            continue
        if state.get("owner_pid") == child.pid:
            return state
    raise AssertionError("no run directory owned by the shell")


def _bridges() -> list[str]:
    return subprocess.run(["ovs-vsctl", "list-br"], capture_output=True, text=True).stdout.split()


def _assert_torn_down(state: dict) -> None:
    try:
        wait_until(lambda: not any(alive(p) for p in state["pids"].values()), 10,
                   "the shell's lab processes to exit")
    except Timeout:
        pass                            # the assertion below names what is left
    left = {what: pid for what, pid in state["pids"].items() if alive(pid)}
    assert not left, f"lab processes left after exit: {left}"
    assert not (RUNS / state["run_id"]).exists(), "the run directory is still there"
    assert state["bridge"] not in _bridges(), "the OVS bridge is still there"


def test_disable_makes_curl_succeed_explain_names_the_rule_exit_tears_down(tmp_path):
    with _shell("basics/sni-drop", tmp_path) as child:
        state = _run_of(child)
        assert state["pids"] and state["bridge"]
        before = _do(child, "alice curl -sS --max-time 3 https://blocked.example.com/")
        assert "curl: (28)" in before, before

        explained = _do(child, "explain alice https://blocked.example.com/")
        assert "rule sni-drop decides: drop" in explained, explained

        rules = _do(child, "rules")
        assert re.search(r"1\s+sni-drop\s+yes\s+1\s+drop\s+sni: blocked\.example\.com",
                         rules), rules

        assert "rule sni-drop disabled" in _do(child, "disable sni-drop")
        after = _do(child, "alice curl -sS --max-time 5 https://blocked.example.com/")
        assert "blocklab server blocked" in after, after
        assert re.search(r"sni-drop\s+no\s+1", _do(child, "rules"))

        events = _do(child, "events")
        assert re.search(r"drop\s+sni-drop\s+sni\s+tcp alice:\d+ -> blocked:443", events), events
        assert re.search(r"disable\s+sni-drop", events), events

        child.sendline("exit")
        child.expect(pexpect.EOF, timeout=60)
    assert child.exitstatus == 0
    seen = child.logfile_read.getvalue()
    assert "***" not in seen and "Traceback" not in seen and "mininet>" not in seen, seen
    assert "lab torn down" in seen
    _assert_torn_down(state)


def test_add_checks_the_rule_events_follow_and_ctrl_d_tears_down(tmp_path):
    with _shell("basics/sni-drop", tmp_path) as child:
        state = _run_of(child)
        bad = _do(child, "add {id: slow, match: {sni: open.example.org}, "
                         "action: {throttle: 1Mbps}}")
        assert "not added" in bad and "did you mean '1Mbit'" in bad, bad
        unknown = _do(child, "add {id: x, match: {server: nosuch}, action: drop}")
        assert "not added" in unknown and "nosuch" in unknown, unknown

        added = _do(child, "add --at 1 {id: open-reset, match: {sni: open.example.org}, "
                           "action: reset}")
        assert "rule open-reset added at position 1" in added, added
        assert re.search(r"1\s+open-reset\s+yes\s+0\s+reset", _do(child, "rules"))
        assert "rule open-reset decides: reset" in _do(child, "explain https://open.example.org/")

        child.sendline("events -f")
        child.expect_exact("(following; Ctrl-C stops)")
        # a reset from another terminal's point of view: run it in the lab, watch it arrive
        host_pid = state["pids"]["host:alice"]
        subprocess.run(["mnexec", "-a", str(host_pid), "curl", "-s", "--max-time", "3",
                        "https://open.example.org/"], capture_output=True, timeout=30)
        child.expect(r"reset\s+open-reset\s+sni\s+tcp alice:\d+ -> open:443", timeout=20)
        child.sendintr()
        child.expect_exact(PROMPT, timeout=10)

        assert "unknown command or host 'mallory'" in _do(child, "mallory curl x")
        child.sendeof()
        child.expect(pexpect.EOF, timeout=60)
    assert child.exitstatus == 0
    _assert_torn_down(state)


def test_plot_shows_the_throttle_kick_in(tmp_path):
    png = tmp_path / "slow.png"
    with _shell("basics/throttle", tmp_path) as child:
        out = _do(child, f"plot alice https://rr1.video.example/bulk/100M 4 {png}", timeout=60)
        child.sendline("exit")
        child.expect(pexpect.EOF, timeout=60)
    assert f"wrote {png}" in out, out
    assert "censor: rule slow throttle" in out
    assert "dashed line: rule slow: throttle 1 Mbit/s" in out
    kbit = float(re.search(r"(\d+) kbit/s after the first second", out).group(1))
    assert kbit < 2000, f"a 1 Mbit/s throttle let {kbit} kbit/s through"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert mpimg.imread(png).shape[0] > 100
