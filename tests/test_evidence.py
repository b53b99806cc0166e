"""Evidence: levels of uncertainty, the registry, evidence files, observables, replay and the
claim's own method."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import base_raw, write_toml
from typer.testing import CliRunner

from sim.analysis.method import method_check
from sim.analysis.replay import replay
from sim.api import prepare, run, run_mc
from sim.cli import app
from sim.core.config import ScenarioError, apply_overrides, validate_dict
from sim.core.evidence import COLUMNS, parse_evidence
from sim.core.rng import philox4x32, uniforms
from sim.model.draws import draw_ships, draw_voyages
from sim.model.events import activities
from sim.model.observables import compile_observables
from sim.model.results import Visits

HEADER = ",".join(COLUMNS) + "\n"
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


def test_evidence_in_utf16_with_a_bom_is_read() -> None:
    from sim.core.io import decode_text  # the evidence reader's decoder, shared with scenarios

    text = HEADER + "a,visits,2024-01-01,2024-01-05,,A,,>=,2,,,src,high,\n"
    assert decode_text(text.encode("utf-16"), "f") == text
    with pytest.raises(ScenarioError, match="not UTF-8"):
        decode_text(text.encode("latin-1") + b"\xe9\xff", "f")


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
