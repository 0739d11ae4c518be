"""`blocklab bench`: every measurement in one run, then JSON, a Markdown table and PNG plots.

Sections (each its own module; one that fails is recorded with its error, the others run):

    goodput    allowed iperf3 goodput: censor (100 rules) vs. no rules vs. plain OVS vs. a
               Linux bridge (the ceiling)                                   bench.goodput
    new_flows  TLS flows/s classified by SNI, half reset; time to first byte added
                                                                            bench.newflows
    dns        DNS queries/s with 10% of names blocked; lost and wrong answers  bench.dns
    scale      10^3..10^6 domain patterns + as many CIDRs: load, RSS, lookups  bench.scale
    lab_size   lab up/down for 2..100 clients                               bench.labsize
    routed     goodput and new flows through 3 ISPs, 4 routers and 2 censors against the
               one-switch lab; both labs' up/down (3 ISPs x 10 clients)    bench.routed

The first three share one "traffic lab" (19 clients, a bulk, a web, a DNS and a decoy
server) whose policy is swapped over the control socket, so "with" and "without" the censor
run on the very same hosts, switch and daemons. `--quick` runs a small version of each
(about a minute and a half).

Output in --out (default ./bench-results): results.json (every figure, the machine, the
load before and after), results.md (the table), blocklist.png, labsize.png, goodput.png.
They are written after the measurements; when that fails the table is still printed and one
line says what was not written.
"""
from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import common, machine, plots, report
from bench import rules as R
from lab.run.outputs import not_written

log = logging.getLogger("blocklab.bench")

SECTIONS = ("goodput", "new_flows", "dns", "scale", "lab_size", "routed")

QUICK = {"goodput_seconds": 2, "goodput_reps": 1, "flows_seconds": 3, "latency_seconds": 1.5,
         "latency_reps": 1, "dns_reps": 1,
         "tls_generators": 2, "tls_concurrency": 16, "dns_seconds": 3, "dns_generators": 2,
         "dns_concurrency": 32, "scale_sizes": [10**3, 10**4], "lookups": 20000,
         "engine_flows": 2000, "lab_sizes": [2, 10],
         "routed_clients_per_isp": 3, "routed_reps": 1}
FULL = {"goodput_seconds": 6, "goodput_reps": 5, "flows_seconds": 10, "latency_seconds": 2,
        "latency_reps": 4, "dns_reps": 3,
        "tls_generators": 4, "tls_concurrency": 16, "dns_seconds": 5, "dns_generators": 4,
        "dns_concurrency": 64, "scale_sizes": [10**3, 10**4, 10**5, 10**6],
        "lookups": 200000, "engine_flows": 10000, "lab_sizes": [2, 10, 50, 100],
        "routed_clients_per_isp": 10, "routed_reps": 3}

CLIENTS = [f"c{i:02d}" for i in range(19)]
SERVERS = [
    {"name": "bulk", "domains": ["bulk.bench.example"], "serve": ["http"]},
    {"name": "web", "domains": ["www.bench.example", "*.web.bench.example"],
     "serve": ["https"]},
    {"name": "dns", "domains": ["*.dns.bench.example"], "serve": ["dns"]},
    {"name": R.DECOY, "domains": ["decoy.bench.example"]},
]


def _compiled(folder: Path, name: str, rules: list[dict]) -> list[dict]:
    """`rules` (scenario YAML form) validated and compiled as the lab would send them."""
    return common.scenario(folder, name, CLIENTS, SERVERS, rules).policy()["rules"]


def _hosts(first: int, count: int) -> list[str]:
    return CLIENTS[first:first + count]


def _traffic(result: dict, cfg: dict, sections: list[str], folder: Path) -> None:
    from lab.run.lab import Lab
    wanted = [s for s in ("goodput", "new_flows", "dns") if s in sections]
    if not wanted:
        return
    from bench import dns, goodput, newflows
    mixed = R.mixed_rules(100)
    common.say("compiling the policies (100 mixed rules; + SNI reset; + DNS blocklist)")
    policies = {"goodput": _compiled(folder, "bench-goodput", mixed),
                "new_flows": _compiled(folder, "bench-new-flows", [newflows.RESET_RULE, *mixed]),
                "dns": _compiled(folder, "bench-dns", [dns.BLOCK_RULE, *mixed])}
    result["policy_rule_kinds"] = R.kinds(mixed)
    sc = common.scenario(folder, "bench-traffic", CLIENTS, SERVERS, [])
    common.say(f"traffic lab up: {len(CLIENTS)} clients, {len(SERVERS)} servers")
    with Lab(sc) as lab:
        result["traffic_lab_up_s"] = common.rnd(lab.timings.get("up"), 2)
        tg, dg = cfg["tls_generators"], cfg["dns_generators"]
        for name in wanted:
            try:
                if name == "goodput":
                    result[name] = goodput.run(lab, policies[name], cfg["goodput_seconds"],
                                               cfg["goodput_reps"])
                elif name == "new_flows":
                    hosts = {"censor_latency": ["c01"], "none_latency": ["c02"],
                             "censor": _hosts(3, tg), "none": _hosts(7, tg)}
                    result[name] = newflows.run(lab, policies[name], hosts,
                                                cfg["tls_concurrency"], cfg["flows_seconds"],
                                                cfg["latency_seconds"], cfg["latency_reps"])
                else:
                    hosts = {"censor": _hosts(11, dg), "none": _hosts(15, dg)}
                    result[name] = dns.run(lab, policies[name], hosts, cfg["dns_concurrency"],
                                           cfg["dns_seconds"], cfg["dns_reps"])
            except Exception as e:
                result[name] = {"error": f"{type(e).__name__}: {e}",
                                "traceback": traceback.format_exc()[-3000:]}


