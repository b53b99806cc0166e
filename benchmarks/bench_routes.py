"""Benchmark: build the gazetteer's all-pairs route table from a cold and from a warm cache.

Run with ``python benchmarks/bench_routes.py [--margin-nm 2.0] [--no-jeju] [--global]``. Both
timings are taken in one run, in a fresh temporary cache directory, and reported with their ratio:

* cold: construct ``SeaRouter`` (builds and saves the graph) and route every pair of ports;
* warm: construct a new ``SeaRouter`` on the same directory (loads the graph) and route every
  pair again.

``--global`` times the global router instead (``sim.core.global_routing``): cold = build and
save the global sea graph and route Rotterdam-Singapore; warm = load it and route the same pair.

``--world`` times ``sim.route`` over the 20-pair world set of ``tests/test_routing_world.py``
(plain coordinates): the graph load, a first pass over all pairs (tiles of land built as
needed), then the warm pass (graphs in memory, every pair routed once before): per-route median
and maximum [ms].
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from sim.core.geo import LatLon
from sim.core.routing import JEJU_STRAIT, SeaRoute, SeaRouter


def load_ports() -> dict[str, dict[str, Any]]:
    """The gazetteer, ``sim/data/ports.toml``."""
    text = resources.files("sim").joinpath("data", "ports.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def route_table(
    router: SeaRouter, ports: dict[str, dict[str, Any]]
) -> dict[tuple[str, str], SeaRoute]:
    """Routes for every ordered pair of distinct ports."""
    table = {}
    for a, b in itertools.permutations(sorted(ports), 2):
        pa, pb = ports[a], ports[b]
        table[a, b] = router.route(
            LatLon(pa["lat"], pa["lon"]),
            LatLon(pb["lat"], pb["lon"]),
            a_name=a,
            b_name=b,
            a_approach=LatLon(**pa["approach"]) if "approach" in pa else None,
            b_approach=LatLon(**pb["approach"]) if "approach" in pb else None,
        )
    return table


def timed_table(
    margin_nm: float, jeju_closed: bool, cache_dir: Path, ports: dict[str, dict[str, Any]]
) -> tuple[float, SeaRouter, dict[tuple[str, str], SeaRoute]]:
    """Wall time [s] to construct a router and route every pair, with the results."""
    t0 = time.perf_counter()
    router = SeaRouter(
        margin_nm=margin_nm, forbidden=[JEJU_STRAIT] if jeju_closed else [], cache_dir=cache_dir
    )
    table = route_table(router, ports)
    return time.perf_counter() - t0, router, table


def bench_global(margin_nm: float) -> None:
    """Cold and warm timings of one global route (Rotterdam-Singapore, Pub. 151 positions)."""
    from sim.core.global_routing import GlobalSeaRouter

    a, b = LatLon(51.9000, 4.4667), LatLon(1.2667, 103.8333)
    with tempfile.TemporaryDirectory() as tmp:
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            router = GlobalSeaRouter(margin_nm=margin_nm, cache_dir=Path(tmp))
            r = router.route(a, b, a_name="Rotterdam", b_name="Singapore")
            times.append(time.perf_counter() - t0)
        assert router.loaded_from_cache
    cold_s, warm_s = times
    print(
        f"global router, margin {margin_nm:g} nm: graph {router.n_nodes} nodes / "
        f"{router.n_edges} edges; Rotterdam-Singapore {r.length_nm:.1f} nm "
        f"via {', '.join(r.passes)}"
    )
    print(f"cold (build graph + route): {cold_s:8.3f} s")
    print(f"warm (load graph + route):  {warm_s:8.3f} s")
    print(f"cold / warm:                {cold_s / warm_s:8.1f}")


def world_set() -> tuple[dict[str, tuple[float, float]], tuple[tuple[str, str], ...]]:
    """WORLD and PAIRS of tests/test_routing_world.py, read from its source (the test module
    itself imports the dev-only GLOBE mask)."""
    import ast

    src = (Path(__file__).resolve().parents[1] / "tests" / "test_routing_world.py").read_text()
    out: dict[str, Any] = {}
    for node in ast.parse(src).body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id in ("WORLD", "PAIRS")
            and node.value is not None
        ):
            out[node.target.id] = ast.literal_eval(node.value)
    return out["WORLD"], out["PAIRS"]


def bench_world(margin_nm: float, repeat: int) -> None:
    """Load, first-pass and warm timings of sim.route over the world set."""
    import statistics

    from sim.core.global_routing import _global_router, route

    world, pairs = world_set()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        t0 = time.perf_counter()
        _global_router(margin_nm, (), cache)
        build_s = time.perf_counter() - t0
        _global_router.cache_clear()
        t0 = time.perf_counter()
        _global_router(margin_nm, (), cache)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for a, b in pairs:
            route(world[a], world[b], margin_nm=margin_nm, cache_dir=cache)
        first_s = time.perf_counter() - t0
        times: list[float] = []
        for _ in range(repeat):
            for a, b in pairs:
                t = time.perf_counter()
                route(world[a], world[b], margin_nm=margin_nm, cache_dir=cache)
                times.append(time.perf_counter() - t)
    print(f"world set: {len(pairs)} pairs, margin {margin_nm:g} nm")
    print(f"global graph built:     {build_s:8.2f} s")
    print(f"global graph loaded:    {load_s:8.2f} s")
    print(f"first pass, all pairs:  {first_s:8.2f} s")
    print(
        f"warm route: median {1000 * statistics.median(times):.0f} ms, "
        f"max {1000 * max(times):.0f} ms ({repeat} x {len(pairs)} routes)"
    )


def main(argv: list[str] | None = None) -> None:
    """Print cold and warm timings, their ratio, and the routes from Vostochny."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--margin-nm", type=float, default=2.0)
    ap.add_argument("--no-jeju", action="store_true", help="leave the Jeju Strait open")
    ap.add_argument("--global", dest="global_", action="store_true", help="time the global router")
    ap.add_argument("--world", action="store_true", help="time sim.route over the world set")
    ap.add_argument("--repeat", type=int, default=3, help="warm passes with --world")
    args = ap.parse_args(argv)
    if args.world:
        bench_world(args.margin_nm, args.repeat)
        return
    if args.global_:
        bench_global(args.margin_nm)
        return
    ports = load_ports()
    with tempfile.TemporaryDirectory() as tmp:
        cold_s, cold_router, cold = timed_table(args.margin_nm, not args.no_jeju, Path(tmp), ports)
        warm_s, warm_router, warm = timed_table(args.margin_nm, not args.no_jeju, Path(tmp), ports)
    assert not cold_router.loaded_from_cache and warm_router.loaded_from_cache
    assert cold == warm, "warm-cache routes differ from cold-cache routes"
    print(
        f"margin {args.margin_nm:g} nm, Jeju Strait {'open' if args.no_jeju else 'closed'}, "
        f"{len(ports)} ports, {len(cold)} ordered pairs, "
        f"graph {cold_router.n_nodes} nodes / {cold_router.n_edges} edges"
    )
    print(f"cold cache: {cold_s:8.3f} s")
    print(f"warm cache: {warm_s:8.3f} s")
    print(f"cold / warm: {cold_s / warm_s:8.1f}")
    print("\nfrom VOSTOCHNY        length_nm  pilotage_nm  passes")
    for (a, b), r in cold.items():
        if a == "VOSTOCHNY":
            print(f"  to {b:<16s} {r.length_nm:9.1f}  {r.pilotage_nm:11.1f}  {', '.join(r.passes)}")


if __name__ == "__main__":
    main()
