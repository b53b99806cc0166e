"""The claims check: arithmetic on a published claim, before any simulation.

A claim such as "43 trips, over 1 million barrels (56,000 tonnes), more than a dozen tankers,
against a UN cap of 500,000 barrels a year" can be checked for internal consistency with unit
conversions alone:

- **barrels against tonnes**: the implied barrels per tonne and density, set beside the density
  of every oil product in the scenario's table; a density no product has makes the pair
  *impossible*, whatever the ships did;
- **barrels per visit**: the claimed barrels over the claimed visits, and the ship that carries
  that parcel at the fleet's mean load factor (cargo tonnes at the product mix's barrels per
  tonne, deadweight at :data:`sim.core.units.CARGO_DWT_FRACTION` of it, an estimate);
- **per ship**: barrels and visits per claimed ship;
- **the UN cap pro rata**: the yearly cap scaled to the claim's window, and the claim's
  yearly rate against it.

Nothing here draws a random number: the same scenario always gives the same check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.core.config import Scenario
from sim.core.units import (
    BBL_PER_M3,
    DAYS_PER_YEAR,
    cap_pro_rata_bbl,
    density_t_per_m3,
    dwt_for_cargo_t,
)

__all__ = [
    "BarrelsPerVisit",
    "ClaimsCheck",
    "Needed",
    "ProductRow",
    "TonnesVsBarrels",
    "UnCapPace",
    "check_claims",
    "needed_ship",
    "tonnes_vs_barrels",
]


@dataclass(frozen=True)
class Needed:
    """The ship the claim needs: barrels per visit and what that means in capacity."""

    bbl_per_trip: float
    mean_load_factor: float
    capacity_bbl: float
    capacity_m3: float
    mix_bbl_per_t: float
    cargo_t: float
    dwt_approx: float
    p_mean_parcel_ge_needed: Any = None
    """A :class:`sim.analysis.verdict.Proportion` when a batch of replications was read."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "bbl_per_trip": self.bbl_per_trip,
            "mean_load_factor": self.mean_load_factor,
            "capacity_bbl": self.capacity_bbl,
            "capacity_m3": self.capacity_m3,
            "mix_bbl_per_t": self.mix_bbl_per_t,
            "cargo_t": self.cargo_t,
            "dwt_approx": self.dwt_approx,
        }
        if self.p_mean_parcel_ge_needed is not None:
            out["p_mean_parcel_ge_needed"] = self.p_mean_parcel_ge_needed.to_dict()
        return out


def _mean_of_fleet(scenario: Scenario, attr: str) -> float:
    total = sum(c.n_ships for c in scenario.fleet.values())
    return sum(getattr(c, attr).mean * c.n_ships for c in scenario.fleet.values()) / total


def needed_ship(scenario: Scenario, bbl_per_trip: float) -> Needed:
    """Ship size needed to carry ``bbl_per_trip`` at the fleet's mean load factor.

    Tonnes use the product mix's mean barrels per tonne; deadweight assumes cargo is
    :data:`sim.core.units.CARGO_DWT_FRACTION` of dwt (an estimate).
    """
    lf = _mean_of_fleet(scenario, "load_factor")
    bpt = scenario.bbl_per_t
    mix_bpt = sum(w * bpt[p] for p, w in scenario.product_mix.items())
    capacity_bbl = bbl_per_trip / lf
    cargo_t = capacity_bbl / mix_bpt
    return Needed(
        bbl_per_trip=bbl_per_trip,
        mean_load_factor=lf,
        capacity_bbl=capacity_bbl,
        capacity_m3=capacity_bbl / BBL_PER_M3,
        mix_bbl_per_t=mix_bpt,
        cargo_t=cargo_t,
        dwt_approx=dwt_for_cargo_t(cargo_t),
    )


