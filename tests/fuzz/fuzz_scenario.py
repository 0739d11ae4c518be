"""atheris: the scenario loader (lab.scenario): any file gives a Scenario or ScenarioError.

Inputs start from the bundled scenarios; whatever the bytes, loading never raises anything
else, every diagnostic has a line, a column and a message, and a valid scenario compiles to
a JSON policy."""
import json
import os
import tempfile
from pathlib import Path

import atheris

import common

with atheris.instrument_imports(include=["lab.scenario"]):
    from lab.scenario import Scenario, ScenarioError, load

PATH = Path(tempfile.mkdtemp(prefix="fuzz-scenario-", dir="/dev/shm"
                             if os.path.isdir("/dev/shm") else None)) / "s.yaml"


def seeds():
    return [p.read_bytes() for p in sorted((common.REPO / "scenarios").rglob("*.yaml"))][:40]


def test_one_input(data: bytes) -> None:
    PATH.write_bytes(data)
    try:
        sc = load(PATH)
    except ScenarioError as e:
        assert e.diagnostics
        assert all(d.line >= 1 and d.col >= 1 and d.message for d in e.diagnostics)
        return
    assert isinstance(sc, Scenario)
    json.dumps(sc.policy())


if __name__ == "__main__":
    common.fuzz("scenario", test_one_input, seeds, max_len=8192)
