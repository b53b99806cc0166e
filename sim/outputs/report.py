"""One shareable report from finished runs: a self-contained HTML page and the same in Markdown.

``tankersim report RUN_DIR [RUN_DIR...]`` reads the folders that ``mc``, ``calibrate``
(``--all-priors`` too), ``sweep`` and ``sensitivity`` wrote, and puts in one place, in the order
a reader needs them: the question, which answer the page shows (evidence-based or prior-only)
and that answer as a picture, the short answer, the key figures, the claims check, the
evidence and the model checks, the assumptions, the limits, and how to reproduce it all; the
long tables are folded under a summary that says what they hold. The page reads on a phone
(390 px) as on a desktop: nothing is wider than the window and drawn text keeps its size.

The page opens from disk with no network: figures are embedded as data URIs, styles and the
one script are inline, and a Content-Security-Policy forbids loading anything else and running
any script but the report's own (by its hash). Every user string (scenario name and title, ship
names, sources, evidence rows) is escaped by Jinja2's autoescaping; data for the script is JSON
read with ``JSON.parse``, and the script writes text with ``textContent`` only. The Markdown
twin escapes user strings with :func:`sim.outputs.render.md_escape`.

The report reads what the runs wrote (their verdict JSON, tables and SVG plots) and recomputes
nothing statistical; the map, the track player and the Gantt chart come from one replication
run again on the SimPy engine (the matching replication closest to the conditional median
when a Monte Carlo folder is given, so the tracks show a run that looks like the evidence).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import math
import os
import re
import shlex
import urllib.parse
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.claims import ClaimsCheck, check_claims
from sim.core.assumptions import LEVEL_WORDS, assumptions
from sim.core.config import Scenario, load_scenario
from sim.core.csvsafe import restore_formulas
from sim.core.errors import OptionError, ScenarioError
from sim.core.fmt import pct as _fmt_pct
from sim.core.fmt import reveal_bidi
from sim.core.fmt import sig as _fmt_sig
from sim.outputs.plots import plain_text

__all__ = [
    "RunFolder",
    "build_report",
    "claims_markdown",
    "read_run",
    "render_html",
    "render_markdown",
    "write_report",
]

TEMPLATES = Path(__file__).with_name("templates")

FIGURE_CAPTIONS: dict[str, str] = {
    "must_believe": "What one must believe: the mean parcel per seen visit and the share of "
    "visits seen for which the claim holds, with the posterior's replications over it.",
    "posterior": "The fleet-level unknowns before (prior, grey) and after (posterior, blue) "
    "the evidence, with the posterior median and 90 % credible interval.",
    "predictive": "Posterior predictive check: each piece of evidence against what the "
    "posterior's replications show.",
    "diagnostics": "ABC-SMC diagnostics: tolerance, acceptance and effective sample size by "
    "generation.",
    "barrels": "Barrels of the fleet and of the seen visits among the replications whose seen "
    "visits match the claim, beside every replication's, with the claim and the two "
    "probabilities.",
    "cumulative": "Cumulative barrels over the window: median and 50 % / 90 % bands, with the "
    "claim and the UN cap pro rata.",
    "evidence": "Each piece of evidence against the scenario's replications (prior).",
    "barrels_vs_visits": "Barrels against seen visits, one dot per replication.",
    "trips": "Trips and seen visits per replication.",
    "priors": "The answer under each prior set: P(seen visits carried the claim) and "
    "P(the fleet loaded it).",
    "sweep": "The sweep: P(claim | claimed visits) at each design point.",
    "frontier": "The sweep's frontier: where the claim becomes plausible.",
    "sensitivity": "Sensitivity indices: which inputs move the seen barrels.",
    "convergence": "Convergence of the sensitivity indices with the number of base samples.",
    "tornado": "The answer across the assumption audit: P(the seen visits carried the claim) at "
    "the low and high plausible setting of every prior, estimate and evidence set (red: moves "
    "it by 10 points or more), and over every evidence set x prior set.",
}
"""Captions of the figures the runs draw, by file stem."""

FIGURE_ORDER = (
    "robustness-tornado",
    "mc-barrels",
    "posterior-must_believe",
    "mc-cumulative",
    "map",
    "gantt",
    "posterior-posterior",
    "posterior-predictive",
    "mc-evidence",
    "priors-priors",
    "mc-barrels_vs_visits",
    "posterior-diagnostics",
)
"""The order of the key figures; sweep and sensitivity figures follow."""

MC_FIGURES = ("barrels", "cumulative", "evidence", "barrels_vs_visits")
POSTERIOR_FIGURES = ("must_believe", "posterior", "predictive", "diagnostics")

LIMITS = (
    "The model is a queue of ships at one loading berth and their discharge ports; it knows "
    "nothing of ship-to-ship transfers, other terminals or cargoes other than refined products.",
    "Ship sizes come from the registry where a source gives them and are drawn around the "
    "fleet's typical size otherwise; tank volume and cargo tonnes per deadweight tonne are "
    "estimates.",
    "Barrels per tonne follow the product mix, an estimate; a heavier mix means fewer barrels "
    "for the same ships.",
    "Every visit is seen with the same probability; cloud cover that hides several visits in a "
    "row is not modelled.",
    "Probabilities carry two different uncertainties: Monte Carlo error (the ± after a "
    "probability, which more replications shrink) and uncertainty about the world (the credible "
    "and percentile intervals, which only evidence shrinks).",
)


# --------------------------------------------------------------------------- numbers for people

MISSING = "\u2014"
"""What the page shows for a number a run did not write (a NaN or empty cell, a JSON null):
an em dash, never "nan"."""


def _number(x: Any) -> float | None:
    """``x`` as a finite float, or ``None`` when it is missing (None, NaN, infinite, text)."""
    if isinstance(x, bool) or x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def sig(x: Any, digits: int = 3) -> str:
    """:func:`sim.core.fmt.sig`, with a missing number shown as :data:`MISSING`."""
    f = _number(x)
    return MISSING if f is None else _fmt_sig(f, digits)


def pct(p: Any) -> str:
    """:func:`sim.core.fmt.pct`, with a missing probability shown as :data:`MISSING`."""
    f = _number(p)
    return MISSING if f is None else _fmt_pct(f)


def _points(mcse: Any) -> str:
    """A Monte Carlo error in percentage points (`` ± 0.7``), empty when it is missing."""
    f = _number(mcse)
    return "" if f is None else f" ± {100 * f:.1f}"


def _interval(p05: Any, p50: Any, p95: Any) -> str:
    """A median and its interval, ``690,000 (513,000-936,000)``; :data:`MISSING` when the
    median is missing."""
    if _number(p50) is None:
        return MISSING
    return f"{sig(p50)} ({sig(p05)}-{sig(p95)})"


# --------------------------------------------------------------------------- reading runs


@dataclass
class RunFolder:
    """A finished run's folder: its kind, manifest and scenario."""

    path: Path
    kind: str
    """``mc``, ``posterior`` (calibrate or mc --posterior), ``priors``, ``sweep`` or
    ``sensitivity``."""
    manifest: dict[str, Any]
    scenario: Scenario | None
    children: list[RunFolder] = field(default_factory=list)

    def json(self, name: str) -> Any:
        """A JSON object the run wrote (a missing, damaged or non-object file refused)."""
        return read_json_object(self.path / name)

    def table(self, name: str) -> pd.DataFrame | None:
        """A table the run wrote (None when absent; a damaged file refused in one line)."""
        p = self.path / name
        if not p.is_file():
            return None
        if p.suffix == ".csv":
            _check_file(p)  # whole: a line end at its end, a header of two columns or more
        try:
            if p.suffix == ".parquet":
                return pd.read_parquet(p)
            df = pd.read_csv(p, encoding="utf-8")
        except (OSError, ValueError, UnicodeError, pd.errors.ParserError) as exc:
            raise DamagedRunError(p, _why(exc)) from None
        return restore_formulas(df)  # the apostrophes of safe CSV taken off


