"""Global sensitivity: which unknown decides the verdict.

Each *factor* is one of the scenario's uncertain inputs (an input given as a distribution, not
a number), or a group of them that stand for one unknown (``ship capacity``: every class's
tonnes and cubic metres). A factor's value is a quantile position ``q`` in [0.01, 0.99]: at
``q`` every input of the factor is fixed at its own distribution's ``q``-quantile for the whole
replication (an epistemic unknown, the same for every ship and voyage). So a factor ranges over
the central 98 % of what the scenario says about it, and inputs of one group move together.

Designs and estimators come from SALib: Sobol' indices (first order and total, Saltelli
sampling, bootstrap confidence intervals) or Morris elementary effects (mu*, sigma, with
intervals). Each design point runs ``R`` replications with common random numbers (the same
replications 0..R-1 at every point) and the outputs are their means:

* ``delivered_bbl``: barrels delivered in the window;
* ``trips``: loadings in the window;
* ``observed_bbl``: barrels the *seen* visits loaded: what the imagery would have shown; it
  moves with the number of trips, the detection probability and the ship sizes alike, so no
  driver cancels out of it (the per-replication proxy used before, barrels x claimed visits /
  seen visits, cancelled the number of trips and so hid the turnaround's effect);
* ``observed_visits``: visits seen.

With Sobol' designs, :func:`convergence` recomputes the indices on the design's leading
N/8, N/4, N/2 base samples (SALib's Sobol' sequence is extensible: the design for N is the
first rows of the design for 2N), so the ranking's stability is shown at no extra cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.core.config import Scenario, scenario_inputs
from sim.core.errors import MissingExtraError, OptionError

Q_LOW, Q_HIGH = 0.01, 0.99
OUTPUTS = ("delivered_bbl", "trips", "observed_bbl", "observed_visits")

_GROUPS = {
    "capacity_bbl": "ship capacity",
    "capacity_m3": "ship capacity",
    "capacity_t": "ship capacity",
    "capacity_dwt": "ship capacity",
    "cargo_dwt_fraction": "ship capacity",
    "tank_m3_per_dwt": "ship capacity",
    "load_factor": "load factor",
    "speed_laden_kn": "speed",
    "speed_ballast_kn": "speed",
    "turnaround_days": "turnaround",
    "turnaround_factor": "turnaround",
    "start_offset_days": "start offset",
    "p_detect": "detection probability",
    "transit_h": "lock transit",
}


@dataclass(frozen=True)
class Factor:
    """An unknown: a name and the scenario inputs (dotted key, distribution) it sets."""

    name: str
    inputs: tuple[tuple[str, Any], ...]


def _group_name(key: str, grouping: str) -> str:
    if grouping == "keys":
        return key
    leaf = key.split(".")[-1]
    if leaf in _GROUPS:
        return _GROUPS[leaf]
    where = "terminal" if key.startswith("terminal.") else "discharge"
    if "rate" in leaf:
        return f"{where} pumping rate"
    return f"{where} port time"


def factors(scenario: Scenario, grouping: Literal["coarse", "keys"] = "coarse") -> list[Factor]:
    """The scenario's uncertain inputs and fleet-level unknowns, grouped into factors (in a
    stable order). An input whose own distribution is fixed but that a ``scale`` unknown
    multiplies moves with that unknown, not on its own; an input whose spread is an unknown
    (``spread``) stays drawn ship by ship, and that unknown is its factor (fixing the input
    would set every ship alike and leave the spread nothing to do)."""
    found: list[tuple[str, Any]] = [
        (f"unknowns.{name}", dist) for name, dist in sorted(scenario.unknowns.items())
    ]
    found += [(inp.key, inp.dist) for inp in scenario_inputs(scenario)]
    groups: dict[str, list[tuple[str, Any]]] = {}
    for key, dist in found:
        if dist is None or dist.is_fixed or getattr(dist, "spread", None) is not None:
            continue
        name = (
            key if grouping == "keys" or key.startswith("unknowns.") else _group_name(key, grouping)
        )
        groups.setdefault(name, []).append((key, dist))
    return [Factor(name, tuple(inputs)) for name, inputs in groups.items()]


def overrides_at(fs: list[Factor], q: np.ndarray) -> dict[str, Any]:
    """Fixed values for every input of every factor at quantile positions ``q`` (an input
    keeps its ``scale``, so it still moves with its unknown)."""
    out: dict[str, Any] = {}
    for f, qi in zip(fs, q, strict=True):
        for key, dist in f.inputs:
            value = float(dist.ppf(np.asarray([qi]))[0])
            scale = getattr(dist, "scale", None)
            out[key] = value if scale is None else {"dist": "fixed", "value": value, "scale": scale}
    return out


def fixed_at(fs: list[Factor], q: np.ndarray) -> dict[str, float]:
    """The same as :func:`overrides_at`, as values fixed instead of drawn (the ``fixed`` of
    :func:`sim.model.draws.draw_ships`: an input's ``scale`` still multiplies it), so that
    design points run as rows of one block rather than as scenarios of their own."""
    out: dict[str, float] = {}
    for f, qi in zip(fs, q, strict=True):
        for key, dist in f.inputs:
            out[key] = float(dist.ppf(np.asarray([qi]))[0])
    return out


METHODS = ("sobol", "morris")


def problem(fs: list[Factor]) -> dict[str, Any]:
    """The SALib problem of a list of factors (quantile positions in [Q_LOW, Q_HIGH])."""
    return {
        "num_vars": len(fs),
        "names": [f.name for f in fs],
        "bounds": [[Q_LOW, Q_HIGH]] * len(fs),
    }


def sample(fs: list[Factor], method: str, base_samples: int, seed: int) -> np.ndarray:
    """The design: one row of quantile positions per design point."""
    try:
        if method == "sobol":
            from SALib.sample import sobol as sobol_sample

            return np.asarray(
                sobol_sample.sample(problem(fs), base_samples, calc_second_order=False, seed=seed)
            )
        if method == "morris":
            from SALib.sample import morris as morris_sample

            return np.asarray(
                morris_sample.sample(problem(fs), base_samples, num_levels=4, seed=seed)
            )
    except ImportError:
        raise MissingExtraError("SALib", "sensitivity", "sensitivity analysis") from None
    raise OptionError("method", method, f"choose one of {', '.join(METHODS)}")


def indices(
    fs: list[Factor], method: str, X: np.ndarray, Y: pd.DataFrame, seed: int
) -> pd.DataFrame:
    """Sobol' (S1, ST) or Morris (mu*, sigma) indices of every output, with 95 % intervals
    and ranks; outputs that do not vary are flagged ``constant_output``."""
    prob = problem(fs)
    rows = []
    for out_name in OUTPUTS:
        y = Y[out_name].to_numpy(dtype=float)
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            for f in fs:
                rows.append({"output": out_name, "factor": f.name, "constant_output": True})
            continue
        if method == "sobol":
            from SALib.analyze import sobol as sobol_analyze

            res = sobol_analyze.analyze(
                prob, y, calc_second_order=False, num_resamples=200, seed=seed
            )
            for k, f in enumerate(fs):
                rows.append(
                    {
                        "output": out_name,
                        "factor": f.name,
                        "S1": float(res["S1"][k]),
                        "S1_conf": float(res["S1_conf"][k]),
                        "ST": float(res["ST"][k]),
                        "ST_conf": float(res["ST_conf"][k]),
                    }
                )
        else:
            from SALib.analyze import morris as morris_analyze

            res = morris_analyze.analyze(prob, X, y, num_resamples=200, num_levels=4, seed=seed)
            for k, f in enumerate(fs):
                rows.append(
                    {
                        "output": out_name,
                        "factor": f.name,
                        "mu_star": float(res["mu_star"][k]),
                        "mu_star_conf": float(res["mu_star_conf"][k]),
                        "sigma": float(res["sigma"][k]),
                    }
                )
    table = pd.DataFrame(rows)
    key = "ST" if method == "sobol" else "mu_star"
    if key in table:
        table["rank"] = (
            table.groupby("output")[key].rank(ascending=False, method="min").astype("Int64")
        )
    return table


def outputs(table: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per design point, the mean of each output over its replications."""
    g = table.groupby("point")
    return pd.DataFrame({name: g[name].mean() for name in OUTPUTS})


def convergence(
    fs: list[Factor], X: np.ndarray, Y: pd.DataFrame, base_samples: int, seed: int
) -> pd.DataFrame:
    """Sobol' total indices on the design's leading N/8, N/4, N/2 and N base samples (at
    least 16), per output: ``N``, ``output``, ``factor``, ``ST``, ``ST_conf``, ``rank``."""
    rows_per = len(fs) + 2
    sizes = sorted({n for n in (base_samples // 8, base_samples // 4, base_samples // 2,
                                base_samples) if n >= 16})  # fmt: skip
    parts = []
    for n in sizes:
        k = n * rows_per
        t = indices(fs, "sobol", X[:k], Y.iloc[:k], seed)
        if "ST" not in t:
            continue
        t = t[["output", "factor", "ST", "ST_conf", "rank"]].copy()
        t.insert(0, "N", n)
        parts.append(t)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def stable_top(conv: pd.DataFrame, output: str, k: int = 3) -> bool | None:
    """Whether the ``k`` highest-ranked factors of ``output`` (and their order) are the same at
    the two largest sizes of a convergence table (None with fewer than two sizes)."""
    d = conv[conv["output"] == output]
    sizes = sorted(d["N"].unique())
    if len(sizes) < 2:
        return None
    tops = [
        list(d[d["N"] == n].sort_values("ST", ascending=False)["factor"].head(k))
        for n in sizes[-2:]
    ]
    return tops[0] == tops[1]
