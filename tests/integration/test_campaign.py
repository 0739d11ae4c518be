"""`blocklab campaign` with real labs: two shards at once merge to what one unsharded run
(its two labs at once, `--labs 2`) gives, a shard stopped midway resumes without running
its finished trials again, and probe trials score detectors against the censor.

Kept small (2 scenarios × 2 tools × 2 repeats, the cheapest tools, bulk capped): the three
tests take about two minutes with -n 2 on two shared cores.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from helpers import REPO, blocklab, blocklab_popen
from lab.run.wait import wait_until

TIMEOUT = 300
PLAN = """\
name: integration
scenarios: [basics/open, basics/sni-drop]
tools: [direct, ssh-socks]
repeats: 2
options: {bulk_rate: 100Mbit}
"""
EXPECTED = {("basics-open", "direct"): "works", ("basics-open", "ssh-socks"): "works",
            ("basics-sni-drop", "direct"): "partial", ("basics-sni-drop", "ssh-socks"): "works"}


def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN)
    return path


def merged(*folders: Path) -> dict:
    r = blocklab("campaign", "merge", *map(str, folders), "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def statuses(m: dict) -> dict:
    return {(c["scenario"], c["tool"]): (c["status"], [t["status"] for t in c["trials"]])
            for c in m["cells"]}


def runs_owned_by(pid: int) -> list[str]:
    runs = Path(os.environ.get("BLOCKLAB_RUNS", "/run/blocklab"))
    out = []
    for state in runs.glob("*/state.json"):
        try:
            if json.loads(state.read_text()).get("owner_pid") == pid:
                out.append(state.parent.name)
        except (OSError, ValueError):
            continue
    return out


def test_two_shards_at_once_merge_to_the_unsharded_statuses(tmp_path):
    plan = plan_file(tmp_path)
    # the unsharded run takes its two labs at once (--labs 2): a lane each
    procs = {name: blocklab_popen("campaign", "run", str(plan), "--shard", shard,
                                  "--out", str(tmp_path / name), *more,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name, shard, more in (("whole", "0/1", ["--labs", "2"]), ("a", "0/2", []),
                                       ("b", "1/2", []))}
    for name, p in procs.items():
        out, err = p.communicate(timeout=TIMEOUT)
        assert p.returncode == 0, f"{name}: exit {p.returncode}\n{err[-3000:]}"
        assert "trials done" in err                  # progress on stderr
    assert len(list((tmp_path / "whole" / ".logs").glob("*lane-*.log"))) == 2
    a = {f.name for f in (tmp_path / "a").glob("*.json")}
    b = {f.name for f in (tmp_path / "b").glob("*.json")}
    assert a and b and not a & b and len(a | b) == 8
    whole, sharded = merged(tmp_path / "whole"), merged(tmp_path / "a", tmp_path / "b")
    assert statuses(sharded) == statuses(whole)
    assert {k: v[0] for k, v in statuses(sharded).items()} == EXPECTED
    assert sharded["campaign"]["trials"] == 8 and not sharded["campaign"]["missing"]
    assert sharded["tools"] == whole["tools"] == ["direct", "ssh-socks"]
    rec = json.loads(next((tmp_path / "a").glob("*.json")).read_text())
    assert rec["plan_hash"] == sharded["campaign"]["plan_hash"]
    assert rec["datapath"] in ("kernel", "userspace") and rec["versions"]["openvswitch"]


def test_a_stopped_shard_resumes_without_repeating_finished_trials(tmp_path):
    plan = plan_file(tmp_path)
    out = tmp_path / "out"
    p = blocklab_popen("campaign", "run", str(plan), "--shard", "0/2", "--out", str(out),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: any(out.glob("*.json")) or p.poll() is not None, 240,
                   "the shard's first result file")
    finally:
        p.send_signal(signal.SIGTERM)            # our own shard: it tears its lab down
        p.communicate(timeout=120)
    assert p.returncode != 0
    assert runs_owned_by(p.pid) == []            # its lab is gone
    before = {f.name: (f.stat().st_mtime_ns, f.read_text()) for f in out.glob("*.json")}
    assert 1 <= len(before) < 4
    r = blocklab("campaign", "run", str(plan), "--shard", "0/2", "--out", str(out),
                 timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"{len(before)} already in" in r.stderr
    after = {f.name: (f.stat().st_mtime_ns, f.read_text()) for f in out.glob("*.json")}
    assert len(after) == 4
    assert {k: after[k] for k in before} == before          # not run again
    assert not list(out.glob(".*.tmp"))
    m = blocklab("campaign", "merge", str(out), "--json")       # shard 1/2 never ran
    assert m.returncode == 1 and "4 trial(s) missing" in m.stderr
    assert json.loads(m.stdout)["campaign"]["trials"] == 4


def test_probe_trials_score_detectors_against_the_censor(tmp_path):
    naive = REPO / "docs" / "examples" / "naive_detector.py"
    plan = tmp_path / "probes.yaml"
    plan.write_text("name: detectors\nscenarios: [basics/sni-drop]\nprobes:\n"
                    "  - {name: builtin}\n"
                    f"  - {{name: naive, detector: '{sys.executable} {naive} {{url}}'}}\n")
    r = blocklab("campaign", "run", str(plan), "--out", str(tmp_path / "out"), timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr[-3000:]
    m = merged(tmp_path / "out")
    found = {e["probe"]: e for e in m["campaign"]["probes"]}
    # sni-drop blocks one of its two targets after DNS: the prober sees it, the naive
    # detector (a name that resolves is open) misses it
    assert found["builtin"]["confusion"] == {"TP": 1, "FP": 0, "FN": 0, "TN": 1}
    assert found["naive"]["confusion"] == {"TP": 0, "FP": 0, "FN": 1, "TN": 1}
    assert m["cells"] == [] and m["campaign"]["trials"] == 2
