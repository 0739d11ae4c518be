"""The per-family reading of a dual-stack measurement (lab/probe/families.py) and the AAAA
half of the prober's DNS wire format."""
from __future__ import annotations

import dns.message
import dns.rrset

from lab.clients.dnswire import a_query, parse_answer
from lab.probe.classify import Verdict
from lab.probe.families import by_family, verdict


def _tcp(ip, failure=None):
    return {"ip": ip, "port": 443, "status": {"blocked": None, "failure": failure,
                                              "success": failure is None}, "t": 0.0}


def _tls(ip, failure=None):
    return {"address": f"[{ip}]:443" if ":" in ip else f"{ip}:443", "failure": failure}


def _raw(v4_fail=None, v6_fail=None, v6_tls=None, aaaa=True):
    v6 = {"dns_failure": None if aaaa else "dns_no_answer",
          "addrs": ["2001:db8::c613:a"] if aaaa else [],
          "tcp_connect": [_tcp("2001:db8::c613:a", v6_fail)] if aaaa else [],
          "tls_handshakes": [_tls("2001:db8::c613:a", v6_tls)] if aaaa and not v6_fail else []}
    return {"dns_failure": None, "addrs": ["198.19.0.10"],
            "tcp_connect": [_tcp("198.19.0.10", v4_fail)],
            "tls_handshakes": [] if v4_fail else [_tls("198.19.0.10")], "x_ipv6": v6}


def test_ipv6_dropped_alone_is_blocked_next_to_an_open_ipv4():
    fam = by_family(_raw(v6_fail="generic_timeout_error"), _raw())
    assert fam["ipv4"]["status"] == "ok"
    assert fam["ipv6"] == {"status": "blocked", "failure": "generic_timeout_error",
                           "addresses": ["2001:db8::c613:a"], "control_ok": True}
    v = verdict(Verdict("https://x/", False, None, "OONI: accessible"), fam)
    assert (v.blocked, v.technique) == (True, "tcp_ip")
    assert v.why == "ipv6 only: generic_timeout_error (ipv4 ok; control ok)"


def test_a_tls_reset_over_ipv6_counts_and_the_control_decides_unavailable():
    fam = by_family(_raw(v6_tls="connection_reset"), _raw())
    assert fam["ipv6"]["status"] == "blocked" and fam["ipv6"]["failure"] == "connection_reset"
    no_aaaa = by_family(_raw(aaaa=False), _raw(aaaa=False))
    assert no_aaaa["ipv6"]["status"] == "unavailable"
    assert verdict(Verdict("u", False), no_aaaa) == Verdict("u", False)


def test_both_open_changes_nothing_and_a_blocked_verdict_stays():
    fam = by_family(_raw(), _raw())
    assert {f: r["status"] for f, r in fam.items()} == {"ipv4": "ok", "ipv6": "ok"}
    blocked = Verdict("u", True, "dns", "nxdomain")
    assert verdict(blocked, by_family(_raw(v6_fail="x"), _raw())) is blocked


def test_aaaa_queries_and_answers_on_the_wire():
    q = dns.message.from_wire(a_query("www.example.org", 7, 28))
    assert q.question[0].rdtype == 28 and q.id == 7
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("www.example.org.", 30, "IN", "AAAA", "2001:db8::1"))
    r.answer.append(dns.rrset.from_text("www.example.org.", 30, "IN", "A", "198.19.0.1"))
    assert parse_answer(r.to_wire()) == (0, [("2001:db8::1", 30), ("198.19.0.1", 30)])


def _reach(ip, failure=None):
    address = f"[{ip}]:7" if ":" in ip else f"{ip}:7"
    return {"probe": "udp", "address": address, "failure": failure, "said": ""}


def _reach_raw(v4_fail=None, v6_fail=None):
    v6 = {"dns_failure": None, "addrs": ["2001:db8::c613:b"], "tcp_connect": [],
          "tls_handshakes": [], "x_reachability": [_reach("2001:db8::c613:b", v6_fail)]}
    return {"dns_failure": None, "addrs": ["198.19.0.11"], "tcp_connect": [],
            "tls_handshakes": [], "x_reachability": [_reach("198.19.0.11", v4_fail)],
            "x_ipv6": v6}


def test_a_reachability_check_blocked_on_ipv6_alone_reads_blocked():
    fam = by_family(_reach_raw(v6_fail="generic_timeout_error"), _reach_raw())
    assert (fam["ipv4"]["status"], fam["ipv6"]["status"]) == ("ok", "blocked")
    assert fam["ipv6"]["failure"] == "generic_timeout_error"


def test_a_reachability_check_failing_at_the_control_too_is_unavailable():
    fam = by_family(_reach_raw(v6_fail="connection_refused"),
                    _reach_raw(v6_fail="connection_refused"))
    assert fam["ipv6"]["status"] == "unavailable"
