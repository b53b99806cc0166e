"""The answer against its assumptions: provenance, the known-ships prior, per-ship activity,
held-out checks, what would settle it, the assumption audit and simulation-based calibration."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomli_w
from conftest import SCENARIOS, base_raw

from sim.analysis.heldout import held_out_checks, percentile
from sim.analysis.settle import Candidate, settle
from sim.analysis.size_prior import known_ships_prior
from sim.core.config import expand_keys, load_scenario, read_source, read_toml, validate_dict
from sim.core.distributions import LogNormal
from sim.core.errors import ScenarioError
from sim.core.evidence import EVIDENCE_SETS, parse_evidence
from sim.core.units import CARGO_DWT_FRACTION

HEADER = (
    "id,kind,date_from,date_to,ship,place,activity,relation,count,bbl,share,source,confidence,note"
)
WINDOW = (pd.Timestamp("2024-01-01").date(), pd.Timestamp("2024-12-31").date())


# --------------------------------------------------------------------------- provenance


def _row(rid: str, basis: str, independence: str, kind: str = "visits") -> str:
    return f"{rid},{kind},2024-02-01,2024-02-28,,VOSTOCHNY,,>=,3,,,src,high,,{basis},{independence}"


def test_evidence_sets_choose_rows_by_provenance() -> None:
    text = "\n".join(
        [
            HEADER + ",basis,independence",
            _row("premise", "counted", "premise"),
            _row("indep-count", "counted", "independent"),
            _row("indep-est", "estimated", "independent"),
            _row("claimant-count", "counted", "claimants"),
            _row("claimant-est", "estimated", "claimants"),
            _row("same-method", "estimated", "same-method"),
            _row("unstated", "", ""),
        ]
    )
    ev = parse_evidence(text, window=WINDOW)
    fits = {name: {r.id for r in ev.rows if r.in_set(name)} for name in EVIDENCE_SETS}
    assert fits["independent"] == {"premise", "indep-count", "indep-est", "unstated"}
    assert fits["counted"] == {"premise", "indep-count", "indep-est", "claimant-count", "unstated"}
    assert fits["all"] == {r.id for r in ev.rows}
    assert next(r for r in ev.rows if r.id == "unstated").provenance == "unstated, unstated"


@pytest.mark.parametrize(
    ("field", "bad", "said"),
    [("basis", "guessed", "choose one of counted, estimated"),
     ("independence", "claimant", "did you mean 'claimants'?")],
)  # fmt: skip
def test_a_bad_provenance_is_one_line_naming_row_and_field(field: str, bad: str, said: str) -> None:
    basis, indep = ("counted", "independent")
    basis, indep = (bad, indep) if field == "basis" else (basis, bad)
    text = HEADER + ",basis,independence\n" + _row("x", basis, indep)
    with pytest.raises(ScenarioError) as exc:
        parse_evidence(text, window=WINDOW, file="e.csv")
    msg = str(exc.value)
    assert f"row 2.{field}" in msg and repr(bad) in msg and said in msg and "\n" not in msg


def test_an_evidence_file_without_provenance_columns_still_reads() -> None:
    ev = parse_evidence(
        HEADER + "\nv,visits,2024-02-01,,,VOSTOCHNY,,=,3,,,src,high,", window=WINDOW
    )
    assert ev.rows[0].basis == "unstated" and ev.rows[0].in_set("independent")


# --------------------------------------------------------------------------- the size prior


def test_known_ships_prior_is_the_geometric_mean_of_the_sourced_sizes() -> None:
    """The scenario's prior on the fleet's typical size is what the registry's sourced sizes
    give: their geometric mean and the ships' spread over sqrt(n)."""
    sc = load_scenario(SCENARIOS / "osc-2024.toml")
    sp = known_ships_prior(sc)
    sizes = {
        "PAEK YANG SAN 1": 2998.0,
        "RYE SONG GANG 1": 3003.0,
        "SAM MA 2": 1600.0 / CARGO_DWT_FRACTION,
    }
    assert {s.name: s.dwt for s in sp.ships} == pytest.approx(sizes)
    gm = math.exp(np.mean(np.log(list(sizes.values()))))
    assert sp.median_dwt == pytest.approx(gm)
    assert sp.sigma == pytest.approx(0.35 / math.sqrt(3))
    # the scenario states it as a scenario would (median to 10 t, sigma to 3 decimals)
    prior = sc.unknowns["fleet_dwt"]
    assert prior.model_dump(exclude_none=True) == {**sp.distribution(), "dist": "lognormal"}
    lo, hi = sp.interval()
    assert lo < 2000 < 3000 < hi < 3720  # the claim's ~3,720 dwt lies beyond its 95th percentile


