"""One writer per output folder (sim.core.lock): a second process writing into a folder is
refused in one line naming the holder, never mixed in; the lock dies with its process."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS

from sim.core.errors import FolderBusyError
from sim.core.lock import LOCK_NAME, acquire, reading, release, writing

EXE = Path(sys.executable).with_name("tankersim")
HOLD = """
import sys, time
from sim.core.lock import acquire
acquire(sys.argv[1], "holder-for-test")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _holder(folder: Path, seconds: float = 60.0) -> subprocess.Popen[str]:
    """A child process holding ``folder``'s writer lock (it says so before returning)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _stop(proc: subprocess.Popen[str], sig: int) -> None:
    proc.send_signal(sig)
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def test_a_held_folder_refuses_another_process_and_names_it(tmp_path: Path) -> None:
    proc = _holder(tmp_path)
    try:
        with pytest.raises(FolderBusyError) as err:
            acquire(tmp_path, "second")
        text = str(err.value)
        assert f"process {proc.pid}" in text and "holder-for-test" in text
        assert "\n" not in text and str(tmp_path) in text
        with pytest.raises(FolderBusyError, match="before reading it"), reading(tmp_path):
            pass  # readers wait for a writer too
    finally:
        _stop(proc, signal.SIGKILL)
    # killed, not released: the operating system gave the lock back with the process
    with writing(tmp_path, "after"):
        doc = json.loads((tmp_path / LOCK_NAME).read_text(encoding="utf-8"))
        assert doc["command"] == "after"


def test_the_lock_is_reentrant_in_one_process_and_released_with_the_last_hold(
    tmp_path: Path,
) -> None:
    with writing(tmp_path, "outer"), writing(tmp_path, "inner"), reading(tmp_path):
        pass
    acquire(tmp_path)
    acquire(tmp_path)
    release(tmp_path)
    # still held once: a child cannot take it
    child = subprocess.run(
        [sys.executable, "-c", HOLD, str(tmp_path), "0"], capture_output=True, text=True
    )
    assert child.returncode != 0 and "FolderBusyError" in child.stderr
    release(tmp_path)
    child = subprocess.run(
        [sys.executable, "-c", HOLD, str(tmp_path), "0"], capture_output=True, text=True
    )
    assert child.returncode == 0, child.stderr


def test_a_command_into_a_held_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _holder(out)
    try:
        for args in (
            ["mc", str(SCENARIOS / "minimal.toml"), "-n", "5", "--out", str(out)],
            ["run", str(SCENARIOS / "minimal.toml"), "--out", str(out), "--no-map"],
            ["claims", str(SCENARIOS / "minimal.toml"), "--out", str(out)],
        ):
            res = subprocess.run([str(EXE), *args], capture_output=True, text=True, cwd=ROOT)
            assert res.returncode == 2, (args, res.stderr)
            lines = res.stderr.strip().splitlines()
            assert len(lines) == 1 and "is writing there" in lines[0], res.stderr
            assert f"process {proc.pid}" in lines[0] and "Traceback" not in res.stderr
        assert not (out / "manifest.json").exists()  # nothing written beside the holder
    finally:
        _stop(proc, signal.SIGTERM)


def _clean(seed: int, tmp: Path) -> pd.DataFrame:
    out = tmp / f"clean-{seed}"
    args = ["mc", str(SCENARIOS / "minimal.toml"), "-n", "3000", "--seed", str(seed)]
    subprocess.run(
        [str(EXE), *args, "--out", str(out), "--no-plots"], check=True, capture_output=True
    )
    return pd.read_parquet(out / "replications.parquet")


def _race(tmp_path: Path, rounds: int) -> None:
    clean = {seed: _clean(seed, tmp_path) for seed in (1, 2)}
    rng = random.Random(20)
    for k in range(rounds):
        out = tmp_path / f"race-{k}"
        procs = []
        for seed in (1, 2):
            args = ["mc", str(SCENARIOS / "minimal.toml"), "-n", "3000", "--seed", str(seed)]
            procs.append(
                subprocess.Popen(
                    [str(EXE), *args, "--out", str(out), "--no-plots"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                )
            )
            time.sleep(rng.uniform(0.0, 1.5))
        codes = []
        for p in procs:
            _, err = p.communicate(timeout=300)
            codes.append(p.returncode)
            if p.returncode:
                lines = err.strip().splitlines()
                assert p.returncode == 2 and len(lines) == 1, err
                assert "is writing there" in lines[0] or "holds results already" in lines[0]
        assert sorted(codes) == [0, 2], (k, codes)
        winner = (1, 2)[codes.index(0)]
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["seed"] == winner
        pd.testing.assert_frame_equal(pd.read_parquet(out / "replications.parquet"), clean[winner])


def test_two_writers_on_one_folder_never_mix(tmp_path: Path) -> None:
    """Two `mc` runs of other seeds started into one --out at random offsets: one finishes,
    the other is refused in one line; the folder holds exactly the winner's clean results."""
    _race(tmp_path, rounds=3)


@pytest.mark.slow
def test_two_writers_on_one_folder_never_mix_20_times(tmp_path: Path) -> None:
    _race(tmp_path, rounds=20)
