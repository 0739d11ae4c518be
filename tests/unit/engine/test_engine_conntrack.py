"""The conntrack lane (controllers.switch.tables): an allowed TCP flow gets no per-flow
entry; its held packets' packet-outs commit it with the switch connection's mark, and the
steered traffic passes the tracker first. The real path: every integration test of the
censor runs with the lane on (lab censors use it)."""
from controllers.engine.effects import NORMAL, InstallFlow, conntrack
from controllers.engine.engine import Engine
from controllers.switch.tables import (CT_TRACKED, PRIO_CT, PRIO_CT_ALLOWED, PRIO_FLOW,
                                       ct_zone)
from engine_helpers import ALICE, WEB, TcpClient, client_hello, installs, outputs, policy, rule, udp

ZONE = 77


def lane_engine(*rules, **kw):
    e = Engine(policy(*rules, **kw))
    e.use_conntrack(ZONE)
    return e, e.base_effects()


def test_base_table_has_the_allowed_entry_and_the_lane_over_each_steered_prefilter():
    e, base = lane_engine(rule("ft", {"sni": ["facetime.apple.com"]}, "reset"))
    specs = [x.spec for x in base if isinstance(x, InstallFlow)]
    mark = e.executor.ct[1]
    allowed = [s for s in specs if s.priority == PRIO_CT_ALLOWED]
    assert [(s.match, s.actions) for s in allowed] == [
        ({"ct_state": (CT_TRACKED, CT_TRACKED), "ct_mark": mark}, (NORMAL,))]
    lane = [s for s in specs if s.priority == PRIO_CT]
    steer = [s for s in specs if s.priority == 100]        # an SNI rule steers TCP
    assert len(lane) == len(steer) > 0
    assert {s.match["ip_proto"] for s in lane} == {6}
    for s in lane:
        assert s.actions == (conntrack(ZONE, 0),)
        assert s.match["ct_state"] == (0, CT_TRACKED) and s.match["ip_frag"] == (0, 1)


def test_allowed_tcp_flow_is_committed_not_paired():
    e, _ = lane_engine(rule("ft", {"sni": ["facetime.apple.com"]}, "reset"))
    c = TcpClient()
    e.packet_in(c.syn(), 1, 0.0)
    e.packet_in(c.ack_(), 1, 0.0)
    eff = e.packet_in(c.data(client_hello("example.org")), 1, 0.1)
    assert installs(eff) == []
    assert [o.commit for o in outputs(eff)] == [e.executor.ct]
    # a packet of it reaching the censor again (its tracker entry expired) is committed again
    again = e.packet_in(c.data(b"x" * 10, offset=600), 1, 5.0)
    assert installs(again) == [] and [o.commit for o in outputs(again)] == [e.executor.ct]


def test_flows_decided_against_keep_their_pairs():
    e, _ = lane_engine(rule("ft", {"sni": ["facetime.apple.com"]}, "drop"))
    c = TcpClient()
    e.packet_in(c.syn(), 1, 0.0)
    e.packet_in(c.ack_(), 1, 0.0)
    eff = e.packet_in(c.data(client_hello("facetime.apple.com")), 1, 0.1)
    assert [s.priority for s in installs(eff)] == [PRIO_FLOW, PRIO_FLOW]
    assert all(o.commit is None for o in outputs(eff))


def test_allowed_udp_keeps_its_pair_and_udp_has_no_lane():
    e, base = lane_engine(rule("q", {"proto": ["udp"], "port": [[3478, 3478]]}, "reject"),
                          rule("dns", {"dns": ["x.example"]}, "drop"))
    lane = [x.spec for x in base if isinstance(x, InstallFlow) and x.spec.priority == PRIO_CT]
    assert {s.match["ip_proto"] for s in lane} == {6}      # DNS over TCP only
    eff = e.packet_in(udp(ALICE, WEB, 5000, 8443, b"hello"), 1, 0.0)
    assert [s.priority for s in installs(eff)] == [PRIO_FLOW]
    assert all(o.commit is None for o in outputs(eff))


def test_a_reconnected_switch_gets_a_fresh_mark():
    e, _ = lane_engine()
    first = e.executor.ct
    e.base_effects()
    assert e.executor.ct[0] == ZONE and e.executor.ct[1] != first[1]


def test_rule_change_keeps_the_mark_and_rebuilds_the_lane():
    e, _ = lane_engine()
    mark = e.executor.ct
    _reply, eff = e.control({"cmd": "add", "rule": rule("ft", {"sni": ["x.example"]},
                                                           "reset")}, 1.0)
    assert e.executor.ct == mark
    assert any(isinstance(x, InstallFlow) and x.spec.priority == PRIO_CT for x in eff)


def test_without_a_zone_allowed_flows_get_pairs_as_before():
    e = Engine(policy(rule("ft", {"sni": ["facetime.apple.com"]}, "reset")))
    e.base_effects()
    c = TcpClient()
    e.packet_in(c.syn(), 1, 0.0)
    e.packet_in(c.ack_(), 1, 0.0)
    eff = e.packet_in(c.data(client_hello("example.org")), 1, 0.1)
    assert [s.priority for s in installs(eff)] == [PRIO_FLOW]


def test_zone_is_in_range_and_stable():
    z = ct_zone("/tmp/run/censor/control.sock")
    assert 1 <= z <= 0xFFFF and z == ct_zone("/tmp/run/censor/control.sock")
