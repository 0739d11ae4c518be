"""Proactive table: default NORMAL, steering per client port, merged prefilters, meters."""
from controllers.engine.effects import CONTROLLER, NORMAL, AddMeter, InstallFlow, up_if_larger
from controllers.engine.engine import Engine
from controllers.packets import ACK, FIN, PSH, RST, SYN
from controllers.rules.ruleset import meter_shape
from controllers.switch.steering import ACK_MAX, SYN_MAX, covers, merge, mirrored, overlap, port_blocks
from controllers.switch.tables import (COOKIE_BASE, COOKIE_STEER, KIND_MASK, PRIO_GUARD, PRIO_PASS,
                                PRIO_STEER,
                                SIZE_TABLE, is_copy)
from engine_helpers import policy, rule


def burst(rate: int) -> int:
    return meter_shape(rate)[1]


CLIENT_PORTS = [1, 2, 3]


def steering(effects):
    return [e.spec for e in effects if isinstance(e, InstallFlow) and e.spec.table == 0
            and e.spec.priority == PRIO_STEER]


def passes(effects):
    return [e.spec for e in effects if isinstance(e, InstallFlow)
            and e.spec.priority == PRIO_PASS]


def matches_without_port(specs):
    out = []
    for s in specs:
        m = dict(s.match)
        m.pop("in_port")
        if m not in out:
            out.append(m)
    return out


def test_no_rules_forward_everything_and_steer_nothing():
    eff = Engine(policy()).base_effects()
    table0 = [e.spec for e in eff if e.spec.table == 0]
    assert {(s.priority, tuple(sorted(s.match.items()))) for s in table0} == {
        (0, ())} | {(1, (("eth_type", eth), ("ip_proto", p)))
                    for eth in (0x0800, 0x86DD) for p in (6, 17)}
    assert all(s.actions == (NORMAL,) and s.cookie == COOKIE_BASE for s in table0)
    assert [(e.spec.table, e.spec.match, e.spec.actions) for e in eff if e.spec.table] == [
        (SIZE_TABLE, {"reg0": (1, 1)}, (CONTROLLER,)), (SIZE_TABLE, {}, (NORMAL,))]


def test_handshake_passes_where_only_data_decides():
    specs = passes(Engine(policy(rule("s", {"sni": ["x.com"]}, "drop"))).base_effects())
    tcp = {"eth_type": 0x800, "ip_proto": 6}
    syn = [s for s in specs if s.match.get("tcp_flags") == (SYN, SYN | ACK)]
    ack = [s for s in specs if s.match.get("tcp_flags") == (ACK, ACK | SYN | FIN | RST | PSH)]
    synack = [s for s in specs if s.match.get("tcp_flags") == (SYN | ACK, SYN | ACK)]
    assert len(specs) == len(syn) + len(ack) + len(synack)
    # the client's SYN and bare ACKs, on each client port: up only when longer than those
    # can be without data
    assert sorted(s.match["in_port"] for s in syn) == CLIENT_PORTS
    assert sorted(s.match["in_port"] for s in ack) == CLIENT_PORTS
    assert all(s.actions == (up_if_larger(SYN_MAX),) for s in syn)
    assert all(s.actions == (up_if_larger(ACK_MAX),) for s in ack)
    # the server's SYN-ACK, from anywhere: forwarded, and a copy up
    assert [(s.match, s.actions) for s in synack] == [
        ({**tcp, "tcp_flags": (SYN | ACK, SYN | ACK)}, (NORMAL, CONTROLLER))]
    assert all(s.cookie & KIND_MASK == COOKIE_STEER for s in specs)
    assert [is_copy(s.cookie) for s in specs].count(True) == 1 and is_copy(synack[0].cookie)


