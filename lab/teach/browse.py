"""`browse HOST URL [FILE.png]`: what a person's browser shows, for lessons, the shell and the
live page.

Opens URL in headless Chromium inside HOST (lab/truth/observe.py's browse(), which runs
lab/clients/browser.py there), keeps the tab's screenshot and says what the tab showed: the
browser's net error and its OONI failure (lab/probe/failures.py), or the page's title, status
and protocol, and the time. The screenshot goes to the console's file folder (a lesson's
`--out`, the shell's current folder) as `browse-HOST-NAME.png`, or to FILE.png. Exit code 0
when the page loaded (any HTTP status), 1 when the browser showed an error, 2 for bad usage,
as the browser client's own.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from lab.clients.browser import summary
from lab.probe.failures import of_browser
from lab.teach.console import Reply
from lab.truth.observe import browse

USAGE = "usage: browse HOST URL [FILE.png]   (e.g. browse alice https://blocked.example.com/)"


def screenshot_name(host: str, url: str) -> str:
    return f"browse-{host}-{urlsplit(url).hostname or 'page'}.png"


def open_page(lab, host: str, url: str, shot: Path) -> tuple[Reply, dict]:
    """(the reply, the browser client's report) for `url` opened in `host`; the screenshot
    is written to `shot`."""
    shot.parent.mkdir(parents=True, exist_ok=True)
    report = browse(lab, host, url, str(shot))
    error = report.get("error")
    lines = [f"{host}'s browser: {summary(report)}"]
    if error and str(error).startswith("ERR_"):
        failure, operation = of_browser(error)
        lines[0] += f"  (OONI: {failure}" + (f" in {operation}" if operation else "") + ")"
    if report.get("title") or report.get("final_url"):
        lines.append(f"  tab: '{report.get('title') or ''}', address bar "
                     f"{report.get('final_url') or url}")
    if report.get("screenshot"):
        lines.append(f"  screenshot: {report['screenshot']}")
    elif error and not str(error).startswith("ERR_"):
        return Reply(2, "\n".join(lines)), report
    return Reply(1 if error else 0, "\n".join(lines)), report


def browse_command(console, args: str) -> Reply:
    """The console's `browse HOST URL [FILE.png]`."""
    words = args.split()
    if len(words) not in (2, 3) or words[0] not in console.hosts() \
            or urlsplit(words[1]).scheme not in ("http", "https"):
        return Reply(2, USAGE)
    host, url = words[0], words[1]
    shot = Path(words[2]) if len(words) == 3 else Path(screenshot_name(host, url))
    if not shot.is_absolute():
        shot = console.plot_dir / shot
    return open_page(console.lab, host, url, shot)[0]
