"""The long fuzz run: N mutated scenario and evidence files through the real command line.

    python tools/fuzz.py --cases 100000 --args 2000 --workers 2 --out out/fuzz

Uses the generators and the judges of the test suite (tests/fuzzing.py for scenario and
evidence files; tests/fuzz_args.py, with ``--args N``, for hostile arguments to ``route``,
``routes``, ``map`` and ``init``): case ``i`` of a seed is always the same. Prints and writes
(``--out``) the counts by outcome and by mutation kind, the slowest case, and every failure
(traceback, hang, a message that is not one line naming the file, or a silent default). Exit
status 1 when any case failed.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _chunk(args: tuple[int, int, int]) -> list[dict[str, Any]]:
    from tests.fuzzing import make_case, run_case

    start, stop, seed = args
    out = []
    with tempfile.TemporaryDirectory(prefix="tankersim-fuzz-") as tmp:
        for i in range(start, stop):
            case = make_case(i, seed)
            folder = Path(tmp) / f"c{i}"
            folder.mkdir()
            o = run_case(case, folder)
            kind = re.sub(r"[\d(].*", "", case.kind).strip() or case.kind
            out.append(
                {
                    "i": i,
                    "status": o.status,
                    "kind": kind,
                    "seconds": o.seconds,
                    "detail": o.detail if o.status not in ("ok", "refused") else "",
                    "commands": o.commands,
                }
            )
    return out


def _arg_chunk(args: tuple[int, int, int]) -> list[dict[str, Any]]:
    from tests.fuzz_args import make_arg_case, run_arg_case

    start, stop, seed = args
    out = []
    with tempfile.TemporaryDirectory(prefix="tankersim-fuzz-args-") as tmp:
        cache = Path(tmp) / "cache"
        cache.mkdir()
        for i in range(start, stop):
            case = make_arg_case(i, seed)
            folder = Path(tmp) / f"a{i}"
            folder.mkdir()
            o = run_arg_case(case, folder, cache)
            out.append(
                {
                    "i": f"args-{i}",
                    "status": o.status,
                    "kind": f"args: {case.command}",
                    "seconds": o.seconds,
                    "detail": o.detail if o.status not in ("ok", "refused") else "",
                    "commands": o.commands,
                }
            )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--args", type=int, default=0, help="argument cases (route/routes/map/init)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    jobs = [(s, min(s + a.chunk, a.cases), a.seed) for s in range(0, a.cases, a.chunk)]
    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []
    arg_chunk = max(1, a.chunk // 10)
    arg_jobs = [(s, min(s + arg_chunk, a.args), a.seed) for s in range(0, a.args, arg_chunk)]
    total = a.cases + a.args
    with mp.get_context("spawn").Pool(a.workers) as pool:
        parts = [pool.imap_unordered(_chunk, jobs), pool.imap_unordered(_arg_chunk, arg_jobs)]
        k = 0
        for it in parts:
            for part in it:
                k += 1
                results += part
                if k % 10 == 0 or len(results) == total:
                    print(f"{len(results):,}/{total:,} cases, {time.perf_counter() - t0:.0f} s",
                          flush=True)  # fmt: skip
    wall = time.perf_counter() - t0
    status = collections.Counter(r["status"] for r in results)
    by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in results:
        by_kind[r["kind"]][r["status"]] += 1
    ran = sum(1 for r in results if "run" in r["commands"])
    commands = collections.Counter(c for r in results for c in r["commands"])
    slowest = max(results, key=lambda r: r["seconds"])
    failures = sorted((r for r in results if r["status"] not in ("ok", "refused")),
                      key=lambda r: str(r["i"]))  # fmt: skip
    summary = {
        "cases": len(results),
        "seed": a.seed,
        "workers": a.workers,
        "wall_s": round(wall, 1),
        "outcomes": dict(status),
        "simulated_with_run": ran,
        "commands_run": dict(commands.most_common()),
        "slowest_case": {
            "i": slowest["i"],
            "kind": slowest["kind"],
            "seconds": round(slowest["seconds"], 2),
        },
        "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "failures": failures[:200],
    }
    return write_summary(summary, a.out, "fuzz-summary.json")


def write_summary(summary: dict[str, Any], out: Path | None, name: str) -> int:
    """Print a long run's summary, write it as ``out/name`` (with ``out``), and give the exit
    status: 1 when it lists failures."""
    text = json.dumps(summary, indent=1)
    print(text)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text + "\n", encoding="utf-8")
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
