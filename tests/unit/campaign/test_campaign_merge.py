"""`blocklab campaign merge` over result folders written as a shard writes them (no lab):
the compare matrix, missing trials named, another plan's results refused, resume bookkeeping."""
from __future__ import annotations

import json

import pytest

from lab.campaign import plan as plans
from lab.campaign import results
from lab.campaign.shard import ShardError, done_ids
from lab.cli import main
from lab.compare.measure import Fetch
from lab.compare.runner import ScenarioRun, Trial

PLAN = """\
name: unit
scenarios: [basics/open, basics/sni-drop]
tools: [direct, ssh-socks]
repeats: 2
"""


def load_plan(tmp_path, text=PLAN, name="plan.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return plans.load(path)


def fake_trial(spec) -> tuple[ScenarioRun, Trial]:
    """What the runner hands over: sni-drop's first target fails for `direct`."""
    urls = ["https://a.example/", "https://b.example/"]
    run = ScenarioRun(spec.scenario, "t", "ref", "alice", {"name": "vps", "ip": "198.19.200.10",
                      "domains": ["vps.example.net"], "added": True},
                      "https://vps.example.net/bulk/100M",
                      [{"url": u, "expected_blocked": None} for u in urls])
    cut = spec.scenario == "basics-sni-drop" and spec.tool == "direct"
    fetches = [Fetch(u, not (cut and i == 0), 200, 0.02 + spec.repeat / 100, 600, 0.03,
                     "curl: (28) timed out" if cut and i == 0 else "") for i, u in enumerate(urls)]
    trial = Trial(spec.scenario, spec.tool, spec.repeat, True, "", fetches,
                  Fetch(run.bulk_url, True, 200, 0.01, 37_500_000 + spec.repeat, 3.0),
                  (1.0, 4.0), [{"t": 2.0, "rule": "sni-drop", "action": "drop"}] if cut else [])
    from lab.compare.runner import classify
    classify(trial)
    return run, trial


def write_shards(p, folders, skip=()):
    shards = plans.split([t.id for t in p.trials()], len(folders))
    for spec in p.trials():
        if spec.id in skip:
            continue
        folder = folders[shards[spec.id]]
        run, trial = fake_trial(spec)
        results.write(folder, results.record(p, spec, f"?/{len(folders)}", run, trial))


def test_two_shards_merge_to_the_compare_matrix(tmp_path, capsys):
    p = load_plan(tmp_path)
    a, b = tmp_path / "machine-a", tmp_path / "machine-b"
    write_shards(p, [a, b])
    assert len(list(a.glob("*.json"))) + len(list(b.glob("*.json"))) == 8
    assert main(["campaign", "merge", str(a), str(b), "--json",
                 "--report", str(tmp_path / "rep")]) == 0
    m = json.loads(capsys.readouterr().out)
    cells = {(c["scenario"], c["tool"]): c for c in m["cells"]}
    assert {k: c["status"] for k, c in cells.items()} == {
        ("basics-open", "direct"): "works", ("basics-open", "ssh-socks"): "works",
        ("basics-sni-drop", "direct"): "partial", ("basics-sni-drop", "ssh-socks"): "works"}
    assert m["tools"] == ["direct", "ssh-socks"] and m["repeat"] == 2
    c = cells[("basics-sni-drop", "direct")]
    assert [t["repeat"] for t in c["trials"]] == [0, 1]
    assert c["blocked_by"] == ["sni-drop"]
    assert c["success_rate"]["ok"] == 2 and c["success_rate"]["of"] == 4
    lo, hi = c["success_rate"]["wilson95"]
    assert 0 < lo < 0.5 < hi < 1
    assert c["goodput_mbit"]["n"] == 2 and c["goodput_mbit"]["ci95"]
    assert m["campaign"]["trials"] == m["campaign"]["expected"] == 8
    assert m["campaign"]["missing"] == [] and m["campaign"]["datapaths"]
    for name in ("compare.json", "compare.md", "goodput.png", "success.png"):
        assert (tmp_path / "rep" / name).stat().st_size > 0
    assert "| direct | ✅ works" in (tmp_path / "rep" / "compare.md").read_text()


def test_missing_trials_are_named_and_the_rest_is_merged(tmp_path, capsys):
    p = load_plan(tmp_path)
    a = tmp_path / "a"
    gone = {"basics-open~ssh-socks~r1", "basics-sni-drop~ssh-socks~r0",
            "basics-sni-drop~ssh-socks~r1"}
    write_shards(p, [a], skip=gone)
    assert main(["campaign", "merge", str(a)]) == 1
    out, err = capsys.readouterr()
    assert "3 trial(s) missing" in err
    assert "basics-open~ssh-socks~r1 (scenario basics-open, tool ssh-socks, repeat 1)" in err
    assert "| ssh-socks | ✅ works" in out and "– (no trials)" in out


def test_results_of_another_plan_are_refused_naming_both_hashes(tmp_path, capsys):
    p = load_plan(tmp_path)
    q = load_plan(tmp_path, PLAN.replace("repeats: 2", "repeats: 1"), "other.yaml")
    write_shards(p, [tmp_path / "a"])
    write_shards(q, [tmp_path / "b"])
    assert main(["campaign", "merge", str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    err = capsys.readouterr().err
    assert "results of two plans" in err and p.hash in err and q.hash in err
    assert len(err.strip().splitlines()) == 1
    # and a shard will not write into another plan's folder
    with pytest.raises(ShardError, match=f"another plan.*{q.hash}"):
        done_ids(q, tmp_path / "a")


def test_a_shard_resumes_from_the_files_it_finds(tmp_path):
    p = load_plan(tmp_path)
    a = tmp_path / "a"
    write_shards(p, [a], skip={t.id for t in p.trials()[4:]})
    dead = a / ".basics-open~direct~r0.999999999.tmp"               # a killed write
    dead.write_text("half")
    assert done_ids(p, a) == {t.id for t in p.trials()[:4]}
    assert results.sweep(a) == [dead] and not dead.exists()


def test_not_a_result_file_is_one_line(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.json").write_text("{}")
    assert main(["campaign", "merge", str(tmp_path / "a")]) == 1
    assert "not a campaign result file" in capsys.readouterr().err


def test_probe_trials_merge_into_a_detector_table(tmp_path, capsys):
    p = load_plan(tmp_path, "scenarios: [basics/sni-drop]\ntools: [direct]\nrepeats: 2\n"
                            "probes: [{name: builtin}, {name: naive, detector: 'd {url}'}]\n")
    a = tmp_path / "a"
    for spec in p.trials():
        if spec.kind == "tool":
            run, trial = fake_trial(spec)
            results.write(a, results.record(p, spec, "0/1", run, trial))
            continue
        right = spec.tool == "builtin"
        score = {"confusion": {"TP": int(right), "FP": 0, "FN": int(not right), "TN": 1},
                 "precision": 1.0 if right else None, "recall": 1.0 if right else 0.0}
        probe = next(x for x in p.probes if x["name"] == spec.tool)
        results.write(a, results.probe_record(p, spec, "0/1", {"probe": probe,
                                                               "score": score}))
    assert main(["campaign", "merge", str(a), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert [c["tool"] for c in m["cells"]] == ["direct"]          # probes are not tools
    found = {e["probe"]: e for e in m["campaign"]["probes"]}
    assert found["builtin"]["confusion"] == {"TP": 2, "FP": 0, "FN": 0, "TN": 2}
    assert found["builtin"]["recall"]["pooled"] == 1.0
    assert found["naive"]["recall"]["pooled"] == 0.0 and found["naive"]["detector"] == "d {url}"
    lo, hi = found["naive"]["recall"]["wilson95"]
    assert lo == 0.0 and 0.5 < hi < 0.8
    assert found["naive"]["precision"]["pooled"] is None
    assert main(["campaign", "merge", str(a), "--report", str(tmp_path / "rep")]) == 0
    out = capsys.readouterr().out
    assert "## Detectors" in out and "| basics-sni-drop | naive | 2 | 0 | 0 | 2 | 2 | – |" in out
    assert "## Detectors" in (tmp_path / "rep" / "probes.md").read_text()
