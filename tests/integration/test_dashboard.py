"""`blocklab serve`: the live page in a real headless browser (Debian's chromium), driven as a
teacher would: the rules render, a blocked fetch from the command box shows the reset and its
event, the browser box shows what a person's browser renders (its error and its screenshot), a
switch turns the rule off and the same fetch then loads. A plain HTTP client without
the token is refused; after SIGTERM the lab is gone.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import threading
from contextlib import contextmanager
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lab.run.wait import scaled, wait_until
from tests.integration import browser
from tests.integration.test_capture import tshark
from tests.integration.helpers import blocklab_popen

pytestmark = pytest.mark.skipif(not browser.available(),
                                reason="needs chromium (make setup)")
SHOTS = os.environ.get("BLOCKLAB_SCREENSHOTS")     # a folder: keep the screenshots there


def status(url: str, method: str = "GET", body: dict | None = None,
           headers: dict | None = None) -> int:
    req = urllib.request.Request(url, method=method, headers=headers or {},
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=scaled(30)) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def post(url: str, body: dict, headers: dict) -> str:
    req = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                 headers={**headers, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=scaled(30)) as r:
        return r.read().decode()


def go(b, target: str | None = None) -> None:
    """The page's command box: `target` typed in (when given), then Go."""
    if target is not None:
        box = b.find("#target")
        box.clear()
        box.type(target)
    b.click("#go")


def finished_output(b) -> str:
    """The command box's output once its command has finished (its exit code shown)."""
    return b.wait_text("#output", lambda t: "exit code" in t and "running" not in t, 60,
                       "curl's output")


def bridges() -> set[str]:
    return set(subprocess.run(["ovs-vsctl", "list-br"], capture_output=True,
                              text=True).stdout.split())


@contextmanager
def serving(scenario: str, tmp_path: Path):
    """`blocklab serve SCENARIO` in its own process: yields (URL with its token, base URL,
    token); then SIGTERM, and the lab must be gone: its bridges, its run directory, the
    server. The run directory is a short one under /tmp: a routed network's censors have
    their control sockets two folders down, and a socket's path has at most 107 bytes."""
    runs = Path(tempfile.mkdtemp(prefix="bl-runs-", dir="/tmp"))
    proc = blocklab_popen("serve", scenario, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, env={**os.environ, "BLOCKLAB_RUNS": str(runs),
                                                   "TMPDIR": str(tmp_path)})
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()
    try:
        url = wait_until(lambda: next((m.group(1) for line in lines if (m := re.search(
            r"dashboard: (http://127\.0\.0\.1:\d+/\?token=\S+)", line))), None)
            or (proc.poll() is not None and pytest.fail("".join(lines))), 120,
            "the dashboard's URL")
        run_id = wait_until(lambda: [p.name for p in runs.iterdir()], 10, "the run")[0]
        assert any(b.startswith(f"bl{run_id}") for b in bridges())
        yield url, url.split("/?")[0], url.split("token=")[1]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=scaled(120))
    text = "".join(lines)
    assert code == 0, text
    assert "lab torn down" in text and "Traceback" not in text, text
    assert not any(b.startswith(f"bl{run_id}") for b in bridges())
    assert not list(runs.iterdir()), "the run directory is still there"
    runs.rmdir()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=scaled(10))


def test_dashboard_in_a_browser(tmp_path):
    with serving("basics/reset", tmp_path) as (url, base, token):
        # a plain HTTP client: no token, a wrong one, a forged origin
        assert status(base + "/") == 401
        assert status(base + "/api/rules") == 401
        assert status(base + "/api/rules?token=nope") == 403
        toggle = f"{base}/api/rules/sni-reset"
        assert status(toggle, "POST", {"enabled": False},
                      {"X-Blocklab-Token": token, "Origin": "http://evil.example"}) == 403
        assert status(toggle, "POST", {"enabled": False}, {"X-Blocklab-Token": token}) == 403
        assert status(f"{base}/api/run", "POST", {"host": "alice", "tool": "sh",
                                                  "target": "x"},
                      {"X-Blocklab-Token": token, "Origin": base}) == 400

        with browser.Browser() as b:
            b.get(url)
            # the page as it comes in: the drawing and the rules (each moves what is below it)
            b.wait_text("#drawing", lambda t: "censor (inline)" in t, 30, "the drawing")
            row = b.wait_text("#rule-sni-reset", lambda t: "sni-reset" in t, 30, "the rules")
            assert "reset" in row and "sni: blocked.example.com" in row
            assert b.prop("#toggle-sni-reset", "checked") is True
            b.click("#capture")                   # tcpdump on every port, from here
            b.wait_text("#capture-state", lambda t: f"capturing into {tmp_path}" in t, 30,
                        "the capture")
            go(b, "https://blocked.example.com/")
            out = finished_output(b)
            assert "reset by peer" in out, out
            ev = b.wait_text("#events", lambda t: "sni-reset" in t, 30, "the reset's event")
            assert re.search(r"reset\s+sni-reset\s+sni\s+tcp alice:\d+ -> blocked:443", ev), ev
            b.wait_text("#rule-sni-reset", lambda t: re.search(r"sni-reset\s+1\b", t), 30,
                        "the hit count")
            # the browser box: alice's Chromium, the reset as she sees it, and its screenshot
            url_box = b.find("#browse-url")
            url_box.clear()
            url_box.type("https://blocked.example.com/")
            b.click("#browse-go")
            said = b.wait_text("#browse-said", lambda t: "alice's browser" in t, 90,
                               "what the browser showed")
            assert "ERR_CONNECTION_RESET" in said and "OONI: connection_reset" in said, said
            wait_until(lambda: b.prop("#browse-shot", "complete") and
                       b.prop("#browse-shot", "naturalWidth") == 800, 30, "the screenshot")
            assert b.prop("#browse-shot", "naturalHeight") == 600
            shot = b.prop("#browse-shot", "src")
            assert status(shot.split("?")[0]) == 401
            assert status(base + "/screenshots/..%2Fstate.json?token=" + token) == 404
            if SHOTS:
                b.screenshot(Path(SHOTS) / "dashboard.png")

            b.click("#capture")                   # stop: the files, as links
            b.wait_text("#captures", lambda t: "alice.pcap" in t, 60, "the capture files")
            link = b.prop("#captures a[download='alice.pcap']", "href")
            pcap = tmp_path / "alice.pcap"
            with urllib.request.urlopen(link, timeout=scaled(30)) as r:
                pcap.write_bytes(r.read())
            assert tshark(pcap, "tcp.flags.reset == 1 && tcp.srcport == 443", "ip.src")
            assert status(link.split("?")[0]) == 401

            b.click("#toggle-sni-reset")          # the switch: off
            b.wait_text("#output", lambda t: "disabled" in t, 30, "the rule turned off")
            assert b.prop("#toggle-sni-reset", "checked") is False
            go(b)
            out = finished_output(b)
            assert "blocklab server blocked" in out and "(exit code 0)" in out, out
            b.screenshot(tmp_path / "dashboard-after.png")

            # a sampled download: its throughput drawn as it comes, then its result
            b.script("document.getElementById('tool').value = 'download'")
            go(b, "https://open.example.org/")
            done = b.wait_text("#download-1", lambda t: "complete" in t, 60, "the download")
            assert "alice ← https://open.example.org/" in done and "kbit/s" in done


