"""A real browser as a lab client: headless Chromium, what a person in the lab would see.

    python -m lab.clients.browser URL [--max-time S] [--screenshot PATH] [--quic] [--revisit]

opens URL in Debian's Chromium (headless, a fresh profile, no background networking) from the
host it runs in, driven over the DevTools pipe (lab/clients/cdp.py), and prints one JSON object:

    {"url": asked, "final_url": what the address bar shows, "error": "ERR_CONNECTION_RESET" or
     null, "status": the page's HTTP status or null, "protocol": "h2", "http/1.1", "h3" ...,
     "title": the tab's title, "text": the page's first words, "seconds": time to load,
     "timed_out": true when the page was still loading at --max-time, "screenshot": PATH,
     "startup_seconds": the browser's start; with --revisit, "first": the first visit's}

The error is the browser's own net error: the navigation's errorText, else the main document's
Network.loadingFailed, else the error page's own code (a chrome-error:// page's `.error-code`,
else its loadTimeData).
A page still loading at --max-time is reported as ERR_TIMED_OUT with timed_out true (the tab
would keep spinning; Chromium's own TLS timeout is minutes long). The browser trusts what the
NSS database in $HOME/.pki/nssdb trusts: in a lab host, HOME is the host's home in the run
directory, which trusts the run's CA unless the scenario says `trust_lab_ca: false`.

Exit code: 0 the page loaded (any HTTP status), 1 the browser showed an error, 2 bad usage or
no browser to run.

Why the DevTools pipe and not a driver: measured here (a lab host, load 12 on 2 cores, five
runs each, start to page), this client took 2.5 s, Selenium with Debian's chromedriver 3.0 s
and Playwright (with Debian's chromium) 3.6 s; all were reliable and saw the same net errors,
and this one needs nothing installed but Chromium and opens no port in the host.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

from lab.clients.cdp import Browser, CDPError, CDPTimeout

MAX_TIME = 8.0
WINDOW = (800, 600)
# Debian's chromium (a wrapper script that execs the browser) first, then other names.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-domain-reliability", "--disable-breakpad", "--disable-crash-reporter",
    "--no-pings", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
    "--mute-audio", "--no-proxy-server",
    "--disable-dev-shm-usage", "--hide-scrollbars",
    # Ask for exactly the URL given: no upgrade of http:// to https:// first (HTTPS-Upgrades),
    # no prediction or prefetch of other names.
    "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,OptimizationHints,"
    "Translate,MediaRouter,DialMediaRouteProvider,InterestFeedContentSuggestions",
    "--dns-prefetch-disable",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
]


# Chromium puts its singleton socket at $TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket,
# a Unix socket path (107 bytes at most); with a longer TMPDIR (pytest's tmp_path is one) it
# aborts at start ("Socket path too long"). Such a TMPDIR is replaced by /tmp.
TMPDIR_ROOM = 60


class UsageError(Exception):
    pass


def find_chromium() -> str:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise UsageError("no chromium to run (Debian: apt-get install chromium; `make setup` "
                     "installs it)")


def chromium_argv(profile: str, quic_host: str | None = None) -> list[str]:
    argv = [find_chromium(), *FLAGS, f"--user-data-dir={profile}"]
    if quic_host:
        argv += ["--enable-quic", f"--origin-to-force-quic-on={quic_host}:443"]
    return argv + ["about:blank"]


def _net_error(text: str | None) -> str | None:
    if not text:
        return None
    return text.split("::", 1)[-1].strip() or None


def _report(url: str) -> dict:
    return {"url": url, "final_url": None, "error": None, "status": None, "protocol": None,
            "title": None, "text": None, "seconds": None, "timed_out": False,
            "screenshot": None}


def start_tab(profile: str, env: dict, quic_host: str | None = None) -> tuple[Browser, str]:
    """A browser on `profile` and the session of one tab in it, ready to navigate."""
    browser = Browser(chromium_argv(profile, quic_host),
                      os.path.join(profile, "chromium.log"), env)
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride",        # the screenshot's size
                     {"width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1,
                      "mobile": False}, session=session)
    except BaseException:
        browser.close()
        raise
    return browser, session


def visit(url: str, max_time: float = MAX_TIME, screenshot: str | None = None,
          quic: bool = False, home: str | None = None, revisit: bool = False) -> dict:
    """Open `url` in a fresh headless Chromium; what the browser showed (module docstring).

    `quic`: force HTTP/3 to the URL's host (no TCP fallback). `revisit`: open it once, quit
    the browser as a person would (it saves what it learnt, e.g. Alt-Svc: HTTP/3 is on
    :443), start it again on the same profile and report the second visit (the first's
    protocol, error and time under "first"): a returning visitor, who tries QUIC and falls
    back to TCP when QUIC is blocked."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not a web URL: {url!r} (want http:// or https://)")
    home = home or os.environ.get("HOME") or tempfile.gettempdir()
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=home if os.path.isdir(home)
                               else None)
    env = dict(os.environ, HOME=home)
    if len(env.get("TMPDIR", "")) > TMPDIR_ROOM:
        env["TMPDIR"] = "/tmp"
    quic_host = parts.hostname if quic else None
    report = _report(url)
    browser = None
    try:
        if revisit:
            browser, session = start_tab(profile, env, quic_host)
            first = _report(url)
            _navigate(browser, session, url, max_time, first)
            report["first"] = {k: first[k] for k in ("error", "status", "protocol", "seconds")}
            try:                # a polite quit: the profile keeps what the browser learnt
                browser.call("Browser.close", deadline=time.monotonic() + 10)
                browser.proc.wait(timeout=10)
            except (CDPError, OSError, subprocess.TimeoutExpired):
                pass
            browser.close()
        started = time.monotonic()
        browser, session = start_tab(profile, env, quic_host)
        report["startup_seconds"] = round(time.monotonic() - started, 3)
        _navigate(browser, session, url, max_time, report)
        _describe(browser, session, report)
        if screenshot:
            shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session,
                                deadline=time.monotonic() + 10)
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            report["screenshot"] = os.path.abspath(screenshot)
    finally:
        if browser:
            browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    return report


