"""Merging a campaign's result folders into the comparison's matrix: `blocklab campaign merge`.

Owns checking that every result belongs to one plan (its hash), finding the plan's trials no
folder has, and turning the result files back into the comparison's trials, so the matrix, its
Markdown, its JSON and its plots come from lab.compare.report exactly as `blocklab compare`
makes them (plus a `campaign` key: the plan, the machines, what is missing, and the probe
trials' scores summed up by lab.campaign.probes).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lab.campaign import probes, results
from lab.campaign.plan import TrialSpec, trials_of


class MergeError(Exception):
    """The folders cannot be merged (one line)."""


@dataclass
class Merged:
    matrix: dict
    missing: list[TrialSpec] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def load(folders: list[Path]) -> tuple[dict, dict[str, tuple[Path, dict]], list[str]]:
    """(the plan's record, trial id -> (file, record), duplicate notes) from every folder."""
    by_id: dict[str, tuple[Path, dict]] = {}
    duplicates: list[str] = []
    first: tuple[Path, dict] | None = None
    for folder in folders:
        try:
            found = results.read(folder)
        except results.ResultError as e:
            raise MergeError(str(e)) from None
        for path, rec in found:
            if first is None:
                first = (path, rec)
            elif rec.get("plan_hash") != first[1].get("plan_hash"):
                raise MergeError(f"results of two plans: {first[1].get('plan_hash')} "
                                 f"({first[0]}) and {rec.get('plan_hash')} ({path}); "
                                 "merge each plan's folders on their own")
            if rec["id"] in by_id:
                duplicates.append(f"{rec['id']}: in {by_id[rec['id']][0]} and {path}, "
                                  f"using the first")
                continue
            by_id[rec["id"]] = (path, rec)
    if first is None:
        raise MergeError(f"no result files in {', '.join(str(f) for f in folders)}")
    return first[1], by_id, duplicates


def merge(folders: list[Path]) -> Merged:
    from lab.compare.report import matrix
    from lab.compare.runner import ScenarioRun, Trial
    head, by_id, duplicates = load(folders)
    plan = head["plan"]
    expected = trials_of(plan)
    known = {t.id for t in expected}
    strays = sorted(set(by_id) - known)
    if strays:
        raise MergeError(f"{by_id[strays[0]][0]}: trial {strays[0]} is not in plan "
                         f"{head['plan_hash']} (a damaged or hand-made file)")
    tool_rank = {name: i for i, name in enumerate(plan["tools"])}
    runs = []
    for sc in plan["scenarios"]:
        recs = [by_id[t.id][1] for t in expected if t.scenario == sc["name"] and t.id in by_id
                and t.kind == "tool"]
        if not recs:
            continue
        h = recs[0]["scenario_run"]
        run = ScenarioRun(h["name"], h["title"], h["ref"], h["client"], h["vps"],
                          h["bulk_url"], h["targets"])
        recs.sort(key=lambda r: (r["repeat"], tool_rank[r["tool"]]))
        run.trials = [Trial.from_dict(h["name"], r["tool"], r["trial"]) for r in recs]
        runs.append(run)
    trials_per_cell = plan["repeats"] * len(plan["seeds"] or [None])
    m = matrix(runs, trials_per_cell, plan["bulk_rate_bps"])
    missing = [t for t in expected if t.id not in by_id]
    recs = [rec for _, rec in by_id.values()]
    m["campaign"] = {
        "plan_hash": head["plan_hash"], "name": head.get("plan_name"), "plan": plan,
        "trials": len(by_id), "expected": len(expected),
        "missing": [t.as_dict() for t in missing],
        "probes": probes.summarise([rec for _, rec in by_id.values()
                                    if rec.get("kind") == "probe"]),
        "machines": sorted({r["machine"]["hostname"] for r in recs}),
        "datapaths": sorted({r["datapath"] for r in recs}),
        "versions": sorted({f"blocklab {r['versions']['blocklab']}, OVS "
                            f"{r['versions']['openvswitch']}" for r in recs}),
    }
    return Merged(m, missing, duplicates)


def describe(t: TrialSpec) -> str:
    return (f"{t.id} (scenario {t.scenario}, {t.kind} {t.tool}, repeat {t.repeat}"
            + (f", seed {t.seed}" if t.seed is not None else "") + ")")
