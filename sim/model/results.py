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
from sim.model.draws import DRAWN, Compiled
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
"""Fixed columns of the per-replication table; parameter columns (``param:<key>``), the drawn
inputs (:meth:`sim.model.draws.ShipDraws.inputs`: ``dwt_t__<ship>``, ``capacity_bbl__<ship>``,
fleet means) and observable columns (``ev:<id>``) follow."""

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
    """What a block of replications did, as flat arrays: loadings and discharges in the window.

    ``load_rep`` and ``dis_rep`` index the replication within the block (0 .. R-1). Within a
    replication, visits come in the order its engine produced them; sums over them are equal
    between engines to rounding (about 1e-16 relative).
    Loadings (``load_*``): end time [h], ship index, voyage, parcel [bbl], product index,
    whether the visit was seen, and the voyage's full capacity [bbl]. Discharges (``dis_*``):
    end time [h], ship, voyage, parcel [bbl], product, port (place index).
    """

    load_rep: I64
    load_t: F64
    load_ship: I64
    load_voyage: I64
    load_cargo: F64
    load_product: I64
    load_seen: NDArray[np.bool_]
    load_capacity: F64
    dis_rep: I64
    dis_t: F64
    dis_ship: I64
    dis_voyage: I64
    dis_cargo: F64
    dis_product: I64
    dis_port: I64

    def sorted(self) -> Visits:
        """The same visits in a canonical order, (replication, time, ship), so that every
        engine sums them in the same order."""
        lo = np.lexsort((self.load_voyage, self.load_ship, self.load_t, self.load_rep))
        do = np.lexsort((self.dis_voyage, self.dis_ship, self.dis_t, self.dis_rep))
        fields = self.__dataclass_fields__
        return Visits(**{k: getattr(self, k)[lo if k.startswith("load") else do] for k in fields})


@dataclass
class BlockMeta:
    """The replications of a block: their numbers, detection probabilities and drawn
    fleet-level values (each array of shape (R,))."""

    replications: I64
    p_detect: F64
    parameters: dict[str, F64]


def concat(parts: Sequence[Visits]) -> Visits:
    """One block from per-replication visits (``load_rep`` / ``dis_rep`` renumbered 0..R-1)."""
    out: dict[str, np.ndarray] = {}
    for k in Visits.__dataclass_fields__:
        arrays = [getattr(p, k) for p in parts]
        if k in ("load_rep", "dis_rep"):
            arrays = [np.full(len(a), i, dtype=np.int64) for i, a in enumerate(arrays)]
        out[k] = np.concatenate(arrays) if arrays else np.zeros(0)
    return Visits(**out)


def visits_of(rep: Replication) -> Visits:
    """The visits of a SimPy replication, read from its records.

    Only loadings, discharges and sightings matter here: they are picked out in Python (a
    few per cent of the records) before anything becomes an array.
    """
    recs = rep.records
    loads = [r for r in recs if r[R_KIND] == LOAD_END]
    dis = [r for r in recs if r[R_KIND] == DISCHARGE_END]
    seen_keys = {(r[R_SHIP], r[R_VOYAGE]) for r in recs if r[R_KIND] == VISIT_SEEN}
    la = np.asarray(loads, dtype=float).reshape(-1, 8)
    da = np.asarray(dis, dtype=float).reshape(-1, 8)
    caps = rep.capacity_bbl
    seen = [(r[R_SHIP], r[R_VOYAGE]) in seen_keys for r in loads]
    cap = [caps[int(r[R_SHIP])][int(r[R_VOYAGE])] if caps else np.nan for r in loads]
    return Visits(
        load_rep=np.zeros(len(loads), dtype=np.int64),
        load_t=la[:, R_T],
        load_ship=la[:, R_SHIP].astype(np.int64),
        load_voyage=la[:, R_VOYAGE].astype(np.int64),
        load_cargo=la[:, R_CARGO],
        load_product=la[:, R_PRODUCT].astype(np.int64),
        load_seen=np.asarray(seen, dtype=bool).reshape(-1),
        load_capacity=np.asarray(cap, dtype=float).reshape(-1),
        dis_rep=np.zeros(len(dis), dtype=np.int64),
        dis_t=da[:, R_T],
        dis_ship=da[:, R_SHIP].astype(np.int64),
        dis_voyage=da[:, R_VOYAGE].astype(np.int64),
        dis_cargo=da[:, R_CARGO],
        dis_product=da[:, R_PRODUCT].astype(np.int64),
        dis_port=da[:, R_PLACE].astype(np.int64),
    )


def _sum(idx: I64, weights: F64 | None, n: int) -> F64:
    return np.bincount(idx, weights=weights, minlength=n).astype(float)


