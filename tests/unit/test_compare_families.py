"""`compare` in a dual-stack scenario: trials kept to one family read as a column per family
and a "which family got through" table; a single-stack comparison keeps its old shape.

Pure: trials as the runner hands them over, through lab.compare.report's matrix and
Markdown, and the attribution of events by either family's addresses. The real run is
tests/integration/test_compare_families.py.
"""
from __future__ import annotations

from types import SimpleNamespace

from lab.compare.base import SocksTool, Tool
from lab.compare.measure import Fetch
from lab.compare.report import markdown, matrix
from lab.compare.runner import ScenarioRun, Trial, attribute, classify, families
from lab.compare.tools import get

URL = "https://www.example.org/"


def trial(tool: str, family: str | None, ok: bool, t0: float = 1.0) -> Trial:
    t = Trial("dual", tool, 0, True, "",
              [Fetch(URL, ok, 200 if ok else None, 0.02, 600, 0.03,
                     "" if ok else "curl: (7) refused")],
              Fetch("https://vps/bulk", True, 200, 0.01, 1_000_000, 1.0), (t0, t0 + 1),
              [] if ok else [{"t": t0 + 0.5, "rule": "web-v6", "action": "reject"}],
              client="alice", family=family)
    classify(t)
    return t


def run(*trials: Trial) -> ScenarioRun:
    r = ScenarioRun("dual", "dual stack", "ref", "alice",
                    {"name": "vps", "ip": "198.19.0.11", "domains": [], "added": False},
                    "https://vps/bulk", [{"url": URL, "expected_blocked": None}])
    r.trials = list(trials)
    return r


def test_each_family_is_a_column_and_the_table_says_where_it_got_through():
    m = matrix([run(trial("direct", "ipv4", True), trial("direct", "ipv6", False),
                    trial("tor", None, True))], 1)
    assert [(s["name"], s.get("family"), s["scenario"]) for s in m["scenarios"]] == [
        ("dual · IPv4", "ipv4", "dual"), ("dual · IPv6", "ipv6", "dual"),
        ("dual · either family", None, "dual")]
    got = [(c["scenario"], c["tool"], c.get("family"), c["status"]) for c in m["cells"]]
    assert got == [("dual · IPv4", "direct", "ipv4", "works"),
                   ("dual · IPv6", "direct", "ipv6", "blocked"),
                   ("dual · either family", "tor", None, "works")]
    assert m["families"] == [{"tool": "direct", "scenario": "dual", "ipv4": "works",
                              "ipv6": "blocked", "through": "ipv4"}]
    md = markdown(m)
    assert "| tool | dual · IPv4 | dual · IPv6 | dual · either family |" in md
    assert "| direct | dual | ✅ works | ⛔ blocked | IPv4 only |" in md
    assert "3 columns: one per family" in md


def test_a_single_stack_comparison_keeps_its_shape():
    m = matrix([run(trial("direct", None, True))], 1)
    assert [s["name"] for s in m["scenarios"]] == ["dual"]
    assert "families" not in m and "family" not in m["cells"][0]
    assert "scenario" not in m["scenarios"][0] and "family" not in m["scenarios"][0]
    md = markdown(m)
    assert "| tool | dual |" in md and "Which family" not in md


def test_a_trial_round_trips_with_its_family():
    t = trial("direct", "ipv6", False)
    back = Trial.from_dict(t.scenario, t.tool, t.as_dict())
    assert (back.family, back.status) == ("ipv6", "blocked")
    assert "family" not in trial("direct", None, True).as_dict()


def test_events_on_either_familys_addresses_go_to_the_trial():
    v4, v6 = trial("ssh-socks", "ipv4", False), trial("ssh-socks", "ipv6", True, t0=3.0)
    events = [{"t": 1.5, "rule": "vps-v4", "action": "reject",
               "flow": {"src": "198.18.0.10", "dst": "198.19.0.11", "proto": "tcp",
                        "dport": 22}},
              {"t": 3.5, "rule": "other", "action": "allow",
               "flow": {"src": "2001:db8::c612:a", "dst": "2001:db8::c613:b", "proto": "tcp",
                        "dport": 22, "family": "ipv6"}}]
    attribute([v4, v6], events, ("198.18.0.10", "2001:db8::c612:a"),
              ("198.19.0.11", "2001:db8::c613:b"))
    assert [e["rule"] for e in v4.events] == ["vps-v4"] and v4.events[0]["on_tunnel"]
    assert [e["rule"] for e in v6.events] == ["other"] and v6.events[0]["on_tunnel"]
    assert v4.status == "blocked" and v6.status == "works"


def test_which_tools_run_per_family():
    dual, single = SimpleNamespace(ipv6=True), SimpleNamespace(ipv6=False)
    assert families(dual, get("direct")) == ("ipv4", "ipv6")
    assert families(single, get("direct")) == (None,)
    from lab.compare.tools import NAMES
    pinned = {n for n in NAMES if get(n).pins_family}
    assert pinned == {"direct", "doh", "dot", "ssh-socks", "shadowsocks", "tls-tunnel",
                      "obfs4", "split-hello-tcp", "split-hello-records", "quic-fallback",
                      "fake-badsum", "fake-badseq", "disorder", "multisplit", "fake-ttl",
                      "tcb-teardown"}


def test_a_pinned_direct_fetch_gets_curls_family_option_a_socks_one_none():
    ctx = SimpleNamespace(curl_family=lambda: ["-6"])
    assert Tool().curl_family(ctx) == ["-6"] and SocksTool().curl_family(ctx) == []


def test_the_vps_added_to_a_dual_stack_scenario_has_its_ipv6_address(tmp_path):
    from lab import scenario as scenarios
    from lab.compare import vps
    from lab.scenario.addressing import ip6_for
    path = tmp_path / "dual.yaml"
    path.write_text("name: dual\ntitle: t\nsources: [s]\nipv6: true\nclients: [alice]\n"
                    "servers:\n  - {name: web, domains: [www.example.org], serve: [https]}\n")
    prepared = vps.prepare(scenarios.load(str(path)))
    assert prepared.vps_added and prepared.vps.ip6 == ip6_for(prepared.vps.ip)
    path.write_text(path.read_text().replace("ipv6: true\n", "ipv6: false\n"))
    assert vps.prepare(scenarios.load(str(path))).vps.ip6 is None
