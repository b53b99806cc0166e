"""Tests for the sea router (sim/routing.py).

Routers are built once per module into a temporary cache. The land check uses an independent
oracle, the GLOBE 30" land mask of ``global-land-mask``, not the router's own polygon.
"""

from __future__ import annotations

import itertools
import logging
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from global_land_mask import globe
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon

import sim.core.routing as routing
from sim.core.geo import LatLon, densify, geodesic_nm, path_length_nm
from sim.core.routing import (
    JEJU_STRAIT,
    ForbiddenArea,
    RoutingError,
    SeaRoute,
    SeaRouter,
    default_cache_dir,
    load_land,
)

DPRK_MARGIN_NM = 2.0
"""Margin used for the DPRK scenario routes: Natural Earth 10 m omits islands near 1 nm routes."""
SAMPLE_STEP_NM = 0.5  # 926 m: finer than 1 km


@pytest.fixture(scope="module")
def ports() -> dict[str, dict[str, Any]]:
    text = resources.files("sim").joinpath("data", "ports.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("route-cache")


@pytest.fixture(scope="module")
def dprk_router(cache_dir: Path) -> SeaRouter:
    return SeaRouter(margin_nm=DPRK_MARGIN_NM, forbidden=[JEJU_STRAIT], cache_dir=cache_dir)


@pytest.fixture(scope="module")
def open_router(cache_dir: Path) -> SeaRouter:
    return SeaRouter(margin_nm=DPRK_MARGIN_NM, cache_dir=cache_dir)


def port_route(router: SeaRouter, ports: dict[str, dict[str, Any]], a: str, b: str) -> SeaRoute:
    pa, pb = ports[a], ports[b]
    return router.route(
        LatLon(pa["lat"], pa["lon"]),
        LatLon(pb["lat"], pb["lon"]),
        a_name=a,
        b_name=b,
        a_approach=LatLon(**pa["approach"]),
        b_approach=LatLon(**pb["approach"]),
    )


def sea_samples(route: SeaRoute) -> np.ndarray:
    """Points along the route without the two pilotage legs, no more than 0.5 nm apart."""
    return np.array(densify(route.waypoints[1:-1], SAMPLE_STEP_NM))


# ------------------------------------------------------------------ land data
def test_land_data_keeps_islands_and_straits() -> None:
    land = load_land()
    assert isinstance(land, MultiPolygon)
    for name, lon, lat in [("Tsushima", 129.3, 34.4), ("Jeju", 126.55, 33.38)]:
        assert land.contains(shapely.Point(lon, lat)), name
    for name, lon, lat in [("Marado", 126.267, 33.117), ("Gapado", 126.2667, 33.1667)]:
        assert land.contains(shapely.Point(lon, lat)), name
    for name, lon, lat in [
        ("Korea Strait west channel", 129.0, 34.9),
        ("Yellow Sea", 124.5, 36.5),
        ("Sea of Japan", 132.0, 40.0),
    ]:
        assert not land.contains(shapely.Point(lon, lat)), name


def test_jeju_strait_polygon_is_anchored_on_land_at_both_shores() -> None:
    lats = np.array([p.lat for p in JEJU_STRAIT.polygon])
    lons = np.array([p.lon for p in JEJU_STRAIT.polygon])
    assert globe.is_land(lats, lons).all()
    # it spans the strait: from Jeju's north coast to the mainland
    assert lats.min() < 33.5 and lats.max() > 34.4


# ------------------------------------------------------------------ no land crossed
def test_no_gazetteer_route_crosses_land(
    dprk_router: SeaRouter, ports: dict[str, dict[str, Any]]
) -> None:
    crossings = []
    for a, b in itertools.combinations(sorted(ports), 2):
        route = port_route(dprk_router, ports, a, b)
        assert route.waypoints[0] == LatLon(ports[a]["lat"], ports[a]["lon"])
        assert route.waypoints[1] == LatLon(**ports[a]["approach"])
        assert route.waypoints[-1] == LatLon(ports[b]["lat"], ports[b]["lon"])
        pts = sea_samples(route)
        on_land = globe.is_land(pts[:, 0], pts[:, 1])
        crossings += [(a, b, *np.round(p, 3)) for p in pts[on_land]]
    assert crossings == []


def test_oracle_catches_a_straight_line_over_korea(ports: dict[str, dict[str, Any]]) -> None:
    # The check above would fail for a router that drew straight lines.
    straight = [LatLon(**ports["VOSTOCHNY"]["approach"]), LatLon(**ports["NAMPHO"]["approach"])]
    pts = np.array(densify(straight, SAMPLE_STEP_NM))
    assert globe.is_land(pts[:, 0], pts[:, 1]).sum() > 100


# ------------------------------------------------------------------ metric properties
def test_lengths_symmetric_consistent_and_at_least_geodesic(
    dprk_router: SeaRouter, ports: dict[str, dict[str, Any]]
) -> None:
    for a, b in itertools.combinations(sorted(ports), 2):
        ab = port_route(dprk_router, ports, a, b)
        ba = port_route(dprk_router, ports, b, a)
        assert ab.length_nm == pytest.approx(ba.length_nm, rel=1e-6), (a, b)
        assert ab.pilotage_nm == pytest.approx(ba.pilotage_nm, rel=1e-9), (a, b)
        assert ab.length_nm == pytest.approx(path_length_nm(ab.waypoints), rel=1e-9)
        chord = geodesic_nm(ab.waypoints[0], ab.waypoints[-1])
        assert ab.length_nm >= chord * (1 - 1e-9), (a, b)
        sea_chord = geodesic_nm(ab.waypoints[1], ab.waypoints[-2])
        assert ab.length_nm - ab.pilotage_nm >= sea_chord * (1 - 1e-9), (a, b)


sea_of_japan = st.tuples(st.floats(37.0, 41.5), st.floats(131.0, 137.0)).map(lambda t: LatLon(*t))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(a=sea_of_japan, b=sea_of_japan, c=sea_of_japan)
def test_random_sea_points_symmetric_and_triangle(
    dprk_router: SeaRouter, a: LatLon, b: LatLon, c: LatLon
) -> None:
    assume(
        not globe.is_land(np.array([a.lat, b.lat, c.lat]), np.array([a.lon, b.lon, c.lon])).any()
    )
    ab = dprk_router.route(a, b)
    ba = dprk_router.route(b, a)
    assert ab.length_nm == pytest.approx(ba.length_nm, rel=1e-6, abs=1e-9)
    assert ab.length_nm >= geodesic_nm(a, b) * (1 - 1e-9)
    assert ab.waypoints[0] == a and ab.waypoints[-1] == b
    ac = dprk_router.route(a, c)
    cb = dprk_router.route(c, b)
    # a shortest path is never longer than a detour through a third point
    assert ab.length_nm <= ac.length_nm + cb.length_nm + 1e-6


# ------------------------------------------------------------------ Jeju Strait
def test_vostochny_nampho_goes_korea_strait_then_south_of_jeju(
    dprk_router: SeaRouter, open_router: SeaRouter, ports: dict[str, dict[str, Any]]
) -> None:
    closed = port_route(dprk_router, ports, "VOSTOCHNY", "NAMPHO")
    assert closed.passes == ("Korea Strait", "south of Jeju")
    pts = sea_samples(closed)
    lat, lon = pts[:, 0], pts[:, 1]
    in_strait_band = (lat > 34.0) & (lat < 35.0) & (lon > 128.5) & (lon < 130.5)
    assert in_strait_band.any()
    near_jeju = (lon > 126.0) & (lon < 127.0)
    assert lat[near_jeju].min() < 33.1  # south of Jeju's south coast (~33.2 N)
    north_of_jeju = (lat > 33.6) & (lat < 34.3) & (lon > 126.35) & (lon < 126.8)
    assert not north_of_jeju.any()

    allowed = port_route(open_router, ports, "VOSTOCHNY", "NAMPHO")
    assert "Korea Strait" in allowed.passes
    assert "Jeju Strait" in allowed.passes  # the short way, when it is open
    assert closed.length_nm > allowed.length_nm + 20.0


def test_coastal_hop_passes_no_gate(
    dprk_router: SeaRouter, ports: dict[str, dict[str, Any]]
) -> None:
    route = port_route(dprk_router, ports, "VOSTOCHNY", "CHONGJIN")
    assert route.passes == ()
    assert 150.0 < route.length_nm < 200.0


def test_larger_margin_never_shortens_a_route(
    cache_dir: Path, dprk_router: SeaRouter, ports: dict[str, dict[str, Any]]
) -> None:
    narrow = SeaRouter(margin_nm=1.0, forbidden=[JEJU_STRAIT], cache_dir=cache_dir)
    assert SeaRouter(cache_dir=cache_dir).margin_nm == 2.0  # the default
    for b in ("CHONGJIN", "WONSAN", "NAMPHO"):
        short = port_route(narrow, ports, "VOSTOCHNY", b).length_nm
        wide = port_route(dprk_router, ports, "VOSTOCHNY", b).length_nm
        assert short <= wide + 1e-6, b


# ------------------------------------------------------------------ snapping and errors
def test_port_at_sea_needs_no_pilotage(dprk_router: SeaRouter) -> None:
    a, b = LatLon(40.0, 132.0), LatLon(39.0, 131.0)
    route = dprk_router.route(a, b)
    assert route.pilotage_nm == 0.0
    assert route.length_nm == pytest.approx(geodesic_nm(a, b), rel=1e-9)


def test_port_on_land_is_snapped_to_navigable_water(
    dprk_router: SeaRouter, ports: dict[str, dict[str, Any]]
) -> None:
    p = ports["CHONGJIN"]
    port = LatLon(p["lat"], p["lon"])
    assert globe.is_land(port.lat, port.lon)
    route = dprk_router.route(port, LatLon(40.0, 132.0), a_name="CHONGJIN")
    snapped = route.waypoints[1]
    assert not globe.is_land(snapped.lat, snapped.lon)
    assert 0.0 < route.pilotage_nm <= routing.SNAP_LIMIT_NM
    assert route.pilotage_nm == pytest.approx(geodesic_nm(port, snapped), rel=1e-9)


def test_inland_port_without_approach_raises_naming_it(dprk_router: SeaRouter) -> None:
    pyongyang = LatLon(39.03, 125.75)
    with pytest.raises(RoutingError) as err:
        dprk_router.route(LatLon(40.0, 132.0), pyongyang, b_name="PYONGYANG")
    assert err.value.port == "PYONGYANG"
    assert "PYONGYANG" in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)


