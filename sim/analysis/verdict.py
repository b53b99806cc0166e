"""The plausibility verdict: what the replications say about a claim, as typed results.

The question a claim poses is conditional: *given* that satellites saw ``claims.trips``
visits, how many barrels did the fleet load? We answer it by keeping the replications whose
observed visits match the claim (exactly, or within the narrowest window ``claimed ± h`` that
holds at least ``min_matches`` replications, ``h <= max_halfwidth``), and reading the
distribution of barrels among them. Probabilities carry Wilson score intervals (Monte Carlo
error); quantities carry percentile intervals and a normal interval for their mean.

Verdict words, for p = P(barrels >= claimed barrels | observed visits = claimed visits):

====================  =====================
p                     word
====================  =====================
p >= 0.90             very plausible
0.50 <= p < 0.90      plausible
0.10 <= p < 0.50      possible but unlikely
0.01 <= p < 0.10      implausible
p < 0.01              very implausible
====================  =====================

Every result is a frozen dataclass with units in its field names and a ``to_dict()`` that
gives the JSON layout of ``verdict.json``; renderers (text, Markdown, tables) read these
objects and never recompute them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.claims import Needed, needed_ship, tonnes_vs_barrels
from sim.analysis.stats import condition, describe, prob
from sim.core.config import Scenario
from sim.core.defaults import MAX_HALFWIDTH, MIN_MATCHES, MIN_MATCHES_WARN
from sim.core.units import (
    cap_pro_rata_bbl,
    per_year,
)

WORDS: tuple[tuple[float, str], ...] = (
    (0.90, "very plausible"),
    (0.50, "plausible"),
    (0.10, "possible but unlikely"),
    (0.01, "implausible"),
    (0.0, "very implausible"),
)
"""Verdict words by the lowest probability that earns them."""

DISTRIBUTION_COLUMNS: tuple[str, ...] = (
    "trips",
    "observed_visits",
    "loaded_bbl",
    "delivered_bbl",
    "observed_bbl",
    "loaded_t",
    "delivered_t",
    "mean_parcel_bbl",
    "p_detect",
)
"""Per-replication quantities whose distributions the verdict reports."""

__all__ = [
    "WORDS",
    "Claim",
    "Conditional",
    "Headline",
    "Needed",
    "Proportion",
    "Summary",
    "TonnesCheck",
    "UnCap",
    "Verdict",
    "conditioned_replications",
    "needed_ship",
    "verdict",
    "word_for",
]


def word_for(p: float) -> str:
    """The verdict word for a probability (see the module docstring).

    >>> word_for(0.83), word_for(0.06)
    ('plausible', 'implausible')
    """
    for threshold, word in WORDS:
        if p >= threshold:
            return word
    return WORDS[-1][1]


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class Proportion:
    """A Monte Carlo estimate of a probability: ``k`` of ``n`` replications, with the Wilson
    95 % interval ``lo``-``hi`` (Monte Carlo error, not uncertainty about the world)."""

    p: float
    lo: float
    hi: float
    k: int
    n: int

    @classmethod
    def of(cls, mask: pd.Series | np.ndarray) -> Proportion:
        d = prob(mask)
        return cls(d["p"], d["lo"], d["hi"], int(d["k"]), int(d["n"]))

    def to_dict(self) -> dict[str, Any]:
        return {"p": self.p, "lo": self.lo, "hi": self.hi, "k": self.k, "n": self.n}


@dataclass(frozen=True)
class Summary:
    """A quantity across replications (in the quantity's own unit): mean with its 95 % normal
    interval, standard deviation and percentiles. Empty samples have ``n = 0`` only."""

    n: int
    mean: float = math.nan
    mean_lo: float = math.nan
    mean_hi: float = math.nan
    sd: float = math.nan
    p05: float = math.nan
    p25: float = math.nan
    p50: float = math.nan
    p75: float = math.nan
    p95: float = math.nan

    @classmethod
    def of(cls, x: pd.Series | np.ndarray, *, scratch: bool = False) -> Summary:
        """The summary of a sample (``scratch``: see :func:`sim.analysis.stats.describe`)."""
        return cls(**describe(x, scratch=scratch))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        if self.n == 0:
            return {"n": 0}
        return {
            "n": self.n,
            "mean": self.mean,
            "mean_lo": self.mean_lo,
            "mean_hi": self.mean_hi,
            "sd": self.sd,
            "p05": self.p05,
            "p25": self.p25,
            "p50": self.p50,
            "p75": self.p75,
            "p95": self.p95,
        }


@dataclass(frozen=True)
class Claim:
    """The published claim under test."""

    source: str
    trips: int | None
    barrels_bbl: float | None
    tonnes_t: float | None
    ships: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "trips": self.trips,
            "barrels": self.barrels_bbl,
            "tonnes": self.tonnes_t,
            "ships": self.ships,
        }


@dataclass(frozen=True)
class Conditional:
    """The replications whose observed visits match the claimed visits, and what they say."""

    method: str
    column: str
    target_visits: int
    halfwidth_visits: int
    matches: int
    match_share: float
    reliable: bool
    basis: str
    barrels_bbl: Summary | None = None
    loaded_bbl: Summary | None = None
    delivered_bbl: Summary | None = None
    observed_bbl: Summary | None = None
    trips: Summary | None = None
    basis_t: Summary | None = None
    unseen_visits: Summary | None = None
    p_claim: Proportion | None = None
    """P(barrels >= claimed barrels | claimed visits seen): the fleet, unseen visits included."""
    p_seen: Proportion | None = None
    """P(barrels carried by the seen visits >= claimed barrels | claimed visits seen)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "column": self.column,
            "target": self.target_visits,
            "halfwidth": self.halfwidth_visits,
            "matches": self.matches,
            "match_share": self.match_share,
            "reliable": self.reliable,
        }
        if self.matches:
            assert self.barrels_bbl is not None and self.p_claim is not None
            assert self.p_seen is not None
            out["barrels"] = self.barrels_bbl.to_dict()
            for name, s in (
                ("loaded_bbl", self.loaded_bbl),
                ("delivered_bbl", self.delivered_bbl),
                ("observed_bbl", self.observed_bbl),
                ("trips", self.trips),
                (f"{self.basis}_t", self.basis_t),
                ("unseen_visits", self.unseen_visits),
            ):
                assert s is not None
                out[name] = s.to_dict()
            out["p_claim"] = self.p_claim.to_dict()
            out["p_observed_bbl_ge_claimed"] = self.p_seen.to_dict()
        return out


