"""External detectors: any program, run inside the client host once per target. Pure helpers.

`--detector 'CMD {url}'`: `{url}` (and `{host}`) are replaced by the target, shell-quoted;
without either, the URL is appended. The command runs with `sh -c` in the client's network
namespace, so it sees exactly what that client sees. Its standard output is read as JSON
lines, either
- OONI measurements (objects with `test_keys`): blocked when `test_keys.blocking` is a string,
  which is then the technique; not blocked when it is `false`; no verdict when `null`; or
- simple lines: `{"url": "...", "blocked": true|false, "technique": "..."}`.
Other lines (logs) are ignored. The record whose `input`/`url` is the target wins, else the
last one. No record at all is "no verdict", with the exit code and the end of stderr as why.
"""
from __future__ import annotations

import json
import shlex
from urllib.parse import urlsplit

from lab.probe.classify import Verdict


def command(template: str, url: str) -> str:
    host = (urlsplit(url).hostname or "") if "://" in url else url
    if "{url}" not in template and "{host}" not in template:
        return f"{template} {shlex.quote(url)}"
    return template.replace("{url}", shlex.quote(url)).replace("{host}", shlex.quote(host))


def records(stdout: str) -> list[dict]:
    out = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and ("test_keys" in obj or "blocked" in obj):
            out.append(obj)
    return out


def _target_of(rec: dict) -> str | None:
    return rec.get("input") if "test_keys" in rec else rec.get("url")


def _norm(url: str | None) -> str:
    return (url or "").strip().rstrip("/").lower()


def verdict_of(rec: dict, url: str) -> Verdict:
    """One record (OONI measurement or simple line) as a verdict for `url`."""
    if "test_keys" in rec:
        tk = rec.get("test_keys") or {}
        blocking = tk.get("blocking")
        extended = tk.get("x_blocking")
        if isinstance(blocking, str):
            return Verdict(url, True, blocking, "OONI measurement: blocking=" + blocking)
        if blocking is False and isinstance(extended, str):
            return Verdict(url, True, extended, "x_blocking=" + extended)
        if blocking is False:
            return Verdict(url, False, None, "OONI measurement: blocking=false")
        return Verdict(url, None, None, "OONI measurement: blocking=null")
    blocked = rec.get("blocked")
    if not isinstance(blocked, bool):
        return Verdict(url, None, None, f"`blocked` is {blocked!r}, not true or false")
    technique = rec.get("technique")
    why = rec.get("why") or rec.get("reason") or ""
    return Verdict(url, blocked, str(technique) if blocked and technique else None,
                   str(why) if why else f"detector line: blocked={str(blocked).lower()}")


def parse(stdout: str, stderr: str, returncode: int, url: str) -> tuple[Verdict, dict | None]:
    """The detector's verdict for `url` and the record it came from."""
    recs = records(stdout)
    if not recs:
        tail = (stderr or "").strip().splitlines()[-1:] or [""]
        return Verdict(url, None, None, f"detector printed no verdict (exit {returncode}"
                                        + (f": {tail[0][:200]}" if tail[0] else "") + ")"), None
    mine = [r for r in recs if _norm(_target_of(r)) == _norm(url)]
    rec = (mine or recs)[-1]
    return verdict_of(rec, url), rec
