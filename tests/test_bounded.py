"""Bounded batch outputs: workers write their own parts, a finished batch is compacted into one
file per table, daily series are kept for a fixed subsample, and the monthly counts of visits
seen, merged from per-part histograms, equal those of every replication's daily series."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import base_raw
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis.checks import monthly_seen
from sim.analysis.stats import histogram_mean, histogram_quantile
from sim.api import run_mc
from sim.core.config import validate_dict
from sim.model.prepared import batch_identity, prepare
from sim.runner.pipeline import (
    IDENTITY_KEY,
    MONTHLY_KEY,
    UPTO_KEY,
    ExecOptions,
    GroupDone,
    Job,
    PartStore,
    Sink,
    histograms,
    merge_monthly,
    month_counts,
    monthly_to_json,
    run_group,
    run_jobs,
)


@given(st.lists(st.integers(0, 60), min_size=1, max_size=300), st.floats(0, 1))
@settings(max_examples=300, deadline=None)
def test_histogram_quantile_is_numpys_bit_for_bit(values: list[int], q: float) -> None:
    hist: dict[int, int] = {}
    for v in values:
        hist[v] = hist.get(v, 0) + 1
    arr = np.asarray(values, dtype=float)
    assert histogram_quantile(hist, q) == float(np.quantile(arr, q))
    assert histogram_mean(hist) == float(arr.mean())


@given(
    st.lists(st.lists(st.integers(0, 9), min_size=3, max_size=3), min_size=1, max_size=40),
    st.integers(1, 5),
)
def test_histograms_merge_by_adding(rows: list[list[int]], split: int) -> None:
    per = np.asarray(rows, dtype=np.int64)
    days = (10, 20, 30)
    whole = merge_monthly([monthly_to_json(days, histograms(per))])
    parts = merge_monthly(
        monthly_to_json(days, histograms(chunk))
        for chunk in np.array_split(per, min(split, len(per)))
        if len(chunk)
    )
    assert whole == parts
    assert whole is not None and [sum(h.values()) for h in whole[1]] == [len(per)] * 3


def test_month_counts_difference_the_cumulative_series() -> None:
    daily = np.zeros((2, 6, 5))
    daily[:, :, 1] = [[0, 1, 1, 3, 3, 4], [2, 2, 2, 2, 5, 5]]  # cumulative visits seen
    assert month_counts(daily, (2, 4, 6)).tolist() == [[1, 2, 1], [2, 0, 3]]


def _sc():  # type: ignore[no-untyped-def]
    return validate_dict(base_raw())


def test_a_worker_writes_its_group_and_returns_only_counts(tmp_path: Path) -> None:
    model = prepare(_sc())
    ident = model.identity(3)
    (tmp_path / "parts").mkdir()
    jobs = (Job(model, 3, 0, (0, 1, 2)), Job(model, 3, 0, (3, 4)))
    done = run_group(jobs, Sink(str(tmp_path), ident, daily_replications=2, month_days=(5, 9)))
    assert isinstance(done, GroupDone) and done.rows == 5 and done.worker_s > 0
    reps_part = tmp_path / "parts" / "reps-p00000-00000-r00000000-00000004.parquet"
    meta = pq.read_schema(reps_part).metadata
    assert json.loads(meta[IDENTITY_KEY]) == ident
    expected_reps, expected_daily = run_jobs(jobs)
    pd.testing.assert_frame_equal(pd.read_parquet(reps_part), expected_reps)
    daily = pd.read_parquet(tmp_path / "parts" / "daily-p00000-00000-r00000000-00000004.parquet")
    pd.testing.assert_frame_equal(
        daily, expected_daily[expected_daily["replication"] < 2].reset_index(drop=True)
    )
    hist = merge_monthly([meta[MONTHLY_KEY]])
    assert hist is not None and hist[0] == (5, 9)
    assert [sum(h.values()) for h in hist[1]] == [5, 5]  # every replication, not the 2 kept


def test_monthly_counts_equal_the_full_daily_series_and_daily_is_a_subsample(
    tmp_path: Path,
) -> None:
    sc = _sc()
    full = run_mc(sc, n=40, options="serial", daily_replications=None, progress=False)
    sub = run_mc(
        sc, n=40, options=ExecOptions("local", 2), daily_replications=7, out=tmp_path, plots=False
    )
    expected = monthly_seen(full.daily, sc.window.start, sc.window.days)
    pd.testing.assert_frame_equal(sub.monthly, expected, check_exact=True)
    assert sorted(sub.daily["replication"].unique()) == list(range(7))
    pd.testing.assert_frame_equal(
        sub.daily, full.daily[full.daily["replication"] < 7].reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(sub.replications, full.replications, check_exact=True)
    assert sub.verdict == full.verdict


def test_a_finished_batch_is_compacted_and_resumes_from_the_compacted_file(
    tmp_path: Path,
) -> None:
    sc = _sc()
    run_mc(sc, n=12, out=tmp_path, options="serial", plots=False, progress=False)
    assert not list((tmp_path / "parts").glob("*-p*.parquet"))  # no table kept twice
    meta = pq.read_schema(tmp_path / "replications.parquet").metadata
    assert int(meta[UPTO_KEY]) == 12
    assert json.loads(meta[IDENTITY_KEY]) == batch_identity(sc, sc.seed)
    # a compaction stopped after its file was renamed leaves stale parts: they are dropped
    stale = tmp_path / "parts" / "reps-p00000-00000-r00000004-00000005.parquet"
    rows = pd.read_parquet(tmp_path / "replications.parquet").iloc[4:6]
    PartStore(tmp_path, batch_identity(sc, sc.seed)).write(rows, pd.DataFrame())
    assert stale.is_file()
    more = run_mc(sc, n=20, out=tmp_path, options="serial", resume=True, plots=False)
    assert more.ran == 8 and not stale.exists()
    whole = run_mc(sc, n=20, options="serial", progress=False)
    pd.testing.assert_frame_equal(more.replications, whole.replications, check_exact=True)
    pd.testing.assert_frame_equal(more.monthly, whole.monthly, check_exact=True)
    pd.testing.assert_frame_equal(more.daily, whole.daily, check_exact=True)


def test_a_folder_of_an_older_tankersim_resumes_from_its_parts(tmp_path: Path) -> None:
    sc = _sc()
    run_mc(sc, n=10, out=tmp_path, options="serial", plots=False, progress=False)
    # the older layout: every block in parts/, replications.parquet a plain copy
    table = pd.read_parquet(tmp_path / "replications.parquet")
    ident = json.loads((tmp_path / "parts" / "batch.json").read_text())
    PartStore(tmp_path, ident).write(table, pd.DataFrame())
    table.to_parquet(tmp_path / "replications.parquet", index=False)
    (tmp_path / "daily.parquet").unlink()
    again = run_mc(sc, n=10, out=tmp_path, options="serial", resume=True, plots=False)
    assert again.ran == 0
    pd.testing.assert_frame_equal(again.replications, table, check_exact=True)


@pytest.mark.parametrize(
    ("csv", "limit", "written"),
    [(None, 50, True), (None, 5, False), (True, 5, True), (False, 50, False)],
)
def test_replications_csv_only_for_small_batches_or_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, csv: bool | None, limit: int, written: bool
) -> None:
    import sim.core.defaults

    monkeypatch.setattr(sim.core.defaults, "CSV_MAX_REPLICATIONS", limit)
    run_mc(_sc(), n=8, out=tmp_path, options="serial", plots=False, csv=csv, progress=False)
    assert (tmp_path / "replications.csv").is_file() == written


def test_disk_per_replication_is_bounded(tmp_path: Path) -> None:
    """Daily series beyond the subsample cost nothing: 400 more replications add only their
    rows of the compacted table."""
    sc = _sc()
    sizes = []
    for n in (100, 500):
        out = tmp_path / str(n)
        run_mc(
            sc,
            n=n,
            out=out,
            options="serial",
            plots=False,
            csv=False,
            progress=False,
            daily_replications=50,
        )
        sizes.append(sum(f.stat().st_size for f in out.rglob("*") if f.is_file()))
        shutil.rmtree(out / "parts")
    per_replication = (sizes[1] - sizes[0]) / 400
    assert per_replication < 1024, per_replication


@given(
    st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=300),
    st.lists(st.booleans(), min_size=300, max_size=300),
    st.integers(1, 64),
)
@settings(max_examples=40, deadline=None)
def test_a_column_table_answers_as_the_dataframe_does(
    values: list[float], picks: list[bool], group_rows: int
) -> None:
    import tempfile

    from sim.core.table import ColumnTable

    n = len(values)
    holes = [v if i % 3 else None for i, v in enumerate(values)]
    df = pd.DataFrame(
        {
            "x": values,
            "k": np.arange(n, dtype=np.int64),
            "s": [f"r{i}" for i in range(n)],
            "f": pd.Series(holes, dtype=float),  # missing floats: NaN
            "i": pd.Series([None if v is None else 1 for v in holes], dtype="Int64"),
            "b": np.asarray(picks[:n]),
        }
    )
    mask = np.asarray(picks[:n])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.parquet"
        df.to_parquet(path, row_group_size=group_rows)  # masks cut across row groups
        t = ColumnTable(path)
        assert len(t) == n and t.shape == df.shape and list(t.columns) == list(df.columns)
        assert "x" in t and "nope" not in t
        for c in df.columns:  # each column as pandas reads it, dtype included
            pd.testing.assert_series_equal(t[c], pd.read_parquet(path)[c])
        pd.testing.assert_frame_equal(t[["k", "x"]], df[["k", "x"]])
        pd.testing.assert_frame_equal(t[mask], df[mask], check_index_type=False)
        with pytest.raises(KeyError):
            t["nope"]


def test_a_batch_with_a_folder_reads_columns_and_gives_the_in_memory_verdict(
    tmp_path: Path,
) -> None:
    """The verdict, the checks and the method check, computed a column at a time from the
    compacted file, equal those of the whole table in memory; the table is loaded whole only
    when asked for."""
    from sim.core.table import ColumnTable

    sc = prepare("scenarios/osc-2024.toml")
    on_disk = run_mc(
        sc, n=300, out=tmp_path, options="serial", plots=False, progress=False, csv=False
    )
    in_memory = run_mc(sc, n=300, options="serial", progress=False)
    assert isinstance(on_disk.table, ColumnTable) and on_disk._replications is None
    assert isinstance(in_memory.table, pd.DataFrame)
    assert on_disk.verdict.to_dict() == in_memory.verdict.to_dict()
    assert on_disk.method == in_memory.method
    pd.testing.assert_frame_equal(on_disk.checks, in_memory.checks)
    pd.testing.assert_frame_equal(on_disk.replications, in_memory.replications)


def test_a_large_fleet_keeps_per_ship_columns_only_for_anchored_ships(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``SHIP_COLUMNS_MAX`` ships the per-replication table keeps the fleet's aggregates and
    the columns of the ships an anchor names; the others are drawn again, exactly, from the seed
    and the replication number."""
    from sim.model import draws

    raw = base_raw()
    raw["fleet"]["c"]["count"] = 3
    raw["fleet"]["c"]["capacity_bbl"] = {"dist": "uniform", "low": 8000.0, "high": 12000.0}
    sc = validate_dict(raw)
    model = prepare(sc)
    whole = run_mc(model, n=6, options="serial").replications
    ships = [c for c in whole.columns if c.startswith("capacity_bbl__")]
    assert len(ships) == 3
    monkeypatch.setattr(draws, "SHIP_COLUMNS_MAX", 1)
    raw["anchors"] = {"a": {"label": "one ship's size", "quantity": ships[0], "relation": "~",
                            "value": 20000.0, "source": "a test"}}  # fmt: skip
    cut = run_mc(validate_dict(raw), n=6, options="serial").replications
    kept = [c for c in cut.columns if c.startswith("capacity_bbl__")]
    assert kept == [ships[0]]
    pd.testing.assert_series_equal(cut[ships[0]], whole[ships[0]])
    pd.testing.assert_series_equal(cut["fleet_capacity_bbl"], whole["fleet_capacity_bbl"])
    again = draws.draw_ships(model.compiled, sc.seed, whole["replication"].to_numpy())
    cap = again.capacity_mix_bbl(model.compiled)
    for i, col in enumerate(ships):
        assert np.array_equal(cap[:, i], whole[col].to_numpy()), col


