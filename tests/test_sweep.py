"""Sweeps and sensitivity: reproducibility, resume, common random numbers, known rankings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, base_raw, kill_after_parts, write_toml
from typer.testing import CliRunner

from sim.analysis.sensitivity import factors
from sim.analysis.sweep import frontier
from sim.api import prepare, run_mc, run_sensitivity, run_sweep
from sim.cli import app
from sim.core.config import apply_overrides, validate_dict
from sim.core.errors import OptionError
from sim.model.draws import plan_ships
from sim.runner.pipeline import ExecOptions
from sim.runner.sweep import design, parse_vary


def _geo_baseline(tmp_path: Path) -> Path:
    text = (SCENARIOS / "osc-2024-hand-calibrated.toml").read_text(encoding="utf-8")
    text = text.replace('method = "sea"', 'method = "geodesic"')
    path = tmp_path / "geo.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- parsing, designs


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("fleet.large.count=2:6:3", (2, 4, 6)),
        (
            "fleet.large.capacity_bbl=15000:45000:7",
            (15000, 20000, 25000, 30000, 35000, 40000, 45000),
        ),
        ("a.b=0.1:0.3:3", (0.1, 0.2, 0.30000000000000004)),
        ("a.b=1,2.5,7", (1, 2.5, 7)),
        ('a.b="X","Y"', ("X", "Y")),
    ],
)
def test_parse_vary(text: str, values: tuple[Any, ...]) -> None:
    assert (
        parse_vary(text).grid_values() == pytest.approx(values)
        if all(isinstance(v, float | int) for v in values)
        else parse_vary(text).grid_values() == values
    )


@pytest.mark.parametrize(
    "text", ["nokey", "a.b=", "a.b=5:1:3", "a.b=1:2:1", "a.b=1:x:3", "a.b=1:2:3:4"]
)
def test_parse_vary_errors(text: str) -> None:
    with pytest.raises(OptionError, match=r"^vary = "):
        parse_vary(text)


def test_designs() -> None:
    dims = [parse_vary("a=0:1:3"), parse_vary("b=10,20")]
    grid = design(dims, "grid")
    assert grid == [{"a": a, "b": b} for a in (0, 0.5, 1) for b in (10, 20)]
    for kind in ("lhs", "sobol"):
        pts = design([parse_vary("a=0.0:1.0"), parse_vary("b=100:200")], kind, 16, seed=1)
        assert len(pts) == 16
        a = np.array([p["a"] for p in pts])
        assert ((a >= 0) & (a <= 1)).all()
        # Space-filling: every sixteenth of [0, 1] holds exactly one point of a 16-point LHS.
        if kind == "lhs":
            assert sorted(np.floor(a * 16).astype(int)) == list(range(16))
        assert pts == design([parse_vary("a=0.0:1.0"), parse_vary("b=100:200")], kind, 16, seed=1)
        assert all(isinstance(p["b"], int) for p in pts)  # integer ends give integers


def test_frontier_interpolates() -> None:
    summary = pd.DataFrame(
        {
            "x": [1, 2, 3] * 5,
            "y": [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3 + [4] * 3,
            "p_claim": [
                0.2,
                0.6,
                0.9,
                0.0,
                0.25,
                0.75,
                0.0,
                0.1,
                0.2,
                0.9,
                0.7,
                0.3,
                0.1,
                0.2,
                0.9,
            ],
            "reliable": [True] * 12 + [True, False, True],
        }
    )
    fr = frontier(summary, "x", "y").set_index("y")
    col = "x_at_p50"
    assert fr.loc[0, col] == pytest.approx(1.75) and fr.loc[0, "direction"] == "rising"
    assert fr.loc[1, col] == pytest.approx(2.5)
    assert np.isnan(fr.loc[2, col]) and fr.loc[2, "status"] == "below everywhere"
    # Falling: the claim holds below the crossing.
    assert fr.loc[3, col] == pytest.approx(2.5) and fr.loc[3, "direction"] == "falling"
    # A thin cell is skipped: the crossing is read between x = 1 and x = 3.
    assert fr.loc[4, col] == pytest.approx(1 + 0.4 / 0.8 * 2) and fr.loc[4, "points_used"] == 2


def test_frontier_per_value_of_a_third_input() -> None:
    rows = []
    for z, shift in ((0, 0.0), (1, 0.5)):
        for y in (0, 1):
            for x in (0.0, 1.0, 2.0):
                rows.append(
                    {
                        "x": x,
                        "y": y,
                        "z": z,
                        "p_claim": min(1.0, 0.25 * x + shift),
                        "reliable": True,
                    }
                )
    fr = frontier(pd.DataFrame(rows), "x", ["y", "z"]).set_index(["y", "z"])
    assert fr.loc[(0, 0), "x_at_p50"] == pytest.approx(2.0)
    assert fr.loc[(0, 1), "status"] == "above everywhere"


# --------------------------------------------------------------------------- the sweep itself


def test_bad_sweep_key_fails_before_running(runner: CliRunner, tmp_path: Path) -> None:
    path = _geo_baseline(tmp_path)
    res = runner.invoke(
        app,
        [
            "sweep",
            str(path),
            "--vary",
            "fleet.large.capasity_t=1:2:2",
            "-n",
            "5",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 2
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "fleet.large.capasity_t" in line and "unknown key" in line and "sweep point 0" in line
    assert not (tmp_path / "o" / "parts").exists() or not any(
        (tmp_path / "o" / "parts").glob("reps-*")
    )
    res = runner.invoke(
        app,
        [
            "sweep",
            str(path),
            "--vary",
            "fleet.large.load_factor=0.5,1.5",
            "-n",
            "5",
            "--out",
            str(tmp_path / "p"),
        ],
    )
    assert (
        res.exit_code == 2
        and "fleet.large.load_factor" in res.stderr
        and "sweep point 1" in res.stderr
    )


def test_point_alone_equals_the_sweep(tmp_path: Path) -> None:
    path = _geo_baseline(tmp_path)
    dims = [
        parse_vary("fleet.large.capacity_bbl=30000,45000"),
        parse_vary("fleet.large.turnaround_days=20,50"),
    ]
    res = run_sweep(path, dims=dims, n=30, out=tmp_path / "sw", options=ExecOptions(workers=2))
    assert len(res.summary) == 4
    # one identity recipe for every batch: the random streams' version is part of it
    from sim.core.rng import STREAM_VERSION

    ident = json.loads((tmp_path / "sw" / "parts" / "batch.json").read_text())
    assert ident["streams"] == STREAM_VERSION and "points" in ident
    for point in (1, 2):
        alone = run_mc(
            tmp_path / "sw" / "points" / f"p{point:05d}.toml", n=30, options="serial"
        ).replications
        recorded = res.table[res.table["point"] == point][alone.columns].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            alone.drop(columns="point"), recorded.drop(columns="point"), check_dtype=False
        )


def test_sweep_from_the_scenario_table(runner: CliRunner, tmp_path: Path) -> None:
    raw = base_raw()
    raw["fleet"]["c"]["capacity_bbl"] = {"dist": "uniform", "low": 5000.0, "high": 15000.0}
    raw["claims"] = {"trips": 6, "barrels": 60000.0}
    raw["sweep"] = {
        "replications": 20,
        "min_matches": 5,
        "vary": {
            "fleet.c.load_factor": [0.5, 1.0],
            "fleet.c.turnaround_days": {"low": 0, "high": 2, "num": 3},
        },
    }
    path = write_toml(tmp_path / "s.toml", raw)
    res = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.stderr
    summary = pd.read_csv(tmp_path / "o" / "summary.csv")
    assert len(summary) == 6 and (summary["replications"] == 20).all()
    assert (tmp_path / "o" / "frontier.csv").is_file()
    assert (tmp_path / "o" / "plots" / "sweep.png").stat().st_size > 5000
    table = pd.read_parquet(tmp_path / "o" / "sweep.parquet")
    assert {
        "fleet.c.load_factor",
        "fleet.c.turnaround_days",
        "replication",
        "delivered_bbl",
    } <= set(table.columns)
    assert len(table) == 6 * 20
    # More load, more barrels: at every turnaround, a full ship delivers more than a half-full one.
    for _, g in summary.groupby("fleet.c.turnaround_days"):
        g = g.set_index("fleet.c.load_factor")
        assert g.loc[1.0, "barrels_p50"] > g.loc[0.5, "barrels_p50"]


def test_common_random_numbers_over_fleet_size() -> None:
    """A ship present at every point of a fleet-size sweep has identical draws at every point."""
    raw = base_raw()
    raw["fleet"]["c"].update(
        capacity_bbl={"dist": "uniform", "low": 5000.0, "high": 15000.0},
        speed_laden_kn={"dist": "triangular", "low": 8.0, "mode": 9.0, "high": 11.0},
        turnaround_days={"dist": "uniform", "low": 0.0, "high": 3.0},
    )
    raw["fleet"]["d"] = dict(raw["fleet"]["c"], count=2)
    from sim.runner.sweep import plan_points as plan

    points = plan(raw, design([parse_vary("fleet.c.count=1:4:4")]))
    seen: dict[str, list[Any]] = {}
    for p in points:
        _, _, c = prepare(p.scenario)
        plan = plan_ships(c, seed=11, replication=5)
        for ship in plan.ships:
            seen.setdefault(ship.ship_id, []).append(
                (ship.laden_h, ship.start_offset_h, ship.voyages[:8])
            )
    assert len(seen["c-01"]) == 4 and len(seen["c-04"]) == 1 and len(seen["d-01"]) == 4
    for ship in ("c-01", "d-01", "d-02"):
        assert all(draws == seen[ship][0] for draws in seen[ship]), ship
    assert seen["c-01"][0] != seen["d-01"][0]


def test_interrupted_sweep_resumes_point_by_point(tmp_path: Path) -> None:
    path = _geo_baseline(tmp_path)
    vary = [
        "--vary",
        "fleet.large.capacity_bbl=20000:50000:4",
        "--vary",
        "fleet.large.turnaround_days=20,40,60",
    ]
    out = tmp_path / "killed"
    partial = kill_after_parts(
        ["sweep", str(path), *vary, "-n", "120", "--workers", "1", "--out", str(out), "--no-plots"],
        out,
        min_parts=3,
    )
    assert 0 < len(partial) < 12 * 120, "the sweep finished before it could be interrupted"
    dims = [parse_vary(v) for v in vary[1::2]]
    resumed = run_sweep(path, dims=dims, n=120, out=out, resume=True, options="serial")
    assert resumed.ran == 12 * 120 - len(partial)
    whole = run_sweep(path, dims=dims, n=120, options=ExecOptions(workers=2))
    pd.testing.assert_frame_equal(resumed.table, whole.table)
    pd.testing.assert_frame_equal(resumed.summary, whole.summary)


# --------------------------------------------------------------------------- sensitivity


def _known_ranking_raw() -> dict[str, Any]:
    """Capacity drives everything, load factor a little, a port nobody visits not at all."""
    raw = base_raw()
    raw["window"]["end"] = dt.date(2024, 2, 9)
    raw["ports"]["C"] = {"lat": 0.5, "lon": 0.5}
    raw["discharge"]["B"]["share"] = 1.0
    raw["discharge"]["C"] = {
        "share": 0.0,
        "rate_bbl_per_h": {"dist": "uniform", "low": 100.0, "high": 1000.0},
    }
    raw["terminal"]["load_rate_bbl_per_h"] = 1e9
    raw["discharge"]["B"]["rate_bbl_per_h"] = 1e9
    raw["fleet"]["c"].update(
        capacity_bbl={"dist": "uniform", "low": 5000.0, "high": 20000.0},
        load_factor={"dist": "uniform", "low": 0.9, "high": 1.0},
        turnaround_days=1.0,
    )
    raw["claims"] = {"trips": 10, "barrels": 120000.0}
    return raw


def test_sensitivity_recovers_a_known_ranking() -> None:
    raw = _known_ranking_raw()
    sc = validate_dict(raw)
    names = [f.name for f in factors(sc)]
    assert names == ["discharge pumping rate", "ship capacity", "load factor"]
    res = run_sensitivity(raw, base_samples=128, replications=2, options=ExecOptions(workers=2))
    d = res.indices[res.indices["output"] == "delivered_bbl"].set_index("factor")
    # The port nobody visits has no effect: its total index is zero within its interval.
    dummy = d.loc["discharge pumping rate"]
    assert abs(dummy["ST"]) <= max(dummy["ST_conf"], 1e-9) + 1e-9
    # Capacity (a x4 range) matters more than load factor (a 10 % range), which still matters.
    assert d.loc["ship capacity", "ST"] > 0.8
    assert d.loc["load factor", "ST"] - d.loc["load factor", "ST_conf"] > 0
    assert d.loc["ship capacity", "rank"] == 1 and d.loc["discharge pumping rate", "rank"] == 3
    # Convergence comes from the design's leading base samples, at no extra cost.
    from sim.analysis.sensitivity import stable_top

    conv = res.convergence
    assert conv is not None and sorted(conv["N"].unique()) == [16, 32, 64, 128]
    top = conv[(conv["N"] == 128) & (conv["output"] == "delivered_bbl")]
    assert top.sort_values("ST")["factor"].iloc[-1] == "ship capacity"
    assert stable_top(conv, "delivered_bbl", k=2)
    # The seen barrels do not cancel any driver: capacity moves them as it moves deliveries.
    seen = res.indices[res.indices["output"] == "observed_bbl"].set_index("factor")
    assert seen.loc["ship capacity", "ST"] > 0.8
    # Morris agrees on the ranking.
    m = run_sensitivity(
        raw, method="morris", base_samples=20, replications=2, options=ExecOptions(workers=2)
    )
    mm = m.indices[m.indices["output"] == "delivered_bbl"].set_index("factor")
    assert mm.loc["ship capacity", "mu_star"] > mm.loc["load factor", "mu_star"] > 0
    assert mm.loc["discharge pumping rate", "mu_star"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("engine", ["fast", "des"])
def test_design_points_packed_in_blocks_equal_their_own_scenarios(engine: str) -> None:
    """A design point runs as the base scenario with values fixed (rows of a shared block);
    written out as a scenario of its own (``overrides_at``), it gives the same replications."""
    from sim.analysis.sensitivity import fixed_at, overrides_at, sample
    from sim.runner.pipeline import ExecOptions, PartStore, Point, run_points

    raw = _known_ranking_raw()
    raw["fleet"]["c"]["count"] = 3
    base = validate_dict(raw)
    model = prepare(base)
    fs = factors(base)
    X = sample(fs, "sobol", 4, 1)[:6]
    opts = ExecOptions("serial", engine=engine)  # type: ignore[arg-type]

    def run(points: list[Any], folder: Path) -> pd.DataFrame:
        store = PartStore.open(folder, {"t": 1}, resume=False)
        return run_points(points, replications=3, seed=5, store=store, options=opts).table

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        packed = run(
            [Point(i, model, fixed=fixed_at(fs, q)) for i, q in enumerate(X)],
            Path(tmp) / "a",
        )
        own = [
            Point(i, prepare(apply_overrides(raw, overrides_at(fs, q)), routes=model.routes))
            for i, q in enumerate(X)
        ]
        alone = run(own, Path(tmp) / "b")
    assert len(packed) == 18 and list(packed["point"]) == [i // 3 for i in range(18)]
    cols = [c for c in packed.columns if not c.startswith("param:")]
    pd.testing.assert_frame_equal(packed[cols], alone[cols], check_exact=False, rtol=1e-12)
    # The design moved the outputs (the test can fail); points 0 and 1 differ only in the
    # unused port's rate, so they agree.
    assert packed.groupby("point")["delivered_bbl"].mean().nunique() >= 4


def test_sensitivity_cli(runner: CliRunner, tmp_path: Path) -> None:
    path = write_toml(tmp_path / "k.toml", _known_ranking_raw())
    res = runner.invoke(
        app,
        [
            "sensitivity",
            str(path),
            "--samples",
            "16",
            "-n",
            "2",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 0, res.stderr
    idx = pd.read_csv(tmp_path / "o" / "indices.csv")
    assert set(idx["factor"]) == {"discharge pumping rate", "ship capacity", "load factor"}
    assert (tmp_path / "o" / "plots" / "sensitivity.png").stat().st_size > 5000
    assert "Sensitivity of delivered_bbl" in res.output
    res = runner.invoke(
        app, ["sensitivity", str(SCENARIOS / "minimal.toml"), "--out", str(tmp_path / "m")]
    )
    assert res.exit_code == 2 and "at least two uncertain inputs" in res.stderr


@pytest.mark.parametrize(
    ("vary", "design_kind", "points"),
    [
        (["fleet.c.load_factor=0.5:1.0:3"], "grid", None),
        (
            ["fleet.c.load_factor=0.5,1.0", "fleet.c.turnaround_days=0,2", "fleet.c.count=1,2"],
            "grid",
            None,
        ),
        (["fleet.c.load_factor=0.5:1.0", "fleet.c.turnaround_days=0.0:2.0"], "lhs", 8),
    ],
    ids=["one input", "three inputs", "lhs"],
)
def test_sweep_plots(tmp_path: Path, vary: list[str], design_kind: str, points: int | None) -> None:
    from sim.outputs.plots import plot_sweep

    raw = base_raw()
    raw["claims"] = {"trips": 6, "barrels": 60000.0}
    res = run_sweep(
        raw,
        dims=[parse_vary(v) for v in vary],
        design_kind=design_kind,
        n_points=points,
        n=6,
        options="serial",
    )
    expected = (
        int(np.prod([len(parse_vary(v).values or ()) or 3 for v in vary]))
        if design_kind == "grid"
        else points
    )
    assert len(res.summary) == expected
    paths = plot_sweep(res, tmp_path)
    assert [p.suffix for p in paths] == [".png", ".svg"]
    svg = paths[1].read_text(encoding="utf-8")
    if len(vary) == 3:
        # Small multiples: one panel per value of the third input, titled with it in words.
        assert svg.count("count, class c = ") == 2
    assert "fleet.c." not in svg  # axes in words, not raw keys
    assert paths[0].stat().st_size > 5000
    if design_kind == "grid" and len(vary) >= 2:
        # 6 replications a point: every cell rests on too few matches, so none is coloured
        from sim.outputs.plots import sweep_figure

        fig = sweep_figure(res)
        mesh = fig.axes[0].collections[0]
        assert np.ma.getmaskarray(mesh.get_array()).all()


def test_interrupted_sensitivity_resumes_to_the_same_indices(tmp_path: Path) -> None:
    raw = _known_ranking_raw()
    path = write_toml(tmp_path / "k.toml", raw)
    out = tmp_path / "killed"
    args = ["sensitivity", str(path), "--samples", "256", "-n", "2", "--workers", "1"]
    args += ["--block-size", "100"]
    partial = kill_after_parts([*args, "--out", str(out), "--no-plots"], out, min_parts=2)
    n_points = 256 * (3 + 2)
    assert 0 < partial["point"].nunique() < n_points, "finished before it could be interrupted"
    resumed = run_sensitivity(
        path, base_samples=256, replications=2, out=out, resume=True, options="serial"
    )
    whole = run_sensitivity(path, base_samples=256, replications=2, options=ExecOptions(workers=2))
    pd.testing.assert_frame_equal(resumed.samples, whole.samples)
    pd.testing.assert_frame_equal(resumed.indices, whole.indices)


def test_vary_values_are_a_toml_array() -> None:
    dim = parse_vary('fleet.c.turnaround_days={dist="fixed", value=1}, 2.5')
    assert dim.values == ({"dist": "fixed", "value": 1}, 2.5)
    with pytest.raises(OptionError, match="finite"):
        parse_vary("a.b=1e400,2")
    with pytest.raises(OptionError, match="swept twice"):
        design([parse_vary("a=1,2"), parse_vary("a=5,6")])


def test_empty_vary_list_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    raw = base_raw()
    raw["sweep"] = {"vary": {"fleet.c.capacity_bbl": []}}
    path = write_toml(tmp_path / "s.toml", raw)
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2 and "sweep.vary.fleet.c.capacity_bbl" in res.stderr


def test_packed_sweep_points_equal_their_own_batches() -> None:
    """Points that only fix unknowns or unscaled inputs run packed in shared blocks (see
    ``as_fixed``); each equals a Monte Carlo batch of its own scenario, row for row."""
    from sim.runner.sweep import as_fixed

    raw = base_raw()
    raw["window"]["end"] = dt.date(2024, 1, 30)
    raw["unknowns"] = {"size": {"dist": "uniform", "low": 0.5, "high": 2.0}}
    raw["fleet"]["c"].update(
        count=3,
        capacity_bbl={"dist": "uniform", "low": 5000.0, "high": 9000.0, "scale": "size"},
        turnaround_days={"dist": "uniform", "low": 0.0, "high": 3.0},
    )
    raw["observation"] = {"p_detect": {"dist": "uniform", "low": 0.3, "high": 1.0}}
    dims = [parse_vary("unknowns.size=0.5,1.5"), parse_vary("observation.p_detect=0.4,0.9")]
    res = run_sweep(raw, dims=dims, n=12, options="serial")
    base = validate_dict(raw)
    assert all(as_fixed(base, p.overrides) is not None for p in res.scenarios)
    # A scaled input set to a number would lose its scale: such a point is not packed.
    assert as_fixed(base, {"fleet.c.capacity_bbl": 7000.0}) is None
    assert as_fixed(base, {"fleet.c.count": 2}) is None
    cols = ["trips", "observed_visits", "loaded_bbl", "delivered_bbl", "on_board_bbl"]
    for p in res.scenarios:
        own = run_mc(p.scenario, n=12, options="serial").replications
        got = res.table[res.table["point"] == p.index].reset_index(drop=True)
        pd.testing.assert_frame_equal(got[cols], own[cols], check_exact=False, rtol=1e-12)
    by_point = res.table.groupby("point")["loaded_bbl"].mean()
    assert by_point.nunique() == 2  # size moves barrels; p_detect does not
