"""`blocklab shell SCENARIO`: the lab stays up behind a prompt, for teaching.

Mininet's CLI (mininet.cli.CLI), which teachers know: `alice curl -sS https://...` runs in
alice's shell, host names in arguments become addresses (`alice ping bob`), and Mininet's own
commands (nodes, net, pingall, dpctl, ...) still work. On top, the censor's commands from
lab/teach/console.py: rules, enable, disable, add, events (-f), explain, plot. Ctrl-D or `exit`
returns, and the caller tears the lab down.

Output is kept clean: our own banner and messages, no `*** ` lines from Mininet.
"""
from __future__ import annotations

import os
import sys

from mininet.cli import CLI
from mininet.log import lg, setLogLevel
from mininet.util import quietRun

from lab.teach.console import Console, Reply, use_colour

PROMPT = "blocklab> "
HISTORY = "~/.blocklab_history"

HELP = """\
Commands (Ctrl-D or `exit` tears the lab down):
  HOST CMD...               run CMD in HOST's shell, e.g.  alice curl -sS https://{example}/
                            (host names in CMD become addresses: alice ping {server})
  rules                     the censor's rules in order, on/off, and how many flows each decided
  enable RULE               turn a rule on (new flows see it)
  disable RULE              turn a rule off
  add [--at N] RULE         add a rule, in YAML as in a scenario:
                              add {{id: no-news, match: {{sni: {example}}}, action: reset}}
  events [N] [-f]           the last N censor events (20), coloured by action; -f follows
  explain [HOST] URL        what the censor will do to URL from HOST, and which rule decides
                            (no traffic sent)
  plot HOST URL [SECS] [F]  download URL in HOST for SECS (8) seconds, sampling every 100 ms,
                            and plot its goodput to F (plot-HOST-NAME.png)
  browse HOST URL [F]       open URL in headless Chromium in HOST: its error or page, and a
                            screenshot in F (browse-HOST-NAME.png)
  capture [DIR | stop]      tcpdump on every switch port into DIR (HOST.pcap, both sides of
                            the censor); `capture stop` flushes them, for Wireshark
  censor [NAME]             the censors and where they sit; NAME: the one that rules,
                            enable, disable, add and explain address from now on
  hosts                     the lab's hosts and addresses
Mininet's commands work too: nodes, net, pingall, iperf, dpctl, links, ..."""


