"""`compare` on a routed network: trials from a client of each ISP read as one column per ISP.

Pure: trials as the runner hands them over (each with its client and ISP), through
lab.compare.report's matrix and Markdown. The real run is in
tests/integration/test_topology.py (a tool blocked on one ISP works on the other).
"""
from __future__ import annotations

from lab.compare.measure import Fetch
from lab.compare.report import markdown, matrix
from lab.compare.runner import ScenarioRun, Trial, classify

URL = "https://blocked.example.com/"


def trial(client: str, isp: str | None, ok: bool) -> Trial:
    t = Trial("basics-two-isps", "direct", 0, True, "",
              [Fetch(URL, ok, 200 if ok else None, 0.02, 600, 0.03,
                     "" if ok else "curl: (35) reset")],
              Fetch("https://vps/bulk", True, 200, 0.01, 1_000_000, 1.0), (1.0, 2.0),
              [] if ok else [{"t": 1.5, "rule": "sni-reset", "action": "reset"}],
              client=client, isp=isp)
    classify(t)
    return t


def run(*trials: Trial) -> ScenarioRun:
    r = ScenarioRun("basics-two-isps", "two ISPs", "ref", "alice",
                    {"name": "vps", "ip": "198.19.200.10", "domains": [], "added": True},
                    "https://vps/bulk", [{"url": URL, "expected_blocked": None}])
    r.trials = list(trials)
    return r


def test_each_isp_is_a_column_with_its_client():
    m = matrix([run(trial("alice", "home (AS64496)", False), trial("bob", "mobile", True))], 1)
    assert [(s["name"], s["isp"], s["client"], s["scenario"]) for s in m["scenarios"]] == [
        ("basics-two-isps · home (AS64496)", "home (AS64496)", "alice", "basics-two-isps"),
        ("basics-two-isps · mobile", "mobile", "bob", "basics-two-isps")]
    got = [(c["scenario"], c["isp"], c["client"], c["status"], c["blocked_by"])
           for c in m["cells"]]
    assert got == [("basics-two-isps · home (AS64496)", "home (AS64496)", "alice", "blocked",
                    ["sni-reset"]),
                   ("basics-two-isps · mobile", "mobile", "bob", "works", [])]
    md = markdown(m)
    assert "| tool | basics-two-isps · home (AS64496) | basics-two-isps · mobile |" in md
    assert "Client `bob`" in md


def test_a_trial_round_trips_with_its_client_and_isp():
    t = trial("bob", "mobile", True)
    back = Trial.from_dict(t.scenario, t.tool, t.as_dict())
    assert (back.client, back.isp, back.status) == ("bob", "mobile", "works")


def test_the_one_switch_lab_keeps_one_column_per_scenario():
    m = matrix([run(trial("alice", None, True))], 1)
    assert [s["name"] for s in m["scenarios"]] == ["basics-two-isps"]
    assert "isp" not in m["cells"][0] and m["cells"][0]["scenario"] == "basics-two-isps"


def test_a_dual_stack_clients_ipv6_flows_are_its_own():
    """curl prefers IPv6 in a dual-stack lab: the reset of alice's IPv6 flow is what blocked
    her trial; another client's IPv6 flow is not hers."""
    from lab.compare.runner import attribute
    t = Trial("basics-two-isps", "direct", 0, True, "",
              [Fetch(URL, False, None, 0.02, 0, 0.03, "curl: (35) reset")],
              Fetch("https://vps/bulk", True, 200, 0.01, 1_000_000, 1.0), (1.0, 2.0))
    events = [{"t": 1.5, "rule": "sni-reset", "action": "reset", "technique": "sni",
               "flow": {"src": "2001:db8::c612:10a", "dst": "2001:db8::c613:a",
                        "proto": "tcp", "dport": 443, "family": "ipv6"}},
              {"t": 1.6, "rule": "other", "action": "reset", "technique": "sni",
               "flow": {"src": "2001:db8::c612:20a", "dst": "2001:db8::c613:a",
                        "proto": "tcp", "dport": 443, "family": "ipv6"}}]
    attribute([t], events, ("198.18.1.10", "2001:db8::c612:10a"), "198.19.200.10")
    assert t.blocked_by == ["sni-reset"]
    assert [e["rule"] for e in t.events] == ["sni-reset"]
