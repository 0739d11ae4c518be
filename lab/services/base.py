"""A service: a real daemon started inside one lab host, ready-checked, stopped at teardown."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

from lab.run.rundir import RunDir
from lab.run.wait import Timeout, wait_until


class ServiceError(Exception):
    """A service failed to start; the message names it and shows its log."""


_STATES = {"tcp": "0A", "udp": "07"}      # TCP LISTEN, UDP unconnected


def listening_inodes(pid: int, proto: str, port: int) -> set[str]:
    """The socket inodes listening on `proto` `port` in pid's network namespace (IPv4 and
    IPv6), from /proc/PID/net/{tcp,udp}[6]: no process is started to ask."""
    found = set()
    for table in (proto, proto + "6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == _STATES[proto]:
                        found.add(cols[9])
        except (OSError, StopIteration, IndexError, ValueError):
            continue
    return found


def listening(host_pid: int, proto: str, port: int) -> bool:
    """Is something in host_pid's network namespace listening on `proto` `port`?"""
    return bool(listening_inodes(host_pid, proto, port))


class Service:
    """One daemon in one host. `ready` is the condition that says it serves."""

    def __init__(self, name: str, host, cmd: list[str], log: Path,
                 ready: Callable[[], bool], timeout: float = 15.0):
        self.name, self.host, self.cmd, self.log = name, host, cmd, log
        self.ready, self.timeout = ready, timeout
        self.proc: subprocess.Popen | None = None

    def start(self, run: RunDir) -> None:
        with open(self.log, "ab") as out:
            self.proc = self.host.popen(self.cmd, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        run.add_pid(f"svc:{self.name}", self.proc.pid)

        def up():
            if self.proc.poll() is not None:
                raise ServiceError(f"service {self.name} exited with code "
                                   f"{self.proc.returncode}\n{self.log_tail()}")
            return self.ready()
        try:
            wait_until(up, self.timeout, f"service {self.name}")
        except Timeout as e:
            raise ServiceError(f"{e}\n{self.log_tail()}") from None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            text = []
        return "\n".join(f"  {self.name} log: {line}" for line in text) or "  (empty log)"

    def stop(self, run: RunDir) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        run.drop_pid(f"svc:{self.name}")
