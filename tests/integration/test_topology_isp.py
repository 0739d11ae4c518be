"""Inside an ISP (issue 15): a shaped uplink (`isps[].uplink`) and routers in a chain
(`isps[].hops`), seen by real clients.

One lab, three ISPs: home has 3 routers and a censor (tspu) on its shaped uplink, mobile a
shaped uplink and no censor, fiber neither. curl's download rate holds to the uplink's rate
with and without the censor's switch on the link, and not on fiber; traceroute lists home's
three routers, the RST tspu injects arrives with its TTL less those three, and TTL-limited
ClientHellos (CenTrace) are reset only once their TTL reaches past the third router.

Bandwidth only (HTB): it works on any kernel; delay, jitter and loss need netem (the kernel
lane; without netem the lab refuses them before it is built, as for `links:`).
"""
from __future__ import annotations

import re
import sys

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab

SCENARIO = """\
name: t-isp-inside
clients: [alice, bob, carol]
servers:
  - {name: far, domains: [far.example], serve: [http, https, bulk]}
network:
  isps:
    - {name: home, hops: 3, uplink: {bw: 8Mbit}, clients: [alice]}
    - {name: mobile, uplink: {bw: 8Mbit}, clients: [bob]}
    - {name: fiber, clients: [carol]}
  censors:
    - {name: tspu, at: home.uplink, rules: [{id: r, match: {sni: far.example}, action: reset}]}
"""
RATE = 8e6 / 8          # bytes/s of an 8 Mbit/s link
FAR = "198.19.0.10"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    path = tmp_path_factory.mktemp("isp") / "t.yaml"
    path.write_text(SCENARIO)
    with Lab(scenarios.load(path)) as lab:
        yield lab


def download_rate(lab, client: str, seconds: int = 3) -> float:
    """curl's average download speed (bytes/s) of the bulk file over `seconds`."""
    r = lab.run(client, ["curl", "-sS", "-o", "/dev/null", "--max-time", str(seconds),
                         "-w", "%{speed_download} %{size_download}",
                         "http://far.example/bulk/100M"], timeout=seconds + 20)
    assert r.returncode in (0, 28), (r.returncode, r.stderr)   # 28: the stopwatch, not a fault
    speed, size = r.stdout.split()
    assert int(size) > 0, r.stdout
    return float(speed)


@pytest.mark.parametrize("client", ["alice", "bob"])   # alice: a censor's switch on it too
def test_a_shaped_uplink_holds_its_clients_to_its_rate(lab, client):
    got = download_rate(lab, client)
    assert 0.5 * RATE <= got <= 1.2 * RATE, f"{client}: {got / 1e6:.2f} MB/s"


def test_an_unshaped_isp_is_not_held(lab):
    assert download_rate(lab, "carol") > 4 * RATE


def test_traceroute_lists_each_router_of_the_isp(lab):
    r = lab.run("alice", ["traceroute", "-n", "-q1", "-w1", FAR], timeout=40)
    assert r.returncode == 0, r.stderr
    hops = re.findall(r"^\s*\d+\s+(\S+)", r.stdout, re.M)
    assert hops == ["198.18.1.1", "198.18.255.66", "198.18.255.70", "198.18.255.1", FAR]


def test_the_censors_rst_arrives_three_routers_down(lab):
    r = lab.run("alice", [sys.executable, "-m", "lab.clients.rst_ttl", "--", "curl", "-sS",
                          "--max-time", "5", "-o", "/dev/null", "https://far.example/"],
                timeout=20)
    assert r.returncode in (35, 56), (r.returncode, r.stdout, r.stderr)
    assert re.findall(r"^rst from \S+ ttl (\d+)$", r.stdout, re.M) == ["61"]   # 64 - 3


def test_ttl_limited_hellos_find_the_censor_past_the_third_router(lab):
    got = [lab.run("alice", [sys.executable, "-m", "lab.clients.tls_hello", "far.example",
                             "--ttl", str(ttl), "--timeout", "2"], timeout=15).returncode
           for ttl in (1, 2, 3, 4)]
    assert got == [28, 28, 28, 35]
