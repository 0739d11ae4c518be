"""Lab.events() reads the whole event log: the rotated files (oldest first), then the live one.

The log itself is written and rotated by controllers.engine.eventlog (its own tests); the lab's side
is reading it back in order, which is what this checks, on files the EventLog wrote."""
from __future__ import annotations

from types import SimpleNamespace

from controllers.engine.eventlog import EventLog
from lab.run.lab import Lab


def test_events_include_rotated_files_in_order(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(str(path), max_bytes=200, keep=4)
    for i in range(12):
        log.write({"t": i, "rule": f"r{i}", "pad": "x" * 40})
    assert (tmp_path / "events.jsonl.1").exists()           # it did rotate
    lab = Lab(scenario=None)
    lab.censor = SimpleNamespace(events_path=path)
    got = [e["t"] for e in lab.events()]
    assert got == sorted(got) and got[-1] == 11
    kept = sum(1 for _ in tmp_path.glob("events.jsonl*"))
    assert kept == 5                                        # 4 rotated + the live file


def test_no_events_yet(tmp_path):
    lab = Lab(scenario=None)
    lab.censor = SimpleNamespace(events_path=tmp_path / "events.jsonl")
    assert lab.events() == []
