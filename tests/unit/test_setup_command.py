"""`blocklab setup` and `blocklab --version` as a user sees them: the exit code, the lines.

`setup --check` runs against stand-ins for dpkg-query and ovs-vsctl on PATH (a machine that
lacks packages and has no switch running), so it needs no root and changes nothing.
"""
from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from lab import cli
from lab.setup import PACKAGES

ROOT = Path(__file__).resolve().parents[2]


def _blocklab(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lab.cli", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def test_version_comes_from_the_package_metadata():
    r = _blocklab("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"blocklab {version('blocklab')}"
    assert f'version = "{version("blocklab")}"' in (ROOT / "pyproject.toml").read_text()
    assert f"## {version('blocklab')}" in (ROOT / "CHANGELOG.md").read_text()


def test_setup_refuses_without_root(monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert cli.main(["setup"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("blocklab: `blocklab setup` needs root: it installs Debian packages")


def test_setup_check_lists_what_is_missing(tmp_path):
    everything = [n for _, group in PACKAGES for spec in group for n in spec.split("|")]
    have = [n for n in everything if n not in ("nsd", "coturn")]
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dpkg-query").write_text(
        "#!/bin/sh\n" + "".join(f"printf '{n}\\tinstall ok installed\\n'\n" for n in have))
    (fake / "ovs-vsctl").write_text("#!/bin/sh\necho 'database connection failed' >&2\nexit 1\n")
    for f in fake.iterdir():
        f.chmod(0o755)
    r = _blocklab("setup", "--check", env=dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}"))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[:2] == ["missing: Debian package nsd (the lab's real servers)",
                         "missing: Debian package coturn (the lab's real servers)"]
    assert len(lines) == 3 and lines[2].startswith(
        "missing: Open vSwitch is not running (or `ovs-vsctl show` cannot reach it")
    assert r.stderr == ("blocklab: setup is incomplete (3 missing); "
                        "`sudo blocklab setup` installs it\n")


def test_setup_check_passes_with_everything_there(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    everything = [n for _, group in PACKAGES for spec in group for n in spec.split("|")]
    (fake / "dpkg-query").write_text(
        "#!/bin/sh\n" + "".join(f"printf '{n}\\tinstall ok installed\\n'\n" for n in everything))
    (fake / "ovs-vsctl").write_text("#!/bin/sh\nexit 0\n")
    for f in fake.iterdir():
        f.chmod(0o755)
    r = _blocklab("setup", "--check", env=dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}"))
    assert (r.returncode, r.stdout, r.stderr) == (0, "setup: complete\n", "")


def _fake_system(tmp_path, monkeypatch, missing: tuple[str, ...]) -> Path:
    """dpkg-query, apt-cache, apt-get, ovs-vsctl and modprobe stand-ins on PATH; apt-get
    appends its arguments to apt.log."""
    from lab import setup as system
    from lab.run import compiled
    everything = [n for _, group in PACKAGES for spec in group for n in spec.split("|")]
    fake = tmp_path / "bin"
    fake.mkdir()
    scripts = {
        "dpkg-query": "#!/bin/sh\n" + "".join(f"printf '{n}\\tinstall ok installed\\n'\n"
                                              for n in everything if n not in missing),
        "apt-cache": "#!/bin/sh\nexit 0\n",
        "apt-get": f'#!/bin/sh\necho "$@" >>{tmp_path}/apt.log\n',
        "ovs-vsctl": "#!/bin/sh\nexit 0\n",
        "modprobe": "#!/bin/sh\nexit 1\n",
    }
    for name, text in scripts.items():
        (fake / name).write_text(text)
        (fake / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(system, "POLICY_RC", tmp_path / "policy-rc.d")
    # the censor's build is the integration tests' (test_compiled_censor): here it would
    # compile for a minute, and say so, whenever the checkout's sources have no build yet
    monkeypatch.setattr(compiled, "build", lambda say=print, src=None, cache=None: None)
    return tmp_path / "apt.log"


def test_setup_says_what_it_installs_and_why(tmp_path, monkeypatch, capsys):
    log = _fake_system(tmp_path, monkeypatch, missing=("nsd", "curl"))
    assert cli.main(["setup"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "setup: installing Debian packages:",
        "setup:   nsd: the lab's real servers",
        "setup:   curl: the lab's real clients"]
    assert log.read_text().splitlines() == [
        "update -qq", "install -y -qq --no-install-recommends nsd curl"]
    assert not (tmp_path / "policy-rc.d").exists(), "the daemon guard is removed afterwards"


def test_setup_is_quiet_when_nothing_is_to_do(tmp_path, monkeypatch, capsys):
    log = _fake_system(tmp_path, monkeypatch, missing=())
    assert cli.main(["setup"]) == 0
    assert capsys.readouterr() == ("", "")
    assert not log.exists()
