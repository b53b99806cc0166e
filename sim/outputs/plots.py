"""Plots of Monte Carlo results, sweeps, sensitivity and single runs.

Every ``*_figure`` function takes data (tidy DataFrames and results computed by the analysis
layer) and an optional matplotlib ``ax``, and returns a :class:`matplotlib.figure.Figure`.
Figures are built with matplotlib's object-oriented API on an Agg canvas, never through
pyplot, so plotting never changes the global backend (a notebook's inline backend stays as it
is) and needs no display. Saving is separate: :func:`save_figure` writes PNG and SVG;
:func:`plot_mc`, :func:`plot_sweep` and :func:`plot_sensitivity` draw and save a result's set.
matplotlib is imported lazily, so ``import sim`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from sim.core.config import KEY_WORDS, Scenario
from sim.core.defaults import MIN_MATCHES_WARN
from sim.core.units import cap_pro_rata_bbl
from sim.model.events import activities

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FORMATS = ("png", "svg")
SEEN_COLOUR = "#e08e0b"
"""Colour of the seen visits' barrels."""
CLAIM_COLOUR = "#c0392b"
CAP_COLOUR = "#7f8c8d"
MAIN = "#2c6fbb"


def plain_text(fn: F) -> F:
    """Draw with ``text.parse_math`` off: a ``$`` in a scenario, ship or port name is text,
    never the start of a mathtext formula that would fail when the figure is saved."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import matplotlib as mpl

        with mpl.rc_context({"text.parse_math": False}):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _new(
    figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **kw: Any
) -> tuple[Figure, Any]:
    """A figure on its own Agg canvas (no pyplot) and its axes, as ``plt.subplots`` gives them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Constrained layout makes room for titles, labels and legends (also those placed outside
    # the axes) while drawing, so a save draws the figure once (no "tight" bounding box pass).
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, **kw)
    return fig, axes


