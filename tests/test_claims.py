"""The claims check: arithmetic on the claim, before any simulation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis.claims import check_claims
from sim.cli import app
from sim.core.config import load_scenario, validate_dict
from sim.core.units import BBL_PER_M3, BP_BBL_PER_T
from sim.outputs.report import claims_markdown
from tests.conftest import SCENARIOS, base_raw, write_toml

OSC = SCENARIOS / "osc-2024.toml"


def test_osc_barrels_against_tonnes_is_impossible() -> None:
    """1,000,000 bbl = 56,000 t means 17.86 bbl/t, 0.352 t/m3: lighter than every product
    in the table, LPG included (0.542 t/m3)."""
    c = check_claims(load_scenario(OSC))
    tb = c.tonnes_vs_barrels
    assert tb is not None and tb.impossible
    assert tb.implied_bbl_per_t == pytest.approx(1_000_000 / 56_000)
    assert tb.implied_density_t_per_m3 == pytest.approx(56_000 * BBL_PER_M3 / 1_000_000)
    assert round(tb.implied_density_t_per_m3, 3) == 0.352
    assert {p.product for p in tb.products} == set(BP_BBL_PER_T)
    for p in tb.products:  # 56,000 t of each product, in barrels
        assert p.claimed_t_as_bbl == pytest.approx(56_000 * BP_BBL_PER_T[p.product])
        assert p.density_t_per_m3 > tb.implied_density_t_per_m3
    assert "impossible" in tb.sentence and "0.352 t/m3" in tb.sentence
    assert c.flags == [tb.sentence]


def test_osc_per_visit_ship_and_un_cap() -> None:
    sc = load_scenario(OSC)
    c = check_claims(sc)
    pv = c.per_visit
    assert pv is not None and pv.visits == 43
    assert pv.bbl_per_visit == pytest.approx(1_000_000 / 43)
    assert pv.t_per_visit == pytest.approx(56_000 / 43)
    assert pv.bbl_per_ship == pytest.approx(1_000_000 / 13)
    lf = pv.ship.mean_load_factor
    assert lf == pytest.approx((0.75 + 0.90 + 1.0) / 3)  # the triangular load factor's mean
    assert pv.ship.capacity_bbl == pytest.approx(1_000_000 / 43 / lf)
    mix = 0.6 * 7.46 + 0.3 * 8.35 + 0.05 * 7.88 + 0.05 * 6.35
    assert pv.ship.cargo_t == pytest.approx(pv.ship.capacity_bbl / mix)
    assert pv.ship.dwt_approx == pytest.approx(pv.ship.cargo_t / 0.92)
    cap = c.un_cap
    assert cap is not None and c.window_days == 244
    assert cap.cap_pro_rata_bbl == pytest.approx(500_000 * 244 / 365)
    assert cap.times_cap == pytest.approx(1_000_000 / (500_000 * 244 / 365))


def _claims(**claims: Any) -> Any:
    raw = base_raw()
    raw["claims"] = claims
    return check_claims(validate_dict(raw))


@settings(max_examples=200, deadline=None)
@given(
    barrels=st.floats(1.0, 1e9, allow_nan=False),
    bbl_per_t=st.floats(0.5, 40.0, allow_nan=False),
)
def test_status_is_impossible_exactly_outside_the_product_table(
    barrels: float, bbl_per_t: float
) -> None:
    tonnes = barrels / bbl_per_t
    tb = _claims(barrels=barrels, tonnes=tonnes).tonnes_vs_barrels
    lo, hi = min(BP_BBL_PER_T.values()), max(BP_BBL_PER_T.values())
    inside = lo <= barrels / tonnes <= hi
    assert tb.impossible is (not inside)
    # density and barrels-per-tonne are one number seen two ways
    assert tb.implied_density_t_per_m3 * tb.implied_bbl_per_t == pytest.approx(BBL_PER_M3)


def test_a_consistent_pair_and_a_too_heavy_one() -> None:
    ok = _claims(barrels=746_000, tonnes=100_000).tonnes_vs_barrels  # diesel exactly
    assert ok.status == "consistent"
    heavy = _claims(barrels=500_000, tonnes=100_000).tonnes_vs_barrels  # 1.26 t/m3
    assert heavy.impossible and "heavier" in heavy.sentence and "fuel_oil" in heavy.sentence


def test_a_claim_without_numbers_checks_nothing() -> None:
    c = _claims(source="nobody")
    assert c.tonnes_vs_barrels is None and c.per_visit is None and c.un_cap is None
    assert c.flags == []


def test_claims_table_holds_every_number() -> None:
    c = check_claims(load_scenario(OSC))
    t = c.table()
    assert list(t.columns) == ["section", "quantity", "value", "unit"]
    row = t[(t.section == "barrels vs tonnes") & (t.quantity == "implied density")]
    assert float(row.value.iloc[0]) == pytest.approx(c.tonnes_vs_barrels.implied_density_t_per_m3)
    assert len(t[t.section.str.startswith("in ")]) == 3 * len(BP_BBL_PER_T)


def test_claims_cli_table_json_markdown_and_files(runner: Any, tmp_path: Path) -> None:
    r = runner.invoke(app, ["claims", str(OSC)])
    assert r.exit_code == 0, r.output
    assert "impossible" in r.output and "17.86" in r.output and "0.352" in r.output
    r = runner.invoke(app, ["claims", str(OSC), "--json"])
    data = json.loads(r.output)
    assert data["tonnes_vs_barrels"]["status"] == "impossible"
    assert data["un_cap"]["window_days"] == 244
    r = runner.invoke(app, ["claims", str(OSC), "--markdown", "--out", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    assert "| the claim's pair | 17.86 | 0.352 |" in r.output
    for name in ("claims.json", "claims.md", "claims.csv"):
        assert (tmp_path / "c" / name).is_file()
    csv = pd.read_csv(tmp_path / "c" / "claims.csv")
    assert set(csv.section) >= {"claim", "barrels vs tonnes", "per visit", "UN cap"}


def test_claims_cli_bad_scenario_is_one_line(runner: Any, tmp_path: Path) -> None:
    raw = base_raw()
    raw["claims"] = {"barrels": -5.0}
    path = write_toml(tmp_path / "bad.toml", raw)
    r = runner.invoke(app, ["claims", str(path)])
    assert r.exit_code == 2
    assert "claims.barrels" in r.output and str(path) in r.output


def test_claims_markdown_escapes_the_source() -> None:
    raw = base_raw()
    raw["claims"] = {"source": "<script>alert(1)</script> [x](javascript:y)", "barrels": 1.0}
    md = claims_markdown(check_claims(validate_dict(raw)))
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "[x](javascript" not in md and "\\[x\\](javascript" in md  # no link
