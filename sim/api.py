"""The Python API: load a scenario, run it, get DataFrames back.

>>> from sim.api import run
>>> result = run("scenarios/minimal.toml")               # doctest: +SKIP
>>> result.summary.kpis["trips"], result.events.shape    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.metrics import RunSummary, summarize
from sim.analysis.verdict import verdict
from sim.core.config import Scenario, load_scenario
from sim.core.routes import RouteTable, build_route_table
from sim.model.des import Compiled, compile_scenario, simulate
from sim.model.events import to_frame
from sim.runner.pipeline import (
    Executor,
    daily_fan,
    describe_executor,
    merge_daily,
    open_parts,
    output_folder,
    run_batch,
)


@dataclass
class RunResult:
    """One replication: its scenario, routes, event log and summary."""

    scenario: Scenario
    routes: RouteTable
    seed: int
    replication: int
    events: pd.DataFrame
    summary: RunSummary
    p_detect: float


def prepare(
    scenario: Scenario | str | Path, *, file: str = "", cache_dir: Path | None = None
) -> tuple[Scenario, RouteTable, Compiled]:
    """Validate (when given a path), route and compile a scenario, once."""
    if not isinstance(scenario, Scenario):
        file = str(scenario)
        scenario = load_scenario(scenario)
    routes = build_route_table(scenario, file=file, cache_dir=cache_dir)
    return scenario, routes, compile_scenario(scenario, routes)


def run(
    scenario: Scenario | str | Path,
    *,
    seed: int | None = None,
    replication: int = 0,
    cache_dir: Path | None = None,
) -> RunResult:
    """Run one replication of a scenario (a :class:`Scenario` or a path to its TOML file).

    Parameters
    ----------
    seed
        Overrides the scenario's seed.
    replication
        Which replication's random streams to use (0, 1, ...): replication ``r`` here equals
        replication ``r`` of a Monte Carlo batch with the same seed.
    """
    sc, routes, compiled = prepare(scenario, cache_dir=cache_dir)
    s = sc.seed if seed is None else seed
    rep = simulate(compiled, s, replication)
    events = to_frame(compiled, rep)
    summary = summarize(events, sc)
    summary.meta.update({"seed": s, "replication": replication, "p_detect": rep.p_detect})
    return RunResult(sc, routes, s, replication, events, summary, rep.p_detect)


@dataclass
class McResult:
    """A Monte Carlo batch: one row per replication, daily series, and the verdict."""

    scenario: Scenario
    routes: RouteTable
    seed: int
    replications: pd.DataFrame
    fan: pd.DataFrame
    verdict: dict[str, Any]
    out_dir: Path | None
    elapsed_s: float
    ran: int
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


def run_mc(
    scenario: Scenario | str | Path,
    *,
    n: int = 1000,
    seed: int | None = None,
    out: str | Path | None = None,
    executor: Executor = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    block_size: int | None = None,
    min_matches: int = 200,
    progress: Callable[[int], None] | None = None,
    cache_dir: Path | None = None,
) -> McResult:
    """Run ``n`` replications of a scenario and judge its claim.

    Replication ``r`` uses the same random streams as ``run(scenario, replication=r)``, so any
    replication can be re-run alone; results do not depend on ``executor`` or ``workers``.

    Parameters
    ----------
    out
        Folder for the results. Per-replication results stream into ``out/parts`` as blocks
        finish; with ``resume=True`` a batch interrupted earlier runs only what is missing.
        Without ``out`` a temporary folder is used and removed.
    executor
        ``"local"`` (process pool, the default), ``"serial"`` or ``"dask"``.
    """
    scenario_path = str(scenario) if not isinstance(scenario, Scenario) else "<python>"
    sc, routes, _ = prepare(scenario, cache_dir=cache_dir)
    s = sc.seed if seed is None else seed
    with output_folder(out, "tankersim-mc-") as (out_dir, temporary):
        stamp = {"scenario_sha256_16": sc.digest(), "seed": s, "scenario": sc.name}
        parts = open_parts(out_dir, stamp, resume=resume, file=scenario_path)
        batch = run_batch(
            sc,
            routes,
            n=n,
            seed=s,
            parts=parts,
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            block_size=block_size,
            progress=progress,
        )
        v = verdict(batch.replications, sc, min_matches=min_matches)
        daily_path = merge_daily(parts, out_dir / "daily.parquet", n=n)
        result = McResult(
            sc,
            routes,
            s,
            batch.replications,
            daily_fan(daily_path, sc.window.days, column=f"{sc.claims.basis}_bbl"),
            v,
            None if temporary else out_dir,
            batch.elapsed_s,
            batch.ran,
            daily_path=None if temporary else daily_path,
        )
        if temporary:  # an in-memory batch: keep its daily series before the folder goes
            result._daily = pd.read_parquet(daily_path)
        else:
            write_mc(
                result,
                out_dir,
                scenario_path=scenario_path,
                run_info=describe_executor(executor, workers, scheduler),
            )
        return result


def write_mc(
    result: McResult, out_dir: Path, *, scenario_path: str, run_info: dict[str, Any]
) -> list[Path]:
    """Write a batch's gathered tables, verdict and provenance into ``out_dir``."""
    from sim.analysis.verdict import verdict_markdown
    from sim.outputs.files import write_json, write_provenance

    paths = write_provenance(
        out_dir,
        result.scenario,
        scenario_path=scenario_path,
        seed=result.seed,
        command="mc",
        replications=len(result.replications),
        elapsed_s=round(result.elapsed_s, 3),
        **run_info,
    )
    p = out_dir / "replications.parquet"
    result.replications.to_parquet(p, index=False)
    paths.append(p)
    paths.append(out_dir / "daily.parquet")  # streamed there by run_mc
    p = out_dir / "cumulative_quantiles.csv"
    result.fan.to_csv(p, index=False)
    paths.append(p)
    p = out_dir / "replications.csv"
    result.replications.to_csv(p, index=False)
    paths.append(p)
    p = out_dir / "verdict.json"
    write_json(p, result.verdict)
    paths.append(p)
    p = out_dir / "verdict.md"
    p.write_text(verdict_markdown(result.verdict), encoding="utf-8")
    paths.append(p)
    return paths
