"""lab/run/compiled.py's logic: which build a censor process is started on, when a build
counts as the current sources', and that the C declarations (.pxd) say what the classes say
(tests/integration/test_compiled_censor.py runs the real build)."""
from __future__ import annotations

import importlib
import re
import shutil
import sys
from pathlib import Path

import pytest

from lab.run import compiled


@pytest.fixture
def package(tmp_path: Path) -> Path:
    src = tmp_path / "src" / "controllers"
    (src / "engine").mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "main.py").write_text("print('main')\n")
    (src / "engine" / "__init__.py").write_text("")
    (src / "engine" / "engine.py").write_text("X = 1\n")
    return src


def _built(package: Path, cache: Path) -> Path:
    where = cache / compiled.digest(package)
    where.mkdir(parents=True)
    (where / "COMPLETE").write_text("")
    return where


def test_the_digest_follows_every_source_file(package: Path, tmp_path: Path) -> None:
    before = compiled.digest(package)
    assert compiled.digest(package) == before
    (package / "engine" / "engine.py").write_text("X = 2\n")
    edited = compiled.digest(package)
    assert edited != before
    (package / "engine" / "new.py").write_text("")
    added = compiled.digest(package)
    assert added not in (before, edited)
    (package / "engine" / "new.pxd").write_text("cdef class New:\n    pass\n")
    assert compiled.digest(package) not in (before, edited, added)    # C declarations too


def test_the_digest_is_of_contents_not_of_where_they_are(package: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "controllers"
    shutil.copytree(package, copy)
    assert compiled.digest(copy) == compiled.digest(package)
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "junk.py").write_text("ignored")
    assert compiled.digest(copy) == compiled.digest(package)


def test_what_is_compiled_and_what_stays_python() -> None:
    assert compiled.compiled(Path("engine/engine.py"))
    assert compiled.compiled(Path("openflow/link.py"))
    assert not compiled.compiled(Path("__init__.py"))
    assert not compiled.compiled(Path("engine/__init__.py"))
    assert not compiled.compiled(Path("main.py"))
    assert not compiled.compiled(Path("openflow/app.py"))     # os-ken introspects its handlers
    assert not compiled.compiled(Path("engine/flows.pxd"))    # declarations, read by Cython


ARGS = ["--policy", "p.json"]


def test_without_a_build_the_censor_runs_from_source(package: Path, tmp_path: Path) -> None:
    cmd, env = compiled.censor_command(ARGS, {"PATH": "/bin"}, package, tmp_path / "cache")
    assert cmd == [sys.executable, "-m", "controllers.main", *ARGS]
    assert env == {"PATH": "/bin"}


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the compiled censor needs python -P")
def test_with_the_current_build_the_censor_runs_it_first(package: Path, tmp_path: Path) -> None:
    where = _built(package, tmp_path / "cache")
    cmd, env = compiled.censor_command(ARGS, {"PYTHONPATH": "/mine"}, package,
                                       tmp_path / "cache")
    assert cmd == [sys.executable, "-P", "-m", "controllers.main", *ARGS]
    assert env["PYTHONPATH"] == f"{where}:/mine"


def test_a_build_of_other_sources_is_not_used(package: Path, tmp_path: Path) -> None:
    _built(package, tmp_path / "cache")
    (package / "engine" / "engine.py").write_text("X = 3\n")    # edited since the build
    cmd, _ = compiled.censor_command(ARGS, {}, package, tmp_path / "cache")
    assert "-P" not in cmd


def test_a_half_made_build_is_not_used(package: Path, tmp_path: Path) -> None:
    where = _built(package, tmp_path / "cache")
    (where / "COMPLETE").unlink()                   # the build stopped before its end
    assert compiled.current(package, tmp_path / "cache") is None


def test_blocklab_compiled_0_runs_from_source(package: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _built(package, tmp_path / "cache")
    monkeypatch.setenv("BLOCKLAB_COMPILED", "0")
    assert compiled.current(package, tmp_path / "cache") is None


def _declared(pxd: Path) -> dict[str, list[str]]:
    """The attributes each `cdef class` of a .pxd declares, in order."""
    out: dict[str, list[str]] = {}
    cls = None
    for line in pxd.read_text().splitlines():
        head = re.match(r"cdef class (\w+)(?:\(\w+\))?:", line)
        fields = re.match(r"\s+cdef (?:public|readonly) object (.+)", line)
        if head:
            cls = out.setdefault(head.group(1), [])
        elif cls is not None and fields:
            cls += [name.strip() for name in fields.group(1).split(",")]
    return out


def test_each_declared_type_has_the_attributes_its_class_has() -> None:
    src = compiled.source_dir()
    pxds = sorted(src.rglob("*.pxd"))
    assert pxds                         # Packet, Flow, Facts, DnsQuery at least
    for pxd in pxds:
        module = importlib.import_module(
            ".".join((compiled.PACKAGE, *pxd.relative_to(src).with_suffix("").parts)))
        for name, attributes in _declared(pxd).items():
            cls = getattr(module, name)
            assert sorted(attributes) == sorted(cls.__slots__), f"{pxd.name}: {name}"
            assert len(set(attributes)) == len(attributes), f"{pxd.name}: {name}"

