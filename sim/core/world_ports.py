"""Ports of the world by name: the NGA World Port Index (Pub. 150), 3,768 ports.

``sim.route("Rotterdam", "Singapore")`` and ``tankersim route murmansk "lagos, nigeria"``
name their ends here when the case's own gazetteer (:mod:`sim.core.gazetteer`, with
hand-placed approach points) does not know them. The data (``sim/data/world_ports.csv``,
built by ``tools/make_world_ports.py``) is the World Port Index of the US National
Geospatial-Intelligence Agency, a public-domain work: each port's index number, main and
alternate names, UN/LOCODE, country, harbour size and published position (WGS84 degrees,
to the minute for most ports). A published position is the harbour's, often on the quay or in
the town: the router moves it to navigable water and says how far (``GlobalRoute.snapped``).

A name matches, case- and accent-blind, a port's main name, one of its alternate names, a
name in brackets in the main name (``Mumbai (Bombay)``), the main name without a generic word
the index adds (``Qingdao Gang``, ``Yokohama Ko``, ``Bahia De Valparaiso``), its UN/LOCODE
(``NLRTM`` or ``NL RTM``), or one of the few English names in :data:`ALIASES`. ``"Name,
Country"`` narrows the match to a country. Several ports of one name: the largest harbour is
taken; a tie is refused in one line naming the countries.
"""

from __future__ import annotations

import csv
import difflib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sim.core.geo import LatLon

SIZES = {"Large": 4, "Medium": 3, "Small": 2, "Very Small": 1, "": 0}
"""The index's harbour sizes, ranked: the larger wins when several ports share a name."""
GENERIC_SUFFIXES = ("GANG", "KO", "HARBOR", "HARBOUR", "PORT", "TERMINAL")
"""Words the index appends to a port's name (Korean and Chinese *gang*, Japanese *ko*...)."""
GENERIC_PREFIXES = ("BAHIA DE", "PORT OF", "PUERTO DE", "PORTO DE")
"""Words the index puts before a port's name."""
ALIASES: dict[str, int] = {
    # common English names the index spells otherwise -> World Port Index number
    "SINGAPORE": 50000,  # Keppel - (East Singapore)
    "PIRAEUS": 42230,  # Piraievs
    "JEDDAH": 48140,  # Jiddah
    "NEW YORK": 7640,  # New York City
}
"""English names of a few large ports the index spells otherwise (tankersim's additions)."""


@dataclass(frozen=True)
class WorldPort:
    """A port of the World Port Index."""

    wpi: str
    name: str
    country: str
    size: str
    lat: float
    lon: float
    locode: str = ""
    alternates: tuple[str, ...] = ()

    @property
    def point(self) -> LatLon:
        return LatLon(self.lat, self.lon)

    @property
    def label(self) -> str:
        """``Name (Country)``."""
        return f"{self.name} ({self.country})" if self.country else self.name


class UnknownWorldPortError(ValueError):
    """A name no port of the World Port Index has (``close``: the nearest names), or one
    several share equally (``ambiguous``)."""

    def __init__(self, message: str, close: list[str] | None = None, ambiguous: bool = False):
        super().__init__(message)
        self.close = close or []
        self.ambiguous = ambiguous


def norm(text: str) -> str:
    """Upper case, accents dropped, punctuation as spaces, spaces collapsed."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).upper()
    t = "".join(c if c.isalnum() else " " for c in t)
    return " ".join(t.split())


@cache
def world_ports() -> tuple[WorldPort, ...]:
    """Every port of the packaged World Port Index."""
    text = resources.files("sim").joinpath("data", "world_ports.csv").read_text(encoding="utf-8")
    out = []
    for r in csv.DictReader(text.splitlines()):
        alts = tuple(a.strip() for a in r["alternates"].split(";") if a.strip())
        out.append(
            WorldPort(
                r["wpi"], r["name"], r["country"], r["size"], float(r["lat"]),
                float(r["lon"]), r["locode"].replace(" ", ""), alts,
            )
        )  # fmt: skip
    return tuple(out)


def _names(port: WorldPort) -> tuple[list[str], list[str]]:
    """A port's names: the exact ones (main, alternates, bracketed parts, UN/LOCODE) and the
    derived ones (without a generic prefix or suffix)."""
    exact = [port.name, *port.alternates]
    for part in port.name.replace(")", "(").split("("):
        exact.append(part)
    for part in port.name.split(" - "):
        exact.append(part)
    keys = [norm(n) for n in exact if norm(n)]
    if port.locode:
        keys.append(norm(port.locode))
        keys.append(norm(port.locode[:2] + " " + port.locode[2:]))
    derived = []
    for k in keys:
        for s in GENERIC_SUFFIXES:
            if k.endswith(" " + s):
                derived.append(k[: -len(s) - 1])
        for p in GENERIC_PREFIXES:
            if k.startswith(p + " "):
                derived.append(k[len(p) + 1 :])
    return keys, derived


@cache
def _index() -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    exact: dict[str, list[int]] = {}
    derived: dict[str, list[int]] = {}
    for i, port in enumerate(world_ports()):
        keys, more = _names(port)
        for k in dict.fromkeys(keys):
            exact.setdefault(k, []).append(i)
        for k in dict.fromkeys(more):
            derived.setdefault(k, []).append(i)
    by_wpi = {p.wpi: i for i, p in enumerate(world_ports())}
    for alias, wpi in ALIASES.items():
        if str(wpi) in by_wpi:
            exact.setdefault(alias, []).append(by_wpi[str(wpi)])
    return exact, derived


def find_world_port(name: str) -> WorldPort:
    """The World Port Index's port of this name (see the module docstring).

    >>> find_world_port("rotterdam").label
    'Rotterdam (Netherlands)'

    Raises
    ------
    UnknownWorldPortError
        One line: the closest names, or the countries of a name several ports share.
    """
    ports = world_ports()
    exact, derived = _index()
    # The whole name first, then "Name, Country" split at each comma from the left (a country
    # may hold commas: "Saint Helena, Ascension, and Tristan da Cunha").
    splits = [(name, "")] + [(name[:i], name[i + 1 :]) for i, c in enumerate(name) if c == ","]
    found: list[int] = []
    text = name
    for text, country in splits:
        key, want = norm(text), norm(country)
        found = exact.get(key) or derived.get(key) or []
        if want:
            found = [i for i in found if norm(ports[i].country).startswith(want)]
        if found:
            break
    if found:
        best = max(SIZES.get(ports[i].size, 0) for i in found)
        top = [i for i in found if SIZES.get(ports[i].size, 0) == best]
        if len(top) == 1:
            return ports[top[0]]
        countries = sorted({ports[i].country for i in top})
        if len(countries) > 1:
            where, how = ", ".join(countries), "say which, as 'Name, Country'"
        else:  # one country: only the position (or a UN/LOCODE) tells them apart
            at = " and ".join(f"{ports[i].lat:.3f},{ports[i].lon:.3f}" for i in top[:3])
            where, how = f"{countries[0]}, at {at}", "give the UN/LOCODE or 'lat,lon'"
        raise UnknownWorldPortError(
            f"{len(top)} ports of the World Port Index are called {text.strip()!r} "
            f"({where}): {how}",
            ambiguous=True,
        )
    key = norm(splits[-1][0])  # the name before the last comma, or the whole name
    close = [c.title() for c in difflib.get_close_matches(key, list(exact), n=3, cutoff=0.75)]
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownWorldPortError(
        f"no port of the World Port Index is called {name!r}{hint}", close=close
    )
