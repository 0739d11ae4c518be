"""The 2023-2026 scenarios outside Russia, checked where an `expect:` URL cannot reach.

test_library.py brings every bundled scenario up and checks its `expect:` entries; this file
checks what those entries cannot say, with real clients: the lessons of cn/2025-08-port-443-rst
and cn/2023-henan (run with `--auto`, as a teacher would), that Jio's box resets a blocked name
only on the way to the servers it watches (CIS India's test: the same ClientHello sent to two
Google addresses), that ir/2026-whitelist's 50% resets come in the same order in every run
(a seeded draw), and that its Cloudflare ban holds every name on the address until it ends.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab
from lab.run.wait import wait_until

PY = sys.executable


def _curl(url: str, max_time: int = 3) -> list[str]:
    return ["curl", "-sS", "-o", "/dev/null", "--max-time", str(max_time), url]


@pytest.mark.parametrize("name, steps", [("cn/2025-08-port-443-rst", 6), ("cn/2023-henan", 6)])
def test_lesson_holds(name, steps, tmp_path):
    r = subprocess.run([PY, "-m", "lab.cli", "lesson", name, "--auto"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert f"{steps} of {steps} expected observations held." in r.stdout, r.stdout
    assert "Traceback" not in r.stderr


def test_port_443_resets_carry_the_measured_windows():
    """What gfw.report's tcpdump showed: three RST+ACKs with seq 0 and windows 1980-1982 for
    the SYN, three with windows 3293-3295 for the SYN/ACK (over IPv4, gfw.report's family:
    one connection, where a dual-stack curl would try both); port 80 draws none. In a
    dual-stack lab the same over IPv6 first: the rule names a port, not a family, and that
    connection is the lab's first IPv6 flow to the server (its SYN-ACK must still come up)."""
    sc = scenarios.load("cn/2025-08-port-443-rst")
    families = ["-6", "-4"] if sc.ipv6 else ["-4"]

    def resets(*curl: str):
        return lab.run("alice", [PY, "-m", "lab.clients.rst_ttl", "--detail", "--", *curl],
                       timeout=15)
    with Lab(sc) as lab:
        runs = [resets(*_curl("https://www.apple.com/"), family) for family in families]
        plain = resets(*_curl("http://www.apple.com/"))
    for family, r in zip(families, runs):
        assert r.returncode == 7, (family, r.stderr)
        wins = [int(w) for w in re.findall(
            r"^rst from \S+ ttl 62 flags RA seq \d+ win (\d+)$", r.stdout, re.M)]
        assert wins == [1980, 1981, 1982, 3293, 3294, 3295], (family, r.stdout)
        assert re.findall(r"seq (\d+) win 198\d", r.stdout) == ["0", "0", "0"]
        assert ("[" in r.stdout) == (family == "-6"), r.stdout     # the family's addresses
    assert plain.returncode == 0 and "rst from" not in plain.stdout, plain.stdout


def _hello(lab, host: str, sni: str) -> int:
    return lab.run("alice", [PY, "-m", "lab.clients.tls_hello", host, "--sni", sni,
                             "--timeout", "3"], timeout=15).returncode


def test_jio_blocks_a_name_only_toward_the_servers_it_watches():
    with Lab(scenarios.load("in/2023-jio-sni")) as lab:
        watched = _hello(lab, "www.google.com", "www.reddit.com")
        unwatched = _hello(lab, "google.co.in", "www.reddit.com")
        harmless = _hello(lab, "www.google.com", "www.google.com")
        events = [(e.get("censor"), e.get("rule"), e.get("flow", {}).get("dst"))
                  for e in lab.events() if e.get("rule")]
    assert (watched, unwatched, harmless) == (35, 0, 0)
    google_a = scenarios.load("in/2023-jio-sni").server_for("www.google.com").ip
    assert events == [("jio", "jio-sni", google_a)], events


SEED_5_DRAWS = "R.RR.RR..."        # random.Random("5:sni-blocklist"), draws < 0.5, in order


