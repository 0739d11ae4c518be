"""Goodput of an allowed bulk flow: iperf3 through the censor vs. without it, and the ceiling.

Four ways between two hosts, each measured `reps` times (interleaved, so a burst of load from
elsewhere on the machine hits all of them alike), median reported:

- `censor`: a lab's client → a lab server, the censor loaded with 100 rules of every kind,
  none matching (bench.rules.mixed_rules): the flow is steered, decided, then carried by its
  per-flow entry;
- `lab_no_rules`: the same lab, policy emptied over the control socket (no steering: the
  switch's NORMAL entry alone);
- `ovs_plain`: an OVS bridge with no controller at all and as many ports as the lab
  (bench.topologies, same datapath);
- `linux_bridge`: a Linux bridge in a namespace of its own: the machine's ceiling.

Ratio = censor / ovs_plain (and / lab_no_rules). TCP, one stream, iperf3 defaults otherwise.
"""
from __future__ import annotations

import json
import subprocess
import time

from bench.common import median, rnd, say
from bench.topologies import Pair
from lab.services.base import listening

PORT = 5201


def _iperf(server_popen, client_popen, server_ip: str, seconds: float) -> dict:
    server = server_popen(["iperf3", "-s", "-1", "-B", server_ip, "-p", str(PORT)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 5
        while not listening(server.pid, "tcp", PORT) and time.monotonic() < deadline:
            if server.poll() is not None:
                return {"error": f"iperf3 server exited: {server.stderr.read()[-500:]}"}
            time.sleep(0.02)    # polling step of a deadline wait
        client = client_popen(["iperf3", "-c", server_ip, "-p", str(PORT), "-t", f"{seconds:g}",
                               "-J"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = client.communicate(timeout=seconds + 20)
        except subprocess.TimeoutExpired:
            client.kill()
            client.communicate()
            return {"error": "iperf3 client timed out"}
        try:
            data = json.loads(out)
        except ValueError:
            return {"error": f"iperf3: {(err or out)[-500:]}"}
        if "error" in data:
            return {"error": f"iperf3: {data['error']}"}
        end = data["end"]
        return {"gbit_s": round(end["sum_received"]["bits_per_second"] / 1e9, 3),
                "retransmits": end["sum_sent"].get("retransmits")}
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()


def run(lab, censor_rules: list[dict], seconds: float, reps: int) -> dict:
    """`lab`: the benchmark's traffic lab (client c00, server bulk); `censor_rules`: the
    compiled mixed rules."""
    bulk_ip = lab.scenario.host("bulk").ip

    def lab_run() -> dict:
        return _iperf(lambda cmd, **kw: lab.popen("bulk", cmd, **kw),
                      lambda cmd, **kw: lab.popen("c00", cmd, **kw), bulk_ip, seconds)

    def censor() -> dict:
        _policy(lab, censor_rules)
        return lab_run()

    def no_rules() -> dict:
        _policy(lab, [])
        return lab_run()

    samples: dict[str, list[dict]] = {"censor": [], "lab_no_rules": [], "ovs_plain": [],
                                      "linux_bridge": []}
    with Pair("ovs", ports=len(lab.scenario.hosts())) as ovs, Pair("linux") as br:
        def pair_run(pair: Pair) -> dict:
            return _iperf(lambda cmd, **kw: pair.popen("b", cmd, **kw),
                          lambda cmd, **kw: pair.popen("a", cmd, **kw), pair.ip["b"], seconds)
        ways = [("censor", censor), ("lab_no_rules", no_rules),
                ("ovs_plain", lambda: pair_run(ovs)), ("linux_bridge", lambda: pair_run(br))]
        for rep in range(reps):
            for name, fn in ways:
                say(f"goodput: {name} ({rep + 1}/{reps}, {seconds:g}s)")
                samples[name].append(fn())
    _policy(lab, [])
    out: dict = {"seconds": seconds, "reps": reps, "rules": len(censor_rules),
                 "datapath": ovs.datapath}
    for name, runs in samples.items():
        values = [r["gbit_s"] for r in runs if "gbit_s" in r]
        errors = [r["error"] for r in runs if "error" in r]
        out[name] = {"gbit_s": rnd(median(values)), "runs_gbit_s": values,
                     "retransmits": [r.get("retransmits") for r in runs if "gbit_s" in r]}
        if errors:
            out[name]["errors"] = errors
    base = out["ovs_plain"]["gbit_s"]
    lab_base = out["lab_no_rules"]["gbit_s"]
    got = out["censor"]["gbit_s"]
    out["ratio_vs_ovs_plain"] = rnd(got / base) if got and base else None
    out["ratio_vs_lab_no_rules"] = rnd(got / lab_base) if got and lab_base else None
    # each repetition's censor run against the plain-OVS run right after it: slow drifts in
    # the machine's load cancel out, only run-to-run noise is left
    pairs = [c["gbit_s"] / p["gbit_s"] for c, p in zip(samples["censor"], samples["ovs_plain"])
             if "gbit_s" in c and "gbit_s" in p and p["gbit_s"]]
    out["paired_ratios_vs_ovs_plain"] = [rnd(x) for x in pairs]
    out["median_paired_ratio_vs_ovs_plain"] = rnd(median(pairs))
    return out


def _policy(lab, rules: list[dict]) -> None:
    reply = lab.control({"cmd": "policy", "rules": rules})
    if not reply.get("ok"):
        raise RuntimeError(f"the censor refused the policy: {reply.get('error')}")
