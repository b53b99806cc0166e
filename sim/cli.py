"""The `tankersim` command line. It parses arguments and delegates; no model logic here."""

from __future__ import annotations

import functools
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from sim import __version__
from sim.core.config import ScenarioError, load_scenario

app = typer.Typer(
    name="tankersim",
    help=(
        "Simulate tanker shuttles and test claims about oil deliveries.\n\n"
        "A scenario file (TOML) describes the window, the loading terminal, the discharge "
        "ports, the fleet and the claim to test. See docs/scenario-reference.md."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out_console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

ScenarioArg = Annotated[
    Path, typer.Argument(help="Scenario file (TOML).", show_default=False, dir_okay=False)
]


SeedOpt = Annotated[
    int | None, typer.Option(min=0, help="Random seed (default: the scenario's `seed`).")
]
WorkersOpt = Annotated[
    int | None, typer.Option(min=1, help="Worker processes (default: all cores).")
]
ExecutorOpt = Annotated[str, typer.Option(help="local (process pool), serial, or dask.")]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        help="With --executor dask: a running scheduler's address (default: a local cluster)."
    ),
]


def _check_executor(executor: str, scheduler: str | None) -> None:
    """Exit with status 2 on an unknown executor, or a scheduler without Dask."""
    if executor not in ("local", "serial", "dask"):
        fail(f"--executor = {executor!r}: choose local, serial or dask")
    if scheduler and executor != "dask":
        fail("--scheduler needs --executor dask")


def _out_dir(out: Path | None, default: Path) -> Path:
    """The output folder; exits with status 2 when the path is an existing file."""
    path = out if out is not None else default
    if path.exists() and not path.is_dir():
        fail(f"--out = {str(path)!r}: a file is in the way; give a folder")
    return path


def fail(message: str, code: int = 2) -> None:
    """Print one line to stderr and exit with ``code``."""
    err_console.print(f"tankersim: error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def clean_errors(fn: F) -> F:
    """Turn scenario errors into one line on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ScenarioError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted", code=130)

    return wrapper  # type: ignore[return-value]


def _version_callback(value: bool) -> None:
    if value:
        out_console.print(f"tankersim {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Simulate tanker shuttles and test claims about oil deliveries."""


@app.command()
@clean_errors
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
    routes: Annotated[
        bool,
        typer.Option(
            "--routes/--no-routes",
            help="Also find every leg's sea route (ports on land or cut off from the sea fail).",
        ),
    ] = True,
) -> None:
    """Check scenario files without running them (exit status 2 on the first bad file)."""
    from sim.core.routes import build_route_table

    for path in scenarios:
        sc = load_scenario(path)
        if routes:
            build_route_table(sc, file=str(path))
        out_console.print(
            f"{path}: ok ({sc.name}, {sc.n_ships} ships, {sc.window.days} days, "
            f"{len(sc.discharge)} discharge port(s))",
            markup=False,
            highlight=False,
        )


@app.command()
@clean_errors
def run(
    scenario: ScenarioArg,
    seed: SeedOpt = None,
    replication: Annotated[
        int, typer.Option(min=0, help="Replication number: the same streams as in `mc`.")
    ] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder (default: runs/<scenario name>)."),
    ] = None,
    events_format: Annotated[
        str, typer.Option("--events-format", help="Event log format: parquet or csv.")
    ] = "parquet",
    draw_map: Annotated[
        bool, typer.Option("--map/--no-map", help="Draw the map of routes and voyages.")
    ] = True,
    with_tracks: Annotated[
        bool,
        typer.Option("--tracks/--no-tracks", help="Write ship tracks (CSV and GeoJSON)."),
    ] = True,
    track_interval_h: Annotated[
        float, typer.Option(min=0.01, help="Hours between track positions.")
    ] = 1.0,
) -> None:
    """Run one replication of a scenario, print its summary and write its outputs.

    Writes to OUT: scenario.resolved.toml, manifest.json, events.(parquet|csv), summary.json,
    ships.csv, berths.csv, products.csv, routes.geojson, tracks.csv and tracks.geojson (ship
    positions every --track-interval-h hours, like AIS data) and map.png / map.svg.
    """
    from sim.api import run as run_api
    from sim.outputs.report import print_run_summary, write_geo, write_run

    if events_format not in ("parquet", "csv"):
        fail(f"--events-format = {events_format!r}: choose parquet or csv")
    result = run_api(scenario, seed=seed, replication=replication)
    out_dir = _out_dir(out, Path("runs") / result.scenario.name)
    written = write_run(result, out_dir, scenario_path=str(scenario), events_format=events_format)
    written += write_geo(
        result,
        out_dir,
        draw_map=draw_map,
        with_tracks=with_tracks,
        interval_h=track_interval_h,
    )
    print_run_summary(result, out_console)
    out_console.print(f"\nWrote {len(written)} files to {out_dir}/", highlight=False)


