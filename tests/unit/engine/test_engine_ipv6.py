"""IPv6 through the censor: the parser (extension headers, fragments, bad frames), the
actions' answers with checksums over the IPv6 pseudo-header, `ip` with IPv6 CIDRs, the
`family` key, steering and per-flow entries in IPv6 fields, events saying the family."""
import struct

import dns.message
import pytest

from controllers import packets as P
from controllers import packets6 as P6
from controllers.engine.engine import Engine
from controllers.rules import ip6
from controllers.rules.checks import RuleError, check_rule
from controllers.switch.tables import ETH_IPV6
from engine_helpers import (WEB, TcpClient, client_hello, dns_query, events,
                            installs, mac, outputs, parsed_outputs, rule)
from ipv6_helpers import ALICE6, HOSTS6, ISP6, WEB6, checksum_ok6, policy6


# ------------------------------------------------------------------------------ the parser

def _with_ext(frame: bytes, headers: list[tuple[int, bytes]]) -> bytes:
    """`frame` (IPv6, no extension headers) with `headers` [(type, body)] put before its
    transport; each body is padded to a multiple of 8 with its next-header and length."""
    nh = frame[20]
    chain = b""
    types = [t for t, _b in headers]
    for i, (t, body) in enumerate(headers):
        nxt = types[i + 1] if i + 1 < len(types) else nh
        raw = body + bytes(-(len(body) + 2) % 8)
        chain += bytes((nxt, (len(raw) + 2) // 8 - 1)) + raw
    plen = struct.unpack_from("!H", frame, 18)[0] + len(chain)
    head = frame[:18] + struct.pack("!HB", plen, types[0]) + frame[21:54]
    return head + chain + frame[54:]


def test_parse_walks_extension_headers_to_the_transport():
    c = TcpClient(ALICE6, WEB6)
    frame = _with_ext(c.data(b"hello"), [(P6.HOP_BY_HOP, b"\x01\x04\0\0\0\0"),
                                         (P6.DEST_OPTS, b"\x01\x0c" + bytes(12))])
    p = P.parse_frame(frame)
    assert (p.family, p.proto, p.src, p.dst, p.dport, p.payload) == \
        (6, P.TCP, ALICE6["ip"], WEB6["ip"], 443, b"hello")
    assert p.ihl == 40 + 8 + 16 and p.ip_packet == frame[14:]


def test_fragments_first_has_ports_later_has_none():
    c = TcpClient(ALICE6, WEB6)
    base = c.data(b"x" * 16)
    first = _with_ext(base, [(P6.FRAGMENT, struct.pack("!HI", 0x0001, 7))])
    later = _with_ext(base, [(P6.FRAGMENT, struct.pack("!HI", 0x0008, 7))])
    p1, p2 = P.parse_frame(first), P.parse_frame(later)
    assert p1.first_fragment and not p1.fragment and p1.dport == 443
    assert p2.fragment and p2.dport == 0 and p2.proto == P.TCP


@pytest.mark.parametrize("cut", [
    lambda f: f[:50],                                        # short fixed header
    lambda f: f[:14] + b"\x45" + f[15:],                     # version 4 in an IPv6 frame
    lambda f: f[:18] + b"\xff\xff" + f[20:],                 # payload length past the end
    lambda f: _with_ext(f, [(P6.HOP_BY_HOP, b"")])[:-50],    # extension header cut
    lambda f: _with_ext(f, [(P6.DEST_OPTS, b"")] * 9),       # chain too long
])
def test_bad_ipv6_frames_are_malformed(cut):
    with pytest.raises(P.Malformed):
        P.parse_frame(cut(TcpClient(ALICE6, WEB6).data(b"abc")))


def test_builders_fill_checksums_over_the_ipv6_pseudo_header():
    c = TcpClient(ALICE6, WEB6)
    p = P.parse_frame(c.data(b"payload"))
    for frame in (P.rst_for(p), P.icmp_unreachable(p), P.reply_udp(p, b"x" * 33),
                  P.with_ttl(P.rst_for(p), 9)):
        assert checksum_ok6(frame)
    assert P.parse_frame(P.with_ttl(P.rst_for(p), 9)).ttl == 9


# ------------------------------------------------------------------------------ actions

def open_flow(e, c):
    e.packet_in(c.syn(), 1, 0.0)
    e.packet_in(c.ack_(), 1, 0.0)


def test_sni_reset_over_ipv6_has_valid_rsts_and_says_the_family():
    e = Engine(policy6(rule("sni", {"sni": ["blocked.example"]}, "reset")))
    c = TcpClient(ALICE6, WEB6)
    open_flow(e, c)
    eff = e.packet_in(c.data(client_hello("blocked.example")), 1, 0.1)
    [ev] = events(eff)
    assert ev["flow"]["family"] == "ipv6" and ev["flow"]["dst"] == WEB6["ip"]
    rsts = parsed_outputs(eff)
    assert {p.dst for p, _o in rsts} == {ALICE6["ip"], WEB6["ip"]}
    assert all(p.flags & P.RST and checksum_ok6(p.frame) for p, _o in rsts)


def test_reject_answers_ipv6_with_rst_and_icmpv6():
    e = Engine(policy6(rule("r", {"server": ["web"]}, "reject")))
    [(rst, _o)] = parsed_outputs(e.packet_in(TcpClient(ALICE6, WEB6).syn(), 1, 0.0))
    assert rst.flags == P.RST | P.ACK and checksum_ok6(rst.frame)
    dgram = P.build_udp(mac(ALICE6), mac(WEB6), ALICE6["ip"], WEB6["ip"], 5000, 9, b"hi")
    [(icmp, _o)] = parsed_outputs(e.packet_in(dgram, 1, 0.0))
    assert (icmp.proto, icmp.icmp_type, icmp.icmp_code) == (P.ICMPV6, 1, 4)
    assert checksum_ok6(icmp.frame) and icmp.payload == dgram[14:]
    echo = P6.build_icmp6(mac(ALICE6), mac(WEB6), ALICE6["ip"], WEB6["ip"], 128, 0, 1, b"p")
    [(prohibited, _o)] = parsed_outputs(e.packet_in(echo, 1, 0.0))
    assert (prohibited.icmp_type, prohibited.icmp_code) == (1, 1)


def test_family_ipv6_drops_ipv6_only_and_pairs_use_ipv6_fields():
    e = Engine(policy6(rule("v6off", {"family": ["ipv6"]}, "drop")))
    eff = e.packet_in(TcpClient(ALICE6, WEB6).syn(), 1, 0.0)
    [ev] = events(eff)
    assert ev["technique"] == "family" and ev["detail"] == {"family": "ipv6"}
    assert outputs(eff) == []
    pair = installs(eff)
    assert pair[0].match["eth_type"] == ETH_IPV6 and pair[0].match["ipv6_dst"] == WEB6["ip"]
    eff4 = e.packet_in(TcpClient().syn(), 1, 0.0)
    assert events(eff4) == [] and len(outputs(eff4)) == 1


def test_ipv6_cidr_matches_ipv6_flows_only():
    e = Engine(policy6(rule("net", {"ip": ["2001:db8::c613:0/112"]}, "drop")))
    assert events(e.packet_in(TcpClient(ALICE6, WEB6).syn(), 1, 0.0))[0]["detail"] == \
        {"ip": WEB6["ip"]}
    assert events(e.packet_in(TcpClient().syn(), 1, 0.0)) == []


def test_aaaa_query_over_ipv6_gets_nxdomain():
    e = Engine(policy6(rule("d", {"dns": ["blocked.example"]}, "nxdomain")))
    q = P.build_udp(mac(ALICE6), mac(ISP6), ALICE6["ip"], ISP6["ip"], 5353, 53,
                    dns_query("blocked.example", "AAAA"))
    eff = e.packet_in(q, 1, 0.0)
    [(ans, _o)] = parsed_outputs(eff)
    assert ans.src == ISP6["ip"] and ans.payload[3] & 0x0F == 3 and checksum_ok6(ans.frame)
    assert events(eff)[0]["flow"]["family"] == "ipv6"


def test_forge_answers_aaaa_with_its_ipv6_address_and_a_with_its_ipv4_one():
    forge = {"type": "forge", "ip": "198.19.0.66", "ip6": "2001:db8::66"}
    e = Engine(policy6(rule("f", {"dns": ["forged.example"]}, forge)))
    got = {}
    for sport, qtype in ((5001, "AAAA"), (5002, "A")):
        q = P.build_udp(mac(ALICE6), mac(ISP6), ALICE6["ip"], ISP6["ip"], sport, 53,
                        dns_query("forged.example", qtype))
        eff = e.packet_in(q, 1, 0.0)
        [(ans, _o)] = parsed_outputs(eff)
        msg = dns.message.from_wire(ans.payload)
        got[qtype] = [r.to_text() for rrset in msg.answer for r in rrset]
        assert events(eff)[0]["detail"]["answer6"] == "2001:db8::66"
    assert got == {"AAAA": ["2001:db8::66"], "A": ["198.19.0.66"]}
    with pytest.raises(RuleError, match="action.ip6"):
        check_rule(rule("f", {"dns": ["x"]}, {**forge, "ip6": "198.19.0.1"}), HOSTS6)


def test_neighbour_discovery_passes_a_drop_all_ipv6_rule():
    e = Engine(policy6(rule("v6off", {"family": ["ipv6"]}, "drop")))
    ns = P6.build_icmp6(mac(ALICE6), mac(WEB6), ALICE6["ip"], WEB6["ip"], 135, 0, 0,
                        bytes(16))
    eff = e.packet_in(ns, 1, 0.0)
    assert events(eff) == [] and [o.frame for o in outputs(eff)] == [ns]


def test_multicast_listener_reports_are_not_pings_to_an_icmp_ban():
    """A host's MLD reports (ICMPv6 to ff02::16, sent as its link comes up) pass an `icmp`
    rule untouched: they counted as pings toward a ban_after and banned the host (Iran's
    ir/2025-post-shutdown, dual-stack). An echo request still counts."""
    e = Engine(policy6({**rule("ping", {"proto": ["icmp"]}, {"type": "ban_after",
                                                            "packets": 2}),
                        "residual": 10}))
    for src in ("fe80::c6ff:fe12:a", "::"):
        mld = P6.build_icmp6(mac(ALICE6), b"\x33\x33\x00\x00\x00\x16", src, "ff02::16",
                             143, 0, 0, bytes(24))
        for t in (0.0, 0.1, 0.2):
            eff = e.packet_in(mld, 1, t)
            assert events(eff) == [] and [o.frame for o in outputs(eff)] == [mld]
    echo = [P6.build_icmp6(mac(ALICE6), mac(WEB6), ALICE6["ip"], WEB6["ip"], 128, 0, 0,
                           struct.pack("!HH", 7, n)) for n in range(3)]
    got = [[ev["action"] for ev in events(e.packet_in(f, 1, 1.0 + n / 10))]
           for n, f in enumerate(echo)]
    assert got == [[], [], ["ban_after", "drop"]]          # two pings pass, the third bans


def test_steering_covers_both_families_in_a_dual_stack_lab():
    e = Engine(policy6(rule("w", {"server": ["web"], "port": [[443, 443]]}, "reject")))
    matches = [s.match for s in installs(e.base_effects()) if s.priority == 100]
    assert {"in_port": 1, "eth_type": ETH_IPV6, "ip_proto": P.TCP, "tcp_dst": 443,
            "ipv6_dst": WEB6["ip"]} in matches
    assert any(m.get("ipv4_dst") == WEB["ip"] for m in matches)


def test_ipv4_only_lab_steers_no_ipv6():
    from engine_helpers import policy
    e = Engine(policy(rule("d", {"dns": ["x.example"]}, "nxdomain")))
    from controllers.switch.tables import PRIO_TRANSPORT
    assert all(s.match.get("eth_type") != ETH_IPV6 or s.priority == PRIO_TRANSPORT
               for s in installs(e.base_effects()))


def test_check_rule_normalises_ipv6_cidrs_and_refuses_bad_families():
    r = check_rule(rule("a", {"ip": ["2001:DB8::1/32", "198.19.0.0/16"]}, "drop"), HOSTS6)
    assert r["match"]["ip"] == ["2001:db8::/32", "198.19.0.0/16"]
    with pytest.raises(RuleError, match="family"):
        check_rule(rule("a", {"family": ["ip6"]}, "drop"), HOSTS6)
    with pytest.raises(RuleError, match="match.ip"):
        check_rule(rule("a", {"ip": ["2001:db8::/129"]}, "drop"), HOSTS6)


def test_residual_box_and_rst_handshake_over_ipv6():
    e = Engine(policy6(rule("h", {"server": ["web"], "port": [[8443, 8443]]},
                            {"type": "rst_handshake", "count": 2}),
                       rule("s", {"sni": ["blocked.example"]}, "reset", residual=30)))
    c = TcpClient(ALICE6, WEB6)
    open_flow(e, c)
    eff = e.packet_in(c.data(client_hello("blocked.example")), 1, 0.1)
    [box] = [s for s in installs(eff) if s.priority == 200]
    assert box.match == {"eth_type": ETH_IPV6, "ip_proto": P.TCP, "ipv6_src": ALICE6["ip"],
                         "ipv6_dst": WEB6["ip"], "tcp_dst": 443}
    boxed = events(eff)[-1]
    assert boxed["technique"] == "residual" and boxed["flow"]["family"] == "ipv6"
    eff = e.packet_in(TcpClient(ALICE6, WEB6, sport=40001, dport=8443).syn(), 1, 0.2)
    rsts = parsed_outputs(eff)
    assert [p.window for p, _o in rsts[:2]] == [1980, 1981]
    assert all(p.flags == P.RST | P.ACK and checksum_ok6(p.frame) for p, _o in rsts[:2])


def test_rst_handshake_copies_syn_acks_of_both_families_up():
    from controllers.switch.tables import PRIO_PASS
    e = Engine(policy6(rule("h", {"proto": ["tcp"], "port": [[443, 443]]},
                            {"type": "rst_handshake", "count": 3})))
    synacks = [s.match for s in installs(e.base_effects()) if s.priority == PRIO_PASS
               and s.match.get("tcp_flags") == (P.SYN | P.ACK, P.SYN | P.ACK)]
    assert sorted(m["eth_type"] for m in synacks) == [0x800, ETH_IPV6]
    assert all(m["tcp_src"] == 443 for m in synacks)


def test_address_numbers_are_remembered_and_forgotten_past_the_cap():
    numbers = ip6.Numbers(cap=2)
    assert numbers["198.18.0.10"] == ip6.addr_int("198.18.0.10")
    assert numbers["2001:db8::1"] == ip6.addr_int("2001:db8::1") and len(numbers) == 2
    assert numbers["198.18.0.11"] == ip6.addr_int("198.18.0.11") and len(numbers) == 1
