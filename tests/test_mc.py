"""Monte Carlo: determinism across executors, resume, statistical checks, the verdict."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, base_raw, kill_after_parts, write_toml
from typer.testing import CliRunner

from sim.analysis.stats import condition, wilson
from sim.analysis.verdict import verdict, word_for
from sim.api import ExecOptions, run, run_mc
from sim.cli import app
from sim.core.config import apply_overrides, load_scenario, validate_dict
from sim.core.errors import ResultsExistError, ResultsMismatchError


def _geo(path: Path = SCENARIOS / "osc-2024.toml", **extra: Any) -> Any:
    return load_scenario(path, overrides={"routing.method": "geodesic", **extra})


# --------------------------------------------------------------------------- determinism


@pytest.fixture(scope="module", params=["fast", "des"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def serial_baseline(engine: str) -> pd.DataFrame:
    return run_mc(_geo(), n=24, options=ExecOptions("serial", engine=engine)).replications


def test_local_pool_equals_serial(serial_baseline: pd.DataFrame, engine: str) -> None:
    pool = ExecOptions("local", 2, block_size=5, engine=engine)  # type: ignore[arg-type]
    two = run_mc(_geo(), n=24, options=pool).replications
    pd.testing.assert_frame_equal(serial_baseline, two, check_exact=True)
    assert list(two["replication"]) == list(range(24))


def test_dask_equals_serial(serial_baseline: pd.DataFrame, engine: str) -> None:
    pytest.importorskip("dask.distributed")
    dask = ExecOptions("dask", 2, block_size=7, engine=engine)  # type: ignore[arg-type]
    reps = run_mc(_geo(), n=24, options=dask).replications
    pd.testing.assert_frame_equal(serial_baseline, reps, check_exact=True)


def test_block_size_does_not_change_results(serial_baseline: pd.DataFrame, engine: str) -> None:
    one = ExecOptions("serial", block_size=1, engine=engine)  # type: ignore[arg-type]
    reps = run_mc(_geo(), n=24, options=one).replications
    pd.testing.assert_frame_equal(serial_baseline, reps, check_exact=True)


def test_replication_alone_equals_batch(serial_baseline: pd.DataFrame) -> None:
    one = run(_geo(), replication=17)
    row = serial_baseline.set_index("replication").loc[17]
    k = one.summary.kpis
    assert row["trips"] == k["trips"]
    assert row["observed_visits"] == k["observed_visits"]
    assert row["delivered_bbl"] == pytest.approx(k["delivered_bbl"], rel=1e-12)
    assert row["loaded_bbl"] == pytest.approx(k["loaded_bbl"], rel=1e-12)
    assert row["delivered_t"] == pytest.approx(k["delivered_t"], rel=1e-12)


def test_run_cli_replication_matches_batch(
    runner: CliRunner, tmp_path: Path, serial_baseline: pd.DataFrame
) -> None:
    path = write_toml(
        tmp_path / "geo.toml", _geo().model_dump(mode="python", by_alias=True, exclude_none=True)
    )
    res = runner.invoke(
        app, ["run", str(path), "--replication", "17", "--out", str(tmp_path / "r")]
    )
    assert res.exit_code == 0, res.stderr
    ev = pd.read_parquet(tmp_path / "r" / "events.parquet")
    row = serial_baseline.set_index("replication").loc[17]
    assert (ev["event"] == "load_end").sum() == row["trips"]
    assert ev.loc[ev["event"] == "discharge_end", "cargo_bbl"].sum() == pytest.approx(
        row["delivered_bbl"]
    )


# --------------------------------------------------------------------------- resume


@pytest.mark.parametrize(
    ("engine", "n", "extra"),
    [("des", 300, []), ("fast", 3000, ["--block-size", "100"])],
)
def test_interrupted_batch_resumes_to_the_same_result(
    tmp_path: Path, engine: str, n: int, extra: list[str]
) -> None:
    scenario = write_toml(
        tmp_path / "geo.toml", _geo().model_dump(mode="python", by_alias=True, exclude_none=True)
    )
    out = tmp_path / "killed"
    args = ["mc", str(scenario), "-n", str(n), "--workers", "1", "--engine", engine, *extra]
    partial = kill_after_parts([*args, "--out", str(out), "--no-plots"], out, min_parts=2)
    assert 0 < len(partial) < n, "the batch finished before it could be interrupted"

    resumed = run_mc(
        scenario, n=n, out=out, resume=True, options=ExecOptions("serial", engine=engine)
    )
    assert resumed.ran == n - len(partial)
    assert list(resumed.replications["replication"]) == list(range(n))
    whole = run_mc(scenario, n=n, options=ExecOptions("local", 2, engine=engine))
    pd.testing.assert_frame_equal(resumed.replications, whole.replications, check_exact=True)
    pd.testing.assert_frame_equal(resumed.daily, whole.daily, check_exact=True)
    assert resumed.verdict == whole.verdict


def test_out_with_results_needs_resume(tmp_path: Path) -> None:
    sc = validate_dict(base_raw())
    run_mc(sc, n=3, out=tmp_path, options="serial")
    with pytest.raises(ResultsExistError, match="holds results already"):
        run_mc(sc, n=3, out=tmp_path, options="serial")
    other = validate_dict(apply_overrides(base_raw(), {"seed": 99}))
    with pytest.raises(ResultsMismatchError, match="another scenario, seed or design"):
        run_mc(other, n=3, out=tmp_path, options="serial", resume=True)
    # Resuming with more replications runs only the new ones.
    more = run_mc(sc, n=5, out=tmp_path, options="serial", resume=True)
    assert more.ran == 2 and len(more.replications) == 5


# --------------------------------------------------------------------------- statistics


def test_fixed_inputs_give_identical_replications() -> None:
    reps = run_mc(SCENARIOS / "minimal.toml", n=20, options="serial").replications
    cols = [c for c in reps.columns if c not in ("replication",)]
    assert (reps[cols].nunique() == 1).all()
    one = run(SCENARIOS / "minimal.toml").summary.kpis
    assert reps["trips"].iloc[0] == one["trips"] == 11
    assert reps["delivered_bbl"].iloc[0] == 200_000


def _irwin_hall_sf(x: float, n: int) -> float:
    """P(sum of n U(0,1) >= x)."""
    cdf = sum((-1) ** k * math.comb(n, k) * (x - k) ** n for k in range(math.floor(x) + 1))
    return 1.0 - cdf / math.factorial(n)


def test_uncertain_load_factor_matches_exact_probability() -> None:
    """Load factor ~ U(0.5, 1): barrels in K trips is 0.5 K cap + 0.5 cap x Irwin-Hall(K)."""
    raw = base_raw()
    raw["terminal"]["load_rate_bbl_per_h"] = 1e9  # pumping takes no time: trips are fixed
    raw["discharge"]["B"]["rate_bbl_per_h"] = 1e9
    raw["fleet"]["c"]["load_factor"] = {"dist": "uniform", "low": 0.5, "high": 1.0}
    raw["fleet"]["c"]["turnaround_days"] = 1.0
    sc = validate_dict(raw)
    reps = run_mc(sc, n=2000, options=ExecOptions("local", 2)).replications
    trips = reps["trips"].unique()
    assert len(trips) == 1
    k = int(trips[0])
    delivered = reps["delivered_bbl"].to_numpy()
    # Pumping is instantaneous, so the number of deliveries is fixed too (k, or k - 1 when
    # the last parcel is still at sea at the window's end).
    on_board = reps["on_board_bbl"] > 0
    assert on_board.all() or not on_board.any()
    n_del = k - 1 if on_board.all() else k
    cap = 10_000.0
    threshold = cap * (0.5 * n_del + 0.5 * (n_del / 2 + 0.3))
    exact = _irwin_hall_sf((threshold / cap - 0.5 * n_del) / 0.5, n_del)
    est, lo, hi = wilson(int((delivered >= threshold).sum()), len(delivered))
    assert lo <= exact <= hi, (exact, est, lo, hi)
    assert 0.05 < exact < 0.95  # the check is informative


# --------------------------------------------------------------------------- verdict


def test_wilson_known_values() -> None:
    p, lo, hi = wilson(0, 50)
    assert p == 0 and lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.0713, abs=1e-4)
    p, lo, hi = wilson(50, 100)
    assert (lo, hi) == pytest.approx((0.4038, 0.5962), abs=1e-4)


@pytest.mark.parametrize(
    ("p", "word"),
    [
        (0.95, "very plausible"),
        (0.9, "very plausible"),
        (0.5, "plausible"),
        (0.3, "possible but unlikely"),
        (0.05, "implausible"),
        (0.001, "very implausible"),
    ],
)
def test_verdict_words(p: float, word: str) -> None:
    assert word_for(p) == word


def test_condition_widens_until_enough_match() -> None:
    reps = pd.DataFrame({"observed_visits": [40, 41, 42, 43, 43, 44, 46, 50]})
    sub, h = condition(reps, "observed_visits", 43, min_matches=2)
    assert h == 0 and len(sub) == 2
    sub, h = condition(reps, "observed_visits", 43, min_matches=5)
    assert h == 2 and len(sub) == 5
    sub, h = condition(reps, "observed_visits", 43, min_matches=100, max_halfwidth=3)
    assert h == 3 and len(sub) == 7


def test_verdict_on_a_constructed_table() -> None:
    sc = load_scenario(SCENARIOS / "osc-2024.toml")
    rng = np.random.default_rng(1)
    n = 1000
    obs = rng.integers(38, 49, n)
    delivered = np.where(
        obs == 43, np.where(np.arange(n) % 4 == 0, 900_000.0, 1_100_000.0), 500_000.0
    )
    reps = pd.DataFrame(
        {
            "trips": obs + 5,
            "observed_visits": obs,
            "loaded_bbl": delivered,
            "delivered_bbl": delivered,
            "observed_bbl": delivered * 0.8,
            "delivered_t": delivered / 7.5,
            "loaded_t": delivered / 7.5,
            "mean_parcel_bbl": delivered / (obs + 5),
            "p_detect": 0.8,
        }
    )
    v = verdict(reps, sc, min_matches=10).to_dict()
    cond = v["conditional"]
    assert cond["halfwidth"] == 0
    matches = int((obs == 43).sum())
    assert cond["matches"] == matches
    k = int(((obs == 43) & (np.arange(n) % 4 != 0)).sum())
    assert cond["p_claim"]["k"] == k
    assert v["headline"]["word"] == word_for(k / matches)
    assert v["tonnes_check"]["consistent"] is False
    assert v["needed"]["bbl_per_trip"] == pytest.approx(1_000_000 / 43)


def test_too_few_matches_warns() -> None:
    sc = load_scenario(SCENARIOS / "osc-2024.toml")
    reps = pd.DataFrame(
        {
            c: [1.0] * 10
            for c in (
                "loaded_bbl",
                "delivered_bbl",
                "observed_bbl",
                "delivered_t",
                "loaded_t",
                "mean_parcel_bbl",
                "p_detect",
            )
        }
        | {"trips": [60] * 10, "observed_visits": [43, 43] + [55] * 8}
    )
    v = verdict(reps, sc).to_dict()
    assert not v["conditional"]["reliable"]
    assert "Warning: only 2 replications match" in v["headline"]["text"]


# --------------------------------------------------------------------------- CLI


def test_mc_cli_writes_everything(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "mc",
            str(SCENARIOS / "minimal.toml"),
            "-n",
            "8",
            "--workers",
            "1",
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.stderr
    for name in (
        "replications.parquet",
        "replications.csv",
        "daily.parquet",
        "verdict.json",
        "verdict.md",
        "manifest.json",
    ):
        assert (tmp_path / name).is_file(), name
    for plot in ("barrels", "trips", "barrels_vs_visits", "cumulative", "gantt"):
        for ext in ("png", "svg"):
            assert (tmp_path / "plots" / f"{plot}.{ext}").stat().st_size > 1000
    assert "Verdict:" in res.output


def test_mc_cli_bad_executor(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["mc", str(SCENARIOS / "minimal.toml"), "--executor", "spark", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2 and "--executor" in res.stderr


def test_daily_series_ends_at_the_totals() -> None:
    res = run_mc(_geo(), n=24, options="serial")
    last = res.daily[res.daily["day"] == res.daily["day"].max()].set_index("replication")
    reps = res.replications.set_index("replication")
    np.testing.assert_allclose(last["delivered_bbl"], reps["delivered_bbl"])
    np.testing.assert_array_equal(last["trips"], reps["trips"])


def test_mc_cli_scheduler_needs_dask(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "mc",
            str(SCENARIOS / "minimal.toml"),
            "--scheduler",
            "tcp://127.0.0.1:1",
            "--out",
            str(tmp_path),
        ],
    )
    assert (
        res.exit_code == 2
        and "--scheduler = " in res.stderr
        and "needs the dask executor" in res.stderr
    )


def test_dask_joins_a_running_scheduler(serial_baseline: pd.DataFrame) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        joined = run_mc(
            _geo(),
            n=24,
            options=ExecOptions("dask", scheduler=cluster.scheduler_address, block_size=6),
        ).replications
        # The cluster is still up: tankersim closed only its own client.
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1")
    pd.testing.assert_frame_equal(serial_baseline, joined)


def test_no_matching_replications_says_so() -> None:
    sc = load_scenario(SCENARIOS / "osc-2024.toml")
    cols = (
        "loaded_bbl",
        "delivered_bbl",
        "observed_bbl",
        "delivered_t",
        "loaded_t",
        "mean_parcel_bbl",
    )
    reps = pd.DataFrame(
        {c: [1.0e6] * 10 for c in cols}
        | {"p_detect": [1.0] * 10, "trips": [60] * 10, "observed_visits": [60] * 10}
    )
    v = verdict(reps, sc).to_dict()
    assert v["conditional"]["matches"] == 0
    assert v["headline"]["word"] == "no matches"
    assert "cannot reproduce the claimed visits" in v["headline"]["text"]
    assert "38-48 observed visits" in v["headline"]["text"]


@pytest.mark.parametrize(("basis", "p"), [("loaded", 1.0), ("delivered", 0.0)])
def test_claim_basis_picks_the_column(basis: str, p: float) -> None:
    from sim.core.config import apply_overrides

    raw = apply_overrides(
        __import__("tomllib").loads((SCENARIOS / "osc-2024.toml").read_text()),
        {"claims.basis": basis},
    )
    sc = validate_dict(raw)
    n = 50
    reps = pd.DataFrame(
        {
            "trips": [53] * n,
            "observed_visits": [43] * n,
            "loaded_bbl": [1_050_000.0] * n,  # the last parcel is still at sea at the window end
            "delivered_bbl": [1_030_000.0 - 40_000.0] * n,
            "observed_bbl": [850_000.0] * n,
            "loaded_t": [140_000.0] * n,
            "delivered_t": [135_000.0] * n,
            "mean_parcel_bbl": [20_000.0] * n,
            "p_detect": [0.8] * n,
        }
    )
    v = verdict(reps, sc, min_matches=10).to_dict()
    assert v["basis"] == basis
    assert v["conditional"]["p_claim"]["p"] == p
    assert f"the fleet {basis} at least 1,000,000 barrels" in v["headline"]["text"]
    assert v["headline"]["word_seen"] == "very implausible"


def test_outputs_are_strict_json(tmp_path: Path) -> None:
    import json

    from sim.outputs.files import write_json

    write_json(
        tmp_path / "x.json", {"a": float("nan"), "b": [1.0, float("inf")], "c": np.float64(2.5)}
    )
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": None, "b": [1.0, None], "c": 2.5}


def test_condition_with_a_fixed_window() -> None:
    reps = pd.DataFrame({"observed_visits": [40, 41, 42, 43, 43, 44, 46, 50]})
    sub, h = condition(reps, "observed_visits", 43, halfwidth=1)
    assert h == 1 and list(sub["observed_visits"]) == [42, 43, 43, 44]
    sub, h = condition(reps, "observed_visits", 43, halfwidth=0, min_matches=100)
    assert h == 0 and len(sub) == 2


def test_barrels_figure_writes_the_verdicts_probabilities() -> None:
    """The barrels figure carries the finding: fleet and seen visits among the matching
    replications, with the verdict's two probabilities written on it."""
    from sim.analysis.verdict import conditioned_replications
    from sim.outputs.plots import barrels_figure

    base = SCENARIOS / "osc-2024.toml"
    result = run_mc(base, n=3000, options="serial")
    cond = conditioned_replications(result.replications, result.verdict)
    fig = barrels_figure(result.replications, result.scenario, conditional=cond)
    texts = " ".join(t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text")))
    c = result.verdict.conditional
    assert f"P(fleet loaded >= claim) = {c.p_claim.p:.0%}" in texts
    assert f"P(seen visits carried >= claim) = {c.p_seen.p:.0%}" in texts
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(label.startswith("seen visits only") for label in labels)
    assert all("[bbl]" in ax.get_xlabel() for ax in fig.axes)  # barrels in barrels
    assert not any("_" in ax.get_xlabel() + ax.get_ylabel() for ax in fig.axes)  # no raw keys
