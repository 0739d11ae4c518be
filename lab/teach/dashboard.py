"""`blocklab serve SCENARIO`: a live page over a running lab, on 127.0.0.1 only (aiohttp).

The page (lab/teach/dashboard.html, plain HTML and JS, no build step) shows the drawing
(lab/report/drawing.py), the rules with live hit counts and on/off switches, the censor's
events as they happen (server-sent events), and a box that runs one of a fixed set of client
commands from a chosen client. Everything it says or does goes through lab/teach/console.py
(`rules`, `enable`, `disable`, event lines, host commands): the same words as the shell.

Access: the server listens on 127.0.0.1 only and prints `http://127.0.0.1:PORT/?token=…`.
Every request needs the token (query `token=` or header `X-Blocklab-Token`): without it 401,
with a wrong one 403. The Host header must name 127.0.0.1/localhost and this port (no DNS
rebinding). Requests that change something (POST) also need the header and an Origin that is
this page's own (403 otherwise). Bad requests get 400 and one line of JSON: {"error": ...}.

HTTP routes (all under the token):
    GET  /                     the page
    GET  /drawing.svg          the network drawn
    GET  /api/state            scenario, clients, the command set
    GET  /api/rules            the censor's rules: id, enabled, hits, action, match
    POST /api/rules/RULE       {"enabled": true|false}: console `enable`/`disable`
    POST /api/run              {"host": CLIENT, "tool": curl|dig|probe|download|explain,
                                "target": URL or name}
    GET  /api/downloads        the sampled downloads (tool `download`): [[t, bytes], ...] so far
    GET  /events               text/event-stream: one event per censor event, as it happens
    GET  /api/capture          what is being captured, and the files of the last capture
    POST /api/capture          {"on": true|false}: tcpdump on every switch port (console
                               `capture`) into the capture folder; off flushes the files
    GET  /captures/NAME        a file of the last capture (as a download, for Wireshark)
"""
from __future__ import annotations

import asyncio
import json
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from aiohttp import web

from lab.report.drawing import draw
from lab.scenario.ruletext import action_text, match_text
from lab.teach.console import Console

PAGE = Path(__file__).with_name("dashboard.html")
TOKEN_HEADER = "X-Blocklab-Token"
OUTPUT_CAP = 16_000          # characters of a command's output sent to the page
COMMAND_TIMEOUT = 30         # seconds a command from the page may take
URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~%/?=&+-]*)?$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")
TOOLS = {   # tool -> (what the target is, the command in the client's shell)
    "curl": ("a URL", lambda t: f"curl -sS --max-time 5 {shlex.quote(t)}"),
    "dig": ("a name", lambda t: f"dig +time=2 +tries=1 +short {shlex.quote(t)}"),
    "probe": ("a URL", lambda t: "python -m lab.probe.measure --no-throughput --timeout 3 "
                                 f"{shlex.quote(t)}"),
    "download": ("a URL", None),     # lab.report.sampler --live: the throughput, drawn live
    "explain": ("a URL", None),      # console `explain`: what the censor will do, no traffic
}
DOWNLOAD_SECONDS = 8
DOWNLOADS_KEPT = 4


class BadRequest(Exception):
    """A request the page (or a hand-written client) got wrong; one line for the user."""


