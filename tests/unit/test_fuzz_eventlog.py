"""The event log is bounded on disk: rotated at a size, a fixed number of old files kept, every
line whole JSON, the newest events always kept in order, and a reopened log appends."""
from __future__ import annotations

import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from controllers.engine.eventlog import EventLog, rotated


def read_all(path: str) -> list[dict]:
    out = []
    for f in rotated(path, keep=10):
        with open(f, encoding="utf-8") as fh:
            out += [json.loads(line) for line in fh]
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=120), st.integers(200, 3000),
       st.integers(0, 4))
def test_rotation_bounds_the_files_and_keeps_the_newest(tmp_path_factory, texts, max_bytes,
                                                        keep):
    path = str(tmp_path_factory.mktemp("ev") / "events.jsonl")
    log = EventLog(path, max_bytes=max_bytes, keep=keep)
    records = [{"t": i, "rule": "r", "detail": {"x": text}} for i, text in enumerate(texts)]
    for r in records:
        log.write(r)
    log.close()
    files = rotated(path, keep=10)
    assert len(files) <= keep + 1 and files[-1] == path
    biggest_line = max(len((json.dumps(r, separators=(",", ":")) + "\n").encode())
                       for r in records)
    for f in files:
        assert os.path.getsize(f) <= max(max_bytes, biggest_line)
    kept = read_all(path)
    assert kept == records[len(records) - len(kept):]      # a suffix: the newest, in order
    assert kept and kept[-1] == records[-1]
    if not log.rotations:
        assert kept == records


def test_reopening_appends(tmp_path):
    path = str(tmp_path / "events.jsonl")
    first = EventLog(path)
    first.write({"t": 1})
    # no close: a SIGKILLed censor never closes; each line is already flushed
    second = EventLog(path)
    second.write({"t": 2})
    second.close()
    assert read_all(path) == [{"t": 1}, {"t": 2}]


def test_default_is_64_mib_and_four_files(tmp_path):
    log = EventLog(str(tmp_path / "events.jsonl"))
    assert (log.max_bytes, log.keep) == (64 * 1024 * 1024, 4)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_a_line_is_what_json_dumps_writes(tmp_path_factory, record):
    path = str(tmp_path_factory.mktemp("ev") / "events.jsonl")
    log = EventLog(path)
    log.write(record, flush=False)
    log.flush()
    with open(path, encoding="utf-8") as f:
        assert f.read() == json.dumps(record, separators=(",", ":")) + "\n"


def test_lines_written_without_flush_are_out_after_flush(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(str(path))
    log.write({"t": 1}, flush=False)
    assert path.read_text() == ""              # held: the packet path writes a read's at once
    log.flush()
    assert path.read_text() == '{"t":1}\n'
