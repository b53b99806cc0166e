"""The vectorised engine against the SimPy engine: the same per-replication results.

Both engines consume the same drawn inputs (:mod:`sim.model.draws`), so on the same seed they
must agree on every replication: trips, visits seen, barrels loaded, delivered and on board,
the observables of the evidence, the drawn parameters and the daily series. Counts must be
equal; floats agree to 1e-9 relative (the engines add the same numbers in different orders).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, base_raw, write_toml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.core.config import load_scenario, validate_dict
from sim.core.errors import EngineFallbackWarning
from sim.model.prepared import prepare
from sim.runner.pipeline import ExecOptions, Job, run_jobs

REL = 1e-9


def _both(sc: Any, replications: list[int], seed: int | None = None, **job: Any) -> Any:
    """(fast, des) tables of replications of ``sc``: per-replication rows and daily rows."""
    model = prepare(sc)
    s = sc.seed if seed is None else seed
    out = []
    for engine in ("fast", "des"):
        out.append(
            run_jobs([Job(model, s, 0, tuple(replications), engine=engine, **job)])  # type: ignore[arg-type]
        )
    return out


def assert_same(fast: pd.DataFrame, des: pd.DataFrame) -> None:
    """Equal columns; integer columns exactly, float columns to ``REL``."""
    assert list(fast.columns) == list(des.columns)
    assert len(fast) == len(des)
    for name in fast.columns:
        a, b = fast[name].to_numpy(), des[name].to_numpy()
        if a.dtype.kind in "iub" or b.dtype.kind in "iub":
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            np.testing.assert_allclose(a, b, rtol=REL, atol=1e-6, err_msg=name)


# --------------------------------------------------------------------------- random scenarios

PORTS = {
    "A": {"lat": 0.0, "lon": 0.0},
    "B": {"lat": 0.0, "lon": 1.0},
    "C": {"lat": 0.5, "lon": 0.5},
    "D": {"lat": 1.0, "lon": 0.2},
}


def _nonneg(high: float) -> st.SearchStrategy[Any]:
    """A fixed value or a uniform, triangular distribution on [0, high]."""
    return st.one_of(
        st.floats(0.0, high),
        st.tuples(st.floats(0.0, high), st.floats(0.0, high)).map(
            lambda t: {"dist": "uniform", "low": min(t), "high": max(t)}
        ),
        st.tuples(st.floats(0.0, high), st.floats(0.0, high), st.floats(0.0, 1.0)).map(
            lambda t: {
                "dist": "triangular",
                "low": min(t[:2]),
                # clipped: low + t (high - low) can round above high when t is 1
                "mode": min(min(t[:2]) + t[2] * (max(t[:2]) - min(t[:2])), max(t[:2])),
                "high": max(t[:2]),
            }
        ),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Valid scenarios: 1-3 classes of 1-6 ships, 1-3 discharge ports with 1-3 berths, locks,
    port mixes or home ports, levels, fleet-level unknowns, detection, windows of 2-90 days."""
    raw = base_raw()
    raw["seed"] = draw(st.integers(0, 2**40))
    days = draw(st.integers(2, 90))
    raw["window"]["end"] = raw["window"]["start"] + dt.timedelta(days=days - 1)
    raw["ports"] = dict(PORTS)
    raw["terminal"] = {
        "port": "A",
        "berths": draw(st.integers(1, 3)),
        "load_rate_bbl_per_h": draw(st.sampled_from([500.0, 1000.0, 3000.0])),
        "anchorage_h": draw(_nonneg(12.0)),
        "pre_pump_h": draw(_nonneg(6.0)),
        "post_pump_h": draw(_nonneg(6.0)),
    }
    names = draw(st.lists(st.sampled_from("BCD"), min_size=1, max_size=3, unique=True))
    weights = [draw(st.integers(1, 5)) for _ in names]
    discharge: dict[str, Any] = {}
    for j, pid in enumerate(names):
        port: dict[str, Any] = {
            "share": weights[j] / sum(weights),
            "berths": draw(st.integers(1, 3)),
            "rate_bbl_per_h": draw(st.sampled_from([300.0, 800.0, 2000.0])),
            "anchorage_h": draw(_nonneg(8.0)),
            "pre_pump_h": draw(_nonneg(4.0)),
            "post_pump_h": draw(_nonneg(4.0)),
        }
        if draw(st.booleans()):
            port["lock"] = {"chambers": draw(st.integers(1, 2)), "transit_h": draw(_nonneg(3.0))}
        discharge[pid] = port
    if len(names) > 1:  # shares that sum to exactly 1
        discharge[names[-1]]["share"] = 1.0 - sum(discharge[p]["share"] for p in names[:-1])
    raw["discharge"] = discharge
    unknowns = draw(st.booleans())
    scales: dict[str, Any] = {
        "size": {"dist": "uniform", "low": 0.5, "high": 2.0},
        "turn": {"dist": "uniform", "low": 0.2, "high": 3.0},
    }
    used: set[str] = set()
    fleet: dict[str, Any] = {}
    for k in range(draw(st.integers(1, 3))):
        level = draw(st.sampled_from([None, "fleet", "class", "ship"]))
        capacity: dict[str, Any] = {"dist": "triangular", "low": 3e3, "mode": 8e3, "high": 2e4}
        if level is not None:
            capacity["level"] = level
        if unknowns and draw(st.booleans()):
            capacity["scale"] = "size"
            used.add("size")
        turn = draw(_nonneg(4.0))
        if isinstance(turn, dict) and draw(st.booleans()):
            turn["level"] = draw(st.sampled_from(["fleet", "class", "ship", "voyage"]))
        if unknowns and isinstance(turn, dict) and draw(st.booleans()):
            turn["scale"] = "turn"
            used.add("turn")
        cls: dict[str, Any] = {
            "count": draw(st.integers(1, 6)),
            "capacity_bbl": capacity,
            "load_factor": draw(
                st.sampled_from([1.0, 0.9, {"dist": "uniform", "low": 0.6, "high": 1.0}])
            ),
            "speed_laden_kn": draw(
                st.sampled_from([8.0, {"dist": "uniform", "low": 7, "high": 11}])
            ),
            "speed_ballast_kn": draw(st.floats(7.0, 13.0)),
            "turnaround_days": turn,
            "start_offset_days": draw(_nonneg(5.0)),
        }
        if draw(st.integers(0, 3)) == 0:
            cls["home_port"] = draw(st.sampled_from(names))
        fleet[f"k{k}"] = cls
    if used:
        raw["unknowns"] = {name: scales[name] for name in sorted(used)}
    raw["fleet"] = fleet
    if draw(st.booleans()):
        raw["observation"] = {"p_detect": {"dist": "uniform", "low": 0.2, "high": 1.0}}
    if draw(st.booleans()):
        raw["product_mix"] = {"diesel": 0.6, "gasoline": 0.4}
    return raw


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=scenarios(), first=st.integers(0, 10**6), n=st.integers(1, 6))
def test_fast_engine_equals_des_on_random_scenarios(
    raw: dict[str, Any], first: int, n: int
) -> None:
    sc = validate_dict(raw)
    (fast, fast_daily), (des, des_daily) = _both(sc, list(range(first, first + n)))
    assert_same(fast, des)
    assert_same(fast_daily, des_daily)
    assert (fast["trips"] >= 0).all()


