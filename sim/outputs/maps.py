"""Maps of a scenario: land, ports, sea routes and, optionally, ship tracks.

Drawn with matplotlib's object-oriented API on the Agg canvas (no pyplot, so no global state);
matplotlib is imported inside :func:`plot_map` only. The map is drawn in lon/lat with the
aspect ``1 / cos(centre latitude)``, so that distances look right near the centre latitude (an
equirectangular view; the scale bar states the latitude at which it is true). Routes are drawn
through points along their geodesics, never as straight lon/lat chords.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.analysis.tracks import legs_from_terminal, port_role
from sim.core.config import Scenario
from sim.core.geo import M_PER_NM, WGS84, LatLon, densify, geodesic_nm
from sim.core.routes import Leg, RouteTable
from sim.outputs.plots import plain_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from shapely.geometry.base import BaseGeometry

__all__ = ["lane_offset", "map_extent", "plot_map", "port_label", "scale_bar_nm"]

log = logging.getLogger(__name__)

_SEA = "#dfecf4"
_LAND = "#efe8d8"
_COAST = "#9b917e"
_TERMINAL = "#c0392b"
_DISCHARGE = "#1f3a93"
_ROUTE_COLOURS = ("#e67e22", "#16a085", "#8e44ad", "#2c3e50", "#d35400", "#27ae60")
# Boxes behind text rather than stroked halos: path effects turn SVG text into outlines.
_TEXT_BOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.7}
_LABEL_BOX = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}
_DENSIFY_NM = 5.0
"""Spacing of drawn points along route geodesics [nm]."""
_AXES_RECT = (0.075, 0.07, 0.9, 0.83)
"""Axes position in the figure (left, bottom, width, height) [figure fraction]."""
_NICE_NM = (1, 2, 5, 10, 20, 25, 50, 100, 150, 200, 250, 500, 1000, 2000)
_NICE_DEG = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0)


def port_label(port_id: str) -> str:
    """The label drawn next to a port: its id in title case (``"NAMPHO"`` -> ``"Nampho"``)."""
    return port_id.replace("_", " ").title()


def _leg_points(leg: Leg) -> NDArray[np.float64]:
    """Points along a leg's geodesic segments, ``(n, 2)`` as (lat, lon) [deg]."""
    pts = list(leg.waypoints)
    if len(pts) > 1:
        pts = densify(pts, _DENSIFY_NM)
    return np.asarray(pts, dtype=float).reshape(-1, 2)


def map_extent(
    points_lat_lon: NDArray[np.float64],
    aspect_w_over_h: float,
    *,
    margin_frac: float = 0.12,
    min_margin_deg: float = 0.3,
) -> tuple[float, float, float, float]:
    """A lon/lat box around points, padded and widened to fill a frame of a given shape.

    Parameters
    ----------
    points_lat_lon
        ``(n, 2)`` points as (lat, lon) [deg].
    aspect_w_over_h
        Width over height of the frame on paper [-].
    margin_frac
        Padding on each side, as a fraction of the points' span [-].
    min_margin_deg
        Least padding on each side [deg].

    Returns
    -------
    tuple
        ``(lon_min, lon_max, lat_min, lat_max)`` [deg]. On paper, one degree of longitude is
        ``cos(centre latitude)`` of one degree of latitude.

    >>> box = map_extent(np.array([[40.0, 130.0], [42.0, 132.0]]), 1.0, margin_frac=0.0)
    >>> [round(x, 3) for x in box]
    [129.277, 132.723, 39.7, 42.3]
    """
    lat, lon = points_lat_lon[:, 0], points_lat_lon[:, 1]
    lon0, lon1 = float(np.min(lon)), float(np.max(lon))
    lat0, lat1 = float(np.min(lat)), float(np.max(lat))
    pad_lon = max(margin_frac * (lon1 - lon0), min_margin_deg)
    pad_lat = max(margin_frac * (lat1 - lat0), min_margin_deg)
    lon0, lon1, lat0, lat1 = lon0 - pad_lon, lon1 + pad_lon, lat0 - pad_lat, lat1 + pad_lat
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    width, height = (lon1 - lon0) * kx, lat1 - lat0
    if width / height < aspect_w_over_h:
        extra = (aspect_w_over_h * height / kx - (lon1 - lon0)) / 2
        lon0, lon1 = lon0 - extra, lon1 + extra
    else:
        extra = (width / aspect_w_over_h - height) / 2
        lat0, lat1 = lat0 - extra, lat1 + extra
    return lon0, lon1, lat0, lat1


