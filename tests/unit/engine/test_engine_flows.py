"""Reassembly in sequence order, the flow table's cap, and three-valued matching."""
from hypothesis import given, settings, strategies as st

from controllers.rules.facts import FACT_NAMES, UNKNOWN, Facts
from controllers.engine.flows import SEQ_MOD, Flow, FlowTable, Reassembler
from controllers.rules.matching import CompiledMatch
from engine_helpers import HOSTS


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=3000), st.integers(0, SEQ_MOD - 1),
       st.lists(st.integers(1, 700), min_size=1, max_size=20), st.randoms(use_true_random=False))
def test_any_segmentation_and_order_gives_the_stream(data, isn, cuts, rnd):
    segs, pos, i = [], 0, 0
    while pos < len(data):
        size = cuts[i % len(cuts)]
        segs.append((pos, data[pos:pos + size]))
        pos += size
        i += 1
    segs += [rnd.choice(segs) for _ in range(len(segs) // 3)]        # duplicates
    rnd.shuffle(segs)
    r = Reassembler(isn)
    for off, chunk in segs:
        r.add((isn + off) % SEQ_MOD, chunk)
    assert r.data() == data and r.next_seq == (isn + len(data)) % SEQ_MOD


def test_overlaps_wraparound_and_cap():
    r = Reassembler(SEQ_MOD - 3, cap=10)
    assert r.add(SEQ_MOD - 3, b"abc")
    assert r.add(SEQ_MOD - 1, b"cdef")              # overlaps by one, wraps past 2**32
    assert r.data() == b"abcdef"
    assert not r.add(SEQ_MOD - 10, b"zz")           # entirely before the start
    r.add(3, b"ghijklmnop")
    assert r.data() == b"abcdefghij" and r.full


def test_flow_table_lru_and_both_directions():
    t = FlowTable(cap=2)
    f1 = Flow((6, "a", 1, "b", 2), 1, 2, 0.0)
    f2 = Flow((6, "a", 3, "b", 2), 1, 2, 0.0)
    t.add(f1)
    t.add(f2)
    assert t.find(6, "b", 2, "a", 1) == (f1, False)         # touches f1
    evicted = t.add(Flow((6, "a", 5, "b", 2), 1, 2, 0.0))
    assert evicted == [f2]


class _F:
    proto, c_ip, s_ip, c_n, s_n, c_port, s_port = 6, "198.18.0.10", "198.19.0.10", 1, 2, 40000, 443
    proto_name = "tcp"


def test_three_valued_matching_and_not():
    m = CompiledMatch({"sni": ["x.com"], "not": {"tls_ext": [0xFFCE]}}, HOSTS)
    f = Facts()
    assert m.matches(_F, f) is None
    f.sni = "x.com"
    assert m.matches(_F, f) is None                 # tls_ext still unknown
    f.tls_ext = frozenset({0, 16})
    assert m.matches(_F, f) is True
    f.tls_ext = frozenset({0xFFCE})
    assert m.matches(_F, f) is False
    f.finalise()
    g = Facts()
    g.finalise()
    assert g.sni is None and m.matches(_F, g) is False
    assert UNKNOWN is not None and not UNKNOWN


def test_every_fact_starts_unknown():
    facts = Facts()
    assert all(getattr(facts, name) is UNKNOWN for name in FACT_NAMES)
    assert (facts.dns_query, facts.dns_msg, facts.dns_tcp, facts.alpn) == (None, b"", False, None)


def test_header_constraints():
    assert not CompiledMatch({"sni": ["x"]}, HOSTS).header_may_match(
        type("U", (_F,), {"proto": 17}))
    assert CompiledMatch({"port": [[400, 500]]}, HOSTS).header_ok(_F)
    assert not CompiledMatch({"port": [[1, 442]]}, HOSTS).header_ok(_F)
    assert not CompiledMatch({"sport_above_dport": True}, HOSTS).header_ok(
        type("L", (_F,), {"c_port": 80}))
    assert not CompiledMatch({"not": {"proto": ["tcp"]}}, HOSTS).header_may_match(_F)
    dns_rule = CompiledMatch({"dns": ["x"]}, HOSTS)
    assert dns_rule.header_ok(type("D", (_F,), {"s_port": 53})) and not dns_rule.header_ok(_F)
