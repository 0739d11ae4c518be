"""A campaign's result files: one JSON file per trial, named by the trial's id.

Owns the record's format (what a merge needs, and where and with what the trial ran: the
plan's hash, the machine, the OVS datapath, software versions), writing it atomically (a
temporary file in the same folder, then a rename: a killed shard leaves a whole file or none),
and reading a folder of them back.
"""
from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import time
from functools import lru_cache
from pathlib import Path

FORMAT = "blocklab-campaign-trial/1"
SUFFIX = ".json"


class ResultError(Exception):
    """A result folder or file that cannot be used (one line)."""


@lru_cache(maxsize=1)
def environment() -> dict:
    """Where trials run: the machine, the OVS datapath, software versions."""
    from importlib import metadata
    from lab.run.network import kernel_datapath

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    try:
        ovs = subprocess.run(["ovs-vsctl", "--version"], capture_output=True, text=True,
                             timeout=10).stdout.splitlines()[0].split()[-1]
    except (OSError, IndexError, subprocess.SubprocessError):
        ovs = None
    return {"machine": {"hostname": socket.gethostname(), "kernel": platform.release(),
                        "arch": platform.machine(), "cpus": os.cpu_count()},
            "datapath": "kernel" if kernel_datapath() else "userspace",
            "versions": {"blocklab": version("blocklab"), "python": platform.python_version(),
                         "openvswitch": ovs, "os-ken": version("os-ken")}}


def _common(plan, spec, shard: str) -> dict:
    return {"format": FORMAT, "plan_hash": plan.hash, "plan_name": plan.name,
            "plan": plan.resolved(), **spec.as_dict(), "shard": shard,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **environment()}


def record(plan, spec, shard: str, run, trial) -> dict:
    """A finished tool trial as its result file holds it."""
    return {**_common(plan, spec, shard),
            "scenario_run": {"name": run.name, "title": run.title, "ref": run.ref,
                             "client": run.client, "vps": run.vps, "bulk_url": run.bulk_url,
                             "targets": run.targets},
            "trial": trial.as_dict()}


def probe_record(plan, spec, shard: str, result: dict) -> dict:
    """A finished probe trial: the probe and its score (lab.probe.score's as_dict)."""
    return {**_common(plan, spec, shard), "result": result}


def write(folder: Path, rec: dict) -> Path:
    """`folder/<id>.json`, atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{rec['id']}{SUFFIX}"
    tmp = folder / f".{rec['id']}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(rec, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)
    return final


def sweep(folder: Path) -> list[Path]:
    """Remove the temporary files of writers that are gone (a shard killed mid-write)."""
    removed = []
    for tmp in folder.glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def read(folder: Path) -> list[tuple[Path, dict]]:
    """Every result file in `folder` (not its temporary files), in name order."""
    if not folder.is_dir():
        raise ResultError(f"{folder}: no such folder")
    out = []
    for path in sorted(folder.glob("*" + SUFFIX)):
        if path.name.startswith("."):
            continue
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise ResultError(f"{path}: not a result file ({e})") from None
        if not isinstance(rec, dict) or rec.get("format") != FORMAT:
            raise ResultError(f"{path}: not a campaign result file (format {FORMAT})")
        out.append((path, rec))
    return out
