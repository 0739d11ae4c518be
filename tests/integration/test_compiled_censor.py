"""The compiled censor (lab/run/compiled.py): setup built it for these sources, a lab's censor
runs it and says so, it does what the censor from source does, byte for byte, and a build is
made the way setup makes it (real Cython, real gcc)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lab import scenario as scenarios
from lab.run import compiled
from lab.run.lab import Lab
from tests.integration.helpers import REPO

BENCH = REPO / "tests" / "unit" / "engine" / "bench_dns_path.py"


def _build() -> Path:
    build = compiled.current()
    assert build is not None, (
        f"no compiled censor for these sources in {compiled.CACHE} (`make setup` builds it; "
        "its output says why it could not)")
    return build


def test_setup_built_the_censor_for_these_sources() -> None:
    build = _build()
    engine = build / "controllers" / "engine"
    assert list(engine.glob("engine.*.so")) and not (engine / "engine.py").exists()
    assert (build / "controllers" / "openflow" / "app.py").is_file()


@pytest.mark.parametrize("how", ["compiled", "source"])
def test_a_lab_s_censor_runs_compiled_and_blocks_as_from_source(how: str,
                                                                monkeypatch) -> None:
    if how == "source":
        monkeypatch.setenv("BLOCKLAB_COMPILED", "0")
    else:
        _build()
    with Lab(scenarios.load("basics/dns-nxdomain")) as lab:
        assert lab.control({"cmd": "status"})["compiled"] is (how == "compiled")
        blocked = lab.run("alice", ["dig", "+time=2", "+tries=1", "blocked.example.com"])
        assert "status: NXDOMAIN" in blocked.stdout, blocked.stdout
        tcp = lab.run("alice", ["dig", "+time=2", "+tries=1", "+tcp", "blocked.example.com"])
        assert "status: NXDOMAIN" in tcp.stdout, tcp.stdout
        fine = lab.run("alice", ["dig", "+time=2", "+tries=1", "open.example.org"])
        assert "status: NOERROR" in fine.stdout, fine.stdout


def _dns_path(env: dict, *python_flags: str) -> tuple[str, float]:
    r = subprocess.run([sys.executable, *python_flags, str(BENCH), "4000"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"([\d.]+) µs of CPU per query; (.*)\n", r.stdout)
    assert m, r.stdout
    return m.group(2), float(m.group(1))


def _engine_module(env: dict, *python_flags: str) -> str:
    """Where the engine module that Python, so started, imports lives."""
    r = subprocess.run([sys.executable, *python_flags, "-c",
                        "import controllers.engine.engine as e; print(e.__file__)"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_compiled_and_source_send_the_same_bytes() -> None:
    """4,000 DNS queries (the bench's blocklist and 100 mixed rules, one in ten blocked)
    through the reader, the engine and the encoder: the same decisions, events and every
    byte sent, compiled and from source."""
    build = _build()
    plain = dict(os.environ)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(build), os.environ.get("PYTHONPATH", "")) if p))
    compiled_engine = _engine_module(env, "-P")     # each run is what it claims to be
    assert compiled_engine.startswith(f"{build}/") and compiled_engine.endswith(".so")
    assert _engine_module(plain).endswith(".py")
    source, _ = _dns_path(plain)
    fast, _ = _dns_path(env, "-P")
    assert fast == source
    assert "4000 decisions, 400 events" in source


def test_a_build_is_made_complete_and_replaces_the_one_before(tmp_path: Path) -> None:
    src = tmp_path / "src" / "controllers"
    (src / "sub").mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "main.py").write_text("from controllers.sub.calc import twice\nprint(twice(21))\n")
    (src / "sub" / "__init__.py").write_text("")
    (src / "sub" / "calc.py").write_text("def twice(x: int) -> list:\n    return x * 2\n")
    cache = tmp_path / "cache"
    said: list[str] = []
    first = compiled.build(said.append, src, cache)
    assert said and "compiling" in said[0]
    assert compiled.build(said.append, src, cache) == first and len(said) == 1  # up to date
    assert (first / "COMPLETE").is_file()
    assert list((first / "controllers" / "sub").glob("calc.*.so"))
    assert not (first / "controllers" / "sub" / "calc.py").exists()
    assert not list(first.rglob("*.c"))
    assert _main(src, cache) == "42\n"                  # the annotation is not a C type
    (src / "sub" / "calc.py").write_text("def twice(x):\n    return x + x + 1\n")
    second = compiled.build(said.append, src, cache)
    assert second != first and not first.exists()
    assert _main(src, cache) == "43\n"


def _main(src: Path, cache: Path) -> str:
    """What `python -m controllers.main` prints, started as the lab starts the censor."""
    cmd, env = compiled.censor_command([], dict(os.environ), src, cache)
    assert "-P" in cmd
    r = subprocess.run(cmd, env=env, cwd=src.parent, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout
