"""The benchmark's results as a Markdown table: one row per figure, its target, met or not."""
from __future__ import annotations


def _fmt(v, unit: str = "", digits: int = 2) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        text = f"{v:,.{digits}f}"
    elif isinstance(v, int):
        text = f"{v:,}"
    else:
        text = str(v)
    return f"{text} {unit}".strip()


def _mark(ok) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def _ratio(a, b) -> float | None:
    return a / b if a is not None and b else None


def rows(result: dict) -> list[tuple[str, str, str, str]]:
    """(measure, value, target, met) for the table."""
    out: list[tuple[str, str, str, str]] = []
    g = result.get("goodput")
    if g:
        r = g.get("ratio_vs_ovs_plain")
        paired = g.get("median_paired_ratio_vs_ovs_plain")
        judged = paired if paired is not None else r    # pairs run back to back: drift cancels
        out.append((f"Allowed goodput through the censor ({g['rules']} rules, none matching)",
                    _fmt(g["censor"]["gbit_s"], "Gbit/s"), "", ""))
        out.append(("Same lab, no rules (NORMAL only)", _fmt(g["lab_no_rules"]["gbit_s"],
                                                             "Gbit/s"), "", ""))
        out.append(("Plain OVS bridge, no controller", _fmt(g["ovs_plain"]["gbit_s"], "Gbit/s"),
                    "", ""))
        out.append(("Goodput ratio censor / plain OVS (median of paired runs; of medians)",
                    f"{_fmt(paired)}; {_fmt(r)}", "≥ 0.95",
                    _mark(None if judged is None else judged >= 0.95)))
        out.append(("Goodput ratio censor / same lab without rules",
                    _fmt(g.get("ratio_vs_lab_no_rules")), "", ""))
        out.append(("Ceiling: Linux bridge (namespaces)", _fmt(g["linux_bridge"]["gbit_s"],
                                                               "Gbit/s"), "", ""))
    n = result.get("new_flows")
    if n:
        fps = n.get("flows_per_s")
        c = n["censor"]["throughput"]
        out.append((f"New TLS flows/s classified by SNI ({c['generators']}×"
                    f"{n['concurrency_per_generator']} concurrent, half reset)",
                    _fmt(fps, "/s", 0), "", ""))
        out.append(("New TLS flows/s, same lab without censor rules",
                    _fmt(n.get("flows_per_s_no_censor"), "/s", 0), "", ""))
        ratio = _ratio(fps, n.get("flows_per_s_no_censor"))
        out.append(("New-flow ratio censor / same lab without rules", _fmt(ratio), "≥ 0.8",
                    _mark(None if ratio is None else ratio >= 0.8)))
        out.append(("Flows decided as the policy says", f"{c['as_expected']:,} of "
                    f"{c['flows']:,}", "all", _mark(c["unexpected"] == 0)))
        p50 = n.get("added_ttfb_ms_p50_latency")
        reps = n.get("latency_reps", 1)
        each = n.get("added_ttfb_ms_p50_latency_each_rep") or []
        label = "Time to first byte added by the censor, p50 (one flow at a time" + (
            f"; {reps} alternating runs pooled, each: "
            + ", ".join(_fmt(x) for x in each) + " ms)" if reps > 1 else ")")
        out.append((label, _fmt(p50, "ms"), "≤ 0.5 ms",
                    _mark(None if p50 is None else p50 <= 0.5)))
        out.append(("Time to first byte added by the censor, p99 (one flow at a time)",
                    _fmt(n.get("added_ttfb_ms_p99_latency"), "ms"), "", ""))
        ct, nt = c["ttfb_ms"], n["none"]["throughput"]["ttfb_ms"]
        out.append(("Time to first byte under the throughput load, p50 / p99: censor; none",
                    f"{_fmt(ct['p50'])} / {_fmt(ct['p99'], 'ms')}; "
                    f"{_fmt(nt['p50'])} / {_fmt(nt['p99'], 'ms')}", "", ""))
        loaded = n.get("added_ttfb_ms_p50_throughput")
        out.append(("Time to first byte added by the censor under that load, p50",
                    _fmt(loaded, "ms"), "≤ 5 ms",
                    _mark(None if loaded is None else loaded <= 5.0)))
        out.append(("What limited new flows", n.get("limit", "n/a"), "", ""))
    d = result.get("dns")
    if d:
        qps = d.get("qps")
        each = d["censor"].get("qps_each_run") or []
        runs = (f"; median of {len(each)} runs: " + ", ".join(_fmt(x, "", 0) for x in each)
                if len(each) > 1 else "")
        out.append((f"DNS queries/s through the censor ({int(d['blocked_share'] * 100)}% "
                    f"blocked, each query a new flow{runs})", _fmt(qps, "/s", 0),
                    "", ""))
        queries = d["censor"].get("queries_all_runs", d["censor"]["queries"])
        out.append(("DNS queries lost / answered against the policy",
                    f"{d['lost']:,} of {queries:,} / {d['wrong']:,}", "0",
                    _mark(d["lost"] == 0 and d["wrong"] == 0)))
        out.append(("DNS queries/s, same lab without censor rules",
                    _fmt(d.get("qps_no_censor"), "/s", 0), "", ""))
        ratio = _ratio(qps, d.get("qps_no_censor"))
        out.append(("DNS ratio censor / same lab without rules", _fmt(ratio), "≥ 0.6",
                    _mark(None if ratio is None else ratio >= 0.6)))
    s = result.get("scale")
    if s:
        for r in s["results"]:
            ctl = r.get("controller", {})
            n_ = r["n"]
            load = r.get("load_s")
            ready = ctl.get("start_to_ready_s")
            rss = ctl.get("rss_mib") or r.get("rss_mib")
            big = n_ >= 10**6
            out.append((f"Blocklist {n_:,} names + {n_:,} CIDRs: engine load from JSON",
                        _fmt(load, "s"), "≤ 10 s" if big else "",
                        _mark(None if load is None else load <= 10) if big else ""))
            if ctl:
                out.append((f"Blocklist {n_:,}: censor start → ready / RSS",
                            f"{_fmt(ready, 's')} / {_fmt(rss, 'MiB', 0)}"
                            + (f" ({ctl['error']})" if "error" in ctl else ""),
                            "RSS ≤ 1,024 MiB" if big else "",
                            _mark(None if rss is None else rss <= 1024) if big else ""))
            if "name_lookup_ns" in r:
                out.append((f"Blocklist {n_:,}: name / address lookup, whole new flow",
                            f"{r['name_lookup_ns']:,} ns / {r['ip_lookup_ns']:,} ns, "
                            f"{r['engine_flows']['us_per_flow']:.0f} µs",
                            "", ""))
        ratio = s.get("name_lookup_ratio_largest_vs_smallest")
        if ratio is not None:
            flat = max(ratio, s.get("ip_lookup_ratio_largest_vs_smallest") or 0)
            out.append(("Lookup cost, largest / smallest blocklist (name, address, flow)",
                        f"{ratio:.2f}, {s.get('ip_lookup_ratio_largest_vs_smallest'):.2f}, "
                        f"{s.get('flow_cost_ratio_largest_vs_smallest'):.2f}",
                        "flat (≤ 1.5)", _mark(flat <= 1.5)))
    z = result.get("lab_size")
    if z:
        for r in z["results"]:
            big = r["clients"] >= 100
            up, down = r.get("up_s"), r.get("down_s")
            ok = None if up is None or down is None else (up <= 30 and down <= 10)
            out.append((f"Lab of {r['clients']} clients: up / down",
                        f"{_fmt(up, 's', 1)} / {_fmt(down, 's', 1)}"
                        + (f" ({r['error']})" if "error" in r else ""),
                        "≤ 30 s / ≤ 10 s" if big else "", _mark(ok) if big else ""))
    out += _routed_rows(result.get("routed"))
    return out


