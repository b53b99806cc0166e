"""A finished command asked again with --resume reads its results: it prints what it printed,
runs nothing and rewrites nothing; a changed option, a changed input or a missing file makes it
run again."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SCENARIOS
from typer.testing import CliRunner

from sim.cli import app
from sim.core.lock import LOCK_NAME
from sim.outputs.files import STAMP_NAME

MINIMAL = str(SCENARIOS / "minimal.toml")


def _mtimes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns
        for p in folder.rglob("*")
        if p.is_file() and p.name not in (STAMP_NAME, LOCK_NAME)  # the lock says who writes
    }


def test_a_finished_mc_is_read_not_run(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "mc"
    args = ["mc", MINIMAL, "-n", "30", "--no-plots", "--out", str(out), "--resume"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "already holds" not in first.stderr
    before = _mtimes(out)
    # the lock file is no result: its size changes with its holder (a listing that held it
    # made every later process's stamp check fail)
    listed = json.loads((out / STAMP_NAME).read_text(encoding="utf-8"))["files"]
    assert LOCK_NAME not in listed and "verdict.json" in listed
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    assert again.stdout == first.stdout  # the same verdict, read back
    assert "already holds this command's finished results" in again.stderr
    assert _mtimes(out) == before  # nothing rewritten
    # another option that changes the results: it runs (and simulates nothing new)
    other = runner.invoke(app, [*args, "--min-matches", "5"])
    assert other.exit_code == 0 and "already holds" not in other.stderr
    assert "(0 run now" in other.stdout
    # a listed file gone: the stamp no longer holds, the command runs and writes it again
    (out / "verdict.json").unlink()
    redo = runner.invoke(app, [*args, "--min-matches", "5"])
    assert redo.exit_code == 0 and "already holds" not in redo.stderr
    assert (out / "verdict.json").is_file()


def test_a_stamp_is_left_only_by_a_finished_command(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "mc"
    r = runner.invoke(app, ["mc", MINIMAL, "-n", "10", "--no-plots", "--out", str(out)])
    assert r.exit_code == 0
    doc = json.loads((out / STAMP_NAME).read_text())
    assert doc["key"]["command"] == "mc" and doc["key"]["options"]["n"] == 10
    assert "verdict.json" in doc["files"] and not any(f.startswith("parts/") for f in doc["files"])
    assert doc["output"] == r.stdout
    # a failing command (bad option) leaves none
    bad = tmp_path / "bad"
    r = runner.invoke(app, ["mc", MINIMAL, "-n", "10", "--executor", "spark", "--out", str(bad)])
    assert r.exit_code == 2 and not (bad / STAMP_NAME).exists()


def test_a_report_from_the_same_runs_is_kept(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "mc"
    mc = ["mc", MINIMAL, "-n", "20", "--no-plots", "--out", str(out), "--resume"]
    assert runner.invoke(app, mc).exit_code == 0
    html = tmp_path / "r.html"
    rep = ["report", str(out), "--out", str(html), "--no-tracks", "--resume"]
    first = runner.invoke(app, rep)
    assert first.exit_code == 0, first.output
    made = html.stat().st_mtime_ns
    again = runner.invoke(app, rep)
    assert again.exit_code == 0 and "was made from these same finished runs" in again.stderr
    assert html.stat().st_mtime_ns == made
    # the run made again (another result): the report is made again too
    assert runner.invoke(app, [*mc, "--min-matches", "7"]).exit_code == 0
    third = runner.invoke(app, rep)
    assert third.exit_code == 0 and "same finished runs" not in third.stderr
    assert html.stat().st_mtime_ns != made
