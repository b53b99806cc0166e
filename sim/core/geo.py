"""Geodesy on the WGS84 ellipsoid, in nautical miles.

All distances in tankersim come from here: ``pyproj.Geod(ellps="WGS84")`` and one conversion
from metres to nautical miles (1 nm = 1852 m). Never measure lon/lat with shapely.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from pyproj import Geod

M_PER_NM: float = 1852.0
"""Metres in one international nautical mile [m/nm]."""

WGS84: Geod = Geod(ellps="WGS84")


class LatLon(NamedTuple):
    """A point in WGS84 decimal degrees (latitude first)."""

    lat: float
    lon: float


def geodesic_nm(a: LatLon, b: LatLon) -> float:
    """Geodesic distance between two points [nm].

    >>> round(geodesic_nm(LatLon(0.0, 0.0), LatLon(0.0, 1.0)), 2)
    60.11
    """
    _, _, dist_m = WGS84.inv(a.lon, a.lat, b.lon, b.lat)
    return float(dist_m) / M_PER_NM


def path_length_nm(points: Sequence[LatLon]) -> float:
    """Length of a polyline of geodesic segments [nm]; 0 for fewer than two points."""
    if len(points) < 2:
        return 0.0
    arr = np.asarray(points, dtype=float)
    _, _, dist_m = WGS84.inv(arr[:-1, 1], arr[:-1, 0], arr[1:, 1], arr[1:, 0])
    return float(np.sum(dist_m)) / M_PER_NM


def densify(points: Sequence[LatLon], step_nm: float) -> list[LatLon]:
    """Points along a geodesic polyline, no further apart than ``step_nm`` [nm].

    The original vertices are kept; intermediate points follow the geodesics.
    """
    if step_nm <= 0:
        raise ValueError(f"step_nm must be positive, got {step_nm}")
    out: list[LatLon] = [LatLon(*points[0])] if points else []
    for a, b in itertools.pairwise(points):
        d_nm = geodesic_nm(LatLon(*a), LatLon(*b))
        n_between = int(np.ceil(d_nm / step_nm)) - 1
        if n_between > 0:
            mids = WGS84.npts(a[1], a[0], b[1], b[0], n_between)
            out.extend(LatLon(lat, lon) for lon, lat in mids)
        out.append(LatLon(*b))
    return out
