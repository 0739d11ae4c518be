"""A campaign's plan file: read it with positions, check it, expand it into trials.

Owns the plan format (plan.schema.json, docs/campaigns.md), its checks (every problem at once,
`FILE:LINE:COL: message`, through the scenario loader's YAML reader, Reporter and schema
checker), the list of trials a plan stands for, each trial's stable id, and the plan's hash:
what two shards must agree on before their results may be merged.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator

from lab import scenario as scenarios
from lab.scenario import schema_check, yamlpos
from lab.scenario.errors import Diagnostic, Reporter, ScenarioError, did_you_mean
from lab.scenario.units import UnitError, parse_rate

SCHEMA_PATH = Path(__file__).with_name("plan.schema.json")
GLOB = set("*?[")


class PlanError(ScenarioError):
    """A plan could not be loaded; str() says every reason, one `FILE:LINE:COL:` per line."""


@dataclass(frozen=True)
class TrialSpec:
    """One trial of a plan: a tool, once, in a lab of a scenario (with a censor seed)."""
    id: str
    scenario: str          # the scenario's name
    tool: str              # a tool's name, or a probe's (kind "probe")
    repeat: int            # 0 .. repeats × len(seeds) - 1, unique within a cell
    seed: int | None       # the censor's seed (None: the scenario's own)
    kind: str = "tool"     # "tool" (a compare trial) or "probe" (a detector scored)

    def as_dict(self) -> dict:
        return {"id": self.id, "scenario": self.scenario, "tool": self.tool,
                "repeat": self.repeat, "seed": self.seed, "kind": self.kind}


@dataclass(frozen=True)
class PlanScenario:
    ref: str               # as the plan (or its glob) named it
    path: Path
    scenario: object       # lab.scenario.Scenario
    sha256: str            # of the file: a changed scenario is another plan


@dataclass(frozen=True)
class Plan:
    path: Path
    name: str
    scenarios: tuple[PlanScenario, ...]
    tools: tuple[str, ...]
    repeats: int
    seeds: tuple[int, ...] | None
    bulk_rate: int | None  # bit/s
    split: str = "spread"  # how trials go to shards: not in the hash (results do not change)
    probes: tuple[dict, ...] = ()   # {"name", "detector" (None: built-in), "timeout"}

    def resolved(self) -> dict:
        """What the plan measures, independent of where it was written: the hash's input."""
        return {"format": 1,
                "scenarios": [{"name": s.scenario.name, "sha256": s.sha256}
                              for s in self.scenarios],
                "tools": list(self.tools), "repeats": self.repeats,
                "seeds": list(self.seeds) if self.seeds else None,
                "bulk_rate_bps": self.bulk_rate, "probes": [dict(p) for p in self.probes]}

    @property
    def hash(self) -> str:
        text = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def trials(self) -> list[TrialSpec]:
        return trials_of(self.resolved())

    def shards(self, count: int) -> dict[str, int]:
        """Trial id -> shard, as the plan's `split` says."""
        trials = self.trials()
        return packed(trials, count) if self.split == "packed" else \
            split([t.id for t in trials], count)


def trials_of(resolved: dict) -> list[TrialSpec]:
    """Every trial of a resolved plan, lab by lab (scenario, seed), repeat-major inside."""
    seeds = resolved["seeds"] or [None]
    out = []
    for sc in resolved["scenarios"]:
        for i, seed in enumerate(seeds):
            for r in range(i * resolved["repeats"], (i + 1) * resolved["repeats"]):
                for tool in resolved["tools"]:
                    out.append(TrialSpec(trial_id(sc["name"], tool, r, seed), sc["name"],
                                         tool, r, seed))
                for probe in resolved.get("probes") or []:
                    out.append(TrialSpec(trial_id(sc["name"], "probe-" + probe["name"], r,
                                                  seed), sc["name"], probe["name"], r, seed,
                                         "probe"))
    return out


