"""The lab's Tor network without a lab: its plan and address groups, its torrc files, the keys
(real tor-gencert and tor), the consensus check, and the bootstrap time in the matrix. The
network itself runs in tests/integration/test_compare_tor.py."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lab.compare import report
from lab.compare.runner import ScenarioRun, Trial
from lab.compare.measure import Fetch
from lab.scenario import load
from lab.scenario.addressing import ADDRESS_GROUPS
from lab.services.tor import keys, plan, torrc
from lab.services.tor.network import consensus_relays, usable



def write(folder: Path, text: str) -> Path:
    path = folder / "s.yaml"
    path.write_text(text)
    return path


CONSENSUS = """\
network-status-version 3
r torauth1 AAAA BBBB 2026-12-05 02:00:00 198.19.210.1 9001 9030
s Exit Fast Guard Running Stable V2Dir Valid
r torauth2 CCCC DDDD 2026-12-05 02:00:00 198.19.210.2 9001 9030
s Fast Running Valid
r torauth3 EEEE FFFF 2026-12-05 02:00:00 198.19.210.3 9001 9030
s Fast Valid
"""


def test_a_consensus_is_usable_when_every_relay_runs_with_a_guard_and_an_exit():
    relays = consensus_relays(CONSENSUS)
    assert relays["torauth1"] >= {"Exit", "Guard", "Running"}
    assert not usable(relays, ["torauth1", "torauth2", "torauth3"])    # torauth3 not Running
    assert usable(relays, ["torauth1", "torauth2"])
    no_exit = {n: f - {"Exit"} for n, f in relays.items()}
    assert not usable(no_exit, ["torauth1", "torauth2"])
    assert not usable(consensus_relays(""), ["torauth1"])


def test_the_address_groups_are_the_networks_relays_and_listed_bridges():
    assert ADDRESS_GROUPS["tor-relays"] == tuple(n.ip for n in plan.AUTHORITIES)
    assert ADDRESS_GROUPS["tor-bridges"] == tuple(n.ip for n in plan.BRIDGES if n.listed)
    grouped = {ip for ips in ADDRESS_GROUPS.values() for ip in ips}
    assert plan.UNLISTED_BRIDGE.ip not in grouped
    assert all(len(n.name) <= 10 for n in plan.NODES), "interface names: NAME-eth0 <= 15"


def test_the_network_joins_a_scenario_on_the_internet_side(tmp_path):
    sc = load(write(tmp_path, "name: t\nclients: [alice]\nservers: [{name: web}]\n"))
    grown = plan.with_network(sc)
    added = grown.servers[len(sc.servers):]
    assert [(s.name, s.ip, s.side) for s in added] == \
        [(n.name, n.ip, "internet") for n in plan.NODES]


def test_a_taken_address_is_refused_naming_the_host(tmp_path):
    sc = load(write(tmp_path, "name: t\nclients: [alice]\n"
                              "servers: [{name: web, address: 198.19.210.2}]\n"))
    with pytest.raises(plan.PlanError) as e:
        plan.with_network(sc)
    assert str(e.value) == ("t: the lab's Tor network needs host tor-auth2 at 198.19.210.2, "
                            "and 198.19.210.2 is taken by host 'web'")


def test_client_torrc_through_a_bridge(tmp_path):
    dirs = torrc.authority_lines([(plan.AUTHORITIES[0], "V3", "F" * 40)])
    assert dirs == (f"DirAuthority torauth1 orport=9001 no-v2 v3ident=V3 198.19.210.1:9030 "
                    f"{'F' * 40}\n")
    plain = torrc.client(tmp_path, 1080, dirs)
    assert "SocksPort 127.0.0.1:1080" in plain and "UseBridges" not in plain
    bridged = torrc.client(tmp_path, 1080, dirs, "obfs4 198.19.210.12:443 FP cert=x iat-mode=0")
    assert "UseBridges 1\nClientTransportPlugin obfs4 exec /usr/bin/obfs4proxy\n" \
           "Bridge obfs4 198.19.210.12:443 FP cert=x iat-mode=0\n" in bridged


@pytest.mark.skipif(not shutil.which("tor-gencert"), reason="Debian's tor is not installed")
def test_keys_are_made_by_tor_gencert_and_tor(tmp_path):
    node = plan.AUTHORITIES[0]
    data = tmp_path / "data"
    v3 = keys.authority_certificate(data, node.ip, plan.DIR_PORT)
    conf = tmp_path / "fp.torrc"
    conf.write_text(torrc.list_fingerprint_torrc(node, data))
    fingerprint = keys.relay_fingerprint(data, conf)
    for value in (v3, fingerprint):
        assert len(value) == 40 and set(value) <= set("0123456789ABCDEF")
    assert v3 != fingerprint
    assert (data / "keys" / "authority_certificate").read_text().startswith(
        "dir-key-certificate-version 3")
    assert keys.relay_fingerprint(data, conf) == fingerprint     # the keys are kept


def test_the_bootstrap_time_shows_in_the_cell():
    trial = Trial("s", "tor-obfs4", 0, True, fetches=[Fetch("https://a/", True, 200, 0.08)],
                  bulk=Fetch("https://a/bulk", True, 200, 0.1, 1_000_000, 1.0),
                  status="works", bootstrap=3.19)
    run = ScenarioRun("s", "t", "r", "alice", {}, "https://a/bulk", [], [trial], 32.5)
    m = report.matrix([run], 1)
    cell = m["cells"][0]
    assert cell["bootstrap_s"]["median"] == 3.19
    assert "bootstrap 3.2 s" in report.cell_text(cell)
    assert m["scenarios"][0]["tor_network_s"] == 32.5
    assert Trial.from_dict("s", "tor-obfs4", trial.as_dict()).bootstrap == 3.19


def test_drops_on_the_relays_are_the_tor_tools_own_flows():
    from lab.compare.runner import attribute
    relay = plan.AUTHORITIES[1].ip
    tor = Trial("s", "tor", 0, False, fetches=[Fetch("https://a/", False)], window=(1.0, 5.0))
    obfs4 = Trial("s", "tor-obfs4", 0, True, fetches=[Fetch("https://a/", True, 200, 0.1)],
                  window=(6.0, 9.0))
    events = [{"t": 2.0, "rule": "tor-relays", "action": "drop", "technique": "ip",
               "flow": {"src": "198.18.0.10", "dst": relay, "proto": "tcp", "dport": 9001}},
              {"t": 7.0, "rule": "torproject-site", "action": "drop", "technique": "sni",
               "flow": {"src": "198.18.0.10", "dst": "198.19.0.10", "proto": "tcp",
                        "dport": 443}}]
    attribute([tor, obfs4], events, "198.18.0.10", "198.19.200.10")
    assert tor.status == "blocked" and tor.blocked_by == ["tor-relays"]
    assert tor.events[0]["on_tunnel"] is True
    assert obfs4.events[0]["on_tunnel"] is False      # a target's flow, not the bridge's
