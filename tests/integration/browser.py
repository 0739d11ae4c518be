"""A real headless browser for tests that drive a page as a person would: Debian's chromium over
the DevTools pipe (lab/clients/cdp.py, the lab's browser client's own driver: one driver, no
chromedriver).

Clicks are real mouse events at the element's centre, typing is real text input into the
focused element; what a test reads is what the page renders (innerText, properties).
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import time

from lab.clients.browser import UsageError, find_chromium, start_tab
from lab.clients.cdp import CDPError
from lab.run.wait import scaled, wait_until


def available() -> bool:
    try:
        return bool(find_chromium())
    except UsageError:
        return False


class Browser:
    """`with Browser() as b: b.get(url); b.click("#id"); b.text("#out")`."""

    def __init__(self, width: int = 1400, height: int = 1000):
        self.profile = tempfile.mkdtemp(prefix="blocklab-test-chromium-")
        try:
            self.cdp, self.session = start_tab(self.profile, dict(os.environ, HOME=self.profile))
            self._call("Emulation.setDeviceMetricsOverride",
                       {"width": width, "height": height, "deviceScaleFactor": 1,
                        "mobile": False})
        except BaseException:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise

    def _call(self, method: str, params: dict | None = None) -> dict:
        return self.cdp.call(method, params, session=self.session,
                             deadline=time.monotonic() + scaled(60))

    # --- what a test does ----------------------------------------------------------------
    def get(self, url: str) -> None:
        """Open `url` and wait for its load event."""
        self.cdp.events.clear()
        nav = self._call("Page.navigate", {"url": url})
        assert not nav.get("errorText"), f"{url}: {nav['errorText']}"
        loaded = self.cdp.wait_event(
            lambda ev: ev.get("sessionId") == self.session and
            ev["method"] == "Page.loadEventFired", time.monotonic() + scaled(60))
        assert loaded, f"{url} did not load"

    def script(self, body: str, *args):
        """Run `body` (a function body: `arguments[i]`, `return`) in the page; its value."""
        expression = f"(function() {{ {body} }}).apply(null, {json.dumps(list(args))})"
        got = self._call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                              "awaitPromise": True})
        if "exceptionDetails" in got:
            raise AssertionError(f"script failed: {got['exceptionDetails'].get('text')}: "
                                 f"{got.get('result', {}).get('description')}")
        return got.get("result", {}).get("value")

    def text(self, css: str) -> str:
        """The element's rendered text, read in one step (the page re-renders lists live)."""
        return self.script("const e = document.querySelector(arguments[0]);"
                           "return e ? e.innerText : '';", css)

    def prop(self, css: str, name: str):
        return self.script("const e = document.querySelector(arguments[0]);"
                           "return e ? e[arguments[1]] : null;", css, name)

    def find(self, css: str) -> "Element":
        wait_until(lambda: self.prop(css, "tagName"), 30, f"the element {css}")
        return Element(self, css)

    def click(self, css: str, timeout: float = 30) -> None:
        """A real click (mouse pressed and released) at the element's centre, once it is
        there, on top at that point, and still (the page lays itself out again as its data
        arrives: a click aimed before that would land elsewhere)."""
        seen = []

        def steady():
            here = self.script(
                "const e = document.querySelector(arguments[0]); if (!e) return null;"
                "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                "const x = r.x + r.width / 2, y = r.y + r.height / 2;"
                "const top = document.elementFromPoint(x, y);"
                "return r.width && r.height && top && e.contains(top) ? [x, y] : null;", css)
            seen.append(here)
            return here if here and len(seen) > 1 and seen[-2] == here else None
        where = wait_until(steady, timeout, f"a click on {css}", interval=0.05)
        for kind in ("mousePressed", "mouseReleased"):
            self._call("Input.dispatchMouseEvent", {"type": kind, "x": where[0], "y": where[1],
                                                    "button": "left", "clickCount": 1})

    def wait_text(self, css: str, predicate, timeout: float, what: str) -> str:
        return wait_until(lambda: (t := self.text(css)) and predicate(t) and t, timeout, what)

    def screenshot(self, path) -> None:
        shot = self._call("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.cdp.close()
        except (CDPError, OSError):
            pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Element:
    """An element by its selector (found again at each use: the page re-renders)."""

    def __init__(self, browser: Browser, css: str):
        self.b, self.css = browser, css

    def click(self) -> None:
        self.b.click(self.css)

    def clear(self) -> None:
        self.b.script("const e = document.querySelector(arguments[0]); e.focus(); e.select();",
                      self.css)
        self.b._call("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Backspace",
                                                "code": "Backspace",
                                                "windowsVirtualKeyCode": 8})
        self.b._call("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Backspace",
                                                "code": "Backspace",
                                                "windowsVirtualKeyCode": 8})

    def type(self, text: str) -> None:
        self.b.script("document.querySelector(arguments[0]).focus();", self.css)
        self.b._call("Input.insertText", {"text": text})
