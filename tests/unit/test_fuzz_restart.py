"""A restarted censor carries on: the rule set in force (live changes included) and the
penalty boxes survive a round trip through censor-state.json (controllers.engine.runstate), and a
damaged or foreign state file never stops a censor from starting."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "engine"))

from controllers.engine import runstate  # noqa: E402
from controllers.engine.engine import Engine  # noqa: E402
from engine_helpers import WEB, TcpClient, client_hello, policy, rule  # noqa: E402
from fakeswitch import FakeSwitch  # noqa: E402

POLICY = policy(rule("sni-reset", {"sni": ["blocked.example.com"]}, "reset", residual=120),
                rule("other", {"dns": ["x.example"]}, "nxdomain"))


def restarted(engine: Engine, now: float, tmp_path) -> Engine:
    """What the app does: save when things change; a new process loads and restores."""
    path = str(tmp_path / "censor-state.json")
    runstate.save(path, runstate.current(engine, now))
    state = runstate.load(path)
    fresh = Engine(runstate.with_rules(POLICY, state))
    fresh.restore_penalty_boxes(state["boxes"], now)
    return fresh


def trigger_box(engine: Engine, now: float) -> None:
    c = TcpClient(sport=41000)
    engine.packet_in(c.syn(), 1, now)
    engine.packet_in(c.data(client_hello("blocked.example.com")), 1, now)
    assert len(engine.penalty_boxes(now)) == 1


def test_live_changes_and_boxes_survive_a_restart(tmp_path):
    e = Engine(POLICY)
    e.base_effects()
    assert e.control({"cmd": "add", "index": 0, "rule": {
        "id": "late", "match": {"sni": ["later.example.org"]}, "action": {"type": "drop"}}},
        1.0)[0]["ok"]
    assert e.control({"cmd": "disable", "rule": "other"}, 1.0)[0]["ok"]
    trigger_box(e, 2.0)
    fresh = restarted(e, 3.0, tmp_path)
    assert fresh.rules.describe() == [dict(r, hits=0) for r in e.rules.describe()]
    assert fresh.penalty_boxes(3.0) == e.penalty_boxes(3.0)

    sw = FakeSwitch(fresh, now=3.0)          # the switch reconnects: empty table, base rules
    sw.tick(3.3)                             # the boxes go back in at the next tick
    c = TcpClient(sport=42000, server=WEB)
    assert sw.send(c.syn(), 1, 3.4) == "drop", "the box must hold after the restart"
    assert sw.events == [], "a restored box is not a new event"


def test_expired_boxes_are_not_restored(tmp_path):
    e = Engine(POLICY)
    trigger_box(e, 0.0)
    fresh = restarted(e, 121.0, tmp_path)
    assert fresh.penalty_boxes(121.0) == []


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(
                                ["rules", "boxes", "t", "until", "proto_num", "src", "dst",
                                 "dport", "rule", "id", "match", "action"]), inner, max_size=5)),
    max_leaves=20).map(lambda v: json.dumps(v).encode())))
def test_any_state_file_gives_a_working_engine(tmp_path_factory, raw):
    """The app's start: an unusable rule set falls back to the policy; bad boxes are skipped."""
    path = tmp_path_factory.mktemp("s") / "censor-state.json"
    path.write_bytes(raw)
    state = runstate.load(str(path))
    try:
        engine = Engine(runstate.with_rules(POLICY, state))
    except Exception:
        engine = Engine(POLICY)
    if state is not None:
        engine.restore_penalty_boxes(state["boxes"], 1.0)
    engine.base_effects()
    engine.tick(1.5)
    assert engine.control({"cmd": "status"}, 2.0)[0]["ok"]
