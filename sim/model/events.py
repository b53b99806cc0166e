"""The event log: its schema (event kinds, record layout, voyage record) and its table.

This module owns the layout of a logged event; the engines write records in this layout and
every reader (metrics, tracks, plots) reads the table built here. Nothing else knows the
positions of a record's fields.

A record is a plain tuple (no cost per event) in the order of :data:`RECORD_FIELDS`:

``(t_h, ship, kind, place, voyage, cargo_bbl, product, destination)``

with integer codes for ship (index in the replication's ship list), kind (index in
:data:`EVENT_KINDS`), place and destination (indices in the place list) and product (index in
the scenario's product list, -1 in ballast).

The table (:func:`to_frame`) has fixed dtypes:

============ ============ =========================================================
column       dtype        meaning
============ ============ =========================================================
replication  int32        replication number
seq          int64        order of the event within its replication (0, 1, ...)
t_h          float64      time since the window start [h]
event        category     kind, from :data:`EVENT_KINDS`
ship         category     ship id (scenario names, or ``<class>-NN``)
ship_class   category     the ship's class id
place        category     port id (or ``<PORT> <lock name>`` for a lock)
destination  category     where a sailing goes (``sail_start`` and ``sail_end``); "" otherwise
voyage       int32        the ship's voyage number (0, 1, ...; -1 before the first)
cargo_bbl    float64      the parcel on board, loading or discharging [bbl]
product      category     the parcel's product ("" in ballast)
============ ============ =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from sim.core.csvsafe import restore_formulas

ACTIVITIES: tuple[str, ...] = (
    "sail",
    "anchor",
    "wait",
    "moor",
    "load",
    "discharge",
    "unmoor",
    "lock",
    "idle",
)
"""Activities of a ship; each is logged as a ``<name>_start`` / ``<name>_end`` pair."""

POINT_EVENTS: tuple[str, ...] = ("visit_seen", "seize", "release")
"""Instantaneous events: a terminal visit that was observed; a berth or lock chamber taken
(``seize``) and given back (``release``), at ``place``."""

EVENT_KINDS: tuple[str, ...] = (
    *(f"{a}_{e}" for a in ACTIVITIES for e in ("start", "end")),
    *POINT_EVENTS,
)
"""Every event kind, in code order."""

_K = {name: i for i, name in enumerate(EVENT_KINDS)}
SAIL_START, SAIL_END = _K["sail_start"], _K["sail_end"]
ANCHOR_START, ANCHOR_END = _K["anchor_start"], _K["anchor_end"]
WAIT_START, WAIT_END = _K["wait_start"], _K["wait_end"]
MOOR_START, MOOR_END = _K["moor_start"], _K["moor_end"]
LOAD_START, LOAD_END = _K["load_start"], _K["load_end"]
DISCHARGE_START, DISCHARGE_END = _K["discharge_start"], _K["discharge_end"]
UNMOOR_START, UNMOOR_END = _K["unmoor_start"], _K["unmoor_end"]
LOCK_START, LOCK_END = _K["lock_start"], _K["lock_end"]
IDLE_START, IDLE_END = _K["idle_start"], _K["idle_end"]
VISIT_SEEN = _K["visit_seen"]
SEIZE, RELEASE = _K["seize"], _K["release"]

RECORD_FIELDS: tuple[str, ...] = (
    "t_h",
    "ship",
    "kind",
    "place",
    "voyage",
    "cargo_bbl",
    "product",
    "destination",
)
"""Fields of a logged record, in order (see the module docstring)."""
R_T, R_SHIP, R_KIND, R_PLACE, R_VOYAGE, R_CARGO, R_PRODUCT, R_DEST = range(len(RECORD_FIELDS))

Record = tuple[float, int, int, int, int, float, int, int]
"""An event as logged, in the order of :data:`RECORD_FIELDS`."""

COLUMNS: tuple[str, ...] = (
    "replication",
    "seq",
    "t_h",
    "event",
    "ship",
    "ship_class",
    "place",
    "destination",
    "voyage",
    "cargo_bbl",
    "product",
)
"""Columns of the event-log table, in order."""


class Voyage(NamedTuple):
    """One voyage's drawn inputs, as plain floats (durations in hours [h]).

    A voyage runs from leaving the previous port to the end of the turnaround at its
    discharge port.
    """

    port: int
    """Place index of the discharge port."""
    product: int
    """Index of the cargo's product."""
    cargo_bbl: float
    """Parcel loaded [bbl]."""
    turnaround_h: float
    terminal_anchorage_h: float
    terminal_pre_h: float
    load_h: float
    terminal_post_h: float
    port_anchorage_h: float
    port_pre_h: float
    discharge_h: float
    port_post_h: float
    lock_in_h: float
    lock_out_h: float
    seen: bool
    """Whether the terminal visit is observed."""


