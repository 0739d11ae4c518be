"""The machine a benchmark ran on: CPU, cores, memory, kernel, Open vSwitch, Python, load, and
whether the censor ran compiled."""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from lab.run import compiled
from lab.run.network import kernel_datapath


def _out(*cmd: str) -> str:
    try:
        return subprocess.run(list(cmd), capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _version(*cmd: str) -> str | None:
    """The first line a tool prints about its version (stdout or stderr), or None."""
    try:
        r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return ((r.stdout or r.stderr).strip().splitlines() or [None])[0]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError):
        pass
    return None


def describe() -> dict:
    ovs = _out("ovs-vsctl", "--version").splitlines()
    other = _out("ovs-vsctl", "--timeout=3", "get", "Open_vSwitch", ".", "other_config").strip()
    container = _out("systemd-detect-virt", "--container").strip()
    hypervisor = ""
    for line in _out("lscpu").splitlines():
        if line.startswith("Hypervisor vendor:"):
            hypervisor = line.split(":", 1)[1].strip()
    kernel_dp = kernel_datapath()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _mem_gib(),
        "hypervisor": hypervisor or "none",
        "container": container or "none",
        "kernel": platform.release(),
        "os": _os_name(),
        "ovs": ovs[0].split(")")[-1].strip() if ovs else "unknown",
        "ovs_datapath": "kernel" if kernel_dp else "userspace (netdev)",
        "ovs_userspace_tso": "userspace-tso-enable=\"true\"" in other,
        "python": platform.python_version(),
        # the censor runs compiled when setup built these sources (lab/run/compiled.py)
        "censor_compiled": compiled.current() is not None,
        "iperf3": _version("iperf3", "--version"),
        "nginx": _version("nginx", "-v"),
    }


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()
