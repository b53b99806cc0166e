"""CLI smoke tests into tmp_path, and the outputs' provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import SCENARIOS
from typer.testing import CliRunner

from sim import __version__
from sim.cli import app
from sim.core.config import load_scenario

MINIMAL = str(SCENARIOS / "minimal.toml")


def test_run_writes_outputs_with_provenance(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", MINIMAL, "--out", str(tmp_path), "--seed", "11"])
    assert res.exit_code == 0, res.output + res.stderr
    for name in (
        "scenario.resolved.toml",
        "manifest.json",
        "events.parquet",
        "summary.json",
        "ships.csv",
        "berths.csv",
        "products.csv",
    ):
        assert (tmp_path / name).is_file(), name
    man = json.loads((tmp_path / "manifest.json").read_text())
    sc = load_scenario(MINIMAL)
    assert man["seed"] == 11
    assert man["scenario_sha256_16"] == sc.digest()
    assert man["versions"]["tankersim"] == __version__
    assert {"simpy", "numpy", "pandas", "pyproj"} <= set(man["versions"])
    # The resolved scenario is the same scenario.
    assert load_scenario(tmp_path / "scenario.resolved.toml").digest() == sc.digest()
    # The summary agrees with the event log it came from.
    ev = pd.read_parquet(tmp_path / "events.parquet")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["kpis"]["trips"] == (ev["event"] == "load_end").sum()
    delivered = ev.loc[ev["event"] == "discharge_end", "cargo_bbl"].sum()
    assert summary["kpis"]["delivered_bbl"] == pytest.approx(delivered)
    ships = pd.read_csv(tmp_path / "ships.csv")
    assert ships["trips"].sum() == summary["kpis"]["trips"]
    assert "Claim against this replication" in res.output


def test_run_csv_events_and_replication(runner: CliRunner, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out, rep in ((a, "0"), (b, "0")):
        res = runner.invoke(
            app, ["run", MINIMAL, "--out", str(out), "--replication", rep, "--events-format", "csv"]
        )
        assert res.exit_code == 0, res.stderr
    pd.testing.assert_frame_equal(pd.read_csv(a / "events.csv"), pd.read_csv(b / "events.csv"))


def test_bad_events_format(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", MINIMAL, "--out", str(tmp_path), "--events-format", "xlsx"])
    assert res.exit_code == 2
    assert "--events-format" in res.stderr


@pytest.mark.parametrize(
    ("command", "words"),
    [("run", ["--seed", "--replication", "--out"]), ("validate", ["without running"])],
)
def test_help_explains(runner: CliRunner, command: str, words: list[str]) -> None:
    res = runner.invoke(app, [command, "--help"])
    assert res.exit_code == 0
    for w in words:
        assert w in res.output


def test_version(runner: CliRunner) -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and __version__ in res.output


def test_run_writes_tracks_routes_and_map(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", MINIMAL, "--out", str(tmp_path), "--track-interval-h", "2"])
    assert res.exit_code == 0, res.stderr
    tracks = pd.read_csv(tmp_path / "tracks.csv")
    assert len(tracks) == 2 * (480 // 2 + 1)  # two ships, a fix every 2 h over 480 h
    assert set(tracks["status"]) <= {"laden", "ballast", "in_port", "waiting", "idle"}
    routes = json.loads((tmp_path / "routes.geojson").read_text())
    assert routes["type"] == "FeatureCollection"
    for ext in ("png", "svg"):
        assert (tmp_path / f"map.{ext}").stat().st_size > 10_000


def test_routes_command(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(app, ["routes", MINIMAL, "--out", str(tmp_path), "--no-map"])
    assert res.exit_code == 0, res.stderr
    table = pd.read_csv(tmp_path / "routes.csv")
    assert list(table["to"]) == ["CHONGJIN"]
    d = float(table["distance_nm"].iloc[0])
    assert d == pytest.approx(157.0, abs=0.1)  # geodesic routing in minimal.toml
    assert float(table["tanker_laden_h"].iloc[0]) == pytest.approx(d / 10.0)
    assert float(table["tanker_ballast_h"].iloc[0]) == pytest.approx(d / 12.0)
    assert not (tmp_path / "map.png").exists()


def test_map_command_redraws_a_run(runner: CliRunner, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    res = runner.invoke(
        app, ["run", MINIMAL, "--out", str(run_dir), "--events-format", "csv", "--no-map"]
    )
    assert res.exit_code == 0, res.stderr
    assert not (run_dir / "map.png").exists()
    res = runner.invoke(app, ["map", str(run_dir)])
    assert res.exit_code == 0, res.stderr
    assert (run_dir / "map.png").stat().st_size > 10_000
    res = runner.invoke(app, ["map", str(tmp_path)])
    assert res.exit_code == 2 and "scenario.resolved.toml" in res.stderr


def test_package_level_api() -> None:
    import sim

    result = sim.run(MINIMAL)
    assert result.summary.kpis["trips"] == 11
    batch = sim.run_mc(MINIMAL, n=3, options="serial")
    assert len(batch.replications) == 3
    assert sim.load_scenario(MINIMAL).name == "minimal"
    with pytest.raises(AttributeError):
        _ = sim.no_such_thing
