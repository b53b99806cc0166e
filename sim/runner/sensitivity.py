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
* ``implied_bbl``: barrels loaded (or delivered, by ``claims.basis``) scaled to the claimed
  number of observed visits, barrels x claimed visits / observed visits;
* ``p_claim``: share of replications where ``implied_bbl`` >= the claimed barrels, a
  per-replication stand-in for P(delivered >= claim | claimed visits).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.core.config import Scenario, ScenarioError, apply_overrides, read_source, validate_dict
from sim.core.routes import build_route_table
from sim.runner.pipeline import (
    Executor,
    Job,
    execute_to_parts,
    finished,
    open_parts,
    output_folder,
    read_parts,
)

Q_LOW, Q_HIGH = 0.01, 0.99
OUTPUTS = ("delivered_bbl", "trips", "implied_bbl", "p_claim")

_GROUPS = {
    "capacity_bbl": "ship capacity",
    "capacity_m3": "ship capacity",
    "capacity_t": "ship capacity",
    "load_factor": "load factor",
    "speed_laden_kn": "speed",
    "speed_ballast_kn": "speed",
    "turnaround_days": "turnaround",
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
    """The scenario's uncertain inputs, grouped into factors (in a stable order)."""
    found: list[tuple[str, Any]] = []
    t = scenario.terminal
    for name in (
        "load_rate_bbl_per_h",
        "load_rate_m3_per_h",
        "anchorage_h",
        "pre_pump_h",
        "post_pump_h",
    ):
        found.append((f"terminal.{name}", getattr(t, name)))
    for pid, d in sorted(scenario.discharge.items()):
        for name in ("rate_bbl_per_h", "rate_m3_per_h", "anchorage_h", "pre_pump_h", "post_pump_h"):
            found.append((f"discharge.{pid}.{name}", getattr(d, name)))
        if d.lock is not None:
            found.append((f"discharge.{pid}.lock.transit_h", d.lock.transit_h))
    for cid, cls in sorted(scenario.fleet.items()):
        for name in (
            "capacity_bbl",
            "capacity_m3",
            "capacity_t",
            "load_factor",
            "speed_laden_kn",
            "speed_ballast_kn",
            "turnaround_days",
            "start_offset_days",
        ):
            found.append((f"fleet.{cid}.{name}", getattr(cls, name)))
    found.append(("observation.p_detect", scenario.observation.p_detect))
    groups: dict[str, list[tuple[str, Any]]] = {}
    for key, dist in found:
        if dist is None or dist.is_fixed:
            continue
        groups.setdefault(_group_name(key, grouping), []).append((key, dist))
    return [Factor(name, tuple(inputs)) for name, inputs in groups.items()]


def overrides_at(fs: list[Factor], q: np.ndarray) -> dict[str, float]:
    """Fixed values for every input of every factor at quantile positions ``q``."""
    out = {}
    for f, qi in zip(fs, q, strict=True):
        for key, dist in f.inputs:
            out[key] = float(dist.ppf(np.asarray([qi]))[0])
    return out


@dataclass
class SensitivityResult:
    """Indices per factor and output, with the design and its outputs."""

    method: str
    factors: list[Factor]
    indices: pd.DataFrame
    samples: pd.DataFrame
    base: Scenario


def run_sensitivity(
    scenario: str | Path | Mapping[str, Any],
    *,
    method: Literal["sobol", "morris"] = "sobol",
    base_samples: int = 64,
    replications: int = 4,
    grouping: Literal["coarse", "keys"] = "coarse",
    seed: int | None = None,
    executor: Executor = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
    cache_dir: Path | None = None,
) -> SensitivityResult:
    """Sobol' or Morris sensitivity of the outputs to the scenario's uncertain inputs.

    ``base_samples`` is SALib's N: Sobol' runs N x (D + 2) design points, Morris N x (D + 1)
    (N trajectories), each with ``replications`` replications. With ``out``, finished design
    points stream to ``out/parts`` and ``resume=True`` continues an interrupted analysis.
    """
    file, raw = read_source(scenario)
    raw = {k: v for k, v in raw.items() if k != "sweep"}
    base = validate_dict(raw, file=file)
    fs = factors(base, grouping)
    if len(fs) < 2:
        raise ScenarioError(
            file, "", None, f"sensitivity needs at least two uncertain inputs, found {len(fs)}"
        )
    s = base.seed if seed is None else seed
    problem = {
        "num_vars": len(fs),
        "names": [f.name for f in fs],
        "bounds": [[Q_LOW, Q_HIGH]] * len(fs),
    }
    if method == "sobol":
        from SALib.sample import sobol as sobol_sample

        X = sobol_sample.sample(problem, base_samples, calc_second_order=False, seed=s)
    elif method == "morris":
        from SALib.sample import morris as morris_sample

        X = morris_sample.sample(problem, base_samples, num_levels=4, seed=s)
    else:
        raise ScenarioError(file, "--method", method, "choose sobol or morris")
    if on_plan is not None:
        on_plan(len(X) * replications)
    routes = build_route_table(base, file=file, cache_dir=cache_dir)
    stamp = {
        "scenario_sha256_16": base.digest(),
        "seed": s,
        "design": hashlib.sha256(np.ascontiguousarray(X).tobytes()).hexdigest()[:16],
        "replications": replications,
    }
    with output_folder(out, "tankersim-sensitivity-") as (out_dir, _):
        parts = open_parts(out_dir, stamp, resume=resume, file=file)
        done = finished(parts)
        wanted = set(range(replications))
        jobs = []
        for i, q in enumerate(X):
            if wanted <= done.get(i, set()):
                continue
            sc = validate_dict(apply_overrides(raw, overrides_at(fs, q), file=file), file=file)
            jobs.append(Job(sc, routes, s, i, tuple(range(replications)), daily=False))
        if progress is not None and len(jobs) < len(X):
            progress((len(X) - len(jobs)) * replications)
        execute_to_parts(
            jobs,
            parts,
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            min_group_replications=100,
        )
        table = read_parts(parts, "reps")
    Y = outputs(table, base)
    samples = pd.DataFrame(X, columns=[f.name for f in fs])
    samples = pd.concat([samples, Y.reset_index(drop=True)], axis=1)
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
                problem, y, calc_second_order=False, num_resamples=200, seed=s
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

            res = morris_analyze.analyze(problem, X, y, num_resamples=200, num_levels=4, seed=s)
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
    indices = pd.DataFrame(rows)
    key = "ST" if method == "sobol" else "mu_star"
    if key in indices:
        indices["rank"] = (
            indices.groupby("output")[key].rank(ascending=False, method="min").astype("Int64")
        )
    return SensitivityResult(method, fs, indices, samples, base)


def outputs(table: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per design point, the mean of each output over its replications."""
    cl = scenario.claims
    t = table.copy()
    if cl.trips is not None and cl.barrels is not None:
        visits = t["observed_visits"].where(t["observed_visits"] > 0, np.nan)
        t["implied_bbl"] = t[f"{cl.basis}_bbl"] * cl.trips / visits
        t["p_claim"] = (t["implied_bbl"] >= cl.barrels).astype(float)
    else:
        t["implied_bbl"] = math.nan
        t["p_claim"] = math.nan
    g = t.groupby("point")
    return pd.DataFrame({name: g[name].mean() for name in OUTPUTS})
