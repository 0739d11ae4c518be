"""Classification as a table: (client measurement, control measurement) -> OONI's verdict.

Each row is a symptom a censor causes, with what OONI Web Connectivity reports for it
(`blocking`, the failure string) and what blocklab's verdict says (x_blocking)."""
from __future__ import annotations

import pytest

from lab.probe import failures as F
from lab.probe.classify import CONSISTENT, INCONSISTENT, classify, dns_consistency, summarize
from lab.probe.xblocking import throughput_verdict
from probe_samples import BLOCKPAGE, control, domain, reach, rounds, web

H = "https://www.example.com/"
P = "http://www.example.com/"
_SLOW = {"bytes": 32000, "seconds": 1.0, "rate_bps": 256e3, "complete": False,
         "idle_at_end": 0.02, "failure": F.TIMEOUT}
SLOW = rounds(_SLOW, _SLOW, _SLOW)
_DONE = {"bytes": 300000, "seconds": 0.8, "rate_bps": 3e6}
SLOW_DONE = rounds(_DONE, _DONE, _DONE)
_FROZEN = {"bytes": 16000, "seconds": 1.0, "rate_bps": 128e3, "complete": False,
           "idle_at_end": 0.98, "failure": F.TIMEOUT}
FROZEN = rounds(_FROZEN, _FROZEN, _FROZEN)
# one slow round among fast ones: a busy machine, not a throttle
HICCUP = rounds({"seconds": 0.5, "rate_bps": 4.8e6}, {}, {})

# name, client measurement, control measurement, OONI blocking, accessible, verdict technique
CASES = [
    ("open https", web(H), control(H), False, True, None),
    ("open http", web(P), control(P), False, True, None),
    ("ip drop: connect times out", web(H, tcp=F.TIMEOUT, http=F.TIMEOUT), control(H),
     "tcp_ip", False, "tcp_ip"),
    ("ip reject: connection refused", web(H, tcp=F.REFUSED, http=F.REFUSED), control(H),
     "tcp_ip", False, "tcp_ip"),
    ("sni drop: TLS handshake times out", web(H, tls=F.TIMEOUT, http=F.TIMEOUT), control(H),
     "http-failure", False, "http-failure"),
    ("sni reset: RST after the ClientHello", web(H, tls=F.RESET, http=F.RESET), control(H),
     "http-failure", False, "http-failure"),
    ("eof during the handshake", web(H, tls=F.EOF, http=F.EOF), control(H),
     "http-failure", False, "http-failure"),
    ("wrong certificate (ssl_invalid_hostname)",
     web(H, tls=F.SSL_INVALID_HOSTNAME, http=F.SSL_INVALID_HOSTNAME), control(H),
     "http-failure", False, "http-failure"),
    ("unknown authority (a MITM)",
     web(H, tls=F.SSL_UNKNOWN_AUTHORITY, http=F.SSL_UNKNOWN_AUTHORITY), control(H),
     "http-failure", False, "http-failure"),
    ("nxdomain", web(H, dns_failure=F.DNS_NXDOMAIN, http=F.DNS_NXDOMAIN), control(H),
     "dns", False, "dns"),
    ("servfail", web(H, dns_failure=F.DNS_SERVFAIL, http=F.DNS_SERVFAIL), control(H),
     "dns", False, "dns"),
    ("refused", web(H, dns_failure=F.DNS_REFUSED, http=F.DNS_REFUSED), control(H),
     "dns", False, "dns"),
    ("dns timeout", web(H, dns_failure=F.TIMEOUT, http=F.TIMEOUT), control(H),
     "dns", False, "dns"),
    ("forged address, nothing listens", web(H, addrs=["198.19.0.11"], tcp=F.REFUSED,
                                            http=F.REFUSED), control(H), "dns", False, "dns"),
    ("injected address outside the lab",
     web(H, addrs=["203.0.113.7"], tcp=F.NETWORK_UNREACHABLE, http=F.NETWORK_UNREACHABLE),
     control(H), "dns", False, "dns"),
    ("forged address serving plain http (a warning page)",
     web(P, addrs=["198.19.0.11"], http=BLOCKPAGE), control(P), "dns", False, "dns"),
    ("blockpage", web(P, http=BLOCKPAGE), control(P), "http-diff", False, "http-diff"),
    ("blockpage with status 200, its own headers and title",
     web(P, http=dict(BLOCKPAGE, code=200, title="Access denied",
                      headers={"Content-Type": "text/html", "X-Filter": "on"})), control(P),
     "http-diff", False, "http-diff"),
    ("blockpage with status 200 sharing an uncommon header: OONI's heuristic passes it",
     web(P, http=dict(BLOCKPAGE, code=200, title="Access denied")), control(P),
     False, True, None),
    ("same status, headers and title but a shorter body",
     web(P, http={"code": 200, "title": "blocklab server web", "length": 20,
                  "headers": {"Server": "nginx", "Content-Type": "text/html"}}), control(P),
     False, True, None),
    ("throttled: slow until the deadline", web(H, throughput=SLOW), control(H),
     False, True, "throttle"),
    ("throttled: finished, but 27x slower", web(H, throughput=SLOW_DONE), control(H),
     False, True, "throttle"),
    ("one slow transfer of three is not a throttle", web(H, throughput=HICCUP), control(H),
     False, True, None),
    ("frozen after 16 KB", web(H, throughput=FROZEN), control(H), False, True, "stall"),
    ("transfer reset midway", web(H, throughput=rounds({}, {"complete": False,
                                                          "failure": F.RESET, "bytes": 0})),
     control(H), False, True, "http-failure"),
    ("one of two handshakes reset (probabilistic)",
     dict(web(H), tls_handshakes=[{"address": "198.19.0.10:443", "failure": F.RESET,
                                   "server_name": "www.example.com"}]),
     control(H), False, True, "http-failure"),
    ("no control: https success is still accessible", web(H), None, False, True, None),
    ("no control, failure: no verdict", web(H, tls=F.TIMEOUT, http=F.TIMEOUT), None,
     None, None, None),
]


