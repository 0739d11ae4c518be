"""TLS ClientHello decisions on real ssl-module ClientHellos, in one or several segments."""
import pytest

from controllers import packets as P
from controllers.engine.effects import NORMAL, Output
from controllers.engine.engine import Engine
from controllers.switch.tables import FLOW_IDLE, PRIO_FLOW
from engine_helpers import (ALICE, ISP, WEB, TcpClient, client_hello, events, installs, outputs,
                            parsed_outputs, policy, rule, verify_checksums)

FT = "facetime.apple.com"
FLOW = {"proto": "tcp", "src": ALICE["ip"], "sport": 40000, "dst": WEB["ip"], "dport": 443}


def handshake(engine, c, now=0.0):
    """SYN and ACK: forwarded at once, nothing installed."""
    for frame in (c.syn(), c.ack_()):
        eff = engine.packet_in(frame, 1, now)
        assert eff == [Output(frame, 1)]


def sni_engine(action="drop", **kw):
    return Engine(policy(rule("ft", {"sni": [FT]}, action), **kw))


def test_drop_on_sni_installs_drop_pair_and_one_exact_event():
    e, c = sni_engine(), TcpClient()
    handshake(e, c)
    eff = e.packet_in(c.data(client_hello(FT)), 1, 0.1)
    assert events(eff) == [{"rule": "ft", "technique": "sni", "action": "drop", "flow": FLOW,
                            "detail": {"sni": FT}}]
    specs = installs(eff)
    assert [s.match for s in specs] == [
        {"eth_type": 0x800, "ip_proto": 6, "ipv4_src": ALICE["ip"], "ipv4_dst": WEB["ip"],
         "tcp_src": 40000, "tcp_dst": 443},
        {"eth_type": 0x800, "ip_proto": 6, "ipv4_src": WEB["ip"], "ipv4_dst": ALICE["ip"],
         "tcp_src": 443, "tcp_dst": 40000}]
    assert all(s.actions == () and s.priority == PRIO_FLOW and s.idle_timeout == FLOW_IDLE
               for s in specs)
    assert outputs(eff) == []
    assert e.rules.hits["ft"] == 1 and e.stats()["discarded"] == 1


def test_other_sni_is_allowed_and_released():
    e, c = sni_engine(), TcpClient()
    handshake(e, c)
    frame = c.data(client_hello("www.example.org"))
    eff = e.packet_in(frame, 1, 0.1)
    assert events(eff) == []
    # one entry, client -> server: the server's packets are switched NORMAL without one
    [spec] = installs(eff)
    assert spec.actions == (NORMAL,) and spec.match["ipv4_src"] == c.c["ip"]
    assert outputs(eff) == [Output(frame, 1)]
    assert eff.index(outputs(eff)[0]) > max(eff.index(x) for x in eff if x not in outputs(eff))


def test_allowed_flow_to_a_client_side_server_gets_both_entries():
    # a server on the client side (the ISP's resolver) answers through a steered port
    e = sni_engine()
    c = TcpClient(server=ISP, dport=853)
    handshake(e, c)
    eff = e.packet_in(c.data(client_hello("www.example.org")), 1, 0.1)
    assert sorted(s.match["ipv4_src"] for s in installs(eff)) == sorted([c.c["ip"], ISP["ip"]])


def test_subdomain_glob_and_case():
    e = Engine(policy(rule("g", {"sni": ["*.googlevideo.com"]}, "drop")))
    c = TcpClient()
    handshake(e, c)
    eff = e.packet_in(c.data(client_hello("RR4.SN-abc.GoogleVideo.com")), 1, 0.1)
    assert events(eff)[0]["detail"] == {"sni": "rr4.sn-abc.googlevideo.com"}