# --------------------------------------------------------------------------- per-ship activity


def test_spread_scales_the_log_sigma() -> None:
    d = LogNormal(dist="lognormal", median=2.0, sigma=0.5)
    u = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(d.ppf_spread(u, 1.0), d.ppf(u))
    np.testing.assert_allclose(d.ppf_spread(u, 0.0), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(
        np.log(d.ppf_spread(u, 2.0) / 2.0), 2.0 * np.log(d.ppf(u) / 2.0), rtol=1e-12
    )


def _plain_raw() -> dict[str, Any]:
    import datetime as dt

    raw = base_raw()
    raw["window"] = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 3, 31)}
    raw["fleet"]["c"]["count"] = 6
    raw["fleet"]["c"]["turnaround_days"] = 10.0
    return raw


def _activity_raw(spread: Any) -> dict[str, Any]:
    raw = _plain_raw()
    raw["unknowns"] = {"act": spread}
    raw["fleet"]["c"]["turnaround_factor"] = {
        "dist": "lognormal", "median": 1.0, "sigma": 1.0, "spread": "act",
    }  # fmt: skip
    return raw


def test_no_spread_is_every_ship_at_the_fleet_rate() -> None:
    """With the spread at 0 every ship's factor is 1: the same replication as a fleet with no
    factor at all (its draws leave every other number alone)."""
    from sim.api import run

    a = run(validate_dict(_plain_raw()), seed=3).events
    b = run(validate_dict(_activity_raw(0.0)), seed=3).events
    pd.testing.assert_frame_equal(a, b)


def test_a_spread_makes_ships_cycle_at_different_rates() -> None:
    from sim.api import run

    r = run(validate_dict(_activity_raw(1.5)), seed=3)
    trips = r.summary.ships.set_index("ship")["trips"]
    assert trips.max() >= trips.min() + 2, trips


def test_a_spread_must_name_a_non_negative_unknown() -> None:
    raw = _activity_raw({"dist": "uniform", "low": -1.0, "high": 1.0})
    with pytest.raises(ScenarioError, match=r"unknowns\.act .* must be >= 0"):
        validate_dict(raw, file="x.toml")
    raw = _activity_raw(0.5)
    raw["fleet"]["c"]["turnaround_factor"]["spread"] = "nope"
    with pytest.raises(ScenarioError, match=r"turnaround_factor\.spread = 'nope': no such unknown"):
        validate_dict(raw, file="x.toml")


# --------------------------------------------------------------------------- held-out checks


def test_percentile_is_the_mid_rank() -> None:
    x = np.arange(100, dtype=float)
    w = np.ones(100)
    assert percentile(x, w, 49.5) == pytest.approx(0.5)
    assert percentile(x, w, -1.0) == 0.0 and percentile(x, w, 1e9) == 1.0
    assert percentile(np.array([1.0, 2.0]), np.array([3.0, 1.0]), 2.0) == pytest.approx(0.875)


