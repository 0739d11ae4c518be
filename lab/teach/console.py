"""The censor commands of `blocklab shell` and of lessons, over a running lab.

Each command returns a `Reply` (exit code, text) instead of printing, so the interactive shell
(lab/teach/shell.py) and the lesson runner (lab/teach/lesson.py) say the same things:

    rules                      the rules in force, in order, with their hit counts
    enable RULE / disable RULE turn a rule on / off (new flows only)
    add [--at N] RULE          a rule in YAML, checked as the scenario loader checks rules
    events [N] [-f]            the latest N censor events, colour-coded by action
    explain [HOST] URL         what the censor will do to URL from HOST (no traffic sent)
    plot HOST URL [SECS] [PNG] goodput of a download over time (teach/plot_command.py)
    browse HOST URL [PNG]      what HOST's browser shows, and its screenshot (teach/browse.py)
    capture [DIR | stop]       tcpdump on every switch port into DIR (lab/run/capture.py)
    censor [NAME]              the censors and their places; NAME: the one the commands
                               above address from now on (default: the first)
    HOST CMD...                (lessons) CMD in HOST's shell; output and exit code

Rule ids, hits and the enabled flags come from the censor's control socket (docs/internals.md
§3); nothing here keeps a copy that could go stale.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lab.scenario.lessons import CENSOR_COMMANDS
from lab.scenario.ruletext import action_text, match_text
from lab.teach.explain import explain
from lab.truth.table import text_table
from lab.teach.ruleyaml import check_rule_yaml

HOST_TIMEOUT = 120        # seconds a lesson's host command may take
EVENT_COLOURS = {        # ANSI colours by action (the plots use the same families)
    "drop": "31", "drop_reply": "31", "rst_handshake": "31",
    "ban_after": "31", "reject": "31", "reset": "31",
    "nxdomain": "35", "servfail": "35", "refused": "35", "forge": "35", "inject": "35",
    "throttle": "33", "cut_after": "33", "blockpage": "34", "allow": "32",
    "enable": "36", "disable": "36", "add": "36", "replace": "36", "policy": "36",
}


@dataclass
class Reply:
    code: int
    text: str

    @property
    def ok(self) -> bool:
        return self.code == 0


def use_colour(stream=None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def paint(text: str, colour: str | None, on: bool) -> str:
    return f"\x1b[{colour}m{text}\x1b[0m" if on and colour else text


class Console:
    """The censor commands over `lab` (a running lab.run.lab.Lab)."""

    def __init__(self, lab, colour: bool = False, plot_dir: Path | None = None):
        self.lab = lab
        self.colour = colour
        self.plot_dir = Path(plot_dir or Path.cwd())
        self.added: dict[str, dict] = {}         # rules added here: id -> policy form
        self.current: str | None = None          # the censor addressed (None: the first)

    # --- helpers -------------------------------------------------------------------------
    @property
    def scenario(self):
        return self.lab.scenario

    def hosts(self) -> list[str]:
        return [h.name for h in self.scenario.hosts()]

    def clients(self) -> list[str]:
        return [h.name for h in self.scenario.clients]

    def _rules(self) -> list[dict]:
        reply = self._control({"cmd": "rules"})
        if not reply.get("ok"):
            raise RuntimeError(reply.get("error") or "the censor did not list its rules")
        return reply["rules"]

    def _control(self, command: dict) -> dict:
        if not self.scenario.censors():
            return {"ok": True, "rules": []} if command.get("cmd") in ("rules", "status") \
                else {"ok": False, "error": "this lab has no censor"}
        return self.lab.control(command, self.current)

    def _censor_model(self):
        """The scenario's censor this console addresses."""
        censors = self.scenario.censors() or [self.scenario.censor]
        return next((c for c in censors if c.name == self.current), censors[0])

    def _probabilities(self) -> dict:
        out = {r.id: r.probability for r in self._censor_model().rules}
        for entry in self.scenario.timeline:
            for rule in (entry.rules or ()) + ((entry.rule,) if entry.rule else ()):
                out.setdefault(rule.id, rule.probability)
        out.update({k: v.get("probability") for k, v in self.added.items()})
        return out

    def names(self) -> dict[str, str]:
        """address (either family) -> host name, to show flows as alice:40212 -> apple:443."""
        hosts = self.scenario.hosts()
        return {**{h.ip6: h.name for h in hosts if h.ip6}, **{h.ip: h.name for h in hosts}}

    # --- dispatch ------------------------------------------------------------------------
    def run(self, line: str) -> Reply:
        """One command line: a censor command, or `HOST CMD...` (run in that host)."""
        words = line.strip().split(None, 1)
        if not words:
            return Reply(0, "")
        head, rest = words[0], (words[1] if len(words) > 1 else "")
        if head in CENSOR_COMMANDS:
            return getattr(self, head)(rest)
        host = head[:-1] if head.endswith(":") else head
        if host in self.hosts():
            return self.host_command(host, rest)
        return Reply(2, f"unknown command or host {head!r} (hosts: {', '.join(self.hosts())}; "
                        f"censor commands: {', '.join(CENSOR_COMMANDS)})")

    def host_command(self, host: str, command: str, timeout: float = HOST_TIMEOUT) -> Reply:
        """`command` in `host`'s shell (host names as arguments become their addresses, as
        in Mininet's CLI); the reply has its exit code and its output (stdout and stderr)."""
        if not command.strip():
            return Reply(2, f"{host}: which command? (e.g. {host} curl -sS https://...)")
        ips = {h.name: h.ip for h in self.scenario.hosts()}
        command = " ".join(ips.get(w, w) for w in command.split(" "))
        proc = self.lab.popen(host, ["bash", "-c", command], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=host_env())
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            return Reply(124, (out or "") + f"\n(stopped after {timeout:g}s)")
        return Reply(proc.returncode, out or "")

    # --- rules ---------------------------------------------------------------------------
    def rules(self, _args: str = "") -> Reply:
        rules = self._rules()
        if not rules:
            return Reply(0, "no rules: the censor lets everything through")
        head = ("#", "rule", "on", "hits", "action", "match")
        body = [(str(i), r["id"], "yes" if r["enabled"] else "no", str(r.get("hits", 0)),
                 action_text(r["action"]), match_text(r["match"]))
                for i, r in enumerate(rules, 1)]
        lines = text_table(head, body)
        if self.colour:
            lines = [lines[0], lines[1]] + [
                paint(line, None if r["enabled"] else "2", True)
                for line, r in zip(lines[2:], rules)]
        return Reply(0, "\n".join(lines + ["(first match wins; hits: flows each rule decided)"]))

    def enable(self, args: str) -> Reply:
        return self._toggle(args, "enable")

    def disable(self, args: str) -> Reply:
        return self._toggle(args, "disable")

    def _toggle(self, args: str, cmd: str) -> Reply:
        rule = args.strip()
        if not rule:
            return Reply(2, f"usage: {cmd} RULE (`rules` lists them)")
        reply = self._control({"cmd": cmd, "rule": rule})
        if not reply.get("ok"):
            ids = [r["id"] for r in self._rules()]
            return Reply(1, f"{cmd} {rule}: {reply.get('error')} (rules: {', '.join(ids)})")
        return Reply(0, f"rule {rule} {cmd}d (new flows see it; flows already decided "
                        "keep their verdict)")

    def add(self, args: str) -> Reply:
        index = None
        text = args.strip()
        if text.startswith("--at"):
            parts = text.split(None, 2)
            if len(parts) < 3 or not parts[1].isdigit() or int(parts[1]) < 1:
                return Reply(2, "usage: add [--at N] {id: ..., match: {...}, action: ...}")
            index, text = int(parts[1]) - 1, parts[2]
        if not text:
            return Reply(2, "usage: add [--at N] {id: x, match: {sni: a.example}, action: drop}"
                            "  (YAML, as in a scenario's censor.rules)")
        rule, problems = check_rule_yaml(self.scenario, text)
        if problems:
            return Reply(1, "not added:\n" + "\n".join("  " + p for p in problems))
        command = {"cmd": "add", "rule": rule}
        if index is not None:
            command["index"] = index
        reply = self._control(command)
        if not reply.get("ok"):
            return Reply(1, f"not added: {reply.get('error')}")
        self.added[rule["id"]] = rule
        where = f"at position {index + 1}" if index is not None else "last"
        return Reply(0, f"rule {rule['id']} added {where}: {match_text(rule['match'])} -> "
                        f"{action_text(rule['action'])}")

    # --- censors -------------------------------------------------------------------------
    def censor(self, args: str = "") -> Reply:
        censors = self.scenario.censors()
        name = args.strip()
        if name:
            if name not in [c.name for c in censors]:
                return Reply(2, f"no censor named {name!r} (censors: "
                                f"{', '.join(c.name for c in censors)})")
            self.current = name
            return Reply(0, f"censor commands now address {name}")
        if not censors:
            return Reply(0, "no censor in this network: every link is a plain switch")
        current = self._censor_model().name
        body = [("*" if c.name == current else "", c.name, c.at or "between clients and "
                 "internet", c.mode, str(c.ttl), str(len(c.rules))) for c in censors]
        return Reply(0, "\n".join(text_table(("", "censor", "at", "mode", "ttl", "rules"), body)))

    # --- events --------------------------------------------------------------------------
    def events(self, args: str = "") -> Reply:
        words = args.split()
        count = next((int(w) for w in words if w.isdigit()), 20)
        events = self.lab.events()
        shown = events[-count:] if count else events
        if not shown:
            return Reply(0, "no events yet: the censor has not touched any traffic")
        lines = [self.event_line(ev) for ev in shown]
        more = len(events) - len(shown)
        if more:
            lines.insert(0, f"({more} earlier; `events 0` shows all)")
        return Reply(0, "\n".join(lines))

    def follow(self, out, poll: float = 0.2) -> None:
        """Print new events as they come, until KeyboardInterrupt."""
        seen = len(self.lab.events())
        while True:
            time.sleep(poll)
            events = self.lab.events()
            for ev in events[seen:]:
                out.write(self.event_line(ev) + "\n")
                out.flush()
            seen = len(events)

    def event_line(self, ev: dict) -> str:
        names = self.names()
        action = str(ev.get("action"))
        flow = ev.get("flow") or {}
        if flow:
            src = f"{names.get(flow.get('src'), flow.get('src'))}:{flow.get('sport')}"
            dst = f"{names.get(flow.get('dst'), flow.get('dst'))}:{flow.get('dport')}"
            where = f"{flow.get('proto')} {src} -> {dst}"
        else:
            where = "(censor change)"
        detail = " ".join(f"{k}={v}" for k, v in (ev.get("detail") or {}).items()
                          if not isinstance(v, (dict, list)))
        who = f"{ev.get('censor')}: " if len(self.scenario.censors()) > 1 else ""
        text = (f"{float(ev.get('t', 0)):9.3f}s  {who}{action:<9} {str(ev.get('rule')):<18} "
                f"{str(ev.get('technique')):<9} {where}  {detail}").rstrip()
        return paint(text, EVENT_COLOURS.get(action), self.colour)

    # --- explain -------------------------------------------------------------------------
    def explain(self, args: str) -> Reply:
        words = args.split()
        if not words or len(words) > 2:
            return Reply(2, "usage: explain [HOST] URL   (e.g. explain alice "
                            "https://www.example.com/)")
        client, url = (words if len(words) == 2 else (self.clients()[0], words[0]))
        if client not in self.hosts():
            return Reply(2, f"no host named {client!r} (hosts: {', '.join(self.hosts())})")
        censor, topo = self._censor_model(), self.scenario.network
        if topo and client in self.clients() and censor.at and \
                not topo.on_path(client, censor.at):
            return Reply(1, f"explain: censor {censor.name} sits on {censor.at}, which "
                            f"{client}'s traffic does not cross (`censor NAME` picks another; "
                            f"`censor` lists them)")
        try:
            result = explain(self.scenario, self._rules(), client, url, self._probabilities())
        except ValueError as e:
            return Reply(2, f"explain: {e}")
        status = self._control({"cmd": "status"})
        text = result.render()
        if status.get("boxes"):
            text += (f"\n  note: {status['boxes']} penalty box(es) are active (residual "
                     "rules): a 3-tuple in one is blocked whatever the rules say")
        return Reply(0, text)

    # --- capture -------------------------------------------------------------------------
    def capture(self, args: str) -> Reply:
        """`capture DIR` starts tcpdump on every switch port, `capture stop` stops it and
        lists the files, `capture` says what is being captured."""
        from lab.run.capture import CaptureError
        from lab.run.outputs import OutputError, prepare
        arg = args.strip()
        running = self.lab.capture
        if not arg:
            if not running:
                return Reply(0, "not capturing (`capture DIR` starts tcpdump on every port)")
            return Reply(0, f"capturing into {running.folder}: "
                            f"{', '.join(p.name for p, _ in running.planned())}")
        if arg == "stop":
            if not running:
                return Reply(1, "capture stop: not capturing")
            files = self.lab.stop_capture()
            return Reply(0, "\n".join([f"capture stopped; {len(files)} files:"] +
                                      [f"  {p} ({what})" for p, what in files]))
        if running:
            return Reply(1, f"capture: already capturing into {running.folder} "
                            "(`capture stop` first)")
        try:
            folder = prepare("capture", arg)
            self.lab.start_capture(folder)
        except (OutputError, CaptureError) as e:
            return Reply(2 if isinstance(e, OutputError) else 1, str(e))
        return Reply(0, f"capturing every switch port into {folder} (`capture stop` ends it "
                        "and merges the two sides of the censor)")

    def browse(self, args: str) -> Reply:
        from lab.teach.browse import browse_command
        return browse_command(self, args)

    def plot(self, args: str) -> Reply:
        from lab.teach.plot_command import plot_command
        return plot_command(self, args)


def host_env() -> dict:
    """The environment of host commands: `python` is blocklab's (lab.clients.* probes run)."""
    bin_dir = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
