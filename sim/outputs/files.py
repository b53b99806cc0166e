"""Writing outputs: provenance (resolved scenario, manifest), tables, JSON and GeoJSON, and the
file sets of ``run``, ``mc``, ``sweep`` and ``sensitivity``."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import re
import sys
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import __version__
from sim.core.config import Scenario
from sim.core.io import atomic_path, atomic_write_text
from sim.core.lock import LOCK_NAME
from sim.core.rng import STREAM_VERSION

if TYPE_CHECKING:  # pragma: no cover
    from sim.core.routes import RouteTable
    from sim.runner.batch import McResult
    from sim.runner.calibrate import CalibrationResult
    from sim.runner.sensitivity import SensitivityResult
    from sim.runner.single import RunResult
    from sim.runner.sweep import SweepResult

DEPENDENCIES = (
    "simpy",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "pyproj",
    "shapely",
    "pydantic",
)


def versions() -> dict[str, str]:
    """Versions of Python, tankersim and its main dependencies."""
    out = {"python": platform.python_version(), "tankersim": __version__}
    for name in DEPENDENCIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - optional packages
            out[name] = "not installed"
    return out


def manifest(
    scenario: Scenario, *, scenario_path: str, seed: int, command: str, **extra: Any
) -> dict[str, Any]:
    """What made an output: scenario (path and digest), seed, versions, command line."""
    return {
        "tankersim_version": __version__,
        "command": command,
        "argv": sys.argv,
        "scenario_name": scenario.name,
        "scenario_path": scenario_path,
        "scenario_sha256_16": scenario.digest(),
        "evidence_sha256_16": evidence_digest(scenario),
        "random_streams": STREAM_VERSION,
        "seed": seed,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        **extra,
    }


def evidence_digest(scenario: Scenario) -> str | None:
    """SHA-256 of the scenario's evidence file (first 16 hex digits), or None."""
    import hashlib

    path = scenario.evidence_path()
    if path is None or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def write_provenance(
    out_dir: Path,
    scenario: Scenario,
    *,
    scenario_path: str,
    seed: int,
    command: str,
    **extra: Any,
) -> list[Path]:
    """Write ``scenario.resolved.toml`` and ``manifest.json`` into ``out_dir``; return both."""
    out_dir.mkdir(parents=True, exist_ok=True)
    resolved = out_dir / "scenario.resolved.toml"
    evidence = scenario.evidence_path()
    paths_extra: list[Path] = []
    if evidence is not None and evidence.is_file():
        # The evidence travels with the resolved scenario, which names it by its file name.
        copy = out_dir / evidence.name
        if copy.resolve() != evidence.resolve():
            with atomic_path(copy) as tmp:
                tmp.write_bytes(evidence.read_bytes())
        paths_extra.append(copy)
        atomic_write_text(
            resolved, scenario.model_copy(update={"evidence": evidence.name}).to_toml()
        )
    else:
        atomic_write_text(resolved, scenario.to_toml())
    man = out_dir / "manifest.json"
    write_json(
        man,
        manifest(scenario, scenario_path=scenario_path, seed=seed, command=command, **extra),
    )
    return [resolved, man, *paths_extra]