@dataclass(frozen=True)
class TonnesCheck:
    """Claimed barrels against claimed tonnes: the implied factor and density."""

    claimed_bbl_per_t: float
    claimed_density_t_per_m3: float
    product_table_bbl_per_t: tuple[float, float]
    consistent: bool
    simulated_t: Summary

    def to_dict(self) -> dict[str, Any]:
        return {
            "claimed_bbl_per_t": self.claimed_bbl_per_t,
            "claimed_density_t_per_m3": self.claimed_density_t_per_m3,
            "product_table_bbl_per_t": list(self.product_table_bbl_per_t),
            "consistent": self.consistent,
            "simulated_t": self.simulated_t.to_dict(),
        }


@dataclass(frozen=True)
class UnCap:
    """The UN cap on refined products against the simulated yearly rate."""

    cap_bbl_per_year: float
    cap_pro_rata_bbl: float
    bbl_per_year: Summary
    p_above_cap: Proportion

    def to_dict(self) -> dict[str, Any]:
        return {
            "cap_bbl_per_year": self.cap_bbl_per_year,
            "cap_pro_rata_bbl": self.cap_pro_rata_bbl,
            "bbl_per_year": self.bbl_per_year.to_dict(),
            "p_above_cap": self.p_above_cap.to_dict(),
        }


@dataclass(frozen=True)
class Headline:
    """The verdict words and a one-paragraph plain-language answer.

    ``word`` judges the claimed barrels against the fleet's loadings (or deliveries) given the
    claimed observed visits, unseen visits included; ``word_seen`` judges them against the
    barrels of the observed visits alone.
    """

    word: str
    word_seen: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.word, "word_seen": self.word_seen, "text": self.text}


