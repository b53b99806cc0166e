"""Held-out checks: what the posterior predicts for facts it was not fitted to.

A calibration fits some evidence rows; everything else it knows of is a *check*: the rows its
evidence set leaves out (the claimants' estimates, under the default set), the rows no
setting of the unknowns can match one at a time (the named ships' single-day sightings), the
named ships' cycles between two dated loadings, and *anchors*: facts about the fleet from
outside the evidence (its ships' listed capacity in 2018, its throughput in 2016, a named
ship's reported size; ``[anchors]`` in the scenario).

Each check sets the reported value against the posterior predictive distribution of the
quantity it measures (weighted replications of the posterior): its 5 %, 50 % and 95 %
points, the reported value's *percentile* in it (P(X < r) + P(X = r) / 2, so 0.5 is the
middle) and the probability that a replication agrees with the report under its relation
(``=``, ``~`` within 20 %, ``>=``, ``<=``). A check is *flagged* when the report lies outside
what the posterior expects: a value (``=`` or ``~``) whose percentile falls outside 5-95 %, a
bound (``>=``, ``<=``) or an event (a sighting, a cycle) that fewer than 5 % of the
posterior's replications reach.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.core.config import ANCHOR_QUANTITIES, Scenario
from sim.core.evidence import APPROX
from sim.core.fmt import number

__all__ = ["FLAG_LOW", "HeldOut", "anchor_values", "held_out_checks", "percentile"]

FLAG_LOW = 0.05
"""A check is flagged below this probability (or percentile), or above 1 minus it."""
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class HeldOut:
    """One held-out check (see the module docstring)."""

    id: str
    label: str
    kind: str
    """``evidence`` (a row not fitted), ``anchor`` (a fact from outside the evidence) or
    ``event`` (a sighting or a cycle: reached or not)."""
    reported: str
    relation: str
    target: float
    p05: float
    p50: float
    p95: float
    percentile: float
    p_agree: float
    flagged: bool
    why_held_out: str
    source: str = ""
    independence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def verdict(self) -> str:
        """A few words on where the report lies in what the posterior predicts."""
        if self.relation in ("=", "~") and self.kind != "event":
            return f"at the posterior's {100 * self.percentile:.0f}th percentile"
        return f"reached in {100 * self.p_agree:.0f} % of posterior replications"


def percentile(x: np.ndarray, w: np.ndarray, r: float) -> float:
    """The weighted mid-percentile of ``r`` in ``x``: P(X < r) + P(X = r) / 2, in [0, 1].

    >>> percentile(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4), 2.0)
    0.375
    """
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    ok = np.isfinite(x) & (w > 0)
    x, w = x[ok], w[ok]
    if not len(x) or not w.sum() > 0:
        return math.nan
    below = float(w[x < r].sum())
    at = float(w[x == r].sum())
    return (below + 0.5 * at) / float(w.sum())


def _agrees(x: np.ndarray, relation: str, target: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if relation == ">=":
            return x >= target
        if relation == "<=":
            return x <= target
        if relation == "~":
            return np.abs(x - target) <= APPROX * abs(target)
        return x == target


def _check(
    cid: str,
    label: str,
    kind: str,
    x: np.ndarray,
    w: np.ndarray,
    relation: str,
    target: float,
    reported: str,
    why: str,
    source: str = "",
    independence: str = "",
) -> HeldOut:
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x) & (w > 0)
    from sim.analysis.posterior import weighted_quantiles

    q = weighted_quantiles(x[ok], w[ok], (0.05, 0.5, 0.95))
    pct = percentile(x, w, target)
    agree = (
        float(np.sum(w[ok] * _agrees(x[ok], relation, target)) / w[ok].sum())
        if ok.any() and w[ok].sum() > 0
        else math.nan
    )
    if kind == "anchor" and relation == "=":
        agree = math.nan  # a continuous quantity equals a figure with probability 0: see pct
    if kind == "event" or relation in (">=", "<="):
        flagged = bool(agree < FLAG_LOW) if math.isfinite(agree) else False
    else:
        flagged = bool(pct < FLAG_LOW or pct > 1 - FLAG_LOW) if math.isfinite(pct) else False
    return HeldOut(
        cid, label, kind, reported, relation, float(target), float(q[0]), float(q[1]),
        float(q[2]), pct, agree, flagged, why, source, independence,
    )  # fmt: skip


def anchor_values(table: pd.DataFrame, scenario: Scenario, quantity: str) -> np.ndarray:
    """An anchor's quantity in every replication of ``table`` (see
    :data:`sim.core.config.ANCHOR_QUANTITIES`)."""
    if quantity == "loaded_bbl_per_year":
        days = scenario.window.days
        return table["loaded_bbl"].to_numpy(dtype=float) * DAYS_PER_YEAR / days
    if quantity not in table:
        raise KeyError(f"the replications have no column {quantity!r}")
    return table[quantity].to_numpy(dtype=float)


def _unit(quantity: str) -> str:
    if quantity.startswith("dwt_t__") or quantity == "fleet_dwt_t_mean":
        return "dwt"
    if quantity == "loaded_bbl_per_year":
        return "bbl/yr"
    if quantity == "trips":
        return "visits"
    return "bbl"


def held_out_checks(
    table: pd.DataFrame,
    weights: np.ndarray,
    statistics: Sequence[Any],
    scenario: Scenario,
    reasons: Mapping[str, str] | None = None,
) -> list[HeldOut]:
    """The held-out checks of posterior replications ``table`` with ``weights`` (per row):
    every statistic that was not fitted (``reasons`` by statistic name say why; the
    alternative readings of volumes, suffix ``:all``, are left out), then every anchor of
    the scenario."""
    w = np.asarray(weights, dtype=float)
    out: list[HeldOut] = []
    reasons = reasons or {}
    for st in statistics:
        if st.fitted or st.name.endswith(":all"):
            continue
        x = st.raw(table)
        event = st.name.endswith(":cycle") or st.name == "named-sightings"
        out.append(
            _check(
                st.name,
                st.label,
                "event" if event else "evidence",
                x,
                w,
                st.relation,
                st.target,
                f"{st.relation} {number(st.target)}",
                reasons.get(st.name, "not fitted"),
                getattr(st, "source", ""),
                getattr(st, "independence", ""),
            )
        )
    for aid, a in scenario.anchors.items():
        x = anchor_values(table, scenario, a.quantity)
        what = ANCHOR_QUANTITIES.get(a.quantity, a.quantity.replace("__", " of "))
        out.append(
            _check(
                aid,
                f"{a.label} ({what})",
                "anchor",
                x,
                w,
                a.relation,
                a.value,
                f"{a.relation} {a.value:,.0f} {_unit(a.quantity)}",
                "a fact from outside the evidence: checked, never fitted",
                a.source,
                a.independence,
            )
        )
    return out