def _finite(obj: Any) -> Any:
    """The same structure with NaN and infinities as ``null`` (strict JSON has neither)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):
        return _finite(obj.item())
    return obj


def safe_name(text: str, *, fallback: str = "scenario") -> str:
    """One path component made from a user string: letters, digits, ``.``, ``_`` and ``-``
    only (other runs of characters become ``_``), no leading dot, at most 80 characters.

    >>> safe_name("../x"), safe_name("/etc/passwd"), safe_name("osc 2024: <b>"), safe_name("..")
    ('x', 'etc_passwd', 'osc_2024_b', 'scenario')
    >>> safe_name("a/../../b"), safe_name("osc-2024.v2")
    ('a_b', 'osc-2024.v2')
    """
    out = re.sub(r"[^A-Za-z0-9._-]+|\.{2,}", "_", text)
    out = re.sub(r"_{2,}", "_", out).strip("._-")[:80].rstrip("._-")
    return out or fallback


def ensure_writable(folder: Path, option: str = "out") -> Path:
    """Create ``folder`` and check a file can be written there, before any work starts; a
    folder that cannot be is an :class:`OptionError` naming ``option``."""
    from sim.core.errors import OptionError

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OptionError(option, str(folder), "a file is in the way; give a folder")
    probe = folder / f".tankersim-write-test-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OptionError(option, str(folder), f"cannot write there ({exc.strerror})") from None
    return folder


def write_json(path: Path, data: Any) -> None:
    """Write strict JSON (NaN and infinities become ``null``)."""
    text = json.dumps(_finite(data), indent=2, default=_json_default, allow_nan=False)
    atomic_write_text(path, text + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


CSV_DECIMALS_BY_UNIT: dict[str, int] = {
    "deg": 1,
    "nm": 3,
    "m": 2,
    "h": 4,
    "s": 3,
    "days": 4,
    "kn": 3,
    "bbl": 1,
    "t": 1,
    "m3": 1,
    "p": 4,
    "share": 4,
    "prob": 4,
}
"""Decimals a CSV keeps for a float column, by the unit its name ends in (``t_h`` -> h,
``capacity_bbl__YU SON`` -> bbl, ``p_detect`` -> p): what the data carries, not 16 digits
(distances to 2 m and times to under a second, so that a time derived from a distance in the
same file agrees with it to about 1e-6)."""
CSV_DECIMALS_BY_NAME: dict[str, int] = {"lat": 6, "lon": 6}
"""Decimals of particular columns: positions to 6 decimals of a degree (about 0.1 m)."""
CSV_SIGNIFICANT = 6
"""Significant digits of a float column whose unit is not known (of its largest value)."""


def csv_decimals(column: str, values: pd.Series | None = None) -> int | None:
    """Decimals a CSV keeps for a float column (None: leave it as it is).

    By name (:data:`CSV_DECIMALS_BY_NAME`), else by the last unit among the words of its name
    before any ``__<ship>`` suffix (:data:`CSV_DECIMALS_BY_UNIT`), else
    :data:`CSV_SIGNIFICANT` significant digits of the column's largest value.

    >>> csv_decimals("lat"), csv_decimals("t_h"), csv_decimals("capacity_bbl__YU SON")
    (6, 4, 1)
    >>> csv_decimals("p_detect"), csv_decimals("ev:osc-visits", pd.Series([0.25, 12.5]))
    (4, 4)
    """
    if column in CSV_DECIMALS_BY_NAME:
        return CSV_DECIMALS_BY_NAME[column]
    words = re.split(r"[_.:\s]+", column.split("__")[0].lower())
    for word in reversed(words):
        if word in CSV_DECIMALS_BY_UNIT:
            return CSV_DECIMALS_BY_UNIT[word]
    if values is None:
        return None
    finite = values.to_numpy(dtype=float)
    finite = np.abs(finite[np.isfinite(finite)])
    top = float(finite.max()) if len(finite) else 0.0
    if top == 0.0:
        return 0
    return int(min(12, max(0, CSV_SIGNIFICANT - 1 - math.floor(math.log10(top)))))


MIXED_UNITS = "csv_mixed_units"
"""``df.attrs[MIXED_UNITS]``: float columns whose rows carry different units (a predictive
check's percentiles: visits, barrels, shares); each value keeps :data:`CSV_SIGNIFICANT`
significant digits of its own instead of the column's decimals."""


def significant(values: pd.Series, digits: int = CSV_SIGNIFICANT) -> pd.Series:
    """Each value rounded to ``digits`` significant digits of its own.

    >>> significant(pd.Series([0.3412341, 271106.4, 0.0, float("nan")])).tolist()[:3]
    [0.341234, 271106.0, 0.0]
    """
    x = values.to_numpy(dtype=float)
    out = np.array([float(f"{v:.{digits}g}") if np.isfinite(v) else v for v in x])
    return pd.Series(out, index=values.index, name=values.name)


def rounded_for_csv(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every float column rounded to :func:`csv_decimals` (the columns
    named in ``df.attrs[MIXED_UNITS]`` value by value: :func:`significant`; other columns as
    they are)."""
    out = df.copy()
    mixed = set(df.attrs.get(MIXED_UNITS, ()))
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col].dtype):
            if col in mixed:
                out[col] = significant(out[col])
                continue
            d = csv_decimals(str(col), out[col])
            if d is not None:
                out[col] = out[col].round(d)
    return out


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a table as Parquet (``.parquet``, full precision) or CSV (``.csv``, floats rounded
    to what they carry: :func:`rounded_for_csv`; a text cell a spreadsheet would run as a
    formula given an apostrophe in front: :func:`sim.core.csvsafe.safe_for_csv`), by suffix."""
    from sim.core.csvsafe import safe_for_csv

    if path.suffix not in (".parquet", ".csv"):  # pragma: no cover - programming error
        raise ValueError(f"unknown table format {path.suffix}")
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            safe_for_csv(rounded_for_csv(df)).to_csv(tmp, index=False)
    return path


def write_geojson(path: Path, doc: dict[str, Any]) -> Path:
    """Write a GeoJSON document compactly (strict JSON). Coordinates are RFC 7946's WGS84
    ``[lon, lat]``, the one CRS the format allows, so no ``crs`` member is written; GDAL and
    GeoPandas read the files as EPSG:4326."""
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    atomic_write_text(path, text + "\n")
    return path


def write_tracks(tracks_df: pd.DataFrame, out_dir: Path | str) -> list[Path]:
    """Write ``tracks.csv`` (every sample given) and ``tracks.geojson`` (passages as lines).

    The CSV has the columns of :func:`sim.analysis.tracks.tracks`, ``time_utc`` as ISO 8601
    UTC (``2024-03-07T05:00:00Z``), ``timestamp`` as the same time without a zone
    (``2024-03-07T05:00:00``, which pandas reads as the naive time MovingPandas takes), floats
    rounded by :func:`write_table` (positions to 6 decimals [deg], speeds to 3
    [kn], courses to 1 [deg], draughts to 2 [m]); NaN and an unknown IMO are empty fields. The
    GeoJSON is :func:`sim.analysis.tracks.tracks_geojson` with its defaults. Thin the tracks
    first (:func:`sim.analysis.tracks.thin_stays`) to write fewer samples in port.

    Returns
    -------
    list of Path
        The files written, CSV first.
    """
    from sim.analysis.tracks import TRACK_COLUMNS, iso_utc, tracks_geojson

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "tracks.csv"
    df = tracks_df.loc[:, list(TRACK_COLUMNS)].copy()
    df["time_utc"] = iso_utc(df["time_utc"])
    df["timestamp"] = [t[:-1] for t in df["time_utc"]]  # the same time, without its "Z"
    write_table(df, csv_path)
    geo_path = write_geojson(out / "tracks.geojson", tracks_geojson(tracks_df))
    return [csv_path, geo_path]


def write_route_layers(out_dir: Path, routes: RouteTable, scenario: Scenario) -> list[Path]:
    """Write ``routes.geojson`` (the legs, lines only) and ``ports.geojson`` (the ports,
    points only) into ``out_dir``: two layers, one geometry type each."""
    from sim.analysis.tracks import ports_geojson, routes_geojson

    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_geojson(out_dir / "routes.geojson", routes_geojson(routes, scenario)),
        write_geojson(out_dir / "ports.geojson", ports_geojson(routes, scenario)),
    ]


def events_with_time(events: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The event log with ``time_utc`` (UTC timestamps, datetime64[ns, UTC]) beside ``t_h``,
    as written to ``events.parquet`` / ``events.csv``."""
    out = events.copy()
    t0 = pd.Timestamp(scenario.window.start, tz="UTC")
    times = t0 + pd.to_timedelta(out["t_h"].to_numpy(dtype=float), unit="h")
    out.insert(int(out.columns.get_loc("t_h")) + 1, "time_utc", times)
    return out


def write_run(
    result: RunResult, out_dir: Path, *, scenario_path: str, events_format: str = "parquet"
) -> list[Path]:
    """Write the outputs of one replication into ``out_dir``; return the paths written."""
    paths = write_provenance(
        out_dir,
        result.scenario,
        scenario_path=scenario_path,
        seed=result.seed,
        command="run",
        replication=result.replication,
        routes={
            f"{leg.origin}-{leg.destination}": round(leg.distance_nm, 3)
            for leg in result.routes.unique_legs()
        },
    )
    paths.append(write_table(events_with_time(result.events, result.scenario),
                             out_dir / f"events.{events_format}"))  # fmt: skip
    p = out_dir / "summary.json"
    write_json(p, result.summary.to_dict())
    paths.append(p)
    paths.append(write_table(result.summary.ships, out_dir / "ships.csv"))
    paths.append(write_table(result.summary.berths, out_dir / "berths.csv"))
    paths.append(write_table(result.summary.products, out_dir / "products.csv"))
    return paths


def write_geo(
    result: RunResult,
    out_dir: Path,
    draw_map: bool = True,
    with_tracks: bool = True,
    interval_h: float = 1.0,
    *,
    thin_idle: bool = False,
    idle_interval_h: float | None = None,
) -> list[Path]:
    """Routes and ports (GeoJSON layers), ship tracks (CSV and GeoJSON) and the map of one
    replication. ``thin_idle`` and ``idle_interval_h`` thin the tracks' samples in port
    (:func:`sim.analysis.tracks.tracks`)."""
    from sim.analysis.tracks import tracks

    paths = write_route_layers(out_dir, result.routes, result.scenario)
    tr = None
    if with_tracks:
        tr = tracks(
            result.events,
            result.scenario,
            result.routes,
            interval_h=interval_h,
            seed=result.seed,
            thin_idle=thin_idle,
            idle_interval_h=idle_interval_h,
        )
        paths += write_tracks(tr, out_dir)
    if draw_map:
        from sim.outputs.maps import plot_map

        paths += plot_map(result.scenario, result.routes, out_dir / "map", tracks=tr)
    return paths


def write_mc(
    result: McResult, out_dir: Path, *, scenario_path: str, csv: bool | None = None
) -> list[Path]:
    """Write a batch's verdict, summaries and provenance into ``out_dir`` (the batch itself
    compacted ``replications.parquet`` and ``daily.parquet`` there). ``replications.csv`` is
    written when ``csv`` is true, or, when it is None, for batches of at most
    :data:`~sim.core.defaults.CSV_MAX_REPLICATIONS` replications."""
    from sim.core.defaults import CSV_MAX_REPLICATIONS
    from sim.outputs.render import evidence_markdown, verdict_markdown

    paths = write_provenance(
        out_dir,
        result.scenario,
        scenario_path=scenario_path,
        seed=result.seed,
        command="mc",
        replications=len(result.table),
        elapsed_s=round(result.elapsed_s, 3),
        **result.options.describe(),
    )
    paths.append(out_dir / "replications.parquet")  # compacted there by the batch
    paths.append(out_dir / "daily.parquet")
    paths.append(write_table(result.fan, out_dir / "cumulative_quantiles.csv"))
    if csv or (csv is None and len(result.table) <= CSV_MAX_REPLICATIONS):
        paths.append(write_table(result.replications, out_dir / "replications.csv"))
    else:
        (out_dir / "replications.csv").unlink(missing_ok=True)  # a smaller batch's, now stale
    p = out_dir / "verdict.json"
    write_json(p, result.verdict.to_dict())
    paths.append(p)
    p = out_dir / "verdict.md"
    atomic_write_text(
        p,
        verdict_markdown(result.verdict)
        + evidence_markdown(result.checks, result.method, result.replay, result.monthly),
    )
    paths.append(p)
    if result.checks is not None:
        paths.append(write_table(result.checks, out_dir / "checks.csv"))
    if result.replay is not None:
        paths.append(write_table(result.replay, out_dir / "replay.csv"))
    if result.monthly is not None:
        paths.append(write_table(result.monthly, out_dir / "monthly_seen.csv"))
    if result.method is not None:
        p = out_dir / "method.json"
        write_json(p, result.method.to_dict())
        paths.append(p)
    return paths


def write_sweep(result: SweepResult, out_dir: Path, *, scenario_path: str) -> list[Path]:
    """Write a sweep's points, summary, long table, frontier and provenance into ``out_dir``."""
    (out_dir / "points").mkdir(parents=True, exist_ok=True)
    paths = []
    for p in result.scenarios:
        path = out_dir / "points" / f"p{p.index:05d}.toml"
        atomic_write_text(path, p.scenario.to_toml())
        paths.append(path)
    paths.append(write_table(result.points, out_dir / "points.csv"))
    paths.append(write_table(result.summary, out_dir / "summary.csv"))
    paths.append(write_table(result.table, out_dir / "sweep.parquet"))
    if result.frontier is not None:
        paths.append(write_table(result.frontier, out_dir / "frontier.csv"))
    paths += write_provenance(
        out_dir,
        result.base,
        scenario_path=scenario_path,
        seed=result.seed,
        command="sweep",
        design=result.design,
        replications_per_point=result.replications,
        points=len(result.scenarios),
        dimensions=[d.__dict__ for d in result.dimensions],
        baseline=result.baseline,
    )
    return paths


def write_sensitivity(
    result: SensitivityResult, out_dir: Path, *, scenario_path: str
) -> list[Path]:
    """Write a sensitivity analysis's indices, design samples and provenance into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [
        write_table(result.indices, out_dir / "indices.csv"),
        write_table(result.samples, out_dir / "samples.parquet"),
    ]
    if result.convergence is not None and not result.convergence.empty:
        paths.append(write_table(result.convergence, out_dir / "convergence.csv"))
    paths += write_provenance(
        out_dir,
        result.base,
        scenario_path=scenario_path,
        seed=result.seed,
        command="sensitivity",
        method=result.method,
        base_samples=result.base_samples,
        replications_per_point=result.replications,
        design_points=len(result.samples),
        factors={f.name: [k for k, _ in f.inputs] for f in result.factors},
    )
    return paths


def write_calibration(
    result: CalibrationResult, out_dir: Path, *, scenario_path: str
) -> list[Path]:
    """Write a calibration's posterior, diagnostics, posterior verdict, predictive check and
    provenance into ``out_dir`` (its plots are drawn separately)."""
    from sim.outputs.render import posterior_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    s = result.setup
    paths = [
        write_table(result.posterior, out_dir / "posterior.parquet"),
        write_table(result.posterior, out_dir / "posterior.csv"),
        write_table(result.diagnostics, out_dir / "diagnostics.csv"),
        write_table(result.predictive, out_dir / "predictive.csv"),
        write_table(result.replications, out_dir / "posterior_replications.parquet"),
    ]
    p = out_dir / "verdict_posterior.json"
    write_json(p, result.verdict.to_dict())
    paths.append(p)
    p = out_dir / "verdict_posterior.md"
    atomic_write_text(p, posterior_markdown(result))
    paths.append(p)
    p = out_dir / "calibration.json"
    write_json(
        p,
        {
            "prior": s.prior,
            "seed": s.seed,
            "engine": s.engine,
            "settings": s.scenario.calibration.model_dump(mode="json"),
            "parameters": [
                {"name": q.name, "key": q.key, "prior": q.dist.model_dump(mode="json")}
                for q in s.parameters
            ],
            "statistics": [st.to_dict() for st in s.statistics],
            "distance": "Euclidean norm of the fitted statistics' shortfalls / scales",
            "simulated": result.simulated,
            "elapsed_s": round(result.elapsed_s, 3),
            "identity": result.identity,
        },
    )
    paths.append(p)
    paths += write_provenance(
        out_dir,
        s.scenario,
        scenario_path=scenario_path,
        seed=s.seed,
        command="calibrate",
        prior=s.prior,
        evidence_set=s.evidence_set,
        engine=s.engine,
        particles=len(result.posterior),
        generations=len(result.diagnostics),
        simulations=result.simulated,
        elapsed_s=round(result.elapsed_s, 3),
    )
    return paths


def write_priors(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write the answer under each prior set (``prior_sensitivity.csv`` and ``.md``)."""
    from sim.outputs.render import priors_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [write_table(table, out_dir / "prior_sensitivity.csv")]
    p = out_dir / "prior_sensitivity.md"
    atomic_write_text(p, priors_markdown(table))
    paths.append(p)
    return paths


STAMP_NAME = ".tankersim-done.json"
"""The stamp a finished command leaves in its output folder (:func:`write_stamp`)."""


def _listing(out_dir: Path, skip: tuple[str, ...] = ("parts",)) -> dict[str, int]:
    """Every file under ``out_dir`` (but the stamp, temporary files and ``skip`` folders'),
    relative path -> size [bytes]."""
    files: dict[str, int] = {}
    for p in sorted(out_dir.rglob("*")):
        rel = p.relative_to(out_dir)
        if not p.is_file() or p.name in (STAMP_NAME, LOCK_NAME) or p.name.endswith(".tmp"):
            continue  # the lock file changes with whoever holds it: not a result
        if rel.parts[0] in skip or any(part == "parts" for part in rel.parts[:-1]):
            continue
        files[rel.as_posix()] = p.stat().st_size
    return files


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (hex), read in blocks."""
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_stamp(
    out_dir: Path, key: Mapping[str, Any], output: str, *, stamp: Path | None = None
) -> Path:
    """Record that the command ``key`` (its name, the batch identity and every option that
    changes what it writes) finished in ``out_dir``: the files it left, their sizes and SHA-256
    (readers check them: a file changed since is refused), and what it printed. Written last,
    atomically, so it exists only for a finished command.
    ``stamp``: where (default ``out_dir/.tankersim-done.json``)."""
    path = stamp or out_dir / STAMP_NAME
    files = _listing(out_dir) if stamp is None else {}
    doc = {
        "key": dict(key),
        "version": __version__,
        "finished_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": files,
        "sha256": {rel: file_sha256(out_dir / rel) for rel in files},
        "output": output,
    }
    atomic_write_text(path, json.dumps(doc, sort_keys=True, indent=1, default=str) + "\n")
    return path


def read_stamp(
    out_dir: Path, key: Mapping[str, Any], *, stamp: Path | None = None
) -> dict[str, Any] | None:
    """The stamp of a finished command equal to ``key`` in ``out_dir``, when it is there, was
    made by this version of tankersim, and every file it lists is still there with its size;
    otherwise None (the command must run)."""
    path = stamp or out_dir / STAMP_NAME
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("version") != __version__:
        return None
    if doc.get("key") != json.loads(json.dumps(dict(key), default=str)):
        return None
    files = doc.get("files")
    if not isinstance(files, dict):
        return None
    for rel, size in files.items():
        p = out_dir / rel
        if not p.is_file() or p.stat().st_size != size:
            return None
    return doc
