"""Sea routes between any two coastal points on the globe.

The regional router (:mod:`sim.core.routing`) is an exact visibility graph, but only over
117-142 E x 30-47 N. This module routes anywhere, over Natural Earth 10 m land for the whole
globe (``sim/data/land_ne10m_global.npz``, see ``sim/data/GLOBAL_LAND_PROVENANCE.md``):

1. **Coarse graph.** The land is rasterised on a 1/32 deg grid (cells touched by a coastline,
   or whose centre is inside land, are blocked). Free cells are merged into a quadtree (blocks of
   1/32 deg up to 4 deg that hold no blocked cell); every block is a node at its centre, and
   blocks that touch (sides or corners, across the antimeridian too) are joined by an edge.
   Latitudes beyond ``LAT_LIMITS`` are blocked (no ice model). The graph is built once (~6 s)
   and cached on disk with a checksum, like the regional graph.
2. **Passages.** Canals that no land data opens (``PASSAGES``: Suez, Panama) are fixed
   polylines joined to the graph at both ends; their length is counted, their legs are not
   tested against land.
3. **Ends.** A port (or its approach point) closer to land than the margin is moved to the
   nearest point that keeps the margin (at most ``SNAP_LIMIT_NM``; the move is pilotage), then
   joined by line of sight to the graph nodes it sees.
4. **Route.** Dijkstra over the graph, then string-pulling: from each waypoint the route jumps to
   the farthest later waypoint that a single geodesic reaches clear of land by the margin.
5. **Exact land test.** A geodesic leg is sampled every ``SAMPLE_NM``; each piece between two
   samples is itself a geodesic, hence a straight line in a gnomonic projection, and is tested
   (GEOS ``dwithin``/``intersects``) in the gnomonic plane of the 5 deg tile it starts in,
   against that tile's land (clipped with a 2 deg pad). Gnomonic scale is >= 1, so the distance
   threshold is the margin times ``SCALE_ALLOWANCE``, the largest scale in a padded tile: a leg
   that passes keeps at least the margin. Every leg of a returned route passes this test at the
   margin, except graph edges that could not be shortened, which pass it at zero margin (they
   are land-free but may come closer than the margin in straits narrower than the grid).

Every point is ``(lat, lon)`` in WGS84 degrees, latitude first, as everywhere in tankersim.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree
from shapely.geometry import Polygon

from sim.core.geo import M_PER_NM, WGS84, LatLon, densify, geodesic_nm, path_length_nm
from sim.core.io import load_checked_npz, save_checked_npz
from sim.core.routing import ForbiddenArea, RoutingError, Snap, default_cache_dir, snaps

__all__ = [
    "CELL_DEG",
    "LAT_LIMITS",
    "PASSAGES",
    "SNAP_LIMIT_NM",
    "GlobalRoute",
    "GlobalSeaRouter",
    "Passage",
    "land_version",
    "load_global_land",
    "route",
]

log = logging.getLogger(__name__)

CELL_DEG = 1.0 / 32.0
"""Finest cell of the coarse sea graph [deg] (3.5 km north-south)."""
MAX_LEVEL = 7
"""Largest quadtree block: 2**7 cells = 4 deg [-]."""
LAT_LIMITS = (-62.0, 72.0)
"""Southern and northern limits of the sea graph and of every leg [deg]: there is no ice model,
so polar routes (Northern Sea Route, Northwest Passage, Antarctic waters) are excluded. 72 N
keeps North Cape (71.2 N) and the Barents Sea open."""
TILE_DEG = 5.0
"""Size of the tiles whose gnomonic planes hold the exact land test [deg]."""
TILE_PAD_DEG = 2.0
"""Land kept around each tile [deg]; larger than any sample piece tested in it."""
TILE_CELL_DEG = 0.25
"""Smallest cell a tile's land is cut into for the exact test [deg]."""
SPLIT_VERTICES = 200
"""Largest number of vertices of a land piece in the exact test (``_split``) [-]."""
SCALE_ALLOWANCE = 1.013
"""Largest gnomonic scale factor inside a padded tile [-] (6.4 deg from its centre)."""
SAMPLE_NM = 20.0
"""Spacing of the samples along a geodesic leg in the exact test [nm]."""
PREFILTER_NM = 2.0
"""Spacing of the samples checked against the raster of surely-land cells first [nm]."""
ASTAR_WEIGHT = 0.99
"""Scale of the great-circle potential of the A* search [-]: below 1 so that passages, whose
length is geodesic (WGS84) rather than spherical, keep non-negative reduced costs."""
ASTAR_FIRST_LIMIT = 0.25
"""First limit of the A* search's reduced distance, as a fraction of the great-circle distance
[-]; raised until the path found is proven shortest."""
COARSE = 4
"""Fine cells per side of a cell of the coarse far-from-land raster [-] (1/8 deg)."""
SNAP_LIMIT_NM = 20.0
"""Farthest a port (or approach) point may be moved to water that keeps the margin [nm]."""
LINK_RADIUS_NM = 60.0
"""Radius within which a route end looks for graph nodes it sees [nm]."""
LINK_CANDIDATES = 64
"""Nearest graph nodes tested for line of sight from a route end [-]."""
FINE_CELL_DEG = 1.0 / 512.0
"""Cell of the local fine grid that takes a route end out of water the coarse graph cannot
resolve (a bay behind a narrow entrance) [deg] (217 m north-south)."""
FINE_MARGIN_NM = 0.1
"""Clearance kept on the legs found on the fine grid [nm]: those run in waters too narrow for
the margin (consecutive fine-grid points fall back to zero clearance)."""
CLEAR_SHARE = 1.0 / 3.0
"""Farthest a string-pulled leg of a fine-grid path may pass from any grid point it replaces, as
a share of that point's clearance [-] (capped at the clearance sought, ``margin / (1 -
CLEAR_SHARE)``): the legs keep the middle of narrow water, and at least ``1 - CLEAR_SHARE`` of
the path's clearance, up to the margin (:meth:`GlobalSeaRouter._centred`)."""
CLEAR_WEIGHT = 4.0
"""Extra cost of a step on a local fine grid with no clearance, as a multiple of its length [-];
it falls linearly to nothing at the clearance sought, ``margin / (1 - CLEAR_SHARE)``
(:meth:`GlobalSeaRouter._grid`)."""
WIDEN_PAD_NM = 3.0
"""Water searched round a run of legs closer to land than the margin, beyond twice the margin,
when :meth:`GlobalSeaRouter._widen` looks for a way with more clearance [nm]."""
WIDEN_MAX_CELLS = 120_000
"""Most cells of the grid searched by :meth:`GlobalSeaRouter._widen`; its cell is doubled from
``FINE_CELL_DEG`` until the window fits [-]."""
WIDEN_EXTRA = 0.1
"""Longest a widened run may be: this share more than the run, plus twice the margin [-]."""
ESCAPE_HALF_DEG = 0.5
"""Half-height of the window of that local grid [deg]; its width is scaled by 1/cos(lat)."""
MAX_REPAIRS = 200
"""Graph edges that may be found blocked (and dropped) while one route is computed [-]."""
GRAPH_FORMAT = 2
"""Version of the on-disk graph layout; part of the cache key."""
EARTH_RADIUS_NM = 6371008.8 / M_PER_NM
"""Mean Earth radius, for the coarse graph's edge weights only [nm]."""

_LAND_RESOURCE = ("data", "land_ne10m_global.npz")
_ISLETS_RESOURCE = ("data", "land_globe_islets.npz")
ISLET_PAD = 0.05
"""Growth of each GLOBE islet rectangle on every side, as a fraction of its cell [-]: covers the
rounding of the mask's own index arithmetic at cell edges."""
_CACHE_ERRORS = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile)


# ------------------------------------------------------------------------------------ passages
@dataclass(frozen=True)
class Passage:
    """A canal (or channel) that the land data does not open, sailed along fixed waypoints.

    Attributes
    ----------
    name : str
        Name reported in ``GlobalRoute.passes``.
    waypoints : tuple of LatLon
        From one sea end to the other, WGS84 [deg]; consecutive points are joined by
        geodesics, which are not tested against land.
    source : str
        Where the length and the route come from.
    canal : bool
        True for a canal through land (its legs are exempt from the land test); False for a
        natural strait too narrow for the coarse grid, whose legs are land-free in the data.
    """

    name: str
    waypoints: tuple[LatLon, ...]
    source: str
    canal: bool = True

    @property
    def length_nm(self) -> float:
        """Geodesic length along the waypoints [nm]."""
        return path_length_nm(self.waypoints)


PASSAGES: tuple[Passage, ...] = (
    Passage(
        "Suez Canal",
        (
            LatLon(31.350, 32.330),  # Mediterranean, off the Port Said entrance channel
            LatLon(31.230, 32.330),  # Port Said
            LatLon(30.850, 32.320),  # El Ballah
            LatLon(30.580, 32.290),  # Ismailia, Lake Timsah
            LatLon(30.420, 32.350),  # Deversoir, north end of the Great Bitter Lake
            LatLon(30.250, 32.470),  # Great Bitter Lake, south end
            LatLon(30.080, 32.570),  # Little Bitter Lake to Shallufa
            LatLon(29.930, 32.560),  # Port Tewfik, Suez
            LatLon(29.850, 32.550),  # Gulf of Suez, southern waiting area
        ),
        "Suez Canal Authority: 193.3 km from Port Said to Port Tewfik including the access "
        "channels (quoted by Guinness World Records, 'Longest big ship canal'); waypoints "
        "estimated along the canal",
    ),
    Passage(
        "Panama Canal",
        (
            LatLon(9.420, -79.920),  # Limon Bay, off the Colon breakwaters
            LatLon(9.350, -79.915),  # Cristobal
            LatLon(9.270, -79.920),  # Gatun Locks
            LatLon(9.180, -79.870),  # Gatun Lake
            LatLon(9.120, -79.750),  # Gatun Lake, Barro Colorado reach
            LatLon(9.115, -79.695),  # Gamboa, north end of the Culebra (Gaillard) Cut
            LatLon(9.030, -79.620),  # Pedro Miguel Locks
            LatLon(8.995, -79.590),  # Miraflores Locks
            LatLon(8.950, -79.565),  # Balboa
            LatLon(8.880, -79.520),  # Gulf of Panama, off the Pacific entrance
        ),
        "Britannica, 'Panama Canal': approach channel in Limon Bay ~11 km, Gatun Lake ~37 km to "
        "Gamboa, Gaillard Cut ~13 km, Pacific approach ~11 km (about 82 km shore to shore); "
        "waypoints estimated along the canal",
    ),
    Passage(
        "Bosphorus",
        tuple(
            LatLon(*p)
            for p in (
                (40.9800, 28.9900), (41.0282, 29.0059), (41.0321, 29.0059), (41.0556, 29.0371),
                (41.0907, 29.0625), (41.1279, 29.0723), (41.1318, 29.0723), (41.1532, 29.0664),
                (41.2118, 29.1035), (41.2333, 29.1113), (41.2372, 29.1113), (41.2656, 29.1094),
            )
        ),
        "centre line found on a 1/512 deg grid of the Natural Earth land (FINE_CELL_DEG) and "
        "string-pulled; the strait is ~31 km long (Britannica, 'Bosporus')",
        canal=False,
    ),
    Passage(
        "Dardanelles",
        tuple(
            LatLon(*p)
            for p in (
                (39.9800, 26.1200), (40.1435, 26.3703), (40.1513, 26.3781), (40.1962, 26.4054),
                (40.1962, 26.4230), (40.1982, 26.4250), (40.4531, 26.7656),
            )
        ),
        "centre line found on a 1/512 deg grid of the Natural Earth land (FINE_CELL_DEG) and "
        "string-pulled; the strait is ~61 km long (Britannica, 'Dardanelles')",
        canal=False,
    ),
)  # fmt: skip
"""Fixed passages: canals that the land data closes, and straits narrower than the grid."""


# ------------------------------------------------------------------------------------ land
def _land_bytes() -> bytes:
    return resources.files("sim").joinpath(*_LAND_RESOURCE).read_bytes()


def _islet_bytes() -> bytes:
    return resources.files("sim").joinpath(*_ISLETS_RESOURCE).read_bytes()


