"""The Python API: load a scenario, run it, get DataFrames back.

>>> from sim.api import run
>>> result = run("scenarios/minimal.toml")               # doctest: +SKIP
>>> result.summary.kpis["trips"], result.events.shape    # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.config import Scenario, load_scenario
from sim.events import to_frame
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
