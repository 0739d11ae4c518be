"""A flow's candidate rules are worked out once, and again after any rule change mid-flow."""
import pytest

from controllers.engine.effects import Event
from controllers.engine.engine import Engine
from engine_helpers import ALICE, DNSSRV, TcpClient, client_hello, dns_query, policy, rule, udp

FT = "facetime.apple.com"


def decide(e: Engine, c: TcpClient, sni: str, change: dict | None) -> list[dict]:
    e.packet_in(c.syn(), 1, 0.0)
    e.packet_in(c.ack_(), 1, 0.0)                 # the flow's candidates are known by now
    if change:
        reply, _ = e.control(change, 0.1)
        assert reply["ok"], reply
    effects = e.packet_in(c.data(client_hello(sni)), 1, 0.2)
    return [x.record for x in effects if isinstance(x, Event)]


def test_candidates_are_reused_within_a_flow():
    e = Engine(policy(rule("ft", {"sni": [FT]}, "drop")))
    c = TcpClient()
    e.packet_in(c.syn(), 1, 0.0)
    flow = next(iter(e.flows))
    first = flow.candidates
    e.packet_in(c.ack_(), 1, 0.0)
    assert flow.candidates is first and [r.id for r in first[1]] == ["ft"]
    assert decide(e, TcpClient(sport=40001), FT, None)[0]["rule"] == "ft"


@pytest.mark.parametrize("change, expect", [
    ({"cmd": "disable", "rule": "ft"}, None),
    ({"cmd": "add", "rule": rule("ok", {"sni": [FT]}, "allow"), "index": 0}, "ok"),
    ({"cmd": "replace", "rule": rule("ft", {"sni": ["other.example"]}, "drop")}, None),
    ({"cmd": "policy", "rules": [rule("new", {"sni": [FT]}, "reset")]}, "new"),
])
def test_a_rule_change_mid_flow_is_seen_by_the_flow(change, expect):
    e = Engine(policy(rule("ft", {"sni": [FT]}, "drop")))
    records = decide(e, TcpClient(), FT, change)
    decided = [r["rule"] for r in records if r.get("technique") == "sni"]
    assert decided == ([expect] if expect else [])


def test_an_enabled_rule_mid_flow_is_seen_by_the_flow():
    e = Engine(policy(rule("other", {"sni": ["other.example"]}, "drop"),   # keeps it open
                      rule("ft", {"sni": [FT]}, "drop", enabled=False)))
    records = decide(e, TcpClient(), FT, {"cmd": "enable", "rule": "ft"})
    assert [r["rule"] for r in records if r.get("technique") == "sni"] == ["ft"]


def dns_decisions(e: Engine, names: list[str], sport: int = 20000) -> list:
    out = []
    for i, name in enumerate(names):
        eff = e.packet_in(udp(ALICE, DNSSRV, sport + i, 53, dns_query(name)), 1, i * 0.01)
        out.append([x.record["rule"] for x in eff if isinstance(x, Event)])
    return out


DNS_RULES = [rule("sub", {"dns": ["*.blocked.example"]}, "nxdomain"),
             rule("exact", {"dns": ["a.example", "b.example"]}, "refused"),
             rule("not", {"dns": ["*.example"], "not": {"dns": ["c.example"]}}, "servfail")]
NAMES = ["x.blocked.example", "a.example", "c.example", "d.example", "other.test",
         "X.Blocked.Example", "a.example", "c.example", "d.example", "other.test"]


def test_remembered_walks_decide_as_walking_every_rule():
    """A DNS query for a name seen before is decided from the remembered walk: the same
    rule as a fresh engine walking every rule for that one name."""
    e = Engine(policy(*DNS_RULES))
    remembered = dns_decisions(e, NAMES)
    fresh = [dns_decisions(Engine(policy(*DNS_RULES)), [n])[0] for n in NAMES]
    assert remembered == fresh == [["sub"], ["exact"], [], ["not"], [], ["sub"], ["exact"],
                                   [], ["not"], []]
    assert e.stats()["decisions"] == len(NAMES)


def test_a_rule_change_forgets_remembered_walks():
    e = Engine(policy(*DNS_RULES))
    assert dns_decisions(e, ["a.example"]) == [["exact"]]
    reply, _ = e.control({"cmd": "disable", "rule": "exact"}, 1.0)
    assert reply["ok"]
    assert dns_decisions(e, ["a.example"], 21000) == [["not"]]


def test_rules_that_draw_are_walked_for_every_flow():
    """A probability rule among the candidates: each flow draws (reproducibly by seed)."""
    coin = {**rule("coin", {"dns": ["*.example"]}, "nxdomain"), "probability": 0.5}
    names = ["a.example"] * 40
    first = dns_decisions(Engine(policy(coin)), names)
    assert first == dns_decisions(Engine(policy(coin)), names)
    assert 5 < sum(1 for r in first if r == ["coin"]) < 35