def test_approach_on_land_raises_naming_the_port(
    dprk_router: SeaRouter, ports: dict[str, dict[str, Any]]
) -> None:
    p = ports["VOSTOCHNY"]
    on_land = LatLon(p["lat"], p["lon"])
    with pytest.raises(RoutingError, match=r"VOSTOCHNY.*on land") as err:
        dprk_router.route(on_land, LatLon(40.0, 132.0), a_name="VOSTOCHNY", a_approach=on_land)
    assert err.value.port == "VOSTOCHNY"


def test_approach_in_forbidden_area_raises(dprk_router: SeaRouter) -> None:
    in_strait = LatLon(33.9, 126.6)
    with pytest.raises(RoutingError, match="Jeju Strait") as err:
        dprk_router.route(LatLon(40.0, 132.0), in_strait, b_name="SHIP", b_approach=in_strait)
    assert err.value.port == "SHIP"


def test_enclosed_water_is_unreachable(dprk_router: SeaRouter) -> None:
    # Without its approach point, Nampho snaps into the Taedong estuary, which the margin
    # closes off from the sea: an enclosed water body.
    nampho = LatLon(38.728, 125.417)
    with pytest.raises(RoutingError, match="cut off") as err:
        dprk_router.route(LatLon(40.0, 132.0), nampho, b_name="NAMPHO")
    assert err.value.port == "NAMPHO"


