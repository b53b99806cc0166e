"""The SimPy layer: exact event lists, cycle-time arithmetic, invariants and determinism."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, base_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.api import prepare, run
from sim.core.config import apply_overrides, validate_dict
from sim.core.geo import LatLon, geodesic_nm
from sim.model.des import simulate
from sim.model.events import activities, occupancy, to_frame

D_NM = geodesic_nm(LatLon(0.0, 0.0), LatLon(0.0, 1.0))  # the A-B leg of base_raw()


def _events(raw: dict[str, Any], replication: int = 0) -> pd.DataFrame:
    sc = validate_dict(raw)
    _, _, c = prepare(sc)
    return to_frame(simulate(c, sc.seed, replication), c.places.names, c.products)


def _expected_one_ship(
    *,
    window_h: float,
    cap: float,
    lf: float,
    load_rate: float,
    dis_rate: float,
    v_l: float,
    v_b: float,
    t_pre: float,
    t_post: float,
    p_pre: float,
    p_post: float,
    turn_h: float,
) -> list[tuple[float, str, str, int, float]]:
    """The event list of one ship, computed by hand: (t_h, event, place, voyage, cargo_bbl)."""
    out: list[tuple[float, str, str, int, float]] = []
    t = 0.0
    cargo = cap * lf
    k = 0

    def add(kind: str, place: str, c: float) -> None:
        out.append((t, kind, place, k, c))

    steps: list[tuple[str, str, float, float]] = [
        ("sail", "B", D_NM / v_b, 0.0),
        ("seize", "A", 0.0, 0.0),
        ("moor", "A", t_pre, 0.0),
        ("load", "A", cargo / load_rate, cargo),
        ("unmoor", "A", t_post, cargo),
        ("release", "A", 0.0, cargo),
        ("sail", "A", D_NM / v_l, cargo),
        ("seize", "B", 0.0, cargo),
        ("moor", "B", p_pre, cargo),
        ("discharge", "B", cargo / dis_rate, cargo),
        ("unmoor", "B", p_post, 0.0),
        ("release", "B", 0.0, 0.0),
        ("idle", "B", turn_h, 0.0),
    ]
    while True:
        for act, place, dur, c in steps:
            if act in ("seize", "release"):
                add(act, place, c)
                continue
            if dur <= 0 and act not in ("sail", "load", "discharge"):
                continue
            if t >= window_h:
                return out
            add(f"{act}_start", place, c)
            t = t + dur
            if t >= window_h:
                return out
            end_place = ("A" if place == "B" else "B") if act == "sail" else place
            add(f"{act}_end", end_place, c)
            if act == "load":
                add("visit_seen", "A", c)
        k += 1


def test_one_ship_exact_event_list() -> None:
    raw = apply_overrides(
        base_raw(),
        {
            "terminal.pre_pump_h": 2.0,
            "terminal.post_pump_h": 1.5,
            "discharge.B.pre_pump_h": 1.0,
            "discharge.B.post_pump_h": 0.5,
            "fleet.c.load_factor": 0.9,
            "fleet.c.turnaround_days": 0.5,
        },
    )
    ev = _events(raw)
    got = [
        (r.t_h, str(r.event), str(r.place), int(r.voyage), r.cargo_bbl)
        for r in ev.itertuples(index=False)
    ]
    want = _expected_one_ship(
        window_h=240.0,
        cap=10000.0,
        lf=0.9,
        load_rate=1000.0,
        dis_rate=500.0,
        v_l=10.0,
        v_b=12.0,
        t_pre=2.0,
        t_post=1.5,
        p_pre=1.0,
        p_post=0.5,
        turn_h=12.0,
    )
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g[1:] == w[1:]
        assert g[0] == pytest.approx(w[0], rel=1e-12, abs=1e-9)
    assert list(ev["seq"]) == list(range(len(ev)))
    assert (ev["ship"] == "c-01").all()


def test_queue_at_one_berth_exact_wait() -> None:
    """Two identical ships arrive together: the second waits exactly the first's berth time."""
    raw = apply_overrides(base_raw(), {"fleet.c.count": 2, "terminal.pre_pump_h": 3.0})
    ev = _events(raw)
    waits = ev[ev["event"].isin(["wait_start", "wait_end"])]
    first = waits.head(2)
    assert list(first["event"]) == ["wait_start", "wait_end"]
    assert (first["ship"] == "c-02").all()  # c-01 starts first: stable order
    berth_h = 3.0 + 10000.0 / 1000.0
    assert first["t_h"].iloc[1] - first["t_h"].iloc[0] == pytest.approx(berth_h, rel=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_ships=st.integers(1, 4),
    cap=st.floats(2000.0, 40000.0),
    lf=st.floats(0.3, 1.0),
    v_l=st.floats(5.0, 15.0),
    v_b=st.floats(5.0, 15.0),
    pre=st.floats(0.0, 12.0),
    turn_d=st.floats(0.0, 5.0),
    days=st.integers(3, 60),
)
def test_fixed_fleet_matches_cycle_arithmetic(
    n_ships: int,
    cap: float,
    lf: float,
    v_l: float,
    v_b: float,
    pre: float,
    turn_d: float,
    days: int,
) -> None:
    """With a berth per ship there is no queue: trips = floor((T - t1) / C) + 1 per ship."""
    raw = base_raw()
    raw["window"]["end"] = raw["window"]["start"] + pd.Timedelta(days=days - 1).to_pytimedelta()
    raw["terminal"].update(berths=n_ships, pre_pump_h=pre)
    raw["discharge"]["B"].update(berths=n_ships, pre_pump_h=pre)
    raw["fleet"]["c"].update(
        count=n_ships,
        capacity_bbl=cap,
        load_factor=lf,
        speed_laden_kn=v_l,
        speed_ballast_kn=v_b,
        turnaround_days=turn_d,
    )
    ev = _events(raw)
    window_h = days * 24.0
    cargo = cap * lf
    load_h, dis_h = cargo / 1000.0, cargo / 500.0
    cycle = D_NM / v_b + pre + load_h + D_NM / v_l + pre + dis_h + turn_d * 24.0
    t_load1 = D_NM / v_b + pre + load_h
    t_dis1 = t_load1 + D_NM / v_l + pre + dis_h

    def count(t1: float) -> int:
        return 0 if t1 >= window_h else math.floor((window_h - t1) / cycle) + 1

    trips = ev[ev["event"] == "load_end"].groupby("ship", observed=True).size()
    deliveries = ev[ev["event"] == "discharge_end"].groupby("ship", observed=True).size()
    for ship in (f"c-{i + 1:02d}" for i in range(n_ships)):
        # Guard against a boundary that floating point cannot settle either way.
        if (
            min(
                abs((window_h - t) / cycle - round((window_h - t) / cycle))
                for t in (t_load1, t_dis1)
            )
            < 1e-9
        ):
            continue
        assert int(trips.get(ship, 0)) == count(t_load1)
        assert int(deliveries.get(ship, 0)) == count(t_dis1)
    loaded = ev.loc[ev["event"] == "load_end", "cargo_bbl"].sum()
    assert loaded == pytest.approx(len(ev[ev["event"] == "load_end"]) * cargo)


