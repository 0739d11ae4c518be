"""The routed network against the one-switch lab: goodput, new TLS flows/s, lab up and down.

Two labs up side by side in one run, with the same servers and the same rules:

- `flat`: the one-switch lab (every host on one segment behind one censor, the star), with
  3 × N clients, its censor holding the SNI reset rule and the 100 mixed rules;
- `routed`: 3 ISPs (home, mobile, uni) of N clients each behind real routers (R-home,
  R-mobile, R-uni, BORDER) and 2 censors: `tspu` on home.uplink with the 100 mixed rules and
  `gfw` at the border with the reset rule and the 100 mixed rules. Every measured flow starts
  at a home client, so it crosses R-home, tspu, BORDER and gfw: two routers and two censors
  that each decide it (the longest path the network has).

Measured on both, alternating flat / routed `reps` times so that a burst of load from
elsewhere on the machine hits both alike:

- goodput: one iperf3 TCP stream, a client → the bulk server (bench.goodput's iperf3 run);
- new flows: bench.loadgen TLS generators on `generators` clients, `concurrency` flows each,
  half the SNIs reset by the censor (gfw on the routed path), as bench.newflows does; a fresh
  share of source ports each rep, so no 5-tuple is ever seen twice;
- lab up / down (Lab.timings) of each lab: the routed one is the issue's 3 ISPs × 10 clients
  in the full run (target ≤ 10 s each).

Ratios are routed / flat: each rep's routed figure over the flat one measured next to it, the
median of those (drift cancels), and the ratio of the medians.
"""
from __future__ import annotations

from pathlib import Path

from bench import rules as R
from bench.common import median, ovs_pid, rnd, run_generators, say, scenario

ISPS = ("home", "mobile", "uni")
KINDS = {"home": "home", "mobile": "mobile", "uni": "university"}


def clients(per_isp: int) -> dict[str, list[str]]:
    """The clients of each ISP: h00.., m00.., u00.. (the flat lab has the same names)."""
    return {isp: [f"{isp[0]}{i:02d}" for i in range(per_isp)] for isp in ISPS}


def network(per_isp: int, reset_rule: dict, mixed: list[dict]) -> dict:
    """The routed lab's `network:` section: 3 ISPs, tspu on home.uplink, gfw at the border."""
    return {"isps": [{"name": isp, "kind": KINDS[isp], "clients": names}
                     for isp, names in clients(per_isp).items()],
            "censors": [{"name": "tspu", "at": "home.uplink", "rules": mixed},
                        {"name": "gfw", "at": "border", "rules": [reset_rule, *mixed]}]}


def summarize(samples: dict[str, dict[str, list]]) -> dict:
    """Figures and ratios from each lab's per-rep samples: samples[lab][measure] is a list
    (one value per rep, None for a failed rep) for lab in flat/routed and measure in
    gbit_s/flows_per_s."""
    out: dict = {}
    for measure, key in (("gbit_s", "goodput"), ("flows_per_s", "flows")):
        flat = samples["flat"][measure]
        routed = samples["routed"][measure]
        f_med = median([x for x in flat if x is not None])
        r_med = median([x for x in routed if x is not None])
        pairs = [r / f for r, f in zip(routed, flat) if r is not None and f]
        name = "goodput_gbit_s" if key == "goodput" else "flows_per_s"
        out[name] = rnd(r_med)
        out[f"{name}_flat"] = rnd(f_med)
        out[f"{key}_paired_ratios_vs_flat"] = [rnd(x) for x in pairs]
        out[f"{key}_ratio_vs_flat"] = rnd(median(pairs))
        out[f"{key}_ratio_of_medians_vs_flat"] = rnd(r_med / f_med) if r_med and f_med else None
    return out


