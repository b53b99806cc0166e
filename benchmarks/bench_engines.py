"""Cost of one replication: the vectorised engine, the SimPy engine, and a bare SimPy loop.

On each scenario, in this one process and on the same seed:

* ``bare``: drawing the inputs (``plan_ships``) and sailing the same ships over the same legs
  with the same drawn durations and the same berths in a minimal SimPy loop that records
  nothing: the floor SimPy itself sets;
* ``des``: tankersim's SimPy engine end to end, as a batch runs it (draws, simulation, the
  per-replication row and daily series);
* ``fast``: the vectorised engine end to end, blocks of ``--block`` replications.

The two engines' rows are compared (counts equal, floats to 1e-9 relative) before any figure
is printed. Each figure is the best of three timings after an untimed one, interleaved on one
machine. Targets: fast >= 20x des on the baseline; des <= 1.5x bare.

    python benchmarks/bench_engines.py [--reps 300] [--block 5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from sim.core.config import load_scenario, validate_dict
from sim.model.des import simulate
from sim.model.draws import Compiled, plan_ships
from sim.model.fast import simulate_block
from sim.model.results import BlockMeta, block_rows, concat, visits_of
from sim.runner.single import prepare

ROOT = Path(__file__).resolve().parents[1]


def shuttle() -> Any:
    """Twelve tankers, two berths at the terminal and two at the one discharge port."""
    return validate_dict(
        {
            "schema_version": 1,
            "name": "shuttle-12",
            "seed": 3,
            "window": {"start": dt.date(2024, 3, 7), "end": dt.date(2024, 11, 5)},
            "terminal": {
                "port": "VOSTOCHNY",
                "berths": 2,
                "load_rate_bbl_per_h": 2000.0,
                "pre_pump_h": 2.0,
                "post_pump_h": 2.0,
            },
            "discharge": {
                "CHONGJIN": {
                    "berths": 2,
                    "rate_bbl_per_h": 1000.0,
                    "pre_pump_h": 1.0,
                    "post_pump_h": 1.0,
                }
            },
            "fleet": {
                "shuttle": {
                    "count": 12,
                    "capacity_bbl": {"dist": "triangular", "low": 8e3, "mode": 15e3, "high": 3e4},
                    "load_factor": {"dist": "uniform", "low": 0.8, "high": 1.0},
                    "speed_laden_kn": {"dist": "uniform", "low": 8.0, "high": 11.0},
                    "speed_ballast_kn": {"dist": "uniform", "low": 9.0, "high": 12.0},
                    "turnaround_days": {"dist": "uniform", "low": 0.5, "high": 4.0},
                }
            },
            "routing": {"method": "geodesic"},
        }
    )


def bare_loop(c: Compiled, seed: int, replication: int) -> int:
    """The same fleet, voyage draws and berths, as a minimal SimPy loop that logs nothing."""
    everyone = plan_ships(c, seed, replication)
    env = simpy.Environment()
    sc = c.scenario
    berths = [simpy.Resource(env, capacity=sc.terminal.berths)]
    berths += [simpy.Resource(env, capacity=sc.discharge[p].berths) for p in c.port_ids]
    count = [0]

    def ship(plan: Any) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(plan.start_offset_h)
        pos = plan.start_place
        k = 0
        while True:
            if k == len(plan.voyages):
                everyone.extend()  # the next block of voyages, drawn as the engines draw it
            v = plan.voyages[k]
            port = v.port
            yield env.timeout(plan.ballast_h[pos] + v.terminal_anchorage_h)
            with berths[0].request() as req:
                yield req
                yield env.timeout(v.terminal_pre_h + v.load_h + v.terminal_post_h)
            yield env.timeout(plan.laden_h[port] + v.port_anchorage_h)
            with berths[port].request() as req:
                yield req
                yield env.timeout(v.port_pre_h + v.discharge_h + v.port_post_h)
            yield env.timeout(v.turnaround_h)
            count[0] += 1
            pos = port
            k += 1

    for plan in everyone.ships:
        env.process(ship(plan))
    env.run(until=c.window_h)
    return count[0]


def des_rows(c: Compiled, seed: int, reps: range) -> dict[str, np.ndarray]:
    runs = [simulate(c, seed, r, record="visits") for r in reps]
    meta = BlockMeta(
        np.asarray(list(reps), dtype=np.int64),
        np.asarray([r.p_detect for r in runs]),
        {k: np.asarray([r.parameters[k] for r in runs]) for k in runs[0].parameters},
    )
    return block_rows(c, concat([visits_of(r) for r in runs]), meta)[0]


def fast_rows(c: Compiled, seed: int, reps: range, block: int) -> dict[str, np.ndarray]:
    parts = []
    for b0 in range(reps.start, reps.stop, block):
        visits, meta = simulate_block(c, seed, range(b0, min(b0 + block, reps.stop)))
        parts.append(block_rows(c, visits, meta)[0])
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def per_rep(fn: Callable[[], Any], n: int, repeat: int = 3) -> float:
    """Seconds per replication: the best of ``repeat`` timings (after one untimed call)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200, help="replications for des and bare")
    ap.add_argument("--fast-reps", type=int, default=10000, help="replications for fast")
    ap.add_argument("--block", type=int, default=5000)
    args = ap.parse_args()
    cases = [
        ("baseline", load_scenario(ROOT / "scenarios" / "osc-2024.toml")),
        ("shuttle-12, 2+2 berths", shuttle()),
    ]
    print(
        f"{'scenario':24} {'bare ms':>8} {'des ms':>8} {'fast ms':>8} "
        f"{'des/bare':>9} {'des/fast':>9}"
    )
    for name, scenario in cases:
        sc, _, c = prepare(scenario)
        s, reps = sc.seed, range(args.reps)
        # The engines agree before anything is timed.
        a, b = des_rows(c, s, range(200)), fast_rows(c, s, range(200), args.block)
        for k in a:
            if np.asarray(a[k]).dtype.kind in "iu":
                assert np.array_equal(a[k], b[k]), k
            else:
                np.testing.assert_allclose(a[k], b[k], rtol=1e-9, err_msg=k)
        bare = per_rep(lambda: [bare_loop(c, s, r) for r in reps], args.reps)  # noqa: B023
        des = per_rep(lambda: des_rows(c, s, reps), args.reps)  # noqa: B023
        fast = per_rep(
            lambda: fast_rows(c, s, range(args.fast_reps), args.block),  # noqa: B023
            args.fast_reps,
        )
        print(
            f"{name:24} {bare * 1e3:8.3f} {des * 1e3:8.3f} {fast * 1e3:8.3f} "
            f"{des / bare:9.2f} {des / fast:9.1f}"
        )
    print("targets: des/fast >= 20 on the baseline; des/bare <= 1.5 (rows identical: checked)")


if __name__ == "__main__":
    main()