@dataclass(frozen=True)
class Verdict:
    """The verdict on a scenario's claim from a batch of replications."""

    scenario: str
    replications: int
    window_days: int
    basis: str
    claim: Claim
    distributions: dict[str, Summary]
    probabilities: dict[str, Proportion]
    headline: Headline
    conditional: Conditional | None = None
    needed: Needed | None = None
    tonnes_check: TonnesCheck | None = None
    un_cap: UnCap | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of ``verdict.json``."""
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "replications": self.replications,
            "window_days": self.window_days,
            "basis": self.basis,
            "claim": self.claim.to_dict(),
            "distributions": {k: v.to_dict() for k, v in self.distributions.items()},
            "probabilities": {k: v.to_dict() for k, v in self.probabilities.items()},
        }
        if self.conditional is not None:
            out["conditional"] = self.conditional.to_dict()
        if self.needed is not None:
            out["needed"] = self.needed.to_dict()
        if self.tonnes_check is not None:
            out["tonnes_check"] = self.tonnes_check.to_dict()
        if self.un_cap is not None:
            out["un_cap"] = self.un_cap.to_dict()
        out["headline"] = self.headline.to_dict()
        out.update(self.extra)
        return out


# --------------------------------------------------------------------------- computing it


def verdict(
    reps: pd.DataFrame,
    scenario: Scenario,
    *,
    min_matches: int = MIN_MATCHES,
    max_halfwidth: int = MAX_HALFWIDTH,
) -> Verdict:
    """The verdict on the scenario's claim from a table of replications.

    The claimed barrels are compared with barrels *loaded* in the window (``claims.basis =
    "loaded"``, the default: the OSC window ends on the last recorded loading, and OSC counted
    what the tankers loaded) or *delivered* (discharged inside the window).
    """
    cl = scenario.claims
    basis = cl.basis
    col = f"{basis}_bbl"
    n = len(reps)
    days = scenario.window.days
    claim = Claim(cl.source, cl.trips, cl.barrels, cl.tonnes, cl.ships)
    distributions = {c: Summary.of(reps[c]) for c in DISTRIBUTION_COLUMNS}
    probs: dict[str, Proportion] = {}
    if cl.trips is not None:
        probs["trips_ge_claimed"] = Proportion.of(reps["trips"] >= cl.trips)
        probs["observed_ge_claimed"] = Proportion.of(reps["observed_visits"] >= cl.trips)
    if cl.barrels is not None:
        probs["loaded_ge_claimed"] = Proportion.of(reps["loaded_bbl"] >= cl.barrels)
        probs["delivered_ge_claimed"] = Proportion.of(reps["delivered_bbl"] >= cl.barrels)
    cond = needed = None
    if cl.trips is not None and cl.barrels is not None:
        used = ["observed_visits", "trips", "loaded_bbl", "delivered_bbl", "observed_bbl"]
        used += [c for c in (col, f"{basis}_t") if c not in used]
        sub, h = condition(
            reps,
            "observed_visits",
            cl.trips,
            min_matches=min_matches,
            max_halfwidth=max_halfwidth,
            columns=used,
        )
        common: dict[str, Any] = {
            "method": (
                "replications whose observed visits lie within claimed ± halfwidth, with the "
                f"smallest halfwidth that keeps at least {min_matches} (at most {max_halfwidth})"
            ),
            "column": "observed_visits",
            "target_visits": cl.trips,
            "halfwidth_visits": h,
            "matches": len(sub),
            "match_share": len(sub) / n if n else 0.0,
            "reliable": len(sub) >= MIN_MATCHES_WARN,
            "basis": basis,
        }
        if len(sub):
            cond = Conditional(
                **common,
                barrels_bbl=Summary.of(sub[col]),
                loaded_bbl=Summary.of(sub["loaded_bbl"]),
                delivered_bbl=Summary.of(sub["delivered_bbl"]),
                observed_bbl=Summary.of(sub["observed_bbl"]),
                trips=Summary.of(sub["trips"]),
                basis_t=Summary.of(sub[f"{basis}_t"]),
                unseen_visits=Summary.of(sub["trips"] - sub["observed_visits"]),
                p_claim=Proportion.of(sub[col] >= cl.barrels),
                p_seen=Proportion.of(sub["observed_bbl"] >= cl.barrels),
            )
        else:
            cond = Conditional(**common)
        per_trip = cl.barrels / cl.trips if cl.trips else math.nan
        base = needed_ship(scenario, per_trip)
        needed = Needed(
            **{k: v for k, v in base.__dict__.items() if k != "p_mean_parcel_ge_needed"},
            p_mean_parcel_ge_needed=Proportion.of(reps["mean_parcel_bbl"] >= per_trip),
        )
    tonnes = None
    if cl.barrels and cl.tonnes:
        tb = tonnes_vs_barrels(scenario, cl.barrels, cl.tonnes)  # the claims check's own
        tonnes = TonnesCheck(
            claimed_bbl_per_t=tb.implied_bbl_per_t,
            claimed_density_t_per_m3=tb.implied_density_t_per_m3,
            product_table_bbl_per_t=(tb.products[0].bbl_per_t, tb.products[-1].bbl_per_t),
            consistent=not tb.impossible,
            simulated_t=Summary.of(reps[f"{basis}_t"]),
        )
    cap = None
    if cl.un_cap_bbl_per_year:
        yearly = per_year(reps[col], days)
        cap = UnCap(
            cap_bbl_per_year=cl.un_cap_bbl_per_year,
            cap_pro_rata_bbl=cap_pro_rata_bbl(cl.un_cap_bbl_per_year, days),
            bbl_per_year=Summary.of(yearly),
            p_above_cap=Proportion.of(yearly > cl.un_cap_bbl_per_year),
        )
    return Verdict(
        scenario=scenario.name,
        replications=n,
        window_days=days,
        basis=basis,
        claim=claim,
        distributions=distributions,
        probabilities=probs,
        headline=_headline(n, basis, claim, distributions, cond, needed, cap),
        conditional=cond,
        needed=needed,
        tonnes_check=tonnes,
        un_cap=cap,
    )


def conditioned_replications(reps: pd.DataFrame, v: Verdict) -> pd.DataFrame | None:
    """The replications the verdict's conditional answer rests on (``None`` without one)."""
    if v.conditional is None:
        return None
    c = v.conditional
    sub, _ = condition(reps, c.column, c.target_visits, halfwidth=c.halfwidth_visits)
    return sub