@pytest.mark.parametrize("action", ["reset", "reject"])
def test_reset_sends_rst_both_ways_with_right_sequence_numbers(action):
    e, c = sni_engine(action), TcpClient(isn=1000, server_isn=5000)
    handshake(e, c)
    ch = client_hello(FT)
    eff = e.packet_in(c.data(ch), 1, 0.1)
    assert events(eff)[0]["action"] == action
    (to_client, o1), (to_server, o2) = parsed_outputs(eff)
    assert o1.out_port == ALICE["port"] and o2.out_port == WEB["port"]
    assert to_client.flags == P.RST | P.ACK and to_client.src == WEB["ip"]
    assert to_client.seq == 5001 and to_client.ack == 1001 + len(ch)
    assert (to_client.sport, to_client.dport) == (443, 40000)
    assert to_server.flags == P.RST | P.ACK and to_server.src == ALICE["ip"]
    assert to_server.seq == 1001 and to_server.ack == 5001
    assert to_client.eth_src == P.mac_bytes(WEB["mac"])
    assert all(verify_checksums(o.frame) for o in outputs(eff))
    assert all(s.actions == () for s in installs(eff))


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_split_client_hello_matches_with_reassembly(order):
    e, c = sni_engine(), TcpClient()
    handshake(e, c)
    segs = c.segments(client_hello(FT), 2)
    assert e.packet_in(segs[order[0]], 1, 0.1) == []            # held
    eff = e.packet_in(segs[order[1]], 1, 0.2)
    assert events(eff)[0]["detail"] == {"sni": FT}
    assert outputs(eff) == [] and e.stats()["discarded"] == 2


def test_split_client_hello_in_three_segments_allowed_released_in_order():
    e, c = sni_engine(), TcpClient()
    handshake(e, c)
    segs = c.segments(client_hello("other.example"), 3)
    assert e.packet_in(segs[0], 1, 0.1) == [] and e.packet_in(segs[1], 1, 0.1) == []
    eff = e.packet_in(segs[2], 1, 0.2)
    assert [o.frame for o in outputs(eff)] == segs
    assert events(eff) == []


def test_split_client_hello_passes_without_reassembly():
    e, c = sni_engine(reassembly=False), TcpClient()
    handshake(e, c)
    segs = c.segments(client_hello(FT), 2)
    assert e.packet_in(segs[0], 1, 0.1) == []                   # incomplete: held
    eff = e.packet_in(segs[1], 1, 0.2)                          # alone: not TLS -> allowed
    assert events(eff) == [] and [o.frame for o in outputs(eff)] == segs


def test_whole_client_hello_matches_without_reassembly():
    e, c = sni_engine(reassembly=False), TcpClient()
    handshake(e, c)
    assert events(e.packet_in(c.data(client_hello(FT)), 1, 0.1))[0]["action"] == "drop"


def test_held_packet_times_out_into_allow():
    e, c = sni_engine(), TcpClient()
    handshake(e, c)
    first = c.segments(client_hello(FT), 2)[0]
    assert e.packet_in(first, 1, 0.1) == []
    assert e.tick(1.0) == []
    eff = e.tick(2.2)
    assert outputs(eff) == [Output(first, 1)] and events(eff) == []
    assert e.stats()["held_flows"] == 0


def test_inspect_packets_bounds_waiting():
    e, c = sni_engine(inspect_packets=3), TcpClient()
    handshake(e, c)
    hello = client_hello(FT)
    frames = [c.data(hello[i:i + 1], i) for i in range(3)]
    assert e.packet_in(frames[0], 1, 0.1) == [] and e.packet_in(frames[1], 1, 0.1) == []
    eff = e.packet_in(frames[2], 1, 0.1)
    assert [o.frame for o in outputs(eff)] == frames and events(eff) == []


def test_non_tls_data_decides_at_once():
    e, c = sni_engine(), TcpClient(dport=22)
    handshake(e, c)
    frame = c.data(b"SSH-2.0-OpenSSH_9.2\r\n")
    assert outputs(e.packet_in(frame, 1, 0.1)) == [Output(frame, 1)]


def test_tap_mode_injects_before_forwarding_and_never_drops():
    e, c = sni_engine("reset", mode="tap"), TcpClient()
    handshake(e, c)
    frame = c.data(client_hello(FT))
    eff = e.packet_in(frame, 1, 0.1)
    outs = outputs(eff)
    assert [P.parse_frame(o.frame).flags for o in outs[:2]] == [P.RST | P.ACK] * 2
    assert outs[2] == Output(frame, 1)
    assert all(s.actions == (NORMAL,) for s in installs(eff))


def test_tap_mode_drop_is_an_allow_with_its_event():
    e, c = sni_engine("drop", mode="tap"), TcpClient()
    handshake(e, c)
    frame = c.data(client_hello(FT))
    eff = e.packet_in(frame, 1, 0.1)
    assert events(eff)[0]["action"] == "drop"
    assert outputs(eff) == [Output(frame, 1)]