@app.command()
@clean_errors
def routes(
    scenario: ScenarioArg,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: runs/<scenario name>-routes).")
    ] = None,
    draw_map: Annotated[bool, typer.Option("--map/--no-map", help="Draw the route map.")] = True,
) -> None:
    """Print each leg (nm, hours at each class's speeds, straits and locks) and write GeoJSON.

    Writes OUT/routes.geojson, OUT/routes.csv and OUT/map.png / map.svg.
    """
    import json

    from sim.analysis.tracks import routes_geojson
    from sim.api import prepare
    from sim.outputs.files import write_provenance
    from sim.outputs.report import print_route_table, route_table

    sc, table, _ = prepare(scenario)
    out_dir = _out_dir(out, Path("runs") / f"{sc.name}-routes")
    out_dir.mkdir(parents=True, exist_ok=True)
    legs = route_table(sc, table)
    print_route_table(legs, sc, out_console)
    legs.to_csv(out_dir / "routes.csv", index=False)
    write_provenance(out_dir, sc, scenario_path=str(scenario), seed=sc.seed, command="routes")
    (out_dir / "routes.geojson").write_text(json.dumps(routes_geojson(table, sc)), encoding="utf-8")
    if draw_map:
        from sim.outputs.maps import plot_map

        plot_map(sc, table, out_dir / "map")
    out_console.print(
        f"Wrote routes.csv, routes.geojson{' and the map' if draw_map else ''} to {out_dir}/",
        highlight=False,
    )


@app.command(name="map")
@clean_errors
def map_(
    run_dir: Annotated[
        Path, typer.Argument(help="Output folder of `tankersim run`.", file_okay=False)
    ],
    out: Annotated[
        Path | None, typer.Option(help="Base name of the map files (default: RUN_DIR/map).")
    ] = None,
    track_interval_h: Annotated[
        float, typer.Option(min=0.01, help="Hours between track positions.")
    ] = 1.0,
) -> None:
    """Draw the map of a run: coastline, ports, routes and the ships' voyages (PNG and SVG)."""
    import pandas as pd

    from sim.analysis.tracks import tracks
    from sim.api import prepare
    from sim.outputs.maps import plot_map

    resolved = run_dir / "scenario.resolved.toml"
    if not resolved.is_file():
        fail(f"{run_dir}: no scenario.resolved.toml: not the output folder of `tankersim run`")
    events_path = next(
        (p for p in (run_dir / "events.parquet", run_dir / "events.csv") if p.is_file()), None
    )
    if events_path is None:
        fail(f"{run_dir}: no events.parquet or events.csv")
        return
    sc, table, _ = prepare(resolved)
    if events_path.suffix == ".parquet":
        events = pd.read_parquet(events_path)
    else:
        from sim.model.events import read_csv_events

        events = read_csv_events(events_path)
    tr = tracks(events, sc, table, interval_h=track_interval_h)
    written = plot_map(sc, table, out if out is not None else run_dir / "map", tracks=tr)
    out_console.print("Wrote " + ", ".join(str(p) for p in written), highlight=False)