def test_held_out_checks_flag_what_lies_outside_5_to_95() -> None:
    sc = validate_dict({**base_raw(), "anchors": {
        "inside": {"label": "mid", "quantity": "trips", "value": 50.0, "source": "s"},
        "outside": {"label": "far", "quantity": "trips", "value": 99.0, "source": "s"},
        "bound": {"label": "at least", "quantity": "trips", "value": 98.0, "relation": ">=",
                  "source": "s"},
    }})  # fmt: skip
    table = pd.DataFrame({"trips": np.arange(100, dtype=float)})
    checks = {h.id: h for h in held_out_checks(table, np.ones(100), [], sc)}
    assert checks["inside"].percentile == pytest.approx(0.505) and not checks["inside"].flagged
    assert checks["outside"].percentile > 0.95 and checks["outside"].flagged
    assert checks["bound"].p_agree == pytest.approx(0.02) and checks["bound"].flagged
    assert checks["inside"].p05 == pytest.approx(4.5) and checks["inside"].p95 == pytest.approx(
        94.5
    )


def test_an_anchor_must_name_a_quantity_of_the_replications() -> None:
    raw = {**base_raw(), "anchors": {"a": {"label": "x", "quantity": "tripz", "value": 1.0,
                                           "source": "s"}}}  # fmt: skip
    with pytest.raises(
        ScenarioError, match=r"anchors\.a\.quantity = 'tripz'.*did you mean 'trips'"
    ):
        validate_dict(raw, file="x.toml")


# --------------------------------------------------------------------------- what would settle it


def test_a_fact_that_decides_the_claim_moves_it_most() -> None:
    """A fact that tells exactly whether the claim holds moves P from 0.5 to 0 or 1: the
    expected change is 0.5; a fact unrelated to the claim moves it by its noise floor only."""
    rng = np.random.default_rng(1)
    x = rng.uniform(size=20_000)
    hit = x > 0.5
    noise = rng.uniform(size=20_000)
    cands = [Candidate("x", "x", x), Candidate("noise", "n", noise)]
    out = {s.key: s for s in settle(hit, np.ones(len(x)), cands)}
    assert out["x"].raw_change == pytest.approx(0.5, abs=0.002)
    # the noise floor: 10 outcomes of 2,000 replications, |dP| ~ sqrt(2/pi) sqrt(p(1-p)/2000)
    floor = math.sqrt(2 / math.pi) * math.sqrt(0.25 / 2000)
    assert out["x"].noise_floor == pytest.approx(floor, rel=0.5)
    assert out["x"].expected_change == pytest.approx(out["x"].raw_change - out["x"].noise_floor)
    assert out["x"].p_low == 0.0 and out["x"].p_high == 1.0
    assert out["noise"].expected_change < 0.01
    assert list(out) == ["x", "noise"]  # largest first


# --------------------------------------------------------------------------- the audit


def test_audit_settings_of_the_baseline() -> None:
    from sim.runner.robustness import audit_settings

    path = SCENARIOS / "osc-2024.toml"
    sc = load_scenario(path)
    _, raw = read_source(path)
    settings = audit_settings(sc, raw)
    assert settings[0].input == "default" and settings[0].evidence == "independent"
    grid = {
        (s.evidence, s.prior)
        for s in settings
        if s.input in ("default", "evidence", "prior", "evidence x prior")
    }
    assert grid == {(e, p) for e in EVIDENCE_SETS for p in ["scenario", *sc.priors]}
    audited = [s for s in settings if s.input in sc.audit]
    assert len(audited) == 2 * len(sc.audit)
    lf = next(s for s in audited if s.input == "load-factor" and s.level == "low")
    assert set(lf.overrides) == {"fleet.named.load_factor", "fleet.unnamed.load_factor"}
    # every setting is a valid scenario
    from sim.core.config import apply_overrides

    for s in audited:
        validate_dict(apply_overrides(raw, s.overrides), file=str(path))


