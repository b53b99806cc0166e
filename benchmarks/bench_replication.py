"""How much a tankersim replication costs against a bare SimPy loop of the same voyages.

The bare loop sails the same ships over the same legs with the same mean durations, sharing
the same berths, and records nothing: it is the floor that SimPy itself sets. Both are timed
in this one run, and the ratio is printed (the target is about 2 or less).

    python benchmarks/bench_replication.py [scenario.toml] [--reps N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import simpy

from sim.api import prepare
from sim.core.config import load_scenario
from sim.model.des import simulate
from sim.model.draws import Compiled, plan_ships

ROOT = Path(__file__).resolve().parents[1]


def bare_loop(c: Compiled, seed: int, replication: int) -> int:
    """The same fleet, voyage draws and berths, as a minimal SimPy loop that logs nothing."""
    plans, _ = plan_ships(c, seed, replication)
    env = simpy.Environment()
    sc = c.scenario
    berths = [simpy.Resource(env, capacity=sc.terminal.berths)]
    berths += [simpy.Resource(env, capacity=sc.discharge[p].berths) for p in c.port_ids]
    count = [0]

    def ship(plan: Any) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(plan.start_offset_h)
        pos = plan.start_place
        for v in plan.voyages:
            port = v.port
            yield env.timeout(plan.ballast_h[pos])
            with berths[0].request() as req:
                yield req
                yield env.timeout(v.terminal_pre_h + v.load_h + v.terminal_post_h)
            yield env.timeout(plan.laden_h[port])
            with berths[port].request() as req:
                yield req
                yield env.timeout(v.port_pre_h + v.discharge_h + v.port_post_h)
            yield env.timeout(v.turnaround_h)
            count[0] += 1
            pos = port

    for plan in plans:
        env.process(ship(plan))
    env.run(until=c.window_h)
    return count[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "osc-2024.toml"))
    ap.add_argument("--reps", type=int, default=300)
    args = ap.parse_args()
    sc, _, c = prepare(load_scenario(args.scenario))
    for r in range(5):  # warm up
        simulate(c, sc.seed, r)
        bare_loop(c, sc.seed, r)
    t0 = time.perf_counter()
    events = 0
    for r in range(args.reps):
        events += len(simulate(c, sc.seed, r).records)
    full = (time.perf_counter() - t0) / args.reps
    t0 = time.perf_counter()
    for r in range(args.reps):
        bare_loop(c, sc.seed, r)
    bare = (time.perf_counter() - t0) / args.reps
    t0 = time.perf_counter()
    for r in range(args.reps):
        plan_ships(c, sc.seed, r)
    plan = (time.perf_counter() - t0) / args.reps
    print(f"scenario: {sc.name}, {args.reps} replications, {events / args.reps:,.0f} events each")
    print(f"tankersim replication:     {full * 1e3:7.2f} ms")
    print(f"bare SimPy loop:           {bare * 1e3:7.2f} ms (includes drawing the same inputs)")
    print(f"  of which drawing inputs: {plan * 1e3:7.2f} ms")
    print(f"ratio tankersim / bare:    {full / bare:7.2f}")
    print(f"ratio excluding the draws: {(full - plan) / (bare - plan):7.2f}")


if __name__ == "__main__":
    main()
