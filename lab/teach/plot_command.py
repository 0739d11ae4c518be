"""The `plot HOST URL [SECONDS] [FILE.png]` command of the shell and lessons: a download's
goodput over time, sampled every 100 ms (lab/report/downloads.py), drawn with the rates the
censor's rules impose and the moments it acted (lab/report/plots.py)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from lab.teach.console import Reply

def plot_command(console, args: str) -> Reply:
    from lab.report import downloads, plots
    words = args.split()
    usage = "usage: plot HOST URL [SECONDS] [FILE.png]   (e.g. plot alice " \
            "https://rr1.video.example/bulk/100M)"
    if len(words) < 2:
        return Reply(2, usage)
    host, url, rest = words[0], words[1], words[2:]
    seconds, path = 8.0, None
    for w in rest:
        try:
            seconds = float(w.rstrip("s"))
        except ValueError:
            path = Path(w) if Path(w).is_absolute() else console.plot_dir / w
    if host not in console.hosts() or urlsplit(url).scheme not in ("http", "https"):
        return Reply(2, usage)
    name = urlsplit(url).hostname or "url"
    path = path or console.plot_dir / f"plot-{host}-{name}.png"
    d = downloads.sample(console.lab, [(host, url)], seconds=seconds)[0]
    if not d.samples:
        return Reply(1, f"plot: no samples: {d.error}")
    rules = console._rules()
    rates, marks = downloads.shaping_of([d], rules, origin=d.offset)
    plots.goodput_png(path, [{"label": f"{host} <- {url}", "samples": d.samples}],
                      f"{console.scenario.name}: goodput of {url} at {host}", rates, marks,
                      xlabel="seconds since the download started")
    lines = [f"wrote {path}",
             f"  {d.outcome()}; {d.mean_kbit:.0f} kbit/s on average, "
             f"{d.tail_kbit():.0f} kbit/s after the first second"]
    for ev in d.decisions:
        lines.append(f"  censor: rule {ev.get('rule')} {ev.get('action')} at "
                     f"{float(ev['t']) - d.offset:.2f}s into the download")
    for label, _bps in rates:
        lines.append(f"  dashed line: {label}")
    if not d.decisions:
        lines.append("  censor: no event on this flow (nothing slowed it)")
    if urlsplit(url).path in ("", "/"):
        lines.append("  tip: a page is small; servers that serve bulk have /bulk/100M")
    return Reply(0 if d.bytes else 1, "\n".join(lines))
