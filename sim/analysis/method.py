"""The claim's own method, applied inside the model: would it over- or under-count?

Claims about tanker deliveries are usually estimates of the form *visits seen x each ship's
listed capacity x a load factor*: the US 2018 submission took ships as "about 90 percent
laden" (reference facts, row 48). OSC's own formula was not published. Applied to the visits a
replication's observer saw, with the ship's full capacity for the voyage's product as its
listed capacity, the estimator can be set against the barrels the fleet really loaded in the
same replication: its bias and spread under the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.verdict import Proportion, Summary

CLAIMANTS_LOAD_FACTOR = 0.90
"""The load factor of the US 2018 practice ("about 90 percent laden")."""


def claimants_estimate(reps: pd.DataFrame, load_factor: float = CLAIMANTS_LOAD_FACTOR) -> pd.Series:
    """The claimants' estimate of each replication [bbl]: seen visits' capacities x factor."""
    return load_factor * reps["seen_capacity_bbl"]


@dataclass(frozen=True)
class MethodCheck:
    """The claimants' estimator against the truth of the same replications.

    ``ratio`` is estimate / barrels loaded (all visits, seen or not); ``ratio_seen`` is
    estimate / barrels of the seen visits (what the method could at best recover).
    """

    load_factor: float
    estimate_bbl: Summary
    loaded_bbl: Summary
    ratio: Summary
    ratio_seen: Summary
    bias_bbl: Summary
    p_overstates: Proportion
    p_estimate_ge_claim: Proportion | None
    p_loaded_ge_claim_given_estimate: Proportion | None

    def to_dict(self) -> dict[str, object]:
        return {
            "load_factor": self.load_factor,
            "estimate_bbl": self.estimate_bbl.to_dict(),
            "loaded_bbl": self.loaded_bbl.to_dict(),
            "ratio_estimate_to_loaded": self.ratio.to_dict(),
            "ratio_estimate_to_seen_loaded": self.ratio_seen.to_dict(),
            "bias_bbl": self.bias_bbl.to_dict(),
            "p_overstates": self.p_overstates.to_dict(),
            "p_estimate_ge_claim": _d(self.p_estimate_ge_claim),
            "p_loaded_ge_claim_given_estimate_ge_claim": _d(self.p_loaded_ge_claim_given_estimate),
        }


def _d(p: Proportion | None) -> dict[str, object] | None:
    return None if p is None else p.to_dict()


def _ratio_summary(est: np.ndarray, base: np.ndarray) -> Summary:
    """The summary of ``est / base`` over the replications where ``base > 0``."""
    keep = base > 0
    ratio = est[keep]  # a copy, divided in place: one array of ratios and one temporary
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(ratio, base[keep], out=ratio)
    del keep
    finite = np.isfinite(ratio)
    if not finite.all():
        ratio = ratio[finite]
    del finite
    return Summary.of(ratio, scratch=True)


def method_check(
    reps: pd.DataFrame,
    claim_bbl: float | None = None,
    load_factor: float = CLAIMANTS_LOAD_FACTOR,
) -> MethodCheck:
    """The claimants' estimator over a table of replications (see the module docstring)."""
    # One summary at a time, each array dropped once summarised: a million replications hold
    # at most four columns' worth at once (the estimate, one other column, a temporary array
    # and the summary's own), whatever their order of computation would otherwise be.
    est = claimants_estimate(reps, load_factor).to_numpy(dtype=float)
    seen = reps["observed_bbl"].to_numpy(dtype=float)
    ratio_seen = _ratio_summary(est, seen)
    del seen
    loaded = reps["loaded_bbl"].to_numpy(dtype=float)
    ratio = _ratio_summary(est, loaded)
    p_est = p_cond = None
    if claim_bbl is not None:
        over = est >= claim_bbl
        p_est = Proportion.of(over)
        p_cond = Proportion.of(loaded[over] >= claim_bbl) if over.any() else None
        del over
    p_overstates = Proportion.of(est > loaded)
    loaded_summary = Summary.of(loaded)
    estimate_summary = Summary.of(est)
    bias = est - loaded
    del est, loaded
    bias_summary = Summary.of(bias, scratch=True)
    return MethodCheck(
        load_factor=load_factor,
        estimate_bbl=estimate_summary,
        loaded_bbl=loaded_summary,
        ratio=ratio,
        ratio_seen=ratio_seen,
        bias_bbl=bias_summary,
        p_overstates=p_overstates,
        p_estimate_ge_claim=p_est,
        p_loaded_ge_claim_given_estimate=p_cond,
    )
