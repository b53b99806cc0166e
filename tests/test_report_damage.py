"""`report` on damaged run folders: every file of a finished mc and calibration folder
truncated, emptied, replaced by another JSON value or deleted. Each case either makes the
report (a missing file warned about) or is refused in one line, exit status 2; never a
traceback, never a page from a file it could not read."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import SCENARIOS
from typer.testing import CliRunner

from sim import api
from sim.cli import app
from tests.fuzzing import damage

DAMAGES = ("truncate", "empty", "{}", "[]", "null", "NaN", "delete")
"""The fixed damages of this test (the long run adds random cuts and flipped bytes)."""
SKIP = (".tankersim.lock", "abc.db", "calibration.ckpt", "batch.json")
"""Files the report never reads (pyabc's history and the checkpoint serve --resume)."""
NOT_CHECKED = (
    "calibration-identity.json",  # what --resume compares, not what the report shows
    "history.parquet",  # every generation's particles: kept for the record, not shown
    "pilot.parquet",
    "posterior.csv",  # posterior.parquet is read; the CSV is its copy for spreadsheets
    "replications.csv",
    "verdict.md",
    "verdict_posterior.md",
)
"""Files whose damage the page does not depend on: a report from a folder where one of these
is damaged is made as from the whole folder."""


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("damage")
    sc = SCENARIOS / "osc-2024.toml"
    api.run_mc(sc, n=200, out=folder / "mc", options="serial", plots=False, progress=False)
    api.calibrate(
        sc, out=folder / "cal", options="serial", population=60, generations=1,
        replications=1, plots=False, progress=False, compare=(),
    )  # fmt: skip
    return folder


def _cases(folder: Path) -> list[tuple[str, str]]:
    files = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name not in SKIP
    )
    return [(f, d) for f in files for d in DAMAGES]


def _run(finished: Path, tmp_path: Path, every: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    runner = CliRunner()
    for k, (name, how) in enumerate(_cases(finished)):
        if k % every:
            continue
        case = tmp_path / f"case-{k}"
        shutil.copytree(finished, case)
        damage(case / name, how)
        res = runner.invoke(
            app,
            ["report", str(case / "cal"), str(case / "mc"), "--out", str(case / "r.html"),
             "--no-tracks"],
        )  # fmt: skip
        where = f"{name} {how}: {res.output[-1500:]}"
        assert res.exception is None or isinstance(res.exception, SystemExit), where
        assert res.exit_code in (0, 2), where
        if res.exit_code == 2:
            errors = [ln for ln in res.stderr.splitlines() if ln.startswith("tankersim: error")]
            assert len(errors) == 1 and "Traceback" not in res.output, where
            assert not (case / "r.html").exists(), where  # no page from what it could not read
            counts["refused"] += 1
        else:
            warned = "tankersim: warning:" in res.stderr
            counts["made, with a warning" if warned else "made"] += 1
            # damage to a file the report reads or checks is never passed over in silence
            assert Path(name).name in NOT_CHECKED or (how == "delete" and warned), where
        shutil.rmtree(case)
    return counts


def test_damaged_run_folders_are_refused_in_one_line_or_reported(
    finished: Path, tmp_path: Path
) -> None:
    counts = _run(finished, tmp_path, every=5)
    print(dict(counts))
    assert counts["refused"] >= 20


@pytest.mark.slow
def test_every_damage_of_every_file(finished: Path, tmp_path: Path) -> None:
    counts = _run(finished, tmp_path, every=1)
    print(dict(counts))
    assert sum(counts.values()) == len(_cases(finished))
