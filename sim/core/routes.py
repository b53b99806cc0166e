"""Route tables: the sea distance of every leg a scenario sails, computed once per scenario.

The simulation only ever looks distances up in a :class:`RouteTable`; nothing geometric runs
per event. Two methods fill the table:

* ``geodesic``: geodesics between the port points, through any waypoints pinned by hand;
* ``sea``: the land-avoiding router of :mod:`sim.core.routing` over Natural Earth 10 m coastline;
  a leg with a port (or approach point) outside that router's region goes to the global router
  of :mod:`sim.core.global_routing` instead, with the same margin and forbidden areas.

Pinned legs (``[[routing.legs]]``) always win over the method.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.core.config import Scenario, ScenarioError
from sim.core.geo import LatLon, path_length_nm

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Leg:
    """A sailed leg between two ports."""

    origin: str
    destination: str
    distance_nm: float
    waypoints: tuple[LatLon, ...]
    pilotage_nm: float = 0.0
    passes: tuple[str, ...] = ()
    method: str = "geodesic"

    def reversed(self) -> Leg:
        return Leg(
            origin=self.destination,
            destination=self.origin,
            distance_nm=self.distance_nm,
            waypoints=tuple(reversed(self.waypoints)),
            pilotage_nm=self.pilotage_nm,
            passes=tuple(reversed(self.passes)),
            method=self.method,
        )


@dataclass(frozen=True)
class RouteTable:
    """Legs keyed by ``(origin, destination)`` port ids, both directions present."""

    legs: dict[tuple[str, str], Leg]

    def leg(self, origin: str, destination: str) -> Leg:
        return self.legs[(origin, destination)]

    def distance_nm(self, origin: str, destination: str) -> float:
        """Sea distance of the leg [nm]."""
        return self.legs[(origin, destination)].distance_nm

    def unique_legs(self) -> list[Leg]:
        """One leg per pair of ports, in a stable order."""
        seen: set[frozenset[str]] = set()
        out = []
        for key in sorted(self.legs):
            pair = frozenset(key)
            if pair not in seen:
                seen.add(pair)
                out.append(self.legs[key])
        return out


def _pinned(scenario: Scenario) -> dict[frozenset[str], tuple[str, tuple[LatLon, ...]]]:
    out = {}
    for leg in scenario.routing.legs:
        out[frozenset((leg.from_, leg.to))] = (leg.from_, tuple(w.latlon() for w in leg.waypoints))
    return out


def _key_of(scenario: Scenario, port_id: str) -> str:
    return "terminal.port" if port_id == scenario.terminal.port else f"discharge.{port_id}"


def build_route_table(
    scenario: Scenario, *, file: str = "", cache_dir: Path | None = None
) -> RouteTable:
    """The route table of a scenario: terminal to every discharge port and back.

    Raises
    ------
    ScenarioError
        When a port cannot be reached by sea (or lies too far inland to be snapped).
    """
    term = scenario.port(scenario.terminal.port)
    pinned = _pinned(scenario)
    router = None
    global_router = None
    legs: dict[tuple[str, str], Leg] = {}
    for pid in sorted(scenario.discharge):
        dest = scenario.port(pid)
        pin = pinned.get(frozenset((term.id, pid)))
        if pin is not None:
            first, wps = pin
            if first != term.id:
                wps = tuple(reversed(wps))
            pts = (term.point, *wps, dest.point)
            leg = Leg(term.id, pid, path_length_nm(pts), pts, method="pinned")
        elif scenario.routing.method == "geodesic":
            pts = (term.point, dest.point)
            leg = Leg(term.id, pid, path_length_nm(pts), pts, method="geodesic")
        else:
            from sim.core.routing import RoutingError, in_region

            ends = [p for p in (term.point, term.approach, dest.point, dest.approach) if p]
            regional = all(in_region(p) for p in ends)
            key = _leg_key(scenario, term, dest, regional=regional)
            cached = _cached_leg(cache_dir, key, term.id, pid)
            if cached is not None:
                legs[(term.id, pid)] = cached
                legs[(pid, term.id)] = cached.reversed()
                continue
            try:
                if regional:
                    if router is None:
                        router = _make_router(scenario, cache_dir)
                    leg_router = router
                else:
                    if global_router is None:
                        global_router = _make_router(scenario, cache_dir, global_=True)
                    leg_router = global_router
            except ValueError as exc:  # a forbidden area the router cannot use
                raise ScenarioError(file, "routing.forbidden_areas", None, str(exc)) from None
            try:
                route = leg_router.route(
                    term.point,
                    dest.point,
                    a_name=term.id,
                    b_name=pid,
                    a_approach=term.approach,
                    b_approach=dest.approach,
                )
            except RoutingError as exc:
                port = getattr(exc, "port", pid)
                raise ScenarioError(file, _key_of(scenario, port), port, str(exc)) from None
            leg = Leg(
                term.id,
                pid,
                route.length_nm,
                route.waypoints,
                pilotage_nm=route.pilotage_nm,
                passes=route.passes,
                method="sea",
            )
            _store_leg(cache_dir, key, leg)
        legs[(term.id, pid)] = leg
        legs[(pid, term.id)] = leg.reversed()
        log.debug("leg %s-%s: %.1f nm (%s)", term.id, pid, leg.distance_nm, leg.method)
    return RouteTable(legs)


def _forbidden(scenario: Scenario) -> list[Any]:
    from sim.core.routing import JEJU_STRAIT, ForbiddenArea

    forbidden = [
        ForbiddenArea(a.name, tuple(c.latlon() for c in a.polygon))
        for a in scenario.routing.forbidden_areas
    ]
    if scenario.routing.forbid_jeju_strait:
        forbidden.append(JEJU_STRAIT)
    return forbidden


ROUTE_CACHE_FORMAT = 1
"""Version of the cached sea legs' files (``routes/<key>.json`` in the route cache folder)."""