@dataclass(frozen=True)
class ProductRow:
    """One product of the table: its factor, its density and what the claim means in it."""

    product: str
    bbl_per_t: float
    density_t_per_m3: float
    claimed_t_as_bbl: float
    """The claimed tonnes of this product, in barrels [bbl]."""
    claimed_bbl_as_t: float
    """The claimed barrels of this product, in tonnes [t]."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TonnesVsBarrels:
    """Claimed barrels against claimed tonnes."""

    barrels: float
    tonnes: float
    implied_bbl_per_t: float
    implied_density_t_per_m3: float
    products: tuple[ProductRow, ...]
    status: str
    """``impossible`` (no product in the table has the implied density) or ``consistent``."""
    sentence: str

    @property
    def impossible(self) -> bool:
        return self.status == "impossible"

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "products"}
        out["products"] = [p.to_dict() for p in self.products]
        return out


@dataclass(frozen=True)
class BarrelsPerVisit:
    """Claimed barrels over claimed visits, and the ship that parcel needs."""

    visits: int
    bbl_per_visit: float
    t_per_visit: float | None
    """Claimed tonnes over claimed visits [t], when tonnes were claimed."""
    ship: Needed
    ships: int | None
    bbl_per_ship: float | None
    visits_per_ship: float | None
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "ship"}
        out["ship"] = self.ship.to_dict()
        return out


@dataclass(frozen=True)
class UnCapPace:
    """The UN cap pro rata for the claim's window, against the claim."""

    cap_bbl_per_year: float
    window_days: int
    cap_pro_rata_bbl: float
    claim_bbl_per_year: float
    times_cap: float
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ClaimsCheck:
    """Everything the claim's own numbers say, before any simulation."""

    scenario: str
    source: str
    trips: int | None
    barrels: float | None
    tonnes: float | None
    ships: int | None
    start: dt.date
    end: dt.date
    window_days: int
    tonnes_vs_barrels: TonnesVsBarrels | None
    per_visit: BarrelsPerVisit | None
    un_cap: UnCapPace | None

    @property
    def flags(self) -> list[str]:
        """One sentence per finding that makes part of the claim impossible."""
        tb = self.tonnes_vs_barrels
        return [tb.sentence] if tb is not None and tb.impossible else []

    def __repr__(self) -> str:
        from sim.core.reprs import plural, short_repr

        claim = [f"{self.trips} visits" if self.trips is not None else ""]
        claim += [f"{self.barrels:,.0f} bbl" if self.barrels is not None else ""]
        claim += [f"{self.tonnes:,.0f} t" if self.tonnes is not None else ""]
        words = ", ".join(c for c in claim if c) or "no numbers"
        found = plural(len(self.flags), "impossible finding")
        if self.per_visit is not None:
            found += f"; {self.per_visit.bbl_per_visit:,.0f} bbl a visit"
        if self.un_cap is not None:
            found += f", {self.un_cap.times_cap:.1f}x the UN cap pro rata"
        return short_repr(
            "ClaimsCheck", self.scenario, f"{words} in {self.window_days} days; {found}"
        )

    def _repr_html_(self) -> str:
        from sim.core.reprs import html_summary

        def num(x: float | None, unit: str) -> str:
            return "not claimed" if x is None else f"{x:,.0f} {unit}"

        rows: list[tuple[str, object]] = [
            ("source", self.source or "not given"),
            ("visits", num(self.trips, "visits")),
            ("barrels", num(self.barrels, "bbl")),
            ("tonnes", num(self.tonnes, "t")),
            ("ships", num(self.ships, "ships")),
            ("window", f"{self.start} to {self.end} ({self.window_days} days)"),
        ]
        if self.tonnes_vs_barrels is not None:
            rows.append(("barrels against tonnes", self.tonnes_vs_barrels.sentence))
        if self.per_visit is not None:
            rows.append(("per visit", self.per_visit.sentence))
        if self.un_cap is not None:
            rows.append(("UN cap", self.un_cap.sentence))
        rows += [("impossible", flag) for flag in self.flags]
        return html_summary(f"Claims check: {self.scenario}", rows)

    def table(self) -> pd.DataFrame:
        """Every number of the check as rows: ``section``, ``quantity``, ``value``, ``unit``."""
        rows: list[tuple[str, str, float | str, str]] = [
            ("claim", "visits", _num(self.trips), "visits"),
            ("claim", "barrels", _num(self.barrels), "bbl"),
            ("claim", "tonnes", _num(self.tonnes), "t"),
            ("claim", "ships", _num(self.ships), "ships"),
            ("claim", "window", self.window_days, "days"),
        ]
        tb = self.tonnes_vs_barrels
        if tb is not None:
            rows += [
                ("barrels vs tonnes", "implied factor", tb.implied_bbl_per_t, "bbl/t"),
                ("barrels vs tonnes", "implied density", tb.implied_density_t_per_m3, "t/m3"),
                ("barrels vs tonnes", "status", tb.status, ""),
            ]
            for p in tb.products:
                rows += [
                    (f"in {p.product}", "density", p.density_t_per_m3, "t/m3"),
                    (f"in {p.product}", "claimed tonnes as barrels", p.claimed_t_as_bbl, "bbl"),
                    (f"in {p.product}", "claimed barrels as tonnes", p.claimed_bbl_as_t, "t"),
                ]
        pv = self.per_visit
        if pv is not None:
            rows += [
                ("per visit", "barrels", pv.bbl_per_visit, "bbl"),
                ("per visit", "tonnes (claimed)", _num(pv.t_per_visit), "t"),
                ("per visit", "ship capacity needed", pv.ship.capacity_bbl, "bbl"),
                ("per visit", "ship capacity needed", pv.ship.capacity_m3, "m3"),
                ("per visit", "cargo of the product mix", pv.ship.cargo_t, "t"),
                ("per visit", "ship size needed (approx.)", pv.ship.dwt_approx, "dwt"),
                ("per visit", "mean load factor", pv.ship.mean_load_factor, "ratio"),
                ("per ship", "barrels", _num(pv.bbl_per_ship), "bbl"),
                ("per ship", "visits", _num(pv.visits_per_ship), "visits"),
            ]
        cap = self.un_cap
        if cap is not None:
            rows += [
                ("UN cap", "cap", cap.cap_bbl_per_year, "bbl/yr"),
                ("UN cap", "cap pro rata for the window", cap.cap_pro_rata_bbl, "bbl"),
                ("UN cap", "claim as a yearly rate", cap.claim_bbl_per_year, "bbl/yr"),
                ("UN cap", "claim / cap pro rata", cap.times_cap, "ratio"),
            ]
        return pd.DataFrame(rows, columns=["section", "quantity", "value", "unit"])

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of ``claims.json``."""
        return {
            "scenario": self.scenario,
            "claim": {
                "source": self.source,
                "trips": self.trips,
                "barrels": self.barrels,
                "tonnes": self.tonnes,
                "ships": self.ships,
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "window_days": self.window_days,
            },
            "tonnes_vs_barrels": (
                None if self.tonnes_vs_barrels is None else self.tonnes_vs_barrels.to_dict()
            ),
            "per_visit": None if self.per_visit is None else self.per_visit.to_dict(),
            "un_cap": None if self.un_cap is None else self.un_cap.to_dict(),
            "flags": self.flags,
        }


def _num(x: float | int | None) -> float | str:
    return "" if x is None else x


def tonnes_vs_barrels(sc: Scenario, barrels: float, tonnes: float) -> TonnesVsBarrels:
    """Claimed barrels against claimed tonnes, beside every product of the scenario's table."""
    implied = barrels / tonnes
    density = density_t_per_m3(implied)
    rows = tuple(
        ProductRow(
            product=p,
            bbl_per_t=f,
            density_t_per_m3=density_t_per_m3(f),
            claimed_t_as_bbl=tonnes * f,
            claimed_bbl_as_t=barrels / f,
        )
        for p, f in sorted(sc.bbl_per_t.items(), key=lambda kv: kv[1])
    )
    lo, hi = rows[0], rows[-1]  # the densest and the lightest product
    fits = lo.bbl_per_t <= implied <= hi.bbl_per_t
    pair = (
        f"{barrels:,.0f} bbl in {tonnes:,.0f} t is {implied:.2f} bbl/t, "
        f"a density of {density:.3f} t/m3"
    )
    if fits:
        sentence = (
            f"{pair}: within the table's products ({lo.density_t_per_m3:.3f}-"
            f"{hi.density_t_per_m3:.3f} t/m3), so barrels and tonnes agree."
        )
        status = "consistent"
    else:
        light = implied > hi.bbl_per_t
        side, end, edge = ("lighter", "lightest", hi) if light else ("heavier", "heaviest", lo)
        sentence = (
            f"{pair}: {side} than every product in the table (the {end}, "
            f"{edge.product}, is {edge.density_t_per_m3:.3f} t/m3), so the pair is impossible; "
            f"{tonnes:,.0f} t would be {lo.claimed_t_as_bbl:,.0f}-{hi.claimed_t_as_bbl:,.0f} bbl."
        )
        status = "impossible"
    return TonnesVsBarrels(barrels, tonnes, implied, density, rows, status, sentence)


