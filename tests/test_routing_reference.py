"""The sea router against published port-to-port distances (docs/routing.md, "Checked against
published distances").

Fifteen figures are from NGA Pub. 151 *Distances Between Ports*, read from the transcription
``PUB151_raw.txt`` in the public repository kaklin/sea-routes; one is the Hakata-Busan ferry
(213 km). Port points are the Pub. 151 positions; approach points are placed as documented.
The router runs at the default 2 nm margin without forbidden areas: the published tracks of
commercial ships use the Jeju Strait. One router is built once for the module, into a
temporary cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.core.geo import LatLon, geodesic_nm
from sim.core.routing import SeaRouter

PORTS: dict[str, tuple[LatLon, LatLon]] = {
    # name: (Pub. 151 position, approach point); how each approach was placed: docs/routing.md
    "Vladivostok": (LatLon(43.1083, 131.8833), LatLon(43.040, 132.000)),
    "Nakhodka": (LatLon(42.8186, 132.8978), LatLon(42.771, 132.958)),
    "Chongjin": (LatLon(41.7750, 129.8250), LatLon(41.717, 129.825)),
    "Kimchaek": (LatLon(40.6542, 129.2083), LatLon(40.642, 129.258)),
    "Wonsan": (LatLon(39.1667, 127.4417), LatLon(39.233, 127.439)),
    "Nampo": (LatLon(38.7167, 125.4167), LatLon(38.690, 124.950)),
    "Niigata": (LatLon(37.9667, 139.0667), LatLon(38.000, 139.071)),
    "Toyama (Higashi-Iwase)": (LatLon(36.7667, 137.2333), LatLon(36.805, 137.216)),
    "Busan": (LatLon(35.1000, 129.0500), LatLon(35.017, 129.051)),
    "Hakata": (LatLon(33.6125, 130.3875), LatLon(33.713, 130.353)),
    "Nagasaki": (LatLon(32.7417, 129.8708), LatLon(32.742, 129.762)),
    "Incheon": (LatLon(37.4667, 126.6167), LatLon(37.423, 126.545)),
    "Dalian": (LatLon(38.9333, 121.6500), LatLon(38.959, 121.711)),
}

DEFAULT_BAND = (0.95, 1.02)
"""Router length / published length for open-water, coastal and round-the-peninsula legs [-].

Measured 0.961-1.007; widened by about 1 % for the rounding of the published figures and the
placement of approach points."""
INCHEON_BAND = (0.78, 1.02)
"""The same for legs into Incheon [-]: measured 0.795-0.934. Natural Earth has no tidal flats
or shoals in Gyeonggi Bay, so the router crosses the bay where published tracks follow the
channels."""
MATERIAL_DETOUR = 1.05
"""A route this much longer than the straight line differs materially from it [-]."""


@dataclass(frozen=True)
class Reference:
    """A published sea distance between two ports."""

    a: str
    b: str
    published_nm: float
    source: str
    band: tuple[float, float] = DEFAULT_BAND

    @property
    def id(self) -> str:
        return f"{self.a}-{self.b}"


PUB151 = "NGA Pub. 151"
REFERENCES = (
    Reference("Vladivostok", "Chongjin", 135, PUB151),
    Reference("Vladivostok", "Kimchaek", 206, PUB151),
    Reference("Vladivostok", "Wonsan", 324, PUB151),
    Reference("Vladivostok", "Niigata", 453, PUB151),
    Reference("Vladivostok", "Toyama (Higashi-Iwase)", 471, PUB151),
    Reference("Vladivostok", "Busan", 514, PUB151),
    Reference("Nakhodka", "Busan", 508, PUB151),
    Reference("Hakata", "Busan", 213 / 1.852, "JR Kyushu Beetle ferry, 213 km"),
    Reference("Busan", "Nagasaki", 163, PUB151),
    Reference("Busan", "Dalian", 543, PUB151),
    Reference("Wonsan", "Nampo", 801, PUB151),
    Reference("Vladivostok", "Nampo", 997, PUB151),
    Reference("Nampo", "Dalian", 180, PUB151),
    Reference("Busan", "Incheon", 402, PUB151, INCHEON_BAND),
    Reference("Nampo", "Incheon", 216, PUB151, INCHEON_BAND),
    Reference("Dalian", "Incheon", 290, PUB151, INCHEON_BAND),
)


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> SeaRouter:
    cache: Path = tmp_path_factory.mktemp("reference-route-cache")
    return SeaRouter(margin_nm=2.0, cache_dir=cache)


def route_nm(router: SeaRouter, ref: Reference) -> float:
    (pa, aa), (pb, ab) = PORTS[ref.a], PORTS[ref.b]
    r = router.route(pa, pb, a_name=ref.a, b_name=ref.b, a_approach=aa, b_approach=ab)
    return r.length_nm


@pytest.mark.parametrize("ref", REFERENCES, ids=[r.id for r in REFERENCES])
def test_route_length_is_within_band_of_published(router: SeaRouter, ref: Reference) -> None:
    length = route_nm(router, ref)
    low, high = ref.band
    ratio = length / ref.published_nm
    assert low <= ratio <= high, (
        f"{ref.id}: router {length:.1f} nm, published {ref.published_nm:.0f} nm ({ref.source}), "
        f"ratio {ratio:.3f} outside [{low}, {high}]"
    )


def test_band_excludes_straight_line_where_route_detours(router: SeaRouter) -> None:
    """Wherever the route differs materially from the straight line between the two port
    points, a router that returned the straight line would fail the band test."""
    detours = 0
    for ref in REFERENCES:
        (pa, _), (pb, _) = PORTS[ref.a], PORTS[ref.b]
        straight = geodesic_nm(pa, pb)
        if route_nm(router, ref) > MATERIAL_DETOUR * straight:
            detours += 1
            assert straight / ref.published_nm < ref.band[0], ref.id
    assert detours >= 8
