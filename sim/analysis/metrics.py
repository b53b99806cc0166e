"""Metrics of one replication: pure functions from its event log to tables.

The headline numbers (trips, barrels) come from :mod:`sim.model.results`, the same function
for a single run and a batch; this module adds the per-ship, per-berth and per-product tables
and the claim arithmetic of a single run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.core.config import Scenario
from sim.core.routes import RouteTable
from sim.core.units import HOURS_PER_DAY, cap_pro_rata_bbl, density_t_per_m3, per_year
from sim.model.events import activities, occupancy

SAILING = ("sail",)
IN_PORT = ("moor", "load", "discharge", "unmoor", "lock")
WAITING = ("wait", "anchor")
IDLE = ("idle",)


def ship_table(
    events: pd.DataFrame, window_h: float, act: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per ship: trips, barrels loaded and delivered, days sailing / in port / waiting / idle.

    ``act`` is :func:`sim.model.events.activities` of ``events`` when the caller has it already.
    """
    act = activities(events, window_h) if act is None else act
    kind = events["event"]
    ships = events["ship"].cat.categories
    out = pd.DataFrame(index=pd.Index(ships, name="ship"))
    out["ship_class"] = (
        events.drop_duplicates("ship").set_index("ship")["ship_class"].astype(str).reindex(ships)
    )
    loads = events[kind == "load_end"].groupby("ship", observed=False)
    out["trips"] = loads.size().reindex(ships, fill_value=0).astype(int)
    out["loaded_bbl"] = loads["cargo_bbl"].sum().reindex(ships, fill_value=0.0)
    dis = events[kind == "discharge_end"].groupby("ship", observed=False)
    out["delivered_bbl"] = dis["cargo_bbl"].sum().reindex(ships, fill_value=0.0)
    for name, group in (
        ("sailing_days", SAILING),
        ("in_port_days", IN_PORT),
        ("waiting_days", WAITING),
        ("idle_days", IDLE),
    ):
        sel = act[act["activity"].isin(group)]
        hours = (
            sel.groupby("ship", observed=False)["duration_h"].sum().reindex(ships, fill_value=0.0)
        )
        out[name] = hours / HOURS_PER_DAY
    return out.reset_index()


