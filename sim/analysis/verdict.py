"""The plausibility verdict: what the replications say about a claim.

The question a claim poses is conditional: *given* that satellites saw ``claims.trips``
visits, how many barrels did the fleet deliver? We answer it by keeping the replications whose
observed visits match the claim (exactly, or within the narrowest window ``claimed ± h`` that
holds at least ``min_matches`` replications, ``h <= max_halfwidth``), and reading the
distribution of barrels delivered among them. Probabilities carry Wilson score intervals;
quantities carry percentile intervals and a normal interval for their mean.

Verdict words, for p = P(delivered >= claimed barrels | observed visits = claimed visits):

====================  =====================
p                     word
====================  =====================
p >= 0.90             very plausible
0.50 <= p < 0.90      plausible
0.10 <= p < 0.50      possible but unlikely
0.01 <= p < 0.10      implausible
p < 0.01              very implausible
====================  =====================
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.core.config import Scenario
from sim.core.units import BBL_PER_M3, DAYS_PER_YEAR

Z95 = 1.959963984540054
WORDS: tuple[tuple[float, str], ...] = (
    (0.90, "very plausible"),
    (0.50, "plausible"),
    (0.10, "possible but unlikely"),
    (0.01, "implausible"),
    (0.0, "very implausible"),
)
MIN_MATCHES_WARN = 30
"""Below this many matching replications the conditional answer is flagged as unreliable."""
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


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


def word_for(p: float) -> str:
    """The verdict word for a probability (see the module docstring)."""
    for threshold, word in WORDS:
        if p >= threshold:
            return word
    return WORDS[-1][1]


def describe(x: pd.Series | np.ndarray) -> dict[str, float]:
    """Mean (with a 95 % normal interval), standard deviation and percentiles of a sample."""
    a = np.asarray(x, dtype=float)
    n = len(a)
    if n == 0:
        return {"n": 0}
    mean = float(a.mean())
    sd = float(a.std(ddof=1)) if n > 1 else 0.0
    half = Z95 * sd / math.sqrt(n) if n > 1 else 0.0
    out = {"n": n, "mean": mean, "mean_lo": mean - half, "mean_hi": mean + half, "sd": sd}
    for q in QUANTILES:
        out[f"p{int(q * 100):02d}"] = float(np.quantile(a, q))
    return out


def prob(mask: pd.Series | np.ndarray) -> dict[str, float]:
    """P(mask) with its Wilson interval."""
    m = np.asarray(mask, dtype=bool)
    p, lo, hi = wilson(int(m.sum()), len(m))
    return {"p": p, "lo": lo, "hi": hi, "k": int(m.sum()), "n": len(m)}


def condition(
    reps: pd.DataFrame,
    column: str,
    target: float,
    *,
    min_matches: int = 200,
    max_halfwidth: int = 5,
    halfwidth: int | None = None,
) -> tuple[pd.DataFrame, int]:
    """Replications whose ``column`` lies within ``target ± h``, and ``h``.

    ``h`` is ``halfwidth`` when given; otherwise the smallest ``h`` that keeps at least
    ``min_matches`` replications, at most ``max_halfwidth``.
    """
    values = reps[column].to_numpy()
    if halfwidth is not None:
        return reps[np.abs(values - target) <= halfwidth], halfwidth
    for h in range(max_halfwidth + 1):
        sel = np.abs(values - target) <= h
        if sel.sum() >= min_matches or h == max_halfwidth:
            return reps[sel], h
    raise AssertionError("unreachable")  # pragma: no cover


def _mean_of_fleet(scenario: Scenario, attr: str) -> float:
    total = sum(c.n_ships for c in scenario.fleet.values())
    return sum(getattr(c, attr).mean * c.n_ships for c in scenario.fleet.values()) / total


def needed_ship(scenario: Scenario, bbl_per_trip: float) -> dict[str, float]:
    """Ship size needed to carry ``bbl_per_trip`` at the fleet's mean load factor.

    Tonnes use the product mix's mean barrels per tonne; deadweight assumes cargo is 92 % of
    dwt (an estimate: bunkers, stores and water take the rest).
    """
    lf = _mean_of_fleet(scenario, "load_factor")
    bpt = scenario.bbl_per_t
    mix_bpt = sum(w * bpt[p] for p, w in scenario.product_mix.items())
    capacity_bbl = bbl_per_trip / lf
    cargo_t = capacity_bbl / mix_bpt
    return {
        "bbl_per_trip": bbl_per_trip,
        "mean_load_factor": lf,
        "capacity_bbl": capacity_bbl,
        "capacity_m3": capacity_bbl / BBL_PER_M3,
        "mix_bbl_per_t": mix_bpt,
        "cargo_t": cargo_t,
        "dwt_approx": cargo_t / 0.92,
    }


def verdict(
    reps: pd.DataFrame,
    scenario: Scenario,
    *,
    min_matches: int = 200,
    max_halfwidth: int = 5,
) -> dict[str, Any]:
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
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "replications": n,
        "window_days": days,
        "basis": basis,
        "claim": {
            "source": cl.source,
            "trips": cl.trips,
            "barrels": cl.barrels,
            "tonnes": cl.tonnes,
            "ships": cl.ships,
        },
        "distributions": {
            c: describe(reps[c])
            for c in (
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
        },
        "probabilities": {},
    }
    probs = out["probabilities"]
    if cl.trips is not None:
        probs["trips_ge_claimed"] = prob(reps["trips"] >= cl.trips)
        probs["observed_ge_claimed"] = prob(reps["observed_visits"] >= cl.trips)
    if cl.barrels is not None:
        probs["loaded_ge_claimed"] = prob(reps["loaded_bbl"] >= cl.barrels)
        probs["delivered_ge_claimed"] = prob(reps["delivered_bbl"] >= cl.barrels)
    if cl.trips is not None and cl.barrels is not None:
        sub, h = condition(
            reps, "observed_visits", cl.trips, min_matches=min_matches, max_halfwidth=max_halfwidth
        )
        cond: dict[str, Any] = {
            "method": (
                "replications whose observed visits lie within claimed ± halfwidth, with the "
                f"smallest halfwidth that keeps at least {min_matches} (at most {max_halfwidth})"
            ),
            "column": "observed_visits",
            "target": cl.trips,
            "halfwidth": h,
            "matches": len(sub),
            "match_share": len(sub) / n if n else 0.0,
            "reliable": len(sub) >= MIN_MATCHES_WARN,
        }
        if len(sub):
            cond["barrels"] = describe(sub[col])
            for c in ("loaded_bbl", "delivered_bbl", "observed_bbl", "trips", f"{basis}_t"):
                cond[c] = describe(sub[c])
            cond["unseen_visits"] = describe(sub["trips"] - sub["observed_visits"])
            cond["p_claim"] = prob(sub[col] >= cl.barrels)
            cond["p_observed_bbl_ge_claimed"] = prob(sub["observed_bbl"] >= cl.barrels)
        out["conditional"] = cond
        per_trip = cl.barrels / cl.trips if cl.trips else math.nan
        out["needed"] = {
            **needed_ship(scenario, per_trip),
            "p_mean_parcel_ge_needed": prob(reps["mean_parcel_bbl"] >= per_trip),
        }
    if cl.barrels and cl.tonnes:
        implied = cl.barrels / cl.tonnes
        lo, hi = min(scenario.bbl_per_t.values()), max(scenario.bbl_per_t.values())
        out["tonnes_check"] = {
            "claimed_bbl_per_t": implied,
            "claimed_density_t_per_m3": 1.0 / (implied / BBL_PER_M3),
            "product_table_bbl_per_t": [lo, hi],
            "consistent": lo <= implied <= hi,
            "simulated_t": describe(reps[f"{basis}_t"]),
        }
    if cl.un_cap_bbl_per_year:
        per_year = reps[col] * DAYS_PER_YEAR / days
        out["un_cap"] = {
            "cap_bbl_per_year": cl.un_cap_bbl_per_year,
            "cap_pro_rata_bbl": cl.un_cap_bbl_per_year * days / DAYS_PER_YEAR,
            "bbl_per_year": describe(per_year),
            "p_above_cap": prob(per_year > cl.un_cap_bbl_per_year),
        }
    out["headline"] = headline(out)
    return out


def _pct(d: dict[str, float]) -> str:
    return f"{d['p']:.0%} ({d['lo']:.0%}-{d['hi']:.0%})"


def _visits(target: int, h: int) -> str:
    lo, hi = max(0, target - h), target + h
    return f"{target} observed visits" if h == 0 else f"{lo}-{hi} observed visits"


def headline(v: dict[str, Any]) -> dict[str, str]:
    """The verdict words and a one-paragraph plain-language answer.

    ``word`` judges the claimed barrels against the fleet's loadings (or deliveries) given the
    claimed observed visits, unseen visits included; ``word_seen`` judges them against the
    barrels of the observed visits alone.
    """
    cl = v["claim"]
    basis = v.get("basis", "loaded")
    cond = v.get("conditional")
    dist = v["distributions"][f"{basis}_bbl"]
    if cond is not None and cond["matches"] == 0:
        visits = v["distributions"]["observed_visits"]
        return {
            "word": "no matches",
            "word_seen": "no matches",
            "text": (
                f"None of the {v['replications']} replications showed "
                f"{_visits(cl['trips'], cond['halfwidth'])} (they showed "
                f"{visits['p05']:,.0f}-{visits['p95']:,.0f}, 90% interval), so the scenario "
                "cannot reproduce the claimed visits: revisit its fleet, turnaround or detection "
                f"probability before reading its barrels (median {dist['p50']:,.0f} {basis})."
            ),
        }
    if cond is None or "p_claim" not in cond:
        return {
            "word": "no verdict",
            "word_seen": "no verdict",
            "text": (
                "The scenario states no claimed visits and barrels to test; across "
                f"{v['replications']} replications the fleet {basis} {dist['p50']:,.0f} barrels "
                f"(90% interval {dist['p05']:,.0f}-{dist['p95']:,.0f})."
            ),
        }
    p = cond["p_claim"]
    po = cond["p_observed_bbl_ge_claimed"]
    word, word_seen = word_for(p["p"]), word_for(po["p"])
    seen = _visits(cl["trips"], cond["halfwidth"])
    d, ob, unseen = cond["barrels"], cond["observed_bbl"], cond["unseen_visits"]
    need = v["needed"]
    text = (
        f"{word.capitalize()}: in {_pct(p)} of the {cond['matches']} replications with {seen} "
        f"(of {v['replications']}), the fleet {basis} at least {cl['barrels']:,.0f} barrels "
        f"(median {d['p50']:,.0f}; 90% interval {d['p05']:,.0f}-{d['p95']:,.0f}). "
        f"Those replications made a median {cond['trips']['p50']:,.0f} trips: "
        f"{unseen['p50']:,.0f} visits went unseen. The visits that were seen carried a median "
        f"{ob['p50']:,.0f} barrels, at least {cl['barrels']:,.0f} in only {_pct(po)}: "
        f"{word_seen} on their own. "
        f"The claim needs {need['bbl_per_trip']:,.0f} barrels per visit, a ship of about "
        f"{need['capacity_bbl']:,.0f} bbl ({need['dwt_approx']:,.0f} dwt) at a "
        f"{need['mean_load_factor']:.0%} load factor; the simulated fleet averaged "
        f"{v['distributions']['mean_parcel_bbl']['mean']:,.0f} barrels per trip."
    )
    if "un_cap" in v:
        cap = v["un_cap"]
        text += (
            f" The fleet {basis} a median {cap['bbl_per_year']['p50']:,.0f} barrels a year, "
            f"{cap['bbl_per_year']['p50'] / cap['cap_bbl_per_year']:.1f} times the UN cap of "
            f"{cap['cap_bbl_per_year']:,.0f}."
        )
    if not cond["reliable"]:
        text += (
            f" Warning: only {cond['matches']} replications match; run more replications (-n) "
            "for a reliable answer."
        )
    return {"word": word, "word_seen": word_seen, "text": text}


def verdict_markdown(v: dict[str, Any]) -> str:
    """The verdict as a Markdown report."""
    lines = [
        f"# Verdict: {v['scenario']}",
        "",
        f"**{v['headline']['word']}.** {v['headline']['text']}",
        "",
        f"The claimed barrels are compared with barrels **{v['basis']}** in the window.",
        "",
    ]
    cl = v["claim"]
    lines += [
        "## The claim",
        "",
        f"- Source: {cl['source'] or '-'}",
        f"- Visits: {cl['trips']}, barrels: {cl['barrels']:,.0f}"
        if cl["barrels"]
        else "- Barrels: -",
        f"- Window: {v['window_days']} days; replications: {v['replications']}",
        "",
        "## Distributions across replications",
        "",
        "| quantity | mean (95% CI) | 5% | 25% | median | 75% | 95% |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, d in v["distributions"].items():
        if d.get("n"):
            lines.append(
                f"| {name} | {d['mean']:,.1f} ({d['mean_lo']:,.1f}-{d['mean_hi']:,.1f}) | "
                + " | ".join(f"{d[q]:,.1f}" for q in ("p05", "p25", "p50", "p75", "p95"))
                + " |"
            )
    lines += [
        "",
        "## Probabilities (Wilson 95% intervals)",
        "",
        "| event | p | interval | k / n |",
        "| --- | --- | --- | --- |",
    ]
    labels = {
        "trips_ge_claimed": "trips >= claimed visits",
        "observed_ge_claimed": "observed visits >= claimed visits",
        "loaded_ge_claimed": "loaded >= claimed barrels",
        "delivered_ge_claimed": "delivered >= claimed barrels",
    }
    rows = [(labels[k], p) for k, p in v["probabilities"].items()]
    cond = v.get("conditional")
    if cond and "p_claim" in cond:
        rows.append(
            (
                f"{v['basis']} >= claimed barrels, given the claimed visits",
                cond["p_claim"],
            )
        )
        rows.append(
            (
                "barrels in the observed visits >= claimed, given the claimed visits",
                cond["p_observed_bbl_ge_claimed"],
            )
        )
    if "needed" in v:
        rows.append(
            (
                "mean parcel >= barrels per visit the claim needs",
                v["needed"]["p_mean_parcel_ge_needed"],
            )
        )
    if "un_cap" in v:
        rows.append(("deliveries above the UN cap (per year)", v["un_cap"]["p_above_cap"]))
    for label, p in rows:
        lines.append(
            f"| {label} | {p['p']:.3f} | {p['lo']:.3f}-{p['hi']:.3f} | {p['k']} / {p['n']} |"
        )
    if cond:
        lines += [
            "",
            "## Conditioning",
            "",
            f"{cond['method'].capitalize()}: observed visits within {cond['target']} "
            f"± {cond['halfwidth']}, {cond['matches']} replications ({cond['match_share']:.1%}).",
        ]
        if not cond["reliable"]:
            lines.append(
                f"\n**Warning:** fewer than {MIN_MATCHES_WARN} replications match: run more."
            )
    if "needed" in v:
        nd = v["needed"]
        lines += [
            "",
            "## What the claim needs",
            "",
            f"{nd['bbl_per_trip']:,.0f} bbl per visit = {nd['capacity_bbl']:,.0f} bbl of "
            f"capacity at a {nd['mean_load_factor']:.0%} load factor = "
            f"{nd['capacity_m3']:,.0f} m3, or "
            f"{nd['cargo_t']:,.0f} t of cargo at {nd['mix_bbl_per_t']:.2f} bbl/t "
            f"(about {nd['dwt_approx']:,.0f} dwt if cargo is 92% of deadweight).",
        ]
    if "tonnes_check" in v:
        tc = v["tonnes_check"]
        lines += [
            "",
            "## Barrels against tonnes",
            "",
            f"The claimed barrels and tonnes imply {tc['claimed_bbl_per_t']:.1f} bbl/t "
            f"({tc['claimed_density_t_per_m3']:.2f} t/m3), "
            + ("within" if tc["consistent"] else "outside")
            + " the product table's {}-{} bbl/t.".format(*tc["product_table_bbl_per_t"]),
        ]
    if "un_cap" in v:
        cap = v["un_cap"]
        lines += [
            "",
            "## UN cap",
            "",
            f"Cap {cap['cap_bbl_per_year']:,.0f} bbl/yr ({cap['cap_pro_rata_bbl']:,.0f} bbl pro "
            "rata for the window); simulated, a median "
            f"{cap['bbl_per_year']['p50']:,.0f} bbl/yr {v['basis']}.",
        ]
    lines += [
        "",
        "Verdict words: "
        + ", ".join(f"p >= {t:g}: {w}" for t, w in WORDS[:-1])
        + f", else {WORDS[-1][1]}.",
        "",
    ]
    return "\n".join(lines)
