"""The `tankersim` command line: it parses, calls the API, writes and renders.

No statistics and no model logic live here. Library errors are mapped to the command's own
flags (:data:`FLAGS`) and end the command with one line on stderr and exit status 2.
"""

from __future__ import annotations

import errno
import functools
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import typer
import typer.rich_utils
from rich.console import Console
from rich.markup import escape as rich_escape
from typer.core import TyperArgument, TyperOption

from sim import __version__
from sim.core import defaults
from sim.core.config import Scenario, load_scenario
from sim.core.errors import (
    EngineFallbackWarning,
    MissingExtraError,
    OptionError,
    ResultsExistError,
    ResultsMismatchError,
    ScenarioError,
    TooLargeError,
    one_line,
    short_repr,
)

app = typer.Typer(
    name="tankersim",
    help=(
        "Simulate tanker shuttles and test claims about oil deliveries.\n\n"
        "A scenario file (TOML) describes the window, the loading terminal, the discharge "
        "ports, the fleet and the claim to test. See docs/scenario-reference.md; "
        "`tankersim init` copies example scenarios and the docs into a folder of yours."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # paragraphs rewrap to the terminal's width
)
out_console = Console(emoji=False)  # ":x:" in a ship's name stays ":x:"
err_console = Console(stderr=True, emoji=False)
F = TypeVar("F", bound=Callable[..., Any])

FLAGS = {"n_points": "--points", "grouping": "--factors", "run_dir": "RUN_DIR"}
FLAGS |= {k: f"--{k}" for k in ("out", "vary", "design", "method", "halfwidth")}
FLAGS |= {k: f"--{k}" for k in ("executor", "scheduler", "workers", "engine")}
FLAGS |= {"block_size": "--block-size", "prior": "--prior", "population": "--population"}
FLAGS |= {"posterior": "--posterior", "replications": "-n", "folder": "FOLDER"}
FLAGS |= {"interval_h": "--track-interval-h"}
"""Library parameter names and the flags that set them."""

# Options shared by several commands (typer reads the defaults' Option objects).
SCENARIO = typer.Argument(..., help="Scenario file (TOML).", show_default=False, dir_okay=False)
SEED = typer.Option(None, min=0, help="Random seed (default: the scenario's `seed`).")
WORKERS = typer.Option(None, min=1, help="Worker processes (default: all cores).")
EXECUTOR = typer.Option(defaults.EXECUTOR, help="local (process pool), serial, or dask.")
SCHEDULER = typer.Option(None, help="With --executor dask: a running scheduler's address.")
OUT = typer.Option(
    None, help="Output folder (default: a folder under runs/ named after the scenario)."
)
RESUME = typer.Option(False, "--resume", help="Continue an interrupted run in --out.")
PLOTS = typer.Option(True, "--plots/--no-plots", help="Draw the plots (PNG and SVG).")
INTERVAL = typer.Option(1.0, min=0.01, help="Hours between track positions.")
ENGINE = typer.Option(
    defaults.ENGINE, help="fast (vectorised, the default) or des (SimPy): same results."
)
BLOCK = typer.Option(
    None, min=1, help="Replications per job (default: chosen from the batch, workers, engine)."
)
SET = typer.Option(
    None,
    "--set",
    help="Set a dotted scenario key for this run, e.g. fleet.unnamed.count=8 or "
    "seed=7; VALUE is a TOML value (a number, a date, a quoted string, "
    'an inline table such as {dist="uniform", low=1, high=2}); a bare word is a string. '
    "Repeat for more keys.",
    show_default=False,
)
VARY_HELP = (
    "KEY=low:high:num (evenly spaced), KEY=v1,v2,... (values) or KEY=low:high (a range, for "
    "--design lhs/sobol); KEY is a dotted scenario key such as fleet.large.capacity_bbl. "
    "Repeat for more inputs. Default: the \\[sweep] table."
)


def _warn_degenerate(scenario: Scenario, reps: Any) -> None:
    """One line on stderr per way the results are degenerate (:func:`degenerate`)."""
    import pandas as pd

    from sim.analysis.checks import degenerate
    from sim.core.table import ColumnTable

    table = reps if isinstance(reps, pd.DataFrame | ColumnTable) else pd.DataFrame(reps)
    for note in degenerate(scenario, table):
        err_console.print(
            f"tankersim: warning: {note}", markup=False, highlight=False, soft_wrap=True
        )


_DISK_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EFBIG")
    if hasattr(errno, name)
)
"""Write errors that are one line and exit status 1 (what is finished stays on disk)."""


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line to stderr (control characters in it shown as escapes) and exit with
    ``code``."""
    err_console.print(
        f"tankersim: error: {one_line(message, 2000)}", markup=False, highlight=False,
        soft_wrap=True,
    )  # fmt: skip
    raise typer.Exit(code)


def _message(exc: Exception) -> str:
    """A library error in the command's terms."""
    if isinstance(exc, ResultsExistError):
        return f"--out = {exc.value!r}: holds results already: pass --resume, or another --out"
    if isinstance(exc, ResultsMismatchError):
        return f"--resume = {exc.value!r}: {exc.reason.replace('folder', '--out')}"
    if isinstance(exc, OptionError):
        shown = "<missing>" if exc.value is None else short_repr(exc.value)
        return f"{FLAGS.get(exc.option, exc.option)} = {shown}: {exc.reason}"
    return str(exc)