class DamagedRunError(OptionError):
    """A run folder's file that cannot be read as its writer wrote it (truncated, emptied,
    replaced, hand-edited): one line naming the file."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(
            "run_dir",
            str(path),
            f"damaged or not written by tankersim ({what}); run the command again",
        )


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file that must hold an object, strictly (no NaN or Infinity, which tankersim
    never writes); anything else is a :class:`DamagedRunError` naming the file."""
    if not path.is_file():
        raise DamagedRunError(path, "missing")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (OSError, ValueError, UnicodeError) as exc:
        raise DamagedRunError(path, _why(exc)) from None
    if not isinstance(doc, dict):
        raise DamagedRunError(path, f"a JSON {type(doc).__name__}, not an object")
    if not doc:
        raise DamagedRunError(path, "an empty object")
    return doc


def _scenario_of(folder: Path) -> Scenario:
    return load_scenario(folder / "scenario.resolved.toml")


def read_run(path: str | Path) -> RunFolder:
    """Read a run folder; a folder that holds no finished run is an :class:`OptionError`."""
    p = Path(path)
    if not p.is_dir():
        raise OptionError("run_dir", str(path), "not a folder")
    if (p / "prior_sensitivity.csv").is_file():
        children = [
            read_run(c)
            for c in sorted((p / "priors").iterdir())
            if (c / "verdict_posterior.json").is_file()
        ]
        own = [c for c in children if c.path.name == "scenario"] or children
        sc = own[0].scenario if own else None
        manifest = own[0].manifest if own else {}
        return RunFolder(p, "priors", manifest, sc, children)
    if (p / "robustness.json").is_file():
        first = (
            sorted((p / "settings").glob("*/manifest.json")) if (p / "settings").is_dir() else []
        )
        manifest = read_json_object(first[0]) if first else {}
        return RunFolder(
            p, "robustness", manifest, _scenario_of(first[0].parent) if first else None
        )
    if not (p / "manifest.json").is_file():
        raise OptionError(
            "run_dir", str(path), "no manifest.json: not a folder written by tankersim"
        )
    manifest = read_json_object(p / "manifest.json")
    missing = [k for k in MANIFEST_KEYS if k not in manifest]
    if missing:
        raise DamagedRunError(p / "manifest.json", f"no {missing[0]!r}")
    command = manifest.get("command")
    if (p / "verdict_posterior.json").is_file():
        kind = "posterior"
    elif command == "mc" and (p / "verdict.json").is_file():
        kind = "mc"
    elif command in ("sweep", "sensitivity"):
        kind = str(command)
    else:
        raise OptionError("run_dir", str(path), f"an unfinished or unknown run ({command!r})")
    parts = p / "parts"  # an mc batch gathers its parts into one file when it finishes
    if kind == "mc" and parts.is_dir() and any(parts.glob("*.parquet")):
        raise OptionError(
            "run_dir",
            str(path),
            "an unfinished batch: parts/ holds replications not yet gathered; finish it with "
            "the same command and --resume",
        )
    warned = _verify_stamp(p)
    sc = _scenario_of(p)
    expected = EXPECTED.get(kind, ())
    if kind == "mc" and sc.evidence is not None:
        expected = (*expected, "checks.csv", "replay.csv")
    for name in expected:
        if name in warned:
            continue
        if not (p / name).is_file():
            warnings.warn(
                f"{p / name} is missing: the report leaves out what it held",
                IncompleteRunWarning,
                stacklevel=2,
            )
        else:
            _check_file(p / name)
    if manifest.get("scenario_sha256_16") != sc.digest():
        raise OptionError(
            "run_dir",
            str(path),
            "a mixed folder: manifest.json and scenario.resolved.toml are of different runs",
        )
    return RunFolder(p, kind, manifest, sc)


def _verify_stamp(folder: Path) -> set[str]:
    """Every file a finished command recorded in its stamp (``.tankersim-done.json``) must
    still hold the bytes it wrote: a file changed since (a flipped byte, an edit) is refused.
    Folders made by the Python API have no stamp: their files are checked for shape only."""
    from sim.outputs.files import STAMP_NAME, file_sha256

    stamp = folder / STAMP_NAME
    if not stamp.is_file():
        return set()
    try:
        doc = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeError) as exc:
        raise DamagedRunError(stamp, f"{_why(exc)}: the folder's files cannot be checked") from None
    # an older tankersim's stamp records no SHA-256: its files are checked for shape only
    recorded = doc.get("sha256", {}) if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or "files" not in doc or not isinstance(recorded, dict):
        raise DamagedRunError(stamp, "not a stamp tankersim wrote: the files cannot be checked")
    missing = set()
    for rel, digest in recorded.items():
        path = folder / str(rel)
        if not path.is_file():
            missing.add(str(rel))
            warnings.warn(
                f"{path} is missing (its run wrote it): the report leaves out what it held",
                IncompleteRunWarning,
                stacklevel=3,
            )
        elif file_sha256(path) != digest:
            raise DamagedRunError(
                path, "changed since its run finished: its SHA-256 is not the one recorded"
            )
    return missing


def _check_file(path: Path) -> None:
    """A file of a run, whole as its writer left it, read cheaply: a JSON object, a Parquet
    file's footer, a CSV's last line end and header (:class:`DamagedRunError` otherwise)."""
    if path.suffix == ".json":
        read_json_object(path)
    elif path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            pq.read_metadata(path)
        except (OSError, ValueError) as exc:
            raise DamagedRunError(path, _why(exc)) from None
    elif path.suffix == ".csv":
        try:
            with path.open("rb") as fh:
                header = fh.readline()
                fh.seek(-1, os.SEEK_END)
                last = fh.read(1)
        except OSError as exc:
            raise DamagedRunError(path, _why(exc)) from None
        if last != b"\n":
            raise DamagedRunError(path, "no line end at its end: cut short?")
        if b"," not in header:
            raise DamagedRunError(path, "one column, not a table tankersim wrote")


