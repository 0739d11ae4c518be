"""Which part may import which: the dependencies that must stay one-way (read from the source,
nothing imported). bench uses lab, never the reverse (lab/cli.py's `bench` command imports it
inside the command); reports and the shell share rule text from lab.scenario.ruletext, so
lab.report needs nothing of lab.teach; lab.scenario needs nothing of lab.teach."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, at module level?) for each absolute import in `path`."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, id(node) in top))
    return out


def _importers(package: str, target: str) -> dict[str, list[bool]]:
    found: dict[str, list[bool]] = {}
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        for name, top in _imports(path):
            if name == target or name.startswith(target + "."):
                found.setdefault(str(path.relative_to(ROOT)), []).append(top)
    return found


def test_lab_imports_bench_only_in_the_cli_command():
    assert set(_importers("lab", "bench")) <= {"lab/cli.py"}
    assert not any(_importers("lab", "bench").get("lab/cli.py", [])), \
        "lab/cli.py imports bench at module level"


def test_report_does_not_import_teach():
    assert _importers("lab.report", "lab.teach") == {}


def test_scenario_does_not_import_teach():
    assert _importers("lab.scenario", "lab.teach") == {}
