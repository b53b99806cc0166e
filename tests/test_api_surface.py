"""The API within reach: ``sim.plot`` draws every figure of the command line from the API's
results (onto new figures or given axes), ``dir(sim)`` lists the public names only, ``import
sim`` stays light, and every result has a short ``repr`` with the detail in ``_repr_html_``.

Small real results, made once for the module (about 25 s in all)."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sim
from tests.conftest import ROOT

BASELINE = "scenarios/osc-2024.toml"
MINIMAL = "scenarios/minimal.toml"
QUICK: dict[str, Any] = {"options": "serial", "progress": False}
SMALL_CAL: dict[str, Any] = {"population": 40, "generations": 1, "replications": 1}


@pytest.fixture(scope="module", autouse=True)
def _at_root() -> Any:
    """Scenario paths are relative to the checkout."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        yield


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One small real result of every kind the API returns."""
    from sim.runner.sweep import parse_vary

    out = tmp_path_factory.mktemp("api-surface")
    p_detect = parse_vary("observation.p_detect=0.3,0.9")
    barrels = parse_vary("claims.barrels=500000:1000000:3")
    r: dict[str, Any] = {
        "scenario": sim.load_scenario(BASELINE),
        "model": sim.prepare(BASELINE),
        "claims": sim.check_claims(BASELINE),
        "evidence_report": sim.check_evidence(BASELINE, n=0, progress=False),
        "run": sim.run(MINIMAL),
        "mc": sim.run_mc(BASELINE, n=200, out=out / "mc", **QUICK),
        "sweep": sim.run_sweep(BASELINE, dims=[p_detect], n=20, **QUICK),
        "sweep_design": sim.run_sweep(
            BASELINE, dims=[p_detect, barrels], design_kind="lhs", n_points=4, n=10, **QUICK
        ),
        "sensitivity": sim.run_sensitivity(BASELINE, base_samples=16, replications=1, **QUICK),
        "priors": sim.calibrate_priors(
            BASELINE, priors=["scenario"], compare=(), **SMALL_CAL, **QUICK
        ),
        "robustness": sim.robustness(BASELINE, only=["start-up"], **SMALL_CAL, **QUICK),
        "route": sim.route((51.95, 4.05), (1.25, 103.8)),
    }
    r["calibration"] = r["priors"].results["scenario"]  # sim.calibrate's own result
    r["mc_dir"] = out / "mc"
    return r


# --------------------------------------------------------------------------- sim.plot

# figure -> the result it draws (a key of ``results``)
FIGURES = {
    "barrels": "mc",
    "trips": "mc",
    "barrels_vs_visits": "mc",
    "cumulative": "mc",
    "gantt": "run",
    "evidence": "mc",
    "map": "run",
    "sweep": "sweep",
    "sensitivity": "sensitivity",
    "convergence": "sensitivity",
    "posterior": "calibration",
    "pairs": "calibration",
    "must_believe": "calibration",
    "diagnostics": "calibration",
    "predictive": "calibration",
    "priors": "priors",
    "tornado": "robustness",
}


def _drawn_on(ax: Any) -> bool:
    """Whether anything was drawn on ``ax`` (lines, patches, collections, images, texts)."""
    return bool(ax.has_data() or ax.texts or ax.images)


def _axes(n: int) -> tuple[Any, list[Any]]:
    """A figure of ``n`` axes of the caller's own, made without pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(6 * cols, 4.5 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    return fig, list(axes[:n])


def _renders(fig: Any) -> None:
    fig.savefig(io.BytesIO(), format="png", dpi=30)


