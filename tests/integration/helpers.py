"""Helpers for integration tests: run the real CLI, snapshot what the machine has."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def blocklab(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run the `blocklab` CLI as a user would, capturing its output."""
    return subprocess.run([sys.executable, "-m", "lab.cli", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=timeout, **kwargs)


def blocklab_popen(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lab.cli", *args], cwd=REPO, text=True,
                            **kwargs)


def _out(cmd: str) -> str:
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout


def lab_processes() -> list[str]:
    """Processes that belong to some lab: host shells, the censor, services in run dirs."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if re.search(r"mininet:|controllers\.main|/run/blocklab/", cmd):
            found.append(f"{pid} {cmd.strip()}")
    return found


def snapshot() -> dict:
    """What the machine has that a lab could leave behind or change."""
    links = sorted(line.split(":", 2)[1].strip().split("@")[0]
                   for line in _out("ip -o link show").splitlines())
    return {
        "links": links,
        "routes": _out("ip route show table all"),
        "addresses": _out("ip -o addr show"),
        "netns": _out("ip netns list"),
        "bridges": _out("ovs-vsctl list-br"),
        "nftables": _out("nft list ruleset 2>/dev/null"),
        "iptables": _out("iptables-save 2>/dev/null | grep -v '^#'"),
        "processes": lab_processes(),
        "runs": sorted(os.listdir("/run/blocklab")) if os.path.isdir("/run/blocklab") else [],
    }
