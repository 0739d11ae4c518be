"""Scoring as a table: (verdict, the censor's events, expect) -> TP/FP/TN/FN; the metrics."""
from __future__ import annotations

import json

import pytest

from lab.probe.classify import Verdict
from lab.probe.score import Row, render_markdown, render_text, score
from lab.truth.events import Window, matching_events, truth_for

ALICE, BOB = "198.18.0.10", "198.18.0.11"
WEB, OTHER = "198.19.0.10", "198.19.0.11"
HOST = "blocked.example.com"
WIN = Window(10.0, 14.0)


def ev(t, action="drop", technique="sni", src=ALICE, dst=WEB, detail=None, rule="r",
       proto="tcp", dport=443):
    return {"t": t, "rule": rule, "technique": technique, "action": action,
            "flow": {"proto": proto, "src": src, "sport": 40000, "dst": dst, "dport": dport},
            "detail": detail if detail is not None else {technique: HOST}}


def box(t, until, src=ALICE, dst=WEB, dport=443, proto="tcp"):
    return {"t": t, "rule": "r", "technique": "residual", "action": "drop",
            "flow": {"proto": proto, "src": src, "sport": None, "dst": dst, "dport": dport},
            "detail": {"until": until}}


def dns_ev(t, src=ALICE, name=HOST, action="nxdomain"):
    return {"t": t, "rule": "d", "technique": "dns", "action": action,
            "flow": {"proto": "udp", "src": src, "sport": 5353, "dst": "198.18.0.2",
                     "dport": 53}, "detail": {"dns": name}}


def truth(events, expected=None, proto="tcp", port=443, host=HOST, server=WEB):
    return truth_for(matching_events(events, ALICE, host, server, WIN, proto, port), expected)


# verdict blocked?, events, expect blocked?, outcome, censored technique
CASES = [
    ("drop by SNI, found", True, [ev(11)], True, "TP", "sni"),
    ("drop by SNI, missed", False, [ev(11)], True, "FN", "sni"),
    ("nothing done, nothing reported", False, [], False, "TN", None),
    ("nothing done, blocked reported", True, [], False, "FP", None),
    ("DNS event names the host (flow to the resolver)", True, [dns_ev(11)], None, "TP", "dns"),
    ("an allow event is not censorship", False, [ev(11, action="allow")], False, "TN", None),
    ("a throttle is censorship (technique throttle)", False,
     [ev(11, action="throttle", detail={"sni": HOST, "rate_bps": 128000})], False, "FN",
     "throttle"),
    ("another client's block is not ours", True, [ev(11, src=BOB)], None, "FP", None),
    ("before the window: another target's", False, [ev(9)], None, "TN", None),
    ("after the window: another target's", False, [ev(15)], None, "TN", None),
    ("another server, another name", False, [ev(11, dst=OTHER, detail={"sni": "x.org"})],
     None, "TN", None),
    ("by address, no name in the detail", True,
     [ev(11, technique="ip", detail={"ip": WEB})], None, "TP", "ip"),
    ("a penalty box set earlier, still in force", True, [box(5, 95)], True, "TP", "residual"),
    ("a penalty box that ended before the window", False, [box(1, 6)], None, "TN", None),
    ("a penalty box on another port", False, [box(5, 95, dport=80)], None, "TN", None),
    ("a penalty box for UDP, the target is TCP", False, [box(5, 95, proto="udp")], None,
     "TN", None),
    ("expect says blocked, the censor did nothing (no event): still censored", False, [],
     True, "FN", None),
    ("no verdict counts as not blocked", None, [ev(11)], True, "FN", "sni"),
]


@pytest.mark.parametrize("name,blocked,events,expected,want,technique", CASES,
                         ids=[c[0] for c in CASES])
def test_outcome(name, blocked, events, expected, want, technique):
    t = truth(events, expected)
    v = Verdict("https://blocked.example.com/", blocked, "dns" if blocked else None)
    s = score([Row("alice", v.url, v, t)])
    assert s.rows[0].outcome == want
    assert t.technique == technique or (technique is None and not t.techniques)
    assert s.rows[0].reason


def test_truth_notes_disagreement_with_expect():
    t = truth([ev(11, action="throttle")], expected=False)
    assert t.censored and "expect says not blocked" in t.note
    t = truth([], expected=True)
    assert t.censored and "no censor event" in t.note
    assert truth([ev(11)], expected=True).note == ""


def test_main_technique_prefers_the_trigger_over_its_box():
    t = truth([ev(11, technique="sni"), box(11, 100)])
    assert t.techniques == ["sni", "residual"] and t.technique == "sni"


def test_a_domain_target_has_no_port_and_no_box():
    events = [box(5, 95), dns_ev(11)]
    got = matching_events(events, ALICE, HOST, WEB, WIN, None, None)
    assert [e["technique"] for e in got] == ["residual", "dns"]


def test_a_name_read_from_data_belongs_only_to_its_own_transport():
    quic_sni = ev(11, technique="quic_sni", proto="udp")
    assert truth([quic_sni], proto="tcp").techniques == []            # not the HTTPS target's
    assert truth([quic_sni], proto="udp").techniques == ["quic_sni"]  # the QUIC target's
    assert truth([dns_ev(11)], proto="udp").techniques == ["dns"]     # a DNS name: any target's


def test_an_address_event_belongs_to_the_targets_port_only():
    stun = ev(11, technique="ip", detail={}, proto="udp", dport=3478)
    assert truth([stun], proto="tcp", port=443).techniques == []
    assert truth([stun], proto="udp", port=3478).techniques == ["ip"]
    assert truth([ev(11, technique="ip", detail={})], proto=None, port=None).techniques == ["ip"]


