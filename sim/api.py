"""The Python API: load a scenario, run it, get results (and files when asked).

>>> import sim
>>> result = sim.run("scenarios/minimal.toml")           # doctest: +SKIP
>>> result.summary.kpis["trips"], result.events.shape    # doctest: +SKIP

The functions here compose the runner (which computes) and the outputs (which write files and
plots): with ``out=`` they write what the command line writes, plots included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import pandas as pd

from sim.analysis.claims import ClaimsCheck
from sim.analysis.verdict import conditioned_replications
from sim.core.config import Scenario, load_scenario
from sim.core.defaults import (
    DAILY_REPLICATIONS,
    MC_REPLICATIONS,
    MIN_MATCHES,
    SENSITIVITY_REPLICATIONS,
    SENSITIVITY_SAMPLES,
)
from sim.core.errors import OptionError
from sim.model.prepared import PYTHON_SOURCE, Model, prepare
from sim.runner import batch
from sim.runner import calibrate as cal
from sim.runner import sensitivity as sens
from sim.runner import sweep as sw
from sim.runner.batch import McResult
from sim.runner.calibrate import CalibrationResult
from sim.runner.pipeline import ExecOptions, ExecutorKind
from sim.runner.single import RunResult, run

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "CalibrationResult",
    "ExecOptions",
    "McResult",
    "Model",
    "PriorSensitivity",
    "RunResult",
    "calibrate",
    "calibrate_priors",
    "check_claims",
    "load_scenario",
    "prepare",
    "redraw_map",
    "report",
    "robustness",
    "run",
    "run_mc",
    "run_posterior",
    "run_sensitivity",
    "run_sweep",
    "write_routes",
]


def _locks_out(fn: F) -> F:
    """Hold the writer lock of the call's ``out`` folder (:mod:`sim.core.lock`) while it runs:
    a second process writing into the same folder is refused, in one line."""
    import functools
    import inspect

    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sim.core.lock import writing

        out = sig.bind_partial(*args, **kwargs).arguments.get("out")
        with writing(out, f"sim.{fn.__name__}"):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


Options = ExecOptions | ExecutorKind | None
"""How a batch runs: an :class:`ExecOptions` (executor, workers, scheduler, block size,
engine), or an executor's name alone (``"local"``, ``"serial"``, ``"dask"``) for its defaults;
None: a process pool of every core and the fast engine."""


def _options(options: Options) -> ExecOptions:
    if options is None:
        return ExecOptions()
    if isinstance(options, ExecOptions):
        return options
    return ExecOptions(options)


Progress = bool | Callable[[int], None] | None
"""``True``: a bar on stderr (rich on a terminal, plain lines in a notebook or a log);
a callable: called with the number of replications just finished; ``False``/``None``: quiet."""


@contextmanager
def _progress(
    progress: Progress,
    total: int | None = None,
    *,
    on_plan: Callable[[int], None] | None = None,
    per_planned: int | None = None,
) -> Iterator[tuple[Callable[[int], None] | None, Callable[[int], None]]]:
    """The ``(advance, plan)`` callbacks a long call reports to: ``advance(k)`` after k
    replications (None when quiet), ``plan(k)`` once k points are planned, which sets the
    bar's total to ``k x per_planned`` replications and calls the caller's ``on_plan``."""
    bar = None
    if progress is True:
        from sim.outputs.progress import auto_progress

        bar = auto_progress("replications")
        if total:
            bar.total(total)

    def plan(k: int) -> None:
        if bar is not None and per_planned is not None:
            bar.total(k * per_planned)
        if on_plan is not None:
            on_plan(k)

    if bar is None:
        yield (progress if callable(progress) else None), plan
        return
    with bar:
        yield bar.advance, plan


def _source_name(scenario: Any) -> str:
    if isinstance(scenario, Model):
        return scenario.source
    return PYTHON_SOURCE if isinstance(scenario, Scenario | Mapping) else str(scenario)


@_locks_out
def run_mc(
    scenario: Model | Scenario | Mapping[str, Any] | str | Path,
    *,
    n: int = MC_REPLICATIONS,
    seed: int | None = None,
    out: str | Path | None = None,
    options: Options = None,
    resume: bool = False,
    min_matches: int = MIN_MATCHES,
    plots: bool = True,
    progress: Progress = True,
    cache_dir: Path | None = None,
    daily_replications: int | None = DAILY_REPLICATIONS,
    csv: bool | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> McResult:
    """Run ``n`` replications of a scenario and judge its claim.

    Replication ``r`` uses the same random streams as ``run(scenario, replication=r)``, so any
    replication can be re-run alone; results do not depend on how the batch runs.

    Parameters
    ----------
    scenario
        A scenario file, a mapping, a :class:`Scenario` or a :class:`Model` (:func:`prepare`):
        it is prepared once, here.
    out
        Folder for the results. Per-replication results stream into ``out/parts`` as blocks
        finish; with ``resume=True`` a batch interrupted earlier runs only what is missing.
        The tables, ``verdict.json``, ``verdict.md``, the provenance and (with ``plots``) the
        plots are written there, as ``tankersim mc`` writes them. Without ``out`` nothing is
        kept on disk.
    options
        How to run (:data:`Options`): for example ``"serial"``, or
        ``ExecOptions("dask", scheduler="tcp://host:8786")``. Default: a local process pool
        on every core.
    progress
        ``True`` (the default): a progress bar on stderr, rich on a terminal, a line every
        2 s in a notebook or a log; a callable is called with each count of finished
        replications; ``False``: quiet.
    daily_replications
        Keep the daily series of the replications below this number (``daily.parquet``;
        all: None). The monthly counts of visits seen cover every replication regardless.
    csv
        Also write ``replications.csv`` (None: only for batches of at most 20,000).
    overrides
        Dotted scenario keys set first, as ``--set`` does.
    """
    model = prepare(scenario, overrides=overrides, cache_dir=cache_dir)
    with _progress(progress, n) as (advance, _):
        result = batch.run_mc(
            model,
            n=n,
            seed=seed,
            out=out,
            options=_options(options),
            resume=resume,
            min_matches=min_matches,
            progress=advance,
            daily_replications=daily_replications,
        )
    if out is not None:
        from sim.outputs.files import write_mc

        out_dir = Path(out)
        write_mc(result, out_dir, scenario_path=model.source, csv=csv)
        if plots:
            from sim.outputs.plots import plot_mc

            gantt = run(model, seed=result.seed, replication=0)
            plot_mc(
                result,
                out_dir / "plots",
                conditional=conditioned_replications(result.table, result.verdict),
                gantt_events=gantt.events,
                observables=model.observables,
            )
    return result


@_locks_out
def run_sweep(
    scenario: str | Path | Mapping[str, Any],
    *,
    dims: Sequence[sw.Dimension] | None = None,
    design_kind: str | None = None,
    n_points: int | None = None,
    n: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    options: Options = None,
    resume: bool = False,
    min_matches: int | None = None,
    halfwidth: int | str | None = sw.KEEP,
    plots: bool = True,
    progress: Progress = True,
    on_plan: Callable[[int], None] | None = None,
    cache_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> sw.SweepResult:
    """Run a parameter sweep (see :mod:`sim.runner.sweep`); with ``out``, write its files and
    (with ``plots``) its chart as ``tankersim sweep`` does. ``overrides`` sets dotted keys of
    the base scenario first, as ``--set`` does. ``progress`` as for :func:`run_mc`."""
    with _progress(progress, on_plan=on_plan, per_planned=n) as (advance, plan):
        result = sw.run_sweep(
            scenario,
            dims=dims,
            design_kind=design_kind,
            n_points=n_points,
            n=n,
            seed=seed,
            out=out,
            options=_options(options),
            resume=resume,
            min_matches=min_matches,
            halfwidth=halfwidth,
            progress=advance,
            on_plan=plan,
            cache_dir=cache_dir,
            overrides=overrides,
        )
    if out is not None:
        from sim.outputs.files import write_sweep

        write_sweep(result, Path(out), scenario_path=_source_name(scenario))
        if plots:
            from sim.outputs.plots import plot_sweep

            plot_sweep(result, Path(out) / "plots")
    return result


@_locks_out
def run_sensitivity(
    scenario: str | Path | Mapping[str, Any],
    *,
    method: Literal["sobol", "morris"] = "sobol",
    base_samples: int = SENSITIVITY_SAMPLES,
    replications: int = SENSITIVITY_REPLICATIONS,
    grouping: Literal["coarse", "keys"] = "coarse",
    seed: int | None = None,
    out: str | Path | None = None,
    options: Options = None,
    resume: bool = False,
    plots: bool = True,
    progress: Progress = True,
    on_plan: Callable[[int], None] | None = None,
    cache_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> sens.SensitivityResult:
    """Rank the scenario's unknowns (see :mod:`sim.runner.sensitivity`); with ``out``, write
    its files and (with ``plots``) its chart as ``tankersim sensitivity`` does. ``overrides``
    sets dotted keys first, as ``--set`` does. ``progress`` as for :func:`run_mc`."""
    with _progress(progress, on_plan=on_plan, per_planned=1) as (advance, plan):
        result = sens.run_sensitivity(
            scenario,
            method=method,
            base_samples=base_samples,
            replications=replications,
            grouping=grouping,
            seed=seed,
            options=_options(options),
            out=out,
            resume=resume,
            progress=advance,
            on_plan=plan,
            cache_dir=cache_dir,
            overrides=overrides,
        )
    if out is not None:
        from sim.outputs.files import write_sensitivity

        write_sensitivity(result, Path(out), scenario_path=_source_name(scenario))
        if plots:
            from sim.outputs.plots import plot_sensitivity

            plot_sensitivity(result, Path(out) / "plots")
    return result


@_locks_out
def write_routes(
    scenario: Scenario | str | Path, out: str | Path, *, draw_map: bool = True
) -> tuple[Any, list[Path]]:
    """Route a scenario and write ``routes.csv``, ``routes.geojson`` (the legs),
    ``ports.geojson`` (the ports), the provenance and (with ``draw_map``) the map into ``out``;
    return the leg table and the files written."""
    from sim.analysis.metrics import leg_table
    from sim.outputs.files import write_provenance, write_route_layers, write_table

    model = prepare(scenario)
    sc, table = model.scenario, model.routes
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    legs = leg_table(sc, table)
    paths = [write_table(legs, out_dir / "routes.csv")]
    paths += write_provenance(
        out_dir, sc, scenario_path=model.source, seed=sc.seed, command="routes"
    )
    paths += write_route_layers(out_dir, table, sc)
    if draw_map:
        from sim.outputs.maps import plot_map

        paths += plot_map(sc, table, out_dir / "map")
    return legs, paths


def redraw_map(
    run_dir: str | Path, out_base: str | Path | None = None, *, interval_h: float = 1.0
) -> list[Path]:
    """Draw the map of a ``tankersim run`` output folder again, with its ships' tracks."""
    from sim.outputs.maps import plot_map

    _check_interval(interval_h)
    folder, resolved, log = _run_files(run_dir)
    base = Path(out_base) if out_base else folder / "map"
    if not base.parent.is_dir():
        raise OptionError("out", str(base), f"no folder {str(base.parent)!r} to write it in")
    model, tr = _run_tracks(folder, resolved, log, interval_h)
    return plot_map(model.scenario, model.routes, base, tracks=tr)


