"""A full disk: every writing command ends with one line naming the file it could not write,
exit status 1, no traceback (a real 1 MB tmpfs, where the test may mount one)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, SCENARIOS

EXE = Path(sys.executable).with_name("tankersim")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or 'not permitted'}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.parametrize(
    "args",
    [
        ["mc", str(SCENARIOS / "minimal.toml"), "-n", "20000", "--no-plots"],
        ["run", str(SCENARIOS / "osc-2024.toml")],
        ["calibrate", str(SCENARIOS / "osc-2024.toml"), "--population", "50",
         "--generations", "1", "--no-plots"],
    ],
    ids=["mc", "run", "calibrate"],
)  # fmt: skip
def test_a_full_disk_is_one_line_naming_the_file(small_disk: Path, args: list[str]) -> None:
    out = small_disk / "out"
    res = subprocess.run(
        [str(EXE), *args, "--out", str(out)], capture_output=True, text=True, cwd=ROOT
    )
    assert res.returncode == 1, res.stderr[-2000:]
    last = res.stderr.strip().splitlines()[-1]
    assert "Traceback" not in res.stderr
    assert last.startswith(f"tankersim: error: cannot write {out}/")
    assert last.endswith("No space left on device")
    assert not list(out.rglob("*.tmp"))  # no half-written file left behind
