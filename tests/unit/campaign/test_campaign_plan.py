"""Campaign plans as a user writes them: FILE:LINE:COL errors, globs, trials, the hash, shards."""
from __future__ import annotations

import pytest

from lab.campaign import plan as plans
from lab.campaign.shard import ShardError, parse_shard
from lab.cli import main

GOOD = """\
name: smoke
scenarios: [basics/open, basics/sni-drop]
tools: [direct, ssh-socks]
repeats: 2
options: {bulk_rate: 100Mbit}
"""


def write(tmp_path, text, name="plan.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_plan_lists_its_trials_with_stable_readable_ids(tmp_path):
    p = plans.load(write(tmp_path, GOOD))
    ids = [t.id for t in p.trials()]
    assert len(ids) == 8 == len(set(ids))
    assert ids[:2] == ["basics-open~direct~r0", "basics-open~ssh-socks~r0"]
    assert p.bulk_rate == 100_000_000 and p.repeats == 2


def test_the_hash_ignores_layout_and_follows_what_is_measured(tmp_path):
    a = plans.load(write(tmp_path, GOOD))
    b = plans.load(write(tmp_path, "# same study\n" + GOOD.replace("name: smoke", "name: other"),
                         "b.yaml"))
    c = plans.load(write(tmp_path, GOOD.replace("repeats: 2", "repeats: 3"), "c.yaml"))
    assert a.hash == b.hash != c.hash


def test_seeds_give_a_lab_each_and_unique_repeats(tmp_path):
    p = plans.load(write(tmp_path, GOOD + "seeds: [1, 7]\n"))
    trials = p.trials()
    assert len(trials) == 16
    assert {(t.repeat, t.seed) for t in trials if t.tool == "direct"
            and t.scenario == "basics-open"} == {(0, 1), (1, 1), (2, 7), (3, 7)}
    assert "basics-open~direct~r2~s7" in {t.id for t in trials}


def test_globs_of_bundled_names_and_of_files_relative_to_the_plan(tmp_path):
    (tmp_path / "mine").mkdir()
    src = plans.scenarios.resolve("basics/open").read_text()
    (tmp_path / "mine" / "a.yaml").write_text(src.replace("name: basics-open", "name: mine-a"))
    p = plans.load(write(tmp_path, "scenarios: ['basics/dns-*', 'mine/*.yaml']\n"
                                   "tools: all\n"))
    names = [s.scenario.name for s in p.scenarios]
    assert "basics-dns-drop" in names and names[-1] == "mine-a"
    assert all(n.startswith("basics-dns-") for n in names[:-1])
    assert "direct" in p.tools and len(p.tools) > 5


def test_every_problem_at_its_line_and_column(tmp_path):
    path = write(tmp_path, "scenarios: [basics/opne, 'basics/zz*', basics/open, basics/open]\n"
                           "tools: [direct, shadowsock, tor-snowflake]\n"
                           "repeats: 0\n"
                           "seeds: [1, 1]\n"
                           "options: {bulk_rate: 100mbps}\n"
                           "extra: 1\n")
    with pytest.raises(plans.PlanError) as e:
        plans.load(path)
    text = str(e.value)
    for expected in (
            f"{path}:1:13: scenarios[0]: no scenario named 'basics/opne'",
            "did you mean 'basics/open'?",
            f"{path}:1:26: scenarios[1]: 'basics/zz*' matches no scenario",
            f"{path}:1:53: scenarios[3]: scenario basics/open is named 'basics-open', like",
            f"{path}:2:17: tools[1]: unknown tool 'shadowsock' (did you mean 'shadowsocks'?)",
            f"{path}:2:29: tools[2]: unknown tool 'tor-snowflake': left out",
            f"{path}:3:10: repeats: 0 is out of range 1..1000",
            f"{path}:4:12: seeds[1]: seed 1 is listed twice",
            f"{path}:5:22: options.bulk_rate: bad rate '100mbps' (did you mean '100Mbit'?)",
            f"{path}:6:1: unknown key 'extra'"):
        assert expected in text, text


def test_yaml_errors_and_bad_scenarios_are_positions_too(tmp_path):
    with pytest.raises(plans.PlanError, match=r"plan.yaml:2:\d+: "):
        plans.load(write(tmp_path, "scenarios: [basics/open\ntools: [direct\n"))
    broken = write(tmp_path, "name: x\nclients: [alice]\nservers: 3\n", "broken.yaml")
    with pytest.raises(plans.PlanError) as e:
        plans.load(write(tmp_path, "scenarios: [broken.yaml]\ntools: [direct]\n"))
    assert "plan.yaml:1:13: scenarios[0]: scenario broken.yaml does not load" in str(e.value)
    assert f"{broken.name}:3:" in str(e.value)


def test_the_split_is_by_trial_id_whatever_the_order_and_even(tmp_path):
    p = plans.load(write(tmp_path, GOOD))
    ids = [t.id for t in p.trials()]
    for n in (1, 2, 3, 7):
        shards = plans.split(ids, n)
        assert shards == plans.split(list(reversed(ids)), n)
        sizes = [list(shards.values()).count(k) for k in range(n)]
        assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 8
    many = [plans.trial_id(f"s{i}", "direct", r, None) for i in range(100) for r in range(10)]
    assert sorted(list(plans.split(many, 4).values()).count(k) for k in range(4)) == [250] * 4


def test_a_packed_split_is_as_even_with_few_labs_per_shard(tmp_path):
    p = plans.load(write(tmp_path, "scenarios: ['basics/dns-*', basics/open]\n"
                                   "tools: [direct, ssh-socks, shadowsocks]\nrepeats: 3\n"
                                   "split: packed\n"))
    trials = p.trials()
    labs = {t.scenario for t in trials}
    for n in (2, 3, 5):
        shards = p.shards(n)
        assert shards == plans.packed(list(reversed(trials)), n)
        sizes = [list(shards.values()).count(k) for k in range(n)]
        assert max(sizes) - min(sizes) <= 1
        per = [len({t.scenario for t in trials if shards[t.id] == k}) for k in range(n)]
        assert max(per) <= len(labs) // n + 2, per
    assert p.hash == plans.load(write(tmp_path, "scenarios: ['basics/dns-*', basics/open]\n"
                                                "tools: [direct, ssh-socks, shadowsocks]\n"
                                                "repeats: 3\n", "spread.yaml")).hash


@pytest.mark.parametrize("text, env, want", [
    ("0/1", {}, (0, 1)),
    ("3/4", {}, (3, 4)),
    ("auto", {"JOB_COMPLETION_INDEX": "2", "BLOCKLAB_SHARDS": "5"}, (2, 5)),
    ("auto/8", {"JOB_COMPLETION_INDEX": "7"}, (7, 8)),
    ("auto", {"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1",
              "SLURM_ARRAY_TASK_COUNT": "4"}, (3, 4)),
    ("auto/3", {"BLOCKLAB_SHARD": "0"}, (0, 3)),
])
def test_shard_forms(text, env, want):
    assert parse_shard(text, env) == want


@pytest.mark.parametrize("text, env, message", [
    ("2/2", {}, "index 2 is outside 0..1"),
    ("1", {}, "expected I/N"),
    ("a/b", {}, "expected I/N"),
    ("auto", {}, "none of JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, BLOCKLAB_SHARD is set"),
    ("auto", {"JOB_COMPLETION_INDEX": "1"}, "the number of shards is unknown"),
])
def test_bad_shards_are_one_line(text, env, message):
    with pytest.raises(ShardError, match=message):
        parse_shard(text, env)


@pytest.mark.parametrize("args, message", [
    (["campaign", "run", "PLAN", "--out", "x", "--shard", "5/2"],
     "campaign run: --shard 5/2: index 5 is outside 0..1"),
    (["campaign", "run", "PLAN", "--out", "x", "--labs", "0"], "--labs must be at least 1"),
    (["campaign", "plan", "nowhere.yaml"], "nowhere.yaml:1:1: cannot read the plan"),
    (["campaign", "merge", "nowhere"], "campaign merge: nowhere: no such folder"),
])
def test_cli_errors_are_one_line_without_traceback(tmp_path, capsys, args, message):
    path = write(tmp_path, GOOD)
    args = [str(path) if a == "PLAN" else a for a in args]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_plan_shows_the_layout(tmp_path, capsys):
    assert main(["campaign", "plan", str(write(tmp_path, GOOD)), "--shards", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 scenario(s) × 2 tool(s) × 2 repeat(s) = 8 trials in 2 lab(s); split: spread" in out
    assert "shard 0/2:" in out and "shard 1/2:" in out


def test_probes_are_trials_of_their_own(tmp_path):
    p = plans.load(write(tmp_path, "scenarios: [basics/sni-drop]\nrepeats: 2\nprobes:\n"
                                   "  - {name: builtin}\n"
                                   "  - {name: naive, detector: 'python3 d.py {url}'}\n"))
    trials = p.trials()
    assert [t.id for t in trials] == [
        "basics-sni-drop~probe-builtin~r0", "basics-sni-drop~probe-naive~r0",
        "basics-sni-drop~probe-builtin~r1", "basics-sni-drop~probe-naive~r1"]
    assert {t.kind for t in trials} == {"probe"} and p.tools == ()
    assert p.probes[1] == {"name": "naive", "detector": "python3 d.py {url}", "timeout": 60.0}


def test_bad_probes_at_their_line_and_column(tmp_path):
    path = write(tmp_path, "scenarios: [basics/open]\nprobes:\n  - {name: A b}\n"
                           "  - {name: x, detectr: y}\n  - {name: y}\n  - {name: y}\n")
    with pytest.raises(plans.PlanError) as e:
        plans.load(path)
    text = str(e.value)
    assert f"{path}:3:12: probes[0].name: bad value 'A b'" in text
    assert f"{path}:4:15: probes[1]: unknown key 'detectr' (did you mean 'detector'?)" in text
    assert f"{path}:6:12: probes[3].name: probe 'y' is listed twice" in text
    with pytest.raises(plans.PlanError, match="needs tools, probes or both"):
        plans.load(write(tmp_path, "scenarios: [basics/open]\n", "none.yaml"))
