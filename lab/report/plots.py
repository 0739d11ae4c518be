"""The report's and the shell's plots, as PNG files (matplotlib, Agg, no display needed).

- `goodput_png`: goodput over time of one or more sampled downloads (lab.report.sampler),
  with the throttle rates that apply drawn as dashed lines and the censor's decisions as
  vertical marks: where a throttle kicks in, the line falls to its rate.
- `timeline_png`: the censor's events over time, one row per rule, one marker per action.
"""
from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# action -> (marker, colour); the same colours as the shell's `events`
ACTION_STYLE = {
    "drop": ("x", "#c62828"), "drop_reply": ("x", "#b71c1c"),
    "rst_handshake": ("D", "#880e4f"), "reject": ("X", "#d84315"), "reset": ("D", "#ad1457"),
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
    """`series`: [{"label", "samples": [[t, bytes]...], "offset": seconds to add to t}];
    `rates`: (label, bit/s) drawn dashed; `marks`: (t, label) drawn as vertical lines;
    `log`: a symlog y axis, so 128 kbit/s and 1 Gbit/s both show."""
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    top = 0.0
    for i, s in enumerate(series):
        times, kbit = goodput(s["samples"])
        off = s.get("offset", 0.0)
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        total = s["samples"][-1][1] if s["samples"] else 0
        ax.step([t + off for t in times], kbit, where="pre", color=colour, linewidth=0.8,
                alpha=0.35)
        st, sk = smoothed(s["samples"])
        ax.plot([t + off for t in st], sk, color=colour, linewidth=1.8,
                label=f"{s['label']} ({_size(total)}; bold: 2 s average)")
        top = max([top, *kbit])
    for i, (label, bps) in enumerate(rates):
        ax.axhline(bps / 1000, linestyle="--", linewidth=1, color="#555555")
        ax.annotate(label, xy=(0, bps / 1000), xycoords=("axes fraction", "data"),
                    xytext=(4, 3 + 10 * i), textcoords="offset points", fontsize=8,
                    color="#333333")
        top = max(top, bps / 1000)
    for t, label in marks:
        ax.axvline(t, linestyle=":", linewidth=1, color="#c62828")
        ax.annotate(label, xy=(t, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                    textcoords="offset points", fontsize=8, color="#c62828")
    if log and top > 0:
        ax.set_yscale("symlog", linthresh=max(1.0, min(top / 100, 100.0)))
    ax.set_ylim(bottom=0, top=max(top * 1.6, 1.0))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("goodput, kbit/s (every 100 ms)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(fontsize=8, loc="upper right")
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
