"""What a calibrated posterior says: weighted statistics, the posterior verdict, what one must
believe for the claim to hold, and the posterior predictive check.

A posterior here is a set of weighted particles (values of the fleet-level unknowns) with,
for each, what its replications did. Probabilities over the posterior are weighted shares;
their Monte Carlo error comes from the particles' effective sample size (ESS = 1 / sum w^2
for weights summing to 1), kept apart from the credible intervals, which describe what we do
not know about the world.

The claim's two questions, in the order an analyst asks them:

1. *seen*: given the visits the imagery caught, did those visits carry the claimed barrels?
   Each replication's seen barrels are put on the claimed number of visits (the claimed visits
   x the replication's mean seen parcel), which removes the few visits of slack the
   calibration's tolerance leaves;
2. *fleet*: counting the visits the imagery missed, did the fleet load (or deliver) the
   claimed barrels? Each replication's barrels are put on the claimed visits in the same way:
   the claimed visits / the replication's share of visits seen x its mean parcel.

The verdict's words (:func:`sim.analysis.verdict.word_for`) apply to the first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.verdict import Needed, needed_ship, word_for
from sim.core.config import Scenario

__all__ = [
    "EVIDENCE_WORDS",
    "Alternative",
    "Interval",
    "MustBelieve",
    "PosteriorProbability",
    "PosteriorVerdict",
    "ess",
    "must_believe",
    "named_parcels",
    "posterior_verdict",
    "predictive_check",
    "range_sentence",
    "weighted_quantiles",
    "with_context",
]


def ess(w: np.ndarray) -> float:
    """Effective sample size of weights ``w`` (normalised here): 1 / sum(w^2)."""
    w = np.asarray(w, dtype=float)
    s = w.sum()
    if not s > 0:
        return 0.0
    w = w / s
    return float(1.0 / np.sum(w * w))


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles of ``x`` under weights ``w`` (the inverse of the weighted ECDF, midpoint rule).

    >>> weighted_quantiles(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4), [0.5]).tolist()
    [2.5]
    >>> weighted_quantiles(np.array([1.0, 2.0]), np.array([1.0, 3.0]), [0.5]).tolist()
    [1.75]
    """
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    ok = np.isfinite(x) & (w > 0)
    x, w = x[ok], w[ok]
    if len(x) == 0:
        return np.full(len(qs), math.nan)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.asarray(qs, dtype=float), cum, x)


@dataclass(frozen=True)
class Interval:
    """A quantity under the posterior: weighted median and 90 % credible interval (its own
    unit), and the weighted mean."""

    median: float
    lo: float
    hi: float
    mean: float

    @classmethod
    def of(cls, x: np.ndarray, w: np.ndarray) -> Interval:
        lo, med, hi = weighted_quantiles(x, w, (0.05, 0.5, 0.95))
        ok = np.isfinite(x) & (w > 0)
        mean = float(np.average(x[ok], weights=w[ok])) if ok.any() else math.nan
        return cls(float(med), float(lo), float(hi), mean)

    def to_dict(self) -> dict[str, float]:
        return {"median": self.median, "lo": self.lo, "hi": self.hi, "mean": self.mean}


@dataclass(frozen=True)
class PosteriorProbability:
    """P(event | evidence) under the posterior, with its Monte Carlo standard error (from the
    effective sample size; not a credible interval)."""

    p: float
    mcse: float
    ess: float

    @classmethod
    def of(cls, hit: np.ndarray, w: np.ndarray, n_eff: float | None = None) -> PosteriorProbability:
        w = np.asarray(w, dtype=float)
        p = float(np.sum(w * np.asarray(hit, dtype=float)) / w.sum()) if w.sum() > 0 else math.nan
        n = ess(w) if n_eff is None else n_eff
        se = math.sqrt(max(p * (1 - p), 0.0) / n) if n > 0 else math.nan
        return cls(p, se, n)

    def to_dict(self) -> dict[str, float]:
        return {"p": self.p, "mcse": self.mcse, "ess": self.ess}


@dataclass(frozen=True)
class MustBelieve:
    """The smallest mean parcel per seen visit that brings the claimed visits to the claimed
    barrels, in several units, and the posterior's probability of a parcel that large."""

    parcel_bbl: float
    parcel_m3: float
    parcel_t: float
    ship: Needed
    p_parcel: PosteriorProbability
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "parcel_bbl": self.parcel_bbl,
            "parcel_m3": self.parcel_m3,
            "parcel_t": self.parcel_t,
            "ship": self.ship.to_dict(),
            "p_parcel": self.p_parcel.to_dict(),
            "sentence": self.sentence,
        }


