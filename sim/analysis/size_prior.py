"""A prior on the fleet's typical ship size, built from the ships whose size is known.

The model sizes each ship as the fleet's typical deadweight (``unknowns.fleet_dwt``) times its
own log-normal factor (median 1, log-scale spread ``sigma``, the scenario's
``fleet.<class>.capacity_dwt``). Read the other way, every ship of the run whose deadweight is
sourced is one draw from that distribution, so the known ships say where the typical size
lies: on the log scale their mean estimates log(fleet_dwt) with a standard error of
``sigma / sqrt(n)``. With a flat prior on log(fleet_dwt) that is the posterior of the typical
size given the known ships (a normal model with known spread), and it is what this module
returns as the *known-ships prior*:

    fleet_dwt ~ lognormal(median = geometric mean of the known sizes, sigma = sigma / sqrt(n))

Only ships of the scenario's fleet that the registry sizes (a sourced deadweight, or a
sourced cargo per load over the cargo-to-deadweight fraction) count; ships known only by a
size class or a gross tonnage do not. The fleet-wide figures (the US 2018 average listed
capacity, Argus's "small 3,000 dwt vessels", Seatrade's "1,000-9,000 dwt, mostly at the low
end") are *not* used here, so that they can check the result as anchors
(``[anchors]``, :mod:`sim.analysis.heldout`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim.core.config import Scenario
from sim.core.registry import registry

__all__ = ["KnownShip", "SizePrior", "known_ships_prior"]


@dataclass(frozen=True)
class KnownShip:
    """A ship of the fleet with a sourced size."""

    name: str
    dwt: float
    """Deadweight the model uses [t]."""
    how: str
    """Where the size comes from (the registry's words)."""
    confidence: str


@dataclass(frozen=True)
class SizePrior:
    """The known-ships prior on the fleet's typical deadweight (see the module docstring)."""

    median_dwt: float
    """Geometric mean of the known sizes [t]."""
    sigma: float
    """Log-scale standard deviation of the prior [-]."""
    ship_sigma: float
    """The scenario's spread of ships around the typical size (log scale) [-]."""
    ships: tuple[KnownShip, ...]

    @property
    def n(self) -> int:
        return len(self.ships)

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """The prior's central credible interval [t]."""
        from statistics import NormalDist

        z = NormalDist().inv_cdf(0.5 + level / 2)
        return (
            self.median_dwt * math.exp(-z * self.sigma),
            self.median_dwt * math.exp(z * self.sigma),
        )

    def distribution(self, digits: int = -1, sigma_digits: int = 3) -> dict[str, Any]:
        """The prior as a scenario distribution table, rounded as a scenario would state it
        (median to ``10 ** -digits`` t, sigma to ``sigma_digits`` decimals)."""
        return {
            "dist": "lognormal",
            "median": float(round(self.median_dwt, digits)),
            "sigma": round(self.sigma, sigma_digits),
        }

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.interval()
        return {
            "median_dwt": self.median_dwt,
            "sigma": self.sigma,
            "ship_sigma": self.ship_sigma,
            "n": self.n,
            "interval_90_dwt": [lo, hi],
            "ships": [s.__dict__ for s in self.ships],
        }

    def sentence(self) -> str:
        lo, hi = self.interval()
        names = ", ".join(f"{s.name.title()} {s.dwt:,.0f} dwt" for s in self.ships)
        return (
            f"The fleet's typical size from the {self.n} ships of known size ({names}): "
            f"a log-normal with median {self.median_dwt:,.0f} dwt (their geometric mean) and "
            f"sigma {self.sigma:.3f} (the ships' spread {self.ship_sigma:.2f} / sqrt({self.n})), "
            f"90 % between {lo:,.0f} and {hi:,.0f} dwt."
        )


def _ship_sigma(sc: Scenario) -> float:
    """The log-scale spread of ships around the typical size: the ``sigma`` of the
    log-normal ``capacity_dwt`` scaled by ``fleet_dwt`` (the same in every class)."""
    sigmas = {
        getattr(cls.capacity_dwt, "sigma", None)
        for cls in sc.fleet.values()
        if cls.capacity_dwt is not None and cls.capacity_dwt.scale == "fleet_dwt"
    }
    if len(sigmas) != 1 or None in sigmas:
        raise ValueError(
            "the known-ships prior needs every class sized as fleet_dwt x a log-normal factor "
            "with one sigma"
        )
    return float(next(iter(sigmas)))  # type: ignore[arg-type]


def known_ships_prior(scenario: Scenario) -> SizePrior:
    """The known-ships prior of a scenario's fleet (see the module docstring)."""
    reg = registry()
    ships: list[KnownShip] = []
    for cls in scenario.fleet.values():
        if not cls.from_registry or cls.names is None:
            continue
        for name in cls.names:
            entry = reg.get(name)
            if entry is None or entry.known_dwt is None:
                continue
            ships.append(
                KnownShip(entry.name, entry.known_dwt, entry.size_source, entry.confidence)
            )
    if not ships:
        raise ValueError("no ship of the fleet has a sourced size")
    ship_sigma = _ship_sigma(scenario)
    logs = [math.log(s.dwt) for s in ships]
    median = math.exp(sum(logs) / len(logs))
    return SizePrior(median, ship_sigma / math.sqrt(len(ships)), ship_sigma, tuple(ships))
