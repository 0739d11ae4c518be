"""DNS queries per second through a DNS policy with 10% of the names blocked, and the losses.

The traffic lab's `dns` server runs NSD, authoritative for `*.dns.bench.example` (a wildcard:
every name under it has an A record). The censor's policy: a `nxdomain` rule over a blocklist
of 1,000 exact names and one wildcard, ahead of the 100 mixed rules. Generators
(bench.loadgen dns, one per client host, a closed loop of `concurrency` queries each) ask for
names of which one in ten is on the blocklist (half exact entries, half under the wildcard):
those must come back NXDOMAIN from the censor, the others NOERROR from NSD. Every query comes
from a fresh socket on a port of its own, as a stub resolver or a port-randomising recursive
resolver sends them, so every query is a new flow the censor inspects.

`lost` counts queries with no answer within the timeout; `wrong` answers that break the
policy (a blocked name answered, an allowed one refused). Measured with the censor and with
the policy emptied (plain switching: what NSD and the generators manage alone).
"""
from __future__ import annotations

from bench.common import ovs_pid, rnd, run_generators, say

BLOCKED_EXACT = [f"b{i}.dns.bench.example" for i in range(1000)]
BLOCK_RULE = {"id": "bench-dns-block",
              "match": {"dns": BLOCKED_EXACT + ["*.blocked.dns.bench.example"]},
              "action": "nxdomain"}


def names() -> list[str]:
    """100 NAME=EXPECT: 90 allowed, 5 exact blocklist entries, 5 under the wildcard."""
    out = []
    for i in range(100):
        if i % 20 == 3:
            out.append(f"b{i * 7 % 1000}.dns.bench.example=nxdomain")
        elif i % 20 == 13:
            out.append(f"q{i}.blocked.dns.bench.example=nxdomain")
        else:
            out.append(f"a{i}.dns.bench.example=noerror")
    return out


def _phase(lab, hosts: list[str], concurrency: int, seconds: float, pids: dict,
           ports: str = "1025-65535") -> dict:
    ip = lab.scenario.host("dns").ip
    results, cpu = run_generators(lab, hosts, ["dns", ip, "--names", *names(), "--concurrency",
                                               str(concurrency), "--ports", ports, "--timeout",
                                               "2"], seconds, pids)
    ok = [r for r in results if "error" not in r]
    sent = sum(r["flows"] for r in ok)
    dur = max((r["duration_s"] for r in ok), default=0) or 1
    outcomes: dict[str, dict[str, int]] = {}
    for r in ok:
        for expect, per in r["outcomes"].items():
            dst = outcomes.setdefault(expect, {})
            for k, v in per.items():
                dst[k] = dst.get(k, 0) + v
    lost = sum(per.get("lost", 0) for per in outcomes.values())
    right = sum(per.get(expect, 0) for expect, per in outcomes.items())
    answered = sent - lost
    lat = {}
    for r in ok:
        for k, v in r.get("ttfb_ms", {}).items():
            lat.setdefault(k, []).append(v)
    out = {"queries": sent, "answered": answered, "qps": rnd(answered / dur, 1),
           "lost": lost, "wrong": answered - right, "outcomes": outcomes,
           "generators": len(hosts), "concurrency_each": concurrency,
           "latency_ms_p50": {k: rnd(sum(x["p50"] for x in v) / len(v))
                              for k, v in lat.items()},
           "generator_cpu_s": rnd(sum(r["cpu_s"] for r in ok)), "cpu_cores": cpu}
    errors = [r["error"] + " " + r.get("stderr", "") for r in results if "error" in r]
    if errors:
        out["errors"] = errors
    return out


def run(lab, censor_rules: list[dict], hosts: dict[str, list[str]], concurrency: int,
        seconds: float, reps: int = 1) -> dict:
    """Censor then none, `reps` times (this VM's speed drifts): each policy's figure is its
    median run; losses and wrong answers are summed over all runs."""
    from bench.goodput import _policy
    pids = {"censor": lab.censor.proc.pid, "ovs_vswitchd": ovs_pid()}
    out: dict = {"seconds": seconds, "reps": reps, "blocked_share": 0.10,
                 "blocklist": len(BLOCK_RULE["match"]["dns"]), "rules": len(censor_rules)}
    runs: dict[str, list[dict]] = {"censor": [], "none": []}
    span = (65535 - 1025 + 1) // reps
    for rep in range(reps):
        ports = f"{1025 + rep * span}-{1025 + (rep + 1) * span - 1}"
        for policy, rules in (("censor", censor_rules), ("none", [])):
            _policy(lab, rules)
            say(f"dns: {policy} {rep + 1}/{reps} ({len(hosts[policy])} generators x "
                f"{concurrency}, {seconds:g}s)")
            runs[policy].append(_phase(lab, hosts[policy], concurrency, seconds, pids, ports))
    _policy(lab, [])
    for policy, results in runs.items():
        ranked = sorted(results, key=lambda r: r["qps"])
        out[policy] = dict(ranked[len(ranked) // 2],
                           qps_each_run=[r["qps"] for r in results],
                           lost_all_runs=sum(r["lost"] for r in results),
                           wrong_all_runs=sum(r["wrong"] for r in results),
                           queries_all_runs=sum(r["queries"] for r in results))
    out["qps"] = out["censor"]["qps"]
    out["lost"] = out["censor"]["lost_all_runs"]
    out["wrong"] = out["censor"]["wrong_all_runs"]
    out["qps_no_censor"] = out["none"]["qps"]
    return out