MANIFEST_KEYS = ("tankersim_version", "command", "scenario_name", "scenario_sha256_16", "seed")
"""Keys every manifest.json holds (:func:`sim.outputs.files.manifest`)."""


class IncompleteRunWarning(UserWarning):
    """A run folder lacks a file its writer writes: the report is made without it."""


EXPECTED: dict[str, tuple[str, ...]] = {
    "mc": (
        "replications.parquet",
        "daily.parquet",
        "verdict.json",
        "verdict.md",
        "method.json",
        "cumulative_quantiles.csv",
        "monthly_seen.csv",
    ),
    "posterior": (
        "posterior.parquet",
        "diagnostics.csv",
        "predictive.csv",
        "posterior_replications.parquet",
        "verdict_posterior.json",
        "calibration.json",
    ),
}
"""Files each kind of run writes (a missing one is warned about)."""


# --------------------------------------------------------------------------- figures


def data_uri(path: Path) -> str:
    """A file as a ``data:`` URI (SVG or PNG)."""
    mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@plain_text
def figure_uri(fig: Any) -> str:
    """A matplotlib figure (on its own canvas, never through pyplot) as an SVG ``data:`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plot_file(folder: Path, stem: str) -> Path | None:
    for ext in (".svg", ".png"):
        p = folder / "plots" / f"{stem}{ext}"
        if p.is_file():
            return p
    return None


@dataclass
class Figure:
    """An embedded figure: its anchor, caption, ``data:`` URI and where it came from."""

    id: str
    caption: str
    src: str
    origin: str
    """The file it was read from, or what drew it."""


def _run_figures(run: RunFolder, stems: tuple[str, ...] | None, prefix: str) -> list[Figure]:
    out = []
    if stems is None:
        found = sorted({p.stem for p in (run.path / "plots").glob("*.*")})
        stems = tuple(found)
    for stem in stems:
        p = _plot_file(run.path, stem)
        if p is not None:
            caption = FIGURE_CAPTIONS.get(stem, stem.replace("_", " "))
            out.append(Figure(f"{prefix}-{stem}", caption, data_uri(p), str(p)))
    return out


# --------------------------------------------------------------------------- one replication


def _pick_replication(run: RunFolder | None, sc: Scenario) -> tuple[int, str]:
    """The replication whose tracks the report shows, and why that one."""
    if run is None:
        return 0, "replication 0 of the scenario"
    reps = run.table("replications.parquet")
    v = run.json("verdict.json")
    cond = v.get("conditional") or {}
    if reps is None or not cond.get("matches"):
        return 0, "replication 0 of the scenario"
    h = int(cond["halfwidth"])
    target = int(cond["target"])
    col = f"{v['basis']}_bbl"
    sub = reps[(reps["observed_visits"] - target).abs() <= h]
    median = float(sub[col].median())
    idx = (sub[col] - median).abs().idxmin()
    row = reps.loc[idx]
    r = int(row["replication"])
    why = (
        f"replication {r}: {int(row['observed_visits'])} seen visits and "
        f"{sig(float(row[col]))} bbl {v['basis']}, the replication matching the claimed visits "
        "that is closest to their median"
    )
    return r, why


def _project(sc: Scenario, routes: Any, tracks: pd.DataFrame) -> dict[str, Any]:
    """Everything the track player draws, in SVG coordinates (a 900 px wide frame)."""
    from shapely.geometry import box as shapely_box

    from sim.outputs.maps import _leg_points, _load_land, map_extent, port_label

    pts = [_leg_points(leg) for leg in routes.legs.values()]
    ports = sorted({leg.origin for leg in routes.legs.values()} |
                   {leg.destination for leg in routes.legs.values()})  # fmt: skip
    port_pts = np.array([[sc.port(p).lat, sc.port(p).lon] for p in ports])
    allpts = np.vstack([*pts, port_pts])
    width, height = 900.0, 620.0
    lon0, lon1, lat0, lat1 = map_extent(allpts, width / height)
    k = width / (lon1 - lon0)
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    ky = k / kx  # one degree of latitude is 1/cos of one of longitude on paper

    def xy(lat: Any, lon: Any) -> tuple[Any, Any]:
        return (np.asarray(lon) - lon0) * k, (lat1 - np.asarray(lat)) * ky

    height = (lat1 - lat0) * ky
    land_paths: list[str] = []
    land = _load_land()
    if land is not None:
        clipped = land.intersection(shapely_box(lon0, lat0, lon1, lat1)).simplify(0.01)
        polys = getattr(clipped, "geoms", [clipped])
        for poly in polys:
            if poly.geom_type != "Polygon" or poly.is_empty:
                continue
            x, y = xy(np.asarray(poly.exterior.xy[1]), np.asarray(poly.exterior.xy[0]))
            land_paths.append(
                "M" + " L".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True)) + " Z"
            )
    route_paths = []
    for leg_id, leg in routes.legs.items():
        p = _leg_points(leg)
        x, y = xy(p[:, 0], p[:, 1])
        route_paths.append(
            {
                "d": "M" + " L".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True)),
                "label": f"{port_label(leg.origin)} - {port_label(leg.destination)}: "
                f"{leg.distance_nm:,.0f} nm",
                "id": str(leg_id),
            }
        )
    px, py = xy(port_pts[:, 0], port_pts[:, 1])
    port_marks = [
        {"x": round(float(a), 1), "y": round(float(b), 1), "label": port_label(p)}
        for p, a, b in zip(ports, px, py, strict=True)
    ]
    ships = []
    status_codes = {"laden": 1, "ballast": 2, "idle": 3}
    for ship, g in tracks.groupby("ship", sort=False):
        x, y = xy(g["lat"].to_numpy(), g["lon"].to_numpy())
        ok = np.isfinite(x) & np.isfinite(y)
        ships.append(
            {
                "name": str(ship),
                "x": [round(float(a), 1) if o else None for a, o in zip(x, ok, strict=True)],
                "y": [round(float(b), 1) if o else None for b, o in zip(y, ok, strict=True)],
                "s": [status_codes.get(str(s), 0) for s in g["status"]],
            }
        )
    first = tracks[tracks["ship"] == tracks["ship"].iloc[0]]
    times = [t.strftime("%Y-%m-%d %H:%M") for t in first["time_utc"]]
    return {
        "width": width,
        "height": round(height, 1),
        "land": land_paths,
        "routes": route_paths,
        "ports": port_marks,
        "player": {"times": times, "ships": ships},
    }


def _one_replication(
    sc: Scenario, seed: int, replication: int, why: str, cache_dir: Path | None
) -> tuple[list[Figure], dict[str, Any]]:
    from sim.analysis.tracks import tracks
    from sim.outputs.maps import map_figure
    from sim.outputs.plots import gantt_figure
    from sim.runner.single import run

    result = run(sc, seed=seed, replication=replication, cache_dir=cache_dir)
    tr = tracks(result.events, sc, result.routes, interval_h=6.0)
    figs = [
        Figure(
            "map",
            f"Routes and the tracks of {why}.",
            figure_uri(map_figure(sc, result.routes, tracks=tr, figsize_in=(9, 7), dpi=100)),
            f"tankersim run --seed {seed} --replication {replication}",
        ),
        Figure(
            "gantt",
            f"What each ship did, {why}.",
            figure_uri(gantt_figure(result.events, sc)),
            f"tankersim run --seed {seed} --replication {replication}",
        ),
    ]
    player = _project(sc, result.routes, tr)
    player["caption"] = f"The ships of {why}, every 6 hours."
    return figs, player


# --------------------------------------------------------------------------- the histogram


def _histogram(reps: pd.DataFrame, col_all: str, col_seen: str, claim: float) -> dict[str, Any]:
    """Bars for the hover histogram: the fleet's and the seen visits' barrels.

    Across, positions are percentages of the figure's width and up, pixels: the SVG fills
    the page's width at any size and its text keeps its size (readable on a phone)."""
    top = float(np.nanpercentile(np.r_[reps[col_all], reps[col_seen]], 99.5))
    edges = np.linspace(0.0, max(top, claim * 1.2), 31)
    w = reps["weight"].to_numpy(dtype=float) if "weight" in reps else np.ones(len(reps))
    w = w / w.sum()
    series: list[dict[str, Any]] = []
    for col, name in ((col_all, "all visits (the fleet)"), (col_seen, "seen visits")):
        h, _ = np.histogram(reps[col].to_numpy(dtype=float), bins=edges, weights=w)
        series.append({"name": name, "share": [float(x) for x in h]})
    height, top_px, bottom_px = 240.0, 34.0, 36.0
    left, right = 1.0, 99.0  # per cent of the width
    ymax = max(max(s["share"]) for s in series) or 1.0
    bw = (right - left) / (len(edges) - 1)
    base = height - bottom_px
    bars = []
    for j, s in enumerate(series):
        for i, share in enumerate(s["share"]):
            hgt = (base - top_px) * share / ymax
            bars.append(
                {
                    "x": round(left + i * bw + j * bw / 2, 3),
                    "y": round(base - hgt, 1),
                    "w": round(bw / 2 * 0.9, 3),
                    "h": round(hgt, 1),
                    "cls": "all" if j == 0 else "seen",
                    "title": f"{s['name']}: {sig(edges[i])}-{sig(edges[i + 1])} bbl, "
                    f"{pct(share)} of replications",
                }
            )

    def x_of(v: float) -> float:
        return round(left + (right - left) * v / edges[-1], 3)

    step = 500_000.0 if edges[-1] <= 4e6 else 1e6
    ticks = [
        {
            "x": x_of(t),
            "label": f"{t / 1e6:g} M" if t else "0",
            "anchor": "start" if not t else "end" if x_of(t) > 92 else "middle",
        }
        for t in np.arange(0, edges[-1] + 1, step)
    ]
    cx = x_of(claim)
    return {
        "height": height,
        "bars": bars,
        "claim_x": cx,
        "claim_anchor": "end" if cx > 60 else "start",
        "claim_label": f"claim: {sig(claim)} bbl",
        "ticks": ticks,
        "base_y": base,
        "left": left,
        "right": right,
    }


