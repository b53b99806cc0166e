"""Small statistics of Monte Carlo samples: proportions with intervals, summaries, conditioning.

Intervals here are Monte Carlo intervals: they say how precisely a finite number of
replications estimates a quantity of the model, not how uncertain the world is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sim.core.defaults import MAX_HALFWIDTH, MIN_MATCHES

Z95 = 1.959963984540054
"""Two-sided 95 % quantile of the standard normal [-]."""
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Percentiles reported for every quantity."""


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float, float]:
    """Proportion ``k / n`` with its Wilson score interval (95 % by default).

    >>> [round(x, 4) for x in wilson(8, 10)]
    [0.8, 0.4902, 0.9433]
    """
    if n == 0:
        return (math.nan, 0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (p, max(0.0, centre - half), min(1.0, centre + half))


def describe(x: pd.Series | np.ndarray, *, scratch: bool = False) -> dict[str, float]:
    """Mean (with a 95 % normal interval), standard deviation and percentiles of a sample.

    ``scratch=True``: ``x`` is an array the caller no longer needs, which the percentiles
    may reorder in place instead of copying (the same values: a partition is exact); so may
    a float copy this call makes of integers. A million values then hold one array and one
    temporary at a time, not two and one.
    """
    a = np.asarray(x, dtype=float)
    n = len(a)
    if n == 0:
        return {"n": 0}
    mean = float(a.mean())
    sd = float(a.std(ddof=1)) if n > 1 else 0.0
    half = Z95 * sd / math.sqrt(n) if n > 1 else 0.0
    out = {"n": n, "mean": mean, "mean_lo": mean - half, "mean_hi": mean + half, "sd": sd}
    # After the moments, which sum in the sample's order: the partition may reorder ``a``
    # when the caller gave it up or when it is this call's own copy.
    own = (scratch and a is x) or not np.may_share_memory(a, np.asarray(x))
    quantiles = np.quantile(a, QUANTILES, overwrite_input=own)  # one partition
    for q, v in zip(QUANTILES, quantiles, strict=True):
        out[f"p{int(q * 100):02d}"] = float(v)
    return out


def prob(mask: pd.Series | np.ndarray) -> dict[str, float]:
    """P(mask) with its Wilson interval: ``{"p", "lo", "hi", "k", "n"}``."""
    m = np.asarray(mask, dtype=bool)
    p, lo, hi = wilson(int(m.sum()), len(m))
    return {"p": p, "lo": lo, "hi": hi, "k": int(m.sum()), "n": len(m)}


def condition(
    reps: pd.DataFrame,
    column: str,
    target: float,
    *,
    min_matches: int = MIN_MATCHES,
    max_halfwidth: int = MAX_HALFWIDTH,
    halfwidth: int | None = None,
    columns: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Replications whose ``column`` lies within ``target ± h``, and ``h``.

    ``h`` is ``halfwidth`` when given; otherwise the smallest ``h`` that keeps at least
    ``min_matches`` replications, at most ``max_halfwidth``. ``columns``: keep only these
    (all: None), so that a table read from disk (:class:`sim.core.table.ColumnTable`) reads
    no more of the matching rows than is used.
    """
    values = reps[column].to_numpy()

    def rows(sel: np.ndarray) -> pd.DataFrame:
        if columns is None:
            return reps[sel]
        if hasattr(reps, "rows"):  # a ColumnTable: read the selected rows' columns only
            return reps.rows(sel, list(columns))
        return reps.loc[sel, list(columns)]

    if halfwidth is not None:
        return rows(np.abs(values - target) <= halfwidth), halfwidth
    for h in range(max_halfwidth + 1):
        sel = np.abs(values - target) <= h
        if sel.sum() >= min_matches or h == max_halfwidth:
            return rows(sel), h
    raise AssertionError("unreachable")  # pragma: no cover


def histogram_quantile(hist: Mapping[int, int], q: float) -> float:
    """``np.quantile(values, q)`` (linear interpolation) from a histogram of integer values
    (value -> count), bit for bit: numpy's virtual index ``(n - 1) q`` and its interpolation
    between the two neighbouring order statistics. Memory is the histogram's, not the sample's.

    >>> histogram_quantile({0: 3, 2: 1}, 0.9) == float(np.quantile([0, 0, 0, 2], 0.9))
    True
    """
    values = sorted(hist)
    ends = np.cumsum([hist[v] for v in values])  # one past each value's last sorted position
    n = int(ends[-1])

    def at(i: int) -> float:
        return float(values[int(np.searchsorted(ends, i, side="right"))])

    index = (n - 1) * np.float64(q)
    lo = int(np.floor(index))
    return _lerp(at(lo), at(min(lo + 1, n - 1)), float(index - lo))


def _lerp(a: float, b: float, t: float) -> float:
    # numpy's _lerp (numpy/lib/_function_base_impl.py): a + (b - a) t, from b when t >= 0.5
    diff = np.float64(b) - np.float64(a)
    if t >= 0.5:
        return float(np.float64(b) - diff * (1 - np.float64(t)))
    return float(np.float64(a) + diff * np.float64(t))


def histogram_mean(hist: Mapping[int, int]) -> float:
    """The mean of the values a histogram counts."""
    n = sum(hist.values())
    return float(sum(v * c for v, c in hist.items()) / n)
