"""lab/run/outputs.py: the one check of an output folder, and the line for a failed write."""
from __future__ import annotations

import errno

import pytest

from lab.run.outputs import OutputError, not_written, prepare


def test_a_missing_folder_is_created(tmp_path):
    folder = prepare("--report", str(tmp_path / "a" / "b"))
    assert folder.is_dir() and list(folder.iterdir()) == []


@pytest.mark.parametrize("path, says", [
    ("", "--report '': an empty path; name a folder"),
    ("{file}", "--report {file}: is a file, not a folder"),
    ("{file}/sub", "--report {file}/sub: a part of it is a file, not a folder"),
    ("/proc/nope", "--report /proc/nope: cannot create the folder (No such file or directory)"),
])
def test_an_unusable_folder_is_one_line_naming_the_option(tmp_path, path, says):
    a_file = tmp_path / "f"
    a_file.write_text("x")
    with pytest.raises(OutputError) as e:
        prepare("--report", path.replace("{file}", str(a_file)))
    assert str(e.value) == says.replace("{file}", str(a_file))


def test_a_failed_write_says_what_and_where_the_events_are():
    e = OSError(errno.ENOSPC, "No space left on device")
    assert not_written("--out", "res", "results.json", e) == \
        "--out res: results.json not written in full (No space left on device)"
    assert not_written("--report", "r", "the report", e, kept="/run/x/events.jsonl").endswith(
        "; the censor's events are kept in /run/x/events.jsonl")