# ------------------------------------------------------------------------ the answer as a picture


def _x(frac: float) -> float:
    """A share of a scale as a percentage of the strip's width, kept on the strip."""
    return round(100.0 * min(1.0, max(0.0, frac)), 2)


def _p_row(
    label: str, p: Any, lo: Any, hi: Any, word: str, cls: str, value: str | None = None
) -> dict[str, Any] | None:
    """One row of the probability strip: a dot at ``p`` and a whisker over ``lo``-``hi``."""
    pf = _number(p)
    if pf is None:
        return None
    lof, hif = _number(lo), _number(hi)
    row = {
        "label": label,
        "value": value or f"{pct(pf)}, {word}",
        "cls": cls,
        "mid": _x(pf),
        "lo": _x(lof) if lof is not None else None,
        "hi": _x(hif) if hif is not None else None,
        "marks": [],
    }
    return row


def _cap(word: str) -> str:
    """A verdict word with its first letter a capital (``Very implausible``)."""
    return word[:1].upper() + word[1:]


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten at or above ``raw``."""
    mag = 10 ** math.floor(math.log10(raw))
    return next(k * mag for k in (1.0, 2.0, 2.5, 5.0, 10.0) if k * mag >= raw)


def _bbl_row(label: str, iv: dict[str, Any], scale: float, cls: str, what: str) -> dict[str, Any]:
    mid, lo, hi = (_number(iv.get(k)) for k in ("median", "lo", "hi"))
    return {
        "label": label,
        "value": f"median {sig(mid)} bbl ({what}: {sig(lo)}-{sig(hi)})"
        if mid is not None
        else f"{MISSING} not available",
        "cls": cls,
        "mid": _x(mid / scale) if mid is not None else None,
        "lo": _x(lo / scale) if lo is not None else None,
        "hi": _x(hi / scale) if hi is not None else None,
        "marks": [],
    }


def _picture(
    claims: ClaimsCheck,
    post_run: RunFolder | None,
    mc: RunFolder | None,
    audit_run: RunFolder | None,
) -> dict[str, Any] | None:
    """The answer as a picture for the first screen, from the verdicts the runs wrote:

    the chance that the seen visits (and the fleet, counting unseen visits) carried the
    claim, on a 0-100 % strip shaded by the verdict words, for the audit's range, the
    evidence-based posterior and the prior-only Monte Carlo; and the barrels of the seen
    visits and of the fleet against the claim's barrels. Positions are percentages of the
    strip's width, so the picture fills a phone or a desktop and its text is HTML."""
    from sim.analysis.verdict import WORDS

    if not claims.barrels or (post_run is None and mc is None and audit_run is None):
        return None
    claim = float(claims.barrels)
    visits = f"the {claims.trips} seen visits" if claims.trips else "the seen visits"
    p_rows: list[dict[str, Any] | None] = []
    lead: dict[str, str] = {}
    bbl: list[tuple[str, dict[str, Any], str, str]] = []
    bbl_source = ""
    if audit_run is not None:
        a = audit_run.json("robustness.json")
        lo, hi = a["range"]
        d = a.get("default") or {}
        settings = [_number(x.get("p_seen")) for x in a.get("settings") or []]
        row = _p_row(
            f"Across the assumption audit ({len(settings) or 'every'} settings), {visits}",
            d.get("p_seen"),
            lo,
            hi,
            str(d.get("word", "")),
            "range",
            value=f"{pct(lo)} to {pct(hi)}; default {pct(d.get('p_seen'))}, "
            f"{d.get('word', MISSING)}",
        )
        if row is not None:
            row["marks"] = [_x(x) for x in settings if x is not None]
        p_rows.append(row)
        lead = {
            "word": f"{pct(lo)} to {pct(hi)}",
            "cls": "range",
            "text": f"the chance that {visits} carried {sig(claim)} barrels or more, across "
            f"the assumption audit (default {pct(d.get('p_seen'))}, {d.get('word', MISSING)}).",
        }
    if post_run is not None:
        v = post_run.json("verdict_posterior.json")
        seen, fleet = v["seen"], v["fleet"]
        for what, x, word, cls in (
            (visits, seen, v["word"], "seen"),
            ("the fleet, counting unseen visits", fleet, v["fleet_word"], "fleet"),
        ):
            m = _number(x.get("mcse"))
            p = _number(x.get("p"))
            pm = f" ± {100 * m:.1f} points" if m is not None else ""
            p_rows.append(
                _p_row(
                    f"With the evidence: {what}",
                    p,
                    None if p is None or m is None else p - 2 * m,
                    None if p is None or m is None else p + 2 * m,
                    word,
                    cls,
                    value=f"{pct(p)}{pm}, {word}",
                )
            )
        q = v.get("quantities") or {}
        bbl_source = "90 % credible interval, given the evidence"
        bbl = [
            (f"Barrels of {visits}", q.get("seen_claim_bbl") or {}, "seen", "90 %"),
            ("Barrels the fleet loaded", q.get("fleet_claim_bbl") or {}, "fleet", "90 %"),
        ]
        lead = {
            "word": _cap(str(v["word"])),
            "cls": str(v["word"]).replace(" ", "-"),
            "text": f"given the evidence, {visits} carried {sig(claim)} barrels or more with "
            f"probability {pct(seen.get('p'))}; counting the visits nobody saw, the fleet "
            f"loaded that much with probability {pct(fleet.get('p'))} ({v['fleet_word']}).",
        }
    if mc is not None:
        v = mc.json("verdict.json")
        c = v.get("conditional") or {}
        h = v.get("headline") or {}
        seen_p = c.get("p_observed_bbl_ge_claimed") or {}
        fleet_p = c.get("p_claim") or {}
        fleet_word = str(h.get("word", ""))
        seen_word = str(h.get("word_seen", ""))
        for what, x, word, cls in (
            (visits, seen_p, seen_word, "seen"),
            ("the fleet, counting unseen visits", fleet_p, fleet_word, "fleet"),
        ):
            p_rows.append(
                _p_row(
                    f"Prior only (no evidence weighed): {what}",
                    x.get("p"),
                    x.get("lo"),
                    x.get("hi"),
                    word,
                    cls + " prior",
                )
            )
        if not bbl:
            seen_b = c.get("observed_bbl") or {}
            fleet_b = c.get("barrels") or {}
            bbl_source = (
                f"90 % interval of the {c.get('matches', MISSING)} replications matching the "
                "claimed visits, before the evidence is weighed"
            )
            bbl = [
                (
                    f"Barrels of {visits}",
                    {"median": seen_b.get("p50"), "lo": seen_b.get("p05"),
                     "hi": seen_b.get("p95")},
                    "seen",
                    "90 %",
                ),
                (
                    f"Barrels the fleet {v.get('basis', 'loaded')}",
                    {"median": fleet_b.get("p50"), "lo": fleet_b.get("p05"),
                     "hi": fleet_b.get("p95")},
                    "fleet",
                    "90 %",
                ),
            ]  # fmt: skip
        if post_run is None and audit_run is None:
            lead = {
                "word": _cap(seen_word),
                "cls": seen_word.replace(" ", "-"),
                "text": f"before the evidence is weighed, {visits} carried {sig(claim)} "
                f"barrels or more with probability {pct(seen_p.get('p'))}; counting the "
                f"visits nobody saw, the fleet {v.get('basis', 'loaded')} that much with "
                f"probability {pct(fleet_p.get('p'))} ({fleet_word}).",
            }
    rows = [r for r in p_rows if r is not None]
    bands: list[dict[str, Any]] = []
    cuts = sorted(WORDS)  # (lowest p, word), lowest first
    for i, (p0, word) in enumerate(cuts):
        p1 = cuts[i + 1][0] if i + 1 < len(cuts) else 1.0
        bands.append({"x": _x(p0), "w": round(_x(p1) - _x(p0), 2), "word": word, "i": i,
                      "p0": p0, "p1": p1})  # fmt: skip
    panels: list[dict[str, Any]] = [
        {
            "id": "answer-p",
            "title": f"The chance that {visits} carried the claim's {sig(claim)} barrels",
            "rows": rows,
            "bands": bands,
            "ticks": [
                {"x": _x(t), "label": f"{100 * t:g} %" if t else "0"} for t in (0, 0.1, 0.5, 1)
            ],
            "claim_x": None,
            "claim_label": None,
            "legend": "Shading: the verdict words, "
            + ", ".join(f"{b['word']} {100 * b['p0']:g}-{100 * b['p1']:g} %" for b in bands)
            + ". Whiskers: Monte Carlo error (about 95 %)"
            + ("; bar and ticks: the audit's range and its settings." if audit_run else "."),
        }
    ]
    ends = [_number(iv.get(k)) for _, iv, _, _ in bbl for k in ("median", "lo", "hi")]
    known = [e for e in ends if e is not None]
    if known:
        top = max(claim * 1.25, max(known) * 1.05)
        step = _nice_step(top / 4)
        scale = math.ceil(top / step) * step
        ticks = [
            {
                "x": _x(t / scale),
                "label": "0" if not t else f"{t / 1e6:g} M" if step >= 1e5 else sig(t),
            }
            for t in np.arange(0.0, scale + step / 2, step)
        ]
        panels.append(
            {
                "id": "answer-bbl",
                "title": f"Barrels in the window, against the claim's {sig(claim)}",
                "rows": [_bbl_row(lab, iv, scale, cls, w) for lab, iv, cls, w in bbl],
                "bands": [],
                "ticks": ticks,
                "claim_x": _x(claim / scale),
                "claim_label": f"claim {sig(claim)} bbl",
                "legend": f"Dot: the median; bar: the {bbl_source}; red line: the claim.",
            }
        )
    if not rows:
        return None
    alt = [f"{lead.get('word', '')}: {lead.get('text', '')}"]
    for panel in panels:
        alt.append(panel["title"] + ": " + "; ".join(
            f"{r['label']}: {r['value']}" for r in panel["rows"]) + ".")  # fmt: skip
    return {"lead": lead, "panels": panels, "alt": " ".join(alt)}


