"""The report's packets around a censor event (lab/report/packets.py): tshark's fields
parsed, the event's flow picked out in both directions, the packets nearest the event kept."""
from __future__ import annotations

from lab.report.packets import LINES, around, parse

ALICE, SERVER, RESOLVER = "198.18.1.10", "198.19.0.10", "198.18.0.2"


def fields(t, src, dst, ttl, tsp="", tdp="", usp="", udp="", proto="TCP", info="x"):
    """A line as tshark prints FIELDS: an IPv6 packet has the ipv6.* columns, not ip.*."""
    ip = ("", "", "") + (src, dst, ttl) if ":" in src else (src, dst, ttl) + ("", "", "")
    return "\t".join(map(str, (t, *ip, tsp, tdp, usp, udp, proto, info)))


FLOW = {"proto": "tcp", "src": ALICE, "sport": 52698, "dst": SERVER, "dport": 443}


def test_the_flow_both_ways_with_its_ttl_and_time_from_the_event():
    text = "\n".join([
        fields(99.0, ALICE, SERVER, 64, 52698, 443, info="[SYN]"),
        fields(99.998, ALICE, SERVER, 64, 52698, 443, proto="TLSv1", info="Client Hello"),
        fields(100.001, SERVER, ALICE, 63, 443, 52698, info="443 → 52698 [RST, ACK]"),
        fields(100.002, ALICE, SERVER, 64, 50000, 443, info="another flow"),
        fields(100.003, ALICE, RESOLVER, 64, usp=4000, udp=53, proto="DNS", info="query"),
        "not a packet line",
    ])
    lines = around(parse(text), FLOW, 100.0)
    assert lines == [
        " -1.000 s  198.18.1.10 → 198.19.0.10  ttl 64  TCP  [SYN]",
        " -0.002 s  198.18.1.10 → 198.19.0.10  ttl 64  TLSv1  Client Hello",
        " +0.001 s  198.19.0.10 → 198.18.1.10  ttl 63  TCP  443 → 52698 [RST, ACK]"]


def test_udp_ports_and_an_icmp_error_quoting_the_packet():
    dns = {"proto": "udp", "src": ALICE, "sport": 4000, "dst": RESOLVER, "dport": 53}
    text = "\n".join([
        fields(5.0, ALICE, RESOLVER, 64, usp=4000, udp=53, proto="DNS", info="query A x"),
        fields(5.01, f"{RESOLVER},{ALICE}", f"{ALICE},{RESOLVER}", "64,63", usp="53,4000",
               udp="4000,53", proto="DNS", info="response A 198.19.0.11"),
    ])
    assert [line.split("  ")[-1] for line in around(parse(text), dns, 5.0)] == \
        ["query A x", "response A 198.19.0.11"]


def test_only_the_packets_nearest_the_event_within_the_window():
    text = "\n".join(fields(100 + i * 0.1, ALICE, SERVER, 64, 52698, 443, info=f"p{i}")
                     for i in range(-30, 31))
    lines = around(parse(text), FLOW, 100.0)
    assert len(lines) == LINES
    assert [line.split("  ")[-1] for line in lines] == ["p-3", "p-2", "p-1", "p0", "p1", "p2"]
    assert around(parse(fields(200.0, ALICE, SERVER, 64, 52698, 443)), FLOW, 100.0) == []


def test_an_ipv6_flow_with_its_hop_limit():
    alice6, server6 = "2001:db8::c612:10a", "2001:db8::c613:a"
    flow = dict(FLOW, src=alice6, dst=server6, family="ipv6")
    text = "\n".join([
        fields(99.998, alice6, server6, 64, 52698, 443, proto="TLSv1.3", info="Client Hello"),
        fields(100.001, server6, alice6, 49, 443, 52698, info="443 → 52698 [RST, ACK]"),
        fields(100.002, ALICE, SERVER, 64, 52698, 443, info="the IPv4 flow of the same ports"),
    ])
    assert around(parse(text), flow, 100.0) == [
        " -0.002 s  2001:db8::c612:10a → 2001:db8::c613:a  hop limit 64  TLSv1.3  Client Hello",
        " +0.001 s  2001:db8::c613:a → 2001:db8::c612:10a  hop limit 49  TCP  443 → 52698 "
        "[RST, ACK]"]
