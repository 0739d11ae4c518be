"""A small Chrome DevTools Protocol client over `--remote-debugging-pipe`.

Owns starting Chromium with the pipe on fds 3 (commands in) and 4 (answers and events out),
one command at a time with a deadline, the events seen meanwhile, and stopping the browser and
every process it started: its own process group, whatever left the group (crashpad handlers
start sessions of their own) and is reparented to this process, a child subreaper, and a
parent-death signal should the caller be killed first. Messages on the pipe are JSON objects,
each ended by a NUL byte.
"""
from __future__ import annotations

import ctypes
import fcntl
import json
import os
import select
import signal
import subprocess
import time

from lab.run.wait import Timeout, wait_until

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(option, value)
    except OSError:
        pass


class CDPError(Exception):
    """The browser answered a command with an error, closed the pipe, or did not answer."""


class CDPTimeout(CDPError):
    pass


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the process that started it dies."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _children() -> list[int]:
    """This process's children (its own, and orphans reparented to it as a subreaper)."""
    me, out = os.getpid(), []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rindex(b")") + 2:].split()[1]) == me:
                out.append(int(name))
    return out


def _end_children(spared: set[int]) -> bool:
    """Kill and reap every child not in `spared`; True when there was none left to kill."""
    kids = [pid for pid in _children() if pid not in spared]
    for pid in kids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in kids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
    return not kids


def _high_pipe() -> tuple[int, int]:
    """A pipe whose ends are fds 10 and up (never 3 or 4, which the browser's ends become)."""
    r, w = os.pipe()
    out = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (r, w))
    os.close(r)
    os.close(w)
    return out


class Browser:
    """A running Chromium and its DevTools pipe."""

    def __init__(self, argv: list[str], log_path: str, env: dict | None = None):
        self._spared = set(_children())      # the caller's own children are not the browser's
        _prctl(PR_SET_CHILD_SUBREAPER, 1)    # what the browser leaves behind comes back here
        cmd_r, self._cmd_w = _high_pipe()
        self._out_r, out_w = _high_pipe()
        # The shell puts the pipe's browser ends on fds 3 and 4, then becomes the browser.
        shell = f'exec "$@" 3<&{cmd_r} 4>&{out_w} {cmd_r}<&- {out_w}>&-'
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                ["/bin/bash", "-c", shell, "bash", *argv, "--remote-debugging-pipe"], env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                pass_fds=(cmd_r, out_w), preexec_fn=_die_with_parent)
        os.close(cmd_r)
        os.close(out_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []

    # --- the pipe --------------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPTimeout("no answer from the browser in time")
            ready, _, _ = select.select([self._out_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._out_r, 1 << 20)
            if not chunk:
                raise CDPError(f"the browser closed its pipe (exit {self.proc.poll()}): "
                               f"{self.stderr_tail()}")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             deadline: float | None = None) -> dict:
        """Send one command; return its result. Events that arrive meanwhile are kept."""
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = deadline if deadline is not None else time.monotonic() + 30
        while True:
            got = self._read_message(deadline)
            if got.get("id") == self._next_id:
                if "error" in got:
                    raise CDPError(f"{method}: {got['error'].get('message')}")
                return got.get("result", {})
            if "method" in got:
                self.events.append(got)

    def wait_event(self, found, deadline: float) -> dict | None:
        """The first event (already seen or arriving before `deadline`) for which
        found(event) holds; None when the deadline passes first."""
        seen = 0
        while True:
            for ev in self.events[seen:]:
                if found(ev):
                    return ev
            seen = len(self.events)
            try:
                got = self._read_message(deadline)
            except CDPTimeout:
                return None
            if "method" in got:
                self.events.append(got)

    def stderr_tail(self) -> str:
        """The last line the browser logged (why it exited, when it did)."""
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    # --- the end ---------------------------------------------------------------------------

    def close(self) -> None:
        """End the browser and every process it started (its process group), at once: its
        profile is thrown away, so there is nothing to save (a polite Browser.close costs
        0.4 s more here)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)     # renderers, zygotes, utilities
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        try:
            wait_until(lambda: _end_children(self._spared), 10, "the browser's processes to end")
        except Timeout:
            pass                # the lab's teardown ends what is left in its hosts
        _prctl(PR_SET_CHILD_SUBREAPER, 0)
        for fd in (self._cmd_w, self._out_r):
            try:
                os.close(fd)
            except OSError:
                pass
