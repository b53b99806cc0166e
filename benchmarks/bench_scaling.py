"""Scaling: how a Monte Carlo batch and a calibration gain from more workers, and what the
parent process costs.

Every case runs in a fresh child process (``sim.api``, the baseline scenario, no plots, into a
temporary folder) that reports:

- ``wall_s``: the whole call, from the scenario's path to the files written;
- ``pool_s``: the span during which the workers ran (the parent waits and counts);
- ``serial_s``: ``wall_s - pool_s``, the parent's work outside the workers (preparing the
  scenario, compacting the parts, the verdict, the checks, the files); per replication and as
  a fraction of the one-worker run's wall time (Amdahl's serial fraction);
- ``disk_b_per_rep``: bytes left in the output folder per replication;
- ``parent_mib``: the parent's peak resident memory (``ru_maxrss`` of the child itself; with
  more than one worker the simulation runs in other processes).

A calibration case also reports the parent's and the workers' CPU time, and a *ceiling* case
runs calibration-sized jobs (16 of 1,250 rows) alone, in this process and on the pool, with no
parent work between them: their speed-up is the most a calibration could gain on the machine,
and the calibration's speed-up is reported against it. ``--as-command`` runs the calibrations
as ``tankersim calibrate`` does, with the companion evidence set (two calibrations in one call,
pyabc imported once), instead of the one calibration alone.

From the measured serial fraction ``f`` and the one-worker time, Amdahl's law projects the
speed-up at ``p`` workers: ``1 / (f + (1 - f) / p)``; the benchmark prints it for 4, 8 and 16
workers, marked as a projection, beside whatever it measured.

    python benchmarks/bench_scaling.py                      # mc 100,000 at 1 and 2 workers,
                                                            # calibrate at 1 and 2 workers
    python benchmarks/bench_scaling.py --memory 1000000     # also the parent's peak at 1e6
    python benchmarks/bench_scaling.py --workers 1 2 4 8 16 --dask   # on a 16-core machine

Each mc and calibrate case is the best of ``--repeat`` runs (default 3; the calibrate cases
take turns); the memory cases run once. Results go to ``benchmarks/results/scaling.json``
(with the machine's name and cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = str(ROOT / "scenarios" / "osc-2024.toml")

MC_CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
n, workers, executor, scenario = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
from sim.api import ExecOptions, run_mc
opts = ExecOptions(executor, workers)
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    r = run_mc(scenario, n=n, options=opts, out=tmp, plots=False, progress=False)
    wall = time.perf_counter() - t0
    disk = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"kind": "mc", "n": n, "workers": workers, "executor": executor,
                  "wall_s": wall, "pool_s": r.elapsed_s, "worker_s": r.worker_s,
                  "serial_s": wall - r.elapsed_s, "disk_b_per_rep": disk / n,
                  "parent_mib": peak}))
"""

CAL_CHILD = r"""
import json, resource, sys, tempfile, time
pop, gens, workers, executor, scenario = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                          sys.argv[4], sys.argv[5])
as_command = sys.argv[6] == "1"
from sim.api import ExecOptions, calibrate
from sim.runner.calibrate import COMPARE
opts = ExecOptions(executor, workers)
def cpu(who=resource.RUSAGE_SELF):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime
with tempfile.TemporaryDirectory() as tmp:
    c0, w0 = cpu(), cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = calibrate(scenario, population=pop or None, generations=gens or None, options=opts, out=tmp,
                  plots=False, progress=False, compare=COMPARE if as_command else ())
    wall = time.perf_counter() - t0
    parent_cpu = cpu() - c0
    workers_cpu = cpu(resource.RUSAGE_CHILDREN) - w0  # the pool's processes, once shut down
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"kind": "calibrate", "parent_cpu_s": parent_cpu, "workers_cpu_s": workers_cpu,
                  "population": pop, "generations": gens, "workers": workers,
                  "executor": executor, "wall_s": wall, "as_command": as_command,
                  "simulations": r.simulated
                  + sum(c.simulated for c in r.companions.values()), "parent_mib": peak}))
"""

CEILING_CHILD = r"""
import concurrent.futures as cf, gc, json, sys, time
import numpy as np
rows, jobs, workers, scenario = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
from sim.runner.calibrate import Simulator, setup
from sim.runner.pipeline import ExecOptions, run_jobs
s = setup(scenario)
sim = Simulator(s, ExecOptions("serial"))
rng = np.random.default_rng(0)
q = rng.uniform(size=(rows * jobs, len(s.parameters)))
batch = [[sim._job(q[k * rows:(k + 1) * rows], np.arange(k * rows, (k + 1) * rows))]
         for k in range(jobs)]
run_jobs(batch[0])  # warm, as a calibration's pilot warms this process
if workers == 1:
    t0 = time.perf_counter()
    for b in batch:
        run_jobs(b)
    wall = time.perf_counter() - t0
else:
    with cf.ProcessPoolExecutor(workers, initializer=gc.freeze) as pool:
        list(pool.map(run_jobs, batch[:workers]))  # started and warm
        t0 = time.perf_counter()
        list(pool.map(run_jobs, batch))
        wall = time.perf_counter() - t0
print(json.dumps({"kind": "ceiling", "rows": rows, "jobs": jobs, "workers": workers,
                  "wall_s": wall}))
"""


