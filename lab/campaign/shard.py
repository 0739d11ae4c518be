"""Running one shard of a campaign: `blocklab campaign run PLAN --shard I/N --out DIR`.

Owns which trials are this shard's (`Plan.shards`: by the hashes of trial ids), skipping
those already in DIR (a killed shard resumes), bringing up a lab per (scenario, seed) with the
comparison's runner (lab.compare.runner.run_scenario, restricted to this shard's trials),
writing each trial's result file as soon as it is judged, and progress with the time left.
`--labs K` runs K labs at once: K child processes (lanes), each the same command with
`--lane J/K` taking every K-th lab, the parent counting result files for progress.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from lab.campaign import probes, results
from lab.campaign.plan import Plan

# Where `--shard auto` finds its index (0-based) and, unless given as auto/N, the count.
AUTO_INDEX = ("JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "BLOCKLAB_SHARD")


class ShardError(Exception):
    """The shard cannot run as asked (one line)."""


def parse_shard(text: str, env: dict | None = None) -> tuple[int, int]:
    """`I/N` (0-based), or `auto`/`auto/N`: the index from the engine's variable
    (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID less SLURM_ARRAY_TASK_MIN, BLOCKLAB_SHARD),
    the count from `/N`, SLURM_ARRAY_TASK_COUNT or BLOCKLAB_SHARDS."""
    env = os.environ if env is None else env
    head, sep, tail = text.partition("/")
    usage = f"--shard {text!r}: expected I/N (0 <= I < N, e.g. 0/4) or auto[/N]"
    count = None
    if sep:
        if not tail.isdigit() or int(tail) < 1:
            raise ShardError(usage)
        count = int(tail)
    if head == "auto":
        var = next((v for v in AUTO_INDEX if env.get(v, "").strip()), None)
        if var is None:
            raise ShardError(f"--shard auto: none of {', '.join(AUTO_INDEX)} is set")
        raw = env[var].strip()
        if not raw.isdigit():
            raise ShardError(f"--shard auto: {var}={raw!r} is not an index")
        index = int(raw)
        if var == "SLURM_ARRAY_TASK_ID":
            index -= int(env.get("SLURM_ARRAY_TASK_MIN", "0") or 0)
            count = count or int(env.get("SLURM_ARRAY_TASK_COUNT", "0") or 0) or None
        count = count or int(env.get("BLOCKLAB_SHARDS", "0") or 0) or None
        if count is None:
            raise ShardError(f"--shard auto: the number of shards is unknown (write "
                             f"auto/N, or set BLOCKLAB_SHARDS); {var}={raw}")
    elif head.isdigit() and count is not None:
        index = int(head)
    else:
        raise ShardError(usage)
    if not 0 <= index < count:
        raise ShardError(f"--shard {text}: index {index} is outside 0..{count - 1}")
    return index, count


def mine(plan: Plan, index: int, count: int) -> list:
    shards = plan.shards(count)
    return [t for t in plan.trials() if shards[t.id] == index]


def done_ids(plan: Plan, out: Path) -> set[str]:
    """Trials already in `out`; ShardError when it holds another plan's results."""
    if not out.exists():
        return set()
    try:
        found = results.read(out)
    except results.ResultError as e:
        raise ShardError(str(e)) from None
    for path, rec in found:
        if rec.get("plan_hash") != plan.hash:
            raise ShardError(f"{out} holds results of another plan: {path.name} has plan "
                             f"{rec.get('plan_hash')}, this plan is {plan.hash}")
    return {rec["id"] for _, rec in found}


def _labs(todo: list) -> list[tuple[str, int | None, list]]:
    """(scenario, seed, trials) in plan order: a lab each."""
    groups: dict = {}
    for t in todo:
        groups.setdefault((t.scenario, t.seed), []).append(t)
    return [(sc, seed, trials) for (sc, seed), trials in groups.items()]


