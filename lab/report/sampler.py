"""Runs inside a lab host: download a URL with curl and sample its progress every 100 ms.

    python -m lab.report.sampler URL [--seconds 8] [--every 0.1] [--live]

(with --live, first one line `{"t": T, "bytes": B}` per sample as it is taken, for the live
page) then prints one JSON object: {"url", "start" (epoch seconds), "every", "samples": [[t, bytes],
...] (t seconds since start, bytes received so far), "exit" (curl's code; 28 when it was
stopped at --seconds), "error" (curl's last message)}. curl writes the body to a pipe this
process reads, so the byte count is what the client really received, when it received it.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import time

CHUNK = 1 << 20


def sample(url: str, seconds: float, every: float, insecure: bool = False,
           live=None) -> dict:
    cmd = ["curl", "-sS", "--max-time", f"{seconds:g}", "-o", "-", url]
    if insecure:
        cmd.insert(1, "-k")
    start_wall, start = time.time(), time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fd = proc.stdout.fileno()
    total, samples = 0, [[0.0, 0]]
    next_tick = start + every
    open_pipe = True
    while open_pipe:
        wait = max(0.0, next_tick - time.monotonic())
        ready, _, _ = select.select([fd], [], [], wait)
        if ready:
            data = os.read(fd, CHUNK)
            if not data:
                open_pipe = False
            total += len(data)
        now = time.monotonic()
        while now >= next_tick:
            samples.append([round(next_tick - start, 4), total])
            if live:
                live(*samples[-1])
            next_tick += every
    proc.wait()
    end = time.monotonic() - start
    if samples[-1][0] < end:
        samples.append([round(end, 4), total])
    err = proc.stderr.read().decode(errors="replace").strip().splitlines()
    return {"url": url, "start": start_wall, "every": every, "samples": samples,
            "exit": proc.returncode, "error": err[-1] if err else ""}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--every", type=float, default=0.1)
    p.add_argument("-k", "--insecure", action="store_true")
    p.add_argument("--live", action="store_true", help="also print each sample as taken")
    a = p.parse_args(argv)

    def live(t, total):
        print(json.dumps({"t": t, "bytes": total}), flush=True)
    print(json.dumps(sample(a.url, a.seconds, a.every, a.insecure, live if a.live else None)))


if __name__ == "__main__":
    main()