def block_rows(
    c: Compiled,
    visits: Visits,
    meta: BlockMeta,
    *,
    point: int = 0,
    observables: Sequence[Observable] = (),
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The per-replication table and daily series of a block of replications.

    Returns
    -------
    columns
        :data:`REPLICATION_COLUMNS`, then ``param:<key>`` for every fleet-level value, the
        drawn inputs (keys ``drawn:<column>`` of ``meta.parameters``, under their own column
        names) and ``ev:<id>`` for every observable, each an array of shape (R,).
    daily
        Array of shape (R, window days, 5): :data:`DAILY_COLUMNS` at the end of each day.
    """
    v = visits
    R = len(meta.replications)
    S = c.n_ships
    days = round(c.window_h / HOURS_PER_DAY)
    bpt = np.asarray(c.product_bbl_per_t)
    lr, dr = v.load_rep, v.dis_rep
    seen = v.load_seen
    trips = _sum(lr, None, R)
    loaded = _sum(lr, v.load_cargo, R)
    delivered = _sum(dr, v.dis_cargo, R)
    # Which parcels were discharged: a marker per (replication, ship, voyage).
    n_voy = int(max(v.load_voyage.max(initial=-1), v.dis_voyage.max(initial=-1))) + 1
    marker = np.zeros(R * S * max(n_voy, 1), dtype=bool)
    marker[(dr * S + v.dis_ship) * n_voy + v.dis_voyage] = True
    discharged = marker[(lr * S + v.load_ship) * n_voy + v.load_voyage]
    seen_ship = np.zeros((R, S), dtype=bool)
    seen_ship[lr[seen], v.load_ship[seen]] = True
    with np.errstate(invalid="ignore", divide="ignore"):
        cols: dict[str, np.ndarray] = {
            "point": np.full(R, point, dtype=np.int32),
            "replication": meta.replications.astype(np.int64),
            "p_detect": np.asarray(meta.p_detect, dtype=float),
            "trips": trips.astype(np.int32),
            "observed_visits": _sum(lr[seen], None, R).astype(np.int32),
            "loaded_bbl": loaded,
            "delivered_bbl": delivered,
            "on_board_bbl": _sum(lr[~discharged], v.load_cargo[~discharged], R),
            "observed_bbl": _sum(lr[seen], v.load_cargo[seen], R),
            "loaded_t": _sum(lr, v.load_cargo / bpt[v.load_product], R),
            "delivered_t": _sum(dr, v.dis_cargo / bpt[v.dis_product], R),
            "mean_parcel_bbl": np.where(trips > 0, loaded / trips, 0.0),
            "distinct_seen": seen_ship.sum(axis=1).astype(np.int32),
            "seen_designated": _sum(
                lr[seen], c.designated[v.load_ship[seen]].astype(float), R
            ).astype(np.int32),
            "seen_capacity_bbl": _sum(lr[seen], v.load_capacity[seen], R),
            "mean_capacity_bbl": np.where(
                trips > 0, _sum(lr, v.load_capacity, R) / np.maximum(trips, 1), 0.0
            ),
        }
    for k, vals in meta.parameters.items():
        name = k[len(DRAWN) :] if k.startswith(DRAWN) else f"param:{k}"
        cols[name] = np.asarray(vals, dtype=float)
    for ob in observables:
        cols[ob.column] = ob.values(v, c, R)
    daily = np.zeros((R, days, len(DAILY_COLUMNS)))
    lday = np.minimum((v.load_t // HOURS_PER_DAY).astype(np.int64), days - 1)
    dday = np.minimum((v.dis_t // HOURS_PER_DAY).astype(np.int64), days - 1)
    n = R * days
    daily[:, :, 0] = _sum(lr * days + lday, None, n).reshape(R, days)
    daily[:, :, 1] = _sum(lr[seen] * days + lday[seen], None, n).reshape(R, days)
    daily[:, :, 2] = _sum(lr * days + lday, v.load_cargo, n).reshape(R, days)
    daily[:, :, 3] = _sum(dr * days + dday, v.dis_cargo, n).reshape(R, days)
    first = np.full((R, S), np.inf)
    np.minimum.at(first, (lr[seen], v.load_ship[seen]), v.load_t[seen])
    rr, ss = np.nonzero(np.isfinite(first))
    fday = np.minimum((first[rr, ss] // HOURS_PER_DAY).astype(np.int64), days - 1)
    daily[:, :, 4] = _sum(rr * days + fday, None, n).reshape(R, days)
    np.cumsum(daily, axis=1, out=daily)
    return cols, daily


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
    """One replication's row (:func:`block_rows` for a block of one) and its daily series
    (shape (days, 5))."""
    meta = BlockMeta(
        np.asarray([replication], dtype=np.int64),
        np.asarray([p_detect], dtype=float),
        {k: np.asarray([x], dtype=float) for k, x in (parameters or {}).items()},
    )
    cols, daily = block_rows(c, v, meta, point=point, observables=observables)
    return {k: float(a[0]) for k, a in cols.items()}, daily[0]


def run_kpis(row: dict[str, float]) -> dict[str, float]:
    """The headline numbers of a single run (:data:`RUN_KPIS`) from its row."""
    return {k: row[k] for k in RUN_KPIS}
