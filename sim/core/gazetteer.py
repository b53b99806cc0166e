"""The port gazetteer shipped with tankersim (``sim/data/ports.toml``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sim.core.geo import LatLon


@dataclass(frozen=True)
class Port:
    """A port: an identifier, a published point and, optionally, a sea-side approach point."""

    id: str
    name: str
    lat: float
    lon: float
    country: str = ""
    source: str = ""
    confidence: str = ""
    approach: LatLon | None = None
    note: str = ""

    @property
    def point(self) -> LatLon:
        return LatLon(self.lat, self.lon)


def _port_from_table(port_id: str, table: dict[str, object]) -> Port:
    approach = table.get("approach")
    appr = None
    if isinstance(approach, dict):
        appr = LatLon(float(approach["lat"]), float(approach["lon"]))
    return Port(
        id=port_id,
        name=str(table.get("name", port_id)),
        lat=float(table["lat"]),  # type: ignore[arg-type]
        lon=float(table["lon"]),  # type: ignore[arg-type]
        country=str(table.get("country", "")),
        source=str(table.get("source", "")),
        confidence=str(table.get("confidence", "")),
        approach=appr,
        note=str(table.get("note", "")),
    )


@cache
def gazetteer() -> dict[str, Port]:
    """All ports of the packaged gazetteer, keyed by id (upper case)."""
    text = resources.files("sim").joinpath("data", "ports.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    return {pid: _port_from_table(pid, tbl) for pid, tbl in raw.items()}
