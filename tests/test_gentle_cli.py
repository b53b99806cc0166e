"""A gentler command line (part of issue 14): --set overrides and "did you mean"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import sim.api as api
from sim.cli import app, parse_sets
from sim.core.config import load_scenario
from tests.conftest import SCENARIOS, base_raw, write_toml

MINIMAL = SCENARIOS / "minimal.toml"


def test_parse_sets_reads_toml_values() -> None:
    got = parse_sets(["a.b=8", "c=2.5", 'd="x y"', "e=sea", "f=2024-03-07", "g=[1, 2]",
                      'h={dist="uniform", low=1.0, high=2.0}'])  # fmt: skip
    assert got["a.b"] == 8 and isinstance(got["a.b"], int)
    assert got["c"] == 2.5 and got["d"] == "x y" and got["e"] == "sea"
    assert str(got["f"]) == "2024-03-07" and got["g"] == [1, 2]
    assert got["h"] == {"dist": "uniform", "low": 1.0, "high": 2.0}


def test_set_changes_the_run_as_overrides_do(runner: Any, tmp_path: Path) -> None:
    r = runner.invoke(app, ["run", str(MINIMAL), "--no-map", "--out", str(tmp_path / "o"),
                            "--set", "fleet.tanker.capacity_bbl=30000"])  # fmt: skip
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    expected = api.run(load_scenario(MINIMAL, overrides={"fleet.tanker.capacity_bbl": 30000}))
    assert summary["kpis"]["loaded_bbl"] == expected.summary.kpis["loaded_bbl"]
    assert summary["kpis"]["loaded_bbl"] != api.run(MINIMAL).summary.kpis["loaded_bbl"]
    # the provenance holds the scenario as run: the resolved file and its hash
    resolved = load_scenario(tmp_path / "o" / "scenario.resolved.toml")
    assert resolved.fleet["tanker"].capacity_bbl.bounds == (30000.0, 30000.0)
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["scenario_sha256_16"] == resolved.digest() != load_scenario(MINIMAL).digest()


def test_set_on_mc_with_a_distribution(runner: Any, tmp_path: Path) -> None:
    dwt = 'unknowns.fleet_dwt={dist="uniform", low=1000.0, high=2000.0}'
    base = SCENARIOS / "osc-2024.toml"
    r = runner.invoke(
        app, ["mc", str(base), "-n", "200", "--out", str(tmp_path / "m"), "--set", dwt]
    )
    assert r.exit_code == 0, r.output
    resolved = load_scenario(tmp_path / "m" / "scenario.resolved.toml")
    assert resolved.unknowns["fleet_dwt"].bounds == (1000.0, 2000.0)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--set", "x"], "expected KEY=VALUE"),
        (["--set", "fleet.tanker.count=two words"], "not a TOML value"),
        (["--set", "fleet.tanker.capacty_bbl=3"], "did you mean 'capacity_bbl'?"),
        (["--set", "terminal.port=VOSTOCHNYY"], "did you mean 'VOSTOCHNY'?"),
        (["--set", "fleet.tanker.count=true"], "fleet.tanker.count"),
    ],
)
def test_bad_sets_are_one_line(runner: Any, tmp_path: Path, args: list[str], needle: str) -> None:
    r = runner.invoke(app, ["run", str(MINIMAL), "--out", str(tmp_path / "o"), *args])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("tankersim: error:") and needle in lines[0]


def test_tables_fit_80_columns_without_cutting_numbers(runner: Any, tmp_path: Path) -> None:
    """At 80 columns (pipes, logs, notebooks) labels wrap; numbers are never cut."""
    import re

    from rich.console import Console

    from sim.outputs.render import print_checks, print_claims, print_verdict

    result = api.run_mc(SCENARIOS / "osc-2024.toml", n=2000, options="serial")
    console = Console(width=80, record=True, force_terminal=False)
    print_verdict(result.verdict, console)
    print_checks(result.checks, result.method, console)
    print_claims(api.check_claims(SCENARIOS / "osc-2024.toml"), console)
    text = console.export_text()
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    checks = result.checks
    assert checks is not None
    for _, row in checks.dropna(subset=["simulated_p50"]).iterrows():
        numbers = [f"{row[c]:,.0f}" for c in ("simulated_p05", "simulated_p50", "simulated_p95")
                   if row[c] >= 1000]  # fmt: skip
        for number in numbers:  # every large number appears whole on one line
            assert re.search(rf"(?<![\d,]){re.escape(number)}(?![\d,])", text), number


def test_set_on_sweep_changes_every_point(runner: Any, tmp_path: Path) -> None:
    """--set changes the base scenario; the sweep's points are laid over it."""
    out = tmp_path / "s"
    r = runner.invoke(app, ["sweep", str(MINIMAL), "--vary", "fleet.tanker.count=1,2", "-n", "2",
                            "--executor", "serial", "--no-plots", "--out", str(out),
                            "--set", "fleet.tanker.capacity_bbl=30000"])  # fmt: skip
    assert r.exit_code == 0, r.output
    points = sorted((out / "points").glob("p*.toml"))
    assert len(points) == 2
    for p in points:
        sc = load_scenario(p)
        assert sc.fleet["tanker"].capacity_bbl.bounds == (30000.0, 30000.0)
    assert {load_scenario(p).fleet["tanker"].count for p in points} == {1, 2}


