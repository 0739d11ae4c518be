"""vagrant/Vagrantfile: what it promises (static checks) and that Vagrant accepts it (`vagrant validate`).

Offline and without a hypervisor: `vagrant validate` never fetches the box. With no provider on the
machine Vagrant refuses to pick one, so the common config is validated with `--ignore-provider`;
the VirtualBox block is validated against a stand-in `VBoxManage` that only reports a version
(Vagrant asks nothing else to validate), and the libvirt block where the vagrant-libvirt plugin is
installed (Debian's `vagrant-libvirt`, which setup.sh installs; no libvirt daemon is needed).
Vagrant's state and home go to a temporary folder, so nothing is written into the checkout.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VAGRANT_DIR = ROOT / "vagrant"
VAGRANTFILE = VAGRANT_DIR / "Vagrantfile"


# ---- static: what the README and docs/design.md promise about the VM -------------------------------

def _text() -> str:
    return VAGRANTFILE.read_text()


def test_box_is_pinned():
    text = _text()
    box = re.search(r'^BOX\s*=\s*"([^"]+)"', text, re.M)
    version = re.search(r'^BOX_VERSION\s*=\s*"([^"]+)"', text, re.M)
    assert box and box.group(1) in {"debian/bookworm64", "bento/ubuntu-24.04"}
    assert version and re.fullmatch(r"[0-9][0-9.]*[0-9]", version.group(1)), "box_version must be exact"
    assert "config.vm.box = BOX" in text and "config.vm.box_version = BOX_VERSION" in text


def test_resources_and_providers():
    text = _text()
    assert re.search(r"^CPUS\s*=\s*2$", text, re.M)
    assert re.search(r"^MEMORY_MB\s*=\s*4096$", text, re.M)
    for provider, var in (("virtualbox", "vb"), ("libvirt", "lv")):
        block = re.search(rf'config\.vm\.provider "{provider}" do \|{var}\|(.*?)\n  end', text, re.S)
        assert block, provider
        assert f"{var}.cpus = CPUS" in block.group(1) and f"{var}.memory = MEMORY_MB" in block.group(1)


def test_repository_synced_at_vagrant_without_the_hosts_venv():
    text = _text()
    assert re.search(r'config\.vm\.synced_folder "\.\.", "/vagrant"', text)
    assert '".venv/"' in text  # the VM builds its own .venv; a re-sync must neither copy nor delete it


def test_provisioned_by_the_one_setup_script_then_a_smoke_run():
    text = _text()
    setup = text.index('inline: "bash /vagrant/scripts/setup.sh"')
    smoke = text.index('inline: "cd /vagrant && .venv/bin/blocklab run basics/open"')
    assert setup < smoke
    assert (ROOT / "scripts/setup.sh").is_file()


# ---- vagrant validate ------------------------------------------------------------------------

needs_vagrant = pytest.mark.skipif(
    shutil.which("vagrant") is None,
    reason="vagrant is not installed (`make setup` installs Debian's vagrant where the archive has it)")


def _validate(tmp_path: Path, *args: str, cwd: Path = VAGRANT_DIR, provider: str | None = None,
              path_prepend: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(VAGRANT_HOME=str(tmp_path / "vagrant-home"),
               VAGRANT_DOTFILE_PATH=str(tmp_path / "dotfile"),
               VAGRANT_CHECKPOINT_DISABLE="1",      # no version check over the network
               VAGRANT_BOX_UPDATE_CHECK_DISABLE="1",
               VAGRANT_NO_COLOR="1")
    env.pop("VAGRANT_CWD", None)
    env.pop("VAGRANT_VAGRANTFILE", None)
    if provider:
        env["VAGRANT_DEFAULT_PROVIDER"] = provider
    if path_prepend:
        env["PATH"] = f"{path_prepend}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(["vagrant", "validate", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=180)


def _fake_vboxmanage(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "VBoxManage"
    stub.write_text("#!/bin/sh\necho 7.0.14r161095\n")
    stub.chmod(0o755)
    return bin_dir


def _has_libvirt_plugin(tmp_path: Path) -> bool:
    env = dict(os.environ, VAGRANT_HOME=str(tmp_path / "vagrant-home"), VAGRANT_CHECKPOINT_DISABLE="1")
    out = subprocess.run(["vagrant", "plugin", "list"], env=env, capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    return "vagrant-libvirt" in out.stdout


@needs_vagrant
def test_vagrant_validate_common_config(tmp_path):
    result = _validate(tmp_path, "--ignore-provider")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout


@needs_vagrant
def test_vagrant_validate_virtualbox_block(tmp_path):
    result = _validate(tmp_path, provider="virtualbox", path_prepend=_fake_vboxmanage(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_vagrant
def test_vagrant_validate_catches_a_wrong_provider_setting(tmp_path):
    """The stand-in VBoxManage does not make validation vacuous: a misspelt setting fails."""
    copy = tmp_path / "repo" / "vagrant"
    copy.mkdir(parents=True)
    (copy / "Vagrantfile").write_text(_text().replace("vb.cpus = CPUS", "vb.cpu = CPUS"))
    result = _validate(tmp_path, cwd=copy, provider="virtualbox",
                       path_prepend=_fake_vboxmanage(tmp_path))
    assert result.returncode != 0
    assert "cpu" in result.stdout + result.stderr


@needs_vagrant
def test_vagrant_validate_libvirt_block(tmp_path):
    if not _has_libvirt_plugin(tmp_path):
        pytest.skip("the vagrant-libvirt plugin is not installed (Debian: apt-get install vagrant-libvirt)")
    result = _validate(tmp_path, provider="libvirt")
    assert result.returncode == 0, result.stdout + result.stderr
