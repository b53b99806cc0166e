"""A Monte Carlo batch: N replications of one scenario, gathered, with the verdict."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.checks import model_checks, month_ends, monthly_seen_from_counts
from sim.analysis.method import MethodCheck, method_check
from sim.analysis.replay import replay
from sim.analysis.verdict import Verdict, verdict
from sim.core.config import Scenario
from sim.core.defaults import DAILY_REPLICATIONS, MC_REPLICATIONS, MIN_MATCHES
from sim.core.evidence import scenario_evidence
from sim.core.routes import RouteTable
from sim.core.table import ColumnTable, release_memory
from sim.model.prepared import Model, prepare
from sim.runner.pipeline import (
    ExecOptions,
    PartStore,
    Point,
    ProgressFn,
    daily_fan,
    output_folder,
    run_points,
)


@dataclass
class McResult:
    """A Monte Carlo batch: one row per replication, daily series, and the verdict."""

    scenario: Scenario
    routes: RouteTable
    seed: int
    table: ColumnTable | pd.DataFrame
    """The per-replication table: read a column at a time from ``replications.parquet`` (a
    batch with a folder), or in memory (one without). :attr:`replications` loads it whole."""
    fan: pd.DataFrame
    verdict: Verdict
    out_dir: Path | None
    elapsed_s: float
    ran: int
    options: ExecOptions
    daily_path: Path | None = None
    _daily: pd.DataFrame | None = None
    checks: pd.DataFrame | None = None
    """Model checks against the evidence (:func:`sim.analysis.checks.model_checks`)."""
    method: MethodCheck | None = None
    """The claimants' estimator against the truth (:func:`sim.analysis.method.method_check`)."""
    replay: pd.DataFrame | None = None
    """Feasibility of the named ships' sightings (:func:`sim.analysis.replay.replay`)."""
    monthly: pd.DataFrame | None = None
    """Visits seen per month across replications."""
    worker_s: float = 0.0
    """Seconds the workers spent on the replications run now (simulation and their parts)."""
    gather_s: float = 0.0
    """Seconds this process spent after the workers: compacting the parts, the verdict and
    the checks (writing the files and plots not included)."""
    model: Model | None = None
    """The prepared scenario the batch ran (its observables, compiled form...)."""

    _replications: pd.DataFrame | None = None

    @property
    def replications(self) -> pd.DataFrame:
        """One row per replication: drawn inputs, outcomes and observables (loaded whole from
        ``replications.parquet`` on first use; :attr:`table` reads single columns)."""
        if isinstance(self.table, pd.DataFrame):
            return self.table
        if self._replications is None:
            self._replications = self.table.to_pandas()
        return self._replications

    @property
    def daily(self) -> pd.DataFrame:
        """Cumulative trips, visits and barrels per replication and day, for the replications
        whose daily series were kept (the first :data:`~sim.core.defaults.DAILY_REPLICATIONS`
        by default; read from disk)."""
        if self._daily is None:
            if self.daily_path is None:
                raise FileNotFoundError("this batch kept no daily series")
            self._daily = pd.read_parquet(self.daily_path)
        return self._daily

    def __repr__(self) -> str:
        from sim.core.reprs import short_repr

        h = self.verdict.headline
        return short_repr(
            "McResult",
            self.scenario.name,
            f"{len(self.table):,} replications, seed {self.seed}; verdict {h.word!r} "
            f"(seen visits alone: {h.word_seen!r})",
        )

    def _repr_html_(self) -> str:
        from sim.core.reprs import html_summary

        v = self.verdict
        rows: list[tuple[str, object]] = [
            ("replications", f"{len(self.table):,}"),
            ("seed", self.seed),
            ("verdict (fleet)", v.headline.word),
            ("verdict (seen visits alone)", v.headline.word_seen),
        ]
        c = v.conditional
        if c is not None and c.p_claim is not None and c.p_seen is not None:
            rows += [
                ("P(fleet >= claim | claimed visits)", f"{c.p_claim.p:.0%}"),
                ("P(seen visits >= claim | claimed visits)", f"{c.p_seen.p:.0%}"),
                ("matching replications", f"{c.matches:,}"),
            ]
        rows.append(("answer", v.headline.text))
        if self.out_dir is not None:
            rows.append(("folder", str(self.out_dir)))
        return html_summary(f"Monte Carlo: {self.scenario.name}", rows)


