"""The internet behind the censor: every `serve:` service is a real daemon, checked from a
client with a real client (dig, the lab's probes, ssh, nc)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lab import scenario as scenarios
from lab.clients import ssh_args
from lab.run.lab import Lab
from lab.truth.observe import fetch
from lab.run.pki import LabCA
from lab.run.procs import alive
from lab.services.base import ServiceError, listening
from lab.services.registry import REGISTRY
from lab.run.wait import wait_until

REPO = Path(__file__).resolve().parents[2]

SCENARIO = """
name: services
title: One server per service
sources: ["blocklab integration tests"]
clients: [alice]
resolver: isp
servers:
  - name: auth                   # 198.19.0.10
    domains: [www.auth.example, "*.cdn.auth.example"]
    serve: [dns]
  - name: hidden                 # 198.19.0.11: its DNS is cut between the ISP resolver and it
    domains: [www.hidden.example]
    serve: [dns]
  - name: h3                     # 198.19.0.12
    domains: [h3.example.net]
    serve: [https, quic]
  - name: stunner                # 198.19.0.13
    domains: [stun.example.net]
    serve: [stun]
  - name: echo                   # 198.19.0.14
    domains: [echo.example.net]
    serve: [udp-echo]
  - name: box                    # 198.19.0.15
    domains: [ssh.example.net]
    serve: [ssh]
  - name: vps                    # 198.19.0.16
    domains: [vps.example.org]
    serve: [vps]
  - name: plain                  # 198.19.0.17: local records at the resolvers
    domains: [plain.example.org, "*.wild.example.org"]
    serve: [http]
censor:
  mode: inline
  rules:
    - id: hidden-dns
      match: {server: hidden, proto: udp, port: 53}
      action: drop
