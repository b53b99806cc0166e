"""One replication of a prepared scenario: its event log and summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.metrics import RunSummary, summarize
from sim.core.config import Scenario
from sim.core.routes import RouteTable
from sim.model.des import simulate
from sim.model.events import to_frame
from sim.model.prepared import Model, prepare
from sim.model.results import replication_row, run_kpis, visits_of


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
    row: dict[str, float]
    """The replication's row, as in a batch's table (drawn parameters, observables...)."""

    def __repr__(self) -> str:
        from sim.core.reprs import short_repr

        k = self.summary.kpis
        return short_repr(
            "RunResult",
            self.scenario.name,
            f"seed {self.seed}, replication {self.replication}: {k['trips']:.0f} trips, "
            f"{k['observed_visits']:.0f} seen, {k['loaded_bbl']:,.0f} bbl loaded, "
            f"{len(self.events):,} events",
        )

    def _repr_html_(self) -> str:
        from sim.core.reprs import html_summary

        k = self.summary.kpis
        names = ("trips", "observed_visits", "loaded_bbl", "delivered_bbl")
        rows: list[tuple[str, object]] = [(n, f"{k[n]:,.0f}") for n in names if n in k]
        rows += [
            ("seed", str(self.seed)),
            ("replication", str(self.replication)),
            ("events", f"{len(self.events):,}"),
        ]
        return html_summary(f"One replication: {self.scenario.name}", rows)


def run(
    scenario: Model | Scenario | Mapping[str, Any] | str | Path,
    *,
    seed: int | None = None,
    replication: int = 0,
    cache_dir: Path | None = None,
) -> RunResult:
    """Run one replication of a scenario (a path to its TOML file, a mapping, a
    :class:`Scenario` or a :class:`~sim.model.prepared.Model`).

    Parameters
    ----------
    seed
        Overrides the scenario's seed.
    replication
        Which replication's random streams to use (0, 1, ...): replication ``r`` here equals
        replication ``r`` of a Monte Carlo batch with the same seed.
    """
    model = prepare(scenario, cache_dir=cache_dir)
    sc, routes, compiled = model.scenario, model.routes, model.compiled
    s = sc.seed if seed is None else seed
    rep = simulate(compiled, s, replication)
    events = to_frame(rep, compiled.places.names, compiled.products)
    row, _ = replication_row(
        compiled,
        visits_of(rep),
        replication=replication,
        p_detect=rep.p_detect,
        parameters=rep.parameters,
        observables=model.observables,
    )
    summary = summarize(events, sc, run_kpis(row))
    summary.meta.update({"seed": s, "replication": replication, "p_detect": rep.p_detect})
    return RunResult(sc, routes, s, replication, events, summary, rep.p_detect, row)
