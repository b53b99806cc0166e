"""Routes over a world set of 20 port pairs, by plain coordinates, against an independent land
source: the GLOBE 30" (~1 km) land mask of ``global-land-mask`` (a dev dependency; the router
never reads it). Also the forgiving front end of ``sim.route``: ports by name, snapping to
navigable water, a point to itself, latitude/longitude swaps, regional rules.

The land test samples each route every ``SAMPLE_NM`` (~1 km) and requires no GLOBE land more
than ``PORT_RADIUS_M`` from either end. Canal passages (Suez, Panama) are skipped: land in
every land data set. Every other sample is judged on its own (``globe_misses``):

* on an ordinary leg (one that keeps the margin from the router's Natural Earth land), a GLOBE
  land sample fails, with no exception;
* on a leg that keeps less than the margin, each listed by the router (``narrow_legs`` out of
  fjords and rivers, the strait passages, ``close_legs``), a GLOBE land sample fails unless
  GLOBE has water within ``ACROSS_M`` of it across the leg (perpendicular, either side). Such a
  sample lies in a channel both sources show, at most ``ACROSS_M`` from where GLOBE draws it:
  the two sources' combined positional tolerance, Natural Earth 10 m's generalisation (0.2 mm
  at 1:10,000,000 is 2 km) plus one GLOBE cell (30" = 926 m), rounded to 3 km. Where the
  channels differ by less than that, no route can be water in both (Kola Bay below Murmansk:
  Natural Earth's channel runs up to 2 km north-west of GLOBE's); a route on land further from
  any GLOBE water than that, or on land beside an ordinary leg, still fails
  (``test_a_route_shifted_onto_land_fails``).

Measured when written: 38 such samples (29 in Kola Bay, 6 in the Bergen skerries, 2 in the
Taedong estuary below Nampho, 1 off the Florida Keys), GLOBE water at most 2.0 km across each;
before the router centred its narrow-water legs (``CLEAR_SHARE``) and widened its close runs
(``_widen``) there were 89, Qingdao, Ningbo, Singapore and Bangka among them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from global_land_mask import globe
from numpy.typing import NDArray

import sim
from sim.core.geo import WGS84, LatLon, densify, geodesic_nm
from sim.core.global_routing import PASSAGES, GlobalRoute, route
from sim.core.routing import RoutingError

SAMPLE_NM = 0.5
"""Spacing of the land-check samples along a route [nm] (926 m, about one GLOBE cell)."""
PORT_RADIUS_M = 10_000.0
"""Land is allowed this close to either end of a route [m] (berths, harbours, snaps)."""
ACROSS_M = 3_000.0
"""On a leg that keeps less than the margin, a GLOBE land sample passes when GLOBE has water
within this distance of it across the leg [m] (the two sources' positional tolerance, see
the module's docstring)."""
ACROSS_STEP_M = 100.0
"""Spacing of the points looked at across the leg [m] (a ninth of a GLOBE cell)."""

# Plain port coordinates (WGS84, latitude first) as a user would type them: city or harbour
# points from public gazetteers, not the router's approach points.
WORLD: dict[str, tuple[float, float]] = {
    "Nampho": (38.728, 125.417),  # the gazetteer's point, behind the West Sea Barrage
    "Qingdao": (36.067, 120.383),
    "Murmansk": (68.970, 33.075),  # Kola Bay, 50 km up a fjord 1-3 km wide
    "Vostochny": (42.733, 133.067),
    "Busan": (35.100, 129.040),
    "Ras Tanura": (26.644, 50.160),
    "Ningbo": (29.940, 121.880),  # Beilun; the city point (29.87, 121.55) is 10 nm inland
    "Valparaiso": (-33.030, -71.630),
    "Montevideo": (-34.905, -56.210),
    "Bergen": (60.393, 5.320),
    "Hammerfest": (70.663, 23.682),
    "Darwin": (-12.463, 130.845),
    "Dili": (-8.553, 125.578),
    "Surabaya": (-7.200, 112.733),
    "Rotterdam": (51.955, 4.050),
    "Singapore": (1.267, 103.833),
    "Shanghai": (30.620, 122.070),
    "Los Angeles": (33.733, -118.267),
    "Galveston": (29.310, -94.790),
    "Santos": (-23.950, -46.333),
    "Cape Town": (-33.900, 18.433),
    "Mumbai": (18.950, 72.833),
    "Piraeus": (37.942, 23.647),
    "Jeddah": (21.483, 39.167),
    "New York": (40.480, -74.010),
    "San Francisco": (37.808, -122.400),
    "Sydney": (-33.858, 151.214),
    "Auckland": (-36.843, 174.767),
    "Yokohama": (35.450, 139.650),
    "Honolulu": (21.300, -157.870),
    "Fremantle": (-32.050, 115.740),
    "Lagos": (6.400, 3.390),
}
PAIRS: tuple[tuple[str, str], ...] = (
    ("Vostochny", "Nampho"),
    ("Nampho", "Qingdao"),
    ("Qingdao", "Busan"),
    ("Murmansk", "Rotterdam"),
    ("Ras Tanura", "Ningbo"),  # the Anambas Islands, which Natural Earth lacks
    ("Valparaiso", "Montevideo"),  # round Cape Horn
    ("Bergen", "Hammerfest"),  # the Norwegian skerries
    ("Darwin", "Surabaya"),  # the Timor and Flores seas
    ("Dili", "Darwin"),
    ("Rotterdam", "Singapore"),
    ("Shanghai", "Los Angeles"),
    ("Galveston", "Santos"),
    ("Cape Town", "Mumbai"),
    ("Piraeus", "Jeddah"),
    ("New York", "San Francisco"),
    ("Sydney", "Auckland"),
    ("Yokohama", "Honolulu"),
    ("Lagos", "Rotterdam"),
    ("Fremantle", "Singapore"),
    ("Mumbai", "Ras Tanura"),
)

_ROUTES: dict[tuple[str, str], GlobalRoute] = {}


def world_route(a: str, b: str) -> GlobalRoute:
    if (a, b) not in _ROUTES:
        _ROUTES[a, b] = route(WORLD[a], WORLD[b], origin_name=a, destination_name=b)
    return _ROUTES[a, b]


def water_across(
    lat: NDArray[np.float64], lon: NDArray[np.float64], az: float, reach_m: float = ACROSS_M
) -> NDArray[np.bool_]:
    """For each point: whether GLOBE has water within ``reach_m`` of it across a leg of azimuth
    ``az`` [deg] (on the perpendicular, either side, every ``ACROSS_STEP_M``)."""
    n = len(lat)
    d = np.arange(ACROSS_STEP_M, reach_m + ACROSS_STEP_M / 2, ACROSS_STEP_M)
    found = np.zeros(n, dtype=bool)
    for side in (90.0, -90.0):
        la = np.repeat(lat, len(d))
        lo = np.repeat(lon, len(d))
        qlon, qlat, _ = WGS84.fwd(lo, la, np.full(len(la), az + side), np.tile(d, n))
        water = ~globe.is_land(np.asarray(qlat), np.asarray(qlon))
        found |= water.reshape(n, len(d)).any(axis=1)
    return found


def narrow_leg_indices(r: GlobalRoute) -> tuple[set[int], set[int]]:
    """The legs of ``r`` in canal passages, and those that keep less than the margin (fine-grid
    ``narrow_legs``, strait passages, ``close_legs``), by index."""
    wps = list(r.waypoints)
    canal: set[int] = set()
    narrow: set[int] = set()
    for i, j in r.passage_legs:
        is_canal = any(p.canal and wps[i] in (p.waypoints[0], p.waypoints[-1]) for p in PASSAGES)
        (canal if is_canal else narrow).update(range(i, j))
    for i, j in r.narrow_legs:
        narrow.update(range(i, j))
    narrow.update(r.close_legs)
    return canal, narrow


def globe_misses(
    wps: Sequence[LatLon], canal: set[int], narrow: set[int]
) -> tuple[list[tuple[str, float, float]], int]:
    """The samples of a route that fail the land test (as (leg kind, lat, lon)) and the number
    of GLOBE land samples excused on narrow legs (GLOBE water within ``ACROSS_M`` across)."""
    fails: list[tuple[str, float, float]] = []
    excused = 0
    for k in range(len(wps) - 1):
        if k in canal or wps[k] == wps[k + 1]:
            continue
        pts = np.array(densify([wps[k], wps[k + 1]], SAMPLE_NM))
        far = np.ones(len(pts), dtype=bool)
        for end in (wps[0], wps[-1]):
            n = len(pts)
            _, _, d = WGS84.inv(np.full(n, end.lon), np.full(n, end.lat), pts[:, 1], pts[:, 0])
            far &= np.asarray(d) > PORT_RADIUS_M
        bad = pts[far & globe.is_land(pts[:, 0], pts[:, 1])]
        if not len(bad):
            continue
        if k in narrow:
            az, _, _ = WGS84.inv(wps[k].lon, wps[k].lat, wps[k + 1].lon, wps[k + 1].lat)
            ok = water_across(bad[:, 0], bad[:, 1], float(az))
            excused += int(ok.sum())
            bad = bad[~ok]
        kind = "narrow" if k in narrow else "ordinary"
        fails.extend((kind, round(float(p[0]), 3), round(float(p[1]), 3)) for p in bad)
    return fails, excused


# ------------------------------------------------------------------ the world set
@pytest.mark.slow
def test_world_routes_cross_no_land_the_globe_mask_shows() -> None:
    """All 20 pairs route (Nampho, Qingdao and Murmansk by plain coordinates among them), and
    no sample outside 10 km of the ends is on GLOBE land, but on legs narrower than the margin
    where GLOBE has water within ``ACROSS_M`` across (the criterion of the module's docstring,
    judged sample by sample)."""
    fails: dict[str, list[tuple[str, float, float]]] = {}
    for a, b in PAIRS:
        r = world_route(a, b)
        assert r.distance_nm >= geodesic_nm(LatLon(*WORLD[a]), LatLon(*WORLD[b])) - 1e-6
        bad, _ = globe_misses(r.waypoints, *narrow_leg_indices(r))
        if bad:
            fails[f"{a}-{b}"] = bad[:5]
    assert fails == {}


NAMES: dict[str, str] = {"Lagos": "Lagos, Nigeria"}
"""The world set's ports by name as a user types them, where the name alone is ambiguous (the
World Port Index has a Lagos in Portugal, of the same size)."""
NAME_POINT_NM = 50.0
"""Largest distance between a port's position in the World Port Index and the terminal point
of ``WORLD`` [nm]: the index gives the harbour or the town (Shanghai's is on the Huangpu, 46 nm
from the Yangshan terminal of ``WORLD``; Rotterdam's in the city, 16 nm from Maasvlakte)."""


def pilotage_legs(r: GlobalRoute) -> set[int]:
    """The legs of ``r`` from a given point to where it joins the sea: a snap (the point moved
    to navigable water, reported in ``r.snapped`` and counted as pilotage) or a gazetteer
    port's leg to its approach point. They are not sea legs: a harbour up a river, a town's
    position in the World Port Index, joined to the sea in a straight line."""
    from sim.core.gazetteer import gazetteer

    pairs: set[tuple[LatLon, LatLon]] = set()
    for s in r.snapped:
        pairs |= {(s.given, s.to), (s.to, s.given)}
    for port in gazetteer().values():
        if port.approach is not None:
            pairs |= {(port.point, port.approach), (port.approach, port.point)}
    wps = r.waypoints
    return {k for k in (0, len(wps) - 2) if (wps[k], wps[k + 1]) in pairs}


@pytest.mark.slow
def test_world_routes_by_name_cross_no_land_the_globe_mask_shows() -> None:
    """The same 20 pairs by name (the case's gazetteer, then the World Port Index): each name
    is the port meant (its position within ``NAME_POINT_NM`` of the terminal in ``WORLD``) and
    every sea leg passes the land test above, with the 10 km measured from where the route joins
    the sea; the pilotage legs, reported as such, are not sea legs."""
    fails: dict[str, list[tuple[str, float, float]]] = {}
    for a, b in PAIRS:
        r = sim.route(NAMES.get(a, a), NAMES.get(b, b))
        for end, name in ((r.waypoints[0], a), (r.waypoints[-1], b)):
            assert geodesic_nm(end, LatLon(*WORLD[name])) < NAME_POINT_NM, (name, end)
        canal, narrow = narrow_leg_indices(r)
        pilot = pilotage_legs(r)
        first = 1 if 0 in pilot else 0
        last = len(r.waypoints) - 1 - (1 if len(r.waypoints) - 2 in pilot else 0)
        sea = r.waypoints[first : last + 1]  # from where the route joins the sea to where it leaves
        shift = {k - first for k in canal}, {k - first for k in narrow}
        bad, _ = globe_misses(sea, *shift)
        if bad:
            fails[f"{a}-{b}"] = bad[:5]
    assert fails == {}


@pytest.mark.slow
def test_a_route_shifted_onto_land_fails() -> None:
    """The exception can fail: the Murmansk route moved 5 km sideways (either way, onto the
    Kola peninsula, further than ``ACROSS_M`` from GLOBE's water) fails on its narrow legs, as
    does a narrow leg straight across a land mass; its excused samples, counted as on
    ordinary legs, fail outright."""
    r = world_route("Murmansk", "Rotterdam")
    canal, narrow = narrow_leg_indices(r)
    fails, excused = globe_misses(r.waypoints, canal, narrow)
    assert not fails and excused > 0  # Kola Bay: excused, GLOBE water across
    assert globe_misses(r.waypoints, canal, set())[0]  # no exception on ordinary legs
    for side in (90.0, -90.0):
        moved = []
        for p in r.waypoints:
            lon, lat, _ = WGS84.fwd(p.lon, p.lat, 45.0 + side, 5_000.0)
            moved.append(LatLon(float(lat), float(lon)))
        bad, _ = globe_misses(moved, canal, narrow)
        assert any(kind == "narrow" for kind, _, _ in bad), side
    # Across the Peloponnese, from the Gulf of Corinth to the Gulf of Laconia, as a narrow leg.
    across = [LatLon(38.20, 22.30), LatLon(36.70, 22.60)]
    bad, _ = globe_misses(across, set(), {0})
    assert len(bad) > 50


def test_oracle_sees_the_islands_natural_earth_lacks() -> None:
    """The GLOBE mask has land at the places the old router crossed (the user review's list),
    so the test above would catch a route through them."""
    for lat, lon in ((3.21, 106.23), (-55.68, -67.66), (61.06, 4.77), (30.17, 122.17)):
        near = [(lat + dy, lon + dx) for dy in np.linspace(-0.03, 0.03, 7) for dx in (0,)]
        assert any(globe.is_land(p[0], p[1]) for p in near), (lat, lon)


# ------------------------------------------------------------------ names and snapping
def test_ports_by_name_any_case_and_alias_use_the_approach_point() -> None:
    from sim.core.gazetteer import gazetteer
    from sim.core.routing import JEJU_STRAIT

    shut = [JEJU_STRAIT]  # the regional router answers: no global graph needed here
    r = sim.route("vostochny", "Nampo", forbidden=shut)
    s = sim.route("VOSTOCHNY", "NAMPHO", forbidden=shut)
    assert r.distance_nm == pytest.approx(s.distance_nm) and s.distance_nm > 1000
    nampho = gazetteer()["NAMPHO"]
    assert s.waypoints[-1] == nampho.point and s.waypoints[-2] == nampho.approach
    mixed = sim.route(
        "VOSTOCHNY",
        (nampho.lat, nampho.lon),
        destination_approach=nampho.approach,
        forbidden=shut,
    )
    assert mixed.distance_nm == pytest.approx(s.distance_nm)


def test_unknown_port_is_one_line_with_close_matches() -> None:
    with pytest.raises(RoutingError) as err:
        sim.route("NAMPOH", "VOSTOCHNY")
    msg = str(err.value)
    assert "\n" not in msg and "did you mean 'NAMPHO'?" in msg


def test_a_point_to_itself_is_zero() -> None:
    assert sim.route("NAMPHO", "nampo").distance_nm == 0.0
    assert sim.route((35.1, 129.04), (35.1, 129.04)).distance_nm == 0.0


def test_latitude_beyond_90_suggests_the_swap() -> None:
    with pytest.raises(RoutingError, match=r"did you mean \(38\.728, 125\.417\)\?"):
        sim.route((125.417, 38.728), "VOSTOCHNY")


@pytest.mark.slow
def test_a_point_on_land_whose_swap_is_by_the_sea_suggests_it() -> None:
    """Murmansk typed (lon, lat) lies in Afghanistan; its swap is Murmansk."""
    with pytest.raises(RoutingError) as err:
        sim.route((33.075, 68.970), (51.955, 4.050))
    msg = str(err.value)
    assert "did you mean (68.97, 33.075)?" in msg and "\n" not in msg


@pytest.mark.slow
def test_inland_points_are_snapped_and_reported() -> None:
    """Murmansk's city point: moved to Kola Bay (reported), then out by the fine grid; far
    inland: an error that says what to do."""
    r = world_route("Murmansk", "Rotterdam")
    assert r.snapped and r.snapped[0].end == "origin" and r.snapped[0].distance_nm < 2.0
    assert r.narrow_legs  # the way out of the fjord
    with pytest.raises(RoutingError, match="give it an approach point at sea, or move it"):
        sim.route((47.92, 106.92), "VOSTOCHNY")  # Ulaanbaatar


# ------------------------------------------------------------------ regional rules
def test_route_states_the_jeju_rule_and_the_scenario_distance() -> None:
    """`route` may pass the Jeju Strait; it says the scenarios forbid it and gives their
    distance, which is the scenario's own leg (1,065 nm for Vostochny-Nampho)."""
    from sim.core.routing import JEJU_STRAIT

    r = sim.route("VOSTOCHNY", "NAMPHO")
    shut = sim.route("VOSTOCHNY", "NAMPHO", forbidden=[JEJU_STRAIT])
    assert shut.distance_nm > r.distance_nm + 50 and "south of Jeju" in shut.passes
    jeju = [n for n in r.notes if "Jeju Strait" in n]
    assert len(jeju) == 1 and f"{shut.distance_nm:,.1f} nm" in jeju[0]
    assert not any("Jeju Strait" in n for n in shut.notes)
    assert any("West Sea Barrage" in n for n in r.notes)
    assert not any("West Sea Barrage" in n for n in sim.route("VOSTOCHNY", "CHONGJIN").notes)


def test_scenario_leg_equals_route_with_the_scenario_rules(tmp_path: object) -> None:
    from conftest import SCENARIOS

    from sim.core.config import load_scenario
    from sim.core.routes import build_route_table
    from sim.core.routing import JEJU_STRAIT

    sc = load_scenario(SCENARIOS / "osc-2024.toml")
    table = build_route_table(sc)
    leg = table.distance_nm("VOSTOCHNY", "NAMPHO")
    r = sim.route("VOSTOCHNY", "NAMPHO", margin_nm=sc.routing.margin_nm, forbidden=[JEJU_STRAIT])
    assert r.distance_nm == pytest.approx(leg, abs=1e-6)
