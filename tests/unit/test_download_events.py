"""`plot`'s and the report's downloads (lab.report.downloads) find their censor events over
either family: a dual-stack client's curl fetches over IPv6, and the censor's event names the
IPv6 addresses (the real path: tests/integration/test_lesson.py, ru/2025-12's `plot` step
in a dual-stack lab)."""
from types import SimpleNamespace

from lab import scenario as scenarios
from lab.report.downloads import Download, attach_events
from lab.scenario.addressing import ip6_for


def _lab(monkeypatch, events):
    monkeypatch.setenv("BLOCKLAB_IPV6", "1")
    sc = scenarios.load("basics/throttle")
    return SimpleNamespace(scenario=sc, events=lambda: events), sc


def _event(t, src, dst, dport=443, rule="slow"):
    return {"t": t, "rule": rule, "action": "throttle",
            "flow": {"proto": "tcp", "src": src, "sport": 40000, "dst": dst, "dport": dport,
                     **({"family": "ipv6"} if ":" in src else {})}}


def test_a_download_over_ipv6_finds_its_throttle(monkeypatch):
    lab, sc = _lab(monkeypatch, [])
    alice, video = sc.host("alice").ip, sc.server_for("rr1.video.example").ip
    other = sc.server_for("open.example.org").ip
    events = [_event(1.2, ip6_for(alice), ip6_for(video)),            # hers, over IPv6
              _event(1.3, alice, video),                              # hers, over IPv4
              _event(1.4, ip6_for(alice), ip6_for(other)),            # another server
              _event(1.5, ip6_for(alice), ip6_for(video), dport=80),  # another port
              _event(9.0, ip6_for(alice), ip6_for(video))]            # after it ended
    lab.events = lambda: events
    d = Download("alice", "https://rr1.video.example/bulk/100M", samples=[[2.0, 1000]],
                 offset=1.0)
    attach_events(lab, [d])
    assert [e["t"] for e in d.decisions] == [1.2, 1.3]
