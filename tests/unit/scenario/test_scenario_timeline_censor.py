"""Timeline entries aimed at one censor of several (`censor: NAME`, issue 15).

An entry without `censor:` changes the first censor, as before; with it, the named one, and
its enable/disable must name a rule in force at that censor at that time. A name that is no
censor's is reported at the value, with the censors there are.
"""
from __future__ import annotations

from lab.scenario import load
from scenario_helpers import errors, write

NET = """\
name: t
clients: [alice, bob]
servers:
  - {name: web, domains: [example.com], serve: [https]}
network:
  isps:
    - {name: home, clients: [alice]}
    - {name: mobile, clients: [bob]}
  censors:
    - name: tspu
      at: home.uplink
      rules: [{id: r1, match: {sni: example.com}, action: reset}]
    - name: gfw
      at: border
      rules: [{id: r2, match: {sni: example.com}, action: drop}]
"""


def test_entries_name_their_censor_or_change_the_first(tmp_path):
    sc = load(write(tmp_path, NET + """\
timeline:
  - {at: 1s, disable: r1}
  - {at: 2s, censor: gfw, disable: r2}
  - {at: 3s, censor: gfw, replace: {id: r3, match: {sni: x.example.com}, action: reset}}
  - {at: 4s, censor: gfw, enable: r3}
"""))
    assert [(e.op, e.rule_id, e.censor) for e in sc.timeline] == [
        ("disable", "r1", None), ("disable", "r2", "gfw"), ("replace", "r3", "gfw"),
        ("enable", "r3", "gfw")]
    assert sc.timeline[1].to_command() == {"cmd": "disable", "rule": "r2"}


def test_a_rule_of_another_censor_is_not_in_force_here(tmp_path):
    got = errors(tmp_path, NET + """\
timeline:
  - {at: 1s, disable: r2}
  - {at: 2s, censor: tspu, enable: r2}
""")
    assert got == ["s.yaml:17:23: timeline[0].disable: no rule 'r2' at 1s",
                   "s.yaml:18:36: timeline[1].enable: no rule 'r2' at 2s"]


def test_an_unknown_censor_is_named_with_the_censors_there_are(tmp_path):
    got = errors(tmp_path, NET + """\
timeline:
  - {at: 1s, censor: gwf, disable: r2}
""")
    assert got == ["s.yaml:17:22: timeline[0].censor: no censor named 'gwf' (did you mean "
                   "'gfw'?); censors: tspu, gfw"]


def test_a_star_scenario_may_name_its_one_censor(tmp_path):
    base = """\
name: t
clients: [alice]
servers:
  - {name: web, domains: [example.com], serve: [https]}
censor:
  name: box
  rules: [{id: r1, match: {sni: example.com}, action: reset}]
timeline:
  - {at: 1s, censor: box, disable: r1}
"""
    assert load(write(tmp_path, base)).timeline[0].censor == "box"
    got = errors(tmp_path, base.replace("censor: box,", "censor: gfw,"))
    assert got == ["s.yaml:9:22: timeline[0].censor: no censor named 'gfw'; censors: box"]
