"""The ship registry shipped with tankersim (``sim/data/registry.toml``).

One record per named tanker reported on the Vostochny run or near it: names and aliases, IMO,
deadweight, gross tonnage, a sourced cargo per load, build year, UN designation, source and
confidence. Unknown values stay unknown (``None``), never zero. A scenario's fleet can list
registry ships (``from_registry = true``): the sizes the registry knows are used, the others
come from the class's prior.
"""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sim.core.units import CARGO_DWT_FRACTION

__all__ = ["Registry", "RegistryShip", "registry", "suggest"]


@dataclass(frozen=True)
class RegistryShip:
    """A named tanker. Sizes are in tonnes (``dwt``, ``cargo_t``); ``gt`` is gross tonnage,
    a volume measure that gives no cargo capacity. ``draught_laden_m`` and
    ``draught_ballast_m`` are sourced draughts [m] (the tracks' ``draught_m`` uses them when
    both are known, else an estimate from the deadweight; no ship has them yet)."""

    name: str
    aliases: tuple[str, ...] = ()
    imo: int | None = None
    imo_verified: bool = False
    dwt: float | None = None
    gt: float | None = None
    cargo_t: float | None = None
    draught_laden_m: float | None = None
    draught_ballast_m: float | None = None
    built: int | None = None
    flag: str | None = None
    un_designated: bool | None = None
    designated_on: dt.date | None = None
    on_vostochny_run_2024: bool = False
    sightings_2024: tuple[str, ...] = ()
    source: str = ""
    confidence: str = ""
    note: str = ""

    @property
    def known_dwt(self) -> float | None:
        """The deadweight the model uses [t]: ``dwt`` when sourced, else a sourced cargo per
        load over :data:`sim.core.units.CARGO_DWT_FRACTION`, else unknown."""
        if self.dwt is not None:
            return self.dwt
        if self.cargo_t is not None:
            return self.cargo_t / CARGO_DWT_FRACTION
        return None

    @property
    def size_source(self) -> str:
        """Where the model's size for this ship comes from."""
        if self.dwt is not None:
            return f"{self.dwt:,.0f} dwt (registry)"
        if self.cargo_t is not None:
            return f"{self.cargo_t:,.0f} t a load (registry) / {CARGO_DWT_FRACTION:.2f}"
        return "unknown: drawn from the class prior"


def _ship(table: dict[str, Any]) -> RegistryShip:
    fields = set(RegistryShip.__dataclass_fields__)
    unknown = set(table) - fields
    if unknown:
        raise ValueError(f"registry ship {table.get('name')!r}: unknown keys {sorted(unknown)}")
    data = dict(table)
    for key in ("aliases", "sightings_2024"):
        if key in data:
            data[key] = tuple(data[key])
    for key in ("dwt", "gt", "cargo_t", "draught_laden_m", "draught_ballast_m"):
        if key in data:
            data[key] = float(data[key])
    return RegistryShip(**data)


class Registry:
    """Registry ships by name; look-ups also accept aliases, in any letter case."""

    def __init__(self, ships: list[RegistryShip]) -> None:
        self.ships = {s.name: s for s in ships}
        self._index: dict[str, str] = {}
        for s in ships:
            for n in (s.name, *s.aliases):
                key = n.strip().upper()
                if key in self._index and self._index[key] != s.name:
                    raise ValueError(f"registry: {n!r} names two ships")
                self._index[key] = s.name

    def canonical(self, name: str) -> str | None:
        """The registry name for ``name`` or one of its aliases, or None."""
        return self._index.get(name.strip().upper())

    def get(self, name: str) -> RegistryShip | None:
        key = self.canonical(name)
        return None if key is None else self.ships[key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.canonical(name) is not None

    def names(self) -> list[str]:
        return sorted(self.ships)


@cache
def registry() -> Registry:
    """The packaged registry."""
    text = resources.files("sim").joinpath("data", "registry.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    return Registry([_ship(t) for t in raw.get("ship", [])])


def suggest(word: str, choices: list[str] | set[str] | tuple[str, ...]) -> str:
    """`` (did you mean X?)`` for the closest choice, or an empty string.

    >>> suggest("YU SONN", ["YU SON", "AN SAN 1"])
    " (did you mean 'YU SON'?)"
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        upper = {c.upper(): c for c in choices}
        close = [upper[m] for m in difflib.get_close_matches(word.upper(), list(upper), n=1)]
    return f" (did you mean {close[0]!r}?)" if close else ""
