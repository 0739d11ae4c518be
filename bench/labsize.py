"""Lab size: how long `Lab.up()` and `Lab.down()` take for 2, 10, 50 and 100 clients.

Each lab has the clients, the lab's two resolvers and one web server (nginx, https), and the
censor with no rules: what grows with the client count is Mininet host creation, the OVS
ports, and each host's configuration (resolver, trust store, hosts file).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from bench.common import load, rnd, say, scenario

log = logging.getLogger("blocklab.bench")


def run(counts: list[int], folder: Path) -> dict:
    from lab.run.lab import Lab
    out: dict = {"counts": counts, "results": []}
    for n in counts:
        sc = scenario(folder, f"labsize-{n}", [f"c{i:03d}" for i in range(n)],
                      [{"name": "web", "domains": ["www.bench.example"], "serve": ["https"]}],
                      [])
        say(f"lab size: {n} clients")
        row: dict = {"clients": n, "hosts": len(sc.hosts()), "load_before": load()}
        lab = Lab(sc)
        t = time.monotonic()
        try:
            lab.up()
            row["up_s"] = rnd(time.monotonic() - t, 2)
        except Exception as e:           # a lab that cannot come up at this size is a result
            log.debug("lab of %d clients failed to come up", n, exc_info=True)
            row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        finally:
            t = time.monotonic()
            lab.down()
            row["down_s"] = rnd(time.monotonic() - t, 2)
        out["results"].append(row)
    return out