def test_an_audit_setting_that_cannot_run_is_refused_by_validate() -> None:
    """validate refuses what robustness could not run: each [audit] setting is applied and
    validated, and the error names the setting's own key."""
    raw = read_toml(SCENARIOS / "osc-2024.toml")
    raw["audit"]["size-spread"]["high"]["fleet.*.capacity_dwt"]["sigma"] = -1.0
    with pytest.raises(ScenarioError) as exc:
        validate_dict(raw, file="x.toml")
    assert str(exc.value).startswith("x.toml: audit.size-spread.high.fleet.*.capacity_dwt.sigma")
    raw = read_toml(SCENARIOS / "osc-2024.toml")
    raw["audit"]["detection"]["low"]["berth"] = 1
    with pytest.raises(ScenarioError, match=r"audit\.detection\.low\.berth = 1: unknown key"):
        validate_dict(raw, file="x.toml")


def test_expand_keys_matches_every_table_at_a_star() -> None:
    raw = {"fleet": {"a": {"x": 1}, "b": {"x": 2}}, "terminal": {"port": "P"}}
    out = expand_keys(raw, {"fleet.*.x": 5, "terminal.port": "Q", "nothing.*.y": 1})
    assert out == {"fleet.a.x": 5, "fleet.b.x": 5, "terminal.port": "Q", "nothing.*.y": 1}


def _small_audit_scenario(folder: Path) -> Path:
    """The baseline, on geodesic routes, with a small calibration."""
    raw = read_toml(SCENARIOS / "osc-2024.toml")
    raw["routing"]["method"] = "geodesic"
    raw["calibration"].update(population=60, generations=3, replications=2)
    path = folder / "audit.toml"
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    (folder / raw["evidence"]).write_bytes((SCENARIOS / raw["evidence"]).read_bytes())
    return path


def test_robustness_runs_each_setting_and_writes_its_files(tmp_path: Path) -> None:
    import json

    from sim.api import robustness

    path = _small_audit_scenario(tmp_path)
    out = tmp_path / "audit"
    r = robustness(path, population=60, replications=2, generations=3, only=["load-factor"],
                   options="serial", out=out, progress=False)  # fmt: skip
    assert list(r.table["input"]) == ["default", "load-factor", "load-factor"]
    assert list(r.table["level"]) == ["default", "low", "high"]
    lo, hi = r.range
    assert lo == r.table["p_seen"].min() and hi == r.table["p_seen"].max()
    sw = r.swings()
    assert len(sw) == 1 and sw.loc[0, "swing"] == pytest.approx(
        sw.loc[0, "p_high"] - sw.loc[0, "p_low"]
    )
    assert sw.loc[0, "p_low"] <= r.centre["p_seen"] <= sw.loc[0, "p_high"]
    data = json.loads((out / "robustness.json").read_text())
    assert data["range"] == [lo, hi] and data["headline"].startswith("Did the 43 seen visits")
    assert (out / "plots" / "tornado.png").is_file() and (out / "robustness.csv").is_file()
    for folder in r.table["folder"]:
        assert (out / folder / "verdict_posterior.json").is_file()
    # a lower load factor can only lower the seen barrels: same seed, same particles' draws
    low = r.table.set_index("level").loc["low", "p_seen"]
    high = r.table.set_index("level").loc["high", "p_seen"]
    assert low <= high


def _audit_row(inp: str, level: str, p: float, se: float) -> dict[str, Any]:
    return {"input": inp, "label": f"the {inp}", "level": level, "level_label": f"{inp} {level}",
            "evidence": "independent", "prior": "scenario", "p_seen": p, "mcse": se,
            "p_fleet": p, "fleet_mcse": se, "word": "w",
            "folder": f"settings/{inp}--{level}"}  # fmt: skip


