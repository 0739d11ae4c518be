"""Shared by the atheris harnesses (tests/fuzz/fuzz_*.py): paths, seeds, the libFuzzer run.

Each harness is a script: `python tests/fuzz/fuzz_dns.py` fuzzes for FUZZ_SECONDS (default 30)
and exits 0, or stops at the first input that makes a parser raise (or break an invariant)
and exits non-zero, leaving that input as FUZZ_OUT/<target>-crash-<sha1>. Seeds (real
protocol samples from the unit tests' builders) start the corpus, FUZZ_OUT/corpus/<target>,
which libFuzzer grows and later runs reuse. `make fuzz` runs them all (tests/fuzz/run.py).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Iterable

REPO = Path(__file__).resolve().parents[2]
for _p in (REPO, REPO / "tests" / "unit" / "dpi", REPO / "tests" / "unit" / "engine"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

OUT = Path(os.environ.get("FUZZ_OUT", "/tmp/blocklab-fuzz"))


def seconds() -> int:
    return max(1, int(os.environ.get("FUZZ_SECONDS", "30")))


def fuzz(name: str, test_one_input: Callable[[bytes], None],
         seeds: Callable[[], Iterable[bytes]], max_len: int = 4096) -> None:
    """Run libFuzzer on `test_one_input` for FUZZ_SECONDS, from `seeds`; never returns."""
    import atheris
    corpus = OUT / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(seeds()):
        (corpus / f"seed-{i:03d}").write_bytes(seed)
    args = [sys.argv[0], f"-max_total_time={seconds()}", "-print_final_stats=1",
            f"-artifact_prefix={OUT}/{name}-", "-timeout=10", "-rss_limit_mb=3072",
            f"-max_len={max_len}", str(corpus), *sys.argv[1:]]
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()
