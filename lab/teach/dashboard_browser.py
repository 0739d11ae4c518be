"""The live page's browser (`blocklab serve`): what a person's browser shows, screenshot and all.

Two routes, added to lab/teach/dashboard.py's application (under its token and origin guard):

    POST /api/browse           {"host": CLIENT, "url": URL}: open URL in headless Chromium in
                               CLIENT (lab/teach/browse.py, the console's `browse`); answers
                               {command, exit, output, error, title, status, screenshot: the
                               screenshot's path on this server}; 409 while one is running
    GET  /screenshots/NAME     a screenshot taken so (PNG)

Screenshots are kept in the run directory (`screenshots/`), so they go with the lab.
"""
from __future__ import annotations

import asyncio
import re
import threading

from aiohttp import web

from lab.teach.browse import open_page
from lab.teach.dashboard_commands import URL
from lab.teach.dashboard_http import BadRequest, error, json_body

SHOT_NAME = re.compile(r"^browse-\d+-[A-Za-z0-9_-]+\.png$")


class BrowserView:
    """The browser's routes over a lab.teach.dashboard.Dashboard."""

    def __init__(self, dashboard):
        self.dashboard = dashboard
        self.busy = threading.Lock()       # one browser at a time: each costs a second or two
        self.count = 0

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/browse", self.browse)
        app.router.add_get("/screenshots/{name}", self.screenshot)

    @property
    def folder(self):
        return self.dashboard.lab.run_dir.path / "screenshots"

    async def browse(self, request):
        body = await json_body(request)
        host, url = body.get("host"), body.get("url")
        clients = self.dashboard.console.clients()
        if host not in clients:
            raise BadRequest(f"host {host!r}: choose one of the clients: {', '.join(clients)}")
        if not isinstance(url, str) or not URL.match(url.strip()):
            raise BadRequest(f"{str(url)[:100]!r} is not a URL (http(s)://NAME/PATH)")
        if not self.busy.acquire(blocking=False):
            return error(409, "a browser is already running; wait for it to end")
        try:
            self.count += 1
            shot = self.folder / f"browse-{self.count}-{host}.png"
            reply, report = await asyncio.to_thread(open_page, self.dashboard.lab, host,
                                                    url.strip(), shot)
        finally:
            self.busy.release()
        return web.json_response({
            "command": f"browse {host} {url.strip()}", "exit": reply.code, "output": reply.text,
            "error": report.get("error"), "title": report.get("title"),
            "status": report.get("status"),
            "screenshot": f"/screenshots/{shot.name}" if shot.is_file() else None})

    async def screenshot(self, request):
        name = request.match_info["name"]
        path = self.folder / name
        if not SHOT_NAME.match(name) or not path.is_file():
            return error(404, "no such screenshot")
        return web.FileResponse(path, headers={"Content-Type": "image/png"})
