"""Fetching the non-web targets a scenario can name, from a client, with a real client each.

| scheme                    | client                                    | success           |
|---------------------------|-------------------------------------------|-------------------|
| `stun://host[:port]`      | lab.clients.stun_probe (port 3478)        | a binding answer  |
| `quic://host[:port]/path` | lab.clients.quic_probe (HTTP/3, port 443) | status 2xx or 3xx |
| `udp://host:port`         | lab.clients.udp_probe                     | the echo          |
| `tcp://host:port`         | nc -z (a TCP connect)                     | it connects       |
| `ssh://host[:port]`       | ssh (lab.clients.ssh_args) running true   | exit 0            |

http(s):// and bare domains are lab.truth.observe.fetch's own (curl, dig).
"""
from __future__ import annotations

import re
import sys
from urllib.parse import urlsplit

from lab.clients import ssh_args
from lab.truth.schemes import SCHEMES

MAX_TIME = 5


def _py(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", f"lab.clients.{module}", *args, "--max-time", str(MAX_TIME)]


def _where(url: str, default: int | None) -> str:
    parts = urlsplit(url)
    port = parts.port or default
    return f"{parts.hostname}:{port}" if port else parts.hostname


def _stun(lab, url):
    return _py("stun_probe", _where(url, SCHEMES["stun"].port)), None


def _quic(lab, url):
    p = urlsplit(url)
    return _py("quic_probe", f"https://{p.netloc}{p.path or '/'}"
                             f"{'?' + p.query if p.query else ''}"), \
        lambda out: bool(re.match(r"HTTP/3 [23]", out))


def _udp(lab, url):
    return _py("udp_probe", _where(url, None)), None


def _tcp(lab, url):
    p = urlsplit(url)
    if not p.port:
        raise ValueError(f"no port in {url} (want tcp://host:port)")
    return ["nc", "-z", "-v", "-w", str(MAX_TIME - 2), p.hostname, str(p.port)], None


def _ssh(lab, url):
    p = urlsplit(url)
    port = ["-p", str(p.port)] if p.port else []
    return ["ssh", *ssh_args(lab), *port, p.hostname, "true"], None


# scheme -> (lab, url) -> (argv, is this output a success? (None: exit 0 is))
CLIENTS = {"stun": _stun, "quic": _quic, "udp": _udp, "tcp": _tcp, "ssh": _ssh}


def fetch(lab, client: str, url: str) -> tuple[bool, str]:
    """Run the scheme's client in `client`: (reachable, what it said, one line)."""
    scheme = urlsplit(url).scheme.lower()
    try:
        argv, judge = CLIENTS[scheme](lab, url)
    except ValueError as e:         # a malformed target: nothing to run
        return False, str(e)
    r = lab.run(client, argv, timeout=MAX_TIME + 10)
    out = " ".join((r.stdout or "").split())
    err = (r.stderr or "").strip().splitlines()
    if r.returncode != 0:
        return False, (err[-1] if err else f"{argv[0]} exit {r.returncode}")
    if scheme == "ssh":
        return True, f"ssh: ran `true` on {urlsplit(url).hostname}"
    said = out or (err[-1] if err else "ok")      # nc -v reports on stderr
    return (judge(said) if judge else True), said