NAKHODKA_BOOM = ForbiddenArea(
    "Nakhodka Bay boom",
    (LatLon(42.76, 132.84), LatLon(42.70, 133.06), LatLon(42.64, 133.03), LatLon(42.70, 132.80)),
)


def test_destination_blocked_by_forbidden_area_raises_naming_it(
    cache_dir: Path, ports: dict[str, dict[str, Any]]
) -> None:
    router = SeaRouter(margin_nm=DPRK_MARGIN_NM, forbidden=[NAKHODKA_BOOM], cache_dir=cache_dir)
    with pytest.raises(RoutingError, match="VOSTOCHNY") as err:
        port_route(router, ports, "CHONGJIN", "VOSTOCHNY")
    assert err.value.port == "VOSTOCHNY"
    with pytest.raises(RoutingError) as err:
        port_route(router, ports, "VOSTOCHNY", "CHONGJIN")
    assert err.value.port == "VOSTOCHNY"
    # ports outside the boom still route
    assert port_route(router, ports, "CHONGJIN", "WONSAN").length_nm > 0


def test_point_outside_the_land_data_raises(dprk_router: SeaRouter) -> None:
    with pytest.raises(RoutingError, match="outside the routing region") as err:
        dprk_router.route(LatLon(40.0, 132.0), LatLon(10.0, 110.0), b_name="SOUTH CHINA SEA")
    assert err.value.port == "SOUTH CHINA SEA"


