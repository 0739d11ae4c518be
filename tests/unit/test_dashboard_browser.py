"""The live page's browser routes (lab/teach/dashboard_browser.py) without a lab: the token, the
fixed host and URL forms, the screenshot names. (A real Chromium in a real lab, through the
page: tests/integration/test_dashboard.py.)"""
from __future__ import annotations

import json
import urllib.request
from types import SimpleNamespace

import pytest

from test_dashboard_access import call, page  # noqa: F401  (the served page, as a fixture)


def test_the_browser_routes_need_the_token(page):  # noqa: F811
    base, token, _ = page
    assert call(base + "/screenshots/browse-1-alice.png")[0] == 401
    assert call(base + "/api/browse", "POST", {"host": "alice", "url": "http://x/"})[0] == 401


@pytest.mark.parametrize("body, says", [
    ({"host": "mallory", "url": "https://x.example/"}, "choose one of the clients"),
    ({"host": "alice", "url": "file:///etc/shadow"}, "is not a URL"),
    ({"host": "alice", "url": "https://x/; rm -rf /"}, "is not a URL"),
    ({"host": "alice"}, "is not a URL"),
])
def test_a_browser_only_opens_a_web_url_from_a_client(page, body, says):  # noqa: F811
    base, token, _ = page                     # FakeLab.popen fails the test if anything runs
    code, text = call(f"{base}/api/browse", "POST", body, {"X-Blocklab-Token": token,
                                                            "Origin": base})
    assert code == 400 and says in json.loads(text)["error"], text


def test_only_screenshots_taken_here_are_served(page, tmp_path):  # noqa: F811
    base, token, lab = page
    lab.run_dir = SimpleNamespace(path=tmp_path)
    (tmp_path / "screenshots").mkdir()
    (tmp_path / "screenshots" / "browse-1-alice.png").write_bytes(b"\x89PNG\r\n\x1a\nxx")
    (tmp_path / "state.json").write_text("{}")
    url = f"{base}/screenshots/browse-1-alice.png?token={token}"
    with urllib.request.urlopen(url, timeout=30) as r:
        assert (r.status, r.headers["Content-Type"], r.read()[:4]) == (200, "image/png",
                                                                        b"\x89PNG")
    for name in ("browse-2-alice.png", "..%2Fstate.json", "state.json"):
        assert call(f"{base}/screenshots/{name}?token={token}")[0] == 404, name