def run(quick: bool = False, sections: list[str] | None = None) -> dict:
    """Run the suite; every figure in one dict (write() puts it in a folder)."""
    work = Path(tempfile.mkdtemp(prefix="blocklab-bench-"))     # scenarios, policies
    try:
        return _run(quick, work, sections)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(quick: bool, work: Path, sections: list[str] | None) -> dict:
    cfg = dict(QUICK if quick else FULL)
    sections = list(sections or SECTIONS)
    start = time.monotonic()
    from bench.topologies import clean_stale
    clean_stale()
    result: dict = {"quick": quick, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "machine": machine.describe(), "load_before": common.load(),
                    "config": cfg, "sections": sections}
    _traffic(result, cfg, sections, work)
    if "scale" in sections:
        from bench import scale
        try:
            result["scale"] = scale.run(cfg["scale_sizes"], work, cfg["lookups"],
                                        cfg["engine_flows"], with_controller=True)
        except Exception as e:
            log.warning("bench section scale failed", exc_info=True)
            result["scale"] = {"error": f"{type(e).__name__}: {e}"}
    if "lab_size" in sections:
        from bench import labsize
        try:
            result["lab_size"] = labsize.run(cfg["lab_sizes"], work)
        except Exception as e:
            log.warning("bench section lab_size failed", exc_info=True)
            result["lab_size"] = {"error": f"{type(e).__name__}: {e}"}
    if "routed" in sections:
        from bench import newflows, routed
        try:
            result["routed"] = routed.run(cfg, work, SERVERS, newflows.RESET_RULE)
        except Exception as e:
            log.warning("bench section routed failed", exc_info=True)
            result["routed"] = {"error": f"{type(e).__name__}: {e}",
                                "traceback": traceback.format_exc()[-3000:]}
    result["load_after"] = common.load()
    result["duration_s"] = common.rnd(time.monotonic() - start, 1)
    result["plots"] = {}
    return result


def write(result: dict, out: Path) -> None:
    """results.json, results.md and the plots in `out`; result["plots"] names the plots."""
    out.mkdir(parents=True, exist_ok=True)
    for name, fn, key in (("blocklist.png", plots.blocklist, "scale"),
                          ("labsize.png", plots.labsize, "lab_size"),
                          ("goodput.png", plots.goodput, "goodput")):
        data = result.get(key)
        if data and "error" not in data:
            path = fn(data, out / name)
            if path:
                result["plots"][key] = str(path)
    (out / "results.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    (out / "results.md").write_text(report.markdown(result))


def sections_of(only: str | None) -> list[str] | None:
    """The sections `--only` names (None: every one); ValueError for none or unknown ones."""
    if only is None:
        return None
    sections = [s.strip() for s in only.split(",") if s.strip()]
    if not sections:
        raise ValueError(f"names no section; sections: {', '.join(SECTIONS)}")
    bad = [s for s in sections if s not in SECTIONS]
    if bad:
        raise ValueError(f"unknown section(s) {', '.join(bad)}; "
                         f"sections: {', '.join(SECTIONS)}")
    return sections


def main(quick: bool, as_json: bool, out: str, only: str | None = None) -> int:
    sections = sections_of(only)
    result = run(quick=quick, sections=sections)
    unwritten = None
    try:
        write(result, Path(out))
    except OSError as e:
        unwritten = not_written("--out", out, "the results (results.json, results.md, plots)", e)
    if as_json:
        print(json.dumps(result, indent=1, default=str))
    else:
        print(report.markdown(result))
        if not unwritten:
            print(f"results: {Path(out) / 'results.json'}, table: {Path(out) / 'results.md'}, "
                  f"plots: {', '.join(result['plots'].values()) or 'none'}", file=sys.stderr)
    failed = [s for s in sections or SECTIONS if isinstance(result.get(s), dict)
              and "error" in result[s]]
    for s in failed:
        print(f"blocklab: bench section {s} failed: {result[s]['error']}", file=sys.stderr)
    if unwritten:
        print(f"blocklab: {unwritten}", file=sys.stderr)
    return 1 if failed or unwritten else 0
