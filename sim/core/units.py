"""Units, constants and cargo conversions.

Barrels (US oil barrel, 42 US gallons) are the primary cargo unit. Tonnes and cubic metres are
conversions through a product's barrels per tonne [bbl/t].

Sources: BP Statistical Review, "Approximate conversion factors" (2021), and the UN Statistics
Division Energy Yearbook; see ``docs/sources.md``.
"""

from __future__ import annotations

M3_PER_BBL: float = 0.158987294928
"""Cubic metres in one barrel [m3/bbl] (exact: 42 US gal)."""

BBL_PER_M3: float = 1.0 / M3_PER_BBL
"""Barrels in one cubic metre [bbl/m3] (about 6.2898)."""

HOURS_PER_DAY: float = 24.0
DAYS_PER_YEAR: float = 365.0

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
    """
    return 1.0 / (bbl_per_t * M3_PER_BBL)
