"""Every bundled scenario validates; bundled names resolve; `bundled()` lists them."""
from __future__ import annotations

from pathlib import Path

import pytest

from lab.scenario import ScenarioError, bundled, load, loader, resolve, validate

SCENARIOS = Path(loader.__file__).resolve().parents[2] / "scenarios"
FILES = sorted(SCENARIOS.rglob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SCENARIOS)) for p in FILES])
def test_bundled_scenario_is_valid(path):
    diagnostics = validate([path])
    assert not diagnostics, "\n".join(map(str, diagnostics))
    name = path.relative_to(SCENARIOS).with_suffix("").as_posix()
    assert load(name).path == path


def test_bundled_lists_every_file():
    names = [name for name, _ in bundled()]
    assert names == sorted(p.relative_to(SCENARIOS).with_suffix("").as_posix() for p in FILES)


@pytest.fixture
def fake_repo(tmp_path, monkeypatch):
    folder = tmp_path / "scenarios"
    (folder / "basics").mkdir(parents=True)
    (folder / "basics/open.yaml").write_text(
        "name: open\ntitle: Nothing blocked\nclients: [alice]\nservers: []\n")
    (folder / "ru").mkdir()
    (folder / "ru/2025-12.yaml").write_text("name: ru\nclients: [alice]\nservers: []\n")
    (folder / "ru/broken.yaml").write_text("name: [\n")
    monkeypatch.setattr(loader, "SCENARIOS", folder)
    return folder


def test_bundled_names_and_titles(fake_repo):
    assert bundled() == [("basics/open", "Nothing blocked"), ("ru/2025-12", "ru"),
                         ("ru/broken", "")]


def test_resolve_bundled_name_and_path(fake_repo, tmp_path):
    assert resolve("basics/open") == fake_repo / "basics/open.yaml"
    assert resolve(fake_repo / "ru/2025-12.yaml") == fake_repo / "ru/2025-12.yaml"
    assert load("basics/open").title == "Nothing blocked"


def test_resolve_unknown_name(fake_repo):
    with pytest.raises(ScenarioError) as info:
        resolve("basics/opne")
    assert str(info.value) == ("basics/opne:1:1: no scenario named 'basics/opne' "
                               "(try `blocklab list`) (did you mean 'basics/open'?)")


def test_resolve_missing_file(fake_repo):
    with pytest.raises(ScenarioError, match="no such file 'nope.yaml'"):
        resolve("nope.yaml")


def test_load_bundled_broken_file_reports_its_path(fake_repo):
    with pytest.raises(ScenarioError) as info:
        load("ru/broken")
    (d,) = info.value.diagnostics
    assert d.path.endswith("ru/broken.yaml") and d.line == 2 and "YAML" in d.message


def test_validate_accepts_bundled_names(fake_repo):
    assert validate(["basics/open", "ru/2025-12"]) == []
    assert [d.line for d in validate(["ru/broken"])] == [2]
