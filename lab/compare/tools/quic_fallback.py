"""`quic-fallback`: as a browser does, HTTP/3 first (QUIC, UDP 443; lab.compare.h3get over
lab.clients.quic_probe's client), and TCP (curl) when QUIC does not answer within 2 s.
Each fetch says which it used (`via`); after a fallback its time to first byte includes the
failed QUIC attempt (as measured inside h3get, without the program's start-up)."""
from lab.compare import measure
from lab.compare.base import Tool

QUIC_TRY = 2.0


class QuicFallback(Tool):
    name = "quic-fallback"
    summary = "HTTP/3 first, TCP when QUIC fails (as browsers do)"
    programs = ("curl",)
    pins_family = True           # h3get -6, curl -6

    def fetch(self, ctx, url, max_time, bulk=False):
        spent = 0.0
        if url.startswith("https://"):
            r = ctx.run(ctx.client, ctx.python(
                "lab.compare.h3get", url, "--max-time", f"{max_time:g}",
                "--connect-timeout", f"{QUIC_TRY:g}",
                *(["-6"] if ctx.family == "ipv6" else [])), timeout=max_time + 10)
            got = measure.parse(url, r.returncode, r.stdout or "", r.stderr or "", bulk)
            if got.ok:
                got.via = "h3"
                return got
            spent = got.seconds
        got = ctx.curl(url, ctx.curl_family(), max_time, bulk)
        got.via = "tcp"
        if got.ttfb is not None:        # what the user waited: the failed QUIC try too
            got.ttfb += spent
        return got


TOOL = QuicFallback()
