"""A real headless browser for tests: Debian's chromium driven by Debian's chromedriver over
the W3C WebDriver protocol (JSON over HTTP, spoken here with urllib).

Not selenium: it brings trio into the venv, and the censor's eventlet then fails to import
(trio wraps socket.sendmsg, which eventlet's green socket lacks).
"""
from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import urllib.error
import urllib.request

from lab.run.wait import scaled, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def available() -> bool:
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """`with Browser() as b: b.get(url); b.click("#id"); b.text("#out")`."""

    def __init__(self, width: int = 1400, height: int = 1000):
        self.port = _free_port()
        self.driver = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        wait_until(self._ready, 30, "chromedriver to answer")
        caps = {"browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", f"--window-size={width},{height}"]}}
        reply = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        self.session = f"/session/{reply['sessionId']}"

    def _ready(self) -> bool:
        try:
            return self._call("GET", "/status")["ready"]
        except OSError:
            return False

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=scaled(120)) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            raise AssertionError(f"webdriver {method} {path}: {e.read()[:500]!r}") from None

    def cmd(self, method: str, path: str, body: dict | None = None):
        return self._call(method, self.session + path, body)

    # --- what a test does ----------------------------------------------------------------
    def get(self, url: str) -> None:
        self.cmd("POST", "/url", {"url": url})

    def find(self, css: str) -> "Element":
        return Element(self, self.cmd("POST", "/element", {"using": "css selector",
                                                           "value": css})[ELEMENT])

    def script(self, body: str, *args):
        return self.cmd("POST", "/execute/sync", {"script": body, "args": list(args)})

    def text(self, css: str) -> str:
        """The element's rendered text, read in one step (the page re-renders lists live,
        so an element found first may be gone by the time its text is asked for)."""
        return self.script("const e = document.querySelector(arguments[0]);"
                           "return e ? e.innerText : '';", css)

    def prop(self, css: str, name: str):
        return self.script("const e = document.querySelector(arguments[0]);"
                           "return e ? e[arguments[1]] : null;", css, name)

    def click(self, css: str, timeout: float = 30) -> None:
        """A real click on the element, found again if the page re-rendered it meanwhile."""
        def attempt():
            try:
                self.find(css).click()
                return True
            except AssertionError as e:
                if "stale element" in str(e) or "no such element" in str(e):
                    return False
                raise
        wait_until(attempt, timeout, f"a click on {css}")

    def wait_text(self, css: str, predicate, timeout: float, what: str) -> str:
        return wait_until(lambda: (t := self.text(css)) and predicate(t) and t, timeout, what)

    def screenshot(self, path) -> None:
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.cmd("GET", "/screenshot")))

    def close(self) -> None:
        try:
            self._call("DELETE", self.session)
        except (OSError, AssertionError, AttributeError):
            pass
        self.driver.terminate()
        try:
            self.driver.wait(timeout=scaled(10))
        except subprocess.TimeoutExpired:
            self.driver.kill()
            self.driver.wait()

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Element:
    def __init__(self, browser: Browser, ref: str):
        self.b, self.path = browser, f"/element/{ref}"

    def click(self) -> None:
        self.b.cmd("POST", self.path + "/click", {})

    def clear(self) -> None:
        self.b.cmd("POST", self.path + "/clear", {})

    def type(self, text: str) -> None:
        self.b.cmd("POST", self.path + "/value", {"text": text})
