"""The AIS-style outputs loaded with the libraries analysts use: GeoPandas and MovingPandas.

One run of the minimal scenario is written twice (every sample, and thinned in port); the
files are read back as an analyst would, with ``geopandas.read_file`` and a MovingPandas
``TrajectoryCollection`` built from ``tracks.csv``.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from sim.api import RunResult, run
from sim.model.events import activities
from sim.outputs.files import write_geo, write_run

with warnings.catch_warnings():
    # movingpandas warns at import that an optional dependency (Stone Soup) is missing.
    warnings.filterwarnings("ignore", message="Missing optional dependencies", category=UserWarning)
    import movingpandas as mpd

MINIMAL = "scenarios/minimal.toml"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = run(MINIMAL)
    full = tmp_path_factory.mktemp("full")
    thin = tmp_path_factory.mktemp("thin")
    write_run(result, full, scenario_path=MINIMAL, events_format="csv")
    write_geo(result, full, draw_map=False)
    write_geo(result, thin, draw_map=False, thin_idle=True)
    return {"result": result, "full": full, "thin": thin}


def _trajectories(folder: Path) -> Any:
    # `timestamp` is the UTC time without its zone, which MovingPandas takes as it is.
    df = pd.read_csv(folder / "tracks.csv", parse_dates=["timestamp"], keep_default_na=True)
    df = df.dropna(subset=["lat", "lon"])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    with warnings.catch_warnings():
        # movingpandas 0.23 sorts with inplace=True, which pandas 3.1 deprecates.
        warnings.filterwarnings("ignore", message="The inplace keyword .* is deprecated")
        return mpd.TrajectoryCollection(gdf, traj_id_col="trajectory_id", t="timestamp")


def test_geojson_layers_read_with_geopandas(written: dict[str, Any]) -> None:
    folder = written["full"]
    tracks = gpd.read_file(folder / "tracks.geojson")
    routes = gpd.read_file(folder / "routes.geojson")
    ports = gpd.read_file(folder / "ports.geojson")
    for layer in (tracks, routes, ports):
        assert layer.crs is not None and layer.crs.to_epsg() == 4326
        assert len(layer) > 0
    assert set(tracks.geom_type) == {"LineString"}
    assert set(routes.geom_type) == {"LineString"}  # the lines alone
    assert set(ports.geom_type) == {"Point"}  # the ports alone
    assert pd.api.types.is_float_dtype(routes["distance_nm"])
    assert set(ports["role"]) == {"terminal", "discharge"}
    assert set(ports["id"]) == {"VOSTOCHNY", "CHONGJIN"}
    assert pd.api.types.is_integer_dtype(tracks["voyage"])
    assert pd.api.types.is_float_dtype(tracks["sog_kn"])
    assert set(tracks["ship"]) == {"ALPHA", "BRAVO"}
    # Positions are lon/lat: the minimal scenario lies at about 131-133 E, 41-43 N.
    x0, y0, x1, y1 = tracks.total_bounds
    assert 129 < x0 < x1 < 135 and 40 < y0 < y1 < 44


def test_one_trajectory_per_ship_voyage(written: dict[str, Any]) -> None:
    events = pd.read_csv(written["full"] / "events.csv")
    voyages = events.loc[events["voyage"] >= 0, ["replication", "ship", "voyage"]]
    expected = {f"r{r}-{s}-v{v}" for r, s, v in voyages.drop_duplicates().itertuples(index=False)}
    tc = _trajectories(written["full"])
    ids = {t.id for t in tc.trajectories}
    assert len(tc.trajectories) == len(expected)
    assert ids == expected
    for traj in tc.trajectories:  # each trajectory is one ship's
        assert traj.df["ship"].nunique() == 1


def test_thinned_file_keeps_every_trajectory(written: dict[str, Any]) -> None:
    full = pd.read_csv(written["full"] / "tracks.csv")
    thin = pd.read_csv(written["thin"] / "tracks.csv")
    assert len(thin) < 0.6 * len(full)
    assert set(thin["trajectory_id"]) == set(full["trajectory_id"])
    at_sea = full["status"].isin(["laden", "ballast"])
    assert (thin["status"].isin(["laden", "ballast"])).sum() == at_sea.sum()  # sea kept whole
    assert {t.id for t in _trajectories(written["thin"]).trajectories} == {
        t.id for t in _trajectories(written["full"]).trajectories
    }


def test_draught_rises_at_loading_and_falls_at_discharge(written: dict[str, Any]) -> None:
    result: RunResult = written["result"]
    tracks = pd.read_csv(written["full"] / "tracks.csv")
    assert set(tracks["draught_source"]) == {"estimate"}  # minimal's ships are not in the registry
    assert tracks["imo"].isna().all()
    act = activities(result.events, result.scenario.window.hours)
    checked = {"load": 0, "discharge": 0}
    for _, a in act[act["activity"].isin(["load", "discharge"]) & ~act["open"]].iterrows():
        g = tracks[tracks["ship"] == a["ship"]].set_index("t_h")["draught_m"]
        before = g[g.index <= a["start_h"]].iloc[-1]
        after = g[g.index >= a["end_h"]].iloc[0]
        during = g[(g.index > a["start_h"]) & (g.index < a["end_h"])].to_numpy()
        if a["activity"] == "load":
            assert after > before + 1.0  # metres deeper laden
            assert (np.diff(during) > 0).all()
        else:
            assert after < before - 1.0
            assert (np.diff(during) < 0).all()
        checked[a["activity"]] += 1
    assert checked["load"] >= 4 and checked["discharge"] >= 4
    laden = tracks.loc[tracks["status"] == "laden", "draught_m"]
    ballast = tracks.loc[tracks["status"] == "ballast", "draught_m"]
    assert laden.min() > ballast.max()


def test_csv_floats_are_rounded(written: dict[str, Any], tmp_path: Path) -> None:
    from sim.api import run_mc

    def decimals(path: Path) -> dict[str, int]:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        return {
            c: max((len(m.group(1)) for v in df[c] if (m := re.fullmatch(r"-?\d+\.(\d+)", v))),
                   default=0)
            for c in df.columns
        }  # fmt: skip

    tracks = decimals(written["full"] / "tracks.csv")
    assert tracks["lat"] <= 6 and tracks["lon"] <= 6
    assert tracks["sog_kn"] <= 3 and tracks["cog_deg"] <= 1 and tracks["draught_m"] <= 2
    assert tracks["t_h"] <= 4
    events = decimals(written["full"] / "events.csv")
    assert events["t_h"] <= 4 and events["cargo_bbl"] <= 1
    mc = run_mc(MINIMAL, n=20, options="serial", out=tmp_path / "mc", plots=False, progress=False)
    reps = decimals(tmp_path / "mc" / "replications.csv")
    assert reps["p_detect"] <= 4 and reps["loaded_bbl"] <= 1 and reps["loaded_t"] <= 1
    assert reps["capacity_bbl__ALPHA"] <= 1 and reps["speed_laden_kn_mean"] <= 3
    assert max(reps.values()) <= 6  # nothing like 16 digits
    # Parquet keeps the full precision.
    full = pd.read_parquet(tmp_path / "mc" / "replications.parquet")
    pd.testing.assert_frame_equal(full, mc.replications.reset_index(drop=True))


def test_run_cli_thins_idle_rows_and_routes_cli_writes_two_layers(tmp_path: Path) -> None:
    """`tankersim run --thin-idle` writes fewer rows and the same trajectories;
    `tankersim routes` writes the legs and the ports as two layers."""
    from typer.testing import CliRunner

    from sim.cli import app

    runner = CliRunner()
    full, thin = tmp_path / "full", tmp_path / "thin"
    for out, extra in ((full, []), (thin, ["--thin-idle"])):
        r = runner.invoke(app, ["run", MINIMAL, "--no-map", "--out", str(out), *extra])
        assert r.exit_code == 0, r.output
    a = pd.read_csv(full / "tracks.csv")
    b = pd.read_csv(thin / "tracks.csv")
    assert len(b) < len(a)
    assert set(b["trajectory_id"]) == set(a["trajectory_id"])
    r = runner.invoke(app, ["routes", MINIMAL, "--no-map", "--out", str(tmp_path / "r")])
    assert r.exit_code == 0, r.output
    lines = gpd.read_file(tmp_path / "r" / "routes.geojson")
    ports = gpd.read_file(tmp_path / "r" / "ports.geojson")
    assert set(lines.geom_type) == {"LineString"} and set(ports.geom_type) == {"Point"}
    assert "ports.geojson" in r.output
