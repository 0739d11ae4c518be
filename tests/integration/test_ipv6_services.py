"""STUN, UDP echo, SSH and the censor's TLS interception box in a dual-stack lab: each
listens on both families, real clients reach it over IPv6 as over IPv4, and `probe`'s
ssh://, stun:// and udp:// checks run per family.

One lab for the module. The censor drops every IPv6 packet to one server (its UDP echo and
its sshd) and nothing else: the prober must see that block on IPv6 while IPv4 answers, as
it does for web targets (test_ipv6.py).
"""
from __future__ import annotations

import re
import sys

import pytest

from lab import scenario as scenarios
from lab.clients import ssh_args
from lab.run.lab import Lab
from lab.scenario.addressing import ip6_for

PY = sys.executable

SCENARIO = """
name: ipv6-services
title: STUN, UDP echo and SSH over both families
sources: ["blocklab integration tests"]
ipv6: true
clients:
  - {name: alice, trust_national_ca: true}
servers:
  - {name: stunner, domains: [stun.example.net], serve: [stun]}        # 198.19.0.10
  - {name: echoer, domains: [echo.example.net], serve: [udp-echo]}     # 198.19.0.11
  - {name: sshd, domains: [ssh.example.net], serve: [ssh]}             # 198.19.0.12
  - {name: dark, domains: [dark-echo.example.net], serve: [udp-echo, ssh]}  # 198.19.0.13
  - {name: site, domains: [rutracker.org], serve: [https, quic]}       # 198.19.0.14
  - {name: mitm, domains: [mitm.isp.kz], serve: [intercept]}
censor:
  rules:
    - {id: dark-v6, match: {server: dark, family: ipv6}, action: drop}
    # kz/2024-mitm's rule (net4people/bbs#339)
    - {id: kz-mitm, match: {server: site, proto: tcp, port: 443}, action: {intercept: mitm}}
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    path = tmp_path_factory.mktemp("v6svc") / "ipv6-services.yaml"
    path.write_text(SCENARIO)
    with Lab(scenarios.load(str(path))) as running:
        yield running


ALICE6 = ip6_for("198.18.0.10")


def probe(lab, module: str, *args: str) -> tuple[int, str]:
    r = lab.run("alice", [PY, "-m", f"lab.clients.{module}", *args, "--max-time", "3"],
                timeout=20)
    return r.returncode, (r.stdout + r.stderr).strip()


@pytest.mark.parametrize("family", [4, 6])
def test_stun_maps_alices_address_of_each_family(lab, family):
    code, said = probe(lab, "stun_probe", "stun.example.net", *(["-6"] if family == 6 else []))
    assert code == 0, said
    if family == 6:
        assert re.match(rf"mapped \[{re.escape(ALICE6)}\]:\d+ \(from "
                        rf"\[{re.escape(ip6_for('198.19.0.10'))}\]:3478", said), said
    else:
        assert re.match(r"mapped 198\.18\.0\.10:\d+ \(from 198\.19\.0\.10:3478", said), said


@pytest.mark.parametrize("family", [4, 6])
def test_udp_echo_answers_each_family(lab, family):
    code, said = probe(lab, "udp_probe", "echo.example.net:7", *(["-6"] if family == 6 else []))
    assert code == 0, said
    source = f"[{ip6_for('198.19.0.11')}]:7" if family == 6 else "198.19.0.11:7"
    assert said.startswith(f"echoed 32 bytes from {source}"), said


@pytest.mark.parametrize("family", [4, 6])
def test_ssh_logs_in_over_each_family(lab, family):
    r = lab.run("alice", ["ssh", *ssh_args(lab), f"-{family}", "ssh.example.net",
                          "echo $SSH_CONNECTION"], timeout=20)
    assert r.returncode == 0, r.stderr
    client_addr = r.stdout.split()[0]
    assert client_addr == (ALICE6 if family == 6 else "198.18.0.10"), r.stdout


def test_the_ipv6_block_times_the_echo_out_and_leaves_ipv4(lab):
    code, said = probe(lab, "udp_probe", "dark-echo.example.net:7", "-6")
    assert code == 28 and "timed out" in said, said
    code, said = probe(lab, "udp_probe", "dark-echo.example.net:7")
    assert code == 0, said


def test_probe_checks_ssh_stun_and_udp_per_family(lab):
    """The prober's reachability checks (ssh, stun, udp, quic) run at the first AAAA address
    too: the echo and SSH blocked on IPv6 alone read `ipv4 ok, ipv6 blocked`; the others ok
    on both."""
    from lab.probe.runner import Prober, Target
    urls = ["stun://stun.example.net", "udp://echo.example.net:7", "ssh://ssh.example.net",
            "quic://rutracker.org/", "udp://dark-echo.example.net:7",
            "ssh://dark-echo.example.net"]
    prober = Prober(lab, throughput=False)
    results = prober.run([Target("alice", u) for u in urls])
    fams = {r.target.url: r.record["test_keys"]["x_families"] for r in results}
    status = {u: (f["ipv4"]["status"], f["ipv6"]["status"]) for u, f in fams.items()}
    assert status == {"stun://stun.example.net": ("ok", "ok"),
                      "udp://echo.example.net:7": ("ok", "ok"),
                      "ssh://ssh.example.net": ("ok", "ok"),
                      "quic://rutracker.org/": ("ok", "ok"),
                      "udp://dark-echo.example.net:7": ("ok", "blocked"),
                      "ssh://dark-echo.example.net": ("ok", "blocked")}, fams
    said = {r.target.url: r.record["test_keys"]["x_ipv6"]["x_reachability"][0]
            for r in results}
    assert said["ssh://ssh.example.net"]["said"].startswith("SSH-2.0-OpenSSH")
    assert said["ssh://ssh.example.net"]["address"] == f"[{ip6_for('198.19.0.12')}]:22"
    assert said["quic://rutracker.org/"]["said"].startswith("HTTP/3 200")
    assert said["quic://rutracker.org/"]["address"] == f"[{ip6_for('198.19.0.14')}]:443"
    assert said["udp://dark-echo.example.net:7"]["failure"] == "generic_timeout_error"
    verdicts = {r.target.url: r.verdict for r in results}
    assert verdicts["udp://dark-echo.example.net:7"].why.startswith("ipv6 only:")
    assert verdicts["stun://stun.example.net"].blocked is False


@pytest.mark.parametrize("family", [6, 4])
def test_the_interception_box_intercepts_each_family(lab, family):
    """kz/2024-mitm over IPv6: the box redirects IPv6's port 443 too (an `inet` nftables
    table), answers with the national CA's certificate and fetches the real page over the
    family the client used."""
    seen = len(lab.events())
    r = lab.run("alice", ["curl", f"-{family}", "-sSv", "--max-time", "5",
                          "https://rutracker.org/"], timeout=15)
    assert r.returncode == 0 and "blocklab server site" in r.stdout, r.stderr
    assert "CN=blocklab national CA" in r.stderr, r.stderr
    event = next(e for e in lab.events()[seen:] if e.get("rule") == "kz-mitm")
    assert event["action"] == "intercept"
    assert event["flow"].get("family") == ("ipv6" if family == 6 else None), event
    site = ip6_for("198.19.0.14") if family == 6 else "198.19.0.14"
    log = (lab.run_dir.path / "services" / "mitm" / "intercept" / "intercept.log").read_text()
    where = f"[{site}]:443" if family == 6 else f"{site}:443"
    assert f"intercepted rutracker.org ({where}) for " in log, log
