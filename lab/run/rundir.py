"""A run's directory under /run/blocklab and the state file `blocklab clean` relies on.

Everything a run creates (processes, the OVS bridge or a routed network's bridges,
root-namespace interfaces) is written to
state.json as soon as it exists, so a run killed with SIGKILL can be cleaned up afterwards.
A run whose results could not be written keeps its events file here (`kept` in state.json):
torn down, but its directory stays, and `blocklab clean` leaves it for the user.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

RUNS = Path(os.environ.get("BLOCKLAB_RUNS", "/run/blocklab"))


@dataclass
class RunState:
    run_id: str
    owner_pid: int
    created: float = 0.0      # epoch seconds
    bridge: str = ""
    bridges: list[str] = field(default_factory=list)      # a routed network's OVS bridges
    pids: dict[str, int] = field(default_factory=dict)   # what → pid
    kept: bool = False        # torn down; the directory holds measurements for the user

    @property
    def path(self) -> Path:
        return RUNS / self.run_id


class RunDir:
    """Creates the run directory and keeps state.json current."""

    def __init__(self, run_id: str | None = None):
        RUNS.mkdir(parents=True, exist_ok=True)
        os.chmod(RUNS, 0o755)
        while True:
            rid = run_id or secrets.token_hex(3)
            try:
                (RUNS / rid).mkdir(mode=0o755)
                break
            except FileExistsError:
                if run_id:
                    raise
        self.state = RunState(run_id=rid, owner_pid=os.getpid(), created=time.time())
        self.path = RUNS / rid
        self.save()

    def file(self, *parts: str) -> Path:
        p = self.path.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def add_pid(self, what: str, pid: int) -> None:
        self.state.pids[what] = pid
        self.save()

    def drop_pid(self, what: str) -> None:
        self.state.pids.pop(what, None)
        self.save()

    def set_bridge(self, name: str) -> None:
        self.state.bridge = name
        self.save()

    def set_bridges(self, names: list[str]) -> None:
        self.state.bridges = list(names)
        self.save()

    def save(self) -> None:
        tmp = self.path / "state.json.tmp"
        tmp.write_text(json.dumps(asdict(self.state), indent=1))
        tmp.replace(self.path / "state.json")

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def keep(self, prefix: str) -> None:
        """Instead of remove(): delete all but the files whose names start with `prefix`,
        and mark the directory kept (nothing of the run is left running)."""
        for p in self.path.iterdir():
            if p.name.startswith(prefix) or p.name == "state.json":
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        self.state.kept = True
        self.state.pids.clear()
        self.state.bridge = ""
        self.save()


def load_states() -> list[RunState]:
    """Every run directory's state, readable or not (unreadable ones get an empty state)."""
    states = []
    if not RUNS.is_dir():
        return states
    for d in sorted(RUNS.iterdir()):
        if not d.is_dir():
            continue
        try:
            raw = json.loads((d / "state.json").read_text())
            states.append(RunState(**raw))
        except (OSError, ValueError, TypeError):
            states.append(RunState(run_id=d.name, owner_pid=0))
    return states