# --------------------------------------------------------------------------- invariants


def check_invariants(ev: pd.DataFrame, window_h: float, capacities: dict[str, int]) -> None:
    """Invariants every event log must satisfy."""
    # Time never runs backwards, globally or for a ship.
    assert (np.diff(ev["t_h"].to_numpy()) >= 0).all()
    assert ev["t_h"].between(0.0, window_h).all()
    act = activities(ev, window_h)
    # Every start has its end, but for at most one open activity per ship, its last one.
    for _, g in act.groupby("ship", observed=True):
        assert g["open"].sum() <= 1
        if g["open"].any():
            assert bool(g["open"].iloc[-1])
        # A ship is in one place at a time: its activities never overlap.
        assert (g["start_h"].to_numpy()[1:] >= g["end_h"].to_numpy()[:-1] - 1e-9).all()
    # No cargo created or lost: every parcel discharged equals the one loaded on that voyage,
    # and loaded = delivered + on board.
    loads = ev[ev["event"] == "load_end"].set_index(["ship", "voyage"])["cargo_bbl"]
    dis = ev[ev["event"] == "discharge_end"].set_index(["ship", "voyage"])["cargo_bbl"]
    assert dis.index.isin(loads.index).all()
    pd.testing.assert_series_equal(loads.reindex(dis.index), dis, check_names=False)
    undelivered = loads.drop(dis.index)
    on_board = 0.0
    for (ship, voyage), parcel in undelivered.items():
        later = ev[(ev["ship"] == ship) & (ev["voyage"] > voyage) & (ev["event"] == "load_end")]
        assert later.empty, "a ship loaded again without discharging"
        on_board += parcel
    assert loads.sum() == pytest.approx(dis.sum() + on_board)
    # Berths and lock chambers never hold more ships than they have places (seize/release),
    # and every pump, mooring or lock transit happens while its ship holds the resource.
    occ = occupancy(ev, window_h).rename(columns={"start_h": "s", "end_h": "e"})
    held = act[act["activity"].isin(("moor", "load", "discharge", "unmoor", "lock"))]
    for row in held.itertuples(index=False):
        mine = occ[(occ["ship"] == row.ship) & (occ["place"] == row.place)]
        assert ((mine["s"] <= row.start_h) & (mine["e"] >= row.end_h)).any()
    for frame in (occ,):
        for place, g in frame.groupby("place", observed=True):
            times = np.concatenate([g["s"].to_numpy(), g["e"].to_numpy()])
            # Ends sort before starts at equal times: a berth freed and taken at once is fine.
            delta = np.concatenate([np.ones(len(g)), -np.ones(len(g))])
            order = np.lexsort((delta, times))
            assert np.cumsum(delta[order]).max() <= capacities[str(place)]