def test_whitelist_resets_half_of_the_blocked_names_in_the_same_order():
    with Lab(scenarios.load("ir/2026-whitelist")) as lab:
        seen = ""
        for _ in range(len(SEED_5_DRAWS)):
            code = lab.run("alice", _curl("https://www.instagram.com/"), timeout=15).returncode
            assert code in (0, 35, 56), f"curl exit {code}"
            seen += "." if code == 0 else "R"
        resets = sum(1 for e in lab.events() if e.get("rule") == "sni-blocklist")
    assert seen == SEED_5_DRAWS
    assert resets == SEED_5_DRAWS.count("R")


def test_a_bad_name_on_a_cloudflare_address_bans_the_address_for_a_while():
    """Over IPv4, the family of #561's report: the box holds the one address the bad name
    went to (in a dual-stack lab curl would reach the same server over the other family)."""
    def curl4(url: str, max_time: int = 3) -> int:
        return lab.run("carol", _curl(url, max_time) + ["-4"], timeout=15).returncode

    with Lab(scenarios.load("ir/2026-whitelist")) as lab:
        assert curl4("https://cdn-allowed.example.com/") == 0
        assert curl4("https://cdn-other.example.com/", 2) == 28
        # the whitelisted name on the same address is refused now: the ban, not the name
        assert curl4("https://cdn-allowed.example.com/", 2) == 28
        wait_until(lambda: curl4("https://cdn-allowed.example.com/", 2) == 0, 30,
                   "the 10 s ban to end")
        boxes = [e for e in lab.events() if e.get("technique") == "residual"]
    assert [(e["rule"], e["action"]) for e in boxes] == [("cf-bad-sni", "drop")]


def _received(out: str) -> int:
    m = re.search(r"(\d+) received", out)
    return int(m.group(1)) if m else -1


def test_iran_pings_cut_off_the_host_on_mci_and_a_split_hello_gets_its_server_hello():
    """bbs#489 on MCI: two pings answered, then nothing to that host, HTTP included; MTN's
    pings all answered; the ServerHello that never comes back comes for a split ClientHello
    (MahsaNG's fragment), since the box reads one segment at a time. The pings are IPv4's:
    IPv6 was off on every ISP (bbs#489; in a dual-stack lab the border drops it)."""
    ping = ["ping", "-4", "-n", "-c", "4", "-i", "0.3", "-W", "1", "vps.example.net"]
    sc = scenarios.load("ir/2025-post-shutdown")
    with Lab(sc) as lab:
        mci = lab.run("alice", ping, timeout=20)
        http_after = lab.run("alice", _curl("http://vps.example.net/", 2), timeout=15)
        mtn = lab.run("carol", ping, timeout=20)
        tci_http = lab.run("bob", _curl("http://vps.example.net/", 2), timeout=15)
        split = lab.run("bob", [PY, "-m", "lab.clients.tls_hello", "vps.example.net",
                                "--split", "20", "--timeout", "3"], timeout=15)
        v6 = lab.run("carol", _curl("http://vps.example.net/", 2) + ["-6"],
                     timeout=15) if sc.ipv6 else None
        events = lab.events()
    bans = [(e["censor"], e["rule"], e["action"]) for e in events if e.get("rule") == "icmp-ban"]
    assert _received(mci.stdout) == 2, mci.stdout
    assert http_after.returncode == 28, http_after.stderr
    assert _received(mtn.stdout) == 4, mtn.stdout
    assert tci_http.returncode == 0, tci_http.stderr           # Bob's ISP: no ban for him
    # (the whole hello's dropped ServerHello is one of the scenario's expect: rows)
    assert split.returncode == 0 and "handshake complete" in split.stdout, split
    assert bans == [("mci", "icmp-ban", "ban_after"), ("mci", "icmp-ban", "drop")], bans
    if sc.ipv6:         # dual stack (unless BLOCKLAB_IPV6=0): IPv6 off at the border, for all
        assert v6.returncode == 28, v6.stderr
        assert any(e.get("rule") == "ipv6-off" and e["censor"] == "national"
                   and e["flow"].get("family") == "ipv6" for e in events), events
