"""Validation of large and hostile scenarios: what a careless hand costs before anything runs.

Times, each the best of three in this process, then the command line end to end in a child:

- a scenario naming 30,000 ships one by one (the duplicate-name check was quadratic: 24.5 s),
  and the same with ``count = 30000``;
- a scenario asking for ``count = 10**9`` ships (refused by the bound, not by memory);
- ``tankersim validate --no-routes`` on the 30,000 named ships (Python start-up included).

Target: a 30,000-ship scenario validated in under 1 s.

    python benchmarks/bench_validate.py
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def best_of(fn: object, k: int = 3) -> float:
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    from sim.core.config import load_scenario
    from sim.core.errors import ScenarioError

    src = (ROOT / "scenarios" / "minimal.toml").read_text(encoding="utf-8")
    old = 'names = ["ALPHA", "BRAVO"]'
    with tempfile.TemporaryDirectory() as tmp:
        names = ", ".join(f'"SHIP {i}"' for i in range(30_000))
        files = {
            "30,000 named ships": src.replace(old, f"names = [{names}]"),
            "count = 30,000": src.replace(old, "count = 30000"),
            "count = 10**9 (refused)": src.replace(old, "count = 1000000000"),
        }
        rows = []
        for label, text in files.items():
            path = Path(tmp) / "s.toml"
            path.write_text(text, encoding="utf-8")

            def load(path: Path = path) -> None:
                with contextlib.suppress(ScenarioError):
                    load_scenario(path)

            rows.append((label, best_of(load)))
        path = Path(tmp) / "s.toml"
        path.write_text(files["30,000 named ships"], encoding="utf-8")
        exe = Path(sys.executable).with_name("tankersim")
        t0 = time.perf_counter()
        subprocess.run([str(exe), "validate", "--no-routes", str(path)], check=True,
                       capture_output=True)  # fmt: skip
        cli = time.perf_counter() - t0
        rows.append(("tankersim validate --no-routes, 30,000 named ships", cli))
    for label, seconds in rows:
        print(f"{label:55s} {seconds:7.3f} s")
    worst = max(s for label, s in rows if "30,000" in label)
    print(f"30,000 ships: {worst:.3f} s, target < 1 s: {'met' if worst < 1 else 'missed'}")


if __name__ == "__main__":
    main()