# --------------------------------------------------------------------------- the shipped scenarios


@pytest.mark.parametrize("name", ["osc-2024.toml", "osc-2024-hand-calibrated.toml", "minimal.toml"])
def test_fast_engine_equals_des_on_shipped_scenarios(name: str) -> None:
    """Every row, including the evidence's observables, on 40 replications of each."""
    sc = load_scenario(SCENARIOS / name, overrides={"routing.method": "geodesic"})
    (fast, fast_daily), (des, des_daily) = _both(
        sc, list(range(40)), observables=prepare(sc).observables
    )
    assert_same(fast, des)
    assert_same(fast_daily, des_daily)
    if name == "osc-2024.toml":  # the test means something: contention and observables happen
        assert any(c.startswith("ev:") for c in fast.columns)
        assert fast["trips"].sum() > 0


def test_fixed_values_agree_between_engines() -> None:
    """Calibration fixes fleet-level values per row; both engines honour them the same way."""
    sc = load_scenario(SCENARIOS / "osc-2024.toml", overrides={"routing.method": "geodesic"})
    fixed = {
        "unknowns.fleet_dwt": (1500.0, 3000.0, 6000.0),
        "unknowns.turnaround_days": (5.0, 20.0, 60.0),
    }
    (fast, _), (des, _) = _both(sc, [0, 1, 2], fixed=fixed, daily=False)
    assert_same(fast, des)
    np.testing.assert_array_equal(fast["param:unknowns.fleet_dwt"], fixed["unknowns.fleet_dwt"])
    # Bigger ships at the same seed carry more per trip.
    per_trip = fast["loaded_bbl"] / fast["trips"]
    assert per_trip.is_monotonic_increasing


