"""`blocklab run SCENARIO --report DIR`: real PNG plots, and an HTML page that stands alone."""
from __future__ import annotations

import base64
import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from matplotlib import image as mpimg

from tests.integration.helpers import blocklab

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Refs(HTMLParser):
    """Every src/href and every tag, to prove nothing is fetched from elsewhere."""

    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [v for k, v in attrs if k in ("src", "href", "srcset") and v]


def test_report_has_plots_tables_and_no_external_resources(tmp_path):
    out = tmp_path / "report"
    r = blocklab("run", "basics/throttle", "--report", str(out), timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"report: {out / 'report.html'}" in r.stderr

    for name in ("timeline.png", "throughput.png"):
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC, name
        pixels = mpimg.imread(out / name)
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100, name

    page = (out / "report.html").read_text()
    refs = _Refs()
    refs.feed(page)
    assert not [u for u in refs.refs if re.match(r"\s*(https?:)?//", u, re.I)], refs.refs
    assert "script" not in refs.tags and "link" not in refs.tags
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    images = [u for u in refs.refs if u.startswith("data:image/png;base64,")]
    assert len(images) == 2
    for uri in images:
        raw = base64.b64decode(uri.split(",", 1)[1])
        assert raw[:8] == PNG_MAGIC
        assert mpimg.imread(io.BytesIO(raw), format="png").shape[0] > 100

    # readable by someone who was not in the room: what, why, the rules, what was seen
    assert "throttle: a video host slowed to 1 Mbit/s per connection" in page
    assert "Russia throttles YouTube, Reuters 2024-07-25" in page       # a source
    assert "How to read this report" in page
    assert re.search(r"<td>slow</td><td>yes</td><td>[1-9]\d*</td><td>throttle 1 Mbit/s</td>", page)
    assert "<td>https://rr1.video.example/</td>" in page                 # an expectation row
    assert "2 of 2 expectations held" in page

    md = (out / "report.md").read_text()
    assert "![censor events over time](timeline.png)" in md
    assert "| slow | yes |" in md
    assert (out / "events.jsonl").read_text().count('"rule": "slow"') >= 1


@pytest.mark.parametrize("command, first_file", [
    (["run", "basics/open"], "report.md"),
    (["probe", "basics/open"], "measurements.jsonl"),
])
def test_a_report_that_cannot_be_written_keeps_the_table_and_the_events(tmp_path, command,
                                                                          first_file):
    """Disk full at the end (a file the report writes is /dev/full): the result is
    still printed, one line says what was not written, and the run directory keeps the
    censor's events for good (torn down, marked kept)."""
    out = tmp_path / "report"
    out.mkdir()
    (out / first_file).symlink_to("/dev/full")
    runs = tmp_path / "runs"
    r = blocklab(*command, "--report", str(out), timeout=240,
                 env={**os.environ, "BLOCKLAB_RUNS": str(runs)})
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1, r.stdout + r.stderr
    assert "https://www.example.com/" in r.stdout                   # the table
    last = r.stderr.strip().splitlines()[-1]
    m = re.fullmatch(rf"blocklab: --report {re.escape(str(out))}: the report not written in full "
                     r"\(No space left on device\); the censor's events are kept in (\S+)", last)
    assert m, last
    kept = Path(m.group(1))
    assert kept.parent.parent == runs and kept.name == "events.jsonl", kept
    state = json.loads((kept.parent / "state.json").read_text())
    assert state["kept"] and not state["pids"] and not state["bridge"], state
    assert sorted(p.name for p in kept.parent.iterdir()) == ["events.jsonl", "state.json"]
