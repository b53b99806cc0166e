"""Replay and feasibility: could each named ship have been where it was seen, when it was seen?

For every named ship with two or more dated sightings at modelled places (the terminal and the
discharge ports), consecutive sightings are set against the shortest time the scenario allows
between those two places: the fastest passages (the class's top speeds), the shortest port
times (at the berth: the shortest paperwork, and pumping the smallest parcel at the fastest
rate), the shortest lock transits and turnaround. Dates are days, so the longest gap the
dates allow is compared: two sightings are flagged only when even that gap is shorter than
the shortest possible time between them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import pandas as pd

from sim.core.config import Scenario, input_bounds, scenario_inputs
from sim.core.evidence import Evidence, EvidenceRow
from sim.core.registry import registry
from sim.core.routes import RouteTable
from sim.core.units import BBL_PER_M3, HOURS_PER_DAY

MODELLED_ACTIVITIES = ("loading", "at_anchor", "departed_laden", "unloading")


@dataclass(frozen=True)
class Legs:
    """The shortest times of one class of ships [h]: terminal to port (laden leg plus the
    terminal call after arrival) and port to terminal, per discharge port."""

    at_terminal_h: float
    """Shortest terminal call: anchorage, paperwork, loading the smallest parcel [h]."""
    at_port_h: dict[str, float]
    laden_h: dict[str, float]
    ballast_h: dict[str, float]
    turnaround_h: float


def _lo(sc: Scenario, key: str) -> float:
    for inp in scenario_inputs(sc):
        if inp.key == key:
            return input_bounds(sc, inp)[0]
    return 0.0


def _hi(sc: Scenario, key: str) -> float:
    for inp in scenario_inputs(sc):
        if inp.key == key:
            return input_bounds(sc, inp)[1]
    return math.inf


def shortest_legs(sc: Scenario, routes: RouteTable, class_id: str) -> Legs:
    """The shortest times a ship of ``class_id`` can take between places [h]."""
    k = f"fleet.{class_id}"
    cls = sc.fleet[class_id]
    v_l, v_b = _hi(sc, f"{k}.speed_laden_kn"), _hi(sc, f"{k}.speed_ballast_kn")
    # The smallest parcel: the lowest load factor of the smallest capacity, in barrels.
    min_bpt = min(sc.bbl_per_t[p] for p, w in sc.product_mix.items() if w > 0)
    if cls.capacity_bbl is not None:
        cap = _lo(sc, f"{k}.capacity_bbl")
    elif cls.capacity_dwt is not None:
        dwt = _lo(sc, f"{k}.capacity_dwt")
        cap = min(
            dwt * _lo(sc, f"{k}.cargo_dwt_fraction") * min_bpt,
            dwt * _lo(sc, f"{k}.tank_m3_per_dwt") * BBL_PER_M3,
        )
    else:
        by_t = _lo(sc, f"{k}.capacity_t") * min_bpt if cls.capacity_t is not None else math.inf
        by_m3 = (
            _lo(sc, f"{k}.capacity_m3") * BBL_PER_M3 if cls.capacity_m3 is not None else math.inf
        )
        cap = min(by_t, by_m3)
    parcel = cap * _lo(sc, f"{k}.load_factor")
    t = sc.terminal
    rate = (
        _hi(sc, "terminal.load_rate_bbl_per_h")
        if t.load_rate_bbl_per_h is not None
        else _hi(sc, "terminal.load_rate_m3_per_h") * BBL_PER_M3
    )
    at_terminal = (
        _lo(sc, "terminal.anchorage_h")
        + _lo(sc, "terminal.pre_pump_h")
        + parcel / rate
        + _lo(sc, "terminal.post_pump_h")
    )
    at_port, laden, ballast = {}, {}, {}
    for pid, d in sc.discharge.items():
        p = f"discharge.{pid}"
        prate = (
            _hi(sc, f"{p}.rate_bbl_per_h")
            if d.rate_bbl_per_h is not None
            else _hi(sc, f"{p}.rate_m3_per_h") * BBL_PER_M3
        )
        lock = _lo(sc, f"{p}.lock.transit_h") if d.lock is not None else 0.0
        at_port[pid] = (
            lock
            + _lo(sc, f"{p}.anchorage_h")
            + _lo(sc, f"{p}.pre_pump_h")
            + parcel / prate
            + _lo(sc, f"{p}.post_pump_h")
        )
        dist = routes.distance_nm(sc.terminal.port, pid)
        laden[pid] = dist / v_l
        ballast[pid] = dist / v_b + lock
    turnaround_h = (
        _lo(sc, f"{k}.turnaround_days") * _lo(sc, f"{k}.turnaround_factor") * HOURS_PER_DAY
    )
    return Legs(at_terminal, at_port, laden, ballast, turnaround_h)


def shortest_between(legs: Legs, terminal: str, a: str, b: str) -> tuple[float, str]:
    """The shortest time from a sighting at place ``a`` to the next at ``b`` [h], and the
    discharge port it goes through."""
    best, via = math.inf, ""
    for pid in legs.laden_h:
        if a == terminal and b == terminal:  # one whole cycle
            h = (
                legs.at_terminal_h
                + legs.laden_h[pid]
                + legs.at_port_h[pid]
                + legs.turnaround_h
                + legs.ballast_h[pid]
            )
        elif a == terminal and b == pid:
            h = legs.at_terminal_h + legs.laden_h[pid]
        elif a == pid and b == terminal:
            h = legs.at_port_h[pid] + legs.turnaround_h + legs.ballast_h[pid]
        elif a == pid and b == pid:
            h = (
                legs.at_port_h[pid]
                + legs.turnaround_h
                + legs.ballast_h[pid]
                + legs.at_terminal_h
                + legs.laden_h[pid]
            )
        else:
            continue
        if h < best:
            best, via = h, pid
    return best, via


def replay(evidence: Evidence | None, sc: Scenario, routes: RouteTable) -> pd.DataFrame:
    """Consecutive sightings of every named ship, with the gap the dates allow and the shortest
    time the scenario allows between them; ``feasible`` is False when the gap is shorter."""
    cols = [
        "ship", "from_id", "from_date", "from_place", "to_id", "to_date", "to_place",
        "max_gap_days", "shortest_days", "via", "feasible", "note",
    ]  # fmt: skip
    if evidence is None:
        return pd.DataFrame(columns=cols)
    modelled = {sc.terminal.port, *sc.discharge}
    class_of = {sid: cid for cid, sid in sc.ship_ids()}
    reg = registry()
    by_ship: dict[str, list[EvidenceRow]] = {}
    for row in evidence.rows:
        modelled_row = row.activity in MODELLED_ACTIVITIES and row.place in modelled
        if row.kind == "sighting" and row.ship and modelled_row:
            by_ship.setdefault(row.ship, []).append(row)
    out = []
    for ship, rows in sorted(by_ship.items()):
        rows = sorted(rows, key=lambda r: (r.date_from, r.date_to))
        cid = class_of.get(ship)
        note = ""
        if cid is None:  # not in the fleet: judge it as the fleet's fastest class would sail
            note = "not in the scenario's fleet: judged at the fastest class's limits"
        classes = [cid] if cid is not None else list(sc.fleet)
        legs = [shortest_legs(sc, routes, k) for k in classes]
        for a, b in itertools.pairwise(rows):
            gap_days = (b.date_to - a.date_from).days + 1  # the longest gap the dates allow
            best, via = math.inf, ""
            for lg in legs:
                h, v = shortest_between(lg, sc.terminal.port, a.place, b.place)
                if h < best:
                    best, via = h, v
            out.append(
                {
                    "ship": reg.get(ship).name if ship in reg else ship,  # type: ignore[union-attr]
                    "from_id": a.id,
                    "from_date": a.period(),
                    "from_place": a.place,
                    "to_id": b.id,
                    "to_date": b.period(),
                    "to_place": b.place,
                    "max_gap_days": float(gap_days),
                    "shortest_days": best / HOURS_PER_DAY,
                    "via": via,
                    "feasible": bool(gap_days * HOURS_PER_DAY >= best),
                    "note": note,
                }
            )
    return pd.DataFrame(out, columns=cols)


def replay_messages(table: pd.DataFrame) -> list[str]:
    """One sentence per pair of sightings."""
    out = []
    for r in table.to_dict(orient="records"):
        verdict = (
            "physically possible (how likely under the posterior: the held-out check of "
            "tankersim calibrate)"
            if r["feasible"]
            else "NOT POSSIBLE"
        )
        out.append(
            f"{r['ship']}: {r['from_place']} {r['from_date']} then {r['to_place']} {r['to_date']}: "
            f"at most {r['max_gap_days']:.0f} days apart; the shortest possible is "
            f"{r['shortest_days']:.1f} days (via {r['via']}): {verdict}."
        )
    return out
