"""blockpage, header-only rules (drop, reject), throttle meters, cut_after."""
import pytest

from controllers import packets as P
from controllers.engine.effects import CONTROLLER, NORMAL, AddMeter, Output, RemoveMeter, meter
from controllers.engine.engine import Engine
from controllers.rules.ruleset import meter_shape
from controllers.switch.tables import METERED_HARD
from engine_helpers import (ALICE, BOB, WEB, TcpClient, client_hello, events, installs, mac,
                            outputs, parsed_outputs, policy, rule, udp, verify_checksums)


def burst(rate: int) -> int:
    return meter_shape(rate)[1]


GET = b"GET /news/today HTTP/1.1\r\nHost: News.Example:80\r\nUser-Agent: curl\r\n\r\n"


def open_flow(e, c, now=0.0):
    e.packet_in(c.syn(), 1, now)
    e.packet_in(c.ack_(), 1, now)


@pytest.mark.parametrize("action,status,body", [
    ("blockpage", 403, None),
    ({"type": "blockpage", "status": 451, "body": "<p>gone</p>"}, 451, "<p>gone</p>")])
def test_blockpage_answers_closes_and_resets_server(action, status, body):
    e = Engine(policy(rule("bp", {"host": ["news.example"]}, action)))
    c = TcpClient(dport=80, isn=100, server_isn=200)
    open_flow(e, c)
    eff = e.packet_in(c.data(GET), 1, 0.1)
    assert events(eff)[0]["detail"] == {"host": "news.example", "status": status}
    outs = parsed_outputs(eff)
    data = b"".join(p.payload for p, _ in outs if p.flags & P.PSH)
    head, _, page = data.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Content-Type: text/html" in head and b"Connection: close" in head
    assert f"Content-Length: {len(page)}".encode() in head
    if body:
        assert page == body.encode()
    first = outs[0][0]
    assert first.seq == 201 and first.ack == 101 + len(GET)
    fin = outs[-2][0]
    assert fin.flags == P.FIN | P.ACK and fin.seq == 201 + len(data)
    rst = outs[-1][0]
    assert rst.flags & P.RST and rst.dst == WEB["ip"] and rst.seq == 101
    assert all(verify_checksums(o.frame) for o in outputs(eff))
    assert all(s.actions == () for s in installs(eff))


def test_path_prefix():
    e = Engine(policy(rule("p", {"path": ["/news/"]}, "reset")))
    c = TcpClient(dport=80)
    open_flow(e, c)
    assert events(e.packet_in(c.data(GET), 1, 0.1))[0]["detail"] == {"path": "/news/today"}


def test_ip_drop_decides_on_the_syn_with_one_event():
    e = Engine(policy(rule("ip", {"ip": ["198.19.0.10/32"]}, "drop")))
    eff = e.packet_in(TcpClient().syn(), 1, 0.0)
    assert events(eff)[0] == {"rule": "ip", "technique": "ip", "action": "drop",
                              "flow": {"proto": "tcp", "src": ALICE["ip"], "sport": 40000,
                                       "dst": WEB["ip"], "dport": 443},
                              "detail": {"ip": WEB["ip"]}}
    assert outputs(eff) == [] and len(installs(eff)) == 2


def test_reject_answers_the_syn_with_rst_ack_each_time():
    e = Engine(policy(rule("r", {"server": ["web"], "port": [[443, 443]]}, "reject")))
    c = TcpClient(isn=41)
    for _ in range(2):                              # a retransmitted SYN is refused again
        eff = e.packet_in(c.syn(), 1, 0.0)
        [(rst, out)] = parsed_outputs(eff)
        assert rst.flags == P.RST | P.ACK and rst.seq == 0 and rst.ack == 42
        assert rst.src == WEB["ip"] and out.out_port == 1 and installs(eff) == []
    assert e.rules.hits["r"] == 1 and e.stats()["events"] == 1


def test_reject_udp_is_icmp_port_unreachable():
    e = Engine(policy(rule("r", {"proto": ["udp"], "port": [[3478, 3478]]}, "reject")))
    frame = udp(ALICE, WEB, 5000, 3478, b"\x00\x01\x00\x00" + b"\x21\x12\xa4\x42" + b"x" * 12)
    [(icmp, out)] = parsed_outputs(e.packet_in(frame, 1, 0.0))
    assert (icmp.proto, icmp.icmp_type, icmp.icmp_code) == (P.ICMP, 3, 3)
    assert icmp.src == WEB["ip"] and out.out_port == 1 and verify_checksums(out.frame)


