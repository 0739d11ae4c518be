"""DPI profiles (controllers.dpi.profile, controllers.engine.tcb): what the censor reads of a
fake, a disordered or a split ClientHello, and what its events say about it.

Each desync is sent as the client tools send it (lab.clients.desync): the handshake seen as
in the lab (the server's SYN-ACK copy gives the stream's start), then the segments."""
import pytest

from controllers import packets as P
from controllers.dpi import profile
from controllers.engine.effects import Output
from controllers.engine.engine import Engine
from controllers.openflow.offload import pseudo_sum
from controllers.rules.checks import RuleError, check_dpi
from engine_helpers import TcpClient, client_hello, events, outputs, policy, rule

BLOCKED, FAKE = "blocked.example.com", "www.iana.org"


def engine(dpi, **kw):
    p = policy(rule("sni-drop", {"sni": [BLOCKED]}, "drop"), **kw)
    if dpi is not None:
        p["dpi"] = dpi
    return Engine(p)


def opened(e, c):
    """The lab's way: the SYN and ACK pass in the switch, a copy of the SYN-ACK comes up."""
    assert e.packet_in(c.synack(), 4, 0.0, copy=True) == []


def badsum(frame: bytes) -> bytes:
    out = bytearray(frame)
    at = 14 + 20 + 16
    wrong = (int.from_bytes(out[at:at + 2], "big") + 0x1111) & 0xFFFF
    out[at:at + 2] = wrong.to_bytes(2, "big")
    return bytes(out)


def partial(frame: bytes) -> bytes:
    """The frame as a sender leaving its TCP checksum to offload makes it."""
    out = bytearray(frame)
    total = int.from_bytes(out[16:18], "big")
    out[50:52] = pseudo_sum(frame[14:34], P.TCP, total - 20).to_bytes(2, "big")
    return bytes(out)


def run(e, frames, start=0.1):
    eff = []
    for i, f in enumerate(frames):
        eff += e.packet_in(f, 1, start + i * 0.01)
    return eff


def desync(c, kind):
    hello, fake = client_hello(BLOCKED), client_hello(FAKE)
    cut = hello.index(BLOCKED.encode()) + 4
    if kind == "direct":
        return [c.data(hello)]
    if kind == "fake-badsum":
        return [badsum(c.data(fake)), c.data(hello)]
    if kind == "fake-badseq":
        return [c.data(fake, -10000), c.data(hello)]
    if kind == "disorder":
        return [c.data(hello[cut:], cut), c.data(hello[:cut])]
    cuts = [0, 1, 5, cut - 6, cut, len(hello)]
    return [c.data(hello[a:b], a) for a, b in zip(cuts, cuts[1:])]


