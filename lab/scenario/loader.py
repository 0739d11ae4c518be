"""Finding and reading scenario files: `load`, `resolve`, `bundled`, `available`, `validate`.

Owns the one pass over a file (read, YAML with positions, schema, semantic checks) and scenario
names: `ru/2025-12` is `ru/2025-12.yaml` in the first folder of the search path that has it —
the folders of BLOCKLAB_SCENARIOS (colon-separated, a team's own scenarios), then the bundled
ones, `lab/data/scenarios` inside the package (in a checkout a link to `<repo>/scenarios`; the
wheel carries the files). Every problem becomes a Diagnostic; nothing here raises anything but
ScenarioError.
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

SCENARIOS = (Path(__file__).resolve().parents[1] / "data" / "scenarios").resolve()
SEARCH_PATH_ENV = "BLOCKLAB_SCENARIOS"
BUNDLED = "bundled"
SUFFIX = ".yaml"


def _display(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def search_path(extra: Sequence[str | Path] = ()) -> list[tuple[Path, str]]:
    """(folder, where it comes from) in the order names resolve: `extra` (`list --path`),
    BLOCKLAB_SCENARIOS, then the bundled scenarios."""
    env = [d for d in os.environ.get(SEARCH_PATH_ENV, "").split(":") if d]
    return ([(Path(d), str(d)) for d in extra] + [(Path(d), d) for d in env]
            + [(SCENARIOS, BUNDLED)])


def _names(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.relative_to(folder).with_suffix("").as_posix()
                  for p in folder.rglob("*" + SUFFIX) if p.is_file())


def _is_file(path: Path) -> bool:
    """False for what is no file, a name too long for the file system included."""
    try:
        return path.is_file()
    except OSError:
        return False


def resolve(ref: str | Path) -> Path:
    """The file a scenario reference names: an existing path, or a name on the search path."""
    path = Path(ref)
    text = str(ref)
    if not text.strip():
        raise ScenarioError([Diagnostic(repr(text), 1, 1, "an empty scenario name: name a "
                                        "bundled one (try `blocklab list`) or a YAML file")])
    if _is_file(path):
        return path
    if not text.endswith((SUFFIX, ".yml")) and not os.path.isabs(text):
        for folder, _ in search_path():
            found = folder / (text + SUFFIX)
            if _is_file(found):
                return found
    if text.endswith((SUFFIX, ".yml")):
        message = f"no such file '{text}'"
    else:
        where = "" if not os.environ.get(SEARCH_PATH_ENV) else \
            f" in {SEARCH_PATH_ENV} or the bundled scenarios"
        names = [n for folder, _ in search_path() for n in _names(folder)]
        message = (f"no scenario named '{text}'{where} (try `blocklab list`)"
                   f"{did_you_mean(text, sorted(set(names)))}")
    raise ScenarioError([Diagnostic(text, 1, 1, message)])


def _title(path: Path) -> str:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, yaml.YAMLError, RecursionError):
        data = None
    if isinstance(data, dict):
        return str(data.get("title") or data.get("name") or "")
    return ""


def available(extra: Sequence[str | Path] = ()) -> list[tuple[str, str, str]]:
    """(name, title, where it comes from) of every scenario a name reaches, sorted by name:
    a name in an earlier folder of the search path hides the same name in a later one."""
    seen: dict[str, tuple[str, str, str]] = {}
    for folder, source in search_path(extra):
        for name in _names(folder):
            if name not in seen:
                seen[name] = (name, _title(folder / (name + SUFFIX)), source)
    return [seen[name] for name in sorted(seen)]


def bundled() -> list[tuple[str, str]]:
    """(name, title) of every bundled scenario, sorted by name."""
    return [(name, _title(SCENARIOS / (name + SUFFIX))) for name in _names(SCENARIOS)]


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
    data = yamlpos.read(path, rep, "file",
                        "empty scenario: it needs at least name, clients and servers")
    if data is None:
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
