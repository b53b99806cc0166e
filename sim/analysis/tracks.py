"""Ship tracks from an event log, in the shape of AIS position reports.

:func:`tracks` samples every ship at a regular interval over the window and places it:

* while sailing, on its leg's waypoints, at the distance it has covered at a constant speed
  (fraction of the passage's time elapsed x the path's geodesic length), found with
  ``pyproj.Geod`` along each geodesic segment (never by planar arithmetic on lon/lat);
* otherwise, at its port's point (a lock counts as being at its port).

Speed over ground is the leg's ``distance_nm`` over the passage's duration; every routing
method makes ``distance_nm`` the geodesic length of the waypoints, so position and speed agree.

Every passage's destination comes from the event log (``sail_start`` records it). One limit of
a log is kept visible rather than guessed over: a passage still under way at the window's end
whose speed was never seen complete (no earlier passage of the same ship in the same condition,
and a class speed that is not fixed) has no known progress. Such samples keep their status but
get NaN ``lat``, ``lon`` and ``sog_kn``.

Every sample also says its leg of the voyage (:data:`LEGS`: a passage, a port call or the idle
turnaround) and the leg's id, so a voyage's trajectory splits by leg; the idle leg can be left
out (``idle=False``, the scenario's ``output.tracks_idle``). With a spread
(``spread_nm``, the scenario's ``output.track_spread_nm``) each passage's track is moved
sideways off its route by a seeded offset that tapers to 0 at both ports and keeps off land
(:func:`spread_draws`, :func:`spread_taper`, :func:`fit_offsets`): a drawing aid that changes
no time, distance or speed.

:func:`tracks_geojson`, :func:`routes_geojson` and :func:`ports_geojson` turn tracks, route
tables and ports into RFC 7946 GeoJSON (``[lon, lat]`` WGS84, one feature per passage, route or
port; lines and points in separate layers), the layout ``geopandas.read_file`` turns into one
row per feature.

Each sample also carries the ship's registry IMO number (when known) and a modelled draught
from the cargo on board (:func:`ship_particulars`, :func:`estimated_draughts_m`), and
:func:`thin_stays` drops the repeated samples of ships standing still.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.core.config import Scenario
from sim.core.geo import M_PER_NM, WGS84, LatLon, densify
from sim.core.registry import registry
from sim.core.routes import Leg, RouteTable
from sim.model.draws import draw_ships
from sim.model.events import activities
from sim.model.prepared import Model, prepare

__all__ = [
    "DRAUGHT_SOURCES",
    "LEGS",
    "NAV_STATUS",
    "SAILING",
    "STATUSES",
    "TRACK_COLUMNS",
    "LegPath",
    "estimated_draughts_m",
    "fit_offsets",
    "iso_utc",
    "legs_from_terminal",
    "on_land",
    "port_role",
    "ports_geojson",
    "routes_geojson",
    "sample_times_h",
    "ship_particulars",
    "spread_draws",
    "spread_taper",
    "thin_stays",
    "tracks",
    "tracks_geojson",
]

log = logging.getLogger(__name__)

STATUSES: tuple[str, ...] = ("laden", "ballast", "in_port", "waiting", "idle")
"""Navigational status of a track sample, in category order."""
SAILING: frozenset[str] = frozenset({"laden", "ballast"})
"""The statuses of a ship at sea."""
LEGS: tuple[str, ...] = ("ballast", "laden", "port", "idle")
"""Kinds of leg of a voyage, in category order: the passages in ballast and laden, a call at a
port (anchored or waiting, mooring, pumping, unmooring, locks) and idle (the turnaround
between voyages, or the wait before a ship's first)."""
TRACK_COLUMNS: tuple[str, ...] = (
    "time_utc",
    "timestamp",
    "t_h",
    "replication",
    "ship",
    "lat",
    "lon",
    "sog_kn",
    "status",
    "place",
    "voyage",
    "trajectory_id",
    "leg",
    "leg_id",
    "cog_deg",
    "heading_deg",
    "nav_status",
    "imo",
    "draught_m",
    "draught_source",
)
"""Columns of :func:`tracks`, in order."""

DRAUGHT_SOURCES: tuple[str, ...] = ("registry", "estimate")
"""Where a track's ``draught_m`` comes from: the registry's sourced draughts, or
:func:`estimated_draughts_m`."""

LADEN_DRAUGHT_M_PER_CBRT_DWT = 6.1 / 3500.0 ** (1.0 / 3.0)
"""ESTIMATE: laden (summer) draught over the cube root of deadweight [m/t^(1/3)], 0.402.
Geometric similarity makes every dimension of a hull grow as the cube root of its
displacement; the coefficient is anchored on one sourced design, a 3,500 dwt product tanker
with a 6.1 m draught (shared reference facts, row 51: an outline specification), so a
3,000 dwt tanker draws about 5.8 m laden."""
LENGTH_M_PER_CBRT_DWT = 79.9 / 3500.0 ** (1.0 / 3.0)
"""ESTIMATE: length over the cube root of deadweight [m/t^(1/3)], 5.26, by the same similarity
and anchored on the same design (79.9 m long at 3,500 dwt); used only for the ballast draught."""

NAV_STATUS: dict[str, int] = {"laden": 0, "ballast": 0, "waiting": 1, "in_port": 5, "idle": 5}
"""AIS navigational status code of each track status (ITU-R M.1371: 0 under way using engine,
1 at anchor, 5 moored)."""

_STATUS_OF_ACTIVITY: dict[str, str] = {
    "anchor": "waiting",
    "wait": "waiting",
    "moor": "in_port",
    "load": "in_port",
    "discharge": "in_port",
    "unmoor": "in_port",
    "lock": "in_port",
    "idle": "idle",
}
_COORD_DECIMALS = 6
"""Decimals of degrees kept in GeoJSON and CSV (RFC 7946's advice; about 0.1 m)."""


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class LegPath:
    """A polyline of geodesic segments, ready for many position look-ups.

    Attributes
    ----------
    lat, lon : ndarray
        Vertices, WGS84 [deg].
    cum_nm : ndarray
        Geodesic length from the first vertex to each vertex [nm].
    azimuth_deg : ndarray
        Forward azimuth at the start of each segment [deg].
    """

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    cum_nm: NDArray[np.float64]
    azimuth_deg: NDArray[np.float64]

    @classmethod
    def from_waypoints(cls, waypoints: tuple[LatLon, ...] | list[LatLon]) -> LegPath:
        """Precompute segment lengths and azimuths of a waypoint list (at least one point)."""
        if not waypoints:
            raise ValueError("a path needs at least one waypoint")
        arr = np.asarray(waypoints, dtype=float).reshape(-1, 2)
        lat, lon = arr[:, 0].copy(), arr[:, 1].copy()
        if len(arr) > 1:
            az, _, seg_m = WGS84.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
            seg_nm = np.asarray(seg_m, dtype=float) / M_PER_NM
            az = np.asarray(az, dtype=float)
        else:
            seg_nm = az = np.zeros(0)
        return cls(lat, lon, np.concatenate([[0.0], np.cumsum(seg_nm)]), az)

    @property
    def length_nm(self) -> float:
        """Geodesic length of the whole path [nm]."""
        return float(self.cum_nm[-1])

    def course(self, s_nm: NDArray[np.float64]) -> NDArray[np.float64]:
        """Course over ground at distances ``s_nm`` along the path: the forward azimuth of the
        segment there, in [0, 360) [deg]; NaN on a path of one point.

        >>> p = LegPath.from_waypoints([LatLon(0.0, 0.0), LatLon(0.0, 1.0), LatLon(1.0, 1.0)])
        >>> [round(float(c), 3) for c in p.course(np.array([0.1, p.cum_nm[1] + 1.0]))]
        [90.0, 0.0]
        """
        s = np.clip(np.asarray(s_nm, dtype=float), 0.0, self.length_nm)
        n_seg = len(self.azimuth_deg)
        if n_seg == 0:
            return np.full(s.shape, np.nan)
        seg = np.clip(np.searchsorted(self.cum_nm, s, side="right") - 1, 0, n_seg - 1)
        return np.mod(self.azimuth_deg[seg], 360.0)

    def position(self, s_nm: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        """Points at distances ``s_nm`` along the path [nm], clipped to the path.

        Returns
        -------
        lat, lon : ndarray
            WGS84 [deg].

        >>> p = LegPath.from_waypoints([LatLon(0.0, 0.0), LatLon(0.0, 1.0), LatLon(1.0, 1.0)])
        >>> lat, lon = p.position(np.array([0.0, p.cum_nm[1] / 2, p.length_nm]))
        >>> [round(float(x), 6) for x in lat], [round(float(x), 6) for x in lon]
        ([0.0, 0.0, 1.0], [0.0, 0.5, 1.0])
        """
        s = np.clip(np.asarray(s_nm, dtype=float), 0.0, self.length_nm)
        n_seg = len(self.azimuth_deg)
        if n_seg == 0:
            return np.full(s.shape, self.lat[0]), np.full(s.shape, self.lon[0])
        # side="right" skips zero-length segments (a port repeated as its own approach).
        seg = np.clip(np.searchsorted(self.cum_nm, s, side="right") - 1, 0, n_seg - 1)
        lon, lat, _ = WGS84.fwd(
            self.lon[seg], self.lat[seg], self.azimuth_deg[seg], (s - self.cum_nm[seg]) * M_PER_NM
        )
        return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)

    def offset(
        self, s_nm: NDArray[np.float64], lateral_nm: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], ...]:
        """Points ``lateral_nm`` to the right of the path (left where negative) at distances
        ``s_nm`` along it [nm], along the geodesic square to the path's local direction.

        The direction is that of the chord from :data:`CHORD_NM` before the point to as far
        after it, so it turns smoothly through the path's corners and the offset points make a
        continuous line.

        Returns
        -------
        lat, lon : ndarray
            WGS84 [deg].

        >>> p = LegPath.from_waypoints([LatLon(0.0, 0.0), LatLon(0.0, 1.0)])
        >>> lat, lon = p.offset(np.array([30.0]), np.array([1.0]))
        >>> round(float(lat[0]) * 60, 1), round(float(lon[0]), 2)  # 1' south of an eastward path
        (-1.0, 0.5)
        """
        lat, lon, right = self.across(s_nm)
        return _shifted(lat, lon, right, lateral_nm)

    def across(self, s_nm: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        """Points at distances ``s_nm`` along the path [nm] and the azimuth square to the
        right of its local direction there [deg] (see :meth:`offset`).

        Returns
        -------
        lat, lon, right_deg : ndarray
        """
        s = np.clip(np.asarray(s_nm, dtype=float), 0.0, self.length_nm)
        lat, lon = self.position(s)
        if self.length_nm <= 0:
            return lat, lon, np.zeros(s.shape)
        lat_a, lon_a = self.position(s - CHORD_NM)
        lat_b, lon_b = self.position(s + CHORD_NM)
        az, _, _ = WGS84.inv(lon_a, lat_a, lon_b, lat_b)
        return lat, lon, np.asarray(az, dtype=float) + 90.0


def _shifted(
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    right_deg: NDArray[np.float64],
    lateral_nm: NDArray[np.float64] | float,
) -> tuple[NDArray[np.float64], ...]:
    """Points moved ``lateral_nm`` along the azimuths ``right_deg`` [deg] (back where
    negative); points not moved stay bit for bit where they are."""
    lateral = np.broadcast_to(np.asarray(lateral_nm, dtype=float), np.shape(lat))
    lon_o, lat_o, _ = WGS84.fwd(lon, lat, right_deg, lateral * M_PER_NM)
    moved = lateral != 0
    return (
        np.where(moved, np.asarray(lat_o, dtype=float), lat),
        np.where(moved, np.asarray(lon_o, dtype=float), lon),
    )


# --------------------------------------------------------------------------- spread

CHORD_NM = 5.0
"""Half the chord whose direction is a path's local direction for :meth:`LegPath.offset` [nm]."""
SPREAD_RAMP_PER_NM = 10.0
"""A spread track reaches its full offset this many times the spread from each port [nm/nm]
(or at the passage's middle, if nearer): it leaves and joins the route at 1 in 10 or less."""
SPREAD_CHECK_NM = 0.25
"""Spacing of the points at which a spread track is checked against land [nm]."""
SPREAD_HALVINGS = 6
"""Times a spread track's offset is halved to keep it off land before it is put on the route."""
_SPREAD_LEVEL = 0xF1
"""Level code of the spread's random numbers (:mod:`sim.core.rng`'s levels are 1-5): an address
no model input uses, so the spread neither changes nor repeats any number the run drew."""


def spread_taper(s_nm: NDArray[np.float64], length_nm: float, spread_nm: float) -> NDArray[Any]:
    """Share of a passage's offset at distances ``s_nm`` along it [nm]: 0 at both ports,
    rising smoothly (smoothstep) to 1 at :data:`SPREAD_RAMP_PER_NM` x ``spread_nm`` from
    the nearer port, or at the middle of a shorter passage.

    >>> spread_taper(np.array([0.0, 10.0, 20.0, 50.0, 100.0]), 100.0, 2.0).tolist()
    [0.0, 0.5, 1.0, 1.0, 0.0]
    """
    s = np.asarray(s_nm, dtype=float)
    ramp = min(length_nm / 2.0, SPREAD_RAMP_PER_NM * spread_nm)
    if ramp <= 0:
        return np.zeros(s.shape)
    x = np.clip(np.minimum(s, length_nm - s) / ramp, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def spread_draws(
    seed: int,
    replication: NDArray[Any],
    ship: NDArray[Any],
    voyage: NDArray[Any],
    passage: NDArray[Any],
    spread_nm: float,
) -> NDArray[np.float64]:
    """Seeded sideways offsets of passages [nm], uniform in +-``spread_nm``.

    Each passage is addressed by its replication, ship id, voyage and its number among the
    voyage's passages, in the counter-based scheme of :mod:`sim.core.rng` under a level of
    its own (:data:`_SPREAD_LEVEL`): the same seed gives the same offsets, whatever else is
    sampled, and no number of the simulation is drawn again or changed.

    >>> a = spread_draws(1, np.array([0, 0]), np.array(["A", "A"]), np.array([0, 0]),
    ...                  np.array([0, 1]), 2.0)
    >>> bool((np.abs(a) <= 2.0).all() and a[0] != a[1])
    True
    """
    from sim.core.rng import entity_key, philox4x32

    n = len(replication)
    if n == 0 or spread_nm <= 0:
        return np.zeros(n)
    entity = np.array([entity_key(str(x)) for x in ship], dtype=np.uint64)
    mask = np.uint64(0xFFFFFFFF)
    c3 = (np.uint64(_SPREAD_LEVEL) << np.uint64(24)) | (
        np.asarray(passage, dtype=np.uint64) & np.uint64(0xFFFFFF)
    )
    words = philox4x32(
        (
            np.asarray(replication, dtype=np.int64).astype(np.uint64) & mask,
            entity & mask,
            np.asarray(voyage, dtype=np.int64).astype(np.uint64) & mask,
            c3,
        ),
        (int(seed) & 0xFFFFFFFF, (int(seed) >> 32) & 0xFFFFFFFF),
    )
    u = (words[0].astype(np.float64) + 0.5) / 4294967296.0
    return (2.0 * u - 1.0) * spread_nm


@lru_cache(maxsize=64)
def _land_near(box: tuple[float, float, float, float]) -> Any:
    """The land in a lon/lat box [deg], prepared for point tests: the routing region's land
    polygon (:func:`sim.core.routing.load_land`) and the global land
    (:func:`sim.core.global_routing.load_global_land`) together, clipped to the box."""
    import shapely

    from sim.core.routing import load_land

    polygons, tree = _global_land()
    near = polygons[tree.query(shapely.box(*box))]
    clipped = shapely.clip_by_rect(np.asarray([load_land(), *near], dtype=object), *box)
    land = shapely.union_all(clipped[~shapely.is_empty(clipped)])
    shapely.prepare(land)
    return land


@lru_cache(maxsize=1)
def _global_land() -> tuple[NDArray[Any], Any]:
    """The global land polygons and a spatial index of them."""
    import shapely

    from sim.core.global_routing import load_global_land

    polygons = np.asarray(load_global_land(), dtype=object)
    return polygons, shapely.STRtree(polygons)


def _box_around(lat: NDArray[np.float64], lon: NDArray[np.float64], pad_nm: float) -> Any:
    """A lon/lat box [deg] around finite points, ``pad_nm`` wider all round, in 0.1 deg steps
    (so that nearby calls share one clipped land)."""
    ok = np.isfinite(lat) & np.isfinite(lon)
    lat, lon = lat[ok], lon[ok]
    pad_lat = pad_nm / 60.0 + 0.01
    pad_lon = pad_lat / max(np.cos(np.radians(min(np.abs(lat).max(), 89.0))), 0.01)
    return (
        max(float(np.floor((lon.min() - pad_lon) * 10) / 10), -180.0),
        max(float(np.floor((lat.min() - pad_lat) * 10) / 10), -90.0),
        min(float(np.ceil((lon.max() + pad_lon) * 10) / 10), 180.0),
        min(float(np.ceil((lat.max() + pad_lat) * 10) / 10), 90.0),
    )


def on_land(
    lat: NDArray[np.float64], lon: NDArray[np.float64], *, land: Any = None
) -> NDArray[np.bool_]:
    """Whether points [deg] lie on land (Natural Earth 10 m: the routing region's polygon and
    the global land); NaN points are not. ``land``: a prepared land geometry that covers the
    points, to test many batches against one."""
    import shapely

    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    out = np.zeros(lat.shape, dtype=bool)
    if not ok.any():
        return out
    if land is None:
        land = _land_near(_box_around(lat, lon, 0.0))
    out[ok] = shapely.intersects_xy(land, lon[ok], lat[ok])
    return out


def fit_offsets(path: LegPath, offsets_nm: NDArray[np.float64], spread_nm: float) -> NDArray[Any]:
    """Passages' offsets [nm], each halved (up to :data:`SPREAD_HALVINGS` times, then 0) until
    its spread track, checked every :data:`SPREAD_CHECK_NM`, reaches no land that the route
    itself does not cross there."""
    out = np.asarray(offsets_nm, dtype=float).copy()
    if not (out != 0).any() or path.length_nm <= 0:
        return out
    n = int(np.ceil(path.length_nm / SPREAD_CHECK_NM)) + 1
    s = np.linspace(0.0, path.length_nm, n)
    w = spread_taper(s, path.length_nm, spread_nm)
    lat0, lon0, right = path.across(s)
    land = _land_near(_box_around(lat0, lon0, 2.0 * spread_nm))
    free = ~on_land(lat0, lon0, land=land) & (w > 0)
    lat0, lon0, right, w = lat0[free], lon0[free], right[free], w[free]
    for k in np.flatnonzero(out):
        d = out[k]
        for _ in range(SPREAD_HALVINGS + 1):
            lat, lon = _shifted(lat0, lon0, right, d * w)
            if not on_land(lat, lon, land=land).any():
                break
            d /= 2.0
        else:
            d = 0.0
        out[k] = d
    return out


# --------------------------------------------------------------------------- ships


def estimated_draughts_m(dwt_t: NDArray[np.float64] | float) -> tuple[NDArray[np.float64], ...]:
    """ESTIMATE of a small tanker's ballast and laden draughts [m] from its deadweight [t].

    Laden: :data:`LADEN_DRAUGHT_M_PER_CBRT_DWT` x dwt^(1/3) (geometric similarity anchored
    on one sourced 3,500 dwt design). Ballast: the mean ballast draught MARPOL's guidance gives for
    segregated-ballast tankers below 150 m, 0.200 + 0.032 L [m] (MARPOL Annex I, Unified
    Interpretations, Appendix 1, Formulation A), with the length L itself estimated as
    :data:`LENGTH_M_PER_CBRT_DWT` x dwt^(1/3); never above the laden draught.

    Returns
    -------
    ballast_m, laden_m : ndarray

    >>> b, l = estimated_draughts_m(np.array([1000.0, 3000.0, 3500.0]))
    >>> [round(float(x), 2) for x in b], [round(float(x), 2) for x in l]
    ([1.88, 2.63, 2.76], [4.02, 5.79, 6.1])
    """
    cbrt = np.cbrt(np.asarray(dwt_t, dtype=float))
    laden = LADEN_DRAUGHT_M_PER_CBRT_DWT * cbrt
    ballast = np.minimum(0.200 + 0.032 * LENGTH_M_PER_CBRT_DWT * cbrt, laden)
    return ballast, laden


def ship_particulars(
    model: Model,
    replications: list[int] | NDArray[np.int64],
    seed: int | None = None,
) -> pd.DataFrame:
    """What the tracks need to know of every ship in each replication of a prepared scenario.

    The ships' sizes are drawn again from the replications' random streams (the same numbers
    the run drew, given its ``seed``; default the scenario's).

    Returns
    -------
    DataFrame
        One row per replication and ship (``replication``, ``ship``), with ``imo`` (the
        registry's IMO number for ships of ``from_registry`` classes the registry knows; <NA>
        otherwise: synthetic class ships have none), ``dwt_t`` (deadweight [t], drawn or from
        the registry; for a ship whose capacity is not given in dwt, its cargo tonnes over
        :data:`sim.core.units.CARGO_DWT_FRACTION`), ``cargo_capacity_t`` (the cargo it lifts by
        weight, at the product mix's mean density for volume-limited ships [t]),
        ``draught_ballast_m`` and ``draught_laden_m`` [m] and ``draught_source``
        (:data:`DRAUGHT_SOURCES`).
    """
    scenario, c = model.scenario, model.compiled
    reps = np.unique(np.asarray(replications, dtype=np.int64))
    sd = draw_ships(c, model.seed if seed is None else seed, reps)
    dwt, _ = sd.dwt_or_estimate(c)
    cap_t = sd.cargo_capacity_t(c)
    ballast, laden = estimated_draughts_m(dwt)
    source = np.full(c.n_ships, "estimate", dtype=object)
    imo: list[int | None] = [None] * c.n_ships
    reg = registry()
    for i, sid in enumerate(c.ship_ids):
        cls = scenario.fleet[c.class_ids[int(c.ship_class[i])]]
        entry = reg.get(sid) if cls.from_registry else None
        if entry is None:
            continue
        imo[i] = entry.imo
        if entry.draught_laden_m is not None and entry.draught_ballast_m is not None:
            ballast[:, i], laden[:, i] = entry.draught_ballast_m, entry.draught_laden_m
            source[i] = "registry"
    R, S = len(reps), c.n_ships
    return pd.DataFrame(
        {
            "replication": np.repeat(reps, S).astype(np.int32),
            "ship": np.tile(np.asarray(c.ship_ids, dtype=object), R),
            "imo": pd.array(imo * R, dtype="Int64"),
            "dwt_t": dwt.reshape(-1),
            "cargo_capacity_t": cap_t.reshape(-1),
            "draught_ballast_m": ballast.reshape(-1),
            "draught_laden_m": laden.reshape(-1),
            "draught_source": pd.Categorical(np.tile(source, R), list(DRAUGHT_SOURCES)),
        }
    )


# --------------------------------------------------------------------------- tracks


def sample_times_h(window_h: float, interval_h: float) -> NDArray[np.float64]:
    """Sample times from 0 to the window's end, every ``interval_h`` [h].

    There are ``floor(window_h / interval_h) + 1`` of them.

    >>> sample_times_h(10.0, 4.0).tolist()
    [0.0, 4.0, 8.0]
    """
    if not (interval_h > 0 and math.isfinite(interval_h)):
        from sim.core.errors import OptionError

        raise OptionError("interval_h", interval_h, "must be a positive, finite number of hours")
    # The tolerance keeps 480 h / 0.1 h from losing its last sample to rounding.
    n = int(np.floor(window_h / interval_h + 1e-9)) + 1
    return np.arange(n, dtype=np.float64) * interval_h


def _port_of_place(scenario: Scenario) -> dict[str, str]:
    """Port id of every place of the event log (a lock is at its port)."""
    out = {scenario.terminal.port: scenario.terminal.port}
    for pid, d in scenario.discharge.items():
        out[pid] = pid
        if d.lock is not None:
            out[f"{pid} {d.lock.name}"] = pid
    return out


def _sail_info(
    act: pd.DataFrame,
    scenario: Scenario,
    routes: RouteTable,
    place_names: list[str],
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Arrival port code and, for open passages, speed of every row of ``act``.

    ``act`` is sorted by replication, ship and start, with ``place`` mapped to port ids; its
    ``destination`` column is the one the log recorded for every passage.

    Returns
    -------
    dest : ndarray of int
        Code (index into ``place_names``) of the arrival port of each passage; -1 for rows that
        are not passages.
    speed_kn : ndarray of float
        Speed of each open passage [kn]; NaN elsewhere and when the log cannot tell.
    """
    code = {p: i for i, p in enumerate(place_names)}
    n = len(act)
    rep = act["replication"].to_numpy()
    ship = act["ship"].to_numpy(dtype=object)
    is_sail = act["activity"].to_numpy(dtype=object) == "sail"
    is_open = act["open"].to_numpy(dtype=bool)
    laden = act["cargo_bbl"].to_numpy() > 0
    origin = act["place"].to_numpy(dtype=object)
    duration_h = act["duration_h"].to_numpy()
    dest = np.full(n, -1, dtype=np.int64)
    logged = act["destination"].astype(str).to_numpy(dtype=object)
    sail_rows = np.flatnonzero(is_sail)
    dest[sail_rows] = [code.get(d, -1) for d in logged[sail_rows]]
    # A ship's speed is drawn once per condition (laden, ballast): any complete passage in the
    # same condition gives the speed of an open one.
    speed_kn = np.full(n, np.nan)
    seen: dict[tuple[Any, Any, bool], float] = {}
    for row in sail_rows[~is_open[sail_rows] & (dest[sail_rows] >= 0)]:
        leg = routes.legs[(origin[row], place_names[dest[row]])]
        seen.setdefault((rep[row], ship[row], bool(laden[row])), leg.distance_nm / duration_h[row])
    ship_class = (
        dict(zip(act["ship"], act["ship_class"], strict=True)) if "ship_class" in act else {}
    )
    for row in sail_rows[is_open[sail_rows]]:
        key = (rep[row], ship[row], bool(laden[row]))
        if key in seen:
            speed_kn[row] = seen[key]
            continue
        cls = scenario.fleet.get(str(ship_class.get(ship[row], "")))
        if cls is not None:
            dist = cls.speed_laden_kn if laden[row] else cls.speed_ballast_kn
            if dist.is_fixed:
                speed_kn[row] = dist.mean
    return dest, speed_kn


def _activity_legs(
    act: pd.DataFrame,
    sail: NDArray[np.bool_],
    laden: NDArray[np.bool_],
    place: NDArray[np.int64],
    dest: NDArray[np.int64],
) -> tuple[NDArray[np.int8], NDArray[np.int32], NDArray[np.int32]]:
    """The leg of every activity of ``act`` (sorted by replication, ship and start).

    A voyage's legs are numbered from 0 in order; a new leg starts with the voyage, with
    every passage, and wherever the kind of leg (:data:`LEGS`) or the port changes, so the
    anchorage, berth and locks of one call make one ``port`` leg. A closed passage that no
    activity follows at once leaves its ship in port at its destination: that stay is a
    ``port`` leg of its own, numbered next.

    Returns
    -------
    leg : ndarray of int8
        Code of each activity's kind of leg (index into :data:`LEGS`).
    leg_no : ndarray of int32
        Its leg's number in the voyage.
    gap_leg_no : ndarray of int32
        For a passage followed by a stay in port, that stay's leg number; -1 elsewhere.
    """
    n = len(act)
    code = {k: i for i, k in enumerate(LEGS)}
    activity = act["activity"].to_numpy(dtype=object)
    kind = np.where(
        sail,
        np.where(laden, code["laden"], code["ballast"]),
        np.where(activity == "idle", code["idle"], code["port"]),
    ).astype(np.int8)
    if n == 0:
        empty = np.zeros(0, dtype=np.int32)
        return kind, empty, empty
    rep = act["replication"].to_numpy()
    ship = act["ship"].to_numpy(dtype=object)
    voyage = act["voyage"].to_numpy()
    start, end = act["start_h"].to_numpy(), act["end_h"].to_numpy()
    same_ship = np.r_[(rep[1:] == rep[:-1]) & (ship[1:] == ship[:-1]), False]
    gap = sail & ~act["open"].to_numpy(dtype=bool) & (~same_ship | (np.r_[start[1:], 0.0] > end))
    # Each activity, with a stay in port after each passage that has a gap after it.
    pos = np.arange(n) + np.r_[0, np.cumsum(gap)[:-1]]
    after = pos[gap] + 1
    m = n + int(gap.sum())
    e_kind = np.empty(m, dtype=np.int8)
    e_place = np.empty(m, dtype=np.int64)
    e_sail = np.zeros(m, dtype=bool)
    e_rep = np.empty(m, dtype=rep.dtype)
    e_ship = np.empty(m, dtype=object)
    e_voyage = np.empty(m, dtype=voyage.dtype)
    e_kind[pos], e_place[pos], e_sail[pos] = kind, place, sail
    e_kind[after], e_place[after] = code["port"], dest[gap]
    e_rep[pos], e_ship[pos], e_voyage[pos] = rep, ship, voyage
    e_rep[after], e_ship[after], e_voyage[after] = rep[gap], ship[gap], voyage[gap]
    first = np.r_[
        True,
        (e_rep[1:] != e_rep[:-1]) | (e_ship[1:] != e_ship[:-1]) | (e_voyage[1:] != e_voyage[:-1]),
    ]
    new = first | e_sail | np.r_[True, (e_kind[1:] != e_kind[:-1]) | (e_place[1:] != e_place[:-1])]
    count = np.cumsum(new)
    leg_no = (count - count[np.flatnonzero(first)][np.cumsum(first) - 1]).astype(np.int32)
    gap_leg_no = np.full(n, -1, dtype=np.int32)
    gap_leg_no[gap] = leg_no[after]
    return kind, leg_no[pos], gap_leg_no


def tracks(
    events: pd.DataFrame,
    scenario: Scenario,
    routes: RouteTable,
    interval_h: float = 1.0,
    *,
    seed: int | None = None,
    thin_idle: bool = False,
    idle_interval_h: float | None = None,
    idle: bool | None = None,
    spread_nm: float | None = None,
) -> pd.DataFrame:
    """Regularly sampled positions of every ship, like an AIS feed.

    Parameters
    ----------
    events
        An event log (:mod:`sim.model.events`), one or more replications.
    scenario
        The scenario that produced it (ports, window, fleet).
    routes
        Its route table: the legs' waypoints and distances.
    interval_h
        Time between samples [h]; samples run from 0 to the window's end inclusive,
        ``floor(window_h / interval_h) + 1`` per ship and replication.
    seed
        The seed of the run that wrote ``events`` (default: the scenario's): the ships' sizes,
        which give their draughts, are drawn again from it (:func:`ship_particulars`).
    thin_idle
        Keep only the first and last sample of each stay in port or at anchor
        (:func:`thin_stays`); samples at sea are all kept.
    idle_interval_h
        With thinning, also keep one sample every ``idle_interval_h`` hours of a stay [h];
        giving it turns thinning on.
    idle
        Keep the samples of the ``idle`` leg (the turnaround between voyages, and the wait
        before a ship's first); default the scenario's ``output.tracks_idle``.
    spread_nm
        Largest sideways offset of a passage's track from its route [nm]; default the
        scenario's ``output.track_spread_nm``. Each passage gets its own offset, uniform in
        +-``spread_nm`` (:func:`spread_draws`, from ``seed``), which tapers to 0 at both ports
        (:func:`spread_taper`) and is halved until the track reaches no land the route does
        not (:func:`fit_offsets`). Only ``lat`` and ``lon`` move: ``t_h``, ``sog_kn`` (the
        route's distance over the passage's time) and ``cog_deg`` (the route's course) are
        the route's.

    Returns
    -------
    DataFrame
        One row per replication, ship and sample time, sorted in that order, with columns
        ``time_utc`` (datetime64[ns, UTC]), ``timestamp`` (the same instant as a naive UTC
        datetime64[ns], the form MovingPandas takes without a warning), ``t_h`` [h],
        ``replication``, ``ship``, ``lat``, ``lon`` (WGS84 [deg]), ``sog_kn`` (speed over
        ground: leg distance / passage time while sailing, 0 otherwise [kn]), ``status`` (one
        of :data:`STATUSES`; ``laden`` is a passage with cargo on board; anchoring and waiting
        for a berth or a lock are ``waiting``; mooring, pumping, unmooring and lock transits
        are ``in_port``), ``place`` (port id when not sailing, "" at sea; a lock is at its
        port), ``voyage``, and the AIS-style ``trajectory_id``
        (``r<replication>-<ship>-v<voyage>``: unique per ship voyage, the id MovingPandas
        wants), ``leg`` (one of :data:`LEGS`) and ``leg_id`` (``<trajectory_id>-l<n>``, the
        voyage's n-th leg from 0: unique per leg, to split a voyage's trajectory by leg),
        ``cog_deg`` (course over ground at sea: the route segment's forward azimuth [deg], NaN
        in port), ``heading_deg`` (modelled equal to the course), ``nav_status`` (the AIS
        code, :data:`NAV_STATUS`: 0 under way, 1 at anchor, 5 moored), ``imo`` (nullable
        integer: the registry's IMO number, <NA> for ships it does not know),
        ``draught_m`` (modelled draught [m]: linear between the ship's ballast and laden
        draughts in the cargo tonnes on board over the cargo it can lift; rising while it
        loads, falling while it discharges; NaN inside pumping cut by the window's end) and
        ``draught_source`` (:data:`DRAUGHT_SOURCES`).

        A sample taken at the instant a passage starts is at sea, at the origin's point; one
        taken at the instant it ends is in port. Positions and speeds that the log cannot give
        (see the module docstring) are NaN.
    """
    t_h = sample_times_h(scenario.window.hours, interval_h)
    port_of = _port_of_place(scenario)
    place_names = ["", *sorted(set(port_of.values()))]
    code = {p: i for i, p in enumerate(place_names)}

    act = activities(events, scenario.window.hours)
    act["ship"] = act["ship"].astype(str).astype(object)
    classes = dict(zip(events["ship"].astype(str), events["ship_class"].astype(str), strict=True))
    act["ship_class"] = act["ship"].map(classes)
    places = act["place"].astype(str)
    unknown = sorted(set(places) - set(port_of))
    if unknown:
        raise ValueError(f"places not in the scenario: {unknown}")
    act["place"] = places.map(port_of).astype(object)
    act = act.sort_values(["replication", "ship", "start_h"], kind="stable").reset_index(drop=True)
    act["destination"] = act["destination"].astype(str).map(lambda p: port_of.get(p, p))
    a_dest, a_speed = _sail_info(act, scenario, routes, place_names)
    a_sail = act["activity"].to_numpy(dtype=object) == "sail"
    a_laden = act["cargo_bbl"].to_numpy() > 0
    a_status = act["activity"].map(_STATUS_OF_ACTIVITY).fillna("").to_numpy(dtype=object)
    a_status[a_sail] = np.where(a_laden[a_sail], "laden", "ballast")
    s_code = {s: i for i, s in enumerate(STATUSES)}
    a_status_code = np.array([s_code[s] for s in a_status], dtype=np.int8)
    a_place = act["place"].map(code).to_numpy(dtype=np.int64)
    a_start = act["start_h"].to_numpy()
    a_end = act["end_h"].to_numpy()
    a_open = act["open"].to_numpy(dtype=bool)
    a_leg, a_leg_no, a_gap_leg_no = _activity_legs(act, a_sail, a_laden, a_place, a_dest)
    keep_idle = scenario.output.tracks_idle if idle is None else idle
    spread = scenario.output.track_spread_nm if spread_nm is None else float(spread_nm)
    if not (np.isfinite(spread) and spread >= 0):
        raise ValueError(f"spread_nm must be a finite number >= 0, got {spread_nm}")
    a_offset = np.zeros(len(act))
    if spread > 0 and a_sail.any():
        sails = act[a_sail]
        passage = sails.groupby(["replication", "ship", "voyage"], sort=False).cumcount()
        a_offset[a_sail] = spread_draws(
            scenario.seed if seed is None else seed,
            sails["replication"].to_numpy(),
            sails["ship"].to_numpy(dtype=object),
            sails["voyage"].to_numpy(),
            passage.to_numpy(),
            spread,
        )

    # Which activity each sample falls in: the last to start at or before it.
    groups = sorted(act.groupby(["replication", "ship"], sort=False).indices.items())
    ship_names = sorted({ship for (_, ship), _ in groups})
    n_t = len(t_h)
    rows, reps, ships = [], [], []
    for (rep, ship), idx in groups:
        pos = np.searchsorted(a_start[idx], t_h, side="right") - 1
        rows.append(np.where(pos >= 0, idx[np.maximum(pos, 0)], -1 - idx[0]))
        reps.append(np.full(n_t, rep, dtype=np.int32))
        ships.append(np.full(n_t, ship_names.index(ship), dtype=np.int32))
    if not groups:
        empty, nothing = np.zeros(0, dtype=np.int64), np.zeros(0)
        return _frame(
            scenario, nothing, empty, empty, [], nothing, nothing, nothing, empty, empty, empty,
            cog=nothing, imo=np.zeros(0, dtype=object), draught=nothing, draught_source=empty,
            leg=empty, leg_no=empty,
        )  # fmt: skip
    row = np.concatenate(rows)
    before = row < 0  # before the ship's first activity: idle where that activity starts
    j = np.where(before, -1 - row, row)
    t = np.tile(t_h, len(groups))

    status = np.where(before, s_code["idle"], a_status_code[j]).astype(np.int8)
    place = a_place[j]
    voyage = np.where(before, -1, act["voyage"].to_numpy()[j]).astype(np.int32)
    sail = a_sail[j] & ~before
    dest = a_dest[j]
    start_h, end_h = a_start[j], a_end[j]
    # A closed passage sampled after its end (a gap in the log): the ship is in port there.
    arrived = sail & ~a_open[j] & (t >= end_h)
    place[arrived] = dest[arrived]
    status[arrived] = s_code["in_port"]
    at_sea = sail & ~arrived
    leg_code = np.where(before, LEGS.index("idle"), a_leg[j]).astype(np.int8)
    leg_no = np.where(before, 0, a_leg_no[j]).astype(np.int32)
    leg_code[arrived] = LEGS.index("port")
    leg_no[arrived] = a_gap_leg_no[j[arrived]]

    lat = np.full(len(t), np.nan)
    lon = np.full(len(t), np.nan)
    sog = np.zeros(len(t))
    cog = np.full(len(t), np.nan)
    lut_lat = np.full(len(place_names), np.nan)
    lut_lon = np.full(len(place_names), np.nan)
    for pid in place_names[1:]:
        pt = scenario.port(pid).point
        lut_lat[code[pid]], lut_lon[code[pid]] = pt.lat, pt.lon
    lat[~at_sea], lon[~at_sea] = lut_lat[place[~at_sea]], lut_lon[place[~at_sea]]

    for (origin, destination), leg in routes.legs.items():
        if origin not in code or destination not in code:
            continue
        m = at_sea & (place == code[origin]) & (dest == code[destination])
        if not m.any():
            continue
        duration_h = np.where(a_open[j[m]], leg.distance_nm / a_speed[j[m]], end_h[m] - start_h[m])
        path = LegPath.from_waypoints(leg.waypoints)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.clip((t[m] - start_h[m]) / duration_h, 0.0, 1.0)
            sog[m] = leg.distance_nm / duration_h
        ok = np.isfinite(frac)
        s_nm = np.where(ok, frac, 0.0) * path.length_nm
        if spread > 0:
            passages = np.unique(j[m])
            a_offset[passages] = fit_offsets(path, a_offset[passages], spread)
            lateral = a_offset[j[m]] * spread_taper(s_nm, path.length_nm, spread)
            la, lo = path.offset(s_nm, lateral)
        else:
            la, lo = path.position(s_nm)
        lat[m] = np.where(ok, la, np.nan)
        lon[m] = np.where(ok, lo, np.nan)
        cog[m] = np.where(ok, path.course(s_nm), np.nan)
    unplaced = at_sea & ~np.isfinite(lat)
    sog[unplaced] = np.nan
    if unplaced.any():
        log.info(
            "%d of %d track samples at sea have no known position (passages open at the "
            "window's end with an unknown speed)",
            int(unplaced.sum()),
            len(t),
        )
    place[at_sea] = code[""]

    # Cargo on board [bbl] at each sample: the activity's parcel, growing through a loading
    # and shrinking through a discharge (unknown inside pumping cut by the window's end).
    a_act = act["activity"].to_numpy(dtype=object)
    a_cargo = act["cargo_bbl"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.clip((t - start_h) / (end_h - start_h), 0.0, 1.0)
    frac = np.where(end_h > start_h, frac, 1.0)
    cargo = a_cargo[j].copy()
    pumping = np.isin(a_act[j], ("load", "discharge")) & ~before
    cargo = np.where(pumping & (a_act[j] == "load"), cargo * frac, cargo)
    cargo = np.where(pumping & (a_act[j] == "discharge"), cargo * (1.0 - frac), cargo)
    cargo[pumping & a_open[j]] = np.nan
    cargo[before] = 0.0
    bpt = _bbl_per_t_of(events, act, scenario)[j]
    cargo_t = np.where(cargo > 0, cargo / bpt, np.where(np.isnan(cargo), np.nan, 0.0))

    rep_all, ship_all = np.concatenate(reps), np.concatenate(ships)
    model = prepare(scenario, routes=routes)
    parts = ship_particulars(model, np.unique(rep_all), seed=seed)
    key = pd.MultiIndex.from_arrays([parts["replication"], parts["ship"]])
    at = key.get_indexer(pd.MultiIndex.from_arrays([rep_all, np.asarray(ship_names)[ship_all]]))
    if (at < 0).any():  # pragma: no cover - the log's ships are the scenario's
        raise ValueError("ships in the event log that the scenario does not have")
    ballast = parts["draught_ballast_m"].to_numpy()[at]
    laden = parts["draught_laden_m"].to_numpy()[at]
    share = np.clip(cargo_t / parts["cargo_capacity_t"].to_numpy()[at], 0.0, 1.0)
    out = _frame(
        scenario,
        t,
        rep_all,
        ship_all,
        ship_names,
        lat,
        lon,
        sog,
        status,
        place,
        voyage,
        place_names,
        cog=cog,
        imo=parts["imo"].to_numpy()[at],
        draught=ballast + (laden - ballast) * share,
        draught_source=parts["draught_source"].cat.codes.to_numpy()[at],
        leg=leg_code,
        leg_no=leg_no,
    )
    if not keep_idle:
        out = out[out["leg"] != "idle"].reset_index(drop=True)
    if thin_idle or idle_interval_h is not None:
        out = thin_stays(out, idle_interval_h)
    return out


def _bbl_per_t_of(events: pd.DataFrame, act: pd.DataFrame, scenario: Scenario) -> NDArray[Any]:
    """Barrels per tonne of the parcel of every activity of ``act`` [bbl/t] (NaN in ballast):
    the product the log records for the ship's voyage."""
    product = events["product"].astype(str).to_numpy(dtype=object)
    has = product != ""
    ev = pd.DataFrame(
        {
            "replication": events["replication"].to_numpy()[has],
            "ship": events["ship"].astype(str).to_numpy(dtype=object)[has],
            "voyage": events["voyage"].to_numpy()[has],
            "bpt": pd.Series(product[has]).map(scenario.bbl_per_t).to_numpy(dtype=float),
        }
    )
    first = ev.drop_duplicates(["replication", "ship", "voyage"]).set_index(
        ["replication", "ship", "voyage"]
    )["bpt"]
    idx = pd.MultiIndex.from_arrays([act["replication"], act["ship"].astype(str), act["voyage"]])
    return np.asarray(first.reindex(idx).to_numpy(dtype=float))


def thin_stays(tracks_df: pd.DataFrame, interval_h: float | None = None) -> pd.DataFrame:
    """Tracks without the repeated samples of ships standing still.

    A *stay* is a run of consecutive samples of one ship, not at sea, with the same status,
    place, voyage and (where given) ``leg_id`` (so a ship that anchors, then moors, then idles
    makes three stays, and every change of its AIS navigational status or leg is kept). Of
    each stay only the first and the last sample are kept, and with ``interval_h`` one sample
    every ``interval_h`` hours of it [h] (the first of each such interval from the stay's
    start). Samples at sea are all kept, so every trajectory keeps its passages and its ends.

    >>> df = pd.DataFrame({"replication": 0, "ship": "A", "t_h": np.arange(6.0),
    ...     "status": ["idle"] * 5 + ["ballast"], "place": ["P"] * 5 + [""], "voyage": 0})
    >>> thin_stays(df)["t_h"].tolist(), thin_stays(df, 2.0)["t_h"].tolist()
    ([0.0, 4.0, 5.0], [0.0, 2.0, 4.0, 5.0])
    """
    if interval_h is not None and not interval_h > 0:
        raise ValueError(f"interval_h must be positive, got {interval_h}")
    df = tracks_df.sort_values(["replication", "ship", "t_h"], kind="stable")
    if df.empty:
        return df.reset_index(drop=True)
    rep = df["replication"].to_numpy()
    ship = df["ship"].astype(str).to_numpy(dtype=object)
    status = df["status"].astype(str).to_numpy(dtype=object)
    place = df["place"].astype(str).to_numpy(dtype=object)
    voyage = df["voyage"].to_numpy()
    t = df["t_h"].to_numpy(dtype=float)
    still = ~np.isin(status, list(SAILING))
    changed = np.r_[
        True,
        (rep[1:] != rep[:-1])
        | (ship[1:] != ship[:-1])
        | (status[1:] != status[:-1])
        | (place[1:] != place[:-1])
        | (voyage[1:] != voyage[:-1]),
    ]
    if "leg_id" in df:
        leg_id = df["leg_id"].astype(str).to_numpy(dtype=object)
        changed[1:] |= leg_id[1:] != leg_id[:-1]
    first = changed
    last = np.r_[changed[1:], True]
    keep = ~still | first | last
    if interval_h is not None:
        run = np.cumsum(changed) - 1
        t0 = t[first][run]
        step = np.floor((t - t0) / interval_h + 1e-9)
        keep |= still & np.r_[True, (step[1:] != step[:-1]) | changed[1:]]
    return df[keep].reset_index(drop=True)


def _frame(
    scenario: Scenario,
    t: NDArray[Any],
    rep: NDArray[Any],
    ship_code: NDArray[Any],
    ship_names: list[str],
    lat: NDArray[Any],
    lon: NDArray[Any],
    sog: NDArray[Any],
    status_code: NDArray[Any],
    place_code: NDArray[Any],
    voyage: NDArray[Any],
    place_names: list[str] | None = None,
    *,
    cog: NDArray[Any],
    imo: NDArray[Any],
    draught: NDArray[Any],
    draught_source: NDArray[Any],
    leg: NDArray[Any],
    leg_no: NDArray[Any],
) -> pd.DataFrame:
    t0 = pd.Timestamp(scenario.window.start, tz="UTC")
    if place_names is None:
        place_names = ["", *sorted(set(_port_of_place(scenario).values()))]
    time_utc = t0 + pd.to_timedelta(np.asarray(t, dtype=np.float64), unit="h")
    status_code = np.asarray(status_code, dtype=int)
    nav = np.array([NAV_STATUS[s] for s in STATUSES], dtype=np.int8)[status_code]
    names = np.asarray(ship_names, dtype=object)[np.asarray(ship_code, dtype=int)]
    trajectory = [
        f"r{r}-{n}-v{v}"
        for r, n, v in zip(np.asarray(rep).tolist(), names.tolist(), np.asarray(voyage).tolist(),
                           strict=True)
    ]  # fmt: skip
    leg_id = [f"{tr}-l{n}" for tr, n in zip(trajectory, np.asarray(leg_no).tolist(), strict=True)]
    cog = np.asarray(cog, dtype=np.float64)
    return pd.DataFrame(
        {
            "time_utc": time_utc.astype("datetime64[ns, UTC]"),
            "timestamp": time_utc.tz_convert(None).astype("datetime64[ns]"),
            "t_h": np.asarray(t, dtype=np.float64),
            "replication": np.asarray(rep, dtype=np.int32),
            "ship": pd.Categorical.from_codes(np.asarray(ship_code, dtype=int), ship_names),
            "lat": np.asarray(lat, dtype=np.float64),
            "lon": np.asarray(lon, dtype=np.float64),
            "sog_kn": np.asarray(sog, dtype=np.float64),
            "status": pd.Categorical.from_codes(np.asarray(status_code, dtype=int), list(STATUSES)),
            "place": pd.Categorical.from_codes(np.asarray(place_code, dtype=int), place_names),
            "voyage": np.asarray(voyage, dtype=np.int32),
            "trajectory_id": trajectory,
            "leg": pd.Categorical.from_codes(np.asarray(leg, dtype=int), list(LEGS)),
            "leg_id": leg_id,
            "cog_deg": cog,
            "heading_deg": cog.copy(),  # modelled: the ship points where it goes
            "nav_status": nav,
            "imo": pd.array(np.asarray(imo, dtype=object), dtype="Int64"),
            "draught_m": np.asarray(draught, dtype=np.float64),
            "draught_source": pd.Categorical.from_codes(
                np.asarray(draught_source, dtype=int), list(DRAUGHT_SOURCES)
            ),
        },
        columns=list(TRACK_COLUMNS),
    )


# --------------------------------------------------------------------------- GeoJSON


def iso_utc(times: pd.Series | pd.DatetimeIndex) -> list[str]:
    """ISO 8601 UTC strings with a ``Z`` suffix, to the second."""
    return list(pd.DatetimeIndex(times).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"))


def _coords(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> list[list[float]]:
    """GeoJSON positions, ``[lon, lat]`` [deg], rounded to :data:`_COORD_DECIMALS`."""
    xy = np.round(np.column_stack([lon, lat]), _COORD_DECIMALS)
    return [[float(x), float(y)] for x, y in xy]


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _imo_of(g: pd.DataFrame) -> int | None:
    """The IMO number of one ship's samples, or None."""
    if "imo" not in g or g["imo"].isna().all():
        return None
    return int(g["imo"].dropna().iloc[0])


def tracks_geojson(tracks_df: pd.DataFrame, *, points: bool = False) -> dict[str, Any]:
    """Tracks as an RFC 7946 GeoJSON FeatureCollection.

    By default there is one ``LineString`` per ship and passage (a run of consecutive ``laden``
    or ``ballast`` samples of one voyage). Each line starts at the last fix in port before the
    passage and ends at the first fix in port after it, so it joins the two ports (a port fix
    more than one sampling interval away, as when the idle leg is left out, is not joined);
    samples with no known position are left out. Properties: ``replication``, ``ship``, ``voyage``,
    ``trajectory_id`` (the voyage's, as in :func:`tracks`), ``leg_id`` (the passage's, as in
    :func:`tracks`; ``null`` for tracks without one), ``imo`` (``null`` when unknown),
    ``status`` (laden or ballast), ``origin`` and ``destination`` (port ids, ``null`` where the
    line does not reach a port, e.g. cut by the window's end), ``start_utc`` and ``end_utc``
    (times of the first and last fix, ISO 8601), ``sog_kn`` (mean speed over ground at sea
    [kn]) and ``times_utc`` (the time of every vertex, like the ``coordTimes`` of GPX
    converters). ``geopandas.read_file`` gives one row per passage.

    With ``points=True`` every fix with a known position is added as a ``Point`` carrying the
    columns of :func:`tracks` (``time_utc`` as ISO 8601 UTC, ``timestamp`` as the same time
    without a zone, ``draught_m`` to 2 decimals): the layout MovingPandas expects,
    ``TrajectoryCollection(gdf, traj_id_col="trajectory_id", t="timestamp")`` (or
    ``traj_id_col="leg_id"``, one trajectory per leg).

    Coordinates are ``[lon, lat]`` WGS84 [deg], rounded to 6 decimals.
    """
    features: list[dict[str, Any]] = []
    df = tracks_df.sort_values(["replication", "ship", "t_h"], kind="stable")
    for (rep, ship), g in df.groupby(["replication", "ship"], observed=True, sort=True):
        status = g["status"].astype(str).to_numpy(dtype=object)
        voyage = g["voyage"].to_numpy()
        lat, lon = g["lat"].to_numpy(), g["lon"].to_numpy()
        place = g["place"].astype(str).to_numpy(dtype=object)
        sog = g["sog_kn"].to_numpy()
        times = iso_utc(g["time_utc"])
        sea = np.isin(status, list(SAILING))
        n = len(g)
        imo = _imo_of(g)
        traj = (
            g["trajectory_id"].astype(str).to_numpy()
            if "trajectory_id" in g
            else np.full(n, "", dtype=object)
        )
        leg_ids = (
            g["leg_id"].astype(str).to_numpy(dtype=object)
            if "leg_id" in g
            else np.full(n, None, dtype=object)
        )
        legs = (
            g["leg"].astype(str).to_numpy(dtype=object)
            if "leg" in g
            else np.full(n, None, dtype=object)
        )
        # A passage starts where the ship goes to sea, or changes condition or voyage at sea.
        new = (
            sea
            & np.r_[True, (~sea[:-1]) | (status[1:] != status[:-1]) | (voyage[1:] != voyage[:-1])]
        )
        # A port fix joins a passage's line only if it is the sample next to it in time (not
        # one left far behind by samples left out, as with the idle leg dropped).
        t_h = g["t_h"].to_numpy(dtype=float)
        steps = np.diff(t_h)
        step = float(steps[steps > 0].min()) if (steps > 0).any() else np.inf
        near = np.r_[False, steps <= step * (1 + 1e-9)]  # sample i is next to sample i - 1
        for i0 in np.flatnonzero(new):
            i1 = i0
            while i1 + 1 < n and sea[i1 + 1] and not new[i1 + 1]:
                i1 += 1
            first = i0 - 1 if i0 > 0 and not sea[i0 - 1] and near[i0] else i0
            last = i1 + 1 if i1 + 1 < n and not sea[i1 + 1] and near[i1 + 1] else i1
            idx = np.arange(first, last + 1)
            idx = idx[np.isfinite(lat[idx]) & np.isfinite(lon[idx])]
            if len(idx) < 2:
                continue
            at_sea_sog = sog[i0 : i1 + 1]
            at_sea_sog = at_sea_sog[np.isfinite(at_sea_sog)]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": _coords(lon[idx], lat[idx])},
                    "properties": {
                        "replication": int(rep),
                        "ship": str(ship),
                        "voyage": int(voyage[i0]),
                        "trajectory_id": str(traj[i0]),
                        "leg_id": leg_ids[i0],
                        "imo": imo,
                        "status": str(status[i0]),
                        "origin": str(place[first]) if first < i0 else None,
                        "destination": str(place[last]) if last > i1 else None,
                        "start_utc": times[idx[0]],
                        "end_utc": times[idx[-1]],
                        "sog_kn": (round(float(at_sea_sog.mean()), 3) if len(at_sea_sog) else None),
                        "times_utc": [times[i] for i in idx],
                    },
                }
            )
        if points:
            cog = g["cog_deg"].to_numpy() if "cog_deg" in g else np.full(n, np.nan)
            nav = g["nav_status"].to_numpy() if "nav_status" in g else np.full(n, 15)
            draught = g["draught_m"].to_numpy() if "draught_m" in g else np.full(n, np.nan)
            d_src = (
                g["draught_source"].astype(str).to_numpy(dtype=object)
                if "draught_source" in g
                else np.full(n, None, dtype=object)
            )
            fix = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
            features.extend(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": xy},
                    "properties": {
                        "time_utc": times[i],
                        "timestamp": times[i][:-1],
                        "t_h": float(t_h[i]),
                        "replication": int(rep),
                        "ship": str(ship),
                        "sog_kn": _finite_or_none(sog[i]),
                        "status": str(status[i]),
                        "place": str(place[i]),
                        "voyage": int(voyage[i]),
                        "trajectory_id": str(traj[i]),
                        "leg": legs[i],
                        "leg_id": leg_ids[i],
                        "cog_deg": _finite_or_none(cog[i]),
                        "heading_deg": _finite_or_none(cog[i]),
                        "nav_status": int(nav[i]),
                        "imo": imo,
                        "draught_m": _finite_or_none(round(float(draught[i]), 2)),
                        "draught_source": d_src[i],
                    },
                }
                for i, xy in zip(fix, _coords(lon[fix], lat[fix]), strict=True)
            )
    return {"type": "FeatureCollection", "features": features}


def port_role(scenario: Scenario, port_id: str) -> str:
    """``"terminal"`` for the loading terminal, ``"discharge"`` for the others."""
    return "terminal" if port_id == scenario.terminal.port else "discharge"


def legs_from_terminal(routes: RouteTable, scenario: Scenario) -> list[Leg]:
    """One leg per pair of ports, oriented from the scenario's terminal where it touches it."""
    term = scenario.terminal.port
    return [leg.reversed() if leg.destination == term else leg for leg in routes.unique_legs()]


def routes_geojson(
    routes: RouteTable, scenario: Scenario, *, densify_nm: float | None = 10.0
) -> dict[str, Any]:
    """The route table as an RFC 7946 GeoJSON FeatureCollection of lines only (the ports are
    their own layer, :func:`ports_geojson`).

    One ``LineString`` per pair of ports, drawn from the terminal (:func:`legs_from_terminal`),
    with properties ``origin``, ``destination``, ``distance_nm`` [nm], ``pilotage_nm`` [nm],
    ``passes`` and ``method``. Coordinates are ``[lon, lat]`` WGS84 [deg], the only CRS RFC
    7946 allows (GDAL and GeoPandas read it as EPSG:4326).

    Parameters
    ----------
    densify_nm
        Add points along each geodesic segment no further apart than this [nm], so that
        renderers that join vertices with straight lon/lat lines draw the geodesic; the
        vertices stay on the geodesics, so the geodesic length of a line is its leg's
        ``distance_nm``. ``None`` keeps the waypoints only.
    """
    features: list[dict[str, Any]] = []
    for leg in legs_from_terminal(routes, scenario):
        pts = list(leg.waypoints)
        if densify_nm is not None and len(pts) > 1:
            pts = densify(pts, densify_nm)
        arr = np.asarray(pts, dtype=float).reshape(-1, 2)
        features.append(
            {
                "type": "Feature",
                "id": f"{leg.origin}-{leg.destination}",
                "geometry": {"type": "LineString", "coordinates": _coords(arr[:, 1], arr[:, 0])},
                "properties": _leg_properties(leg),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def ports_geojson(routes: RouteTable, scenario: Scenario) -> dict[str, Any]:
    """The ports the route table uses as an RFC 7946 GeoJSON FeatureCollection of points.

    One ``Point`` per port (terminal first, in the order of :func:`legs_from_terminal`), with
    properties ``id``, ``name``, ``role`` (``terminal`` or ``discharge``) and ``lock`` (the
    lock's name, or ``null``); ``[lon, lat]`` WGS84 [deg].
    """
    used: list[str] = []
    for leg in legs_from_terminal(routes, scenario):
        used += [p for p in (leg.origin, leg.destination) if p not in used]
    features: list[dict[str, Any]] = []
    for pid in used:
        port = scenario.port(pid)
        d = scenario.discharge.get(pid)
        features.append(
            {
                "type": "Feature",
                "id": pid,
                "geometry": {"type": "Point", "coordinates": [port.lon, port.lat]},
                "properties": {
                    "id": pid,
                    "name": port.name,
                    "role": port_role(scenario, pid),
                    "lock": d.lock.name if d is not None and d.lock is not None else None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _leg_properties(leg: Leg) -> dict[str, Any]:
    return {
        "origin": leg.origin,
        "destination": leg.destination,
        "distance_nm": leg.distance_nm,
        "pilotage_nm": leg.pilotage_nm,
        "passes": list(leg.passes),
        "method": leg.method,
    }
