"""Finding and reading scenario files: `load`, `resolve`, `bundled`, `validate`.

Owns the one pass over a file (read, YAML with positions, schema, semantic checks) and the
bundled-scenario names: `ru/2025-12` is `<repo>/scenarios/ru/2025-12.yaml`. Every problem
becomes a Diagnostic; nothing here raises anything but ScenarioError.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import yaml

from lab.scenario import schema_check, yamlpos
from lab.scenario.build import build
from lab.scenario.errors import Diagnostic, Reporter, ScenarioError, did_you_mean
from lab.scenario.model import Scenario

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
SUFFIX = ".yaml"


def _display(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _bundled_names() -> list[str]:
    if not SCENARIOS.is_dir():
        return []
    return sorted(p.relative_to(SCENARIOS).with_suffix("").as_posix()
                  for p in SCENARIOS.rglob("*" + SUFFIX) if p.is_file())


def _is_file(path: Path) -> bool:
    """False for what is no file, a name too long for the file system included."""
    try:
        return path.is_file()
    except OSError:
        return False


def resolve(ref: str | Path) -> Path:
    """The file a scenario reference names: an existing path, or a bundled name."""
    path = Path(ref)
    text = str(ref)
    if not text.strip():
        raise ScenarioError([Diagnostic(repr(text), 1, 1, "an empty scenario name: name a "
                                        "bundled one (try `blocklab list`) or a YAML file")])
    if _is_file(path):
        return path
    if not text.endswith((SUFFIX, ".yml")) and not os.path.isabs(text):
        bundled_path = SCENARIOS / (text + SUFFIX)
        if _is_file(bundled_path):
            return bundled_path
    if text.endswith((SUFFIX, ".yml")):
        message = f"no such file '{text}'"
    else:
        message = (f"no scenario named '{text}' (try `blocklab list`)"
                   f"{did_you_mean(text, _bundled_names())}")
    raise ScenarioError([Diagnostic(text, 1, 1, message)])


def bundled() -> list[tuple[str, str]]:
    """(name, title) of every scenario under scenarios/, sorted by name."""
    out = []
    for name in _bundled_names():
        try:
            data = yaml.safe_load((SCENARIOS / (name + SUFFIX)).read_text(encoding="utf-8"))
        except (OSError, UnicodeError, yaml.YAMLError, RecursionError):
            data = None
        title = ""
        if isinstance(data, dict):
            title = data.get("title") or data.get("name") or ""
        out.append((name, str(title)))
    return out


def check_file(path: Path, display: str | None = None,
               strict: bool = False) -> tuple[Scenario | None, list[Diagnostic]]:
    """(the scenario or None, every diagnostic) for one file, in one pass."""
    rep = Reporter(display if display is not None else str(path))
    scenario = None
    try:
        scenario = _check(path, rep, strict)
    except RecursionError:
        rep.at(1, 1, "nested too deeply")
    diagnostics = sorted(rep.diagnostics, key=lambda d: (d.line, d.col))
    return (scenario if not diagnostics else None), diagnostics


def _check(path: Path, rep: Reporter, strict: bool) -> Scenario | None:
    try:
        raw = path.read_bytes()
    except OSError as e:
        rep.at(1, 1, f"cannot read the file: {e.strerror or e}")
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = raw[:e.start]
        line, col = before.count(b"\n") + 1, e.start - (before.rfind(b"\n") + 1) + 1
        rep.at(line, col, f"not UTF-8 text (byte 0x{raw[e.start]:02x})")
        return None
    try:
        data, marks, problems = yamlpos.load(text)
    except yamlpos.YamlProblem as p:
        rep.at(p.line, p.col, p.message)
        return None
    rep.marks = marks
    for p in problems:
        rep.at(p.line, p.col, p.message)
    if data is None:
        rep.at(1, 1, "empty scenario: it needs at least name, clients and servers")
        return None
    schema_check.check(data, rep)
    if not isinstance(data, dict):
        return None
    return build(rep, data, path, strict)


def load(ref: str | Path) -> Scenario:
    """The scenario `ref` names (bundled name or path); ScenarioError with every problem."""
    path = resolve(ref)
    scenario, diagnostics = check_file(path, _display(path))
    if diagnostics or scenario is None:
        raise ScenarioError(diagnostics or [Diagnostic(_display(path), 1, 1, "not a scenario")])
    return scenario


def validate(paths: Sequence[str | Path], strict: bool = False) -> list[Diagnostic]:
    """Every problem of every file (paths or bundled names), in one pass; [] when all valid.

    `strict` adds what this machine's kernel cannot emulate (netem delay, jitter, loss)."""
    out: list[Diagnostic] = []
    for ref in paths:
        try:
            path = resolve(ref)
        except ScenarioError as e:
            out.extend(e.diagnostics)
            continue
        shown = str(ref) if Path(ref).is_file() else _display(path)
        out.extend(check_file(path, shown, strict)[1])
    return out
