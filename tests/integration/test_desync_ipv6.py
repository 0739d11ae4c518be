"""zapret's and byedpi's desync methods over IPv6 (lab.clients.desync -6), against the naive and
the hardened DPI (scenarios/basics/dpi-naive.yaml, dpi-hardened.yaml, dual-stack here): the
same matrix test_compare's desync test measures over IPv4. The naive DPI believes the fake or
never reads the hello whole, so the ServerHello comes back; the hardened one ignores the fake
(a TCP checksum wrong over IPv6's pseudo-header, a sequence number outside the window),
reassembles, reads the real name and drops the flow. The censor's events are IPv6 flows and
say what the DPI believed or ignored.
"""
from __future__ import annotations

import sys

from lab.run.lab import Lab
from lab.scenario.addressing import ip6_for
from tests.integration.test_checksums import dual_stack

PY = sys.executable
BELIEVED = {"fake-badsum": "a segment with a bad checksum",
            "fake-badseq": "a segment outside the window",
            "disorder": "segments out of order",
            "multisplit": "segments read one at a time"}
IGNORED = {"fake-badsum": ["bad checksum"], "fake-badseq": ["out of window"]}


def desync6(lab, method: str) -> tuple[int, list[dict]]:
    seen = len(lab.events())
    r = lab.run("alice", [PY, "-m", "lab.clients.desync", method, "blocked.example.com",
                          "--timeout", "2", "-6"], timeout=20)
    lab.settle()
    return r.returncode, [e for e in lab.events()[seen:]
                          if (e.get("flow") or {}).get("dst") == ip6_for("198.19.0.10")]


def test_a_naive_dpi_is_fooled_over_ipv6():
    with Lab(dual_stack("basics/dpi-naive")) as lab:
        for method, believed in BELIEVED.items():
            code, events = desync6(lab, method)
            assert code == 0, (method, code)
            [passed] = [e for e in events if e["technique"] == "dpi"]
            assert passed["action"] == "allow" and passed["flow"]["family"] == "ipv6"
            assert believed in passed["detail"]["believed"], (method, passed)


def test_a_hardened_dpi_is_not_fooled_over_ipv6():
    with Lab(dual_stack("basics/dpi-hardened")) as lab:
        for method in BELIEVED:
            code, events = desync6(lab, method)
            assert code == 28, (method, code)
            [drop] = [e for e in events if e["rule"] == "sni-drop"]
            assert drop["flow"]["family"] == "ipv6"
            assert drop["detail"]["sni"] == "blocked.example.com"
            ignored = [i["why"] for i in drop["detail"]["dpi"].get("ignored", [])]
            assert ignored == IGNORED.get(method, []), (method, drop)
