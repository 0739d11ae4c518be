"""`blocklab compare` in a dual-stack scenario: each tool that can be kept to one family runs
once over IPv4 and once over IPv6, and the matrix says where it got through.

One `blocklab compare --json --report` run (its own lab). The censor rejects the web
server's IPv6 (the GFW spared 1.1.1.1's IPv6 from its RSTs, net4people/bbs#285: censors
treat the families apart) and the vps's IPv4, so the baseline gets through on IPv4 only and
the SSH, TLS and obfs4 tunnels on IPv6 only; the events' flows say which family they were on.
"""
from __future__ import annotations

import json

import pytest

from helpers import blocklab

SCENARIO = """
name: compare-families
title: "one family blocked per destination: the web server's IPv6, the vps's IPv4"
sources: ["net4people/bbs#285 (GFW, 1.1.1.1's IPv6 spared, 2023)"]
ipv6: true
clients: [alice]
servers:
  - {name: web, domains: [www.example.org], serve: [https, bulk]}
  - {name: vps, domains: [vps.example.net], serve: [vps]}
censor:
  rules:
    - {id: web-v6, match: {server: web, family: ipv6}, action: reject}
    - {id: vps-v4, match: {server: vps, family: ipv4}, action: reject}
"""


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cmpfam")
    (folder / "compare-families.yaml").write_text(SCENARIO)
    r = blocklab("compare", str(folder / "compare-families.yaml"), "--tools",
                 "direct,ssh-socks,tls-tunnel,obfs4", "--json", "--bulk-rate", "200Mbit",
                 "--report", str(folder / "report"), timeout=240)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stderr[-3000:]}"
    return json.loads(r.stdout), (folder / "report" / "compare.md").read_text()


def test_each_family_is_a_column(result):
    m, _md = result
    assert [(s["name"], s["family"]) for s in m["scenarios"]] == [
        ("compare-families · IPv4", "ipv4"), ("compare-families · IPv6", "ipv6")]


def test_direct_gets_through_on_ipv4_only_and_the_tunnel_on_ipv6_only(result):
    m, _md = result
    cells = {(c["tool"], c["family"]): c for c in m["cells"]}
    assert cells[("direct", "ipv4")]["status"] == "works"
    v6 = cells[("direct", "ipv6")]
    assert v6["status"] == "blocked" and v6["blocked_by"] == ["web-v6"], v6
    saw = v6["targets"]["https://www.example.org/"]["saw"]
    assert "curl: (7)" in saw, saw                           # refused, at once
    tunnel4, tunnel6 = cells[("ssh-socks", "ipv4")], cells[("ssh-socks", "ipv6")]
    assert tunnel4["status"] == "blocked" and tunnel4["blocked_by"] == ["vps-v4"], tunnel4
    assert tunnel4["on_tunnel"] == ["vps-v4: reject (server)"], tunnel4["on_tunnel"]
    assert tunnel6["status"] == "works" and not tunnel6["blocked_by"], tunnel6
    # the events' flows are the trial's family: the client's IPv6 address over IPv6
    flows = [e["flow"] for t in v6["trials"] for e in t["events"] if e.get("rule") == "web-v6"]
    assert flows and all(f.get("family") == "ipv6" and f["src"] == "2001:db8::c612:a"
                         for f in flows), flows
    assert {(f["tool"], f["through"]) for f in m["families"]} == {
        ("direct", "ipv4"), ("ssh-socks", "ipv6"), ("tls-tunnel", "ipv6"), ("obfs4", "ipv6")}


def test_the_report_says_which_family_got_through(result):
    _m, md = result
    assert "| tool | compare-families · IPv4 | compare-families · IPv6 |" in md
    assert "## Which family got through" in md
    assert "| direct | compare-families | ✅ works | ⛔ blocked | IPv4 only |" in md
    assert "| ssh-socks | compare-families | ⛔ blocked | ✅ works | IPv6 only |" in md
    assert "| tls-tunnel | compare-families | ⛔ blocked | ✅ works | IPv6 only |" in md
    assert "| obfs4 | compare-families | ⛔ blocked | ✅ works | IPv6 only |" in md
