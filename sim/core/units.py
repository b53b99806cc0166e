"""Units, constants and cargo conversions.

Barrels (US oil barrel, 42 US gallons) are the primary cargo unit. Tonnes and cubic metres are
conversions through a product's barrels per tonne [bbl/t].

Sources: BP Statistical Review, "Approximate conversion factors" (2021), and the UN Statistics
Division Energy Yearbook; see ``docs/sources.md``.
"""

from __future__ import annotations

from typing import Any

M3_PER_BBL: float = 0.158987294928
"""Cubic metres in one barrel [m3/bbl] (exact: 42 US gal)."""

BBL_PER_M3: float = 1.0 / M3_PER_BBL
"""Barrels in one cubic metre [bbl/m3] (about 6.2898)."""

HOURS_PER_DAY: float = 24.0
"""Hours in a day [h/d]."""
DAYS_PER_YEAR: float = 365.0
"""Days in a year for caps given per year [d/yr] (UNSCR 2397 counts calendar years)."""
CARGO_DWT_FRACTION: float = 0.92
"""Cargo tonnes per tonne of deadweight [t/t], an estimate: bunkers, stores, water and the
ship's constant take the rest (facts: 0.88-0.96 by size class)."""
TANK_M3_PER_DWT: float = 1.117
"""Usable cargo tank volume per tonne of deadweight [m3/t]: 1.14 m3/dwt (a 3,500 dwt product
tanker's design, about 4,000 m3 of tanks) at a 98 % fill (standard ullage). An estimate."""

BP_BBL_PER_T: dict[str, float] = {
    "crude": 7.33,
    "gasoline": 8.35,
    "jet_kero": 7.88,
    "diesel": 7.46,
    "fuel_oil": 6.35,
    "lpg": 11.6,
}
"""Default barrels per tonne by product [bbl/t] (BP Statistical Review conversion factors)."""


def bbl_to_m3(bbl: float) -> float:
    """Barrels to cubic metres [m3]."""
    return bbl * M3_PER_BBL


def m3_to_bbl(m3: float) -> float:
    """Cubic metres to barrels [bbl]."""
    return m3 * BBL_PER_M3


def tonnes_to_bbl(tonnes: float, bbl_per_t: float) -> float:
    """Tonnes of a product to barrels [bbl], given its barrels per tonne [bbl/t]."""
    return tonnes * bbl_per_t


def bbl_to_tonnes(bbl: float, bbl_per_t: float) -> float:
    """Barrels of a product to tonnes [t], given its barrels per tonne [bbl/t]."""
    return bbl / bbl_per_t


def density_t_per_m3(bbl_per_t: float) -> float:
    """Density implied by a barrels-per-tonne factor [t/m3].

    >>> round(density_t_per_m3(7.46), 3)
    0.843
    >>> round(density_t_per_m3(1_000_000 / 56_000), 3)  # the "1 M bbl = 56,000 t" retelling
    0.352
    """
    return 1.0 / (bbl_per_t / BBL_PER_M3)


def cap_pro_rata_bbl(cap_bbl_per_year: float, days: Any) -> Any:
    """A yearly cap pro rata for a window of ``days`` [bbl] (numbers or arrays).

    >>> round(cap_pro_rata_bbl(500_000, 244))
    334247
    """
    return cap_bbl_per_year * days / DAYS_PER_YEAR


def per_year(bbl: Any, days: float) -> Any:
    """Barrels in a window of ``days`` as a yearly rate [bbl/yr] (numbers or arrays)."""
    return bbl * DAYS_PER_YEAR / days


def dwt_for_cargo_t(cargo_t: float) -> float:
    """Deadweight that carries ``cargo_t`` tonnes of cargo [t] (:data:`CARGO_DWT_FRACTION`)."""
    return cargo_t / CARGO_DWT_FRACTION