def run(cfg: dict, folder: Path, servers: list[dict], reset_rule: dict) -> dict:
    """The section: both labs up, `cfg["routed_reps"]` alternating reps, both labs down."""
    from lab.run.lab import Lab
    per_isp, reps = cfg["routed_clients_per_isp"], cfg["routed_reps"]
    gens = cfg["tls_generators"]
    if per_isp < gens + 1:
        raise ValueError(f"{per_isp} clients per ISP: need {gens + 1} (generators + iperf3)")
    mixed = R.mixed_rules(100)
    names = clients(per_isp)
    every = [c for isp in ISPS for c in names[isp]]
    flat_sc = scenario(folder, "bench-flat", every, servers, [reset_rule, *mixed])
    routed_sc = scenario(folder, "bench-routed", every, servers, [],
                         network=network(per_isp, reset_rule, mixed))
    home = names["home"]
    out: dict = {"isps": len(ISPS), "clients_per_isp": per_isp, "censors": 2, "routers": 4,
                 "reps": reps, "rules_per_censor": {"tspu": len(mixed), "gfw": len(mixed) + 1,
                                                    "flat": len(mixed) + 1},
                 "path": "h* -> R-home -> tspu (home.uplink) -> BORDER -> gfw (border) -> bulk/web",
                 "goodput_seconds": cfg["goodput_seconds"], "flows_seconds": cfg["flows_seconds"],
                 "generators": gens, "concurrency_each": cfg["tls_concurrency"]}
    samples = {lab: {"gbit_s": [], "flows_per_s": []} for lab in ("flat", "routed")}
    detail: dict = {"flat": [], "routed": []}
    flat_lab, routed_lab = Lab(flat_sc), Lab(routed_sc)
    try:
        say(f"routed: one-switch lab up ({len(every)} clients)")
        flat_lab.up()
        say(f"routed: routed lab up ({len(ISPS)} ISPs x {per_isp} clients, 2 censors)")
        routed_lab.up()
        out["up_s_flat"] = rnd(flat_lab.timings.get("up"), 2)
        out["up_s"] = rnd(routed_lab.timings.get("up"), 2)
        labs = {"flat": (flat_lab, {"censor": flat_lab.censor.proc.pid}),
                "routed": (routed_lab, {n: c.proc.pid for n, c in routed_lab.censors.items()})}
        for rep in range(reps):
            for which, (lab, pids) in labs.items():
                say(f"routed: {which} goodput and new flows ({rep + 1}/{reps})")
                got = _measure(lab, home, pids, cfg, rep, reps)
                samples[which]["gbit_s"].append(got["goodput"].get("gbit_s"))
                samples[which]["flows_per_s"].append(got["flows"].get("flows_per_s"))
                detail[which].append(got)
    finally:
        routed_lab.down()
        flat_lab.down()
    out["down_s"] = rnd(routed_lab.timings.get("down"), 2)
    out["down_s_flat"] = rnd(flat_lab.timings.get("down"), 2)
    out.update(summarize(samples))
    out["unexpected_flows"] = {w: sum(d["flows"].get("unexpected", 0) for d in detail[w])
                               for w in detail}
    errors = [f"{w} rep {i + 1}: {e}" for w in detail for i, d in enumerate(detail[w])
              for e in (d["goodput"].get("error"), *d["flows"].get("errors", [])) if e]
    if errors:
        out["errors"] = errors
    out["runs"] = detail
    return out


def _measure(lab, home: list[str], pids: dict, cfg: dict, rep: int, reps: int) -> dict:
    """One rep on one lab: iperf3 from the first home client (h00, in both labs), then the
    TLS generators on the next ones."""
    from bench.goodput import _iperf
    from bench.newflows import _latency_ports, _merge, _names
    bulk = lab.scenario.host("bulk").ip
    goodput = _iperf(lambda cmd, **kw: lab.popen("bulk", cmd, **kw),
                     lambda cmd, **kw: lab.popen(home[0], cmd, **kw), bulk,
                     cfg["goodput_seconds"])
    web = lab.scenario.host("web").ip
    gens = home[1:1 + cfg["tls_generators"]]
    results, cpu = run_generators(
        lab, gens, ["tls", web, "--names", *_names(), "--concurrency",
                    str(cfg["tls_concurrency"]), "--ports", _latency_ports(rep, reps),
                    "--timeout", "3"], cfg["flows_seconds"], {**pids, "ovs_vswitchd": ovs_pid()})
    flows = _merge(results, cpu)
    return {"goodput": goodput, "flows": {k: flows.get(k) for k in
                                          ("flows", "flows_per_s", "as_expected", "unexpected",
                                           "outcomes", "cpu_cores", "errors") if k in flows}}
