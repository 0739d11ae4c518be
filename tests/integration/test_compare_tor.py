"""Tor in `blocklab compare`: real tor daemons (a private network of 3 authorities that are
relays and 2 obfs4 bridges, brought up once per lab), real Tor clients, curl through them.

One comparison per scenario, each run once for the module (a lab and its Tor network cost about
a minute): on basics/open every Tor tool fetches every target; on ru/2021-12-tor the censor's
address rules stop `tor` (its events name `tor-relays`, on flows to the relays' addresses)
while `tor-obfs4`, through the unlisted bridge, gets through.
"""
from __future__ import annotations

import json

import pytest

from helpers import blocklab
from lab.scenario.addressing import TOR_RELAYS, TOR_UNLISTED_BRIDGES

TIMEOUT = 480
BULK_RATE = "50Mbit"      # the labs share one ovs-vswitchd: keep bulk downloads neighbourly
TOR_TOOLS = ("tor", "tor-obfs4-builtin", "tor-obfs4")


def compare(scenario: str, tools: str) -> dict:
    r = blocklab("compare", scenario, "--tools", tools, "--json", "--bulk-rate", BULK_RATE,
                 timeout=TIMEOUT)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stderr[-3000:]}"
    return json.loads(r.stdout)


def cells(m: dict) -> dict:
    return {c["tool"]: c for c in m["cells"]}


@pytest.fixture(scope="module")
def open_run() -> dict:
    return compare("basics/open", ",".join(TOR_TOOLS))


@pytest.fixture(scope="module")
def ru_run() -> dict:
    return compare("ru/2021-12-tor", "direct,tor,tor-obfs4")


def test_every_tor_tool_fetches_every_target_on_an_open_network(open_run):
    assert open_run["scenarios"][0]["tor_network_s"] > 0
    for tool, cell in cells(open_run).items():
        assert cell["status"] == "works", (tool, cell)
        assert all(t["ok"] == t["of"] for t in cell["targets"].values()), (tool, cell["targets"])
        trial = cell["trials"][0]
        assert trial["bootstrap_s"] > 0, trial
        assert trial["goodput_mbit"] > 0 and trial["ttfb_ms"] > 0, trial
        assert not cell["blocked_by"], cell


def test_russia_2021_blocks_tor_by_its_relays_addresses_not_an_unlisted_bridge(ru_run):
    c = cells(ru_run)
    direct, tor, obfs4 = c["direct"], c["tor"], c["tor-obfs4"]
    # torproject.org is dropped by name, the rest of the web is open
    assert direct["status"] == "partial" and direct["blocked_by"] == ["torproject-site"]
    # Tor never bootstraps: the censor dropped its connections to the relays, by address
    assert tor["status"] == "blocked" and tor["blocked_by"] == ["tor-relays"], tor
    assert "waiting for service tor-client" in tor["errors"][0]      # it never bootstrapped
    assert "Bootstrapped 100%" not in tor["errors"][0]
    events = [e for t in tor["trials"] for e in t["events"]]
    assert events and {e["rule"] for e in events} == {"tor-relays"}
    assert {e["flow"]["dst"] for e in events} <= set(TOR_RELAYS)
    assert {e["action"] for e in events} == {"drop"}
    assert all(e["on_tunnel"] for e in events)          # Tor's own flows, not a target's
    # through the unlisted obfs4 bridge every target answers, torproject.org too
    assert obfs4["status"] == "works" and not obfs4["blocked_by"], obfs4
    assert all(t["ok"] == t["of"] for t in obfs4["targets"].values()), obfs4["targets"]
    assert obfs4["trials"][0]["bootstrap_s"] > 0
    assert not [e for t in obfs4["trials"] for e in t["events"]
                if e["flow"]["dst"] in TOR_UNLISTED_BRIDGES]