@dataclass(frozen=True)
class Replication:
    """The raw outcome of one replication: its records and the names behind their codes.

    ``capacity_bbl[ship][voyage]`` is each drawn voyage's full capacity [bbl] (what the
    claimants' method calls a ship's listed capacity); ``parameters`` the replication's
    fleet-level values (unknowns, detection probability).
    """

    replication: int
    records: list[Record]
    ship_ids: tuple[str, ...]
    class_ids: tuple[str, ...]
    p_detect: float
    capacity_bbl: tuple[tuple[float, ...], ...] = ()
    parameters: dict[str, float] = field(default_factory=dict)


def to_frame(
    rep: Replication, place_names: tuple[str, ...], products: tuple[str, ...]
) -> pd.DataFrame:
    """The event log of one replication as a table (see the module docstring)."""
    n = len(rep.records)
    if n:
        cols = [np.asarray(x) for x in zip(*rep.records, strict=True)]
    else:
        cols = [np.zeros(0, dtype=float if i in (R_T, R_CARGO) else int) for i in range(8)]
    ship = cols[R_SHIP].astype(int)
    classes = sorted(set(rep.class_ids))
    class_codes = np.asarray([classes.index(cl) for cl in rep.class_ids], dtype=int)
    places = list(place_names)
    return pd.DataFrame(
        {
            "replication": np.full(n, rep.replication, dtype=np.int32),
            "seq": np.arange(n, dtype=np.int64),
            "t_h": cols[R_T].astype(np.float64),
            "event": pd.Categorical.from_codes(
                cols[R_KIND].astype(int), categories=list(EVENT_KINDS)
            ),
            "ship": pd.Categorical.from_codes(ship, categories=list(rep.ship_ids)),
            "ship_class": pd.Categorical.from_codes(
                class_codes[ship] if n else ship, categories=classes
            ),
            "place": pd.Categorical.from_codes(cols[R_PLACE].astype(int), categories=places),
            "destination": pd.Categorical.from_codes(
                cols[R_DEST].astype(int) + 1, categories=["", *places]
            ),
            "voyage": cols[R_VOYAGE].astype(np.int32),
            "cargo_bbl": cols[R_CARGO].astype(np.float64),
            "product": pd.Categorical.from_codes(
                cols[R_PRODUCT].astype(int) + 1, categories=["", *products]
            ),
        },
        columns=list(COLUMNS),
    )


