"""Shared fixtures: paths, a scenario builder and a CLI runner."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def base_raw() -> dict[str, Any]:
    """A small valid scenario as a raw dict (fixed inputs, two custom ports on the equator)."""
    return copy.deepcopy(
        {
            "schema_version": 1,
            "name": "test",
            "seed": 7,
            "window": {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 1, 10)},
            "ports": {
                "A": {"lat": 0.0, "lon": 0.0},
                "B": {"lat": 0.0, "lon": 1.0},
            },
            "terminal": {"port": "A", "load_rate_bbl_per_h": 1000.0},
            "discharge": {"B": {"rate_bbl_per_h": 500.0}},
            "fleet": {
                "c": {
                    "count": 1,
                    "capacity_bbl": 10000.0,
                    "speed_laden_kn": 10.0,
                    "speed_ballast_kn": 12.0,
                }
            },
        }
    )


def write_toml(path: Path, raw: dict[str, Any]) -> Path:
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def raw() -> dict[str, Any]:
    return base_raw()