"""


def _write(tmp: Path, text: str) -> Path:
    path = tmp / "services.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    sc = scenarios.load(_write(tmp_path_factory.mktemp("services"), SCENARIO))
    with Lab(sc) as running:
        yield running


def ip(lab, name: str) -> str:
    return lab.scenario.host(name).ip


def dig(lab, *args: str) -> list[str]:
    r = lab.run("alice", ["dig", "+short", "+time=3", "+tries=1", *args], timeout=15)
    return [line for line in r.stdout.splitlines() if line and not line.startswith(";")]


def probe(lab, module: str, *args: str) -> subprocess.CompletedProcess:
    return lab.run("alice", [sys.executable, "-m", f"lab.clients.{module}", *args], timeout=30)


# --- DNS ---------------------------------------------------------------------------------

def test_names_on_an_authoritative_server_resolve_through_both_resolvers(lab):
    auth = ip(lab, "auth")
    assert dig(lab, "@198.19.0.2", "www.auth.example") == [auth]          # public-dns
    assert dig(lab, "www.auth.example") == [auth]                         # isp (resolv.conf)
    assert dig(lab, "@198.18.0.2", "a.b.cdn.auth.example") == [auth]
    # the authoritative server itself answers, authoritatively, without recursion
    r = lab.run("alice", ["dig", "+norec", "+time=3", f"@{auth}", "x.cdn.auth.example"])
    assert re.search(r"flags: qr aa;", r.stdout), r.stdout
    assert f"x.cdn.auth.example.\t30\tIN\tA\t{auth}" in r.stdout


def test_a_wildcard_answers_subdomains_not_the_zone_apex(lab):
    for resolver in ("@198.18.0.2", "@198.19.0.2"):
        assert dig(lab, resolver, "cdn.auth.example") == []               # authoritative zone
        assert dig(lab, resolver, "wild.example.org") == []               # local record
        assert dig(lab, resolver, "a.wild.example.org") == [ip(lab, "plain")]
        assert dig(lab, resolver, "plain.example.org") == [ip(lab, "plain")]


def test_the_isp_resolver_asks_the_authoritative_server_through_the_censor(lab):
    hidden = ip(lab, "hidden")
    assert dig(lab, "@198.19.0.2", "www.hidden.example") == [hidden]      # outside: fine
    assert dig(lab, "www.hidden.example") == []                           # isp: dropped
    flows = [e["flow"] for e in lab.events() if e.get("rule") == "hidden-dns"]
    assert {"src": "198.18.0.2", "dst": hidden, "dport": 53}.items() <= flows[0].items(), flows


# --- QUIC, STUN, UDP echo, TCP, SSH --------------------------------------------------------

def test_http3_get_verifies_the_lab_ca_and_serves_the_index_page(lab):
    ok, saw = fetch(lab, "alice", "quic://h3.example.net/")
    assert ok, saw
    assert re.fullmatch(r"HTTP/3 200, \d+ B in [\d.]+s", saw)
    https = lab.run("alice", ["curl", "-sS", "https://h3.example.net/"]).stdout
    assert f"HTTP/3 200, {len(https.encode())} B" in saw          # the same page as nginx's
    assert fetch(lab, "alice", "quic://h3.example.net/missing")[1].startswith("HTTP/3 404")


def test_stun_binding_response_names_alices_address(lab):
    ok, saw = fetch(lab, "alice", "stun://stun.example.net")
    assert ok, saw
    assert re.match(rf"mapped {re.escape(ip(lab, 'alice'))}:\d+ ", saw), saw


def test_udp_echo(lab):
    ok, saw = fetch(lab, "alice", "udp://echo.example.net:7")
    assert ok and saw.startswith("echoed 32 bytes from"), saw


def test_tcp_connect(lab):
    assert fetch(lab, "alice", "tcp://ssh.example.net:22")[0]
    ok, saw = fetch(lab, "alice", "tcp://echo.example.net:22")
    assert not ok and "refused" in saw, saw


@pytest.mark.parametrize("name", ["ssh.example.net", "vps.example.org"])
def test_ssh_runs_true_with_the_runs_key(lab, name):
    ok, saw = fetch(lab, "alice", f"ssh://{name}")
    assert ok, saw


def test_ssh_allows_only_the_runs_key(lab):
    args = ssh_args(lab)
    args[args.index("-i") + 1] = "/dev/null"
    r = lab.run("alice", ["ssh", *args, "ssh.example.net", "true"], timeout=20)
    assert r.returncode == 255
    assert "Permission denied (publickey)." in r.stderr       # no password method offered


# --- probes' exit codes -------------------------------------------------------------------

NOWHERE = "198.19.0.250"      # in the lab, no host: no answer, not even an ICMP error


@pytest.mark.parametrize("module, args, code, message", [
    ("stun_probe", [NOWHERE, "--max-time", "1"], 28, "STUN timed out"),
    ("stun_probe", ["echo.example.net"], 7, "refused"),
    ("udp_probe", [f"{NOWHERE}:7", "--max-time", "1"], 28, "timed out"),
    ("udp_probe", ["stun.example.net:7"], 7, "refused"),
    ("quic_probe", [f"https://{NOWHERE}/", "--max-time", "1"], 28, "timed out"),
    ("quic_probe", ["https://echo.example.net/"], 7, "refused"),
    ("quic_probe", ["https://no-such.example.net/"], 6, "Could not resolve host"),
    ("udp_probe", ["echo.example.net"], 2, "no port"),
])
def test_probes_fail_curl_like(lab, module, args, code, message):
    r = probe(lab, module, *args)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1
    assert message in r.stderr


def test_quic_probe_refuses_a_certificate_from_another_ca(lab, tmp_path):
    other = LabCA(tmp_path, "other")
    r = probe(lab, "quic_probe", "https://h3.example.net/", "--cafile", str(other.cert_path))
    assert r.returncode == 60, r.stderr
    assert "certificate" in r.stderr


# --- readiness and failure ---------------------------------------------------------------

def test_every_service_is_ready_when_the_lab_is_up(lab):
    names = sorted(s.name for s in lab.services)
    assert names == sorted([
        "dns@isp", "dns@public-dns", "dns@auth", "dns@hidden", "web@h3", "quic@h3",
        "stun@stunner", "udp-echo@echo", "ssh@box", "ssh@vps", "web@plain"])
    for service in lab.services:
        assert service.alive() and service.ready(), service.name
    stun = lab.host("stunner").pid
    assert listening(stun, "udp", 3478) and listening(stun, "tcp", 3478)


def test_services_and_probes_wait_on_conditions_not_sleeps():
    services = ["base", "daemon", "dns", "echo", "h3server", "quic", "registry", "ssh", "stun",
                "web"]
    clients = ["__init__", "probe", "quic_probe", "stun_probe", "targets", "udp_probe"]
    for path in [*(REPO / "lab" / "services" / f"{m}.py" for m in services),
                 *(REPO / "lab" / "clients" / f"{m}.py" for m in clients)]:
        assert not re.search(r"\bsleep\(", path.read_text()), path


def test_every_serve_value_has_a_factory():
    schema = json.loads((REPO / "lab" / "scenario" / "schema.json").read_text())
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "serve" in node and isinstance(node["serve"], dict):
                found.extend(node["serve"].get("items", {}).get("enum", []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(schema)
    assert found and set(found) == set(REGISTRY)


class _SquattedLab(Lab):
    """Something else holds TCP 22 on the ssh server's addresses (both, in a dual-stack lab:
    sshd runs on the one it can bind) before its sshd starts."""

    def _start_services(self, ca):
        box = self.scenario.host("box")
        self.seen = {"run": self.run_dir.path, "bridge": self.network.bridge,
                     "squatters": [self.popen("box", ["nc", "-dlk", ip, "22"])
                                   for ip in (box.ip, box.ip6) if ip]}
        wait_until(lambda: listening(self.host("box").pid, "tcp", 22), 10, "the squatter")
        super()._start_services(ca)


def test_a_service_that_cannot_start_fails_the_run_and_leaves_nothing(tmp_path):
    text = SCENARIO.split("servers:")[0] + """servers:
  - name: web
    domains: [www.example.com]
    serve: [https]
  - name: box
    domains: [ssh.example.net]
    serve: [ssh]
"""
    sc = scenarios.load(_write(tmp_path, text))
    lab = _SquattedLab(sc)
    with pytest.raises(ServiceError) as failure:
        with lab:
            pytest.fail("the lab came up with its sshd port taken")
    message = str(failure.value)
    assert message.startswith("service ssh@box exited"), message
    assert "ssh@box log:" in message and "Address already in use" in message, message
    seen = lab.seen
    assert lab.services == [] and lab.run_dir is None and lab.network is None
    assert not seen["run"].exists()
    bridges = subprocess.run(["ovs-vsctl", "list-br"], capture_output=True, text=True).stdout
    assert seen["bridge"] not in bridges.split()
    for squatter in seen["squatters"]:
        assert squatter.wait(timeout=5) is not None
        assert not alive(squatter.pid)
