"""Every subcommand given bad arguments: one line naming the argument, a non-zero exit, no
traceback, and no lab started or left behind.

Table-driven: a new subcommand joins by adding rows to CASES (test_every_subcommand_has_rows
fails until it has some). Each row is refused before any lab comes up, so the file is fast.
The real `blocklab` binary runs with BLOCKLAB_RUNS pointing at a folder of its own: that
folder never appearing proves no lab was started. `{file}` in a row is an existing file.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


BLOCKLAB = Path(sys.executable).with_name("blocklab")
LONG = "a" * 5000
PLAN = str(Path(__file__).resolve().parents[2] / "docs" / "campaigns" / "plan.yaml")
NOPE = "blocklab: --report /proc/nope: cannot create the folder (No such file or directory)"

# (argv, exit code, stream, what the one line must contain: the argument it names)
CASES = [
    ([], 2, "stderr", "the following arguments are required: COMMAND"),
    (["nope"], 2, "stderr", "argument COMMAND: invalid choice: 'nope'"),
    (["list", "extra"], 2, "stderr", "blocklab: list: unrecognized arguments: extra"),
    (["validate"], 2, "stderr", "validate: the following arguments are required: FILE"),
    # validate's contract: FILE:LINE:COL: message on stdout
    (["validate", "/nonexistent/x.yaml"], 1, "stdout", "no such file '/nonexistent/x.yaml'"),
    (["validate", ""], 1, "stdout", "'':1:1: an empty scenario name"),
    (["validate", LONG], 1, "stdout", f"no scenario named '{LONG}'"),
    (["validate", "{file}"], 1, "stdout", "expected a mapping"),
    (["run"], 2, "stderr", "run: the following arguments are required: SCENARIO"),
    (["run", "basics/nope"], 1, "stderr", "no scenario named 'basics/nope'"),
    (["run", ""], 1, "stderr", "an empty scenario name"),
    (["run", LONG], 1, "stderr", f"no scenario named '{LONG}'"),
    (["run", "basics/open", "--report", "/proc/nope"], 2, "stderr", NOPE),
    (["run", "basics/open", "--report", "/sys"], 2, "stderr",
     "blocklab: --report /sys: cannot write in the folder (Permission denied)"),
    (["run", "basics/open", "--report", "{file}"], 2, "stderr", "is a file, not a folder"),
    (["run", "basics/open", "--report", "{file}/sub"], 2, "stderr",
     "a part of it is a file, not a folder"),
    (["run", "basics/open", "--report", ""], 2, "stderr",
     "blocklab: --report '': an empty path; name a folder"),
    (["run", "basics/open", "--report", f"/tmp/{LONG}"], 2, "stderr",
     "cannot create the folder (File name too long)"),
    (["run", "basics/open", "--bogus"], 2, "stderr", "run: unrecognized arguments: --bogus"),
    (["exec", "basics/open"], 2, "stderr", "exec: the following arguments are required: HOST"),
    (["exec", "basics/nope", "alice", "--", "true"], 1, "stderr", "no scenario named"),
    (["exec", "basics/open", "mallory", "--", "true"], 1, "stderr", "no host named 'mallory'"),
    (["exec", "basics/open", "", "--", "true"], 1, "stderr", "no host named ''"),
    (["exec", "basics/open", LONG, "--", "true"], 1, "stderr", f"no host named '{LONG}'"),
    (["exec", "basics/open", "alice"], 1, "stderr", "exec needs a command after `--`"),
    (["shell", "basics/nope"], 1, "stderr", "no scenario named 'basics/nope'"),
    (["shell", "basics/open", "--bogus"], 2, "stderr", "shell: unrecognized arguments: --bogus"),
    (["lesson", "basics/nope"], 1, "stderr", "no scenario named 'basics/nope'"),
    (["lesson", "ru/2022-03-quic"], 1, "stderr", "the lesson cannot run: ru-2022-03-quic has "
                                                 "no lesson"),
    (["probe", "basics/nope"], 1, "stderr", "no scenario named 'basics/nope'"),
    (["probe", "basics/open", "--report", "/proc/nope"], 2, "stderr", NOPE),
    (["probe", "basics/open", "--report", "{file}"], 2, "stderr", "is a file, not a folder"),
    (["probe", "basics/open", "--timeout", "abc"], 2, "stderr",
     "argument --timeout: 'abc' is not a number of seconds"),
    (["probe", "basics/open", "--timeout", "-1"], 2, "stderr",
     "argument --timeout: -1 is not a number of seconds more than 0"),
    (["probe", "basics/open", "--detector-timeout", "nan"], 2, "stderr",
     "argument --detector-timeout: nan is not a number of seconds more than 0"),
    (["probe", "basics/open", "--min-precision", "2"], 2, "stderr",
     "argument --min-precision: 2 is not between 0 and 1"),
    (["probe", "basics/open", "--url", ""], 1, "stderr", "blocklab: --url '': empty"),
    (["probe", "basics/open", "--detector", ""], 1, "stderr", "blocklab: --detector '': empty"),
    (["probe", "basics/open", "--json", "--markdown"], 1, "stderr",
     "--json --markdown: choose one of them"),
    (["compare", "basics/nope", "--tools", "direct"], 1, "stderr", "no scenario named"),
    (["compare", "basics/open", "--tools", "direct", "--report", "/proc/nope"], 2, "stderr",
     NOPE),
    (["compare", "basics/open", "--tools", "nope"], 1, "stderr",
     "blocklab: --tools nope: unknown tool(s) nope; known: direct"),
    (["compare", "basics/open", "--tools", LONG], 1, "stderr", f"--tools {LONG}: unknown tool"),
    (["compare", "basics/open", "--tools", ""], 1, "stderr", "--tools '': names no tool"),
    (["compare", "basics/open", "--tools", ","], 1, "stderr", "--tools ,: names no tool"),
    (["compare", "basics/open", "--bulk-rate", "abc"], 1, "stderr",
     "blocklab: --bulk-rate: bad rate 'abc'"),
    (["compare", "basics/open", "--bulk-rate", "0Mbit"], 1, "stderr",
     "blocklab: --bulk-rate: bad rate '0Mbit': must be more than 0"),
    (["compare", "basics/open", "--bulk-rate", ""], 1, "stderr", "--bulk-rate '': empty"),
    (["compare", "basics/open", "--repeat", "0"], 1, "stderr",
     "blocklab: --repeat 0: must be at least 1"),
    (["compare", "basics/open", "--repeat", "abc"], 2, "stderr",
     "argument --repeat: invalid int value: 'abc'"),
    (["bench", "--quick", "--out", "/proc/nope"], 2, "stderr",
     "blocklab: --out /proc/nope: cannot create the folder (No such file or directory)"),
    (["bench", "--out", "{file}"], 2, "stderr", "is a file, not a folder"),
    (["bench", "--out", ""], 2, "stderr", "blocklab: --out '': an empty path"),
    (["bench", "--only", "nope"], 1, "stderr", "blocklab: --only nope: unknown section(s) nope"),
    (["bench", "--only", ""], 1, "stderr", "blocklab: --only '': names no section"),
    (["setup", "--bogus"], 2, "stderr", "blocklab: setup: unrecognized arguments: --bogus"),
    (["campaign"], 2, "stderr",
     "campaign: the following arguments are required: run|merge|plan"),
    (["campaign", "nope"], 2, "stderr",
     "campaign: argument run|merge|plan: invalid choice: 'nope'"),
    (["campaign", "run", "/nonexistent/plan.yaml", "--out", "{file}.d"], 1, "stderr",
     "/nonexistent/plan.yaml:1:1: cannot read the plan"),
    (["campaign", "run", "{file}", "--out", "{file}.d"], 1, "stderr", "a-file:1:1:"),
    (["campaign", "run", PLAN, "--shard", "5/2", "--out", "{file}.d"], 1,
     "stderr", "--shard 5/2: index 5 is outside 0..1"),
    (["campaign", "run", PLAN, "--shard", "abc", "--out", "{file}.d"], 1,
     "stderr", "--shard 'abc': expected I/N"),
    (["campaign", "run", PLAN, "--labs", "0", "--out", "{file}.d"], 1,
     "stderr", "--labs must be at least 1"),
    (["campaign", "run", PLAN, "--out", "/proc/nope"], 2, "stderr",
     "blocklab: --out /proc/nope: cannot create the folder (No such file or directory)"),
    (["campaign", "merge", "/nonexistent"], 1, "stderr", "campaign merge: /nonexistent: no such "
                                                         "folder"),
    (["campaign", "merge", "/tmp", "--report", "/proc/nope"], 2, "stderr", NOPE),
    (["run", "basics/open", "--pcap", "/proc/nope"], 2, "stderr",
     "blocklab: --pcap /proc/nope: cannot create the folder (No such file or directory)"),
    (["run", "basics/open", "--pcap", "{file}"], 2, "stderr",
     "is a file, not a folder"),
    (["exec", "basics/open", "alice", "--pcap", "", "--", "true"], 2, "stderr",
     "blocklab: --pcap '': an empty path; name a folder"),
    (["exec", "--pcap", "/proc/nope", "basics/open", "alice", "true"], 2, "stderr",
     "blocklab: --pcap /proc/nope: cannot create"),
    (["exec", "basics/open", "alice", "--pcap"], 2, "stderr",
     "exec: argument --pcap: expected one argument"),
    (["probe", "basics/open", "--pcap", "/proc/nope"], 2, "stderr", "--pcap /proc/nope: cannot"),
    (["compare", "basics/open", "--tools", "direct", "--pcap", "{file}"], 2, "stderr",
     "is a file, not a folder"),
    (["lesson", "basics/reset", "--auto", "--out", "/proc/nope"], 2, "stderr",
     "blocklab: --out /proc/nope: cannot create the folder"),
    (["draw"], 2, "stderr", "draw: the following arguments are required: SCENARIO"),
    (["draw", "basics/nope"], 1, "stderr", "no scenario named 'basics/nope'"),
    (["serve", "basics/nope"], 1, "stderr", "no scenario named 'basics/nope'"),
    (["serve", "basics/open", "--port", "70000"], 2, "stderr",
     "serve: argument --port: 70000 is not a port (0-65535; 0: any free one)"),
    (["serve", "basics/open", "--pcap", "/proc/nope"], 2, "stderr",
     "blocklab: --pcap /proc/nope: cannot create the folder"),
    (["serve", "basics/open", "--port", "abc"], 2, "stderr",
     "serve: argument --port: 'abc' is not a port number"),
    (["clean", "extra"], 2, "stderr", "blocklab: clean: unrecognized arguments: extra"),
    (["clean", "--force=yes"], 2, "stderr", "clean: argument --force: ignored explicit"),
]


def _names(cmd: list[str]) -> set[str]:
    return set(subprocess.run(cmd, capture_output=True, text=True).stdout.split())


def _machine() -> set[str]:
    """Bridges and named network namespaces, the things a lab or a benchmark creates."""
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return _names(["ovs-vsctl", "list-br"]) | {
        line.split()[0] for line in namespaces.splitlines() if line.strip()}


def _mine(name: str, pid: int, runs: Path) -> bool:
    """A bridge or namespace this command could have made: a lab's (named after its run,
    whose directory would be under `runs`) or a benchmark's (named after its pid). Other
    engineers' labs come and go on this machine meanwhile; their names are not ours."""
    m = re.fullmatch(r"bl([0-9a-f]+)", name)
    return bool(m and (runs / m.group(1)).exists()) or name.startswith(f"blb{pid}")


