"""`blocklab serve SCENARIO`: a live page over a running lab, on 127.0.0.1 only (aiohttp).

The page (lab/teach/dashboard.html, plain HTML and JS, no build step) shows the drawing
(lab/report/drawing.py), each censor's rules with live hit counts and on/off switches (on a
routed network, one table per censor, each marked on its own box in the drawing), every
censor's events as they happen (server-sent events, each naming its censor), and a box that
runs one of a fixed set of client commands from a chosen client (lab/teach/dashboard_commands.py).
Everything it says or does goes through lab/teach/console.py (`rules`, `enable`, `disable`,
event lines, host commands): the same words as the shell.

Access: the server listens on 127.0.0.1 only and prints `http://127.0.0.1:PORT/?token=…`.
Every request needs the token (query `token=` or header `X-Blocklab-Token`): without it 401,
with a wrong one 403. The Host header must name 127.0.0.1/localhost and this port (no DNS
rebinding). Requests that change something (POST) also need the header and an Origin that is
this page's own (403 otherwise). Bad requests get 400 and one line of JSON: {"error": ...}.

HTTP routes (all under the token):
    GET  /                     the page
    GET  /drawing.svg          the network drawn
    GET  /api/state            scenario, clients, the command set, the censors (name, place,
                               mode, ttl, their box in the drawing)
    GET  /api/rules[?censor=N] a censor's rules (default: the first): id, enabled, hits,
                               action, match
    POST /api/rules/RULE       {"enabled": true|false[, "censor": N]}: console `enable`/`disable`
    POST /api/run              the command box (lab/teach/dashboard_commands.py)
    GET  /api/downloads        its sampled downloads
    GET  /events               text/event-stream: one event per censor event, as it happens,
                               of every censor (`censor` names which)
    GET  /api/capture          what is being captured, and the files of the last capture
    POST /api/capture          {"on": true|false}: tcpdump on every switch port (console
                               `capture`) into the capture folder; off flushes the files
    GET  /captures/NAME        a file of the last capture (as a download, for Wireshark)
    POST /api/browse, GET /screenshots/NAME   a page opened in a client's headless Chromium,
                               and its screenshot (lab/teach/dashboard_browser.py)
"""
from __future__ import annotations

import asyncio
import json
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path

from aiohttp import web

from lab.report.drawing import draw
from lab.scenario.ruletext import action_text, match_text
from lab.teach.console import Console
from lab.teach.dashboard_browser import BrowserView
from lab.teach.dashboard_commands import TOOLS, CommandBox
from lab.teach.dashboard_http import BadRequest, error, json_body, new_lines, send

PAGE = Path(__file__).with_name("dashboard.html")
TOKEN_HEADER = "X-Blocklab-Token"


