"""A flow's candidate rules are worked out once, and again after any rule change mid-flow."""
import pytest

from controllers.engine.effects import Event
from controllers.engine.engine import Engine
from engine_helpers import TcpClient, client_hello, policy, rule

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
