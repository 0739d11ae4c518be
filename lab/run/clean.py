"""`blocklab clean`: remove what runs killed with SIGKILL left behind, and nothing else.

A run's state.json lists its processes and its bridges (a routed network has several). A run
whose owner is gone is cleaned: its processes killed (host shells and routers, services, the
censors, the tcpdumps of `--pcap`), its OVS bridges deleted, the root-namespace ends of its
veths removed, its censors' OpenFlow sockets (in OVS's run directory) and its directory
deleted, its censors' conntrack zones flushed. Runs still alive are left, and so are runs
kept for their events (lab/run/rundir.py: a run whose results could not be written); the
user deletes those.
"""
from __future__ import annotations

import os
import shutil
import subprocess

from lab.run.censor import forget_connections, openflow_sockets
from lab.run.procs import alive, in_namespaces, netns_of, referring_to, terminate
from lab.run.rundir import RUNS, RunState, load_states


def _start_time(pid: int) -> float:
    """Epoch seconds at which `pid` started (0 when unknown)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith("btime"))
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return 0.0


def _bridge_interfaces(bridge: str) -> list[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        name = line.split(":", 2)[1].strip().split("@")[0]
        if name == bridge or name.startswith(bridge + "-"):
            names.append(name)
    return names


def clean_run(state: RunState) -> list[str]:
    """Remove one run's leftovers; return what was removed, for the user."""
    removed = []
    run_path = RUNS / state.run_id
    # A pid started before the run is a recycled one: never ours to kill.
    ours = [p for p in state.pids.values()
            if p > 0 and alive(p) and _start_time(p) >= state.created - 2]
    namespaces = {netns_of(p) for p in ours}
    # what runs in the lab's hosts: by namespace while a host shell lives, and by the run
    # directory in its environment once the shells are gone (a command the owner started)
    victims = sorted(set(ours) | set(in_namespaces(namespaces))
                     | set(referring_to(f"{run_path}/")))
    if victims:
        terminate(victims)
        removed.append(f"{len(victims)} processes")
    for bridge in [b for b in [state.bridge, *state.bridges] if b]:
        r = subprocess.run(["ovs-vsctl", "--if-exists", "del-br", bridge],
                           capture_output=True, text=True)
        if r.returncode == 0:
            removed.append(f"bridge {bridge}")
    for bridge in [state.bridge or f"bl{state.run_id}", *state.bridges]:
        for name in _bridge_interfaces(bridge):
            subprocess.run(["ip", "link", "del", name], capture_output=True)
            removed.append(f"interface {name}")
    for sock in openflow_sockets(state.run_id):
        sock.unlink(missing_ok=True)
        removed.append(f"socket {sock}")
    for control in sorted(run_path.glob("**/control.sock")):    # its censors' allowed flows
        removed.append(f"conntrack zone {forget_connections(control)}")
    shutil.rmtree(run_path, ignore_errors=True)
    return removed


def clean(force: bool = False) -> list[tuple[str, list[str]]]:
    """Clean every run whose owner process is gone (all runs with force)."""
    done = []
    for state in load_states():
        if state.kept:
            continue
        if not force and alive(state.owner_pid) and state.owner_pid != os.getpid():
            continue
        done.append((state.run_id, clean_run(state)))
    return done
