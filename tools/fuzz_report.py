"""The long run of damaged run folders through `tankersim report`.

    python tools/fuzz_report.py --cases 2000 --workers 2 --out out/fuzz-report

Makes one finished `mc` and one finished `calibrate` folder of the baseline with the command
line (so each carries its stamp, sizes and SHA-256 of every file), then, case by case, copies
them, damages one file (or two, one case in five) in one of the ways of
``tests.fuzzing.DAMAGES`` (cut in half or at a random byte, emptied, replaced by a JSON value,
random bytes changed, deleted), and runs `tankersim report` on the copy. A case must make the
report (a deleted file warned about) or be refused in one line, exit status 2, with no page
written; a damaged file passed over without a word, a traceback or another exit status is a
failure. Case ``i`` of a seed is always the same damage. Prints and writes (``--out``) the
counts by outcome and by damage; exit status 1 when any case failed.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing as mp
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOT_RESULTS = (".tankersim-done.json", ".tankersim.lock", "batch.json")
"""Files whose damage leaves the results as they were: the stamp (it only speeds up
--resume), the lock, and the identity file a gathered batch leaves in parts/."""


def make_base(folder: Path) -> None:
    exe = Path(sys.executable).with_name("tankersim")
    sc = str(ROOT / "scenarios" / "osc-2024.toml")
    serial = ["--executor", "serial", "--no-plots"]
    subprocess.run(
        [str(exe), "mc", sc, "-n", "200", *serial, "--out", str(folder / "mc")],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [str(exe), "calibrate", sc, "--population", "60", "--generations", "1", "-n", "1",
         "--no-compare", *serial, "--out", str(folder / "cal")],
        check=True, capture_output=True,
    )  # fmt: skip


def _chunk(args: tuple[int, int, int, str]) -> list[dict[str, Any]]:
    from typer.testing import CliRunner

    from sim.cli import app
    from tests.fuzzing import DAMAGES, damage

    start, stop, seed, base_dir = args
    base = Path(base_dir)
    files = sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())
    runner = CliRunner()
    out = []
    with tempfile.TemporaryDirectory(prefix="tankersim-fuzz-report-") as tmp:
        for i in range(start, stop):
            rng = random.Random(seed * 1_000_003 + i)
            picked = rng.sample(files, 2 if rng.random() < 0.2 else 1)
            hows = [rng.choice(DAMAGES) for _ in picked]
            case = Path(tmp) / f"c{i}"
            shutil.copytree(base, case)
            for name, how in zip(picked, hows, strict=True):
                damage(case / name, how, rng)
            t0 = time.perf_counter()
            res = runner.invoke(
                app,
                ["report", str(case / "cal"), str(case / "mc"), "--out", str(case / "r.html"),
                 "--no-tracks"],
            )  # fmt: skip
            status, detail = _judge(res, case, picked, hows)
            out.append(
                {
                    "i": i,
                    "damage": "+".join(hows),
                    "files": picked,
                    "status": status,
                    "detail": detail,
                    "seconds": time.perf_counter() - t0,
                }
            )
            shutil.rmtree(case)
    return out


def _judge(res: Any, case: Path, picked: list[str], hows: list[str]) -> tuple[str, str]:
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        exc = res.exception
        return "traceback", f"{type(exc).__name__}: {exc}"[:300]
    if res.exit_code == 2:
        errors = [ln for ln in res.stderr.splitlines() if ln.startswith("tankersim: error")]
        if len(errors) != 1 or "Traceback" in res.output:
            return "bad-message", res.output[-300:]
        if (case / "r.html").exists():
            return "page-from-damage", errors[0][:300]
        return "refused", ""
    if res.exit_code != 0:
        return "exit", f"exit {res.exit_code}: {res.output[-300:]}"
    warned = "tankersim: warning:" in res.stderr
    harmless = all(Path(n).name in NOT_RESULTS for n in picked)
    if harmless or (warned and "delete" in hows):
        return "made, with a warning" if warned else "made", ""
    return "silent", f"{picked} {hows}: made without a word"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tankersim-fuzz-base-") as base:
        make_base(Path(base))
        jobs = [(s, min(s + a.chunk, a.cases), a.seed, base) for s in range(0, a.cases, a.chunk)]
        with mp.get_context("spawn").Pool(a.workers) as pool:
            for part in pool.imap_unordered(_chunk, jobs):
                results += part
                print(f"{len(results):,}/{a.cases:,} cases, {time.perf_counter() - t0:.0f} s",
                      flush=True)  # fmt: skip
    status = collections.Counter(r["status"] for r in results)
    by_damage: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in results:
        by_damage[r["damage"]][r["status"]] += 1
    failures = sorted(
        (r for r in results if r["status"] not in ("refused", "made", "made, with a warning")),
        key=lambda r: r["i"],
    )
    summary = {
        "cases": len(results),
        "seed": a.seed,
        "workers": a.workers,
        "wall_s": round(time.perf_counter() - t0, 1),
        "outcomes": dict(status),
        "by_damage": {k: dict(v) for k, v in sorted(by_damage.items())},
        "failures": failures[:200],
    }
    from tools.fuzz import write_summary

    return write_summary(summary, a.out, "fuzz-report-summary.json")


if __name__ == "__main__":
    sys.exit(main())