@pytest.mark.parametrize("name,client,ctrl,blocking,accessible,technique", CASES,
                         ids=[c[0] for c in CASES])
def test_web_classification(name, client, ctrl, blocking, accessible, technique):
    tk, verdict = classify(client, ctrl)
    assert tk["blocking"] == blocking
    assert tk["accessible"] == accessible
    assert verdict.technique == technique
    blocked = True if technique else (None if accessible is None else False)
    assert verdict.blocked == blocked
    assert tk["x_blocking"] == (technique or (None if blocked is None else False))


def test_blocking_is_false_only_when_accessible():
    tk, _ = classify(web(H, tls=F.TIMEOUT, http=F.TIMEOUT), control(H))
    assert tk["blocking"] == "http-failure" and tk["accessible"] is False
    tk, _ = classify(web(H), control(H))
    assert tk["blocking"] is False and tk["accessible"] is True


def test_test_keys_carry_ooni_fields():
    tk, _ = classify(web(H, tcp=F.TIMEOUT, http=F.TIMEOUT), control(H))
    for key in ("queries", "tcp_connect", "tls_handshakes", "requests", "dns_consistency",
                "dns_experiment_failure", "control", "control_failure", "blocking",
                "accessible", "http_experiment_failure", "status_code_match",
                "body_length_match", "headers_match", "title_match"):
        assert key in tk
    assert tk["tcp_connect"][0]["status"]["blocked"] is True
    assert tk["control"]["tcp_connect"]["198.19.0.10:443"] == {"status": True, "failure": None}
    assert tk["control"]["http_request"]["status_code"] == 200


