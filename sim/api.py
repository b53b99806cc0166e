"""The Python API: load a scenario, run it, get DataFrames back.

>>> from sim.api import run
>>> result = run("scenarios/minimal.toml")               # doctest: +SKIP
>>> result.summary.kpis["trips"], result.events.shape    # doctest: +SKIP
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.claims import verdict
from sim.config import Scenario, ScenarioError, load_scenario
from sim.events import to_frame
from sim.experiment import Executor, daily_fan, describe_executor, merge_daily, run_batch
from sim.metrics import RunSummary, summarize
from sim.model import Compiled, compile_scenario, simulate
from sim.routes import RouteTable, build_route_table


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
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="tankersim-mc-")
        out_dir = Path(tmp.name)
    else:
        out_dir = Path(out)
    try:
        check_resumable(out_dir, sc, s, resume=resume, file=scenario_path)
        (out_dir / "parts").mkdir(parents=True, exist_ok=True)
        stamp = {"scenario_sha256_16": sc.digest(), "seed": s, "scenario": sc.name}
        (out_dir / "parts" / "batch.json").write_text(json.dumps(stamp), encoding="utf-8")
        batch = run_batch(
            sc,
            routes,
            n=n,
            seed=s,
            parts=out_dir / "parts",
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            block_size=block_size,
            progress=progress,
        )
        v = verdict(batch.replications, sc, min_matches=min_matches)
        daily_path = merge_daily(out_dir / "parts", out_dir / "daily.parquet", n=n)
        result = McResult(
            sc,
            routes,
            s,
            batch.replications,
            daily_fan(daily_path, sc.window.days),
            v,
            None if tmp else out_dir,
            batch.elapsed_s,
            batch.ran,
            daily_path=None if tmp else daily_path,
        )
        if tmp is not None:  # an in-memory batch: keep its daily series before the folder goes
            result._daily = pd.read_parquet(daily_path)
        if tmp is None:
            write_mc(
                result,
                out_dir,
                scenario_path=scenario_path,
                run_info=describe_executor(executor, workers, scheduler),
            )
        return result
    finally:
        if tmp is not None:
            tmp.cleanup()


def check_resumable(out_dir: Path, sc: Scenario, seed: int, *, resume: bool, file: str) -> None:
    """Refuse to mix results: an output folder with parts belongs to one scenario and seed."""
    parts = out_dir / "parts"
    has_parts = parts.is_dir() and any(parts.glob("reps-*.parquet"))
    if not has_parts:
        return
    if not resume:
        raise ScenarioError(
            file, "--out", str(out_dir), "holds results already: pass --resume, or another --out"
        )
    stamp = out_dir / "parts" / "batch.json"
    if stamp.exists():
        info = json.loads(stamp.read_text(encoding="utf-8"))
        if info.get("scenario_sha256_16") != sc.digest() or info.get("seed") != seed:
            raise ScenarioError(
                file,
                "--resume",
                str(out_dir),
                "results there come from another scenario or seed; use another --out",
            )


def write_mc(
    result: McResult, out_dir: Path, *, scenario_path: str, run_info: dict[str, Any]
) -> list[Path]:
    """Write a batch's gathered tables, verdict and provenance into ``out_dir``."""
    from sim.claims import verdict_markdown
    from sim.outputs import manifest, write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    sc = result.scenario
    paths = []
    p = out_dir / "scenario.resolved.toml"
    p.write_text(sc.to_toml(), encoding="utf-8")
    paths.append(p)
    p = out_dir / "manifest.json"
    write_json(
        p,
        manifest(
            sc,
            scenario_path=scenario_path,
            seed=result.seed,
            command="mc",
            replications=len(result.replications),
            elapsed_s=round(result.elapsed_s, 3),
            **run_info,
        ),
    )
    paths.append(p)
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