def test_sim_plot_has_a_function_for_every_figure_the_cli_draws(results: dict[str, Any]) -> None:
    """Every plot `tankersim mc` wrote has its function, and every function is listed."""
    assert set(sim.plot.__all__) == {*FIGURES, "panels"}
    written = {p.stem for p in (results["mc_dir"] / "plots").glob("*.png")}
    assert written == {k for k, v in FIGURES.items() if v == "mc"} | {"gantt"}
    assert dir(sim.plot) == sorted(sim.plot.__all__)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_figure_returns_a_new_figure(name: str, results: dict[str, Any]) -> None:
    from matplotlib.figure import Figure

    fig = getattr(sim.plot, name)(results[FIGURES[name]])
    assert isinstance(fig, Figure)
    visible = [a for a in fig.axes if a.get_visible()]
    assert visible and all(_drawn_on(a) for a in visible), name


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_figure_draws_onto_the_axes_given(name: str, results: dict[str, Any]) -> None:
    fn = getattr(sim.plot, name)
    result = results[FIGURES[name]]
    n = sim.plot.panels(fn, result)
    assert n >= 1
    own, axes = _axes(n)
    fig = fn(result, ax=axes[0] if n == 1 else axes)
    assert fig is own and fig is axes[0].figure
    assert all(_drawn_on(a) for a in axes), name
    assert not fig.texts  # no suptitle over the caller's figure
    _renders(fig)


@pytest.mark.parametrize("name", ["barrels", "barrels_vs_visits", "tornado"])
def test_one_axes_gets_the_main_panel_alone(name: str, results: dict[str, Any]) -> None:
    own, (ax,) = _axes(1)
    fig = getattr(sim.plot, name)(results[FIGURES[name]], ax=ax)
    assert fig is own and _drawn_on(ax) and len(fig.axes) == 1
    _renders(fig)


def test_the_headline_figure_is_one_call_and_the_cli_file(
    results: dict[str, Any], tmp_path: Path
) -> None:
    """sim.plot's Monte Carlo figures are, byte for byte, the PNGs `tankersim mc` writes."""
    from sim.outputs.plots import save_figure

    mc, plots = results["mc"], results["mc_dir"] / "plots"
    for name in ("barrels", "barrels_vs_visits", "evidence"):  # the ones drawn anew
        (png,) = save_figure(getattr(sim.plot, name)(mc), tmp_path / name, ("png",))
        assert png.read_bytes() == (plots / f"{name}.png").read_bytes(), name


def test_panels_counts_what_each_figure_draws(results: dict[str, Any]) -> None:
    cal = results["calibration"]
    k = len(cal.setup.parameters)
    assert sim.plot.panels(sim.plot.posterior, cal) == k
    assert sim.plot.panels(sim.plot.pairs, cal) == k * k
    assert sim.plot.panels(sim.plot.predictive, cal) == len(cal.setup.statistics)
    assert sim.plot.panels(sim.plot.diagnostics, cal) == 3
    assert sim.plot.panels(sim.plot.barrels, results["mc"]) == 2
    assert sim.plot.panels(sim.plot.trips, results["mc"]) == 1
    assert sim.plot.panels(sim.plot.sweep, results["sweep"]) == 1
    assert sim.plot.panels(sim.plot.sweep, results["sweep_design"]) == 2
    outputs = results["sensitivity"].indices["output"].nunique()
    assert sim.plot.panels(sim.plot.sensitivity, results["sensitivity"]) == outputs
    with pytest.raises(ValueError, match=r"not a sim\.plot figure"):
        sim.plot.panels(print, results["mc"])


def test_a_design_sweep_draws_one_panel_per_input(results: dict[str, Any]) -> None:
    own, axes = _axes(2)
    assert sim.plot.sweep(results["sweep_design"], ax=axes) is own
    assert all(_drawn_on(a) for a in axes)


def test_too_few_axes_or_the_wrong_result_is_refused_in_one_line(
    results: dict[str, Any],
) -> None:
    _, (ax,) = _axes(1)
    with pytest.raises(ValueError, match=r"diagnostics figure draws 3 panels: give 3 axes"):
        sim.plot.diagnostics(results["calibration"], ax=ax)
    with pytest.raises(TypeError, match=r"sim\.plot\.barrels draws sim\.run_mc's result"):
        sim.plot.barrels(results["calibration"])
    with pytest.raises(TypeError, match=r"sim\.plot\.posterior draws sim\.calibrate"):
        sim.plot.posterior(results["mc"])