def _capacities(sc: Any, c: Any) -> dict[str, int]:
    caps = {sc.terminal.port: sc.terminal.berths}
    caps |= {p: d.berths for p, d in sc.discharge.items()}
    for j, lock_place in c.places.lock_of_port.items():
        caps[c.places.names[lock_place]] = sc.discharge[c.places.names[j]].lock.chambers
    return caps


dist = st.one_of(
    st.floats(0.0, 20.0).map(float),
    st.tuples(st.floats(0.0, 10.0), st.floats(0.0, 30.0)).map(
        lambda t: {"dist": "uniform", "low": min(t), "high": max(t)}
    ),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_ships=st.integers(1, 6),
    berths=st.integers(1, 3),
    pre=dist,
    post=dist,
    anch=dist,
    turn=dist,
    share=st.floats(0.0, 1.0),
    lock_chambers=st.integers(1, 2),
    seed=st.integers(0, 2**31),
)
def test_invariants_on_random_runs(
    n_ships: int,
    berths: int,
    pre: Any,
    post: Any,
    anch: Any,
    turn: Any,
    share: float,
    lock_chambers: int,
    seed: int,
) -> None:
    raw = base_raw()
    raw["seed"] = seed
    raw["ports"]["C"] = {"lat": 0.5, "lon": 0.5}
    raw["terminal"].update(berths=berths, pre_pump_h=pre, post_pump_h=post, anchorage_h=anch)
    raw["discharge"]["B"].update(share=share, pre_pump_h=pre, anchorage_h=anch)
    raw["discharge"]["C"] = {
        "share": 1.0 - share,
        "rate_m3_per_h": {"dist": "triangular", "low": 50.0, "mode": 80.0, "high": 120.0},
        "post_pump_h": post,
        "lock": {
            "chambers": lock_chambers,
            "transit_h": {"dist": "uniform", "low": 0.5, "high": 3},
        },
    }
    raw["fleet"]["c"].update(
        count=n_ships,
        capacity_bbl={"dist": "triangular", "low": 3000.0, "mode": 8000.0, "high": 20000.0},
        load_factor={"dist": "uniform", "low": 0.5, "high": 1.0},
        turnaround_days=turn,
        start_offset_days={"dist": "uniform", "low": 0.0, "high": 2.0},
    )
    raw["product_mix"] = {"diesel": 0.5, "gasoline": 0.5}
    raw["observation"] = {"p_detect": {"dist": "uniform", "low": 0.2, "high": 0.9}}
    sc = validate_dict(raw)
    _, _, c = prepare(sc)
    ev = to_frame(simulate(c, sc.seed, 3), c.places.names, c.products)
    check_invariants(ev, sc.window.hours, _capacities(sc, c))
    seen = ev[ev["event"] == "visit_seen"]
    loads = ev[ev["event"] == "load_end"]
    assert len(seen) <= len(loads)
    assert set(zip(seen["ship"], seen["voyage"], strict=True)) <= set(
        zip(loads["ship"], loads["voyage"], strict=True)
    )


