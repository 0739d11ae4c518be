"""The report's and the shell's plots, as PNG files (matplotlib, Agg, no display needed).

- `goodput_png`: goodput over time of sampled downloads (lab.report.sampler), one panel
  each on its own linear axis, with the throttle rates that apply drawn as dashed lines and
  the censor's decisions as vertical marks: where a throttle kicks in, the line falls to its
  rate.
- `timeline_png`: the censor's events over time, one row per rule, one marker per action.
"""
from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# action -> (marker, colour); the same colours as the shell's `events`
ACTION_STYLE = {
    "drop": ("x", "#c62828"), "drop_reply": ("x", "#b71c1c"),
    "rst_handshake": ("D", "#880e4f"),
    "ban_after": ("X", "#b71c1c"), "reject": ("X", "#d84315"), "reset": ("D", "#ad1457"),
    "nxdomain": ("s", "#6a1b9a"), "servfail": ("s", "#8e24aa"), "refused": ("s", "#ab47bc"),
    "forge": ("P", "#4527a0"), "inject": ("P", "#5e35b1"), "blockpage": ("p", "#1565c0"),
    "throttle": ("v", "#ef6c00"), "cut_after": ("<", "#f9a825"), "allow": ("o", "#2e7d32"),
    "enable": ("^", "#00838f"), "disable": ("v", "#78909c"), "add": ("*", "#00838f"),
    "replace": ("*", "#0277bd"), "policy": ("h", "#37474f"),
}
SERIES_COLOURS = ["#1565c0", "#ef6c00", "#2e7d32", "#c62828", "#6a1b9a", "#00838f",
                  "#5d4037", "#455a64"]


def goodput(samples: list) -> tuple[list[float], list[float]]:
    """(interval end times, kbit/s in each interval) from [[t, bytes so far], ...]."""
    times, rates = [], []
    for (t0, b0), (t1, b1) in zip(samples, samples[1:]):
        if t1 > t0:
            times.append(t1)
            rates.append((b1 - b0) * 8 / (t1 - t0) / 1000)
    return times, rates


def smoothed(samples: list, window: float = 2.0) -> tuple[list[float], list[float]]:
    """(times, kbit/s averaged over the last `window` seconds) from [[t, bytes so far], ...]."""
    times, rates = [], []
    j = 0
    for t, b in samples[1:]:
        while samples[j + 1][0] <= t - window:
            j += 1
        t0, b0 = samples[j]
        if t > t0:
            times.append(t)
            rates.append((b - b0) * 8 / (t - t0) / 1000)
    return times, rates


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=110)
    return path


def goodput_png(path: Path, series: list[dict], title: str,
                rates: list[tuple[str, float]] = (), marks: list[tuple[float, str]] = (),
                log: bool = False, xlabel: str = "seconds") -> Path:
    """One panel per download, each on its own linear axis (kbit/s or Mbit/s, whichever
    reads better), so a throttled download is not squashed under an unthrottled one.

    `series`: [{"label", "samples": [[t, bytes]...], "offset": seconds to add to t,
    "rates": ..., "marks": ...}]; a series without its own `rates` (label, bit/s; a dashed
    line named in the legend) or `marks` (t, label; a dotted vertical line, named in the
    legend) gets the ones given here. The 2 s average is the bold line; the goodput of each
    100 ms is a thin pale line under it. `log` is accepted for old callers and ignored."""
    panels = series or [{"label": "no download", "samples": []}]
    fig = Figure(figsize=(8, 0.9 + 2.4 * len(panels)))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for i, (ax, s) in enumerate(zip(axes, panels)):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        off = s.get("offset", 0.0)
        times, kbit = goodput(s["samples"])
        st, sk = smoothed(s["samples"])
        its_rates = s.get("rates", rates)
        top = max([*kbit, *(bps / 1000 for _, bps in its_rates), 1.0])
        unit, scale = ("Mbit/s", 1000.0) if top >= 10_000 else ("kbit/s", 1.0)
        ax.plot([t + off for t in times], [k / scale for k in kbit], color=colour,
                linewidth=0.7, alpha=0.3, label="every 100 ms")
        ax.plot([t + off for t in st], [k / scale for k in sk], color=colour, linewidth=2.2,
                label="2 s average", zorder=3)
        for label, bps in its_rates:
            ax.axhline(bps / 1000 / scale, linestyle="--", linewidth=1.3, color="#333333",
                       zorder=2, label=label)
        named = set()
        for t, label in s.get("marks", marks):
            ax.axvline(t, linestyle=":", linewidth=1.2, color="#c62828",
                       label=None if label in named else f"censor: {label}")
            named.add(label)
        total = s["samples"][-1][1] if s["samples"] else 0
        ax.set_title(f"{s['label']} ({_size(total)})", fontsize=9, loc="left")
        ax.set_ylim(0, top / scale * 1.3)
        ax.set_ylabel(unit)
        ax.grid(True, alpha=0.3)
        if s["samples"]:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1),
                      borderaxespad=0)
    axes[-1].set_xlabel(xlabel)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def timeline_png(path: Path, events: list[dict], rule_order: list[str] = (),
                 title: str = "censor events", until: float | None = None) -> Path:
    """One row per rule (in `rule_order`, then any other the events name), a marker per
    event at its time, styled by action."""
    rows = [r for r in rule_order]
    for ev in events:
        name = ev.get("rule") or "(policy)"
        if name not in rows:
            rows.append(name)
    rows = rows or ["(no rules)"]
    fig = Figure(figsize=(8, 1.2 + 0.45 * len(rows)))
    ax = fig.add_subplot()
    seen = set()
    for ev in events:
        action = str(ev.get("action"))
        marker, colour = ACTION_STYLE.get(action, ("o", "#212121"))
        y = rows.index(ev.get("rule") or "(policy)")
        label = action if action not in seen else None
        seen.add(action)
        ax.scatter([float(ev.get("t", 0))], [y], marker=marker, color=colour, s=46,
                   label=label, zorder=3)
    ax.set_yticks(range(len(rows)), labels=rows, fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.invert_yaxis()
    right = max([float(e.get("t", 0)) for e in events] + [until or 0, 1.0])
    ax.set_xlim(0, right * 1.05)
    ax.set_xlabel("seconds since the lab came up")
    ax.set_title(title if events else f"{title}: none", fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    if seen:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0,
                  title="action", title_fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def _size(n: float) -> str:
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"
