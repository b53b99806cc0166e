"""The global sea router (sim/core/global_routing.py) against published distances outside Korea,
and its routes against the land: the shipped Natural Earth land and, independently, the GLOBE
30" land mask of ``global-land-mask``.

Published figures are from NGA Pub. 151 *Distances Between Ports*, read from the transcription
``PUB151_raw.txt`` in the public repository kaklin/sea-routes (commit c86d618). Port points are
the Pub. 151 positions ("central positions that most represent each port"); the router moves
each to navigable water (the move is counted). One router is built per
session into the session's cache (~10 s); a warm route takes tens of milliseconds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import shapely
from global_land_mask import globe

from sim.core.gazetteer import gazetteer
from sim.core.geo import WGS84, LatLon, densify, geodesic_nm, path_length_nm
from sim.core.global_routing import (
    LAT_LIMITS,
    PASSAGES,
    GlobalRoute,
    GlobalSeaRouter,
    load_global_land,
    route,
)
from sim.core.routing import ForbiddenArea, RoutingError, default_cache_dir

PUB151 = "NGA Pub. 151 (kaklin/sea-routes PUB151_raw.txt @ c86d618)"
TOLERANCE = 0.10
"""Router length within 10 % of the published figure [-]."""
SAMPLE_NM = 1.0
"""Spacing of the land-check samples along a route [nm]."""

PORTS: dict[str, LatLon] = {
    # Pub. 151 positions
    "Rotterdam": LatLon(51.9000, 4.4667),
    "Singapore": LatLon(1.2667, 103.8333),
    "Port Said": LatLon(31.2667, 32.3167),
    "Istanbul": LatLon(41.0208, 28.9858),
    "Odessa": LatLon(46.4964, 30.7444),
    "Strait of Gibraltar": LatLon(35.9500, -5.7500),
    "New York": LatLon(40.7000, -74.0167),
    "Panama": LatLon(8.8833, -79.5167),
    "Colon": LatLon(9.3667, -79.9167),
    "San Francisco": LatLon(37.8083, -122.4000),
    "Yokohama": LatLon(35.4500, 139.6500),
    "Shanghai": LatLon(31.2333, 121.4917),
    "Nampo": LatLon(38.7167, 125.4167),
    "Vardo": LatLon(70.3750, 31.1167),
    "Lisboa": LatLon(38.7000, -9.1333),
    "Cape Town": LatLon(-33.9000, 18.4333),
}
APPROACH: dict[str, LatLon] = {
    # Pub. 151's Nampo is the gazetteer's Nampho point to ~0.01 deg: use its hand-placed approach
    "Nampo": gazetteer()["NAMPHO"].approach or LatLon(38.690, 124.950),
}


@dataclass(frozen=True)
class Reference:
    """A published sea distance between two ports."""

    a: str
    b: str
    published_nm: float
    source: str
    via: str = ""

    @property
    def id(self) -> str:
        return f"{self.a}-{self.b}"


REFERENCES = (
    Reference(
        "Rotterdam",
        "Singapore",
        444 + 918 + 1943 + 5035,
        PUB151 + ": Rotterdam-Ile d'Ouessant 444, Ouessant-Strait of Gibraltar 918, "
        "Gibraltar-Port Said 1943, Port Said-Singapore 5035 (junction points)",
        "Dover, Gibraltar, Suez, Bab-el-Mandeb, Malacca",
    ),
    Reference("Singapore", "Port Said", 5035, PUB151, "Malacca, Bab-el-Mandeb, Suez"),
    Reference("Istanbul", "Port Said", 804, PUB151, "Dardanelles"),
    Reference("Istanbul", "Odessa", 352, PUB151, "Bosphorus"),
    Reference("Istanbul", "Strait of Gibraltar", 1821, PUB151, "Dardanelles, Gibraltar"),
    Reference("New York", "Panama", 2016, PUB151 + " (via Windward Passage)", "Panama Canal"),
    Reference("San Francisco", "Panama", 3245, PUB151, "Golden Gate"),
    Reference("Yokohama", "San Francisco", 4536, PUB151, "antimeridian"),
    Reference("Rotterdam", "Vardo", 1513, PUB151, "North Cape, 71 N"),
    Reference("New York", "Lisboa", 2980, PUB151, "North Atlantic"),
    Reference("Cape Town", "New York", 6786, PUB151, "South Atlantic"),
    Reference("Singapore", "Yokohama", 2889, PUB151, "South China Sea"),
    Reference("Singapore", "Shanghai", 2207, PUB151, "Singapore Strait"),
    Reference(
        "Shanghai",
        "Nampo",
        561,
        PUB151 + "; the published pair closest to Ningbo-Nampho (Pub. 151 has no Ningbo)",
        "Yellow Sea",
    ),
)

PORT_RADIUS_M = 10_000.0
"""GLOBE land is allowed this close to either end of a route [m] (harbours, snaps)."""
MAX_CLOSE_SAMPLES = 30
"""Most 1 nm samples all reference routes together may have on GLOBE land on legs that keep
less than the margin from Natural Earth (``close_legs``), where the two sources draw a coast
a cell apart [-]."""

NINGBO = LatLon(29.87, 121.55)
"""Ningbo port point of the brief (Beilun lies east of it); not in Pub. 151."""


@pytest.fixture(scope="module")
def router() -> GlobalSeaRouter:
    """In the session's cache folder (tests/conftest.py), shared with ``sim.route`` in the other
    modules: the graph is built once per session."""
    return GlobalSeaRouter(margin_nm=2.0, cache_dir=default_cache_dir())


_ROUTES: dict[tuple[int, str, str], GlobalRoute] = {}


def ref_route(router: GlobalSeaRouter, a: str, b: str) -> GlobalRoute:
    key = (id(router), a, b)
    if key not in _ROUTES:
        _ROUTES[key] = router.route(
            PORTS[a],
            PORTS[b],
            a_name=a,
            b_name=b,
            a_approach=APPROACH.get(a),
            b_approach=APPROACH.get(b),
        )
    return _ROUTES[key]


def ningbo_nampho(router: GlobalSeaRouter) -> GlobalRoute:
    nampho = gazetteer()["NAMPHO"]
    return router.route(
        NINGBO, nampho.point, a_name="Ningbo", b_name="NAMPHO", b_approach=nampho.approach
    )


def checked_samples(r: GlobalRoute, narrow: bool = True, close: bool = True) -> np.ndarray:
    """(lat, lon) samples every SAMPLE_NM along the route, without the pilotage legs at both
    ends (port point to approach point) and canal passages; with ``narrow=False``, also without
    the strait passages and the fine-grid legs out of narrow water; with ``close=False``, only
    the legs that keep less than the margin (``close_legs``)."""
    wps = list(r.waypoints)
    skip = {(0, 1), (len(wps) - 2, len(wps) - 1)}
    for i, j in r.passage_legs:
        canal = any(p.canal and wps[i] in (p.waypoints[0], p.waypoints[-1]) for p in PASSAGES)
        if canal or not narrow:
            skip.update((k, k + 1) for k in range(i, j))
    if not narrow:
        for i, j in r.narrow_legs:
            skip.update((k, k + 1) for k in range(i, j))
    pts: list[LatLon] = []
    for k in range(len(wps) - 1):
        if (k, k + 1) in skip or wps[k] == wps[k + 1] or (not close and k not in r.close_legs):
            continue
        pts.extend(densify([wps[k], wps[k + 1]], SAMPLE_NM))
    return np.array(pts).reshape(-1, 2)


def away_from_ends(r: GlobalRoute, pts: np.ndarray) -> np.ndarray:
    """Which samples lie more than PORT_RADIUS_M from both ends of the route."""
    out = np.ones(len(pts), dtype=bool)
    for e in (r.waypoints[0], r.waypoints[-1]):
        n = len(pts)
        _, _, d = WGS84.inv(np.full(n, e.lon), np.full(n, e.lat), pts[:, 1], pts[:, 0])
        out &= np.asarray(d) > PORT_RADIUS_M
    return out


@pytest.fixture(scope="module")
def land_tree() -> tuple[shapely.STRtree, np.ndarray]:
    polys = load_global_land().copy()
    shapely.prepare(polys)
    return shapely.STRtree(polys), polys


def on_shipped_land(tree: shapely.STRtree, pts: np.ndarray) -> np.ndarray:
    """Which (lat, lon) points lie in the shipped land (prepared polygons, exact test)."""
    points = shapely.points(pts[:, 1], pts[:, 0])
    i_pt, i_poly = tree.query(points)
    polys = np.asarray(tree.geometries)
    hit = shapely.intersects(polys[i_poly], points[i_pt])
    out = np.zeros(len(pts), dtype=bool)
    out[i_pt[hit]] = True
    return out


# ------------------------------------------------------------------ published distances
@pytest.mark.parametrize("ref", REFERENCES, ids=[r.id for r in REFERENCES])
def test_route_within_ten_percent_of_published(router: GlobalSeaRouter, ref: Reference) -> None:
    r = ref_route(router, ref.a, ref.b)
    ratio = r.length_nm / ref.published_nm
    assert abs(ratio - 1) <= TOLERANCE, (
        f"{ref.id}: router {r.length_nm:.1f} nm, published {ref.published_nm} nm "
        f"({ref.source}), ratio {ratio:.3f}"
    )
    # the straight line would not pass where the route detours materially
    straight = geodesic_nm(PORTS[ref.a], PORTS[ref.b])
    if r.length_nm > 1.15 * straight:
        assert straight / ref.published_nm < 1 - TOLERANCE, ref.id


def test_canal_and_strait_routes_use_their_passages(router: GlobalSeaRouter) -> None:
    assert "Suez Canal" in ref_route(router, "Rotterdam", "Singapore").passes
    assert "Panama Canal" in ref_route(router, "New York", "Panama").passes
    assert ref_route(router, "Istanbul", "Odessa").passes == ("Bosphorus",)
    assert "Dardanelles" in ref_route(router, "Istanbul", "Port Said").passes


def test_antimeridian_route_crosses_it_and_splits_its_geojson(router: GlobalSeaRouter) -> None:
    r = ref_route(router, "Yokohama", "San Francisco")
    lons = np.array([p.lon for p in r.waypoints])
    assert np.any(np.abs(np.diff(lons)) > 180)
    feat = r.to_geojson()
    assert feat["geometry"]["type"] == "MultiLineString"
    for line in feat["geometry"]["coordinates"]:
        assert all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in line)
    assert feat["properties"]["distance_nm"] == pytest.approx(r.distance_nm, abs=1e-3)


# ------------------------------------------------------------------ land-free
def test_reference_routes_are_land_free(
    router: GlobalSeaRouter, land_tree: tuple[shapely.STRtree, np.ndarray]
) -> None:
    """Against the shipped land: nothing on land but pilotage legs and canals. Against the
    independent GLOBE mask, more than 10 km from the ends: nothing on the legs that keep the
    margin (the islets Natural Earth lacks are in the shipped land now); a bounded number of
    samples on the legs that keep less (``close_legs``); the legs in waters narrower than its
    30" (~900 m) cells (strait passages and fine-grid legs) are not checked against it."""
    tree, _ = land_tree
    shipped, oracle, close = [], [], 0
    routes = [ref_route(router, r.a, r.b) for r in REFERENCES] + [ningbo_nampho(router)]
    for r in routes:
        pts = checked_samples(r)
        assert pts[:, 0].max() <= LAT_LIMITS[1] + 1e-9
        shipped += [tuple(np.round(p, 3)) for p in pts[on_shipped_land(tree, pts)]]
        wide = checked_samples(r, narrow=False)
        near = set(map(tuple, checked_samples(r, narrow=False, close=False)))
        for p in wide[globe.is_land(wide[:, 0], wide[:, 1]) & away_from_ends(r, wide)]:
            if tuple(p) in near:
                close += 1
            else:
                oracle.append(tuple(np.round(p, 3)))
    assert shipped == []
    assert oracle == []
    assert close <= MAX_CLOSE_SAMPLES