def test_an_input_decides_only_beyond_its_monte_carlo_error() -> None:
    """A swing counts as decisive only when it clears 10 points by two standard errors of
    Monte Carlo error; when its interval straddles 10 points the audit cannot tell, and says
    so instead of naming it. A clear small swing is not decisive."""
    from sim.runner.robustness import DECISIVE, MC_Z, RobustnessResult

    rows = [
        _audit_row("default", "default", 0.05, 0.01),
        _audit_row("size", "low", 0.01, 0.01),
        _audit_row("size", "high", 0.40, 0.02),  # 39 +- 4.5 points: decides it
        _audit_row("mix", "low", 0.03, 0.01),
        _audit_row("mix", "high", 0.18, 0.07),  # 15 +- 14 points: cannot tell
        _audit_row("noisy", "low", 0.04, 0.06),
        _audit_row("noisy", "high", 0.07, 0.03),  # 3 +- 13 points: cannot tell either
        _audit_row("quiet", "low", 0.04, 0.005),
        _audit_row("quiet", "high", 0.08, 0.005),  # 4 +- 1.4 points: does not
    ]
    r = RobustnessResult(
        load_scenario(SCENARIOS / "osc-2024.toml"), pd.DataFrame(rows), {}, 300, 0.0
    )
    sw = r.swings().set_index("input")
    assert list(sw.index) == ["size", "mix", "quiet", "noisy"]  # largest swing first
    assert sw.loc["mix", "swing_mcse"] == pytest.approx(math.hypot(0.01, 0.07))
    for inp in sw.index:
        lo_end = sw.loc[inp, "swing"] - MC_Z * sw.loc[inp, "swing_mcse"]
        hi_end = sw.loc[inp, "swing"] + MC_Z * sw.loc[inp, "swing_mcse"]
        assert sw.loc[inp, "decisive"] == (lo_end >= DECISIVE)
        assert sw.loc[inp, "unclear"] == (lo_end < DECISIVE <= hi_end)
    assert r.deciders() == ["the size"]
    assert r.unclear() == ["the mix", "the noisy"]
    assert r.mc_error() == (pytest.approx(0.01), 0.07, "the mix: mix high")
    h = r.headline()
    assert "what decides it: the size; 2 more inputs might, within Monte Carlo error" in h
    assert "the largest: the mix, a swing of 15 ± 14 points" in h
    assert "±1.0 points (median), up to ±7.0 (the mix: mix high)" in h


def test_robustness_refuses_an_unknown_input(tmp_path: Path) -> None:
    from sim.api import robustness

    with pytest.raises(ScenarioError, match="no such audited input"):
        robustness(_small_audit_scenario(tmp_path), only=["nope"], options="serial",
                   progress=False)  # fmt: skip


# --------------------------------------------------------------------------- slow: the baseline


@pytest.mark.slow
def test_start_up_prior_range_moves_the_answer_little(tmp_path: Path) -> None:
    """With the start-up fitted, a latest start of 5-60 d against 5-120 d moves P(seen) by
    less than 0.1, under the default and under every row with the wide size prior (the
    setting where the March figures inform the size)."""
    from sim.runner.calibrate import calibrate
    from sim.runner.pipeline import ExecOptions

    raw = read_toml(SCENARIOS / "osc-2024.toml")
    raw["routing"]["method"] = "geodesic"
    path = tmp_path / "b.toml"
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    (tmp_path / raw["evidence"]).write_bytes((SCENARIOS / raw["evidence"]).read_bytes())
    for evidence, prior in (("independent", "scenario"), ("all", "wide-size")):
        p = {}
        for high in (60.0, 120.0):
            over = {"unknowns.start_offset_max_days": {"dist": "uniform", "low": 5.0, "high": high}}
            r = calibrate(path, prior=prior, evidence=evidence, overrides=over, compare=(),
                          population=400, replications=10,
                          options=ExecOptions("local", 2))  # fmt: skip
            p[high] = r.verdict.seen.p
        assert abs(p[60.0] - p[120.0]) < 0.1, (evidence, prior, p)


