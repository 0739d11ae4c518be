"""Confidence intervals for a matrix cell: Wilson for a success rate, a bootstrap for a median.

Owns the statistics behind the numbers a comparison (or a merged campaign) reports beside its
medians and spreads. Both are 95 % intervals and deterministic: the bootstrap draws from a
fixed seed, so the same trials always print the same interval.
"""
from __future__ import annotations

import math
import random
from statistics import median

Z95 = 1.959963984540054
RESAMPLES = 2000


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of k successes in n tries (None when n is 0)."""
    if n <= 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_median(values: list[float], resamples: int = RESAMPLES,
                     seed: int = 0) -> tuple[float, float] | None:
    """A percentile-bootstrap 95 % interval of the median (None for fewer than 2 values)."""
    if len(values) < 2:
        return None
    rng = random.Random(seed)
    n = len(values)
    meds = sorted(median(rng.choices(values, k=n)) for _ in range(resamples))
    return meds[int(0.025 * (resamples - 1))], meds[int(math.ceil(0.975 * (resamples - 1)))]