def _fig_ax(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Any]:
    """``ax`` and its figure, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    return _new(figsize)


AxesArg = Any
"""Where a figure draws: None (a new figure), one matplotlib ``Axes``, or a sequence (a list,
a tuple or the array ``subplots`` returns, nested or not) of them for a figure of panels."""


def flat_axes(ax: AxesArg) -> list[Axes]:
    """One ``Axes``, or a sequence or array of them (nested or not), as a flat list."""
    if isinstance(ax, np.ndarray):
        return list(ax.ravel())
    if isinstance(ax, list | tuple):
        return [a for item in ax for a in flat_axes(item)]
    return [ax]


def given_axes(ax: AxesArg, n: int, what: str) -> tuple[Figure, list[Axes]]:
    """The first ``n`` of the axes given for a figure of ``n`` panels, and their figure;
    one line of ValueError when fewer are given."""
    axes = flat_axes(ax)
    if len(axes) < n:
        raise ValueError(
            f"the {what} figure draws {n} panel{'s' if n != 1 else ''}: give {n} axes "
            f"(got {len(axes)})"
        )
    return axes[0].figure, axes[:n]  # type: ignore[return-value]


def _panels(
    ax: AxesArg,
    n: int,
    what: str,
    figsize: tuple[float, float],
    nrow: int,
    ncol: int,
    **kw: Any,
) -> tuple[Figure, list[Axes]]:
    """``n`` panels to draw on: the axes given (:func:`given_axes`), or a new figure's
    ``nrow x ncol`` grid (row by row), the cells past ``n`` hidden."""
    if ax is not None:
        return given_axes(ax, n, what)
    fig, grid = _new(figsize, nrow, ncol, squeeze=False, **kw)
    cells = [a for row in grid for a in row]
    for a in cells[n:]:
        a.set_visible(False)
    return fig, cells[:n]


@plain_text
def save_figure(
    fig: Figure,
    out_base: Path,
    formats: Sequence[str] = FORMATS,
    *,
    dpi: int = 130,
    tight: bool = False,
) -> list[Path]:
    """Write ``fig`` as ``out_base.<format>`` for every format; return the paths.

    Each format draws the figure once (figures use constrained layout; ``tight=True`` adds a
    pass that crops to the drawn content). SVG keeps text as text and gets a fixed hash salt,
    so the same figure gives the same file; dense layers are rasterised where they are drawn.
    """
    import matplotlib as mpl

    from sim.outputs.files import atomic_path

    out_base = Path(out_base)
    out_base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tankersim"}):
        for fmt in formats:
            p = out_base.with_suffix(f".{fmt}")
            metadata = {"Software": "tankersim"} if fmt == "png" else {"Date": None}
            with atomic_path(p) as tmp:
                fig.savefig(
                    tmp,
                    dpi=dpi,
                    bbox_inches="tight" if tight else None,
                    metadata=metadata,
                    format=fmt,
                )
            paths.append(p)
    return paths


def _millions(x: float, _pos: int | None = None) -> str:
    return f"{x / 1e6:.2f}M"


@plain_text
def barrels_figure(
    reps: pd.DataFrame,
    scenario: Scenario,
    *,
    conditional: pd.DataFrame | None = None,
    ax: AxesArg = None,
) -> Figure:
    """The headline finding: barrels loaded by the fleet and barrels carried by the seen
    visits, against the claim.

    Left, histograms: every replication's fleet barrels (light), and among the replications
    whose seen visits match the claim (``conditional``, from
    :func:`sim.analysis.verdict.conditioned_replications`) the fleet's barrels (dark) and the
    seen visits' barrels (orange outline), with the two probabilities of the verdict written on
    the panel. Right, the same as cumulative shares. ``claims.basis`` picks loaded or delivered
    barrels for the fleet.

    ``ax``: one axes gets the histograms alone (with a title), two axes both panels; None: a
    new figure of both panels.
    """
    from matplotlib.ticker import FuncFormatter

    claim = scenario.claims.barrels
    basis = scenario.claims.basis
    col = f"{basis}_bbl"
    ax2: Any
    if ax is None:
        fig, (ax1, ax2) = _new((11, 4.4), 1, 2)
    else:
        given = flat_axes(ax)
        fig, (ax1, *rest) = given_axes(given, max(1, min(len(given), 2)), "barrels")
        ax2 = rest[0] if rest else None
    x = reps[col].to_numpy(dtype=float)
    cond = conditional if conditional is not None and len(conditional) else None
    seen = None if cond is None else cond["observed_bbl"].to_numpy(dtype=float)
    fleet = None if cond is None else cond[col].to_numpy(dtype=float)
    match = "seen visits as claimed"
    if cond is not None:
        lo, hi = int(cond["observed_visits"].min()), int(cond["observed_visits"].max())
        match = f"{lo} seen visits" if lo == hi else f"{lo}-{hi} seen visits"
    top = float(np.nanpercentile(x, 99)) if len(x) else 1.0
    if claim is not None:
        top = max(top, 1.3 * claim)
    bins = np.linspace(0.0, top, 41)

    def share(v: np.ndarray) -> np.ndarray:
        return np.full(len(v), 1.0 / max(len(v), 1))  # each group sums to 1

    ax1.hist(np.clip(x, 0, top), bins=bins, weights=share(x), color=MAIN, alpha=0.35,
             label=f"fleet, all replications (n={len(x):,})")  # fmt: skip
    if fleet is not None and seen is not None:
        k = len(fleet)
        ax1.hist(np.clip(fleet, 0, top), bins=bins, weights=share(fleet), color="#1a3f6b",
                 alpha=0.75, label=f"fleet, {match} (n={k:,})")  # fmt: skip
        ax1.hist(np.clip(seen, 0, top), bins=bins, weights=share(seen), histtype="step",
                 color=SEEN_COLOUR, lw=2, label=f"seen visits only, {match} (n={k:,})")  # fmt: skip
        if claim is not None:
            p_fleet, p_seen = float(np.mean(fleet >= claim)), float(np.mean(seen >= claim))
            ax1.text(
                0.98, 0.97,
                f"{k:,} replications with {match}:\n"
                f"P(fleet {basis} >= claim) = {p_fleet:.0%}\n"
                f"P(seen visits carried >= claim) = {p_seen:.0%}",
                transform=ax1.transAxes, ha="right", va="top", fontsize=8,
                bbox={"boxstyle": "round", "fc": "white", "ec": "#999999", "alpha": 0.9},
            )  # fmt: skip
    ax1.set_xlabel(f"barrels in the window [bbl] (the last bin holds all above {top / 1e6:.1f}M)")
    ax1.set_ylabel("share of the group's replications")
    for a in (ax1, ax2):
        if a is None:
            continue
        a.xaxis.set_major_formatter(FuncFormatter(_millions))
        if claim is not None:
            a.axvline(claim, color=CLAIM_COLOUR, lw=2, ls="--", label=f"claim: {claim:,.0f} bbl")
        a.grid(alpha=0.3)
    title = (
        f"{scenario.name}: barrels of the fleet and of the seen visits, "
        f"{scenario.window.start} to {scenario.window.end}"
    )
    if ax2 is None:
        ax1.legend(fontsize=7, loc="upper left")
        ax1.set_title(title, fontsize=9)
        return fig

    def ecdf(values: np.ndarray, **kw: Any) -> None:
        xs = np.sort(values)
        ax2.step(xs, np.arange(1, len(xs) + 1) / len(xs), where="post", **kw)

    ecdf(x, color=MAIN, alpha=0.6, label="fleet, all replications")
    if fleet is not None and seen is not None:
        ecdf(fleet, color="#1a3f6b", label=f"fleet, {match}")
        ecdf(seen, color=SEEN_COLOUR, label=f"seen visits only, {match}")
    ax2.set_xlabel("barrels in the window [bbl]")
    ax2.set_ylabel("share of replications at or below")
    ax2.set_ylim(0, 1)
    ax2.set_xlim(0, top)
    ax1.legend(fontsize=7, loc="upper left")
    ax2.legend(fontsize=7, loc="lower right")
    if ax is None:
        fig.suptitle(title)
    return fig


@plain_text
def trips_figure(reps: pd.DataFrame, scenario: Scenario, *, ax: Axes | None = None) -> Figure:
    """Distribution of trips (loadings) and of observed visits, with the claimed visits."""
    fig, ax = _fig_ax(ax, (8, 4.2))
    lo = int(min(reps["trips"].min(), reps["observed_visits"].min()))
    hi = int(max(reps["trips"].max(), reps["observed_visits"].max()))
    values = np.arange(lo, hi + 1)
    for col, colour, label, shift in (
        ("trips", MAIN, "trips (loadings)", -0.2),
        ("observed_visits", "#e67e22", "observed visits", 0.2),
    ):
        counts = reps[col].value_counts().reindex(values, fill_value=0)
        ax.bar(values + shift, counts.to_numpy() / len(reps), width=0.4, color=colour, label=label)
    if scenario.claims.trips is not None:
        ax.axvline(
            scenario.claims.trips,
            color=CLAIM_COLOUR,
            lw=2,
            ls="--",
            label=f"claimed visits: {scenario.claims.trips}",
        )
    ax.set_xlabel("visits to the terminal in the window")
    ax.set_ylabel("share of replications")
    ax.set_title(f"{scenario.name}: trips and observed visits ({len(reps)} replications)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return fig


@plain_text
def scatter_figure(reps: pd.DataFrame, scenario: Scenario, *, ax: AxesArg = None) -> Figure:
    """Barrels loaded (or delivered) against observed visits and trips, with the claim.

    ``ax``: one axes gets the panel against observed visits alone (with a title), two axes
    both panels; None: a new figure of both panels.
    """
    from matplotlib.ticker import FuncFormatter

    if ax is None:
        fig, axes = _new((11, 4.4), 1, 2, sharey=True)
    else:
        given = flat_axes(ax)
        fig, axes = given_axes(given, max(1, min(len(given), 2)), "barrels against visits")
    rng = np.random.default_rng(0)  # jitter for display only
    for a, col, label in zip(
        axes, ("observed_visits", "trips"), ("observed visits", "trips (loadings)"), strict=False
    ):
        jitter = rng.uniform(-0.3, 0.3, len(reps))
        a.scatter(
            reps[col] + jitter,
            reps[f"{scenario.claims.basis}_bbl"],
            s=6,
            alpha=0.35,
            color=MAIN,
            lw=0,
            label="replications",
            rasterized=True,  # thousands of dots: pixels in the SVG, the rest stays vector
        )
        if scenario.claims.trips is not None and scenario.claims.barrels is not None:
            a.plot(
                [scenario.claims.trips],
                [scenario.claims.barrels],
                marker="*",
                ms=16,
                color=CLAIM_COLOUR,
                ls="none",
                label=f"claim: {scenario.claims.trips} visits, {scenario.claims.barrels:,.0f} bbl",
            )
            a.axhline(scenario.claims.barrels, color=CLAIM_COLOUR, lw=1, ls=":")
        a.set_xlabel(label)
        a.grid(alpha=0.3)
        a.yaxis.set_major_formatter(FuncFormatter(_millions))
    axes[0].set_ylabel(f"barrels {scenario.claims.basis} [bbl]")
    axes[0].legend(fontsize=8, loc="upper left")
    title = (
        f"{scenario.name}: barrels {scenario.claims.basis} against visits "
        f"({len(reps)} replications)"
    )
    if ax is None:
        fig.suptitle(title)
    elif len(axes) == 1:
        axes[0].set_title(title, fontsize=9)
    return fig


@plain_text
def fan_figure(
    fan: pd.DataFrame, scenario: Scenario, *, n_replications: int, ax: Axes | None = None
) -> Figure:
    """Cumulative barrels loaded (or delivered) over the window: median, 50 % and 90 % bands.

    ``fan`` has columns ``day, q05, q25, q50, q75, q95``
    (see :func:`sim.runner.pipeline.daily_fan`).
    """
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter

    q = fan[["q05", "q25", "q50", "q75", "q95"]].to_numpy().T
    days = fan["day"].to_numpy()
    dates: Any = [scenario.window.start + dt.timedelta(days=int(d) - 1) for d in days]
    fig, ax = _fig_ax(ax, (9, 4.6))
    ax.fill_between(dates, q[0], q[4], color=MAIN, alpha=0.18, label="5-95 %")
    ax.fill_between(dates, q[1], q[3], color=MAIN, alpha=0.35, label="25-75 %")
    ax.plot(dates, q[2], color="#1a3f6b", lw=2, label="median")
    cl = scenario.claims
    if cl.barrels is not None:
        ax.axhline(
            cl.barrels, color=CLAIM_COLOUR, lw=2, ls="--", label=f"claim: {cl.barrels:,.0f} bbl"
        )
    if cl.un_cap_bbl_per_year:
        cap = cap_pro_rata_bbl(cl.un_cap_bbl_per_year, np.asarray(days, dtype=float))
        ax.plot(
            dates,
            cap,
            color=CAP_COLOUR,
            lw=1.5,
            ls="-.",
            label=f"UN cap pro rata ({cl.un_cap_bbl_per_year:,.0f} bbl/yr)",
        )
    ax.yaxis.set_major_formatter(FuncFormatter(_millions))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.set_ylabel(f"cumulative barrels {cl.basis} [bbl]")
    ax.set_xlabel(f"date ({scenario.window.start.year})")
    ax.set_title(f"{scenario.name}: cumulative barrels {cl.basis} ({n_replications} replications)")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return fig


GANTT_GROUPS = {
    "sail_laden": ("#1f77b4", "sailing laden"),
    "sail_ballast": ("#aec7e8", "sailing in ballast"),
    "wait": ("#d62728", "waiting (queue, anchorage)"),
    "load": ("#2ca02c", "loading"),
    "discharge": ("#ff7f0e", "discharging"),
    "port": ("#9467bd", "in port (mooring, paperwork, lock)"),
    "idle": ("#dddddd", "idle (turnaround)"),
}


def _gantt_group(activity: str, cargo_bbl: float) -> str:
    if activity == "sail":
        return "sail_laden" if cargo_bbl > 0 else "sail_ballast"
    if activity in ("wait", "anchor"):
        return "wait"
    if activity in ("moor", "unmoor", "lock"):
        return "port"
    return activity


@plain_text
def gantt_figure(events: pd.DataFrame, scenario: Scenario, *, ax: Axes | None = None) -> Figure:
    """Each ship's sailing, waiting, loading, discharging and idle time in one replication."""
    import matplotlib.dates as mdates
    from matplotlib.patches import Patch

    act = activities(events, scenario.window.hours)
    ships = list(events["ship"].cat.categories)
    t0 = dt.datetime.combine(scenario.window.start, dt.time())
    fig, ax = _fig_ax(ax, (12, 0.42 * len(ships) + 1.8))
    for group, (colour, _) in GANTT_GROUPS.items():
        sel = act[
            [
                _gantt_group(a, c) == group
                for a, c in zip(act["activity"], act["cargo_bbl"], strict=True)
            ]
        ]
        for i, ship in enumerate(ships):
            s = sel[sel["ship"] == ship]
            if s.empty:
                continue
            starts = mdates.date2num([t0 + dt.timedelta(hours=float(h)) for h in s["start_h"]])
            widths = s["duration_h"].to_numpy() / 24.0
            ax.broken_barh(
                list(zip(starts, widths, strict=True)), (i - 0.4, 0.8), facecolors=colour, lw=0
            )
    ax.set_yticks(range(len(ships)), ships, fontsize=8)
    ax.invert_yaxis()
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.set_xlim(
        mdates.date2num(t0), mdates.date2num(t0 + dt.timedelta(hours=scenario.window.hours))
    )
    rep = int(events["replication"].iloc[0]) if len(events) else 0
    ax.set_title(f"{scenario.name}: what each ship did, replication {rep}")
    ax.set_xlabel(f"date ({scenario.window.start.year})")
    ax.legend(
        handles=[Patch(color=c, label=label) for c, label in GANTT_GROUPS.values()],
        fontsize=8,
        ncol=4,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
    )
    ax.grid(alpha=0.3, axis="x")
    return fig


