"""End to end through a fake OpenFlow table: what reaches the controller, what the switch does."""
from controllers import packets as P
from controllers.engine.engine import Engine
from controllers.rules.ruleset import meter_shape
from controllers.switch.steering import SYN_MAX
from engine_helpers import (ALICE, BOB, DNSSRV, WEB, TcpClient, client_hello, mac, policy, udp,
                            rule)
from fakeswitch import FakeSwitch


def burst(rate: int) -> int:
    return meter_shape(rate)[1]


FT = "facetime.apple.com"


def tls_flow(sw, c, sni, now=0.0, extra=3):
    """Run a TLS connection through the switch; the verdicts of every packet, in order."""
    verdicts = [sw.send(c.syn(), c.c["port"], now), sw.send(c.synack(), c.s["port"], now),
                sw.send(c.ack_(), c.c["port"], now)]
    hello = client_hello(sni)
    verdicts.append(sw.send(c.data(hello), c.c["port"], now))
    for i in range(extra):
        verdicts.append(sw.send(c.server_data(b"x" * 500, i * 500), c.s["port"], now))
        verdicts.append(sw.send(c.data(b"y" * 100, len(hello) + i * 100), c.c["port"], now))
    return verdicts


def test_no_rules_nothing_reaches_the_controller():
    sw = FakeSwitch(Engine(policy()))
    assert sw.steering() == []
    assert set(tls_flow(sw, TcpClient(), FT)) == {"normal"}
    assert sw.packet_ins == 0


def test_allowed_tls_flow_costs_two_packet_ins():
    # the handshake passes in the switch (only data decides an SNI rule); a copy of the
    # SYN-ACK and the ClientHello go up
    sw = FakeSwitch(Engine(policy(rule("ft", {"sni": [FT]}, "drop"))))
    verdicts = tls_flow(sw, TcpClient(), "www.example.org", extra=20)
    assert verdicts[:4] == ["normal", "copied", "normal", "controller"]
    assert set(verdicts[4:]) == {"normal"}
    assert sw.packet_ins == 2 and sw.events == []


def test_blocked_tls_flow_is_dropped_at_switch_speed():
    sw = FakeSwitch(Engine(policy(rule("ft", {"sni": [FT]}, "drop"))))
    verdicts = tls_flow(sw, TcpClient(), FT)
    assert set(verdicts[4:]) == {"drop"} and sw.packet_ins == 2 and len(sw.events) == 1


def test_sni_reassembled_when_the_handshake_passed():
    # the ClientHello in two segments, the second first: the SYN-ACK's copy gave the
    # stream's start, so nothing is decided on the second alone
    sw = FakeSwitch(Engine(policy(rule("ft", {"sni": [FT]}, "drop"))))
    c = TcpClient()
    hello = client_hello(FT)
    assert sw.send(c.syn(), 1, 0.0) == "normal"
    assert sw.send(c.synack(), c.s["port"], 0.0) == "copied"
    assert sw.send(c.ack_(), 1, 0.0) == "normal"
    assert sw.send(c.data(hello[60:], 60), 1, 0.0) == "controller"      # out of order
    assert sw.events == []
    assert sw.send(c.data(hello[:60]), 1, 0.0) == "controller"
    assert [e["rule"] for e in sw.events] == ["ft"]


def test_a_bare_ack_that_may_carry_data_goes_up():
    # no PSH, but longer than a bare ACK: the first segment of a large ClientHello
    sw = FakeSwitch(Engine(policy(rule("ft", {"sni": [FT]}, "drop"))))
    c = TcpClient()
    hello = client_hello(FT)
    sw.send(c.syn(), 1, 0.0)
    sw.send(c.synack(), c.s["port"], 0.0)
    assert sw.send(c.data(hello[:100], flags=P.ACK), 1, 0.0) == "controller"
    assert sw.send(c.data(hello[100:], 100), 1, 0.0) == "controller"
    assert [e["rule"] for e in sw.events] == ["ft"]


def test_guarded_handshake_goes_up_and_the_rest_passes():
    # a header rule (reject by address) next to an SNI rule: its SYNs are decided at once
    sw = FakeSwitch(Engine(policy(rule("ip", {"ip": [WEB["ip"] + "/32"], "proto": ["tcp"]},
                                       "reject"),
                                  rule("ft", {"sni": [FT]}, "drop"))))
    c = TcpClient()
    assert sw.send(c.syn(), 1, 0.0) == "controller"
    assert [e["rule"] for e in sw.events] == ["ip"]
    other = TcpClient(server=DNSSRV)
    assert tls_flow(sw, other, FT, extra=0) == ["normal", "copied", "normal", "controller"]
    assert [e["rule"] for e in sw.events] == ["ip", "ft"]


