"""New TLS flows per second classified by SNI, and the time to first byte the censor adds.

The traffic lab's web server (nginx, TLS 1.3, the run's CA) answers `*.web.bench.example`.
Generators (bench.loadgen, one per client host, a closed loop of `concurrency` flows each)
connect, send a real ClientHello and wait for the first byte back: half the SNIs are under
`*.blocked.web.bench.example`, which a `reset` rule (first in the policy, ahead of the 100
mixed rules) answers with RSTs, half are allowed and get nginx's ServerHello. Every flow has a
source port of its own, so each is a new flow the censor must decide (SYN, ACK and the
ClientHello go up; the decision installs the flow's pair).

Two policies, on fresh client hosts each (no 5-tuple is ever seen twice):
- `censor`: the reset rule + the mixed rules;
- `none`: the policy emptied (no steering: plain switching), the baseline.

Per policy: a throughput phase (all generators, `concurrency` each) and latency phases (one
generator, one flow at a time, so the figure is the censor's own delay and not queueing),
alternating censor / none `latency_reps` times.
Time to first byte runs from connect() to the first byte (allowed) or the RST (blocked).
CPU of the censor, ovs-vswitchd and the machine is sampled over the throughput phase, to
tell which part was the limit.
"""
from __future__ import annotations

import os

from bench.common import ovs_pid, percentile, rnd, run_generators, say

ALLOWED = [f"www{i}.web.bench.example" for i in range(4)]
BLOCKED = [f"x{i}.blocked.web.bench.example" for i in range(4)]
RESET_RULE = {"id": "bench-sni-reset", "match": {"sni": ["*.blocked.web.bench.example"]},
              "action": "reset"}


def _names() -> list[str]:
    out = []
    for a, b in zip(ALLOWED, BLOCKED):
        out += [f"{a}=answered", f"{b}=reset"]
    return out


def _phase(lab, hosts: list[str], concurrency: int, seconds: float, meter_pids: dict,
           ports: str = "1025-65535") -> tuple[list[dict], dict]:
    """Run the generators on `hosts`; their reports and the CPU sampled meanwhile."""
    ip = lab.scenario.host("web").ip
    return run_generators(lab, hosts, ["tls", ip, "--names", *_names(), "--concurrency",
                                       str(concurrency), "--ports", ports, "--timeout", "3",
                                       "--raw"], seconds, meter_pids)


def _latency_ports(rep: int, reps: int) -> str:
    """Rep `rep`'s share of the source ports: a latency host runs one phase per rep, and a
    5-tuple seen in an earlier rep could still have its switch entry."""
    span = (65535 - 1025 + 1) // reps
    lo = 1025 + rep * span
    return f"{lo}-{lo + span - 1}"


def _merge(results: list[dict], cpu: dict) -> dict:
    errors = [r["error"] + " " + r.get("stderr", "") for r in results if "error" in r]
    ok = [r for r in results if "error" not in r]
    flows = sum(r["flows"] for r in ok)
    dur = max((r["duration_s"] for r in ok), default=0) or 1
    outcomes: dict[str, dict[str, int]] = {}
    ttfb: dict[str, list[float]] = {}
    for r in ok:
        for expect, per in r["outcomes"].items():
            dst = outcomes.setdefault(expect, {})
            for k, v in per.items():
                dst[k] = dst.get(k, 0) + v
        for k, v in r.get("ttfb_raw_ms", {}).items():
            ttfb.setdefault(k, []).extend(v)
    right = sum(per.get(expect, 0) for expect, per in outcomes.items())
    out = {"flows": flows, "flows_per_s": rnd(flows / dur, 1), "generators": len(results),
           "concurrency_each": ok[0]["concurrency"] if ok else None,
           "outcomes": outcomes, "as_expected": right, "unexpected": flows - right,
           "generator_cpu_s": rnd(sum(r["cpu_s"] for r in ok)), "cpu_cores": cpu}
    for key in ("answered:answered", "reset:reset"):
        values = ttfb.get(key, [])
        out[f"ttfb_ms_{key.split(':')[0]}"] = {
            "p50": rnd(percentile(values, 50)), "p99": rnd(percentile(values, 99)),
            "n": len(values)}
    both = ttfb.get("answered:answered", []) + ttfb.get("reset:reset", [])
    out["ttfb_ms"] = {"p50": rnd(percentile(both, 50)), "p99": rnd(percentile(both, 99)),
                      "n": len(both)}
    if errors:
        out["errors"] = errors
    return out


