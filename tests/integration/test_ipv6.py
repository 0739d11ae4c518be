"""Dual stack (scenarios/basics/dual-stack.yaml): every action seen by real clients over IPv6
and IPv4, IPv6 blocked alone, and Happy Eyeballs falling back to IPv4.

One lab for the module. Each check runs a real client (curl -4/-6, dig AAAA over either
transport) and asserts what it prints and exits with, and the censor's event for its flow
(IPv6 flows say `"family": "ipv6"`). The fallback checks time curl's own connect phase
(-w %{time_connect}) and assert a lower bound (a timer that ran) and upper bounds seconds
above a round trip (a silent block waited for the timer and no longer; a reset did not
wait for the timer), so that load on the machine cannot break them.
"""
from __future__ import annotations

import re
import sys

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab
from lab.scenario.addressing import ip6_for

PY = sys.executable


@pytest.fixture(scope="module")
def lab():
    with Lab(scenarios.load("basics/dual-stack")) as running:
        yield running


def curl(family: int, url: str, *extra: str, timeout: int = 3) -> list[str]:
    return ["curl", f"-{family}", "-sS", "--max-time", str(timeout), *extra, url]


def run(lab, cmd: list[str]) -> tuple[int, str, list[dict]]:
    seen = len(lab.events())
    r = lab.run("alice", cmd, timeout=30)
    return r.returncode, r.stdout + r.stderr, lab.events()[seen:]


def _event(events: list[dict], rule: str, family: int) -> dict | None:
    want = "ipv6" if family == 6 else None
    return next((e for e in events if e.get("rule") == rule
                 and (e.get("flow") or {}).get("family") == want), None)


# (name, command for a family, allowed exit codes, regex over the output, rule of the event)
ACTIONS = [
    ("reset", lambda f: curl(f, "https://reset.example.com/"), {35, 56},
     r"Connection reset by peer", "sni-reset"),
    ("drop", lambda f: curl(f, "https://drop.example.com/"), {28}, r"timed out", "sni-drop"),
    ("blockpage", lambda f: curl(f, "http://page.example.com/", "-i"), {0},
     r"HTTP/1\.1 403[\s\S]*Access denied", "page"),
    ("cut_after", lambda f: curl(f, "http://cut.example.com/bulk/100M", "-o", "/dev/null",
                                 "-w", "%{size_download}"), {28}, r"\A1[4-9]\d{3}(?!\d)", "cut"),
    # a ceiling, not a speed: 1 Mbit/s is 125000 B/s, an unthrottled download is 100x that
    ("throttle", lambda f: curl(f, "https://slow.example.com/bulk/100M", "-o", "/dev/null",
                                "-w", "%{speed_download}"), {28}, r"\A(\d{1,5}|1\d{5}|2[0-4]\d{4})(?![\d])",
     "slow"),
    ("nxdomain", lambda f: ["dig", "+time=2", "+tries=1", f"-{f}",
                            f"@{'2001:db8::c612:2' if f == 6 else '198.18.0.2'}", "AAAA",
                            "nx.example.com"], {0}, r"status: NXDOMAIN", "dns-nx"),
    ("quic_sni drop", lambda f: [PY, "-m", "lab.clients.quic_probe", "https://quic.video.example/",
                                 "--max-time", "3"] + (["-6"] if f == 6 else []), {28},
     r"timed out", "quic-drop"),
    ("reject", lambda f: curl(f, "https://refused.example.net/"), {7},
     r"Couldn't connect|Connection refused", "refused-v6"),
]


