"""Metrics on a hand-built event log: every number below is computed by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sim.analysis.metrics import berth_table, ship_table
from sim.core.config import validate_dict
from sim.model.events import EVENT_KINDS, Replication, occupancy, to_frame
from sim.model.results import replication_row, visits_of

PLACES = ("T", "P")  # terminal 0, discharge port 1
K = {k: i for i, k in enumerate(EVENT_KINDS)}


def _log() -> pd.DataFrame:
    """Two ships over a 100 h window, one berth at T and one at P.

    S1: at T from 10 h (moor 10-12, load 12-20, unmoor 20-22), sails 22-30, at P 30-40.
    S2: arrives at T at 15 h and waits for S1 until 22, loads 22-32, sails 32-40, takes P's
    berth at 40 as S1 leaves, discharges 40-50; back at T at 95 h, still loading at 100 h.
    """
    t, p = 0, 1

    def ev(
        h: float, ship: int, kind: str, place: int, voyage: int, cargo: float = 0.0, dest: int = -1
    ) -> tuple[float, int, int, int, int, float, int, int]:
        return (h, ship, K[kind], place, voyage, cargo, 0 if cargo else -1, dest)

    records = [
        ev(10, 0, "seize", t, 0),
        ev(10, 0, "moor_start", t, 0),
        ev(12, 0, "moor_end", t, 0),
        ev(12, 0, "load_start", t, 0, 10_000),
        ev(15, 1, "wait_start", t, 0),
        ev(20, 0, "load_end", t, 0, 10_000),
        ev(20, 0, "unmoor_start", t, 0, 10_000),
        ev(22, 0, "unmoor_end", t, 0, 10_000),
        ev(22, 0, "release", t, 0, 10_000),
        ev(22, 0, "sail_start", t, 0, 10_000, dest=p),
        ev(22, 1, "wait_end", t, 0),
        ev(22, 1, "seize", t, 0),
        ev(22, 1, "load_start", t, 0, 8_000),
        ev(30, 0, "sail_end", p, 0, 10_000, dest=p),
        ev(30, 0, "seize", p, 0, 10_000),
        ev(30, 0, "discharge_start", p, 0, 10_000),
        ev(32, 1, "load_end", t, 0, 8_000),
        ev(32, 1, "release", t, 0, 8_000),
        ev(32, 1, "sail_start", t, 0, 8_000, dest=p),
        ev(40, 0, "discharge_end", p, 0, 10_000),
        ev(40, 0, "release", p, 0),
        ev(40, 1, "sail_end", p, 0, 8_000, dest=p),
        ev(40, 1, "seize", p, 0, 8_000),
        ev(40, 1, "discharge_start", p, 0, 8_000),
        ev(50, 1, "discharge_end", p, 0, 8_000),
        ev(50, 1, "release", p, 0),
        ev(95, 1, "seize", t, 1),
        ev(95, 1, "load_start", t, 1, 9_000),
    ]
    rep = Replication(0, records, ("S1", "S2"), ("c", "c"), 1.0)
    return to_frame(rep, PLACES, ("diesel",))


def _scenario():  # type: ignore[no-untyped-def]
    return validate_dict(
        {
            "schema_version": 1,
            "name": "hand",
            "window": {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 1, 5)},
            "ports": {"T": {"lat": 0.0, "lon": 0.0}, "P": {"lat": 0.0, "lon": 1.0}},
            "terminal": {"port": "T", "load_rate_bbl_per_h": 1000.0},
            "discharge": {"P": {"rate_bbl_per_h": 1000.0}},
            "fleet": {
                "c": {
                    "names": ["S1", "S2"],
                    "capacity_bbl": 1.0,
                    "speed_laden_kn": 1.0,
                    "speed_ballast_kn": 1.0,
                }
            },
        }
    )


def test_berth_utilisation_calls_and_waits_by_hand() -> None:
    bt = berth_table(_log(), _scenario(), window_h=100.0).set_index("place")
    # T: S1 10-22 (12 h), S2 22-32 (10 h), S2 95-100 (open at the window's end: 5 h) = 27 h.
    assert bt.loc["T", "berth_utilisation"] == pytest.approx(27 / 100)
    assert bt.loc["T", "calls"] == 3
    assert bt.loc["T", "waits"] == 1
    assert bt.loc["T", "mean_wait_h"] == pytest.approx(7 / 3)  # one 7 h wait over 3 calls
    assert bt.loc["T", "max_wait_h"] == pytest.approx(7.0)
    # P: S1 30-40, S2 40-50 (taken the instant S1 gives it back: no wait) = 20 h.
    assert bt.loc["P", "berth_utilisation"] == pytest.approx(20 / 100)
    assert bt.loc["P", "calls"] == 2 and bt.loc["P", "waits"] == 0


def test_occupancy_pairs_seize_and_release() -> None:
    occ = occupancy(_log(), 100.0)
    rows = [(str(r.ship), str(r.place), r.start_h, r.end_h, r.open) for r in occ.itertuples()]
    assert sorted(rows) == [
        ("S1", "P", 30.0, 40.0, False),
        ("S1", "T", 10.0, 22.0, False),
        ("S2", "P", 40.0, 50.0, False),
        ("S2", "T", 22.0, 32.0, False),
        ("S2", "T", 95.0, 100.0, True),
    ]


def test_ship_table_by_hand() -> None:
    st = ship_table(_log(), 100.0).set_index("ship")
    assert list(st["trips"]) == [1, 1]
    assert list(st["loaded_bbl"]) == [10_000.0, 8_000.0]
    assert list(st["delivered_bbl"]) == [10_000.0, 8_000.0]
    # S1 sails 8 h; in port: moor 2 + load 8 + unmoor 2 + discharge 10 = 22 h.
    assert st.loc["S1", "sailing_days"] == pytest.approx(8 / 24)
    assert st.loc["S1", "in_port_days"] == pytest.approx(22 / 24)
    # S2 waits 7 h; in port: load 10 + discharge 10 + the open load 95-100 (5) = 25 h.
    assert st.loc["S2", "waiting_days"] == pytest.approx(7 / 24)
    assert st.loc["S2", "in_port_days"] == pytest.approx(25 / 24)


def test_replication_row_by_hand() -> None:
    from sim.model.draws import compile_scenario
    from sim.runner.single import prepare

    sc, routes, _ = prepare(_scenario())
    c = compile_scenario(sc, routes)
    rep = _replication()
    row, daily = replication_row(c, visits_of(rep), replication=0, p_detect=rep.p_detect)
    assert row["trips"] == 2 and row["observed_visits"] == 0 and row["distinct_seen"] == 0
    assert row["loaded_bbl"] == 18_000 and row["delivered_bbl"] == 18_000
    assert row["on_board_bbl"] == 0 and row["mean_parcel_bbl"] == 9_000
    assert row["delivered_t"] == pytest.approx(18_000 / 7.46)
    # Loads end at 20 h and 32 h: day 1 has one trip, day 2 both.
    assert list(daily[:3, 0]) == [1, 2, 2]


def _replication() -> Replication:
    """The same log as raw records, rebuilt from its table (a round trip of the schema)."""
    df = _log()
    kinds = {k: i for i, k in enumerate(EVENT_KINDS)}
    places = {p: i for i, p in enumerate(PLACES)}
    records = [
        (
            float(r.t_h),
            ["S1", "S2"].index(str(r.ship)),
            kinds[str(r.event)],
            places[str(r.place)],
            int(r.voyage),
            float(r.cargo_bbl),
            0 if str(r.product) else -1,
            places.get(str(r.destination), -1),
        )
        for r in df.itertuples(index=False)
    ]
    return Replication(0, records, ("S1", "S2"), ("c", "c"), 1.0)