@dataclass(frozen=True)
class PosteriorVerdict:
    """The answer to a claim under the posterior (see the module docstring)."""

    claim_bbl: float
    claim_visits: int
    basis: str
    prior: str
    seen: PosteriorProbability
    fleet: PosteriorProbability
    word: str
    fleet_word: str
    quantities: dict[str, Interval]
    parameters: dict[str, Interval]
    must: MustBelieve
    particles: int
    replications: int
    headline: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    evidence_set: str = "all"
    """The evidence set fitted (:data:`sim.core.evidence.EVIDENCE_SETS`)."""
    fitted: tuple[str, ...] = ()
    """The evidence rows (statistics) fitted."""
    held_out: tuple[Any, ...] = ()
    """Held-out checks (:class:`sim.analysis.heldout.HeldOut`)."""
    settle: tuple[Any, ...] = ()
    """What would settle it (:class:`sim.analysis.settle.Settle`), largest first."""
    alternatives: tuple[Alternative, ...] = ()
    """The answer under other evidence sets (or settings), beside this one."""
    core: str = ""
    """The answer under this calibration's own settings (the headline without its lead)."""

    @property
    def answers(self) -> tuple[float, float]:
        """The lowest and highest P(seen) among this answer and its alternatives."""
        ps = [self.seen.p, *(a.p_seen for a in self.alternatives)]
        return (min(ps), max(ps))

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim_bbl": self.claim_bbl,
            "claim_visits": self.claim_visits,
            "basis": self.basis,
            "prior": self.prior,
            "seen": self.seen.to_dict(),
            "fleet": self.fleet.to_dict(),
            "word": self.word,
            "fleet_word": self.fleet_word,
            "quantities": {k: v.to_dict() for k, v in self.quantities.items()},
            "parameters": {k: v.to_dict() for k, v in self.parameters.items()},
            "must_believe": self.must.to_dict(),
            "particles": self.particles,
            "replications": self.replications,
            "headline": self.headline,
            "notes": list(self.notes),
            "evidence_set": self.evidence_set,
            "fitted": list(self.fitted),
            "held_out": [h.to_dict() for h in self.held_out],
            "settle": [x.to_dict() for x in self.settle],
            "alternatives": [a.to_dict() for a in self.alternatives],
            "answers": list(self.answers),
            "core": self.core or self.headline,
        }


@dataclass(frozen=True)
class Alternative:
    """The answer under another evidence set or prior, beside the default."""

    evidence: str
    prior: str
    p_seen: float
    mcse: float
    p_fleet: float
    fleet_mcse: float
    word: str
    fitted: tuple[str, ...] = ()
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["fitted"] = list(self.fitted)
        return d


EVIDENCE_WORDS = {
    "independent": "the evidence independent of the claim",
    "counted": "every counted fact, the claimants' counts too",
    "all": "every row, the claimants' own estimates too",
}
"""The evidence sets in words, for headlines."""


def _set_words(evidence: str, prior: str) -> str:
    words = EVIDENCE_WORDS.get(evidence, evidence)
    if prior != "scenario":
        words += f", prior set {prior}"
    return words


def with_context(
    v: PosteriorVerdict,
    *,
    evidence_set: str,
    fitted: Sequence[str],
    held_out: Sequence[Any] = (),
    settle: Sequence[Any] = (),
    alternatives: Sequence[Alternative] = (),
) -> PosteriorVerdict:
    """The verdict with what it was fitted to, its held-out checks, what would settle it and
    the answers under other evidence sets; the headline then leads with the range of
    answers, then gives this one, then its Monte Carlo error (in that order)."""
    import dataclasses

    core = v.core or v.headline
    out = dataclasses.replace(
        v,
        evidence_set=evidence_set,
        fitted=tuple(fitted),
        held_out=tuple(held_out),
        settle=tuple(settle),
        alternatives=tuple(alternatives),
        core=core,
    )
    lead = range_sentence(out)
    return dataclasses.replace(out, headline=(lead + " " + core) if lead else core)