@pytest.mark.parametrize("family", [6, 4])
@pytest.mark.parametrize("name, cmd, exits, output, rule", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_action_over_each_family(lab, family, name, cmd, exits, output, rule):
    code, said, events = run(lab, cmd(family))
    if name == "reject" and family == 4:            # the rule is IPv6's alone
        assert code == 0 and "blocklab server refused" in said, said
        assert _event(events, rule, 4) is None
        return
    assert code in exits, f"{name} over IPv{family}: exit {code}\n{said}"
    assert re.search(output, said), f"{name} over IPv{family}: {said!r}"
    event = _event(events, rule, family)
    assert event is not None, (rule, family, events)
    src = ip6_for("198.18.0.10") if family == 6 else "198.18.0.10"
    assert event["flow"]["src"] == src


def test_aaaa_answers_and_open_site_over_ipv6(lab):
    code, said, _e = run(lab, ["dig", "+short", "AAAA", "open.example.org"])
    assert code == 0 and said.strip() == ip6_for("198.19.0.13")
    code, said, _e = run(lab, curl(6, "https://open.example.org/", "-w", " %{remote_ip}"))
    assert code == 0 and "blocklab server open" in said and ip6_for("198.19.0.13") in said


@pytest.mark.parametrize("transport", [4, 6])
def test_forge_answers_a_and_aaaa_over_either_transport(lab, transport):
    resolver = "2001:db8::c612:2" if transport == 6 else "198.18.0.2"
    answers = {}
    for qtype in ("A", "AAAA"):
        code, said, events = run(lab, ["dig", "+short", f"-{transport}", f"@{resolver}", qtype,
                                       "forged.example.com"])
        assert code == 0, said
        answers[qtype] = said.strip()
        event = _event(events, "forged", transport)
        assert event is not None and event["detail"]["answer6"] == ip6_for("198.19.0.13")
    assert answers == {"A": "198.19.0.13", "AAAA": ip6_for("198.19.0.13")}


def test_http3_over_ipv6_is_served(lab):
    code, said, _e = run(lab, [PY, "-m", "lab.clients.quic_probe", "https://h3.video.example/",
                               "--max-time", "3", "-6"])
    assert code == 0 and "HTTP/3 200" in said, said


def test_udp_reject_over_ipv6_is_icmpv6_port_unreachable(lab):
    code, said, events = run(lab, ["dig", "+time=2", "+tries=1", "-6",
                                   f"@{ip6_for('198.19.0.12')}", "x.example"])
    assert code == 9 and "connection refused" in said, said
    assert _event(events, "refused-v6", 6)["flow"]["proto"] == "udp"


def _connect_time(lab, url: str, *extra: str) -> tuple[float, str, list[dict]]:
    """curl's own connect phase (-w %{time_connect}) to `url`, the address it connected to,
    and the censor's events of the fetch; curl must exit 0 (the page loaded)."""
    code, said, events = run(lab, ["curl", "-sS", "-o", "/dev/null", "--max-time", "20",
                                    *extra, "-w", "%{time_connect} %{remote_ip}", url])
    assert code == 0, said
    seconds, remote = said.split()
    return float(seconds), remote, events


ALICE6 = ip6_for("198.18.0.10")


def test_happy_eyeballs_waits_out_a_silent_ipv6_block(lab):
    """IPv6 dropped: curl tries IPv6 first (the censor drops its SYN: the event), waits its
    Happy Eyeballs delay (200 ms by default, RFC 8305's recommended 250 ms is close), then
    connects over IPv4. Bounds: at least the timer; with a 1 s timer, under 4 s, far below
    what waiting out IPv6's SYN retries would take (1 s, 3 s, 7 s ... up to --max-time)."""
    seconds, remote, events = _connect_time(lab, "https://dark.example.net/")
    assert remote == "198.19.0.11" and seconds >= 0.2
    dropped = _event(events, "dark-v6", 6)
    assert dropped is not None and dropped["flow"]["src"] == ALICE6, events
    seconds, remote, _e = _connect_time(lab, "https://dark.example.net/",
                                        "--happy-eyeballs-timeout-ms", "1000")
    assert remote == "198.19.0.11" and 1.0 <= seconds < 4.0, seconds


def test_happy_eyeballs_falls_back_at_once_on_an_ipv6_reset(lab):
    """IPv6 refused with a RST (the censor's event): the IPv4 attempt starts on the reset,
    not on the timer (set to 10 s here, so a connect in under half of it cannot have
    waited for it)."""
    seconds, remote, events = _connect_time(lab, "https://refused.example.net/",
                                            "--happy-eyeballs-timeout-ms", "10000")
    assert remote == "198.19.0.12" and seconds < 5.0, seconds
    refused = _event(events, "refused-v6", 6)
    assert refused is not None and refused["flow"]["src"] == ALICE6, events


def test_ipv6_switched_off_leaves_ipv4(lab):
    """Iran's switch-off (net4people/bbs#489): every IPv6 flow dropped, IPv4 untouched."""
    assert lab.control({"cmd": "enable", "rule": "v6-off"})["ok"]
    try:
        code, said, events = run(lab, curl(6, "https://open.example.org/"))
        assert code == 28, said
        assert _event(events, "v6-off", 6) is not None
        code, said, _e = run(lab, curl(4, "https://open.example.org/"))
        assert code == 0 and "blocklab server open" in said
    finally:
        lab.control({"cmd": "disable", "rule": "v6-off"})


def test_probe_measures_each_family(lab):
    """The built-in prober asks AAAA and connects to each address of both families: a site
    blocked on IPv6 alone is reported blocked (`ipv6 only: ...`) though its page loads."""
    from lab.probe.runner import Prober, Target
    prober = Prober(lab, throughput=False)
    results = prober.run([Target("alice", "https://dark.example.net/"),
                          Target("alice", "https://refused.example.net/"),
                          Target("alice", "https://open.example.org/")])
    fams = {r.target.url: r.record["test_keys"]["x_families"] for r in results}
    status = {url: (f["ipv4"]["status"], f["ipv6"]["status"], f["ipv6"]["failure"])
              for url, f in fams.items()}
    assert status == {"https://dark.example.net/": ("ok", "blocked", "generic_timeout_error"),
                      "https://refused.example.net/": ("ok", "blocked", "connection_refused"),
                      "https://open.example.org/": ("ok", "ok", None)}
    verdicts = {r.target.url: r.verdict for r in results}
    assert verdicts["https://dark.example.net/"].why.startswith("ipv6 only:")
    assert verdicts["https://open.example.org/"].blocked is False
    outcomes = {row.url: row.outcome for row in prober.score(results).rows}
    assert outcomes == {"https://dark.example.net/": "TP", "https://refused.example.net/": "TP",
                        "https://open.example.org/": "TN"}


TAP = """\
name: tap-dual-stack
ipv6: true
clients: [alice]
servers:
  - {name: web, domains: [blocked.example.com, open.example.org], serve: [https]}
censor:
  mode: tap
  rules:
    - {id: sni-rst, match: {sni: blocked.example.com}, action: reset}
    - {id: dns-inject, match: {dns: open.example.org}, action: {inject: "198.19.0.200, 2001:db8::c8"}}
"""


def test_an_on_path_censor_injects_over_ipv6(tmp_path):
    """A tap (GFW-like) sees copies only: its RSTs and its forged AAAA answer still win over
    IPv6, and the real answer arrives after the forged one."""
    path = tmp_path / "tap-dual-stack.yaml"
    path.write_text(TAP)
    with Lab(scenarios.load(str(path))) as tap:
        code, said, events = run(tap, curl(6, "https://blocked.example.com/"))
        assert code in (35, 56) and "reset by peer" in said, said
        assert _event(events, "sni-rst", 6) is not None
        code, said, events = run(tap, [PY, "-m", "lab.clients.dns_answers", "open.example.org",
                                       "--type", "AAAA", "--wait", "1"])
        assert code == 0 and said.split() == ["NOERROR", "2001:db8::c8", "NOERROR",
                                              ip6_for("198.19.0.10")], said