def scale_bar_nm(width_nm: float) -> float:
    """A round scale-bar length, at most a third of the map's width [nm].

    >>> scale_bar_nm(420.0), scale_bar_nm(180.0), scale_bar_nm(60.0)
    (100, 50, 20)
    """
    target = width_nm / 3
    fits = [n for n in _NICE_NM if n <= target]
    return fits[-1] if fits else _NICE_NM[0]


def _graticule_step_deg(span_deg: float) -> float:
    fits = [s for s in _NICE_DEG if span_deg / s <= 8]
    return fits[0] if fits else _NICE_DEG[-1]


def _deg_label(x: float, pos: str, neg: str) -> str:
    hemi = pos if x > 0 else neg if x < 0 else ""
    return f"{abs(x):g}°{hemi}"


def _load_land() -> BaseGeometry | None:
    try:
        from sim.core.routing import load_land

        return load_land()
    except (ImportError, OSError, ValueError, KeyError) as exc:
        log.warning("no land on the map: the land polygon could not be loaded (%s)", exc)
        return None


def _land_patch(land: BaseGeometry, box: tuple[float, float, float, float]) -> Any:
    """One matplotlib patch for the land inside ``box`` (lon0, lon1, lat0, lat1) [deg]."""
    import shapely
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath
    from shapely.geometry.polygon import orient

    lon0, lon1, lat0, lat1 = box
    clipped = shapely.clip_by_rect(land, lon0 - 0.5, lat0 - 0.5, lon1 + 0.5, lat1 + 0.5)
    polys = [g for g in shapely.get_parts(clipped) if g.geom_type == "Polygon" and not g.is_empty]
    if not polys:
        return None
    paths = []
    for poly in polys:
        poly = orient(poly, 1.0)  # holes wind the other way: the non-zero rule leaves them open
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)
            codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
            codes[0], codes[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            paths.append(MplPath(xy, codes))
    return PathPatch(
        MplPath.make_compound_path(*paths),
        facecolor=_LAND,
        edgecolor=_COAST,
        linewidth=0.5,
        zorder=1,
    )


Corner = Literal["upper left", "upper right", "lower left", "lower right"]


def _corner_counts(
    pts_lon_lat: NDArray[np.float64], box: tuple[float, float, float, float]
) -> dict[Corner, int]:
    """How many drawn points fall near each corner of the map (a 45 % x 45 % box)."""
    lon0, lon1, lat0, lat1 = box
    fx = (pts_lon_lat[:, 0] - lon0) / (lon1 - lon0)
    fy = (pts_lon_lat[:, 1] - lat0) / (lat1 - lat0)
    left, right, low, high = fx < 0.45, fx > 0.55, fy < 0.45, fy > 0.55
    return {
        "upper left": int((left & high).sum()),
        "upper right": int((right & high).sum()),
        "lower left": int((left & low).sum()),
        "lower right": int((right & low).sum()),
    }


def _draw_scale_bar(
    ax: Axes, box: tuple[float, float, float, float], lat_c: float, corner: Corner
) -> None:
    """A black-and-white scale bar in nautical miles, true at latitude ``lat_c`` [deg]."""
    lon0, lon1, lat0, lat1 = box
    width_nm = geodesic_nm(LatLon(lat_c, lon0), LatLon(lat_c, lon1))
    length_nm = scale_bar_nm(width_nm)
    # The bar is true at the centre latitude: its lon span comes from a geodesic there.
    x_far, _, _ = WGS84.fwd(lon0, lat_c, 90.0, length_nm * M_PER_NM)
    span = float(x_far) - lon0
    x0 = lon0 + 0.04 * (lon1 - lon0)
    if corner.endswith("right"):
        x0 = lon1 - 0.04 * (lon1 - lon0) - span
    y0 = lat0 + 0.06 * (lat1 - lat0)
    if corner.startswith("upper"):
        y0 = lat1 - 0.08 * (lat1 - lat0)
    x_half, x_end = x0 + span / 2, x0 + span
    h = 0.008 * (lat1 - lat0)
    for xa, xb, colour in ((x0, x_half, "black"), (x_half, x_end, "white")):
        ax.fill(
            [xa, xb, xb, xa],
            [y0 - h, y0 - h, y0 + h, y0 + h],
            facecolor=colour,
            edgecolor="black",
            linewidth=0.8,
            zorder=6,
        )
    for x, text in ((x0, "0"), (x_half, f"{length_nm / 2:g}"), (x_end, f"{length_nm:g} nm")):
        ax.text(
            x, y0 + 2.5 * h, text, ha="center", va="bottom", fontsize=8, zorder=6, bbox=_TEXT_BOX
        )
    ax.text(
        x0,
        y0 - 2.5 * h,
        f"true at {_deg_label(round(lat_c, 1), 'N', 'S')}",
        ha="left",
        va="top",
        fontsize=7,
        color="#444444",
        zorder=6,
        bbox=_TEXT_BOX,
    )


def lane_offset(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    offset_deg: float,
    lat_c: float,
    heading_sign: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Shift a track sideways, perpendicular to its direction, for drawing only.

    Ships on one route would hide each other; each is drawn in its own lane, to the left of
    the route's reference direction. ``heading_sign`` tells, per point, whether the ship runs
    along that direction (+1) or against it (-1), so that a ship keeps its lane both ways. By
    default the reference is "eastward" (and northward for due-north tracks), which keeps the
    side for tracks that never turn through north or south. Stationary points (in port) and
    points with a zero sign are not shifted.

    Parameters
    ----------
    lon, lat
        Track points [deg]; NaN breaks the line and stays NaN.
    offset_deg
        Signed shift, in degrees of latitude on paper [deg].
    lat_c
        Latitude at which the map's aspect is true [deg].
    heading_sign
        Per point, +1 or -1 (see above), or 0 to leave a point where it is.

    >>> lo, la = lane_offset(np.array([0.0, 1.0, 2.0]), np.zeros(3), 0.1, 0.0)
    >>> lo.round(6).tolist(), la.round(6).tolist()
    ([0.0, 1.0, 2.0], [0.1, 0.1, 0.1])
    """
    kx = math.cos(math.radians(lat_c))
    x, y = np.asarray(lon, dtype=float) * kx, np.asarray(lat, dtype=float)
    if len(x) < 2 or offset_deg == 0:
        return np.asarray(lon, dtype=float), y.copy()
    nxt_x, nxt_y = np.r_[x[1:], x[-1]], np.r_[y[1:], y[-1]]
    prv_x, prv_y = np.r_[x[0], x[:-1]], np.r_[y[0], y[:-1]]
    dx, dy = nxt_x - prv_x, nxt_y - prv_y
    norm = np.hypot(dx, dy)
    moving = norm > 1e-9
    if heading_sign is None:
        sign = np.where((dx < 0) | ((dx == 0) & (dy < 0)), -1.0, 1.0)
    else:
        sign = np.asarray(heading_sign, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tx = np.where(moving, sign * dx / norm, 0.0)
        ty = np.where(moving, sign * dy / norm, 0.0)
    # The normal to the left of the reference direction: north of an eastbound track.
    return (x - ty * offset_deg) / kx, y + tx * offset_deg


def _heading_sign(status: NDArray[Any]) -> NDArray[np.float64]:
    """+1 laden (terminal to discharge port), -1 ballast; a port fix takes its neighbour's."""
    sign = np.select([status == "laden", status == "ballast"], [1.0, -1.0], 0.0)
    nxt, prv = np.r_[sign[1:], 0.0], np.r_[0.0, sign[:-1]]
    return np.where(sign != 0, sign, np.where(nxt != 0, nxt, prv))


def _track_lines(
    tracks: pd.DataFrame,
) -> Iterable[tuple[str, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]]:
    """Per ship and replication: ship, lon, lat [deg] (NaN if unknown) and heading sign."""
    df = tracks.sort_values(["replication", "ship", "t_h"], kind="stable")
    for (_, ship), g in df.groupby(["replication", "ship"], observed=True, sort=True):
        status = g["status"].astype(str).to_numpy(dtype=object)
        lon, lat = g["lon"].to_numpy(dtype=float), g["lat"].to_numpy(dtype=float)
        yield str(ship), lon, lat, _heading_sign(status)


_LEGEND_LOCS = (
    "upper left",
    "upper right",
    "lower right",
    "lower left",
    "center left",
    "center right",
    "upper center",
    "lower center",
)


def _inside(bb: Any, xy: NDArray[np.float64]) -> int:
    """How many display points ``xy`` lie in the box ``bb``."""
    x, y = xy[:, 0], xy[:, 1]
    return int(((x >= bb.x0) & (x <= bb.x1) & (y >= bb.y0) & (y <= bb.y1)).sum())


def _place_legend(
    ax: Axes,
    legend: Any,
    renderer: Any,
    pts_lon_lat: NDArray[np.float64],
    ports_lon_lat: NDArray[np.float64],
    labels: Sequence[Any],
) -> str:
    """Move the legend to the place where it hides the least: ports, labels, then routes."""
    pts = ax.transData.transform(pts_lon_lat)
    ports = ax.transData.transform(ports_lon_lat)
    label_boxes = [t.get_window_extent(renderer) for t in labels]
    best: tuple[float, int, str] | None = None
    for k, loc in enumerate(_LEGEND_LOCS):
        legend.set_loc(loc)
        bb = legend.get_window_extent(renderer).padded(6)
        hidden_ports = _inside(bb, ports)
        hidden_labels = sum(bb.overlaps(lb) for lb in label_boxes)
        hidden_pts = _inside(bb, pts)
        score = 1000.0 * hidden_ports + 300.0 * hidden_labels + hidden_pts
        if best is None or (score, k) < best[:2]:
            best = (score, k, loc)
    assert best is not None
    legend.set_loc(best[2])
    return best[2]


def _renderer(fig: Any, canvas: Any) -> Any:
    """The renderer text sizes are measured with: the Agg canvas's, or (another backend's
    canvas, in a notebook) the one the figure would draw with."""
    if hasattr(canvas, "get_renderer"):
        return canvas.get_renderer()
    return fig._get_renderer()


@plain_text
def map_figure(
    scenario: Scenario,
    routes: RouteTable,
    *,
    tracks: pd.DataFrame | None = None,
    figsize_in: tuple[float, float] = (10.0, 8.0),
    dpi: int = 150,
    ax: Axes | None = None,
) -> Figure:
    """Draw a map of a scenario's ports and routes, and optionally its ship tracks.

    Land comes from :func:`sim.core.routing.load_land` (Natural Earth 10 m); when it cannot be
    loaded the map is drawn without land and a warning is logged. The extent fits the routes
    and ports with a margin, widened to fill the frame. Ports are labelled (terminal: red
    square; discharge ports: blue circles); each route is a line whose legend entry gives its
    distance [nm]. Tracks (the output of :func:`sim.analysis.tracks.tracks`) are thin
    lines, one colour
    per ship, each ship in its own lane about 1 pt to the side of its true path
    (:func:`lane_offset`) so that ships sharing a route stay visible. A graticule, a scale bar
    in nautical miles, a legend and the scenario's title complete it. Text stays text in SVG.

    Parameters
    ----------
    tracks
        Optional ship tracks, any number of replications.
    figsize_in
        Figure size (width, height) [in].
    dpi
        Resolution of raster formats [dots/in]; a PNG is ``figsize_in * dpi`` pixels.
    ax
        Draw on these axes (the extent fits their shape; the title and the dates go in the
        axes' title, the land's source in the lower left corner); ``figsize_in`` and ``dpi``
        are then the figure's own. None: a new figure.

    Returns
    -------
    Figure
        A matplotlib figure (no pyplot, no global state); save it with
        :func:`sim.outputs.plots.save_figure` or :func:`plot_map`.
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    legs = legs_from_terminal(routes, scenario)
    leg_pts = [_leg_points(leg) for leg in legs]
    port_ids = sorted(
        {p for leg in legs for p in (leg.origin, leg.destination)}
        | {scenario.terminal.port, *scenario.discharge},
        key=lambda p: (port_role(scenario, p) != "terminal", p),
    )
    ports = [scenario.port(p) for p in port_ids]
    port_pts = np.array([[p.lat, p.lon] for p in ports], dtype=float).reshape(-1, 2)
    all_pts = np.vstack([port_pts, *leg_pts])
    rect = _AXES_RECT
    given = ax
    if given is not None:
        dpi_given = given.figure.dpi
        ax_w_in, ax_h_in = given.bbox.width / dpi_given, given.bbox.height / dpi_given
    else:
        ax_w_in, ax_h_in = figsize_in[0] * rect[2], figsize_in[1] * rect[3]
    box = map_extent(all_pts, ax_w_in / ax_h_in)
    lon0, lon1, lat0, lat1 = box
    lat_c = (lat0 + lat1) / 2
    deg_per_pt = (lat1 - lat0) / (ax_h_in * 72.0)
    ships = [] if tracks is None else sorted(tracks["ship"].astype(str).unique())
    lane_pt = 1.1

    if given is None:
        fig = Figure(figsize=figsize_in, dpi=dpi)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes(rect)
    else:
        ax = given
        fig = ax.figure  # type: ignore[assignment]
        canvas = fig.canvas  # type: ignore[assignment]
    ax.set_facecolor(_SEA)
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1.0 / math.cos(math.radians(lat_c)), adjustable="datalim")
    land = _load_land()
    if land is not None:
        patch = _land_patch(land, box)
        if patch is not None:
            ax.add_patch(patch)

    handles: list[Any] = []
    for i, (leg, pts) in enumerate(zip(legs, leg_pts, strict=True)):
        via = f"\nvia {', '.join(leg.passes)}" if leg.passes else ""
        label = (
            f"{port_label(leg.origin)}\u2013{port_label(leg.destination)}: "
            f"{leg.distance_nm:,.0f} nm{via}"
        )
        colour = _ROUTE_COLOURS[i % len(_ROUTE_COLOURS)]
        alpha = 0.3 if ships else 0.95
        ax.plot(
            pts[:, 1],
            pts[:, 0],
            color=colour,
            linewidth=len(ships) * lane_pt + 4.0 if ships else 2.4,
            alpha=alpha,
            solid_capstyle="round",
            zorder=3,
        )
        lw = 5.0 if ships else 2.4
        handles.append(Line2D([], [], color=colour, linewidth=lw, alpha=alpha, label=label))

    if tracks is not None and ships:
        # tab20 pairs dark and light shades: take the dark ones first.
        cmap = mpl.colormaps["tab20"]
        order = [*range(0, 20, 2), *range(1, 20, 2)]
        colour_of = {s: cmap(order[k % 20]) for k, s in enumerate(ships)}
        lane_of = {s: (k - (len(ships) - 1) / 2) * lane_pt for k, s in enumerate(ships)}
        for ship, lon, lat, sign in _track_lines(tracks):
            lon_d, lat_d = lane_offset(lon, lat, lane_of[ship] * deg_per_pt, lat_c, sign)
            ax.plot(lon_d, lat_d, color=colour_of[ship], linewidth=0.9, alpha=0.9, zorder=4)
        if len(ships) <= 20:
            handles += [Line2D([], [], color=colour_of[s], linewidth=1.5, label=s) for s in ships]
        else:
            handles.append(
                Line2D([], [], color="#555555", linewidth=1.0, label=f"{len(ships)} ships")
            )

    # Graticule: gridlines every round number of degrees, labelled with hemispheres.
    step = _graticule_step_deg(max(lon1 - lon0, lat1 - lat0))
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.yaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _deg_label(x, "E", "W")))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: _deg_label(y, "N", "S")))
    ax.tick_params(labelsize=8, length=3, top=True, right=True)
    ax.grid(True, color="#7f8c8d", linewidth=0.4, linestyle=(0, (4, 3)), alpha=0.6)
    ax.set_axisbelow(False)
    for gl in (*ax.get_xgridlines(), *ax.get_ygridlines()):
        gl.set_zorder(2)
    ax.apply_aspect()

    renderer = _renderer(fig, canvas)
    frame = ax.get_window_extent(renderer)
    labels: list[Any] = []
    for port in ports:
        terminal = port_role(scenario, port.id) == "terminal"
        ax.plot(
            port.lon,
            port.lat,
            marker="s" if terminal else "o",
            markersize=9 if terminal else 8,
            markerfacecolor=_TERMINAL if terminal else _DISCHARGE,
            markeredgecolor="white",
            markeredgewidth=1.2,
            linestyle="none",
            zorder=7,
        )
        right = port.lon >= (lon0 + lon1) / 2
        text = ax.annotate(
            port_label(port.id),
            (port.lon, port.lat),
            xytext=(9 if right else -9, 4),
            textcoords="offset points",
            ha="left" if right else "right",
            va="bottom",
            fontsize=10,
            fontweight="bold",
            color="#1a1a1a",
            zorder=8,
            bbox=_LABEL_BOX,
        )
        # Keep the label inside the frame: flip it to the other side of the marker.
        bb = text.get_window_extent(renderer)
        if bb.x1 > frame.x1 or bb.x0 < frame.x0:
            right = not right
            text.set_horizontalalignment("left" if right else "right")
            text.set_position((9 if right else -9, 4))
        if bb.y1 > frame.y1:
            text.set_verticalalignment("top")
            text.set_position((text.get_position()[0], -4))
        labels.append(text)

    handles += [
        Line2D(
            [],
            [],
            marker="s",
            markersize=8,
            markerfacecolor=_TERMINAL,
            markeredgecolor="white",
            linestyle="none",
            label="loading terminal",
        ),
        Line2D(
            [],
            [],
            marker="o",
            markersize=7,
            markerfacecolor=_DISCHARGE,
            markeredgecolor="white",
            linestyle="none",
            label="discharge port",
        ),
    ]

    legend = ax.legend(
        handles=handles,
        loc="upper left",
        fontsize=8,
        ncols=2 if len(handles) > 10 else 1,
        framealpha=0.92,
        edgecolor="#999999",
        title="Routes, ships and ports" if ships else "Routes and ports",
        title_fontsize=8.5,
    )
    legend.set_zorder(9)
    legend_loc = _place_legend(ax, legend, renderer, all_pts[:, ::-1], port_pts[:, ::-1], labels)
    counts = _corner_counts(all_pts[:, ::-1], box)
    lower: list[Corner] = ["lower right", "lower left"]
    bar_corner = min(
        (c for c in lower if c != legend_loc), key=lambda k: (counts[k], lower.index(k))
    )
    _draw_scale_bar(ax, box, lat_c, bar_corner)

    title = scenario.title or scenario.name
    start, end = scenario.window.start, scenario.window.end
    sub = (
        f"{start.day} {start:%b %Y}\u2013{end.day} {end:%b %Y}"
        f" \u00b7 routing: {scenario.routing.method}"
    )
    if tracks is not None and ships:
        n_rep = tracks["replication"].nunique()
        sub += f" \u00b7 ship tracks: {n_rep} replication{'s' if n_rep != 1 else ''}"
    source = "Land: Natural Earth 10 m" if land is not None else "Land: not available"
    if given is not None:
        ax.set_title(f"{title}\n{sub}", fontsize=9)
        ax.text(0.005, 0.005, source, transform=ax.transAxes, ha="left", va="bottom",
                fontsize=6, color="#666666", zorder=9)  # fmt: skip
        return fig
    fig.text(0.5, 0.965, title, ha="center", va="center", fontsize=12.5, weight="bold")
    fig.text(0.5, 0.93, sub, ha="center", va="center", fontsize=9, color="#444444")
    fig.text(rect[0] + rect[2], 0.015, source, ha="right", va="bottom", fontsize=7, color="#666666")

    return fig


def plot_map(
    scenario: Scenario,
    routes: RouteTable,
    out_base: Path | str,
    *,
    tracks: pd.DataFrame | None = None,
    formats: Sequence[str] = ("png", "svg"),
    figsize_in: tuple[float, float] = (10.0, 8.0),
    dpi: int = 150,
) -> list[Path]:
    """Draw :func:`map_figure` and save it as ``out_base.<format>`` for every format.

    Returns the files written, in the order of ``formats``.
    """
    from sim.outputs.plots import save_figure

    fig = map_figure(scenario, routes, tracks=tracks, figsize_in=figsize_in, dpi=dpi)
    paths = save_figure(fig, Path(out_base), formats, dpi=dpi, tight=False)
    log.info("wrote map %s", ", ".join(str(p) for p in paths))
    return paths
