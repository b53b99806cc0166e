"""The Python API reports progress by default, in a form that works outside a terminal, and
keeps the command line's defaults (part of issue 14)."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

import sim
import sim.api as api
from tests.conftest import SCENARIOS

MINIMAL = SCENARIOS / "minimal.toml"


def test_run_mc_reports_progress_on_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    """Not a terminal (pytest captures stderr, as a notebook or a log does): plain lines,
    the last one the whole batch."""
    sim.run_mc(MINIMAL, n=60, options="serial", plots=False)
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "no progress shown"
    assert re.fullmatch(r"replications: 60 of 60 \(100 %\), \d+\.\d s", err[-1]), err


def test_progress_false_is_quiet_and_a_callable_sees_every_replication(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim.run_mc(MINIMAL, n=60, options="serial", progress=False)
    assert capsys.readouterr().err == ""
    seen: list[int] = []
    sim.run_mc(MINIMAL, n=60, options="serial", progress=seen.append)
    assert sum(seen) == 60
    assert capsys.readouterr().err == ""


def test_sweep_progress_counts_points_times_replications(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sim.runner.sweep import parse_vary

    dims = [parse_vary("fleet.tanker.count=1,2,3")]
    sim.run_sweep(MINIMAL, dims=dims, n=4, options="serial")
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("replications: 12 of 12 (100 %)"), last


def _cli_defaults(command: str) -> dict[str, Any]:
    from typer.models import OptionInfo

    from sim.cli import app

    by_name = {c.name or getattr(c.callback, "__name__", ""): c for c in app.registered_commands}
    cb = by_name[command].callback
    assert cb is not None
    out = {}
    for name, p in inspect.signature(cb).parameters.items():
        if isinstance(p.default, OptionInfo):
            out[name] = p.default.default
    return out


@pytest.mark.parametrize(
    ("command", "function", "pairs"),
    [
        ("mc", api.run_mc, {"n": "n", "min_matches": "min_matches", "plots": "plots",
                            "resume": "resume"}),
        ("sensitivity", api.run_sensitivity, {"base_samples": "base_samples", "n": "replications",
                                              "method": "method", "grouping": "grouping"}),
        ("calibrate", api.calibrate, {"prior": "prior", "plots": "plots"}),
    ],
)  # fmt: skip
def test_the_api_keeps_the_command_lines_defaults(
    command: str, function: Any, pairs: dict[str, str]
) -> None:
    cli = _cli_defaults(command)
    sig = inspect.signature(function).parameters
    for cli_name, api_name in pairs.items():
        assert cli[cli_name] == sig[api_name].default, (command, cli_name)
    # how a batch runs: the command line's defaults are those of the one options object
    # every API function takes (and the API declares no executor, workers or engine of its own)
    assert {k: cli[k] for k in ("executor", "engine")} == {
        "executor": api.ExecOptions().executor,
        "engine": api.ExecOptions().engine,
    }
    assert not {"executor", "workers", "engine", "scheduler", "block_size"} & set(sig)
    assert sig["options"].default is None