def test_baseline_like_run_satisfies_invariants() -> None:
    """The shipped variants, routed geodesically to stay fast, keep every invariant."""
    for path in sorted(SCENARIOS.glob("osc-2024*.toml")):
        from sim.core.config import load_scenario

        sc = load_scenario(path, overrides={"routing.method": "geodesic"})
        _, _, c = prepare(sc)
        for r in range(3):
            ev = to_frame(simulate(c, sc.seed, r), c.places.names, c.products)
            check_invariants(ev, sc.window.hours, _capacities(sc, c))


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_log_and_other_seed_differs() -> None:
    path = SCENARIOS / "osc-2024.toml"
    from sim.core.config import load_scenario

    sc = load_scenario(path, overrides={"routing.method": "geodesic"})
    a = run(sc, replication=2).events
    b = run(sc, replication=2).events
    pd.testing.assert_frame_equal(a, b)
    c = run(sc, replication=3).events
    assert not a[["t_h", "cargo_bbl"]].equals(c[["t_h", "cargo_bbl"]])
    d = run(sc, seed=sc.seed + 1, replication=2).events
    assert not a[["t_h", "cargo_bbl"]].equals(d[["t_h", "cargo_bbl"]])


def test_adding_a_ship_leaves_the_others_draws_alone() -> None:
    raw = base_raw()
    raw["fleet"]["c"].update(
        count=2,
        capacity_bbl={"dist": "uniform", "low": 5000.0, "high": 15000.0},
        turnaround_days={"dist": "uniform", "low": 0.0, "high": 3.0},
    )
    raw["terminal"]["berths"] = 5
    raw["discharge"]["B"]["berths"] = 5
    two = _events(raw)
    raw["fleet"]["c"]["count"] = 3
    three = _events(raw)
    for ship in ("c-01", "c-02"):
        a = two[two["ship"] == ship][["t_h", "event", "cargo_bbl"]].reset_index(drop=True)
        b = three[three["ship"] == ship][["t_h", "event", "cargo_bbl"]].reset_index(drop=True)
        a["event"] = a["event"].astype(str)
        b["event"] = b["event"].astype(str)
        pd.testing.assert_frame_equal(a, b)


