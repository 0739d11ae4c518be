"""Waiting on a condition with a deadline: the only way the lab waits for anything.

Every deadline is multiplied by BLOCKLAB_TIME_SCALE (default 1): the kernel lane runs the lab
in a guest under software emulation, several times slower than native, and scales its deadlines
there instead of weakening them everywhere (scripts/kernel-lane/).
"""
from __future__ import annotations

import math
import os
import time
from typing import Callable, TypeVar

T = TypeVar("T")


def _time_scale() -> float:
    raw = os.environ.get("BLOCKLAB_TIME_SCALE", "1")
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 1:
        raise SystemExit(f"blocklab: BLOCKLAB_TIME_SCALE={raw!r}: want a number of at least 1")
    return value


TIME_SCALE = _time_scale()


def scaled(seconds: float) -> float:
    """A deadline of `seconds` on a native machine, stretched by BLOCKLAB_TIME_SCALE."""
    return seconds * TIME_SCALE


class Timeout(Exception):
    """A condition did not hold before its deadline."""


def wait_until(condition: Callable[[], T], timeout: float, what: str,
               interval: float = 0.02) -> T:
    """Poll `condition` until it returns something truthy; return that value.

    Raises Timeout naming `what` when `timeout` seconds pass first. The poll interval grows
    from `interval` up to 0.2 s so quick conditions are seen quickly and slow ones cost little.
    """
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Timeout(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(delay)  # polling step of a deadline wait, not a fixed sleep
        delay = min(delay * 1.5, 0.2)
