"""Global sensitivity runs: build the design's points, run them, and rank the unknowns.

The factors, design and indices are in :mod:`sim.analysis.sensitivity`; this module turns each
design point into a scenario and runs them through the experiment pipeline (streamed to disk,
resumable).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.analysis.sensitivity import (
    Factor,
    convergence,
    factors,
    fixed_at,
    indices,
    outputs,
    sample,
)
from sim.core.config import Scenario, ScenarioError, read_source, validate_dict
from sim.core.defaults import SENSITIVITY_REPLICATIONS, SENSITIVITY_SAMPLES
from sim.model.prepared import prepare
from sim.runner.pipeline import (
    ExecOptions,
    PartStore,
    Point,
    output_folder,
    run_points,
)


@dataclass
class SensitivityResult:
    """Indices per factor and output, with the design and its outputs."""

    method: str
    factors: list[Factor]
    indices: pd.DataFrame
    samples: pd.DataFrame
    base: Scenario
    seed: int
    base_samples: int
    replications: int
    convergence: pd.DataFrame | None = None
    """Sobol' only: total indices on the design's leading N/8 ... N base samples."""

    def __repr__(self) -> str:
        from sim.core.reprs import short_repr

        return short_repr(
            "SensitivityResult",
            self.base.name,
            f"{self.method}, {len(self.factors)} factors, {len(self.samples):,} design points "
            f"x {self.replications} replications",
        )

    def _repr_html_(self) -> str:
        from sim.core.reprs import clip_list, html_summary

        rows: list[tuple[str, object]] = [
            ("method", self.method),
            ("factors", len(self.factors)),
            ("design points", f"{len(self.samples):,}"),
            ("replications per point", self.replications),
            ("seed", self.seed),
        ]
        main = "ST" if self.method == "sobol" else "mu_star"
        idx = self.indices
        if main in idx:
            for out in idx["output"].unique():
                d = idx[idx["output"] == out].dropna(subset=[main])
                top = d.sort_values(main, ascending=False)["factor"].head(3)
                if len(top):
                    rows.append((f"what matters most for {out} ({main})", clip_list(top)))
        return html_summary(f"Sensitivity: {self.base.name}", rows)


def run_sensitivity(
    scenario: str | Path | Mapping[str, Any],
    *,
    method: Literal["sobol", "morris"] = "sobol",
    base_samples: int = SENSITIVITY_SAMPLES,
    replications: int = SENSITIVITY_REPLICATIONS,
    grouping: Literal["coarse", "keys"] = "coarse",
    seed: int | None = None,
    options: ExecOptions | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
    cache_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> SensitivityResult:
    """Sobol' or Morris sensitivity of the outputs to the scenario's uncertain inputs.

    ``base_samples`` is SALib's N: Sobol' runs N x (D + 2) design points, Morris N x (D + 1)
    (N trajectories), each with ``replications`` replications. With ``out``, finished design
    points stream to ``out/parts`` and ``resume=True`` continues an interrupted analysis.
    ``overrides`` (dotted keys, as ``--set``) change the scenario first.
    """
    file, raw = read_source(scenario, overrides)
    raw = {k: v for k, v in raw.items() if k != "sweep"}
    base = validate_dict(raw, file=file)
    fs = factors(base, grouping)
    if len(fs) < 2:
        raise ScenarioError(
            file, "", None, f"sensitivity needs at least two uncertain inputs, found {len(fs)}"
        )
    s = base.seed if seed is None else seed
    X = sample(fs, method, base_samples, s)
    if on_plan is not None:
        on_plan(len(X) * replications)
    if not isinstance(scenario, Mapping):
        base = base.with_source(Path(scenario).parent)
    model = prepare(base, cache_dir=cache_dir, file=file)
    identity = model.identity(
        s,
        design=hashlib.sha256(np.ascontiguousarray(X).tobytes()).hexdigest()[:16],
        replications=replications,
    )
    with output_folder(out, "tankersim-sensitivity-") as (out_dir, _):
        store = PartStore.open(out_dir, identity, resume=resume)
        # Every design point is the base scenario with some values fixed: the pipeline packs
        # them into blocks of many points (common random numbers: replication r is the same
        # streams at every point).
        points = [Point(i, model, fixed=fixed_at(fs, q)) for i, q in enumerate(X)]
        exp = run_points(
            points,
            replications=replications,
            seed=s,
            store=store,
            options=options or ExecOptions(),
            progress=progress,
        )
    Y = outputs(exp.table, base)
    samples = pd.DataFrame(X, columns=[f.name for f in fs])
    samples = pd.concat([samples, Y.reset_index(drop=True)], axis=1)
    conv = convergence(fs, X, Y, base_samples, s) if method == "sobol" else None
    return SensitivityResult(
        method, fs, indices(fs, method, X, Y, s), samples, base, s, base_samples, replications,
        conv,
    )  # fmt: skip