def test_oracle_would_catch_a_straight_line(land_tree: tuple[shapely.STRtree, np.ndarray]) -> None:
    tree, _ = land_tree
    pts = np.array(densify([PORTS["Rotterdam"], PORTS["Singapore"]], SAMPLE_NM))
    assert on_shipped_land(tree, pts).sum() > 1000
    assert globe.is_land(pts[:, 0], pts[:, 1]).sum() > 1000


# ------------------------------------------------------------------ Ningbo-Nampho
def test_ningbo_nampho_is_sane(router: GlobalSeaRouter) -> None:
    """No published figure: Pub. 151 has no Ningbo. The closest published pair, Shanghai-Nampo
    (561 nm), is tested above; Ningbo lies ~90 nm south of Shanghai, so Ningbo-Nampho must be
    a little longer than the straight line and of the same size as Shanghai-Nampo."""
    r = ningbo_nampho(router)
    nampho = gazetteer()["NAMPHO"]
    assert r.waypoints[0] == NINGBO and r.waypoints[-1] == nampho.point
    assert r.waypoints[-2] == nampho.approach
    straight = geodesic_nm(NINGBO, nampho.point)
    assert 1.0 <= r.length_nm / straight <= 1.3
    assert 561 <= r.length_nm <= 561 * 1.3
    assert r.length_nm == pytest.approx(path_length_nm(r.waypoints), rel=1e-9)


