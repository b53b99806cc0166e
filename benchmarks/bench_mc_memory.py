"""Peak memory of a Monte Carlo batch at two sizes of N: it should stay flat.

Each size runs in a fresh child process (so peaks do not carry over) with the local executor,
streaming parts to a temporary folder; the parent reads the child's peak resident memory
(``ru_maxrss`` of the children, which includes the worker processes' own peak).

    python benchmarks/bench_mc_memory.py [--small 10000] [--large 100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time
from sim.api import ExecOptions, run_mc
n, workers, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
r = run_mc("{scenario}", n=n, options=ExecOptions(workers=workers), out=out)
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
row = {{"n": n, "seconds": time.perf_counter() - t0, "parent_kib": own, "worker_kib": kids}}
print(json.dumps(row))
"""


def measure(n: int, workers: int, scenario: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(scenario=scenario), str(n), str(workers), tmp],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=10000)
    ap.add_argument("--large", type=int, default=100000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "osc-2024.toml"))
    args = ap.parse_args()
    rows = [measure(n, args.workers, args.scenario) for n in (args.small, args.large)]
    for r in rows:
        print(
            f"N={r['n']:>7,}: {r['seconds']:6.1f} s, "
            f"peak RSS parent {r['parent_kib'] / 1024:6.1f} MiB, "
            f"largest worker {r['worker_kib'] / 1024:6.1f} MiB"
        )
    a, b = rows
    print(
        f"N x{b['n'] / a['n']:.0f}: parent peak x{b['parent_kib'] / a['parent_kib']:.2f}, "
        f"worker peak x{b['worker_kib'] / a['worker_kib']:.2f}"
    )


if __name__ == "__main__":
    main()
