"""A real browser in the lab sees what a person in the censored country sees.

Headless Chromium (lab/clients/browser.py) runs inside a lab host and reports its own net error
or the page it rendered; screenshots are checked by size, never pixels. Each scenario comes up
once and its browser checks run in parallel.
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab
from lab.truth.observe import browse

from helpers import blocklab

DROP_WAIT = 4       # seconds the browser waits for a page the censor drops


@dataclass
class Seen:
    url: str
    error: str | set[str] | None = None     # the browser's own net error (None: the page)
    title: str | None = None                 # the tab's title when the page rendered
    status: int | None = None
    max_time: float = 6
    options: tuple[str, ...] = ()


TABLE = {
    "basics/open": [Seen("https://www.example.com/", title="example", status=200)],
    "basics/reset": [Seen("https://blocked.example.com/", "ERR_CONNECTION_RESET"),
                     Seen("https://open.example.org/", title="open", status=200)],
    "basics/sni-drop": [Seen("https://blocked.example.com/",
                             {"ERR_TIMED_OUT", "ERR_CONNECTION_TIMED_OUT"}, max_time=DROP_WAIT)],
    "basics/dns-nxdomain": [Seen("https://blocked.example.com/", "ERR_NAME_NOT_RESOLVED")],
    # The forged address is a warning server: its page over HTTP, nothing on 443 for HTTPS.
    "basics/dns-forge": [Seen("http://blocked.example.com/", title="warning", status=200),
                         Seen("https://blocked.example.com/", "ERR_CONNECTION_REFUSED")],
    "basics/blockpage": [Seen("http://blocked.example.com/", title="Access denied",
                              status=403)],
    "basics/throttle": [Seen("https://rr1.video.example/", title="video", status=200)],
    # QUIC forced on (no Alt-Svc needed, no fallback): the blocked name fails, another loads
    # over HTTP/3.
    "basics/quic-sni": [Seen("https://quic.video.example/", "ERR_QUIC_PROTOCOL_ERROR",
                             options=("--quic",)),
                        Seen("https://open.example.org/", title="open", status=200,
                             options=("--quic",))],
}


def png_size(path: str) -> tuple[int, int]:
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def browser_processes(marker: str) -> list[str]:
    """Processes whose command line names `marker` (a run directory)."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if marker in line and "chromium" in line]


def open_all(lab, checks: list[tuple[str, Seen]], shots: Path) -> list[dict]:
    def one(i_check):
        i, (client, seen) = i_check
        return browse(lab, client, seen.url, str(shots / f"{i}.png"), seen.max_time,
                      seen.options)
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        return list(pool.map(one, enumerate(checks)))


@pytest.mark.parametrize("name", list(TABLE))
def test_browser_sees_what_a_user_sees(name, tmp_path):
    checks = [("alice", seen) for seen in TABLE[name]]
    with Lab(scenarios.load(name)) as lab:
        run_dir = str(lab.run_dir.path)
        reports = open_all(lab, checks, tmp_path)
        home = lab.home("alice")
        # Each browser ended with its client: no process of it left, its profile gone.
        assert browser_processes(str(home)) == []
        assert not [p.name for p in home.iterdir() if p.name.startswith("chromium-profile")]
        assert (home / ".pki" / "nssdb" / "cert9.db").is_file()
    for (_, seen), report in zip(checks, reports):
        where = f"{name} {seen.url}: {report}"
        if seen.error is None:
            assert report["error"] is None, where
            assert report["title"] == seen.title, where
            assert report["status"] == seen.status, where
        else:
            wanted = seen.error if isinstance(seen.error, set) else {seen.error}
            assert report["error"] in wanted, where
        if seen.max_time == DROP_WAIT:
            assert report["timed_out"] and report["seconds"] >= DROP_WAIT, where
        if "--quic" in seen.options and seen.error is None:
            assert report["protocol"] == "h3", where
        assert report["final_url"] == seen.url, where
        assert png_size(report["screenshot"]) == (800, 600), where
        assert os.path.getsize(report["screenshot"]) > 1000, where
    # The lab went down completely: no browser left, the homes and their NSS databases gone.
    assert browser_processes(run_dir) == []
    assert not os.path.exists(run_dir)


def test_a_returning_browser_tries_quic_and_falls_back_to_tcp(tmp_path):
    """The site announces HTTP/3 (Alt-Svc); on the second visit Chromium tries QUIC, which the
    censor drops, and the page comes over TCP."""
    with Lab(scenarios.load("basics/quic-sni")) as lab:
        [report] = open_all(lab, [("alice", Seen("https://quic.video.example/",
                                                 options=("--revisit",)))], tmp_path)
        lab.settle(3)
        dropped = [e for e in lab.events() if e["rule"] == "quic-drop"]
    assert report["first"]["protocol"] == "h2" and report["first"]["error"] is None, report
    assert (report["error"], report["protocol"], report["title"]) == (None, "h2", "video"), report
    assert dropped and dropped[0]["flow"]["proto"] == "udp", dropped


