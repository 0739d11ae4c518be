"""`blocklab probe` and the pytest plugin against real labs.

- the built-in prober is exact (precision and recall 1.0) on every bundled scenario;
- for each basic technique, the failure string and `blocking` are OONI's for that symptom;
- a naive detector gets exactly the false negatives it deserves on forged DNS, and the gate
  fails it;
- the plugin (as docs/examples/test_my_detector.py uses it) works and always tears down.
Each test brings up its own lab(s); they run two at a time under xdist.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from helpers import REPO, blocklab as blocklab_cli
from lab import scenario as scenarios

BUNDLED = [name for name, _ in scenarios.bundled()]
NAIVE = REPO / "docs" / "examples" / "naive_detector.py"
EXAMPLE = REPO / "docs" / "examples" / "test_my_detector.py"


def probe(*args: str, timeout: float = 400):
    """Run `blocklab probe ... --json`: (process, measurement lines, score)."""
    r = blocklab_cli("probe", *args, "--json", timeout=timeout)
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    score = lines[-1].get("blocklab_score") if lines else None
    return r, lines[:-1], score


def wrong(measurements) -> str:
    return "\n".join(f"{m['x_blocklab']['outcome']} {m['x_blocklab']['client']} "
                     f"{m['input']}: {m['x_blocklab']['reason']}" for m in measurements
                     if m["x_blocklab"]["outcome"] in ("FP", "FN"))


@pytest.mark.parametrize("name", BUNDLED)
def test_builtin_prober_is_exact_on_every_bundled_scenario(name):
    r, measurements, score = probe(name, "--min-precision", "1", "--min-recall", "1")
    assert score is not None, r.stderr
    assert r.returncode == 0, r.stderr + "\n" + wrong(measurements)
    assert score["confusion"]["FP"] == 0 and score["confusion"]["FN"] == 0
    assert score["precision"] in (1.0, None) and score["recall"] in (1.0, None)
    sc = scenarios.load(name)
    if sc.expect:
        assert [m["input"] for m in measurements] == [e.target for e in sc.expect]
    for m in measurements:
        assert m["test_name"] == "web_connectivity" and m["probe_cc"] == "ZZ"
        for key in ("queries", "tcp_connect", "tls_handshakes", "requests", "dns_consistency",
                    "blocking", "accessible"):
            assert key in m["test_keys"], key


# scenario, target, where the failure shows, OONI failure string, OONI blocking
OONI = [
    ("basics/ip-drop", "https://hosting.example.net/", "tcp_connect",
     "generic_timeout_error", "tcp_ip"),
    ("basics/ip-reject", "https://blocked.example.com/", "tcp_connect",
     "connection_refused", "tcp_ip"),
    ("basics/sni-drop", "https://blocked.example.com/", "tls_handshakes",
     "generic_timeout_error", "http-failure"),
    ("basics/reset", "https://blocked.example.com/", "tls_handshakes",
     "connection_reset", "http-failure"),
    ("basics/dns-nxdomain", "https://blocked.example.com/", "queries",
     "dns_nxdomain_error", "dns"),
    ("basics/dns-forge", "https://blocked.example.com/", None, None, "dns"),
    ("basics/blockpage", "http://blocked.example.com/", None, None, "http-diff"),
    # alice installed the national CA; the prober, as OONI Probe, trusts its own bundle only
    ("kz/2024-mitm", "https://rutracker.org/", "tls_handshakes", "ssl_unknown_authority",
     "http-failure"),
]


def _failure(tk: dict, where: str) -> str | None:
    entry = tk[where][0]
    return entry["status"]["failure"] if where == "tcp_connect" else entry["failure"]


@pytest.mark.parametrize("name,url,where,failure,blocking", OONI, ids=[o[0] for o in OONI])
def test_each_technique_reads_as_ooni_reports_it(blocklab, name, url, where, failure,
                                                 blocking):
    lab = blocklab.up(name)
    m = lab.probe(url)
    tk = m["test_keys"]
    assert tk["blocking"] == blocking and tk["accessible"] is False
    if where:
        assert _failure(tk, where) == failure
    if blocking in ("tcp_ip", "http-failure"):
        assert tk["dns_consistency"] == "consistent"
        assert tk["requests"][0]["failure"] == failure       # what the HTTP request saw
    if name == "basics/dns-forge":
        assert tk["dns_consistency"] == "inconsistent"
        assert tk["queries"][0]["answers"][0]["ipv4"] == "198.19.0.11"
    if blocking == "http-diff":
        assert tk["requests"][0]["response"]["code"] == 403 and tk["status_code_match"] is False
    assert m["x_blocklab"]["outcome"] == "TP", m["x_blocklab"]["reason"]


FORGED = [n for n in ("basics/dns-forge", "cn/gfw-dns-inject") if n in BUNDLED]


@pytest.mark.parametrize("name", FORGED)
def test_a_naive_detector_gets_the_false_negatives_it_deserves(name):
    sc = scenarios.load(name)
    r, measurements, score = probe(name, "--detector", f"{sys.executable} {NAIVE} {{url}}",
                                   "--min-recall", "0.9")
    assert score is not None, r.stderr
    forged = {(e.client, e.target) for e in sc.expect if e.blocked and e.technique == "dns"}
    missed = {(m["x_blocklab"]["client"], m["input"]) for m in measurements
              if m["x_blocklab"]["outcome"] == "FN"}
    assert forged and missed == forged
    assert score["confusion"] == {"TP": 0, "FP": 0, "FN": len(forged),
                                  "TN": len(sc.expect) - len(forged)}
    assert score["recall"] == 0.0 and score["precision"] is None
    assert r.returncode == 1
    assert "blocklab: gate failed: recall 0.00 is below --min-recall 0.9" in r.stderr


def test_reports_text_markdown_and_files(tmp_path):
    report = tmp_path / "report"
    r = blocklab_cli("probe", "basics/dns-nxdomain", "--markdown", "--report", str(report),
                     "--url", "open.example.org", timeout=200)
    assert r.returncode == 0, r.stderr
    assert "| **reported blocked** | TP 1 | FP 0 |" in r.stdout
    assert "**precision** 1.00 · **recall** 1.00" in r.stdout
    lines = (report / "measurements.jsonl").read_text().splitlines()
    assert [json.loads(x)["input"] for x in lines] == \
        ["https://blocked.example.com/", "https://open.example.org/", "open.example.org"]
    assert json.loads((report / "score.json").read_text())["confusion"]["TN"] == 2
    assert "confusion matrix" in (report / "score.txt").read_text()
    events = [json.loads(x) for x in (report / "events.jsonl").read_text().splitlines()]
    assert any(e["action"] == "nxdomain" for e in events)


def test_the_documented_example_passes_with_the_plugin():
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "--blocklab-strict", str(EXAMPLE)], cwd=REPO, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


def test_the_plugin_tears_down_a_failing_test(tmp_path):
    (tmp_path / "test_fails.py").write_text(textwrap.dedent("""
        def test_fails_with_two_labs_up(blocklab, blocklab_lab):
            one = blocklab.up("basics/open")
            two = blocklab_lab("basics/dns-nxdomain")
            print("RUNDIRS", one.lab.run_dir.path, two.lab.run_dir.path)
            assert one.run("alice", "true").returncode == 0
            assert False, "on purpose"
        """))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-rA", "--blocklab-strict", str(tmp_path / "test_fails.py")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "on purpose" in r.stdout
    line = next(x for x in r.stdout.splitlines() if x.startswith("RUNDIRS"))
    for path in line.split()[1:]:
        assert not os.path.exists(path), f"{path} left behind"
