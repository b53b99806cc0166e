"""Sea routes between ports that keep clear of land.

The router works on the Natural Earth 10 m land polygon shipped in ``sim/data`` (see
``sim/data/LAND_PROVENANCE.md``) and builds a visibility graph once per parameter set:

1. Project the land to an azimuthal equidistant plane centred at 38.5 N 130 E (``AEQD_CRS``,
   distances true to better than 1 % over the region) and buffer it by the safety margin.
2. Carry the buffered land, and any forbidden areas, into a gnomonic plane with the same centre
   (``GNOMONIC_CRS``). In a gnomonic projection geodesics are straight lines (to ~1 m over the
   region with PROJ's ellipsoidal formulation), so a straight segment that misses every obstacle
   in that plane is a geodesic leg that misses them on the Earth.
3. Nodes are the convex vertices of the obstacle rings (nudged 1 m into open water); edges join
   pairs of nodes whose segment is tangent to the obstacles at both ends and misses every
   obstacle (an exact GEOS test). Edge weights are WGS84 geodesic lengths [nm].
4. A route joins the two ends to the graph by the same visibility test and runs Dijkstra.

The graph is cached on disk as ``.npz`` (numpy arrays and WKB bytes, loaded with
``allow_pickle=False``), keyed by a hash of the land file bytes, the margin, the forbidden areas
and the algorithm's parameters. Shortest paths hug the buffered coast exactly at the margin, so
route lengths are lower bounds on real tracks; see ``docs/routing.md``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from sim.core.geo import M_PER_NM, WGS84, LatLon, geodesic_nm, path_length_nm
from sim.core.io import load_checked_npz, save_checked_npz

__all__ = [
    "AEQD_CRS",
    "GNOMONIC_CRS",
    "JEJU_STRAIT",
    "REGION_LON_LAT",
    "ForbiddenArea",
    "RoutingError",
    "SeaRoute",
    "SeaRouter",
    "Snap",
    "default_cache_dir",
    "in_region",
    "load_land",
]

log = logging.getLogger(__name__)

AEQD_CRS = "+proj=aeqd +lat_0=38.5 +lon_0=130 +datum=WGS84 +units=m +no_defs"
"""Metric plane for buffering: azimuthal equidistant centred at 38.5 N 130 E [m]."""
GNOMONIC_CRS = "+proj=gnom +lat_0=38.5 +lon_0=130 +datum=WGS84 +units=m +no_defs"
"""Plane for visibility tests: gnomonic centred at 38.5 N 130 E; geodesics are straight [m]."""
REGION_LON_LAT = (117.0, 30.0, 142.0, 47.0)
"""Routing region (lon_min, lat_min, lon_max, lat_max) [deg]: the extent of the land data."""

SNAP_LIMIT_NM = 10.0
"""Farthest a port point may be moved to reach navigable water [nm]."""
NODE_OFFSET_M = 1.0
"""Distance by which graph nodes and snapped points are nudged off an obstacle [m]."""
SIMPLIFY_FRACTION = 0.1
"""Simplification tolerance of the buffered land, as a fraction of the margin [-]."""
BUFFER_QUAD_SEGS = 3
"""Segments per quarter circle in the buffer's round joins [-]."""
GRAPH_FORMAT = 2
"""Version of the on-disk graph layout; part of the cache key."""

_LAND_RESOURCE = ("data", "land_ne10m.geojson")
_CACHE_ERRORS = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, GEOSException)


class RoutingError(ValueError):
    """A port or approach point that cannot be routed; ``port`` names the culprit."""

    def __init__(self, message: str, port: str) -> None:
        super().__init__(message)
        self.port = port


@dataclass(frozen=True)
class ForbiddenArea:
    """A sea area that routes must not enter.

    Attributes
    ----------
    name : str
        Human-readable name, used in messages and in the cache key.
    polygon : tuple of LatLon
        Ring vertices, WGS84 [deg], closed or open. Edges between vertices are geodesics.
    """

    name: str
    polygon: tuple[LatLon, ...]


JEJU_STRAIT = ForbiddenArea(
    name="Jeju Strait",
    polygon=(
        LatLon(33.40, 126.30),  # on Jeju, west of Jeju City
        LatLon(33.42, 126.88),  # on Jeju, near Seongsan (east end)
        LatLon(34.50, 126.85),  # on the mainland (Haenam-Gangjin peninsula)
        LatLon(34.45, 126.30),  # on Jindo
    ),
)
"""The strait between Jeju and the Korean mainland, closed to DPRK-flagged ships since the
2010 "May 24 measures" (UPI, 22 May 2020). Corners lie on land at both shores (Natural Earth and
the GLOBE land mask agree), so every passage north of Jeju between 126.30 E and 126.85 E is
closed; ships go round Jeju to the south."""