def _check_interval(interval_h: float) -> None:
    """Refuse, in one line, a track interval that is not a finite number of hours >= 0.01."""
    import math

    if not (isinstance(interval_h, int | float) and math.isfinite(interval_h)) or not (
        interval_h >= 0.01
    ):
        raise OptionError("interval_h", interval_h, "must be a finite number of hours >= 0.01")


def _run_files(run_dir: str | Path) -> tuple[Path, Path, Path]:
    """A ``tankersim run`` folder, its resolved scenario and its event log; a folder without
    them is refused in one line."""
    folder = Path(run_dir)
    resolved = folder / "scenario.resolved.toml"
    if not resolved.is_file():
        raise OptionError("run_dir", str(folder), "no scenario.resolved.toml: not a run's folder")
    found = [p for p in (folder / "events.parquet", folder / "events.csv") if p.is_file()]
    if not found:
        raise OptionError("run_dir", str(folder), "no events.parquet or events.csv")
    return folder, resolved, found[0]


def _run_tracks(
    folder: Path, resolved: Path, log: Path, interval_h: float, idle: bool | None = None
) -> tuple[Model, pd.DataFrame]:
    """A run folder's prepared scenario and its ships' tracks, made again from its event log
    (checked by :func:`_run_events`; a log of another scenario is refused in one line)."""
    from sim.analysis.tracks import tracks

    model = prepare(resolved)
    sc = model.scenario
    events = _run_events(log)
    try:
        tr = tracks(
            events, sc, model.routes, interval_h=interval_h, seed=_run_seed(folder, sc), idle=idle
        )
    except (KeyError, IndexError, ValueError) as exc:  # checked above; what is left is foreign
        why = f"{type(exc).__name__}: {exc}"[:120]
        raise OptionError(
            "run_dir", str(log), f"the event log does not match the run's scenario ({why})"
        ) from None
    return model, tr