def test_syn_with_data_goes_up():
    # TCP Fast Open: a SYN longer than any SYN without data is inspected
    sw = FakeSwitch(Engine(policy(rule("ft", {"sni": [FT]}, "drop"))))
    c = TcpClient()
    syn = c.syn()
    tfo = P.build_tcp(mac(c.c), mac(c.s), c.c["ip"], c.s["ip"], c.sport, c.dport, c.seq, 0,
                      P.SYN, client_hello(FT))
    assert len(syn) <= SYN_MAX < len(tfo)
    assert sw.send(tfo, 1, 0.0) == "controller"
    assert [e["rule"] for e in sw.events] == ["ft"]


def test_reused_5_tuple_after_a_reset_is_decided_afresh():
    # the censor's RST ended the connection; the client opens a new one on the same ports
    # at once; its SYN passed, so its handshake ACK is the new flow's first packet
    sw = FakeSwitch(Engine(policy(rule("ft", {"sni": [FT]}, "reset"))))
    tls_flow(sw, TcpClient(sport=41000), FT, extra=0)
    again = TcpClient(sport=41000, isn=900_000)
    assert tls_flow(sw, again, "ok.example", extra=1)[4:] == ["normal", "normal"]
    assert [e["rule"] for e in sw.events] == ["ft"]


def test_header_rule_costs_one_packet_in_per_flow():
    sw = FakeSwitch(Engine(policy(rule("ip", {"ip": [WEB["ip"] + "/32"]}, "drop"))))
    verdicts = tls_flow(sw, TcpClient(), FT)
    assert verdicts[0] == "controller" and set(verdicts[1:]) == {"drop"}
    assert sw.packet_ins == 1 and len(sw.events) == 1


def test_residual_box_blocks_new_flows_on_the_3_tuple_then_expires():
    e = Engine(policy(rule("ft", {"sni": [FT]}, "drop", residual=90)))
    sw = FakeSwitch(e)
    tls_flow(sw, TcpClient(sport=40000), FT, now=10.0, extra=0)
    box = [ev for ev in sw.events if ev["technique"] == "residual"]
    assert box == [{"rule": "ft", "technique": "residual", "action": "drop",
                    "flow": {"proto": "tcp", "src": ALICE["ip"], "sport": None,
                             "dst": WEB["ip"], "dport": 443},
                    "detail": {"until": 100.0}}]
    assert e.penalty_boxes(20.0)[0]["until"] == 100.0
    # a new connection with an innocent SNI on the same 3-tuple: dropped, never reaches us
    ins = sw.packet_ins
    assert sw.send(TcpClient(sport=40001).syn(), 1, 20.0) == "drop"
    assert sw.packet_ins == ins
    # another port, or another client, is not boxed
    assert sw.send(TcpClient(sport=40002, dport=8443).syn(), 1, 20.0) == "normal"
    assert sw.send(TcpClient(client=BOB, sport=40003).syn(), 2, 20.0) == "normal"
    # after 90 s the box is gone
    c = TcpClient(sport=40004)
    assert sw.send(c.syn(), 1, 101.0) == "normal"
    assert e.penalty_boxes(101.0) == []
    assert tls_flow(sw, TcpClient(sport=40005), "ok.example", now=102.0)[4:] == ["normal"] * 6


def test_residual_boxes_restore_after_restart():
    e = Engine(policy(rule("ft", {"sni": [FT]}, "drop", residual=90)))
    tls_flow(FakeSwitch(e), TcpClient(), FT, now=10.0, extra=0)
    saved = e.penalty_boxes(30.0)
    e2 = Engine(policy(rule("ft", {"sni": [FT]}, "drop", residual=90)))
    sw2 = FakeSwitch(e2)
    sw2.apply(e2.restore_penalty_boxes(saved, 30.0), 30.0)
    assert sw2.send(TcpClient(sport=40009).syn(), 1, 31.0) == "drop"
    assert sw2.send(TcpClient(sport=40010).syn(), 1, 101.0) == "normal"


def _probability_run(seed):
    e = Engine(policy(rule("p", {"sni": [FT]}, "drop", probability=0.5), seed=seed))
    sw = FakeSwitch(e)
    blocked = []
    for i in range(400):
        c = TcpClient(sport=20000 + i)
        v = tls_flow(sw, c, FT, extra=1)
        blocked.append(v[-1] == "drop")
    return blocked, e


def test_probability_share_and_reproducible_by_seed():
    a, e = _probability_run(7)
    b, _ = _probability_run(7)
    c, _ = _probability_run(8)
    assert a == b and a != c
    share = sum(a) / len(a)
    assert 0.4 <= share <= 0.6
    assert e.rules.hits["p"] == sum(a) and e.stats()["events"] == sum(a)


def test_probability_not_chosen_falls_through_to_next_rule():
    e = Engine(policy(rule("p", {"sni": [FT]}, "drop", probability=0.0),
                      rule("all", {"proto": ["tcp"], "port": [[443, 443]]}, "reset")))
    c = TcpClient()
    e.packet_in(c.syn(), 1, 0)
    e.packet_in(c.ack_(), 1, 0)
    ev = [x.record for x in e.packet_in(c.data(client_hello(FT)), 1, 0) if hasattr(x, "record")]
    assert [x["rule"] for x in ev] == ["all"]


