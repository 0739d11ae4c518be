"""Throttles, residual penalty boxes and probabilistic blocking, measured with real clients."""
from __future__ import annotations

import sys
import time

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab
from lab.run.wait import wait_until

PY = sys.executable


def _goodput(lab, client: str, url: str, seconds: int) -> float:
    """Bytes per second a curl download of `url` gets over `seconds`."""
    r = lab.run(client, ["curl", "-sS", "-o", "/dev/null", "--max-time", str(seconds),
                         "-w", "%{speed_download}", url], timeout=seconds + 10)
    assert r.returncode in (0, 28), r.stderr
    return float(r.stdout)


@pytest.mark.kernel
def test_throttle_per_flow_lands_within_15_percent_of_the_rate():
    sc = scenarios.load("basics/throttle")
    rate = sc.censor.rules[0].action["rate_bps"] / 8
    with Lab(sc) as lab:
        slow = _goodput(lab, "alice", "https://rr1.video.example/bulk/100M", 8)
        fast = _goodput(lab, "alice", "https://open.example.org/bulk/100M", 2)
        events = lab.events()
    assert abs(slow - rate) <= 0.15 * rate, f"throttled goodput {slow:.0f} B/s vs {rate:.0f}"
    # an unmatched flow is not held to the rate: 10x it at least (the kernel lane's emulated
    # CPU moved 2.2 MB/s unthrottled, 17.6x, in one CI run; 100x here)
    assert fast > 10 * rate, f"unthrottled goodput {fast:.0f} B/s vs {rate:.0f}"
    assert any(e["action"] == "throttle" and e["rule"] == "slow" for e in events)


@pytest.mark.kernel
def test_throttle_per_rule_is_shared_by_every_flow():
    sc = scenarios.load("basics/throttle-per-rule")
    rate = sc.censor.rules[0].action["rate_bps"] / 8
    url = "https://rr1.video.example/bulk/100M"
    cmd = ["curl", "-sS", "-o", "/dev/null", "--max-time", "8", "-w", "%{speed_download}", url]
    with Lab(sc) as lab:
        procs = [lab.popen(c, cmd, stdout=-1, stderr=-1, text=True) for c in ("alice", "bob")]
        speeds = [float(p.communicate(timeout=20)[0]) for p in procs]
    total = sum(speeds)
    # the ceiling is what shows the rule's one meter shared (per flow, two would get 2x the
    # rate); the floor is looser: the kernel lane's emulated CPU once moved two curls at 200
    # of 250 KB/s
    assert 0.7 * rate <= total <= 1.15 * rate, \
        f"two flows got {speeds} B/s, rule rate {rate:.0f}"


def test_residual_blocks_the_three_tuple_then_expires():
    sc = scenarios.load("basics/residual")
    residual = sc.censor.rules[0].residual
    # One family: the box holds one server address, as the GFW's 3-tuple does, so in a
    # dual-stack lab (the default) curl's Happy Eyeballs would reach the boxed server over
    # the other family (Happy Eyeballs: test_ipv6.py).
    fine = ["curl", "-4", "-sS", "--max-time", "1", "https://fine.example.com/"]
    with Lab(sc) as lab:
        assert lab.run("alice", fine).returncode == 0
        trigger = lab.run("alice", ["curl", "-4", "-sS", "--max-time", "3",
                                    "https://blocked.example.com/"])
        assert trigger.returncode in (35, 56), trigger.stderr
        start = time.monotonic()
        inside = lab.run("alice", fine)
        assert inside.returncode == 28, "a name that is not blocked must be caught by the box"
        wait_until(lambda: lab.run("alice", fine).returncode == 0, residual + 5,
                   "the penalty box to expire")
        elapsed = time.monotonic() - start
        events = lab.events()
    assert residual - 1.5 <= elapsed <= residual + 2, f"box lasted {elapsed:.1f}s"
    box = [e for e in events if e["technique"] == "residual"]
    assert len(box) == 1 and box[0]["flow"]["dport"] == 443


def _coin_flips(lab, n: int) -> list[tuple[str, int]]:
    """n TLS connections in a row, each from a port of its own (20000 + i): ('x', client port)
    for reset, ('.', port) for through."""
    script = ("import re, subprocess, sys\n"
              f"for i in range({n}):\n"
              "    r = subprocess.run([sys.executable, '-m', 'lab.clients.tls_hello',"
              " 'coin.example.com', '--timeout', '2', '--sport', str(20000 + i), '-v'],"
              " capture_output=True, text=True)\n"
              "    port = re.search(r'connected from [0-9.]+:([0-9]+)', r.stderr)\n"
              "    seen = {0: '.', 35: 'x'}.get(r.returncode, f'[{r.returncode}:{r.stderr.strip()}]')\n"
              "    print(seen, port.group(1) if port else '?', flush=True)\n")
    r = lab.run("alice", [PY, "-c", script], timeout=600)
    flips = [tuple(line.split()) for line in r.stdout.splitlines()]
    assert len(flips) == n and all(len(f) == 2 and f[0] in ".x" and f[1].isdigit()
                                   for f in flips), r.stdout + r.stderr
    return [(seen, int(port)) for seen, port in flips]


def _reset_ports(lab) -> list[int]:
    return [e["flow"]["sport"] for e in lab.events() if e["action"] == "reset"]


def test_probability_half_within_a_tenth_and_reproducible_by_seed():
    # Each connection is drawn once, by the censor's seed. Each from its own port: the
    # censor's state is by 5-tuple, and a new connection on the ports of a passed one, while
    # the switch still carries that flow, goes through undrawn (the kernel reused a port once
    # in CI, with four labs running, and the draws shifted by one: docs/internals.md).
    sc = scenarios.load("basics/probability")
    n = 200
    runs = []
    for _ in range(2):
        with Lab(sc) as lab:
            flips = _coin_flips(lab, n)
            lab.settle()
            # each reset the censor logged is a connection tls_hello saw reset, in order
            assert _reset_ports(lab) == [port for seen, port in flips if seen == "x"]
        runs.append("".join(seen for seen, _port in flips))
    first, second = runs
    share = first.count("x") / n
    assert abs(share - 0.5) <= 0.1, f"blocked share {share:.2f}"
    assert first == second, "the same seed must give the same choices"
