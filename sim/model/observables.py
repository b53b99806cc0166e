"""Observables: each evidence row, as a statistic every replication can be measured by.

An evidence row (:mod:`sim.core.evidence`) says what someone saw; its observable says what the
same observer would have seen in a replication, so the two can be compared (model checks) and
the unknowns fitted to them (calibration). The model observes only the terminal (satellite
imagery and AIS of the loading berth, with the replication's detection probability) and the
discharge ports' true discharges; rows about the open sea, places outside the scenario or
ships outside its fleet are listed with the reason they are not used.

=================== ==========================================================================
row                 observable (per replication)
=================== ==========================================================================
visits              seen visits at the terminal with a loading that ended in the period
distinct_ships      distinct ships with a seen visit in the period
volume              barrels loaded by the seen visits in the period (``ev:<id>``), and by all
                    visits (``ev:<id>:all``)
share_sanctioned    share of the seen visits in the period made by UN-designated ships (the
                    registry's ``un_designated``; ships it does not name count as not designated)
sighting, terminal  1 if the named ship had a seen visit ending within the dates (widened by
                    a day, two for ``at_anchor``), else 0
sighting, unloading tankers (distinct ships) that finished discharging at the port in the period
two sightings of    the ship's shortest interval between consecutive loadings [days]
one ship loading    (``ev:<later id>:cycle``; the window's length plus a day when it loaded
                    fewer than twice), against the days between the two sightings: checked,
                    never fitted
=================== ==========================================================================
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core.evidence import APPROX, AT_SEA, Evidence, EvidenceRow
from sim.core.units import HOURS_PER_DAY
from sim.model.draws import Compiled

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.results import Visits

WIDEN_DAYS = {"loading": 1.0, "departed_laden": 1.0, "at_anchor": 2.0}
"""A sighting at the terminal matches a visit ending this many days either side of its dates."""


@dataclass(frozen=True)
class Observable:
    """One evidence row's statistic: ``measure`` over loadings or discharges in ``[t0_h, t1_h)``.

    ``column`` is its column in the per-replication table.
    """

    row: EvidenceRow
    measure: str
    t0_h: float
    t1_h: float
    ship: int = -1
    port: int = -1
    suffix: str = ""
    goal: float | None = None
    """The reported number when it is not the row's own (a cycle's days between sightings)."""
    prefix: str = "ev:"

    @property
    def column(self) -> str:
        return f"{self.prefix}{self.row.id}{self.suffix}"

    @property
    def target(self) -> float:
        """The reported number (1 for a sighting of a named ship)."""
        if self.goal is not None:
            return self.goal
        if self.measure == "ship_seen":
            return 1.0
        return float(self.row.value if self.row.value is not None else 0.0)

    @property
    def relation(self) -> str:
        if self.measure == "ship_seen":
            return "="
        if self.measure == "ship_cycle":
            return "<="
        return self.row.relation or ">="

    def reported(self) -> str:
        """What was reported, in words (``<= 33 days between loadings`` for a cycle)."""
        if self.measure == "ship_cycle":
            return f"<= {self.target:g} days between loadings"
        return self.row.reported()

    def values(self, v: Visits, c: Compiled, n_reps: int) -> np.ndarray:
        """The statistic in every replication of a block of ``n_reps``, shape (R,)."""
        R = n_reps
        lt = v.load_t
        in_period = (lt >= self.t0_h) & (lt < self.t1_h)
        seen = in_period & v.load_seen
        lr = v.load_rep
        m = self.measure

        def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
            w = None if weights is None else weights[mask]
            return np.bincount(lr[mask], weights=w, minlength=R).astype(float)

        def distinct(rep: np.ndarray, ship: np.ndarray) -> np.ndarray:
            hit = np.zeros((R, c.n_ships), dtype=bool)
            hit[rep, ship] = True
            return hit.sum(axis=1).astype(float)

        if m == "seen_visits":
            return count(seen)
        if m == "distinct_seen":
            return distinct(lr[seen], v.load_ship[seen])
        if m == "seen_bbl":
            return count(seen, v.load_cargo)
        if m == "loaded_bbl":
            return count(in_period, v.load_cargo)
        if m == "share_designated":
            n = count(seen)
            d = count(seen & c.designated[v.load_ship])
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(n > 0, d / np.maximum(n, 1), np.nan)
        if m == "ship_seen":
            return (count(seen & (v.load_ship == self.ship)) > 0).astype(float)
        if m == "ship_cycle":
            mine = v.load_ship == self.ship
            rep, t = lr[mine], lt[mine]
            order = np.lexsort((t, rep))
            rep, t = rep[order], t[order]
            out = np.full(R, c.window_h / HOURS_PER_DAY + 1.0)
            same = rep[1:] == rep[:-1]
            np.minimum.at(out, rep[1:][same], np.diff(t)[same] / HOURS_PER_DAY)
            return out
        if m == "port_discharges":
            d = (v.dis_t >= self.t0_h) & (v.dis_t < self.t1_h) & (v.dis_port == self.port)
            return distinct(v.dis_rep[d], v.dis_ship[d])
        raise AssertionError(m)  # pragma: no cover

    def value(self, v: Visits, c: Compiled) -> float:
        """The statistic in a block of one replication."""
        return float(self.values(v, c, 1)[0])

    def holds(self, x: np.ndarray) -> np.ndarray:
        """Where values ``x`` agree with the reported number under the row's relation."""
        t, rel = self.target, self.relation
        with np.errstate(invalid="ignore"):
            if rel == ">=":
                return x >= t
            if rel == "<=":
                return x <= t
            if rel == "~":
                return np.abs(x - t) <= APPROX * abs(t)
            return x == t