# ------------------------------------------------------------------ API and errors
def test_route_one_call_api(tmp_path: Path, router: GlobalSeaRouter) -> None:
    r = route(
        (PORTS["Istanbul"].lat, PORTS["Istanbul"].lon),
        (PORTS["Odessa"].lat, PORTS["Odessa"].lon),
        margin_nm=2.0,
        cache_dir=router.cache_path.parent,
    )
    assert r.method == GlobalSeaRouter.method
    assert r.distance_nm == pytest.approx(ref_route(router, "Istanbul", "Odessa").length_nm)
    feat = r.feature
    assert feat["type"] == "Feature" and feat["geometry"]["type"] == "LineString"
    first = feat["geometry"]["coordinates"][0]
    assert first == [round(PORTS["Istanbul"].lon, 6), round(PORTS["Istanbul"].lat, 6)]  # lon, lat
    props = feat["properties"]
    assert set(props) >= {"distance_nm", "margin_nm", "method", "land_data"}
    assert props["land_data"].startswith("Natural Earth 5.1.1")
    json.dumps(r.to_geojson())


def test_route_in_region_uses_regional_router(tmp_path: Path) -> None:
    r = route((42.733, 133.067), (41.796, 129.776), cache_dir=tmp_path)
    assert r.method == "regional visibility graph"