def range_sentence(v: PosteriorVerdict) -> str:
    """``Between 2 % and 31 %, depending on ...``: the range of P(seen) over this answer and
    its alternatives, or an empty string without alternatives."""
    if not v.alternatives:
        return ""
    lo, hi = v.answers
    parts = [f"{_pct(v.seen.p)} fitting {_set_words(v.evidence_set, v.prior)}"]
    parts += [
        f"{_pct(a.p_seen)} fitting {a.label or _set_words(a.evidence, a.prior)}"
        for a in v.alternatives
    ]
    return (
        f"Did the {v.claim_visits} seen visits carry {v.claim_bbl:,.0f} barrels? Between "
        f"{_pct(lo)} and {_pct(hi)}, depending on what is fitted: " + "; ".join(parts) + "."
    )


def _pct(p: float) -> str:
    from sim.core.fmt import pct

    return pct(p)


def claim_quantities(table: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per replication: barrels the claimed visits carried (seen) and the fleet's barrels,
    both put on the claimed number of visits (see the module docstring), the mean seen
    parcel, the share of visits seen and the unseen visits."""
    cl = scenario.claims
    visits = float(cl.trips or 0)
    obs = table["observed_visits"].to_numpy(dtype=float)
    trips = table["trips"].to_numpy(dtype=float)
    base = table[f"{cl.basis}_bbl"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        seen_parcel = np.where(obs > 0, table["observed_bbl"].to_numpy(dtype=float) / obs, np.nan)
        share = np.where(trips > 0, obs / trips, np.nan)
        fleet = np.where(obs > 0, base * visits / obs, np.nan)
    return pd.DataFrame(
        {
            "seen_claim_bbl": visits * seen_parcel,
            "fleet_claim_bbl": fleet,
            "mean_seen_parcel_bbl": seen_parcel,
            "share_seen": share,
            "unseen_visits": trips - obs,
        },
        index=table.index,
    )


def must_believe(
    scenario: Scenario, parcel_bbl: np.ndarray, w: np.ndarray, n_eff: float | None = None
) -> MustBelieve:
    """The smallest mean seen parcel that makes the claimed visits carry the claim."""
    from sim.core.units import BBL_PER_M3

    cl = scenario.claims
    need = float(cl.barrels or 0) / max(1, int(cl.trips or 1))
    ship = needed_ship(scenario, need)
    bpt = ship.mix_bbl_per_t
    p = PosteriorProbability.of(np.nan_to_num(parcel_bbl, nan=0.0) >= need, w, n_eff)
    sentence = (
        f"For the {cl.trips} seen visits to carry {cl.barrels:,.0f} barrels, each must have "
        f"carried {need:,.0f} bbl on average ({need / BBL_PER_M3:,.0f} m3, {need / bpt:,.0f} t), "
        f"a ship of about {ship.dwt_approx:,.0f} dwt at a {ship.mean_load_factor:.0%} load "
        f"factor; under the posterior the mean seen parcel is that large with probability "
        f"{_pct(p.p)}."
    )
    return MustBelieve(need, need / BBL_PER_M3, need / bpt, ship, p, sentence)


def posterior_verdict(
    table: pd.DataFrame,
    weights: np.ndarray,
    scenario: Scenario,
    parameters: Mapping[str, np.ndarray],
    *,
    prior: str = "scenario",
    particle: np.ndarray | None = None,
    evidence_set: str = "all",
) -> PosteriorVerdict:
    """The verdict of posterior replications ``table`` (one row per replication) with weights
    ``weights`` (per row). ``particle`` (per row) groups rows of one particle, so that the
    Monte Carlo error counts particles, not replications; ``parameters`` are the per-row
    values of the calibrated unknowns, by key."""
    cl = scenario.claims
    if cl.trips is None or cl.barrels is None:
        raise ValueError("the scenario's claim needs trips and barrels")
    w = np.asarray(weights, dtype=float)
    q = claim_quantities(table, scenario)
    n_eff = _particle_ess(w, particle)
    seen = PosteriorProbability.of(q["seen_claim_bbl"].to_numpy() >= cl.barrels, w, n_eff)
    fleet = PosteriorProbability.of(q["fleet_claim_bbl"].to_numpy() >= cl.barrels, w, n_eff)
    quantities = {
        name: Interval.of(q[name].to_numpy(dtype=float), w)
        for name in ("seen_claim_bbl", "fleet_claim_bbl", "mean_seen_parcel_bbl", "share_seen")
    }
    for name in ("trips", "observed_visits", "mean_parcel_bbl", "p_detect"):
        quantities[name] = Interval.of(table[name].to_numpy(dtype=float), w)
    quantities["unseen_visits"] = Interval.of(q["unseen_visits"].to_numpy(dtype=float), w)
    params = {k: Interval.of(np.asarray(v, dtype=float), w) for k, v in parameters.items()}
    must = must_believe(scenario, q["mean_seen_parcel_bbl"].to_numpy(), w, n_eff)
    word, fleet_word = word_for(seen.p), word_for(fleet.p)
    trips = quantities["trips"]
    parcel = quantities["mean_seen_parcel_bbl"]
    headline = (
        f"{word.capitalize()}: given {_set_words(evidence_set, prior)}, the {cl.trips} seen "
        f"visits carried at least {cl.barrels:,.0f} barrels with probability {_pct(seen.p)}. "
        f"Counting the visits the imagery missed, the fleet "
        f"{'loaded' if cl.basis == 'loaded' else 'delivered'} that much with probability "
        f"{_pct(fleet.p)} ({fleet_word}): it made {trips.median:,.0f} trips (90% credible "
        f"interval {trips.lo:,.0f}-{trips.hi:,.0f}) with a mean seen parcel of "
        f"{parcel.median:,.0f} bbl ({parcel.lo:,.0f}-{parcel.hi:,.0f}). Monte Carlo error "
        f"of the probabilities: ±{100 * seen.mcse:.1f} and ±{100 * fleet.mcse:.1f} points."
    )
    return PosteriorVerdict(
        claim_bbl=float(cl.barrels),
        claim_visits=int(cl.trips),
        basis=cl.basis,
        prior=prior,
        seen=seen,
        fleet=fleet,
        word=word,
        fleet_word=fleet_word,
        quantities=quantities,
        parameters=params,
        must=must,
        particles=len(np.unique(particle)) if particle is not None else len(w),
        replications=len(w),
        headline=headline,
        evidence_set=evidence_set,
        core=headline,
    )


def _particle_ess(w: np.ndarray, particle: np.ndarray | None) -> float:
    """ESS counted over particles (rows of one particle are not independent draws of the
    unknowns: the conservative count)."""
    if particle is None:
        return ess(w)
    per = pd.Series(w).groupby(np.asarray(particle)).sum().to_numpy()
    return ess(per)


def predictive_check(
    values: pd.DataFrame,
    weights: np.ndarray,
    statistics: Sequence[Any],
    prior_values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each calibration statistic: the reported value, the posterior predictive median and 90 %
    interval, and the weighted share of replications that agree with the report (and the
    prior predictive share, when ``prior_values`` is given)."""
    rows = []
    w = np.asarray(weights, dtype=float)
    for st in statistics:
        x = st.raw(values)
        med_lo_hi = weighted_quantiles(x, w, (0.05, 0.5, 0.95))
        row = {
            "statistic": st.name,
            "label": st.label,
            "reported": f"{st.relation} {st.target:g}",
            "fitted": st.fitted,
            "p05": med_lo_hi[0],
            "median": med_lo_hi[1],
            "p95": med_lo_hi[2],
            "agree_posterior": float(np.sum(w * st.agrees(x)) / w.sum()),
        }
        if prior_values is not None:
            row["agree_prior"] = float(np.mean(st.agrees(st.raw(prior_values))))
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["csv_mixed_units"] = ("p05", "median", "p95")  # visits, barrels and shares
    return out


def named_parcels(scenario: Scenario) -> pd.DataFrame:
    """The scenario's registry ships of known size, with the parcel each would carry at the
    fleet's mean load factor [bbl] (its cargo tonnes or its tanks, whichever is smaller, in
    the product mix): the marks on the what-you-must-believe chart."""
    from sim.core.registry import registry
    from sim.core.units import BBL_PER_M3

    reg = registry()
    need = needed_ship(scenario, 1.0)  # for the mix's barrels per tonne and the load factor
    rows = []
    for cls in scenario.fleet.values():
        if not cls.from_registry or cls.names is None:
            continue
        for name in cls.names:
            entry = reg.get(name)
            dwt = None if entry is None else entry.known_dwt
            if dwt is None:
                continue
            cap = min(
                dwt * cls.cargo_dwt_fraction.mean * need.mix_bbl_per_t,
                dwt * cls.tank_m3_per_dwt.mean * BBL_PER_M3,
            )
            rows.append({"name": name, "dwt": dwt, "parcel_bbl": cap * need.mean_load_factor})
    return pd.DataFrame(rows, columns=["name", "dwt", "parcel_bbl"])
