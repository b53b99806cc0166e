"""Ship tracks (sim.analysis.tracks): positions, speeds, statuses, sampling and GeoJSON."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import base_raw
from numpy.typing import NDArray

from sim.analysis.tracks import (
    LEGS,
    STATUSES,
    TRACK_COLUMNS,
    LegPath,
    fit_offsets,
    on_land,
    ports_geojson,
    routes_geojson,
    sample_times_h,
    spread_taper,
    tracks,
    tracks_geojson,
)
from sim.api import RunResult, prepare, run
from sim.core.config import validate_dict
from sim.core.errors import ScenarioError
from sim.core.geo import M_PER_NM, WGS84, LatLon, geodesic_nm, path_length_nm
from sim.model.events import activities
from sim.outputs.files import write_tracks

A = LatLon(40.0, 130.0)
B = LatLon(41.0, 131.0)
BEND = LatLon(40.0, 130.9)
"""A pinned waypoint: the A-B leg runs east ~41 nm, then north ~60 nm."""


def one_ship_raw(days: int = 10) -> dict[str, Any]:
    """One fixed ship, terminal A, discharge port B behind a lock, a bent pinned route."""
    raw = base_raw()
    raw["window"]["end"] = raw["window"]["start"] + dt.timedelta(days=days - 1)
    raw["ports"] = {"A": {"lat": A.lat, "lon": A.lon}, "B": {"lat": B.lat, "lon": B.lon}}
    raw["terminal"]["anchorage_h"] = 2.0
    raw["discharge"]["B"]["lock"] = {"name": "Barrage", "transit_h": 1.0}
    raw["fleet"]["c"]["turnaround_days"] = 0.5
    raw["routing"] = {
        "method": "geodesic",
        "legs": [{"from": "A", "to": "B", "waypoints": [{"lat": BEND.lat, "lon": BEND.lon}]}],
    }
    return raw


@pytest.fixture(scope="module")
def one_ship() -> RunResult:
    return run(validate_dict(one_ship_raw()))


def sails(result: RunResult) -> pd.DataFrame:
    act = activities(result.events, result.scenario.window.hours)
    return act[(act["activity"] == "sail") & ~act["open"]].reset_index(drop=True)


def at(df: pd.DataFrame, t_h: float) -> pd.Series:
    """The sample nearest to ``t_h`` (asserting it is within a microsecond)."""
    i = int(np.argmin(np.abs(df["t_h"].to_numpy() - t_h)))
    assert abs(df["t_h"].iat[i] - t_h) < 1e-9
    return df.iloc[i]


def nm_from(row: pd.Series, point: LatLon) -> float:
    return geodesic_nm(LatLon(row["lat"], row["lon"]), point)


# --------------------------------------------------------------------------- geometry


def test_leg_path_ends_and_zero_length_segments() -> None:
    # A port repeated as its own approach makes a zero-length segment.
    path = LegPath.from_waypoints([A, A, BEND, B, B])
    assert path.length_nm == pytest.approx(path_length_nm([A, BEND, B]), abs=1e-9)
    lat, lon = path.position(np.array([0.0, path.length_nm, 2 * path.length_nm, -1.0]))
    assert (lat[0], lon[0]) == pytest.approx(A, abs=1e-9)
    assert (lat[1], lon[1]) == pytest.approx(B, abs=1e-9)
    assert (lat[2], lon[2]) == pytest.approx(B, abs=1e-9)  # clipped to the path
    assert (lat[3], lon[3]) == pytest.approx(A, abs=1e-9)


def test_leg_path_points_lie_on_the_geodesics() -> None:
    path = LegPath.from_waypoints([A, BEND, B])
    first_nm = geodesic_nm(A, BEND)
    s = np.linspace(0.0, path.length_nm, 23)
    lat, lon = path.position(s)
    for s_nm, p in zip(s, (LatLon(*x) for x in zip(lat, lon, strict=True)), strict=True):
        if s_nm <= first_nm:
            along = geodesic_nm(A, p)
            rest = geodesic_nm(p, BEND) + geodesic_nm(BEND, B)
        else:
            along = first_nm + geodesic_nm(BEND, p)
            rest = geodesic_nm(p, B)
        assert along == pytest.approx(s_nm, abs=1e-6)
        assert along + rest == pytest.approx(path.length_nm, abs=1e-6)  # on the path, not off it


def test_sample_times() -> None:
    assert len(sample_times_h(480.0, 0.1)) == 4801  # not lost to rounding
    assert sample_times_h(10.0, 3.0).tolist() == [0.0, 3.0, 6.0, 9.0]
    with pytest.raises(ValueError, match="interval_h"):
        sample_times_h(10.0, 0.0)


# --------------------------------------------------------------------------- positions


def test_positions_at_sail_start_and_end_are_the_port_points(one_ship: RunResult) -> None:
    sc, routes = one_ship.scenario, one_ship.routes
    sl = sails(one_ship)
    first = sl.iloc[0]
    assert first["start_h"] == 1.0  # after the 1 h lock: sampled exactly at 1 h intervals
    tr = tracks(one_ship.events, sc, routes, interval_h=1.0)
    row = at(tr, 1.0)
    assert row["status"] == "ballast"
    assert nm_from(row, B) < 1e-9
    for _, s in sl.iloc[:2].iterrows():  # one passage each way
        origin = B if s["place"] == "B" else A
        dest = A if s["place"] == "B" else B
        for t_h, point in ((s["start_h"], origin), (s["end_h"], dest)):
            tr = tracks(one_ship.events, sc, routes, interval_h=t_h / 50)
            assert nm_from(at(tr, t_h), point) < 1e-6


def test_halfway_in_time_is_halfway_along_the_path(one_ship: RunResult) -> None:
    sc, routes = one_ship.scenario, one_ship.routes
    first_a_nm = geodesic_nm(A, BEND)
    checked = set()
    for _, s in sails(one_ship).iloc[:2].iterrows():
        mid_h = (s["start_h"] + s["end_h"]) / 2
        tr = tracks(one_ship.events, sc, routes, interval_h=mid_h / 40)
        row = at(tr, mid_h)
        p = LatLon(row["lat"], row["lon"])
        length_nm = path_length_nm(routes.leg(s["place"], other(s["place"])).waypoints)
        half_nm = length_nm / 2
        if s["place"] == "A":  # half-way lies past the bend: along = A-bend + bend-p
            assert half_nm > first_a_nm
            along = first_a_nm + geodesic_nm(BEND, p)
            rest = geodesic_nm(p, B)
        else:  # from B the bend is ~60 nm away: half-way lies before it
            along = geodesic_nm(B, p)
            rest = geodesic_nm(p, BEND) + first_a_nm
        assert along == pytest.approx(half_nm, abs=0.1)
        assert rest == pytest.approx(half_nm, abs=0.1)
        assert row["status"] == ("laden" if s["place"] == "A" else "ballast")
        checked.add(s["place"])
    assert checked == {"A", "B"}


def other(place: str) -> str:
    return "B" if place == "A" else "A"


def test_sog_is_leg_distance_over_sail_duration(one_ship: RunResult) -> None:
    sc, routes = one_ship.scenario, one_ship.routes
    tr = tracks(one_ship.events, sc, routes, interval_h=0.5)
    for _, s in sails(one_ship).iterrows():
        rows = tr[(tr["t_h"] >= s["start_h"]) & (tr["t_h"] < s["end_h"])]
        assert len(rows) > 5
        expected = routes.distance_nm(s["place"], other(s["place"])) / s["duration_h"]
        np.testing.assert_allclose(rows["sog_kn"], expected, rtol=1e-12)
        # Speeds are fixed: 10 kn laden, 12 kn ballast.
        assert expected == pytest.approx(10.0 if s["cargo_bbl"] > 0 else 12.0)
    assert (tr.loc[~tr["status"].isin(["laden", "ballast"]), "sog_kn"] == 0).all()


def test_status_sequence_follows_the_activities(one_ship: RunResult) -> None:
    sc, routes = one_ship.scenario, one_ship.routes
    tr = tracks(one_ship.events, sc, routes, interval_h=0.25)
    status = tr["status"].astype(str).to_numpy()
    runs = [status[0], *(b for a, b in itertools.pairwise(status) if a != b)]
    cycle = ["ballast", "waiting", "in_port", "laden", "in_port", "idle", "in_port"]
    # lock out at B, ballast to A, anchor, load, laden to B, lock in + discharge, turnaround...
    assert runs[:15] == ["in_port", *cycle, *cycle]
    laden = tr[tr["status"] == "laden"]
    assert set(laden["place"].astype(str)) == {""}
    in_lock = at(tr, 0.5)  # the lock at B counts as being at B
    assert (in_lock["place"], in_lock["status"]) == ("B", "in_port")
    assert nm_from(in_lock, B) < 1e-9
    waiting = tr[tr["status"] == "waiting"]
    assert set(waiting["place"].astype(str)) == {"A"}
    # Laden right after loading at A, ballast on the way back from B.
    act = activities(one_ship.events, sc.window.hours)
    loads = act[act["activity"] == "load"]
    for _, ld in loads.iterrows():
        nxt = tr[tr["t_h"] > ld["end_h"]].iloc[0]
        assert nxt["status"] == "laden"
        assert nxt["voyage"] == ld["voyage"]


def test_samples_per_ship_and_times(one_ship: RunResult) -> None:
    sc, routes = one_ship.scenario, one_ship.routes
    window_h = sc.window.hours
    # Two replications of the two-ship minimal scenario too.
    mini = run("scenarios/minimal.toml")
    ev2 = pd.concat([mini.events, run("scenarios/minimal.toml", replication=1).events])
    for events, scenario, rte, n_series in (
        (one_ship.events, sc, routes, 1),
        (ev2, mini.scenario, mini.routes, 4),
    ):
        for interval_h in (1.0, 0.7):
            tr = tracks(events, scenario, rte, interval_h=interval_h)
            assert list(tr.columns) == list(TRACK_COLUMNS)
            n = math.floor(scenario.window.hours / interval_h) + 1
            sizes = tr.groupby(["replication", "ship"], observed=True).size()
            assert len(sizes) == n_series
            assert (sizes == n).all()
            for _, g in tr.groupby(["replication", "ship"], observed=True):
                assert (np.diff(g["t_h"].to_numpy()) > 0).all()
                assert g["time_utc"].is_monotonic_increasing
            t0 = pd.Timestamp(scenario.window.start, tz="UTC")
            assert str(tr["time_utc"].dtype) == "datetime64[ns, UTC]"
            assert tr["time_utc"].iloc[0] == t0
            last_utc = t0 + pd.Timedelta(hours=(n - 1) * interval_h)
            assert abs(tr["time_utc"].iloc[n - 1] - last_utc) < pd.Timedelta(microseconds=1)
            assert set(tr["status"].cat.categories) == set(STATUSES)
    assert window_h == 240.0


def test_open_passage_at_window_end_continues_at_the_known_speed() -> None:
    # 9 days = 216 h: the fourth laden passage (215.37 h -> 225.53 h) is cut at 216 h.
    res = run(validate_dict(one_ship_raw(days=9)))
    act = activities(res.events, res.scenario.window.hours)
    cut = act[act["open"]].iloc[0]
    assert cut["activity"] == "sail" and cut["cargo_bbl"] > 0
    tr = tracks(res.events, res.scenario, res.routes, interval_h=1.0)
    last = tr.iloc[-1]
    assert last["t_h"] == 216.0
    assert last["status"] == "laden" and last["sog_kn"] == pytest.approx(10.0)
    path = LegPath.from_waypoints(res.routes.leg("A", "B").waypoints)
    lat, lon = path.position(np.array([10.0 * (216.0 - cut["start_h"])]))
    assert nm_from(last, LatLon(float(lat[0]), float(lon[0]))) < 1e-6
    assert 0.5 < nm_from(last, A) < 10.0


def test_open_passage_follows_the_destination_the_log_recorded() -> None:
    """A laden passage cut by the window's end, with two possible ports: the event log says
    where it was going, so the ship is placed on that leg (nothing is guessed)."""
    raw = one_ship_raw(days=30)
    raw["ports"]["C"] = {"lat": 39.0, "lon": 131.5}
    raw["discharge"]["B"]["share"] = 0.5
    raw["discharge"]["C"] = {"rate_bbl_per_h": 500.0, "share": 0.5}
    long = run(validate_dict(raw))
    laden = sails(long)
    laden = laden[laden["cargo_bbl"] > 0]
    # End the window at the first midnight that falls inside a laden passage.
    day_h = next(
        math.ceil(s / 24) * 24
        for s, e in zip(laden["start_h"], laden["end_h"], strict=True)
        if math.ceil(s / 24) * 24 < e
    )
    raw["window"]["end"] = raw["window"]["start"] + dt.timedelta(days=day_h // 24 - 1)
    res = run(validate_dict(raw))
    cut = activities(res.events, res.scenario.window.hours).iloc[-1]
    assert cut["activity"] == "sail" and cut["open"]
    dest = str(cut["destination"])
    assert dest in ("B", "C")
    tr = tracks(res.events, res.scenario, res.routes, interval_h=1.0)
    last = tr.iloc[-1]
    assert last["status"] == "laden" and last["place"] == ""
    assert np.isfinite(last["lat"]) and np.isfinite(last["lon"]) and last["sog_kn"] > 0
    # On the leg from the terminal to the logged destination (one of its geodesic segments).
    wps = res.routes.leg("A", dest).waypoints
    p = LatLon(float(last["lat"]), float(last["lon"]))
    assert any(
        geodesic_nm(u, p) + geodesic_nm(p, v) == pytest.approx(geodesic_nm(u, v), abs=0.01)
        for u, v in itertools.pairwise(wps)
    )
    assert geodesic_nm(p, wps[-1]) > 0.0


def test_unknown_place_is_refused(one_ship: RunResult) -> None:
    ev = one_ship.events.copy()
    ev["place"] = ev["place"].cat.rename_categories({"A": "ELSEWHERE"})
    with pytest.raises(ValueError, match="ELSEWHERE"):
        tracks(ev, one_ship.scenario, one_ship.routes)


# --------------------------------------------------------------------------- GeoJSON


def test_tracks_geojson_lines(one_ship: RunResult) -> None:
    tr = tracks(one_ship.events, one_ship.scenario, one_ship.routes, interval_h=1.0)
    doc = tracks_geojson(tr)
    assert doc["type"] == "FeatureCollection"
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    feats = doc["features"]
    n_sails = len(sails(one_ship))
    assert len(feats) == n_sails  # one line per passage of the one ship
    for f in feats:
        assert f["type"] == "Feature"
        assert f["geometry"]["type"] == "LineString"
        coords = np.asarray(f["geometry"]["coordinates"])
        assert coords.shape[1] == 2 and len(coords) >= 2
        # [lon, lat]: longitudes here are ~130-131, latitudes ~40-41.
        assert ((coords[:, 0] > 129.9) & (coords[:, 0] < 131.1)).all()
        assert ((coords[:, 1] > 39.9) & (coords[:, 1] < 41.1)).all()
        p = f["properties"]
        assert p["ship"] == "c-01" and p["replication"] == 0
        assert len(p["times_utc"]) == len(coords)
        assert p["start_utc"] == p["times_utc"][0] and p["end_utc"] == p["times_utc"][-1]
        assert p["start_utc"] < p["end_utc"]
        ends = {"laden": ("A", "B"), "ballast": ("B", "A")}[p["status"]]
        assert (p["origin"], p["destination"]) == ends
        start = {"A": A, "B": B}[p["origin"]]
        assert coords[0].tolist() == pytest.approx([start.lon, start.lat], abs=1e-6)
        assert p["sog_kn"] == pytest.approx(10.0 if p["status"] == "laden" else 12.0)


def test_tracks_geojson_points_per_ship() -> None:
    mini = run("scenarios/minimal.toml")
    tr = tracks(mini.events, mini.scenario, mini.routes, interval_h=2.0)
    doc = tracks_geojson(tr, points=True)
    text = json.dumps(doc, allow_nan=False)
    back = json.loads(text)
    points = [f for f in back["features"] if f["geometry"]["type"] == "Point"]
    lines = [f for f in back["features"] if f["geometry"]["type"] == "LineString"]
    assert len(points) == int(tr["lat"].notna().sum())
    assert {f["properties"]["ship"] for f in lines} == {"ALPHA", "BRAVO"}
    assert {f["properties"]["ship"] for f in points} == {"ALPHA", "BRAVO"}
    first = points[0]
    assert first["properties"]["time_utc"] == "2024-03-07T00:00:00Z"
    row = tr.iloc[0]
    assert first["geometry"]["coordinates"] == pytest.approx([row["lon"], row["lat"]], abs=1e-6)


def test_write_tracks_round_trips(one_ship: RunResult, tmp_path: Any) -> None:
    tr = tracks(one_ship.events, one_ship.scenario, one_ship.routes, interval_h=1.0)
    paths = write_tracks(tr, tmp_path / "out")
    assert [p.name for p in paths] == ["tracks.csv", "tracks.geojson"]
    back = pd.read_csv(paths[0], keep_default_na=False)
    assert list(back.columns) == list(TRACK_COLUMNS)
    assert len(back) == len(tr)
    assert back["time_utc"].iloc[1] == "2024-01-01T01:00:00Z"
    np.testing.assert_allclose(back["lat"].astype(float), tr["lat"], atol=1e-6)
    assert json.loads(paths[1].read_text()) == json.loads(json.dumps(tracks_geojson(tr)))


def test_routes_geojson_lengths_and_ports() -> None:
    mini = run("scenarios/minimal.toml")
    res = run(validate_dict(one_ship_raw()))
    for r in (mini, res):
        doc = routes_geojson(r.routes, r.scenario)
        assert json.loads(json.dumps(doc, allow_nan=False)) == doc
        lines = doc["features"]
        assert {f["geometry"]["type"] for f in lines} == {"LineString"}  # lines only
        port_doc = ports_geojson(r.routes, r.scenario)
        assert json.loads(json.dumps(port_doc, allow_nan=False)) == port_doc
        ports = port_doc["features"]
        assert {f["geometry"]["type"] for f in ports} == {"Point"}  # points only
        assert len(lines) == len(r.routes.unique_legs())
        assert all(f["properties"]["origin"] == r.scenario.terminal.port for f in lines)
        for f in lines:
            p = f["properties"]
            leg = r.routes.leg(p["origin"], p["destination"])
            pts = [LatLon(lat, lon) for lon, lat in f["geometry"]["coordinates"]]
            assert len(pts) > len(leg.waypoints)  # densified along the geodesics
            assert path_length_nm(pts) == pytest.approx(leg.distance_nm, abs=0.01)
            assert p["distance_nm"] == leg.distance_nm
            assert {"pilotage_nm", "passes", "method"} <= set(p)
        roles = {f["properties"]["id"]: f["properties"]["role"] for f in ports}
        assert roles[r.scenario.terminal.port] == "terminal"
        assert all(roles[d] == "discharge" for d in r.scenario.discharge)
        for f in ports:
            port = r.scenario.port(f["properties"]["id"])
            assert f["geometry"]["coordinates"] == [port.lon, port.lat]
    lock = {f["properties"]["id"]: f["properties"]["lock"] for f in port_doc["features"]}
    assert lock == {"A": None, "B": "Barrage"}


def test_ais_columns_trajectory_course_and_status(one_ship: RunResult) -> None:
    """AIS conventions: one trajectory id per ship voyage, the course over ground agrees with
    the bearing between successive fixes at sea, heading = course, status codes 0/1/5."""
    from sim.analysis.tracks import NAV_STATUS
    from sim.core.geo import WGS84

    mini = run("scenarios/minimal.toml")
    tr = tracks(mini.events, mini.scenario, mini.routes, interval_h=0.25)
    ids = tr.groupby(["replication", "ship", "voyage"], observed=True)["trajectory_id"].nunique()
    assert (ids == 1).all()
    assert tr["trajectory_id"].nunique() == len(ids)  # unique across ships, not per ship
    assert tr["nav_status"].tolist() == [NAV_STATUS[s] for s in tr["status"].astype(str)]
    at_sea = tr["status"].isin(["laden", "ballast"])
    assert tr.loc[at_sea, "cog_deg"].between(0, 360).all()
    assert tr.loc[~at_sea, "cog_deg"].isna().all()
    assert np.array_equal(tr["cog_deg"].to_numpy(), tr["heading_deg"].to_numpy(), equal_nan=True)
    for _, g in tr[at_sea].groupby("trajectory_id"):
        g = g[g["status"] == g["status"].iloc[0]]
        if len(g) < 3:
            continue
        az, _, _ = WGS84.inv(g["lon"].to_numpy()[:-1], g["lat"].to_numpy()[:-1],
                             g["lon"].to_numpy()[1:], g["lat"].to_numpy()[1:])  # fmt: skip
        diff = (np.mod(np.asarray(az), 360.0) - g["cog_deg"].to_numpy()[:-1] + 180) % 360 - 180
        assert np.median(np.abs(diff)) < 2.0  # degrees


def test_written_events_carry_utc_timestamps(tmp_path: Any) -> None:
    from sim.outputs.files import write_run

    mini = run("scenarios/minimal.toml")
    write_run(mini, tmp_path, scenario_path="scenarios/minimal.toml")
    ev = pd.read_parquet(tmp_path / "events.parquet")
    assert list(ev.columns[:4]) == ["replication", "seq", "t_h", "time_utc"]
    assert str(ev["time_utc"].dt.tz) == "UTC"
    expected = pd.Timestamp("2024-03-07", tz="UTC") + pd.to_timedelta(ev["t_h"], unit="h")
    assert (ev["time_utc"] == expected).all()


def _registry_raw() -> dict[str, Any]:
    """The one-ship scenario with a second class of two registry ships (sizes from the
    registry where known: Rye Song Gang 1 has 3,003 dwt, Yu Son none)."""
    raw = one_ship_raw()
    raw["fleet"]["named"] = {
        "from_registry": True,
        "names": ["YU SON", "RYE SONG GANG 1"],
        "capacity_dwt": 2000.0,
        "speed_laden_kn": 10.0,
        "speed_ballast_kn": 12.0,
        "turnaround_days": 0.5,
    }
    return raw


def test_registry_imo_and_draught_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    import sim.analysis.tracks as tr_mod
    from sim.analysis.tracks import estimated_draughts_m, ship_particulars
    from sim.core.registry import Registry, registry

    res = run(validate_dict(_registry_raw()))
    parts = ship_particulars(prepare(res.scenario), [0], seed=res.seed).set_index("ship")
    assert parts.loc["YU SON", "imo"] == 8691702
    assert parts.loc["RYE SONG GANG 1", "imo"] == 7389704
    assert pd.isna(parts.loc["c-01", "imo"])  # a synthetic class ship has none
    assert parts.loc["RYE SONG GANG 1", "dwt_t"] == 3003.0
    assert parts.loc["YU SON", "dwt_t"] == 2000.0
    assert set(parts["draught_source"]) == {"estimate"}
    ballast, laden = estimated_draughts_m(3003.0)
    assert parts.loc["RYE SONG GANG 1", "draught_laden_m"] == pytest.approx(float(laden))
    assert parts.loc["RYE SONG GANG 1", "draught_ballast_m"] == pytest.approx(float(ballast))
    tr = tracks(res.events, res.scenario, res.routes, seed=res.seed)
    assert str(tr["imo"].dtype) == "Int64"
    assert tr.loc[tr["ship"] == "YU SON", "imo"].eq(8691702).all()
    assert tr.loc[tr["ship"] == "c-01", "imo"].isna().all()

    # A registry that knew Yu Son's draughts: they replace the estimate.
    reg = registry()
    ships = [
        replace(s, draught_laden_m=4.2, draught_ballast_m=2.1) if s.name == "YU SON" else s
        for s in reg.ships.values()
    ]
    monkeypatch.setattr(tr_mod, "registry", lambda: Registry(ships))
    tr = tracks(res.events, res.scenario, res.routes, seed=res.seed)
    yu = tr[tr["ship"] == "YU SON"]
    assert set(yu["draught_source"].astype(str)) == {"registry"}
    assert yu["draught_m"].min() == pytest.approx(2.1) and yu["draught_m"].max() <= 4.2 + 1e-9
    assert set(tr.loc[tr["ship"] != "YU SON", "draught_source"].astype(str)) == {"estimate"}


def test_thin_idle_keeps_the_ends_of_every_stay(one_ship: RunResult) -> None:
    sc, routes = one_ship.scenario, one_ship.routes
    full = tracks(one_ship.events, sc, routes, interval_h=0.25)
    thin = tracks(one_ship.events, sc, routes, interval_h=0.25, thin_idle=True)
    every_2h = tracks(one_ship.events, sc, routes, interval_h=0.25, idle_interval_h=2.0)
    assert list(thin.columns) == list(TRACK_COLUMNS)
    assert len(thin) < len(every_2h) < len(full)
    sea = full["status"].isin(["laden", "ballast"])
    assert thin["status"].isin(["laden", "ballast"]).sum() == sea.sum()

    # Every change of status, place or voyage survives, at the same instants.
    def changes(df: pd.DataFrame) -> list[tuple[Any, ...]]:
        key = df[["status", "place", "voyage"]].astype(str).agg("|".join, axis=1).to_numpy()
        t = df["t_h"].to_numpy()
        return [(t[i], key[i]) for i in range(len(df)) if i == 0 or key[i] != key[i - 1]]

    assert changes(thin) == changes(full) == changes(every_2h)
    assert thin["t_h"].iloc[-1] == full["t_h"].iloc[-1]
    # With an interval, no gap inside a stay is longer than it (plus one sample).
    still = every_2h[~every_2h["status"].isin(["laden", "ballast"])]
    gaps = np.diff(still["t_h"].to_numpy())
    same = (still[["status", "place", "voyage"]].astype(str).agg("|".join, axis=1)).to_numpy()
    inside = same[1:] == same[:-1]
    assert gaps[inside].max() <= 2.0 + 1e-9
    with pytest.raises(ValueError, match="interval_h"):
        tracks(one_ship.events, sc, routes, idle_interval_h=0.0)


# --------------------------------------------------------------------------- legs


def test_every_sample_says_its_leg(one_ship: RunResult) -> None:
    sc, routes = one_ship.scenario, one_ship.routes
    tr = tracks(one_ship.events, sc, routes, interval_h=0.25)
    status, leg = tr["status"].astype(str), tr["leg"].astype(str)
    assert set(tr["leg"].cat.categories) == set(LEGS)
    # A passage is its own leg; anchorage, lock and berth of one call make one port leg.
    assert (
        leg[status.isin(["laden", "ballast"])] == status[status.isin(["laden", "ballast"])]
    ).all()
    assert set(leg[status.isin(["waiting", "in_port"])]) == {"port"}
    assert set(leg[status == "idle"]) == {"idle"}
    assert (
        tr["leg_id"] == tr["trajectory_id"] + "-l" + tr["leg_id"].str.rsplit("-l", n=1).str[1]
    ).all()
    for _, g in tr.groupby("leg_id", sort=False):
        assert g["leg"].nunique() == 1 and g["place"].nunique() == 1  # one kind, one port
        t = g["t_h"].to_numpy()
        assert np.allclose(np.diff(t), 0.25)  # one unbroken stretch of the voyage
    # Within a voyage the legs are numbered 0, 1, 2... in time order, a new one at each change.
    for _, g in tr.groupby("trajectory_id", sort=False):
        n = g["leg_id"].str.rsplit("-l", n=1).str[1].astype(int).to_numpy()
        assert n[0] == 0 and set(np.diff(n)) <= {0, 1}
    kinds = tr.drop_duplicates("leg_id")
    v1 = kinds[kinds["trajectory_id"] == "r0-c-01-v1"]["leg"].astype(str).tolist()
    # lock out of B, to A, anchorage and berth at A, to B, lock and berth at B, turnaround
    assert v1 == ["port", "ballast", "port", "laden", "port", "idle"]


def test_leg_ids_do_not_depend_on_the_sampling(one_ship: RunResult) -> None:
    sc, routes = one_ship.scenario, one_ship.routes
    fine = tracks(one_ship.events, sc, routes, interval_h=0.25).set_index("t_h")
    coarse = tracks(one_ship.events, sc, routes, interval_h=3.0).set_index("t_h")
    assert (fine.loc[coarse.index, "leg_id"] == coarse["leg_id"]).all()


def test_idle_samples_can_be_left_out(one_ship: RunResult) -> None:
    sc, routes = one_ship.scenario, one_ship.routes
    full = tracks(one_ship.events, sc, routes, interval_h=1.0)
    assert sc.output.tracks_idle is True  # the default keeps the whole record
    assert (full["leg"] == "idle").sum() > 20
    no_idle = tracks(one_ship.events, sc, routes, interval_h=1.0, idle=False)
    pd.testing.assert_frame_equal(no_idle, full[full["leg"] != "idle"].reset_index(drop=True))
    # The scenario's output.tracks_idle says the same.
    raw = one_ship_raw()
    raw["output"] = {"tracks_idle": False}
    sc2 = validate_dict(raw)
    pd.testing.assert_frame_equal(tracks(one_ship.events, sc2, routes, interval_h=1.0), no_idle)
    assert set(no_idle["trajectory_id"]) == set(full["trajectory_id"])  # no voyage is lost


def test_output_keys_are_validated() -> None:
    sc = validate_dict(one_ship_raw())
    assert (sc.output.tracks_idle, sc.output.track_spread_nm) == (True, 0.0)
    for bad in ({"track_spread_nm": -1.0}, {"track_spread_nm": 100.0}, {"tracks_idel": False},
                {"tracks_idle": "no"}):  # fmt: skip
        raw = one_ship_raw()
        raw["output"] = bad
        with pytest.raises(ScenarioError):
            validate_dict(raw)
    raw = one_ship_raw()
    raw["output"] = {"track_spread_nm": 3}  # an integer is a number of miles
    assert validate_dict(raw).output.track_spread_nm == 3.0


# --------------------------------------------------------------------------- spread


def _lateral_nm(a: pd.DataFrame, b: pd.DataFrame) -> NDArray[np.float64]:
    """Distance between the same samples of two tracks [nm]."""
    _, _, m = WGS84.inv(a["lon"].to_numpy(), a["lat"].to_numpy(), b["lon"].to_numpy(),
                        b["lat"].to_numpy())  # fmt: skip
    return np.asarray(m) / M_PER_NM


def test_spread_moves_positions_only(one_ship: RunResult) -> None:
    sc, routes = one_ship.scenario, one_ship.routes
    plain = tracks(one_ship.events, sc, routes, interval_h=0.5)
    spread = tracks(one_ship.events, sc, routes, interval_h=0.5, spread_nm=3.0)
    assert sc.output.track_spread_nm == 0.0  # off unless asked
    pd.testing.assert_frame_equal(
        plain.drop(columns=["lat", "lon"]), spread.drop(columns=["lat", "lon"])
    )  # times, speeds (the route's distance over the time), courses, statuses, legs
    d = _lateral_nm(plain, spread)
    sea = plain["status"].isin(["laden", "ballast"]).to_numpy()
    assert (d[~sea] == 0).all()  # ports stay where they are
    assert d.max() <= 3.0 + 1e-6 and d.max() > 0.5
    # Each passage has its own offset, 0 at both ports, full in the middle.
    per_passage = []
    for _, s in sails(one_ship).iterrows():
        rows = (plain["t_h"] >= s["start_h"]) & (plain["t_h"] <= s["end_h"])
        dd = d[rows.to_numpy()]
        at_start = plain.loc[rows, "t_h"].to_numpy() == s["start_h"]
        assert (dd[at_start] < 1e-9).all()
        per_passage.append(round(float(dd.max()), 6))
    assert len(set(per_passage)) == len(per_passage)
    # The scenario's key does the same.
    raw = one_ship_raw()
    raw["output"] = {"track_spread_nm": 3.0}
    again = tracks(one_ship.events, validate_dict(raw), routes, interval_h=0.5)
    pd.testing.assert_frame_equal(again, spread)


def test_spread_is_seeded_and_leaves_the_simulation_alone() -> None:
    from sim.core.config import load_scenario

    base = load_scenario("scenarios/minimal.toml")
    spread = load_scenario("scenarios/minimal.toml", overrides={"output.track_spread_nm": 2.0})
    a, b = run(base), run(spread)
    pd.testing.assert_frame_equal(a.events, b.events)  # not one simulated number changes
    assert a.summary.to_dict() == b.summary.to_dict()
    t1 = tracks(b.events, spread, b.routes, seed=b.seed)
    t2 = tracks(b.events, spread, b.routes, seed=b.seed)
    pd.testing.assert_frame_equal(t1, t2)  # the same seed, the same tracks
    t3 = tracks(b.events, spread, b.routes, seed=b.seed + 1)
    assert not np.allclose(t1["lat"], t3["lat"])
    pd.testing.assert_frame_equal(t1.drop(columns=["lat", "lon"]), t3.drop(columns=["lat", "lon"]))
    # Same numbers whatever the sampling: the passage's offset, not the samples, is drawn.
    coarse = t1.set_index(["ship", "t_h"])
    fine = tracks(b.events, spread, b.routes, seed=b.seed, interval_h=0.5)
    fine = fine.set_index(["ship", "t_h"]).loc[coarse.index]
    np.testing.assert_allclose(fine["lat"], coarse["lat"], atol=1e-12)
    np.testing.assert_allclose(fine["lon"], coarse["lon"], atol=1e-12)


def test_spread_keeps_off_land() -> None:
    res = run("scenarios/osc-2024.toml")  # sea routes hugging the coast of Korea
    assert res.scenario.routing.method == "sea"
    plain = tracks(res.events, res.scenario, res.routes, interval_h=1.0)
    wide = tracks(res.events, res.scenario, res.routes, interval_h=1.0, spread_nm=20.0)
    lat0, lon0 = plain["lat"].to_numpy(), plain["lon"].to_numpy()
    lat1, lon1 = wide["lat"].to_numpy(), wide["lon"].to_numpy()
    assert not (on_land(lat1, lon1) & ~on_land(lat0, lon0)).any()
    assert _lateral_nm(plain, wide).max() > 10.0
    # The check matters: some passages, offset as drawn, would cross land.
    leg = res.routes.leg("NAMPHO", "VOSTOCHNY")
    path = LegPath.from_waypoints(leg.waypoints)
    s = np.linspace(0.0, path.length_nm, 4001)
    w = spread_taper(s, path.length_nm, 20.0)
    route_land = on_land(*path.position(s))
    hits = [d for d in (-20.0, 20.0) if (on_land(*path.offset(s, d * w)) & ~route_land).any()]
    assert hits  # a 20 nm offset to one side or the other meets the coast
    fitted = fit_offsets(path, np.array(hits), 20.0)
    assert (np.abs(fitted) < 20.0).all()
    for d in fitted:
        assert not (on_land(*path.offset(s, d * w)) & ~route_land).any()


# --------------------------------------------------------------------------- MovingPandas


def _upstream_warning_filters() -> None:
    """Warnings are errors, but for one that the data cannot avoid: movingpandas 0.23 sorts
    with ``sort_index(inplace=True)``, which pandas 3.1 deprecates (Pandas4Warning), in every
    Trajectory it builds, whatever it is given. Ignored only for those versions."""
    import importlib.metadata as md

    warnings.simplefilter("error")
    mp = tuple(int(x) for x in md.version("movingpandas").split(".")[:2])
    pdv = tuple(int(x) for x in pd.__version__.split(".")[:2])
    if mp <= (0, 23) and pdv >= (3, 1):
        warnings.filterwarnings(
            "ignore",
            message=r"The inplace keyword in GeoDataFrame\.sort_index is deprecated",
            module=r"movingpandas\.trajectory",
        )


@pytest.mark.parametrize("traj_col", ["trajectory_id", "leg_id"])
def test_tracks_load_into_movingpandas_without_warnings(tmp_path: Path, traj_col: str) -> None:
    gpd = pytest.importorskip("geopandas")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Missing optional dependencies")
        mpd = pytest.importorskip("movingpandas")
    from sim.core.config import load_scenario
    from sim.outputs.files import write_geo

    sc = load_scenario(
        "scenarios/minimal.toml",
        overrides={"output.track_spread_nm": 2.0, "output.tracks_idle": False},
    )
    res = run(sc)
    write_geo(res, tmp_path, draw_map=False)
    # As docs/model.md says: read the CSV, make points, one trajectory per voyage (or leg).
    df = pd.read_csv(tmp_path / "tracks.csv", parse_dates=["timestamp"])
    assert "idle" not in set(df["leg"])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    with warnings.catch_warnings():
        _upstream_warning_filters()
        tc = mpd.TrajectoryCollection(gdf, traj_id_col=traj_col, t="timestamp")
        lengths = {t.id: t.get_length() for t in tc.trajectories}
    ids = set(df[traj_col])
    multi = {i for i, n in df.groupby(traj_col).size().items() if n >= 2}
    assert {t.id for t in tc.trajectories} == multi and len(multi) >= 0.8 * len(ids)
    assert all(t.crs == "EPSG:4326" for t in tc.trajectories)
    for t in tc.trajectories:
        assert t.df.index.is_unique and t.df.index.is_monotonic_increasing
        assert t.df[traj_col].nunique() == 1 and t.df["ship"].nunique() == 1
        assert t.get_start_time() == pd.Timestamp(t.df["time_utc"].iloc[0].rstrip("Z"))
    if traj_col == "leg_id":
        sea = [t for t in tc.trajectories if t.df["leg"].iloc[0] in ("laden", "ballast")]
        assert all(t.df["leg"].nunique() == 1 for t in tc.trajectories) and sea
        assert all(lengths[t.id] > 1000.0 for t in sea)  # metres: passages go somewhere
    # The zone-aware time column is what made MovingPandas warn, once per trajectory.
    aware = gdf.assign(time_utc=pd.to_datetime(gdf["time_utc"], utc=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mpd.TrajectoryCollection(aware, traj_id_col=traj_col, t="time_utc")
    assert sum("Time zone" in str(w.message) for w in caught) == len(multi)


def test_sim_trajectories_loads_a_run_without_a_warning(tmp_path: Path) -> None:
    """``sim.trajectories``, from a run's result and from the folder ``tankersim run`` wrote,
    with every warning an error (movingpandas 0.23's own on pandas 3.1 included): the same
    trajectories as the CSV route above, per voyage or per leg, idle legs optional."""
    pytest.importorskip("geopandas")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Missing optional dependencies")
        pytest.importorskip("movingpandas")
    from typer.testing import CliRunner

    import sim
    from sim.cli import app
    from sim.core.errors import OptionError

    res = run("scenarios/minimal.toml", seed=11)
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["run", "scenarios/minimal.toml", "--seed", "11", "--no-map",
                                 "--no-tracks", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    df = tracks(res.events, res.scenario, res.routes, interval_h=2.0, seed=res.seed, idle=True)
    df = df.dropna(subset=["lat", "lon"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        voyages = sim.trajectories(res, interval_h=2.0)
        again = sim.trajectories(out, interval_h=2.0)
        legs = sim.trajectories(res, by="leg", idle=False, interval_h=2.0)
    ids = {i for i, n in df.groupby("trajectory_id").size().items() if n >= 2}
    assert {t.id for t in voyages.trajectories} == ids
    assert {t.id for t in again.trajectories} == ids
    for a, b in zip(voyages.trajectories, again.trajectories, strict=True):
        assert a.id == b.id and a.df[["lat", "lon", "ship"]].equals(b.df[["lat", "lon", "ship"]])
    sea = df[df["leg"] != "idle"]
    leg_ids = {i for i, n in sea.groupby("leg_id").size().items() if n >= 2}
    assert {t.id for t in legs.trajectories} == leg_ids
    assert all(t.df["leg"].nunique() == 1 and t.df["leg"].iloc[0] != "idle"
               for t in legs.trajectories)  # fmt: skip
    with pytest.raises(OptionError, match="'voyage' or 'leg'"):
        sim.trajectories(res, by="ship")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="not a run's folder"):
        sim.trajectories(tmp_path)


def test_geojson_points_carry_the_naive_time_and_legs(one_ship: RunResult) -> None:
    tr = tracks(one_ship.events, one_ship.scenario, one_ship.routes, interval_h=2.0)
    doc = tracks_geojson(tr, points=True)
    pts = [f["properties"] for f in doc["features"] if f["geometry"]["type"] == "Point"]
    lines = [f["properties"] for f in doc["features"] if f["geometry"]["type"] == "LineString"]
    assert len(pts) == len(tr)
    for p, (_, row) in zip(pts, tr.iterrows(), strict=True):
        assert (
            p["timestamp"] == row["timestamp"].isoformat() and p["time_utc"] == p["timestamp"] + "Z"
        )
        assert (p["leg"], p["leg_id"]) == (row["leg"], row["leg_id"])
    assert all(x["leg_id"].startswith(x["trajectory_id"] + "-l") for x in lines)
    assert len({x["leg_id"] for x in lines}) == len(lines)  # one line per passage leg


def test_passage_lines_join_only_the_port_fixes_next_to_them() -> None:
    mini = run("scenarios/minimal.toml")  # no lock: a voyage leaves straight from its idle leg
    sc, routes, events = mini.scenario, mini.routes, mini.events
    full = tracks_geojson(tracks(events, sc, routes, interval_h=1.0))["features"]
    no_idle = tracks(events, sc, routes, interval_h=1.0, idle=False)
    lines = tracks_geojson(no_idle)["features"]
    assert [f["properties"]["leg_id"] for f in lines] == [f["properties"]["leg_id"] for f in full]
    changed = 0
    for a, b in zip(full, lines, strict=True):
        pa, pb = a["properties"], b["properties"]
        if pb == pa:
            continue
        # Its port fix was an idle one, left out: the line starts at sea, from no port, not
        # at a port fix left a day behind.
        changed += 1
        sea = no_idle[no_idle["leg_id"] == pb["leg_id"]]
        first_sea = sea["time_utc"].min().strftime("%Y-%m-%dT%H:%M:%SZ")
        assert pa["origin"] is not None and pb["origin"] is None
        assert pb["start_utc"] == first_sea > pa["start_utc"]
        assert pb["times_utc"] == pa["times_utc"][1:]
        assert b["geometry"]["coordinates"] == a["geometry"]["coordinates"][1:]
    assert changed >= 4  # every ballast passage after a turnaround
