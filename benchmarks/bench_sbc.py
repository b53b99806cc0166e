"""Is the calibration calibrated? Simulation-based calibration and the seed-to-seed spread.

1. Simulation-based calibration (:mod:`sim.runner.sbc`) on the baseline scenario: ``--truths``
   truths drawn from the prior (default 100), each simulated once as the evidence and
   calibrated as ``tankersim calibrate`` does with ``--population`` particles (default 300,
   the audit's); the coverage of the 50 % and 90 % credible intervals and the rank histogram
   of every fitted unknown and of the seen visits' barrels.
2. The headline's spread over seeds: the default calibration (1,000 particles, the evidence
   set 'independent', no companion) with ``--seeds`` seeds (default 5), P(seen) and P(fleet)
   for each, their range and standard deviation beside the Monte Carlo errors.

Writes ``benchmarks/results/sbc/`` (sbc.csv, one row per truth, appended as it goes so that a
rerun continues; sbc-coverage.csv; seeds.csv; sbc.json; ranks.png) and prints the tables.
docs/calibration.md quotes sbc.json through ``make numbers``.

    python benchmarks/bench_sbc.py                      # about 25 minutes on 2 cores
    python benchmarks/bench_sbc.py --truths 12 --seeds 0 --out /tmp/sbc   # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "osc-2024.toml"


def _cpu() -> str:
    from sim.core.io import cpu_model

    return cpu_model()


def _ranks_figure(table: pd.DataFrame, keys: list[str], out: Path) -> None:
    from sim.core.config import KEY_WORDS
    from sim.outputs.plots import _new, save_figure

    cols = [*keys, "seen_bbl"]
    fig, axes = _new((3.2 * len(cols), 2.8), 1, len(cols), squeeze=False)
    for ax, key in zip(axes[0], cols, strict=True):
        u = table[f"rank:{key}"].to_numpy(dtype=float)
        u = u[np.isfinite(u)]
        ax.hist(u, bins=10, range=(0, 1), color="#2c6fbb", alpha=0.8)
        ax.axhline(len(u) / 10, color="black", lw=1, ls=":")
        label = KEY_WORDS.get(key, "seen visits' barrels" if key == "seen_bbl" else key)
        ax.set_title(label, fontsize=8)
        ax.set_xlabel("rank of the truth (posterior CDF)", fontsize=7)
    axes[0][0].set_ylabel("truths")
    save_figure(fig, out, ("png",))


def _seeds(n: int, out: Path) -> pd.DataFrame:
    from sim.runner.calibrate import calibrate
    from sim.runner.pipeline import ExecOptions

    path = out / "seeds.csv"
    done = pd.read_csv(path).to_dict(orient="records") if path.is_file() else []
    for k in range(len(done), n):
        seed = 20240307 + k
        t0 = time.perf_counter()
        r = calibrate(SCENARIO, seed=seed, compare=(), options=ExecOptions("local", 2))
        v = r.verdict
        done.append(
            {
                "seed": seed,
                "p_seen": v.seen.p,
                "mcse_seen": v.seen.mcse,
                "p_fleet": v.fleet.p,
                "mcse_fleet": v.fleet.mcse,
                "word": v.word,
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
        pd.DataFrame(done).to_csv(path, index=False)
        print(f"  seed {seed}: P(seen) {v.seen.p:.3f} ± {v.seen.mcse:.3f}", file=sys.stderr)
    return pd.DataFrame(done)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--truths", type=int, default=100)
    ap.add_argument("--population", type=int, default=300)
    ap.add_argument("--replications", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "sbc")
    ap.add_argument(
        "--relations",
        choices=("exact", "as-used"),
        default="exact",
        help="exact: each fitted row reports the truth's value (=); as-used: the file's relations",
    )
    args = ap.parse_args()

    from sim.runner.pipeline import ExecOptions
    from sim.runner.sbc import coverage, run_sbc

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def line(k: int, rec: dict) -> None:
        print(f"  truth {k}: {rec['seconds']:.1f} s", file=sys.stderr)

    res = run_sbc(
        SCENARIO,
        truths=args.truths,
        population=args.population,
        replications=args.replications,
        relations=args.relations,
        options=ExecOptions("local", 2),
        out=out,
        on_truth=line,
    )
    cov = coverage(res.table, res.keys)
    cov.to_csv(out / "sbc-coverage.csv", index=False)
    _ranks_figure(res.table, list(res.keys), out / "ranks")
    seeds = _seeds(args.seeds, out) if args.seeds else pd.DataFrame()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    summary = {
        "command": "python benchmarks/bench_sbc.py " + " ".join(sys.argv[1:]),
        "date": dt.date.today().isoformat(),
        "commit": commit,
        "machine": f"{_cpu()}, Python {platform.python_version()}",
        "truths": len(res.table),
        "population": args.population,
        "replications": args.replications,
        "evidence_set": res.evidence_set,
        "relations": res.relations,
        "coverage": cov.to_dict(orient="records"),
        "seeds": seeds.to_dict(orient="records"),
        "seed_spread": (
            {
                "p_seen_min": float(seeds["p_seen"].min()),
                "p_seen_max": float(seeds["p_seen"].max()),
                "p_seen_sd": float(seeds["p_seen"].std(ddof=1)) if len(seeds) > 1 else math.nan,
                "mcse_seen_mean": float(seeds["mcse_seen"].mean()),
                "p_fleet_min": float(seeds["p_fleet"].min()),
                "p_fleet_max": float(seeds["p_fleet"].max()),
            }
            if len(seeds)
            else None
        ),
        "elapsed_s": round(time.perf_counter() - t0, 1),
    }
    (out / "sbc.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(cov.to_string(index=False))
    if len(seeds):
        print(seeds.to_string(index=False))


if __name__ == "__main__":
    main()
