"""Calibration by ABC-SMC: statistics by hand, coverage on synthetic evidence, reproducibility,
resume, robustness to the turnaround prior, and the posterior predictive check."""

from __future__ import annotations

import datetime as dt
import itertools
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomli_w
from conftest import ROOT, SCENARIOS, base_raw
from hypothesis import given, settings
from hypothesis import strategies as hs

pytest.importorskip("pyabc")

from sim.core.config import read_toml, validate_dict
from sim.runner.calibrate import (
    SIGHTINGS,
    Proposals,
    Statistic,
    calibrate,
    calibration_parameters,
    setup,
)
from sim.runner.pipeline import ExecOptions, Job, run_jobs
from sim.runner.single import prepare

HEADER = (
    "id,kind,date_from,date_to,ship,place,activity,relation,count,bbl,share,source,confidence,note"
)


# --------------------------------------------------------------------------- statistics


def test_shortfalls_by_relation() -> None:
    x = np.array([40.0, 43.0, 50.0, np.nan])
    eq = Statistic("v", "", ("c",), "=", 43.0, scale=2.0)
    np.testing.assert_array_equal(eq.discrepancy(x), [-1.5, 0.0, 3.5, -21.5])
    ge = Statistic("d", "", ("c",), ">=", 43.0)
    np.testing.assert_array_equal(ge.gap(x), [-3.0, 0.0, 0.0, -43.0])
    approx = Statistic("b", "", ("c",), "~", 40.0)  # within 20 %: 32-48 agree
    np.testing.assert_array_equal(approx.gap(x), [0.0, 0.0, 2.0, -32.0])
    np.testing.assert_array_equal(approx.agrees(np.array([31.0, 32.0, 48.0, 49.0])),
                                  [False, True, True, False])  # fmt: skip


def test_what_the_baseline_fits() -> None:
    s = setup(SCENARIOS / "osc-2024.toml")
    assert [p.key for p in s.parameters] == [
        "unknowns.activity_sigma",
        "unknowns.fleet_dwt",
        "unknowns.start_offset_max_days",
        "unknowns.turnaround_days",
        "observation.p_detect",
    ]
    fitted = {st.name for st in s.statistics if st.fitted}
    # The default evidence set: the premise and the rows independent of the claim.
    assert fitted == {"osc-visits", "bbc-distinct-dozen", "yomiuri-april-tankers"}
    # Checked, not fitted: the claimants' rows, the all-visits readings, the sightings.
    assert not fitted & {"usgov-march-volume", "ft-march-volume", SIGHTINGS}
    sightings = next(st for st in s.statistics if st.name == SIGHTINGS)
    assert sightings.target == len(sightings.columns) == 6
    every = {st.name for st in setup(SCENARIOS / "osc-2024.toml", evidence="all").fitted}
    assert every >= fitted | {"usgov-march-volume", "ft-march-volume", "bbc-share-sanctioned"}
    assert SIGHTINGS not in every and "usgov-march-volume:all" not in every


def test_default_calibration_fits_no_row_that_depends_on_the_claim() -> None:
    """Every row of the shipped evidence says how it was obtained; the default calibration
    fits none made by the claim's own method or from the claimants."""
    from sim.core.evidence import BASES, INDEPENDENCE, scenario_evidence

    s = setup(SCENARIOS / "osc-2024.toml")
    ev = scenario_evidence(s.scenario)
    assert ev is not None
    for row in ev.rows:
        assert row.basis in BASES and row.independence in INDEPENDENCE, row.id
        assert "Provenance:" in row.note, row.id  # the reason, in the row's note
    by_id = {row.id: row for row in ev.rows}
    for st in s.fitted:
        assert by_id[st.name].independence in ("independent", "premise"), st.name
    own = [st for st in s.statistics if st.name in by_id]  # a row's own statistic
    dependent = {st.name for st in own if by_id[st.name].dependent}
    assert dependent >= {"ft-march-volume", "usgov-march-volume", "ft-march-berth"}
    assert not any(st.fitted for st in own if st.name in dependent)
    assert all(st.why for st in s.statistics if not st.fitted)


def test_a_prior_set_replaces_the_prior() -> None:
    s = setup(SCENARIOS / "osc-2024.toml", prior="small-ships")
    size = next(p for p in s.parameters if p.key == "unknowns.fleet_dwt")
    assert size.dist.bounds == (1000.0, 3000.0)
    from sim.core.errors import OptionError

    with pytest.raises(OptionError, match="no such prior set"):
        setup(SCENARIOS / "osc-2024.toml", prior="nope")


