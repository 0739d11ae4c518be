"""Starting, talking to and stopping the censor process (controllers.main).

`lab` never imports os-ken: the censor runs as its own process on a free local OpenFlow port,
and `lab` talks to it over its Unix control socket (docs/internals.md §3).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from lab.rundir import RunDir
from lab.wait import Timeout, wait_until


class CensorError(Exception):
    """The censor process failed; the message carries the tail of its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ControlClient:
    """One JSON command per call over the control socket."""

    def __init__(self, path: Path):
        self.path = path

    def call(self, command: dict, timeout: float = 5.0) -> dict:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.path))
            s.sendall(json.dumps(command).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return json.loads(buf)

    def try_call(self, command: dict) -> dict | None:
        try:
            return self.call(command, timeout=1.0)
        except (OSError, ValueError):
            return None


class CensorProcess:
    """The controller for one run: start(), wait_ready(), stop()."""

    def __init__(self, run: RunDir, policy: dict, t0: float):
        self.run = run
        self.port = free_port()
        self.policy_path = run.file("policy.json")
        self.policy_path.write_text(json.dumps(policy, indent=1))
        self.events_path = run.file("events.jsonl")
        self.events_path.touch()
        self.log_path = run.file("controller.log")
        self.control = ControlClient(run.file("control.sock"))
        self.t0 = t0
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "controllers.main", "--policy", str(self.policy_path),
               "--events", str(self.events_path), "--control", str(self.control.path),
               "--port", str(self.port), "--t0", repr(self.t0)]
        env = dict(os.environ, OSKEN_HUB_TYPE="eventlet", PYTHONUNBUFFERED="1")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env,
                                         start_new_session=True)
        self.run.add_pid("censor", self.proc.pid)
        self._wait(lambda: self.control.try_call({"cmd": "status"}), 30,
                   "the censor's control socket")

    def wait_ready(self, timeout: float = 30) -> None:
        """Wait until the switch is connected and the base rules are installed."""
        def ready():
            status = self.control.try_call({"cmd": "status"})
            return status and status.get("ready")
        self._wait(ready, timeout, "the switch to connect and the base rules to be installed")

    def _wait(self, condition, timeout: float, what: str):
        def alive_and(cond=condition):
            if self.proc and self.proc.poll() is not None:
                raise CensorError(f"the censor exited with code {self.proc.returncode}\n"
                                  + self.log_tail())
            return cond()
        try:
            return wait_until(alive_and, timeout, what)
        except Timeout as e:
            raise CensorError(f"{e}\n{self.log_tail()}") from None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join("  censor log: " + line for line in text[-lines:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.run.drop_pid("censor")
