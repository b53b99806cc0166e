"""Every figure the command line draws, one call each, from what the API returns.

>>> import sim
>>> batch = sim.run_mc("scenarios/osc-2024.toml", n=200, options="serial")  # doctest: +SKIP
>>> fig = sim.plot.barrels(batch)              # the headline figure        # doctest: +SKIP

Each function takes a result (:func:`sim.run_mc`'s, :func:`sim.calibrate`'s...) and an
optional ``ax``, draws, and returns the matplotlib ``Figure``:

* ``ax=None`` (the default) draws the figure the command line saves, on a new figure of its
  own (matplotlib's object-oriented API on an Agg canvas: no pyplot, no backend changed, no
  window; a notebook shows the returned figure, :func:`sim.outputs.plots.save_figure` or
  ``fig.savefig`` writes it);
* ``ax=`` one matplotlib ``Axes`` draws a one-panel figure there and returns ``ax.figure``;
* a figure of several panels takes a sequence of axes (a list, or the array
  ``plt.subplots`` returns), one per panel, row by row: :func:`panels` says how many. Where
  one panel is the figure's point (:func:`barrels`, :func:`barrels_vs_visits`,
  :func:`tornado`) a single ``Axes`` gets that panel alone and two axes get both. Figures
  drawn onto given axes leave the figure's overall title (``suptitle``) to the caller.

===================  ==========================================  ============================
function             result                                      the command line's file
===================  ==========================================  ============================
barrels              sim.run_mc                                  mc: plots/barrels
trips                sim.run_mc                                  mc: plots/trips
barrels_vs_visits    sim.run_mc                                  mc: plots/barrels_vs_visits
cumulative           sim.run_mc                                  mc: plots/cumulative
gantt                sim.run (or sim.run_mc: its replication 0)  mc: plots/gantt
evidence             sim.run_mc (a scenario with evidence)       mc: plots/evidence
map                  sim.run (with tracks), sim.run_mc, prepare  run, routes: map
sweep                sim.run_sweep                               sweep: plots/sweep
sensitivity          sim.run_sensitivity                         sensitivity: plots/sensitivity
convergence          sim.run_sensitivity (Sobol')                sensitivity: convergence
posterior            sim.calibrate                               calibrate: plots/posterior
pairs                sim.calibrate                               calibrate: plots/pairs
must_believe         sim.calibrate                               calibrate: plots/must_believe
diagnostics          sim.calibrate                               calibrate: plots/diagnostics
predictive           sim.calibrate                               calibrate: plots/predictive
priors               sim.calibrate_priors                        calibrate --all-priors
tornado              sim.robustness                              robustness: plots/tornado
===================  ==========================================  ============================

matplotlib and the plotting code are imported when a function is called, not with ``sim``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sim.model.prepared import Model
    from sim.runner.batch import McResult
    from sim.runner.calibrate import CalibrationResult
    from sim.runner.robustness import RobustnessResult
    from sim.runner.sensitivity import SensitivityResult
    from sim.runner.single import RunResult
    from sim.runner.sweep import SweepResult

    AxesLike = Axes | Sequence[Any] | Any | None
else:
    AxesLike = Any

__all__ = [
    "barrels",
    "barrels_vs_visits",
    "convergence",
    "cumulative",
    "diagnostics",
    "evidence",
    "gantt",
    "map",
    "must_believe",
    "pairs",
    "panels",
    "posterior",
    "predictive",
    "priors",
    "sensitivity",
    "sweep",
    "tornado",
    "trips",
]


def __dir__() -> list[str]:
    return sorted(__all__)


# --------------------------------------------------------------------------- helpers


def _kind(result: Any, names: Sequence[str], figure: str, made_by: str) -> None:
    """Refuse, in one line, a result of another kind than the figure draws."""
    if type(result).__name__ not in names:
        raise TypeError(
            f"sim.plot.{figure} draws {made_by}'s result, not a {type(result).__name__}"
        )


def _batch(result: Any, figure: str) -> McResult:
    """A Monte Carlo batch: ``sim.run_mc``'s result, or the batch of ``check_evidence``'s."""
    batch = getattr(result, "batch", None) if type(result).__name__ == "EvidenceReport" else result
    if batch is None:
        raise ValueError(f"sim.plot.{figure}: this evidence report ran no replications (n=0)")
    _kind(batch, ("McResult",), figure, "sim.run_mc")
    return batch


def _calibration(result: Any, figure: str) -> CalibrationResult:
    _kind(result, ("CalibrationResult",), figure, "sim.calibrate")
    return result


def _drawn(fig: Figure | None, figure: str, why: str) -> Figure:
    if fig is None:
        raise ValueError(f"sim.plot.{figure}: nothing to draw ({why})")
    return fig


def _observables(batch: McResult) -> Sequence[Any]:
    if batch.model is not None:
        return batch.model.observables
    from sim.model.prepared import prepare

    return prepare(batch.scenario, routes=batch.routes).observables


# --------------------------------------------------------------------------- Monte Carlo


def barrels(result: McResult, ax: AxesLike = None) -> Figure:
    """The headline figure: barrels of the fleet and of the seen visits against the claim,
    among every replication and among those whose seen visits match the claim (with the two
    probabilities of the verdict). Two panels: the histograms and the cumulative shares; one
    ``Axes`` gets the histograms alone."""
    from sim.analysis.verdict import conditioned_replications
    from sim.outputs.plots import barrels_figure

    b = _batch(result, "barrels")
    matching = conditioned_replications(b.table, b.verdict)
    return barrels_figure(b.table, b.scenario, conditional=matching, ax=ax)


def trips(result: McResult, ax: Axes | None = None) -> Figure:
    """The distribution of trips (loadings) and of observed visits, with the claimed visits."""
    from sim.outputs.plots import trips_figure

    b = _batch(result, "trips")
    return trips_figure(b.table, b.scenario, ax=ax)


def barrels_vs_visits(result: McResult, ax: AxesLike = None) -> Figure:
    """Barrels against observed visits and against trips, one dot a replication, with the
    claim. Two panels; one ``Axes`` gets the panel against observed visits alone."""
    from sim.outputs.plots import scatter_figure

    b = _batch(result, "barrels_vs_visits")
    return scatter_figure(b.table, b.scenario, ax=ax)


def cumulative(result: McResult, ax: Axes | None = None) -> Figure:
    """Cumulative barrels over the window: median, 50 % and 90 % bands, the claim and the UN
    cap pro rata."""
    from sim.outputs.plots import fan_figure

    b = _batch(result, "cumulative")
    return fan_figure(b.fan, b.scenario, n_replications=len(b.table), ax=ax)


def gantt(result: RunResult | McResult, ax: Axes | None = None) -> Figure:
    """What each ship did, hour by hour, in one replication: a :func:`sim.run` result's, or
    for a batch its replication 0 (run again here, as ``tankersim mc`` does for its plot)."""
    from sim.outputs.plots import gantt_figure

    one: Any = result
    if type(result).__name__ == "McResult":
        from sim.model.prepared import prepare
        from sim.runner.single import run

        b: Any = result
        model = b.model or prepare(b.scenario, routes=b.routes)
        one = run(model, seed=b.seed, replication=0)
    _kind(one, ("RunResult",), "gantt", "sim.run (or sim.run_mc)")
    return gantt_figure(one.events, one.scenario, ax=ax)


def evidence(result: McResult, ax: AxesLike = None) -> Figure:
    """The model checks: one panel per counted fact of the scenario's evidence, the
    replications' histogram against the reported number (:func:`panels` axes)."""
    from sim.outputs.plots import checks_count, checks_figure

    b = _batch(result, "evidence")
    observables = _observables(b)
    if not checks_count(b.table, observables):
        raise ValueError(
            f"sim.plot.evidence: nothing to draw (scenario {b.scenario.name!r} has no counted "
            "evidence)"
        )
    return checks_figure(b.table, observables, b.scenario, ax=ax)