def test_bad_prior_set_key_is_a_scenario_error() -> None:
    from sim.core.errors import ScenarioError

    raw = read_toml(SCENARIOS / "osc-2024.toml")
    raw["priors"]["bad"] = {"set": {"fleet.named.speed_laden_kn": 9.0}}
    with pytest.raises(ScenarioError, match=r"priors\.bad\.set\.fleet\.named\.speed_laden_kn"):
        validate_dict(raw, file="x.toml")


# --------------------------------------------------------------------------- the proposals


def _draws(sizes: list[int]) -> Any:
    """A draw function as the sampler's: each draw takes numpy's global state for the rows
    asked, and keeps ``sizes[k]`` of them (those inside the prior's support)."""
    k = [0]

    def draw(n: int) -> np.ndarray:
        q = np.random.random_sample((n, 2))  # noqa: NPY002 - as pyabc draws
        keep = sizes[k[0] % len(sizes)]
        k[0] += 1
        return q[: min(keep, n)]

    return draw


@settings(max_examples=60, deadline=None)
@given(
    sizes=hs.lists(hs.integers(0, 1200), min_size=1, max_size=6).filter(any),
    cuts=hs.lists(hs.integers(1, 900), min_size=1, max_size=8),
    beyond=hs.integers(0, 3000),
)
def test_proposals_are_one_sequence_however_they_are_asked_for(
    sizes: list[int], cuts: list[int], beyond: int
) -> None:
    """A generation's proposals are the same rows whether jobs ask for them in one piece or
    many; and however far beyond its last needed row it drew, the generation leaves numpy's
    global state as a generation that drew only up to that row would (and the rows used, the
    replication numbers it spends, are the same)."""
    saved = np.random.get_state()  # noqa: NPY002
    try:
        total = sum(cuts)
        np.random.seed(7)  # noqa: NPY002
        whole = Proposals(_draws(sizes)).rows(0, total)
        np.random.seed(7)  # noqa: NPY002
        stream = Proposals(_draws(sizes))
        edges = np.cumsum([0, *cuts])
        pieces = [stream.rows(int(a), int(b)) for a, b in itertools.pairwise(edges)]
        np.testing.assert_array_equal(np.concatenate(pieces), whole)
        last = total - 1
        stream.rows(total, total + beyond)  # drawn ahead, not needed
        used = stream.rewind(last)
        after = np.random.random_sample(3)  # noqa: NPY002
        np.random.seed(7)  # noqa: NPY002
        needed = Proposals(_draws(sizes))
        needed.rows(0, last + 1)
        assert used == needed.ends[-1] >= last + 1
        np.testing.assert_array_equal(after, np.random.random_sample(3))  # noqa: NPY002
    finally:
        np.random.set_state(saved)  # noqa: NPY002


# --------------------------------------------------------------------------- synthetic evidence

TRUTH = {"unknowns.size": 1.3, "unknowns.turn": 12.0, "observation.p_detect": 0.7}


def _synthetic_raw() -> dict[str, Any]:
    raw = base_raw()
    raw["seed"] = 5
    raw["window"] = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 4, 29)}  # 120 days
    raw["ports"] = {"A": {"lat": 0.0, "lon": 0.0}, "B": {"lat": 0.0, "lon": 2.0}}
    raw["terminal"] = {"port": "A", "load_rate_bbl_per_h": 1500.0, "pre_pump_h": 2.0}
    raw["discharge"] = {"B": {"rate_bbl_per_h": 1000.0, "berths": 2}}
    raw["unknowns"] = {
        "size": {"dist": "uniform", "low": 0.5, "high": 2.0},
        "turn": {"dist": "uniform", "low": 2.0, "high": 30.0},
    }
    raw["fleet"]["c"] = {
        "count": 6,
        "capacity_bbl": {"dist": "uniform", "low": 8000.0, "high": 12000.0, "scale": "size"},
        "load_factor": 0.9,
        "speed_laden_kn": 10.0,
        "speed_ballast_kn": 11.0,
        "turnaround_days": {"dist": "uniform", "low": 0.5, "high": 1.5, "scale": "turn"},
        "start_offset_days": {"dist": "uniform", "low": 0.0, "high": 10.0},
    }
    raw["observation"] = {"p_detect": {"dist": "uniform", "low": 0.4, "high": 1.0}}
    raw["claims"] = {"trips": 30, "barrels": 300000.0}
    raw["calibration"] = {"population": 300, "generations": 8, "replications": 5}
    raw["evidence"] = "synthetic.evidence.csv"
    return raw


