"""Whatever a file holds, loading it returns a Scenario or raises ScenarioError: never a
traceback. Three generators: YAML-ish text, random documents made of the format's own keys and
values, and a valid file with one line changed."""
from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.scenario import Scenario, ScenarioError, load, validate
from lab.scenario.schema_check import schema
from test_scenario_load import EVERYTHING

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def _keys(node, out: set) -> set:
    if isinstance(node, dict):
        out.update(node.get("properties", {}))
        for value in node.values():
            _keys(value, out)
    elif isinstance(node, list):
        for value in node:
            _keys(value, out)
    return out


KEYS = sorted(_keys(schema(), set()))
WORDS = ["alice", "bob", "web", "isp", "public", "drop", "reset", "nxdomain", "blockpage",
         "tcp", "udp", "icmp", "stun", "tls", "dns", "https", "inline", "tap", "flow", "rule",
         "128kbit", "128kbps", "16KB", "30s", "0", "1-65535", "443", "0xffce", "example.com",
         "*.example.com", "198.18.0.10", "198.19.0.10", "198.19.0.0/16", "10.0.0.1/8", "::1",
         "https://example.com/", "/path", "5%", "", " ", "a b", "\u00e9", "1.5"]

scalars = st.one_of(st.sampled_from(WORDS), st.integers(-5, 70000), st.booleans(), st.none(),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(KEYS + WORDS[:6]), inner,
                                            max_size=6)),
    max_leaves=40)


def _check(tmp_path, text: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        sc = load(path)
    except ScenarioError as e:
        assert e.diagnostics
        assert all(d.line >= 1 and d.col >= 1 and d.message for d in e.diagnostics)
    else:
        assert isinstance(sc, Scenario)
        json.dumps(sc.policy())
        validate([path], strict=True)


@SETTINGS
@given(st.text(alphabet=":-[]{},#&*!|>'\"%@`?<= \n\tabcdxyz019._/\\\u00e9", max_size=200))
def test_yamlish_text(tmp_path, text):
    _check(tmp_path, text)


@SETTINGS
@given(st.dictionaries(st.sampled_from(KEYS), documents, max_size=10))
def test_random_documents(tmp_path, doc):
    _check(tmp_path, yaml.safe_dump(doc, allow_unicode=True))


@SETTINGS
@given(st.data())
def test_one_line_changed(tmp_path, data):
    lines = EVERYTHING.splitlines()
    i = data.draw(st.integers(0, len(lines) - 1))
    new = data.draw(st.one_of(st.just(""), st.text(max_size=30),
                              st.sampled_from(lines).map(lambda line: line[: len(line) // 2])))
    lines[i] = new
    _check(tmp_path, "\n".join(lines) + "\n")


@SETTINGS
@given(st.data())
def test_one_value_changed(tmp_path, data):
    """Replace one value deep in a valid document with something of another kind."""
    doc = yaml.safe_load(EVERYTHING)
    node = doc
    while isinstance(node, (dict, list)) and node:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys))
        if not isinstance(node[key], (dict, list)) or data.draw(st.booleans()):
            node[key] = data.draw(documents)
            break
        node = node[key]
    _check(tmp_path, yaml.safe_dump(doc, allow_unicode=True))
