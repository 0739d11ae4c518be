"""A lab torn down inside a long-lived process (a campaign, the dashboard, a pytest session)
leaves none of its processes behind, while that process goes on: each later lab would
otherwise add to them. Looks only for this lab's own names, so it runs beside other labs."""
from __future__ import annotations

import subprocess

from lab import scenario as scenarios
from lab.run.lab import Lab


def _processes_naming(text: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if text in line]


def test_no_process_of_a_lab_outlives_its_teardown():
    with Lab(scenarios.load("basics/open")) as lab:
        run_id = lab.run_dir.state.run_id
        assert _processes_naming(run_id), "the lab's processes carry its run id"
    # Mininet's RemoteController.stop() left the controller's shell (mininet:c<run id>)
    assert _processes_naming(run_id) == []
