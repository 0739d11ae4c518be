"""The pytest plugin without a lab: it is registered, skips or fails when labs cannot run."""
from __future__ import annotations

from importlib import metadata

import pytest

from lab import pytest_plugin


def test_registered_as_a_pytest11_entry_point():
    eps = metadata.entry_points(group="pytest11")
    assert any(ep.name == "blocklab" and ep.value == "lab.pytest_plugin" for ep in eps)


def test_fixtures_are_offered(request):
    assert request.config.pluginmanager.get_plugin("blocklab") is pytest_plugin
    assert request.getfixturevalue("blocklab_lab").__func__ is pytest_plugin.Blocklab.up


@pytest.mark.parametrize("strict,outcome", [(False, pytest.skip.Exception),
                                            (True, pytest.fail.Exception)])
def test_no_lab_possible_skips_or_fails(monkeypatch, strict, outcome):
    monkeypatch.setattr(pytest_plugin, "lab_unavailable", lambda: "no OVS here")
    fixture = pytest_plugin.Blocklab(strict=strict)
    with pytest.raises(outcome, match="no OVS here"):
        fixture.up("basics/open")
    fixture.close()


def test_close_takes_every_lab_down_even_when_one_fails():
    downed = []

    class FakeLab:
        def __init__(self, name, fail=False):
            self.name, self.fail = name, fail

        def down(self):
            downed.append(self.name)
            if self.fail:
                raise RuntimeError("teardown step failed")

    fixture = pytest_plugin.Blocklab()
    fixture._labs = [FakeLab("a"), FakeLab("b", fail=True), FakeLab("c")]
    with pytest.raises(RuntimeError):
        fixture.close()
    assert downed == ["c", "b", "a"] and fixture._labs == []
