"""The dashboard's command box (lab/teach/dashboard.py): a fixed set of client commands run
from a chosen client, and sampled downloads whose throughput the page draws as it comes.

    POST /api/run              {"host": CLIENT, "tool": curl|dig|probe|download|explain,
                                "target": URL or name}
    GET  /api/downloads        the sampled downloads (tool `download`): [[t, bytes], ...] so far

Nothing outside TOOLS runs; a target must look like a URL (or, for dig, a name) and is quoted
for the client's shell.
"""
from __future__ import annotations

import asyncio
import json
import re
import shlex
import subprocess
import sys
import threading

from aiohttp import web

from lab.teach.dashboard_http import BadRequest, error, json_body

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


class CommandBox:
    """The command box over `lab`, through `console` (lab/teach/console.py); `consoles`: one
    per censor, addressing it (explain asks each censor on the client's path); `control` is
    the dashboard's lock: one control-socket call at a time."""

    def __init__(self, lab, console, control: threading.Lock, consoles: dict | None = None):
        self.lab = lab
        self.console = console
        self.consoles = consoles or {}
        self._control = control
        self.downloads: dict[int, dict] = {}     # id -> host, url, samples, done, result

    async def run_command(self, request):
        body = await json_body(request)
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
                return error(409, f"{running} downloads are running; wait for one to end")
            return web.json_response(self._download(host, target))
        if tool == "explain":
            reply = await asyncio.to_thread(self._explain, host, target)
            return web.json_response({"command": f"explain {host} {target} (no traffic sent)",
                                      "exit": reply.code, "output": reply.text})
        command = TOOLS[tool][1](target)
        reply = await asyncio.to_thread(self.console.host_command, host, command,
                                        COMMAND_TIMEOUT)
        text = reply.text if len(reply.text) <= OUTPUT_CAP else \
            reply.text[:OUTPUT_CAP] + f"\n(… {len(reply.text) - OUTPUT_CAP} more characters)"
        return web.json_response({"command": f"{host}$ {command}", "exit": reply.code,
                                  "output": text})

    def _explain(self, host: str, target: str):
        """Console `explain`; with several censors, from each censor on `host`'s path in
        turn, nearest the client first (a routed network: lab/scenario/topology.py)."""
        topo = self.lab.scenario.network
        on_path = [c for c in self.lab.scenario.censors() if c.name in self.consoles
                   and (not topo or not c.at or topo.on_path(host, c.at))]
        if topo:
            on_path.sort(key=lambda c: topo.hops(host, c.at))    # nearest the client first
        if len(self.consoles) < 2 or not on_path:
            with self._control:
                return self.console.explain(f"{host} {target}")
        replies = []
        for censor in on_path:
            with self._control:
                reply = self.consoles[censor.name].explain(f"{host} {target}")
            replies.append((reply.code, f"censor {censor.name} ({censor.at}):\n{reply.text}"))
        return type(reply)(max(code for code, _ in replies),
                           "\n\n".join(text for _, text in replies))

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

    async def list_downloads(self, request):
        return web.json_response(list(self.downloads.values()))