def run(lab, censor_rules: list[dict], hosts: dict[str, list[str]], concurrency: int,
        seconds: float, latency_seconds: float, latency_reps: int = 1) -> dict:
    """`censor_rules`: the compiled policy (reset rule first); `hosts`: the client hosts of
    each phase: censor, none, censor_latency, none_latency. The latency phases alternate,
    censor then none, `latency_reps` times (this VM's speed drifts; pairs of neighbouring
    phases compare like with like); their samples are pooled."""
    from bench.goodput import _policy
    pids = {"censor": lab.censor.proc.pid, "ovs_vswitchd": ovs_pid()}
    out: dict = {"concurrency_per_generator": concurrency, "seconds": seconds,
                 "rules": len(censor_rules), "latency_reps": latency_reps}
    policies = (("censor", censor_rules), ("none", []))
    latency: dict[str, list] = {"censor": [], "none": []}
    cpu: dict[str, dict] = {}
    added_p50: list[float] = []
    for rep in range(latency_reps):
        say(f"new flows: latency {rep + 1}/{latency_reps}, censor then none "
            f"({latency_seconds:g}s each, one flow at a time)")
        p50 = {}
        for policy, rules in policies:
            _policy(lab, rules)
            results, cpu[policy] = _phase(lab, hosts[f"{policy}_latency"], 1, latency_seconds,
                                          pids, _latency_ports(rep, latency_reps))
            latency[policy] += results
            p50[policy] = _merge(results, cpu[policy])["ttfb_ms"]["p50"]
        if None not in p50.values():
            added_p50.append(rnd(p50["censor"] - p50["none"]))
    for policy, rules in policies:
        _policy(lab, rules)
        say(f"new flows: {policy}, throughput ({len(hosts[policy])} generators x "
            f"{concurrency}, {seconds:g}s)")
        thr = _merge(*_phase(lab, hosts[policy], concurrency, seconds, pids))
        out[policy] = {"throughput": thr, "latency": _merge(latency[policy], cpu[policy])}
    _policy(lab, [])
    out["added_ttfb_ms_p50_latency_each_rep"] = added_p50
    c, n = out["censor"], out["none"]
    out["flows_per_s"] = c["throughput"]["flows_per_s"]
    out["flows_per_s_no_censor"] = n["throughput"]["flows_per_s"]
    for phase in ("latency", "throughput"):
        for p in ("p50", "p99"):
            a, b = c[phase]["ttfb_ms"][p], n[phase]["ttfb_ms"][p]
            out[f"added_ttfb_ms_{p}_{phase}"] = rnd(a - b) if a is not None and b is not None \
                else None
    out["limit"] = _limit(c["throughput"])
    return out


def _limit(thr: dict) -> str:
    """Which part ran out first, from the CPU samples (1.0 = one core)."""
    cpu = thr.get("cpu_cores", {})
    censor = cpu.get("censor", 0)
    machine = cpu.get("machine_busy", 0)
    if censor >= 0.9:
        return f"the censor process (one Python thread) at {censor:.2f} cores"
    cores = os.cpu_count() or 1
    if machine >= 0.9 * cores:
        return (f"the machine's CPU ({machine:.2f} of {cores} cores busy; censor {censor:.2f}, "
                f"ovs-vswitchd {cpu.get('ovs_vswitchd', 0):.2f})")
    return (f"latency, not CPU (censor {censor:.2f} cores, machine {machine:.2f}): "
            "a closed loop is as fast as one flow's round trips")
