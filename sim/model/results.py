"""The results of a replication: one path from what it did to its headline numbers.

Every engine reduces a replication to :class:`Visits` (its loadings and its discharges, as
arrays), and one function, :func:`replication_row`, turns visits into the per-replication
row, its daily series and the values of the evidence's observables. Single runs and batches,
the SimPy engine and the vectorised one, all go through it.

A *trip* is a completed loading at the terminal inside the window (a ``load_end``), as the
OSC report counts visits. Barrels *delivered* are parcels whose discharge ended inside the
window; a parcel loaded but not yet discharged at the window's end is *on board*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.core.units import HOURS_PER_DAY
from sim.model.draws import Compiled
from sim.model.events import (
    DISCHARGE_END,
    LOAD_END,
    R_CARGO,
    R_KIND,
    R_PLACE,
    R_PRODUCT,
    R_SHIP,
    R_T,
    R_VOYAGE,
    VISIT_SEEN,
    Replication,
)
from sim.model.observables import Observable

REPLICATION_COLUMNS: tuple[str, ...] = (
    "point",
    "replication",
    "p_detect",
    "trips",
    "observed_visits",
    "loaded_bbl",
    "delivered_bbl",
    "on_board_bbl",
    "observed_bbl",
    "loaded_t",
    "delivered_t",
    "mean_parcel_bbl",
    "distinct_seen",
    "seen_designated",
    "seen_capacity_bbl",
    "mean_capacity_bbl",
)
"""Fixed columns of the per-replication table; parameter columns (``param:<key>``) and
observable columns (``ev:<id>``) follow."""

INT_COLUMNS = ("trips", "observed_visits", "distinct_seen", "seen_designated")

RUN_KPIS: tuple[str, ...] = (
    "trips",
    "observed_visits",
    "loaded_bbl",
    "delivered_bbl",
    "on_board_bbl",
    "delivered_t",
    "mean_parcel_bbl",
)
"""The headline numbers a single run reports (a subset of :data:`REPLICATION_COLUMNS`)."""

DAILY_COLUMNS: tuple[str, ...] = (
    "trips",
    "observed_visits",
    "loaded_bbl",
    "delivered_bbl",
    "distinct_seen",
)
"""Cumulative daily series of a replication [-, -, bbl, bbl, -]."""

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


@dataclass
class Visits:
    """What one replication did, as arrays: its loadings and its discharges in the window.

    Loadings (``load_*``): end time [h], ship index, voyage, parcel [bbl], product index,
    whether the visit was seen, and the voyage's full capacity [bbl]. Discharges (``dis_*``):
    end time [h], ship, voyage, parcel [bbl], product, port (place index).
    """

    load_t: F64
    load_ship: I64
    load_voyage: I64
    load_cargo: F64
    load_product: I64
    load_seen: NDArray[np.bool_]
    load_capacity: F64
    dis_t: F64
    dis_ship: I64
    dis_voyage: I64
    dis_cargo: F64
    dis_product: I64
    dis_port: I64


def visits_of(rep: Replication) -> Visits:
    """The visits of a SimPy replication, read from its records."""
    arr = np.asarray(rep.records, dtype=float) if rep.records else np.zeros((0, 8))
    kind = arr[:, R_KIND].astype(np.int64)
    load = kind == LOAD_END
    dis = kind == DISCHARGE_END
    ship = arr[:, R_SHIP].astype(np.int64)
    voyage = arr[:, R_VOYAGE].astype(np.int64)
    seen_keys = set(
        zip(ship[kind == VISIT_SEEN].tolist(), voyage[kind == VISIT_SEEN].tolist(), strict=True)
    )
    ls, lv = ship[load], voyage[load]
    seen = np.asarray([(a, b) in seen_keys for a, b in zip(ls.tolist(), lv.tolist(), strict=True)])
    cap = np.asarray(
        [
            rep.capacity_bbl[a][b] if rep.capacity_bbl else np.nan
            for a, b in zip(ls, lv, strict=True)
        ],
        dtype=float,
    )
    return Visits(
        load_t=arr[load, R_T],
        load_ship=ls,
        load_voyage=lv,
        load_cargo=arr[load, R_CARGO],
        load_product=arr[load, R_PRODUCT].astype(np.int64),
        load_seen=seen.astype(bool).reshape(-1),
        load_capacity=cap.reshape(-1),
        dis_t=arr[dis, R_T],
        dis_ship=ship[dis],
        dis_voyage=voyage[dis],
        dis_cargo=arr[dis, R_CARGO],
        dis_product=arr[dis, R_PRODUCT].astype(np.int64),
        dis_port=arr[dis, R_PLACE].astype(np.int64),
    )


def replication_row(
    c: Compiled,
    v: Visits,
    *,
    replication: int,
    p_detect: float,
    point: int = 0,
    parameters: dict[str, float] | None = None,
    observables: Sequence[Observable] = (),
) -> tuple[dict[str, float], np.ndarray]:
    """Headline numbers of one replication, and its daily cumulative series.

    Returns
    -------
    row
        The values of :data:`REPLICATION_COLUMNS`, then ``param:<key>`` for every fleet-level
        value and ``ev:<id>`` for every observable.
    daily
        Array of shape (window days, 5): :data:`DAILY_COLUMNS` at the end of each day.
    """
    days = round(c.window_h / HOURS_PER_DAY)
    bpt = np.asarray(c.product_bbl_per_t)
    seen = v.load_seen
    trips = len(v.load_t)
    loaded = float(v.load_cargo.sum())
    delivered = float(v.dis_cargo.sum())
    seen_ships = v.load_ship[seen]
    cap_sum = float(v.load_capacity.sum())
    # Parcels loaded and not discharged, summed themselves (never loaded - delivered, which
    # rounding can make a hair negative).
    discharged = np.isin(
        v.load_ship * (1 << 32) + v.load_voyage, v.dis_ship * (1 << 32) + v.dis_voyage
    )
    on_board = float(v.load_cargo[~discharged].sum())
    row: dict[str, float] = {
        "point": float(point),
        "replication": float(replication),
        "p_detect": p_detect,
        "trips": float(trips),
        "observed_visits": float(seen.sum()),
        "loaded_bbl": loaded,
        "delivered_bbl": delivered,
        "on_board_bbl": on_board,
        "observed_bbl": float(v.load_cargo[seen].sum()),
        "loaded_t": float((v.load_cargo / bpt[v.load_product]).sum()) if trips else 0.0,
        "delivered_t": float((v.dis_cargo / bpt[v.dis_product]).sum()) if len(v.dis_t) else 0.0,
        "mean_parcel_bbl": loaded / trips if trips else 0.0,
        "distinct_seen": float(len(np.unique(seen_ships))),
        "seen_designated": float(c.designated[seen_ships].sum()),
        "seen_capacity_bbl": float(v.load_capacity[seen].sum()),
        "mean_capacity_bbl": cap_sum / trips if trips else 0.0,
    }
    for key, value in (parameters or {}).items():
        row[f"param:{key}"] = value
    for ob in observables:
        row[ob.column] = ob.value(v, c)
    edges = np.arange(days + 1) * HOURS_PER_DAY
    daily = np.empty((days, 5))
    daily[:, 0] = np.cumsum(np.histogram(v.load_t, edges)[0])
    daily[:, 1] = np.cumsum(np.histogram(v.load_t[seen], edges)[0])
    daily[:, 2] = np.cumsum(np.histogram(v.load_t, edges, weights=v.load_cargo)[0])
    daily[:, 3] = np.cumsum(np.histogram(v.dis_t, edges, weights=v.dis_cargo)[0])
    first_seen = np.full(c.n_ships, np.inf)
    np.minimum.at(first_seen, seen_ships, v.load_t[seen])
    daily[:, 4] = np.cumsum(np.histogram(first_seen[np.isfinite(first_seen)], edges)[0])
    return row, daily


def run_kpis(row: dict[str, float]) -> dict[str, float]:
    """The headline numbers of a single run (:data:`RUN_KPIS`) from its row."""
    return {k: row[k] for k in RUN_KPIS}
