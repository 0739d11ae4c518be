"""The foundation, as a user sees it: a lab comes up, real clients reach real servers."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab
from lab.services.base import listening
from lab.run.wait import wait_until
from tests.integration.helpers import blocklab


def test_exec_curl_verifies_tls_with_the_lab_ca():
    r = blocklab("exec", "basics/open", "alice", "--", "curl", "-sS", "https://www.example.com/")
    assert r.returncode == 0, r.stderr
    assert "blocklab server example" in r.stdout


def test_exec_openssl_verifies_the_chain():
    r = blocklab("exec", "basics/open", "bob", "--", "openssl", "s_client", "-brief",
                 "-verify_return_error", "-connect", "news.example.org:443",
                 "-servername", "news.example.org", input="")
    assert r.returncode == 0, r.stderr
    assert "Verification: OK" in r.stderr + r.stdout


def test_dig_gets_the_server_address_from_the_lab_resolver():
    sc = scenarios.load("basics/open")
    r = blocklab("exec", "basics/open", "alice", "--", "dig", "+short", "news.example.org")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [sc.host("news").ip]


def test_exec_exits_with_the_commands_exit_code():
    r = blocklab("exec", "basics/open", "alice", "--", "sh", "-c", "echo out; exit 3")
    assert r.returncode == 3
    assert r.stdout.strip() == "out"


def test_iperf3_moves_data_through_the_censor_switch():
    sc = scenarios.load("basics/open")
    with Lab(sc) as lab:
        server = lab.popen("news", ["iperf3", "-s", "-1"])
        wait_until(lambda: listening(lab.host("news").pid, "tcp", 5201), 10, "iperf3 server")
        r = lab.run("alice", ["iperf3", "-c", sc.host("news").ip, "-t", "2", "-J"], timeout=30)
        server.wait(timeout=10)
    assert r.returncode == 0, r.stderr
    received = json.loads(r.stdout)["end"]["sum_received"]
    assert received["bytes"] > 10_000_000
    assert received["bits_per_second"] > 100e6


SINK = ("import socket; s = socket.create_server(('', 5201)); c, _ = s.accept(); n = 0\n"
        "while (b := c.recv(1 << 16)): n += len(b)\nprint(n)")
UPLOAD = ("import socket, sys; c = socket.create_connection((sys.argv[1], 5201))\n"
          "c.sendall(b'u' * (64 << 20)); c.shutdown(socket.SHUT_WR); c.recv(1)")


def test_a_long_upload_the_censor_allowed_arrives_whole():
    """Steered (the SNI rule reads every TCP flow's first data) and allowed: the flow passes
    in OVS's connection tracker, which sees only the client's side (docs/internals.md, the
    conntrack lane); 64 MiB, far past what it can track in-window, must all arrive."""
    sc = scenarios.load("basics/sni-drop")
    with Lab(sc) as lab:
        server = lab.popen("open", [sys.executable, "-c", SINK], stdout=subprocess.PIPE,
                           text=True)
        wait_until(lambda: listening(lab.host("open").pid, "tcp", 5201), 10, "the sink")
        r = lab.run("alice", [sys.executable, "-c", UPLOAD, sc.host("open").ip], timeout=120)
        out, _ = server.communicate(timeout=30)
    assert r.returncode == 0, r.stderr
    assert int(out) == 64 << 20


def test_nothing_in_the_lab_reaches_outside_it():
    r = blocklab("exec", "basics/open", "alice", "--", "ip", "-4", "route", "show")
    assert r.returncode == 0
    routes = [line for line in r.stdout.splitlines() if line.strip()]
    assert routes and all(line.startswith("198.18.0.0/15") for line in routes), routes


@pytest.mark.parametrize("args, message", [
    (["exec", "basics/nonexistent", "alice", "--", "true"], "no scenario named"),
    (["exec", "basics/open", "mallory", "--", "true"], "no host named 'mallory'"),
])
def test_clear_errors(args, message):
    r = blocklab(*args)
    assert r.returncode == 1
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_not_root_is_told_what_is_needed():
    r = blocklab("exec", "basics/open", "alice", "--", "true",
                 user=65534, group=65534, extra_groups=[], env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 1
    assert "needs root" in r.stderr
    assert "Traceback" not in r.stderr


def test_run_prints_what_the_client_saw():
    r = blocklab("run", "basics/open")
    assert r.returncode == 0, r.stderr
    assert "https://www.example.com/" in r.stdout
    assert "HTTP 200" in r.stdout