def activities(events: pd.DataFrame, window_h: float) -> pd.DataFrame:
    """Pair every ``*_start`` with its ``*_end`` into one row per activity.

    Activities open at the window's end are closed at ``window_h`` and flagged ``open``.
    Returns columns ``replication, ship, activity, place, destination, voyage, start_h,
    end_h, duration_h, cargo_bbl, open``.
    """
    kinds = events["event"].astype(str)
    is_start = kinds.str.endswith("_start").to_numpy()
    is_end = kinds.str.endswith("_end").to_numpy()
    keep = ["replication", "ship", "event", "place", "destination", "voyage", "t_h", "cargo_bbl"]
    ev = events.loc[is_start | is_end, keep]
    ev = ev.assign(kind=kinds[is_start | is_end].to_numpy())
    ev = ev.sort_values(["replication", "ship", "t_h"], kind="stable")
    # Activities of one ship never overlap, so each start is followed by its own end.
    starts = ev[ev["kind"].str.endswith("_start")].reset_index(drop=True)
    ends = ev[ev["kind"].str.endswith("_end")].reset_index(drop=True)
    start_counts = starts.groupby(["replication", "ship"], observed=True).size()
    end_counts = ends.groupby(["replication", "ship"], observed=True).size()
    open_n = start_counts.sub(end_counts, fill_value=0)
    if ((open_n < 0) | (open_n > 1)).any():
        raise ValueError("event log is not a sequence of start/end pairs per ship")
    # Align: per ship, the k-th end closes the k-th start.
    starts["k"] = starts.groupby(["replication", "ship"], observed=True).cumcount()
    ends["k"] = ends.groupby(["replication", "ship"], observed=True).cumcount()
    merged = starts.merge(
        ends[["replication", "ship", "k", "t_h", "kind"]],
        on=["replication", "ship", "k"],
        how="left",
        suffixes=("", "_end"),
    )
    act = merged["kind"].str.removesuffix("_start")
    closes = merged["kind_end"].str.removesuffix("_end")
    mismatch = merged["kind_end"].notna() & (act != closes)
    if mismatch.any():
        raise ValueError("event log pairs a start with a different end")
    is_open = merged["t_h_end"].isna()
    end_h = merged["t_h_end"].fillna(window_h)
    return pd.DataFrame(
        {
            "replication": merged["replication"].to_numpy(),
            "ship": merged["ship"],
            "activity": act.to_numpy(),
            "place": merged["place"],
            "destination": merged["destination"],
            "voyage": merged["voyage"].to_numpy(),
            "start_h": merged["t_h"].to_numpy(),
            "end_h": end_h.to_numpy(),
            "duration_h": (end_h - merged["t_h"]).to_numpy(),
            "cargo_bbl": merged["cargo_bbl"].to_numpy(),
            "open": is_open.to_numpy(),
        }
    )


def occupancy(events: pd.DataFrame, window_h: float) -> pd.DataFrame:
    """Pair every ``seize`` with its ``release``: one row per use of a berth or lock chamber.

    A ship holds at most one resource at a time, so per ship the k-th release closes the k-th
    seize. Uses still held at the window's end close at ``window_h`` and are flagged ``open``.
    Returns columns ``replication, ship, place, voyage, start_h, end_h, duration_h, open``.
    """
    kinds = events["event"].astype(str).to_numpy()
    cols = ["replication", "ship", "place", "voyage", "t_h"]
    seize = events.loc[kinds == "seize", cols].reset_index(drop=True)
    release = events.loc[kinds == "release", cols].reset_index(drop=True)
    for df in (seize, release):
        df["k"] = df.groupby(["replication", "ship"], observed=True).cumcount()
    merged = seize.merge(
        release[["replication", "ship", "k", "place", "t_h"]],
        on=["replication", "ship", "k"],
        how="left",
        suffixes=("", "_release"),
    )
    closed = merged["t_h_release"].notna()
    if (closed & (merged["place_release"].astype(str) != merged["place"].astype(str))).any():
        raise ValueError("event log releases a resource the ship did not seize")
    end_h = merged["t_h_release"].fillna(window_h)
    return pd.DataFrame(
        {
            "replication": merged["replication"].to_numpy(),
            "ship": merged["ship"],
            "place": merged["place"],
            "voyage": merged["voyage"].to_numpy(),
            "start_h": merged["t_h"].to_numpy(),
            "end_h": end_h.to_numpy(),
            "duration_h": (end_h - merged["t_h"]).to_numpy(),
            "open": (~closed).to_numpy(),
        }
    )


def read_csv_events(path: str | Path) -> pd.DataFrame:
    """Read an event log written as CSV, restoring the dtypes of :data:`COLUMNS`."""
    df = restore_formulas(pd.read_csv(path, keep_default_na=False, na_values=[]))
    out = df.astype(
        {
            "replication": "int32",
            "seq": "int64",
            "t_h": "float64",
            "voyage": "int32",
            "cargo_bbl": "float64",
        }
    )
    for col in ("event", "ship", "ship_class", "place", "destination", "product"):
        out[col] = out[col].astype(str).astype("category")
    out["event"] = out["event"].cat.set_categories(list(EVENT_KINDS))
    return out[list(COLUMNS)]