def test_unreachable_points_raise_one_line_errors(router: GlobalSeaRouter) -> None:
    with pytest.raises(RoutingError) as err:  # Caspian Sea: cut off from the ocean
        router.route(LatLon(42.98, 47.50), PORTS["Rotterdam"], a_name="Makhachkala", b_name="R")
    assert err.value.port == "Makhachkala" and "\n" not in str(err.value)
    with pytest.raises(RoutingError, match="Ulaanbaatar"):  # far inland
        router.route(LatLon(47.92, 106.92), PORTS["Shanghai"], a_name="Ulaanbaatar", b_name="S")
    with pytest.raises(RoutingError, match="latitude limits"):
        router.route(LatLon(76.0, 100.0), PORTS["Vardo"], a_name="Taymyr", b_name="V")


def test_strait_passages_are_land_free_and_canals_are_documented(
    land_tree: tuple[shapely.STRtree, np.ndarray],
) -> None:
    tree, _ = land_tree
    for p in PASSAGES:
        assert p.source and p.length_nm > 10
        pts = np.array(densify(list(p.waypoints), 0.05))
        on = on_shipped_land(tree, pts)
        if p.canal:
            assert on.any(), p.name  # a canal crosses land in the data: that is why it is here
        else:
            assert not on.any(), p.name


def test_cache_is_reused(router: GlobalSeaRouter) -> None:
    again = GlobalSeaRouter(margin_nm=2.0, cache_dir=router.cache_path.parent)
    assert again.loaded_from_cache and again.n_nodes == router.n_nodes
    assert math.isclose(
        again.route(PORTS["Istanbul"], PORTS["Odessa"]).length_nm,
        router.route(PORTS["Istanbul"], PORTS["Odessa"]).length_nm,
    )


def test_scenario_leg_outside_the_region_uses_the_global_router(
    tmp_path: Path, router: GlobalSeaRouter
) -> None:
    from conftest import ROOT

    from sim.core.config import load_scenario
    from sim.core.routes import build_route_table

    text = (ROOT / "scenarios" / "minimal.toml").read_text(encoding="utf-8")
    text = text.replace('method = "geodesic"', 'method = "sea"').replace(
        "[discharge.CHONGJIN]",
        '[ports.NINGBO]\nname = "Ningbo"\nlat = 29.87\nlon = 121.55\n\n'
        "[discharge.NINGBO]\nshare = 0.5\nrate_bbl_per_h = 1000.0\npre_pump_h = 1.0\n"
        "post_pump_h = 1.0\n\n[discharge.CHONGJIN]\nshare = 0.5",
    )
    path = tmp_path / "ningbo.toml"
    path.write_text(text, encoding="utf-8")
    table = build_route_table(load_scenario(path), cache_dir=router.cache_path.parent)
    ningbo = table.leg("VOSTOCHNY", "NINGBO")
    assert ningbo.method == "sea" and ningbo.waypoints[-1] == NINGBO
    assert geodesic_nm(ningbo.waypoints[0], NINGBO) < ningbo.distance_nm < 1200
    # the in-region leg is the regional router's, as before (docs/routing.md: 163.7 nm)
    assert round(table.distance_nm("VOSTOCHNY", "CHONGJIN"), 1) == 163.7