@cache
def _land() -> tuple[NDArray[Any], dict[str, Any]]:
    """Decoded Natural Earth land polygons (lon/lat [deg]) and the file's metadata."""
    with np.load(io.BytesIO(_land_bytes()), allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        q = np.column_stack(
            [np.cumsum(z["dlon"], dtype=np.int64), np.cumsum(z["dlat"], dtype=np.int64)]
        )
        coords = q.astype(float) * float(meta["quantum_deg"])
        polys = shapely.from_ragged_array(
            shapely.GeometryType.POLYGON,
            coords,
            (z["ring_offsets"].astype(np.int64), z["polygon_offsets"].astype(np.int64)),
        )
    return np.asarray(polys, dtype=object), meta


@cache
def _islets() -> NDArray[Any]:
    """The GLOBE islets that Natural Earth lacks (``sim/data/land_globe_islets.npz``, built by
    ``tools/make_global_land.py --islets``): rectangles of GLOBE 30" cells, lon/lat [deg],
    each grown by ``ISLET_PAD`` of a cell on every side."""
    with np.load(io.BytesIO(_islet_bytes()), allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        row = np.cumsum(z["drow"], dtype=np.int64)
        col = np.cumsum(z["dcol"], dtype=np.int64)
        ncols = z["ncols"].astype(np.int64)
    d = float(meta["cell_deg"])
    pad = ISLET_PAD * d
    return np.asarray(
        shapely.box(
            -180 + col * d - pad,
            90 - (row + 1) * d - pad,
            -180 + (col + ncols) * d + pad,
            90 - row * d + pad,
        ),
        dtype=object,
    )


def _ne_land() -> NDArray[Any]:
    """The packaged Natural Earth land alone, without the GLOBE islets."""
    return _land()[0]


@cache
def load_global_land() -> NDArray[Any]:
    """The packaged global land: Natural Earth 10 m polygons and the GLOBE islets it lacks, an
    array of shapely Polygons, lon/lat WGS84 [deg]."""
    return np.concatenate([_land()[0], _islets()])


def land_version() -> str:
    """A short identifier of the packaged global land data (versions and file hashes)."""
    meta = _land()[1]
    digest = hashlib.sha256(_land_bytes()).hexdigest()[:12]
    islets = hashlib.sha256(_islet_bytes()).hexdigest()[:12]
    return (
        f"Natural Earth {meta['natural_earth_version']} 10m, sha256:{digest}; "
        f"GLOBE islets, sha256:{islets}"
    )


# ------------------------------------------------------------------------------------ raster
_NR = round(180.0 / CELL_DEG)
_NC = round(360.0 / CELL_DEG)


def _rasterize(
    polys: NDArray[Any],
    lon0: float = -180.0,
    lat0: float = -90.0,
    nrows: int = _NR,
    ncols: int = _NC,
    d: float = CELL_DEG,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Blocked cells (centre inside land, or touched by a coastline) and surely-land cells
    (centre inside land, no coastline sample in the cell) of a grid of ``d``-degree cells whose
    south-west corner is (lon0, lat0); rows run northwards, columns eastwards."""
    rings: list[Any] = []
    for p in polys:
        rings.append(shapely.get_exterior_ring(p))
        rings.extend(
            shapely.get_interior_ring(p, i) for i in range(shapely.get_num_interior_rings(p))
        )
    coords, idx = shapely.get_coordinates(np.asarray(rings, dtype=object), return_index=True)
    same = idx[1:] == idx[:-1]
    x0, y0 = coords[:-1][same, 0], coords[:-1][same, 1]
    x1, y1 = coords[1:][same, 0], coords[1:][same, 1]
    # Even-odd scanline fill at the row centres.
    fy0, fy1 = (y0 - lat0) / d - 0.5, (y1 - lat0) / d - 0.5
    rlo = np.ceil(np.minimum(fy0, fy1)).astype(np.int64)
    n = np.ceil(np.maximum(fy0, fy1)).astype(np.int64) - rlo
    k = np.repeat(np.arange(len(x0)), n)
    r = rlo[k] + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    t = (lat0 + (r + 0.5) * d - y0[k]) / (y1[k] - y0[k])
    xc = x0[k] + t * (x1[k] - x0[k])
    c = np.clip(np.ceil((xc - lon0) / d - 0.5).astype(np.int64), 0, ncols)
    toggle = np.zeros((nrows, ncols + 1), dtype=np.uint8)
    inside = (r >= 0) & (r < nrows)
    np.add.at(toggle, (r[inside], c[inside]), 1)
    fill = np.bitwise_xor.accumulate(toggle & 1, axis=1)[:, :ncols].astype(bool)
    del toggle
    # Coastline samples no further apart than a third of a cell.
    seg = np.hypot(x1 - x0, y1 - y0)
    m = np.maximum(1, np.ceil(seg / (d / 3))).astype(np.int64)
    k = np.repeat(np.arange(len(x0)), m)
    f = (np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)) / m[k]
    bx, by = x0[k] + f * (x1[k] - x0[k]), y0[k] + f * (y1[k] - y0[k])
    br = np.clip(((by - lat0) / d).astype(np.int64), 0, nrows - 1)
    bc = np.clip(((bx - lon0) / d).astype(np.int64), 0, ncols - 1)
    coast = np.zeros_like(fill)
    coast[br, bc] = True
    return fill | coast, fill & ~coast


def _quadtree(
    blocked: NDArray[np.bool_],
) -> tuple[
    NDArray[np.int8], NDArray[np.int32], NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]
]:
    """Free quadtree blocks (level, row, col) and the pairs of blocks that touch."""
    b = blocked.copy()
    lat_c = -90 + (np.arange(_NR) + 0.5) * CELL_DEG
    b[(lat_c < LAT_LIMITS[0]) | (lat_c > LAT_LIMITS[1]), :] = True
    levels = [b]
    for _ in range(MAX_LEVEL):
        p = levels[-1]
        levels.append(
            np.asarray(p.reshape(p.shape[0] // 2, 2, p.shape[1] // 2, 2).any(axis=(1, 3)))
        )
    ks, rs, cs = [], [], []
    for k in range(MAX_LEVEL + 1):
        free = ~levels[k]
        if k < MAX_LEVEL:
            free &= np.repeat(np.repeat(levels[k + 1], 2, axis=0), 2, axis=1)
        r, c = np.nonzero(free)
        ks.append(np.full(len(r), k, dtype=np.int8))
        rs.append(r.astype(np.int32))
        cs.append(c.astype(np.int32))
    n = sum(len(r) for r in rs)
    label = np.full((_NR, _NC), -1, dtype=np.int32)
    start = 0
    for k in range(MAX_LEVEL + 1):
        if not len(rs[k]):
            continue
        coarse = np.full(levels[k].shape, -1, dtype=np.int32)
        coarse[rs[k], cs[k]] = np.arange(start, start + len(rs[k]), dtype=np.int32)
        s = 1 << k
        up = np.repeat(np.repeat(coarse, s, axis=0), s, axis=1)
        np.copyto(label, up, where=up >= 0)
        start += len(rs[k])
    pairs = []

    def touch(a: NDArray[np.int32], b: NDArray[np.int32]) -> None:
        m = (a != b) & (a >= 0) & (b >= 0)
        pairs.append(np.stack([a[m], b[m]], axis=1))

    touch(label[:, :-1], label[:, 1:])
    touch(label[:, -1], label[:, 0])  # across the antimeridian
    touch(label[:-1, :], label[1:, :])
    touch(label[:-1, :-1], label[1:, 1:])
    touch(label[:-1, 1:], label[1:, :-1])
    touch(label[:-1, -1], label[1:, 0])
    touch(label[:-1, 0], label[1:, -1])
    pr = np.concatenate(pairs).astype(np.int64)
    pr.sort(axis=1)
    key = np.unique(pr[:, 0] * n + pr[:, 1])
    return (
        np.concatenate(ks),
        np.concatenate(rs),
        np.concatenate(cs),
        (key // n).astype(np.int32),
        (key % n).astype(np.int32),
    )


def _far_from(
    blocked: NDArray[np.bool_], d: float, radius_nm: float, rows: slice | None = None
) -> NDArray[np.uint8]:
    """Packed bits (as ``np.packbits(..., axis=1)``) of the cells of a global ``d``-degree grid
    whose every point lies more than ``radius_nm`` from every blocked cell (a box dilation of
    the blocked cells, its east-west half-width widened by 1/cos(lat) at the poleward edge)."""
    from scipy.ndimage import maximum_filter1d

    nr, nc = blocked.shape
    cell_nm = d * 60.0
    kr = math.ceil(radius_nm / cell_nm) + 1
    near = np.ones((nr, nc), dtype=np.uint8)
    lo, hi = (0, nr) if rows is None else (rows.start, rows.stop)
    a, b = max(lo - kr, 0), min(hi + kr, nr)
    band = maximum_filter1d(blocked[a:b].view(np.uint8), 2 * kr + 1, axis=0, mode="nearest")
    band = band[lo - a : hi - a]
    lat_c = -90 + (np.arange(lo, hi) + 0.5) * d
    pole = np.minimum(np.abs(lat_c) + (kr + 1) * d, 89.0)
    kc = np.minimum(
        np.ceil(radius_nm / (cell_nm * np.cos(np.radians(pole)))).astype(np.int64) + 1, nc // 2
    )
    for k in np.unique(kc):
        sel = np.flatnonzero(kc == k)
        near[lo + sel] = maximum_filter1d(band[sel], 2 * int(k) + 1, axis=1, mode="wrap")
    return np.packbits(near == 0, axis=1)


def _split(geom: Any, box: tuple[float, float, float, float]) -> list[Any]:
    """``geom`` cut into quadrants of ``box`` until each piece has at most ``SPLIT_VERTICES``
    vertices or its quadrant is ``TILE_CELL_DEG`` wide: the exact test then measures
    distances to a piece of coast, not to a whole continent's outline."""
    if shapely.get_num_coordinates(geom) <= SPLIT_VERTICES or box[2] - box[0] <= TILE_CELL_DEG:
        return [geom]
    xm, ym = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    out: list[Any] = []
    for q in (
        (box[0], box[1], xm, ym), (xm, box[1], box[2], ym),
        (box[0], ym, xm, box[3]), (xm, ym, box[2], box[3]),
    ):  # fmt: skip
        part = shapely.clip_by_rect(geom, *q)
        if not part.is_empty:
            out.extend(_split(part, q))
    return out


# ------------------------------------------------------------------------------------ cache
_CHECKED = (
    "key", "format", "level", "row", "col", "edge_i", "edge_j", "surely_land", "blocked",
)  # fmt: skip


def _cache_key() -> str:
    params = {
        "format": GRAPH_FORMAT,
        "cell_deg": repr(CELL_DEG),
        "max_level": MAX_LEVEL,
        "lat_limits": [repr(v) for v in LAT_LIMITS],
    }
    h = hashlib.sha256(_land_bytes())
    h.update(_islet_bytes())
    h.update(json.dumps(params, sort_keys=True).encode())
    return h.hexdigest()


def _load_graph(path: Path, key: str) -> dict[str, NDArray[Any]] | None:
    return load_checked_npz(path, _CHECKED, expect={"key": key, "format": GRAPH_FORMAT})


def _save_graph(path: Path, arrays: dict[str, NDArray[Any]]) -> None:
    save_checked_npz(path, arrays, _CHECKED, compressed=True)


def _build_graph(key: str) -> dict[str, NDArray[Any]]:
    t0 = time.perf_counter()
    blocked, surely = _rasterize(load_global_land())
    level, row, col, ei, ej = _quadtree(blocked)
    log.info(
        "built the global sea graph: %d nodes, %d edges, %.1f s",
        len(level),
        len(ei),
        time.perf_counter() - t0,
    )
    return {
        "key": np.array(key),
        "format": np.array(GRAPH_FORMAT),
        "level": level,
        "row": row,
        "col": col,
        "edge_i": ei,
        "edge_j": ej,
        "surely_land": np.packbits(surely, axis=1),
        "blocked": np.packbits(blocked, axis=1),
    }


# ------------------------------------------------------------------------------------ tiles
@dataclass
class _Tile:
    """Land (and forbidden areas) around one tile, in the tile's gnomonic plane [m]."""

    fwd: Transformer
    inv: Transformer
    land: NDArray[Any]  # polygon pieces
    tree: shapely.STRtree
    forbidden: list[tuple[str, Polygon]]


def _tile_index(lon: NDArray[Any], lat: NDArray[Any]) -> NDArray[np.int64]:
    ti = np.clip(np.floor((np.asarray(lat) + 90) / TILE_DEG).astype(np.int64), 0, 35)
    tj = np.floor((np.asarray(lon) + 180) / TILE_DEG).astype(np.int64) % 72
    return ti * 72 + tj


def _unit(lon: NDArray[Any], lat: NDArray[Any]) -> NDArray[np.float64]:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _haversine_nm(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> NDArray[np.float64]:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_NM * np.arcsin(np.sqrt(np.clip(h, 0, 1))), dtype=float)


class _BlockedLeg(Exception):
    """A leg between two consecutive path points is not clear even at zero margin."""

    def __init__(self, edge: tuple[int, int]) -> None:
        super().__init__(edge)
        self.edge = edge


@dataclass(frozen=True)
class _Grid:
    """A local grid of :meth:`GlobalSeaRouter._grid`: its free cells (row ``fr``, column
    ``fc``, clearance ``clear`` [nm]), their ids in the ``ids`` raster and their graph."""

    lon0: float
    lat0: float
    d: float
    kx: float
    ids: NDArray[np.int64]
    fr: NDArray[np.int64]
    fc: NDArray[np.int64]
    clear: NDArray[np.float64]
    adj: Any

    def point(self, k: int) -> LatLon:
        """The centre of free cell ``k``."""
        return LatLon(
            float(self.lat0 + (self.fr[k] + 0.5) * self.d),
            float(self.lon0 + (self.fc[k] + 0.5) * self.d),
        )


@dataclass
class _End:
    name: str
    port: LatLon
    approach: LatLon
    nav: LatLon
    fallback: LatLon | None = None  # margin-clear water, if the fine grid finds no way out


# ------------------------------------------------------------------------------------ route
@dataclass(frozen=True)
class GlobalRoute:
    """A sea route from the global (or, inside its region, the regional) router.

    Attributes
    ----------
    waypoints : tuple of LatLon
        Port point, approach point, sea waypoints, approach point, port point, WGS84 [deg],
        latitude first; consecutive points are joined by geodesics.
    length_nm : float
        Geodesic length of the whole route, pilotage included [nm] (also ``distance_nm``).
    pilotage_nm : float
        Length of the legs between the port points and their approach points [nm].
    passes : tuple of str
        Canal passages (global router) or named gates (regional router) passed, in order.
    margin_nm : float
        Clearance from the land data kept on the open-sea legs [nm].
    method : str
        ``"global grid + string-pulling"`` or ``"regional visibility graph"``.
    land_version : str
        Identifier of the land data the route was checked against.
    passage_legs : tuple of (int, int)
        Index ranges ``(i, j)`` of ``waypoints`` that run through a passage (``PASSAGES``).
    narrow_legs : tuple of (int, int)
        Index ranges of ``waypoints`` found on the fine local grid, which take a route end out
        of narrow water (a bay behind a narrow entrance) at ``FINE_MARGIN_NM`` clearance.
    snapped : tuple of Snap
        The ends moved to navigable water: which end, from where, to where, how far [nm].
    close_legs : tuple of int
        Indices ``k`` of the legs ``waypoints[k]``-``waypoints[k + 1]`` at sea (not pilotage,
        passages or ``narrow_legs``) that keep less than the margin from the land data: graph
        edges in waters narrower than the coarse grid, land-free but closer than the margin.
    notes : tuple of str
        What the caller should know: regional rules the route breaks and the distance that
        keeps them (the Jeju Strait), a lock on the way (the West Sea Barrage), a fallback
        from the regional to the global router.
    """

    waypoints: tuple[LatLon, ...]
    length_nm: float
    pilotage_nm: float
    passes: tuple[str, ...]
    margin_nm: float
    method: str
    land_version: str
    passage_legs: tuple[tuple[int, int], ...] = field(default=())
    narrow_legs: tuple[tuple[int, int], ...] = field(default=())
    snapped: tuple[Snap, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    close_legs: tuple[int, ...] = field(default=())

    @property
    def distance_nm(self) -> float:
        """Sea distance of the route [nm], pilotage included (same as ``length_nm``)."""
        return self.length_nm

    def __repr__(self) -> str:
        a, b = self.waypoints[0], self.waypoints[-1]
        via = f", via {', '.join(self.passes)}" if self.passes else ""
        return (
            f"GlobalRoute({a.lat:.3f} N {a.lon:.3f} E -> {b.lat:.3f} N {b.lon:.3f} E: "
            f"{self.length_nm:,.1f} nm ({self.pilotage_nm:.1f} pilotage), "
            f"{len(self.waypoints)} waypoints{via}, margin {self.margin_nm:g} nm, {self.method})"
        )

    def _repr_html_(self) -> str:
        from sim.core.reprs import global_route_html

        return global_route_html(self)

    @property
    def feature(self) -> dict[str, Any]:
        """The route as a GeoJSON Feature (RFC 7946): a LineString in ``[lon, lat]`` order, or
        a MultiLineString split at the antimeridian when the route crosses it."""
        lines: list[list[list[float]]] = [[]]
        prev: LatLon | None = None
        for p in self.waypoints:
            if prev is not None and abs(p.lon - prev.lon) > 180.0:
                # Cut at +-180: interpolate the crossing latitude on the unwrapped segment.
                lon2 = p.lon + (360.0 if p.lon < prev.lon else -360.0)
                edge = 180.0 if lon2 > prev.lon else -180.0
                t = (edge - prev.lon) / (lon2 - prev.lon)
                lat = prev.lat + t * (p.lat - prev.lat)
                lines[-1].append([edge, round(lat, 6)])
                lines.append([[-edge, round(lat, 6)]])
            lines[-1].append([round(p.lon, 6), round(p.lat, 6)])
            prev = p
        geometry: dict[str, Any]
        if len(lines) == 1:
            geometry = {"type": "LineString", "coordinates": lines[0]}
        else:
            geometry = {"type": "MultiLineString", "coordinates": lines}
        return {
            "type": "Feature",
            "geometry": geometry,
            "properties": {
                "distance_nm": round(self.length_nm, 3),
                "pilotage_nm": round(self.pilotage_nm, 3),
                "margin_nm": self.margin_nm,
                "passes": list(self.passes),
                "method": self.method,
                "land_data": self.land_version,
                "snapped": [
                    {
                        "end": sn.end,
                        "name": sn.name,
                        "distance_nm": round(sn.distance_nm, 3),
                        "from": [round(sn.given.lon, 6), round(sn.given.lat, 6)],
                        "to": [round(sn.to.lon, 6), round(sn.to.lat, 6)],
                    }
                    for sn in self.snapped
                ],
                "notes": list(self.notes),
            },
        }

    def to_geojson(self) -> dict[str, Any]:
        """The GeoJSON Feature of :attr:`feature` (a new dict each call)."""
        return json.loads(json.dumps(self.feature))


class GlobalSeaRouter:
    """Land-free sea routes anywhere, over a cached coarse graph refined by string-pulling.

    Parameters
    ----------
    margin_nm : float
        Clearance kept from the Natural Earth coastline on string-pulled legs [nm].
    forbidden : sequence of ForbiddenArea
        Sea areas that no leg may enter (no margin), as in :class:`sim.core.routing.SeaRouter`.
    cache_dir : Path or None
        Where the coarse graph is cached; ``None`` means :func:`default_cache_dir`.
    passages : sequence of Passage
        Canal passages joined to the graph (default ``PASSAGES``).
    """

    method = "global grid + string-pulling"

    def __init__(
        self,
        margin_nm: float = 2.0,
        forbidden: Sequence[ForbiddenArea] = (),
        cache_dir: Path | None = None,
        passages: Sequence[Passage] = PASSAGES,
    ) -> None:
        if not (math.isfinite(margin_nm) and margin_nm >= 0):
            raise ValueError(f"margin_nm must be finite and >= 0, got {margin_nm}")
        self.margin_nm = float(margin_nm)
        self.forbidden = tuple(forbidden)
        self.passages = tuple(passages)
        self.land_version = land_version()
        key = _cache_key()
        self.cache_path = Path(cache_dir or default_cache_dir()) / f"globalsea-{key[:20]}.npz"
        self.loaded_from_cache = False
        arrays = None
        if self.cache_path.exists():
            try:
                arrays = _load_graph(self.cache_path, key)
            except _CACHE_ERRORS as exc:
                log.warning("ignoring unreadable global route cache %s: %s", self.cache_path, exc)
            self.loaded_from_cache = arrays is not None
        if arrays is None:
            log.info("building the global sea graph once (cached in %s)", self.cache_path.parent)
            arrays = _build_graph(key)
            try:
                _save_graph(self.cache_path, arrays)
            except OSError as exc:
                log.warning("could not write global route cache %s: %s", self.cache_path, exc)
        self._polys = load_global_land()
        self._land_tree = shapely.STRtree(self._polys)
        self._surely = arrays["surely_land"]
        size = (1 << arrays["level"].astype(np.int64)) * CELL_DEG
        self._lat = -90 + (arrays["row"] + 0.5) * size
        self._lon = -180 + (arrays["col"] + 0.5) * size
        self._n = len(self._lat)
        self._kd = cKDTree(_unit(self._lon, self._lat))
        self._tiles: dict[int, _Tile] = {}
        self._ends: dict[Any, _End] = {}
        self._attachments: dict[Any, Any] = {}
        self._widened: dict[tuple[LatLon, ...], list[LatLon] | None] = {}
        self._fallback: LatLon | None = None
        self._forbidden_ll = [
            (a.name, shapely.Polygon([(p[1], p[0]) for p in a.polygon])) for a in self.forbidden
        ]
        self._far_masks(np.unpackbits(arrays["blocked"], axis=1, count=_NC).astype(bool))
        ei = arrays["edge_i"].astype(np.int64)
        ej = arrays["edge_j"].astype(np.int64)
        ew = _haversine_nm(self._lon[ei], self._lat[ei], self._lon[ej], self._lat[ej])
        # Passages: two extra nodes each, joined to the graph nodes they see.
        pi, pj, pw = [], [], []
        for k, pas in enumerate(self.passages):
            a, b = self._n + 2 * k, self._n + 2 * k + 1
            track = shapely.LineString([(p.lon, p.lat) for p in pas.waypoints])
            if any(poly.intersects(track) for _, poly in self._forbidden_ll):
                continue  # a forbidden area closes the passage: its two nodes stay unlinked
            pi.append(a)
            pj.append(b)
            pw.append(pas.length_nm)
            for node, end in ((a, pas.waypoints[0]), (b, pas.waypoints[-1])):
                idx, w = self._links(end, f"{pas.name} entrance")
                pi.extend([node] * len(idx))
                pj.extend(idx.tolist())
                pw.extend(w.tolist())
        self._ei = np.concatenate([ei, np.asarray(pi, dtype=np.int64)])
        self._ej = np.concatenate([ej, np.asarray(pj, dtype=np.int64)])
        self._ew = np.concatenate([ew, np.asarray(pw, dtype=float)])
        self._size = self._n + 2 * len(self.passages) + 2
        ends = [(p.waypoints[0], p.waypoints[-1]) for p in self.passages]
        self._nlon = np.concatenate(
            [self._lon, [q.lon for e in ends for q in e], [0.0, 0.0]]
        ).astype(float)
        self._nlat = np.concatenate(
            [self._lat, [q.lat for e in ends for q in e], [0.0, 0.0]]
        ).astype(float)
        self._nxyz = _unit(self._nlon, self._nlat)
        self._alive = np.ones(len(self._ei), dtype=bool)
        if self.forbidden:
            self._close_forbidden_edges()
        self._rebuild()
        _, self._component = connected_components(self._adj, directed=False)
        self._main = int(np.argmax(np.bincount(self._component[: self._n])))

    # -------------------------------------------------------------------- graph upkeep
    @property
    def n_nodes(self) -> int:
        """Number of coarse graph nodes (passages excluded)."""
        return self._n

    @property
    def n_edges(self) -> int:
        """Number of live coarse graph edges (passage links included)."""
        return int(self._alive.sum())

    def _far_masks(self, blocked: NDArray[np.bool_]) -> None:
        """The fine and coarse far-from-land rasters of :meth:`_far` for this margin; cells
        near a forbidden area are never far."""
        for _, poly in self._forbidden_ll:
            x0, y0, x1, y1 = poly.bounds
            r0, r1 = int((y0 + 90) / CELL_DEG) - 1, int((y1 + 90) / CELL_DEG) + 2
            c0, c1 = int((x0 + 180) / CELL_DEG) - 1, int((x1 + 180) / CELL_DEG) + 2
            blocked[max(r0, 0) : r1, max(c0, 0) : c1] = True
        rows = slice(
            int((LAT_LIMITS[0] + 90) / CELL_DEG) - 2, int((LAT_LIMITS[1] + 90) / CELL_DEG) + 2
        )
        slack = SCALE_ALLOWANCE * self.margin_nm
        self._far_fine = _far_from(blocked, CELL_DEG, slack + PREFILTER_NM / 2, rows)
        coarse = np.asarray(
            blocked.reshape(_NR // COARSE, COARSE, _NC // COARSE, COARSE).any(axis=(1, 3)),
            dtype=bool,
        )
        crows = slice(rows.start // COARSE, rows.stop // COARSE + 1)
        self._far_coarse = _far_from(coarse, CELL_DEG * COARSE, slack + SAMPLE_NM / 2, crows)

    def _rebuild(self) -> None:
        m = self._alive
        adj = csr_matrix(
            (np.maximum(self._ew[m], 1e-9), (self._ei[m], self._ej[m])),
            shape=(self._size, self._size),
        )
        self._adj = (adj + adj.T).tocsr()
        self._adj.sort_indices()
        self._rows = np.repeat(
            np.arange(self._size, dtype=np.int64), np.diff(self._adj.indptr).astype(np.int64)
        )

    def _close_forbidden_edges(self) -> None:
        for _, poly in self._forbidden_ll:
            x0, y0, x1, y1 = poly.bounds
            near = (
                (self._lon >= x0 - 4)
                & (self._lon <= x1 + 4)
                & (self._lat >= y0 - 4)
                & (self._lat <= y1 + 4)
            )
            cand = np.flatnonzero(
                self._alive
                & (self._ei < self._n)
                & (self._ej < self._n)
                & (
                    near[np.minimum(self._ei, self._n - 1)]
                    | near[np.minimum(self._ej, self._n - 1)]
                )
            )
            if not len(cand):
                continue
            a = np.column_stack([self._lon[self._ei[cand]], self._lat[self._ei[cand]]])
            b = np.column_stack([self._lon[self._ej[cand]], self._lat[self._ej[cand]]])
            ok = self._clear(a, b, 0.0)
            self._alive[cand[~ok]] = False

    def _ban(self, i: int, j: int) -> None:
        hit = np.flatnonzero(
            ((self._ei == i) & (self._ej == j)) | ((self._ei == j) & (self._ej == i))
        )
        if not len(hit):
            raise RuntimeError(f"no such graph edge {i}-{j}")
        self._alive[hit] = False
        log.debug("dropped blocked graph edge %d-%d", i, j)
        self._rebuild()

    # -------------------------------------------------------------------- exact land test
    def _tile(self, t: int) -> _Tile:
        tile = self._tiles.get(t)
        if tile is not None:
            return tile
        ti, tj = divmod(t, 72)
        lat0 = -90 + (ti + 0.5) * TILE_DEG
        lon0 = -180 + (tj + 0.5) * TILE_DEG
        crs = f"+proj=gnom +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m +no_defs"
        fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        half = TILE_DEG / 2 + TILE_PAD_DEG
        ylo, yhi = max(-90.0, lat0 - half), min(90.0, lat0 + half)
        xlo, xhi = lon0 - half, lon0 + half
        boxes = [(max(xlo, -180.0), ylo, min(xhi, 180.0), yhi)]
        if xlo < -180:
            boxes.append((xlo + 360, ylo, 180.0, yhi))
        if xhi > 180:
            boxes.append((-180.0, ylo, xhi - 360, yhi))
        pieces: list[Any] = []
        for bx in boxes:
            idx = self._land_tree.query(shapely.box(*bx))
            if len(idx):
                clipped = shapely.clip_by_rect(self._polys[idx], *bx)
                for g in clipped:
                    if not g.is_empty:
                        pieces.extend(_split(g, bx))

        def project(xy: NDArray[np.float64]) -> NDArray[np.float64]:
            x, y = fwd.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        land = np.asarray([shapely.transform(g, project) for g in pieces], dtype=object)
        forb = []
        for name, poly in self._forbidden_ll:
            if any(poly.intersects(shapely.box(*bx)) for bx in boxes):
                forb.append((name, shapely.transform(poly, project)))
        tile = _Tile(fwd, inv, land, shapely.STRtree(land), forb)
        self._tiles[t] = tile
        return tile

    def _surely_land(self, lon: NDArray[Any], lat: NDArray[Any]) -> NDArray[np.bool_]:
        r = np.clip(((np.asarray(lat) + 90) / CELL_DEG).astype(np.int64), 0, _NR - 1)
        c = np.clip(((np.asarray(lon) + 180) / CELL_DEG).astype(np.int64), 0, _NC - 1)
        byte = self._surely[r, c >> 3]
        return ((byte >> (7 - (c & 7))) & 1).astype(bool)

    def _clear(
        self, a: NDArray[np.float64], b: NDArray[np.float64], margin_nm: float
    ) -> NDArray[np.bool_]:
        """For each geodesic a[k]-b[k] (rows of lon, lat [deg]): True if it keeps
        ``margin_nm`` from the land (and stays out of forbidden areas and inside LAT_LIMITS).

        Vectorised over the legs: samples every ``SAMPLE_NM`` on each geodesic (pyproj); a piece
        between two samples whose ends both lie in coarse cells far from land (``_far``) is
        clear; the others are cut into pieces of at most ``PREFILTER_NM`` (great-circle
        interpolation, within a metre of the geodesic over so short a piece), checked against
        the surely-land raster, then against the fine far-from-land raster, and only the
        pieces near land go to the exact test in the gnomonic plane of their tile."""
        a = np.asarray(a, dtype=float).reshape(-1, 2)
        b = np.asarray(b, dtype=float).reshape(-1, 2)
        m = len(a)
        ok = np.ones(m, dtype=bool)
        if not m:
            return ok
        az, _, dist = WGS84.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        dist = np.asarray(dist, dtype=float)
        n = np.maximum(1, np.ceil(dist / (SAMPLE_NM * M_PER_NM))).astype(np.int64)
        owner = np.repeat(np.arange(m), n + 1)
        j = np.arange(len(owner)) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)
        frac = j / n[owner]
        lon, lat, _ = WGS84.fwd(a[owner, 0], a[owner, 1], np.asarray(az)[owner], frac * dist[owner])
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        end = j == n[owner]
        lon[end], lat[end] = b[owner[end], 0], b[owner[end], 1]
        lon[j == 0], lat[j == 0] = a[owner[j == 0], 0], a[owner[j == 0], 1]
        out = (lat < LAT_LIMITS[0]) | (lat > LAT_LIMITS[1])
        ok[owner[out]] = False
        far = self._far(lon, lat, margin_nm, coarse=True)
        i0 = np.flatnonzero(~end)
        near = ~(far[i0] & far[i0 + 1]) & ok[owner[i0]]
        i0 = i0[near]
        if not len(i0):
            return ok
        # Cut the pieces near land into short ones.
        po = owner[i0]
        u0 = _unit(lon[i0], lat[i0])
        u1 = _unit(lon[i0 + 1], lat[i0 + 1])
        theta = np.arctan2(np.linalg.norm(np.cross(u0, u1), axis=1), np.sum(u0 * u1, axis=1))
        k = np.maximum(1, np.ceil(theta * EARTH_RADIUS_NM / PREFILTER_NM)).astype(np.int64)
        rep = np.repeat(np.arange(len(i0)), k + 1)
        t = (np.arange(len(rep)) - np.repeat(np.cumsum(k + 1) - (k + 1), k + 1)) / k[rep]
        th = theta[rep][:, None]
        s_th = np.sin(th)
        safe = s_th > 1e-12
        w0 = np.where(safe, np.sin((1 - t[:, None]) * th) / np.where(safe, s_th, 1), 1 - t[:, None])
        w1 = np.where(safe, np.sin(t[:, None] * th) / np.where(safe, s_th, 1), t[:, None])
        v = w0 * u0[rep] + w1 * u1[rep]
        slon = np.degrees(np.arctan2(v[:, 1], v[:, 0]))
        slat = np.degrees(np.arctan2(v[:, 2], np.hypot(v[:, 0], v[:, 1])))
        sown = po[rep]
        ok[np.unique(sown[self._surely_land(slon, slat)])] = False
        far2 = self._far(slon, slat, margin_nm, coarse=False)
        last = np.zeros(len(rep), dtype=bool)
        last[np.cumsum(k + 1) - 1] = True
        q0 = np.flatnonzero(~last)
        q0 = q0[~(far2[q0] & far2[q0 + 1]) & ok[sown[q0]]]
        if not len(q0):
            return ok
        s = np.column_stack([slon[q0], slat[q0]])
        e = np.column_stack([slon[q0 + 1], slat[q0 + 1]])
        o = sown[q0]
        tiles = _tile_index(s[:, 0], s[:, 1])
        dmin = margin_nm * M_PER_NM * SCALE_ALLOWANCE
        for tt in np.unique(tiles):
            sel = np.flatnonzero(tiles == tt)
            sel = sel[ok[o[sel]]]
            if not len(sel):
                continue
            tile = self._tile(int(tt))
            x0, y0 = tile.fwd.transform(s[sel, 0], s[sel, 1])
            x1, y1 = tile.fwd.transform(e[sel, 0], e[sel, 1])
            lines = shapely.linestrings(
                np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
            )
            if len(tile.land):
                if dmin > 0:
                    hit, _ = tile.tree.query(lines, predicate="dwithin", distance=dmin)
                else:
                    hit, _ = tile.tree.query(lines, predicate="intersects")
                ok[np.unique(o[sel[hit]])] = False
            for _, poly in tile.forbidden:
                bad = shapely.intersects(poly, lines)
                ok[np.unique(o[sel[bad]])] = False
        return ok

    def _far(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], margin_nm: float, coarse: bool
    ) -> NDArray[np.bool_]:
        """Whether each point lies in a cell of the fine (``PREFILTER_NM`` pieces) or coarse
        (``SAMPLE_NM`` pieces) far-from-land raster built for the router's margin; a piece
        of that length between two such points keeps at least ``margin_nm`` from land and out
        of the forbidden areas. Nothing is far for a margin larger than the router's."""
        if margin_nm > self.margin_nm:
            return np.zeros(len(lon), dtype=bool)
        grid, d = (self._far_coarse, CELL_DEG * COARSE) if coarse else (self._far_fine, CELL_DEG)
        r = np.clip(((lat + 90) / d).astype(np.int64), 0, grid.shape[0] - 1)
        c = np.clip(((lon + 180) / d).astype(np.int64), 0, 8 * grid.shape[1] - 1)
        return ((grid[r, c >> 3] >> (7 - (c & 7))) & 1).astype(bool)

    def _clear1(self, p: LatLon, q: LatLon, margin_nm: float) -> bool:
        return bool(
            self._clear(np.array([[p.lon, p.lat]]), np.array([[q.lon, q.lat]]), margin_nm)[0]
        )

    # -------------------------------------------------------------------- local fine grid
    def _grid(self, lon0: float, lat0: float, nrows: int, ncols: int, d: float) -> _Grid:
        """A local grid of ``d``-degree cells (south-west corner ``(lon0, lat0)``): its free
        cells (not blocked by land, as ``_rasterize``, nor in a forbidden area), their
        clearance, and their 8-connected graph, whose steps cost their length times
        ``1 + CLEAR_WEIGHT * (1 - c / t)`` for a clearance ``c`` under the clearance sought,
        ``t = margin / (1 - CLEAR_SHARE)``: the shortest path keeps ``t`` from land where it
        costs little, and to the middle of water narrower than ``2 t``."""
        from scipy.ndimage import distance_transform_edt

        bx = (lon0, lat0, lon0 + ncols * d, lat0 + nrows * d)
        idx = self._land_tree.query(shapely.box(*bx))
        polys = (
            shapely.clip_by_rect(self._polys[idx], *bx) if len(idx) else np.zeros(0, dtype=object)
        )
        polys = np.asarray(
            [
                g
                for p in polys
                for g in shapely.get_parts(p)
                if not g.is_empty and g.geom_type == "Polygon"
            ],
            dtype=object,
        )
        if len(polys):
            blocked, _ = _rasterize(polys, lon0, lat0, nrows, ncols, d)
        else:
            blocked = np.zeros((nrows, ncols), dtype=bool)
        rr, cc = np.mgrid[0:nrows, 0:ncols]
        clon, clat = lon0 + (cc + 0.5) * d, lat0 + (rr + 0.5) * d
        for _, poly in self._forbidden_ll:
            blocked |= shapely.contains_xy(poly, clon, clat)
        free = ~blocked
        kx = math.cos(math.radians(lat0 + nrows * d / 2))
        cell_nm = d * 60.0
        if blocked.any():
            # Distance from each cell centre to the nearest blocked cell's centre, less half a
            # cell (to its edge, roughly) [nm].
            clear = np.maximum(
                distance_transform_edt(free, sampling=(cell_nm, cell_nm * kx)) - cell_nm / 2, 0.0
            )
        else:
            clear = np.full((nrows, ncols), np.inf)
        ids = np.full((nrows, ncols), -1, dtype=np.int64)
        nfree = int(free.sum())
        ids[free] = np.arange(nfree)
        pad = np.pad(ids, 1, constant_values=-1)
        cpad = np.pad(clear, 1)

        def shifted(a: NDArray[Any], dr: int, dc: int) -> NDArray[Any]:
            return a[1 + dr : nrows + 1 + dr, 1 + dc : ncols + 1 + dc]

        rows_, cols_, w_ = [], [], []
        for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
            a, b = ids, shifted(pad, dr, dc)
            ok = (a >= 0) & (b >= 0)
            if dr and dc:  # diagonal: both orthogonal neighbours free too
                ok &= (shifted(pad, dr, 0) >= 0) & (shifted(pad, 0, dc) >= 0)
            c = np.minimum(clear[ok], shifted(cpad, dr, dc)[ok])
            w = math.hypot(dr, dc * kx) * cell_nm
            if self.margin_nm > 0:
                w = w * (1 + CLEAR_WEIGHT * np.clip(1 - c / self._sought(), 0.0, 1.0))
            rows_.append(a[ok])
            cols_.append(b[ok])
            w_.append(np.broadcast_to(w, (int(ok.sum()),)))
        adj = csr_matrix(
            (np.concatenate(w_), (np.concatenate(rows_), np.concatenate(cols_))),
            shape=(nfree, nfree),
        )
        fr, fc = np.nonzero(free)
        return _Grid(lon0, lat0, d, kx, ids, fr, fc, clear[free], adj)

    def _sought(self) -> float:
        """The clearance a fine-grid path seeks [nm]: its string-pulled legs, which keep at
        least ``1 - CLEAR_SHARE`` of it, then keep the margin."""
        return self.margin_nm / (1 - CLEAR_SHARE)

    def _grid_cell(self, grid: _Grid, p: LatLon) -> int | None:
        """The free cell of ``grid`` nearest to ``p`` that ``p`` sees land-free (an index of
        its free cells), or None."""
        sr = int((p.lat - grid.lat0) / grid.d)
        sc = int((((p.lon - grid.lon0) + 180) % 360 - 180) / grid.d)
        near = np.argsort((grid.fr - sr) ** 2 + ((grid.fc - sc) * grid.kx) ** 2)[:64]
        for k in near:
            if self._clear1(p, grid.point(int(k)), 0.0):
                return int(k)
        return None

    def _centred(self, pts: list[LatLon], clear: NDArray[np.float64]) -> list[LatLon]:
        """A path of grid points (with their clearances ``clear`` [nm]) string-pulled, but
        each leg kept within ``CLEAR_SHARE`` of the clearance of every point it replaces
        (capped at :meth:`_sought`): the legs keep most of the path's clearance (about
        ``1 - CLEAR_SHARE`` of it, up to the margin), not just ``FINE_MARGIN_NM``."""
        lat_ref = float(np.mean([p.lat for p in pts]))
        lon_ref = pts[0].lon
        kx = math.cos(math.radians(lat_ref))
        x = np.array([((p.lon - lon_ref + 180) % 360 - 180) * 60 * kx for p in pts])
        y = np.array([p.lat * 60 for p in pts])
        tol = CLEAR_SHARE * np.minimum(np.asarray(clear, dtype=float), self._sought())

        def fits(i: int, js: NDArray[np.int64]) -> NDArray[np.bool_]:
            out = np.ones(len(js), dtype=bool)
            for n, j in enumerate(js.tolist()):
                if j <= i + 1:
                    continue
                dx, dy = x[j] - x[i], y[j] - y[i]
                ln = math.hypot(dx, dy)
                ks = slice(i + 1, j)
                if ln < 1e-12:
                    dist = np.hypot(x[ks] - x[i], y[ks] - y[i])
                else:
                    t = np.clip(((x[ks] - x[i]) * dx + (y[ks] - y[i]) * dy) / ln**2, 0.0, 1.0)
                    dist = np.hypot(x[ks] - x[i] - t * dx, y[ks] - y[i] - t * dy)
                out[n] = bool(np.all(dist <= tol[ks] + 1e-9))
            return out

        return self._string_pull(pts, margin=min(self.margin_nm, FINE_MARGIN_NM), fits=fits)

    def _fine_path(
        self, start: LatLon, goals: NDArray[np.int64], name: str, half_deg: float = ESCAPE_HALF_DEG
    ) -> tuple[list[LatLon], int]:
        """Shortest 8-connected path (clearance-weighted, :meth:`_grid`) on a fine local grid
        from ``start`` to the nearest of the graph nodes ``goals``; returns the path (start to
        goal) string-pulled by :meth:`_centred`, and the goal."""
        half_lat = half_deg
        half_lon = min(half_deg / max(math.cos(math.radians(start.lat)), 0.1), 179.0)
        d = FINE_CELL_DEG
        lon0 = start.lon - half_lon
        lat0 = max(start.lat - half_lat, -90.0)
        nrows = round((min(start.lat + half_lat, 90.0) - lat0) / d)
        ncols = round(2 * half_lon / d)
        grid = self._grid(lon0, lat0, nrows, ncols, d)
        if not len(grid.fr):
            raise RoutingError(
                f"{name!r} is cut off from the open sea (no water near it)", port=name
            )
        src = self._grid_cell(grid, start)
        if src is None:
            raise RoutingError(f"{name!r} is cut off from the open sea", port=name)
        glat, glon = self._lat[goals], self._lon[goals]
        gr = ((glat - lat0) / d).astype(np.int64)
        gc = (((glon - lon0 + 180) % 360 - 180) / d).astype(np.int64)
        inside = (gr >= 0) & (gr < nrows) & (gc >= 0) & (gc < ncols)
        goals, gr, gc = goals[inside], gr[inside], gc[inside]
        gid = grid.ids[gr, gc]
        goals, gid = goals[gid >= 0], gid[gid >= 0]
        if not len(goals):
            raise RoutingError(f"{name!r} is cut off from the open sea", port=name)
        dist, pred = dijkstra(grid.adj, directed=False, indices=src, return_predecessors=True)
        k = int(np.argmin(dist[gid]))
        if not math.isfinite(float(dist[gid[k]])):
            raise RoutingError(
                f"{name!r} is cut off from the open sea (no passage within "
                f"{half_deg:g} deg found on a {FINE_CELL_DEG * 60 * 1852:.0f} m grid)",
                port=name,
            )
        chain = [int(gid[k])]
        while chain[-1] != src:
            chain.append(int(pred[chain[-1]]))
        chain.reverse()
        goal = int(goals[k])
        pts = [start, *(grid.point(c) for c in chain), self._point(goal, start, start)]
        clear = np.concatenate([[0.0], grid.clear[chain], [grid.clear[chain[-1]]]])
        return self._centred(pts, clear), goal

    def _widen(self, pts: list[LatLon]) -> list[LatLon] | None:
        """A run of legs that keep less than the margin (``pts``, from its first point to its
        last), found again on a local grid round it (clearance-weighted, :meth:`_grid`) and
        string-pulled by :meth:`_centred`: the same water, with the most clearance the grid
        finds. None when the grid finds no better way (or it is much longer, see
        ``WIDEN_EXTRA``)."""
        key = tuple(pts)
        if key in self._widened:
            return self._widened[key]
        out: list[LatLon] | None = None
        lats = np.array([p.lat for p in pts])
        lons = np.array([p.lon for p in pts])
        lons = pts[0].lon + (lons - pts[0].lon + 180) % 360 - 180
        pad = (2 * self.margin_nm + WIDEN_PAD_NM) / 60
        lat0, lat1 = max(lats.min() - pad, LAT_LIMITS[0]), min(lats.max() + pad, LAT_LIMITS[1])
        kx = max(math.cos(math.radians(max(abs(lat0), abs(lat1)))), 0.1)
        lon0, lon1 = lons.min() - pad / kx, lons.max() + pad / kx
        d = FINE_CELL_DEG
        while (lat1 - lat0) * (lon1 - lon0) / d**2 > WIDEN_MAX_CELLS:
            d *= 2
        nrows, ncols = math.ceil((lat1 - lat0) / d), math.ceil((lon1 - lon0) / d)
        old = path_length_nm(pts)
        grid = self._grid(lon0, lat0, nrows, ncols, d)
        a = self._grid_cell(grid, pts[0]) if len(grid.fr) else None
        b = self._grid_cell(grid, pts[-1]) if a is not None else None
        if a is not None and b is not None:
            dist, pred = dijkstra(grid.adj, directed=False, indices=a, return_predecessors=True)
            if math.isfinite(float(dist[b])):
                chain = [b]
                while chain[-1] != a:
                    chain.append(int(pred[chain[-1]]))
                chain.reverse()
                path = [pts[0], *(grid.point(c) for c in chain), pts[-1]]
                clear = np.concatenate([[0.0], grid.clear[chain], [0.0]])
                try:
                    new = self._centred(path, clear)
                except RoutingError:
                    new = None
                if new is not None and path_length_nm(new) <= old * (1 + WIDEN_EXTRA) + (
                    2 * self.margin_nm
                ):
                    out = new
        self._widened[key] = out
        return out

    def _widen_close(self, pts: list[LatLon], close: list[int]) -> list[LatLon]:
        """``pts`` (a string-pulled section) with each run of consecutive legs that keep less
        than the margin (``close``, as :meth:`_string_pull` reports them) replaced by
        :meth:`_widen`'s, where it finds one."""
        if not close or self.margin_nm <= 0:
            return pts
        ok = np.ones(len(pts) - 1, dtype=bool)
        ok[close] = False
        out: list[LatLon] = [pts[0]]
        k = 0
        while k < len(ok):
            if ok[k]:
                out.append(pts[k + 1])
                k += 1
                continue
            j = k
            while j < len(ok) and not ok[j]:
                j += 1
            run = pts[k : j + 1]
            new = self._widen(run)
            out.extend((new if new is not None else run)[1:])
            k = j
        return out

    # -------------------------------------------------------------------- route ends
    def _on_land(self, p: LatLon) -> bool:
        tile = self._tile(int(_tile_index(np.array(p.lon), np.array(p.lat))))
        x, y = tile.fwd.transform(p.lon, p.lat)
        hit = tile.tree.query(shapely.Point(x, y), predicate="intersects")
        return bool(len(hit))

    def _in_forbidden(self, p: LatLon) -> str | None:
        for name, poly in self._forbidden_ll:
            if poly.contains(shapely.Point(p.lon, p.lat)):
                return name
        return None

    def _navigable(self, p: LatLon, name: str) -> LatLon:
        """Where a route end joins the sea.

        * ``p`` itself if it keeps the margin from land (and is outside the forbidden areas);
        * a point at sea closer to land than the margin: the nearest point that keeps the
          margin, if the straight leg to it is land-free, else ``p`` itself;
        * a point on land (or within ``FINE_MARGIN_NM`` of it): the nearest water, at least
          ``FINE_MARGIN_NM`` from land; the fine local grid takes the route out of narrow
          water from there (:meth:`_attach`).

        Raises a RoutingError that says what to do when there is no water within
        ``SNAP_LIMIT_NM``."""
        tile = self._tile(int(_tile_index(np.array(p.lon), np.array(p.lat))))
        x, y = tile.fwd.transform(p.lon, p.lat)
        q = shapely.Point(x, y)
        margin_m = self.margin_nm * M_PER_NM * SCALE_ALLOWANCE
        close = tile.tree.query(q, predicate="dwithin", distance=max(margin_m, 1e-6))
        forb = [poly for _, poly in tile.forbidden]
        in_forbidden = any(f.intersects(q) for f in forb)
        if not len(close) and not in_forbidden:
            return p
        reach = SNAP_LIMIT_NM * M_PER_NM
        near = tile.tree.query(q, predicate="dwithin", distance=reach + margin_m)
        land = shapely.union_all(tile.land[near])
        disc = q.buffer(reach, quad_segs=32)
        fine_m = FINE_MARGIN_NM * M_PER_NM * SCALE_ALLOWANCE
        on_land = bool(len(tile.tree.query(q, predicate="dwithin", distance=fine_m)))
        if not on_land:
            free = disc.difference(shapely.union_all([land.buffer(margin_m + 1.0), *forb]))
            if not free.is_empty:
                m = self._nearest_in(q, free, tile, name)
                if in_forbidden or self._clear1(p, m, 0.0):
                    return m
            if not in_forbidden:
                return p
        self._fallback = None
        wide = disc.difference(shapely.union_all([land.buffer(margin_m + 1.0), *forb]))
        if not wide.is_empty:
            self._fallback = self._nearest_in(q, wide, tile, name)
        free = disc.difference(shapely.union_all([land.buffer(fine_m + 1.0), *forb]))
        if free.is_empty:
            raise RoutingError(
                f"{name!r} ({p.lat:.3f} N, {p.lon:.3f} E) is more than {SNAP_LIMIT_NM:g} nm "
                f"from navigable water: give it an approach point at sea, or move it within "
                f"{SNAP_LIMIT_NM:g} nm of open water",
                port=name,
            )
        return self._nearest_in(q, free, tile, name)

    def _nearest_in(self, q: Any, free: Any, tile: _Tile, name: str) -> LatLon:
        """The point of ``free`` (a region of the tile's gnomonic plane) nearest to ``q``,
        nudged a few metres inside it, as (lat, lon) [deg]."""
        b = np.asarray(shapely.shortest_line(q, free).coords)[1]
        u = b - np.array([q.x, q.y])
        norm = float(np.hypot(*u))
        dirs = [u / norm] if norm > 1e-6 else []
        ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        dirs.extend(np.column_stack([np.cos(ang), np.sin(ang)]))
        for step in (2.0, 10.0, 50.0):
            for d in dirs:
                c = b + step * np.asarray(d)
                if free.contains(shapely.Point(c)):
                    lon, lat = tile.inv.transform(c[0], c[1])
                    return LatLon(float(lat), float(lon))
        raise RoutingError(f"no navigable water found near {name!r}", port=name)

    def _end(self, port: LatLon, name: str, approach: LatLon | None) -> _End:
        """A route end, found once per (port, approach) and kept (see :meth:`_find_end`)."""
        key = (tuple(map(float, port)), None if approach is None else tuple(map(float, approach)))
        end = self._ends.get(key)
        if end is None:
            end = self._find_end(port, name, approach)
            self._ends[key] = replace(end)
        return replace(end, name=name)

    def _find_end(self, port: LatLon, name: str, approach: LatLon | None) -> _End:
        port = LatLon(float(port[0]), float(port[1]))
        for what, pt in (("port point", port), ("approach point", approach)):
            if pt is None:
                continue
            if not (-90 <= pt[0] <= 90 and -180 <= pt[1] <= 180):
                raise RoutingError(
                    f"{what} of {name!r} ({pt[0]}, {pt[1]}) is not a (lat, lon) in degrees",
                    port=name,
                )
        start = port
        if approach is not None:
            approach = LatLon(float(approach[0]), float(approach[1]))
            if self._on_land(approach):
                raise RoutingError(
                    f"approach point of {name!r} ({approach.lat:.3f} N, {approach.lon:.3f} E) "
                    "is on land",
                    port=name,
                )
            area = self._in_forbidden(approach)
            if area is not None:
                raise RoutingError(
                    f"approach point of {name!r} ({approach.lat:.3f} N, {approach.lon:.3f} E) "
                    f"is in forbidden area {area!r}",
                    port=name,
                )
            start = approach
        if not (LAT_LIMITS[0] <= start.lat <= LAT_LIMITS[1]):
            raise RoutingError(
                f"{name!r} ({start.lat:.3f} N) lies beyond the router's latitude limits "
                f"{LAT_LIMITS} (no ice model)",
                port=name,
            )
        self._fallback = None
        nav = self._navigable(start, name)
        fallback = self._fallback
        moved = geodesic_nm(start, nav)
        if moved > SNAP_LIMIT_NM + 1e-6:
            raise RoutingError(
                f"{name!r} is {moved:.1f} nm from navigable water (limit {SNAP_LIMIT_NM:g} nm)",
                port=name,
            )
        if approach is None:
            return _End(name, port, nav, nav, fallback)
        return _End(name, port, approach, nav, fallback)

    def _links(self, p: LatLon, name: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Graph nodes seen from ``p`` (at the margin, else at zero margin) and distances."""
        chord = 2 * math.sin(LINK_RADIUS_NM / EARTH_RADIUS_NM / 2)
        for k, radius in ((LINK_CANDIDATES, chord), (4 * LINK_CANDIDATES, 3 * chord)):
            d, idx = self._kd.query(_unit(np.array([p.lon]), np.array([p.lat]))[0], k=k)
            idx = np.asarray(idx)[np.isfinite(d) & (np.asarray(d) <= radius)]
            if not len(idx):
                continue
            a = np.broadcast_to(np.array([p.lon, p.lat]), (len(idx), 2))
            b = np.column_stack([self._lon[idx], self._lat[idx]])
            for margin in (self.margin_nm, 0.0):
                ok = self._clear(a, b, margin)
                if ok.any():
                    sel = idx[ok].astype(np.int64)
                    w = _haversine_nm(p.lon, p.lat, self._lon[sel], self._lat[sel])
                    return sel, np.maximum(w, 1e-9)
        raise RoutingError(
            f"{name!r} ({p.lat:.3f} N, {p.lon:.3f} E) sees no open water within "
            f"{3 * LINK_RADIUS_NM:g} nm",
            port=name,
        )

    # -------------------------------------------------------------------- routing
    def route(
        self,
        a: LatLon,
        b: LatLon,
        *,
        a_name: str = "a",
        b_name: str = "b",
        a_approach: LatLon | None = None,
        b_approach: LatLon | None = None,
    ) -> GlobalRoute:
        """Shortest land-free sea route found from ``a`` to ``b`` (``(lat, lon)`` [deg]).

        Parameters and errors as :meth:`sim.core.routing.SeaRouter.route`.
        """
        ea = self._end(a, a_name, a_approach)
        eb = self._end(b, b_name, b_approach)
        if ea.port == eb.port and ea.approach == eb.approach:  # a point to itself
            return GlobalRoute(
                (ea.port, eb.port), 0.0, 0.0, (), self.margin_nm, self.method, self.land_version
            )
        self._narrow: list[tuple[int, int]] = []
        sea, passes, spans = self._sea_path(ea, eb)
        head = [ea.port, ea.approach] + ([ea.nav] if ea.nav != ea.approach else [])
        tail = ([eb.nav] if eb.nav != eb.approach else []) + [eb.approach, eb.port]
        waypoints = tuple(head + sea[1:-1] + tail)
        off = len(head) - 1
        pilotage = geodesic_nm(ea.port, ea.approach) + geodesic_nm(eb.approach, eb.port)
        return GlobalRoute(
            waypoints=waypoints,
            length_nm=path_length_nm(waypoints),
            pilotage_nm=pilotage,
            passes=passes,
            margin_nm=self.margin_nm,
            method=self.method,
            land_version=self.land_version,
            passage_legs=tuple((i + off, j + off) for i, j in spans),
            narrow_legs=tuple((i + off, j + off) for i, j in self._narrow),
            snapped=snaps(
                [
                    ("origin", ea.name, a_approach or ea.port, ea.nav),
                    ("destination", eb.name, b_approach or eb.port, eb.nav),
                ]
            ),
            close_legs=self._close_legs(
                waypoints,
                {k for i, j in (*spans, *self._narrow) for k in range(i + off, j + off)},
            ),
        )

    def _close_legs(self, waypoints: Sequence[LatLon], skip: set[int]) -> tuple[int, ...]:
        """Indices of the sea legs (not the first and last, nor ``skip``) that do not keep
        the margin."""
        ks = [
            k
            for k in range(1, len(waypoints) - 2)
            if k not in skip and waypoints[k] != waypoints[k + 1]
        ]
        if not ks:
            return ()
        arr = np.array([[q.lon, q.lat] for q in waypoints])
        ok = self._clear(arr[ks], arr[[k + 1 for k in ks]], self.margin_nm)
        return tuple(k for k, good in zip(ks, ok.tolist(), strict=True) if not good)

    def _sea_path(
        self, ea: _End, eb: _End
    ) -> tuple[list[LatLon], tuple[str, ...], list[tuple[int, int]]]:
        """Waypoints from ``ea.nav`` to ``eb.nav`` (both included), passages, passage spans."""
        if ea.nav == eb.nav:
            return [ea.nav, eb.nav], (), []
        if self._clear1(ea.nav, eb.nav, self.margin_nm):
            return [ea.nav, eb.nav], (), []
        la_idx, la_w, pre = self._attach(ea)
        lb_idx, lb_w, post = self._attach(eb)
        a_pt, b_pt = pre[-1], post[-1]
        src, dst = self._size - 2, self._size - 1
        banned_links: set[tuple[int, int]] = set()
        for _ in range(MAX_REPAIRS):
            keep_a = np.array([(src, i) not in banned_links for i in la_idx.tolist()], dtype=bool)
            keep_b = np.array([(dst, i) not in banned_links for i in lb_idx.tolist()], dtype=bool)
            found = self._astar(
                la_idx[keep_a], la_w[keep_a], lb_idx[keep_b], lb_w[keep_b], a_pt, b_pt
            )
            if found is None:
                raise self._unreachable(ea, eb, la_idx, lb_idx)
            nodes = found
            try:
                main, passes, spans = self._pull(nodes, a_pt, b_pt)
            except _BlockedLeg as exc:
                i, j = exc.edge
                if i in (src, dst) or j in (src, dst):
                    banned_links.add((i, j) if i in (src, dst) else (j, i))
                else:
                    self._ban(i, j)
                continue
            off = len(pre) - 1
            sea = pre[:-1] + main + post[::-1][1:]
            self._narrow = [(0, off)] if off else []
            if len(post) > 1:
                self._narrow.append((len(sea) - len(post), len(sea) - 1))
            return sea, passes, [(i + off, j + off) for i, j in spans]
        raise RoutingError(
            f"no land-free route found from {ea.name!r} to {eb.name!r} after {MAX_REPAIRS} "
            "graph repairs",
            port=eb.name,
        )

    def _astar(
        self,
        la: NDArray[np.int64],
        wa: NDArray[np.float64],
        lb: NDArray[np.int64],
        wb: NDArray[np.float64],
        a: LatLon,
        b: LatLon,
    ) -> list[int] | None:
        """Shortest graph path ``[src, ..., dst]`` from point ``a`` (joined to nodes ``la`` at
        distances ``wa`` [nm]) to ``b`` (nodes ``lb``, ``wb``), or None if there is none.

        A* as Dijkstra on reduced costs: with the potential h(v) = ``ASTAR_WEIGHT`` times the
        great-circle distance from v to ``b`` (a lower bound on every path from v, since the
        edge weights are great-circle lengths on the same sphere, and the passages longer than
        their chords), the edge u-v costs w - h(u) + h(v) >= 0, and scipy's Dijkstra runs
        on those costs with a ``limit``: every node whose reduced distance is within the limit
        is settled exactly, and a path found whose length is within limit + h(src) is
        shortest. The limit starts at ``ASTAR_FIRST_LIMIT`` of the great-circle distance and
        grows until that holds."""
        if not len(la) or not len(lb):
            return None
        src = self._size - 2
        self._nlon[src], self._nlat[src] = a.lon, a.lat
        self._nxyz[src] = _unit(np.array([a.lon]), np.array([a.lat]))[0]
        chord = np.linalg.norm(self._nxyz - _unit(np.array([b.lon]), np.array([b.lat])), axis=1)
        h = (ASTAR_WEIGHT * 2 * EARTH_RADIUS_NM) * np.arcsin(np.minimum(chord / 2, 1.0))
        adj = self._adj
        data = np.maximum(adj.data - h[self._rows] + h[adj.indices], 1e-9)
        data = np.concatenate([data, np.maximum(wa - h[src] + h[la], 1e-9)])
        indices = np.concatenate([adj.indices, la.astype(adj.indices.dtype)])
        indptr = adj.indptr.copy()
        indptr[src + 1 :] += len(la)
        mat = csr_matrix((data, indices, indptr), shape=adj.shape)
        limit = ASTAR_FIRST_LIMIT * float(h[src]) + 50.0
        while True:
            dist, pred = dijkstra(
                mat, directed=True, indices=src, return_predecessors=True, limit=limit
            )
            total = dist[lb] + h[src] - h[lb] + wb
            k = int(np.argmin(total))
            best = float(total[k])
            if math.isfinite(best) and best <= limit + h[src]:
                break
            if not math.isfinite(limit):
                return None
            limit = max(4 * limit, best - float(h[src])) if math.isfinite(best) else 4 * limit
            if limit > 4 * math.pi * EARTH_RADIUS_NM:
                limit = math.inf
        nodes = [self._size - 1, int(lb[k])]
        while nodes[-1] != src:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        return nodes

    def _attach(self, end: _End) -> tuple[NDArray[np.int64], NDArray[np.float64], list[LatLon]]:
        """:meth:`_find_attach`, found once per end and kept (an end's way into the graph does
        not depend on the other end)."""
        key = (end.port, end.approach, end.nav, end.fallback)
        hit = self._attachments.get(key)
        if hit is None:
            idx, w, pts = self._find_attach(end)
            hit = (idx, w, pts, end.approach, end.nav, end.fallback)
            self._attachments[key] = hit
        idx, w, pts, end.approach, end.nav, end.fallback = hit
        return idx, w, list(pts)

    def _find_attach(
        self, end: _End
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], list[LatLon]]:
        """Graph nodes an end is joined to, their distances [nm], and the path from the end's
        navigable point to where it joins (just that point, unless it had to be found on the
        fine local grid because the nodes in sight are cut off from the open sea)."""
        try:
            idx, w = self._links(end.nav, end.name)
        except RoutingError:
            idx, w = np.zeros(0, dtype=np.int64), np.zeros(0)
        if np.any(self._component[idx] == self._main):
            return idx, w, [end.nav]
        error: RoutingError | None = None
        for half in (ESCAPE_HALF_DEG, 2 * ESCAPE_HALF_DEG):
            # A wider window when the first finds no way out (a sound behind islands whose
            # passages the coarse grid closes, e.g. the Strait of Georgia).
            chord = 2 * math.sin(2 * half * 60 / EARTH_RADIUS_NM / 2)
            goals = np.asarray(
                self._kd.query_ball_point(
                    _unit(np.array([end.nav.lon]), np.array([end.nav.lat]))[0], chord
                ),
                dtype=np.int64,
            )
            goals = goals[self._component[goals] == self._main]
            if not len(goals):
                continue
            try:
                pts, goal = self._fine_path(end.nav, goals, end.name, half)
            except RoutingError as exc:
                error = exc
                continue
            return np.array([goal], dtype=np.int64), np.array([path_length_nm(pts)]), pts
        if error is None:
            if not len(idx):
                self._links(end.nav, end.name)  # raises its error: no open water in sight
            return idx, w, [end.nav]  # reported as unreachable by the caller
        if end.fallback is None:
            raise error
        # No way out on the fine grid (an entrance narrower than its cells): join the sea at
        # the nearest water that keeps the margin instead, by a straight pilotage leg.
        if end.approach == end.nav:
            end.approach = end.fallback
        end.nav, end.fallback = end.fallback, None
        return self._attach(end)

    def _point(self, node: int, a: LatLon, b: LatLon) -> LatLon:
        if node == self._size - 2:
            return a
        if node == self._size - 1:
            return b
        if node >= self._n:
            k, side = divmod(node - self._n, 2)
            wps = self.passages[k].waypoints
            return wps[0] if side == 0 else wps[-1]
        return LatLon(float(self._lat[node]), float(self._lon[node]))

    def _pull(
        self, nodes: list[int], a: LatLon, b: LatLon
    ) -> tuple[list[LatLon], tuple[str, ...], list[tuple[int, int]]]:
        """String-pull a graph path section by section (passages are kept as they are)."""
        out: list[LatLon] = []
        passes: list[str] = []
        spans: list[tuple[int, int]] = []
        section: list[int] = [nodes[0]]
        k = 1
        while k < len(nodes):
            u, v = nodes[k - 1], nodes[k]
            if u >= self._n and v >= self._n and u < self._size - 2 and v < self._size - 2:
                # A passage: u and v are its two ends.
                out.extend(self._pull_section(section, a, b)[:-1])
                pk, side = divmod(u - self._n, 2)
                pas = self.passages[pk]
                wps = list(pas.waypoints if side == 0 else reversed(pas.waypoints))
                spans.append((len(out), len(out) + len(wps) - 1))
                out.extend(wps[:-1])
                passes.append(pas.name)
                section = [v]
            else:
                section.append(v)
            k += 1
        out.extend(self._pull_section(section, a, b))
        return out, tuple(passes), spans

    def _pull_section(self, section: list[int], a: LatLon, b: LatLon) -> list[LatLon]:
        close: list[int] = []
        pulled = self._string_pull([self._point(n, a, b) for n in section], section, close=close)
        return self._widen_close(pulled, close)

    def _string_pull(
        self,
        pts: list[LatLon],
        section: list[int] | None = None,
        margin: float | None = None,
        fits: Callable[[int, NDArray[np.int64]], NDArray[np.bool_]] | None = None,
        close: list[int] | None = None,
    ) -> list[LatLon]:
        """Drop waypoints while a single geodesic keeps ``margin`` (default: the router's)
        and, if given, ``fits(i, js)`` allows the jumps from point ``i`` to points ``js``;
        legs between consecutive points must at least be land-free (else ``_BlockedLeg`` for
        graph edges). The indices of the returned legs that do not keep ``margin`` are appended
        to ``close`` if it is given.

        Greedy: from each kept point, jump to the farthest later point it sees. The candidates
        are tested in batches (one vectorised :meth:`_clear` call each): first those at
        distances 1, 2, 4, 8, ... points, then every point between the farthest visible one
        and the next candidate."""
        m = len(pts) - 1
        if m <= 0:
            return pts
        margin = self.margin_nm if margin is None else margin
        arr = np.array([[p.lon, p.lat] for p in pts], dtype=float)

        def clear(i: int, js: NDArray[np.int64]) -> NDArray[np.bool_]:
            ok = np.ones(len(js), dtype=bool) if fits is None else fits(i, js)
            if ok.any():
                sel = np.flatnonzero(ok)
                ok[sel] = self._clear(np.broadcast_to(arr[i], (len(sel), 2)), arr[js[sel]], margin)
            return ok

        # Consecutive legs first, all at once: those that do not keep the margin are kept
        # as they are (if land-free) without testing any longer jump from their start.
        step_ok = self._clear(arr[:-1], arr[1:], margin)
        bad = np.flatnonzero(~step_ok)
        free0 = np.ones(m, dtype=bool)
        if len(bad) and margin > 0:
            free0[bad] = self._clear(arr[bad], arr[bad + 1], 0.0)
        elif len(bad):
            free0[bad] = False
        keep = [0]
        i = 0
        while i < m:
            if not step_ok[i]:
                if not free0[i]:
                    if section is None:
                        raise RoutingError(
                            f"fine path blocked near {pts[i].lat:.3f} N {pts[i].lon:.3f} E",
                            port="?",
                        )
                    raise _BlockedLeg((section[i], section[i + 1]))
                keep.append(i + 1)
                i += 1
                continue
            far = np.unique(np.minimum(i + (1 << np.arange(1, int(m - i).bit_length() + 1)), m))
            far = far[far > i + 1].astype(np.int64)
            steps = np.concatenate([[i + 1], far]).astype(np.int64)
            ok = np.concatenate([[True], clear(i, far)]) if len(far) else np.ones(1, dtype=bool)
            g = int(np.flatnonzero(ok)[-1])
            good = int(steps[g])
            if g + 1 < len(steps):
                between = np.arange(good + 1, int(steps[g + 1]), dtype=np.int64)
                if len(between):
                    okb = clear(i, between)
                    if okb.any():
                        good = int(between[np.flatnonzero(okb)[-1]])
            keep.append(good)
            i = good
        # One more pass: drop any waypoint whose neighbours see each other.
        while len(keep) > 2:
            k = np.asarray(keep)
            ok = self._clear(arr[k[:-2]], arr[k[2:]], margin)
            if fits is not None:
                for n in np.flatnonzero(ok):
                    ok[n] = bool(fits(int(k[n]), k[n + 2 : n + 3])[0])
            if not ok.any():
                break
            drop: set[int] = set()
            for j in np.flatnonzero(ok) + 1:
                if j - 1 not in drop and j + 1 not in drop:
                    drop.add(int(j))
            keep = [v for j, v in enumerate(keep) if j not in drop]
        if close is not None:
            close.extend(
                n
                for n in range(len(keep) - 1)
                if keep[n + 1] == keep[n] + 1 and not step_ok[keep[n]]
            )
        return [pts[j] for j in keep]

    def _unreachable(
        self, ea: _End, eb: _End, la: NDArray[np.int64], lb: NDArray[np.int64]
    ) -> RoutingError:
        sizes = np.bincount(self._component)
        main = int(np.argmax(sizes))
        a_ok = bool(np.any(self._component[la] == main))
        b_ok = bool(np.any(self._component[lb] == main))
        culprit = eb if (a_ok or not b_ok) else ea
        detail = "is cut off from the open sea" if not (a_ok and b_ok) else "cannot be reached"
        return RoutingError(
            f"no sea route from {ea.name!r} to {eb.name!r}: {culprit.name!r} {detail} "
            f"(global router, margin {self.margin_nm:g} nm)",
            port=culprit.name,
        )


# ------------------------------------------------------------------------------------ one call
@cache
def _global_router(
    margin_nm: float, forbidden: tuple[ForbiddenArea, ...], cache_dir: Path | None
) -> GlobalSeaRouter:
    return GlobalSeaRouter(margin_nm=margin_nm, forbidden=forbidden, cache_dir=cache_dir)


@cache
def _regional_router(
    margin_nm: float, forbidden: tuple[ForbiddenArea, ...], cache_dir: Path | None
) -> Any:
    from sim.core.routing import SeaRouter

    return SeaRouter(margin_nm=margin_nm, forbidden=forbidden, cache_dir=cache_dir)


PointLike = str | Sequence[float]
"""A route end: a port of the gazetteer by name (``"NAMPHO"``, ``"Nampo"``), a ``"lat,lon"``
string, or a ``(lat, lon)`` pair [deg], latitude first."""


def _parse_latlon(text: str) -> tuple[float, float] | None:
    parts = text.replace(" ", "").split(",")
    if len(parts) != 2:
        return None
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        return None


def check_latlon(lat: float, lon: float, what: str, name: str) -> LatLon:
    """``(lat, lon)`` as a LatLon, or a one-line RoutingError; a latitude beyond 90 deg whose
    swap would be valid is reported as a likely (lon, lat) swap."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise RoutingError(f"{what} {name!r}: ({lat}, {lon}) is not a finite (lat, lon)", port=name)
    if abs(lat) > 90:
        hint = (
            f"; did you mean ({lon:g}, {lat:g})? Points are (lat, lon), latitude first"
            if abs(lon) <= 90
            else ""
        )
        raise RoutingError(
            f"{what} {name!r}: latitude {lat:g} is outside -90 <= LAT <= 90{hint}", port=name
        )
    if abs(lon) > 180:
        raise RoutingError(
            f"{what} {name!r}: longitude {lon:g} is outside -180 <= LON <= 180", port=name
        )
    return LatLon(float(lat), float(lon))


def resolve_end(
    p: PointLike, what: str, name: str | None = None
) -> tuple[LatLon, LatLon | None, str]:
    """A route end as (point, approach point or None, name).

    A string is a ``"lat,lon"``, a port of the case's gazetteer by id, name or alias
    (case-insensitive, :func:`sim.core.gazetteer.find_port`; it brings its approach point), or
    else a port of the World Port Index by name, UN/LOCODE or ``"Name, Country"``
    (:func:`sim.core.world_ports.find_world_port`; its published position, which the router
    moves to navigable water). A pair is ``(lat, lon)`` [deg]. Raises a one-line RoutingError
    for an unknown name (with the close matches) or an impossible coordinate (with the swap
    it suggests)."""
    from sim.core.gazetteer import UnknownPortError, find_port
    from sim.core.world_ports import UnknownWorldPortError, find_world_port

    if isinstance(p, str):
        pair = _parse_latlon(p)
        if pair is None:
            try:
                port = find_port(p)
            except UnknownPortError as exc:
                try:
                    wp = find_world_port(p)
                except UnknownWorldPortError as exc2:
                    raise RoutingError(f"{what}: {_unknown_port(p, exc, exc2)}", port=p) from None
                return wp.point, None, name or wp.label
            except ValueError as exc:
                raise RoutingError(f"{what}: {exc}", port=p) from None
            return port.point, port.approach, name or port.id
        label = name or p.strip()
        return check_latlon(pair[0], pair[1], what, label), None, label
    try:
        vals = [float(v) for v in p]
    except (TypeError, ValueError):
        raise RoutingError(
            f"{what} must be a port name or a (lat, lon) pair, got {p!r}", port=str(name)
        ) from None
    if len(vals) != 2:
        raise RoutingError(
            f"{what} must be a port name or a (lat, lon) pair, got {p!r}", port=str(name)
        )
    label = name or what
    return check_latlon(vals[0], vals[1], what, label), None, label


def _unknown_port(name: str, case: Exception, world: Any) -> str:
    """One line for a name neither the case's gazetteer nor the World Port Index knows: the
    close names of each, or the countries of a name several world ports share."""
    from sim.core.gazetteer import UnknownPortError, find_port

    if world.ambiguous:
        return str(world)

    def in_gazetteer(port: str) -> bool:  # a world name the gazetteer knows is its port
        try:
            find_port(port)
        except UnknownPortError:
            return False
        return True

    close = list(getattr(case, "close", []))
    close += [c for c in world.close if not in_gazetteer(c) and c.upper() not in close]
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return (
        f"unknown port {name!r}: {hint}(a port of the case's gazetteer or of the World Port "
        "Index, by name, UN/LOCODE or 'Name, Country'; or 'lat,lon', latitude first)"
    )


def _as_latlon(p: Iterable[float] | None, what: str, name: str) -> LatLon | None:
    if p is None:
        return None
    vals = [float(v) for v in p]
    if len(vals) != 2:
        raise ValueError(f"{what} must be a (lat, lon) pair of finite numbers, got {p!r}")
    return check_latlon(vals[0], vals[1], what, name)


def _swap_hint(p: LatLon, margin_nm: float, cache_dir: Path | None) -> str:
    """``"; did you mean (lon, lat)?"`` when the swapped point is a valid point at sea."""
    if abs(p.lon) > 90 or p.lat == p.lon:
        return ""
    swapped = LatLon(p.lon, p.lat)
    if not (LAT_LIMITS[0] <= swapped.lat <= LAT_LIMITS[1]):
        return ""
    router = _global_router(float(margin_nm), (), cache_dir)
    try:
        router._navigable(swapped, "swapped")
    except RoutingError:
        return ""
    return (
        f"; did you mean ({swapped.lat:g}, {swapped.lon:g})? That point is by the sea "
        "(points are (lat, lon), latitude first)"
    )


def _islet_crossings(waypoints: Sequence[LatLon]) -> int:
    """Samples (every 0.25 nm) of the sea legs of a regional route (all but the first and
    last, pilotage) that fall on a GLOBE islet: islets the regional land (Natural Earth alone)
    lacks."""
    if len(waypoints) < 4:
        return 0
    pts = np.array(densify(list(waypoints[1:-1]), 0.25))
    hit = _islet_tree().query(shapely.points(pts[:, 1], pts[:, 0]), predicate="intersects")
    return len(np.unique(hit[0]))


@cache
def _islet_tree() -> shapely.STRtree:
    return shapely.STRtree(_islets())


def _crosses(waypoints: Sequence[LatLon], ring: Sequence[LatLon]) -> bool:
    poly = shapely.Polygon([(q.lon, q.lat) for q in ring])
    line = shapely.LineString([(q.lon, q.lat) for q in waypoints])
    return bool(poly.intersects(line))


def _inside(p: LatLon, ring: Sequence[LatLon]) -> bool:
    return bool(shapely.Polygon([(q.lon, q.lat) for q in ring]).covers(shapely.Point(p.lon, p.lat)))


def route(
    origin: PointLike,
    destination: PointLike,
    *,
    margin_nm: float = 2.0,
    origin_approach: tuple[float, float] | None = None,
    destination_approach: tuple[float, float] | None = None,
    origin_name: str | None = None,
    destination_name: str | None = None,
    forbidden: Sequence[ForbiddenArea] = (),
    method: Literal["auto", "global", "regional"] = "auto",
    cache_dir: Path | None = None,
    rules: bool = True,
) -> GlobalRoute:
    """Sea route between two ports or coastal points anywhere, in one call.

    >>> import sim
    >>> sim.route("VOSTOCHNY", "NAMPHO").distance_nm  # doctest: +SKIP
    990.6

    Parameters
    ----------
    origin, destination : str or (lat, lon)
        A port of the case's gazetteer by id, name or alias, case-insensitive (``"NAMPHO"``,
        ``"Nampo"``; its approach point is used), else a port of the World Port Index by
        name, UN/LOCODE or ``"Name, Country"`` (``"Rotterdam"``, ``"NLRTM"``, ``"Lagos,
        Nigeria"``; :mod:`sim.core.world_ports`), a ``"lat,lon"`` string, or a ``(lat, lon)``
        pair in WGS84 degrees: **latitude first**. A point on land, in a river or behind a
        barrage is moved to the nearest navigable water (at most ``SNAP_LIMIT_NM``); the move
        is counted in the length and reported in ``.snapped``.
    margin_nm : float
        Clearance kept from the coastline on open-sea legs [nm].
    origin_approach, destination_approach : (lat, lon) or None
        Sea-side approach points [deg] (override a port's own); the leg from the port point
        is pilotage.
    origin_name, destination_name : str or None
        Names used in messages (default: the port's id, or the text given).
    forbidden : sequence of ForbiddenArea
        Sea areas no leg may enter (e.g. ``sim.core.routing.JEJU_STRAIT``).
    method : {"auto", "global", "regional"}
        ``"auto"`` uses the regional visibility graph when both ends (and approach points) lie
        in its region (``sim.core.routing.REGION_LON_LAT``) and it can route them, else the
        global router.
    cache_dir : Path or None
        Where route graphs are cached; ``None`` means ``default_cache_dir()``.
    rules : bool
        Check the regional rules the scenarios apply (the Jeju Strait closed to DPRK ships, the
        West Sea Barrage lock) and state in ``.notes`` where this route differs, with the
        distance that keeps them.

    Returns
    -------
    GlobalRoute
        ``.distance_nm``, ``.waypoints`` (``LatLon`` list), ``.snapped``, ``.notes``,
        ``.feature`` / ``.to_geojson()``. A point to itself is 0 nm.

    Raises
    ------
    RoutingError
        One line naming the end that cannot be routed and what to do about it.
    """
    from sim.core.routing import BEHIND_WEST_SEA_BARRAGE, JEJU_STRAIT, in_region

    if method not in ("auto", "global", "regional"):
        raise ValueError(f"method must be 'auto', 'global' or 'regional', got {method!r}")
    a, a_appr, a_name = resolve_end(origin, "origin", origin_name)
    b, b_appr, b_name = resolve_end(destination, "destination", destination_name)
    aa = _as_latlon(origin_approach, "origin_approach", a_name) or a_appr
    ba = _as_latlon(destination_approach, "destination_approach", b_name) or b_appr
    if a == b and aa == ba:  # a point to itself
        return GlobalRoute(
            (a, b), 0.0, 0.0, (), float(margin_nm), "same point", land_version(), notes=()
        )
    pts = [p for p in (a, b, aa, ba) if p is not None]
    use_regional = method == "regional" or (method == "auto" and all(in_region(p) for p in pts))
    key = (float(margin_nm), tuple(forbidden), cache_dir)
    notes: list[str] = []
    r: GlobalRoute | None = None
    if use_regional:
        try:
            rr = _regional_router(*key).route(
                a, b, a_name=a_name, b_name=b_name, a_approach=aa, b_approach=ba
            )
            r = GlobalRoute(
                waypoints=rr.waypoints,
                length_nm=rr.length_nm,
                pilotage_nm=rr.pilotage_nm,
                passes=rr.passes,
                margin_nm=float(margin_nm),
                method="regional visibility graph",
                land_version="Natural Earth 5.1.1 10m, regional clip (land_ne10m.geojson)",
                snapped=rr.snapped,
            )
        except RoutingError as exc:
            if method == "regional":
                raise
            notes.append(f"the regional router could not route it ({exc}); the global one did")
        else:
            if method == "auto" and _islet_crossings(r.waypoints):
                notes.append(
                    f"the regional router's route ({r.distance_nm:,.1f} nm) crosses islets its "
                    "land data lacks; the global router's, which has them, is given"
                )
                r = None
    if r is None:
        try:
            r = _global_router(*key).route(
                a, b, a_name=a_name, b_name=b_name, a_approach=aa, b_approach=ba
            )
        except RoutingError as exc:
            culprit = {a_name: aa or a, b_name: ba or b}.get(exc.port)
            hint = "" if culprit is None else _swap_hint(culprit, margin_nm, cache_dir)
            raise RoutingError(f"{exc}{hint}", port=exc.port) from None
    if rules:
        if JEJU_STRAIT not in forbidden and (
            "Jeju Strait" in r.passes or _crosses(r.waypoints, JEJU_STRAIT.polygon)
        ):
            try:
                alt = route(
                    origin,
                    destination,
                    margin_nm=margin_nm,
                    origin_approach=origin_approach,
                    destination_approach=destination_approach,
                    origin_name=origin_name,
                    destination_name=destination_name,
                    forbidden=(*forbidden, JEJU_STRAIT),
                    method=method,
                    cache_dir=cache_dir,
                    rules=False,
                )
                other = f"{alt.distance_nm:,.1f} nm round Jeju"
            except RoutingError as exc:
                other = f"no route without it ({exc})"
            notes.append(
                "via the Jeju Strait, closed to DPRK-flagged ships; the osc-2024 scenarios "
                f"forbid it (routing.forbid_jeju_strait): {other}"
            )
        for name, p in ((a_name, a), (b_name, b)):
            if _inside(p, BEHIND_WEST_SEA_BARRAGE):
                notes.append(
                    f"{name} lies behind the West Sea Barrage: its pilotage passes the lock, "
                    "which the scenarios count as lock time ([discharge.X] lock), not distance"
                )
    if notes:
        r = GlobalRoute(**{**r.__dict__, "notes": r.notes + tuple(notes)})
    return r
