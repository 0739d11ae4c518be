"""The benchmark's plots (matplotlib, Agg: no display needed): PNG files in the output folder.

- blocklist.png: cost vs. blocklist size (name lookup, address lookup, whole new flow; and
  engine load time and RSS), log-scaled sizes;
- labsize.png: lab up and down time vs. number of clients;
- goodput.png: the four goodput figures side by side.
"""
from __future__ import annotations

from pathlib import Path


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _saved(plt, fig, path: Path) -> Path:
    """`fig` laid out, written to `path` as PNG and closed; the path."""
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def blocklist(scale: dict, path: Path) -> Path | None:
    rows = [r for r in scale.get("results", []) if "name_lookup_ns" in r]
    if not rows:
        return None
    plt = _plt()
    n = [r["n"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    a.plot(n, [r["name_lookup_ns"] / 1000 for r in rows], "o-", label="name lookup (µs)")
    a.plot(n, [r["ip_lookup_ns"] / 1000 for r in rows], "s-", label="address lookup (µs)")
    a.plot(n, [r["engine_flows"]["us_per_flow"] / 100 for r in rows], "^-",
           label="whole new flow in the engine (100 µs)")
    a.set_xscale("log")
    a.set_ylim(bottom=0)
    a.set_xlabel("domain patterns (and as many CIDRs)")
    a.set_ylabel("cost per lookup / flow")
    a.set_title("Per-lookup cost vs. blocklist size")
    a.legend(fontsize=8)
    a.grid(alpha=0.3)
    b.plot(n, [r["load_s"] for r in rows], "o-", label="engine load from JSON (s)")
    ready = [(r["n"], r["controller"]["start_to_ready_s"]) for r in rows
             if r.get("controller", {}).get("start_to_ready_s") is not None]
    if ready:
        b.plot(*zip(*ready), "s-", label="censor start → ready (s)")
    b.set_xscale("log")
    b.set_xlabel("domain patterns (and as many CIDRs)")
    b.set_ylabel("seconds")
    b.set_ylim(bottom=0)
    b2 = b.twinx()
    rss = [(r["n"], r.get("controller", {}).get("rss_mib") or r["rss_mib"]) for r in rows]
    b2.plot(*zip(*rss), "d--", color="tab:red", label="RSS (MiB)")
    b2.set_ylabel("MiB", color="tab:red")
    b2.set_ylim(bottom=0)
    b.set_title("Load time and memory vs. blocklist size")
    h1, l1 = b.get_legend_handles_labels()
    h2, l2 = b2.get_legend_handles_labels()
    b.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
    b.grid(alpha=0.3)
    return _saved(plt, fig, path)


def labsize(lab_size: dict, path: Path) -> Path | None:
    rows = [r for r in lab_size.get("results", []) if r.get("up_s") is not None]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    x = [r["clients"] for r in rows]
    ax.plot(x, [r["up_s"] for r in rows], "o-", label="up")
    ax.plot(x, [r["down_s"] for r in rows], "s-", label="down")
    ax.set_xlabel("clients")
    ax.set_ylabel("seconds")
    ax.set_ylim(bottom=0)
    ax.set_title("Lab up / down time vs. clients")
    ax.legend()
    ax.grid(alpha=0.3)
    return _saved(plt, fig, path)


def goodput(g: dict, path: Path) -> Path | None:
    names = [("censor", "censor\n(100 rules)"), ("lab_no_rules", "same lab\nno rules"),
             ("ovs_plain", "plain OVS\nno controller"), ("linux_bridge", "Linux bridge")]
    vals = [(label, g.get(k, {}).get("gbit_s")) for k, label in names]
    vals = [(label, v) for label, v in vals if v is not None]
    if not vals:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar([label for label, _ in vals], [v for _, v in vals],
           color=["tab:red", "tab:orange", "tab:blue", "tab:green"][:len(vals)])
    for i, (_, v) in enumerate(vals):
        ax.text(i, v, f"{v:.2f}", ha="center", va="bottom")
    ax.set_ylabel("Gbit/s (iperf3, one TCP stream)")
    ax.set_title("Allowed goodput")
    return _saved(plt, fig, path)
