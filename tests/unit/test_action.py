"""action.yml, blocklab's composite GitHub Action, and the example workflow that uses it.

Every `${{ inputs.x }}` names a declared input and every input is used; its run scripts pass
shellcheck as bash; the example workflow passes only declared inputs; actionlint (the test
extra's prebuilt wheel) accepts the example workflow. The steps run for real in
tests/integration/test_packaging.py.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
EXAMPLE = ROOT / "docs" / "examples" / "blocklab.yml"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def _action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def _run_steps() -> list[dict]:
    return [s for s in _action()["runs"]["steps"] if "run" in s]


def test_action_is_composite_and_uses_exactly_its_inputs():
    action = _action()
    assert action["runs"]["using"] == "composite"
    declared = set(action["inputs"])
    assert {"scenarios", "detector", "min-precision", "min-recall", "report-dir"} <= declared
    used = {m.group(1) for m in EXPRESSION.finditer(ACTION.read_text())}
    assert {u for u in used if not u.startswith("inputs.")} == set(), "only inputs are used"
    assert {u.removeprefix("inputs.") for u in used} == declared
    for step in _run_steps():
        assert step["shell"] == "bash", step["name"]
        assert not EXPRESSION.search(step["run"]), f"{step['name']}: inputs go in through env"
    uploads = [s for s in action["runs"]["steps"] if s.get("uses", "").startswith(
        "actions/upload-artifact@")]
    assert len(uploads) == 1 and uploads[0]["with"]["path"] == "${{ inputs.report-dir }}"


@pytest.mark.parametrize("index", range(len(_run_steps())))
def test_action_run_scripts_pass_shellcheck(index, tmp_path):
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (`make setup` installs it)")
    step = _run_steps()[index]
    script = tmp_path / "step.sh"
    script.write_text("#!/usr/bin/env bash\n" + "".join(
        f'{name}="${{{name}:-}}"\n' for name in step.get("env", {})) + step["run"])
    result = subprocess.run(["shellcheck", "--shell=bash", "--severity=style", "--format=gcc",
                             "--exclude=SC2034", str(script)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{step['name']}:\n{result.stdout}{result.stderr}"


def test_example_workflow_uses_the_action_with_declared_inputs():
    workflow = yaml.safe_load(EXAMPLE.read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    ours = [s for s in steps if re.fullmatch(r"[\w-]+/blocklab@.+", s.get("uses", ""))]
    assert len(ours) == 1
    assert set(ours[0]["with"]) <= set(_action()["inputs"])


def test_actionlint_accepts_the_example_workflow():
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent)) \
        or shutil.which("actionlint")
    assert actionlint, "actionlint is missing: `make setup` installs the test extra"
    result = subprocess.run([actionlint, "-no-color", str(EXAMPLE)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