TRAJECTORY_IDS = {"voyage": "trajectory_id", "leg": "leg_id"}
"""The tracks' id column of each kind of trajectory (:func:`trajectories`)."""
UPSTREAM_WARNING = r"The inplace keyword in GeoDataFrame\.sort_index is deprecated"
"""What movingpandas 0.23 makes pandas 3.1 say once per trajectory, whatever the data (it
sorts each trajectory with ``sort_index(inplace=True)``, which pandas deprecated in pandas-dev/
pandas#66971); :func:`trajectories` silences it and nothing else."""


def trajectories(
    source: RunResult | str | Path,
    *,
    by: Literal["voyage", "leg"] = "voyage",
    idle: bool = True,
    interval_h: float = 1.0,
) -> Any:
    """The ships' tracks of one replication as a MovingPandas ``TrajectoryCollection``.

    ``source`` is a result of :func:`sim.run` or the folder ``tankersim run`` wrote (its
    event log and resolved scenario; the tracks are made again from them, as ``tankersim
    map`` does). ``by="voyage"`` gives one trajectory per ship voyage (``trajectory_id``),
    ``by="leg"`` one per leg of a voyage (``leg_id``: laden, ballast, idle); ``idle=False``
    leaves out the idle legs (the turnaround in port between voyages). Samples every
    ``interval_h`` hours [h], at the naive UTC ``timestamp`` that MovingPandas takes; samples
    without a position (a passage cut by the window's end) are left out. Each trajectory
    keeps every column of :func:`sim.analysis.tracks.tracks` (ship, status, speed, course,
    draught...). Needs geopandas and movingpandas (``pip install 'tankersim[tracks]'``).
    """
    import warnings

    from sim.analysis.tracks import tracks
    from sim.core.errors import MissingExtraError

    if by not in TRAJECTORY_IDS:
        raise OptionError("by", by, "must be 'voyage' or 'leg'")
    _check_interval(interval_h)
    try:
        import geopandas as gpd

        with warnings.catch_warnings():  # that Stone Soup, an optional extra of its, is missing
            warnings.filterwarnings("ignore", message="Missing optional dependencies")
            import movingpandas as mpd
    except ImportError:
        raise MissingExtraError("movingpandas", "tracks", "trajectories") from None
    if isinstance(source, RunResult):
        df = tracks(
            source.events, source.scenario, source.routes, interval_h=interval_h,
            seed=source.seed, idle=idle,
        )  # fmt: skip
    else:
        _, df = _run_tracks(*_run_files(source), interval_h, idle=idle)
    df = df.dropna(subset=["lat", "lon"])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=UPSTREAM_WARNING, module=r"movingpandas\.")
        return mpd.TrajectoryCollection(gdf, traj_id_col=TRAJECTORY_IDS[by], t="timestamp")


