"""One censor rule typed as YAML (the shell's and the dashboard's `add`), checked as the
scenario loader checks the rules of a file: its schema, then the rule checks against the
running scenario's hosts, each problem as LINE:COL: message."""
from __future__ import annotations

from pathlib import Path

def check_rule_yaml(scenario, text: str) -> tuple[dict | None, list[str]]:
    """(the rule in policy form, []) or (None, problems): the YAML text of one rule, checked
    with the scenario loader's schema and rule checks against this scenario's hosts."""
    from lab.scenario import schema_check, yamlpos
    from lab.scenario.build import build
    from lab.scenario.errors import Marks, Reporter
    try:
        data, marks, problems = yamlpos.load(text)
    except yamlpos.YamlProblem as p:
        return None, [f"{p.line}:{p.col}: {p.message}"]
    if problems:
        return None, [f"{p.line}:{p.col}: {p.message}" for p in problems]
    if not isinstance(data, dict):
        return None, ["a rule is a mapping: {id: x, match: {...}, action: ...}"]
    where = ("censor", "rules", 0)
    shifted = Marks()
    shifted.values = {where + k: v for k, v in marks.values.items()}
    shifted.keys = {where + k: v for k, v in marks.keys.items()}
    doc = {"name": "shell",
           "clients": [{"name": h.name, "address": h.ip} for h in scenario.clients],
           "servers": [{"name": s.name, "domains": list(s.domains), "serve": list(s.serve),
                        "address": s.ip} for s in scenario.servers],
           "censor": {"mode": scenario.censor.mode, "rules": [data]}}
    rep = Reporter("rule", shifted)
    schema_check.check(doc, rep)
    built = build(rep, doc, Path("rule")) if not rep.diagnostics else None
    if rep.diagnostics or built is None:
        return None, [f"{d.line}:{d.col}: " + d.message.replace("censor.rules[0].", "")
                      .replace("censor.rules[0]", "rule") for d in rep.diagnostics] \
            or ["not a rule"]
    return built.censor.rules[0].to_policy(), []
