"""The browser client's own parts that need no lab: its usage errors and its one-line summary.

What the browser shows in a lab is tested in tests/integration/test_browser.py.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from lab.clients.browser import summary
from lab.truth.observe import Observation, render_table


@pytest.mark.parametrize("args, message", [
    (["ftp://x.example/"], "browser: not a web URL: 'ftp://x.example/' (want http:// or https://)"),
    (["https://x.example/", "--max-time", "0"], "browser: --max-time must be positive"),
])
def test_bad_usage_is_one_line_and_starts_no_browser(args, message):
    r = subprocess.run([sys.executable, "-m", "lab.clients.browser", *args],
                       capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr.strip(), r.stdout) == (2, message, "")


def test_summary_says_the_error_or_the_page():
    assert summary({"error": "ERR_CONNECTION_RESET", "seconds": 0.156}) == \
        "ERR_CONNECTION_RESET after 0.2s"
    assert summary({"error": None, "title": "Access denied", "status": 403,
                    "protocol": "http/1.1", "seconds": 0.11}) == \
        "'Access denied' (HTTP 403, http/1.1) in 0.1s"


def test_the_run_table_has_a_browser_column_only_when_a_browser_was_used():
    curl_only = Observation("alice", "https://b.example/", True, "r: reset (sni)",
                            "curl: (35) reset", False)
    assert "browser saw" not in render_table([curl_only])
    shown = Observation("alice", "https://b.example/", True, "r: reset (sni)",
                        "curl: (35) reset", False,
                        browser={"error": "ERR_CONNECTION_RESET", "seconds": 0.3})
    head, _, row = render_table([shown, curl_only]).splitlines()[:3]
    assert "browser saw" in head and "ERR_CONNECTION_RESET after 0.3s" in row



@pytest.mark.parametrize("command", ["run", "probe"])
def test_browser_without_chromium_is_one_line_before_any_lab(command, monkeypatch, capsys):
    from lab import cli
    from lab.clients import browser
    monkeypatch.setattr(browser, "CANDIDATES", ("no-such-chromium-here",))
    assert cli.main([command, "basics/reset", "--browser"]) == 1
    err = capsys.readouterr().err
    assert err == "blocklab: --browser: no chromium to run (Debian: apt-get install chromium; " \
                  "`make setup` installs it)\n"
