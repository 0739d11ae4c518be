"""Run every atheris harness (tests/fuzz/fuzz_*.py) for FUZZ_SECONDS each; print a table.

    FUZZ_SECONDS=30 .venv/bin/python tests/fuzz/run.py [TARGET ...]

Each harness runs in its own process (libFuzzer owns it); its output goes to
FUZZ_OUT/<target>.log (default /tmp/blocklab-fuzz), the table (executions, executions per
second, coverage, result) to stdout and FUZZ_OUT/summary.json. Exit status 1 when any target
found an input that makes its parser raise or break an invariant: that input is kept as
FUZZ_OUT/<target>-crash-<sha1> (replay: python tests/fuzz/fuzz_<target>.py FILE).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = Path(os.environ.get("FUZZ_OUT", "/tmp/blocklab-fuzz"))


def targets(names: list[str]) -> list[str]:
    found = sorted(p.stem[len("fuzz_"):] for p in HERE.glob("fuzz_*.py"))
    unknown = sorted(set(names) - set(found))
    if unknown:
        sys.exit(f"no fuzz target {', '.join(unknown)}; there are: {', '.join(found)}")
    return names or found


def run_one(name: str, seconds: int) -> dict:
    log = OUT / f"{name}.log"
    env = dict(os.environ, FUZZ_SECONDS=str(seconds), FUZZ_OUT=str(OUT))
    start = time.monotonic()
    with open(log, "w") as f:
        rc = subprocess.run([sys.executable, str(HERE / f"fuzz_{name}.py")], stdout=f,
                            stderr=subprocess.STDOUT, env=env, timeout=seconds * 4 + 120,
                            cwd=HERE.parents[1]).returncode
    text = log.read_text(errors="replace")
    runs = _last_int(r"stat::number_of_executed_units:\s*(\d+)", text)
    cov = _last_int(r"cov: (\d+)", text)
    crash = re.findall(r"Test unit written to (\S+)", text)
    took = time.monotonic() - start
    return {"target": name, "seconds": seconds, "runs": runs, "cov": cov,
            "runs_per_s": round(runs / seconds) if runs else 0, "exit": rc,
            "ok": rc == 0 and not crash, "crash": crash[0] if crash else None,
            "took": round(took, 1), "log": str(log)}


def _last_int(pattern: str, text: str) -> int:
    found = re.findall(pattern, text)
    return int(found[-1]) if found else 0


def main(argv: list[str]) -> int:
    seconds = max(1, int(os.environ.get("FUZZ_SECONDS", "30")))
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"fuzzing {seconds}s per target; logs and corpora in {OUT}", flush=True)
    print(f"{'target':<12} {'executions':>11} {'exec/s':>8} {'coverage':>9}  result", flush=True)
    for name in targets(argv):
        row = run_one(name, seconds)
        rows.append(row)
        result = "ok" if row["ok"] else f"FAILED (exit {row['exit']}) {row['crash'] or ''}"
        print(f"{name:<12} {row['runs']:>11,} {row['runs_per_s']:>8,} {row['cov']:>9}  {result}",
              flush=True)
    (OUT / "summary.json").write_text(json.dumps(rows, indent=1))
    failed = [r["target"] for r in rows if not r["ok"]]
    if failed:
        print(f"fuzz: {len(failed)} target(s) failed: {', '.join(failed)} (see their logs)")
        return 1
    print(f"fuzz: {len(rows)} targets, no exception escaped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