if __name__ == "__main__":  # print the reference table of docs/routing.md
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        gr = GlobalSeaRouter(margin_nm=2.0, cache_dir=Path(tmp))
        print("| pair | published [nm] | router [nm] | of which pilotage | ratio | passes |")
        for ref in REFERENCES:
            r = ref_route(gr, ref.a, ref.b)
            print(
                f"| {ref.id} | {ref.published_nm:,} | {r.length_nm:,.1f} | {r.pilotage_nm:.1f} "
                f"| {r.length_nm / ref.published_nm:.3f} | {', '.join(r.passes)} |"
            )
        nn = ningbo_nampho(gr)
        nampho = gazetteer()["NAMPHO"].point
        print(
            f"Ningbo-Nampho {nn.length_nm:.1f} nm (pilotage {nn.pilotage_nm:.1f}), straight "
            f"{geodesic_nm(NINGBO, nampho):.1f} nm"
        )


# ------------------------------------------------------- sim.route, the CLI, forbidden areas
def test_sim_route_is_exported_with_a_short_repr(router: GlobalSeaRouter) -> None:
    import sim

    assert "route" in dir(sim) and sim.route is route
    r = sim.route((51.95, 4.05), (1.25, 103.8), cache_dir=router.cache_path.parent)
    text = repr(r)
    assert len(text) < 250 and "via Suez Canal" in text and f"{r.distance_nm:,.1f} nm" in text


def test_cli_route_prints_the_distance_and_writes_geojson(tmp_path: Path) -> None:
    """`tankersim route` takes LAT,LON or gazetteer ports; --out is a GeoJSON Feature that
    GeoPandas reads in EPSG:4326; its length is sim.route's."""
    import geopandas as gpd
    from typer.testing import CliRunner

    from sim.cli import app

    runner = CliRunner()
    out = tmp_path / "r.geojson"
    res = runner.invoke(app, ["route", "51.95,4.05", "1.25,103.8", "--out", str(out)])
    assert res.exit_code == 0, res.output
    expected = route((51.95, 4.05), (1.25, 103.8))
    assert f"{expected.distance_nm:,.1f} nm" in res.output and "via Suez Canal" in res.output
    layer = gpd.read_file(out)
    assert layer.crs.to_epsg() == 4326 and list(layer.geom_type) == ["LineString"]
    assert layer["distance_nm"].iloc[0] == pytest.approx(expected.distance_nm, abs=1e-3)
    res = runner.invoke(app, ["route", "VOSTOCHNY", "CHONGJIN"])
    assert res.exit_code == 0 and "regional visibility graph" in res.output, res.output
    for args, needle in (
        (["NAMPOH", "1,2"], "did you mean 'NAMPHO'?"),
        (["95,3", "1,2"], "-90 <= LAT <= 90"),
    ):
        res = runner.invoke(app, ["route", *args])
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and needle in lines[0], res.output


def test_a_forbidden_area_on_the_global_router_sends_the_route_round_it(
    tmp_path: Path, router: GlobalSeaRouter
) -> None:
    """Closing the Suez Canal sends Rotterdam-Singapore round the Cape of Good Hope: longer,
    no Suez passage, and south of 34 S somewhere on the way."""
    suez = ForbiddenArea(
        "Suez closed",
        (LatLon(29.5, 31.8), LatLon(29.5, 33.0), LatLon(31.6, 33.0), LatLon(31.6, 31.8)),
    )
    open_ = route((51.95, 4.05), (1.25, 103.8), cache_dir=router.cache_path.parent)
    shut = route((51.95, 4.05), (1.25, 103.8), forbidden=[suez], cache_dir=router.cache_path.parent)
    assert "Suez Canal" in open_.passes and "Suez Canal" not in shut.passes
    assert shut.distance_nm > open_.distance_nm + 2000
    assert min(p.lat for p in shut.waypoints) < -34.0
