"""DNS actions over UDP and TCP: rcodes, forged and injected answers, parsed back."""
import dns.message
import dns.rcode
import pytest

from controllers import packets as P
from controllers.engine.effects import Output
from controllers.engine.engine import Engine
from engine_helpers import (ALICE, DNSSRV, ISP, TcpClient, dns_query, events, installs, outputs,
                            parsed_outputs, policy, rule, udp, verify_checksums)

RCODES = {"nxdomain": dns.rcode.NXDOMAIN, "servfail": dns.rcode.SERVFAIL,
          "refused": dns.rcode.REFUSED}


def dns_engine(action, mode="inline", names=("blocked.example",)):
    return Engine(policy(rule("d", {"dns": list(names)}, action), mode=mode))


@pytest.mark.parametrize("action", sorted(RCODES))
def test_udp_rcode_answer_from_the_resolver_and_query_dropped(action):
    e = dns_engine(action)
    query = dns_query("Blocked.Example", ident=0x4242)
    eff = e.packet_in(udp(ALICE, ISP, 33333, 53, query), 1, 1.0)
    assert events(eff) == [{"rule": "d", "technique": "dns", "action": action,
                            "flow": {"proto": "udp", "src": ALICE["ip"], "sport": 33333,
                                     "dst": ISP["ip"], "dport": 53},
                            "detail": {"dns": "blocked.example"}}]
    [(p, out)] = parsed_outputs(eff)
    assert out.out_port == ALICE["port"] and verify_checksums(out.frame)
    assert (p.src, p.sport, p.dst, p.dport) == (ISP["ip"], 53, ALICE["ip"], 33333)
    answer = dns.message.from_wire(p.payload)
    assert answer.id == 0x4242 and answer.rcode() == RCODES[action] and not answer.answer
    assert all(s.actions == () for s in installs(eff))


def test_forge_answers_with_the_ip_and_drops_the_query():
    e = dns_engine({"type": "forge", "ip": "198.18.0.99"})
    eff = e.packet_in(udp(ALICE, DNSSRV, 33334, 53, dns_query("blocked.example")), 1, 1.0)
    [(p, _)] = parsed_outputs(eff)
    answer = dns.message.from_wire(p.payload)
    assert answer.rcode() == 0
    assert [rr.address for rr in answer.answer[0]] == ["198.18.0.99"]
    assert events(eff)[0]["detail"] == {"dns": "blocked.example", "answer": "198.18.0.99"}


def test_inject_emits_forged_answer_then_forwards_query():
    e = dns_engine({"type": "inject", "ip": "198.18.0.99"})
    query = udp(ALICE, DNSSRV, 33335, 53, dns_query("blocked.example"))
    eff = e.packet_in(query, 1, 1.0)
    outs = outputs(eff)
    assert len(outs) == 2 and outs[1] == Output(query, 1)
    forged = dns.message.from_wire(P.parse_frame(outs[0].frame).payload)
    assert [rr.address for rr in forged.answer[0]] == ["198.18.0.99"]
    assert installs(eff) == []
    again = udp(ALICE, DNSSRV, 33335, 53, dns_query("blocked.example", "AAAA"))
    outs = outputs(e.packet_in(again, 1, 1.1))        # same socket: injected and forwarded
    assert len(outs) == 2 and outs[1] == Output(again, 1)


def test_tap_nxdomain_is_injected_before_the_query_is_forwarded():
    e = dns_engine("nxdomain", mode="tap")
    query = udp(ALICE, ISP, 33336, 53, dns_query("blocked.example"))
    outs = outputs(e.packet_in(query, 1, 1.0))
    assert len(outs) == 2 and outs[1] == Output(query, 1)
    assert dns.message.from_wire(P.parse_frame(outs[0].frame).payload).rcode() == 3


def test_other_names_and_aaaa_pass():
    e = dns_engine({"type": "forge", "ip": "198.18.0.99"})
    q = udp(ALICE, ISP, 33337, 53, dns_query("fine.example"))
    assert outputs(e.packet_in(q, 1, 1.0)) == [Output(q, 1)]
    eff = e.packet_in(udp(ALICE, ISP, 33338, 53, dns_query("blocked.example", "AAAA")), 1, 1.0)
    answer = dns.message.from_wire(parsed_outputs(eff)[0][0].payload)
    assert answer.rcode() == 0 and not answer.answer            # NODATA for AAAA


def test_not_dns_on_port_53_passes():
    e = dns_engine("nxdomain")
    frame = udp(ALICE, ISP, 33339, 53, b"\x00garbage")
    assert outputs(e.packet_in(frame, 1, 1.0)) == [Output(frame, 1)]


