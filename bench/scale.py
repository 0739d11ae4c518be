"""Blocklist scale: 10^3 .. 10^6 domain patterns and as many CIDRs.

For each size N the policy is two rules: `sni` over N domain patterns (half exact names,
half `*.zone` wildcards) with `reset`, and `ip` over N CIDRs (/24s, never a lab address)
with `drop`. Measured:

- in a fresh worker process (`python -m bench.scale worker POLICY`), so memory is its own:
  Engine construction from the policy JSON (read + parse + compile), the process's RSS after
  it, the cost of one name lookup (the sni rule's compiled patterns: a quarter exact hits, a
  quarter wildcard hits, half misses) and one address lookup (the ip rule's set), and whole
  new flows through the engine (SYN, ACK, ClientHello: ClientHello decisions per second);
- the real censor process: start to control socket (Python, os-ken, policy, engine), and
  start to ready (a two-host lab's switch connected and the base rules installed), its RSS;
- the steering entries the policy needs (N CIDRs must not become N entries).
"""
from __future__ import annotations

import gc
import json
import logging
import resource
import sys
import time
from pathlib import Path

from bench import rules as R
from bench.common import collect, python, rnd, rss_mib, say
from controllers.switch.tables import PRIO_GUARD, PRIO_PASS, PRIO_STEER

log = logging.getLogger("blocklab.bench")

STEERING_PRIORITIES = (PRIO_STEER, PRIO_PASS, PRIO_GUARD)     # what sends packets up

CLIENT = {"ip": "198.18.0.10", "mac": "02:00:c6:12:00:0a", "port": 1, "side": "client"}
SERVER = {"ip": "198.19.0.10", "mac": "02:00:c6:13:00:0a", "port": 2, "side": "internet",
          "domains": ["www.bench.example"]}


def policy(n: int) -> dict:
    def rule(rid, match, action):
        return {"id": rid, "enabled": True, "match": match, "action": {"type": action},
                "residual": None, "probability": None, "per": "flow"}
    return {"mode": "inline", "reassembly": True, "inspect_packets": 8,
            "fail_mode": "secure", "seed": 0, "hosts": {"c0": CLIENT, "s0": SERVER},
            "rules": [rule("names", {"sni": R.blocklist(n)}, "reset"),
                      rule("cidrs", {"ip": R.cidrs(n)}, "drop")]}


# ------------------------------------------------------------------ the worker process
def _flows(engine, names: list[tuple[str, bool]], count: int) -> dict:
    from bench.loadgen import client_hello
    from controllers import packets as P
    hellos = {}
    frames = []
    c_mac, s_mac = P.mac_bytes(CLIENT["mac"]), P.mac_bytes(SERVER["mac"])
    names = names[:256]                 # 256 distinct hellos, cycled (their mix as above)
    for i in range(count):
        name, _hit = names[i % len(names)]
        if name not in hellos:
            hellos[name] = client_hello(name)
        src = f"198.18.{1 + i // 60000}.{10 + i % 200}"
        sport, isn = 1024 + i % 60000, (i * 7919) & 0xFFFFFFFF

        def tcp(seq, flags, payload=b""):
            return P.build_tcp(c_mac, s_mac, src, SERVER["ip"], sport, 443, seq, 1, flags,
                               payload)
        frames.append((tcp(isn, P.SYN), tcp(isn + 1, P.ACK),
                       tcp(isn + 1, P.ACK | P.PSH, hellos[name])))
    t, cpu = time.perf_counter(), time.process_time()
    for k, (syn, ack, hello) in enumerate(frames):
        now = k * 1e-5
        engine.packet_in(syn, 1, now)
        engine.packet_in(ack, 1, now)
        engine.packet_in(hello, 1, now)
    dt, dcpu = time.perf_counter() - t, time.process_time() - cpu
    stats = engine.stats()
    # CPU time, not wall time: on a shared machine the process waits for a core at times,
    # and that is not the engine's cost
    return {"flows": count, "flows_per_s": round(count / dcpu), "us_per_flow": rnd(
            dcpu / count * 1e6, 2), "wall_us_per_flow": rnd(dt / count * 1e6, 2),
            "decisions": stats["decisions"], "events": stats["events"],
            "errors": stats["internal_errors"]}