def _run(argv: list[str], runs: Path) -> tuple[subprocess.CompletedProcess, int]:
    env = {**os.environ, "BLOCKLAB_RUNS": str(runs)}
    with subprocess.Popen([str(BLOCKLAB), *argv], stdin=subprocess.DEVNULL, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.terminate()        # SIGTERM: a lab that came up is torn down
            out, err = proc.communicate()
            pytest.fail(f"blocklab {' '.join(argv)[:200]} ran on: it was not refused\n{err}")
    return subprocess.CompletedProcess(argv, proc.returncode, out, err), proc.pid


def _label(case) -> str:
    return " ".join(a if len(a) < 40 else f"<{len(a)} chars>" for a in case[0]) or "(none)"


@pytest.mark.parametrize("argv, code, stream, says", CASES, ids=[_label(c) for c in CASES])
def test_bad_argument_is_one_clear_line(tmp_path, argv, code, stream, says):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder, not a scenario\n")
    argv = [a.replace("{file}", str(a_file)) for a in argv]
    runs = tmp_path / "runs"
    before = _machine()
    r, pid = _run(argv, runs)
    text = r.stdout + r.stderr
    assert "Traceback" not in text, text
    assert r.returncode == code, text
    lines = [line for line in getattr(r, stream).splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert says in lines[0], lines[0]
    if stream == "stderr":
        assert lines[0].startswith("blocklab: "), lines[0]
    assert not runs.exists(), "a lab was started (its run directory was created)"
    left = sorted(n for n in _machine() - before if _mine(n, pid, runs))
    assert not left, f"left behind: {left}"
    assert not Path("/proc/nope").exists()


def test_every_subcommand_has_rows():
    r = subprocess.run([str(BLOCKLAB), "--help"], capture_output=True, text=True)
    listed = re.findall(r"^    (\w+)  ", r.stdout, re.MULTILINE)
    assert "run" in listed and "clean" in listed, r.stdout
    covered = {case[0][0] for case in CASES if case[0]}
    assert set(listed) <= covered, f"no bad-argument rows for {set(listed) - covered}"