WEST_SEA_BARRAGE = LatLon(38.70, 125.20)
"""The West Sea Barrage lock complex across the Taedong estuary (estimate, ``ports.toml``)."""
BEHIND_WEST_SEA_BARRAGE: tuple[LatLon, ...] = (
    LatLon(38.60, 125.20),
    LatLon(38.60, 126.00),
    LatLon(39.20, 126.00),
    LatLon(39.20, 125.20),
)
"""The Taedong river above the West Sea Barrage (Nampho's POL terminal, Songrim): a route end
in it passes the barrage's lock, which the land data does not show (a rule the scenarios apply
as lock time, ``[discharge.X] lock``, not as distance)."""


@dataclass(frozen=True)
class Snap:
    """A route end that was moved to navigable water.

    Attributes
    ----------
    end : str
        ``"origin"`` or ``"destination"``.
    name : str
        The end's name.
    given : LatLon
        The point given (the approach point, when one was given) [deg].
    to : LatLon
        Where the route joins the sea [deg].
    distance_nm : float
        Geodesic distance moved [nm] (counted in the route's length).
    """

    end: str
    name: str
    given: LatLon
    to: LatLon
    distance_nm: float

    def __str__(self) -> str:
        who = self.end if self.name == self.end else f"{self.end} {self.name}"
        return (
            f"{who} moved {self.distance_nm:.1f} nm to navigable water at "
            f"{self.to.lat:.4f}, {self.to.lon:.4f}"
        )


SNAP_REPORT_NM = 0.01
"""Smallest move of a route end reported as a snap [nm] (18.5 m)."""


def snaps(ends: Sequence[tuple[str, str, LatLon, LatLon]]) -> tuple[Snap, ...]:
    """The :class:`Snap` of each ``(end, name, given, navigable)`` moved more than
    ``SNAP_REPORT_NM``."""
    out = []
    for end, name, g, n in ends:
        given, nav = LatLon(float(g[0]), float(g[1])), LatLon(float(n[0]), float(n[1]))
        d = geodesic_nm(given, nav)
        if d > SNAP_REPORT_NM:
            out.append(Snap(end, name, given, nav, d))
    return tuple(out)


# Named gates (name, end, end): straight in the gnomonic plane, both ends on land.
_GATES: tuple[tuple[str, LatLon, LatLon], ...] = (
    ("Korea Strait", LatLon(35.20, 128.90), LatLon(33.55, 130.40)),  # Gimhae to Fukuoka
    ("south of Jeju", LatLon(33.25, 126.55), LatLon(30.50, 126.55)),  # Jeju south coast, south
    ("Jeju Strait", LatLon(33.50, 126.55), LatLon(34.45, 126.55)),  # Jeju north coast, north
)


@dataclass(frozen=True)
class SeaRoute:
    """A sea route between two ports.

    Attributes
    ----------
    waypoints : tuple of LatLon
        Port point, its approach, sea waypoints, the other approach, the other port point
        (WGS84 [deg]); consecutive points are joined by geodesics. A port that needs no
        approach repeats its point as its approach.
    length_nm : float
        Geodesic length of the whole route, pilotage included [nm].
    pilotage_nm : float
        Length of the legs between port points and approach points, both ends [nm].
    passes : tuple of str
        Named gates passed, in order (e.g. ``("Korea Strait", "south of Jeju")``); empty for a
        coastal hop.
    snapped : tuple of Snap
        The ends moved to navigable water (not an end whose point keeps the margin).
    """

    waypoints: tuple[LatLon, ...]
    length_nm: float
    pilotage_nm: float
    passes: tuple[str, ...]
    snapped: tuple[Snap, ...] = ()


def default_cache_dir() -> Path:
    """Directory for cached route graphs: ``$TANKERSIM_CACHE_DIR``, else ``~/.cache/tankersim``."""
    env = os.environ.get("TANKERSIM_CACHE_DIR")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "tankersim"


def _land_bytes() -> bytes:
    return resources.files("sim").joinpath(*_LAND_RESOURCE).read_bytes()