def test_handshake_goes_up_where_headers_may_decide():
    # an address rule ahead (or behind) may reject at the SYN: its handshakes still go up,
    # by guards above the passes; other handshakes pass
    p = policy(rule("ip", {"ip": ["198.19.0.10/32"], "proto": ["tcp"]}, "reject"),
               rule("s", {"sni": ["x.com"]}, "drop"))
    eff = Engine(p).base_effects()
    guards = [e.spec for e in eff if isinstance(e, InstallFlow) and e.spec.priority == PRIO_GUARD]
    assert all(g.actions == (CONTROLLER,) for g in guards)
    assert matches_without_port(guards) == [
        {"eth_type": 0x800, "ip_proto": 6, "ipv4_dst": "198.19.0.10"},
        {"eth_type": 0x800, "ip_proto": 6, "ipv4_src": "198.19.0.10"}]
    assert len(passes(eff)) == 2 * len(CLIENT_PORTS) + 1
    # a header-only rule elsewhere (UDP) leaves TCP's handshakes free; the SYN-ACK entry is
    # the prefilter mirrored
    p = policy(rule("u", {"proto": ["udp"], "port": [[3478, 3478]]}, "drop"),
               rule("s", {"sni": ["x.com"], "port": [[443, 443]]}, "drop"))
    specs = passes(Engine(p).base_effects())
    assert {"in_port": 1, "eth_type": 0x800, "ip_proto": 6, "tcp_dst": 443,
            "tcp_flags": (SYN, SYN | ACK)} in [s.match for s in specs]
    assert {"eth_type": 0x800, "ip_proto": 6, "tcp_src": 443,
            "tcp_flags": (SYN | ACK, SYN | ACK)} in [s.match for s in specs]
    # reset needs data even without a content key
    p = policy(rule("r", {"proto": ["tcp"], "port": [[443, 443]]}, "reset"))
    assert len(passes(Engine(p).base_effects())) == 2 * len(CLIENT_PORTS) + 1


def test_rst_handshake_copies_the_servers_syn_acks_up_from_the_start():
    """By the flow's own entry alone, a SYN-ACK that followed a cached datapath flow of the
    same two hosts went by unseen (steering.synack_copies)."""
    p = policy(rule("h", {"proto": ["tcp"], "port": [[443, 443]]},
                    {"type": "rst_handshake", "count": 3}))
    specs = passes(Engine(p).base_effects())
    assert [(s.match, s.actions, is_copy(s.cookie)) for s in specs] == [
        ({"eth_type": 0x800, "ip_proto": 6, "tcp_src": 443, "tcp_flags": (SYN | ACK, SYN | ACK)},
         (NORMAL, CONTROLLER), True)]

def test_mirrored():
    assert mirrored({"eth_type": 0x800, "ipv4_dst": "198.19.0.10", "tcp_dst": 443}) == \
        {"eth_type": 0x800, "ipv4_src": "198.19.0.10", "tcp_src": 443}


def test_overlap():
    a = {"eth_type": 0x800, "ip_proto": 6}
    assert overlap(a, {"eth_type": 0x800, "ipv4_dst": "198.19.0.10"})
    assert not overlap(a, {"eth_type": 0x800, "ip_proto": 17})
    assert overlap({"ipv4_dst": ("198.19.0.0", "255.255.255.0")}, {"ipv4_dst": "198.19.0.9"})
    assert not overlap({"ipv4_dst": ("198.19.0.0", "255.255.255.0")},
                       {"ipv4_dst": "198.19.1.9"})
    assert not overlap({"tcp_dst": 443}, {"tcp_dst": (8000, 0xFFF8)})


def test_ip_rule_steers_both_ends_on_each_client_port():
    eff = Engine(policy(rule("r", {"ip": ["198.19.0.10/32"]}, "drop"))).base_effects()
    specs = steering(eff)
    assert sorted({s.match["in_port"] for s in specs}) == CLIENT_PORTS
    assert all(s.priority == PRIO_STEER and s.cookie & KIND_MASK == COOKIE_STEER for s in specs)
    assert matches_without_port(specs) == [
        {"eth_type": 0x800, "ipv4_dst": "198.19.0.10"},
        {"eth_type": 0x800, "ipv4_src": "198.19.0.10"}]


