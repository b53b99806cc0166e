"""A 100-point x 200-replication sweep of the baseline: 1 worker against 2, and the engines.

Two grids of 100 points each, run in this one process on the local executor:

* ``packed``: the fleet's typical size x its typical turnaround (both fleet-level unknowns),
  so every point is the base scenario with two values fixed and the points run as rows of
  shared blocks;
* ``per point``: terminal berths (1 or 2) x the fleet's typical size (50 values): a berth
  count changes the scenario's structure, so each point is a scenario of its own.

The packed grid runs with the fast engine on 1 and 2 workers and with the SimPy engine on 2
(``--no-des`` skips it: about a minute); the per-point grid with the fast engine on 2.
Results are compared across workers and engines before the times are printed.

    python benchmarks/bench_sweep.py [--replications 200] [--no-des]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from sim.runner.pipeline import ExecOptions
from sim.runner.sweep import parse_vary, run_sweep

ROOT = Path(__file__).resolve().parents[1]
COUNTS = ["trips", "observed_visits"]


def timed(scenario: str, dims: list[Any], n: int, workers: int, engine: str) -> tuple[float, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        options = ExecOptions("local", workers, engine=engine)  # type: ignore[arg-type]
        res = run_sweep(scenario, dims=dims, n=n, out=tmp, options=options)
        return time.perf_counter() - t0, res.table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "osc-2024.toml"))
    ap.add_argument("--no-des", action="store_true", help="skip the SimPy engine's run")
    args = ap.parse_args()
    n = args.replications
    packed = [
        parse_vary("unknowns.fleet_dwt=1500:6000:10"),
        parse_vary("unknowns.turnaround_days=5:60:10"),
    ]
    per_point = [parse_vary("terminal.berths=1,2"), parse_vary("unknowns.fleet_dwt=1500:6000:50")]
    runs = [("packed", packed, 1, "fast"), ("packed", packed, 2, "fast")]
    if not args.no_des:
        runs.append(("packed", packed, 2, "des"))
    runs.append(("per point", per_point, 2, "fast"))
    rows = []
    for name, dims, workers, engine in runs:
        seconds, table = timed(args.scenario, dims, n, workers, engine)
        rows.append((name, workers, engine, seconds, table))
    ref = rows[0][4]
    for name, _, _, _, table in rows:
        if name == "packed":
            assert table[COUNTS].equals(ref[COUNTS]), "counts differ between runs"
            np.testing.assert_allclose(table["loaded_bbl"], ref["loaded_bbl"], rtol=1e-9)
    reps = 100 * n
    print(f"{'grid':10} {'workers':>7} {'engine':>6} {'seconds':>8} {'replications/s':>15}")
    for name, workers, engine, seconds, _ in rows:
        print(f"{name:10} {workers:>7} {engine:>6} {seconds:8.2f} {reps / seconds:15,.0f}")
    t = {(r[0], r[1], r[2]): r[3] for r in rows}
    gain = t["packed", 1, "fast"] / t["packed", 2, "fast"]
    print(f"speed-up 1 -> 2 workers (packed, fast): {gain:.2f}x")
    if ("packed", 2, "des") in t:
        print(
            f"fast vs SimPy engine (packed, 2 workers): "
            f"{t['packed', 2, 'des'] / t['packed', 2, 'fast']:.1f}x"
        )
    print("results identical across workers and engines: checked")


if __name__ == "__main__":
    main()
