"""docs/campaigns/: the recipes pass their engines' checkers (actionlint, kubernetes-validate,
shellcheck), the checkers catch a broken copy, and each recipe runs the example plan with the
shard count it declares."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lab.campaign import plan as plans

ROOT = Path(__file__).resolve().parents[3]
RECIPES = ROOT / "docs" / "campaigns"
WORKFLOW = RECIPES / "github-actions.yml"
JOB = RECIPES / "kubernetes-indexed-job.yaml"
SLURM = RECIPES / "slurm-array.sh"


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (`make setup` installs the test extra and shellcheck)")
    return found


def check(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_the_example_plan_loads():
    p = plans.load(RECIPES / "plan.yaml")
    assert len(p.trials()) == len(p.scenarios) * len(p.tools) * p.repeats >= 80


def test_github_workflow_passes_actionlint_and_a_broken_one_does_not(tmp_path):
    actionlint = tool("actionlint")
    r = check([actionlint, "-no-color", str(WORKFLOW)])
    assert r.returncode == 0, r.stdout + r.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("matrix.shard }}/4", "matrix.shrad }}/4"))
    r = check([actionlint, "-no-color", str(broken)])
    assert r.returncode != 0 and "shrad" in r.stdout


def test_github_workflow_runs_every_shard_then_merges():
    wf = yaml.safe_load(WORKFLOW.read_text())
    shards = wf["jobs"]["shard"]["strategy"]["matrix"]["shard"]
    run = " ".join(s.get("run", "") for s in wf["jobs"]["shard"]["steps"])
    assert shards == list(range(len(shards)))
    assert f'--shard "$SHARD/{len(shards)}"' in run and "campaign run" in run
    merge = wf["jobs"]["merge"]
    assert merge["needs"] == "shard" and merge["if"] == "always()"
    assert "campaign merge results/shard-*" in " ".join(s.get("run", "") for s in merge["steps"])


def test_kubernetes_job_passes_kubernetes_validate_and_a_broken_one_does_not(tmp_path):
    validate = tool("kubernetes-validate")
    r = check([validate, "--strict", str(JOB)])
    assert r.returncode == 0, r.stdout + r.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(JOB.read_text().replace("completionMode: Indexed",
                                              "completionMode: Indexed\n  parallelsm: 8"))
    assert check([validate, "--strict", str(broken)]).returncode != 0


def test_kubernetes_job_is_indexed_privileged_and_counts_its_shards():
    job = yaml.safe_load(JOB.read_text())
    spec = job["spec"]
    pod = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in pod["env"]}
    assert spec["completionMode"] == "Indexed"
    assert int(env["BLOCKLAB_SHARDS"]) == spec["completions"]
    assert pod["securityContext"]["privileged"] is True
    script = pod["args"][0]
    assert "scripts/setup.sh" in script and "--shard auto" in script
    assert (ROOT / env["PLAN"]).is_file()


def test_slurm_script_passes_shellcheck_and_uses_the_array_index():
    r = check([tool("shellcheck"), str(SLURM)])
    assert r.returncode == 0, r.stdout + r.stderr
    text = SLURM.read_text()
    assert re.search(r"^#SBATCH --array=0-\d+", text, re.M)
    assert "--shard auto" in text and "scripts/setup.sh" in text