def run_mc(
    scenario: Model | Scenario | Mapping[str, Any] | str | Path,
    *,
    n: int = MC_REPLICATIONS,
    seed: int | None = None,
    out: str | Path | None = None,
    options: ExecOptions | None = None,
    resume: bool = False,
    min_matches: int = MIN_MATCHES,
    progress: ProgressFn | None = None,
    cache_dir: Path | None = None,
    daily_replications: int | None = DAILY_REPLICATIONS,
) -> McResult:
    """Run ``n`` replications of a scenario and judge its claim (the one-point experiment).

    Replication ``r`` uses the same random streams as ``run(scenario, replication=r)``, so any
    replication can be re-run alone; results do not depend on the executor or its workers.
    Each worker writes the replications it ran into ``out/parts``; with ``resume=True`` a batch
    interrupted earlier runs only what is missing. When every replication is done the parts are
    compacted (streamed) into ``replications.parquet`` and ``daily.parquet``, which carry the
    batch's identity, and removed. Daily series are kept for the replications below
    ``daily_replications`` (all: None); the monthly counts of visits seen cover every
    replication. Without ``out`` a temporary folder is used and removed. Writes nothing else:
    see :func:`sim.api.run_mc` for the files and plots.
    """
    opts = options or ExecOptions()
    model = prepare(scenario, cache_dir=cache_dir)
    sc, routes = model.scenario, model.routes
    s = sc.seed if seed is None else seed
    ends = month_ends(sc.window.start, sc.window.days)
    with output_folder(out, "tankersim-mc-") as (out_dir, temporary):
        identity = model.identity(s)
        store = PartStore.open(
            out_dir,
            identity,
            resume=resume,
            compacted={"reps": "replications.parquet", "daily": "daily.parquet"},
        )
        evidence = scenario_evidence(sc)
        observables, unused = model.observables, model.unused
        exp = run_points(
            [Point(0, model, observables=observables)],
            replications=n,
            seed=s,
            store=store,
            options=opts,
            daily=True,
            progress=progress,
            daily_replications=daily_replications,
            month_days=tuple(d for _, d in ends),
            gather=False,
        )
        t0 = time.perf_counter()
        # The parent reads every result here, a column at a time; what each summary freed
        # goes back to the system before the next (release_memory), so that the parent's
        # memory is one summary's, not the high-water mark of all of them.
        reps_path = store.compact("reps")
        daily_path = store.compact("daily", below=daily_replications)
        table: ColumnTable | pd.DataFrame = ColumnTable(reps_path)
        if temporary:  # the folder goes: keep the table in memory
            table = table.to_pandas()
        v = verdict(table, sc, min_matches=min_matches)
        release_memory()
        checks = model_checks(table, observables, unused) if evidence else None
        release_memory()
        method = method_check(table, sc.claims.barrels)
        release_memory()
        monthly = store.monthly()
        result = McResult(
            sc,
            routes,
            s,
            table,
            daily_fan(daily_path, sc.window.days, column=f"{sc.claims.basis}_bbl"),
            v,
            None if temporary else out_dir,
            exp.elapsed_s,
            exp.ran,
            dataclasses.replace(opts, engine=exp.engines[0]),
            daily_path=None if temporary else daily_path,
            checks=checks,
            method=method,
            replay=replay(evidence, sc, routes) if evidence else None,
            monthly=None
            if monthly is None
            else monthly_seen_from_counts(sc.window.start, sc.window.days, monthly[1]),
            worker_s=exp.worker_s,
            model=model,
        )
        if temporary:  # the folder goes: keep the daily series in memory
            result._daily = pd.read_parquet(daily_path)
        result.gather_s = time.perf_counter() - t0
        return result