@dataclass(frozen=True)
class Unused:
    """An evidence row the model cannot measure, and why."""

    row: EvidenceRow
    reason: str


def _hours(c: Compiled, row: EvidenceRow, widen_days: float = 0.0) -> tuple[float, float]:
    start = c.scenario.window.start
    t0 = ((row.date_from - start).days - widen_days) * HOURS_PER_DAY
    t1 = ((row.date_to - start).days + 1 + widen_days) * HOURS_PER_DAY
    return max(0.0, t0), min(c.window_h, t1)


def compile_observables(
    evidence: Evidence | None, c: Compiled
) -> tuple[tuple[Observable, ...], tuple[Unused, ...]]:
    """The observables of an evidence file for a compiled scenario, and the rows not used."""
    if evidence is None:
        return (), ()
    terminal = c.scenario.terminal.port
    ports = {pid: j for j, pid in enumerate(c.port_ids, start=1)}
    used: list[Observable] = []
    unused: list[Unused] = []
    loadings: dict[int, list[EvidenceRow]] = {}
    for row in evidence.rows:
        t0, t1 = _hours(c, row)
        if row.kind != "sighting":
            if row.place and row.place != terminal:
                unused.append(Unused(row, f"counted at {row.place}: the model observes {terminal}"))
                continue
            measure = {
                "visits": "seen_visits",
                "distinct_ships": "distinct_seen",
                "volume": "seen_bbl",
                "share_sanctioned": "share_designated",
            }[row.kind]
            used.append(Observable(row, measure, t0, t1))
            if row.kind == "volume":
                used.append(Observable(row, "loaded_bbl", t0, t1, suffix=":all"))
            continue
        if row.place == AT_SEA or row.activity in ("at_sea", "arrived_ballast"):
            unused.append(Unused(row, "a position at sea: the model observes only ports"))
            continue
        if row.place == terminal and row.activity in WIDEN_DAYS:
            if not row.ship:
                unused.append(Unused(row, "an unnamed ship at the terminal: counted by aggregates"))
                continue
            if row.ship not in c.ship_ids:
                unused.append(Unused(row, f"{row.ship} is not in the scenario's fleet"))
                continue
            w0, w1 = _hours(c, row, WIDEN_DAYS[row.activity])
            ship = c.ship_ids.index(row.ship)
            used.append(Observable(row, "ship_seen", w0, w1, ship=ship))
            if row.activity != "at_anchor" and row.date_from == row.date_to:
                loadings.setdefault(ship, []).append(row)
            continue
        if row.activity == "unloading" and row.place in ports:
            used.append(Observable(row, "port_discharges", t0, t1, port=ports[row.place]))
            continue
        unused.append(
            Unused(row, f"{row.activity.replace('_', ' ')} at {row.place or '?'}: not modelled")
        )
    for ship, rows in sorted(loadings.items()):
        rows.sort(key=lambda r: r.date_from)
        for a, b in itertools.pairwise(rows):
            gap = (b.date_from - a.date_from).days + 2 * WIDEN_DAYS[b.activity]
            used.append(
                Observable(b, "ship_cycle", 0.0, c.window_h, ship=ship, suffix=":cycle", goal=gap)
            )
    return tuple(used), tuple(unused)


def month_observables(c: Compiled) -> tuple[Observable, ...]:
    """Candidate evidence for :mod:`sim.analysis.settle`: the visits seen and the barrels the
    seen visits loaded in every whole calendar month of the window (columns
    ``voi:visits-YYYY-MM`` and ``voi:bbl-YYYY-MM``)."""
    import datetime as dt

    start, end = c.scenario.window.start, c.scenario.window.end
    out: list[Observable] = []
    first = dt.date(start.year, start.month, 1)
    if first < start:
        first = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    month = first
    while True:
        nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        last = nxt - dt.timedelta(days=1)
        if last > end:
            break
        for kind, measure, name in (
            ("visits", "seen_visits", "visits"),
            ("volume", "seen_bbl", "bbl"),
        ):
            row = EvidenceRow(
                line=0, id=f"{name}-{month:%Y-%m}", kind=kind, date_from=month, date_to=last,
                ship="", place=c.scenario.terminal.port, activity="", relation="=", value=0.0,
                source="candidate", confidence="", note="",
            )  # fmt: skip
            t0, t1 = _hours(c, row)
            out.append(Observable(row, measure, t0, t1, prefix="voi:"))
        month = nxt
    return tuple(out)