def worker(policy_path: str, lookups: int, flows: int) -> dict:
    from controllers.engine.engine import Engine
    base_rss = rss_mib_self()
    t0 = time.perf_counter()
    with open(policy_path, encoding="utf-8") as f:
        doc = json.load(f)
    t1 = time.perf_counter()
    engine = Engine(doc)
    t2 = time.perf_counter()
    del doc
    gc.collect()
    rss = rss_mib_self()
    n = len(engine.rules.rules[0].rule["match"]["sni"])
    names = R.lookup_names(n, lookups)
    patterns = engine.rules.rules[0].match.sni
    ips = engine.rules.rules[1].match.ips
    wrong = sum(1 for name, hit in names if patterns.match(name) != hit)
    kinds = {"exact_hit": names[0::4], "wildcard_hit": names[1::4], "miss": names[2::4],
             "miss_other": names[3::4]}
    addr_kinds = {"hit": [(16 << 24) + (((j * 7919) % n) << 8) + 5 for j in range(lookups)],
                  "miss": [(100 << 24) + (((j * 7919) % n) << 8) + 5 for j in range(lookups)]}

    def cost(fn, items) -> float:
        best = float("inf")
        for _round in range(5):     # best of five, CPU time: the machine is shared
            t = time.process_time()
            for item in items:
                fn(item)
            best = min(best, (time.process_time() - t) / len(items) * 1e9)
        return best
    # the index itself: match() also remembers recent answers, which a loop over a small
    # blocklist's few names would measure instead
    by_kind = {k: round(cost(patterns.lookup, [nm for nm, _ in v])) for k, v in kinds.items()}
    ip_by_kind = {k: round(cost(ips.__contains__, v)) for k, v in addr_kinds.items()}
    name_ns = sum(by_kind.values()) / len(by_kind)
    ip_ns = sum(ip_by_kind.values()) / len(ip_by_kind)
    t = time.perf_counter()
    steering = engine.base_effects()
    t3 = time.perf_counter()
    return {"patterns": n, "json_load_s": rnd(t1 - t0), "engine_build_s": rnd(t2 - t1),
            "load_s": rnd(t2 - t0), "rss_mib": rnd(rss["VmRSS"], 1),
            "rss_before_mib": rnd(base_rss["VmRSS"], 1), "peak_rss_mib": rnd(rss["VmHWM"], 1),
            "name_lookup_ns": round(name_ns), "ip_lookup_ns": round(ip_ns),
            "name_lookup_ns_by_kind": by_kind, "ip_lookup_ns_by_kind": ip_by_kind,
            "lookup_errors": wrong, "base_effects_s": rnd(t3 - t),
            "steering_entries": sum(1 for e in steering if type(e).__name__ == "InstallFlow"
                                    and e.spec.priority in STEERING_PRIORITIES),
            "engine_flows": _flows(engine, names, flows)}


def rss_mib_self() -> dict:
    import os
    out = rss_mib(os.getpid())
    if "VmHWM" not in out:
        out["VmHWM"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


# ------------------------------------------------------------------ the real censor
def controller(policy_doc: dict, timeout: float) -> dict:
    """The censor process for `policy_doc` on a two-host network: start→socket, →ready."""
    from lab.run.censor import CensorProcess
    from lab.run.network import Network
    from lab.scenario.model import Host
    from lab.run.rundir import RunDir
    run = RunDir()
    censor = network = None
    out: dict = {}
    try:
        t = time.perf_counter()
        censor = CensorProcess(run, policy_doc, time.time())
        out["policy_write_s"] = rnd(time.perf_counter() - t)
        t = time.perf_counter()
        censor.start()
        out["start_to_socket_s"] = rnd(time.perf_counter() - t)
        specs = [Host("c0", CLIENT["ip"], CLIENT["mac"], "client"),
                 Host("s0", SERVER["ip"], SERVER["mac"], "internet")]
        network = Network(run, specs, censor.openflow_path, "secure")
        network.start()
        censor.wait_ready(timeout=timeout)
        out["start_to_ready_s"] = rnd(time.perf_counter() - t)
        mem = rss_mib(censor.proc.pid)
        out["rss_mib"] = mem.get("VmRSS")
        out["peak_rss_mib"] = mem.get("VmHWM")
    except Exception as e:           # a censor that cannot start at this size is a result
        log.debug("censor at this size failed", exc_info=True)
        out["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    finally:
        if network:
            network.stop()
        if censor:
            censor.stop()
        run.remove()
    return out


def run(sizes: list[int], folder: Path, lookups: int, flows: int, with_controller: bool
        ) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    out = {"sizes": sizes, "lookups": lookups, "layout": "sni rule: N patterns (half exact, "
           "half *.zone); ip rule: N /24 CIDRs", "results": []}
    for n in sizes:
        say(f"scale: {n:,} patterns + {n:,} CIDRs")
        doc = policy(n)
        path = folder / f"policy-{n}.json"
        path.write_text(json.dumps(doc))
        proc = __import__("subprocess").Popen(
            [python(), "-m", "bench.scale", "worker", str(path), str(lookups), str(flows)],
            stdout=-1, stderr=-1, text=True)
        row = {"n": n, "policy_json_mib": rnd(path.stat().st_size / 2**20, 1)}
        row.update(collect(proc, 600))
        if with_controller:
            row["controller"] = controller(doc, timeout=120)
        del doc
        path.unlink()
        out["results"].append(row)
    rows = [r for r in out["results"] if "name_lookup_ns" in r]
    if len(rows) >= 2:
        out["name_lookup_ratio_largest_vs_smallest"] = rnd(
            rows[-1]["name_lookup_ns"] / max(rows[0]["name_lookup_ns"], 1), 2)
        out["ip_lookup_ratio_largest_vs_smallest"] = rnd(
            rows[-1]["ip_lookup_ns"] / max(rows[0]["ip_lookup_ns"], 1), 2)
        out["flow_cost_ratio_largest_vs_smallest"] = rnd(
            rows[-1]["engine_flows"]["us_per_flow"] / rows[0]["engine_flows"]["us_per_flow"], 2)
    return out


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "worker":
        result = worker(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 100000,
                        int(sys.argv[4]) if len(sys.argv) > 4 else 5000)
        print(json.dumps(result))
    else:
        print("usage: python -m bench.scale worker POLICY.json [LOOKUPS] [FLOWS]",
              file=sys.stderr)
        sys.exit(2)