DNS_CASES = [
    ("same addresses", web(H), control(H), CONSISTENT),
    ("one shared address", web(H, addrs=["198.19.0.10", "198.19.0.99"]), control(H),
     CONSISTENT),
    ("different address", web(H, addrs=["198.19.0.11"]), control(H), INCONSISTENT),
    ("nxdomain here, an answer there", web(H, dns_failure=F.DNS_NXDOMAIN), control(H),
     INCONSISTENT),
    ("nxdomain both", web(H, dns_failure=F.DNS_NXDOMAIN),
     web(H, dns_failure=F.DNS_NXDOMAIN), CONSISTENT),
    ("servfail both", web(H, dns_failure=F.DNS_SERVFAIL),
     web(H, dns_failure=F.DNS_SERVFAIL), INCONSISTENT),
    ("an answer here, nothing there", web(H), web(H, dns_failure=F.TIMEOUT), INCONSISTENT),
]


@pytest.mark.parametrize("name,client,ctrl,want", DNS_CASES, ids=[c[0] for c in DNS_CASES])
def test_dns_consistency(name, client, ctrl, want):
    assert dns_consistency(client["host"], client, ctrl) == want


def test_ip_literal_is_consistent():
    m = web("https://198.19.0.10/")
    m["host"] = "198.19.0.10"
    assert dns_consistency("198.19.0.10", m, web(H, dns_failure=F.DNS_NXDOMAIN)) == CONSISTENT


def test_nxdomain_at_both_ends_is_accessible_as_ooni_says():
    tk = {"requests": [{"failure": F.DNS_NXDOMAIN, "request": {"url": P}}],
          "dns_experiment_failure": F.DNS_NXDOMAIN, "dns_consistency": CONSISTENT,
          "control_failure": None, "tcp_connect": []}
    assert summarize(tk) == (True, None)


OTHER_CASES = [
    ("domain: consistent", domain(), domain(), False, None),
    ("domain: nxdomain", domain(dns_failure=F.DNS_NXDOMAIN), domain(), "dns", "dns"),
    ("domain: dropped", domain(dns_failure=F.TIMEOUT), domain(), "dns", "dns"),
    ("domain: forged", domain(addrs=["198.19.0.11"]), domain(), "dns", "dns"),
    ("stun: answers", reach("stun://stun.example.com:3478"),
     reach("stun://stun.example.com:3478"), False, None),
    ("stun: dropped", reach("stun://stun.example.com:3478", failure=F.TIMEOUT),
     reach("stun://stun.example.com:3478"), "tcp_ip", "tcp_ip"),
    ("quic: dropped", reach("quic://www.example.com/", failure=F.TIMEOUT),
     reach("quic://www.example.com/"), "tcp_ip", "tcp_ip"),
    ("udp: refused", reach("udp://echo.example.com:7", failure=F.REFUSED),
     reach("udp://echo.example.com:7"), "tcp_ip", "tcp_ip"),
    ("tcp: forged name", reach("tcp://vps.example.com:443", addrs=["198.19.0.99"]),
     reach("tcp://vps.example.com:443"), "dns", "dns"),
    ("stun: the control fails too", reach("stun://s.example.com:3478", failure=F.TIMEOUT),
     reach("stun://s.example.com:3478", failure=F.TIMEOUT), None, None),
]


@pytest.mark.parametrize("name,client,ctrl,blocking,technique", OTHER_CASES,
                         ids=[c[0] for c in OTHER_CASES])
def test_other_targets(name, client, ctrl, blocking, technique):
    tk, verdict = classify(client, ctrl)
    assert tk["blocking"] == blocking
    assert verdict.technique == technique
    assert verdict.blocked == (None if blocking is None else bool(technique))


def test_throughput_needs_a_finished_control():
    assert throughput_verdict(SLOW, SLOW)[0] is None
    assert throughput_verdict(None, SLOW_DONE)[0] is None


def test_a_fast_enough_client_is_not_throttled_even_if_the_control_is_faster():
    client = rounds({"rate_bps": 19e6}, {"rate_bps": 12e6})
    assert throughput_verdict(client, rounds({"rate_bps": 200e6}))[0] is False
    assert throughput_verdict(rounds({"rate_bps": 2e6}), rounds({"rate_bps": 200e6}))[0] == \
        "throttle"