class Dashboard:
    """The web application over `lab` (a running lab.run.lab.Lab)."""

    def __init__(self, lab, token: str | None = None, captures: Path | None = None):
        self.lab = lab
        self.captures = captures                 # the folder the page's captures go to
        self.captured: dict[str, Path] = {}      # name -> file of the last capture
        self.console = Console(lab)
        self.token = token or secrets.token_urlsafe(24)
        self.port = 0
        self.stopping = asyncio.Event()
        self._control = threading.Lock()     # one control-socket call at a time
        self.drawing = draw(lab.scenario)
        self.downloads: dict[int, dict] = {}     # id -> host, url, samples, done, result

    # --- access --------------------------------------------------------------------------
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self) -> str:
        return f"{self.origin()}/?token={self.token}"

    @web.middleware
    async def guard(self, request: web.Request, handler):
        hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        if request.host not in hosts:
            return _error(403, f"Host {request.host!r} refused: use {self.origin()}")
        given = request.headers.get(TOKEN_HEADER) or request.query.get("token", "")
        if not given:
            return _error(401, "this page needs its token: open the URL `blocklab serve` "
                               "printed")
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return _error(403, "wrong token: open the URL `blocklab serve` printed")
        if request.method not in ("GET", "HEAD"):
            if request.headers.get("Origin") != self.origin() or \
                    TOKEN_HEADER not in request.headers:
                return _error(403, "cross-origin request refused: changes come from this "
                                   "page only")
        try:
            return await handler(request)
        except BadRequest as e:
            return _error(400, str(e))

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
        app.router.add_post("/api/run", self.run_command)
        app.router.add_get("/api/downloads", self.list_downloads)
        app.router.add_get("/api/capture", self.capture_state)
        app.router.add_post("/api/capture", self.capture)
        app.router.add_get("/captures/{name}", self.capture_file)
        app.router.add_get("/events", self.events)
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
            "examples": _examples(sc)})

    def _rules(self) -> list[dict]:
        with self._control:
            rules = self.console._rules()
        return [{"id": r["id"], "enabled": bool(r["enabled"]), "hits": r.get("hits", 0),
                 "action": action_text(r["action"]), "match": match_text(r["match"])}
                for r in rules]

    async def rules(self, request):
        return web.json_response(await asyncio.to_thread(self._rules))

    async def toggle(self, request):
        body = await _json(request)
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise BadRequest('want {"enabled": true} or {"enabled": false}')
        rule = request.match_info["rule"]

        def call():
            with self._control:
                return (self.console.enable if enabled else self.console.disable)(rule)
        reply = await asyncio.to_thread(call)
        if not reply.ok:
            return _error(404 if reply.code == 1 else 400, reply.text)
        return web.json_response({"ok": True, "text": reply.text})

    async def run_command(self, request):
        body = await _json(request)
        host, tool, target = body.get("host"), body.get("tool"), body.get("target")
        if host not in self.console.clients():
            raise BadRequest(f"host {host!r}: choose one of the clients: "
                             f"{', '.join(self.console.clients())}")
        if tool not in TOOLS:
            raise BadRequest(f"tool {tool!r}: choose one of {', '.join(TOOLS)}")
        if not isinstance(target, str) or not target.strip():
            raise BadRequest(f"{tool} needs {TOOLS[tool][0]}")
        target = target.strip()
        pattern = NAME if tool == "dig" else URL
        if not pattern.match(target):
            raise BadRequest(f"{target[:100]!r} is not {TOOLS[tool][0]} "
                             f"({'e.g. example.com' if tool == 'dig' else 'http(s)://NAME/PATH'})")
        if tool == "download":
            running = sum(not d["done"] for d in self.downloads.values())
            if running >= DOWNLOADS_KEPT - 1:
                return _error(409, f"{running} downloads are running; wait for one to end")
            return web.json_response(self._download(host, target))
        if tool == "explain":
            def call():
                with self._control:
                    return self.console.explain(f"{host} {target}")
            reply = await asyncio.to_thread(call)
            return web.json_response({"command": f"explain {host} {target} (no traffic sent)",
                                      "exit": reply.code, "output": reply.text})
        command = TOOLS[tool][1](target)
        reply = await asyncio.to_thread(self.console.host_command, host, command,
                                        COMMAND_TIMEOUT)
        text = reply.text if len(reply.text) <= OUTPUT_CAP else \
            reply.text[:OUTPUT_CAP] + f"\n(… {len(reply.text) - OUTPUT_CAP} more characters)"
        return web.json_response({"command": f"{host}$ {command}", "exit": reply.code,
                                  "output": text})

    def _download(self, host: str, url: str) -> dict:
        """Start a sampled download (lab.report.sampler --live) in `host`; its samples
        arrive in self.downloads as they are taken (GET /api/downloads)."""
        number = max(self.downloads, default=0) + 1
        for old in sorted(self.downloads)[:-DOWNLOADS_KEPT + 1]:
            if self.downloads[old]["done"]:
                del self.downloads[old]
        entry = {"id": number, "host": host, "url": url, "samples": [[0.0, 0]],
                 "done": False, "result": ""}
        self.downloads[number] = entry
        cmd = [sys.executable, "-m", "lab.report.sampler", url, "--live",
               "--seconds", str(DOWNLOAD_SECONDS)]
        proc = self.lab.popen(host, cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)

        def read():
            for line in proc.stdout:
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                if "t" in item:
                    entry["samples"].append([item["t"], item["bytes"]])
                else:
                    code, got = item.get("exit"), entry["samples"][-1][1]
                    entry["result"] = (f"{got:,} B; " + ("complete" if code == 0 else
                                       "stopped at 8 s" if code == 28 and got else
                                       item.get("error") or f"curl exit {code}"))
            proc.wait()
            entry["done"] = True
        threading.Thread(target=read, daemon=True, name=f"download-{number}").start()
        return {"command": f"{host}$ download {url} ({DOWNLOAD_SECONDS} s, sampled every "
                           "100 ms)", "exit": 0, "download": number,
                "output": "downloading: the throughput is drawn below as it comes"}

    def _capture_state(self) -> dict:
        running = self.lab.capture
        return {"on": bool(running),
                "folder": str(running.folder if running else self.captures or ""),
                "files": [{"name": name, "size": path.stat().st_size}
                          for name, path in self.captured.items() if path.exists()]}

    async def capture_state(self, request):
        return web.json_response(self._capture_state())

    async def capture(self, request):
        body = await _json(request)
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
            return _error(409, reply.text)
        return web.json_response({**self._capture_state(), "text": reply.text})

    async def capture_file(self, request):
        path = self.captured.get(request.match_info["name"])
        if path is None or not path.exists():
            return _error(404, "no such capture file (stop the capture first)")
        return web.FileResponse(path, headers={
            "Content-Type": "application/vnd.tcpdump.pcap",
            "Content-Disposition": f'attachment; filename="{path.name}"'})

    async def list_downloads(self, request):
        return web.json_response(list(self.downloads.values()))

    async def events(self, request):
        """Server-sent events: each censor event (from the first) as a JSON object with the
        console's line for it; a comment every 15 s keeps the connection open."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        path = self.lab.censor.events_path if self.lab.censor else None
        offset, idle = 0, 0.0
        while not self.stopping.is_set():
            if request.transport is None or request.transport.is_closing():
                return response                      # the page went away
            lines, offset = _new_lines(path, offset)
            for line in lines:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                data = {"t": ev.get("t"), "rule": ev.get("rule"), "action": ev.get("action"),
                        "line": self.console.event_line(ev)}
                if not await _send(response, f"data: {json.dumps(data)}\n\n"):
                    return response
            idle = 0.0 if lines else idle + 0.25
            if idle >= 15:
                if not await _send(response, ": still here\n\n"):
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


async def _send(response, text: str) -> bool:
    try:
        await response.write(text.encode())
        return True
    except (ConnectionError, RuntimeError):    # aiohttp's ClientConnectionResetError too
        return False


def _new_lines(path, offset: int) -> tuple[list[str], int]:
    """Complete lines appended to the events file since `offset`."""
    if path is None:
        return [], offset
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            chunk = f.read()
    except OSError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    return chunk[:end].decode("utf-8", "replace").splitlines(), offset + end


def _examples(sc) -> list[str]:
    """Targets worth trying: the expectations' URLs, then a URL for each server's names."""
    out = [e.target for e in sc.expect if "://" in e.target]
    for server in sc.servers:
        for name in server.domains:
            if "*" not in name:
                out.append(f"https://{name}/" if "https" in server.serve else f"http://{name}/")
    return list(dict.fromkeys(out))[:20]


async def _json(request) -> dict:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def listen(port: int) -> socket.socket:
    """A socket on 127.0.0.1:port (0: a free port); OSError says why not."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    return sock


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