# --------------------------------------------------------------------------- the report's content


def _command(manifest: dict[str, Any]) -> str:
    argv = list(manifest.get("argv") or [])
    if not argv:
        return ""
    argv[0] = "tankersim"
    return " ".join(shlex.quote(a) for a in argv)


def _evidence_rows(sc: Scenario) -> list[dict[str, str]]:
    path = sc.evidence_path()
    if path is None or not path.is_file():
        return []
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = []
    for _, r in df.iterrows():
        what = " ".join(x for x in (r.get("relation", ""), r.get("count", ""),
                                    r.get("bbl", ""), r.get("share", "")) if x)  # fmt: skip
        dates = r.get("date_from", "")
        if r.get("date_to", "") and r.get("date_to") != dates:
            dates += " to " + r["date_to"]
        rows.append(
            {
                "id": r.get("id", ""),
                "kind": r.get("kind", ""),
                "dates": dates,
                "ship": r.get("ship", ""),
                "place": r.get("place", ""),
                "reported": what,
                "source": r.get("source", ""),
                "confidence": r.get("confidence", ""),
                "note": r.get("note", ""),
                "basis": r.get("basis", "") or "unstated",
                "independence": r.get("independence", "") or "unstated",
            }
        )
    return rows


def _credible(iv: dict[str, Any], unit: str = "") -> tuple[str, str]:
    """A posterior quantity's median and its 90 % credible interval, as text."""
    value = sig(iv["median"]) + (f" {unit}" if unit else "")
    return value, f"90 % credible interval {sig(iv['lo'])}-{sig(iv['hi'])}"