def _run_seed(folder: Path, sc: Scenario) -> int:
    """The seed a run folder was made with (its manifest's; ``--seed`` may have changed it),
    else its scenario's."""
    import json

    try:
        doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeError):
        doc = None
    seed = doc.get("seed") if isinstance(doc, dict) else None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else sc.seed


def _run_events(path: Path) -> Any:
    """A run folder's event log, checked: a damaged or foreign file is an
    :class:`OptionError` naming it, not a traceback further on."""
    import pyarrow as pa

    from sim.model.events import COLUMNS, EVENT_KINDS, read_csv_events

    try:
        events = pd.read_parquet(path) if path.suffix == ".parquet" else read_csv_events(path)
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        why = (str(exc).splitlines() or [""])[0][:160]
        raise OptionError("run_dir", str(path), f"unreadable event log ({why})") from None
    missing = [c for c in COLUMNS if c not in events.columns]
    if missing:
        raise OptionError("run_dir", str(path), f"not an event log: no column {missing[0]!r}")
    bad = None
    if events["event"].isna().any() or not set(events["event"].astype(str)) <= set(EVENT_KINDS):
        bad = "an unknown event"
    elif not pd.api.types.is_numeric_dtype(events["t_h"]) or not events["t_h"].notna().all():
        bad = "a time that is not a number"
    if bad is not None:
        raise OptionError("run_dir", str(path), f"damaged event log: {bad}")
    return events