def test_invalid_parameters_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="margin_nm"):
        SeaRouter(margin_nm=-1.0, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="3 distinct"):
        SeaRouter(
            forbidden=[ForbiddenArea("line", (LatLon(35, 130), LatLon(36, 131)))],
            cache_dir=tmp_path,
        )
    assert list(tmp_path.iterdir()) == []  # rejected before anything was built


# ------------------------------------------------------------------ cache
def test_cache_round_trip(
    cache_dir: Path,
    dprk_router: SeaRouter,
    ports: dict[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert dprk_router.cache_path.parent == cache_dir and dprk_router.cache_path.exists()

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("graph rebuilt although it was cached")

    monkeypatch.setattr(routing, "_build_graph", no_build)
    again = SeaRouter(margin_nm=DPRK_MARGIN_NM, forbidden=[JEJU_STRAIT], cache_dir=cache_dir)
    assert again.loaded_from_cache
    assert (again.n_nodes, again.n_edges) == (dprk_router.n_nodes, dprk_router.n_edges)
    for a, b in [("VOSTOCHNY", "NAMPHO"), ("RAJIN", "WONSAN")]:
        assert port_route(again, ports, a, b) == port_route(dprk_router, ports, a, b)
    with np.load(again.cache_path, allow_pickle=False) as npz:  # plain arrays, no pickle
        assert {"xy", "edge_i", "edge_j", "edge_nm", "obstacles_wkb"} <= set(npz.files)


def test_cache_key_separates_parameters(dprk_router: SeaRouter, open_router: SeaRouter) -> None:
    assert dprk_router.cache_path != open_router.cache_path
    assert dprk_router.n_edges != open_router.n_edges


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_cache_is_rebuilt(
    tmp_path: Path, dprk_router: SeaRouter, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    bad = tmp_path / dprk_router.cache_path.name
    good = dprk_router.cache_path.read_bytes()
    bad.write_bytes(b"not a zip file" if damage == "garbage" else good[: len(good) // 2])
    with caplog.at_level(logging.WARNING, logger="sim.core.routing"):
        router = SeaRouter(margin_nm=DPRK_MARGIN_NM, forbidden=[JEJU_STRAIT], cache_dir=tmp_path)
    assert not router.loaded_from_cache
    assert "unreadable route cache" in caplog.text
    assert router.n_edges == dprk_router.n_edges
    again = SeaRouter(margin_nm=DPRK_MARGIN_NM, forbidden=[JEJU_STRAIT], cache_dir=tmp_path)
    assert again.loaded_from_cache


def test_tampered_cache_is_rebuilt(
    dprk_router: SeaRouter,
    ports: dict[str, dict[str, Any]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A cache file with a valid name and key but edited distances (Nampho 1,065 -> 466 nm in
    the hostile test that found it) is not trusted: its checksum fails and it is rebuilt."""
    with np.load(dprk_router.cache_path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["edge_nm"] = arrays["edge_nm"] * 0.4  # shorter every edge, keep key and checksum
    with (tmp_path / dprk_router.cache_path.name).open("wb") as fh:
        np.savez(fh, allow_pickle=False, **arrays)
    with caplog.at_level(logging.INFO, logger="sim.core.routing"):
        router = SeaRouter(margin_nm=DPRK_MARGIN_NM, forbidden=[JEJU_STRAIT], cache_dir=tmp_path)
    assert not router.loaded_from_cache
    assert "does not match its checksum" in caplog.text
    assert "building the sea-route graph" in caplog.text  # a slow build is announced
    a = port_route(router, ports, "VOSTOCHNY", "NAMPHO")
    assert a == port_route(dprk_router, ports, "VOSTOCHNY", "NAMPHO")
    assert SeaRouter(
        margin_nm=DPRK_MARGIN_NM, forbidden=[JEJU_STRAIT], cache_dir=tmp_path
    ).loaded_from_cache  # the rebuilt file is trusted again


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TANKERSIM_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("TANKERSIM_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "tankersim"


def test_a_routed_leg_is_cached_and_read_back_the_same(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A scenario's sea legs are routed once: prepared again, its table is read from the leg
    cache (no router built) and equals the routed one exactly; another margin, or a damaged
    cache file, routes again."""
    import sim.core.routes as routes_mod
    from sim.core.config import load_scenario

    monkeypatch.setattr(routes_mod, "_leg_file", lambda _c, key: tmp_path / f"leg-{key[:32]}.json")
    sc = load_scenario(Path(__file__).parents[1] / "scenarios" / "osc-2024.toml")
    routed = routes_mod.build_route_table(sc)
    files = sorted(tmp_path.glob("leg-*.json"))
    assert len(files) == len(sc.discharge)

    def no_router(*a: Any, **k: Any) -> None:
        raise AssertionError("a cached leg was routed again")

    with monkeypatch.context() as m:
        m.setattr(routes_mod, "_make_router", no_router)
        assert routes_mod.build_route_table(sc).legs == routed.legs
    files[0].write_text("{not json", encoding="utf-8")  # damaged: routed again, same leg
    assert routes_mod.build_route_table(sc).legs == routed.legs
    wider = load_scenario(
        Path(__file__).parents[1] / "scenarios" / "osc-2024.toml",
        overrides={"routing.margin_nm": 3.0},
    )
    assert routes_mod._leg_key(
        wider, wider.port(wider.terminal.port), wider.port(min(wider.discharge)), regional=True
    ) != routes_mod._leg_key(
        sc, sc.port(sc.terminal.port), sc.port(min(sc.discharge)), regional=True
    )


def test_a_forbidden_area_far_from_the_region_routes_as_without_it() -> None:
    """An area in the Atlantic closes nothing between Vostochny and Korea: the regional router
    (whose projection holds only in its region) routes as without it, no error."""
    from sim.core.config import load_scenario
    from sim.core.routes import build_route_table

    path = Path(__file__).parents[1] / "scenarios" / "osc-2024.toml"
    far = [{"lat": 10.0, "lon": -30.0}, {"lat": 10.0, "lon": -20.0}, {"lat": 20.0, "lon": -20.0}]
    sc = load_scenario(
        path, overrides={"routing.forbidden_areas": [{"name": "far", "polygon": far}]}
    )
    assert build_route_table(sc).legs == build_route_table(load_scenario(path)).legs
    # the part of an area inside the region is kept, clipped to it
    across = ForbiddenArea(
        "across", (LatLon(35.0, 110.0), LatLon(35.0, 130.0), LatLon(40.0, 130.0))
    )
    (part,) = routing.in_region_parts([across, JEJU_STRAIT])[:1]
    assert part.name == "across" and min(p.lon for p in part.polygon) >= 117.0
    assert routing.in_region_parts([JEJU_STRAIT]) == (JEJU_STRAIT,)
