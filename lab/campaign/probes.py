"""A campaign's probe trials: a detector (or the built-in prober) scored against the censor.

Owns running a lab's probe trials (lab.probe's Prober, as `blocklab probe` runs it: the
scenario's targets measured, each verdict put next to what the censor did) and summing their
scores up at merge: per scenario and probe, the confusion counts over all trials, precision
and recall with Wilson intervals on those counts (lab.compare.stats), and the per-trial
medians and spreads.
"""
from __future__ import annotations

from statistics import median
from typing import Callable

from lab.compare import stats


def run(scenario, trials: list, keep: Callable[[object, dict], None],
        say: Callable[[str], None] = lambda s: None) -> None:
    """Every probe trial of one lab, in turn; `keep(spec, result)` as each is scored."""
    from lab.probe.runner import Prober, targets
    from lab.run.lab import Lab
    chosen = targets(scenario, [])
    with Lab(scenario) as lab:
        say(f"{scenario.name}: lab up in {lab.timings['up']:.1f}s for "
            f"{len(trials)} probe trial(s), {len(chosen)} target(s)")
        for spec, probe in trials:
            prober = Prober(lab, detector=probe["detector"],
                            detector_timeout=probe["timeout"])
            score = prober.score(prober.run(chosen))
            keep(spec, {"probe": probe, "score": score.as_dict()})


def _ci(k: int, n: int) -> list | None:
    ci = stats.wilson(k, n)
    return [round(x, 3) for x in ci] if ci else None


def _spread(values: list) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": round(median(values), 4), "min": min(values), "max": max(values),
            "n": len(values)}


def summarise(records: list[dict]) -> list[dict]:
    """One entry per (scenario, probe) from the probe trials' result records."""
    groups: dict = {}
    for rec in records:
        groups.setdefault((rec["scenario"], rec["tool"]), []).append(rec)
    out = []
    for (scenario, name), recs in groups.items():
        scores = [r["result"]["score"] for r in sorted(recs, key=lambda r: r["repeat"])]
        pooled = {k: sum(s["confusion"].get(k, 0) for s in scores)
                  for k in ("TP", "FP", "FN", "TN")}
        tp, fp, fn = pooled["TP"], pooled["FP"], pooled["FN"]
        out.append({
            "scenario": scenario, "probe": name,
            "detector": recs[0]["result"]["probe"]["detector"] or "builtin",
            "trials": len(scores), "confusion": pooled,
            "precision": {"pooled": round(tp / (tp + fp), 4) if tp + fp else None,
                          "wilson95": _ci(tp, tp + fp),
                          **{"per_trial": _spread([s["precision"] for s in scores])}},
            "recall": {"pooled": round(tp / (tp + fn), 4) if tp + fn else None,
                       "wilson95": _ci(tp, tp + fn),
                       **{"per_trial": _spread([s["recall"] for s in scores])}},
        })
    return out


def markdown(summary: list[dict]) -> str:
    """The probes' table, to follow the matrix."""
    if not summary:
        return ""

    def show(d: dict) -> str:
        if d["pooled"] is None:
            return "–"
        ci = d["wilson95"]
        return f"{d['pooled']:.2f}" + (f" [{ci[0]:.2f}–{ci[1]:.2f}]" if ci else "")

    out = ["", "## Detectors", "",
           "Each probe trial measures the scenario's targets and scores each verdict against "
           "what the censor did; counts over all trials, precision and recall with 95 % "
           "Wilson intervals.", "",
           "| scenario | probe | trials | TP | FP | FN | TN | precision | recall |",
           "|---|---|---|---|---|---|---|---|---|"]
    for e in summary:
        c = e["confusion"]
        out.append(f"| {e['scenario']} | {e['probe']} | {e['trials']} | {c['TP']} | {c['FP']} "
                   f"| {c['FN']} | {c['TN']} | {show(e['precision'])} | {show(e['recall'])} |")
    return "\n".join(out) + "\n"