@dataclass
class EvidenceReport:
    """An evidence file checked against a scenario: rows the model cannot use (id, reason),
    the replay of named ships' sightings, and (with replications) the batch's model checks."""

    evidence: Any
    unused: list[tuple[str, str]]
    replay: Any
    batch: McResult | None

    def __repr__(self) -> str:
        from sim.core.reprs import evidence_report_repr

        return evidence_report_repr(self)

    def _repr_html_(self) -> str:
        from sim.core.reprs import evidence_report_html

        return evidence_report_html(self)


@_locks_out
def check_evidence(
    scenario: Model | Scenario | str | Path,
    *,
    n: int = 0,
    out: str | Path | None = None,
    progress: Progress = True,
) -> EvidenceReport:
    """Validate a scenario's evidence, replay its named ships, and with ``n > 0`` run ``n``
    replications for the model checks and the claim's own method (``out`` keeps them)."""
    from sim.analysis.replay import replay
    from sim.core.evidence import scenario_evidence

    model = prepare(scenario)
    sc = model.scenario
    ev = scenario_evidence(sc)
    if ev is None:
        raise OptionError("scenario", sc.name, "names no evidence file (evidence = ...)")
    batch_result = None
    if n:
        batch_result = run_mc(model, n=n, out=out, plots=False, progress=progress)
    return EvidenceReport(
        ev, [(u.row.id, u.reason) for u in model.unused], replay(ev, sc, model.routes), batch_result
    )


@_locks_out
def calibrate(
    scenario: Scenario | str | Path | Mapping[str, Any],
    *,
    prior: str = "scenario",
    seed: int | None = None,
    out: str | Path | None = None,
    options: Options = None,
    resume: bool = False,
    population: int | None = None,
    generations: int | None = None,
    replications: int | None = None,
    plots: bool = True,
    progress: bool | Callable[[dict[str, Any]], None] | None = True,
    cache_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    evidence: str | None = None,
    compare: Sequence[str] = cal.COMPARE,
) -> CalibrationResult:
    """Fit the scenario's fleet-level unknowns to its evidence by ABC-SMC and give the
    posterior verdict (see :mod:`sim.runner.calibrate` and docs/calibration.md).

    ``evidence`` names the evidence set fitted (``independent``, the default: rows
    independent of the claim and its premise; ``counted``; ``all``); each set of
    ``compare`` (default ``("all",)``; ``()`` for none) that fits other rows is calibrated
    too and its answer set beside this one (``result.companions``, ``out/evidence-<set>/``).

    ``prior`` names one of the scenario's ``[priors.<name>]`` sets (``"scenario"``: its own
    priors). With ``out`` the history and a checkpoint per generation are kept there
    (``resume=True`` continues an interrupted calibration) and the posterior, the diagnostics,
    ``verdict_posterior.json``/``.md``, the predictive check, the provenance and (with
    ``plots``) the plots are written, as ``tankersim calibrate`` writes them. ``overrides``
    sets dotted scenario keys first, as ``--set`` does. ``progress``: ``True`` (the default)
    prints a line per generation on stderr; a callable gets each generation's statistics;
    ``False``: quiet.
    """
    report = generation_line if progress is True else (progress or None)
    result = cal.calibrate(
        scenario,
        prior=prior,
        seed=seed,
        options=_options(options),
        out=out,
        resume=resume,
        population=population,
        generations=generations,
        replications=replications,
        progress=report,
        cache_dir=cache_dir,
        overrides=overrides,
        evidence=evidence,
        compare=compare,
        on_stage=_stage_line if progress is True else None,
    )
    if out is not None:
        from sim.analysis.posterior import named_parcels
        from sim.outputs.files import write_calibration

        out_dir = Path(out)
        for name, r in result.companions.items():
            write_calibration(
                r, cal.companion_folder(out_dir, name), scenario_path=_source_name(scenario)
            )
        write_calibration(result, out_dir, scenario_path=_source_name(scenario))
        if plots:
            from sim.outputs.posterior_plots import plot_calibration

            plot_calibration(result, out_dir / "plots", ships=named_parcels(result.setup.scenario))
    return result


