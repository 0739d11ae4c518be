"""Helpers for integration tests: run the real CLI, snapshot what the machine has."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from lab.run.censor import OVS_RUNDIR
from lab.run.wait import scaled

REPO = Path(__file__).resolve().parents[2]


def blocklab(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run the `blocklab` CLI as a user would, capturing its output."""
    return subprocess.run([sys.executable, "-m", "lab.cli", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=scaled(timeout), **kwargs)


def blocklab_popen(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lab.cli", *args], cwd=REPO, text=True,
                            **kwargs)


def _out(cmd: str) -> str:
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout


def lab_processes() -> list[str]:
    """Processes that belong to some lab: host shells, the censor, services in run dirs, and
    any command run in a lab host (its HOME is in the run directory)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if re.search(r"mininet:|controllers\.main|/run/blocklab/", cmd) or \
                b"=/run/blocklab/" in env:
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
        **more_snapshot(),
    }


def _mount_points() -> list[str]:
    """The root mount namespace's mount points and sources (a lab mounts only in hosts')."""
    try:
        lines = Path("/proc/1/mountinfo").read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        fields = line.split()
        sep = fields.index("-") if "-" in fields else len(fields)
        out.append(" ".join([fields[4], *fields[sep + 1:sep + 3]]))
    return sorted(out)


def more_snapshot() -> dict:
    """Machine state past links and routes: policy routing, forwarding and bridge-netfilter
    switches, root mounts, OVS controller and manager records."""
    sysctls = ["net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding",
               "net.bridge.bridge-nf-call-iptables"]
    return {
        "ip_rules": _out("ip rule show"),
        "sysctl": _out("sysctl -e " + " ".join(sysctls) + " 2>/dev/null"),
        "mounts": _mount_points(),
        "ovs_controllers": _out("ovs-vsctl --format=csv --columns=target list controller"),
        "ovs_managers": _out("ovs-vsctl get-manager"),
        "openflow_sockets": sorted(p.name for p in OVS_RUNDIR.glob("blocklab-*")),
    }