def check_claims(scenario: Scenario) -> ClaimsCheck:
    """The claims check of ``scenario.claims`` (see the module's documentation).

    The window is the claim's own (``claims.start`` .. ``claims.end``, both days included)
    where given, else the scenario's run window.
    """
    cl = scenario.claims
    start = cl.start or scenario.window.start
    end = cl.end or scenario.window.end
    days = (end - start).days + 1
    tb = None
    if cl.barrels and cl.tonnes:
        tb = tonnes_vs_barrels(scenario, cl.barrels, cl.tonnes)
    per_visit = None
    if cl.barrels is not None and cl.trips:
        bpv = cl.barrels / cl.trips
        ship = needed_ship(scenario, bpv)
        tpv = cl.tonnes / cl.trips if cl.tonnes else None
        per_ship = cl.barrels / cl.ships if cl.ships else None
        visits_ship = cl.trips / cl.ships if cl.ships else None
        sentence = (
            f"{cl.barrels:,.0f} bbl over {cl.trips} visits is {bpv:,.0f} bbl a visit "
            f"({bpv / BBL_PER_M3:,.0f} m3, {bpv / ship.mix_bbl_per_t:,.0f} t of the product mix): "
            f"a ship of about {ship.capacity_bbl:,.0f} bbl, {ship.dwt_approx:,.0f} dwt, loaded "
            f"to {ship.mean_load_factor:.0%}."
        )
        if per_ship is not None and visits_ship is not None:
            sentence += (
                f" Over {cl.ships} ships that is {visits_ship:.1f} visits and {per_ship:,.0f} bbl "
                "a ship."
            )
        per_visit = BarrelsPerVisit(
            cl.trips, bpv, tpv, ship, cl.ships, per_ship, visits_ship, sentence
        )
    cap = None
    if cl.un_cap_bbl_per_year and cl.barrels is not None:
        pro_rata = float(cap_pro_rata_bbl(cl.un_cap_bbl_per_year, days))
        yearly = cl.barrels * DAYS_PER_YEAR / days
        times = cl.barrels / pro_rata
        cap = UnCapPace(
            cl.un_cap_bbl_per_year,
            days,
            pro_rata,
            yearly,
            times,
            (
                f"The UN cap of {cl.un_cap_bbl_per_year:,.0f} bbl a year is {pro_rata:,.0f} bbl "
                f"over the claim's {days} days; {cl.barrels:,.0f} bbl is {times:.1f} times that "
                f"({yearly:,.0f} bbl a year)."
            ),
        )
    return ClaimsCheck(
        scenario=scenario.name,
        source=cl.source,
        trips=cl.trips,
        barrels=cl.barrels,
        tonnes=cl.tonnes,
        ships=cl.ships,
        start=start,
        end=end,
        window_days=days,
        tonnes_vs_barrels=tb,
        per_visit=per_visit,
        un_cap=cap,
    )