@app.command()
@clean_errors
def mc(
    scenario: ScenarioArg,
    n: Annotated[
        int, typer.Option("-n", "--replications", min=1, help="Number of replications.")
    ] = 10000,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: runs/<scenario name>-mc).")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue an interrupted batch in --out, running only what is missing."
        ),
    ] = False,
    min_matches: Annotated[
        int,
        typer.Option(min=1, help="Replications to keep when conditioning on the claimed visits."),
    ] = 200,
    plots: Annotated[
        bool, typer.Option("--plots/--no-plots", help="Draw the plots (PNG and SVG).")
    ] = True,
) -> None:
    """Run N replications, print the plausibility verdict, and write data, verdict and plots.

    Per-replication results stream to OUT/parts as they finish; an interrupted batch keeps
    them and continues with --resume. Replication R equals `tankersim run --replication R`.
    Writes replications.parquet/.csv, daily.parquet, verdict.json, verdict.md, manifest.json,
    scenario.resolved.toml and plots (delivered, trips, delivered_vs_visits, cumulative,
    gantt) as PNG and SVG.
    """
    from sim.api import run as run_api
    from sim.api import run_mc

    _check_executor(executor, scheduler)
    sc = load_scenario(scenario)
    out_dir = _out_dir(out, Path("runs") / f"{sc.name}-mc")
    with _progress_bar(rate=True) as bar:
        task = bar.add_task("replications", total=n, rate="")
        started = time.perf_counter()

        def tick(k: int) -> None:
            bar.advance(task, k)
            done = bar.tasks[0].completed
            rate = done / max(1e-9, time.perf_counter() - started)
            bar.update(task, rate=f"{rate:,.0f}/s")

        try:
            result = run_mc(
                scenario,
                n=n,
                seed=seed,
                out=out_dir,
                executor=executor,  # type: ignore[arg-type]
                workers=workers,
                scheduler=scheduler,
                resume=resume,
                min_matches=min_matches,
                progress=tick,
            )
        except KeyboardInterrupt:
            from sim.runner.pipeline import finished

            saved = len(finished(out_dir / "parts").get(0, set()))
            fail(
                f"interrupted: {saved} of {n} replications are saved in {out_dir}/parts; "
                f"continue with: tankersim mc {scenario} -n {n} --out {out_dir} --resume",
                code=130,
            )
            return
    if plots:
        from sim.outputs.plots import plot_mc

        gantt = run_api(result.scenario, seed=result.seed, replication=0).events
        plot_mc(result, out_dir / "plots", gantt_events=gantt)
    print_verdict(result.verdict, out_console)
    out_console.print(
        f"\n{len(result.replications)} replications ({result.ran} run now, "
        f"{result.elapsed_s:.1f} s); results in {out_dir}/",
        highlight=False,
    )