class Dashboard:
    """The web application over `lab` (a running lab.run.lab.Lab)."""

    def __init__(self, lab, token: str | None = None, captures: Path | None = None):
        self.lab = lab
        self.captures = captures                 # the folder the page's captures go to
        self.captured: dict[str, Path] = {}      # name -> file of the last capture
        self.console = Console(lab)
        self.consoles = {}                       # censor name -> a console addressing it
        for censor in lab.scenario.censors():
            self.consoles[censor.name] = Console(lab)
            self.consoles[censor.name].current = censor.name
        self.token = token or secrets.token_urlsafe(24)
        self.port = 0
        self.stopping = asyncio.Event()
        self._control = threading.Lock()     # one control-socket call at a time
        self.drawing = draw(lab.scenario)
        self.commands = CommandBox(lab, self.console, self._control, self.consoles)

    # --- access --------------------------------------------------------------------------
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self) -> str:
        return f"{self.origin()}/?token={self.token}"

    @web.middleware
    async def guard(self, request: web.Request, handler):
        hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        if request.host not in hosts:
            return error(403, f"Host {request.host!r} refused: use {self.origin()}")
        given = request.headers.get(TOKEN_HEADER) or request.query.get("token", "")
        if not given:
            return error(401, "this page needs its token: open the URL `blocklab serve` "
                               "printed")
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return error(403, "wrong token: open the URL `blocklab serve` printed")
        if request.method not in ("GET", "HEAD"):
            if request.headers.get("Origin") != self.origin() or \
                    TOKEN_HEADER not in request.headers:
                return error(403, "cross-origin request refused: changes come from this "
                                   "page only")
        try:
            return await handler(request)
        except BadRequest as e:
            return error(400, str(e))

    @staticmethod
    async def _headers(request, response) -> None:
        """On every response, before it is sent (streams included)."""
        response.headers.update({
            "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; "
                                       "style-src 'unsafe-inline'; frame-ancestors 'none'"})

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard], client_max_size=16_384)
        app.on_response_prepare.append(self._headers)
        app.router.add_get("/", self.page)
        app.router.add_get("/drawing.svg", self.svg)
        app.router.add_get("/api/state", self.state)
        app.router.add_get("/api/rules", self.rules)
        app.router.add_post("/api/rules/{rule}", self.toggle)
        app.router.add_post("/api/run", self.commands.run_command)
        app.router.add_get("/api/downloads", self.commands.list_downloads)
        app.router.add_get("/api/capture", self.capture_state)
        app.router.add_post("/api/capture", self.capture)
        app.router.add_get("/captures/{name}", self.capture_file)
        app.router.add_get("/events", self.events)
        BrowserView(self).add_routes(app)
        return app

    # --- handlers ------------------------------------------------------------------------
    async def page(self, request):
        return web.Response(text=PAGE.read_text(encoding="utf-8"), content_type="text/html")

    async def svg(self, request):
        return web.Response(text=self.drawing, content_type="image/svg+xml")

    async def state(self, request):
        sc = self.lab.scenario
        return web.json_response({
            "name": sc.name, "title": sc.title, "clients": self.console.clients(),
            "tools": {k: v[0] for k, v in TOOLS.items()},
            "examples": _examples(sc), "censors": self._censors()})

    def _censors(self) -> list[dict]:
        """Each censor: its name, place, mode, TTL and its box's id in the drawing."""
        routed = bool(self.lab.scenario.network)
        return [{"name": c.name, "at": c.at or "", "mode": c.mode, "ttl": c.ttl,
                 "node": f"censor-{c.name}" if routed else "censor"}
                for c in self.lab.scenario.censors()]

    def _console_of(self, censor) -> Console:
        """The console addressing the censor named (None: the first)."""
        if censor is None:
            return self.console
        if censor not in self.consoles:
            raise BadRequest(f"censor {str(censor)[:60]!r}: choose one of "
                             f"{', '.join(self.consoles) or '(none: this lab has no censor)'}")
        return self.consoles[censor]

    def _rules(self, censor: str | None = None) -> list[dict]:
        console = self._console_of(censor)
        with self._control:
            rules = console._rules()
        return [{"id": r["id"], "enabled": bool(r["enabled"]), "hits": r.get("hits", 0),
                 "action": action_text(r["action"]), "match": match_text(r["match"])}
                for r in rules]

    async def rules(self, request):
        censor = self._console_of(request.query.get("censor")).current
        return web.json_response(await asyncio.to_thread(self._rules, censor))

    async def toggle(self, request):
        body = await json_body(request)
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise BadRequest('want {"enabled": true} or {"enabled": false}')
        rule = request.match_info["rule"]
        console = self._console_of(body.get("censor"))

        def call():
            with self._control:
                return (console.enable if enabled else console.disable)(rule)
        reply = await asyncio.to_thread(call)
        if not reply.ok:
            return error(404 if reply.code == 1 else 400, reply.text)
        return web.json_response({"ok": True, "text": reply.text})

    def _capture_state(self) -> dict:
        running = self.lab.capture
        return {"on": bool(running),
                "folder": str(running.folder if running else self.captures or ""),
                "files": [{"name": name, "size": path.stat().st_size}
                          for name, path in self.captured.items() if path.exists()]}

    async def capture_state(self, request):
        return web.json_response(self._capture_state())

    async def capture(self, request):
        body = await json_body(request)
        on = body.get("on")
        if not isinstance(on, bool):
            raise BadRequest('want {"on": true} or {"on": false}')
        if on and self.captures is None:
            import tempfile
            self.captures = Path(tempfile.mkdtemp(prefix="blocklab-captures-"))
        command = str(self.captures) if on else "stop"
        def call():
            with self._control:
                return self.console.capture(command)
        reply = await asyncio.to_thread(call)
        if not on and reply.ok:
            files = self.lab.capture_files() or []
            self.captured = {p.name: p for p, _ in files}
        if not reply.ok:
            return error(409, reply.text)
        return web.json_response({**self._capture_state(), "text": reply.text})

    async def capture_file(self, request):
        path = self.captured.get(request.match_info["name"])
        if path is None or not path.exists():
            return error(404, "no such capture file (stop the capture first)")
        return web.FileResponse(path, headers={
            "Content-Type": "application/vnd.tcpdump.pcap",
            "Content-Disposition": f'attachment; filename="{path.name}"'})

    async def events(self, request):
        """Server-sent events: each event of every censor (from the first) as a JSON object
        with the console's line for it; a comment every 15 s keeps the connection open."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        offsets = {proc.events_path: 0 for proc in self.lab.censors.values()}
        idle = 0.0
        while not self.stopping.is_set():
            if request.transport is None or request.transport.is_closing():
                return response                      # the page went away
            lines = []
            for path, offset in offsets.items():
                new, offsets[path] = new_lines(path, offset)
                lines += new
            for line in lines:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                data = {"t": ev.get("t"), "rule": ev.get("rule"), "action": ev.get("action"),
                        "censor": ev.get("censor"), "line": self.console.event_line(ev)}
                if not await send(response, f"data: {json.dumps(data)}\n\n"):
                    return response
            idle = 0.0 if lines else idle + 0.25
            if idle >= 15:
                if not await send(response, ": still here\n\n"):
                    return response
                idle = 0.0
            try:       # the next look at the file, or the server stopping, whichever first
                await asyncio.wait_for(self.stopping.wait(), 0.25)
            except asyncio.TimeoutError:
                pass
        try:
            await response.write_eof()               # here, where a closed page is no error
        except (ConnectionError, RuntimeError):
            pass
        return response


def _examples(sc) -> list[str]:
    """Targets worth trying: the expectations' URLs, then a URL for each server's names."""
    out = [e.target for e in sc.expect if "://" in e.target]
    for server in sc.servers:
        for name in server.domains:
            if "*" not in name:
                out.append(f"https://{name}/" if "https" in server.serve else f"http://{name}/")
    return list(dict.fromkeys(out))[:20]


def serve(lab, sock: socket.socket, say=lambda s: print(s, file=sys.stderr, flush=True),
          captures: Path | None = None):
    """Serve the page until SIGINT or SIGTERM; returns when the server is closed (the
    caller then tears the lab down). The page's captures go to `captures` (default: a new
    folder under /tmp, made when the first one starts)."""
    dashboard = Dashboard(lab, captures=captures)
    dashboard.port = sock.getsockname()[1]

    async def main():
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, dashboard.stopping.set)
        runner = web.AppRunner(dashboard.app(), shutdown_timeout=2, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        say(f"dashboard: {dashboard.url()}")
        say("(Ctrl-C stops the server and tears the lab down)")
        await dashboard.stopping.wait()
        await runner.cleanup()

    asyncio.run(main())
