"""One fetch from a client host with curl: success, time to first byte, bytes, goodput.

`curl(ctx, url, options, max_time, bulk)` runs the real curl inside the client host with the
tool's options (a SOCKS proxy, a DoH URL, `--resolve` ...). A page fetch succeeds on an HTTP
2xx/3xx answer; a bulk fetch is cut at `max_time` on purpose, so it succeeds when bytes came
(curl's exit 28 then is the stopwatch, not a failure).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

WRITE_OUT = "%{http_code} %{time_starttransfer} %{size_download} %{time_total}"


@dataclass
class Fetch:
    url: str
    ok: bool
    status: int | None = None      # HTTP status
    ttfb: float | None = None      # seconds, from the start of the fetch
    bytes: int = 0
    seconds: float = 0.0
    error: str = ""                # one line when not ok
    via: str = ""                  # how it went, when a tool has a choice (h3, tcp)

    @property
    def goodput_mbit(self) -> float | None:
        if not self.ok or self.seconds <= 0:
            return None
        return self.bytes * 8 / self.seconds / 1e6

    def as_dict(self) -> dict:
        out = asdict(self)
        out["goodput_mbit"] = self.goodput_mbit
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Fetch":
        """The fetch `as_dict` wrote (goodput is computed again)."""
        return cls(d["url"], d["ok"], d["status"], d["ttfb"], d["bytes"], d["seconds"],
                   d["error"], d["via"])


def failed(url: str, error: str) -> Fetch:
    return Fetch(url, False, error=error)


def parse(url: str, returncode: int, stdout: str, stderr: str, bulk: bool) -> Fetch:
    fields = stdout.split()
    try:
        code, ttfb, size, total = int(fields[0]), float(fields[1]), int(fields[2]), \
            float(fields[3])
    except (IndexError, ValueError):
        code, ttfb, size, total = 0, 0.0, 0, 0.0
    err = (stderr or "").strip().splitlines()
    reason = err[-1] if err else f"curl exit {returncode}"
    if bulk:
        ok = size > 0 and returncode in (0, 28) and 200 <= code < 400
    else:
        ok = returncode == 0 and 200 <= code < 400
        if returncode == 0 and not ok:
            reason = f"HTTP {code}"
    return Fetch(url, ok, code or None, ttfb if code else None, size, total,
                 "" if ok else reason)


def curl(ctx, url: str, options: list[str], max_time: float, bulk: bool = False) -> Fetch:
    """`curl` in the tool's client host, with `options` before the URL (a bulk download
    capped at the comparison's bulk rate, if it has one)."""
    limit = ["--limit-rate", str(max(1, ctx.bulk_rate // 8))] if bulk and ctx.bulk_rate else []
    argv = ["curl", "-sS", "-o", "/dev/null", "--max-time", f"{max_time:g}",
            "-w", WRITE_OUT, *limit, *options, url]
    r = ctx.lab.run(ctx.client, argv, timeout=max_time + 10)
    return parse(url, r.returncode, r.stdout or "", r.stderr or "", bulk)
