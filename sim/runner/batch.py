"""A Monte Carlo batch: N replications of one scenario, gathered, with the verdict."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis.verdict import Verdict, verdict
from sim.core.config import Scenario
from sim.core.defaults import MC_REPLICATIONS, MIN_MATCHES
from sim.core.routes import RouteTable
from sim.runner.pipeline import (
    ExecOptions,
    PartStore,
    Point,
    ProgressFn,
    daily_fan,
    output_folder,
    run_points,
)
from sim.runner.single import prepare


@dataclass
class McResult:
    """A Monte Carlo batch: one row per replication, daily series, and the verdict."""

    scenario: Scenario
    routes: RouteTable
    seed: int
    replications: pd.DataFrame
    fan: pd.DataFrame
    verdict: Verdict
    out_dir: Path | None
    elapsed_s: float
    ran: int
    options: ExecOptions
    daily_path: Path | None = None
    _daily: pd.DataFrame | None = None

    @property
    def daily(self) -> pd.DataFrame:
        """Cumulative trips, visits and barrels per replication and day (read from disk)."""
        if self._daily is None:
            if self.daily_path is None:
                raise FileNotFoundError("this batch kept no daily series")
            self._daily = pd.read_parquet(self.daily_path)
        return self._daily

    def __repr__(self) -> str:
        h = self.verdict.headline
        return (
            f"<McResult {self.scenario.name!r} seed={self.seed}: {len(self.replications)} "
            f"replications; verdict {h.word!r} (seen visits alone: {h.word_seen!r})>"
        )


def run_mc(
    scenario: Scenario | str | Path,
    *,
    n: int = MC_REPLICATIONS,
    seed: int | None = None,
    out: str | Path | None = None,
    options: ExecOptions | None = None,
    resume: bool = False,
    min_matches: int = MIN_MATCHES,
    progress: ProgressFn | None = None,
    cache_dir: Path | None = None,
) -> McResult:
    """Run ``n`` replications of a scenario and judge its claim (the one-point experiment).

    Replication ``r`` uses the same random streams as ``run(scenario, replication=r)``, so any
    replication can be re-run alone; results do not depend on the executor or its workers.
    Per-replication results stream into ``out/parts``; with ``resume=True`` a batch
    interrupted earlier runs only what is missing. Without ``out`` a temporary folder is used
    and removed. Writes nothing else: see :func:`sim.api.run_mc` for the files and plots.
    """
    opts = options or ExecOptions()
    sc, routes, _ = prepare(scenario, cache_dir=cache_dir)
    s = sc.seed if seed is None else seed
    with output_folder(out, "tankersim-mc-") as (out_dir, temporary):
        identity = {"scenario_sha256_16": sc.digest(), "seed": s, "scenario": sc.name}
        store = PartStore.open(out_dir, identity, resume=resume)
        exp = run_points(
            [Point(0, sc, routes)],
            replications=n,
            seed=s,
            store=store,
            options=opts,
            daily=True,
            progress=progress,
        )
        v = verdict(exp.table, sc, min_matches=min_matches)
        daily_path = store.merge_daily(out_dir / "daily.parquet", n=n)
        result = McResult(
            sc,
            routes,
            s,
            exp.table,
            daily_fan(daily_path, sc.window.days, column=f"{sc.claims.basis}_bbl"),
            v,
            None if temporary else out_dir,
            exp.elapsed_s,
            exp.ran,
            opts,
            daily_path=None if temporary else daily_path,
        )
        if temporary:  # an in-memory batch: keep its daily series before the folder goes
            result._daily = pd.read_parquet(daily_path)
        return result
