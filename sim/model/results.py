"""The results of a replication: one function from its records to its headline numbers.

Single runs (:func:`sim.run`) and batches use the same :func:`replication_row`, so a
replication reports the same numbers alone and in a batch.

A *trip* is a completed loading at the terminal inside the window (a ``load_end`` event), as
the OSC report counts visits. Barrels *delivered* are parcels whose discharge ended inside the
window; a parcel loaded but not yet discharged at the window's end is *on board*.
"""

from __future__ import annotations

import numpy as np

from sim.core.units import HOURS_PER_DAY
from sim.model.draws import Compiled
from sim.model.events import (
    DISCHARGE_END,
    LOAD_END,
    R_CARGO,
    R_KIND,
    R_PRODUCT,
    R_T,
    VISIT_SEEN,
    Replication,
)

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
)
"""Columns of the per-replication table (one row per replication)."""

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

DAILY_COLUMNS: tuple[str, ...] = ("trips", "observed_visits", "loaded_bbl", "delivered_bbl")
"""Cumulative daily series of a replication [-, -, bbl, bbl]."""


def replication_row(
    c: Compiled, rep: Replication, point: int = 0
) -> tuple[dict[str, float], np.ndarray]:
    """Headline numbers of one replication, and its daily cumulative series.

    Returns
    -------
    row
        The values of :data:`REPLICATION_COLUMNS`.
    daily
        Array of shape (window days, 4): :data:`DAILY_COLUMNS` at the end of each day.
    """
    days = round(c.window_h / HOURS_PER_DAY)
    if rep.records:
        arr = np.asarray(rep.records, dtype=float)
        t, kind, cargo = arr[:, R_T], arr[:, R_KIND].astype(int), arr[:, R_CARGO]
        prod = arr[:, R_PRODUCT].astype(int)
    else:
        t = cargo = np.zeros(0)
        kind = prod = np.zeros(0, dtype=int)
    load = kind == LOAD_END
    dis = kind == DISCHARGE_END
    seen = kind == VISIT_SEEN
    bpt = np.asarray(c.product_bbl_per_t)
    loaded = float(cargo[load].sum())
    delivered = float(cargo[dis].sum())
    trips = int(load.sum())
    row = {
        "point": float(point),
        "replication": float(rep.replication),
        "p_detect": rep.p_detect,
        "trips": float(trips),
        "observed_visits": float(seen.sum()),
        "loaded_bbl": loaded,
        "delivered_bbl": delivered,
        "on_board_bbl": loaded - delivered,
        "observed_bbl": float(cargo[seen].sum()),
        "loaded_t": float((cargo[load] / bpt[prod[load]]).sum()) if trips else 0.0,
        "delivered_t": float((cargo[dis] / bpt[prod[dis]]).sum()) if dis.any() else 0.0,
        "mean_parcel_bbl": loaded / trips if trips else 0.0,
    }
    edges = np.arange(days + 1) * HOURS_PER_DAY
    daily = np.empty((days, 4))
    daily[:, 0] = np.cumsum(np.histogram(t[load], edges)[0])
    daily[:, 1] = np.cumsum(np.histogram(t[seen], edges)[0])
    daily[:, 2] = np.cumsum(np.histogram(t[load], edges, weights=cargo[load])[0])
    daily[:, 3] = np.cumsum(np.histogram(t[dis], edges, weights=cargo[dis])[0])
    return row, daily


def run_kpis(c: Compiled, rep: Replication) -> dict[str, float]:
    """The headline numbers of a single run (:data:`RUN_KPIS`), from :func:`replication_row`."""
    row, _ = replication_row(c, rep)
    return {k: row[k] for k in RUN_KPIS}