def map(  # the name of the command line's map.png (shadows the builtin here only)
    result: RunResult | McResult | Model,
    ax: Axes | None = None,
    *,
    tracks: bool = True,
    interval_h: float = 1.0,
) -> Figure:
    """The map of the scenario's ports and sea routes; for a :func:`sim.run` result also its
    ships' tracks (``tracks=False``: none; ``interval_h``: hours between track samples), as
    ``tankersim run`` draws map.png. A batch (:func:`sim.run_mc`) or a model
    (:func:`sim.prepare`) gives the routes alone, as ``tankersim routes`` does. With ``ax``
    the extent fits the axes' shape and the title goes into the axes' title."""
    from sim.outputs.maps import map_figure

    _kind(result, ("RunResult", "McResult", "Model"), "map", "sim.run, sim.run_mc or sim.prepare")
    tr = None
    if tracks and type(result).__name__ == "RunResult":
        from sim.analysis.tracks import tracks as ship_tracks

        r: Any = result
        tr = ship_tracks(r.events, r.scenario, r.routes, interval_h=interval_h, seed=r.seed)
    return map_figure(result.scenario, result.routes, tracks=tr, ax=ax)


# --------------------------------------------------------------------------- sweeps


def sweep(result: SweepResult, ax: AxesLike = None) -> Figure:
    """The claim's plausibility across a sweep: a line (one input), a heatmap with the 50 %
    contour (a grid of two), small multiples (a grid of three: :func:`panels` axes) or one
    scatter per input (a design: :func:`panels` axes)."""
    from sim.outputs.plots import sweep_figure

    _kind(result, ("SweepResult",), "sweep", "sim.run_sweep")
    return _drawn(sweep_figure(result, ax=ax), "sweep", "the sweep's scenario states no claim")


def sensitivity(result: SensitivityResult, ax: AxesLike = None) -> Figure:
    """Which unknown matters: ranked indices with 95 % intervals, one panel per output
    (:func:`panels` axes)."""
    from sim.outputs.plots import sensitivity_figure

    _kind(result, ("SensitivityResult",), "sensitivity", "sim.run_sensitivity")
    return _drawn(sensitivity_figure(result, ax=ax), "sensitivity", "no index was estimated")


