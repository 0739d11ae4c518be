"""Finding and ending the processes that live in a lab host's network namespace.

Whatever was started in a host (services, commands, their children) shares the host shell's
network namespace; ending all of them is what lets the kernel free the namespace and its veth.
"""
from __future__ import annotations

import os
import signal

from lab.run.wait import Timeout, wait_until


def netns_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def referring_to(path: str) -> list[int]:
    """Pids of every process whose environment names `path` (a run directory: what runs in a
    lab host has its HOME there), so a command left running after its host's shell is gone
    (its owner SIGKILLed) is still found."""
    needle = path.encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


def in_namespaces(namespaces: set[str]) -> list[int]:
    """Pids of every process whose network namespace is one of `namespaces`."""
    mine = netns_of(os.getpid())
    namespaces = {ns for ns in namespaces if ns and ns != mine}
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and netns_of(int(entry)) in namespaces:
            found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def terminate(pids: list[int], grace: float = 2.0) -> None:
    """SIGTERM, then SIGKILL what is still alive after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            wait_until(lambda: not any(alive(p) for p in pids), grace, "processes to end")
        except Timeout:
            pass                        # what is still alive gets the next signal
        pids = [p for p in pids if alive(p)]
        if not pids:
            return
