"""A Monte Carlo batch: N replications of one scenario, gathered, with the verdict."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis.checks import model_checks, month_ends, monthly_seen
from sim.analysis.method import MethodCheck, method_check
from sim.analysis.replay import replay
from sim.analysis.verdict import Verdict, verdict
from sim.core.config import Scenario
from sim.core.defaults import MC_REPLICATIONS, MIN_MATCHES
from sim.core.evidence import scenario_evidence
from sim.core.routes import RouteTable
from sim.model.draws import compile_scenario
from sim.model.observables import compile_observables
from sim.runner.pipeline import (
    ExecOptions,
    PartStore,
    Point,
    ProgressFn,
    batch_identity,
    daily_fan,
    output_folder,
    run_points,
)
from sim.runner.single import observables_for, prepare


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
    checks: pd.DataFrame | None = None
    """Model checks against the evidence (:func:`sim.analysis.checks.model_checks`)."""
    method: MethodCheck | None = None
    """The claimants' estimator against the truth (:func:`sim.analysis.method.method_check`)."""
    replay: pd.DataFrame | None = None
    """Feasibility of the named ships' sightings (:func:`sim.analysis.replay.replay`)."""
    monthly: pd.DataFrame | None = None
    """Visits seen per month across replications."""

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

    def _repr_html_(self) -> str:
        from sim.core.reprs import html_summary

        v = self.verdict
        rows: list[tuple[str, object]] = [
            ("replications", f"{len(self.replications):,}"),
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
        return html_summary(f"Monte Carlo: {self.scenario.name}", rows)


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
        identity = batch_identity(sc, s)
        store = PartStore.open(out_dir, identity, resume=resume)
        exp = run_points(
            [Point(0, sc, routes, observables=observables_for(sc, routes))],
            replications=n,
            seed=s,
            store=store,
            options=opts,
            daily=True,
            progress=progress,
        )
        v = verdict(exp.table, sc, min_matches=min_matches)
        daily_path = store.merge_daily(out_dir / "daily.parquet", n=n)
        evidence = scenario_evidence(sc)
        observables, unused = compile_observables(evidence, compile_scenario(sc, routes))
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
            dataclasses.replace(opts, engine=exp.engines[0]),
            daily_path=None if temporary else daily_path,
            checks=model_checks(exp.table, observables, unused) if evidence else None,
            method=method_check(exp.table, sc.claims.barrels),
            replay=replay(evidence, sc, routes) if evidence else None,
        )
        if temporary:  # the folder goes: keep the daily series in memory
            result._daily = pd.read_parquet(daily_path)
            month_end = result._daily
        else:  # read only what the monthly counts need: memory stays flat in N
            days = [d for _, d in month_ends(sc.window.start, sc.window.days)]
            month_end = pd.read_parquet(
                daily_path,
                columns=["replication", "day", "observed_visits"],
                filters=[("day", "in", days)],
            )
        result.monthly = monthly_seen(month_end, sc.window.start, sc.window.days)
        return result
