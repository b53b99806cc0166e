"""Regenerate the golden files: ``python tests/golden/make_golden.py``.

Golden files pin the outputs of the CLI for two cases (the minimal scenario and a seeded short
batch of the baseline); ``tests/test_golden.py`` re-runs the same commands and compares the
files byte for byte (version fields excepted). Regenerate them only when a change of results is
intended, and say why in the commit message.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

CASES: dict[str, list[str]] = {
    # name -> CLI arguments (the output folder is appended as --out)
    "minimal-run": ["run", "scenarios/minimal.toml", "--no-map", "--no-tracks"],
    "minimal-mc": [
        "mc",
        "scenarios/minimal.toml",
        "-n",
        "20",
        "--no-plots",
        "--executor",
        "serial",
    ],
    "osc-2024-mc": [
        "mc",
        "scenarios/osc-2024.toml",
        "-n",
        "200",
        "--seed",
        "11",
        "--no-plots",
        "--executor",
        "serial",
        "--min-matches",
        "20",
    ],
}
FILES: dict[str, tuple[str, ...]] = {
    "minimal-run": ("summary.json",),
    "minimal-mc": ("verdict.json",),
    "osc-2024-mc": ("verdict.json",),
}


def produce(case: str, out: Path) -> None:
    """Run one case's command into ``out`` (in-process, through the real CLI)."""
    from typer.testing import CliRunner

    from sim.cli import app

    result = CliRunner().invoke(app, [*CASES[case], "--out", str(out)], catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"{case}: exit {result.exit_code}: {result.output}")


def main() -> None:
    import os

    os.chdir(ROOT)
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            produce(case, out)
            for name in FILES[case]:
                shutil.copy(out / name, HERE / f"{case}.{name}")
                print(f"wrote {HERE / f'{case}.{name}'}", file=sys.stderr)


if __name__ == "__main__":
    main()