def _posterior_answer(run: RunFolder) -> dict[str, Any]:
    from sim.outputs.posterior_plots import label_of

    v = run.json("verdict_posterior.json")
    q = v["quantities"]
    seen, fleet = v["seen"], v["fleet"]
    rows = [
        (
            "P(the seen visits carried the claim | evidence)",
            f"{pct(seen['p'])}{_points(seen.get('mcse'))} points (Monte Carlo error)"
            if _number(seen.get("mcse")) is not None
            else pct(seen["p"]),
            v["word"],
        ),
        (
            "P(the fleet loaded the claim | evidence)",
            f"{pct(fleet['p'])}{_points(fleet.get('mcse'))} points"
            if _number(fleet.get("mcse")) is not None
            else pct(fleet["p"]),
            v["fleet_word"],
        ),
        ("barrels of the seen visits", *_credible(q["seen_claim_bbl"], "bbl")),
        ("barrels loaded by the fleet", *_credible(q["fleet_claim_bbl"], "bbl")),
        ("trips (all visits)", *_credible(q["trips"])),
        ("mean parcel per seen visit", *_credible(q["mean_seen_parcel_bbl"], "bbl")),
    ]
    for a in v.get("alternatives") or []:
        rows.insert(
            1,
            (
                f"the same, fitting evidence set '{a['evidence']}'",
                f"{pct(a['p_seen'])}{_points(a.get('mcse'))} points"
                if _number(a.get("mcse")) is not None
                else pct(a["p_seen"]),
                a["word"],
            ),
        )
    rows += [(label_of(key), *_credible(iv)) for key, iv in v["parameters"].items()]
    held = [
        {
            "label": h["label"],
            "reported": h["reported"],
            "simulated": _interval(h.get("p05"), h.get("p50"), h.get("p95")),
            "percentile": pct(h.get("percentile")),
            "agree": pct(h.get("p_agree")),
            "flagged": bool(h["flagged"]),
            "why": h["why_held_out"],
        }
        for h in v.get("held_out") or []
    ]
    from sim.outputs.render import settle_groups

    class _S:  # settle_groups reads attributes
        def __init__(self, d: dict[str, Any]) -> None:
            self.__dict__.update(d)

    settle = [
        {
            "label": x.label,
            "change": f"{100 * x.expected_change:.1f} points",
            "low": pct(x.p_low),
            "high": pct(x.p_high),
        }
        for x in settle_groups([_S(d) for d in v.get("settle") or []])[:3]
    ]
    return {
        "evidence_set": v.get("evidence_set", "all"),
        "fitted": list(v.get("fitted") or []),
        "held_out": held,
        "flagged": sum(1 for h in held if h["flagged"]),
        "settle": settle,
        "word": v["word"],
        "fleet_word": v["fleet_word"],
        "headline": v["headline"],
        "must": v["must_believe"]["sentence"],
        "prior": v.get("prior", "scenario"),
        "rows": [{"label": a, "value": b, "note": c} for a, b, c in rows],
        "notes": list(v.get("notes") or []),
        "particles": v.get("particles"),
        "replications": v.get("replications"),
    }


def _audit(run: RunFolder) -> dict[str, Any]:
    """The assumption audit's range, deciders and swings (robustness.json)."""
    from sim.runner.robustness import decides

    a = run.json("robustness.json")
    lo, hi = a["range"]
    return {
        "headline": a["headline"],
        "range": f"{pct(lo)}-{pct(hi)}",
        "deciders": list(a.get("deciders") or []),
        "default": f"{pct(a['default']['p_seen'])} ({a['default']['word']})",
        "population": a.get("population"),
        "swings": [
            {
                "label": r["label"],
                "low": pct(r["p_low"]),
                "at_low": r["at_low"],
                "high": pct(r["p_high"]),
                "at_high": r["at_high"],
                "decisive": bool(r["decisive"]),
                "decides": decides(r),
            }
            for r in a.get("swings") or []
        ],
    }


def _wilson(p: dict[str, Any]) -> str:
    return f"{pct(p['p'])} (Monte Carlo interval {pct(p['lo'])}-{pct(p['hi'])})"


def _mc_answer(run: RunFolder) -> dict[str, Any]:
    v = run.json("verdict.json")
    c = v.get("conditional") or {}
    rows = []
    if c.get("p_claim"):
        note = f"{c['matches']:,} matching replications of {v['replications']:,}"
        label = f"P(the fleet {v['basis']} the claim | claimed visits seen)"
        rows.append({"label": label, "value": _wilson(c["p_claim"]), "note": note})
    if c.get("p_observed_bbl_ge_claimed"):
        label = "P(the seen visits carried the claim | claimed visits seen)"
        rows.append({"label": label, "value": _wilson(c["p_observed_bbl_ge_claimed"]), "note": ""})
    b = c.get("barrels")
    if b:
        label = f"barrels {v['basis']} (matching replications)"
        note = f"90 % interval {sig(b['p05'])}-{sig(b['p95'])}"
        rows.append({"label": label, "value": f"{sig(b['p50'])} bbl", "note": note})
    return {
        "word": v["headline"]["word"],
        "word_seen": v["headline"]["word_seen"],
        "headline": v["headline"]["text"],
        "rows": rows,
        "replications": v["replications"],
    }