def _rows(spec):
    """spec: (outcome, censor technique, detector technique) -> rows that score so."""
    rows = []
    for i, (want, censor, detector) in enumerate(spec):
        censored = want in ("TP", "FN")
        blocked = want in ("TP", "FP")
        events = [ev(11, technique=censor, detail={censor: HOST})] if censored else []
        t = truth_for(matching_events(events, ALICE, HOST, WEB, WIN, "tcp", 443))
        rows.append(Row("alice", f"https://t{i}.example/",
                        Verdict(f"https://t{i}.example/", blocked, detector if blocked else None),
                        t))
    return rows


def test_metrics_and_confusion():
    s = score(_rows([("TP", "sni", "http-failure"), ("TP", "dns", "dns"),
                     ("FN", "sni", None), ("FP", None, "tcp_ip"), ("TN", None, None)]))
    assert s.confusion == {"TP": 2, "FP": 1, "FN": 1, "TN": 1}
    assert s.precision == pytest.approx(2 / 3, abs=1e-3)
    assert s.recall == pytest.approx(2 / 3, abs=1e-3)
    assert s.by_censor_technique["sni"] == {"censored": 2, "found": 1, "missed": 1,
                                            "recall": 0.5}
    assert s.by_censor_technique["dns"]["recall"] == 1.0
    assert s.by_detector_technique["tcp_ip"] == {"reported": 1, "right": 0, "wrong": 1,
                                                 "precision": 0.0}
    assert s.by_detector_technique["http-failure"]["precision"] == 1.0


def test_undefined_metrics_pass_the_gate():
    s = score(_rows([("TN", None, None), ("TN", None, None)]))
    assert s.precision is None and s.recall is None
    assert s.gate(1.0, 1.0) == []


def test_gate_names_what_failed():
    s = score(_rows([("TP", "dns", "dns"), ("FN", "dns", None), ("FN", "dns", None)]))
    assert s.gate(0.9, None) == []
    failed = s.gate(0.9, 0.9)
    assert len(failed) == 1 and failed[0].startswith("recall 0.33 is below --min-recall 0.9")
    assert "2 FN" in failed[0]
    s = score(_rows([("TP", "dns", "dns"), ("FP", None, "dns")]))
    assert s.gate(0.9, 0.9)[0].startswith("precision 0.50")


def test_renderings_carry_the_same_numbers():
    s = score(_rows([("TP", "sni", "http-failure"), ("FN", "dns", None), ("TN", None, None)]))
    text = render_text(s, "title")
    assert "precision 1.00 (1/1)" in text and "recall 0.50 (1/2)" in text
    assert "FN alice https://t1.example/" in text
    md = render_markdown(s, "title")
    assert "| **reported blocked** | TP 1 | FP 0 |" in md and "**recall** 0.50" in md
    body = json.loads(json.dumps(s.as_dict()))
    assert body["confusion"]["FN"] == 1 and body["targets"][1]["outcome"] == "FN"


def test_a_server_wide_box_holds_every_target_of_that_server_but_its_spared_ports():
    # bbs#490: after UDP to the server, HTTPS to it is boxed too; SSH (spared) is not
    wide = {"t": 5, "rule": "u", "technique": "residual", "action": "drop",
            "flow": {"proto": "any", "src": ALICE, "sport": None, "dst": WEB, "dport": None},
            "detail": {"until": 95, "scope": "server", "spare": [22]}}
    assert matching_events([wide], ALICE, HOST, WEB, WIN, "tcp", 443) == [wide]
    assert matching_events([wide], ALICE, HOST, WEB, WIN, "udp", 7) == [wide]
    assert matching_events([wide], ALICE, HOST, WEB, WIN, "tcp", 22) == []
    assert matching_events([wide], BOB, HOST, WEB, WIN, "tcp", 443) == []


def test_rows_with_isps_are_scored_per_isp_too():
    """A routed network: each row names its client's ISP (`home (AS12389)`, or the name);
    the score gives each ISP its own confusion matrix, precision and recall; the one-switch
    lab (no ISP) has no such table."""
    censored, clean = truth([ev(11)], True), truth([], False)
    rows = [Row("alice", "https://a/", Verdict("https://a/", True, "sni"), censored,
                isp="home (AS12389)"),
            Row("alice", "https://b/", Verdict("https://b/", False, None), censored,
                isp="home (AS12389)"),
            Row("bob", "https://a/", Verdict("https://a/", False, None), clean, isp="mobile")]
    s = score(rows)
    assert s.by_isp == {
        "home (AS12389)": {"targets": 2, "TP": 1, "FP": 0, "FN": 1, "TN": 0,
                           "precision": 1.0, "recall": 0.5},
        "mobile": {"targets": 1, "TP": 0, "FP": 0, "FN": 0, "TN": 1, "precision": None,
                   "recall": None}}
    body = s.as_dict()
    assert body["by_isp"] == s.by_isp and body["targets"][2]["isp"] == "mobile"
    text = render_text(s)
    assert any(line.startswith("home (AS12389)") and line.split()[2:] ==
               ["2", "1", "0", "1", "0", "1.00", "0.50"] for line in text.splitlines()), text
    assert any(line.split()[:3] == ["mobile", "1", "0"] for line in text.splitlines())
    assert "| home (AS12389) | 2 | 1 | 0 | 1 | 0 | 1.00 | 0.50 |" in render_markdown(s)
    plain = score([Row("alice", "https://a/", Verdict("https://a/", True, "sni"), censored)])
    assert plain.by_isp == {} and "by_isp" not in plain.as_dict()
    assert "isp" not in render_text(plain).splitlines()[0]