def test_several_censors_each_with_its_rules_switches_and_events(tmp_path):
    """A routed network with three censors: a table and a box in the drawing per censor;
    carol's reset is gfw's event and hit, marked on gfw's box only; gfw's switch lets carol
    through while tspu's rule stays on."""
    from tests.integration.test_capture import ROUTED
    scenario = tmp_path / "routed.yaml"
    scenario.write_text(ROUTED)
    with serving(str(scenario), tmp_path) as (url, base, token):
        auth = {"X-Blocklab-Token": token, "Origin": base}
        assert status(f"{base}/api/rules?censor=nope&token={token}") == 400
        assert status(f"{base}/api/rules/gfw-b", "POST", {"enabled": False, "censor": "nope"},
                      auth) == 400
        assert status(f"{base}/api/rules/gfw-b", "POST", {"enabled": False, "censor": "tspu"},
                      auth) == 404                     # tspu has no rule gfw-b
        said = json.loads(post(f"{base}/api/run", {"host": "carol", "tool": "explain",
                                                   "target": "https://b.example/"}, auth))
        # carol's traffic crosses gfw only (uni's uplink has no censor)
        assert said["output"].startswith("censor gfw (border):"), said
        assert "gfw-b" in said["output"] and "censor tspu" not in said["output"], said
        said = json.loads(post(f"{base}/api/run", {"host": "alice", "tool": "explain",
                                                   "target": "https://b.example/"}, auth))
        assert said["output"].index("censor tspu (home.uplink):") < \
            said["output"].index("censor gfw (border):"), said
        with browser.Browser() as b:
            b.get(url)
            row = b.wait_text("#rule-gfw-gfw-b", lambda t: "gfw-b" in t, 30, "gfw's rules")
            assert "sni: b.example" in row
            assert "tspu-a" in b.text("#rule-tspu-tspu-a")
            assert "mob-c" in b.text("#rule-mob-mob-c")
            assert "The 3 censors' rules" in b.text("#rules-title")
            assert "censor gfw at border" in b.text("#rules-box")
            boxes = b.script("return [...document.querySelectorAll('#drawing g.censor')]"
                             ".map(g => g.id + ': ' + g.textContent)")
            assert [x.split(": ")[0] for x in boxes] == \
                ["node-censor-tspu", "node-censor-mob", "node-censor-gfw"], boxes
            b.script("document.getElementById('host').value = 'carol'")
            go(b, "https://b.example/")
            out = finished_output(b)
            assert "reset by peer" in out, out
            ev = b.wait_text("#events", lambda t: "gfw-b" in t, 30, "the reset's event")
            assert re.search(r"gfw: reset\s+gfw-b\s+sni\s+tcp carol:\d+ -> b:443", ev), ev
            b.wait_text("#rule-gfw-gfw-b", lambda t: re.search(r"gfw-b\s+1\b", t), 30,
                        "gfw's hit count")
            assert re.search(r"tspu-a\s+0\b", b.text("#rule-tspu-tspu-a"))
            red = ("return [...document.querySelectorAll(arguments[0] + ' text')]"
                   ".filter(t => t.getAttribute('fill') === '#b71c1c')"
                   ".map(t => t.textContent).join('|')")
            wait_until(lambda: "gfw-b:" in b.script(red, "#node-censor-gfw"), 30,
                       "gfw-b marked in gfw's box")
            assert b.script(red, "#node-censor-tspu") == ""
            if SHOTS:
                b.screenshot(Path(SHOTS) / "dashboard-censors.png")

            b.click("#toggle-gfw-gfw-b")                # gfw's switch: off
            b.wait_text("#output", lambda t: "censor gfw: rule gfw-b disabled" in t, 30,
                        "gfw's rule turned off")
            assert b.prop("#toggle-gfw-gfw-b", "checked") is False
            assert b.prop("#toggle-tspu-tspu-a", "checked") is True
            go(b)
            out = finished_output(b)
            assert "(exit code 0)" in out, out