ROWS = [
    ("all-visits", "visits", "2024-01-01", "2024-04-29", "=", "count"),
    ("jan-visits", "visits", "2024-01-01", "2024-01-31", "=", "count"),
    ("all-volume", "volume", "2024-01-01", "2024-04-29", "~", "bbl"),
    ("feb-volume", "volume", "2024-02-01", "2024-02-29", "~", "bbl"),
    ("distinct", "distinct_ships", "2024-01-01", "2024-04-29", ">=", "count"),
]


def _evidence(values: dict[str, float]) -> str:
    lines = [HEADER]
    for rid, kind, d0, d1, rel, field in ROWS:
        v = values.get(rid, 1.0)
        count = f"{v:.0f}" if field == "count" else ""
        bbl = f"{v:.0f}" if field == "bbl" else ""
        lines.append(f"{rid},{kind},{d0},{d1},,A,,{rel},{count},{bbl},,synthetic,high,")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scenario whose evidence is one replication of the model at known values."""
    folder = tmp_path_factory.mktemp("synthetic")
    raw = _synthetic_raw()
    path = folder / "synthetic.toml"
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    (folder / "synthetic.evidence.csv").write_text(_evidence({}), encoding="utf-8")
    s = setup(path)
    job = Job(
        s.prepared, s.seed, 0, (123_456,), daily=False, observables=s.observables,
        fixed={k: (v,) for k, v in TRUTH.items()},
    )  # fmt: skip
    table = run_jobs([job])[0]
    values = {ob.row.id: float(table[ob.column].iloc[0]) for ob in s.observables if not ob.suffix}
    assert values["all-visits"] > 10  # enough to learn from
    (folder / "synthetic.evidence.csv").write_text(_evidence(values), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def synthetic_result(synthetic: Path) -> Any:
    return calibrate(synthetic, options=ExecOptions("serial"))


def test_posterior_covers_the_truth(synthetic_result: Any) -> None:
    """Evidence made by the model at known values is fed back: the 90 % credible intervals
    cover the true values, and the data narrow the prior of what the counts and volumes
    identify (the ships' size and turnaround) to well under its own 90 % interval. One
    replication's counts say little of the detection probability: its interval is 0.72-0.90
    of the prior's range over seeds 5-10, so it is only required to cover the truth."""
    r = synthetic_result
    for p in r.setup.parameters:
        iv = r.verdict.parameters[p.key]
        assert iv.lo <= TRUTH[p.key] <= iv.hi, (p.key, iv, TRUTH[p.key])
        lo, hi = p.dist.bounds
        if p.key != "observation.p_detect":
            assert iv.hi - iv.lo < 0.6 * (hi - lo), f"{p.key} not narrowed: {iv}"
    assert (r.diagnostics["epsilon"].diff().dropna() < 0).all()  # tolerances shrink


def test_posterior_predictive_reproduces_the_evidence(synthetic_result: Any) -> None:
    pc = synthetic_result.predictive.set_index("statistic")
    fitted = [st for st in synthetic_result.setup.statistics if st.fitted]
    assert sorted(st.name for st in fitted) == sorted(r[0] for r in ROWS)
    for st in fitted:
        row = pc.loc[st.name]
        assert row["p05"] <= st.target <= row["p95"] or st.relation == ">="
        assert row["agree_posterior"] >= row["agree_prior"], st.name


def test_a_generation_does_not_depend_on_how_its_proposals_are_cut(
    synthetic: Path, synthetic_result: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sampler keeps several jobs submitted, of sizes it guesses from the acceptance rate,
    and drops what was simulated beyond the n-th acceptance: none of that may reach the
    result. Tiny jobs, a large overshoot and five jobs in flight (as on a pool) give the same
    posterior, tolerances and simulation count, bit for bit, as the defaults."""
    from sim.runner import calibrate as C

    monkeypatch.setattr(C, "MIN_JOB", 7)
    monkeypatch.setattr(C, "CHUNK", 53)
    monkeypatch.setattr(C, "MARGIN", 2.5)
    monkeypatch.setattr(C.Simulator, "capacity", lambda self: (3, 5))
    cut = calibrate(synthetic, options=ExecOptions("serial"))
    a = synthetic_result
    pd.testing.assert_frame_equal(a.posterior, cut.posterior, check_exact=True)
    pd.testing.assert_frame_equal(a.diagnostics, cut.diagnostics, check_exact=True)
    assert a.simulated == cut.simulated


def test_the_first_generation_runs_while_pyabc_is_imported_with_the_same_result(
    synthetic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a pool, the first generation's first jobs are submitted behind the pilot's, before
    pyabc is imported, from a prediction of pyabc's prior draws, and judged when the
    generation takes them. They must be taken (the prediction matches pyabc's own draws:
    were pyabc to draw otherwise, they would be dropped and this fails), and the calibration
    must equal the one in this process, which runs nothing ahead, bit for bit."""
    from sim.runner import calibrate as C

    judged_here = []
    result = C._Later.result
    monkeypatch.setattr(C._Later, "result", lambda self: judged_here.append(1) or result(self))
    kw: dict[str, Any] = {"generations": 2, "replications": 2, "compare": ()}
    pool = calibrate(synthetic, options=ExecOptions("local", 2), **kw)
    assert judged_here, "the first generation did not take the jobs run ahead"
    serial = calibrate(synthetic, options=ExecOptions("serial"), **kw)
    assert len(judged_here) <= 2 * 2  # at most two jobs a worker, taken once
    pd.testing.assert_frame_equal(serial.posterior, pool.posterior, check_exact=True)
    pd.testing.assert_frame_equal(serial.diagnostics, pool.diagnostics, check_exact=True)
    assert serial.simulated == pool.simulated


def test_the_simulations_counted_are_pilot_generations_and_posterior_runs(
    synthetic_result: Any,
) -> None:
    """The count reported: the pilot, each generation's proposals up to its n-th acceptance
    (pyabc's own count), and the posterior runs. pyabc's draw from the prior (the first
    tolerance) is the pilot's first rows, simulated once."""
    from sim.runner.calibrate import PILOT

    r = synthetic_result
    assert r.simulated == PILOT + int(r.diagnostics["simulations"].sum()) + len(r.replications)


@pytest.mark.slow
def test_same_seed_same_result_on_any_executor(synthetic: Path, synthetic_result: Any) -> None:
    two = calibrate(synthetic, options=ExecOptions("local", 2))
    pd.testing.assert_frame_equal(synthetic_result.posterior, two.posterior, check_exact=True)
    pd.testing.assert_frame_equal(synthetic_result.diagnostics.drop(columns=[]), two.diagnostics)
    assert synthetic_result.verdict == two.verdict
    other = calibrate(synthetic, options=ExecOptions("serial"), seed=99, generations=2)
    assert not other.posterior["weight"].equals(synthetic_result.posterior["weight"])


@pytest.mark.slow
def test_dask_gives_the_same_result(synthetic: Path) -> None:
    pytest.importorskip("dask.distributed")
    a = calibrate(synthetic, options=ExecOptions("serial"), generations=3, replications=2)
    b = calibrate(synthetic, options=ExecOptions("dask", 2), generations=3, replications=2)
    pd.testing.assert_frame_equal(a.posterior, b.posterior, check_exact=True)


@pytest.mark.slow
def test_interrupted_calibration_resumes_to_the_same_result(
    synthetic: Path, tmp_path: Path
) -> None:
    out = tmp_path / "killed"
    exe = Path(sys.executable).with_name("tankersim")
    args = [str(exe), "calibrate", str(synthetic), "--executor", "serial", "--no-plots",
            "--generations", "8", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    ckpt = out / "calibration.ckpt"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill once generation 1 is checkpointed
        if ckpt.exists():
            try:
                state = pickle.loads(ckpt.read_bytes())
            except Exception:  # being replaced: read it again
                continue
            if state["t"] >= 1:
                break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = pickle.loads(ckpt.read_bytes())
    assert not state["finished"], "the calibration finished before it could be interrupted"
    resumed = calibrate(synthetic, options=ExecOptions("serial"), out=out, resume=True,
                        generations=8)  # fmt: skip
    whole = calibrate(synthetic, options=ExecOptions("serial"), generations=8)
    pd.testing.assert_frame_equal(resumed.posterior, whole.posterior, check_exact=True)
    pd.testing.assert_frame_equal(resumed.diagnostics, whole.diagnostics, check_exact=True)


def test_calibrating_twice_into_one_folder_needs_resume(synthetic: Path, tmp_path: Path) -> None:
    from sim.core.errors import ResultsExistError, ResultsMismatchError

    calibrate(synthetic, options=ExecOptions("serial"), out=tmp_path, generations=1,
              replications=1)  # fmt: skip
    with pytest.raises(ResultsExistError):
        calibrate(synthetic, options=ExecOptions("serial"), out=tmp_path, generations=1)
    with pytest.raises(ResultsMismatchError):
        calibrate(synthetic, options=ExecOptions("serial"), out=tmp_path, resume=True,
                  generations=1, seed=3)  # fmt: skip


# --------------------------------------------------------------------------- the baseline


def _baseline_with_turnaround(folder: Path, factor: float) -> Path:
    raw = read_toml(SCENARIOS / "osc-2024.toml")
    t = raw["unknowns"]["turnaround_days"]
    raw["unknowns"]["turnaround_days"] = {**t, "low": t["low"] * factor, "high": t["high"] * factor}
    raw["routing"]["method"] = "geodesic"
    path = folder / f"turn-{factor}.toml"
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    (folder / raw["evidence"]).write_bytes((SCENARIOS / raw["evidence"]).read_bytes())
    return path


@pytest.mark.slow
def test_seen_answer_is_robust_to_the_turnaround_prior(tmp_path: Path) -> None:
    """Scaling the turnaround prior by 0.7 and 1.3 moves P(seen visits >= claim | evidence)
    by less than 0.1: the trips are inferred from the sightings, not from the prior. The
    scenario's own prior (5-150 days) and the wider one hold the posterior inside their bounds;
    the narrower one's 105-day bound cuts into it (the evidence independent of the claim leaves
    the turnaround wide), and the answer still does not move."""
    p = {}
    for factor in (0.7, 1.0, 1.3):
        r = calibrate(_baseline_with_turnaround(tmp_path, factor), population=400,
                      generations=10, replications=10, compare=(),
                      options=ExecOptions("local", 2))  # fmt: skip
        p[factor] = r.verdict.seen.p
        turn = r.verdict.parameters["unknowns.turnaround_days"]
        if factor >= 1.0:
            hi = 150.0 * factor
            assert turn.hi < 0.95 * hi, f"posterior piled against the prior's bound: {turn}"
    assert abs(p[0.7] - p[1.0]) < 0.1 and abs(p[1.3] - p[1.0]) < 0.1, p


def test_parameters_are_the_fleet_level_uncertain_values() -> None:
    raw = base_raw()
    raw["observation"] = {"p_detect": {"dist": "uniform", "low": 0.3, "high": 0.9}}
    raw["fleet"]["c"]["load_factor"] = {
        "dist": "uniform",
        "low": 0.5,
        "high": 1.0,
        "level": "fleet",
    }
    sc = validate_dict(raw)
    keys = [p.key for p in calibration_parameters(sc)]
    assert keys == ["fleet.c.load_factor", "observation.p_detect"]
    _, _, c = prepare(sc)  # the parameters are inputs the engines accept as fixed values
    from sim.model.draws import check_fixed

    check_fixed(c, {k: np.array([0.5]) for k in keys}, 1)


def test_cli_errors_are_one_line(tmp_path: Path, synthetic: Path) -> None:
    from typer.testing import CliRunner

    from sim.cli import app

    runner = CliRunner()
    res = runner.invoke(
        app, ["calibrate", str(SCENARIOS / "minimal.toml"), "--out", str(tmp_path / "a")]
    )
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [
        f"tankersim: error: {SCENARIOS / 'minimal.toml'}: evidence = <missing>: calibration needs "
        "an evidence file"
    ]
    res = runner.invoke(
        app, ["calibrate", str(synthetic), "--prior", "wide", "--out", str(tmp_path / "b")]
    )
    assert res.exit_code == 2 and "--prior = 'wide': no such prior set" in res.stderr
    res = runner.invoke(
        app, ["mc", str(synthetic), "--posterior", str(tmp_path), "--out", str(tmp_path / "c")]
    )
    assert res.exit_code == 2 and "not a calibration folder" in res.stderr


def test_cli_calibrate_and_mc_posterior(tmp_path: Path, synthetic: Path) -> None:
    """The command writes the posterior, diagnostics, verdict and plots; mc --posterior runs
    the same posterior again with more replications per particle."""
    from typer.testing import CliRunner

    from sim.cli import app

    runner = CliRunner()
    out = tmp_path / "cal"
    args = ["calibrate", str(synthetic), "--generations", "3", "--population", "100", "-n", "2",
            "--executor", "serial", "--out", str(out)]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    for name in ("posterior.parquet", "diagnostics.csv", "predictive.csv", "verdict_posterior.json",
                 "verdict_posterior.md", "calibration.json", "manifest.json",
                 "plots/must_believe.png", "plots/posterior.svg"):  # fmt: skip
        assert (out / name).is_file(), name
    assert "Posterior verdict" in res.output
    post = pd.read_parquet(out / "posterior.parquet")
    assert len(post) == 100 and abs(post["weight"].sum() - 1) < 1e-12
    args = ["mc", str(synthetic), "--posterior", str(out), "-n", "4", "--executor", "serial",
            "--out", str(tmp_path / "again")]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    again = pd.read_parquet(tmp_path / "again" / "posterior_replications.parquet")
    assert len(again) == 400 and again["particle"].nunique() == 100


def test_a_finished_calibration_asked_again_is_read_not_run(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--resume on a finished calibration reads its pilot, history and posterior runs: the
    same verdict, and not one simulation run again."""
    from sim import api
    from sim.runner import calibrate as cal

    kw = {"options": "serial", "generations": 2, "replications": 2, "plots": False,
          "progress": False}  # fmt: skip
    first = api.calibrate(synthetic, out=tmp_path, **kw)

    def refuse(*a: Any, **k: Any) -> None:
        raise AssertionError("a finished calibration was simulated again")

    monkeypatch.setattr(cal.Simulator, "table", refuse)
    again = api.calibrate(synthetic, out=tmp_path, resume=True, **kw)
    assert again.verdict == first.verdict
    pd.testing.assert_frame_equal(again.replications, first.replications, check_exact=True)
    pd.testing.assert_frame_equal(again.posterior, first.posterior, check_exact=True)
    assert again.simulated == first.simulated


# --------------------------------------------------------------------------- pyabc


def _toy_model(p: dict[str, float]) -> dict[str, float]:
    return {"y": p["a"] + 0.1 * float(np.random.normal())}  # noqa: NPY002 - pyabc's state


def test_pyabc_behaves_as_the_adapter_assumes(tmp_path: Path) -> None:
    """The one place that knows what tankersim assumes of pyabc beyond its documented API
    (sim/runner/abc_adapter.py, and the block sampler's reading of pyabc's arguments). It runs
    pyabc's own ABC-SMC on a toy model and fails, naming the assumption, when a pyabc release
    changes one: then the adapter (and the range in pyproject.toml) must follow."""
    import tomllib

    import pyabc
    from packaging.specifiers import SpecifierSet

    from sim.runner import abc_adapter

    # The range: pyproject.toml allows what the adapter was written for, and pyabc is in it.
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for group in extras["project"]["optional-dependencies"].values() for d in group
            if d.startswith("pyabc")]  # fmt: skip
    assert pins and set(pins) == {f"pyabc{abc_adapter.PYABC_VERSIONS}"}, pins
    assert pyabc.__version__ in SpecifierSet(abc_adapter.PYABC_VERSIONS), (
        f"pyabc {pyabc.__version__} is outside {abc_adapter.PYABC_VERSIONS}, which the "
        "adapter was checked with"
    )

    calls: list[tuple[int, bool, Any]] = []

    class Recording(pyabc.SingleCoreSampler):
        def sample_until_n_accepted(self, n: int, simulate_one: Any, t: int, **kw: Any) -> Any:
            calls.append((t, kw.get("all_accepted", False), kw.get("ana_vars")))
            return super().sample_until_n_accepted(n, simulate_one, t, **kw)

    def toy(history: str) -> Any:
        abc = pyabc.ABCSMC(
            _toy_model, pyabc.Distribution(a=pyabc.RV("uniform", 0.0, 1.0),
                                           b=pyabc.RV("norm", 0.0, 1.0)),
            pyabc.PNormDistance(p=2), population_size=20,
            transitions=pyabc.MultivariateNormalTransition(),
            eps=pyabc.QuantileEpsilon(alpha=0.5), sampler=Recording(),
        )  # fmt: skip
        if history == "pyabc":
            abc.new(f"sqlite:///{tmp_path / 'toy.db'}", {"y": 0.4})
            abc.history.stores_sum_stats = False
        else:
            abc_adapter.new(abc, {"y": 0.4}, tmp_path)
        return abc

    def start(abc: Any) -> int:
        return int(abc.initialize_components_before_run(
            minimum_epsilon=0.0, max_nr_populations=4, min_acceptance_rate=0.0,
            max_total_nr_simulations=np.inf, max_walltime=None, min_eps_diff=0.0,
        ))  # fmt: skip

    saved = np.random.get_state()  # noqa: NPY002
    try:
        # pyabc's own history and tankersim's, side by side: the same generations, bit for bit.
        runs = {}
        for kind in ("pyabc", "tankersim"):
            np.random.seed(3)  # noqa: NPY002
            calls.clear()
            abc = toy(kind)
            t0 = start(abc)
            assert t0 == 0 and [(t, a) for t, a, _ in calls] == [(-1, True)], (
                "pyabc's draw from the prior (the first tolerance) is no longer the one sampler "
                f"call with all_accepted=True: {[(t, a) for t, a, _ in calls]}; the block "
                "sampler tells it by that"
            )
            for t in range(3):
                abc.run_generation(t=t)
            runs[kind] = abc
        ours, theirs = runs["tankersim"].history, runs["pyabc"].history
        assert ours.max_t == theirs.max_t == 2, "run_generation no longer appends its generation"
        assert ours.total_nr_simulations == theirs.total_nr_simulations
        for t in range(3):
            (p1, w1), (p2, w2) = ours.get_distribution(0, t), theirs.get_distribution(0, t)
            pd.testing.assert_frame_equal(p1, p2, check_exact=True, obj=f"generation {t}")
            assert np.array_equal(w1, w2), f"generation {t}'s weights differ from pyabc's history"
            assert runs["tankersim"].eps(t) == runs["pyabc"].eps(t)
            pd.testing.assert_frame_equal(ours.get_model_probabilities(t),
                                          theirs.get_model_probabilities(t))  # fmt: skip
        mine, pyabcs = ours.get_all_populations(), theirs.get_all_populations()
        for col in ("t", "samples", "epsilon"):
            assert mine[col].tolist() == pyabcs[col].tolist(), col
        # ... and written out as a pyabc database, pyabc reads the same generations back.
        exported = ours.to_pyabc(f"sqlite:///{tmp_path / 'exported.db'}")
        for t in range(3):
            pd.testing.assert_frame_equal(exported.get_distribution(0, t)[0],
                                          theirs.get_distribution(0, t)[0])  # fmt: skip

        # The checkpoint: the ABCSMC pickled without sampler and history, restored with the
        # history, gives the uninterrupted run's next generation.
        np.random.seed(4)  # noqa: NPY002
        abc = toy("tankersim")
        start(abc)
        abc.run_generation(t=0)
        t, all_accepted, ana_vars = calls[-1]
        assert (t, all_accepted) == (0, False), calls
        for name, value in (("parameter_priors", abc.parameter_priors),
                            ("transitions", abc.transitions), ("eps", abc.eps)):  # fmt: skip
            assert getattr(ana_vars, name, None) is value, (
                f"pyabc no longer passes the sampler its {name} in ana_vars"
            )
        state = pickle.loads(pickle.dumps(abc_adapter.snapshot(abc)))
        rng = np.random.get_state()  # noqa: NPY002
        pickled = pickle.loads(state["abc"]).__dict__
        assert "sampler" not in pickled, "ABCSMC pickles its sampler"
        assert pickled["history"] is None
        eps1 = abc.eps(1)
        abc.run_generation(t=1)
        eps, kernel = abc.eps(2), abc.transitions[0]

        again = abc_adapter.restore(state)
        again.sampler = Recording()
        assert again.history.max_t == 0
        try:
            restored: Any = again.eps(1)
        except Exception as exc:  # a missing or broken tolerance, reported below
            restored = exc
        assert restored == eps1, "the pickled ABCSMC no longer carries the tolerance schedule"
        np.random.set_state(rng)  # noqa: NPY002
        again.run_generation(t=1)
        assert again.eps(2) == eps, "the pickled ABCSMC no longer carries the tolerance schedule"
        pd.testing.assert_frame_equal(
            again.history.get_distribution(0, 1)[0],
            abc.history.get_distribution(0, 1)[0],
            check_exact=True,
        )
        np.random.seed(5)  # noqa: NPY002
        x = kernel.rvs(size=4)
        np.random.seed(5)  # noqa: NPY002
        y = again.transitions[0].rvs(size=4)
        pd.testing.assert_frame_equal(x, y, obj="the restored proposal kernel's draws")

        # The proposal density the workers compute (the kernel as plain data, pickled as a job
        # carries it) is pyabc's pdf, bit for bit, whatever the order of the columns given.
        plain = pickle.loads(pickle.dumps(abc_adapter.kernel(kernel)))
        assert plain.columns == tuple(kernel.X.columns)
        at = kernel.rvs(size=50)
        theirs_pdf = np.atleast_1d(kernel.pdf(at[list(reversed(at.columns))]))
        mine_pdf = plain.density(at[list(plain.columns)].to_numpy())
        assert theirs_pdf.dtype == mine_pdf.dtype and np.array_equal(mine_pdf, theirs_pdf), (
            "pyabc's MultivariateNormalTransition.pdf no longer computes what Kernel.density "
            "does: the accepted particles' weights would differ"
        )
        assert plain.normal is None and b"scipy" not in pickle.dumps(plain), (
            "the kernel a job carries should be plain arrays: a worker need not import scipy"
        )
        # A singular kernel (one parameter a copy of another) keeps scipy's normal, whose
        # density masks what lies outside its support: still pyabc's pdf, bit for bit.
        flat = pyabc.MultivariateNormalTransition()
        xs = np.random.uniform(size=(30, 1))  # noqa: NPY002
        flat.fit(pd.DataFrame({"a": xs[:, 0], "b": xs[:, 0]}), np.full(30, 1 / 30))
        sing = abc_adapter.kernel(flat)
        at = pd.DataFrame({"a": [0.3, 0.5], "b": [0.3, 0.6]})
        assert sing.normal is not None
        assert np.array_equal(sing.density(at.to_numpy()), np.atleast_1d(flat.pdf(at)))

        # The restore refuses a checkpoint of another pyabc, or of an older tankersim.
        with pytest.raises(RuntimeError, match=r"written with pyabc 0\.0"):
            abc_adapter.restore({**state, "pyabc": "0.0"})
        with pytest.raises(RuntimeError, match="older tankersim"):
            abc_adapter.restore({k: v for k, v in state.items() if k != "history"})
    finally:
        np.random.set_state(saved)  # noqa: NPY002


def test_a_generation_run_but_not_checkpointed_is_run_again(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A calibration stopped after generation 1 ran but before its checkpoint resumes from
    generation 0's checkpoint (which holds the history up to it) and runs generation 1 again:
    the result of a run never stopped, bit for bit."""
    from sim.runner import abc_adapter
    from sim.runner import calibrate as cal

    kw: dict[str, Any] = {"options": ExecOptions("serial"), "population": 100,
                          "generations": 3, "replications": 1, "compare": ()}  # fmt: skip
    whole = calibrate(synthetic, **kw)

    save = cal._save

    class Stop(Exception):
        pass

    def stop_before_checkpoint_1(path: Path, abc: Any, t: int, finished: bool) -> None:
        if t == 1:
            assert abc.history.max_t == 1  # generation 1 ran
            raise Stop
        save(path, abc, t, finished)

    monkeypatch.setattr(cal, "_save", stop_before_checkpoint_1)
    with pytest.raises(Stop):
        calibrate(synthetic, out=tmp_path, **kw)
    monkeypatch.setattr(cal, "_save", save)
    state = pickle.loads((tmp_path / "calibration.ckpt").read_bytes())
    assert (state["t"], abc_adapter.snapshot_history(state["abc"]).max_t) == (0, 0)
    assert not (tmp_path / "abc.db").exists()

    resumed = calibrate(synthetic, out=tmp_path, resume=True, **kw)
    pd.testing.assert_frame_equal(resumed.posterior, whole.posterior, check_exact=True)
    pd.testing.assert_frame_equal(resumed.diagnostics, whole.diagnostics, check_exact=True)


def test_an_older_checkpoint_is_run_again(synthetic: Path, tmp_path: Path) -> None:
    """A checkpoint from before the history moved out of pyabc's database (its snapshot has no
    history) is not resumed but run again, to the same result."""
    kw: dict[str, Any] = {"options": ExecOptions("serial"), "population": 100,
                          "generations": 2, "replications": 1, "compare": ()}  # fmt: skip
    first = calibrate(synthetic, out=tmp_path, **kw)
    ckpt = tmp_path / "calibration.ckpt"
    state = pickle.loads(ckpt.read_bytes())
    state["abc"] = {k: v for k, v in state["abc"].items() if k != "history"} | {"run_id": 1}
    ckpt.write_bytes(pickle.dumps(state))
    again = calibrate(synthetic, out=tmp_path, resume=True, **kw)
    pd.testing.assert_frame_equal(again.posterior, first.posterior, check_exact=True)
    assert pickle.loads(ckpt.read_bytes())["abc"]["history"].max_t == 1


def test_without_pyabc_calibrate_refuses_at_once(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyabc is imported only while the workers run the pilot, but a machine without it is
    told at once, before any simulation, in one line naming the extra."""
    from sim.core.errors import MissingExtraError
    from sim.runner import calibrate as cal

    ran: list[int] = []
    monkeypatch.setattr(cal, "run_jobs", lambda jobs: ran.append(1))
    monkeypatch.setitem(sys.modules, "pyabc", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'tankersim\[calibrate\]'"):
        calibrate(synthetic, options=ExecOptions("serial"), out=tmp_path / "c", compare=())
    assert ran == [] and not (tmp_path / "c").exists()
