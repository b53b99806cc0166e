"""The model on real sea routes: cycle times follow the routes, bad ports fail cleanly."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from conftest import SCENARIOS, write_toml
from typer.testing import CliRunner

from sim.api import prepare, run
from sim.cli import app
from sim.core.config import load_scenario, validate_dict
from sim.core.gazetteer import gazetteer
from sim.core.geo import geodesic_nm


def _fixed_nampho(tmp_cache: Path) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "name": "fixed-nampho",
        "seed": 3,
        "window": {"start": "2024-03-07", "end": "2024-04-30"},
        "terminal": {"port": "VOSTOCHNY", "load_rate_bbl_per_h": 2000.0, "pre_pump_h": 4.0},
        "discharge": {
            "NAMPHO": {
                "rate_bbl_per_h": 1000.0,
                "lock": {"name": "West Sea Barrage", "chambers": 3, "transit_h": 2.0},
            }
        },
        "fleet": {
            "t": {
                "count": 1,
                "capacity_bbl": 20000.0,
                "speed_laden_kn": 10.0,
                "speed_ballast_kn": 10.0,
                "turnaround_days": 2.0,
            }
        },
        "routing": {"method": "sea", "margin_nm": 2.0, "forbid_jeju_strait": True},
    }


def test_cycle_time_follows_the_sea_route(tmp_path: Path) -> None:
    raw = _fixed_nampho(tmp_path)
    import datetime as dt

    raw["window"] = {"start": dt.date(2024, 3, 7), "end": dt.date(2024, 4, 30)}
    sc = validate_dict(raw)
    _, routes, _ = prepare(sc)
    leg = routes.leg("VOSTOCHNY", "NAMPHO")
    g = gazetteer()
    straight = geodesic_nm(g["VOSTOCHNY"].point, g["NAMPHO"].point)
    assert leg.distance_nm > 2.3 * straight  # round Korea, not across it
    assert "Korea Strait" in leg.passes and "south of Jeju" in leg.passes
    res = run(sc)
    ev = res.events
    sails = ev[ev["event"].isin(["sail_start", "sail_end"])]
    durations = sails["t_h"].diff().to_numpy()[1::2]
    assert durations == pytest.approx([leg.distance_nm / 10.0] * len(durations), rel=1e-12)
    # One cycle: ballast out through the lock, load, laden passage, lock in, discharge, rest.
    cycle = 2 * leg.distance_nm / 10.0 + 2 * 2.0 + 4.0 + 10.0 + 20.0 + 48.0
    loads = ev.loc[ev["event"] == "load_end", "t_h"].to_numpy()
    assert len(loads) >= 2
    assert loads[1] - loads[0] == pytest.approx(cycle, rel=1e-12)
    window_h = sc.window.hours
    first = 2.0 + leg.distance_nm / 10.0 + 4.0 + 10.0  # lock out, ballast, moor, load
    assert len(loads) == math.floor((window_h - first) / cycle) + 1
    locks = ev[ev["event"] == "lock_start"]
    assert set(locks["place"].astype(str)) == {"NAMPHO West Sea Barrage"}


def test_baseline_routes_are_sea_routes() -> None:
    sc = load_scenario(SCENARIOS / "osc-2024.toml")
    _, routes, _ = prepare(sc)
    assert routes.leg("VOSTOCHNY", "CHONGJIN").distance_nm == pytest.approx(163.7, abs=0.5)
    assert routes.leg("VOSTOCHNY", "NAMPHO").distance_nm == pytest.approx(1065.1, abs=0.5)
    assert all(leg.method == "sea" for leg in routes.unique_legs())


def _bad(runner: CliRunner, tmp_path: Path, raw: dict[str, Any], port: str) -> str:
    path = write_toml(tmp_path / "bad.toml", raw)
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert str(path) in lines[0] and port in lines[0]
    res2 = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "o")])
    assert res2.exit_code == 2 and port in res2.stderr
    return lines[0]


def test_port_on_land_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    import datetime as dt

    raw = _fixed_nampho(tmp_path)
    raw["window"] = {"start": dt.date(2024, 3, 7), "end": dt.date(2024, 4, 30)}
    raw["ports"] = {"INLAND": {"lat": 40.3, "lon": 127.0, "name": "a town in the hills"}}
    raw["discharge"] = {"INLAND": {"rate_bbl_per_h": 1000.0}}
    line = _bad(runner, tmp_path, raw, "INLAND")
    assert "discharge.INLAND" in line


def test_port_cut_off_from_the_sea_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    import datetime as dt

    raw = _fixed_nampho(tmp_path)
    raw["window"] = {"start": dt.date(2024, 3, 7), "end": dt.date(2024, 4, 30)}
    raw["discharge"] = {"WONSAN": {"rate_bbl_per_h": 1000.0}}
    # A barrier across the whole Sea of Japan, from Korea to Honshu, south of Vostochny.
    barrier = [
        {"lat": 40.5, "lon": 128.5},
        {"lat": 40.5, "lon": 140.5},
        {"lat": 40.7, "lon": 140.5},
        {"lat": 40.7, "lon": 128.5},
    ]
    raw["routing"]["forbidden_areas"] = [{"name": "barrier", "polygon": barrier}]
    _bad(runner, tmp_path, raw, "WONSAN")


def test_pinned_waypoints_win_over_the_router() -> None:
    import datetime as dt

    raw = _fixed_nampho(Path("."))
    raw["window"] = {"start": dt.date(2024, 3, 7), "end": dt.date(2024, 4, 30)}
    wps = [
        {"lat": 42.60, "lon": 133.00},
        {"lat": 38.0, "lon": 130.0},
        {"lat": 35.0, "lon": 129.5},
        {"lat": 32.85, "lon": 126.6},
        {"lat": 36.5, "lon": 124.5},
    ]
    # Given from the discharge port's side: the table reverses it for the outbound leg.
    raw["routing"]["legs"] = [
        {"from": "NAMPHO", "to": "VOSTOCHNY", "waypoints": list(reversed(wps))}
    ]
    sc = validate_dict(raw)
    _, routes, _ = prepare(sc)
    leg = routes.leg("VOSTOCHNY", "NAMPHO")
    g = gazetteer()
    from sim.core.geo import LatLon, path_length_nm

    pts = [g["VOSTOCHNY"].point, *(LatLon(w["lat"], w["lon"]) for w in wps), g["NAMPHO"].point]
    assert leg.method == "pinned"
    assert leg.distance_nm == pytest.approx(path_length_nm(pts), rel=1e-12)
    assert leg.waypoints[1] == LatLon(42.60, 133.00)
    assert routes.leg("NAMPHO", "VOSTOCHNY").distance_nm == leg.distance_nm
