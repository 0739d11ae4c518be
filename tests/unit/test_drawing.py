"""`blocklab draw`: every bundled scenario drawn as valid SVG that names every host, the
censor and each of its rules (unit: no lab, no root)."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from lab import scenario as scenarios
from lab.report.drawing import Link, Node, draw, svg

SVG = "{http://www.w3.org/2000/svg}"


def texts(document: str) -> list[str]:
    root = ET.fromstring(document)            # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("name", [n for n, _ in scenarios.bundled()])
def test_every_host_and_rule_is_drawn(name):
    sc = scenarios.load(name)
    document = draw(sc)
    shown = texts(document)
    for host in sc.hosts():
        assert host.name in shown, f"{host.name} missing from the drawing of {name}"
        assert f'id="node-{host.name}"' in document
    listed = " ".join(shown)
    for censor in sc.censors():
        title = "censor (" if sc.network is None else f"{censor.name} at {censor.at} ("
        assert any(t.startswith(title) for t in shown), title
        for rule in censor.rules[:6]:          # each censor's box lists its first rules in full
            assert f"{rule.id}:" in listed, rule.id
    if sc.network is not None:                 # the routers, and each ISP with its prefix
        for isp in sc.network.isps:
            assert f'id="node-{isp.router}"' in document and isp.prefix in listed
        assert 'id="node-BORDER"' in document


def test_names_are_escaped_and_columns_wrap():
    nodes = [Node("censor", "censor <x>", "censor", 1, ['rule "a" & <b>'])]
    nodes += [Node(f"s{i}", f"s{i}", "server", 2, ["198.19.0.1"]) for i in range(14)]
    document = svg(nodes, [Link(n.id, "censor") for n in nodes[1:]], "t & <title>")
    shown = texts(document)
    assert "censor <x>" in shown and 'rule "a" & <b>' in shown
    root = ET.fromstring(document)
    xs = {r.get("x") for r in root.iter(f"{SVG}rect") if r.get("x")}
    assert len(xs) >= 4               # the censor's column and three of servers (6 a column)


def test_draw_command_writes_svg_to_stdout():
    r = subprocess.run([sys.executable, "-m", "lab.cli", "draw", "basics/reset"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "alice" in texts(r.stdout)
    r = subprocess.run([sys.executable, "-m", "lab.cli", "draw", "basics/nope"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "no scenario named" in r.stderr