# --------------------------------------------------------------------------- lean summaries


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    """Equal bit for bit (NaN equal to NaN)."""
    return a.keys() == b.keys() and all(
        np.array_equal(np.float64(a[k]), np.float64(b[k]), equal_nan=True) for k in a
    )


@given(
    st.lists(st.floats(-1e12, 1e12) | st.sampled_from([0.0, 1.0, np.nan]), min_size=0, max_size=80)
)
@settings(max_examples=200, deadline=None)
def test_describe_in_place_is_describe_bit_for_bit_and_leaves_callers_data(
    values: list[float],
) -> None:
    """``scratch=True`` lets the percentiles reorder the caller's array instead of copying it:
    the summary is the same to the last bit. Without it, nothing the caller holds is touched,
    neither an array nor a DataFrame's column (a Series that views it), nor integers that
    the summary converts to floats."""
    from sim.analysis.stats import describe

    a = np.array(values, dtype=float)
    want = describe(a)
    assert np.array_equal(a, np.array(values, dtype=float), equal_nan=True)
    scratch = a.copy()
    assert _same(describe(scratch, scratch=True), want)
    df = pd.DataFrame({"x": a, "i": np.arange(len(a))[::-1]})
    before = df.copy()
    assert _same(describe(df["x"]), want)
    describe(df["i"], scratch=True)  # a float copy of integers: this call's own to reorder
    pd.testing.assert_frame_equal(df, before)