def test_cidr_is_a_masked_address():
    specs = steering(Engine(policy(rule("r", {"ip": ["198.19.0.0/24"], "proto": ["udp"]},
                                        "drop"))).base_effects())
    assert {"eth_type": 0x800, "ip_proto": 17, "ipv4_dst": ("198.19.0.0", "255.255.255.0")} \
        in matches_without_port(specs)


def test_dns_rule_steers_udp_and_tcp_53():
    specs = steering(Engine(policy(rule("d", {"dns": ["x.com"]}, "nxdomain"))).base_effects())
    assert sorted(matches_without_port(specs), key=str) == [
        {"eth_type": 0x800, "ip_proto": 17, "udp_dst": 53},
        {"eth_type": 0x800, "ip_proto": 6, "tcp_dst": 53}]
    assert len(specs) == 2 * len(CLIENT_PORTS)


def test_sni_covers_dns_tcp_and_protocol_steers_tcp_and_udp():
    p = policy(rule("d", {"dns": ["x.com"]}, "nxdomain"),
               rule("s", {"sni": ["x.com"]}, "drop"),
               rule("q", {"quic_sni": ["x.com"]}, "drop"),
               rule("a", {"sni": ["y.com"]}, "allow"))
    specs = steering(Engine(p).base_effects())
    assert sorted(matches_without_port(specs), key=str) == [
        {"eth_type": 0x800, "ip_proto": 17},        # quic_sni covers udp 53
        {"eth_type": 0x800, "ip_proto": 6}]         # sni covers tcp 53


def test_disabled_and_allow_rules_steer_nothing():
    p = policy(rule("s", {"sni": ["x.com"]}, "drop", enabled=False),
               rule("a", {"ip": ["198.19.0.10/32"]}, "allow"))
    assert steering(Engine(p).base_effects()) == []


def test_port_ranges_become_masked_blocks():
    assert port_blocks(443, 443) == [443]
    assert port_blocks(8000, 8007) == [(8000, 0xFFF8)]
    assert port_blocks(0, 65535) == []
    specs = steering(Engine(policy(rule("p", {"proto": ["tcp"], "port": [[8000, 8007]]},
                                        "drop"))).base_effects())
    assert matches_without_port(specs) == [{"eth_type": 0x800, "ip_proto": 6,
                                            "tcp_dst": (8000, 0xFFF8)}]


def test_merge_drops_covered_prefilters():
    general = {"eth_type": 0x800, "ipv4_dst": ("198.19.0.0", "255.255.0.0")}
    specific = {"eth_type": 0x800, "ip_proto": 6, "ipv4_dst": "198.19.0.10"}
    assert covers(general, specific) and not covers(specific, general)
    assert merge([specific, general, dict(general)]) == [general]


def test_rule_meter_in_base_effects():
    p = policy(rule("t", {"sni": ["*.googlevideo.com"]}, {"type": "throttle", "rate_bps": 128000},
                    per="rule"))
    meters = [e for e in Engine(p).base_effects() if isinstance(e, AddMeter)]
    assert meters == [AddMeter(1, 128, burst(128_000))]
    p = policy(rule("t", {"sni": ["x"]}, {"type": "throttle", "rate_bps": 10_000_000},
                    per="rule"))
    assert [e for e in Engine(p).base_effects() if isinstance(e, AddMeter)] == \
        [AddMeter(1, 10000, burst(10_000_000))]


def test_meter_burst_lets_tcp_reach_the_rate():
    for rate in (64_000, 128_000, 1_000_000, 10_000_000, 100_000_000):
        kbps, burst_kbits = meter_shape(rate)
        assert kbps == round(rate / 1000)
        assert burst_kbits >= rate * 0.1 / 1000 and burst_kbits >= 131     # 100 ms, 16 KB