def _stage_line(text: str) -> None:
    import sys

    print(text, file=sys.stderr)


@dataclass
class PriorSensitivity:
    """The answer under each prior set: one row per set, and each set's calibration."""

    table: pd.DataFrame
    results: dict[str, CalibrationResult]

    @property
    def depends_on_prior(self) -> bool:
        """Whether the verdict's word changes between the prior sets."""
        return self.table["word"].nunique() > 1

    def __repr__(self) -> str:
        from sim.core.reprs import prior_sensitivity_repr

        return prior_sensitivity_repr(self)

    def _repr_html_(self) -> str:
        from sim.core.reprs import prior_sensitivity_html

        return prior_sensitivity_html(self)


@_locks_out
def calibrate_priors(
    scenario: str | Path,
    *,
    priors: Sequence[str] | None = None,
    out: str | Path | None = None,
    on_prior: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> PriorSensitivity:
    """Calibrate under the scenario's own priors and under each ``[priors.<name>]`` set (or
    those named in ``priors``), and set the answers side by side. With ``out``, each set's
    calibration goes to ``out/priors/<name>/`` and the table to
    ``out/prior_sensitivity.csv`` and ``.md``. Other arguments as for :func:`calibrate`."""
    sc = load_scenario(scenario, overrides=kwargs.get("overrides"))
    names = list(priors) if priors else ["scenario", *sc.priors]
    results: dict[str, CalibrationResult] = {}
    rows = []
    for name in names:
        if on_prior is not None:
            on_prior(name)
        sub = None if out is None else Path(out) / "priors" / name
        r = calibrate(scenario, prior=name, out=sub, **kwargs)
        results[name] = r
        v = r.verdict
        row: dict[str, Any] = {
            "prior": name,
            "description": "the scenario's own priors"
            if name == "scenario"
            else sc.priors[name].description,
            "p_seen": v.seen.p,
            "p_seen_mcse": v.seen.mcse,
            "p_fleet": v.fleet.p,
            "p_fleet_mcse": v.fleet.mcse,
            "word": v.word,
            "fleet_word": v.fleet_word,
        }
        for key, iv in v.parameters.items():
            row[f"{key} median"] = iv.median
        rows.append(row)
    table = pd.DataFrame(rows)
    if out is not None:
        from sim.outputs.files import write_priors
        from sim.outputs.plots import save_figure
        from sim.outputs.posterior_plots import priors_figure

        write_priors(table, Path(out))
        save_figure(priors_figure(table), Path(out) / "plots" / "priors")
    return PriorSensitivity(table, results)


@_locks_out
def run_posterior(
    calibration: str | Path,
    *,
    replications: int | None = None,
    out: str | Path | None = None,
    options: Options = None,
    plots: bool = True,
    cache_dir: Path | None = None,
) -> CalibrationResult:
    """The posterior verdict of a finished calibration (the folder ``tankersim calibrate``
    wrote), run again with ``replications`` per particle: what ``tankersim mc --posterior``
    does. With ``out``, writes ``verdict_posterior.json``/``.md``, the posterior runs, the
    predictive check and the plots there."""
    result = cal.from_folder(
        calibration,
        replications=replications,
        options=_options(options),
        cache_dir=cache_dir,
    )
    if out is not None:
        from sim.analysis.posterior import named_parcels
        from sim.outputs.files import write_calibration

        out_dir = Path(out)
        write_calibration(
            result, out_dir, scenario_path=str(Path(calibration) / "scenario.resolved.toml")
        )
        if plots:
            from sim.outputs.posterior_plots import plot_calibration

            plot_calibration(result, out_dir / "plots", ships=named_parcels(result.setup.scenario))
    return result


@_locks_out
def robustness(
    scenario: Scenario | str | Path | Mapping[str, Any],
    *,
    population: int | None = None,
    replications: int | None = None,
    generations: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    options: Options = None,
    resume: bool = False,
    only: Sequence[str] | None = None,
    plots: bool = True,
    progress: bool | Callable[[dict[str, Any]], None] | None = True,
    cache_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Any:
    """The assumption audit (:mod:`sim.runner.robustness`, docs/robustness.md): calibrate the
    scenario at the low and high setting of every ``[audit]`` input and over every evidence
    set x prior set, and say where the answer lies across them and what decides it.

    ``population`` (default 300) and ``replications`` (default 10) size each calibration;
    ``only`` keeps the named inputs. With ``out`` each calibration is kept in
    ``out/settings/`` (``resume=True`` reuses what finished) and robustness.csv, .json, .md
    and plots/tornado are written. ``progress``: ``True`` prints a line per setting and per
    generation on stderr; ``False``: quiet.
    """
    from sim.runner import robustness as rb

    def announce(i: int, n: int, st: rb.Setting) -> None:
        _stage_line(f"[{i + 1}/{n}] {st.label}: {st.level_label}")

    result = rb.run_robustness(
        scenario,
        population=population or rb.POPULATION,
        replications=replications or rb.REPLICATIONS,
        generations=generations,
        seed=seed,
        options=_options(options),
        out=out,
        resume=resume,
        only=only,
        progress=None if progress is True else (progress or None),
        on_setting=announce if progress is True else None,
        cache_dir=cache_dir,
        overrides=overrides,
    )
    if out is not None:
        from sim.outputs.files import write_calibration
        from sim.outputs.robustness import write_robustness

        for slug, r in result.results.items():
            write_calibration(
                r, Path(out) / "settings" / slug, scenario_path=_source_name(scenario)
            )
        write_robustness(result, Path(out), plots=plots)
    return result


def generation_line(d: Mapping[str, Any]) -> None:
    """One line on stderr for a finished ABC-SMC generation (``calibrate``'s progress)."""
    import sys

    print(
        f"  generation {d['generation']}: tolerance {d['epsilon']:.3g}, acceptance "
        f"{d['acceptance_rate']:.3f}, {d['simulated']:,} simulated ({d['seconds']:.1f} s)",
        file=sys.stderr,
    )


def check_claims(scenario: Scenario | str | Path) -> ClaimsCheck:
    """The claims check of a scenario (:mod:`sim.analysis.claims`): arithmetic on its
    ``[claims]`` table alone, before any simulation."""
    from sim.analysis.claims import check_claims as _check

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return _check(sc)


def report(
    run_dirs: Sequence[str | Path],
    out: str | Path | None = None,
    *,
    tracks: bool = True,
) -> list[Path]:
    """Write the report of finished runs (:mod:`sim.outputs.report`): one self-contained HTML
    file, ``out`` (default ``<first run folder>/report.html``), and its Markdown twin beside
    it. Returns both paths."""
    from contextlib import ExitStack

    from sim.core.lock import reading, writing
    from sim.outputs.report import write_report

    if not run_dirs:
        raise OptionError("run_dir", None, "give at least one run folder")
    path = Path(out) if out is not None else Path(run_dirs[0]) / "report.html"
    with ExitStack() as held:
        if path.parent.is_dir():
            held.enter_context(writing(path.parent, "sim.report"))
        for d in run_dirs:  # no run folder is read while a writer is at work in it
            if Path(d).is_dir():
                held.enter_context(reading(d))
        return write_report(list(run_dirs), path, tracks=tracks)
