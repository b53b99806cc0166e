"""A scenario made ready to run, once: validated, routed and compiled (:class:`Model`).

Every front door (the API, the command line, the runners) turns what the user gave (a path to
a TOML file, a mapping, a :class:`~sim.core.config.Scenario`, or a :class:`Model` made
earlier) into a :class:`Model` with one call, :func:`prepare`; the runners take the model and
never validate, route or compile again. This module holds the project's only call that
compiles a scenario and its only recipe for a batch's identity (:meth:`Model.identity`).

>>> import sim
>>> model = sim.prepare("scenarios/minimal.toml")   # doctest: +SKIP
>>> model.identity(seed=1)["streams"]                # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.core.config import Scenario, apply_overrides, read_source, validate_dict
from sim.core.errors import ScenarioError
from sim.core.evidence import scenario_evidence
from sim.core.routes import RouteTable, build_route_table
from sim.model.draws import Compiled, compile_scenario
from sim.model.observables import Observable, Unused, compile_observables

PYTHON_SOURCE = "<python>"
"""The source name of a scenario given as a mapping or a :class:`Scenario` object."""


@dataclass(frozen=True, eq=False)
class Model:
    """A scenario ready to run: validated, routed, compiled, with its evidence's observables.

    Made by :func:`prepare`; frozen and picklable (workers receive it whole and compile
    nothing). Models compare by identity: two preparations of one file are two models with
    equal :meth:`identity`.
    """

    scenario: Scenario
    routes: RouteTable
    compiled: Compiled
    observables: tuple[Observable, ...]
    """What the model measures of the scenario's evidence file (none without one)."""
    unused: tuple[Unused, ...]
    """The evidence rows the model cannot measure, with the reason."""
    source: str
    """Where the scenario came from: its file, or ``<python>``."""

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def seed(self) -> int:
        """The scenario's own seed."""
        return self.scenario.seed

    def identity(self, seed: int | None = None, **extra: Any) -> dict[str, Any]:
        """This model's batch identity (:func:`batch_identity`; ``seed`` defaults to the
        scenario's)."""
        return batch_identity(self.scenario, self.seed if seed is None else seed, **extra)

    def __iter__(self) -> Iterator[Any]:
        """Unpacks as ``scenario, routes, compiled``, the triple ``prepare`` returned before
        it returned a model (code written for that keeps working)."""
        return iter((self.scenario, self.routes, self.compiled))

    def __repr__(self) -> str:
        from sim.core.reprs import clip, short_repr

        return short_repr(
            "Model",
            self.scenario.name,
            f"{self.compiled.n_ships} ships, {len(self.compiled.port_ids)} discharge ports, "
            f"{len(self.routes.unique_legs())} routed legs, {len(self.observables)} "
            f"observables; from {clip(self.source, 80)}",
        )

    def _repr_html_(self) -> str:
        from sim.core.reprs import clip_list, html_summary

        sc = self.scenario
        rows: list[tuple[str, object]] = [
            ("source", self.source),
            ("window", f"{sc.window.start} to {sc.window.end} ({sc.window.days} days)"),
            ("terminal", sc.terminal.port),
            ("discharge ports", clip_list(sc.discharge, 6)),
            ("ships", f"{self.compiled.n_ships:,}"),
            ("routed legs", len(self.routes.unique_legs())),
            ("observables (evidence the model measures)", len(self.observables)),
            ("evidence rows it cannot measure", len(self.unused)),
        ]
        return html_summary(f"Model: {sc.name}", rows)


def batch_identity(scenario: Scenario, seed: int, **extra: Any) -> dict[str, Any]:
    """What makes a batch's results what they are: the scenario (and its evidence file), the
    seed and the random-stream version, with ``extra`` keys of the batch kind (a sweep's
    points, a design's hash...). Resuming a batch, or replaying a finished command, needs the
    same identity. The project's one recipe for it (every batch kind, every front door)."""
    from sim.core.rng import STREAM_VERSION

    ident: dict[str, Any] = {
        "scenario_sha256_16": scenario.digest(),
        "seed": seed,
        "scenario": scenario.name,
        "streams": STREAM_VERSION,
    }
    path = scenario.evidence_path()
    if path is not None and path.is_file():
        ident["evidence_sha256_16"] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return ident | extra


def prepare(
    scenario: Model | Scenario | Mapping[str, Any] | str | Path,
    *,
    overrides: Mapping[str, Any] | None = None,
    cache_dir: Path | None = None,
    routes: RouteTable | None = None,
    file: str | None = None,
) -> Model:
    """Validate, route and compile a scenario, once.

    Parameters
    ----------
    scenario
        A path to a scenario TOML file, a mapping of its keys, a validated
        :class:`~sim.core.config.Scenario`, or a :class:`Model` (returned as it is when no
        ``overrides`` are given).
    overrides
        Dotted keys set before validation, as the command line's ``--set`` does.
    cache_dir
        Where computed routes are cached (default: the user's cache folder).
    routes
        A route table already computed for this scenario's ports and routing settings (a
        sweep shares one between points that differ in nothing that routes).
    file
        The name messages give the scenario (default: its path, or ``<python>``).

    Raises
    ------
    ScenarioError
        The scenario, an override or its evidence file is wrong (one line names the file, the
        key and the value), or a port cannot be reached by sea.
    """
    if isinstance(scenario, Model):
        if not overrides:
            return scenario
        source, sc = scenario.source, _with_overrides(scenario.scenario, overrides)
    elif isinstance(scenario, Scenario):
        source = PYTHON_SOURCE
        sc = _with_overrides(scenario, overrides) if overrides else scenario
    else:
        source, raw = read_source(scenario, overrides)
        sc = validate_dict(raw, file=source)
        if not isinstance(scenario, Mapping):
            sc = sc.with_source(Path(scenario).parent)
    source = file or source
    try:
        evidence = scenario_evidence(sc)
    except ScenarioError as exc:
        if exc.file:  # about the evidence file itself: it names that file
            raise
        raise ScenarioError(source, exc.key, exc.value, exc.reason) from None
    table = routes
    if table is None:
        table = build_route_table(sc, file=source, cache_dir=cache_dir)
    compiled = compile_scenario(sc, table)
    observables, unused = compile_observables(evidence, compiled)
    return Model(sc, table, compiled, observables, unused, source)


def _with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    raw = scenario.model_dump(mode="python", by_alias=True, exclude_none=True)
    file = PYTHON_SOURCE
    return validate_dict(apply_overrides(raw, overrides, file=file), file=file).with_source(
        scenario._source_dir
    )
