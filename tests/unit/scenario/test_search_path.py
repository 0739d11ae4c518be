"""A team's own scenarios: BLOCKLAB_SCENARIOS (colon-separated folders) and `list --path DIR`.

Names resolve through the search path, then the bundled scenarios; `blocklab list` says where
each comes from; a folder that does not exist is a one-line error naming it.
"""
from __future__ import annotations

import pytest

from lab import cli
from lab.scenario import ScenarioError, load, resolve

OPEN = "name: {name}\ntitle: {title}\nclients: [alice]\nservers: []\n"


@pytest.fixture
def team(tmp_path):
    folder = tmp_path / "team-scenarios"
    (folder / "team").mkdir(parents=True)
    (folder / "team/mine.yaml").write_text(OPEN.format(name="mine", title="Our own"))
    (folder / "basics").mkdir()
    (folder / "basics/open.yaml").write_text(OPEN.format(name="open", title="Ours, not bundled"))
    return folder


def _list(capsys, *args) -> dict[str, list[str]]:
    assert cli.main(["list", *args]) == 0
    rows = [line.split(None, 2) for line in capsys.readouterr().out.splitlines()]
    return {row[0]: row[1:] for row in rows}


def test_names_resolve_through_the_search_path_first(team, tmp_path, monkeypatch):
    other = tmp_path / "other"
    (other / "team").mkdir(parents=True)
    (other / "team/mine.yaml").write_text(OPEN.format(name="later", title="hidden"))
    monkeypatch.setenv("BLOCKLAB_SCENARIOS", f"{team}:{other}")
    assert resolve("team/mine") == team / "team/mine.yaml"
    assert load("basics/open").title == "Ours, not bundled"
    assert resolve("basics/dns-forge").name == "dns-forge.yaml"      # still the bundled one


def test_list_says_where_each_comes_from(team, monkeypatch, capsys):
    monkeypatch.delenv("BLOCKLAB_SCENARIOS", raising=False)
    plain = _list(capsys)
    assert plain["basics/open"][0] == "bundled" and "team/mine" not in plain
    listed = _list(capsys, "--path", str(team))
    assert listed["team/mine"] == [str(team), "Our own"]
    assert listed["basics/open"] == [str(team), "Ours, not bundled"]
    assert listed["basics/dns-forge"][0] == "bundled"
    monkeypatch.setenv("BLOCKLAB_SCENARIOS", str(team))
    assert _list(capsys)["team/mine"] == [str(team), "Our own"]


def test_unknown_name_mentions_the_search_path(team, monkeypatch):
    monkeypatch.setenv("BLOCKLAB_SCENARIOS", str(team))
    with pytest.raises(ScenarioError) as info:
        resolve("team/mien")
    assert str(info.value) == ("team/mien:1:1: no scenario named 'team/mien' in "
                               "BLOCKLAB_SCENARIOS or the bundled scenarios (try `blocklab "
                               "list`) (did you mean 'team/mine'?)")


def test_a_missing_folder_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("BLOCKLAB_SCENARIOS", raising=False)
    assert cli.main(["list", "--path", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err == f"blocklab: list: --path {tmp_path / 'nope'}: no such directory\n"
    monkeypatch.setenv("BLOCKLAB_SCENARIOS", f"{tmp_path}:{tmp_path / 'gone'}")
    assert cli.main(["list"]) == 1
    assert capsys.readouterr().err == (f"blocklab: list: BLOCKLAB_SCENARIOS: {tmp_path / 'gone'}: "
                                       "no such directory\n")