def test_the_map_of_a_model_or_a_batch_has_routes_without_tracks(
    results: dict[str, Any],
) -> None:
    with_tracks = sim.plot.map(results["run"])
    without = sim.plot.map(results["run"], tracks=False)
    assert len(with_tracks.axes[0].lines) > len(without.axes[0].lines) > 0
    routes_only = sim.plot.map(results["model"])
    assert len(sim.plot.map(results["mc"]).axes[0].lines) == len(routes_only.axes[0].lines) > 0


# --------------------------------------------------------------------------- the package


def test_dir_sim_lists_the_public_names_only() -> None:
    import sim.api  # binds sim.api on the package: still not listed

    names = dir(sim)
    assert names == sorted(sim.__all__)
    assert [n for n in names if n.startswith("_")] == ["__version__"]
    for stray in ("annotations", "import_module", "version", "PackageNotFoundError", "Any",
                  "api", "core", "runner"):  # fmt: skip
        assert stray not in names, stray
    assert {"plot", "run_mc", "calibrate", "prepare", "check_evidence"} <= set(names)
    for n in names:
        obj = getattr(sim, n)
        if n != "__version__":
            where = getattr(obj, "__module__", None) or obj.__name__
            assert where.startswith("sim."), (n, where)


def test_import_sim_is_light() -> None:
    """``import sim`` and ``import sim.plot`` load no numpy, pandas or matplotlib."""
    code = (
        "import sys, sim, sim.plot; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'numpy', 'pandas', 'matplotlib', 'pydantic', 'scipy'}))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)  # fmt: skip
    assert res.stdout.strip() == "[]", res.stdout


# --------------------------------------------------------------------------- reprs

REPRS = [
    "scenario", "model", "claims", "run", "mc", "sweep", "sensitivity", "calibration",
    "robustness", "route", "evidence_report", "priors",
]  # fmt: skip


@pytest.mark.parametrize("key", REPRS)
def test_every_result_has_a_short_repr(key: str, results: dict[str, Any]) -> None:
    text = repr(results[key])
    assert len(text) < 300 and "\n" not in text, (len(text), text[:400])


@pytest.mark.parametrize(
    "key",
    REPRS,
)
def test_every_result_has_an_html_summary(key: str, results: dict[str, Any]) -> None:
    html = results[key]._repr_html_()
    assert html.startswith("<table><caption>") and html.count("<tr>") >= 3
    assert len(html) > len(repr(results[key]))


@pytest.mark.parametrize(
    ("key", "short", "summary"),
    [
        ("evidence_report", "evidence_report_repr", "evidence_report_html"),
        ("priors", "prior_sensitivity_repr", "prior_sensitivity_html"),
        ("route", None, "global_route_html"),
    ],
)
def test_the_helpers_for_results_defined_elsewhere(
    key: str, short: str | None, summary: str, results: dict[str, Any]
) -> None:
    """What sim/api.py and sim/core/global_routing.py are to call (sim.core.reprs)."""
    from sim.core import reprs

    r = results[key]
    if short is not None:
        text: str = getattr(reprs, short)(r)
        assert len(text) < 300 and "\n" not in text and text.startswith("<")
    html_of: Callable[[Any], str] = getattr(reprs, summary)
    assert html_of(r).startswith("<table><caption>") and html_of(r).count("<tr>") >= 3


def test_a_long_name_keeps_the_repr_short(results: dict[str, Any]) -> None:
    """A 100-character scenario name (the most a scenario takes) is clipped in the repr."""
    import dataclasses

    long = results["scenario"].model_copy(update={"name": "x" * 100})
    mc = dataclasses.replace(results["mc"], scenario=long)
    for obj in (long, mc):
        text = repr(obj)
        assert len(text) < 300 and "x" * 59 + "…" in text, text
