"""What the running kernel can emulate, found by reading files (no root, nothing changed).

Owns `kernel_has_netem()`: whether tc's netem qdisc (link delay, jitter, loss) is available,
from the kernel's configuration (/proc/config.gz, /boot/config-RELEASE), its module lists
(/lib/modules/RELEASE/modules.builtin and modules.dep) and /sys/module. Adding a qdisc to try
would need root and change the machine, so we do not. When nothing tells, the answer is False,
and `netem_support()` says why.
"""
from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

OPTION = "CONFIG_NET_SCH_NETEM"
MODULE = "sch_netem.ko"
_MODULE_RE = re.compile(r"(^|/)sch_netem\.ko(\.(xz|gz|zst))?$")    # maybe compressed


def _config_value(path: Path) -> str | None:
    """'y', 'm' or 'n' for OPTION in a kernel config file; None if it can't be read."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", errors="replace") as f:
            for line in f:
                if line.startswith(OPTION + "="):
                    return line.split("=", 1)[1].strip().strip('"')
                if line.startswith(f"# {OPTION} is not set"):
                    return "n"
    except (OSError, EOFError, ValueError):
        return None
    return "n"


def _lists_module(path: Path) -> bool | None:
    """Whether a modules.builtin/modules.dep file names sch_netem; None if unreadable."""
    try:
        with open(path, errors="replace") as f:
            return any(_MODULE_RE.search(line.split(":", 1)[0].strip()) for line in f)
    except OSError:
        return None


def netem_support(root: Path = Path("/"), release: str | None = None) -> tuple[bool, str]:
    """(netem available?, why we think so). `root` lets tests use a fake file tree."""
    release = release or os.uname().release
    if (root / "sys/module/sch_netem").is_dir():
        return True, "sch_netem is loaded"
    modules = root / "lib/modules" / release
    builtin = _lists_module(modules / "modules.builtin")
    dep = _lists_module(modules / "modules.dep")
    for config in (root / "proc/config.gz", root / f"boot/config-{release}"):
        value = _config_value(config)
        if value == "y":
            return True, f"netem is built in ({OPTION}=y in {config})"
        if value == "m":
            if dep:
                return True, f"netem is a loadable module ({modules}/modules.dep)"
            return False, (f"netem is configured as a module ({OPTION}=m in {config}) but "
                           f"{modules}/modules.dep does not list {MODULE}")
        if value is not None:
            return False, f"the kernel was built without netem ({OPTION} is not set in {config})"
    if builtin:
        return True, f"netem is built in ({modules}/modules.builtin)"
    if dep:
        return True, f"netem is a loadable module ({modules}/modules.dep)"
    if builtin is False or dep is False:
        return False, f"{modules}/modules.builtin and modules.dep do not list {MODULE}"
    return False, (f"cannot tell whether the kernel has netem: no /proc/config.gz, "
                   f"/boot/config-{release} or {modules}/modules.builtin or modules.dep")


def kernel_has_netem() -> bool:
    """True when tc netem (delay, jitter, loss) can be used; False when absent or unknown."""
    return netem_support()[0]