def _text(x: Any) -> str:
    """A table cell as text: a missing value (None, NaN, empty) is :data:`MISSING`."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or str(x).strip() == "":
        return MISSING
    return str(x)


def _checks_rows(run: RunFolder) -> list[dict[str, str]]:
    df = run.table("checks.csv")
    if df is None:
        return []
    rows = []
    for _, r in df.iterrows():
        status = _text(r["status"])
        ran = _number(r["simulated_p50"]) is not None
        # a row the model does not produce (status "not used: ...") is not simulated: say so
        why = "not simulated (see used)" if status.startswith("not used") else "not available"
        rows.append(
            {
                "id": _text(r["id"]),
                "measured": _text(r["measured"]),
                "reported": _text(r["reported"]),
                "simulated": _interval(r["simulated_p05"], r["simulated_p50"], r["simulated_p95"])
                if ran
                else f"{MISSING} {why}",
                "agrees": pct(r["p_agrees"]) if ran else MISSING,
                "status": status,
            }
        )
    return rows


def _yes(x: Any) -> bool:
    """A boolean cell (``True``, ``"True"``, ``1``); a missing one is no."""
    if isinstance(x, str):
        return x.strip().lower() in ("true", "1", "yes")
    return _number(x) not in (None, 0.0)


def _predictive_rows(run: RunFolder) -> list[dict[str, str]]:
    df = run.table("predictive.csv")
    if df is None:
        return []
    return [
        {
            "statistic": _text(r["statistic"]),
            "reported": _text(r["reported"]),
            "fitted": "yes" if _yes(r["fitted"]) else "no (checked)",
            "simulated": _interval(r["p05"], r["median"], r["p95"]),
            "prior": pct(r["agree_prior"]),
            "posterior": pct(r["agree_posterior"]),
        }
        for _, r in df.iterrows()
    ]


def _priors_rows(run: RunFolder) -> list[dict[str, Any]]:
    df = run.table("prior_sensitivity.csv")
    if df is None:
        return []
    return [
        {
            "prior": _text(r["prior"]),
            "description": _text(r["description"]),
            "p": _number(r["p_seen"]),
            "p_seen": pct(r["p_seen"])
            + (_points(r["p_seen_mcse"]) if _number(r["p_seen"]) is not None else ""),
            "word": _text(r["word"]),
            "p_fleet": pct(r["p_fleet"])
            + (_points(r["p_fleet_mcse"]) if _number(r["p_fleet"]) is not None else ""),
            "fleet_word": _text(r["fleet_word"]),
        }
        for _, r in df.iterrows()
    ]


def _depends(priors: list[dict[str, Any]]) -> str | None:
    """One sentence when the verdict word changes with the prior set, else ``None``."""
    words = {p["word"] for p in priors}
    if len(words) < 2:
        return None
    parts = [f"{p['word']} under '{p['prior']}' ({p['p_seen']} points)" for p in priors]
    return (
        "It depends on the prior: the seen visits' verdict is " + "; ".join(parts) + ". "
        "Read the answer as conditional on the prior you find most credible."
    )


def _changes(
    claims: ClaimsCheck, post: dict[str, Any] | None, priors: list[dict[str, Any]]
) -> list[str]:
    out = []
    if post is not None:
        out.append(post["must"])
    words = {p["word"] for p in priors}
    if len(words) > 1:
        lo = min(priors, key=lambda p: math.inf if p["p"] is None else p["p"])
        out.append(
            f"The answer depends on the prior: it ranges over {', '.join(sorted(words))}; "
            f"under '{lo['prior']}' ({lo['description']}) P(seen visits carried the claim) is "
            f"{lo['p_seen']} points."
        )
    elif priors:
        out.append(f"Every prior set tried gives the same word: {priors[0]['word']}.")
    if claims.per_visit is not None:
        s = claims.per_visit.ship
        out.append(
            f"A documented size for the fleet: ships of much less than about "
            f"{sig(s.dwt_approx)} dwt, loaded to {s.mean_load_factor:.0%}, cannot carry "
            f"{sig(claims.per_visit.bbl_per_visit)} bbl a visit, so the claim would rest on "
            "visits nobody saw."
        )
    if post is not None and post.get("settle"):
        out.append(
            "What would settle it, most first: "
            + "; ".join(f"{x['label']} ({x['change']})" for x in post["settle"])
            + "."
        )
    out.append(
        "A sourced deadweight for more of the named ships narrows the size prior directly: "
        "each is one more known ship (docs/calibration.md, the size prior)."
    )
    return out


def build_report(
    folders: list[str | Path], *, cache_dir: Path | None = None, tracks: bool = True
) -> dict[str, Any]:
    """The report's content from run folders (see the module's documentation)."""
    runs = [read_run(f) for f in folders]
    if not runs:
        raise OptionError("run_dir", None, "give at least one run folder")
    by_kind: dict[str, list[RunFolder]] = {}
    for r in runs:
        by_kind.setdefault(r.kind, []).append(r)
    mc = by_kind.get("mc", [None])[0]
    priors = by_kind.get("priors", [None])[0]
    post_run = by_kind.get("posterior", [None])[0]
    audit_run = by_kind.get("robustness", [None])[0]
    if post_run is None and priors is not None:
        post_run = next((c for c in priors.children if c.path.name == "scenario"), None)
    lead = mc or post_run or audit_run or runs[0]
    sc = lead.scenario
    if sc is None:
        raise OptionError("run_dir", str(lead.path), "holds no scenario.resolved.toml")
    names = {r.manifest.get("scenario_sha256_16") for r in runs} - {None}
    claims = check_claims(sc)
    ctx: dict[str, Any] = {
        "scenario": {"name": sc.name, "title": sc.title or sc.name, "description": sc.description},
        "claims": claims,
        "question": (
            f"Could {claims.trips} visits seen between {claims.start:%-d %B %Y} and "
            f"{claims.end:%-d %B %Y} plausibly have carried "
            f"{'over ' if claims.barrels else ''}{sig(claims.barrels)} barrels?"
            if claims.trips and claims.barrels
            else "What did the fleet carry in the window?"
        ),
        "claim_source": claims.source,
        "mixed_scenarios": len(names) > 1,
    }
    post = _posterior_answer(post_run) if post_run is not None else None
    ctx["posterior"] = post
    ctx["prior_mc"] = _mc_answer(mc) if mc is not None else None
    ctx["priors"] = _priors_rows(priors) if priors is not None else []
    ctx["audit"] = _audit(audit_run) if audit_run is not None else None
    ctx["picture"] = _picture(claims, post_run, mc, audit_run)
    ctx["which"] = _which(post_run, mc, audit_run)
    ctx["evidence"] = _evidence_rows(sc)
    ctx["checks"] = _checks_rows(mc) if mc is not None else []
    ctx["predictive"] = _predictive_rows(post_run) if post_run is not None else []
    figures: list[Figure] = []
    if post_run is not None:
        figures += _run_figures(post_run, POSTERIOR_FIGURES, "posterior")
    if mc is not None:
        figures += _run_figures(mc, MC_FIGURES, "mc")
    if priors is not None:
        figures += _run_figures(priors, ("priors",), "priors")
    if audit_run is not None:
        figures += _run_figures(audit_run, ("tornado",), "robustness")
    for kind in ("sweep", "sensitivity"):
        for r in by_kind.get(kind, []):
            figures += _run_figures(r, None, kind)
    ctx["player"] = None
    if tracks:
        seed = int((mc or post_run or lead).manifest.get("seed", sc.seed))
        rep, why = _pick_replication(mc, sc)
        figs, player = _one_replication(sc, seed, rep, why, cache_dir)
        figures += figs
        ctx["player"] = player
    rank = {name: i for i, name in enumerate(FIGURE_ORDER)}
    ctx["figures"] = sorted(figures, key=lambda f: rank.get(f.id, len(rank)))
    hist_src = None
    if post_run is not None and (post_run.path / "posterior_replications.parquet").is_file():
        hist_src = post_run.table("posterior_replications.parquet"), "the posterior's replications"
    elif mc is not None:
        hist_src = mc.table("replications.parquet"), "all replications (prior)"
    ctx["histogram"] = None
    if hist_src is not None and hist_src[0] is not None and claims.barrels:
        basis = sc.claims.basis
        ctx["histogram"] = _histogram(hist_src[0], f"{basis}_bbl", "observed_bbl", claims.barrels)
        ctx["histogram"]["what"] = hist_src[1]
    ctx["assumptions"] = [
        {**a.to_dict(), "level_words": LEVEL_WORDS.get(a.level, a.level)} for a in assumptions(sc)
    ]
    ctx["limits"] = list(LIMITS)
    ctx["changes"] = _changes(claims, post, ctx["priors"])
    ctx["depends"] = _depends(ctx["priors"])
    ctx["runs"] = [_repro(r) for r in runs]
    from sim import __version__

    ctx["generated_utc"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    ctx["version"] = __version__
    ctx["report_command"] = "tankersim report " + " ".join(shlex.quote(str(f)) for f in folders)
    return ctx


def _which(
    post_run: RunFolder | None, mc: RunFolder | None, audit_run: RunFolder | None
) -> dict[str, Any]:
    """Which answer the page leads with, and the commands that made it and the other one."""
    post_cmd = None
    if post_run is not None:
        cmd = post_run.manifest.get("command")
        post_cmd = "tankersim mc --posterior" if cmd == "mc" else "tankersim calibrate"
    return {
        "lead": "posterior" if post_run else "audit" if audit_run else "prior" if mc else None,
        "posterior_command": post_cmd,
        "mc": mc is not None,
        "audit": audit_run is not None,
    }


def _repro(r: RunFolder) -> dict[str, Any]:
    m = r.manifest
    if r.kind == "priors":
        command = f"tankersim calibrate {shlex.quote(m.get('scenario_path', ''))} --all-priors"
    else:
        command = _command(m)
    return {
        "folder": str(r.path),
        "kind": r.kind,
        "command": command,
        "seed": m.get("seed"),
        "scenario_sha": m.get("scenario_sha256_16"),
        "evidence_sha": m.get("evidence_sha256_16"),
        "streams": m.get("random_streams"),
        "engine": m.get("engine"),
        "created": m.get("created_utc"),
        "versions": ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items()),
    }


# --------------------------------------------------------------------------- rendering


def _environment(markdown: bool) -> Any:
    import jinja2
    import markupsafe

    from sim.outputs.render import md_escape

    def finalize(value: Any) -> Any:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return MISSING  # a number or field the run did not write: never "None" or "nan"
        if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
            if markdown:  # md_escape shows bidirectional controls too
                return md_escape(value).replace("\n", " ")
            return reveal_bidi(value)  # shown as it reads, never reordered
        return value

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=not markdown,
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["sig"] = sig
    env.filters["pct"] = pct
    env.filters["json_script"] = _json_script
    return env


def _json_script(value: Any) -> Any:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&``."""
    import markupsafe

    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return markupsafe.Markup(text)


