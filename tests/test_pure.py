"""Layer 1: distributions, units and geodesy (unit tests and hypothesis properties)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from pyproj import Transformer

from sim.core.distributions import (
    Choice,
    Distribution,
    Fixed,
    LogNormal,
    Triangular,
    TruncNormal,
    Uniform,
)
from sim.core.geo import LatLon, densify, geodesic_nm, path_length_nm
from sim.core.units import BBL_PER_M3, M3_PER_BBL, bbl_to_tonnes, density_t_per_m3, tonnes_to_bbl

DIST = TypeAdapter(Distribution)
U = np.linspace(0.0, 1.0, 201)
MID = (np.arange(200_000) + 0.5) / 200_000

finite = st.floats(-1e4, 1e4, allow_nan=False)


@st.composite
def distributions(draw: st.DrawFn) -> object:
    kind = draw(
        st.sampled_from(["fixed", "uniform", "triangular", "truncnormal", "lognormal", "choice"])
    )
    if kind == "fixed":
        return Fixed(value=draw(finite))
    if kind == "uniform":
        a, b = sorted((draw(finite), draw(finite)))
        return Uniform(dist="uniform", low=a, high=b)
    if kind == "triangular":
        a, c, b = sorted((draw(finite), draw(finite), draw(finite)))
        return Triangular(dist="triangular", low=a, mode=c, high=b)
    if kind == "truncnormal":
        m = draw(finite)
        sd = draw(st.floats(0.01, 1e3))
        lo = m + draw(st.floats(-4, 0.5)) * sd
        hi = lo + draw(st.floats(0.1, 6)) * sd
        return TruncNormal(dist="truncnormal", mean=m, sd=sd, low=lo, high=hi)
    if kind == "lognormal":
        return LogNormal(
            dist="lognormal", median=draw(st.floats(0.01, 1e4)), sigma=draw(st.floats(0, 2))
        )
    vals = draw(st.lists(finite, min_size=1, max_size=5))
    w = draw(st.lists(st.floats(0.01, 10), min_size=len(vals), max_size=len(vals)))
    return Choice(dist="choice", values=tuple(vals), weights=tuple(w))


@given(distributions())
def test_quantiles_stay_in_support_and_never_decrease(d: object) -> None:
    x = d.ppf(U[1:-1])  # type: ignore[attr-defined]
    lo, hi = d.bounds  # type: ignore[attr-defined]
    assert np.all(x >= lo - 1e-9 * max(1.0, abs(lo)))
    assert np.all(x <= hi + 1e-9 * max(1.0, abs(hi)))
    assert np.all(np.diff(x) >= -1e-9 * max(1.0, np.abs(x).max()))


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "uniform", "low": 2.0, "high": 5.0},
        {"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 7.0},
        {"dist": "truncnormal", "mean": 10.0, "sd": 3.0, "low": 8.0, "high": 20.0},
        {"dist": "truncnormal", "mean": 0.0, "sd": 1.0},
        {"dist": "lognormal", "median": 5.0, "sigma": 0.4},
        {"dist": "choice", "values": [1.0, 2.0, 10.0], "weights": [0.5, 0.3, 0.2]},
    ],
)
def test_mean_matches_quadrature(spec: dict[str, object]) -> None:
    d = DIST.validate_python(spec)
    assert float(np.mean(d.ppf(MID))) == pytest.approx(d.mean, rel=2e-3, abs=2e-3)


def test_choice_frequencies_follow_weights() -> None:
    d = Choice(dist="choice", values=(1.0, 2.0, 3.0), weights=(1.0, 1.0, 2.0))
    x = d.ppf(MID)
    assert [float(np.mean(x == v)) for v in (1.0, 2.0, 3.0)] == pytest.approx(
        [0.25, 0.25, 0.5], abs=1e-4
    )


def test_triangular_median_closed_form() -> None:
    d = Triangular(dist="triangular", low=0.0, mode=0.0, high=1.0)
    assert float(d.ppf([0.5])[0]) == pytest.approx(1 - math.sqrt(0.5))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"dist": "uniform", "low": 3.0, "high": 1.0}, "must not exceed"),
        ({"dist": "triangular", "low": 0.0, "mode": 5.0, "high": 1.0}, "mode"),
        ({"dist": "truncnormal", "mean": 0.0, "sd": -1.0}, "greater than 0"),
        (
            {"dist": "truncnormal", "mean": 0.0, "sd": 1.0, "low": 50.0, "high": 60.0},
            "no probability",
        ),
        ({"dist": "choice", "values": [1.0, 2.0], "weights": [1.0]}, "weights has 1"),
        ({"dist": "lognormal", "median": 0.0, "sigma": 1.0}, "greater than 0"),
        ({"dist": "gamma", "k": 1.0}, "does not match any of the expected tags"),
    ],
)
def test_invalid_distributions(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DIST.validate_python(spec)


# --------------------------------------------------------------------------- units


@given(st.floats(0.0, 1e9))
def test_unit_round_trips(x: float) -> None:
    assert x * M3_PER_BBL * BBL_PER_M3 == pytest.approx(x)
    assert bbl_to_tonnes(tonnes_to_bbl(x, 7.46), 7.46) == pytest.approx(x)


def test_bp_densities() -> None:
    # BP's table: diesel 7.46 bbl/t is 0.843 t/m3, gasoline 8.35 bbl/t is 0.753 t/m3.
    assert density_t_per_m3(7.46) == pytest.approx(0.843, abs=5e-4)
    assert density_t_per_m3(8.35) == pytest.approx(0.753, abs=5e-4)
    assert abs(BBL_PER_M3 - 6.2898) < 1e-4


def test_claimed_tonnes_imply_impossible_density() -> None:
    # "1 million barrels (56,000 tons)": 17.9 bbl/t, 0.35 t/m3, lighter than LPG (0.54).
    assert density_t_per_m3(1_000_000 / 56_000) == pytest.approx(0.352, abs=1e-3)


# --------------------------------------------------------------------------- geodesy

lat = st.floats(-80, 80)
lon = st.floats(-179, 179)
_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


def _chord_nm(a: LatLon, b: LatLon) -> float:
    pa = np.array(_ECEF.transform(a.lon, a.lat, 0.0))
    pb = np.array(_ECEF.transform(b.lon, b.lat, 0.0))
    return float(np.linalg.norm(pa - pb)) / 1852.0


@given(lat, lon, lat, lon)
def test_geodesic_symmetric_and_at_least_the_chord(
    la: float, lo: float, lb: float, lob: float
) -> None:
    a, b = LatLon(la, lo), LatLon(lb, lob)
    d = geodesic_nm(a, b)
    assert d == pytest.approx(geodesic_nm(b, a), rel=1e-9, abs=1e-9)
    assert d >= _chord_nm(a, b) - 1e-6


def test_one_degree_of_equator() -> None:
    # WGS84 equatorial radius 6,378,137 m: one degree is 111,319.49 m = 60.1077 nm.
    assert geodesic_nm(LatLon(0, 0), LatLon(0, 1)) == pytest.approx(111_319.4908 / 1852, rel=1e-9)


@given(st.floats(0.5, 50.0))
def test_densify_spacing_and_length(step: float) -> None:
    pts = [LatLon(42.733, 133.067), LatLon(41.796, 129.776), LatLon(38.0, 130.0)]
    dense = densify(pts, step)
    gaps = [geodesic_nm(a, b) for a, b in itertools.pairwise(dense)]
    assert max(gaps) <= step + 1e-6
    assert path_length_nm(dense) == pytest.approx(path_length_nm(pts), rel=1e-9)
    assert dense[0] == pts[0] and dense[-1] == pts[-1]
