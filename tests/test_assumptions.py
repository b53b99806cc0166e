"""The assumptions table and the scenario's [sources]."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.cli import app
from sim.core.assumptions import ESTIMATE, assumptions, dist_text
from sim.core.config import load_scenario, scenario_inputs, validate_dict
from sim.core.errors import ScenarioError
from tests.conftest import SCENARIOS, base_raw, write_toml


def test_every_input_is_listed_once_with_its_level() -> None:
    sc = load_scenario(SCENARIOS / "osc-2024.toml")
    rows = assumptions(sc)
    keys = [a.key for a in rows]
    assert len(keys) == len(set(keys))
    levels = {a.key: a.level for a in rows}
    for inp in scenario_inputs(sc):
        assert levels[inp.key] == inp.level
    assert levels["unknowns.fleet_dwt"] == "fleet"
    assert levels["fleet.named.capacity_dwt"] == "ship"
    assert levels["fleet.named.load_factor"] == "voyage"
    assert keys[-1] == "observation.p_detect"


def test_sources_by_key_and_by_pattern_and_estimates() -> None:
    raw = base_raw()
    raw["sources"] = {"fleet.*.speed_*": "brochure", "terminal.berths": "port guide"}
    rows = {a.key: a.source for a in assumptions(validate_dict(raw))}
    assert rows["fleet.c.speed_laden_kn"] == "brochure"
    assert rows["fleet.c.speed_ballast_kn"] == "brochure"
    assert rows["terminal.berths"] == "port guide"
    assert rows["fleet.c.capacity_bbl"] == ESTIMATE


def test_a_source_that_names_no_input_is_refused(runner: Any, tmp_path: Path) -> None:
    raw = base_raw()
    raw["sources"] = {"fleet.c.speeed_laden_kn": "typo"}
    with pytest.raises(ScenarioError, match="names no input"):
        validate_dict(raw)
    path = write_toml(tmp_path / "s.toml", raw)
    r = runner.invoke(app, ["validate", "--no-routes", str(path)])
    assert r.exit_code == 2
    assert "sources.fleet.c.speeed_laden_kn" in r.output and len(r.output.splitlines()) == 1


def test_dist_text_shows_scale_and_fixed_values() -> None:
    sc = load_scenario(SCENARIOS / "osc-2024.toml")
    by_key = {i.key: i.dist for i in scenario_inputs(sc)}
    assert dist_text(by_key["fleet.named.capacity_dwt"]) == (
        "lognormal(median=1, sigma=0.35) x fleet_dwt"
    )
    assert dist_text(by_key["fleet.named.cargo_dwt_fraction"]) == "0.92"
