"""A gentler command line (part of issue 14): --set overrides and "did you mean"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import sim.api as api
from sim.cli import app, parse_sets
from sim.core.config import load_scenario
from tests.conftest import SCENARIOS

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

    result = api.run_mc(SCENARIOS / "osc-2024.toml", n=2000, executor="serial")
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
