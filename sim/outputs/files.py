"""Writing run outputs: resolved scenario, manifest, event log and summary."""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.core.config import Scenario

DEPENDENCIES = (
    "simpy",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "pyproj",
    "shapely",
    "networkx",
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
        "seed": seed,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        **extra,
    }


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
    resolved.write_text(scenario.to_toml(), encoding="utf-8")
    man = out_dir / "manifest.json"
    write_json(
        man,
        manifest(scenario, scenario_path=scenario_path, seed=seed, command=command, **extra),
    )
    return [resolved, man]


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


def write_json(path: Path, data: Any) -> None:
    """Write strict JSON (NaN and infinities become ``null``)."""
    text = json.dumps(_finite(data), indent=2, default=_json_default, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a table as Parquet (``.parquet``) or CSV (``.csv``), by suffix."""
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        df.to_csv(path, index=False)
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown table format {path.suffix}")
    return path