def convergence(result: SensitivityResult, ax: AxesLike = None) -> Figure:
    """Sobol' total indices against the number of base samples, one panel per output
    (:func:`panels` axes). Sobol' results of at least 16 base samples only."""
    from sim.outputs.plots import convergence_figure

    _kind(result, ("SensitivityResult",), "convergence", "sim.run_sensitivity")
    fig = convergence_figure(result, ax=ax)
    return _drawn(fig, "convergence", "a Morris design, or too few base samples")


# --------------------------------------------------------------------------- calibration


def posterior(result: CalibrationResult, ax: AxesLike = None) -> Figure:
    """Each calibrated unknown, prior against posterior, with the posterior median and 90 %
    interval: one panel per unknown (:func:`panels` axes)."""
    from sim.outputs.posterior_plots import marginals_figure

    return marginals_figure(_calibration(result, "posterior"), ax=ax)


def pairs(result: CalibrationResult, ax: AxesLike = None) -> Figure:
    """The posterior particles over the prior, for each pair of calibrated unknowns: ``n x n``
    panels for ``n`` unknowns (``plt.subplots(n, n)``'s array, or :func:`panels` axes row by
    row)."""
    from sim.outputs.posterior_plots import pairs_figure

    return pairs_figure(_calibration(result, "pairs"), ax=ax)


def must_believe(
    result: CalibrationResult, ax: Axes | None = None, *, ships: pd.DataFrame | None = None
) -> Figure:
    """What one must believe for the claim to hold: the parcel per seen visit and the share of
    visits seen it takes, with the posterior's replications; ``ships`` (``name``,
    ``parcel_bbl``; default: the scenario's named ships, as the command line marks them)."""
    from sim.analysis.posterior import named_parcels
    from sim.outputs.posterior_plots import must_believe_figure

    r = _calibration(result, "must_believe")
    marks = named_parcels(r.setup.scenario) if ships is None else ships
    return must_believe_figure(r, marks, ax=ax)


def diagnostics(result: CalibrationResult, ax: AxesLike = None) -> Figure:
    """ABC-SMC diagnostics by generation: tolerance, acceptance rate and effective sample
    size (three panels)."""
    from sim.outputs.posterior_plots import diagnostics_figure

    return diagnostics_figure(_calibration(result, "diagnostics"), ax=ax)


def predictive(result: CalibrationResult, ax: AxesLike = None) -> Figure:
    """Each statistic of the evidence, predicted before and after calibration, against the
    reported number: one panel per statistic (:func:`panels` axes)."""
    from sim.outputs.posterior_plots import predictive_figure

    return predictive_figure(_calibration(result, "predictive"), ax=ax)


def priors(result: Any, ax: Axes | None = None) -> Figure:
    """The answer under each prior set (:func:`sim.calibrate_priors`'s result, or its
    ``table``), with two Monte Carlo standard errors."""
    import pandas as pd

    from sim.outputs.posterior_plots import priors_figure

    if isinstance(result, pd.DataFrame):
        return priors_figure(result, ax=ax)
    _kind(result, ("PriorSensitivity",), "priors", "sim.calibrate_priors")
    return priors_figure(result.table, ax=ax)


def tornado(result: RobustnessResult, ax: AxesLike = None) -> Figure:
    """The assumption audit: one bar per input from its lowest to its highest answer (largest
    swing first) and the evidence set x prior set grid. Two panels; one ``Axes`` gets the
    tornado alone."""
    from sim.outputs.robustness import tornado_figure

    _kind(result, ("RobustnessResult",), "tornado", "sim.robustness")
    return tornado_figure(result, ax=ax)


# --------------------------------------------------------------------------- panels


def panels(figure: Callable[..., Figure], result: Any) -> int:
    """How many axes ``figure`` (one of this module's functions) draws on for ``result``:
    give it that many (``fig, axes = plt.subplots(1, sim.plot.panels(sim.plot.posterior,
    cal))``). One for the one-panel figures; two for :func:`barrels`,
    :func:`barrels_vs_visits` and :func:`tornado` (which also take one)."""
    from sim.outputs import plots as p

    name = getattr(figure, "__name__", "")
    if name in ("barrels", "barrels_vs_visits", "tornado"):
        return 2
    if name == "diagnostics":
        return 3
    if name == "evidence":
        b = _batch(result, "evidence")
        return p.checks_count(b.table, _observables(b))
    if name == "sweep":
        return p.sweep_panels(result)
    if name == "sensitivity":
        return len(p.sensitivity_outputs(result))
    if name == "convergence":
        return len(p.convergence_outputs(result))
    if name in ("posterior", "pairs", "predictive"):
        setup = _calibration(result, name).setup
        if name == "predictive":
            return len(setup.statistics)
        n = len(setup.parameters)
        return n * n if name == "pairs" else n
    if figure in (trips, cumulative, gantt, map, must_believe, priors):
        return 1
    raise ValueError(f"sim.plot.panels: {figure!r} is not a sim.plot figure")
