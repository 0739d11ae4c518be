"""The browser step as a table: what Chromium showed -> OONI's failure and the browser's verdict
against the control; and its own outcome and score next to the detector's.

What a real Chromium shows in a lab, and that probe --browser reports it, is tested in
tests/integration/test_probe_browser.py.
"""
from __future__ import annotations

import json

import pytest

from lab.probe import failures
from lab.probe.browser_step import judge
from lab.probe.classify import Verdict
from lab.probe.score import Row, render_markdown, render_text, score
from lab.truth.events import Truth

from probe_samples import BLOCKPAGE, web

URL = "https://blocked.example.com/"
PAGE = {"error": None, "status": 200, "title": "blocklab server web", "seconds": 0.2}


def shown(error=None, **page) -> dict:
    base = dict(PAGE, **page) if error is None else {"error": error, "status": None,
                                                     "title": "", "seconds": 0.3}
    return {"url": URL, "final_url": URL, **base}


@pytest.mark.parametrize("error, failure, operation", [
    ("ERR_NAME_NOT_RESOLVED", "dns_nxdomain_error", "resolve"),
    ("ERR_CONNECTION_REFUSED", "connection_refused", "connect"),
    ("ERR_CONNECTION_TIMED_OUT", "generic_timeout_error", "connect"),
    ("ERR_CONNECTION_RESET", "connection_reset", None),
    ("ERR_TIMED_OUT", "generic_timeout_error", None),
    ("ERR_EMPTY_RESPONSE", "eof_error", None),
    ("ERR_CERT_AUTHORITY_INVALID", "ssl_unknown_authority", "tls_handshake"),
    ("ERR_CERT_COMMON_NAME_INVALID", "ssl_invalid_hostname", "tls_handshake"),
    ("ERR_CERT_DATE_INVALID", "ssl_invalid_certificate", "tls_handshake"),
    ("ERR_SSL_VERSION_OR_CIPHER_MISMATCH", "ssl_failed_handshake", "tls_handshake"),
    ("ERR_QUIC_PROTOCOL_ERROR", "generic_timeout_error", "quic_handshake"),
    ("net::ERR_CONNECTION_RESET", "connection_reset", None),
    ("ERR_UNSAFE_PORT", "unknown_failure: ERR_UNSAFE_PORT", None),
    (None, None, None),
])
def test_chromium_errors_become_oonis_failures(error, failure, operation):
    assert failures.of_browser(error) == (failure, operation)


@pytest.mark.parametrize("report, control, blocked, technique", [
    (shown("ERR_NAME_NOT_RESOLVED"), web(URL), True, "dns"),
    (shown("ERR_CONNECTION_REFUSED"), web(URL), True, "tcp_ip"),
    (shown("ERR_CONNECTION_RESET"), web(URL), True, "http-failure"),
    (shown("ERR_QUIC_PROTOCOL_ERROR"), web(URL), True, "http-failure"),
    (shown(status=403, title="Access denied"), web(URL), True, "http-diff"),    # block page
    (shown(title="warning"), web(URL), True, "http-diff"),         # a forged address's page
    (shown(), web(URL), False, None),
    (shown(status=403, title=""), web(URL, http=BLOCKPAGE), False, None),   # the site's own
    (shown("ERR_CONNECTION_RESET"), web(URL, http="connection_reset"), None, None),
    (shown("ERR_CONNECTION_RESET"), None, None, None),
    (dict(shown(), error="no browser report: chromium not found"), web(URL), None, None),
])
def test_the_browsers_verdict_against_the_control(report, control, blocked, technique):
    step, verdict = judge(report, control)
    assert (verdict.blocked, verdict.technique) == (blocked, technique), verdict
    assert step["blocking"] == (technique if blocked else (False if blocked is False else None))
    assert "ran" not in step


def test_a_browser_that_did_not_run_says_why():
    step, verdict = judge({"url": URL, "error": "no browser report: exit 2"}, web(URL))
    assert step["failure"] == "unknown_failure: no browser report: exit 2"
    assert verdict.why == "the browser did not run: no browser report: exit 2"


def test_the_browser_is_scored_next_to_the_detector():
    censored = Truth(True, ["sni"], ["sni-reset"], ["reset"])
    step, seen = judge(shown("ERR_CONNECTION_RESET"), web(URL))
    rows = [Row("alice", URL, Verdict(URL, True, "http-failure"), censored, browser=seen,
                browser_step=step),
            Row("alice", "https://open.example.org/", Verdict("o", False), Truth(False),
                browser=Verdict("o", True, "http-diff"), browser_step={"status": 403}),
            Row("alice", "tcp://x.example:22", Verdict("t", False), Truth(False))]
    sc = score(rows)
    assert [r.browser_outcome for r in sc.rows] == ["TP", "FP", ""]
    assert sc.browser == {"confusion": {"TP": 1, "FP": 1, "FN": 0, "TN": 0},
                          "precision": 0.5, "recall": 1.0}
    assert (sc.precision, sc.recall) == (1.0, 1.0)       # the detector's own, unchanged
    text = render_text(sc)
    head, _, first, second, third = text.splitlines()[:5]
    assert head.split()[-2:] == ["browser", "saw"]
    assert first.endswith("TP connection_reset") and second.endswith("FP HTTP 403 ''")
    assert third.endswith("-")
    assert "browser: precision 0.50 (1/2)   recall 1.00 (1/1)" in text
    assert "browser TP: reported blocked (http-failure): browser: ERR_CONNECTION_RESET" in text
    assert "| browser saw |" in render_markdown(sc)
    keys = sc.rows[0].blocklab_keys()["x_browser"]
    assert (keys["failure"], keys["outcome"], keys["verdict"]["technique"]) == \
        ("connection_reset", "TP", "http-failure")
    assert json.loads(json.dumps(sc.as_dict()))["browser"]["precision"] == 0.5


def test_without_a_browser_nothing_changes():
    censored = Truth(True, ["dns"], ["d"], ["nxdomain"])
    sc = score([Row("alice", URL, Verdict(URL, True, "dns"), censored)])
    assert sc.browser is None and "browser" not in sc.as_dict()
    assert "browser" not in render_text(sc) and "browser" not in render_markdown(sc)
    assert "x_browser" not in sc.rows[0].blocklab_keys()


def test_an_expectation_that_asks_for_a_browser_gets_one_in_probe(tmp_path):
    from lab import scenario as scenarios
    from lab.probe.runner import targets
    path = tmp_path / "s.yaml"
    path.write_text("""\
name: s
clients: [alice]
servers: [{name: b, domains: [b.example.com], serve: [https]}]
expect:
  - {from: alice, url: "https://b.example.com/", blocked: false, browser: true}
  - {from: alice, url: "https://b.example.com/x", blocked: false}
""")
    assert [t.browser for t in targets(scenarios.load(str(path)), ["https://b.example.com/"])] \
        == [True, False, False]
