"""What would settle it: how much learning one more fact would move the answer.

For a candidate piece of evidence X (a named ship's deadweight, the visits seen in one month,
the share of visits the imagery caught, a month's barrels reported by an independent source)
the posterior's replications already say what X would be, jointly with whether the claim
holds. Learning that X fell in some range reweights the posterior to the replications where
it did (the replications are draws from the joint posterior predictive, so conditioning on X
is selecting them; Bayes' rule by simulation). The expected change of the answer,

    E|dP| = sum over outcomes b of P(b) |P(claim | b) - P(claim)|,

is how much knowing X would move P(seen visits carried the claim) on average, before one
knows what X turns out to be (a preposterior analysis; Raiffa and Schlaifer 1961). Outcomes
are X's posterior deciles (knowing X to about a tenth of its posterior range), or its values
when it is a small count. A finite sample makes even an irrelevant X move the answer a
little: the *noise floor* is E|dP| for X shuffled across replications (the mean of a few
shuffles), and the reported value is E|dP| less that floor (never below 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis.posterior import weighted_quantiles

__all__ = ["Candidate", "Settle", "expected_change", "settle"]

SHUFFLES = 8
"""Shuffles averaged for the noise floor."""
MIN_BIN = 0.02
"""Outcomes with less posterior weight than this are merged with their neighbour."""


@dataclass(frozen=True)
class Candidate:
    """A piece of evidence one could look for: its label and its value in every replication."""

    key: str
    label: str
    values: np.ndarray
    discrete: bool = False


@dataclass(frozen=True)
class Settle:
    """How much learning a candidate would move P(claim) (see the module docstring)."""

    key: str
    label: str
    expected_change: float
    """E|dP| less the noise floor [probability]."""
    raw_change: float
    noise_floor: float
    p_low: float
    """P(claim) if X turned out in its lowest outcome [probability]."""
    p_high: float
    """P(claim) if X turned out in its highest outcome [probability]."""
    outcomes: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def sentence(self) -> str:
        return (
            f"{self.label}: would move P(seen) by {100 * self.expected_change:.1f} points on "
            f"average (from {100 * self.p_low:.0f} % at its low end to "
            f"{100 * self.p_high:.0f} % at its high end)"
        )


def _bins(x: np.ndarray, w: np.ndarray, discrete: bool) -> np.ndarray:
    """An outcome index for every replication (by value, or by weighted decile)."""
    if discrete:
        values, idx = np.unique(x, return_inverse=True)
        mass = np.bincount(idx, weights=w, minlength=len(values)) / w.sum()
        # merge light outcomes into the next heavier one, in value order
        label = np.arange(len(values))
        acc, cur = 0.0, 0
        for j in range(len(values)):
            label[j] = cur
            acc += mass[j]
            if acc >= MIN_BIN:
                cur, acc = cur + 1, 0.0
        if acc and cur:  # a light tail joins the last full outcome
            label[label == cur] = cur - 1
        return label[idx]
    edges = weighted_quantiles(x, w, [0.1 * k for k in range(1, 10)])
    return np.searchsorted(np.unique(edges), x, side="right")


def expected_change(hit: np.ndarray, w: np.ndarray, bins: np.ndarray) -> tuple[float, float, float]:
    """E|dP| of outcomes ``bins``, and P(claim) in the lowest and highest outcome."""
    total = w.sum()
    p = float(np.sum(w * hit) / total)
    wb = np.bincount(bins, weights=w)
    hb = np.bincount(bins, weights=w * hit)
    keep = wb > 0
    pb = hb[keep] / wb[keep]
    change = float(np.sum(wb[keep] / total * np.abs(pb - p)))
    return change, float(pb[0]), float(pb[-1])


def settle(
    hit: np.ndarray,
    weights: np.ndarray,
    candidates: Sequence[Candidate],
    *,
    seed: int = 0,
) -> list[Settle]:
    """Every candidate's expected change of P(``hit``), largest first (see the module
    docstring). ``hit`` and ``weights`` are per replication of the posterior."""
    hit = np.asarray(hit, dtype=float)
    w = np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    out = []
    for cand in candidates:
        x = np.asarray(cand.values, dtype=float)
        ok = np.isfinite(x) & (w > 0)
        if ok.sum() < 20 or np.unique(x[ok]).size < 2:
            continue
        h, ww, xx = hit[ok], w[ok], x[ok]
        bins = _bins(xx, ww, cand.discrete)
        if bins.max() == 0:
            continue
        raw, lo, hi = expected_change(h, ww, bins)
        floor = float(
            np.mean([expected_change(h, ww, rng.permutation(bins))[0] for _ in range(SHUFFLES)])
        )
        out.append(
            Settle(
                cand.key, cand.label, max(raw - floor, 0.0), raw, floor, lo, hi,
                int(bins.max()) + 1,
            )
        )  # fmt: skip
    out.sort(key=lambda s: -s.expected_change)
    return out
