"""The wheel, used the way a detector team uses it: no checkout anywhere near.

`python -m build` makes the wheel (from the sdist, as a release would); action.yml's run steps, executed as a GitHub runner runs
them (bash -eo pipefail, inputs as the steps' env, GITHUB_STEP_SUMMARY a file, a `sudo` that
just runs the command as root does on a runner), install it into a fresh venv, run
`blocklab setup` and the probe gate on one small scenario with the example detector the wheel
ships, and write the score to the summary. Then, from a directory with no checkout, that venv's
`blocklab` runs basics/open.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from helpers import REPO
from lab.run import compiled

ACTION = REPO / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")


def _steps() -> tuple[dict, list[dict]]:
    action = yaml.safe_load(ACTION.read_text())
    return action["inputs"], action["runs"]["steps"]


def _run_step(step: dict, inputs: dict, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """One `run:` step as the runner runs it: its env with the inputs substituted."""
    step_env = {k: EXPRESSION.sub(lambda m: inputs[m.group(1)], str(v))
                for k, v in step.get("env", {}).items()}
    script = cwd.parent / "step.sh"
    script.write_text(step["run"])
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=cwd, env={**env, **step_env}, capture_output=True, text=True,
                          timeout=900)


def test_the_wheel_and_the_action_without_a_checkout(tmp_path):
    dist = tmp_path / "dist"
    # --no-isolation: this venv's setuptools and wheel (the test extra), not a fresh copy
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir",
                            str(dist), str(REPO)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("blocklab-*.whl")

    workspace, runner_temp, shim = (tmp_path / d for d in ("workspace", "runner", "shim"))
    for d in (workspace, runner_temp, shim):
        d.mkdir()
    (shim / "sudo").write_text('#!/bin/sh\nexec "$@"\n')     # the runner's passwordless sudo
    (shim / "sudo").chmod(0o755)
    summary = tmp_path / "summary.md"
    env = {"PATH": f"{shim}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": os.environ.get("HOME", str(tmp_path)), "RUNNER_TEMP": str(runner_temp),
           "GITHUB_ACTION_PATH": str(REPO), "GITHUB_STEP_SUMMARY": str(summary),
           "GITHUB_WORKSPACE": str(workspace), "LANG": "C.UTF-8",
           **{k: v for k, v in os.environ.items() if k.startswith("PIP_")}}
    declared, steps = _steps()
    inputs = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    inputs.update({"package": str(wheel), "scenarios": "basics/dns-forge",
                   "detector": f"python3 {workspace}/curl_detector.py {{url}}",
                   "min-precision": "0.5", "min-recall": "0.5", "report-dir": "reports"})
    venv_bin = runner_temp / "blocklab" / "bin"

    failed = False
    for step in steps:
        if "uses" in step:                   # actions/upload-artifact: what it would upload
            assert step["with"]["path"] == "${{ inputs.report-dir }}"
            continue
        if failed and step.get("if") != "always()":
            continue
        r = _run_step(step, inputs, env, workspace)
        failed = failed or r.returncode != 0
        assert r.returncode == 0, f"{step['name']}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        if step is steps[0]:                 # installed: copy the example the wheel ships
            assert r.stdout.strip() == f"blocklab {wheel.name.split('-')[1]}"
            examples = subprocess.run(
                [str(venv_bin / "python"), "-c",
                 "import lab, pathlib; print(pathlib.Path(lab.__file__).parent / 'data/examples')"],
                capture_output=True, text=True, cwd=workspace).stdout.strip()
            (workspace / "curl_detector.py").write_text(
                (Path(examples) / "curl_detector.py").read_text())
            # the wheel's censor is the checkout's, .pxd files and all: the same build
            installed = subprocess.run(
                [str(venv_bin / "python"), "-c", "from lab.run import compiled; "
                 "print(compiled.digest(compiled.source_dir()))"],
                capture_output=True, text=True, cwd=workspace).stdout.strip()
            assert installed == compiled.digest(compiled.source_dir())

    text = summary.read_text()
    assert text.startswith("## blocklab\n")
    assert "### basics-dns-forge — detector `python3 " in text, text
    assert re.search(r"\*\*precision\*\* [\d.]+ · \*\*recall\*\* [\d.]+", text), text
    assert (workspace / "reports/basics/dns-forge/score.json").is_file()

    # The same venv, from a directory with no checkout: setup has nothing to do, a run works.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = subprocess.run([str(venv_bin / "blocklab"), "setup"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=300)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    listed = subprocess.run([str(venv_bin / "blocklab"), "list"], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=60)
    assert re.search(r"^basics/open +bundled ", listed.stdout, re.M), listed.stdout
    run = subprocess.run([str(venv_bin / "blocklab"), "run", "basics/open"], cwd=elsewhere,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("open ✓") == 3, run.stdout
