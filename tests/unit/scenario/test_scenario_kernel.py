"""kernel_has_netem reads files only, and says 'no' with a reason when it cannot tell."""
from __future__ import annotations

import gzip

from lab.scenario import kernel
from lab.scenario.kernel import netem_support

REL = "6.1.0-test"


def tree(tmp_path, config=None, boot=None, builtin=None, dep=None, loaded=False):
    if config is not None:
        (tmp_path / "proc").mkdir()
        with gzip.open(tmp_path / "proc/config.gz", "wt") as f:
            f.write(config)
    if boot is not None:
        (tmp_path / "boot").mkdir()
        (tmp_path / f"boot/config-{REL}").write_text(boot)
    mods = tmp_path / "lib/modules" / REL
    if builtin is not None or dep is not None:
        mods.mkdir(parents=True)
    if builtin is not None:
        (mods / "modules.builtin").write_text(builtin)
    if dep is not None:
        (mods / "modules.dep").write_text(dep)
    if loaded:
        (tmp_path / "sys/module/sch_netem").mkdir(parents=True)
    return tmp_path


def test_built_in_by_config(tmp_path):
    has, why = netem_support(tree(tmp_path, config="CONFIG_NET_SCH_NETEM=y\n"), REL)
    assert has and "=y" in why


def test_not_set_in_config(tmp_path):
    has, why = netem_support(tree(tmp_path, config="# CONFIG_NET_SCH_NETEM is not set\n",
                                  dep="kernel/net/sched/sch_netem.ko:\n"), REL)
    assert not has and "without netem" in why


def test_module_in_config_and_installed(tmp_path):
    root = tree(tmp_path, config="CONFIG_NET_SCH_NETEM=m\n",
                dep="kernel/net/sched/sch_netem.ko: kernel/lib/foo.ko\n")
    assert netem_support(root, REL)[0]


def test_module_in_config_but_not_installed(tmp_path):
    has, why = netem_support(tree(tmp_path, config="CONFIG_NET_SCH_NETEM=m\n"), REL)
    assert not has and "module" in why


def test_boot_config_when_no_proc_config(tmp_path):
    assert netem_support(tree(tmp_path, boot="CONFIG_NET_SCH_NETEM=y\n"), REL)[0]


def test_modules_builtin(tmp_path):
    assert netem_support(tree(tmp_path, builtin="kernel/net/sched/sch_netem.ko\n"), REL)[0]


def test_modules_dep(tmp_path):
    assert netem_support(tree(tmp_path, dep="kernel/net/sched/sch_netem.ko:\n"), REL)[0]


def test_compressed_module(tmp_path):
    root = tree(tmp_path, dep="kernel/net/sched/sch_netem.ko.zst: kernel/x.ko.zst\n")
    assert netem_support(root, REL)[0]


def test_module_lists_without_netem(tmp_path):
    has, why = netem_support(tree(tmp_path, builtin="kernel/foo.ko\n", dep="kernel/bar.ko:\n"),
                             REL)
    assert not has and "do not list" in why


def test_loaded_module(tmp_path):
    assert netem_support(tree(tmp_path, loaded=True), REL)[0]


def test_unknown_is_false_with_a_reason(tmp_path):
    has, why = netem_support(tmp_path, REL)
    assert has is False and why.startswith("cannot tell")


def test_kernel_has_netem_is_a_bool(monkeypatch):
    assert isinstance(kernel.kernel_has_netem(), bool)
    monkeypatch.setattr(kernel, "netem_support", lambda: (True, "x"))
    assert kernel.kernel_has_netem() is True