def _script() -> str:
    return (TEMPLATES / "report.js").read_text(encoding="utf-8")


def render_html(ctx: dict[str, Any]) -> str:
    """The report as one self-contained HTML page."""
    script = _script()
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    env = _environment(markdown=False)
    return str(
        env.get_template("report.html.j2").render(
            **ctx, script=script, script_hash=f"sha256-{digest}"
        )
    )


def render_markdown(ctx: dict[str, Any], *, figure_dir: Path | None = None) -> str:
    """The report in Markdown; figures are linked to their files (relative to
    ``figure_dir``, where the Markdown file lives), those drawn for the report are left out."""
    import markupsafe

    figures = []
    for f in ctx["figures"]:
        if Path(f.origin).is_file():
            origin = Path(f.origin)
            link = os.path.relpath(origin, figure_dir) if figure_dir is not None else str(origin)
            url = urllib.parse.quote(link.replace(os.sep, "/"))  # a URL: nothing to escape
            figures.append({"caption": f.caption, "link": markupsafe.Markup(url)})
    env = _environment(markdown=True)
    return str(env.get_template("report.md.j2").render(**ctx, md_figures=figures))


def claims_markdown(check: ClaimsCheck) -> str:
    """The claims check alone in Markdown (``tankersim claims``)."""
    env = _environment(markdown=True)
    return str(env.get_template("claims.md.j2").render(claims=check))


def write_report(
    folders: list[str | Path],
    out: Path,
    *,
    cache_dir: Path | None = None,
    tracks: bool = True,
) -> list[Path]:
    """Write ``out`` (HTML) and the Markdown twin beside it (``.md``); returns both paths."""
    from sim.outputs.files import atomic_write_text, ensure_writable

    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        out = out.with_suffix(".html") if out.suffix else out / "report.html"
    ensure_writable(out.parent)
    try:
        ctx = build_report(folders, cache_dir=cache_dir, tracks=tracks)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError) as exc:
        if isinstance(exc, OptionError | ScenarioError):
            raise
        # A file that read but does not hold what its writer wrote (a key missing, a value
        # of another type): name the folders, never a traceback.
        names = ", ".join(str(f) for f in folders)
        raise OptionError(
            "run_dir",
            names,
            f"a damaged or hand-edited run folder ({_why(exc)}); run its command again",
        ) from None
    html = render_html(ctx)
    md_path = out.with_suffix(".md")
    md = render_markdown(ctx, figure_dir=md_path.parent)
    atomic_write_text(out, html)
    atomic_write_text(md_path, md)
    return [out, md_path]


_TAG = re.compile(r"<script\b", re.IGNORECASE)


def script_tags(html: str) -> int:
    """How many ``<script`` tags a page holds (the report's own: the JSON data and the script)."""
    return len(_TAG.findall(html))
