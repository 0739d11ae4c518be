"""An ISP's shaped uplink (`network.isps[].uplink`, issue 15) seen by a real client: curl's
download rate through a throttled ISP, with and without a censor's switch on that link, next
to an unshaped ISP of the same lab.

Bandwidth only (HTB): it works on any kernel; delay, jitter and loss need netem (the kernel
lane; without netem the lab refuses them before it is built, as for `links:`).
"""
from __future__ import annotations

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab

SCENARIO = """\
name: t-uplinks
clients: [alice, bob, carol]
servers:
  - {name: far, domains: [far.example], serve: [http, bulk]}
network:
  isps:
    - {name: home, uplink: {bw: 8Mbit}, clients: [alice]}
    - {name: mobile, uplink: {bw: 8Mbit}, clients: [bob]}
    - {name: fiber, clients: [carol]}
  censors:
    - {name: tspu, at: mobile.uplink, rules: [{id: r, match: {sni: x.example}, action: reset}]}
"""
RATE = 8e6 / 8          # bytes/s of an 8 Mbit/s link


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    path = tmp_path_factory.mktemp("uplinks") / "t.yaml"
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


@pytest.mark.parametrize("client", ["alice", "bob"])   # bob: a censor's switch on the link too
def test_a_shaped_uplink_holds_its_clients_to_its_rate(lab, client):
    got = download_rate(lab, client)
    assert 0.5 * RATE <= got <= 1.2 * RATE, f"{client}: {got / 1e6:.2f} MB/s"


def test_an_unshaped_isp_is_not_held(lab):
    assert download_rate(lab, "carol") > 4 * RATE