# Two ships X and Y start together at B, behind a one-chamber lock (0.75 h a transit); A is
# 60.107716 nm away (12 kn in ballast: 5.008976 h; 10 kn laden: 6.010772 h); an hour at anchor
# off A; one berth at A (5,000 bbl at 1,000 bbl/h: 5 h) and at B (1,250 bbl/h: 4 h); 24 h.
# X takes the lock first (ship order at t = 0) and Y waits 0.75 h for it; Y waits for the berth
# at A from 7.508976 h (arrived 6.508976, anchored 1 h) until X leaves at 11.758976 h; at B, Y
# waits for the lock while X locks out. Written out by hand, not recomputed.
LOCK_WAIT_BERTH_WAIT_EVENTS = [
    (0.000000, "X", "seize", "B Lock", "", 0, 0),
    (0.000000, "X", "lock_start", "B Lock", "", 0, 0),
    (0.000000, "Y", "wait_start", "B Lock", "", 0, 0),
    (0.750000, "X", "lock_end", "B Lock", "", 0, 0),
    (0.750000, "X", "release", "B Lock", "", 0, 0),
    (0.750000, "X", "sail_start", "B", "A", 0, 0),
    (0.750000, "Y", "wait_end", "B Lock", "", 0, 0),
    (0.750000, "Y", "seize", "B Lock", "", 0, 0),
    (0.750000, "Y", "lock_start", "B Lock", "", 0, 0),
    (1.500000, "Y", "lock_end", "B Lock", "", 0, 0),
    (1.500000, "Y", "release", "B Lock", "", 0, 0),
    (1.500000, "Y", "sail_start", "B", "A", 0, 0),
    (5.758976, "X", "sail_end", "A", "A", 0, 0),
    (5.758976, "X", "anchor_start", "A", "", 0, 0),
    (6.508976, "Y", "sail_end", "A", "A", 0, 0),
    (6.508976, "Y", "anchor_start", "A", "", 0, 0),
    (6.758976, "X", "anchor_end", "A", "", 0, 0),
    (6.758976, "X", "seize", "A", "", 0, 0),
    (6.758976, "X", "load_start", "A", "", 0, 5000),
    (7.508976, "Y", "anchor_end", "A", "", 0, 0),
    (7.508976, "Y", "wait_start", "A", "", 0, 0),
    (11.758976, "X", "load_end", "A", "", 0, 5000),
    (11.758976, "X", "visit_seen", "A", "", 0, 5000),
    (11.758976, "X", "release", "A", "", 0, 5000),
    (11.758976, "X", "sail_start", "A", "B", 0, 5000),
    (11.758976, "Y", "wait_end", "A", "", 0, 0),
    (11.758976, "Y", "seize", "A", "", 0, 0),
    (11.758976, "Y", "load_start", "A", "", 0, 5000),
    (16.758976, "Y", "load_end", "A", "", 0, 5000),
    (16.758976, "Y", "visit_seen", "A", "", 0, 5000),
    (16.758976, "Y", "release", "A", "", 0, 5000),
    (16.758976, "Y", "sail_start", "A", "B", 0, 5000),
    (17.769748, "X", "sail_end", "B", "B", 0, 5000),
    (17.769748, "X", "seize", "B Lock", "", 0, 5000),
    (17.769748, "X", "lock_start", "B Lock", "", 0, 5000),
    (18.519748, "X", "lock_end", "B Lock", "", 0, 5000),
    (18.519748, "X", "release", "B Lock", "", 0, 5000),
    (18.519748, "X", "seize", "B", "", 0, 5000),
    (18.519748, "X", "discharge_start", "B", "", 0, 5000),
    (22.519748, "X", "discharge_end", "B", "", 0, 5000),
    (22.519748, "X", "release", "B", "", 0, 0),
    (22.519748, "X", "seize", "B Lock", "", 1, 0),
    (22.519748, "X", "lock_start", "B Lock", "", 1, 0),
    (22.769748, "Y", "sail_end", "B", "B", 0, 5000),
    (22.769748, "Y", "wait_start", "B Lock", "", 0, 5000),
    (23.269748, "X", "lock_end", "B Lock", "", 1, 0),
    (23.269748, "X", "release", "B Lock", "", 1, 0),
    (23.269748, "X", "sail_start", "B", "A", 1, 0),
    (23.269748, "Y", "wait_end", "B Lock", "", 0, 5000),
    (23.269748, "Y", "seize", "B Lock", "", 0, 5000),
    (23.269748, "Y", "lock_start", "B Lock", "", 0, 5000),
]


def test_exact_event_list_with_anchorage_berth_wait_and_lock() -> None:
    raw = base_raw()
    raw["window"]["end"] = raw["window"]["start"]
    raw["terminal"]["anchorage_h"] = 1.0
    raw["discharge"]["B"]["rate_bbl_per_h"] = 1250.0
    raw["discharge"]["B"]["lock"] = {"name": "Lock", "transit_h": 0.75}
    raw["fleet"]["c"] = {
        "names": ["X", "Y"],
        "capacity_bbl": 5000.0,
        "speed_laden_kn": 10.0,
        "speed_ballast_kn": 12.0,
    }
    ev = _events(raw)
    got = [
        (r.t_h, str(r.ship), str(r.event), str(r.place), str(r.destination), r.voyage, r.cargo_bbl)
        for r in ev.itertuples(index=False)
    ]
    assert len(got) == len(LOCK_WAIT_BERTH_WAIT_EVENTS)
    for g, w in zip(got, LOCK_WAIT_BERTH_WAIT_EVENTS, strict=True):
        assert g[1:] == w[1:]
        assert g[0] == pytest.approx(w[0], abs=1e-6)
