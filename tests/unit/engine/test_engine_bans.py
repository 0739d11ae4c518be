"""ban_after (controllers.engine.bans): the first N matching packets from a client to a server
address pass one at a time; the next is dropped and bans the address pair, every protocol,
for the rule's residual (Iran after June 2025, net4people/bbs#489)."""
from controllers import packets as P
from controllers.engine.engine import Engine
from engine_helpers import ALICE, BOB, WEB, TcpClient, events, installs, mac, outputs, policy, rule


def ping(client=ALICE, seq=1) -> bytes:
    return P.build_icmp(mac(client), mac(WEB), client["ip"], WEB["ip"], 8, 0,
                        (0x1234 << 16) | seq, b"x" * 56)


def engine():
    return Engine(policy(rule("icmp-ban", {"proto": ["icmp"]},
                              {"type": "ban_after", "packets": 2}, residual=10.0)))


def test_two_pings_pass_the_third_is_dropped_and_bans_the_host():
    e = engine()
    for seq in (1, 2):
        frame = ping(seq=seq)
        eff = e.packet_in(frame, 1, 0.1 * seq)
        assert [o.frame for o in outputs(eff)] == [frame]     # passes, one at a time:
        assert events(eff) == [] and installs(eff) == []      # no entry, the next comes up
    eff = e.packet_in(ping(seq=3), 1, 0.3)
    assert outputs(eff) == []
    evs = events(eff)
    assert [(ev["rule"], ev["action"], ev["technique"]) for ev in evs] == [
        ("icmp-ban", "ban_after", "proto"), ("icmp-ban", "drop", "residual")]
    assert evs[0]["detail"]["after"] == 2
    assert evs[1]["flow"] == {"proto": "any", "src": ALICE["ip"], "sport": None,
                              "dst": WEB["ip"], "dport": None}
    box = [s for s in installs(eff) if s.hard_timeout == 10]
    assert len(box) == 1 and "ip_proto" not in box[0].match and box[0].actions == ()
    assert box[0].match["ipv4_src"] == ALICE["ip"] and box[0].match["ipv4_dst"] == WEB["ip"]


def test_the_ban_holds_tcp_to_the_host_until_it_ends_and_others_are_not_banned():
    e = engine()
    for seq in (1, 2, 3):
        e.packet_in(ping(seq=seq), 1, 0.1 * seq)
    c = TcpClient(sport=41000, dport=80)
    assert outputs(e.packet_in(c.data(b"GET / HTTP/1.1\r\n\r\n"), 1, 1.0)) == []   # banned
    bob = ping(BOB, 1)
    assert [o.frame for o in outputs(e.packet_in(bob, 2, 1.1))] == [bob]         # not Bob
    later = TcpClient(sport=41001, dport=80).data(b"GET / HTTP/1.1\r\n\r\n")
    assert outputs(e.packet_in(later, 1, 20.0))                                   # it ended


def test_after_the_ban_the_count_starts_again():
    e = engine()
    for seq in (1, 2, 3):
        e.packet_in(ping(seq=seq), 1, 0.1 * seq)
    frame = ping(seq=4)
    assert [o.frame for o in outputs(e.packet_in(frame, 1, 20.0))] == [frame]


def test_a_ban_survives_a_restart_of_the_censor():
    e = engine()
    for seq in (1, 2, 3):
        e.packet_in(ping(seq=seq), 1, 0.1 * seq)
    saved = e.penalty_boxes(1.0)
    assert [(b["proto"], b["dport"], b["rule"]) for b in saved] == [("any", 0, "icmp-ban")]
    again = engine()
    box = [s for s in installs(again.restore_penalty_boxes(saved, 1.0))]
    assert len(box) == 1 and "ip_proto" not in box[0].match
    c = TcpClient(sport=41000, dport=80)
    assert outputs(again.packet_in(c.data(b"GET / HTTP/1.1\r\n\r\n"), 1, 2.0)) == []
