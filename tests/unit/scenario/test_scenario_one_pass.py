"""One pass finds every error of every file; strict mode adds what the kernel cannot do."""
from __future__ import annotations

import pytest

from lab.scenario import Diagnostic, ScenarioError, load, validate
from lab.scenario import build as build_module
from scenario_helpers import HEAD, errors, write

THREE_ERRORS = HEAD + """\
censor:
  rules:
    - {id: a, match: {sni: example.com}, action: {throttle: 128kbps}}
expect:
  - {from: bob, url: "https://example.com/", blocked: true}
links:
  client: {delay: 20}
"""


def test_three_errors_give_three_lines(tmp_path):
    assert errors(tmp_path, THREE_ERRORS) == [
        "s.yaml:7:61: censor.rules[0].action.throttle: bad rate '128kbps' "
        "(did you mean '128kbit'?)",
        "s.yaml:9:12: expect[0].from: no client named 'bob'",
        "s.yaml:11:19: links.client.delay: bad duration 20: give a unit "
        "(did you mean '20s' or '20ms'?)",
    ]


def test_load_raises_with_all_of_them(tmp_path):
    path = write(tmp_path, THREE_ERRORS)
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert len(info.value.diagnostics) == 3
    assert str(info.value) == "\n".join(str(d) for d in info.value.diagnostics)
    assert all(isinstance(d, Diagnostic) and d.line > 0 and d.col > 0
               for d in info.value.diagnostics)


def test_every_file_in_one_call(tmp_path):
    good = write(tmp_path, HEAD, "good.yaml")
    bad1 = write(tmp_path, "name: t\nclients: [alice]\n", "bad1.yaml")
    bad2 = write(tmp_path, HEAD + "censor: {mode: tapp}\n", "bad2.yaml")
    out = [str(d) for d in validate([str(bad1), str(good), str(bad2), str(tmp_path / "no.yaml")])]
    assert out == [
        f"{bad1}:1:1: missing required key 'servers'",
        f"{bad2}:5:16: censor.mode: 'tapp' is not one of inline, tap (did you mean 'tap'?)",
        f"{tmp_path / 'no.yaml'}:1:1: no such file '{tmp_path / 'no.yaml'}'",
    ]


def test_diagnostic_format():
    assert str(Diagnostic("a.yaml", 3, 7, "x: broken")) == "a.yaml:3:7: x: broken"


NETEM = HEAD + """\
links:
  client: {bw: 10Mbit, delay: 20ms, loss: 1%}
  internet: {bw: 1Gbit}
"""


def test_strict_reports_netem_needs_when_the_kernel_has_none(tmp_path, monkeypatch):
    monkeypatch.setattr(build_module.kernel, "netem_support",
                        lambda: (False, "the kernel was built without netem"))
    assert errors(tmp_path, NETEM) == []
    assert errors(tmp_path, NETEM, strict=True) == [
        "s.yaml:6:24: links.client.delay: this kernel cannot emulate delay: "
        "the kernel was built without netem",
        "s.yaml:6:37: links.client.loss: this kernel cannot emulate loss: "
        "the kernel was built without netem",
    ]


def test_strict_is_quiet_when_netem_is_there(tmp_path, monkeypatch):
    monkeypatch.setattr(build_module.kernel, "netem_support", lambda: (True, "built in"))
    assert errors(tmp_path, NETEM, strict=True) == []


def test_strict_without_netem_keys_does_not_ask_the_kernel(tmp_path, monkeypatch):
    def boom():
        raise AssertionError("asked")
    monkeypatch.setattr(build_module.kernel, "netem_support", boom)
    assert errors(tmp_path, HEAD + "links: {client: {bw: 1Mbit}}\n", strict=True) == []