def test_set_on_calibrate_changes_the_prior(runner: Any, tmp_path: Path) -> None:
    """--set on calibrate: the prior narrowed by --set bounds every particle, and the evidence
    file is still found beside the scenario (relative paths are the scenario's, not cwd's)."""
    import pandas as pd

    out = tmp_path / "c"
    dwt = 'unknowns.fleet_dwt={dist="uniform", low=2000.0, high=2500.0}'
    args = ["calibrate", str(SCENARIOS / "osc-2024.toml"), "--population", "40",
            "--generations", "1", "-n", "1", "--executor", "serial", "--no-plots",
            "--out", str(out), "--set", dwt]  # fmt: skip
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    post = pd.read_parquet(out / "posterior.parquet")
    assert post["unknowns.fleet_dwt"].between(2000.0, 2500.0).all()
    resolved = load_scenario(out / "scenario.resolved.toml")
    assert resolved.unknowns["fleet_dwt"].bounds == (2000.0, 2500.0)


@pytest.mark.parametrize("command", ["sweep", "calibrate", "sensitivity"])
def test_bad_set_on_batch_commands_is_one_line(runner: Any, tmp_path: Path, command: str) -> None:
    base = SCENARIOS / "osc-2024.toml"
    args = [command, str(base), "--out", str(tmp_path / "o"), "--set", "terminal.pre_pump_hh=3"]
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "did you mean 'pre_pump_h'?" in lines[0], lines
    assert not (tmp_path / "o" / "parts").exists()


def test_misspelt_evidence_column_suggests_the_column(runner: Any, tmp_path: Path) -> None:
    from sim.core.evidence import COLUMNS

    raw = base_raw()
    raw["evidence"] = "ev.csv"
    header = ",".join("relatoin" if c == "relation" else c for c in COLUMNS)
    (tmp_path / "ev.csv").write_text(header + "\n", encoding="utf-8")
    path = write_toml(tmp_path / "s.toml", raw)
    r = runner.invoke(app, ["validate", str(path), "--no-routes"])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "did you mean 'relation'?" in lines[0], lines


@pytest.mark.parametrize(
    ("module", "args", "extra"),
    [
        ("SALib", ["sensitivity", "--samples", "4", "-n", "1"], "sensitivity"),
        ("pyabc", ["calibrate", "--population", "20", "--generations", "1"], "calibrate"),
        ("distributed", ["mc", "-n", "10", "--executor", "dask"], "distributed"),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(
    runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str,
    args: list[str], extra: str,
) -> None:  # fmt: skip
    """With the optional package unimportable (None in sys.modules makes `import` fail as a
    missing package does), the command says which extra to install, in one line."""
    import sys

    for name in list(sys.modules):
        if name == module or name.startswith(module + "."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)
    base = SCENARIOS / "osc-2024.toml"
    r = runner.invoke(app, [args[0], str(base), *args[1:], "--out", str(tmp_path / "o")])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert f"pip install 'tankersim[{extra}]'" in lines[0] and module in lines[0], lines


COMMANDS = ["validate", "run", "routes", "map", "mc", "evidence", "sweep", "sensitivity",
            "calibrate", "robustness", "route", "init", "claims", "report"]  # fmt: skip


def test_every_command_is_registered_in_the_help_check() -> None:
    names = [c.name or getattr(c.callback, "__name__", "") for c in app.registered_commands]
    assert sorted(names) == sorted(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_no_type_tags_and_fits_80_columns(command: str) -> None:
    """--help shows placeholders (N, PATH, KEY=VALUE), not typer's tags (<int range>,
    <list[Path]>, <bool>); at 80 columns nothing is cut off ("…") or wider than 80."""
    import re

    from typer.testing import CliRunner

    r = CliRunner().invoke(app, [command, "--help"], terminal_width=80, env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    text = r.output
    assert not re.search(r"<(int|float|str|bool|path|file|dir|list|text)\b", text, re.I), text
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Usage: tankersim " + command in text


def test_calibration_setup_takes_overrides_on_a_loaded_scenario_too() -> None:
    """From Python, a loaded Scenario plus overrides: the prior changes and the evidence file
    is still found beside the scenario's file."""
    from sim.runner.calibrate import setup

    sc = load_scenario(SCENARIOS / "osc-2024.toml")
    s = setup(sc, overrides={"unknowns.turnaround_days.high": 100.0})
    assert s.scenario.unknowns["turnaround_days"].bounds == (5.0, 100.0)
    assert setup(sc).scenario.unknowns["turnaround_days"].bounds == (5.0, 150.0)
    assert s.observables  # the evidence was read
