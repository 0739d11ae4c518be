"""The live page's door (lab/teach/dashboard.py), over real HTTP on 127.0.0.1 without a lab:
what a browser or a script gets back without the token, with a wrong one, from another origin,
with a bad request. (The page in a real browser over a real lab: tests/integration.)"""
from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
from aiohttp import web

from lab import scenario as scenarios
from lab.teach.dashboard import Dashboard
from lab.teach.dashboard_http import listen


class FakeLab:
    """A scenario and a censor that answers `rules`/`enable`/`disable`; no network."""

    def __init__(self):
        self.scenario = scenarios.load("basics/reset")
        self.censor = None
        self.capture = None
        self.enabled = True

    def control(self, command, censor=None):
        if command["cmd"] == "rules":
            return {"ok": True, "rules": [{"id": "sni-reset", "enabled": self.enabled,
                                           "hits": 3, "action": {"type": "reset"},
                                           "match": {"sni": ["blocked.example.com"]}}]}
        if command["cmd"] == "status":
            return {"ok": True, "penalty": [], "stats": {}}
        if command.get("rule") != "sni-reset":
            return {"ok": False, "error": f"no rule {command.get('rule')!r}"}
        self.enabled = command["cmd"] == "enable"
        return {"ok": True}

    def popen(self, *a, **kw):
        raise AssertionError("no command may run for a refused request")


@pytest.fixture
def page():
    """(base URL, token, the fake lab) of a dashboard served in a thread."""
    import threading
    lab = FakeLab()
    sock = listen(0)
    dash = Dashboard(lab, token="s3cret-token")
    dash.port = sock.getsockname()[1]
    ready, loop_box = threading.Event(), {}

    def serve():
        async def main():
            loop_box["loop"] = asyncio.get_running_loop()
            runner = web.AppRunner(dash.app(), shutdown_timeout=1)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            ready.set()
            await dash.stopping.wait()
            await runner.cleanup()
        asyncio.run(main())
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    assert ready.wait(30)
    yield f"http://127.0.0.1:{dash.port}", dash.token, lab
    loop_box["loop"].call_soon_threadsafe(dash.stopping.set)
    t.join(30)


def call(url, method="GET", body=None, headers=None):
    data = body if isinstance(body, bytes) else (
        json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_every_path_needs_the_token(page):
    base, token, _ = page
    for path in ("/", "/drawing.svg", "/api/state", "/api/rules", "/api/capture",
                 "/api/downloads", "/captures/alice.pcap", "/events", "/nope"):
        code, text = call(base + path)
        assert code == 401 and "needs its token" in json.loads(text)["error"], path
        assert call(f"{base}{path}?token=wrong")[0] == 403, path
    code, text = call(f"{base}/?token={token}")
    assert code == 200 and "<title>blocklab dashboard</title>" in text
    code, text = call(f"{base}/api/rules", headers={"X-Blocklab-Token": token})
    assert code == 200 and json.loads(text)[0] == {
        "id": "sni-reset", "enabled": True, "hits": 3, "action": "reset",
        "match": "sni: blocked.example.com"}
    assert call(f"{base}/nope?token={token}")[0] == 404
    assert call(f"{base}/captures/..%2f..%2fetc%2fshadow?token={token}")[0] == 404


def test_a_foreign_host_header_is_refused(page):
    base, token, _ = page
    code, text = call(f"{base}/?token={token}", headers={"Host": "evil.example:80"})
    assert code == 403 and "Host" in json.loads(text)["error"]


def test_changes_need_the_header_and_the_pages_origin(page):
    base, token, lab = page
    url = f"{base}/api/rules/sni-reset"
    mine = {"X-Blocklab-Token": token, "Origin": base, "Content-Type": "application/json"}
    assert call(url, "POST", {"enabled": False}, {**mine, "Origin": "http://evil.example"})[0] \
        == 403
    assert call(url, "POST", {"enabled": False}, {"X-Blocklab-Token": token})[0] == 403
    assert call(f"{url}?token={token}", "POST", {"enabled": False}, {"Origin": base})[0] == 403
    assert lab.enabled                                   # none of those changed anything
    code, text = call(url, "POST", {"enabled": False}, mine)
    assert code == 200 and "disabled" in json.loads(text)["text"] and not lab.enabled
    assert call(f"{base}/api/rules/nope", "POST", {"enabled": True}, mine)[0] == 404


@pytest.mark.parametrize("body, says", [
    (b"{not json", "not JSON"),
    ([1, 2], "a JSON object"),
    ({"enabled": "yes"}, '{"enabled": true}'),
])
def test_bad_toggle_bodies_are_400(page, body, says):
    base, token, _ = page
    code, text = call(f"{base}/api/rules/sni-reset", "POST", body,
                      {"X-Blocklab-Token": token, "Origin": base})
    assert code == 400 and says in json.loads(text)["error"]


@pytest.mark.parametrize("body, says", [
    ({"host": "mallory", "tool": "curl", "target": "http://x/"}, "choose one of the clients"),
    ({"host": "blocked", "tool": "curl", "target": "http://x/"}, "choose one of the clients"),
    ({"host": "alice", "tool": "bash", "target": "id"}, "choose one of curl, dig, probe"),
    ({"host": "alice", "tool": "curl", "target": ""}, "curl needs a URL"),
    ({"host": "alice", "tool": "curl", "target": "https://x/; rm -rf /"}, "is not a URL"),
    ({"host": "alice", "tool": "curl", "target": "file:///etc/shadow"}, "is not a URL"),
    ({"host": "alice", "tool": "dig", "target": "$(id)"}, "is not a name"),
    ({"host": "alice", "tool": "dig", "target": "-x 1.2.3.4"}, "is not a name"),
])
def test_commands_outside_the_fixed_set_are_400(page, body, says):
    base, token, _ = page
    code, text = call(f"{base}/api/run", "POST", body, {"X-Blocklab-Token": token,
                                                         "Origin": base})
    assert code == 400 and says in json.loads(text)["error"], text


def test_explain_answers_without_traffic(page):
    base, token, _ = page                     # FakeLab.popen fails the test if anything runs
    code, text = call(f"{base}/api/run", "POST", {"host": "alice", "tool": "explain",
                                                  "target": "https://blocked.example.com/"},
                      {"X-Blocklab-Token": token, "Origin": base})
    reply = json.loads(text)
    assert code == 200 and reply["exit"] == 0, reply
    assert "sni-reset" in reply["output"] and "reset" in reply["output"]


def test_a_censor_is_named_or_refused(page):
    base, token, lab = page
    status, body = call(f"{base}/api/rules?censor=nope&token={token}")
    assert status == 400 and "censor 'nope': choose one of censor" in body, body
    status, body = call(f"{base}/api/rules?censor=censor&token={token}")
    assert status == 200 and json.loads(body)[0]["id"] == "sni-reset"
    auth = {"X-Blocklab-Token": token, "Origin": base}
    assert call(f"{base}/api/rules/sni-reset", "POST", {"enabled": False, "censor": "nope"},
                auth)[0] == 400 and lab.enabled
    assert call(f"{base}/api/rules/sni-reset", "POST", {"enabled": False, "censor": "censor"},
                auth)[0] == 200 and not lab.enabled
    status, body = call(f"{base}/api/state?token={token}")
    assert json.loads(body)["censors"] == [{"name": "censor", "at": "", "mode": "inline",
                                            "ttl": 64, "node": "censor"}]