def _pct(p: Proportion) -> str:
    return f"{p.p:.0%} ({p.lo:.0%}-{p.hi:.0%})"


def _visits(target: int, h: int) -> str:
    lo, hi = max(0, target - h), target + h
    return f"{target} observed visits" if h == 0 else f"{lo}-{hi} observed visits"


def _headline(
    n: int,
    basis: str,
    claim: Claim,
    dists: dict[str, Summary],
    cond: Conditional | None,
    need: Needed | None,
    cap: UnCap | None,
) -> Headline:
    dist = dists[f"{basis}_bbl"]
    if cond is not None and cond.matches == 0:
        visits = dists["observed_visits"]
        assert claim.trips is not None
        text = (
            f"None of the {n} replications showed "
            f"{_visits(claim.trips, cond.halfwidth_visits)} (they showed "
            f"{visits.p05:,.0f}-{visits.p95:,.0f}, 90% interval), so the scenario "
            "cannot reproduce the claimed visits: revisit its fleet, turnaround or detection "
            f"probability before reading its barrels (median {dist.p50:,.0f} {basis})."
        )
        return Headline("no matches", "no matches", text)
    if cond is None or cond.p_claim is None:
        text = (
            "The scenario states no claimed visits and barrels to test; across "
            f"{n} replications the fleet {basis} {dist.p50:,.0f} barrels "
            f"(90% interval {dist.p05:,.0f}-{dist.p95:,.0f})."
        )
        return Headline("no verdict", "no verdict", text)
    assert need is not None and claim.trips is not None and claim.barrels_bbl is not None
    assert cond.barrels_bbl is not None and cond.observed_bbl is not None
    assert cond.unseen_visits is not None and cond.trips is not None and cond.p_seen is not None
    p, po = cond.p_claim, cond.p_seen
    word, word_seen = word_for(p.p), word_for(po.p)
    seen = _visits(claim.trips, cond.halfwidth_visits)
    d, ob, unseen = cond.barrels_bbl, cond.observed_bbl, cond.unseen_visits
    text = (
        f"{word.capitalize()}: in {_pct(p)} of the {cond.matches} replications with {seen} "
        f"(of {n}), the fleet {basis} at least {claim.barrels_bbl:,.0f} barrels "
        f"(median {d.p50:,.0f}; 90% interval {d.p05:,.0f}-{d.p95:,.0f}). "
        f"Those replications made a median {cond.trips.p50:,.0f} trips: "
        f"{unseen.p50:,.0f} visits went unseen. The visits that were seen carried a median "
        f"{ob.p50:,.0f} barrels, at least {claim.barrels_bbl:,.0f} in only {_pct(po)}: "
        f"{word_seen} on their own. "
        f"The claim needs {need.bbl_per_trip:,.0f} barrels per visit, a ship of about "
        f"{need.capacity_bbl:,.0f} bbl ({need.dwt_approx:,.0f} dwt) at a "
        f"{need.mean_load_factor:.0%} load factor; the simulated fleet averaged "
        f"{dists['mean_parcel_bbl'].mean:,.0f} barrels per trip."
    )
    if cap is not None:
        text += (
            f" The fleet {basis} a median {cap.bbl_per_year.p50:,.0f} barrels a year, "
            f"{cap.bbl_per_year.p50 / cap.cap_bbl_per_year:.1f} times the UN cap of "
            f"{cap.cap_bbl_per_year:,.0f}."
        )
    if not cond.reliable:
        text += (
            f" Warning: only {cond.matches} replications match; run more replications "
            "for a reliable answer."
        )
    return Headline(word, word_seen, text)