def load_land() -> MultiPolygon:
    """Load the packaged land polygon.

    Returns
    -------
    MultiPolygon
        Natural Earth 10 m land clipped to ``REGION_LON_LAT``, lon/lat WGS84 [deg].
    """
    doc = json.loads(_land_bytes())
    geom = shape(doc["features"][0]["geometry"])
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon):
        raise ValueError(f"land data holds a {geom.geom_type}, expected a MultiPolygon")
    return geom


@cache
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _project(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    tr = _transformer(src, dst)

    def fn(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


def _to_gnomonic(lon: Any, lat: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x, y = _transformer("EPSG:4326", GNOMONIC_CRS).transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _to_lonlat(x: Any, y: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon, lat = _transformer(GNOMONIC_CRS, "EPSG:4326").transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _in_region(lon: Any, lat: Any) -> NDArray[np.bool_]:
    lon_min, lat_min, lon_max, lat_max = REGION_LON_LAT
    lon, lat = np.asarray(lon), np.asarray(lat)
    return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)


def in_region(point: LatLon | tuple[float, float]) -> bool:
    """Whether a ``(lat, lon)`` point [deg] lies in the routing region ``REGION_LON_LAT``."""
    return bool(_in_region(float(point[1]), float(point[0])))


def in_region_parts(areas: Sequence[ForbiddenArea]) -> tuple[ForbiddenArea, ...]:
    """The parts of forbidden areas that lie in the routing region (clipped to it in
    longitude and latitude): the regional router's projection holds only there, and an area
    elsewhere closes nothing it routes through (the global router keeps the whole area)."""
    from shapely.geometry import box

    region = box(*REGION_LON_LAT)
    out: list[ForbiddenArea] = []
    for a in areas:
        if len(set(a.polygon)) < 3:
            out.append(a)  # refused, with its reason, where it is projected
            continue
        poly = Polygon([(p[1], p[0]) for p in a.polygon])
        if not poly.is_valid or region.contains(poly):
            out.append(a)
            continue
        part = poly.intersection(region)
        pieces = getattr(part, "geoms", [part])
        for piece in pieces:
            if isinstance(piece, Polygon) and not piece.is_empty and piece.area > 0:
                ring = tuple(LatLon(lat, lon) for lon, lat in piece.exterior.coords[:-1])
                out.append(ForbiddenArea(a.name, ring))
    return tuple(out)


def _forbidden_polygon_gnomonic(area: ForbiddenArea) -> Polygon:
    pts = [LatLon(*p) for p in area.polygon]
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    if len(set(pts)) < 3:
        raise ValueError(f"forbidden area {area.name!r} needs at least 3 distinct vertices")
    x, y = _to_gnomonic([p.lon for p in pts], [p.lat for p in pts])
    poly = Polygon(np.column_stack([x, y]))
    if not poly.is_valid:
        raise ValueError(f"forbidden area {area.name!r} is not a simple polygon")
    return poly


def _cache_key(land: bytes, margin_nm: float, forbidden: Sequence[ForbiddenArea]) -> str:
    params = {
        "format": GRAPH_FORMAT,
        "margin_nm": repr(float(margin_nm)),
        "forbidden": [
            [a.name, [[repr(float(p[0])), repr(float(p[1]))] for p in a.polygon]] for a in forbidden
        ],
        "aeqd": AEQD_CRS,
        "gnomonic": GNOMONIC_CRS,
        "region": REGION_LON_LAT,
        "offset_m": NODE_OFFSET_M,
        "simplify": SIMPLIFY_FRACTION,
        "quad_segs": BUFFER_QUAD_SEGS,
    }
    h = hashlib.sha256(land)
    h.update(json.dumps(params, sort_keys=True).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class _Graph:
    """The built visibility graph and the geometry needed to attach route ends to it."""

    xy: NDArray[np.float64]  # (n, 2) node positions, gnomonic [m], nudged off the obstacles
    vert: NDArray[np.float64]  # (n, 2) the obstacle vertex at each node [m]
    prev: NDArray[np.float64]  # (n, 2) the ring's previous vertex [m]
    next: NDArray[np.float64]  # (n, 2) the ring's next vertex [m]
    lonlat: NDArray[np.float64]  # (n, 2) node positions, WGS84 [deg]
    edge_i: NDArray[np.int64]
    edge_j: NDArray[np.int64]
    edge_nm: NDArray[np.float64]
    obstacles: BaseGeometry  # buffered land and forbidden areas, gnomonic [m]
    land: BaseGeometry  # unbuffered land, gnomonic [m]

    def save(self, path: Path, key: str) -> None:
        arrays: dict[str, Any] = {
            "key": np.array(key),
            "format": np.array(GRAPH_FORMAT),
            "xy": self.xy,
            "vert": self.vert,
            "prev": self.prev,
            "next": self.next,
            "lonlat": self.lonlat,
            "edge_i": self.edge_i,
            "edge_j": self.edge_j,
            "edge_nm": self.edge_nm,
            "obstacles_wkb": np.frombuffer(shapely.to_wkb(self.obstacles), dtype=np.uint8),
            "land_wkb": np.frombuffer(shapely.to_wkb(self.land), dtype=np.uint8),
        }
        save_checked_npz(path, arrays, _CHECKED)

    @classmethod
    def load(cls, path: Path, key: str) -> _Graph | None:
        npz = load_checked_npz(path, _CHECKED, expect={"key": key, "format": GRAPH_FORMAT})
        if npz is None:
            return None
        return cls(
            xy=npz["xy"],
            vert=npz["vert"],
            prev=npz["prev"],
            next=npz["next"],
            lonlat=npz["lonlat"],
            edge_i=npz["edge_i"].astype(np.int64),
            edge_j=npz["edge_j"].astype(np.int64),
            edge_nm=npz["edge_nm"],
            obstacles=shapely.from_wkb(npz["obstacles_wkb"].tobytes()),
            land=shapely.from_wkb(npz["land_wkb"].tobytes()),
        )


_CHECKED = (
    "key", "format", "xy", "vert", "prev", "next", "lonlat", "edge_i", "edge_j", "edge_nm",
    "obstacles_wkb", "land_wkb",
)  # fmt: skip
"""The arrays of a cached graph that its checksum covers, in order."""


def _cross(o: NDArray[Any], a: NDArray[Any], b: NDArray[Any]) -> NDArray[np.float64]:
    """z of (a - o) x (b - o), broadcast over leading axes."""
    return (a[..., 0] - o[..., 0]) * (b[..., 1] - o[..., 1]) - (a[..., 1] - o[..., 1]) * (
        b[..., 0] - o[..., 0]
    )


def _obstacles(
    land_ll: BaseGeometry, margin_nm: float, forbidden: Sequence[ForbiddenArea]
) -> tuple[BaseGeometry, BaseGeometry]:
    """Buffered land plus forbidden areas, and the bare land, both gnomonic [m]."""
    margin_m = margin_nm * M_PER_NM
    tol_m = SIMPLIFY_FRACTION * margin_m
    land_a = _project(land_ll, "EPSG:4326", AEQD_CRS)
    # Buffer by margin + tol, then simplify by tol: the boundary stays between margin and
    # margin + 2 tol from the land, and the ring has far fewer vertices.
    if margin_m > 0:
        buf_a = land_a.buffer(margin_m + tol_m, quad_segs=BUFFER_QUAD_SEGS)
        buf_a = buf_a.simplify(tol_m, preserve_topology=True)
    else:
        buf_a = land_a
    parts = [_project(buf_a, AEQD_CRS, GNOMONIC_CRS)]
    parts.extend(_forbidden_polygon_gnomonic(a) for a in forbidden)
    obstacles = shapely.make_valid(shapely.union_all(parts))
    land_g = _project(land_ll, "EPSG:4326", GNOMONIC_CRS)
    return obstacles, land_g


def _convex_nodes(
    obstacles: BaseGeometry,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Convex ring vertices of the obstacles (inside the region), nudged outwards.

    Returns node positions, and for each node its vertex and the ring's previous and next
    vertices, all gnomonic [m].
    """
    xy, vert, prv, nxt = [], [], [], []
    for poly in shapely.get_parts(obstacles):
        if not isinstance(poly, Polygon) or poly.is_empty:
            continue
        poly = orient(poly, 1.0)  # obstacle on the left of every ring
        for ring in (poly.exterior, *poly.interiors):
            c = np.asarray(ring.coords)[:-1]
            if len(c) < 3:
                continue
            p, n = np.roll(c, 1, axis=0), np.roll(c, -1, axis=0)
            convex = _cross(p, c, n) > 0
            d1, d2 = c - p, n - c
            n1 = np.column_stack([d1[:, 1], -d1[:, 0]])  # right-hand (outward) normals
            n2 = np.column_stack([d2[:, 1], -d2[:, 0]])
            n1 /= np.linalg.norm(n1, axis=1, keepdims=True)
            n2 /= np.linalg.norm(n2, axis=1, keepdims=True)
            out = n1 + n2
            out /= np.linalg.norm(out, axis=1, keepdims=True)
            xy.append(c[convex] + NODE_OFFSET_M * out[convex])
            vert.append(c[convex])
            prv.append(p[convex])
            nxt.append(n[convex])
    xy_a, vert_a, prv_a, nxt_a = (np.vstack(a) for a in (xy, vert, prv, nxt))
    lon, lat = _to_lonlat(xy_a[:, 0], xy_a[:, 1])
    keep = _in_region(lon, lat)
    return xy_a[keep], vert_a[keep], prv_a[keep], nxt_a[keep]


def _tangent_at(
    vert: NDArray[Any], prv: NDArray[Any], nxt: NDArray[Any], other: NDArray[Any]
) -> NDArray[np.bool_]:
    """True where the line from ``vert`` to ``other`` leaves both ring neighbours on one side."""
    return _cross(vert, other, prv) * _cross(vert, other, nxt) >= 0


def _segments_clear(
    obstacles: BaseGeometry, a: NDArray[np.float64], b: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """True for each segment a[k]-b[k] (gnomonic [m]) that misses every obstacle."""
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    return ~shapely.intersects(obstacles, lines)


def _geodesic_nm_arrays(ll_a: NDArray[Any], ll_b: NDArray[Any]) -> NDArray[np.float64]:
    _, _, d_m = WGS84.inv(ll_a[:, 0], ll_a[:, 1], ll_b[:, 0], ll_b[:, 1])
    return np.asarray(d_m, dtype=float) / M_PER_NM


def _build_graph(margin_nm: float, forbidden: Sequence[ForbiddenArea]) -> _Graph:
    t0 = time.perf_counter()
    obstacles, land_g = _obstacles(load_land(), margin_nm, forbidden)
    shapely.prepare(obstacles)
    xy, vert, prv, nxt = _convex_nodes(obstacles)
    n = len(xy)
    edge_i: list[NDArray[np.int64]] = []
    edge_j: list[NDArray[np.int64]] = []
    batch_i: list[NDArray[np.int64]] = []
    batch_j: list[NDArray[np.int64]] = []
    batch_len = 0

    def flush() -> None:
        nonlocal batch_len
        if not batch_i:
            return
        ii, jj = np.concatenate(batch_i), np.concatenate(batch_j)
        ok = _segments_clear(obstacles, xy[ii], xy[jj])
        edge_i.append(ii[ok])
        edge_j.append(jj[ok])
        batch_i.clear()
        batch_j.clear()
        batch_len = 0

    for i in range(n - 1):
        j = np.arange(i + 1, n)
        j = j[_tangent_at(vert[i], prv[i], nxt[i], vert[j])]
        j = j[_tangent_at(vert[j], prv[j], nxt[j], vert[i])]
        if len(j):
            batch_i.append(np.full(len(j), i, dtype=np.int64))
            batch_j.append(j.astype(np.int64))
            batch_len += len(j)
        if batch_len > 50_000:
            flush()
    flush()
    ei = np.concatenate(edge_i) if edge_i else np.zeros(0, dtype=np.int64)
    ej = np.concatenate(edge_j) if edge_j else np.zeros(0, dtype=np.int64)
    lon, lat = _to_lonlat(xy[:, 0], xy[:, 1])
    lonlat = np.column_stack([lon, lat])
    w = _geodesic_nm_arrays(lonlat[ei], lonlat[ej])
    log.info(
        "built sea-route graph (margin %.2f nm, %d forbidden areas): %d nodes, %d edges, %.1f s",
        margin_nm,
        len(forbidden),
        n,
        len(ei),
        time.perf_counter() - t0,
    )
    return _Graph(xy, vert, prv, nxt, lonlat, ei, ej, w, obstacles, land_g)


@dataclass
class _End:
    """A route end: port point, approach point and the navigable point joined to the graph."""

    name: str
    port: LatLon
    approach: LatLon
    nav: LatLon
    nav_xy: NDArray[np.float64]


class SeaRouter:
    """Shortest land-free sea routes over a cached visibility graph.

    Parameters
    ----------
    margin_nm : float
        Clearance kept from the Natural Earth coastline [nm]. The buffered coast lies between
        ``margin_nm`` and ``1.2 * margin_nm`` from land.
    forbidden : sequence of ForbiddenArea
        Sea areas treated as obstacles (e.g. ``[JEJU_STRAIT]`` for DPRK-flagged ships).
    cache_dir : Path or None
        Where the built graph is cached; ``None`` means :func:`default_cache_dir`.

    Attributes
    ----------
    cache_path : Path
        The graph file for these parameters.
    loaded_from_cache : bool
        Whether the graph was read from ``cache_path`` rather than built.
    """

    def __init__(
        self,
        margin_nm: float = 2.0,
        forbidden: Sequence[ForbiddenArea] = (),
        cache_dir: Path | None = None,
    ) -> None:
        if not (math.isfinite(margin_nm) and margin_nm >= 0):
            raise ValueError(f"margin_nm must be finite and >= 0, got {margin_nm}")
        self.margin_nm = float(margin_nm)
        self.forbidden = in_region_parts(forbidden)
        self._forbidden_xy = [(a.name, _forbidden_polygon_gnomonic(a)) for a in self.forbidden]
        key = _cache_key(_land_bytes(), self.margin_nm, self.forbidden)
        self.cache_path = Path(cache_dir or default_cache_dir()) / f"searoutes-{key[:20]}.npz"
        self.loaded_from_cache = False
        graph = None
        if self.cache_path.exists():
            try:
                graph = _Graph.load(self.cache_path, key)
            except _CACHE_ERRORS as exc:
                log.warning("ignoring unreadable route cache %s: %s", self.cache_path, exc)
            self.loaded_from_cache = graph is not None
        if graph is None:
            log.info(
                "building the sea-route graph for a %g nm margin, once (cached in %s): up to "
                "tens of seconds for small margins",
                self.margin_nm,
                self.cache_path.parent,
            )
            graph = _build_graph(self.margin_nm, self.forbidden)
            try:
                graph.save(self.cache_path, key)
            except OSError as exc:
                log.warning("could not write route cache %s: %s", self.cache_path, exc)
        self._g = graph
        shapely.prepare(graph.obstacles)
        shapely.prepare(graph.land)
        self._obstacle_boundary = shapely.boundary(graph.obstacles)
        from scipy.sparse import csr_matrix  # here: a cached route table needs no graph
        from scipy.sparse.csgraph import connected_components

        n = len(graph.xy)
        adj = csr_matrix(
            (np.maximum(graph.edge_nm, 1e-12), (graph.edge_i, graph.edge_j)), shape=(n, n)
        )
        self._adj = adj + adj.T
        _, self._component = connected_components(self._adj, directed=False)
        self._main_component = int(np.argmax(np.bincount(self._component))) if n else -1
        self._links: dict[tuple[float, float], tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
        self._trees: dict[tuple[float, float], tuple[NDArray[np.float64], NDArray[np.int32]]] = {}
        gx, gy = _to_gnomonic(
            [g[1].lon for g in _GATES] + [g[2].lon for g in _GATES],
            [g[1].lat for g in _GATES] + [g[2].lat for g in _GATES],
        )
        k = len(_GATES)
        self._gates = [
            (name, shapely.LineString([(gx[i], gy[i]), (gx[i + k], gy[i + k])]))
            for i, (name, _, _) in enumerate(_GATES)
        ]

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return len(self._g.xy)

    @property
    def n_edges(self) -> int:
        """Number of graph edges."""
        return len(self._g.edge_i)

    # ---------------------------------------------------------------- route ends
    def _end(self, port: LatLon, name: str, approach: LatLon | None) -> _End:
        port = LatLon(float(port[0]), float(port[1]))
        for what, p in (("port point", port), ("approach point", approach)):
            if p is not None and not bool(_in_region(p[1], p[0])):
                raise RoutingError(
                    f"{what} of {name!r} ({p[0]:.3f} N, {p[1]:.3f} E) is outside the routing "
                    f"region {REGION_LON_LAT}",
                    port=name,
                )
        if approach is None:
            start, limit_from = port, port
        else:
            approach = LatLon(float(approach[0]), float(approach[1]))
            ax, ay = _to_gnomonic(approach.lon, approach.lat)
            pt = shapely.Point(float(ax), float(ay))
            if self._g.land.intersects(pt):
                raise RoutingError(
                    f"approach point of {name!r} ({approach.lat:.3f} N, {approach.lon:.3f} E) "
                    "is on land",
                    port=name,
                )
            for area_name, poly in self._forbidden_xy:
                if poly.intersects(pt):
                    raise RoutingError(
                        f"approach point of {name!r} ({approach.lat:.3f} N, "
                        f"{approach.lon:.3f} E) is in forbidden area {area_name!r}",
                        port=name,
                    )
            start, limit_from = approach, approach
        nav, nav_xy = self._navigable(start, name)
        moved_nm = geodesic_nm(limit_from, nav)
        if moved_nm > SNAP_LIMIT_NM:
            what = "port point" if approach is None else "approach point"
            raise RoutingError(
                f"{what} of {name!r} ({start.lat:.3f} N, {start.lon:.3f} E) is {moved_nm:.1f} nm "
                f"from navigable water (limit {SNAP_LIMIT_NM:g} nm); give it an approach point "
                "at sea",
                port=name,
            )
        if approach is None:
            return _End(name, port, nav, nav, nav_xy)
        if nav != approach:
            sx, sy = _to_gnomonic(approach.lon, approach.lat)
            leg = shapely.LineString([(float(sx), float(sy)), tuple(nav_xy)])
            if self._g.land.intersects(leg):
                raise RoutingError(
                    f"approach point of {name!r} cannot reach navigable water without "
                    "crossing land",
                    port=name,
                )
        return _End(name, port, approach, nav, nav_xy)

    def _navigable(self, p: LatLon, name: str) -> tuple[LatLon, NDArray[np.float64]]:
        """``p`` itself if it is clear of the obstacles, else the nearest clear point."""
        x, y = _to_gnomonic(p.lon, p.lat)
        q = np.array([float(x), float(y)])
        obstacles = self._g.obstacles
        if not obstacles.intersects(shapely.Point(q)):
            return p, q
        near = shapely.shortest_line(shapely.Point(q), self._obstacle_boundary)
        b = np.asarray(near.coords)[1]
        d = b - q
        dist = float(np.hypot(*d))
        dirs = [d / dist] if dist > 1e-6 else []
        ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        dirs.extend(np.column_stack([np.cos(ang), np.sin(ang)]))
        for step_m in (NODE_OFFSET_M, 5 * NODE_OFFSET_M, 25 * NODE_OFFSET_M):
            for u in dirs:
                c = b + step_m * np.asarray(u)
                if not obstacles.intersects(shapely.Point(c)):
                    lon, lat = _to_lonlat(c[0], c[1])
                    return LatLon(float(lat), float(lon)), c
        raise RoutingError(f"no navigable water found near {name!r}", port=name)

    def _links_of(self, end: _End) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Graph nodes visible from a route end, with their geodesic distances [nm]."""
        key = (round(float(end.nav_xy[0]), 3), round(float(end.nav_xy[1]), 3))
        if key not in self._links:
            g = self._g
            e = np.broadcast_to(end.nav_xy, g.vert.shape)
            cand = np.flatnonzero(_tangent_at(g.vert, g.prev, g.next, e))
            ok = _segments_clear(g.obstacles, e[cand], g.xy[cand])
            idx = cand[ok].astype(np.int64)
            ll = np.broadcast_to(np.array([end.nav.lon, end.nav.lat]), (len(idx), 2))
            self._links[key] = (idx, np.maximum(_geodesic_nm_arrays(ll, g.lonlat[idx]), 1e-12))
        return self._links[key]

    def _tree_of(self, end: _End) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
        """Distances [nm] and predecessors of all nodes from a route end (index n is the end)."""
        key = (round(float(end.nav_xy[0]), 3), round(float(end.nav_xy[1]), 3))
        if key not in self._trees:
            from scipy.sparse import csr_matrix
            from scipy.sparse.csgraph import dijkstra

            n = self.n_nodes
            idx, w = self._links_of(end)
            src = np.full(len(idx), n, dtype=np.int64)
            extra = csr_matrix((w, (src, idx)), shape=(n + 1, n + 1))
            base = self._adj.copy()
            base.resize((n + 1, n + 1))
            mat = base + extra + extra.T
            dist, pred = dijkstra(mat, directed=False, indices=n, return_predecessors=True)
            self._trees[key] = (dist, pred)
        return self._trees[key]

    # ---------------------------------------------------------------- routing
    def route(
        self,
        a: LatLon,
        b: LatLon,
        *,
        a_name: str = "a",
        b_name: str = "b",
        a_approach: LatLon | None = None,
        b_approach: LatLon | None = None,
    ) -> SeaRoute:
        """Shortest land-free sea route from ``a`` to ``b``.

        Parameters
        ----------
        a, b : LatLon
            Port points, WGS84 [deg].
        a_name, b_name : str
            Port names, used in error messages.
        a_approach, b_approach : LatLon or None
            Sea-side approach points [deg]. Without one, a port is moved to the nearest
            navigable point (at most ``SNAP_LIMIT_NM`` away).

        Returns
        -------
        SeaRoute

        Raises
        ------
        RoutingError
            If a port is too far inland, an approach point is on land or in a forbidden area,
            or no sea route joins the two ends; ``.port`` names the port at fault.
        """
        ea = self._end(a, a_name, a_approach)
        eb = self._end(b, b_name, b_approach)
        if ea.port == eb.port and ea.approach == eb.approach:  # a point to itself
            return SeaRoute((ea.port, eb.port), 0.0, 0.0, ())
        sea = self._sea_path(ea, eb)
        head = [ea.port, ea.approach] + ([ea.nav] if ea.nav != ea.approach else [])
        tail = ([eb.nav] if eb.nav != eb.approach else []) + [eb.approach, eb.port]
        waypoints = tuple(head + sea + tail)
        pilotage_nm = geodesic_nm(ea.port, ea.approach) + geodesic_nm(eb.approach, eb.port)
        return SeaRoute(
            waypoints=waypoints,
            length_nm=path_length_nm(waypoints),
            pilotage_nm=pilotage_nm,
            passes=self._passes(waypoints),
            snapped=snaps(
                [
                    ("origin", ea.name, a_approach or ea.port, ea.nav),
                    ("destination", eb.name, b_approach or eb.port, eb.nav),
                ]
            ),
        )

    def _sea_path(self, ea: _End, eb: _End) -> list[LatLon]:
        """Intermediate waypoints between the two navigable ends (empty for a straight leg)."""
        if np.allclose(ea.nav_xy, eb.nav_xy, atol=1e-3):
            return []
        direct = bool(_segments_clear(self._g.obstacles, ea.nav_xy[None, :], eb.nav_xy[None, :])[0])
        best_nm = geodesic_nm(ea.nav, eb.nav) if direct else math.inf
        dist, pred = self._tree_of(ea)
        idx, w = self._links_of(eb)
        via = dist[idx] + w if len(idx) else np.zeros(0)
        if len(via) and float(via.min()) < best_nm:
            k = int(np.argmin(via))
            node = int(idx[k])
            chain = []
            n = self.n_nodes
            while node != n:
                chain.append(node)
                node = int(pred[node])
                if node < 0:  # cannot happen for a finite distance
                    raise RuntimeError("broken shortest-path tree")
            ll = self._g.lonlat[chain[::-1]]
            return [LatLon(float(lat), float(lon)) for lon, lat in ll]
        if math.isfinite(best_nm):
            return []
        raise self._unreachable(ea, eb)

    def _unreachable(self, ea: _End, eb: _End) -> RoutingError:
        def open_sea(end: _End) -> bool:
            idx, _ = self._links_of(end)
            return bool(np.any(self._component[idx] == self._main_component))

        a_ok, b_ok = open_sea(ea), open_sea(eb)
        culprit = eb if (a_ok or not b_ok) else ea
        detail = "is cut off from the open sea" if not (a_ok and b_ok) else "cannot be reached"
        return RoutingError(
            f"no sea route from {ea.name!r} to {eb.name!r}: {culprit.name!r} {detail} "
            f"(margin {self.margin_nm:g} nm, forbidden: "
            f"{', '.join(a.name for a in self.forbidden) or 'none'})",
            port=culprit.name,
        )

    def _passes(self, waypoints: Sequence[LatLon]) -> tuple[str, ...]:
        x, y = _to_gnomonic([p.lon for p in waypoints], [p.lat for p in waypoints])
        out: list[str] = []
        for k in range(len(waypoints) - 1):
            seg = shapely.LineString([(x[k], y[k]), (x[k + 1], y[k + 1])])
            if x[k] == x[k + 1] and y[k] == y[k + 1]:
                continue
            hits = []
            for name, gate in self._gates:
                cross = seg.intersection(gate)
                if not cross.is_empty:
                    hits.append(
                        (seg.project(shapely.points(shapely.get_coordinates(cross)[0])), name)
                    )
            for _, name in sorted(hits):
                if not out or out[-1] != name:
                    out.append(name)
        return tuple(out)