@pytest.mark.parametrize("action", ["nxdomain", "servfail", "refused"])
def test_tcp_answer_segment_then_fin_then_rst_to_server(action):
    e = dns_engine(action)
    c = TcpClient(server=ISP, sport=41000, dport=53, isn=7000, server_isn=9000)
    for f in (c.syn(), c.ack_()):
        assert e.packet_in(f, 1, 1.0) == [Output(f, 1)]
    query = dns_query("blocked.example", ident=0x99)
    wire = len(query).to_bytes(2, "big") + query
    eff = e.packet_in(c.data(wire), 1, 1.1)
    (data, o1), (fin, _), (rst, o3) = parsed_outputs(eff)
    assert o1.out_port == ALICE["port"] and o3.out_port == ISP["port"]
    assert data.flags == P.PSH | P.ACK and data.seq == 9001 and data.ack == 7001 + len(wire)
    length = int.from_bytes(data.payload[:2], "big")
    answer = dns.message.from_wire(data.payload[2:2 + length])
    assert answer.id == 0x99 and answer.rcode() == RCODES[action]
    assert fin.flags == P.FIN | P.ACK and fin.seq == 9001 + len(data.payload)
    assert rst.flags & P.RST and rst.dst == ISP["ip"] and rst.seq == 7001
    assert all(verify_checksums(o.frame) for o in outputs(eff))


def test_tcp_query_split_in_two_segments():
    e = dns_engine("nxdomain")
    c = TcpClient(server=ISP, sport=41001, dport=53)
    e.packet_in(c.syn(), 1, 1.0)
    e.packet_in(c.ack_(), 1, 1.0)
    query = dns_query("blocked.example")
    wire = len(query).to_bytes(2, "big") + query
    assert e.packet_in(c.data(wire[:5]), 1, 1.1) == []
    eff = e.packet_in(c.data(wire[5:], 5), 1, 1.1)
    assert events(eff)[0]["action"] == "nxdomain" and len(outputs(eff)) == 3


def test_a_and_aaaa_from_one_socket_are_both_answered_with_one_event():
    e = dns_engine("nxdomain")
    eff1 = e.packet_in(udp(ALICE, ISP, 33340, 53, dns_query("blocked.example", "A", 1)), 1, 1.0)
    eff2 = e.packet_in(udp(ALICE, ISP, 33340, 53, dns_query("blocked.example", "AAAA", 2)), 1,
                       1.0)
    assert len(events(eff1)) == 1 and events(eff2) == []
    [(p, _)] = parsed_outputs(eff2)
    answer = dns.message.from_wire(p.payload)
    assert answer.id == 2 and answer.rcode() == 3
    ok = udp(ALICE, ISP, 33340, 53, dns_query("fine.example", "A", 3))
    assert e.packet_in(ok, 1, 1.1) == [Output(ok, 1)]       # another name on it passes
    assert installs(eff1) == []


def test_tcp_pipelined_queries_all_answered():
    e = dns_engine("refused")
    c = TcpClient(server=ISP, sport=41002, dport=53)
    e.packet_in(c.syn(), 1, 1.0)
    e.packet_in(c.ack_(), 1, 1.0)
    queries = (dns_query("blocked.example", "A", 5), dns_query("blocked.example", "AAAA", 6))
    wire = b"".join(len(q).to_bytes(2, "big") + q for q in queries)
    eff = e.packet_in(c.data(wire), 1, 1.1)
    data = parsed_outputs(eff)[0][0].payload
    ids = []
    while data:
        n = int.from_bytes(data[:2], "big")
        ids.append(dns.message.from_wire(data[2:2 + n]).id)
        data = data[2 + n:]
    assert ids == [5, 6]


def test_allowed_query_is_decided_alone_and_the_next_one_afresh():
    # no pair for an allowed UDP query: the same socket's next query comes up and is read
    e = dns_engine("nxdomain")
    ok = udp(ALICE, ISP, 33340, 53, dns_query("fine.example"))
    eff = e.packet_in(ok, 1, 1.0)
    assert outputs(eff) == [Output(ok, 1)] and installs(eff) == []
    eff = e.packet_in(udp(ALICE, ISP, 33340, 53, dns_query("blocked.example")), 1, 1.1)
    [(p, _)] = parsed_outputs(eff)
    assert dns.message.from_wire(p.payload).rcode() == dns.rcode.NXDOMAIN
    assert [ev["rule"] for ev in events(eff)] == ["d"]
    assert e.stats()["flows"] == 1        # the answered one: its later queries are answered