SCENARIO = """\
name: browser-trust
clients: [alice, {name: bob, trust_lab_ca: false}]
servers:
  - {name: blocked, domains: [blocked.example.com], serve: [https]}
  - {name: open, domains: [open.example.org], serve: [https]}
censor:
  rules:
    - {id: sni-reset, match: {sni: [blocked.example.com]}, action: reset}
expect:
  - {from: alice, url: "https://blocked.example.com/", blocked: true, browser: true}
  - {from: alice, url: "https://open.example.org/", blocked: false, browser: true}
  - {from: bob, url: "https://open.example.org/", blocked: false}
"""


def test_a_host_that_does_not_trust_the_lab_ca_sees_the_certificate_error(tmp_path):
    path = tmp_path / "trust.yaml"
    path.write_text(SCENARIO)
    checks = [("alice", Seen("https://open.example.org/")),
              ("bob", Seen("https://open.example.org/"))]
    with Lab(scenarios.load(str(path))) as lab:
        alice, bob = open_all(lab, checks, tmp_path)
        curl = lab.run("bob", ["curl", "-sS", "--max-time", "5", "https://open.example.org/"])
    assert alice["error"] is None and alice["title"] == "open", alice
    assert bob["error"] == "ERR_CERT_AUTHORITY_INVALID", bob
    assert curl.returncode == 60, curl.stderr


def test_run_table_shows_the_browser_next_to_curl(tmp_path):
    path = tmp_path / "trust.yaml"
    path.write_text(SCENARIO)
    r = blocklab("run", str(path), timeout=240)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "browser saw" in lines[0]
    blocked = next(line for line in lines if "alice" in line and "blocked.example" in line)
    assert "ERR_CONNECTION_RESET" in blocked and "reset by peer" in blocked
    opened = next(line for line in lines if "alice" in line and "open.example" in line)
    assert "'open' (HTTP 200" in opened
    bob = next(line for line in lines if line.startswith("bob"))
    assert "certificate" in bob


def test_run_with_browser_shows_it_in_the_table_and_the_report(tmp_path):
    r = blocklab("run", "basics/reset", "--browser", "--report", str(tmp_path), timeout=240)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "browser saw" in lines[0]
    blocked = next(line for line in lines if "blocked.example.com" in line)
    assert "ERR_CONNECTION_RESET" in blocked
    shots = sorted(p.name for p in tmp_path.glob("browser-*.png"))
    assert shots == ["browser-1-alice.png", "browser-2-alice.png"]
    assert png_size(str(tmp_path / shots[0])) == (800, 600)
    report = (tmp_path / "report.md").read_text()
    assert "## What the browser showed" in report and "(browser-1-alice.png)" in report
    assert "alice → https://blocked.example.com/: ERR_CONNECTION_RESET" in report



# scenario -> {target: (the browser's OONI failure or the page's status, its blocking)}
PROBED = {
    "basics/reset": {"https://blocked.example.com/": ("connection_reset", "http-failure"),
                     "https://open.example.org/": (200, False)},
    "basics/dns-nxdomain": {"https://blocked.example.com/": ("dns_nxdomain_error", "dns")},
    "basics/blockpage": {"http://blocked.example.com/": (403, "http-diff")},
}


@pytest.mark.parametrize("name", list(PROBED))
def test_probe_with_browser_reports_what_the_browser_saw_in_oonis_words(name, tmp_path):
    r = blocklab("probe", name, "--browser", "--json", "--report", str(tmp_path), timeout=240)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    score = lines[-1]["blocklab_score"]
    seen = {m["input"]: m["x_blocklab"]["x_browser"] for m in lines[:-1]}
    assert set(PROBED[name]) <= set(seen), seen
    for url, (what, blocking) in PROBED[name].items():
        b = seen[url]
        where = f"{name} {url}: {b}"
        if isinstance(what, int):
            assert (b["failure"], b["status"]) == (None, what), where
        else:
            assert b["failure"] == what, where
        assert b["blocking"] == blocking, where
        assert b["outcome"] == ("TP" if blocking else "TN"), where
        assert png_size(b["screenshot"]) == (800, 600), where
        assert Path(b["screenshot"]).parent == tmp_path, where
    assert score["browser"]["confusion"]["FP"] == score["browser"]["confusion"]["FN"] == 0
    table = (tmp_path / "score.txt").read_text()
    assert "browser saw" in table.splitlines()[1], table
    shots = (tmp_path / "score.md").read_text().split("### What the browser showed")[1]
    assert "(browser-1-alice.png)" in shots, shots