def _navigate(browser: Browser, session: str, url: str, max_time: float, report: dict) -> None:
    """Navigate and wait for the load event (or the error page), at most `max_time`."""
    t0 = time.monotonic()
    deadline = t0 + max_time
    try:
        nav = browser.call("Page.navigate", {"url": url}, session=session, deadline=deadline)
    except CDPTimeout:
        nav = None
    if nav is None:
        report.update(error="ERR_TIMED_OUT", timed_out=True, seconds=round(max_time, 3))
        try:
            browser.call("Page.stopLoading", session=session, deadline=time.monotonic() + 5)
        except CDPError:
            pass
        return
    loader = nav.get("loaderId")
    report["error"] = _net_error(nav.get("errorText"))
    loaded = browser.wait_event(
        lambda ev: ev.get("sessionId") == session and ev["method"] == "Page.loadEventFired",
        deadline if not report["error"] else time.monotonic() + 3)
    report["seconds"] = round(time.monotonic() - t0, 3)
    if loaded is None and not report["error"]:
        report.update(error="ERR_TIMED_OUT", timed_out=True)
    doc = _main_document(browser.events, session, loader)
    if doc:
        response, failed = doc
        if response:
            report["status"] = response.get("status")
            report["protocol"] = response.get("protocol")
        if failed and not report["error"] and not failed.get("canceled"):
            report["error"] = _net_error(failed.get("errorText"))


def _main_document(events: list[dict], session: str, loader: str | None):
    """(response, loadingFailed params) of the navigation's main document request."""
    request = None
    response = failed = None
    for ev in events:
        if ev.get("sessionId") != session:
            continue
        p = ev.get("params", {})
        if ev["method"] == "Network.requestWillBeSent" and p.get("type") == "Document" \
                and (loader is None or p.get("loaderId") == loader):
            request = p.get("requestId")
        elif request and p.get("requestId") == request:
            if ev["method"] == "Network.responseReceived":
                response = p.get("response", {})
            elif ev["method"] == "Network.loadingFailed":
                failed = p
    return (response, failed) if request else None


_PAGE = """JSON.stringify({href: location.href, title: document.title,
  text: (document.body ? document.body.innerText : '').replace(/\\s+/g, ' ').trim().slice(0, 160),
  code: location.protocol !== 'chrome-error:' ? null
        : ((document.querySelector('.error-code') || {}).textContent || '').trim()
          || (() => { try { return loadTimeData.getValue('errorCode'); }
                      catch (e) { return null; } })()
})"""


def _describe(browser: Browser, session: str, report: dict) -> None:
    """The title, text and address the tab shows; the error page's own code as a fallback."""
    deadline = time.monotonic() + 5
    try:
        got = browser.call("Runtime.evaluate", {"expression": _PAGE, "returnByValue": True},
                           session=session, deadline=deadline)
        page = json.loads(got.get("result", {}).get("value") or "{}")
        history = browser.call("Page.getNavigationHistory", session=session, deadline=deadline)
    except CDPError:
        return
    entries = history.get("entries") or []
    current = entries[history.get("currentIndex", -1)] if entries else {}
    # A page still loading when it was stopped: the address bar still shows what was asked.
    report["final_url"] = report["url"] if report["timed_out"] else \
        current.get("url") or page.get("href")
    report["title"] = page.get("title")
    report["text"] = page.get("text")
    if not report["error"] and page.get("code"):
        report["error"] = _net_error(page["code"])


def summary(report: dict) -> str:
    """One line for a table: the error, or the page's title and status, and the time."""
    if report.get("error"):
        t = report.get("seconds")
        return report["error"] + (f" after {t:.1f}s" if t is not None else "")
    title = report.get("title") or report.get("final_url")
    return (f"'{title}' (HTTP {report.get('status')}"
            f"{', ' + report['protocol'] if report.get('protocol') else ''}) "
            f"in {report.get('seconds') or 0:.1f}s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lab.clients.browser",
                                 description="Open a URL in headless Chromium; print what it "
                                             "showed as one JSON object.")
    ap.add_argument("url")
    ap.add_argument("--max-time", type=float, default=MAX_TIME,
                    help=f"seconds the page may take to load (default {MAX_TIME:g})")
    ap.add_argument("--screenshot", metavar="PATH", help="save what the tab shows as a PNG")
    ap.add_argument("--quic", action="store_true",
                    help="force HTTP/3 (QUIC) to the URL's host, without Alt-Svc and without "
                         "falling back to TCP")
    ap.add_argument("--revisit", action="store_true",
                    help="open the URL, quit, start the browser again on the same profile and "
                         "report the second visit (what it learnt first, e.g. Alt-Svc, counts)")
    args = ap.parse_args(argv)
    if args.max_time <= 0:
        print("browser: --max-time must be positive", file=sys.stderr)
        return 2
    try:
        report = visit(args.url, args.max_time, args.screenshot, args.quic,
                       revisit=args.revisit)
    except UsageError as e:
        print(f"browser: {e}", file=sys.stderr)
        return 2
    except (CDPError, OSError) as e:
        print(f"browser: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report))
    return 1 if report["error"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
