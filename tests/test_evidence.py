"""Evidence: levels of uncertainty, the registry, evidence files, observables, replay and the
claim's own method."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, base_raw, copy_scenario, write_toml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.analysis.method import method_check
from sim.analysis.replay import replay
from sim.api import prepare, run, run_mc
from sim.cli import app
from sim.core.config import ScenarioError, apply_overrides, validate_dict
from sim.core.evidence import (
    COLUMNS,
    MAX_BBL,
    UNSTATED,
    EvidenceRow,
    decode_evidence,
    parse_evidence,
    read_evidence,
)
from sim.core.rng import philox4x32, uniforms
from sim.model.draws import draw_ships, draw_voyages
from sim.model.events import activities
from sim.model.observables import compile_observables
from sim.model.results import Visits

HEADER = ",".join(COLUMNS[: COLUMNS.index("note") + 1]) + "\n"
"""The columns the rows below give (no provenance columns: they read as unstated)."""
WINDOW = (dt.date(2024, 1, 1), dt.date(2024, 1, 10))


# --------------------------------------------------------------------------- random numbers


def test_philox_matches_the_random123_known_answers() -> None:
    """The three philox4x32-10 rows of Random123's tests/kat_vectors."""
    cases = [
        ([0, 0, 0, 0], (0, 0), [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
        (
            [0xFFFFFFFF] * 4,
            (0xFFFFFFFF, 0xFFFFFFFF),
            [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD],
        ),
        (
            [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
            (0xA4093822, 0x299F31D0),
            [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
        ),
    ]
    for counter, key, want in cases:
        got = philox4x32(np.asarray(counter, dtype=np.uint32), key)
        assert [int(w) for w in got] == want


def test_uniforms_depend_only_on_their_address() -> None:
    block = uniforms(5, np.arange(20), "voyage", 77, 3, "turnaround")
    alone = np.array([uniforms(5, r, "voyage", 77, 3, "turnaround") for r in range(20)])
    np.testing.assert_array_equal(block, alone.ravel())
    # Different slots, levels, entities and seeds give different numbers.
    others = [
        uniforms(5, 0, "voyage", 77, 3, "load_factor"),
        uniforms(5, 0, "ship", 77, 3, "turnaround"),
        uniforms(5, 0, "voyage", 78, 3, "turnaround"),
        uniforms(6, 0, "voyage", 77, 3, "turnaround"),
    ]
    assert len({float(block[0]), *map(float, others)}) == 5
    assert ((block > 0) & (block < 1)).all()


def _two_class_raw(level: str | None) -> dict[str, Any]:
    raw = base_raw()
    raw["window"]["end"] = dt.date(2024, 3, 1)
    turn: dict[str, Any] = {"dist": "uniform", "low": 1.0, "high": 3.0}
    if level is not None:
        turn["level"] = level
    raw["fleet"]["c"].update(count=2, turnaround_days=turn)
    raw["fleet"]["d"] = dict(raw["fleet"]["c"])
    return raw


def _turnarounds(raw: dict[str, Any], replication: int) -> pd.DataFrame:
    ev = run(validate_dict(raw), replication=replication).events
    act = activities(ev, 24.0 * 61)
    idle = act[(act["activity"] == "idle") & ~act["open"]].copy()
    idle["cls"] = idle["ship"].astype(str).str[0]
    idle["duration_h"] = idle["duration_h"].round(9)  # end - start: equal up to rounding
    return idle


@pytest.mark.parametrize("level", ["fleet", "class", "ship", "voyage"])
def test_levels_on_the_event_log(level: str) -> None:
    idle = _turnarounds(_two_class_raw(level), replication=2)
    per_ship = idle.groupby("ship", observed=True)["duration_h"].nunique()
    per_class = idle.groupby("cls")["duration_h"].nunique()
    values = idle["duration_h"].round(9)
    assert len(idle) > 8
    if level == "fleet":  # one value for every ship and voyage of the replication
        assert values.nunique() == 1
        other = _turnarounds(_two_class_raw(level), replication=3)["duration_h"].round(9)
        assert other.nunique() == 1 and other.iloc[0] != values.iloc[0]
    elif level == "class":  # one value per class
        assert (per_class == 1).all() and values.nunique() == 2
    elif level == "ship":  # one value per ship, different between ships
        assert (per_ship == 1).all() and values.nunique() == 4
    else:  # different between a ship's voyages
        assert (per_ship > 1).all()


def test_a_level_an_input_cannot_take_is_refused() -> None:
    raw = apply_overrides(
        base_raw(),
        {"fleet.c.capacity_bbl": {"dist": "uniform", "low": 1.0, "high": 2.0, "level": "voyage"}},
    )
    with pytest.raises(ScenarioError, match=r"fleet\.c\.capacity_bbl\.level = 'voyage'"):
        validate_dict(raw)


def test_scale_multiplies_by_a_fleet_level_unknown() -> None:
    raw = base_raw()
    raw["unknowns"] = {"turn": {"dist": "uniform", "low": 2.0, "high": 4.0}}
    raw["fleet"]["c"]["count"] = 3
    raw["fleet"]["c"]["turnaround_days"] = {"dist": "fixed", "value": 0.5, "scale": "turn"}
    res = run(validate_dict(raw), replication=4)
    turn = res.row["param:unknowns.turn"]
    assert 2.0 <= turn <= 4.0
    act = activities(res.events, 240.0)
    idle = act[(act["activity"] == "idle") & ~act["open"]]["duration_h"]
    np.testing.assert_allclose(idle, 0.5 * turn * 24.0, rtol=1e-12)


def test_unknowns_must_be_used_and_named() -> None:
    raw = base_raw()
    raw["unknowns"] = {"spare": 1.0}
    with pytest.raises(ScenarioError, match="declared but no input uses it"):
        validate_dict(raw)
    raw = apply_overrides(
        base_raw(), {"fleet.c.turnaround_days": {"dist": "fixed", "value": 1.0, "scale": "nope"}}
    )
    with pytest.raises(ScenarioError, match=r"turnaround_days\.scale = 'nope': no such unknown"):
        validate_dict(raw)


def test_replication_draws_alone_equal_the_batch_and_ignore_other_ships() -> None:
    raw = _two_class_raw("voyage")
    sc = validate_dict(raw)
    _, _, c = prepare(sc)
    batch = draw_ships(c, 9, np.arange(6))
    alone = draw_ships(c, 9, [4])
    np.testing.assert_array_equal(batch.capacity_dwt[4], alone.capacity_dwt[0])
    np.testing.assert_array_equal(batch.laden_h[4], alone.laden_h[0])
    vb = draw_voyages(c, 9, batch, 0, 6)
    va = draw_voyages(c, 9, alone, 2, 6)  # voyages 2..5 only: the same numbers
    np.testing.assert_array_equal(vb.turnaround_h[4][:, 2:], va.turnaround_h[0])
    # A third ship in class c leaves the others' draws alone.
    more = validate_dict(apply_overrides(raw, {"fleet.c.count": 3}))
    _, _, c3 = prepare(more)
    v3 = draw_voyages(c3, 9, draw_ships(c3, 9, np.arange(6)), 0, 6)
    i_old, i_new = c.ship_ids.index("d-02"), c3.ship_ids.index("d-02")
    np.testing.assert_array_equal(vb.turnaround_h[:, i_old], v3.turnaround_h[:, i_new])


# --------------------------------------------------------------------------- the registry


def test_registry_ships_use_known_sizes_and_draw_the_others() -> None:
    raw = base_raw()
    raw["unknowns"] = {"size": {"dist": "uniform", "low": 1000.0, "high": 5000.0}}
    raw["fleet"]["c"] = {
        "from_registry": True,
        "names": ["RYE SONG GANG 1", "YU SON", "SAM MA 2"],
        "capacity_dwt": {"dist": "lognormal", "median": 1.0, "sigma": 0.3, "scale": "size"},
        "speed_laden_kn": 10.0,
        "speed_ballast_kn": 12.0,
    }
    _, _, c = prepare(validate_dict(raw))
    d = draw_ships(c, 3, np.arange(50))
    i = {s: c.ship_ids.index(s) for s in c.ship_ids}
    assert (d.capacity_dwt[:, i["RYE SONG GANG 1"]] == 3003.0).all()  # sourced dwt
    assert np.allclose(d.capacity_dwt[:, i["SAM MA 2"]], 1600.0 / 0.92)  # a sourced load
    assert d.capacity_dwt[:, i["YU SON"]].std() > 100  # unknown: drawn from the prior
    assert c.designated[i["YU SON"]] and c.designated[i["RYE SONG GANG 1"]]


def test_unknown_registry_ship_suggests_a_name() -> None:
    raw = base_raw()
    raw["fleet"]["c"] = {
        "from_registry": True,
        "names": ["YU SONN"],
        "capacity_dwt": 2000.0,
        "speed_laden_kn": 10.0,
        "speed_ballast_kn": 12.0,
    }
    with pytest.raises(
        ScenarioError, match=r"fleet\.c\.names\.0 = 'YU SONN'.*did you mean 'YU SON'"
    ):
        validate_dict(raw)


# --------------------------------------------------------------------------- evidence files


@pytest.mark.parametrize(
    ("line", "field", "why"),
    [
        (
            "a,sighting,2024-01-03,,NOBODY,A,loading,,,,,src,high,",
            "ship",
            "not a ship of the registry",
        ),
        (
            "a,sighting,2024-02-03,,YU SON,A,loading,,,,,src,high,",
            "date_from",
            "outside the window",
        ),
        (
            "a,sighting,2024-01-32,,YU SON,A,loading,,,,,src,high,",
            "date_from",
            "expected YYYY-MM-DD",
        ),
        ("a,visits,2024-01-01,2024-01-05,,A,,>=,-3,,,src,high,", "count", "must not be negative"),
        ("a,volume,2024-01-01,2024-01-05,,A,,~,,nan,,src,high,", "bbl", "finite"),
        ("a,visits,2024-01-01,2024-01-05,,A,,>,3,,,src,high,", "relation", "an aggregate needs"),
        ("a,sightingg,2024-01-01,,,A,loading,,,,,src,high,", "kind", "did you mean 'sighting'"),
        ("a,sighting,2024-01-03,,YU SONN,A,loading,,,,,src,high,", "ship", "did you mean 'YU SON'"),
        ("a,visits,2024-01-01,2024-01-05,,AA,,>=,2,,,src,high,", "place", "did you mean 'A'"),
    ],
)
def test_bad_evidence_rows_exit_2_naming_file_row_and_field(
    tmp_path: Path, line: str, field: str, why: str
) -> None:
    raw = base_raw()
    raw["evidence"] = "ev.csv"
    (tmp_path / "ev.csv").write_text(
        HEADER + "ok,visits,2024-01-01,2024-01-05,,A,,>=,2,,,src,high,\n" + line + "\n",
        encoding="utf-8",
    )
    path = write_toml(tmp_path / "s.toml", raw)
    res = CliRunner().invoke(app, ["validate", str(path), "--no-routes"])
    assert res.exit_code == 2
    msg = res.stderr.strip()
    assert len(msg.splitlines()) == 1, msg
    assert str(tmp_path / "ev.csv") in msg and f"row 3.{field}" in msg and why in msg, msg


OK_ROW = "ok,visits,2024-01-01,2024-01-05,,A,,>=,2,,,src,high,\n"
"""A valid row (line 2) before the row under test (line 3)."""
AGG = "a,visits,2024-01-01,2024-01-05,,A,,>=,{},,,src,high,"
"""An aggregate row with its count to fill in."""
VOL = "a,volume,2024-01-01,2024-01-05,,A,,>=,,{},,src,high,"
"""A volume row with its barrels to fill in."""
SHIPPED = SCENARIOS / "osc-2024.evidence.csv"
OSC_WINDOW = (dt.date(2024, 3, 7), dt.date(2024, 11, 5))


def _refusal(text: str, **kw: Any) -> str:
    """The one-line message parsing ``text`` (as ``e.csv``) is refused with."""
    with pytest.raises(ScenarioError) as exc:
        parse_evidence(text, window=kw.pop("window", WINDOW), ports={"A", "B"}, file="e.csv")
    msg = str(exc.value)
    assert "\n" not in msg and "\r" not in msg, msg
    return msg


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # numbers: plain ASCII decimals only, and nothing absurd
        (AGG.format("1e308"), "row 3.count = '1e308': not a number: write it out in full, "
         "without an exponent (1000000, not 1e6)"),
        (AGG.format("1_000"), "row 3.count = '1_000': not a number: no underscores (write 1000 "
         "or 1,000)"),
        (AGG.format("९"), "row 3.count = '९': not a number: write it with the digits 0-9"),
        (AGG.format("\uff11\uff12"), "row 3.count = '\uff11\uff12': not a number: write it "
         "with the digits 0-9"),
        (AGG.format('"1,0,0"'), "row 3.count = '1,0,0': not a number: expected digits 0-9, e.g. "
         "43, 125000, 125,000 or 0.5"),
        (AGG.format("0x10"), "row 3.count = '0x10': not a number: expected digits 0-9, e.g. 43, "
         "125000, 125,000 or 0.5"),
        (AGG.format("1000001"), "row 3.count = '1000001': more than 1,000,000 (visits or "
         "tankers): the most an evidence count may be"),
        (VOL.format("1000000001"), "row 3.bbl = '1000000001': more than 1,000,000,000 bbl, the "
         "most an evidence volume may be"),
        (VOL.format("-inf"), "row 3.bbl = '-inf': must be a finite number"),
        ("s,sighting,2024-01-03,,,A,loading,>=,1E3,,,src,high,", "row 3.count = '1E3': not a "
         "number: write it out in full, without an exponent (1000000, not 1e6)"),
        # dates: ASCII YYYY-MM-DD between 1900 and 2100
        ("a,visits,0001-01-01,2024-01-05,,A,,>=,2,,,src,high,", "row 3.date_from = "
         "'0001-01-01': outside 1900-01-01..2100-12-31: not a date evidence can have"),
        ("a,visits,2024-01-01,2101-01-01,,A,,>=,2,,,src,high,", "row 3.date_to = '2101-01-01': "
         "outside 1900-01-01..2100-12-31: not a date evidence can have"),
        ("a,visits,20240101,2024-01-05,,A,,>=,2,,,src,high,", "row 3.date_from = '20240101': "
         "not a date: expected YYYY-MM-DD"),
        ("a,visits,\uff12\uff10\uff12\uff14-01-01,2024-01-05,,A,,>=,2,,,src,high,",
         "row 3.date_from = '\uff12\uff10\uff12\uff14-01-01': not a date: expected YYYY-MM-DD"),
        # the shape of the row: every row has the header's fields, quotes close
        ("a,visits,2024-01-01,2024-01-05,,A,,>=,2,,,src", "row 3.confidence = <missing>: the "
         "row ends after 12 of the header's 14 fields (is the file cut short?)"),
        ("a,visits,2024-01-01,2024-01-05,,A,,>=,2,,,src,high,,x", "row 3.field 15 = 'x': 15 "
         "fields, the header has 14 (a comma in a field without quotes?)"),
        ('a,visits,2024-01-01,2024-01-05,,A,,>=,2,,,"src,high,', "row 3.source = '\"': a quote "
         "opened here is never closed: the file ends inside a quoted field (is it cut short?)"),
        ('a,visits,2024-01-01,2024-01-05,,A,,>=,2,,,"src"x,high,', "row 3.source = 'x': a "
         "character after the closing quote (write a quote inside quotes as \"\")"),
        # text: no control characters (a tab or a line end in free text only); a long value
        # is shown cut short
        ('i\td,visits,2024-01-01,2024-01-05,,A,,>=,2,,,src,high,', "row 3.id = '\\t': a "
         "control character (U+0009)"),
        ('"A\rB",visits,2024-01-01,2024-01-05,,A,,>=,2,,,"s\r\nrc",high,"two\nlines"',
         "row 3.id = '\\r': a control character (U+000D)"),
        ("a,visits,2024-01-01,2024-01-05,,A,,>=,2,,,src,high,a\x07b", "row 3.note = '\\x07': a "
         "control character (U+0007)"),
        ("a,visits,2024-01-01,2024-01-05,,A,,>=,2,,,src,high,a\x00b", "row 3.note = '\\x00': a "
         "control character (U+0000): is the file UTF-16? save it as UTF-8"),
        ("a,sighting,2024-01-03,," + "Z" * 3000 + ",A,loading,,,,,src,high,", "row 3.ship = '"
         + "Z" * 37 + "...': not a ship of the registry"),
    ],
)  # fmt: skip
def test_strict_evidence_refusals_are_one_line_naming_row_and_field(
    line: str, message: str
) -> None:
    assert _refusal(HEADER + OK_ROW + line + "\n") == f"e.csv: {message}"


def test_rows_are_named_by_the_line_they_begin_on() -> None:
    """A quoted note may span lines; a row is named by its first line."""
    note = 'b,visits,2024-01-01,2024-01-05,,A,,>=,2,,,"src\tone",high,"two\r\nlines"\n'
    text = HEADER + OK_ROW + note + OK_ROW.replace("ok,", "c,")
    ev = parse_evidence(text, window=WINDOW, ports={"A"})
    assert [(r.id, r.line) for r in ev.rows] == [("ok", 2), ("b", 3), ("c", 5)]
    assert ev.rows[1].note == "two\r\nlines" and ev.rows[1].source == "src\tone"
    bad = HEADER + OK_ROW + note + AGG.format("1e3") + "\n"
    assert _refusal(bad) == (
        "e.csv: row 5.count = '1e3': not a number: write it out in full, without an exponent "
        "(1000000, not 1e6)"
    )


def test_plain_spellings_and_the_bounds_themselves_are_read() -> None:
    rows = [
        AGG.format('"1,000"').replace("a,", "thousands,", 1),
        AGG.format("43.0").replace("a,", "whole,", 1),
        AGG.format("1000000").replace("a,", "most,", 1),
        VOL.format("1000000000").replace("a,", "most-bbl,", 1),
        VOL.format('"125,000.5"').replace("a,", "fraction,", 1),
        "half,share_sanctioned,2024-01-01,2024-01-05,,A,,>=,,,.5,src,high,",
        "old,visits,1900-01-01,2024-01-05,,A,,>=,2,,,src,high,",
        "late,visits,2024-01-10,2100-12-31,,A,,>=,2,,,src,high,",
    ]
    ev = parse_evidence(HEADER + "\n".join(rows) + "\n", window=WINDOW, ports={"A"})
    assert {r.id: r.value for r in ev.rows} == {
        "thousands": 1000.0, "whole": 43.0, "most": 1e6, "most-bbl": 1e9, "fraction": 125000.5,
        "half": 0.5, "old": 2.0, "late": 2.0,
    }  # fmt: skip
    assert ev.rows[6].date_from == dt.date(1900, 1, 1)
    assert ev.rows[7].date_to == dt.date(2100, 12, 31)


_NUMBERISH = st.text(alphabet="0123456789,.-+_eE xX९\uff11\uff12٣", max_size=12)


@settings(max_examples=300, deadline=None)
@given(text=_NUMBERISH)
def test_a_number_is_read_only_when_written_plainly(text: str) -> None:
    """Whatever a barrels cell holds, it is read only when it is ASCII digits (with thousands
    grouped by commas and an optional fraction), and then as exactly that number."""
    value = text.strip()
    cell = f'"{value}"' if "," in value else value
    line = VOL.format(cell)
    try:
        ev = parse_evidence(HEADER + line + "\n", window=WINDOW, ports={"A"}, file="e.csv")
    except ScenarioError as exc:
        msg = str(exc)
        assert "\n" not in msg and msg.startswith("e.csv: row 2.bbl = "), msg
        return
    assert re.fullmatch(r"(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?", value, flags=re.ASCII), value
    got = ev.rows[0].value
    assert got == float(value.replace(",", "")) and 0 <= got <= MAX_BBL


@settings(max_examples=200, deadline=None)
@given(k=st.integers(0, MAX_BBL))
def test_every_whole_number_of_barrels_up_to_the_bound_is_read(k: int) -> None:
    for cell in (str(k), f'"{k:,}"'):
        ev = parse_evidence(HEADER + VOL.format(cell) + "\n", window=WINDOW, ports={"A"})
        assert ev.rows[0].value == k


def test_the_reviewers_truncated_evidence_names_the_open_quote() -> None:
    data = SHIPPED.read_bytes()[:873]
    with pytest.raises(ScenarioError) as exc:
        parse_evidence(decode_evidence(data, "e.csv"), window=OSC_WINDOW, file="e.csv")
    assert str(exc.value) == (
        "e.csv: row 3.source = '\"': a quote opened here is never closed: the file ends inside "
        "a quoted field (is it cut short?)"
    )


def _shipped_rows() -> tuple[str, list[EvidenceRow]]:
    text = SHIPPED.read_text(encoding="utf-8")
    return text, list(parse_evidence(text, window=OSC_WINDOW, file="e.csv").rows)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_cut_evidence_file_is_refused_or_reads_only_rows_it_had(data: st.DataObject) -> None:
    """The shipped file cut anywhere: inside quotes it is refused naming the row and the field
    whose quote never closes; elsewhere it is refused, or it reads the rows before the cut as
    they were, the last one at most losing its (optional, last) independence cell."""
    text, full = _shipped_rows()
    assert len(text.splitlines()) == len(full) + 1  # no field spans lines
    at = data.draw(st.integers(0, len(text)))
    cut = text[:at]
    line = cut[cut.rfind("\n") + 1 :]
    if line.count('"') % 2:  # inside a quoted field
        row = cut.count("\n") + 1
        column, inside = 0, False
        for ch in line:
            inside = inside != (ch == '"')
            column += ch == "," and not inside
        field = COLUMNS[column]
        assert _refusal(cut, window=OSC_WINDOW) == (
            f"e.csv: row {row}.{field} = '\"': a quote opened here is never closed: the file "
            "ends inside a quoted field (is it cut short?)"
        )
        return
    try:
        got = list(parse_evidence(cut, window=OSC_WINDOW, file="e.csv").rows)
    except ScenarioError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("e.csv: ")
        return
    if got:  # (a header cut between two columns and no row is an empty file)
        assert got[:-1] == full[: len(got) - 1]
        whole = full[len(got) - 1]
        assert got[-1] in (whole, dataclasses.replace(whole, independence=UNSTATED))
    assert len(got) >= cut.count("\n") - 1  # every complete row is there


def test_evidence_in_utf16_or_utf32_is_refused_and_a_utf8_bom_is_read(tmp_path: Path) -> None:
    text = HEADER + OK_ROW
    plain = parse_evidence(text, window=WINDOW, ports={"A"})
    path = tmp_path / "e.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert read_evidence(path, window=WINDOW, ports={"A"}) == dataclasses.replace(
        plain, file=str(path)
    )
    cases = [
        ("utf-16", "row 1 = b'\\xff\\xfe': a UTF-16 byte-order mark"),
        ("utf-16-be", "row 1.column 1 = '\\x00': a control character (U+0000): is the file "
         "UTF-16? save it as UTF-8"),
        ("utf-32", "row 1 = b'\\xff\\xfe\\x00\\x00': a UTF-32 byte-order mark"),
    ]  # fmt: skip
    for encoding, said in cases:
        path.write_bytes(text.encode(encoding))
        with pytest.raises(ScenarioError) as exc:
            read_evidence(path, window=WINDOW, ports={"A"}, label="e.csv")
        assert str(exc.value).startswith(f"e.csv: {said}"), str(exc.value)
    path.write_bytes(text.encode() + b"b,visits,2024-01-01,,,A,,>=,2,,,Caf\xe9 src,high,\n")
    with pytest.raises(ScenarioError) as exc:
        read_evidence(path, window=WINDOW, ports={"A"}, label="e.csv")
    assert (
        str(exc.value) == "e.csv: row 3.source = b'\\xe9': not UTF-8 text: save the file as UTF-8"
    )


def test_a_file_that_is_not_evidence_is_not_echoed(tmp_path: Path) -> None:
    secret = "root:x:0:0:root:/root:/bin/bash"
    path = tmp_path / "passwd"
    path.write_text(secret + "\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        read_evidence(path, window=WINDOW, label="passwd")
    assert str(exc.value) == (
        "passwd: row 1 = <missing>: not an evidence file: its first line names none of the "
        "columns id, kind, ..."
    )
    assert (
        _refusal(HEADER.replace(",note", ",source"))
        == "e.csv: row 1 = 'source': column named twice"
    )


@pytest.mark.parametrize("command", ["validate", "claims", "evidence"])
def test_a_truncated_evidence_file_is_one_line_and_exit_2_from_each_command(
    tmp_path: Path, command: str
) -> None:
    scenario = copy_scenario("osc-2024.toml", tmp_path)
    evidence = tmp_path / "osc-2024.evidence.csv"
    evidence.write_bytes(SHIPPED.read_bytes()[:873])
    res = CliRunner().invoke(app, [command, str(scenario)])
    assert res.exit_code == 2, res.output
    assert res.stdout == ""
    assert res.stderr == (
        f"tankersim: error: {evidence}: row 3.source = '\"': a quote opened here is never "
        "closed: the file ends inside a quoted field (is it cut short?)\n"
    )


def test_the_real_command_line_refuses_utf16_evidence_in_one_line(tmp_path: Path) -> None:
    scenario = copy_scenario("osc-2024.toml", tmp_path)
    evidence = tmp_path / "osc-2024.evidence.csv"
    evidence.write_bytes(SHIPPED.read_text(encoding="utf-8").encode("utf-16"))
    exe = Path(sys.executable).with_name("tankersim")
    for command in ("validate", "claims"):
        res = subprocess.run(
            [str(exe), command, str(scenario)], capture_output=True, text=True, timeout=120
        )
        assert res.returncode == 2 and res.stdout == "", res
        assert res.stderr == (
            f"tankersim: error: {evidence}: row 1 = b'\\xff\\xfe': a UTF-16 byte-order mark: "
            "evidence files are UTF-8, save it as UTF-8\n"
        )


# --------------------------------------------------------------------------- observables


def _visits(**kw: Any) -> Visits:
    load_t = np.asarray(kw.get("load_t", []), dtype=float)
    n = len(load_t)
    dis_t = np.asarray(kw.get("dis_t", []), dtype=float)
    m = len(dis_t)
    return Visits(
        load_rep=np.zeros(n, dtype=np.int64),
        load_t=load_t,
        load_ship=np.asarray(kw.get("load_ship", [0] * n), dtype=np.int64),
        load_voyage=np.arange(n, dtype=np.int64),
        load_cargo=np.asarray(kw.get("load_cargo", [1000.0] * n)),
        load_product=np.zeros(n, dtype=np.int64),
        load_seen=np.asarray(kw.get("load_seen", [True] * n), dtype=bool),
        load_capacity=np.asarray(kw.get("load_capacity", [1000.0] * n)),
        dis_rep=np.zeros(m, dtype=np.int64),
        dis_t=dis_t,
        dis_ship=np.asarray(kw.get("dis_ship", [0] * m), dtype=np.int64),
        dis_voyage=np.arange(m, dtype=np.int64),
        dis_cargo=np.full(m, 1000.0),
        dis_product=np.zeros(m, dtype=np.int64),
        dis_port=np.ones(m, dtype=np.int64),
    )


def test_observables_by_hand() -> None:
    raw = base_raw()
    raw["fleet"]["c"] = {
        "from_registry": True,
        "names": ["YU SON", "UN HUNG"],
        "capacity_dwt": 2000.0,
        "speed_laden_kn": 10.0,
        "speed_ballast_kn": 12.0,
    }
    sc = validate_dict(raw)
    _, _, c = prepare(sc)
    yu, un = c.ship_ids.index("YU SON"), c.ship_ids.index("UN HUNG")
    text = HEADER + "\n".join(
        [
            "v,visits,2024-01-02,2024-01-03,,A,,=,2,,,s,high,",
            "d,distinct_ships,2024-01-01,2024-01-10,,A,,>=,2,,,s,high,",
            "b,volume,2024-01-01,2024-01-02,,A,,~,,3000,,s,high,",
            "s,share_sanctioned,2024-01-01,2024-01-10,,A,,>=,,,0.5,s,high,",
            "y,sighting,2024-01-05,,YU SON,A,loading,,,,,s,high,",
            "u,sighting,2024-01-01,2024-01-03,,B,unloading,>=,1,,,s,high,",
            "x,sighting,2024-01-05,,UN HUNG,AT_SEA,at_sea,,,,,s,high,",
        ]
    )
    ev = parse_evidence(text, window=WINDOW, ports={"A", "B"})
    obs, unused = compile_observables(ev, c)
    # Loads end at 20 h (day 1, YU SON, seen), 30 h (day 2, UN HUNG, seen), 40 h (day 2, YU
    # SON, unseen), 110 h (day 5, YU SON, seen); one discharge at B at 50 h (day 3).
    v = _visits(
        load_t=[20.0, 30.0, 40.0, 110.0],
        load_ship=[yu, un, yu, yu],
        load_seen=[True, True, False, True],
        dis_t=[50.0],
    )
    got = {o.column: o.value(v, c) for o in obs}
    assert got["ev:v"] == 1  # days 2-3: the 30 h visit (the 40 h one was not seen)
    assert got["ev:d"] == 2
    assert got["ev:b"] == 2000 and got["ev:b:all"] == 3000  # days 1-2, seen / all
    assert got["ev:s"] == pytest.approx(2 / 3)  # YU SON is UN-designated, UN HUNG is not said
    assert got["ev:y"] == 1.0  # YU SON's seen visit at 110 h is on 5 Jan (widened by a day)
    assert got["ev:u"] == 1
    assert [u.row.id for u in unused] == ["x"]
    o = {ob.row.id: ob for ob in obs}
    assert o["b"].holds(np.array([2399.0, 2400.0, 3600.0, 3601.0])).tolist() == [
        False,
        True,
        True,
        False,
    ]


# --------------------------------------------------------------------------- replay


def test_replay_flags_two_loadings_closer_than_one_cycle() -> None:
    raw = base_raw()
    raw["window"]["end"] = dt.date(2024, 2, 28)
    raw["fleet"]["c"] = {
        "from_registry": True,
        "names": ["YU SON"],
        "capacity_dwt": 2000.0,
        "speed_laden_kn": 10.0,
        "speed_ballast_kn": {"dist": "uniform", "low": 8.0, "high": 12.0},
        "turnaround_days": {"dist": "uniform", "low": 2.0, "high": 4.0},
    }
    sc = validate_dict(raw)
    _, routes, _ = prepare(sc)
    text = HEADER + "\n".join(
        [
            "a,sighting,2024-01-10,,YU SON,A,loading,,,,,s,high,",
            "b,sighting,2024-01-12,,YU SON,A,loading,,,,,s,high,",
            "c,sighting,2024-02-20,,YU SON,A,loading,,,,,s,high,",
        ]
    )
    ev = parse_evidence(text, window=(sc.window.start, sc.window.end), ports={"A", "B"})
    table = replay(ev, sc, routes).set_index("from_id")
    # By hand: 2,000 dwt carry 2,000 x 0.92 t x 7.46 bbl/t = 13,726.4 bbl of diesel (less
    # than 2,000 x 1.117 m3 x 6.2898 = 14,051 bbl of tank); loading at 1,000 bbl/h takes
    # 13.7264 h, discharging at 500 bbl/h 27.4528 h; laden 60.107716 nm at 10 kn; turnaround
    # at least 2 d; ballast at the top speed of 12 kn.
    d = 60.10771641105484
    shortest_h = 13.7264 + d / 10.0 + 27.4528 + 48.0 + d / 12.0
    assert table.loc["a", "shortest_days"] == pytest.approx(shortest_h / 24.0)
    assert table.loc["a", "max_gap_days"] == 3.0  # 10 Jan 00:00 to 12 Jan 24:00
    assert not table.loc["a", "feasible"]
    assert table.loc["b", "feasible"]  # 40 days apart


# --------------------------------------------------------------------------- the claim's method


def test_claims_method_on_a_fixed_case_known_by_hand() -> None:
    """Fixed 10,000 bbl ships at a 0.8 load factor, every visit seen: seen visits x capacity x
    0.9 is 9,000 bbl a visit against 8,000 really loaded: 1.125 times, an overstatement."""
    raw = apply_overrides(base_raw(), {"fleet.c.load_factor": 0.8, "fleet.c.count": 2})
    res = run_mc(validate_dict(raw), n=5, options="serial", plots=False)
    m = method_check(res.replications, claim_bbl=100_000.0)
    assert res.replications["trips"].min() > 0
    assert m.ratio.p05 == pytest.approx(1.125) and m.ratio.p95 == pytest.approx(1.125)
    assert m.p_overstates.p == 1.0
    trips = res.replications["trips"].to_numpy()
    np.testing.assert_allclose(m.estimate_bbl.mean, (9000.0 * trips).mean())
    np.testing.assert_allclose(m.bias_bbl.mean, (1000.0 * trips).mean())


@pytest.mark.parametrize("named", ["/etc/passwd", "../outside.evidence.csv"])
def test_evidence_outside_the_scenarios_folder_is_refused_unless_allowed(
    tmp_path: Path, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scenario from elsewhere must not make tankersim read any file it names: the evidence
    lies in the scenario file's folder (or below it), or the user says otherwise."""
    from sim.core.evidence import EVIDENCE_ANYWHERE

    folder = tmp_path / "sc"
    folder.mkdir()
    (tmp_path / "outside.evidence.csv").write_bytes(SHIPPED.read_bytes())
    scenario = copy_scenario("osc-2024.toml", folder)
    text = scenario.read_text(encoding="utf-8")
    scenario.write_text(
        text.replace('evidence = "osc-2024.evidence.csv"', f'evidence = "{named}"'),
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["validate", "--no-routes", str(scenario)])
    assert res.exit_code == 2
    assert res.stderr == (
        f"tankersim: error: {scenario}: evidence = {named!r}: outside the scenario file's "
        "folder: copy the evidence file beside the scenario (or set "
        "TANKERSIM_EVIDENCE_ANYWHERE=1 to allow it)\n"
    )
    assert "root:" not in res.output  # nothing of the file is read, let alone echoed
    if named.startswith(".."):  # allowed by the user: read as any evidence file
        monkeypatch.setenv(EVIDENCE_ANYWHERE, "1")
        ok = CliRunner().invoke(app, ["validate", "--no-routes", str(scenario)])
        assert ok.exit_code == 0, ok.output