def _command(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a command; give back the folder locks it took, however it ends (a process
    ending gives them back anyway; a command run in a test's process must too)."""
    try:
        return fn(*args, **kwargs)
    finally:
        if _HELD_BY_COMMAND:
            from sim.core.lock import release

            while _HELD_BY_COMMAND:
                release(_HELD_BY_COMMAND.pop())


def clean_errors(fn: F) -> F:
    """Turn library errors into one line on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return _command(fn, *args, **kwargs)
        except (ScenarioError, OptionError, MissingExtraError, TooLargeError) as exc:
            fail(_message(exc))
        except KeyboardInterrupt:
            fail("interrupted", code=130)
        except OSError as exc:
            if exc.errno not in _DISK_ERRNOS:
                raise
            # the machine, not the input: a full disk, a read-only or forbidden folder
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"cannot write {where}{exc.strerror or exc}", code=1)

    return wrapper  # type: ignore[return-value]


def parse_sets(sets: list[str] | None) -> dict[str, Any]:
    """``--set KEY=VALUE`` options as overrides: VALUE is read as a TOML value (a number, a
    quoted string, a date, an array, an inline table); a bare word is a string."""
    import re
    import tomllib

    out: dict[str, Any] = {}
    for item in sets or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not re.fullmatch(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-\"]+)*", key):
            fail(f"--set = {item!r}: expected KEY=VALUE with a dotted KEY, e.g. fleet.x.count=8")
        try:
            out[key] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", value):
                fail(f"--set = {item!r}: the value is not a TOML value (quote a string)")
            out[key] = value
    return out


def _prepare_out(
    scenario: Path, out: Path | None, suffix: str, overrides: dict[str, Any] | None = None
) -> tuple[Scenario, Path]:
    """The validated scenario (with the ``--set`` overrides, :func:`parse_sets`) and the
    output folder; a file in the way is an error."""
    from sim.outputs.files import ensure_writable, safe_name

    sc = load_scenario(scenario, overrides=overrides)
    path = out if out is not None else Path("runs") / f"{safe_name(sc.name)}{suffix}"
    ensure_writable(path)  # fail before the simulation, not after it
    _hold(path)
    return sc, path


def _hold(folder: Path) -> None:
    """Take ``folder``'s writer lock for the rest of the command (:mod:`sim.core.lock`): a
    second tankersim writing there is refused in one line naming the holder."""
    from sim.core.lock import acquire

    acquire(folder, " ".join(["tankersim", *sys.argv[1:]])[:200])
    _HELD_BY_COMMAND.append(folder)


_HELD_BY_COMMAND: list[Path] = []
"""Folders the running command locked (:func:`_hold`): released when it returns."""


def _key(command: str, sc: Scenario, seed: int | None, **options: Any) -> dict[str, Any]:
    """What makes a command's results what they are: its name, the batch identity (scenario,
    evidence, seed, random streams) and the options that change what it writes (not how it
    runs: executor, workers and block size give the same results)."""
    from sim.model.prepared import batch_identity

    ident = batch_identity(sc, sc.seed if seed is None else seed)
    return {"command": command, "batch": ident, "options": options}


def _replayed(
    out_dir: Path,
    key: dict[str, Any],
    resume: bool,
    stamp: Path | None = None,
    what: str = "",
) -> bool:
    """With --resume, when ``out_dir`` holds the finished results of this very command (its
    stamp, :func:`sim.outputs.files.read_stamp`), print what it printed and say so: nothing is
    run or rewritten."""
    if not resume:
        return False
    from rich.text import Text

    from sim.outputs.files import read_stamp

    doc = read_stamp(out_dir, key, stamp=stamp)
    if doc is None:
        return False
    out_console.print(Text.from_ansi(str(doc.get("output", ""))), end="", highlight=False)
    what = what or f"{out_dir} already holds this command's finished results"
    err_console.print(
        f"tankersim: {what} (made {doc.get('finished_utc', '?')}): read, nothing run; run "
        "without --resume into another --out to make them again",
        highlight=False,
        soft_wrap=True,
    )
    return True


@contextmanager
def _recorded(out_dir: Path, key: dict[str, Any], stamp: Path | None = None) -> Iterator[None]:
    """Print what the block prints, and once it finished, stamp ``out_dir`` with ``key`` and
    that output, so that the same command with --resume replays it (:func:`_replayed`)."""
    from sim.outputs.files import write_stamp

    with out_console.capture() as cap:
        yield
    text = cap.get()
    out_console.file.write(text)
    out_console.file.flush()
    write_stamp(out_dir, key, text, stamp=stamp)


@contextmanager
def _batch(out_dir: Path, again: str, rate: bool = False) -> Iterator[Any]:
    """A progress bar for a batch; an interruption says what is kept and how to go on."""
    from sim.outputs.progress import LazyProgress

    def notice(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
        if issubclass(category, EngineFallbackWarning):
            err_console.print(
                f"tankersim: notice: {message}", markup=False, highlight=False, soft_wrap=True
            )
        else:
            shown(message, category, *args, **kwargs)

    with LazyProgress(rate=rate, console=err_console) as bar, warnings.catch_warnings():
        shown = warnings.showwarning
        warnings.simplefilter("always", EngineFallbackWarning)
        warnings.showwarning = notice
        try:
            yield bar
        except KeyboardInterrupt:
            fail(f"interrupted: finished work is saved in {out_dir}/parts; {again}", code=130)


def _version_callback(value: bool) -> None:
    if value:
        out_console.print(f"tankersim {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version."
    ),
) -> None:
    """Simulate tanker shuttles and test claims about oil deliveries."""


@app.command()
@clean_errors
def validate(
    scenarios: list[Path] = typer.Argument(..., help="Scenario files to check."),
    routes: bool = typer.Option(True, "--routes/--no-routes", help="Also route every leg."),
) -> None:
    """Check scenario files without running them (exit status 2 on the first bad file)."""
    from sim.core.routes import build_route_table

    for path in scenarios:
        sc = load_scenario(path)
        if routes:
            build_route_table(sc, file=str(path))
        what = f"{sc.n_ships} ships, {sc.window.days} days, {len(sc.discharge)} discharge port(s)"
        out_console.print(f"{path}: ok ({sc.name}, {what})", markup=False, highlight=False)


@app.command()
@clean_errors
def run(
    scenario: Path = SCENARIO,
    seed: int | None = SEED,
    replication: int = typer.Option(0, min=0, help="Replication number (the streams of `mc`)."),
    out: Path | None = OUT,
    events_format: str = typer.Option("parquet", help="Event log format: parquet or csv."),
    draw_map: bool = typer.Option(True, "--map/--no-map", help="Draw the map."),
    with_tracks: bool | None = typer.Option(
        None,
        "--tracks/--no-tracks",
        help="Write ship tracks (default: unless they would exceed 5 million samples).",
        show_default=False,
    ),
    track_interval_h: float = INTERVAL,
    thin_idle: bool = typer.Option(
        False, "--thin-idle", help="Keep only the first and last track sample of each stay."
    ),
    idle_interval_h: float | None = typer.Option(
        None, min=0.01, help="Keep a track sample in port every HOURS (implies --thin-idle)."
    ),
    sets: list[str] | None = SET,
) -> None:
    """Run one replication of a scenario, print its summary and write its outputs to OUT:
    provenance, the event log, summary.json and tables, routes, AIS-like tracks and a map."""
    from sim.api import run as run_api
    from sim.outputs.files import write_geo, write_run
    from sim.outputs.render import print_run_summary

    if events_format not in ("parquet", "csv"):
        fail(f"--events-format = {events_format!r}: choose parquet or csv")
    overrides = parse_sets(sets) or None
    sc, out_dir = _prepare_out(scenario, out, "", overrides)
    samples = sc.n_ships * sc.window.days * 24 / track_interval_h
    if with_tracks is None:
        with_tracks = samples <= TRACK_MAX_SAMPLES
        if not with_tracks:
            _notice(
                f"tracks left out: {sc.n_ships:,} ships over {sc.window.days:,} days every "
                f"{track_interval_h:g} h would be {samples:,.0f} samples; --tracks writes them "
                "anyway, a longer --track-interval-h makes fewer"
            )
    big = sc.n_ships * sc.window.days > BIG_SHIP_DAYS
    if big:
        _notice(f"simulating {sc.n_ships:,} ships over {sc.window.days:,} days ...")
    result = run_api(sc if overrides else scenario, seed=seed, replication=replication)
    if big:
        _notice(f"{len(result.events):,} events; writing the event log and tables ...")
    written = write_run(result, out_dir, scenario_path=str(scenario), events_format=events_format)
    if big and (draw_map or with_tracks):
        _notice("writing the routes, tracks and map ...")
    written += write_geo(
        result,
        out_dir,
        draw_map,
        with_tracks,
        track_interval_h,
        thin_idle=thin_idle,
        idle_interval_h=idle_interval_h,
    )
    print_run_summary(result, out_console)
    _warn_degenerate(result.scenario, [result.row])
    out_console.print(f"\nWrote {len(written)} files to {out_dir}/", highlight=False)


TRACK_MAX_SAMPLES = 5_000_000
"""Track samples `run` writes unless asked (--tracks): about 0.5 GB of GeoJSON and CSV."""
BIG_SHIP_DAYS = 200_000
"""Ship-days above which `run` says what it is doing, step by step."""


def _notice(text: str) -> None:
    err_console.print(f"tankersim: {text}", markup=False, highlight=False, soft_wrap=True)


@app.command()
@clean_errors
def routes(
    scenario: Path = SCENARIO,
    out: Path | None = OUT,
    draw_map: bool = typer.Option(True, "--map/--no-map", help="Draw the route map."),
) -> None:
    """Print each leg (nm, hours at each class's speeds, straits and locks) and write
    OUT/routes.csv, OUT/routes.geojson and OUT/map.png / map.svg."""
    from sim.api import write_routes
    from sim.outputs.render import print_route_table

    sc, out_dir = _prepare_out(scenario, out, "-routes")
    legs, _ = write_routes(scenario, out_dir, draw_map=draw_map)
    print_route_table(legs, sc, out_console)
    out_console.print(
        f"Wrote routes.csv, routes.geojson, ports.geojson{' and the map' if draw_map else ''} "
        f"to {out_dir}/",
        highlight=False,
    )


@app.command(name="map")
@clean_errors
def map_(
    run_dir: Path = typer.Argument(..., help="Output folder of `tankersim run`.", file_okay=False),
    out: Path | None = typer.Option(None, help="Base name of the files (default: RUN_DIR/map)."),
    track_interval_h: float = INTERVAL,
) -> None:
    """Draw the map of a run: coastline, ports, routes and the ships' voyages (PNG and SVG)."""
    from sim.api import redraw_map

    written = redraw_map(run_dir, out, interval_h=track_interval_h)
    out_console.print("Wrote " + ", ".join(str(p) for p in written), highlight=False)


def _common(
    out_dir: Path,
    bar: Any,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    engine: str = "fast",
    block_size: int | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """The keyword arguments every batch command passes to the API."""
    options = _exec_options(executor, workers, scheduler, engine, block_size)
    return {"out": out_dir, "options": options, "progress": bar.advance, **kw}


def _exec_options(
    executor: str,
    workers: int | None,
    scheduler: str | None,
    engine: str,
    block_size: int | None = None,
) -> Any:
    """The one options object (:class:`sim.runner.pipeline.ExecOptions`) the flags that say
    how a batch runs make."""
    from sim.runner.pipeline import ExecOptions

    return ExecOptions(
        executor,  # type: ignore[arg-type]
        workers,
        scheduler,
        block_size=block_size,
        engine=engine,  # type: ignore[arg-type]
    )


@app.command()
@clean_errors
def mc(
    scenario: Path = SCENARIO,
    n: int = typer.Option(
        defaults.MC_REPLICATIONS, "-n", "--replications", min=1, help="Replications."
    ),
    seed: int | None = SEED,
    workers: int | None = WORKERS,
    executor: str = EXECUTOR,
    scheduler: str | None = SCHEDULER,
    engine: str = ENGINE,
    block_size: int | None = BLOCK,
    out: Path | None = OUT,
    resume: bool = RESUME,
    min_matches: int = typer.Option(
        defaults.MIN_MATCHES, min=1, help="Replications kept when conditioning."
    ),
    posterior: Path | None = typer.Option(
        None,
        file_okay=False,
        help="A calibration's folder: draw the unknowns from its posterior (-n per particle).",
    ),
    plots: bool = PLOTS,
    sets: list[str] | None = SET,
    csv: bool | None = typer.Option(
        None,
        "--csv/--no-csv",
        help="Also write replications.csv (default: only for batches of at most 20,000).",
        show_default=False,
    ),
    daily_replications: int = typer.Option(
        defaults.DAILY_REPLICATIONS,
        "--daily-replications",
        min=0,
        help="Keep the daily series of the first N replications (daily.parquet, the fan chart).",
    ),
) -> None:
    """Run N replications, print the plausibility verdict, and write data, verdict and plots.

    Each worker writes its replications to OUT/parts (--resume continues an interrupted
    batch); a finished batch is compacted into OUT/replications.parquet. Replication R
    equals `tankersim run --replication R`. See docs/monte-carlo.md for the files written.
    With --posterior CALIBRATION the unknowns come from a calibration's posterior instead of
    the prior, and the posterior verdict is given (docs/calibration.md).
    """
    from sim.api import run_mc
    from sim.outputs.render import print_checks, print_verdict

    if posterior is not None:
        _posterior_mc(scenario, posterior, n, executor, workers, scheduler, engine, out, plots)
        return
    overrides = parse_sets(sets) or None
    sc, out_dir = _prepare_out(scenario, out, "-mc", overrides)
    key = _key(
        "mc",
        sc,
        seed,
        n=n,
        min_matches=min_matches,
        engine=engine,
        plots=plots,
        csv=csv,
        daily_replications=daily_replications,
    )
    if _replayed(out_dir, key, resume):
        return
    if sc.n_ships * sc.window.days > BIG_SHIP_DAYS:
        _notice(
            f"each replication simulates {sc.n_ships:,} ships over {sc.window.days:,} days "
            f"({sc.n_ships * sc.window.days:,} ship-days): the bar moves as blocks of "
            "replications finish"
        )
    again = f"continue with the same command and --out {out_dir} --resume"
    with _batch(out_dir, again, rate=True) as bar:
        kw = _common(
            out_dir,
            bar,
            executor,
            workers,
            scheduler,
            engine,
            block_size,
            resume=resume,
            plots=plots,
        )
        bar.total(n)
        result = run_mc(
            sc if overrides else scenario,
            n=n,
            seed=seed,
            min_matches=min_matches,
            csv=csv,
            daily_replications=daily_replications,
            **kw,
        )
    _warn_degenerate(result.scenario, result.table)
    with _recorded(out_dir, key):
        print_verdict(result.verdict, out_console)
        print_checks(result.checks, result.method, out_console)
        done = f"{len(result.table)} replications ({result.ran} run now, {result.elapsed_s:.1f} s)"
        out_console.print(f"\n{done}; results in {out_dir}/", highlight=False)
        out_console.print(_prior_only_note(result.scenario, scenario), highlight=False)


def _prior_only_note(sc: Scenario, path: Path) -> str:
    """What mc's answer is, and which command gives the evidence-based one."""
    if sc.evidence is None:
        return (
            "This is the prior-only answer: the unknowns drawn from their priors. The scenario "
            "names no evidence file; with one, `tankersim calibrate` fits them to it "
            "(docs/evidence.md)."
        )
    return (
        "This is the prior-only answer: the unknowns drawn from their priors, no evidence "
        f"weighed. `tankersim calibrate {path}` gives the evidence-based answer, and "
        f"`tankersim robustness {path}` its range across the assumptions (the headline)."
    )


def _posterior_mc(
    scenario: Path,
    folder: Path,
    n: int,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    engine: str,
    out: Path | None,
    plots: bool,
) -> None:
    """``mc --posterior``: the posterior verdict with N replications per particle."""
    import json

    from sim.api import run_posterior
    from sim.outputs.render import print_calibration

    sc, out_dir = _prepare_out(scenario, out, "-posterior")
    meta = folder / "manifest.json"
    if not meta.is_file():
        fail(f"--posterior = {str(folder)!r}: not a calibration folder (no manifest.json)")
    name = json.loads(meta.read_text(encoding="utf-8")).get("scenario_name")
    if name != sc.name:
        fail(f"--posterior = {str(folder)!r}: calibrated on scenario {name!r}, not {sc.name!r}")
    options = _exec_options(executor, workers, scheduler, engine)
    per = None if n == defaults.MC_REPLICATIONS else n  # the default: the calibration's own
    result = run_posterior(folder, replications=per, out=out_dir, options=options, plots=plots)
    print_calibration(result, out_console)
    out_console.print(
        f"\n{len(result.replications):,} posterior replications; results in {out_dir}/",
        highlight=False,
    )


@app.command()
@clean_errors
def evidence(
    scenario: Path = SCENARIO,
    n: int = typer.Option(0, "-n", "--replications", min=0, help="Also check N replications."),
    out: Path | None = OUT,
) -> None:
    """Check a scenario's evidence file: every row, what the model does with it, whether the
    named ships' sightings are feasible, and (with -n) the model checks and the claim's method.
    """
    from sim.api import check_evidence
    from sim.outputs.render import print_checks, print_evidence

    _, out_dir = _prepare_out(scenario, out, "-evidence")
    with _batch(out_dir, "run it again with --out and more time") as bar:
        bar.total(n)
        report = check_evidence(scenario, n=n, out=out_dir if n else None, progress=bar.advance)
    print_evidence(report.evidence, report.unused, report.replay, out_console)
    if report.batch is not None:
        print_checks(report.batch.checks, report.batch.method, out_console)


@app.command()
@clean_errors
def sweep(
    scenario: Path = SCENARIO,
    vary: list[str] | None = typer.Option(None, help=VARY_HELP),
    design: str | None = typer.Option(None, help="grid (every combination), lhs or sobol."),
    points: int | None = typer.Option(None, min=1, help="Points of an lhs or sobol design."),
    n: int | None = typer.Option(None, "-n", "--replications", min=1, help="Per point."),
    seed: int | None = SEED,
    workers: int | None = WORKERS,
    executor: str = EXECUTOR,
    scheduler: str | None = SCHEDULER,
    engine: str = ENGINE,
    block_size: int | None = BLOCK,
    out: Path | None = OUT,
    resume: bool = RESUME,
    min_matches: int | None = typer.Option(None, min=1, help="With --halfwidth -1: matches kept."),
    halfwidth: int | None = typer.Option(
        None, min=-1, help="Condition on claimed visits ± this (-1: each point its own window)."
    ),
    plots: bool = PLOTS,
    sets: list[str] | None = SET,
) -> None:
    """Run a parameter sweep: N replications at every point, common random numbers throughout.

    Every point is validated before anything runs. Writes summary.csv, sweep.parquet,
    frontier.csv, points/pNNNNN.toml and plots/sweep.png|svg (docs/sweeps.md).
    """
    from sim.api import run_sweep
    from sim.outputs.render import print_sweep
    from sim.runner.sweep import KEEP, parse_vary

    dims = [parse_vary(v) for v in vary] if vary else None
    overrides = parse_sets(sets) or None
    sc, out_dir = _prepare_out(scenario, out, "-sweep", overrides)
    per_point = n if n is not None else (sc.sweep.replications if sc.sweep else 500)
    hw = KEEP if halfwidth is None else (None if halfwidth < 0 else halfwidth)
    with _batch(out_dir, "continue with the same command and --resume") as bar:
        kw = _common(
            out_dir,
            bar,
            executor,
            workers,
            scheduler,
            engine,
            block_size,
            resume=resume,
            plots=plots,
        )
        kw |= {"dims": dims, "design_kind": design, "n_points": points, "halfwidth": hw}
        result = run_sweep(
            scenario,
            n=n,
            seed=seed,
            min_matches=min_matches,
            on_plan=lambda k: bar.total(k * per_point, f"{k} points"),
            overrides=overrides,
            **kw,
        )
    print_sweep(result, out_console)
    done = f"{len(result.summary)} points ({result.ran} replications run now)"
    out_console.print(f"\n{done}; results in {out_dir}/", highlight=False)


@app.command()
@clean_errors
def sensitivity(
    scenario: Path = SCENARIO,
    method: str = typer.Option("sobol", help="sobol (first-order and total indices) or morris."),
    base_samples: int = typer.Option(
        defaults.SENSITIVITY_SAMPLES,
        "--samples",
        min=2,
        help="SALib's N: Sobol' runs N x (factors + 2) points.",
    ),
    n: int = typer.Option(
        defaults.SENSITIVITY_REPLICATIONS, "-n", "--replications", min=1, help="Per point."
    ),
    grouping: str = typer.Option(
        "coarse", "--factors", help="coarse (one factor per unknown) or keys (one per key)."
    ),
    seed: int | None = SEED,
    workers: int | None = WORKERS,
    executor: str = EXECUTOR,
    scheduler: str | None = SCHEDULER,
    engine: str = ENGINE,
    block_size: int | None = BLOCK,
    out: Path | None = OUT,
    resume: bool = RESUME,
    plots: bool = PLOTS,
    sets: list[str] | None = SET,
) -> None:
    """Rank the scenario's uncertain inputs by their effect on the verdict (SALib).

    Writes indices.csv (with 95 % intervals and ranks), samples.parquet, manifest.json and
    plots/sensitivity.png|svg (docs/sweeps.md).
    """
    from sim.api import run_sensitivity
    from sim.outputs.render import print_sensitivity

    if method not in ("sobol", "morris"):
        fail(f"--method = {method!r}: choose sobol or morris")
    if grouping not in ("coarse", "keys"):
        fail(f"--factors = {grouping!r}: choose coarse or keys")
    overrides = parse_sets(sets) or None
    _, out_dir = _prepare_out(scenario, out, "-sensitivity", overrides)
    with _batch(out_dir, "continue with the same command and --resume") as bar:
        kw = _common(
            out_dir,
            bar,
            executor,
            workers,
            scheduler,
            engine,
            block_size,
            resume=resume,
            plots=plots,
        )
        kw |= {"method": method, "grouping": grouping, "on_plan": bar.total}
        kw |= {"overrides": overrides}
        result = run_sensitivity(scenario, base_samples=base_samples, replications=n, **kw)
    print_sensitivity(result, out_console)
    done = f"{len(result.samples)} design points x {n} replications"
    out_console.print(f"{done}; results in {out_dir}/", highlight=False)


@app.command()
@clean_errors
def calibrate(
    scenario: Path = SCENARIO,
    prior: str = typer.Option(
        "scenario", help="The prior set: 'scenario' (its own priors) or a [priors.NAME] set."
    ),
    all_priors: bool = typer.Option(
        False, "--all-priors", help="Calibrate under the scenario's priors and every prior set."
    ),
    evidence: str | None = typer.Option(
        None,
        metavar="SET",
        help="The evidence set fitted: independent (rows independent of the claim and its "
        "premise; the default), counted (every counted row) or all (the claimants' "
        "estimates too).",
    ),
    compare: bool = typer.Option(
        True,
        "--compare/--no-compare",
        help="Also calibrate on every row (evidence set all) and give that answer beside this one.",
    ),
    population: int | None = typer.Option(
        None, min=20, help="Particles per generation (default: [calibration] population)."
    ),
    generations: int | None = typer.Option(
        None, min=1, help="At most this many generations (default: [calibration])."
    ),
    n: int | None = typer.Option(
        None, "-n", "--replications", min=1, help="Posterior replications per particle."
    ),
    seed: int | None = SEED,
    workers: int | None = WORKERS,
    executor: str = EXECUTOR,
    scheduler: str | None = SCHEDULER,
    engine: str = ENGINE,
    out: Path | None = OUT,
    resume: bool = RESUME,
    plots: bool = PLOTS,
    sets: list[str] | None = SET,
) -> None:
    """Fit the fleet-level unknowns to the evidence (ABC-SMC, pyabc) and give the posterior
    verdict: P(the seen visits carried the claim | evidence), then the fleet's, and what one
    must believe.

    Writes posterior.parquet|csv, diagnostics.csv, predictive.csv, verdict_posterior.json|md,
    calibration.json, the history (abc.db) and plots/ (docs/calibration.md). --resume
    continues an interrupted calibration to the same result.
    """
    from sim.api import calibrate as run_calibration
    from sim.api import calibrate_priors
    from sim.outputs.render import print_calibration, priors_markdown

    overrides = parse_sets(sets) or None
    sc, out_dir = _prepare_out(scenario, out, "-calibrate", overrides)
    key = _key(
        "calibrate",
        sc,
        seed,
        prior=prior,
        all_priors=all_priors,
        evidence=evidence,
        compare=compare,
        population=population,
        generations=generations,
        n=n,
        engine=engine,
        plots=plots,
    )
    if _replayed(out_dir, key, resume):
        return
    options = _exec_options(executor, workers, scheduler, engine)
    again = f"continue with the same command and --out {out_dir} --resume"
    with _batch(out_dir, again), _recorded(out_dir, key):
        kw: dict[str, Any] = {
            "seed": seed,
            "options": options,
            "resume": resume,
            "population": population,
            "generations": generations,
            "replications": n,
            "plots": plots,
            "progress": True,  # a line per generation on stderr
            "overrides": overrides,
            "evidence": evidence,
            "compare": ("all",) if compare else (),
        }
        if all_priors:
            kw["compare"] = ()  # tankersim robustness crosses evidence sets with prior sets
            ps = calibrate_priors(
                scenario,
                out=out_dir,
                on_prior=lambda name: err_console.print(f"prior set {name}:", highlight=False),
                **kw,
            )
            for name, r in ps.results.items():
                out_console.print(f"\n[bold]{rich_escape(name)}[/bold]")
                out_console.print(rich_escape(r.verdict.headline), highlight=False)
            out_console.print("\n" + priors_markdown(ps.table), highlight=False, markup=False)
        else:
            result = run_calibration(scenario, prior=prior, out=out_dir, **kw)
            print_calibration(result, out_console)
            out_console.print(
                f"\n{result.simulated:,} simulations ({result.elapsed_s:.1f} s); results in "
                f"{out_dir}/",
                highlight=False,
            )


@app.command()
@clean_errors
def robustness(
    scenario: Path = SCENARIO,
    population: int | None = typer.Option(
        None, min=20, help="Particles per generation of each calibration (default 300)."
    ),
    n: int | None = typer.Option(
        None, "-n", "--replications", min=1, help="Posterior replications per particle (10)."
    ),
    generations: int | None = typer.Option(
        None, min=1, help="At most this many generations (default: [calibration])."
    ),
    only: list[str] | None = typer.Option(
        None, metavar="INPUT", help="Audit only this input (repeatable), e.g. start-up."
    ),
    seed: int | None = SEED,
    workers: int | None = WORKERS,
    executor: str = EXECUTOR,
    scheduler: str | None = SCHEDULER,
    engine: str = ENGINE,
    out: Path | None = OUT,
    resume: bool = RESUME,
    plots: bool = PLOTS,
    sets: list[str] | None = SET,
) -> None:
    """The assumption audit: calibrate again at the low and high plausible setting of every
    [audit] input (start-up, activity, turnaround, detection, load factor, product mix, size
    spread) and over every evidence set x prior set, and say where the answer lies across
    them and which inputs decide it.

    Writes robustness.csv|json|md, plots/tornado and one calibration folder per setting
    under settings/ (docs/robustness.md). --resume reuses the settings that finished.
    """
    from sim.api import robustness as run_audit
    from sim.outputs.render import md_unescape
    from sim.outputs.robustness import robustness_markdown

    overrides = parse_sets(sets) or None
    sc, out_dir = _prepare_out(scenario, out, "-robustness", overrides)
    key = _key(
        "robustness",
        sc,
        seed,
        population=population,
        n=n,
        generations=generations,
        only=only,
        engine=engine,
        plots=plots,
    )
    if _replayed(out_dir, key, resume):
        return
    options = _exec_options(executor, workers, scheduler, engine)
    again = f"continue with the same command and --out {out_dir} --resume"
    with _batch(out_dir, again):
        result = run_audit(
            scenario,
            population=population,
            replications=n,
            generations=generations,
            seed=seed,
            options=options,
            out=out_dir,
            resume=resume,
            only=only,
            plots=plots,
            overrides=overrides,
        )
    with _recorded(out_dir, key):
        # the Markdown file's text, without its escapes ("&lt; 0.1 %" reads "< 0.1 %",
        # "activity\_sigma" reads "activity_sigma")
        out_console.print(md_unescape(robustness_markdown(result)), highlight=False, markup=False)
        out_console.print(
            f"{len(result.table)} calibrations ({result.elapsed_s:.0f} s); results in {out_dir}/",
            highlight=False,
        )


@app.command("route", context_settings={"ignore_unknown_options": True})
@clean_errors
def route_cmd(
    origin: str = typer.Argument(
        ...,
        help="A port of the case's gazetteer or of the World Port Index (name, alias or "
        "UN/LOCODE, any case; 'NAME, COUNTRY' where several share a name), or LAT,LON in "
        "degrees, latitude first.",
    ),
    destination: str = typer.Argument(..., help="A port or LAT,LON, as ORIGIN."),
    margin_nm: float = typer.Option(
        2.0, "--margin-nm", min=0.0, max=20.0, help="Clearance from land on open-sea legs [nm]."
    ),
    origin_approach: str | None = typer.Option(
        None, "--origin-approach", help="LAT,LON at sea from which ORIGIN is reached (pilotage)."
    ),
    destination_approach: str | None = typer.Option(
        None, "--destination-approach", help="LAT,LON at sea, as --origin-approach."
    ),
    forbid_jeju: bool = typer.Option(
        False, "--forbid-jeju", help="Keep out of the Jeju Strait, as the osc-2024 scenarios do."
    ),
    out: Path | None = typer.Option(None, help="Write the route as a GeoJSON Feature here."),
) -> None:
    """The sea route between two ports or points anywhere on the globe: its length in nautical
    miles, the passages it takes, where an end was moved to navigable water, the regional rules
    it breaks (with the distance that keeps them) and (with --out) the route as GeoJSON. Inside
    the Korean region the regional router answers, elsewhere the global one (docs/routing.md).
    Examples: tankersim route VOSTOCHNY NAMPHO; tankersim route Rotterdam Singapore;
    tankersim route 51.95,4.05 1.25,103.8"""
    from sim.core.global_routing import route
    from sim.core.routing import JEJU_STRAIT, RoutingError
    from sim.outputs.files import write_geojson

    a_appr = _route_approach(origin_approach, "--origin-approach")
    b_appr = _route_approach(destination_approach, "--destination-approach")
    if out is not None:  # checked before the routing, not after it
        from sim.outputs.files import ensure_writable

        if out.is_dir():
            fail(f"--out = {str(out)!r}: a folder; give the GeoJSON file's name")
        if not out.parent.is_dir():
            fail(f"--out = {str(out)!r}: no folder {str(out.parent)!r} to write it in")
        ensure_writable(out.parent)
    try:
        r = route(
            origin,
            destination,
            margin_nm=margin_nm,
            origin_approach=a_appr,
            destination_approach=b_appr,
            forbidden=[JEJU_STRAIT] if forbid_jeju else (),
        )
    except RoutingError as exc:
        fail(str(exc))
    a_name, b_name = _route_label(origin), _route_label(destination)
    via = f" via {', '.join(r.passes)}" if r.passes else ""
    out_console.print(
        f"{a_name} -> {b_name}: {r.distance_nm:,.1f} nm ({r.pilotage_nm:.1f} nm pilotage){via}; "
        f"{len(r.waypoints)} waypoints, margin {margin_nm:g} nm, {r.method}",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    for snap in r.snapped:
        out_console.print(f"snapped: {snap}", highlight=False, soft_wrap=True, markup=False)
    for note in r.notes:
        out_console.print(f"note: {note}", highlight=False, soft_wrap=True, markup=False)
    if out is not None:
        write_geojson(out, r.feature)
        out_console.print(f"Wrote {out}", highlight=False)


def _route_approach(text: str | None, option: str) -> tuple[float, float] | None:
    """An approach point given as LAT,LON (the route command's options)."""
    if text is None:
        return None
    parts = text.replace(" ", "").split(",")
    try:
        lat, lon = (float(v) for v in parts)
    except ValueError:
        fail(f"{option} = {text!r}: expected LAT,LON in degrees, latitude first")
    return lat, lon


def _route_label(text: str) -> str:
    """A route end as printed: a port's id, or the LAT,LON as given."""
    from sim.core.gazetteer import find_port

    try:
        return find_port(text).id
    except ValueError:
        return text.strip()


@app.command()
@clean_errors
def init(
    folder: Path = typer.Argument(
        Path("tankersim-examples"), help="Where to copy them.", file_okay=False
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite files that exist."),
) -> None:
    """Copy the example scenarios (the OSC baseline and its evidence file, a minimal one, three
    variants) and the documentation into FOLDER, to start from."""
    from sim.examples import init as init_api

    written = init_api(folder, force=force)
    n_sc = sum(1 for p in written if p.parent.name == "scenarios")
    out_console.print(
        f"Wrote {n_sc} scenario and evidence files and {len(written) - n_sc} docs to {folder}/. "
        f"Next: tankersim claims {folder}/scenarios/osc-2024.toml; "
        f"tankersim mc {folder}/scenarios/osc-2024.toml",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
@clean_errors
def claims(
    scenario: Path = SCENARIO,
    as_json: bool = typer.Option(False, "--json", help="Print the check as JSON."),
    as_markdown: bool = typer.Option(False, "--markdown", help="Print the check as Markdown."),
    out: Path | None = typer.Option(
        None, file_okay=False, help="Also write claims.json, claims.md and claims.csv here."
    ),
) -> None:
    """Check a scenario's claim by arithmetic alone, before any simulation: barrels against
    tonnes (the implied density, and the claimed tonnes in barrels of each product), barrels
    per visit and the ship they need, per ship, and the UN cap pro rata."""
    from sim.api import check_claims
    from sim.outputs.files import atomic_write_text, ensure_writable, write_json, write_table
    from sim.outputs.render import print_claims
    from sim.outputs.report import claims_markdown

    check = check_claims(load_scenario(scenario))
    if out is not None:
        ensure_writable(out)  # the check every command's --out gets
        _hold(out)
        write_json(out / "claims.json", check.to_dict())
        atomic_write_text(out / "claims.md", claims_markdown(check))
        write_table(check.table(), out / "claims.csv")
    if as_json:
        import json

        out_console.print_json(json.dumps(check.to_dict(), default=str))
    elif as_markdown:
        sys.stdout.write(claims_markdown(check))
    else:
        print_claims(check, out_console)
    if out is not None:
        out_console.print(f"Wrote claims.json, claims.md and claims.csv to {out}/", highlight=False)


@app.command()
@clean_errors
def report(
    run_dir: list[Path] = typer.Argument(
        ...,
        help="Folders written by mc, calibrate (also --all-priors), sweep or sensitivity.",
        show_default=False,
    ),
    out: Path | None = typer.Option(
        None, help="The HTML file to write (default: RUN_DIR/report.html of the first folder)."
    ),
    tracks: bool = typer.Option(
        True, "--tracks/--no-tracks", help="Run one replication again for the map and tracks."
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Keep the report when it was made from these same finished runs (nothing redone).",
    ),
) -> None:
    """Write one self-contained HTML report (and its Markdown twin, .md) from finished runs:
    the question and the answer, the claims check, the evidence and model checks, the key
    figures, the assumptions, the limits and how to reproduce it. It opens offline."""
    from sim.api import report as report_api

    target = out if out is not None else run_dir[0] / "report.html"
    if target.parent.is_dir():
        _hold(target.parent)
    stamp = target.parent / f".{target.name}.done.json"
    key = _report_key(run_dir, tracks)
    html_md = [target, target.with_suffix(".md")]
    what = f"{target} was made from these same finished runs"
    if (
        key is not None
        and all(p.is_file() for p in html_md)
        and _replayed(target.parent, key, resume, stamp=stamp, what=what)
    ):
        return
    from sim.outputs.report import IncompleteRunWarning

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", IncompleteRunWarning)
        html, md = report_api(run_dir, out, tracks=tracks)
    for w in seen:
        if issubclass(w.category, IncompleteRunWarning):  # what the report left out
            err_console.print(
                f"tankersim: warning: {w.message}", markup=False, highlight=False, soft_wrap=True
            )
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    size = html.stat().st_size / 1e6
    line = f"Report: {html} ({size:.1f} MB); Markdown: {md}"
    if key is None:
        out_console.print(line, highlight=False)
        return
    with _recorded(target.parent, key, stamp=stamp):
        out_console.print(line, highlight=False)


def _report_key(run_dirs: list[Path], tracks: bool) -> dict[str, Any] | None:
    """A report's inputs: the stamps of the finished runs it reads (None when one of them has
    none: then the report is always made again)."""
    import hashlib

    from sim.outputs.files import STAMP_NAME

    stamps = []
    for d in run_dirs:
        p = d / STAMP_NAME
        if not p.is_file():
            return None
        stamps.append(hashlib.sha256(p.read_bytes()).hexdigest()[:16])
    return {"command": "report", "inputs": stamps, "tracks": tracks}


def _announce_route_builds() -> None:
    """Show the router's notices (a first graph build takes tens of seconds) on stderr."""
    import logging

    logger = logging.getLogger("sim.core.routing")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("tankersim: %(message)s"))
        handler.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


METAVARS = {
    "n": "N",
    "workers": "N",
    "block_size": "N",
    "min_matches": "N",
    "points": "N",
    "population": "N",
    "generations": "N",
    "base_samples": "N",
    "replication": "R",
    "halfwidth": "VISITS",
    "seed": "SEED",
    "out": "PATH",
    "posterior": "FOLDER",
    "scheduler": "ADDRESS",
    "sets": "KEY=VALUE",
    "vary": "KEY=VALUES",
    "track_interval_h": "HOURS",
    "idle_interval_h": "HOURS",
}
"""Placeholders shown in --help instead of typer's type tags (``<int range>``, ``<str>``...).
Choices (executor, engine, method...) show NAME; flags show nothing beside their names."""


def _plain_help(typer_app: typer.Typer) -> None:
    """Give every option a plain placeholder (:data:`METAVARS`, NAME for text, nothing for
    flags) and every argument its upper-case name, so --help shows no internal type tags."""
    import inspect
    import typing

    from typer.models import ArgumentInfo, OptionInfo

    for command in typer_app.registered_commands:
        callback = command.callback
        if callback is None:  # pragma: no cover - every command here has one
            continue
        hints = typing.get_type_hints(inspect.unwrap(callback))
        for name, param in inspect.signature(callback).parameters.items():
            info = param.default
            if isinstance(info, ArgumentInfo) and info.metavar is None:
                info.metavar = name.upper()
            elif isinstance(info, OptionInfo) and info.metavar is None:
                if hints.get(name) is bool:
                    info.metavar = ""
                else:
                    info.metavar = METAVARS.get(name, "NAME")


_plain_help(app)


def _no_type_column(self: Any, ctx: Any) -> str | None:
    """The placeholder alone (typer 0.29 adds ``<type>`` tags beside it: ``<list[Path]>``)."""
    metavar = getattr(self, "metavar", None)
    return metavar if metavar and not isinstance(self, TyperArgument) else None


TyperArgument.display_type_rich = _no_type_column  # type: ignore[method-assign]
TyperOption.display_type_rich = _no_type_column  # type: ignore[method-assign]


def _one_line_usage_error(exc: click.ClickException) -> None:
    """A usage error (an unknown option, a value out of range, a missing argument) in one line,
    as every other error, naming the command whose --help explains it."""
    ctx = getattr(exc, "ctx", None)
    where = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
    message = " ".join(exc.format_message().split())
    err_console.print(
        f"tankersim: error: {message}{where}", markup=False, highlight=False, soft_wrap=True
    )


typer.rich_utils.rich_format_error = _one_line_usage_error  # type: ignore[assignment]


def main() -> None:
    """Console-script entry point."""
    _announce_route_builds()
    try:
        app()
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        sys.exit(0)


__all__ = ["FLAGS", "app", "main"]