@plain_text
def checks_figure(
    reps: pd.DataFrame, observables: Sequence[Any], scenario: Scenario, *, ax: AxesArg = None
) -> Figure:
    """The model checks: one panel per counted fact, the replications' histogram of the
    statistic with the reported number (dashed) and the share that agree with it.

    ``ax``: a sequence of one axes per counted fact (:func:`checks_count`), or None (a new
    figure, three panels a row)."""
    counted = [o for o in observables if o.measure != "ship_seen" and o.column in reps]
    n = max(1, len(counted))
    ncol = min(3, n)
    nrow = math.ceil(n / ncol)
    target = ax
    fig, panels = _panels(target, len(counted), "evidence", (4.3 * ncol, 3.1 * nrow), nrow, ncol)
    for ob, ax in zip(counted, panels, strict=True):
        x = reps[ob.column].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        agree = float(ob.holds(x).mean()) if len(x) else float("nan")
        ax.hist(x, bins=40, color=MAIN, alpha=0.7)
        ax.axvline(ob.target, color=CLAIM_COLOUR, lw=2, ls="--", label=f"reported {ob.reported()}")
        label = ob.row.id + ob.suffix
        ax.set_title(f"{label}\n{agree:.0%} of replications agree", fontsize=8)
        ax.set_xlabel(_CHECK_UNITS.get(ob.measure, ""), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    if target is None:
        fig.suptitle(f"{scenario.name}: the evidence against {len(reps)} replications", fontsize=10)
    return fig


def checks_count(reps: Any, observables: Sequence[Any]) -> int:
    """How many panels :func:`checks_figure` draws: the counted facts of the evidence whose
    statistic the replications' table (``reps``) carries."""
    return sum(o.measure != "ship_seen" and o.column in reps for o in observables)


_CHECK_UNITS = {
    "seen_visits": "visits seen",
    "distinct_seen": "distinct tankers seen",
    "seen_bbl": "barrels, seen visits [bbl]",
    "loaded_bbl": "barrels, all visits [bbl]",
    "share_designated": "share by UN-designated ships",
    "port_discharges": "tankers discharging",
}


def plot_mc(
    result: Any,
    out_dir: Path,
    *,
    conditional: pd.DataFrame | None = None,
    gantt_events: pd.DataFrame | None = None,
    observables: Sequence[Any] = (),
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Draw and save every Monte Carlo plot of a :class:`sim.runner.batch.McResult`.

    ``conditional`` is the replications the verdict conditions on; ``gantt_events`` an event
    log of one replication for the Gantt chart.
    """
    sc = result.scenario
    reps = result.table  # read a column at a time
    figures = {
        "barrels": barrels_figure(reps, sc, conditional=conditional),
        "trips": trips_figure(reps, sc),
        "barrels_vs_visits": scatter_figure(reps, sc),
        "cumulative": fan_figure(result.fan, sc, n_replications=len(reps)),
    }
    if gantt_events is not None:
        figures["gantt"] = gantt_figure(gantt_events, sc)
    if observables:
        figures["evidence"] = checks_figure(reps, observables, sc)
    paths: list[Path] = []
    for name, fig in figures.items():
        paths += save_figure(fig, out_dir / name, formats)
    return paths


# --------------------------------------------------------------------------- sweeps


def _axis(values: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """Numeric positions of a swept column, and tick labels when it is not numeric."""
    try:
        return values.astype(float).to_numpy(), None
    except (TypeError, ValueError):
        cats = list(dict.fromkeys(map(str, values)))
        return np.asarray([cats.index(str(v)) for v in values], dtype=float), cats


def _tick(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


_UNIT_SUFFIXES = (
    ("_bbl_per_h", "bbl/h"), ("_m3_per_h", "m³/h"), ("_bbl", "bbl"), ("_dwt", "dwt"),
    ("_days", "days"), ("_kn", "kn"), ("_nm", "nm"), ("_m3", "m³"), ("_h", "h"), ("_t", "t"),
)  # fmt: skip
_KEY_WORDS = KEY_WORDS


def axis_label(key: str) -> str:
    """A dotted scenario key in words, with its unit from the key's suffix.

    >>> axis_label("fleet.large.capacity_bbl"), axis_label("discharge.NAMPHO.share")
    ('capacity, class large [bbl]', 'share, port NAMPHO')
    >>> axis_label("observation.p_detect")
    'share of visits seen (detection probability)'
    """
    if key in _KEY_WORDS:
        return _KEY_WORDS[key]
    parts = key.split(".")
    last, unit = parts[-1], ""
    for suffix, u in _UNIT_SUFFIXES:
        if last.endswith(suffix):
            last, unit = last[: -len(suffix)], u
            break
    text = last.replace("_", " ")
    where = {"fleet": "class", "discharge": "port", "unknowns": "", "terminal": "terminal"}
    if len(parts) >= 3:
        text += f", {where.get(parts[0], parts[0])} {parts[1]}".rstrip()
    elif len(parts) == 2 and parts[0] == "terminal":
        text += ", terminal"
    return f"{text} [{unit}]" if unit else text


def _short(key: str) -> str:
    return axis_label(key)


def plot_sweep(result: Any, out_dir: Path, *, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Draw :func:`sweep_figure` and save it as ``out_dir/sweep.<format>``."""
    fig = sweep_figure(result)
    return [] if fig is None else save_figure(fig, out_dir / "sweep", formats)


def sweep_panels(result: Any) -> int:
    """How many panels :func:`sweep_figure` draws for a sweep: 1 for one input or a grid of
    two, one per value of the third input of a grid of three (at most 9), one per input of a
    design."""
    summary: pd.DataFrame = result.summary
    dims = [d.key for d in result.dimensions]
    if len(dims) == 1:
        return 1
    if _grid_like(summary, dims) and len(dims) in (2, 3):
        return 1 if len(dims) == 2 else min(9, summary[dims[2]].nunique())
    return len(dims)


def _grid_like(summary: pd.DataFrame, dims: list[str]) -> bool:
    return bool(
        all(summary.groupby(dims).size() == 1)
        and len(summary) == int(np.prod([summary[d].nunique() for d in dims]))
    )


@plain_text
def sweep_figure(result: Any, *, ax: AxesArg = None) -> Figure | None:
    """The plausibility of the claim across a sweep: line (1 input), heatmap with the 50 %
    contour and the frontier (2 inputs), small multiples (3 inputs), scatter (designs).
    ``None`` when the sweep states no claim to test.

    ``ax``: one axes for one input or a grid of two; a sequence of :func:`sweep_panels`
    axes otherwise (the figure's title is left to the caller's figure); None: a new figure."""
    from matplotlib import colormaps as mpl_colormaps

    target = ax
    summary: pd.DataFrame = result.summary
    dims = [d.key for d in result.dimensions]
    sc = result.base
    if "p_claim" not in summary:
        return None
    title_claim = (
        f"P({sc.claims.basis} >= {sc.claims.barrels:,.0f} bbl | {sc.claims.trips} observed visits)"
    )
    grid_like = _grid_like(summary, dims)
    if len(dims) == 1:
        x, labels = _axis(summary[dims[0]])
        order = np.argsort(x, kind="stable")
        p = summary["p_claim"].to_numpy()[order]
        lo = summary["p_claim_lo"].to_numpy()[order]
        hi = summary["p_claim_hi"].to_numpy()[order]
        fig, (ax,) = _panels(target, 1, "sweep", (8, 4.4), 1, 1)
        ax.fill_between(x[order], lo, hi, color=MAIN, alpha=0.25, label="95 % Wilson interval")
        ax.plot(x[order], p, "o-", color=MAIN, label=title_claim)
        ax.axhline(0.5, color=CAP_COLOUR, ls=":", label="50 %")
        base = result.baseline.get(dims[0])
        if base is not None and labels is None:
            ax.axvline(base, color=CLAIM_COLOUR, ls="--", label=f"baseline: {base:,.4g}")
        if labels is not None:
            ax.set_xticks(range(len(labels)), labels, rotation=20)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(_short(dims[0]))
        ax.set_ylabel("probability")
        ax.set_title(f"{sc.name}: plausibility of the claim against {_short(dims[0])}", fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        return fig

    if grid_like and len(dims) in (2, 3):
        x_key, y_key = dims[0], dims[1]
        panels = (
            [(None, summary)]
            if len(dims) == 2
            else [(v, g) for v, g in summary.groupby(dims[2], sort=True)][:9]
        )
        ncol = min(3, len(panels))
        nrow = math.ceil(len(panels) / ncol)
        fig, cells = _panels(
            target, len(panels), "sweep", (5.2 * ncol + 1.2, 4.3 * nrow), nrow, ncol
        )
        mesh = None
        for (third, g), ax in zip(panels, cells, strict=True):
            xv, xl = _axis(g[x_key])
            yv, yl = _axis(g[y_key])
            ux, uy = np.unique(xv), np.unique(yv)
            z = np.full((len(uy), len(ux)), np.nan)
            rows_i, cols_i = np.searchsorted(uy, yv), np.searchsorted(ux, xv)
            z[rows_i, cols_i] = g["p_claim"].to_numpy()
            few = np.zeros_like(z, dtype=bool)
            if "reliable" in g:
                few[rows_i, cols_i] = ~g["reliable"].astype(bool).to_numpy()
            ix, iy = np.arange(len(ux)), np.arange(len(uy))
            # cells resting on too few matching replications are grey, not a colour that
            # would read as a confident probability; the contour ignores them too
            shown = np.ma.masked_invalid(np.where(few, np.nan, z))
            cmap = mpl_colormaps["RdYlBu"].with_extremes(bad="0.82")
            mesh = ax.pcolormesh(ix, iy, shown, cmap=cmap, vmin=0, vmax=1, shading="nearest")
            zc = np.where(few, np.nan, z)
            if (
                len(ux) > 1
                and len(uy) > 1
                and np.nanmin(zc, initial=1.0) < 0.5 < np.nanmax(zc, initial=0.0)
            ):
                cs = ax.contour(ix, iy, np.ma.masked_invalid(zc), levels=[0.5], colors="k",
                                linewidths=2)  # fmt: skip
                ax.clabel(cs, fmt={0.5: "50 %"}, fontsize=8)
            from matplotlib.patches import Rectangle

            for (j, i), is_few in np.ndenumerate(few):
                if is_few:  # too few matching replications: hatched, not to be read alone
                    ax.add_patch(
                        Rectangle((i - 0.5, j - 0.5), 1, 1, fill=False, hatch="///", lw=0, ec="0.4")
                    )
            if len(ux) * len(uy) <= 64:
                for (j, i), val in np.ndenumerate(z):
                    if np.isfinite(val):
                        thin = bool(few[j, i])
                        ax.text(
                            i,
                            j,
                            f"({val:.0%})" if thin else f"{val:.0%}",
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="0.35" if thin else "white" if abs(val - 0.5) > 0.3 else "black",
                        )
            ax.set_xticks(ix, xl if xl else [_tick(v) for v in ux], rotation=30, fontsize=8)
            ax.set_yticks(iy, yl if yl else [_tick(v) for v in uy], fontsize=8)
            bx, by = result.baseline.get(x_key), result.baseline.get(y_key)
            if bx is not None and by is None and xl is None and len(ux) > 1:
                ax.axvline(
                    np.interp(bx, ux, ix),
                    color=CLAIM_COLOUR,
                    ls="--",
                    lw=1.5,
                    label=f"baseline {_short(x_key)} (mean {_tick(bx)})",
                )
                ax.legend(fontsize=7, loc="upper left")
            if by is not None and bx is None and yl is None and len(uy) > 1:
                ax.axhline(
                    np.interp(by, uy, iy),
                    color=CLAIM_COLOUR,
                    ls="--",
                    lw=1.5,
                    label=f"baseline {_short(y_key)} (mean {_tick(by)})",
                )
                ax.legend(fontsize=7, loc="upper left")
            if bx is not None and by is not None and xl is None and yl is None:
                px = np.interp(bx, ux, ix) if len(ux) > 1 else 0.0
                py = np.interp(by, uy, iy) if len(uy) > 1 else 0.0
                ax.plot(
                    px,
                    py,
                    marker="*",
                    ms=16,
                    color=CLAIM_COLOUR,
                    mec="white",
                    ls="none",
                    label="baseline (means of its ranges)",
                )
                ax.legend(fontsize=7, loc="upper left")
            ax.set_xlabel(_short(x_key))
            ax.set_ylabel(_short(y_key))
            if third is not None:
                ax.set_title(f"{_short(dims[2])} = {third}", fontsize=9)
        if mesh is not None:
            fig.colorbar(mesh, ax=fig.axes if target is None else cells, label=title_claim,
                         shrink=0.85)  # fmt: skip
        heading = (
            f"{sc.name}: where the claim is plausible (line: 50 %; grey, value in brackets: "
            f"under {MIN_MATCHES_WARN} matching replications, too few to colour)"
        )
        if target is None:
            fig.suptitle(heading, fontsize=11)
        elif third is None:
            cells[0].set_title(heading, fontsize=8)
        return fig

    # Space-filling designs (or more inputs): one panel per input, points coloured by P.
    n = len(dims)
    ncol = min(3, n)
    nrow = math.ceil(n / ncol)
    fig, cells = _panels(target, n, "sweep", (4.6 * ncol, 3.8 * nrow), nrow, ncol)
    for key, ax in zip(dims, cells, strict=True):
        xv, xl = _axis(summary[key])
        ax.scatter(xv, summary["p_claim"], s=14, color=MAIN, alpha=0.7)
        ax.axhline(0.5, color=CAP_COLOUR, ls=":")
        base = result.baseline.get(key)
        if base is not None and xl is None:
            ax.axvline(base, color=CLAIM_COLOUR, ls="--", lw=1)
        if xl:
            ax.set_xticks(range(len(xl)), xl, rotation=20)
        ax.set_xlabel(_short(key), fontsize=8)
        ax.set_ylabel("P(claim | visits)", fontsize=8)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    if target is None:
        fig.suptitle(f"{sc.name}: {title_claim} at {len(summary)} design points", fontsize=10)
    return fig


def plot_sensitivity(result: Any, out_dir: Path, *, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Draw :func:`sensitivity_figure` (and, for Sobol', :func:`convergence_figure`) and save
    them as ``out_dir/sensitivity.<format>`` and ``out_dir/convergence.<format>``."""
    paths: list[Path] = []
    fig = sensitivity_figure(result)
    if fig is not None:
        paths += save_figure(fig, out_dir / "sensitivity", formats)
    conv = convergence_figure(result)
    if conv is not None:
        paths += save_figure(conv, out_dir / "convergence", formats)
    return paths


SENSITIVITY_LABELS = {
    "delivered_bbl": "barrels delivered",
    "trips": "trips",
    "observed_bbl": "barrels the seen visits loaded",
    "observed_visits": "visits seen",
}


def convergence_outputs(result: Any) -> list[str]:
    """The outputs :func:`convergence_figure` draws, one panel each (none: no figure)."""
    conv = getattr(result, "convergence", None)
    return [] if conv is None or conv.empty else list(conv["output"].unique())


@plain_text
def convergence_figure(result: Any, *, ax: AxesArg = None) -> Figure | None:
    """Sobol' total indices against the number of base samples, one panel per output: the
    ranking is stable where the lines stop crossing.

    ``ax``: a sequence of one axes per output (:func:`convergence_outputs`), or None (a new
    figure, two panels a row)."""
    outs = convergence_outputs(result)
    if not outs:
        return None
    conv = result.convergence
    target = ax
    ncol = 2
    nrow = math.ceil(len(outs) / ncol)
    fig, cells = _panels(target, len(outs), "convergence", (11, 3.6 * nrow), nrow, ncol)
    for out, ax in zip(outs, cells, strict=True):
        d = conv[conv["output"] == out]
        last = d[d["N"] == d["N"].max()].sort_values("ST", ascending=False)
        for factor in last["factor"].head(6):
            f = d[d["factor"] == factor].sort_values("N")
            ax.errorbar(f["N"], f["ST"], yerr=f["ST_conf"], marker="o", ms=3, capsize=2,
                        label=str(factor))  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_title(SENSITIVITY_LABELS.get(out, out), fontsize=10)
        ax.set_xlabel("base samples N", fontsize=8)
        ax.set_ylabel("total index ST", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    if target is None:
        fig.suptitle(f"{result.base.name}: convergence of the Sobol' indices", fontsize=11)
    return fig


def sensitivity_outputs(result: Any) -> list[str]:
    """The outputs :func:`sensitivity_figure` draws, one panel each (none: no figure)."""
    idx: pd.DataFrame = result.indices
    main_col = "ST" if result.method == "sobol" else "mu_star"
    return [
        o
        for o in idx["output"].unique()
        if main_col in idx and idx.loc[idx["output"] == o, main_col].notna().any()
    ]


@plain_text
def sensitivity_figure(result: Any, *, ax: AxesArg = None) -> Figure | None:
    """Ranked bars of the sensitivity indices, one panel per output, with 95 % intervals.

    ``ax``: a sequence of one axes per output (:func:`sensitivity_outputs`), or None (a new
    figure, two panels a row)."""
    idx: pd.DataFrame = result.indices
    target = ax
    if result.method == "sobol":
        main_col, main_conf, other, other_conf = "ST", "ST_conf", "S1", "S1_conf"
        xlabel = "Sobol' index (total: bar, first order: dot)"
    else:
        main_col, main_conf, other, other_conf = "mu_star", "mu_star_conf", None, None
        xlabel = "Morris mu* [output units]"
    labels = SENSITIVITY_LABELS
    outputs = sensitivity_outputs(result)
    if not outputs:
        return None
    ncol = 2
    nrow = math.ceil(len(outputs) / ncol)
    n_f = idx["factor"].nunique()
    fig, cells = _panels(
        target, len(outputs), "sensitivity", (12, (0.35 * n_f + 1.4) * nrow), nrow, ncol
    )
    for k, (out, ax) in enumerate(zip(outputs, cells, strict=True)):
        d = idx[idx["output"] == out].sort_values(main_col, ascending=True)
        y = np.arange(len(d))
        ax.barh(y, d[main_col], xerr=d[main_conf], color=MAIN, alpha=0.8, capsize=2, label=main_col)
        if other is not None:
            ax.errorbar(
                d[other],
                y,
                xerr=d[other_conf],
                fmt="o",
                color="#1a3f6b",
                ms=4,
                capsize=2,
                label=other,
            )
        ax.set_yticks(y, d["factor"], fontsize=8)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_title(labels.get(out, out), fontsize=10)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.grid(alpha=0.3, axis="x")
        if k == 0:
            ax.legend(fontsize=8, loc="lower right")
    n_points = len(result.samples)
    if target is None:
        fig.suptitle(
            f"{result.base.name}: which unknown matters ({result.method}, "
            f"{n_points} design points)",
            fontsize=11,
        )
    return fig
