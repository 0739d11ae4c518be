"""Each censor action gives a real client exactly the symptom a real censor gives it.

A table of (scenario, client command, what the client must observe, the ground-truth event):
each scenario under scenarios/basics/ comes up once and its commands run in order. Symptoms
are asserted as a user sees them (curl's exit code and message, dig's status line) and every
flow the censor touched must have exactly one decision event in events.jsonl.
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab
from lab.run.wait import scaled
from lab.truth.events import from_host

PY = sys.executable
# How long dns_answers collects answers: every answer, forged or true, within it (stretched
# for an emulated CPU in the kernel lane, lab/run/wait.py).
WAIT = f"{scaled(1):g}"


@dataclass
class Check:
    cmd: list[str]
    exit: int | set[int]
    output: str = ""                       # regex that stdout+stderr must match
    event: dict = field(default_factory=dict)   # keys an event for this client must have


def curl(url: str, *extra: str, timeout: int = 3) -> list[str]:
    return ["curl", "-sS", "--max-time", str(timeout), *extra, url]


def tls(host: str, *extra: str) -> list[str]:
    return [PY, "-m", "lab.clients.tls_hello", host, "--timeout", "3", *extra]


def dig(name: str, *extra: str) -> list[str]:
    return ["dig", "+time=2", "+tries=1", *extra, name]


def probe(module: str, *args: str) -> list[str]:
    return [PY, "-m", f"lab.clients.{module}", *args, "--max-time", "3"]


TABLE = {
    "basics/sni-drop": [
        Check(curl("https://blocked.example.com/"), 28, r"Connection timed out",
              {"rule": "sni-drop", "action": "drop", "technique": "sni",
               "detail": {"sni": "blocked.example.com"}}),
        Check(curl("https://open.example.org/"), 0, r"blocklab server open"),
    ],
    "basics/drop-reply": [
        Check(curl("https://blocked.example.com/"), 28, r"Connection timed out",
              {"rule": "sni-drop-reply", "action": "drop_reply", "technique": "sni",
               "detail": {"sni": "blocked.example.com"}}),
        Check(curl("https://open.example.org/"), 0, r"blocklab server open"),
    ],
    "basics/rst-handshake": [
        Check(curl("https://www.example.org/"), 7, r"Couldn't connect|Connection refused",
              {"rule": "port-443", "action": "rst_handshake", "technique": "port"}),
        Check(curl("http://www.example.org/"), 0, r"blocklab server web"),
    ],
    "basics/ip-reject": [
        Check(curl("https://blocked.example.com/"), 7, r"Couldn't connect|Connection refused",
              {"rule": "ip-reject", "action": "reject"}),
        Check(dig("x.example", "@198.19.0.10"), 9, r"connection refused",
              {"rule": "ip-reject", "action": "reject", "flow": {"proto": "udp"}}),
    ],
    "basics/ip-drop": [
        Check(curl("https://hosting.example.net/"), 28, r"timed out",
              {"rule": "range-drop", "action": "drop", "technique": "ip"}),
    ],
    "basics/reset": [
        Check(curl("https://blocked.example.com/"), {35, 56}, r"Connection reset by peer",
              {"rule": "sni-reset", "action": "reset", "technique": "sni"}),
        Check(curl("https://open.example.org/"), 0, r"blocklab server open"),
    ],
    "basics/dns-nxdomain": [
        Check(dig("blocked.example.com"), 0, r"status: NXDOMAIN",
              {"rule": "dns-nx", "action": "nxdomain", "technique": "dns",
               "flow": {"proto": "udp"}}),
        Check(dig("blocked.example.com", "+tcp"), 0, r"status: NXDOMAIN",
              {"rule": "dns-nx", "action": "nxdomain", "flow": {"proto": "tcp"}}),
        Check(dig("open.example.org"), 0, r"status: NOERROR"),
    ],
    "basics/dns-servfail": [
        Check(dig("blocked.example.com"), 0, r"status: SERVFAIL",
              {"rule": "dns-servfail", "action": "servfail", "flow": {"proto": "udp"}}),
        Check(dig("blocked.example.com", "+tcp"), 0, r"status: SERVFAIL",
              {"rule": "dns-servfail", "action": "servfail", "flow": {"proto": "tcp"}}),
    ],
    "basics/dns-refused": [
        Check(dig("blocked.example.com"), 0, r"status: REFUSED",
              {"rule": "dns-refused", "action": "refused", "flow": {"proto": "udp"}}),
        Check(dig("blocked.example.com", "+tcp"), 0, r"status: REFUSED",
              {"rule": "dns-refused", "action": "refused", "flow": {"proto": "tcp"}}),
    ],
    "basics/dns-drop": [
        Check(dig("blocked.example.com"), 9, r"timed out",
              {"rule": "dns-drop", "action": "drop", "technique": "dns"}),
    ],
    "basics/dns-forge": [
        # Inline: exactly one answer arrives, the forged one.
        Check([PY, "-m", "lab.clients.dns_answers", "blocked.example.com", "--wait", WAIT], 0,
              r"\ANOERROR 198\.19\.0\.11\n\Z", {"rule": "dns-forge", "action": "forge"}),
        Check(curl("http://blocked.example.com/"), 0, r"blocklab server warning"),
    ],
    "basics/dns-inject": [
        # Tap: the forged answer first, the real one still after it.
        Check([PY, "-m", "lab.clients.dns_answers", "blocked.example.com", "--wait", WAIT], 0,
              r"\ANOERROR 198\.19\.0\.200\nNOERROR 198\.19\.0\.10\n\Z",
              {"rule": "dns-inject", "action": "inject", "technique": "dns"}),
    ],
    "basics/blockpage": [
        Check(curl("http://blocked.example.com/", "-i"), 0,
              r"HTTP/1\.1 403[\s\S]*Connection: close[\s\S]*Access denied by the lab censor",
              {"rule": "page", "action": "blockpage", "technique": "host"}),
        Check(curl("http://open.example.org/"), 0, r"blocklab server open"),
    ],
    "basics/http-path": [
        Check(curl("http://www.site.example/forbidden/page.html", "-o", "/dev/null", "-w",
                   "%{http_code}"), 0, r"\A403\Z", {"rule": "path-page", "action": "blockpage"}),
        Check(curl("http://www.site.example/", "-o", "/dev/null", "-w", "%{http_code}"), 0,
              r"\A200\Z"),
    ],
    "basics/cut-after": [
        Check(curl("http://cdn.hosting.example/bulk/100M", "-o", "/dev/null", "-w",
                   "%{size_download}"), 28, r"\A1[4-9]\d{3}(?!\d)",
              {"rule": "freeze", "action": "cut_after"}),
    ],
    "basics/allow": [
        Check(curl("https://ok.corp.example/"), 0, r"blocklab server corp"),
        Check(curl("https://news.corp.example/"), 28, r"timed out",
              {"rule": "everything-else", "action": "drop"}),
    ],
    "basics/substring": [
        Check(curl("https://www.microsoft.com/"), 28, r"timed out",
              {"rule": "tco", "detail": {"sni": "www.microsoft.com"}}),
        Check(curl("https://t.co/"), 28, r"timed out", {"rule": "tco"}),
        Check(curl("https://www.example.org/"), 0, r"blocklab server example"),
    ],
    "basics/reassembly-off": [
        Check(tls("blocked.example.com"), 28, r"timed out", {"rule": "sni-drop"}),
        Check(tls("blocked.example.com", "--split", "60"), 0, r"handshake complete"),
    ],
    "basics/tap-reset": [
        # On-path: the ClientHello still reaches the server, the injected resets win.
        Check(curl("https://blocked.example.com/"), {35, 56}, r"reset by peer",
              {"rule": "sni-rst", "action": "reset"}),
        Check(curl("https://open.example.org/"), 0, r"blocklab server open"),
    ],
    "basics/protocol-stun": [
        Check(probe("stun_probe", "stun.messenger.example:3478"), 28, r"STUN timed out",
              {"rule": "no-calls", "action": "drop", "technique": "protocol",
               "flow": {"proto": "udp", "dport": 3478}}),
        Check(curl("https://stun.messenger.example/"), 0, r"blocklab server calls"),
    ],
    "basics/quic-sni": [
        Check(probe("quic_probe", "https://quic.video.example/"), 28, r"timed out",
              {"rule": "quic-drop", "action": "drop", "technique": "quic_sni",
               "detail": {"quic_sni": "quic.video.example"}}),
        Check(curl("https://quic.video.example/"), 0, r"blocklab server video"),
        Check(probe("quic_probe", "https://open.example.org/"), 0, r"HTTP/3 200"),
    ],
    "basics/tls-ext": [
        Check(tls("www.site.example", "--add-ext", "0xffce"), 28, r"timed out",
              {"rule": "esni", "action": "drop", "technique": "tls_ext"}),
        Check(tls("www.site.example"), 0, r"handshake complete"),
    ],
    "basics/reassembly-on": [
        Check(tls("blocked.example.com", "--split", "60"), 28, r"timed out",
              {"rule": "sni-drop", "action": "drop"}),
        # A post-quantum-sized hello (≈1.9 KB) crosses two TCP segments on its own.
        Check(tls("blocked.example.com", "--pad", "1500"), 28, r"timed out",
              {"rule": "sni-drop", "action": "drop"}),
    ],
}


def _matches(event: dict, want: dict) -> bool:
    for key, value in want.items():
        if isinstance(value, dict):
            if not isinstance(event.get(key), dict) or not _matches(event[key], value):
                return False
        elif event.get(key) != value:
            return False
    return True


# What differs on the kernel datapath: the handshake passes and check_pkt_larger (reassembly-on,
# sni-drop), injected packets (reset, dns-forge), a reject's ICMP (ip-reject), a cut (cut-after).
KERNEL_LANE = {"basics/sni-drop", "basics/reset", "basics/ip-reject", "basics/dns-forge",
               "basics/reassembly-on", "basics/cut-after", "basics/blockpage"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.kernel) if n in KERNEL_LANE
                                  else n for n in sorted(TABLE)])
def test_action_symptoms(name):
    sc = scenarios.load(name)
    client = sc.clients[0]
    with Lab(sc) as lab:
        for check in TABLE[name]:
            seen = len(lab.events())
            r = lab.run(client.name, check.cmd, timeout=20)
            said = (r.stdout + r.stderr)
            allowed = check.exit if isinstance(check.exit, set) else {check.exit}
            assert r.returncode in allowed, f"{check.cmd}: exit {r.returncode}\n{said}"
            assert re.search(check.output, said), f"{check.cmd}: {said!r}"
            new = [e for e in lab.events()[seen:] if from_host(e, client.ip)]
            if check.event:
                assert any(_matches(e, check.event) for e in new), (check.event, new)
        events = lab.events()
    flows = Counter((e["flow"]["proto"], e["flow"]["src"], e["flow"]["sport"],
                     e["flow"]["dst"], e["flow"]["dport"])
                    for e in events if e.get("flow") and e.get("technique") != "residual")
    assert all(n == 1 for n in flows.values()), f"flows with several decisions: {flows}"


def test_ip_drop_covers_its_servers_ipv6_twin(monkeypatch):
    """The scenario dual-stack (whatever BLOCKLAB_IPV6 says); its address list names the
    server's IPv6 twin, so curl over IPv6 times out too (an IPv4-only list would let it in)."""
    monkeypatch.setenv("BLOCKLAB_IPV6", "1")
    sc = scenarios.load("basics/ip-drop")
    assert sc.ipv6
    with Lab(sc) as lab:
        r = lab.run("alice", ["curl", "-6", "-sS", "--max-time", "3",
                              "https://hosting.example.net/"], timeout=20)
        assert r.returncode == 28, r.stderr
        assert lab.run("alice", ["curl", "-6", "-sS", "--max-time", "5",
                                 "https://open.example.org/"], timeout=20).returncode == 0
        lab.settle()
        events = lab.events()
    assert any(e["rule"] == "range-drop" and e["flow"].get("family") == "ipv6"
               for e in events), events
