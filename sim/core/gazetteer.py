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


ALIASES: dict[str, str] = {
    # other spellings in the sources (docs/sources.md) -> gazetteer id
    "NAMPO": "NAMPHO",
    "NAMP'O": "NAMPHO",
    "CHINNAMPO": "NAMPHO",
    "RASON": "RAJIN",
    "NAJIN": "RAJIN",
    "CHUNGJIN": "CHONGJIN",
    "SONGNIM": "SONGRIM",
    "HAMHUNG": "HUNGNAM",
    "VOSTOCHNYY": "VOSTOCHNY",
    "VOSTOCHNIY": "VOSTOCHNY",
    "WRANGEL": "VOSTOCHNY",
    "VRANGEL": "VOSTOCHNY",
    "KOZMINO BAY": "KOZMINO",
}
"""Other names of the gazetteer's ports (upper case), as spelled in the sources."""


class UnknownPortError(ValueError):
    """A name that is neither a port of the gazetteer nor one of its aliases (``close``: the
    ids of the closest names)."""

    def __init__(self, message: str, close: list[str] | None = None) -> None:
        super().__init__(message)
        self.close = close or []


def _norm(text: str) -> str:
    return " ".join(text.strip().upper().replace("_", " ").replace("-", " ").split())


def port_names() -> dict[str, str]:
    """Every name a port can be given by (upper case) -> its id: the ids, the aliases, and each
    port's name up to its first comma or parenthesis (e.g. "VOSTOCHNY PORT")."""
    out: dict[str, str] = {}
    for pid, port in gazetteer().items():
        out[_norm(pid)] = pid
        head = port.name.split(",")[0].split("(")[0]
        if _norm(head):
            out.setdefault(_norm(head), pid)
    for alias, pid in ALIASES.items():
        if pid in gazetteer():
            out.setdefault(_norm(alias), pid)
    return out


def find_port(name: str) -> Port:
    """The gazetteer's port with this id, name or alias, case-insensitive.

    >>> find_port("nampo").id
    'NAMPHO'

    Raises
    ------
    UnknownPortError
        One line naming the closest known names (or all ports when none is close).
    """
    import difflib

    names = port_names()
    key = _norm(name)
    if key in names:
        return gazetteer()[names[key]]
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.6)
    ids = list(dict.fromkeys(names[c] for c in close))
    if ids:
        hint = "did you mean " + " or ".join(repr(i) for i in ids) + "?"
    else:
        hint = "known ports: " + ", ".join(sorted(gazetteer()))
    raise UnknownPortError(
        f"unknown port {name!r}: {hint} (or give 'lat,lon', latitude first)", close=ids
    )
