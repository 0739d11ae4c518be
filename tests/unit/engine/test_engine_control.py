"""control(): live rule changes rebuild steering; malformed commands are answered, not raised."""
import pytest
from hypothesis import given, settings, strategies as st

from controllers.engine.effects import AddMeter, Event, RemoveFlows, RemoveMeter
from controllers.engine.engine import Engine
from controllers.rules.ruleset import meter_shape
from controllers.switch.tables import STEER_GENERATION_MASK, steer_cookie
from engine_helpers import TcpClient, client_hello, policy, rule
from fakeswitch import FakeSwitch


def burst(rate: int) -> int:
    return meter_shape(rate)[1]


FT = "facetime.apple.com"


def timeline(effects):
    return [e.record for e in effects if isinstance(e, Event)]


def test_status_and_rules():
    e = Engine(policy(rule("ft", {"sni": [FT]}, "drop")))
    reply, eff = e.control({"cmd": "status"}, 1.0)
    assert reply["ok"] and reply["mode"] == "inline" and reply["rules"] == 1 and eff == []
    reply, _ = e.control({"cmd": "rules"}, 1.0)
    assert reply == {"ok": True, "rules": [{"id": "ft", "enabled": True, "hits": 0,
                                            "action": {"type": "drop"},
                                            "match": {"sni": [FT]}}]}


def test_disable_removes_steering_but_keeps_established_flows():
    e = Engine(policy(rule("ft", {"sni": [FT]}, "drop")))
    sw = FakeSwitch(e)
    c = TcpClient()
    for f, port in ((c.syn(), 1), (c.ack_(), 1), (c.data(client_hello("ok.example")), 1)):
        sw.send(f, port, 0.0)
    reply, eff = e.control({"cmd": "disable", "rule": "ft"}, 5.0)
    assert reply == {"ok": True}
    assert timeline(eff) == [{"rule": "ft", "technique": "timeline", "action": "disable",
                              "flow": None, "detail": {}}]
    assert RemoveFlows(steer_cookie(1), STEER_GENERATION_MASK) in eff
    sw.apply(eff, 5.0)
    assert sw.steering() == []
    assert sw.send(c.data(b"more", 600), 1, 6.0) == "normal"        # its pair stays
    reply, eff = e.control({"cmd": "enable", "rule": "ft"}, 7.0)
    sw.apply(eff, 7.0)
    # three client ports, each with its steering, SYN and ACK entries; one SYN-ACK copy
    assert len(sw.steering()) == 10
    assert {s.cookie for s in sw.steering()} == {steer_cookie(3), steer_cookie(3, copy=True)}
    assert e.control({"cmd": "rules"}, 8.0)[0]["rules"][0]["enabled"] is True


def test_add_an_exception_first_and_replace():
    e = Engine(policy(rule("ft", {"sni": ["*.apple.com"]}, "drop")))
    reply, eff = e.control({"cmd": "add", "index": 0,
                            "rule": rule("ok", {"sni": [FT]}, "allow")}, 1.0)
    assert reply["ok"] and timeline(eff)[0]["action"] == "add"
    assert [r["id"] for r in e.control({"cmd": "rules"}, 1.0)[0]["rules"]] == ["ok", "ft"]
    c = TcpClient()
    e.packet_in(c.syn(), 1, 2.0)
    e.packet_in(c.ack_(), 1, 2.0)
    ev = [x.record for x in e.packet_in(c.data(client_hello(FT)), 1, 2.0)
          if isinstance(x, Event)]
    assert ev[0]["action"] == "allow" and ev[0]["rule"] == "ok"
    reply, eff = e.control({"cmd": "replace", "rule": rule("ft", {"sni": ["x.com"]}, "reset")},
                           3.0)
    assert reply["ok"] and timeline(eff)[0]["detail"]["added"] is False
    assert e.control({"cmd": "rules"}, 3.0)[0]["rules"][1]["action"] == {"type": "reset"}
    reply, eff = e.control({"cmd": "policy", "rules": []}, 4.0)
    assert reply["ok"] and timeline(eff)[0]["action"] == "policy"
    assert e.control({"cmd": "status"}, 4.0)[0]["rules"] == 0


def test_rule_meter_follows_enable_and_disable():
    e = Engine(policy(rule("t", {"sni": ["*.googlevideo.com"]},
                           {"type": "throttle", "rate_bps": 128000}, per="rule")))
    _, eff = e.control({"cmd": "disable", "rule": "t"}, 1.0)
    assert RemoveMeter(1) in eff
    _, eff = e.control({"cmd": "enable", "rule": "t"}, 2.0)
    assert [x for x in eff if isinstance(x, AddMeter)] == [AddMeter(1, 128, burst(128000))]


@pytest.mark.parametrize("command", [
    None, [], "status", {}, {"cmd": "nope"}, {"cmd": "enable"}, {"cmd": "disable", "rule": "x"},
    {"cmd": "replace"}, {"cmd": "replace", "rule": {"id": "a"}},
    {"cmd": "replace", "rule": rule("a", {"sni": "x"}, "explode")},
    {"cmd": "replace", "rule": rule("a", {"bogus": 1}, "drop")},
    {"cmd": "replace", "rule": rule("a", {"server": ["nobody"]}, "drop")},
    {"cmd": "replace", "rule": rule("a", {"ip": ["300.1.1.1/8"]}, "drop")},
    {"cmd": "replace", "rule": rule("a", {"port": [[9, 1]]}, "drop")},
    {"cmd": "replace", "rule": rule("a", {}, {"type": "throttle", "rate_bps": -1})},
    {"cmd": "add", "rule": rule("ft", {}, "drop")},
    {"cmd": "add", "rule": rule("b", {}, "drop"), "index": -1},
    {"cmd": "policy", "rules": "all"},
    {"cmd": "policy", "rules": [rule("a", {}, "drop"), rule("a", {}, "drop")]},
])
def test_malformed_commands_get_an_error_and_change_nothing(command):
    e = Engine(policy(rule("ft", {"sni": [FT]}, "drop")))
    before = e.control({"cmd": "rules"}, 0.0)[0]
    reply, eff = e.control(command, 1.0)
    assert reply["ok"] is False and isinstance(reply["error"], str) and eff == []
    assert e.control({"cmd": "rules"}, 2.0)[0] == before


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(cmd=st.sampled_from(["enable", "disable", "replace", "add", "policy", "status", "x"]),
       rest=st.dictionaries(st.sampled_from(["rule", "rules", "index"]), json_values,
                            max_size=3))
def test_fuzzed_commands_never_raise(cmd, rest):
    e = Engine(policy(rule("ft", {"sni": [FT]}, "drop")))
    reply, _ = e.control({"cmd": cmd, **rest}, 1.0)
    assert reply["ok"] in (True, False)
    assert e.stats()["internal_errors"] == 0


@pytest.mark.parametrize("bad", [{"residual": float("nan")}, {"residual": float("inf")},
                                 {"residual": 0}, {"probability": float("nan")},
                                 {"probability": 1.5}, {"per": "host"}, {"enabled": "yes"}])
def test_bad_modifiers_are_refused(bad):
    e = Engine(policy())
    reply, eff = e.control({"cmd": "add", "rule": rule("x", {"sni": ["a"]}, "drop", **bad)}, 0.0)
    assert reply["ok"] is False and eff == []
