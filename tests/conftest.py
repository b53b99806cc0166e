"""Shared fixtures: paths, a scenario builder and a CLI runner."""

from __future__ import annotations

import copy
import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import tomli_w
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def pytest_configure(config: pytest.Config) -> None:
    """Route graphs are cached in a folder of the test session's own, never the user's cache
    (child processes inherit it through the environment)."""
    import os
    import tempfile

    reuse = os.environ.get("TANKERSIM_TEST_CACHE_DIR")  # to keep route graphs between runs
    os.environ["TANKERSIM_CACHE_DIR"] = reuse or tempfile.mkdtemp(prefix="tankersim-test-")


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
    """Write a raw scenario; an evidence file it names is copied beside it from scenarios/."""
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    evidence = raw.get("evidence")
    if isinstance(evidence, str) and not (path.parent / evidence).exists():
        source = SCENARIOS / evidence
        if source.is_file():
            (path.parent / evidence).write_bytes(source.read_bytes())
    return path


def copy_scenario(name: str, folder: Path, **replace: str) -> Path:
    """Copy ``scenarios/<name>`` (and its evidence file) into ``folder``, replacing text."""
    text = (SCENARIOS / name).read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    for evidence in SCENARIOS.glob("*.evidence.csv"):
        if evidence.name in text:
            (folder / evidence.name).write_bytes(evidence.read_bytes())
    return path


def kill_after_parts(args: list[str], out: Path, min_parts: int) -> pd.DataFrame:
    """Run ``tankersim ARGS`` in a child process, SIGKILL it once ``min_parts`` blocks are
    on disk in ``out/parts``, and return the replications those blocks hold."""
    exe = Path(sys.executable).with_name("tankersim")
    proc = subprocess.Popen(
        [str(exe), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    parts = out / "parts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(parts.glob("reps-*.parquet"))) < min_parts:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    files = list(parts.glob("reps-*.parquet"))
    assert len(files) >= min_parts, "no blocks were written before the deadline"
    return pd.concat([pd.read_parquet(p) for p in files])


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def raw() -> dict[str, Any]:
    return base_raw()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the fuzz suite's case counts (``config.tankersim_fuzz``, filled by
    tests/test_fuzz.py) at the end of every run that ran it."""
    counts: dict[str, int] = getattr(config, "tankersim_fuzz", {})
    if counts:
        total = sum(counts.values())
        parts = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
        terminalreporter.write_line(f"fuzz: {total:,} cases through the CLI: {parts}")
