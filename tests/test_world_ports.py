"""Ports of the world by name (sim.core.world_ports): the packaged NGA World Port Index and
the rules that turn a name into one of its ports, and how ``sim.route`` uses it after the
case's own gazetteer."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.core.routing import RoutingError
from sim.core.world_ports import (
    ALIASES,
    SIZES,
    UnknownWorldPortError,
    WorldPort,
    find_world_port,
    norm,
    world_ports,
)

DATA = Path(__file__).resolve().parents[1] / "sim" / "data" / "world_ports.csv"


def test_the_index_as_packaged() -> None:
    """3,768 ports of Pub. 150, each with a finite WGS84 position and a known harbour size
    (blank for 71); index numbers unique but for two the index itself repeats (Seydisfjordur
    under two spellings, Machilipatnam twice); the packaged file is what
    ``tools/make_world_ports.py`` writes."""
    from collections import Counter

    ports = world_ports()
    assert len(ports) == 3768
    assert {k for k, n in Counter(p.wpi for p in ports).items() if n > 1} == {"400", "49460"}
    for p in ports:
        assert math.isfinite(p.lat) and -90 <= p.lat <= 90, p
        assert math.isfinite(p.lon) and -180 <= p.lon <= 180, p
        assert p.size in SIZES and p.name, p
    with DATA.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == ["wpi", "name", "alternates", "locode", "country", "size", "lat", "lon"]


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("rotterdam", "Rotterdam (Netherlands)"),
        ("ROTTERDAM", "Rotterdam (Netherlands)"),
        ("NLRTM", "Rotterdam (Netherlands)"),  # UN/LOCODE, with or without its space
        ("nl rtm", "Rotterdam (Netherlands)"),
        ("Tsingtao", "Qingdao Gang (China)"),  # an alternate name
        ("Qingdao", "Qingdao Gang (China)"),  # without the index's generic "Gang"
        ("Yokohama", "Yokohama Ko (Japan)"),  # ... or "Ko"
        ("Valparaiso", "Bahia De Valparaiso (Chile)"),  # ... or "Bahia De"
        ("Bombay", "Mumbai (Bombay) (India)"),  # a name in brackets
        ("Göteborg", "Goteborg (Sweden)"),  # accents dropped
        ("Sydney", "Sydney (Australia)"),  # the larger of two Sydneys
        ("Sydney, Canada", "Sydney (Canada)"),  # or the one of a country
        ("Lagos, Portugal", "Lagos (Portugal)"),
        ("murmansk", "Murmansk (Russia)"),
    ],
)
def test_names_find_the_port_meant(name: str, label: str) -> None:
    assert find_world_port(name).label == label


def test_every_alias_names_the_port_it_says() -> None:
    """The English names the index spells otherwise point at the right index numbers (a
    rebuilt index that renumbered them would fail here)."""
    want = {
        "SINGAPORE": "Keppel",
        "PIRAEUS": "Piraievs",
        "JEDDAH": "Jiddah",
        "NEW YORK": "New York City",
    }
    assert set(ALIASES) == set(want)
    for alias, name in want.items():
        assert find_world_port(alias.title()).name.startswith(name), alias


def test_a_name_several_ports_share_equally_is_refused_naming_the_countries() -> None:
    with pytest.raises(UnknownWorldPortError, match=r"2 ports .* 'Lagos' \(Nigeria, Portugal\)"):
        find_world_port("Lagos")


def test_an_unknown_name_gives_the_closest_names() -> None:
    with pytest.raises(UnknownWorldPortError, match="did you mean 'Sydney'") as exc:
        find_world_port("Sydny")
    assert exc.value.close and not exc.value.ambiguous
    with pytest.raises(UnknownWorldPortError, match="no port"):
        find_world_port("Rotterdam, Brazil")  # a country without that port


def test_every_port_is_found_by_its_own_name_and_country() -> None:
    """All 3,768: a port's main name with its country finds that port, or a port of the same
    name and country with a harbour at least as large; a tie within one country is refused
    naming the positions (a country may hold commas: Saint Helena, Ascension, and Tristan da
    Cunha)."""
    ties = 0
    for p in world_ports():
        try:
            found = find_world_port(f"{p.name}, {p.country}")
        except UnknownWorldPortError as exc:
            assert exc.ambiguous and "UN/LOCODE or 'lat,lon'" in str(exc), (p, exc)
            ties += 1
            continue
        assert norm(found.country) == norm(p.country), (p, found)
        assert SIZES[found.size] >= SIZES[p.size], (p, found)
    assert ties < 50  # 37 when written: same name, country and size (Machilipatnam twice...)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(world_ports()), st.randoms(use_true_random=False))
def test_names_are_case_and_space_blind(port: WorldPort, rnd: Random) -> None:
    """Property: any mix of upper and lower case, and extra spaces around the words, finds
    the port its exact spelling finds."""
    name = f"{port.name}, {port.country}"
    try:
        want = find_world_port(name)
    except UnknownWorldPortError:
        return
    mixed = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in name)
    mixed = "  " + mixed.replace(" ", "   ") + " "
    assert find_world_port(mixed) == want


def test_route_prefers_the_case_gazetteer_then_the_world_index() -> None:
    """``Nampo`` is the case's NAMPHO, with its hand-placed approach; ``Busan`` is not in the
    case's gazetteer and comes from the World Port Index, moved to water and reported."""
    from sim.core.gazetteer import gazetteer
    from sim.core.routing import JEJU_STRAIT

    r = sim.route("Nampo", "Busan", forbidden=[JEJU_STRAIT])
    nampho = gazetteer()["NAMPHO"]
    assert r.waypoints[0] == nampho.point and r.waypoints[1] == nampho.approach
    busan = find_world_port("Busan")
    assert r.waypoints[-1] == busan.point
    assert [s.end for s in r.snapped] == ["destination"] and r.snapped[0].given == busan.point


def test_route_refuses_an_unknown_or_ambiguous_name_in_one_line() -> None:
    with pytest.raises(RoutingError) as exc:
        sim.route("nampoo", "Busan")
    msg = str(exc.value)  # the index's Nampo is the case's NAMPHO: suggested once
    assert "\n" not in msg and "'NAMPHO'" in msg and "'Nampo'" not in msg and "UN/LOCODE" in msg
    with pytest.raises(RoutingError, match="did you mean 'Rotterdam'"):
        sim.route("Busan", "Rotterdm")
    with pytest.raises(RoutingError, match=r"'Lagos' \(Nigeria, Portugal\): say which"):
        sim.route("Lagos", "Busan")
