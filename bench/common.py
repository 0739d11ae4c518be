"""Shared pieces of the benchmark: scenarios written in code, host processes, CPU and stats."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

SOURCE = "blocklab bench (no real-world event)"


def scenario(folder: Path, name: str, clients: list[str], servers: list[dict],
             rules: list[dict], resolver: str = "isp", network: dict | None = None):
    """A scenario made in code, written to `folder` as YAML and loaded (validated) from there,
    exactly as a user's file would be. With `network` (a `network:` section, its censors with
    their own rules) the lab is routed and `rules` must be empty."""
    from lab import scenario as scenarios
    doc = {"name": name, "title": f"benchmark: {name}", "sources": [SOURCE],
           "clients": clients, "resolver": resolver, "servers": servers}
    if network is None:
        doc["censor"] = {"mode": "inline", "rules": rules}
    else:
        assert not rules, "a routed scenario's rules belong to its censors"
        doc["network"] = network
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return scenarios.load(path)


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


def median(values: list[float]) -> float | None:
    return percentile(values, 50)


def rnd(value, digits: int = 3):
    return None if value is None else round(value, digits)


def ovs_pid() -> int | None:
    try:
        return int(Path("/var/run/openvswitch/ovs-vswitchd.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


class CpuMeter:
    """CPU time of some processes (all their threads) over a window, in cores (1.0 = one
    core busy the whole time)."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = {k: v for k, v in pids.items() if v}
        self.t0 = 0.0
        self.start_ticks: dict[str, int | None] = {}

    def start(self) -> "CpuMeter":
        self.t0 = time.monotonic()
        self.start_ticks = {k: _cpu_ticks(p) for k, p in self.pids.items()}
        self.machine0 = _machine_ticks()
        return self

    def stop(self) -> dict[str, float]:
        dt = max(time.monotonic() - self.t0, 1e-6)
        hz = os.sysconf("SC_CLK_TCK")
        out = {}
        for k, p in self.pids.items():
            a, b = self.start_ticks.get(k), _cpu_ticks(p)
            if a is not None and b is not None:
                out[k] = round((b - a) / hz / dt, 3)
        m0, m1 = self.machine0, _machine_ticks()
        if m0 and m1:
            busy = (m1[0] - m0[0]) / max(m1[1] - m0[1], 1)
            out["machine_busy"] = round(busy * (os.cpu_count() or 1), 3)
        return out


def _machine_ticks() -> tuple[int, int] | None:
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def load() -> dict:
    """How busy the machine is right now (others share it: numbers are noisy when high)."""
    one, five, fifteen = os.getloadavg()
    out = {"loadavg": [round(one, 2), round(five, 2), round(fifteen, 2)]}
    try:
        some = Path("/proc/pressure/cpu").read_text().split("\n", 1)[0]
        out["cpu_pressure_avg10"] = float(some.split("avg10=")[1].split()[0])
    except (OSError, IndexError, ValueError):
        pass
    return out


def rss_mib(pid: int) -> dict:
    """VmRSS and VmHWM (peak) of a process, MiB."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return out


def collect(proc: subprocess.Popen, timeout: float) -> dict:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return {"error": f"timed out after {timeout:g}s", "stderr": err[-2000:]}
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"exit code {proc.returncode}", "stderr": (err or "")[-2000:],
                "stdout": (out or "")[-2000:]}


def python() -> str:
    return sys.executable


_T0 = time.monotonic()


def say(msg: str) -> None:
    print(f"bench [{time.monotonic() - _T0:6.1f}s]: {msg}", file=sys.stderr, flush=True)


def run_generators(lab, hosts: list[str], args: list[str], seconds: float, pids: dict
                   ) -> tuple[list[dict], dict]:
    """bench.loadgen with `args` (mode, server, options) on each of `hosts`, all starting at
    one moment and running `seconds`: their reports, and the CPU of `pids` and the machine
    sampled over the window (bench.common.CpuMeter) while all of them run."""
    start = time.time() + 0.5
    procs = [lab.popen(h, [python(), "-m", "bench.loadgen", *args, "--duration",
                           f"{seconds:g}", "--start-at", repr(start)],
                       stdout=-1, stderr=-1, text=True) for h in hosts]
    time.sleep(max(0.0, start - time.time() + 0.2))     # a start time, not a wait on a state
    meter = CpuMeter(pids).start()
    # The measuring window, cut short when a generator ends: one that ran out of source ports
    # (bench.dns gives each run ports of its own) leaves the machine idle for the rest.
    end = time.monotonic() + max(0.1, seconds - 0.4)
    while time.monotonic() < end and all(p.poll() is None for p in procs):
        time.sleep(0.02)        # polling step of the window, not a synchronisation
    cpu = meter.stop()
    return [collect(p, seconds + 30) for p in procs], cpu