@functools.cache
def _router_fingerprint(regional: bool) -> str:
    """What a sea leg depends on besides its ends and settings: the land data and every
    parameter of the router's graph (its graph cache key) and the routers' own code."""
    import importlib.resources as resources

    h = hashlib.sha256()
    if regional:
        from sim.core import routing

        h.update(routing._cache_key(routing._land_bytes(), 0.0, ()).encode())
    else:
        from sim.core import global_routing  # imports scipy: only for a leg that needs it

        h.update(global_routing._cache_key().encode())
    for module in ("routing.py", "global_routing.py", "geo.py"):
        h.update(resources.files("sim.core").joinpath(module).read_bytes())
    return h.hexdigest()


def _leg_key(scenario: Scenario, term: Any, dest: Any, *, regional: bool) -> str:
    """The cache key of a sea leg: its ends, approaches and names, the margin, the forbidden
    areas, and the router (:func:`_router_fingerprint`)."""

    def pt(p: LatLon | None) -> list[str] | None:
        return None if p is None else [repr(float(p[0])), repr(float(p[1]))]

    doc = {
        "format": ROUTE_CACHE_FORMAT,
        "router": _router_fingerprint(regional),
        "margin_nm": repr(float(scenario.routing.margin_nm)),
        "forbidden": [[a.name, [pt(p) for p in a.polygon]] for a in _forbidden(scenario)],
        "a": [term.id, pt(term.point), pt(term.approach)],
        "b": [dest.id, pt(dest.point), pt(dest.approach)],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _leg_file(cache_dir: Path | None, key: str) -> Path:
    from sim.core.routing import default_cache_dir

    return Path(cache_dir or default_cache_dir()) / "routes" / f"leg-{key[:32]}.json"


def _cached_leg(cache_dir: Path | None, key: str, origin: str, destination: str) -> Leg | None:
    """A sea leg routed before with the same key (None when there is none, or it is unreadable:
    then it is routed again)."""
    path = _leg_file(cache_dir, key)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("key") != key:
            return None
        return Leg(
            origin,
            destination,
            float(doc["length_nm"]),
            tuple(LatLon(float(a), float(b)) for a, b in doc["waypoints"]),
            pilotage_nm=float(doc["pilotage_nm"]),
            passes=tuple(str(x) for x in doc["passes"]),
            method="sea",
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store_leg(cache_dir: Path | None, key: str, leg: Leg) -> None:
    from sim.core.io import atomic_write_text

    doc = {
        "key": key,
        "length_nm": leg.distance_nm,
        "waypoints": [[p.lat, p.lon] for p in leg.waypoints],
        "pilotage_nm": leg.pilotage_nm,
        "passes": list(leg.passes),
    }
    path = _leg_file(cache_dir, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(doc))
    except OSError as exc:  # a read-only cache: route again next time
        log.warning("could not write route cache %s: %s", path, exc)


def _make_router(scenario: Scenario, cache_dir: Path | None, global_: bool = False):  # type: ignore[no-untyped-def]
    from sim.core.routing import SeaRouter

    forbidden = _forbidden(scenario)
    if global_:
        from sim.core.global_routing import GlobalSeaRouter

        return GlobalSeaRouter(
            margin_nm=scenario.routing.margin_nm, forbidden=forbidden, cache_dir=cache_dir
        )
    return SeaRouter(margin_nm=scenario.routing.margin_nm, forbidden=forbidden, cache_dir=cache_dir)
