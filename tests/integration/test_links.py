"""Link shaping: bandwidth with HTB works on any kernel; delay/jitter/loss need netem."""
from __future__ import annotations

import json
import time

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab
from lab.scenario.kernel import netem_support
from lab.services.base import listening
from lab.run.wait import wait_until
from tests.integration.helpers import blocklab

SHAPED = """\
name: shaped
title: a 20 Mbit/s access link
clients: [alice]
servers:
  - {{name: far, domains: [far.example.com], serve: [https]}}
links:
  client: {{{link}}}
"""


def _scenario(tmp_path, link: str):
    path = tmp_path / "shaped.yaml"
    path.write_text(SHAPED.format(link=link))
    return path


def _iperf(lab, seconds: int = 4, reverse: bool = False) -> float:
    server = lab.popen("far", ["iperf3", "-s", "-1"])
    wait_until(lambda: listening(lab.host("far").pid, "tcp", 5201), 10, "iperf3 server")
    cmd = ["iperf3", "-c", lab.scenario.host("far").ip, "-t", str(seconds), "-J"]
    r = lab.run("alice", cmd + (["-R"] if reverse else []), timeout=seconds + 20)
    server.wait(timeout=10)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"]


def test_bandwidth_limit_shows_in_iperf3(tmp_path):
    sc = scenarios.load(_scenario(tmp_path, "bw: 20Mbit"))
    with Lab(sc) as lab:
        up = _iperf(lab)
        down = _iperf(lab, reverse=True)
    for direction, bps in (("up", up), ("down", down)):
        assert abs(bps - 20e6) <= 0.15 * 20e6, f"{direction}: {bps / 1e6:.1f} Mbit/s"


def test_delay_is_refused_without_netem_with_a_clear_message(tmp_path):
    ok, why = netem_support()
    if ok:
        pytest.skip("this kernel has netem; the refusal only happens without it")
    path = _scenario(tmp_path, "delay: 50ms")
    r = blocklab("exec", str(path), "alice", "--", "true")
    assert r.returncode == 1
    assert "netem" in r.stderr and "Traceback" not in r.stderr
    strict = blocklab("validate", "--strict", str(path))
    assert strict.returncode == 1 and "netem" in strict.stdout


def test_delay_is_applied_where_netem_exists(tmp_path):
    ok, why = netem_support()
    if not ok:
        pytest.skip(f"needs the kernel's netem qdisc, which this kernel lacks: {why} "
                    "(runs in the Vagrant VM)")
    sc = scenarios.load(_scenario(tmp_path, "delay: 50ms"))
    with Lab(sc) as lab:
        start = time.monotonic()
        r = lab.run("alice", ["ping", "-c", "3", "-q", sc.host("far").ip])
    assert r.returncode == 0
    rtt_avg = float(r.stdout.split("=")[-1].split("/")[1])
    assert 95 <= rtt_avg <= 130, f"rtt {rtt_avg} ms for 50 ms each way"
    assert time.monotonic() - start < 30