def berth_table(
    events: pd.DataFrame, scenario: Scenario, window_h: float, act: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per port: calls, berth utilisation [fraction] and waiting for a berth [h].

    Occupancy comes from the log's ``seize`` / ``release`` pairs (:func:`occupancy`); waits
    from its ``wait`` activities.
    """
    act = activities(events, window_h) if act is None else act
    occ = occupancy(events, window_h).sort_values(
        ["replication", "ship", "voyage", "start_h"], kind="stable"
    )
    busy_h = occ.groupby("place", observed=True)["duration_h"].sum()
    calls = occ.groupby("place", observed=True).size()
    waits = act[act["activity"] == "wait"].groupby("place", observed=True)["duration_h"]
    rows = []
    berths = {scenario.terminal.port: scenario.terminal.berths}
    berths |= {p: d.berths for p, d in scenario.discharge.items()}
    for place, n_berths in berths.items():
        n_calls = int(calls.get(place, 0))
        wait_sum = float(waits.sum().get(place, 0.0)) if len(act) else 0.0
        rows.append(
            {
                "place": place,
                "berths": n_berths,
                "calls": n_calls,
                "berth_utilisation": float(busy_h.get(place, 0.0)) / (n_berths * window_h),
                "waits": int(waits.size().get(place, 0)) if len(act) else 0,
                "mean_wait_h": wait_sum / n_calls if n_calls else 0.0,
                "max_wait_h": float(waits.max().get(place, 0.0)) if len(act) else 0.0,
            }
        )
    return pd.DataFrame(rows)


def tonnes_table(events: pd.DataFrame, bbl_per_t: dict[str, float]) -> pd.DataFrame:
    """Barrels and tonnes loaded and delivered, by product."""
    kind = events["event"]
    rows = []
    for label, k in (("loaded", "load_end"), ("delivered", "discharge_end")):
        sel = events[kind == k].groupby("product", observed=True)["cargo_bbl"].sum()
        for prod, bbl in sel.items():
            rows.append(
                {
                    "product": str(prod),
                    "stage": label,
                    "barrels": float(bbl),
                    "bbl_per_t": bbl_per_t[str(prod)],
                    "tonnes": float(bbl) / bbl_per_t[str(prod)],
                }
            )
    return pd.DataFrame(rows, columns=["product", "stage", "barrels", "bbl_per_t", "tonnes"])


def claim_block(k: dict[str, float], scenario: Scenario) -> dict[str, Any]:
    """Claimed against simulated numbers, and the arithmetic that tests the claim."""
    cl = scenario.claims
    days = scenario.window.days
    out: dict[str, Any] = {
        "source": cl.source,
        "window_days": days,
        "simulated_trips": int(k["trips"]),
        "simulated_observed_visits": int(k["observed_visits"]),
        "simulated_delivered_bbl": k["delivered_bbl"],
        "simulated_loaded_bbl": k["loaded_bbl"],
        "simulated_mean_parcel_bbl": k["mean_parcel_bbl"],
    }
    if cl.trips is not None:
        out["claimed_trips"] = cl.trips
        out["trips_ratio"] = k["trips"] / cl.trips if cl.trips else None
    out["basis"] = cl.basis
    basis_bbl = k[f"{cl.basis}_bbl"]
    if cl.barrels is not None:
        out["claimed_bbl"] = cl.barrels
        out["ratio_to_claim"] = basis_bbl / cl.barrels if cl.barrels else None
        if cl.trips:
            out["needed_bbl_per_claimed_trip"] = cl.barrels / cl.trips
        if k["trips"]:
            out["needed_bbl_per_simulated_trip"] = cl.barrels / k["trips"]
    if cl.barrels and cl.tonnes:
        implied = cl.barrels / cl.tonnes
        out["claimed_t"] = cl.tonnes
        out["claim_implied_bbl_per_t"] = implied
        out["claim_implied_density_t_per_m3"] = density_t_per_m3(implied)
        lo, hi = min(scenario.bbl_per_t.values()), max(scenario.bbl_per_t.values())
        out["claim_tonnes_consistent"] = lo <= implied <= hi
    if cl.un_cap_bbl_per_year is not None:
        pro_rata = cap_pro_rata_bbl(cl.un_cap_bbl_per_year, days)
        out["un_cap_bbl_per_year"] = cl.un_cap_bbl_per_year
        out["un_cap_pro_rata_bbl"] = pro_rata
        out["vs_cap_pro_rata"] = basis_bbl / pro_rata if pro_rata else None
        out["simulated_bbl_per_year"] = per_year(basis_bbl, days)
    return out


@dataclass
class RunSummary:
    """Everything `tankersim run` reports for one replication."""

    kpis: dict[str, float]
    claims: dict[str, Any]
    ships: pd.DataFrame
    berths: pd.DataFrame
    products: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "kpis": self.kpis,
            "claims": self.claims,
            "ships": self.ships.to_dict(orient="records"),
            "berths": self.berths.to_dict(orient="records"),
            "products": self.products.to_dict(orient="records"),
        }


def summarize(events: pd.DataFrame, scenario: Scenario, kpis: dict[str, float]) -> RunSummary:
    """The summary of one replication: its headline numbers (from :mod:`sim.model.results`)
    and its tables."""
    window_h = scenario.window.hours
    act = activities(events, window_h)  # paired once, for both tables
    return RunSummary(
        kpis=kpis,
        claims=claim_block(kpis, scenario),
        ships=ship_table(events, window_h, act),
        berths=berth_table(events, scenario, window_h, act),
        products=tonnes_table(events, scenario.bbl_per_t),
    )


def leg_table(scenario: Scenario, routes: RouteTable) -> pd.DataFrame:
    """One row per leg: length, pilotage, gates and locks passed, hours at each class's speeds.

    Hours use each class's mean laden and ballast speeds [kn].
    """
    rows = []
    term = scenario.terminal.port
    for far in sorted(scenario.discharge):
        leg = routes.leg(term, far)
        lock = scenario.discharge[far].lock
        row: dict[str, Any] = {
            "from": term,
            "to": far,
            "distance_nm": leg.distance_nm,
            "pilotage_nm": leg.pilotage_nm,
            "method": leg.method,
            "passes": ", ".join(leg.passes),
            "lock": lock.name if lock is not None else "",
        }
        for cid, cls in scenario.fleet.items():
            row[f"{cid}_laden_h"] = leg.distance_nm / cls.speed_laden_kn.mean
            row[f"{cid}_ballast_h"] = leg.distance_nm / cls.speed_ballast_kn.mean
        rows.append(row)
    return pd.DataFrame(rows)
