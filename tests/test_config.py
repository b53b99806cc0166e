"""Scenario validation: one test per kind of error, each through the CLI (status 2, one line)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from conftest import SCENARIOS, base_raw, write_toml
from typer.testing import CliRunner

from sim.cli import app
from sim.core.config import ScenarioError, apply_overrides, load_scenario, validate_dict


def _fails(runner: CliRunner, tmp_path: Path, raw: dict[str, Any], key: str, value: str) -> str:
    path = write_toml(tmp_path / "bad.toml", raw)
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    line = lines[0]
    assert "Traceback" not in res.output + res.stderr
    assert str(path) in line
    assert f"{key} = " in line, line
    assert value in line, line
    return line


BAD_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown top-level key", {"colour": "red"}, "colour", "'red'"),
    ("misspelt key", {"fleet.c.capasity_bbl": 5.0}, "fleet.c.capasity_bbl", "5.0"),
    ("negative capacity", {"fleet.c.capacity_bbl": -5000.0}, "fleet.c.capacity_bbl", "-5000"),
    (
        "end before start",
        {"window.end": dt.date(2023, 12, 1)},
        "window.end",
        "2023-12-01",
    ),
    ("unknown terminal port", {"terminal.port": "ATLANTIS"}, "terminal.port", "'ATLANTIS'"),
    (
        "distribution with low > high",
        {"fleet.c.speed_laden_kn": {"dist": "uniform", "low": 12.0, "high": 9.0}},
        "fleet.c.speed_laden_kn",
        '"low": 12.0',
    ),
    (
        "triangular mode outside",
        {"fleet.c.load_factor": {"dist": "triangular", "low": 0.5, "mode": 0.2, "high": 0.9}},
        "fleet.c.load_factor",
        '"mode": 0.2',
    ),
    ("wrong type", {"fleet.c.count": "two"}, "fleet.c.count", "'two'"),
    ("load factor above one", {"fleet.c.load_factor": 1.5}, "fleet.c.load_factor", "1.5"),
    (
        "unknown distribution",
        {"fleet.c.turnaround_days": {"dist": "weibull", "k": 2}},
        "fleet.c.turnaround_days",
        "weibull",
    ),
    (
        "home port not a discharge port",
        {"fleet.c.home_port": "NAMPHO"},
        "fleet.c.home_port",
        "'NAMPHO'",
    ),
    ("zero berths", {"terminal.berths": 0}, "terminal.berths", "0"),
]


@pytest.mark.parametrize(
    ("label", "overrides", "key", "value"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_bad_scenario_exits_2_with_one_line(
    runner: CliRunner, tmp_path: Path, label: str, overrides: dict[str, Any], key: str, value: str
) -> None:
    raw = apply_overrides(base_raw(), overrides)
    _fails(runner, tmp_path, raw, key, value)


def test_shares_must_sum_to_one(runner: CliRunner, tmp_path: Path) -> None:
    raw = base_raw()
    raw["ports"]["C"] = {"lat": 1.0, "lon": 1.0}
    raw["discharge"]["B"]["share"] = 0.5
    raw["discharge"]["C"] = {"rate_bbl_per_h": 500.0, "share": 0.3}
    line = _fails(runner, tmp_path, raw, "discharge.*.share", '"B": 0.5')
    assert "sum to 0.8" in line


def test_product_mix_must_sum_to_one(runner: CliRunner, tmp_path: Path) -> None:
    raw = base_raw()
    raw["product_mix"] = {"diesel": 0.5, "gasoline": 0.4}
    line = _fails(runner, tmp_path, raw, "product_mix", '"diesel": 0.5')
    assert "sum to 0.9" in line


def test_unknown_product_needs_its_factor(runner: CliRunner, tmp_path: Path) -> None:
    raw = base_raw()
    raw["product_mix"] = {"bitumen": 1.0}
    _fails(runner, tmp_path, raw, "product_mix.bitumen", "1.0")


def test_unknown_discharge_port(runner: CliRunner, tmp_path: Path) -> None:
    raw = base_raw()
    raw["discharge"] = {"NOWHERE": {"rate_bbl_per_h": 500.0}}
    _fails(runner, tmp_path, raw, "discharge.NOWHERE", "'NOWHERE'")


def test_missing_required_key(runner: CliRunner, tmp_path: Path) -> None:
    raw = base_raw()
    del raw["fleet"]["c"]["speed_laden_kn"]
    line = _fails(runner, tmp_path, raw, "fleet.c.speed_laden_kn", "<missing>")
    assert "required" in line


def test_toml_syntax_error(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("schema_version = 1\nname = \n", encoding="utf-8")
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    assert str(path) in res.stderr and "not valid TOML" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", str(tmp_path / "nope.toml")])
    assert res.exit_code == 2
    assert "nope.toml" in res.stderr and "file not found" in res.stderr


def test_shipped_scenarios_validate(runner: CliRunner) -> None:
    files = sorted(SCENARIOS.glob("*.toml"))
    assert len(files) >= 4
    res = runner.invoke(app, ["validate", *map(str, files)])
    assert res.exit_code == 0, res.output + res.stderr
    assert res.output.count(": ok") == len(files)


def test_resolved_scenario_round_trips(tmp_path: Path) -> None:
    import shutil

    for path in sorted(SCENARIOS.glob("*.toml")):
        sc = load_scenario(path)
        out = tmp_path / path.name
        out.write_text(sc.to_toml(), encoding="utf-8")
        if sc.evidence:  # the evidence file travels with the scenario
            shutil.copy(path.parent / sc.evidence, tmp_path / sc.evidence)
        again = load_scenario(out)
        assert again.model_dump() == sc.model_dump()
        assert again.digest() == sc.digest()


def test_frozen() -> None:
    sc = validate_dict(base_raw())
    with pytest.raises(ValueError, match="frozen"):
        sc.seed = 3  # type: ignore[misc]


def test_capacity_needs_exactly_one_unit() -> None:
    raw = base_raw()
    raw["fleet"]["c"]["capacity_m3"] = 3000.0
    with pytest.raises(ScenarioError, match="capacity_bbl and capacity_m3 exclude each other"):
        validate_dict(raw, "x.toml")


def test_overriding_one_capacity_unit_replaces_the_others() -> None:
    raw = base_raw()
    del raw["fleet"]["c"]["capacity_bbl"]
    raw["fleet"]["c"]["capacity_t"] = 3000.0
    raw["fleet"]["c"]["capacity_m3"] = 4000.0
    sc = validate_dict(apply_overrides(raw, {"fleet.c.capacity_bbl": 25000.0}))
    cls = sc.fleet["c"]
    assert cls.capacity_bbl is not None and cls.capacity_bbl.mean == 25000.0
    assert cls.capacity_t is None and cls.capacity_m3 is None
    back = validate_dict(apply_overrides(raw, {"fleet.c.capacity_t": 2000.0}))
    assert back.fleet["c"].capacity_m3 is not None  # t and m3 may stand together


def test_ship_ids_are_stable_and_sorted() -> None:
    raw = base_raw()
    raw["fleet"]["c"]["count"] = 3
    raw["fleet"]["b"] = dict(raw["fleet"]["c"], count=None, names=["ZED", "AMY"])
    del raw["fleet"]["b"]["count"]
    sc = validate_dict(raw)
    assert [s for _, s in sc.ship_ids()] == ["AMY", "ZED", "c-01", "c-02", "c-03"]


def test_two_rates_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    raw = base_raw()
    raw["terminal"]["load_rate_m3_per_h"] = 300.0
    line = _fails(runner, tmp_path, raw, "terminal", "load_rate")
    assert "exactly one" in line


def test_a_folder_is_not_a_scenario(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(app, ["validate", str(tmp_path)])
    assert res.exit_code == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"fleet.c.capacity_bbl": float("nan")}, "fleet.c.capacity_bbl"),
        ({"fleet.c.speed_laden_kn": float("inf")}, "fleet.c.speed_laden_kn"),
        ({"products": {"diesel": float("inf")}}, "products.diesel"),
        (
            {"fleet.c.turnaround_days": {"dist": "uniform", "low": 0.0, "high": float("inf")}},
            "fleet.c.turnaround_days.high",
        ),
    ],
    ids=["nan capacity", "infinite speed", "infinite factor", "infinite bound"],
)
def test_non_finite_numbers_are_refused(
    runner: CliRunner, tmp_path: Path, overrides: dict[str, Any], key: str
) -> None:
    _fails(runner, tmp_path, apply_overrides(base_raw(), overrides), key, "")


def test_lognormal_capacity_is_positive() -> None:
    raw = apply_overrides(
        base_raw(), {"fleet.c.capacity_bbl": {"dist": "lognormal", "median": 20000.0, "sigma": 0.2}}
    )
    sc = validate_dict(raw)
    assert sc.fleet["c"].capacity_bbl is not None
    assert sc.fleet["c"].capacity_bbl.ppf([0.0])[0] > 0  # even for a uniform number of exactly 0


def test_self_crossing_forbidden_area(runner: CliRunner, tmp_path: Path) -> None:
    raw = base_raw()
    bow = [
        {"lat": 0.0, "lon": 0.0},
        {"lat": 1.0, "lon": 1.0},
        {"lat": 0.0, "lon": 1.0},
        {"lat": 1.0, "lon": 0.0},
    ]
    raw["routing"] = {"forbidden_areas": [{"name": "bow", "polygon": bow}]}
    line = _fails(runner, tmp_path, raw, "routing.forbidden_areas.0.polygon", "")
    assert "crosses itself" in line


def test_negative_seed_and_file_as_out(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", str(SCENARIOS / "minimal.toml"), "--seed", "-1"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for cmd in (["run"], ["mc", "-n", "2"], ["routes"]):
        res = runner.invoke(
            app, [cmd[0], str(SCENARIOS / "minimal.toml"), *cmd[1:], "--out", str(blocker)]
        )
        assert res.exit_code == 2, (cmd, res.output)
        assert "a file is in the way" in res.stderr


def test_ship_ids_keep_their_width_past_99() -> None:
    raw = base_raw()
    raw["fleet"]["c"]["count"] = 101
    ids = [s for _, s in validate_dict(raw).ship_ids()]
    assert ids[:2] == ["c-01", "c-02"] and ids[98:] == ["c-99", "c-100", "c-101"]