def trial_id(scenario: str, tool: str, repeat: int, seed: int | None) -> str:
    """`basics-open~direct~r0` (`~s7` with a seed): readable, and a file name as it is."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in scenario)
    return f"{safe}~{tool}~r{repeat}" + (f"~s{seed}" if seed is not None else "")


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def split(ids, shards: int) -> dict[str, int]:
    """`spread`: the shard of each trial, the ids in the order of their hashes dealt out in
    turn. It depends on the set of ids only (not on their order), and the shards differ by one
    trial at most (a bare hash mod N leaves some a third bigger than others on a small plan)."""
    ranked = sorted(set(ids), key=lambda i: (_h(i), i))
    return {trial: n % shards for n, trial in enumerate(ranked)}


def packed(trials: list[TrialSpec], shards: int) -> dict[str, int]:
    """`packed`: the trials lab by lab (labs in the order of their hashes, trials by theirs),
    cut into N runs of equal length: shards differ by one trial at most, and each brings up
    as few labs as that allows (about labs/N + 1) instead of nearly all of them."""
    ranked = sorted({t.id: t for t in trials}.values(),
                    key=lambda t: (_h(f"{t.scenario}~{t.seed}"), _h(t.id), t.id))
    return {t.id: n * shards // len(ranked) for n, t in enumerate(ranked)}


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def load(path: str | Path) -> Plan:
    """The plan in `path`; PlanError with every problem (the plan's and its scenarios')."""
    path = Path(path)
    rep = Reporter(str(path))
    plan = None
    try:
        plan = _check(path, rep)
    except RecursionError:
        rep.at(1, 1, "nested too deeply")
    if rep.diagnostics or plan is None:
        plan_diags = sorted(d for d in rep.diagnostics if d.path == str(path))
        others = [d for d in rep.diagnostics if d.path != str(path)]
        raise PlanError(plan_diags + others or [Diagnostic(str(path), 1, 1, "not a plan")])
    return plan


def _check(path: Path, rep: Reporter) -> Plan | None:
    data = yamlpos.read(path, rep, "plan",
                        "empty plan: it needs at least scenarios and tools (or probes)")
    if data is None:
        return None
    schema_check.check(data, rep, _validator())
    if not isinstance(data, dict):
        return None
    found = _scenarios(rep, data, path.parent)
    tools = _tools(rep, data)
    probes = _probes(rep, data)
    if "tools" not in data and "probes" not in data:
        rep.at(1, 1, "the plan needs tools, probes or both")
    seeds = rep.get(data, (), "seeds", None, list)
    if seeds:
        for i, s in enumerate(seeds):
            if s in seeds[:i]:
                rep.error(("seeds", i), f"seed {s} is listed twice")
    rate = None
    raw_rate = rep.get(rep.part(data, (), "options", {}, dict), ("options",), "bulk_rate",
                       None, str)
    if raw_rate is not None:
        try:
            rate = parse_rate(raw_rate)
        except UnitError as e:
            rep.error(("options", "bulk_rate"), str(e))
    if rep.diagnostics:
        return None
    return Plan(path, str(data.get("name") or path.stem), tuple(found), tuple(tools),
                int(data.get("repeats", 1)), tuple(seeds) if seeds else None, rate,
                str(data.get("split", "spread")), tuple(probes))


def _probes(rep: Reporter, data: dict) -> list[dict]:
    out = []
    for i, item in enumerate(rep.part(data, (), "probes", [], list)):
        if not isinstance(item, dict) or not rep.clean(("probes", i)):
            continue
        if any(item.get("name") == p["name"] for p in out):
            rep.error(("probes", i, "name"), f"probe '{item.get('name')}' is listed twice")
        out.append({"name": item.get("name"), "detector": item.get("detector"),
                    "timeout": float(item.get("timeout", 60.0))})
    return out


def _tools(rep: Reporter, data: dict) -> list[str]:
    from lab.compare import tools as registry
    tools = rep.get(data, (), "tools", [], (list, str))
    if tools == "all":
        return list(registry.NAMES)
    for i, name in enumerate(tools):
        if name in tools[:i]:
            rep.error(("tools", i), f"tool '{name}' is listed twice")
        elif name not in registry.NAMES:
            why = f": left out ({registry.LEFT_OUT[name]})" if name in registry.LEFT_OUT else \
                f"{did_you_mean(name, registry.NAMES)}; known: {', '.join(registry.NAMES)}"
            rep.error(("tools", i), f"unknown tool '{name}'{why}")
    return list(tools)


def _expand(ref: str, base: Path) -> list[tuple[str, Path]]:
    """(name shown, file) for a scenario entry: a path (relative to the plan), a bundled
    name, or a glob of either. ScenarioError when it names nothing."""
    is_file = ref.endswith((".yaml", ".yml")) or "/" in ref and (base / ref).exists()
    if GLOB & set(ref):
        if is_file or ref.endswith((".yaml", ".yml")):
            root = Path(ref) if Path(ref).is_absolute() else base / ref
            anchor = Path(root.anchor) if root.is_absolute() else Path(".")
            hits = sorted(anchor.glob(str(root.relative_to(anchor))))
            out = [(str(p), p) for p in hits if p.is_file()]
        else:
            names = [n for n, _ in scenarios.bundled() if fnmatch.fnmatchcase(n, ref)]
            out = [(n, scenarios.resolve(n)) for n in names]
        if not out:
            raise ScenarioError([Diagnostic(ref, 1, 1, f"'{ref}' matches no scenario")])
        return out
    local = Path(ref) if Path(ref).is_absolute() else base / ref
    if local.is_file():
        return [(ref, local)]
    return [(ref, scenarios.resolve(ref))]


def _scenarios(rep: Reporter, data: dict, base: Path) -> list[PlanScenario]:
    out: list[PlanScenario] = []
    names: dict[str, str] = {}
    for i, ref in enumerate(rep.get(data, (), "scenarios", [], list)):
        where = ("scenarios", i)
        try:
            files = _expand(ref, base)
        except ScenarioError as e:
            rep.error(where, e.diagnostics[0].message)
            continue
        for shown, file in files:
            try:
                sc = scenarios.load(file)
            except ScenarioError as e:
                rep.error(where, f"scenario {shown} does not load ({len(e.diagnostics)} "
                                 "problem(s), below)")
                rep.diagnostics.extend(e.diagnostics)
                continue
            if sc.name in names:
                rep.error(where, f"scenario {shown} is named '{sc.name}', like "
                                 f"{names[sc.name]}: each scenario once (names must differ)")
                continue
            names[sc.name] = shown
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
            out.append(PlanScenario(shown, file, sc, digest))
    return out
