"""The event log: one tidy table per run.

Columns (fixed dtypes):

========== ============ ===========================================================
column     dtype        meaning
========== ============ ===========================================================
replication int32       replication number
seq        int64        order of the event within its replication (0, 1, ...)
t_h        float64      time since the window start [h]
event      category     kind, from :data:`sim.model.des.EVENT_KINDS`
ship       category     ship id (scenario names, or ``<class>-NN``)
ship_class category     the ship's class id
place      category     port id (or ``<PORT> <lock name>`` for a lock)
voyage     int32        the ship's voyage number (0, 1, ...; -1 before the first)
cargo_bbl  float64      the parcel on board, loading or discharging [bbl]
product    category     the parcel's product ("" in ballast)
========== ============ ===========================================================
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.des import EVENT_KINDS, Compiled, Replication

COLUMNS: tuple[str, ...] = (
    "replication",
    "seq",
    "t_h",
    "event",
    "ship",
    "ship_class",
    "place",
    "voyage",
    "cargo_bbl",
    "product",
)


def to_frame(c: Compiled, rep: Replication) -> pd.DataFrame:
    """The event log of one replication as a DataFrame."""
    n = len(rep.records)
    if n:
        t, ship, kind, place, voyage, cargo, prod = (
            np.asarray(x) for x in zip(*rep.records, strict=True)
        )
    else:
        t = cargo = np.zeros(0)
        ship = kind = place = voyage = prod = np.zeros(0, dtype=int)
    ships = list(rep.ship_ids)
    classes = sorted(set(rep.class_ids))
    class_codes = np.asarray([classes.index(cl) for cl in rep.class_ids], dtype=int)
    products = ["", *c.products]
    return pd.DataFrame(
        {
            "replication": np.full(n, rep.replication, dtype=np.int32),
            "seq": np.arange(n, dtype=np.int64),
            "t_h": t.astype(np.float64),
            "event": pd.Categorical.from_codes(kind.astype(int), categories=list(EVENT_KINDS)),
            "ship": pd.Categorical.from_codes(ship.astype(int), categories=ships),
            "ship_class": pd.Categorical.from_codes(
                class_codes[ship.astype(int)] if n else ship.astype(int), categories=classes
            ),
            "place": pd.Categorical.from_codes(place.astype(int), categories=list(c.places.names)),
            "voyage": voyage.astype(np.int32),
            "cargo_bbl": cargo.astype(np.float64),
            "product": pd.Categorical.from_codes(prod.astype(int) + 1, categories=products),
        },
        columns=list(COLUMNS),
    )


def activities(events: pd.DataFrame, window_h: float) -> pd.DataFrame:
    """Pair every ``*_start`` with its ``*_end`` into one row per activity.

    Activities open at the window's end are closed at ``window_h`` and flagged ``open``.
    Returns columns ``replication, ship, activity, place, voyage, start_h, end_h, duration_h,
    cargo_bbl, open``.
    """
    kinds = events["event"].astype(str)
    is_start = kinds.str.endswith("_start").to_numpy()
    is_end = kinds.str.endswith("_end").to_numpy()
    ev = events.loc[
        is_start | is_end, ["replication", "ship", "event", "place", "voyage", "t_h", "cargo_bbl"]
    ]
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
            "voyage": merged["voyage"].to_numpy(),
            "start_h": merged["t_h"].to_numpy(),
            "end_h": end_h.to_numpy(),
            "duration_h": (end_h - merged["t_h"]).to_numpy(),
            "cargo_bbl": merged["cargo_bbl"].to_numpy(),
            "open": is_open.to_numpy(),
        }
    )


def read_csv_events(path: str | Path) -> pd.DataFrame:
    """Read an event log written as CSV, restoring the dtypes of :data:`COLUMNS`."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[])
    out = df.astype(
        {
            "replication": "int32",
            "seq": "int64",
            "t_h": "float64",
            "voyage": "int32",
            "cargo_bbl": "float64",
        }
    )
    for col in ("event", "ship", "ship_class", "place", "product"):
        out[col] = out[col].astype(str).astype("category")
    kinds = [k for k in EVENT_KINDS]
    out["event"] = out["event"].cat.set_categories(kinds)
    return out[list(COLUMNS)]