TOOLS = ("direct", "fake-badsum", "fake-badseq", "disorder", "multisplit")
EXPECTED = {   # profile -> tools blocked (publications: naive falls to every desync)
    "naive": {"direct"},
    "hardened": {"direct", "fake-badsum", "fake-badseq", "disorder", "multisplit"},
    "default": {"direct", "fake-badseq", "disorder", "multisplit"},
    # Geneva's 2019 rates: the GFW reads segments whole (3%), believes a bad-checksum
    # duplicate (80%); Kazakhstan believes both and reads packets alone (100% each)
    "gfw-2019": {"direct", "fake-badseq", "disorder", "multisplit"},
    "kazakhstan-2019": {"direct"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("tool", TOOLS)
def test_the_matrix_each_profile_blocks_what_the_publications_say(name, tool):
    e, c = engine(name), TcpClient()
    opened(e, c)
    eff = run(e, desync(c, tool))
    blocked = [ev for ev in events(eff) if ev["rule"] == "sni-drop"]
    assert bool(blocked) == (tool in EXPECTED[name]), events(eff)


def test_naive_says_it_believed_the_fake_and_which_packet_it_read():
    e, c = engine("naive"), TcpClient()
    opened(e, c)
    [ev] = events(run(e, desync(c, "fake-badsum")))
    assert ev["rule"] is None and ev["technique"] == "dpi" and ev["action"] == "allow"
    assert ev["detail"]["sni"] == FAKE
    assert ev["detail"]["read"][0] == {"seq": 1, "len": len(client_hello(FAKE)),
                                       "checksum": "bad"}
    assert ev["detail"]["believed"] == "a segment with a bad checksum"


def test_naive_believes_an_out_of_window_fake_hardened_ignores_it():
    for name, want in (("naive", "a segment outside the window"), ("hardened", None)):
        e, c = engine(name), TcpClient()
        opened(e, c)
        evs = events(run(e, desync(c, "fake-badseq")))
        if want:
            assert evs[0]["detail"]["believed"] == want and evs[0]["detail"]["sni"] == FAKE
        else:
            [ev] = evs
            assert ev["rule"] == "sni-drop"
            assert ev["detail"]["dpi"]["ignored"][0]["why"] == "out of window"
            assert ev["detail"]["dpi"]["ignored"][0]["seq"] == -9999


def test_hardened_passes_the_bad_fake_on_untouched_and_says_it_ignored_it():
    e, c = engine("hardened"), TcpClient()
    opened(e, c)
    fake, real = desync(c, "fake-badsum")
    assert e.packet_in(fake, 1, 0.1) == [Output(fake, 1)]
    [ev] = events(e.packet_in(real, 1, 0.2))
    assert ev["rule"] == "sni-drop"
    assert ev["detail"]["dpi"]["ignored"] == [
        {"seq": 1, "len": len(client_hello(FAKE)), "checksum": "bad", "why": "bad checksum"}]


def test_a_partial_checksum_is_not_a_bad_one():
    e, c = engine("hardened"), TcpClient()
    opened(e, c)
    [ev] = events(e.packet_in(partial(c.data(client_hello(BLOCKED))), 1, 0.1))
    assert ev["rule"] == "sni-drop"


def test_overlap_last_believes_the_second_copy():
    hello, other = client_hello(BLOCKED), client_hello("zzzzzzz.example.com")
    assert len(hello) == len(other)
    for overlap, blocked in (("first", False), ("last", True)):
        e, c = engine({"overlap": overlap}), TcpClient()
        opened(e, c)
        # the first copy's tail is missing: nothing parses until the second copy completes it
        eff = run(e, [c.data(other[:300]), c.data(hello[:200]), c.data(hello[200:], 200)])
        assert any(ev["rule"] == "sni-drop" for ev in events(eff)) == blocked, overlap


def test_teardown_by_a_client_rst_then_unread_without_a_handshake():
    e, c = engine({"profile": "naive", "reassembly": True}), TcpClient()
    opened(e, c)
    rst = badsum(c.data(b"", 0, P.RST | P.ACK))
    eff = e.packet_in(rst, 1, 0.1)
    assert events(eff) == [{"rule": None, "technique": "dpi", "action": "teardown",
                            "flow": events(eff)[0]["flow"],
                            "detail": {"by": "client_rst", "checksum": "bad"}}]
    hello = c.data(client_hello(BLOCKED))
    assert e.packet_in(hello, 1, 0.2) == [Output(hello, 1)]      # no state: not read
    # a censor that makes state from any packet reads it again
    e, c = engine({"teardown": ["client_rst"]}), TcpClient()
    opened(e, c)
    e.packet_in(rst, 1, 0.1)
    assert events(e.packet_in(c.data(client_hello(BLOCKED)), 1, 0.2))[0]["rule"] == "sni-drop"


def test_inspect_bytes_bounds_what_is_read():
    e, c = engine({"inspect_bytes": 50}), TcpClient()
    opened(e, c)
    hello = client_hello(BLOCKED)
    eff = run(e, [c.data(hello[:60]), c.data(hello[60:], 60)])
    assert not [ev for ev in events(eff) if ev["rule"] == "sni-drop"]


def test_without_a_profile_the_policy_is_todays():
    assert engine(None).tcb_on is False
    assert profile.from_policy(policy(reassembly=False, inspect_packets=3)) == \
        profile.Profile(reassembly=False, inspect_packets=3)


@pytest.mark.parametrize("bad, message", [
    ("paranoid", "dpi: unknown profile 'paranoid'"),
    ({"overlap": "middle"}, "dpi.overlap: expected one of first, last"),
    ({"teardown": ["rst"]}, "dpi.teardown: expected a list of client_rst, server_rst, fin"),
    ({"inspect_packets": 0}, "dpi.inspect_packets: expected an integer from 1 to 1000"),
    ({"checksum": True}, "dpi.checksum: unknown key"),
    ([], "dpi: expected a mapping or a profile name"),
])
def test_bad_profiles_are_refused_by_key(bad, message):
    with pytest.raises(RuleError, match="^" + message.replace("(", r"\(")):
        check_dpi(bad)
    with pytest.raises(ValueError):
        engine(bad)


def test_named_profiles_compile_whole():
    assert check_dpi("hardened") == {
        "checksums": True, "sequence": True, "ttl_check": False, "overlap": "first",
        "state": "any",
        "teardown": [], "resync": False, "inspect_packets": 8, "inspect_bytes": None,
        "reassembly": True}
    assert check_dpi({"profile": "naive", "teardown": ["fin"]})["teardown"] == ["fin"]


def test_events_say_what_was_out_of_order_and_what_was_sent_twice():
    e, c = engine("hardened"), TcpClient()
    opened(e, c)
    [ev] = events(run(e, desync(c, "disorder")))
    assert ev["detail"]["dpi"]["noticed"] == "segments out of order"
    e, c = engine("naive"), TcpClient()
    opened(e, c)
    [ev] = events(run(e, desync(c, "disorder")))
    assert ev["detail"]["believed"] == "segments out of order"
    e, c = engine({"profile": "naive", "reassembly": True}), TcpClient()
    opened(e, c)
    [ev] = events(run(e, desync(c, "fake-badsum")))
    assert ev["detail"]["believed"] == "a segment with a bad checksum"


def test_teardown_by_the_servers_rst_which_the_switch_then_copies_up():
    from controllers.engine.effects import InstallFlow
    e, c = engine({"profile": "naive", "teardown": ["server_rst"]}), TcpClient()
    rst_copies = [x.spec for x in e.base_effects() if isinstance(x, InstallFlow)
                  and x.spec.match.get("tcp_flags") == (P.RST, P.RST)]
    assert rst_copies and all(s.match["ip_proto"] == P.TCP and "in_port" not in s.match
                              for s in rst_copies)
    assert not [x for x in engine("naive").base_effects() if isinstance(x, InstallFlow)
                and x.spec.match.get("tcp_flags") == (P.RST, P.RST)]
    opened(e, c)
    held = c.data(client_hello(BLOCKED)[:100])
    assert e.packet_in(held, 1, 0.1) == []                         # waits for the rest
    rst = P.build_tcp(P.mac_bytes(c.s["mac"]), P.mac_bytes(c.c["mac"]), c.s["ip"], c.c["ip"],
                      443, 40000, c.server_isn + 1, 0, P.RST)
    eff = e.packet_in(rst, 4, 0.2, copy=True)
    assert [ev["detail"] for ev in events(eff)] == [{"by": "server_rst"}]
    assert outputs(eff) == [Output(held, 1)]                       # what it held goes on
    rest = c.data(client_hello(BLOCKED)[100:], 100)
    assert e.packet_in(rest, 1, 0.3) == [Output(rest, 1)]          # no state: not read


def test_drop_reply_lets_the_hello_through_and_drops_the_servers_answer():
    from engine_helpers import installs
    e = Engine(policy(rule("ir", {"sni": [BLOCKED]}, "drop_reply")))
    c = TcpClient()
    opened(e, c)
    hello = c.data(client_hello(BLOCKED))
    eff = e.packet_in(hello, 1, 0.1)
    assert [(ev["rule"], ev["action"]) for ev in events(eff)] == [("ir", "drop_reply")]
    assert outputs(eff) == [Output(hello, 1)]                     # the ClientHello goes on
    c2s, s2c = installs(eff)
    assert c2s.actions != () and s2c.actions == ()                # the ServerHello does not
    answer = c.server_data(b"\x16\x03\x03\x00\x05hello")
    assert outputs(e.packet_in(answer, 4, 0.2)) == []
    more = c.data(b"x", 600)
    assert outputs(e.packet_in(more, 1, 0.3)) == [Output(more, 1)]
    tap = Engine(policy(rule("ir", {"sni": [BLOCKED]}, "drop_reply"), mode="tap"))
    opened(tap, c)
    assert outputs(tap.packet_in(hello, 1, 0.1)) == [Output(hello, 1)]


def test_rst_handshake_answers_the_syn_and_the_syn_ack_with_three_rsts_each():
    e = Engine(policy(rule("gfw-443", {"port": [[443, 443]], "proto": ["tcp"]},
                           {"type": "rst_handshake", "count": 3})))
    c = TcpClient()
    syn = c.syn()
    eff = e.packet_in(syn, 1, 0.1)
    assert [(ev["rule"], ev["action"]) for ev in events(eff)] == [("gfw-443", "rst_handshake")]
    rsts = [(P.parse_frame(o.frame), o.out_port) for o in outputs(eff) if o.frame != syn]
    assert [(p.src, p.flags, p.seq, p.ack, p.window, port) for p, port in rsts] == [
        (c.s["ip"], P.RST | P.ACK, 0, c.seq + 1, w, 1) for w in (1980, 1981, 1982)]
    assert Output(syn, 1) in outputs(eff)                         # the SYN goes on
    synack = c.synack()
    eff = e.packet_in(synack, 4, 0.2)
    assert outputs(eff)[0] == Output(synack, 4)
    assert [(p.flags, p.seq, p.window) for p, _ in
            ((P.parse_frame(o.frame), o) for o in outputs(eff)[1:])] == [
        (P.RST | P.ACK, c.server_isn + 1, w) for w in (3293, 3294, 3295)]


@pytest.mark.parametrize("mode", ["inline", "tap"])
def test_rst_handshake_follows_a_copied_syn_ack_with_its_rsts(mode):
    """The switch forwarded the SYN-ACK by the rule's SYN-ACK copy entry (the flow's own
    entry not yet in the datapath) and sent a copy up: the three RSTs still follow it."""
    e = Engine(policy(rule("gfw-443", {"port": [[443, 443]], "proto": ["tcp"]},
                           {"type": "rst_handshake", "count": 3}), mode=mode))
    c = TcpClient()
    e.packet_in(c.syn(), 1, 0.1)
    eff = e.packet_in(c.synack(), 4, 0.2, copy=True)
    assert Output(c.synack(), 4) not in outputs(eff)            # the switch forwarded it
    assert [(p.src, p.dst, p.flags, p.seq, p.window, o.out_port) for p, o in
            ((P.parse_frame(o.frame), o) for o in outputs(eff))] == [
        (c.s["ip"], c.c["ip"], P.RST | P.ACK, c.server_isn + 1, w, 1) for w in (3293, 3294, 3295)]
    assert e.packet_in(TcpClient(sport=40001).synack(), 4, 0.3, copy=True) == []  # not its flow

def test_status_names_the_profile_in_force():
    reply, _ = engine("hardened").control({"cmd": "status"}, 0.0)
    assert reply["dpi"]["checksums"] is True and reply["reassembly"] is True
    assert "dpi" not in engine(None).control({"cmd": "status"}, 0.0)[0]


def test_a_later_syn_resynchronises_only_with_resync():
    for resync, blocked in ((True, True), (False, False)):
        e, c = engine({"resync": resync}), TcpClient()
        opened(e, c)
        held = c.data(client_hello(BLOCKED)[:50])
        assert e.packet_in(held, 1, 0.1) == []           # waits for the rest
        again = TcpClient(isn=900000)                    # the same 5-tuple, a new ISN
        eff = e.packet_in(again.syn(), 1, 0.2)
        if resync:                                       # what was held goes on unread
            assert Output(held, 1) in outputs(eff)
        eff = e.packet_in(again.data(client_hello(BLOCKED)), 1, 0.3)
        assert any(ev["rule"] == "sni-drop" for ev in events(eff)) == blocked, resync


def handshake_with_syn(e, c, ttl=63):
    """Under a profile the client's SYN comes up (its TTL is the flow's baseline); it passes."""
    syn = P.with_ttl(c.syn(), ttl)
    assert e.packet_in(syn, 1, 0.0) == [Output(syn, 1)]
    opened(e, c)


@pytest.mark.parametrize("ttl_check", [False, True])
def test_a_ttl_limited_fake_is_believed_unless_the_dpi_checks_ttls(ttl_check):
    """fake-ttl: the fake arrives with TTL 1 (it dies at the next router), the real hello
    with the SYN's 63. A naive DPI believes the fake and says so; one that checks TTLs
    ignores it and reads the real hello."""
    e, c = engine({"profile": "naive", "ttl_check": ttl_check}), TcpClient()
    handshake_with_syn(e, c)
    fake = P.with_ttl(c.data(client_hello(FAKE)), 1)
    hello = P.with_ttl(c.data(client_hello(BLOCKED)), 63)
    eff = run(e, [fake, hello])
    [ev] = events(eff)
    if ttl_check:
        assert ev["rule"] == "sni-drop"
        [ignored] = ev["detail"]["dpi"]["ignored"]
        assert ignored["ttl"] == 1 and ignored["why"] == "TTL differs from the SYN's"
        assert Output(fake, 1) in eff                   # passed on unread, to die later
    else:
        assert ev["rule"] is None and ev["action"] == "allow" and ev["detail"]["sni"] == FAKE
        assert ev["detail"]["believed"] == "a segment with another TTL"
        assert ev["detail"]["read"] == [{"seq": 1, "len": len(client_hello(FAKE)), "ttl": 1}]


@pytest.mark.parametrize("ttl_check", [False, True])
def test_a_ttl_limited_rst_tears_down_unless_the_dpi_checks_ttls(ttl_check):
    """tcb-teardown: a RST with TTL 1 makes a naive DPI forget the flow (the hello after it
    is not read); one that checks TTLs ignores the RST and drops the hello."""
    e, c = engine({"profile": "naive", "ttl_check": ttl_check}), TcpClient()
    handshake_with_syn(e, c)
    rst = P.with_ttl(c.data(b"", 0, P.RST | P.ACK), 1)
    eff = e.packet_in(rst, 1, 0.1)
    assert Output(rst, 1) in eff
    assert [ev["action"] for ev in events(eff)] == ([] if ttl_check else ["teardown"])
    hello = P.with_ttl(c.data(client_hello(BLOCKED)), 63)
    eff = e.packet_in(hello, 1, 0.2)
    if ttl_check:
        assert events(eff)[0]["rule"] == "sni-drop"
    else:
        assert eff == [Output(hello, 1)]


def test_under_a_profile_the_clients_syn_is_not_passed_in_the_switch():
    from controllers.engine.effects import InstallFlow
    from controllers.packets import SYN
    for dpi, passed in ((None, True), ("naive", False)):
        specs = [x.spec for x in engine(dpi).base_effects() if isinstance(x, InstallFlow)]
        syn_passes = [s for s in specs if s.match.get("tcp_flags") == (SYN, SYN | P.ACK)]
        assert bool(syn_passes) == passed, dpi


@pytest.mark.parametrize("name, fooled", [("gfw-2019", {"fake-ttl", "tcb-teardown"}),
                                          ("kazakhstan-2019", {"fake-ttl"}),
                                          ("hardened", {"fake-ttl"}),
                                          ("naive", {"fake-ttl", "tcb-teardown"})])
def test_ttl_limited_desync_against_the_named_profiles(name, fooled):
    """Geneva, 2019: a RST with TTL 10 after the handshake beat the GFW (87%, RST+ACK 94%)
    and not Kazakhstan (0%); a TTL-limited duplicate of the request beat both (98%, 100%)."""
    for tool in ("fake-ttl", "tcb-teardown"):
        e, c = engine(name), TcpClient()
        handshake_with_syn(e, c)
        first = c.data(client_hello(FAKE)) if tool == "fake-ttl" else \
            c.data(b"", 0, P.RST | P.ACK)
        eff = run(e, [P.with_ttl(first, 1), P.with_ttl(c.data(client_hello(BLOCKED)), 63)])
        blocked = any(ev["rule"] == "sni-drop" for ev in events(eff))
        assert blocked == (tool not in fooled), (name, tool, events(eff))