class LazyProgress:
    """A rich progress bar that appears when the first work is done, so that errors found
    while preparing (a bad sweep point, a port on land) print alone on stderr."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.started = False

    def __enter__(self) -> LazyProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            self.progress.stop()

    def add_task(self, description: str, **kwargs: Any) -> Any:
        return self.progress.add_task(description, **kwargs)

    def advance(self, task: Any, k: int) -> None:
        if not self.started:
            self.progress.start()
            self.started = True
        self.progress.advance(task, k)

    def update(self, task: Any, **kwargs: Any) -> None:
        self.progress.update(task, **kwargs)

    @property
    def tasks(self) -> Any:
        return self.progress.tasks


def _progress_bar(rate: bool = False) -> LazyProgress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *([TextColumn("{task.fields[rate]}")] if rate else []),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    ]
    return LazyProgress(Progress(*columns, console=err_console))


@app.command()
@clean_errors
def sweep(
    scenario: ScenarioArg,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            help=(
                "KEY=low:high:num (evenly spaced), KEY=v1,v2,... (values) or KEY=low:high "
                "(a range, for --design lhs/sobol). KEY is a dotted scenario key, e.g. "
                "fleet.large.capacity_bbl. Repeat for more inputs. Default: the scenario's "
                "\\[sweep] table."
            )
        ),
    ] = None,
    design: Annotated[
        str | None, typer.Option(help="grid (every combination), lhs or sobol.")
    ] = None,
    points: Annotated[
        int | None, typer.Option(min=1, help="Number of points of an lhs or sobol design.")
    ] = None,
    n: Annotated[
        int | None,
        typer.Option("-n", "--replications", min=1, help="Replications per point (default 500)."),
    ] = None,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: runs/<scenario name>-sweep).")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue an interrupted sweep; finished points are skipped."
        ),
    ] = False,
    min_matches: Annotated[
        int | None,
        typer.Option(
            min=1, help="With --halfwidth -1: replications each point keeps when conditioning."
        ),
    ] = None,
    halfwidth: Annotated[
        int | None,
        typer.Option(
            min=-1,
            help=(
                "Condition every point on observed visits within claimed ± this (default: the "
                "\\[sweep] table's, else 2); -1 lets each point widen its own window."
            ),
        ),
    ] = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Draw the sweep plots.")] = True,
) -> None:
    """Run a parameter sweep: N replications at every point, common random numbers throughout.

    Every point is validated as a full scenario before anything runs. Writes summary.csv (per
    point: the inputs, P(claim | claimed visits) with its interval, medians), sweep.parquet (one
    row per point and replication), frontier.csv (two inputs on a grid), points/pNNNNN.toml (each
    point as a scenario: `tankersim mc` on it reproduces the point), and plots/sweep.png|svg.
    """
    from sim.runner.sweep import DESIGNS, parse_vary, run_sweep

    _check_executor(executor, scheduler)
    if design is not None and design not in DESIGNS:
        fail(f"--design = {design!r}: choose one of {', '.join(DESIGNS)}")
    dims = [parse_vary(v) for v in vary] if vary else None
    sc = load_scenario(scenario)
    out_dir = _out_dir(out, Path("runs") / f"{sc.name}-sweep")
    with _progress_bar() as bar:
        task = bar.add_task("replications", total=None)

        def planned(k: int) -> None:
            per = n if n is not None else (sc.sweep.replications if sc.sweep else 500)
            bar.update(task, total=k * per, description=f"{k} points")

        try:
            result = run_sweep(
                scenario,
                dims=dims,
                design_kind=design,
                n_points=points,
                n=n,
                seed=seed,
                out=out_dir,
                executor=executor,  # type: ignore[arg-type]
                workers=workers,
                scheduler=scheduler,
                resume=resume,
                min_matches=min_matches,
                halfwidth="spec" if halfwidth is None else (None if halfwidth < 0 else halfwidth),
                progress=lambda k: bar.advance(task, k),
                on_plan=planned,
            )
        except KeyboardInterrupt:
            fail(
                f"interrupted: finished blocks are saved in {out_dir}/parts; continue with the "
                "same command and --resume",
                code=130,
            )
            return
    if plots:
        from sim.outputs.plots import plot_sweep

        plot_sweep(result, out_dir / "plots")
    _print_sweep(result)
    out_console.print(
        f"\n{len(result.summary)} points ({result.ran} replications run now); "
        f"results in {out_dir}/",
        highlight=False,
    )


@app.command()
@clean_errors
def sensitivity(
    scenario: ScenarioArg,
    method: Annotated[
        str, typer.Option(help="sobol (first-order and total indices) or morris.")
    ] = "sobol",
    base_samples: Annotated[
        int,
        typer.Option(
            "--samples",
            min=2,
            help="SALib's N: Sobol' runs N x (factors + 2) points, Morris N x (factors + 1).",
        ),
    ] = 128,
    n: Annotated[
        int, typer.Option("-n", "--replications", min=1, help="Replications per design point.")
    ] = 4,
    grouping: Annotated[
        str,
        typer.Option(
            "--factors",
            help=(
                "coarse (one factor per unknown, e.g. the ship capacity of every class) or "
                "keys (one factor per scenario key)."
            ),
        ),
    ] = "coarse",
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: runs/<scenario name>-sensitivity).")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue an interrupted analysis in --out."),
    ] = False,
    plots: Annotated[
        bool, typer.Option("--plots/--no-plots", help="Draw the ranked bar chart.")
    ] = True,
) -> None:
    """Rank the scenario's uncertain inputs by their effect on the verdict (SALib).

    Each factor is fixed at a quantile (1-99 %) of its own distribution for a whole
    replication. Outputs: barrels delivered, trips, barrels scaled to the claimed visits and the
    share of replications where those reach the claim. Writes indices.csv (with 95 % intervals
    and ranks), samples.parquet, manifest.json and plots/sensitivity.png|svg.
    """
    from sim.outputs.files import write_provenance
    from sim.runner.sensitivity import run_sensitivity

    if method not in ("sobol", "morris"):
        fail(f"--method = {method!r}: choose sobol or morris")
    if grouping not in ("coarse", "keys"):
        fail(f"--factors = {grouping!r}: choose coarse or keys")
    _check_executor(executor, scheduler)
    sc = load_scenario(scenario)
    out_dir = _out_dir(out, Path("runs") / f"{sc.name}-sensitivity")
    with _progress_bar() as bar:
        task = bar.add_task("replications", total=None)
        try:
            result = run_sensitivity(
                scenario,
                method=method,  # type: ignore[arg-type]
                base_samples=base_samples,
                replications=n,
                grouping=grouping,  # type: ignore[arg-type]
                seed=seed,
                executor=executor,  # type: ignore[arg-type]
                workers=workers,
                scheduler=scheduler,
                out=out_dir,
                resume=resume,
                progress=lambda k: bar.advance(task, k),
                on_plan=lambda total: bar.update(task, total=total),
            )
        except KeyboardInterrupt:
            fail(
                f"interrupted: finished design points are saved in {out_dir}/parts; continue "
                "with the same command and --resume",
                code=130,
            )
            return
    out_dir.mkdir(parents=True, exist_ok=True)
    result.indices.to_csv(out_dir / "indices.csv", index=False)
    result.samples.to_parquet(out_dir / "samples.parquet", index=False)
    write_provenance(
        out_dir,
        result.base,
        scenario_path=str(scenario),
        seed=sc.seed if seed is None else seed,
        command="sensitivity",
        method=method,
        base_samples=base_samples,
        replications_per_point=n,
        design_points=len(result.samples),
        factors={f.name: [k for k, _ in f.inputs] for f in result.factors},
    )
    if plots:
        from sim.outputs.plots import plot_sensitivity

        plot_sensitivity(result, out_dir / "plots")
    key, conf = ("ST", "ST_conf") if method == "sobol" else ("mu_star", "mu_star_conf")
    for output in ("p_claim", "delivered_bbl"):
        d = result.indices[result.indices["output"] == output]
        if key not in d or d[key].isna().all():
            continue
        t = Table(title=f"Sensitivity of {output} ({method})", title_justify="left")
        t.add_column("rank", justify="right")
        t.add_column("factor")
        t.add_column(key, justify="right")
        t.add_column("95% interval", justify="right")
        if method == "sobol":
            t.add_column("S1", justify="right")
        for row in d.sort_values(key, ascending=False).to_dict(orient="records"):
            cells = [str(row["rank"]), str(row["factor"]), f"{row[key]:.3g}", f"±{row[conf]:.2g}"]
            if method == "sobol":
                cells.append(f"{row['S1']:.3g}")
            t.add_row(*cells)
        out_console.print(t)
    out_console.print(
        f"{len(result.samples)} design points x {n} replications; results in {out_dir}/",
        highlight=False,
    )


def _num(v: Any) -> str:
    """A swept value for people: 20,000 rather than 2e+04."""
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return str(v)
    if v == round(v) and abs(v) < 1e15:
        return f"{round(v):,}"
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"


def _print_sweep(result: Any) -> None:
    summary = result.summary
    basis = result.base.claims.basis
    keys = [d.key for d in result.dimensions]
    t = Table(title="P(delivered >= claim | claimed visits) per point", title_justify="left")
    for k in keys:
        t.add_column(k.split(".")[-1] if len(keys) > 2 else k, justify="right")
    for col in ("P(claim)", "95% interval", "matches", "verdict", f"median bbl {basis}"):
        t.add_column(col, justify="right")
    rows = summary if len(summary) <= 40 else summary.head(40)
    for row in rows.to_dict(orient="records"):
        cells = [_num(row[k]) for k in keys]
        if "p_claim" in row and row["matches"] == 0:
            cells += ["-", "-", "0", "no matches"]
        elif "p_claim" in row:
            cells += [
                f"{row['p_claim']:.0%}",
                f"{row['p_claim_lo']:.0%}-{row['p_claim_hi']:.0%}",
                f"{row['matches']} (±{row['halfwidth']})",
                str(row["verdict"]) + ("" if row.get("reliable", True) else " (too few)"),
            ]
        else:
            cells += ["-", "-", "-", "-"]
        cells.append(f"{row['barrels_p50']:,.0f}")
        t.add_row(*cells)
    out_console.print(t)
    if len(summary) > 40:
        out_console.print(f"(first 40 of {len(summary)} points; all in summary.csv)")
    if result.frontier is not None:
        fr = result.frontier
        x_col = next(c for c in fr.columns if c.endswith("_at_p50"))
        out_console.print("\n[bold]Plausibility frontier[/bold] (where P(claim) crosses 50 %):")
        for row in fr.to_dict(orient="records"):
            where = ", ".join(f"{k} = {_num(row[k])}" for k in keys[1:])
            if row["status"] == "crosses":
                op = ">=" if row["direction"] == "rising" else "<="
                said = f"more likely than not for {keys[0]} {op} {_num(row[x_col])}"
            elif row["status"] == "above everywhere":
                said = f"more likely than not at every {keys[0]} tried"
            elif row["status"] == "below everywhere":
                said = f"less likely than not at every {keys[0]} tried"
            else:
                said = "too few replications show the claimed visits to tell"
            out_console.print(f"  {where}: {said}", highlight=False)


def print_verdict(v: dict[str, Any], console: Console) -> None:
    """Print the verdict's headline and its key numbers."""
    console.print(f"\n[bold]Verdict: {v['headline']['word']}[/bold]")
    console.print(v["headline"]["text"], highlight=False)
    t = Table(title="Across replications", title_justify="left")
    for col in ("quantity", "5%", "median", "95%"):
        t.add_column(col, justify="left" if col == "quantity" else "right")
    names = ("trips", "observed_visits", "loaded_bbl", "delivered_bbl", "observed_bbl")
    for name in (*names, "mean_parcel_bbl"):
        d = v["distributions"][name]
        t.add_row(name, f"{d['p05']:,.0f}", f"{d['p50']:,.0f}", f"{d['p95']:,.0f}")
    console.print(t)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        sys.exit(0)


__all__ = ["app", "main"]
