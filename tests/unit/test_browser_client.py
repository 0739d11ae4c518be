"""The browser client's own parts that need no lab: its usage errors and its one-line summary.

What the browser shows in a lab is tested in tests/integration/test_browser.py.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from lab.clients.browser import summary


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
