"""What a sweep says: each point's answer, and where the answer crosses 50 %."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.stats import condition, prob
from sim.analysis.verdict import word_for
from sim.core.config import Scenario
from sim.core.defaults import MAX_HALFWIDTH, MIN_MATCHES_WARN, SWEEP_HALFWIDTH, SWEEP_MIN_MATCHES


def point_summary(
    reps: pd.DataFrame,
    scenario: Scenario,
    *,
    halfwidth: int | None = SWEEP_HALFWIDTH,
    min_matches: int = SWEEP_MIN_MATCHES,
    max_halfwidth: int = MAX_HALFWIDTH,
) -> dict[str, Any]:
    """The numbers a sweep reports for one point.

    With ``halfwidth`` set, every point conditions on observed visits within claimed ±
    ``halfwidth`` (the same window everywhere, so points compare like with like); with
    ``halfwidth=None`` each point widens its own window until ``min_matches`` replications
    match, as ``tankersim mc`` does.
    """
    cl = scenario.claims
    col = f"{cl.basis}_bbl"
    row: dict[str, Any] = {
        "replications": len(reps),
        "basis": cl.basis,
        "trips_p50": float(reps["trips"].median()),
        "observed_visits_p50": float(reps["observed_visits"].median()),
        "barrels_p50": float(reps[col].median()),
        "barrels_p05": float(reps[col].quantile(0.05)),
        "barrels_p95": float(reps[col].quantile(0.95)),
        "observed_bbl_p50": float(reps["observed_bbl"].median()),
        "mean_parcel_bbl": float(reps["mean_parcel_bbl"].mean()),
    }
    if cl.barrels is not None:
        p = prob(reps[col] >= cl.barrels)
        row |= {"p_barrels": p["p"], "p_barrels_lo": p["lo"], "p_barrels_hi": p["hi"]}
    if cl.barrels is not None and cl.trips is not None:
        sub, h = condition(
            reps,
            "observed_visits",
            cl.trips,
            min_matches=min_matches,
            max_halfwidth=max_halfwidth,
            halfwidth=halfwidth,
        )
        p = prob(sub[col] >= cl.barrels) if len(sub) else {"p": math.nan, "lo": 0.0, "hi": 1.0}
        row |= {
            "matches": len(sub),
            "halfwidth": h,
            "p_claim": p["p"],
            "p_claim_lo": p["lo"],
            "p_claim_hi": p["hi"],
            "verdict": word_for(p["p"]) if len(sub) else "no matches",
            "reliable": len(sub) >= MIN_MATCHES_WARN,
        }
    return row


def frontier(
    summary: pd.DataFrame, x: str, by: str | Sequence[str], level: float = 0.5
) -> pd.DataFrame:
    """Where ``p_claim`` crosses ``level`` along ``x``, for each value of the ``by`` inputs.

    Only points with enough matching replications (``reliable``) and a finite probability
    are used. Each row says what happens along ``x``:

    * ``crosses``: ``x_at_p50`` is the first crossing (linear interpolation between grid
      values); ``direction`` is ``rising`` (the claim holds above it) or ``falling`` (below);
    * ``above everywhere`` / ``below everywhere``: no crossing within the swept values;
    * ``no data``: fewer than one usable point.
    """
    cols = [by] if isinstance(by, str) else list(by)
    at_col = f"{x}_at_p{int(level * 100)}"
    rows = []
    for keys, g in summary.groupby(cols, sort=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        g = g.sort_values(x)
        if "reliable" in g:
            g = g[g["reliable"].astype(bool)]
        g = g[np.isfinite(g["p_claim"].to_numpy(dtype=float))]
        xs, ps = g[x].to_numpy(dtype=float), g["p_claim"].to_numpy(dtype=float)
        at, direction = math.nan, ""
        if len(ps) == 0:
            status = "no data"
        elif (ps >= level).all():
            status = "above everywhere"
        elif (ps < level).all():
            status = "below everywhere"
        else:
            status = "crosses"
            for i in range(1, len(ps)):
                if (ps[i - 1] >= level) != (ps[i] >= level):
                    at = xs[i - 1] + (level - ps[i - 1]) * (xs[i] - xs[i - 1]) / (ps[i] - ps[i - 1])
                    direction = "rising" if ps[i] > ps[i - 1] else "falling"
                    break
        rows.append(
            {
                **dict(zip(cols, keys, strict=True)),
                at_col: at,
                "direction": direction,
                "status": status,
                "points_used": len(ps),
            }
        )
    return pd.DataFrame(rows)