def test_icmp_ping_drop():
    e = Engine(policy(rule("ping", {"proto": ["icmp"]}, "drop")))
    echo = P.build_icmp(mac(ALICE), mac(WEB), ALICE["ip"], WEB["ip"], 8, 0, 0x10001, b"ping")
    eff = e.packet_in(echo, 1, 0.0)
    ev = events(eff)[0]
    assert ev["technique"] == "proto" and ev["flow"]["sport"] is None
    assert [s.match["ip_proto"] for s in installs(eff)] == [1, 1]


def test_throttle_per_flow_two_meters_and_freed_on_expiry():
    e = Engine(policy(rule("t", {"sni": ["*.googlevideo.com"]},
                           {"type": "throttle", "rate_bps": 1_000_000})))
    c = TcpClient()
    open_flow(e, c)
    frame = c.data(client_hello("r1.googlevideo.com"))
    eff = e.packet_in(frame, 1, 0.1)
    meters = [x for x in eff if isinstance(x, AddMeter)]
    assert meters == [AddMeter(1, 1000, burst(1_000_000)), AddMeter(2, 1000, burst(1_000_000))]
    up, down = installs(eff)
    assert up.actions == (meter(1), NORMAL) and down.actions == (meter(2), NORMAL)
    assert up.hard_timeout == METERED_HARD
    assert outputs(eff) == [Output(frame, 1)]
    assert events(eff)[0]["detail"] == {"sni": "r1.googlevideo.com", "rate_bps": 1_000_000}
    gone = e.tick(0.1 + METERED_HARD + 61)
    assert sorted(x.meter_id for x in gone if isinstance(x, RemoveMeter)) == [1, 2]
    assert e.stats()["meters"] == 0


def test_throttle_per_rule_shares_one_meter():
    e = Engine(policy(rule("t", {"sni": ["*.googlevideo.com"]},
                           {"type": "throttle", "rate_bps": 128_000}, per="rule")))
    actions = set()
    for port in (40000, 40001):
        c = TcpClient(sport=port)
        open_flow(e, c)
        eff = e.packet_in(c.data(client_hello("r1.googlevideo.com")), 1, 0.1)
        assert not [x for x in eff if isinstance(x, AddMeter)]
        actions |= {s.actions for s in installs(eff)}
    assert actions == {(meter(1), NORMAL)}


def test_cut_after_counts_both_directions_then_drops():
    e = Engine(policy(rule("cut", {"sni": ["slow.example"]},
                           {"type": "cut_after", "bytes": 3000})))
    c = TcpClient()
    open_flow(e, c)
    hello = client_hello("slow.example")
    eff = e.packet_in(c.data(hello), 1, 0.1)
    assert {s.actions for s in installs(eff)} == {(CONTROLLER,)}
    assert outputs(eff) == [Output(c.data(hello), 1)]
    sent = len(hello)
    offset = 0
    while True:
        frame = c.server_data(b"s" * 1000, offset)
        eff = e.packet_in(frame, WEB["port"], 0.2)
        if sent + 1000 > 3000:
            assert outputs(eff) == [] and {s.actions for s in installs(eff)} == {()}
            break
        assert eff == [Output(frame, WEB["port"])]
        sent += 1000
        offset += 1000
    assert events(eff) == [] and e.stats()["cut"] == 1


def test_client_side_flow_to_another_client_uses_initiator_as_client():
    e = Engine(policy(rule("ip", {"ip": [BOB["ip"] + "/32"]}, "drop")))
    c = TcpClient(client=ALICE, server=BOB, dport=22)
    assert events(e.packet_in(c.syn(), 1, 0.0))[0]["flow"]["src"] == ALICE["ip"]


def test_cut_after_smaller_than_the_first_data_cuts_at_once():
    e = Engine(policy(rule("cut", {"sni": ["slow.example"]}, {"type": "cut_after", "bytes": 10})))
    c = TcpClient()
    open_flow(e, c)
    eff = e.packet_in(c.data(client_hello("slow.example")), 1, 0.1)
    assert outputs(eff) == [] and {s.actions for s in installs(eff)} == {()}