def _routed_rows(r: dict | None) -> list[tuple[str, str, str, str]]:
    """The routed section: routed / one-switch figures and both labs' up/down."""
    if not r or "error" in r:
        return []
    path = f"{r['isps']} ISPs, {r['routers']} routers, {r['censors']} censors"
    both = "median of paired runs; of medians"
    return [
        (f"Goodput through {path} (two routers, two censors) / one switch",
         f"{_fmt(r['goodput_gbit_s'], 'Gbit/s')} / {_fmt(r['goodput_gbit_s_flat'], 'Gbit/s')}",
         "", ""),
        (f"Goodput ratio routed / one switch ({both})",
         f"{_fmt(r['goodput_ratio_vs_flat'])}; {_fmt(r['goodput_ratio_of_medians_vs_flat'])}",
         "", ""),
        ("New TLS flows/s through both censors / one switch",
         f"{_fmt(r['flows_per_s'], '/s', 0)} / {_fmt(r['flows_per_s_flat'], '/s', 0)}", "", ""),
        (f"New-flow ratio routed / one switch ({both})",
         f"{_fmt(r['flows_ratio_vs_flat'])}; {_fmt(r['flows_ratio_of_medians_vs_flat'])}",
         "", ""),
        ("Flows decided against the policy: routed; one switch",
         f"{r['unexpected_flows']['routed']:,}; {r['unexpected_flows']['flat']:,}", "0",
         _mark(r["unexpected_flows"]["routed"] == 0 and r["unexpected_flows"]["flat"] == 0)),
        (f"Routed lab of {r['isps']} ISPs × {r['clients_per_isp']} clients: up / down",
         f"{_fmt(r['up_s'], 's', 1)} / {_fmt(r['down_s'], 's', 1)}",
         "≤ 10 s / ≤ 10 s" if r["clients_per_isp"] >= 10 else "",
         _mark(None if r["up_s"] is None or r["down_s"] is None
               else r["up_s"] <= 10 and r["down_s"] <= 10) if r["clients_per_isp"] >= 10
         else ""),
        (f"One-switch lab of the same {r['isps'] * r['clients_per_isp']} clients: up / down",
         f"{_fmt(r['up_s_flat'], 's', 1)} / {_fmt(r['down_s_flat'], 's', 1)}", "", ""),
    ]


def markdown(result: dict) -> str:
    m = result.get("machine", {})
    lines = [f"Machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB, "
             f"{m.get('os')}, kernel {m.get('kernel')}, OVS {m.get('ovs')} "
             f"({m.get('ovs_datapath')}"
             + (", userspace TSO" if m.get("ovs_userspace_tso") else "")
             + f"), Python {m.get('python')}"
             + (", the censor compiled" if m.get("censor_compiled") else
                ", the censor from source" if "censor_compiled" in m else "")
             + f"; hypervisor {m.get('hypervisor')}, "
             f"container {m.get('container')}.",
             f"Load average before / after: {result.get('load_before', {}).get('loadavg')} / "
             f"{result.get('load_after', {}).get('loadavg')}"
             f"{' (quick run)' if result.get('quick') else ''}; {result.get('duration_s')} s in "
             "all.", "",
             "| Measure | Value | Target | |", "|---|---|---|---|"]
    for measure, value, target, met in rows(result):
        lines.append(f"| {measure} | {value} | {target} | {met} |")
    return "\n".join(lines) + "\n"
