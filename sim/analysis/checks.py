"""Model checks: the simulated distribution of every observable, beside what was reported.

For each evidence row the model can measure (:mod:`sim.model.observables`), the replications
give a distribution of the statistic; the check reports its median and 90 % interval and the
share of replications that agree with the reported number (with a Wilson interval: Monte Carlo
error). Run on prior draws it is a prior predictive check; on posterior draws, a posterior
predictive one. Rows the model cannot measure are listed with the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sim.analysis.stats import histogram_mean, histogram_quantile, prob
from sim.core.config import Scenario
from sim.model.observables import Observable, Unused

CHECK_COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "period",
    "measured",
    "reported",
    "simulated_p05",
    "simulated_p50",
    "simulated_p95",
    "p_agrees",
    "p_agrees_lo",
    "p_agrees_hi",
    "replications",
    "confidence",
    "source",
    "status",
)

_MEASURED = {
    "seen_visits": "visits seen",
    "distinct_seen": "distinct tankers seen",
    "seen_bbl": "barrels loaded by the visits seen",
    "loaded_bbl": "barrels loaded by all visits",
    "share_designated": "share of seen visits by UN-designated ships",
    "ship_seen": "the ship seen loading then (1 = yes)",
    "port_discharges": "tankers that discharged there",
    "ship_cycle": "the ship's shortest interval between loadings [days]",
}


def model_checks(
    reps: pd.DataFrame, observables: tuple[Observable, ...], unused: tuple[Unused, ...] = ()
) -> pd.DataFrame:
    """One row per evidence row: reported against simulated (see the module docstring)."""
    rows = []
    for ob in observables:
        x = reps[ob.column].to_numpy(dtype=float) if ob.column in reps else np.zeros(0)
        ok = np.isfinite(x)
        finite = x if ok.all() else x[ok]  # no copy of a column without gaps
        del ok
        p = prob(ob.holds(finite)) if len(finite) else {"p": np.nan, "lo": 0.0, "hi": 1.0}
        q = np.quantile(finite, [0.05, 0.5, 0.95]) if len(finite) else [np.nan] * 3
        rows.append(
            {
                "id": ob.row.id + ob.suffix,
                "kind": ob.row.kind,
                "period": ob.row.period(),
                "measured": _MEASURED[ob.measure],
                "reported": ob.reported(),
                "simulated_p05": float(q[0]),
                "simulated_p50": float(q[1]),
                "simulated_p95": float(q[2]),
                "p_agrees": p["p"],
                "p_agrees_lo": p["lo"],
                "p_agrees_hi": p["hi"],
                "replications": len(finite),
                "confidence": ob.row.confidence,
                "source": ob.row.source,
                "status": "used",
            }
        )
    for u in unused:
        rows.append(
            {
                "id": u.row.id,
                "kind": u.row.kind,
                "period": u.row.period(),
                "measured": "",
                "reported": u.row.reported(),
                "confidence": u.row.confidence,
                "source": u.row.source,
                "status": f"not used: {u.reason}",
            }
        )
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS))


def month_ends(start: dt.date, n_days: int) -> list[tuple[str, int]]:
    """``(YYYY-MM, day)`` for every calendar month of a window of ``n_days`` days from
    ``start``: the day number (1-based) of the month's last day inside the window."""
    ends: dict[str, int] = {}
    for d in range(n_days):
        date = start + dt.timedelta(days=d)
        ends[f"{date.year}-{date.month:02d}"] = d + 1
    return list(ends.items())


def monthly_seen(
    daily: pd.DataFrame, start: dt.date, n_days: int | None = None, column: str = "observed_visits"
) -> pd.DataFrame:
    """Visits seen per calendar month across replications (from cumulative daily series).

    ``daily`` needs ``replication``, ``day`` and ``column`` at least on the months' last days
    (:func:`month_ends`); other days are ignored. Returns one row per month with the 5 %, 50 %
    and 95 % points and the mean.
    """
    if daily.empty:
        return pd.DataFrame(columns=["month", "p05", "p50", "p95", "mean"])
    ends = month_ends(start, n_days if n_days is not None else int(daily["day"].max()))
    keep = daily[daily["day"].isin([d for _, d in ends])]
    wide = keep.pivot(index="replication", columns="day", values=column)
    out = []
    prev = np.zeros(len(wide))
    for month, day in ends:
        cum = wide[day].to_numpy(dtype=float)
        per = cum - prev
        prev = cum
        q = np.quantile(per, [0.05, 0.5, 0.95])
        out.append({"month": month, "p05": q[0], "p50": q[1], "p95": q[2], "mean": per.mean()})
    return pd.DataFrame(out)


def monthly_seen_from_counts(
    start: dt.date, n_days: int, counts: Sequence[Mapping[int, int]]
) -> pd.DataFrame:
    """:func:`monthly_seen` from per-month histograms of visits seen (value -> replications),
    as the batch's workers count them: the same numbers, bit for bit, without daily series."""
    ends = month_ends(start, n_days)
    if not counts or not sum(counts[0].values()):
        return pd.DataFrame(columns=["month", "p05", "p50", "p95", "mean"])
    out = []
    for (month, _), hist in zip(ends, counts, strict=True):
        q = [histogram_quantile(hist, x) for x in (0.05, 0.5, 0.95)]
        out.append(
            {"month": month, "p05": q[0], "p50": q[1], "p95": q[2], "mean": histogram_mean(hist)}
        )
    return pd.DataFrame(out)


def degenerate(scenario: Scenario, reps: pd.DataFrame) -> list[str]:
    """One sentence per way a run's results are degenerate, with the likely cause: no trip in
    any replication, no visit seen, or a claim window outside the run's window. Empty when the
    results are ordinary. (``reps`` is a table of replications, one row for a single run.)"""
    notes: list[str] = []
    days = scenario.window.days
    if len(reps) and int(reps["trips"].max()) == 0:
        offsets = [c.start_offset_days.bounds[0] for c in scenario.fleet.values()]
        if min(offsets) >= days:
            cause = (
                f"every ship starts at least {min(offsets):g} days in, after the {days}-day "
                "window ends (start_offset_days)"
            )
        else:
            cause = (
                f"no ship completes a loading in the {days}-day window: check the window, "
                "the start offsets and how far the ships sail to the terminal"
            )
        notes.append(f"no trips in any of {len(reps):,} replication(s): {cause}")
    elif len(reps) and int(reps["observed_visits"].max()) == 0:
        hi = scenario.observation.p_detect.bounds[1]
        cause = (
            "the detection probability is 0 (observation.p_detect)"
            if hi == 0
            else "few trips and a low detection probability (observation.p_detect)"
        )
        notes.append(f"trips were made but no visit was seen in any replication: {cause}")
    cl = scenario.claims
    w0, w1 = scenario.window.start, scenario.window.end
    if cl.start is not None and cl.end is not None:
        if cl.end < w0 or cl.start > w1:
            notes.append(
                f"the claim's window ({cl.start} to {cl.end}) lies outside the run's window "
                f"({w0} to {w1}): the run says nothing about it"
            )
        elif cl.start < w0 or cl.end > w1:
            notes.append(
                f"the claim's window ({cl.start} to {cl.end}) reaches beyond the run's window "
                f"({w0} to {w1}): only the overlap is simulated"
            )
    return notes
