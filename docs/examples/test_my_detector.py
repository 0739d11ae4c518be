"""Gate a censorship detector on blocklab: real censored networks as pytest fixtures.

Copy this file into your detector's tests and set DETECTOR to the command that runs your
detector on one URL (`{url}` is replaced, shell-quoted); it runs inside the lab's client host
and prints OONI JSONL or `{"url": ..., "blocked": true|false, "technique": ...}` lines.
Run it as root where blocklab is installed (its pytest plugin comes with it):

    sudo /path/to/blocklab/.venv/bin/python -m pytest --blocklab-strict test_my_detector.py

Without root or Open vSwitch these tests are skipped, or fail with --blocklab-strict.
"""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DETECTOR = os.environ.get("DETECTOR", f"{sys.executable} {HERE / 'curl_detector.py'} {{url}}")


def test_the_lab_and_its_ground_truth(blocklab_lab):
    lab = blocklab_lab("basics/dns-forge")             # up now, down when the test ends
    answer = lab.run("alice", "getent hosts blocked.example.com").stdout.split()
    assert answer[0] == "198.19.0.11"                  # the censor forged the address
    forged = [e for e in lab.events() if e["action"] == "forge"]
    assert forged and forged[0]["detail"]["dns"] == "blocked.example.com"


def test_the_reference_prober_reports_what_ooni_would(blocklab_lab):
    lab = blocklab_lab("basics/dns-forge")
    m = lab.probe("https://blocked.example.com/")      # one OONI measurement, scored
    assert m["test_name"] == "web_connectivity" and m["probe_cc"] == "ZZ"
    assert m["test_keys"]["dns_consistency"] == "inconsistent"
    assert m["test_keys"]["blocking"] == "dns"
    assert m["x_blocklab"]["outcome"] == "TP"


@pytest.mark.parametrize("scenario", ["basics/dns-forge", "basics/sni-drop", "basics/ip-reject",
                                      "basics/blockpage"])
def test_my_detector(blocklab_lab, scenario):
    lab = blocklab_lab(scenario)
    score = lab.detect(DETECTOR)                       # every expect: target, in order
    wrong = [f"{r.outcome} {r.url}: {r.reason}" for r in score.rows
             if r.outcome in ("FP", "FN")]
    assert score.gate(min_precision=1.0, min_recall=1.0) == [], "\n".join(wrong)