def _method_by_the_formula(reps: pd.DataFrame, claim: float, factor: float) -> dict:
    """The claim's method as the module's docstring states it, whole arrays at once."""
    from sim.analysis.verdict import Proportion, Summary

    est = (factor * reps["seen_capacity_bbl"]).to_numpy(dtype=float)
    loaded = reps["loaded_bbl"].to_numpy(dtype=float)
    seen = reps["observed_bbl"].to_numpy(dtype=float)

    def ratio(base: np.ndarray) -> Summary:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = est / base
        r[~(base > 0)] = np.nan
        return Summary.of(r[np.isfinite(r)])

    over = est >= claim
    return {
        "estimate_bbl": Summary.of(est),
        "loaded_bbl": Summary.of(loaded),
        "ratio": ratio(loaded),
        "ratio_seen": ratio(seen),
        "bias_bbl": Summary.of(est - loaded),
        "p_overstates": Proportion.of(est > loaded),
        "p_estimate_ge_claim": Proportion.of(over),
        "p_loaded_ge_claim_given_estimate": (
            Proportion.of(loaded[over] >= claim) if over.any() else None
        ),
    }


@given(
    st.lists(
        st.tuples(  # barrels: none, round numbers at and about the claim, any amount
            st.sampled_from([0.0, 1e5 / 0.9]) | st.floats(1.0, 2e5),
            st.sampled_from([0.0, 5e4, 1e5, 1.5e5]) | st.floats(1.0, 2e5),
            st.sampled_from([0.0, np.nan]) | st.floats(1.0, 2e5),
        ),
        min_size=1,
        max_size=60,
    ),
    st.floats(0.5, 1.0),
)
@settings(max_examples=150, deadline=None)
def test_the_method_check_one_array_at_a_time_is_the_formula_bit_for_bit(
    rows: list[tuple[float, float, float]], factor: float
) -> None:
    """The method check holds at most four columns' worth at once (ratios divided in place,
    summaries that reorder their own copies), and gives what the formula over whole arrays
    gives, with empty loads, missing observations and ties at the claim."""
    from sim.analysis.method import method_check

    reps = pd.DataFrame(rows, columns=["seen_capacity_bbl", "loaded_bbl", "observed_bbl"])
    before = reps.copy()
    got = method_check(reps, claim_bbl=1e5, load_factor=factor)
    want = _method_by_the_formula(reps, 1e5, factor)
    for name, value in want.items():
        mine = getattr(got, name)
        if value is None or mine is None:
            assert value is None and mine is None, name
        else:
            assert _same(mine.to_dict(), value.to_dict()), name
    pd.testing.assert_frame_equal(reps, before)


def test_arrows_allocator_is_the_systems_unless_the_user_chose_one() -> None:
    """Importing tankersim makes the system allocator Arrow's default (pyarrow's mimalloc
    keeps what it frees: a batch's parent grew with the batch); a pool the user named wins."""
    import os
    import subprocess
    import sys

    code = "import sim, pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    ours = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert ours.stdout.strip() == "system", ours.stderr
    env["ARROW_DEFAULT_MEMORY_POOL"] = "mimalloc"
    theirs = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert theirs.stdout.strip() == "mimalloc", theirs.stderr