def _eta(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else \
        f"{seconds // 60}m{seconds % 60:02d}s"


class Counter:
    """Trials done out of the shard's total, and the time left at this run's pace."""

    def __init__(self, total: int, already: int, say: Callable[[str], None]):
        self.total, self.already, self.ran, self.say = total, already, 0, say
        self.t0 = time.monotonic()

    def step(self, ran: int, what: str = "") -> None:
        self.ran = ran
        done = self.already + ran
        left = self.total - done
        pace = (time.monotonic() - self.t0) / ran if ran else None
        eta = f", ~{_eta(pace * left)} left" if pace is not None and left else ""
        self.say(f"{done}/{self.total} trials done{eta}" + (f" ({what})" if what else ""))


def run(plan: Plan, index: int, count: int, out: Path, labs: int = 1,
        lane: tuple[int, int] | None = None,
        say: Callable[[str], None] = lambda s: None) -> int:
    """Run this shard's trials that `out` lacks; the number of trials run."""
    from lab.compare.runner import resolve_tools, run_scenario
    share = mine(plan, index, count)
    done = done_ids(plan, out)
    if lane is None and out.is_dir():
        results.sweep(out)
    todo = [t for t in share if t.id not in done]
    tools = {t.name: t for t in resolve_tools(list(plan.tools))}
    groups = _labs(todo)
    shard = f"{index}/{count}"
    if lane is None:
        say(f"shard {shard}: {len(share)} of the plan's {len(plan.trials())} trials, "
            f"{len(share) - len(todo)} already in {out}; {len(todo)} to run in "
            f"{len(groups)} lab(s)" + (f", {labs} at a time" if labs > 1 and groups else ""))
        if labs > 1 and len(groups) > 1:
            return _lanes(plan, shard, out, min(labs, len(groups)), share, done, say)
    else:
        groups = groups[lane[0]::lane[1]]
    counter = Counter(len(share), len(share) - len(todo), say)
    out.mkdir(parents=True, exist_ok=True)
    ran = 0
    for name, seed, trials in groups:
        entry = next(s for s in plan.scenarios if s.scenario.name == name)
        sc = entry.scenario
        if seed is not None:
            sc = dataclasses.replace(sc, censor=dataclasses.replace(sc.censor, seed=seed))
        specs = {(t.tool, t.repeat): t for t in trials if t.kind == "tool"}

        def keep(run_, trial, specs=specs):
            nonlocal ran
            spec = specs[(trial.tool, trial.repeat)]
            results.write(out, results.record(plan, spec, shard, run_, trial))
            ran += 1
            counter.step(ran, f"{spec.id}: {trial.status}")

        def keep_probe(spec, result):
            nonlocal ran
            results.write(out, results.probe_record(plan, spec, shard, result))
            ran += 1
            s = result["score"]
            counter.step(ran, f"{spec.id}: precision {s['precision']}, recall {s['recall']}")

        if specs:
            order = [tools[n] for n in plan.tools if any(t == n for t, _ in specs)]
            repeat = max(r for _, r in specs) + 1
            run_scenario(sc, order, repeat, say, plan.bulk_rate, only=set(specs),
                         on_trial=keep)
        by_name = {p["name"]: p for p in plan.probes}
        probing = [(t, by_name[t.tool]) for t in trials if t.kind == "probe"]
        if probing:
            probes.run(sc, probing, keep_probe, say)
    return ran


def _lanes(plan: Plan, shard: str, out: Path, k: int, share: list, done: set[str],
           say: Callable[[str], None]) -> int:
    """K children, each `--lane J/K` of this shard; progress from the result files."""
    out.mkdir(parents=True, exist_ok=True)
    logs = out / ".logs"
    logs.mkdir(exist_ok=True)
    children = []
    for j in range(k):
        log = open(logs / f"shard-{shard.replace('/', 'of')}-lane-{j}.log", "w")
        argv = [sys.executable, "-m", "lab.cli", "campaign", "run", str(plan.path),
                "--shard", shard, "--out", str(out), "--lane", f"{j}/{k}"]
        children.append((subprocess.Popen(argv, stdout=log, stderr=log,
                                          env=dict(os.environ, BLOCKLAB_PROGRESS="0")), log))
    ids = {t.id for t in share}
    already = len(done & ids)
    counter = Counter(len(ids), already, say)
    seen = already
    try:
        while running := [p for p, _ in children if p.poll() is None]:
            now = len(_ids(out) & ids)
            if now != seen:
                seen = now
                counter.step(now - already)
            try:            # a second between progress counts, or less when a lane ends
                running[0].wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
    except BaseException:
        for p, _ in children:       # our children only: they tear their labs down
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p, _ in children:
            p.wait()
        raise
    finally:
        for _, log in children:
            log.close()
    bad = [(j, p.returncode) for j, (p, _) in enumerate(children) if p.returncode]
    if bad:
        j, rc = bad[0]
        tail = (logs / f"shard-{shard.replace('/', 'of')}-lane-{j}.log").read_text()
        last = (tail.strip().splitlines() or ["no output"])[-1]
        raise ShardError(f"lane {j}/{k} exited {rc}: {last} (logs in {logs})")
    return len(_ids(out) & ids) - already


def _ids(out: Path) -> set[str]:
    return {p.stem for p in out.glob("*" + results.SUFFIX) if not p.name.startswith(".")}