CEILING_ROWS = 1250
"""Rows per job of the ceiling case: about the size of a calibration's jobs at 2 workers."""
CEILING_JOBS = 16

REPEAT = 3
"""Each case runs this many times; the fastest run is kept (a shared machine's noise only
ever slows a run down)."""


def child(code: str, *args: object, repeat: int | None = None) -> dict[str, float]:
    best: dict[str, float] | None = None
    for _ in range(repeat or REPEAT):
        out = subprocess.run(
            [sys.executable, "-c", code, *map(str, args)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        row = dict(json.loads(out.stdout.strip().splitlines()[-1]))
        if best is None or row["wall_s"] < best["wall_s"]:
            best = row
    assert best is not None
    return best


def amdahl(f: float, p: int) -> float:
    """Amdahl's speed-up at ``p`` workers for a serial fraction ``f``."""
    return 1.0 / (f + (1.0 - f) / p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="mc replications (default 100,000)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--dask", action="store_true", help="also a Dask LocalCluster of max workers")
    ap.add_argument("--memory", type=int, default=0, help="also the parent's peak at this N")
    ap.add_argument(
        "--population", type=int, default=0, help="calibrate: particles (default: the scenario's)"
    )
    ap.add_argument(
        "--generations",
        type=int,
        default=0,
        help="calibrate: generations (default: the scenario's)",
    )
    ap.add_argument("--no-calibrate", action="store_true")
    ap.add_argument(
        "--as-command",
        action="store_true",
        help="calibrate as `tankersim calibrate` runs it: with the companion evidence set "
        "(default: the one calibration alone)",
    )
    ap.add_argument("--no-mc", action="store_true", help="calibrate only")
    ap.add_argument(
        "--results",
        default=str(ROOT / "benchmarks" / "results" / "scaling.json"),
        help="where the rows go (default benchmarks/results/scaling.json)",
    )
    ap.add_argument("--scenario", default=SCENARIO)
    ap.add_argument("--repeat", type=int, default=REPEAT, help="runs per case; the best kept")
    args = ap.parse_args()

    rows: list[dict[str, float]] = []
    cases = [(w, "local" if w > 1 else "serial") for w in args.workers]
    if args.dask:
        cases.append((max(args.workers), "dask"))
    for w, ex in [] if args.no_mc else cases:
        r = child(MC_CHILD, args.n, w, ex, args.scenario, repeat=args.repeat)
        rows.append(r)
        print(
            f"mc n={args.n:,} {ex} x{w}: {r['wall_s']:.1f} s (workers' span {r['pool_s']:.1f} s, "
            f"parent outside it {r['serial_s']:.2f} s), {r['disk_b_per_rep']:.0f} B/replication, "
            f"parent peak {r['parent_mib']:.0f} MiB",
            flush=True,
        )
    if args.memory and not args.no_mc:
        w = max(2, max(args.workers))
        for n in (args.n, args.memory):
            r = child(MC_CHILD, n, w, "local", args.scenario, repeat=1)
            r["memory_case"] = 1
            rows.append(r)
            print(
                f"mc n={n:,} local x{w}: {r['wall_s']:.1f} s, parent peak "
                f"{r['parent_mib']:.0f} MiB, {r['disk_b_per_rep']:.0f} B/replication",
                flush=True,
            )
    if not args.no_calibrate:
        # Best of --repeat, the cases taking turns so that a busy spell of the shared machine
        # falls on both.
        best: dict[tuple[int, str], dict[str, float]] = {}
        for _ in range(args.repeat):
            for w, ex in cases:
                r = child(CAL_CHILD, args.population, args.generations, w, ex, args.scenario,
                          int(args.as_command), repeat=1)  # fmt: skip
                if (w, ex) not in best or r["wall_s"] < best[w, ex]["wall_s"]:
                    best[w, ex] = r
        for w, ex in cases:
            r = best[w, ex]
            rows.append(r)
            pop = f"{args.population} particles" if args.population else "the scenario's particles"
            gens = (
                f"{args.generations} generations"
                if args.generations
                else "the scenario's generations"
            )
            size = (
                f"{pop} x {gens}"
                if args.population or args.generations
                else "the scenario's own population and generations"
            )
            if args.as_command:
                size += ", with the companion evidence set, as the command runs it"
            print(
                f"calibrate ({size}), {ex} x{w}: {r['wall_s']:.1f} s "
                f"({r['simulations']:,} simulations; the parent's own CPU time "
                f"{r['parent_cpu_s']:.2f} s, pyabc's import included; the workers' "
                f"{r.get('workers_cpu_s', 0.0):.2f} s)",
                flush=True,
            )
        # The ceiling: calibration-sized jobs alone, with no parent work between them, in
        # this process and on the pool (best of --repeat, taking turns).
        ceil: dict[int, dict[str, float]] = {}
        for _ in range(args.repeat):
            for w, _ex in cases:
                if _ex == "dask":
                    continue
                r = child(CEILING_CHILD, CEILING_ROWS, CEILING_JOBS, w, args.scenario, repeat=1)
                if w not in ceil or r["wall_s"] < ceil[w]["wall_s"]:
                    ceil[w] = r
        for w in sorted(ceil):
            rows.append(ceil[w])
            print(
                f"ceiling: {CEILING_JOBS} jobs of {CEILING_ROWS:,} rows alone, "
                f"{'in this process' if w == 1 else f'pool x{w}'}: {ceil[w]['wall_s']:.2f} s",
                flush=True,
            )

    mc = {
        (r["executor"], r["workers"]): r
        for r in rows
        if r["kind"] == "mc" and "memory_case" not in r
    }
    one = mc.get(("serial", 1))
    summary: dict[str, float] = {}
    if one is not None:
        f = one["serial_s"] / one["wall_s"]
        summary["serial_fraction"] = f
        summary["serial_s_per_rep"] = one["serial_s"] / one["n"]
        print(f"\nmc serial fraction (parent outside the workers, 1 worker): {f:.2%}")
        for (ex, w), r in sorted(mc.items()):
            if w > 1:
                summary[f"mc_speedup_{ex}_{w}"] = one["wall_s"] / r["wall_s"]
                print(f"mc speed-up {ex} x{w}: {one['wall_s'] / r['wall_s']:.2f}x (measured)")
        for p in (4, 8, 16):
            print(f"mc speed-up at {p} workers: {amdahl(f, p):.1f}x (Amdahl projection)")
            summary[f"mc_projection_{p}"] = amdahl(f, p)
    cal = {(r["executor"], r["workers"]): r for r in rows if r["kind"] == "calibrate"}
    if ("serial", 1) in cal:
        for (ex, w), r in sorted(cal.items()):
            if w > 1:
                s = cal[("serial", 1)]["wall_s"] / r["wall_s"]
                if w == 2 and ex == "local":
                    print(f"calibrate: the parent's own CPU time at 2 workers is "
                          f"{r['parent_cpu_s'] / cal[('serial', 1)]['wall_s']:.1%} of the "
                          "one-worker run's wall time")  # fmt: skip
                summary[f"calibrate_speedup_{ex}_{w}"] = s
                print(f"calibrate speed-up {ex} x{w}: {s:.2f}x (measured)")
                ceil = {r["workers"]: r for r in rows if r["kind"] == "ceiling"}
                if ex == "local" and 1 in ceil and w in ceil:
                    c = ceil[1]["wall_s"] / ceil[w]["wall_s"]
                    summary[f"ceiling_speedup_{w}"] = c
                    print(
                        f"the same machine's ceiling x{w} (calibration-sized jobs alone): "
                        f"{c:.2f}x; calibrate reaches {s / c:.0%} of it"
                    )
                one_cpu = cal[("serial", 1)]["parent_cpu_s"]
                all_cpu = r["parent_cpu_s"] + r.get("workers_cpu_s", 0.0)
                summary[f"calibrate_cpu_ratio_{ex}_{w}"] = all_cpu / one_cpu
                print(
                    f"calibrate CPU time, every process, x{w} / x1: {all_cpu:.1f} s / "
                    f"{one_cpu:.1f} s = {all_cpu / one_cpu:.2f}"
                )
                if w == 2 and ex == "local":
                    # Amdahl from two points: t2 = t1 (f + (1 - f) / 2)  =>  f = 2 t2 / t1 - 1
                    f_cal = min(1.0, max(0.0, 2.0 / s - 1.0))
                    summary["calibrate_serial_fraction"] = f_cal
                    print(f"calibrate serial fraction (from 1 and 2 workers): {f_cal:.0%}")
                    for p in (4, 8, 16):
                        summary[f"calibrate_projection_{p}"] = amdahl(f_cal, p)
                        print(
                            f"calibrate speed-up at {p} workers: {amdahl(f_cal, p):.1f}x "
                            "(Amdahl projection)"
                        )
    mem = [r for r in rows if "memory_case" in r]
    if len(mem) == 2:
        summary["parent_peak_ratio"] = mem[1]["parent_mib"] / mem[0]["parent_mib"]
        print(
            f"parent peak at n={mem[1]['n']:,} / at n={mem[0]['n']:,}: "
            f"{summary['parent_peak_ratio']:.2f}x"
        )
    doc = {
        "machine": f"{platform.node()} ({platform.processor() or platform.machine()}), "
        f"{os.cpu_count()} cores",
        "python": platform.python_version(),
        "command": " ".join(sys.argv),
        "rows": rows,
        "summary": summary,
    }
    path = Path(args.results).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
