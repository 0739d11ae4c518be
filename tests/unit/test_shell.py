"""The shell scripts that set up and test the project pass shellcheck (and parse as bash).

scripts/setup.sh installs shellcheck (lab/setup.py's --dev packages), so after `make setup` these
tests run; without it they skip.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ["scripts/setup.sh", ".ci/run"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_bash_parses(script):
    result = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_shellcheck_clean(script):
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (`make setup` installs it: apt-get install shellcheck)")
    result = subprocess.run(
        ["shellcheck", "--shell=bash", "--severity=style", "--format=gcc", script],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"shellcheck {script}:\n{result.stdout}{result.stderr}"


def test_setup_lists_its_checkers():
    """setup.sh installs the tools these unit tests run (shellcheck; vagrant where Debian has it):
    it passes --dev to the shared system setup, whose dev packages name them."""
    from lab.setup import DEV_PACKAGES
    assert "-m lab.setup --dev" in (ROOT / "scripts/setup.sh").read_text()
    assert "shellcheck" in DEV_PACKAGES[1]
    assert "vagrant?" in DEV_PACKAGES[1]