class Shell(CLI):
    """Mininet's CLI with the censor's commands and clean output."""

    prompt = PROMPT

    def __init__(self, lab, stdin=sys.stdin, stdout=sys.stdout):
        self.lab = lab
        self.out = stdout
        self.console = Console(lab, colour=use_colour(stdout))
        self.intro = banner(lab)
        bin_dir = os.path.dirname(sys.executable)        # `python` runs lab.clients.* probes
        for name in self.console.hosts():
            lab.host(name).cmd(f"export PATH={bin_dir}:$PATH")
        CLI.__init__(self, lab.network.net, stdin=stdin, stdout=stdout)

    # --- Mininet's machinery, quieter ------------------------------------------------------
    @classmethod
    def initReadline(cls):          # noqa: N802 (Mininet's name): our own history file
        if cls.readlineInited:
            return
        cls.readlineInited = True
        try:
            import atexit
            import readline
        except ImportError:
            return
        path = os.path.expanduser(HISTORY)
        try:
            if os.path.isfile(path):
                readline.read_history_file(path)
            readline.set_history_length(1000)
        except OSError:
            pass
        atexit.register(lambda: _quiet(readline.write_history_file, path))

    def run(self):
        while True:
            try:
                self.cmdloop()
                break
            except KeyboardInterrupt:
                self.say("\n(Ctrl-C: `exit` or Ctrl-D leaves the shell)")
                self.intro = None

    def say(self, text: str) -> None:
        if text:
            self.out.write(text if text.endswith("\n") else text + "\n")
            self.out.flush()

    def reply(self, r: Reply) -> None:
        self.say(r.text)

    def emptyline(self):
        return None

    def precmd(self, line):
        return line                 # Mininet strips '#...'; URLs and YAML may need it

    def default(self, line):
        words = line.split(None, 1)
        head = words[0]
        host = head[:-1] if head.endswith(":") else head
        if host in self.console.hosts():
            if len(words) < 2:
                self.say(f"{host}: which command? e.g. {host} curl -sS https://...")
                return
            node = self.mn[host]
            rest = " ".join(self.mn[a].IP() if a in self.console.hosts() else a
                            for a in words[1].split(" "))
            node.sendCmd(rest)
            self.waitForNode(node)
            if self.isatty():
                quietRun("stty echo sane intr ^C")
            return
        self.say(f"unknown command or host {head!r}: `help` lists the commands; hosts: "
                 f"{', '.join(self.console.hosts())}")

    def waitForNode(self, node):    # noqa: N802 (Mininet's name)
        """A terminal's keys go to the running command (Mininet's way); piped input is the
        shell's next commands, so it is left alone and only the output is shown."""
        if self.isatty():
            return CLI.waitForNode(self, node)
        while node.waiting:
            data = node.monitor(timeoutms=200)
            if data:
                self.out.write(data)
                self.out.flush()
        return None

    def do_help(self, line):
        if line.strip():
            return CLI.do_help(self, line)
        sc = self.lab.scenario
        example = next((d for s in sc.servers for d in s.domains if "*" not in d),
                       "www.example.com")
        server = sc.servers[0].name if sc.servers else "isp"
        self.say(HELP.format(example=example, server=server))

    # --- the censor --------------------------------------------------------------------------
    def do_rules(self, line):
        """the censor's rules, with hit counts"""
        self.reply(self.console.rules(line))

    def do_enable(self, line):
        """enable RULE: turn a rule on"""
        self.reply(self.console.enable(line))

    def do_disable(self, line):
        """disable RULE: turn a rule off"""
        self.reply(self.console.disable(line))

    def do_add(self, line):
        """add [--at N] RULE: add a rule (YAML); alone, reads lines until an empty one"""
        words = line.split()
        prefix = " ".join(words[:2]) if words[:1] == ["--at"] else ""
        body = line.strip()[len(prefix):].strip()
        if not body:
            self.say("the rule in YAML (as in a scenario's censor.rules), an empty line ends it:")
            lines = []
            while True:
                try:
                    more = input("  ")
                except EOFError:
                    break
                if not more.strip():
                    break
                lines.append(more)
            body = "\n".join(lines)
        self.reply(self.console.add(f"{prefix} {body}".strip()))

    def do_events(self, line):
        """events [N] [-f]: the latest censor events; -f follows until Ctrl-C"""
        self.reply(self.console.events(line.replace("-f", "")))
        if "-f" in line.split():
            self.say("(following; Ctrl-C stops)")
            try:
                self.console.follow(self.out)
            except KeyboardInterrupt:
                self.say("")

    def do_explain(self, line):
        """explain [HOST] URL: what the censor will do to URL, and which rule decides"""
        self.reply(self.console.explain(line))

    def do_plot(self, line):
        """plot HOST URL [SECONDS] [FILE]: goodput over time to a PNG"""
        if len(line.split()) >= 2:
            self.say("downloading and sampling every 100 ms ...")
        self.reply(self.console.plot(line))

    def do_browse(self, line):
        """browse HOST URL [FILE]: what HOST's browser shows, and its screenshot"""
        self.reply(self.console.browse(line))

    def do_capture(self, line):
        """capture [DIR | stop]: packet captures of every switch port, for Wireshark"""
        self.reply(self.console.capture(line))

    def do_censor(self, line):
        """censor [NAME]: the censors and their places; NAME: address that one"""
        self.reply(self.console.censor(line))

    def do_hosts(self, _line):
        """the lab's hosts and their addresses"""
        self.say(hosts_text(self.lab.scenario))

    def do_exit(self, _line):
        """leave the shell and tear the lab down"""
        self.say("tearing the lab down ...")
        return "exit"

    def do_quit(self, line):
        """leave the shell and tear the lab down"""
        return self.do_exit(line)

    def do_EOF(self, line):         # noqa: N802 (cmd's name)
        """Ctrl-D: leave the shell"""
        self.say("")
        return self.do_exit(line)


def hosts_text(sc) -> str:
    lines = []
    for h in sc.hosts():
        what = "client" if h.side == "client" else "internet"
        domains = ", ".join(getattr(h, "domains", ()) or ())
        serve = ", ".join(getattr(h, "serve", ()) or ())
        extra = f"  {domains}" + (f"  [{serve}]" if serve else "") if domains or serve else ""
        if h.name == "isp":
            extra = "  the ISP's resolver (censored side)"
        elif h.name == "public-dns":
            extra = "  a public resolver (internet side)"
        elif h in sc.resolvers():
            extra = f"  ISP {sc.isp_of(h.name)}'s own resolver (censored side)"
        elif sc.isp_of(h.name):
            isp = sc.network.isp_of(h.name)
            extra = f"  ISP {isp.name} ({isp.kind}), via router {isp.router_ip}"
        lines.append(f"  {h.name:<10} {h.ip:<13} {what:<8}{extra}")
    return "\n".join(lines)


def banner(lab) -> str:
    sc = lab.scenario
    rules = len(sc.censor.rules)
    censors = sc.censors()
    if sc.network:
        who = "; ".join(f"censor {c.name} at {c.at}: {len(c.rules)} rule"
                        f"{'s' if len(c.rules) != 1 else ''} ({c.mode})" for c in censors)
        who = (who or "no censor") + " (`censor` lists them)"
    else:
        who = f"the censor has {rules} rule{'s' if rules != 1 else ''} ({sc.censor.mode})"
    return (f"{sc.name}: {sc.title}\n"
            f"lab up in {lab.timings.get('up', 0):.1f}s; {who}.\n"
            f"{hosts_text(sc)}\n"
            "`help` lists the commands; `exit` or Ctrl-D tears the lab down.")


def run_shell(lab, stdin=sys.stdin, stdout=sys.stdout) -> None:
    """The prompt, until exit or Ctrl-D (the lab stays up meanwhile)."""
    level = lg.getEffectiveLevel()
    setLogLevel("output")      # Mininet prints host output and its commands' at "output";
    try:                       # its `*** ` progress lines are "info", below that
        Shell(lab, stdin=stdin, stdout=stdout)
    finally:
        lg.setLevel(level)
        lg.ch.setLevel(level)


def _quiet(fn, *args):
    try:
        fn(*args)
    except OSError:
        pass
