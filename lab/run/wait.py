"""Waiting on a condition with a deadline: the only way the lab waits for anything."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


class Timeout(Exception):
    """A condition did not hold before its deadline."""


def wait_until(condition: Callable[[], T], timeout: float, what: str,
               interval: float = 0.02) -> T:
    """Poll `condition` until it returns something truthy; return that value.

    Raises Timeout naming `what` when `timeout` seconds pass first. The poll interval grows
    from `interval` up to 0.2 s so quick conditions are seen quickly and slow ones cost little.
    """
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