def test_tls_ext_and_not_protocol():
    e = Engine(policy(rule("alpn", {"tls_ext": [0x10]}, "drop")))
    c = TcpClient()
    handshake(e, c)
    assert 0x10 in P_exts(client_hello("a.example"))
    assert events(e.packet_in(c.data(client_hello("a.example")), 1, 0.1))[0]["detail"] \
        == {"tls_ext": [0x10]}
    e = Engine(policy(rule("fe", {"proto": ["tcp"], "not": {"protocol": ["tls", "http", "ssh"]}},
                           "drop")))
    c = TcpClient(sport=40001)
    handshake(e, c)
    assert events(e.packet_in(c.data(client_hello("a.example")), 1, 0.1)) == []
    c = TcpClient(sport=40002, dport=8443)
    handshake(e, c)
    noise = bytes((i * 97 + 13) % 256 for i in range(200))
    ev = events(e.packet_in(c.data(noise), 1, 0.1))
    assert ev[0]["technique"] == "protocol" and ev[0]["detail"]["negated"] is True


def P_exts(record):
    from controllers.dpi import tls
    return tls.parse_client_hello(record).value.extensions


def test_header_only_reset_waits_for_data_then_resets():
    e = Engine(policy(rule("ip", {"ip": ["198.19.0.10/32"]}, "reset")))
    c = TcpClient()
    handshake(e, c)
    eff = e.packet_in(c.data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 1, 0.1)
    assert events(eff)[0]["technique"] == "ip" and events(eff)[0]["detail"] == {"ip": WEB["ip"]}
    assert len(outputs(eff)) == 2


def test_fin_behind_held_data_stays_behind_it():
    e, c = sni_engine(), TcpClient()
    handshake(e, c)
    segs = c.segments(client_hello("ok.example"), 2)
    assert e.packet_in(segs[0], 1, 0.1) == []
    fin = c.data(b"", 10_000, flags=P.FIN | P.ACK)
    assert e.packet_in(fin, 1, 0.1) == []
    eff = e.packet_in(segs[1], 1, 0.2)
    assert [o.frame for o in outputs(eff)] == [segs[0], fin, segs[1]]


def test_a_reset_connection_leaves_no_switch_rule_and_its_5_tuple_can_open_again():
    # No TIME_WAIT follows a reset, so a client may reuse the source port at once: its new SYN
    # must reach the censor (no per-flow drop rule in the switch) and be judged afresh.
    e = sni_engine("reset")
    first = TcpClient(isn=1000)
    handshake(e, first)
    eff = e.packet_in(first.data(client_hello(FT)), 1, 0.1)
    assert events(eff)[0]["action"] == "reset" and installs(eff) == []
    assert e.packet_in(first.data(b"stray", 600), 1, 0.2) == []          # dropped here
    again = TcpClient(isn=90000)
    assert outputs(e.packet_in(again.syn(), 1, 0.3))                      # a new flow, passed
    e.packet_in(again.synack(), 2, 0.3)
    e.packet_in(again.ack_(), 1, 0.3)
    eff = e.packet_in(again.data(client_hello(FT)), 1, 0.4)
    assert [ev["action"] for ev in events(eff)] == ["reset"]


@pytest.mark.parametrize("ttl", [64, 50, 1])
def test_injections_leave_with_the_censors_initial_ttl(ttl):
    """A censor's `ttl` (issue 15): its RSTs carry it both ways, checksums redone; the
    client sees it less one per router between them (tests/integration/test_topology.py)."""
    e = Engine({**policy(rule("ft", {"sni": [FT]}, "reset")), "ttl": ttl})
    c = TcpClient()
    handshake(e, c)
    eff = e.packet_in(c.data(client_hello(FT)), 1, 0.1)
    assert [p.ttl for p, _o in parsed_outputs(eff)] == [ttl, ttl]
    assert all(verify_checksums(o.frame) for o in outputs(eff))


def test_with_ttl_keeps_everything_but_the_ttl_and_checksum():
    frame = P.build_tcp(b"\x02" * 6, b"\x04" * 6, "198.19.0.10", "198.18.1.10", 443, 4000, 1,
                        2, P.RST)
    again = P.with_ttl(P.with_ttl(frame, 7), 64)
    assert again == frame and P.parse_frame(P.with_ttl(frame, 7)).ttl == 7
