"""Building a Service for one daemon: its config vetted first, ready when *it* listens.

`daemon(...)` makes a Service whose readiness is that the daemon's own process (or one of its
children) holds a listening socket on every given port. Something else listening there (a
squatter, a leftover) does not count: the daemon then fails to bind, exits, and the lab says
so with its log. `checks` are the daemon's own config checkers (`nsd-checkconf`, `sshd -t`),
run before it starts: they name the bad line where the daemon might just exit.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable

from lab.services.base import Service, ServiceError, listening_inodes


def _tree(pid: int) -> list[int]:
    """pid and its descendants (from /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return out


def _socket_inodes(pids: list[int]) -> set[str]:
    found = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                found.add(link[8:-1])
    return found


def serving(service: Service, ports: list[tuple[str, int]]) -> bool:
    """Does the service's own process tree listen on every (proto, port)?"""
    if service.proc is None or service.proc.poll() is not None:
        return False
    pid = service.proc.pid
    wanted = [listening_inodes(pid, proto, port) for proto, port in ports]
    if not all(wanted):
        return False
    mine = _socket_inodes(_tree(pid))
    return all(inodes & mine for inodes in wanted)


class CheckedService(Service):
    """A Service with `checks`: commands that must exit 0 before the daemon is started."""

    def __init__(self, *args, checks: list[list[str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.checks = checks

    def start(self, run) -> None:
        for cmd in self.checks:
            r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if r.returncode != 0:
                out = (r.stdout + r.stderr).strip().splitlines()[-20:]
                shown = "\n".join(f"  {self.name} check: {line}" for line in out)
                raise ServiceError(f"service {self.name}: `{' '.join(cmd)}` failed "
                                   f"(exit {r.returncode})\n{shown or '  (no output)'}")
        super().start(run)


def daemon(name: str, host, cmd: list[str], log: Path, ports: list[tuple[str, int]], *,
           checks: list[list[str]] | None = None,
           also: Callable[[], bool] | None = None, timeout: float = 15.0) -> Service:
    """A Service for `cmd` in `host`, ready when it listens on `ports` (and `also()` holds)."""
    kwargs = {"checks": checks} if checks else {}
    cls = CheckedService if checks else Service
    service = cls(name, host, cmd, log, ready=lambda: False, timeout=timeout, **kwargs)
    service.ready = lambda: serving(service, ports) and (also is None or also())
    return service
