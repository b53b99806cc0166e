"""Time of a 100-point x 200-replication sweep on the local executor, 1 worker against 2.

Both runs are made in this one process, on the baseline scenario, over a 10 x 10 grid of the
large class's capacity and turnaround. The speed-up is the ratio of the two wall times.

    python benchmarks/bench_sweep.py [--points-per-axis 10] [--replications 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sim.runner.sweep import parse_vary, run_sweep

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points-per-axis", type=int, default=10)
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "osc-2024.toml"))
    args = ap.parse_args()
    k = args.points_per_axis
    dims = [
        parse_vary(f"fleet.large.capacity_bbl=15000:60000:{k}"),
        parse_vary(f"fleet.large.turnaround_days=5:95:{k}"),
    ]
    times = {}
    tables = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            res = run_sweep(args.scenario, dims=dims, n=args.replications, out=tmp, workers=workers)
            times[workers] = time.perf_counter() - t0
            tables[workers] = res.table
    n_rep = k * k * args.replications
    for w, t in times.items():
        print(
            f"{k * k} points x {args.replications} replications, {w} worker(s): {t:6.1f} s "
            f"({n_rep / t:,.0f} replications/s)"
        )
    print(f"speed-up 1 -> 2 workers: {times[1] / times[2]:.2f}x")
    print(f"identical results: {tables[1].equals(tables[2])}")


if __name__ == "__main__":
    main()
