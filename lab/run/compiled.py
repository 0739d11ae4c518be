"""The censor compiled: its package built by Cython into C extensions, and which build a censor
process runs.

The censor's per-packet path is Python (controllers/): the packet parsers, the rule walk, the
engine and the switch connection's reader. Compiled by Cython as they are (no change of
meaning), a DNS query costs it ~12 µs of CPU instead of ~21; with the C declarations, ~10
(tests/unit/engine/bench_dns_path.py, the same bytes sent either way). The only C types are
declared beside a module, in a `.pxd` of the same name, read by Cython alone: the records made
for every packet (Packet, Flow, Facts; DnsQuery, Parsed and Output, read-only) become
extension types whose attributes their own code sets without a lookup (the attributes stay
what `__slots__` says, all Python objects: tests/unit/test_compiled.py holds the two to each
other), and the byte-level parsers get C integers for offsets and C calls to their own
helpers. This module owns:

- the build's identity: a digest of every source file of the package, of the build recipe
  and of the Python it is built for, so a build is only ever used with the sources it was
  built from (an edited file means no build, not a stale one);
- building it (`blocklab setup` and `make setup`, with Cython from the venv and Debian's gcc
  and Python headers), into CACHE/<digest>: a complete `controllers` package in which every
  module but COMPILE_SKIP is an extension, the rest copied as they are;
- how a censor process is started on it (`censor_command`): that folder first on its path,
  and Python's -P so that the working directory (a checkout's own controllers/) does not
  come first. Without a build for the current sources, or with BLOCKLAB_COMPILED=0, the
  censor runs from source, as before; the censor's `status` says which (`compiled`).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Under /var/lib, not /var/cache: the kernel lane's guest (scripts/kernel-lane) sees this
# machine's /var through an overlay but gets a /var/cache of its own, empty, and would compile
# the censor again under software emulation (minutes) instead of running the host's build.
CACHE = Path(os.environ.get("BLOCKLAB_COMPILED_CACHE", "/var/lib/blocklab/censor"))
PACKAGE = "controllers"
# Left as Python besides packages' __init__ files: the entry point, and the os-ken app, whose
# event handlers os-ken finds by introspection (inspect.isfunction is false for a compiled
# function: compiled, the app would get no switch connection at all).
COMPILE_SKIP = ("main.py", "openflow/app.py")
# Compiled as written: annotations are not C types (a `-> list` would refuse a list subclass).
DIRECTIVES = {"language_level": 3, "binding": True, "annotation_typing": False}
RECIPE = f"cython {sorted(DIRECTIVES.items())} skip {COMPILE_SKIP}"


def source_dir() -> Path:
    """The controllers package this Python imports (a checkout's, or an installed one)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {PACKAGE} package is not importable by {sys.executable}")
    return Path(list(spec.submodule_search_locations)[0])


def sources(src: Path) -> list[Path]:
    """The package's Python files and Cython declarations (.pxd), relative to it, in a fixed
    order."""
    return sorted(p.relative_to(src) for p in src.rglob("*")
                  if p.suffix in (".py", ".pxd") and "__pycache__" not in p.parts)


def compiled(rel: Path) -> bool:
    """Whether the module at `rel` (relative to the package) is built as an extension."""
    return rel.suffix == ".py" and rel.name != "__init__.py" \
        and rel.as_posix() not in COMPILE_SKIP


def digest(src: Path) -> str:
    """What a build is built from: the sources, the recipe and this Python."""
    h = hashlib.sha256(f"{RECIPE}\n{sys.version}\n{sys.implementation.cache_tag}\n".encode())
    for rel in sources(src):
        h.update(f"{rel.as_posix()}\0".encode())
        h.update((src / rel).read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def build_dir(src: Path | None = None, cache: Path | None = None) -> Path:
    """Where the build of these sources lives (it may not exist)."""
    return (cache or CACHE) / digest(src or source_dir())


def current(src: Path | None = None, cache: Path | None = None) -> Path | None:
    """The build of the current sources, if there is one and it is not turned off."""
    if os.environ.get("BLOCKLAB_COMPILED", "1") == "0":
        return None
    try:
        where = build_dir(src, cache)
    except (OSError, RuntimeError):
        return None
    return where if (where / "COMPLETE").is_file() else None


def censor_command(args: list[str], env: dict, src: Path | None = None,
                   cache: Path | None = None) -> tuple[list[str], dict]:
    """The command and environment that start `python -m controllers.main ARGS`: on the
    compiled build when there is one for the current sources, else from source."""
    build = current(src, cache) if sys.version_info >= (3, 11) else None     # -P is 3.11's
    if build is None:
        return [sys.executable, "-m", f"{PACKAGE}.main", *args], env
    path = os.pathsep.join(p for p in (str(build), env.get("PYTHONPATH", "")) if p)
    return [sys.executable, "-P", "-m", f"{PACKAGE}.main", *args], dict(env, PYTHONPATH=path)


def cython_available() -> bool:
    return importlib.util.find_spec("Cython") is not None


def build(say=print, src: Path | None = None, cache: Path | None = None) -> Path | None:
    """Build the current sources if they have no build yet (and remove older builds); the
    build's folder, or None when this Python has no Cython. Raises BuildError (with the
    compiler's output) when the build fails."""
    if not cython_available():
        return None
    src, cache = src or source_dir(), cache or CACHE
    where = build_dir(src, cache)
    if (where / "COMPLETE").is_file():
        return where
    say(f"compiling the censor's packet path with Cython (once per change of "
        f"{PACKAGE}/; ~1 min) into {where}")
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=cache))
    work.chmod(0o755)                           # mkdtemp makes it its owner's alone
    try:
        tree = work / PACKAGE
        shutil.copytree(src, tree, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c"))
        modules = [PACKAGE + "/" + rel.as_posix() for rel in sources(tree) if compiled(rel)]
        r = subprocess.run([sys.executable, "-c", _BUILD, repr(DIRECTIVES), *modules],
                           cwd=work, capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise BuildError(f"Cython or the C compiler failed (exit {r.returncode}):\n"
                             + (r.stderr or r.stdout).strip()[-4000:])
        for rel in sources(tree):
            if compiled(rel) or rel.suffix == ".pxd":  # the extension replaces the source
                (tree / rel).unlink()
                (tree / rel).with_suffix(".c").unlink(missing_ok=True)
        shutil.rmtree(work / "build", ignore_errors=True)
        (work / "COMPLETE").write_text(f"{RECIPE}\n{sys.version}\n")
        if where.exists():
            shutil.rmtree(where)
        work.rename(where)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for old in cache.iterdir():                 # builds of sources that are gone
        if old != where and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return where


class BuildError(Exception):
    """Compiling the censor failed; the message has the compiler's last words."""


# Run by build() in a child Python in the build's work folder: cythonize the listed modules
# and build them in place (two compilers at a time: the machines this runs on have two cores).
_BUILD = """
import ast, sys
from setuptools import setup
from Cython.Build import cythonize
directives, modules = ast.literal_eval(sys.argv[1]), sys.argv[2:]
level = directives.pop("language_level")
sys.argv = [sys.argv[0], "build_ext", "--inplace", "-j", "2"]
setup(name="blocklab-censor", script_args=sys.argv[1:],
      ext_modules=cythonize(modules, language_level=level, quiet=True, nthreads=2,
                            compiler_directives=directives))
"""