@pytest.mark.slow
def test_simulation_based_calibration_covers_the_truths(tmp_path: Path) -> None:
    """A small simulation-based calibration (12 truths; the full one, 100 truths, is
    benchmarks/bench_sbc.py): every fitted unknown's 90 % interval covers at least 8 of 12
    truths (a calibrated posterior covers 10.8 on average; fewer than 8 has probability under
    3 %), and the ranks are not piled at one end."""
    from sim.runner.pipeline import ExecOptions
    from sim.runner.sbc import coverage, run_sbc

    path = _small_audit_scenario(tmp_path)
    res = run_sbc(path, truths=12, population=150, replications=3, generations=6,
                  options=ExecOptions("local", 2))  # fmt: skip
    cov = coverage(res.table, res.keys).set_index("quantity")
    for key in res.keys:
        assert cov.loc[key, "covered_90"] * cov.loc[key, "truths"] >= 8, cov.loc[key]
        u = res.table[f"rank:{key}"]
        assert 0.1 < u.mean() < 0.9, (key, u.tolist())


def test_the_companion_started_ahead_on_a_pool_gives_the_serial_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a pool, the companion calibration's pilot and first jobs are submitted while the
    first calibration imports pyabc, and taken when the companion runs: both calibrations
    equal those of one process (which starts nothing ahead), bit for bit, and both first
    generations took their jobs run ahead."""
    from sim import api
    from sim.runner import calibrate as C

    taken = []
    result = C._Later.result
    monkeypatch.setattr(C._Later, "result", lambda self: taken.append(1) or result(self))
    started = []
    start = C._start_ahead
    monkeypatch.setattr(
        C, "_start_ahead", lambda s, *a, **k: started.append(s.evidence_set) or start(s, *a, **k)
    )
    path = _small_audit_scenario(tmp_path)
    kw = {"population": 60, "generations": 2, "replications": 1, "plots": False}
    pool = api.calibrate(path, options=api.ExecOptions("local", 2), progress=False, **kw)
    assert started == ["all"] and len(taken) >= 2  # a first job of each calibration
    serial = api.calibrate(path, options="serial", progress=False, **kw)
    for a, b in ((serial, pool), (serial.companions["all"], pool.companions["all"])):
        pd.testing.assert_frame_equal(a.posterior, b.posterior, check_exact=True)
        pd.testing.assert_frame_equal(a.diagnostics, b.diagnostics, check_exact=True)
        assert a.simulated == b.simulated and a.verdict == b.verdict


def test_the_posterior_run_again_keeps_the_answer_on_every_row(tmp_path: Path) -> None:
    """calibrate keeps the calibration on every row beside the default (evidence-all/), and
    mc --posterior (run_posterior) gives both answers again."""
    import json

    from sim import api

    path = _small_audit_scenario(tmp_path)
    out = tmp_path / "cal"
    r = api.calibrate(path, out=out, options="serial", population=60, generations=2,
                      replications=1, plots=False, progress=False)  # fmt: skip
    assert (
        list(r.companions) == ["all"]
        and (out / "evidence-all" / "verdict_posterior.json").is_file()
    )
    alt = r.verdict.alternatives[0]
    assert alt.evidence == "all" and alt.p_seen == r.companions["all"].verdict.seen.p
    assert set(alt.fitted) > set(r.verdict.fitted)
    again = api.run_posterior(out, replications=1, options="serial", plots=False)
    assert [a.evidence for a in again.verdict.alternatives] == ["all"]
    assert again.verdict.alternatives[0].p_seen == alt.p_seen
    saved = json.loads((out / "verdict_posterior.json").read_text())
    assert saved["headline"].startswith("Did the 43 seen visits carry 1,000,000 barrels? Between")
    assert saved["answers"] == [
        min(r.verdict.seen.p, alt.p_seen),
        max(r.verdict.seen.p, alt.p_seen),
    ]
