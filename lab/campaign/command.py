"""`blocklab campaign run|merge|plan`: the arguments and what each prints.

stdout is the result (merge: the matrix, as `blocklab compare` prints it; plan: the layout);
progress and problems go to stderr. Errors a user can cause raise `CampaignError` (one line, or
the plan's FILE:LINE:COL lines), which the CLI prints without a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from lab.run.outputs import prepare


class CampaignError(Exception):
    """Printed as `blocklab: message`, exit 1."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="campaign_command", metavar="run|merge|plan")
    sub.required = True
    r = sub.add_parser("run", help="run one shard of a plan's trials into DIR (resumes)")
    r.add_argument("plan", metavar="PLAN")
    r.add_argument("--shard", default="0/1", metavar="I/N",
                   help="this shard: I/N (0-based, default 0/1), or auto[/N] for the engine's "
                        "own variable (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, "
                        "BLOCKLAB_SHARD)")
    r.add_argument("--out", required=True, metavar="DIR",
                   help="one result file per trial (DIR/<trial id>.json)")
    r.add_argument("--labs", type=int, default=1, metavar="K",
                   help="run K labs at a time (default 1)")
    r.add_argument("--lane", help=argparse.SUPPRESS)     # a --labs child's share
    m = sub.add_parser("merge", help="merge shards' result folders into one matrix")
    m.add_argument("folders", nargs="+", metavar="DIR")
    m.add_argument("--json", action="store_true", help="print the matrix as JSON")
    m.add_argument("--report", metavar="DIR",
                   help="write compare.json, compare.md, goodput.png and success.png to DIR")
    s = sub.add_parser("plan", help="check a plan and show its trials, labs and shards")
    s.add_argument("plan", metavar="PLAN")
    s.add_argument("--shards", type=int, default=1, metavar="N",
                   help="show how N shards would split it")


def _plan(path: str):
    from lab.campaign.plan import PlanError, load
    try:
        return load(path)
    except PlanError as e:
        raise CampaignError(str(e)) from None


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args, need_root) -> int:
    from lab.campaign import shard
    from lab.compare.runner import CompareError, resolve_tools
    from lab.run import progress
    if args.labs < 1:
        raise CampaignError("--labs must be at least 1")
    plan = _plan(args.plan)
    try:
        index, count = shard.parse_shard(args.shard)
        lane = None
        if args.lane:
            j, _, k = args.lane.partition("/")
            lane = (int(j), int(k))
        resolve_tools(list(plan.tools))
        shard.done_ids(plan, Path(args.out))
    except (shard.ShardError, CompareError, ValueError) as e:
        raise CampaignError(f"campaign run: {e}") from None
    need_root("campaign run")
    prepare("--out", args.out)
    say = progress.auto(f"campaign {index}/{count}: ")
    try:
        ran = shard.run(plan, index, count, Path(args.out), args.labs, lane, say)
    except shard.ShardError as e:
        raise CampaignError(f"campaign run: {e}") from None
    if lane is None:
        _say(f"campaign {index}/{count}: done, {ran} trial(s) run; results in {args.out}")
    return 0


def merge(args) -> int:
    from lab.campaign.merge import MergeError, describe, merge as merge_folders
    from lab.compare.report import markdown, write
    if args.report is not None:
        prepare("--report", args.report)
    try:
        merged = merge_folders([Path(f) for f in args.folders])
    except MergeError as e:
        raise CampaignError(f"campaign merge: {e}") from None
    from lab.campaign import probes
    m = merged.matrix
    for note in merged.duplicates:
        _say(f"blocklab: duplicate trial {note}")
    detectors = probes.markdown(m["campaign"]["probes"])
    if args.report:
        folder = Path(args.report)
        files = write(m, folder) if m["tools"] else []
        if detectors:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "probes.md").write_text(detectors.lstrip())
            files.append(folder / "probes.md")
        _say(f"report: {', '.join(str(f) for f in files)}")
    if args.json:
        print(json.dumps(m, indent=1))
    else:
        print((markdown(m) if m["tools"] else "") + detectors, end="")
    c = m["campaign"]
    _say(f"campaign {c['name']} (plan {c['plan_hash']}): {c['trials']}/{c['expected']} "
         f"trials from {', '.join(c['machines'])}")
    if merged.missing:
        _say(f"blocklab: {len(merged.missing)} trial(s) missing:")
        for t in merged.missing:
            _say(f"  {describe(t)}")
    failed = [x for x in m["cells"] if x["status"] == "failed"]
    for x in failed:
        _say(f"blocklab: {x['tool']} failed in {x['scenario']} without the censor acting: "
             f"{(x['errors'] or ['no target answered'])[0]}")
    return 1 if merged.missing or failed else 0


def show_plan(args) -> int:
    if args.shards < 1:
        raise CampaignError("--shards must be at least 1")
    plan = _plan(args.plan)
    trials = plan.trials()
    labs = {(t.scenario, t.seed) for t in trials}
    print(f"plan {plan.name} ({plan.hash}): {len(plan.scenarios)} scenario(s) × "
          f"{len(plan.tools)} tool(s)" + (f" (and {len(plan.probes)} probe(s))"
                                          if plan.probes else "")
          + f" × {plan.repeats} repeat(s)"
          + (f" × {len(plan.seeds)} seed(s)" if plan.seeds else "")
          + f" = {len(trials)} trials in {len(labs)} lab(s); split: {plan.split}")
    if args.shards > 1:
        shard = plan.shards(args.shards)
        per = Counter(shard[t.id] for t in trials)
        lab_per = Counter(i for i, _ in {(shard[t.id], (t.scenario, t.seed))
                                         for t in trials})
        for i in range(args.shards):
            print(f"  shard {i}/{args.shards}: {per[i]} trials, {lab_per[i]} lab(s)")
    return 0