def test_throttled_flow_goes_through_meters():
    e = Engine(policy(rule("t", {"sni": ["*.googlevideo.com"]},
                           {"type": "throttle", "rate_bps": 128_000})))
    sw = FakeSwitch(e)
    v = tls_flow(sw, TcpClient(), "rr1.googlevideo.com", extra=1)
    shape = (128, burst(128_000))
    assert v[4:] == ["meter:2", "meter:1"] and sw.meters == {1: shape, 2: shape}
    # the metered pair hard-times out; the next client packet re-installs it with the same meters
    c = TcpClient()
    assert sw.send(c.data(b"z", 9000), 1, 200.0) == "controller"
    assert sw.send(c.server_data(b"z", 9000), 4, 200.0) == "meter:2"


def test_tap_mode_box_steers_and_resets_new_connections():
    from controllers import packets as P
    e = Engine(policy(rule("ft", {"sni": [FT]}, "reset", residual=60), mode="tap"))
    sw = FakeSwitch(e)
    tls_flow(sw, TcpClient(sport=40000), FT, now=1.0, extra=0)
    syn = TcpClient(sport=40001).syn()
    n = len(sw.outputs)
    assert sw.send(syn, 1, 2.0) == "controller"
    rst, fwd = sw.outputs[n:]
    assert P.parse_frame(rst.frame).flags == P.RST | P.ACK and rst.out_port == 1
    assert fwd.frame == syn                                 # a tap forwards it all the same


def test_reconnect_reinstalls_base_and_boxes_and_redecides_flows():
    e = Engine(policy(rule("ft", {"sni": [FT]}, "drop", residual=90),
                      rule("t", {"sni": ["*.googlevideo.com"]},
                           {"type": "throttle", "rate_bps": 128_000})))
    sw = FakeSwitch(e)
    tls_flow(sw, TcpClient(sport=40000), FT, now=10.0, extra=0)
    tls_flow(sw, TcpClient(client=BOB, sport=40001), "r.googlevideo.com", now=10.0, extra=0)
    assert e.stats()["meters"] == 2
    sw2 = FakeSwitch(e, now=20.0)                   # a new, empty switch connects
    assert e.stats()["meters"] == 0 and e.stats()["flows"] == 0
    sw2.tick(20.0)                                   # the next tick restores the box
    assert sw2.send(TcpClient(sport=40002).syn(), 1, 20.0) == "drop"
    assert [x.spec.hard_timeout for x in sw2.entries if x.spec.priority == 200] == [80]
    v = tls_flow(sw2, TcpClient(sport=40003, dport=8443), "r.googlevideo.com", now=21.0,
                 extra=1)
    assert v[-1].startswith("meter:")


def test_server_wide_box_holds_every_port_but_the_spared_ones():
    # bbs#490: after UDP to a foreign server, the whole server is unreachable; SSH still works
    e = Engine(policy(rule("udp", {"proto": ["udp"], "server": ["web"]}, "drop", residual=600,
                           residual_scope="server", residual_spare=[22])))
    sw = FakeSwitch(e)
    assert sw.send(udp(ALICE, WEB, 50000, 51820, b"x" * 100), 1, 10.0) == "controller"
    box = [ev for ev in sw.events if ev["technique"] == "residual"]
    assert box == [{"rule": "udp", "technique": "residual", "action": "drop",
                    "flow": {"proto": "any", "src": ALICE["ip"], "sport": None,
                             "dst": WEB["ip"], "dport": None},
                    "detail": {"until": 610.0, "scope": "server", "spare": [22]}}]
    # TCP to any port of that server, from that client: dropped in the switch
    ins = sw.packet_ins
    assert sw.send(TcpClient(sport=40001).syn(), 1, 20.0) == "drop"
    assert sw.send(TcpClient(sport=40002, dport=8443).syn(), 1, 20.0) == "drop"
    assert sw.packet_ins == ins
    # SSH goes up, is decided as without the box (no rule: allowed), then passes
    ssh = TcpClient(sport=40003, dport=22)
    assert sw.send(ssh.syn(), 1, 20.0) == "controller"
    assert sw.send(ssh.synack(), ssh.s["port"], 20.0) == "normal"
    assert sw.send(ssh.ack_(), 1, 20.0) == "normal"
    # another client is not boxed; the box survives a restart and ends on time
    assert sw.send(TcpClient(client=BOB, sport=40004).syn(), 2, 20.0) == "normal"
    e2 = Engine(policy(rule("udp", {"proto": ["udp"], "server": ["web"]}, "drop", residual=600,
                            residual_scope="server", residual_spare=[22])))
    sw2 = FakeSwitch(e2)
    sw2.apply(e2.restore_penalty_boxes(e.penalty_boxes(30.0), 30.0), 30.0)
    assert sw2.send(TcpClient(sport=40005).syn(), 1, 31.0) == "drop"
    assert sw2.send(TcpClient(sport=40006, dport=22).syn(), 1, 31.0) == "controller"
    assert sw2.send(TcpClient(sport=40007).syn(), 1, 611.0) == "normal"
    assert e2.penalty_boxes(611.0) == []
