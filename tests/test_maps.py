"""Maps (sim.outputs.maps): files written, size, content and the no-land fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.tracks import tracks
from sim.api import RunResult, run
from sim.core.geo import LatLon, geodesic_nm
from sim.outputs.maps import lane_offset, map_extent, plot_map, port_label, scale_bar_nm

FIGSIZE_IN = (8.0, 6.0)
DPI = 60


@pytest.fixture(scope="module")
def minimal() -> RunResult:
    return run("scenarios/minimal.toml")


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def _share_of_colour(img: np.ndarray, hex_colour: str) -> float:
    return float((np.abs(img[:, :, :3] - _rgb(hex_colour)).max(axis=2) < 0.02).mean())


def test_plot_map_writes_a_readable_png_and_svg(minimal: RunResult, tmp_path: Path) -> None:
    from matplotlib.image import imread

    from sim.outputs.maps import _LAND, _SEA

    tr = tracks(minimal.events, minimal.scenario, minimal.routes, interval_h=2.0)
    paths = plot_map(
        minimal.scenario,
        minimal.routes,
        tmp_path / "maps" / "minimal",
        tracks=tr,
        figsize_in=FIGSIZE_IN,
        dpi=DPI,
    )
    assert paths == [tmp_path / "maps" / "minimal.png", tmp_path / "maps" / "minimal.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)

    img = imread(paths[0])
    assert img.shape[:2] == (FIGSIZE_IN[1] * DPI, FIGSIZE_IN[0] * DPI)
    assert img[:, :, :3].std() > 0.05  # not blank
    # Both sea and land are drawn, each over a good part of the map.
    assert _share_of_colour(img, _SEA) > 0.15
    assert _share_of_colour(img, _LAND) > 0.05

    svg = paths[1].read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    for port_id in ("VOSTOCHNY", "CHONGJIN"):
        assert f">{port_label(port_id)}<" in svg  # labels stay text
    # Legend (ships, route distance), title, graticule labels and the scale bar's unit.
    for text in ("ALPHA", "BRAVO", ": 157 nm<", minimal.scenario.title, "131°E<", "42°N<", " nm<"):
        assert text in svg


def test_plot_map_without_land_warns_and_still_draws(
    minimal: RunResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from matplotlib.image import imread

    import sim.core.routing
    from sim.outputs.maps import _LAND

    def broken() -> None:
        raise OSError("land file missing")

    monkeypatch.setattr(sim.core.routing, "load_land", broken)
    with caplog.at_level(logging.WARNING, logger="sim.outputs.maps"):
        paths = plot_map(
            minimal.scenario,
            minimal.routes,
            tmp_path / "noland",
            formats=("png",),
            figsize_in=FIGSIZE_IN,
            dpi=DPI,
        )
    assert [p.suffix for p in paths] == [".png"]
    assert "land file missing" in caplog.text
    img = imread(paths[0])
    assert _share_of_colour(img, _LAND) < 0.001
    assert img[:, :, :3].std() > 0.02


def test_map_extent_fits_points_and_frame() -> None:
    pts = np.array([[41.8, 129.8], [42.7, 133.1]])
    lon0, lon1, lat0, lat1 = map_extent(pts, 1.5)
    assert lon0 < 129.8 and lon1 > 133.1 and lat0 < 41.8 and lat1 > 42.7
    kx = np.cos(np.radians((lat0 + lat1) / 2))
    assert (lon1 - lon0) * kx / (lat1 - lat0) == pytest.approx(1.5)


def test_scale_bar_is_round_and_fits() -> None:
    for width_nm in (30.0, 75.0, 180.0, 430.0, 2500.0):
        bar = scale_bar_nm(width_nm)
        assert bar <= width_nm / 3
        assert bar > width_nm / 3 / 2.5  # not needlessly short
        assert f"{bar:g}"[0] in "125"


def test_lane_offset_is_perpendicular_and_same_side_both_ways() -> None:
    lat_c = 42.0
    lon = np.array([130.0, 130.5, 131.0, 131.0, np.nan, 131.0, 130.5, 130.0])
    lat = np.array([42.0, 42.0, 42.0, 42.0, np.nan, 42.0, 42.0, 42.0])
    lo, la = lane_offset(lon, lat, 0.01, lat_c)
    # Eastbound and westbound: both shifted north by the offset; longitudes unchanged.
    np.testing.assert_allclose(la[[1, 6]], 42.01)
    np.testing.assert_allclose(lo[[1, 6]], [130.5, 130.5])
    assert np.isnan(lo[4]) and np.isnan(la[4])
    # The shift on paper is the offset: 0.01 deg of latitude, about 0.6 nm.
    assert geodesic_nm(LatLon(42.0, 130.5), LatLon(la[1], lo[1])) == pytest.approx(0.6, abs=0.01)
    # A track turning through north (NNW, then NNE): the default side flips at the turn,
    # a heading sign keeps it (to the left of travel, i.e. west, on both legs).
    lon = np.array([130.1, 130.0, 130.1])
    lat = np.array([40.0, 41.0, 42.0])
    lo, _ = lane_offset(lon, lat, 0.01, lat_c)
    assert lo[0] > 130.1 > lo[2]
    lo, _ = lane_offset(lon, lat, 0.01, lat_c, np.ones(3))
    assert lo[0] < 130.1 and lo[2] < 130.1
    lo, _ = lane_offset(lon, lat, 0.01, lat_c, np.zeros(3))
    np.testing.assert_array_equal(lo, lon)