# --------------------------------------------------------------------------- the fallback


def test_unsupported_feature_falls_back_with_one_notice(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A scenario the fast engine cannot run goes to the SimPy engine, says so once, and gives
    the SimPy engine's results (run in this process: the serial executor)."""
    import sim.runner.pipeline as pipeline

    monkeypatch.setattr(pipeline, "unsupported", lambda c: "an imaginary feature")
    path = write_toml(tmp_path / "s.toml", base_raw())
    res = CliRunner().invoke(
        app,
        [
            "mc",
            str(path),
            "-n",
            "5",
            "--executor",
            "serial",
            "--no-plots",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 0, res.output
    notices = [line for line in res.stderr.splitlines() if "notice" in line]
    assert notices == [
        "tankersim: notice: the fast engine does not support an imaginary feature: running the "
        "SimPy engine"
    ]
    import json

    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["engine"] == "des"

    from sim.api import run_mc

    with pytest.warns(EngineFallbackWarning, match="imaginary feature"):
        run_mc(path, n=2, options="serial")
    # Asking for the SimPy engine is not a fallback: no warning (warnings are errors here).
    run_mc(path, n=2, options=ExecOptions("serial", engine="des"))


def test_fixed_values_that_would_be_ignored_are_refused() -> None:
    from sim.core.errors import OptionError

    sc = load_scenario(SCENARIOS / "osc-2024.toml", overrides={"routing.method": "geodesic"})
    with pytest.raises(OptionError, match=r"fleet_dwt.*not an unknown or input"):
        _both(sc, [0], fixed={"fleet_dwt": (2000.0,)}, daily=False)
    with pytest.raises(OptionError, match=r"one value per row \(2\)"):
        _both(sc, [0, 1], fixed={"unknowns.fleet_dwt": (2000.0,)}, daily=False)


def test_des_recording_only_visits_changes_nothing_but_the_log() -> None:
    """Batches run the SimPy engine recording only loadings, discharges and sightings: the
    same visits, exactly, as the full event log gives."""
    from dataclasses import fields

    from sim.model.des import simulate
    from sim.model.results import visits_of

    sc = load_scenario(SCENARIOS / "osc-2024.toml", overrides={"routing.method": "geodesic"})
    _, _, c = prepare(sc)
    for r in range(10):
        full, lean = simulate(c, sc.seed, r), simulate(c, sc.seed, r, record="visits")
        assert len(lean.records) < len(full.records) / 4
        a, b = visits_of(full), visits_of(lean)
        for f in fields(a):
            np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f.name)
