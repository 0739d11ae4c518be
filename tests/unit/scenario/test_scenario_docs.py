"""The full example in docs/scenarios.md is a valid scenario, and its snippets are valid too."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from lab.scenario import load
from scenario_helpers import write

DOC = Path(__file__).resolve().parents[3] / "docs" / "scenarios.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)


def test_full_example_loads(tmp_path):
    full = [b for b in BLOCKS if b.startswith("# yaml-language-server") and "name:" in b]
    assert len(full) == 1
    sc = load(write(tmp_path, full[0]))
    assert sc.name == "ru-2025-12" and len(sc.censor.rules) == 4


def test_snippets_fit_into_a_scenario(tmp_path):
    """Every snippet, set into a small valid scenario, loads."""
    base = {"name": "t", "clients": ["alice"], "resolver": "isp",
            "servers": [{"name": "web", "serve": ["dns", "https"],
                         "domains": ["facetime.apple.com", "www.youtube.com",
                                     "*.googlevideo.com"]}],
            "censor": {"rules": [
                {"id": i, "match": {"sni": "x.example"}, "action": "reset"}
                for i in ("calls", "facetime", "youtube-slow", "x")]}}
    checked = 0
    for block in BLOCKS:
        snippet = yaml.safe_load(block)
        if not isinstance(snippet, dict) or "name" in snippet:
            continue
        doc = dict(base)
        if "censor" in snippet:
            doc["censor"] = {**snippet["censor"], "rules": base["censor"]["rules"]}
        else:
            doc.update(snippet)
        load(write(tmp_path, yaml.safe_dump(doc)))
        checked += 1
    assert checked >= 7
