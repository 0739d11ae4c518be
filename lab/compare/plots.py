"""The comparison's pictures (matplotlib, no display): goodput bars and a success heatmap."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

STATUS_COLOR = {"works": "#1a9850", "degraded": "#fdae61", "partial": "#fee08b",
                "blocked": "#d73027", "failed": "#7f7f7f"}


def _cells(m: dict) -> dict:
    return {(c["tool"], c["scenario"]): c for c in m["cells"]}


def goodput(m: dict, path: Path) -> Path:
    """Grouped bars: one group per scenario, one bar per tool, log scale, min–max whiskers;
    an × where the tool got nothing through."""
    cells, tools = _cells(m), m["tools"]
    names = [s["name"] for s in m["scenarios"]]
    width = 0.8 / max(1, len(tools))
    fig, ax = plt.subplots(figsize=(min(14, max(6, 2 + len(names) * len(tools) * 0.3)), 5))
    cmap = plt.get_cmap("tab20")
    floor = 0.01
    for i, tool in enumerate(tools):
        xs, ys, lo, hi, misses = [], [], [], [], []
        for j, name in enumerate(names):
            x = j - 0.4 + width * (i + 0.5)
            g = cells.get((tool, name), {}).get("goodput_mbit")   # no cell: no trials
            if g:
                xs.append(x)
                ys.append(max(g["median"], floor))
                lo.append(max(g["median"], floor) - max(g["min"], floor))
                hi.append(max(g["max"], floor) - max(g["median"], floor))
            else:
                misses.append(x)
        ax.bar(xs, ys, width, label=tool, color=cmap(i % 20), yerr=[lo, hi] if xs else None,
               capsize=2, error_kw={"elinewidth": 0.8})
        ax.plot(misses, [floor * 1.3] * len(misses), "x", color=cmap(i % 20), markersize=8)
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor)
    ax.set_xticks(range(len(names)), names, rotation=15, ha="right")
    ax.set_ylabel("bulk goodput (Mbit/s, log)")
    ax.set_title("Goodput through each tool (× = nothing came through)")
    ax.legend(fontsize=8, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def success(m: dict, path: Path) -> Path:
    """Tools × scenarios: colour = status, number = share of targets that answered."""
    cells, tools = _cells(m), m["tools"]
    names = [s["name"] for s in m["scenarios"]]
    fig, ax = plt.subplots(figsize=(2.2 + 1.9 * len(names), 1.0 + 0.45 * len(tools)))
    for i, tool in enumerate(tools):
        for j, name in enumerate(names):
            c = cells.get((tool, name))
            if c is None:                  # no trials (a campaign's missing ones)
                continue
            ax.add_patch(plt.Rectangle((j, i), 1, 1, color=STATUS_COLOR[c["status"]],
                                       ec="white", lw=2))
            label = f"{c['status']}\n{c['success'] * 100:.0f}%"
            if c["blocked_by"] and c["status"] != "works":
                more = len(c["blocked_by"]) - 1
                label += f"\n{c['blocked_by'][0][:18]}" + (f" +{more}" if more else "")
            ax.text(j + 0.5, i + 0.5, label, ha="center", va="center", fontsize=7)
    ax.set_xlim(0, len(names))
    ax.set_ylim(len(tools), 0)
    ax.set_xticks([j + 0.5 for j in range(len(names))], names, rotation=15, ha="right")
    ax.set_yticks([i + 0.5 for i in range(len(tools))], tools)
    ax.set_title("Which tool gets through (share of targets answered)")
    for side in ax.spines.values():
        side.set_visible(False)
    ax.tick_params(length=0)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
