"""A fuzzer for the commands a mutated scenario file does not reach: ``route``, ``routes``,
``map`` and ``init``, driven through the real command line with hostile arguments.

Case ``i`` of a seed is always the same command line (and the same damaged run folder):

- **route**: two places drawn from valid coordinates, port names and aliases, and hostile text
  (out-of-range, swapped, NaN, huge, empty, several commas, other scripts, paths, very long,
  bidirectional controls), with or without a hostile ``--margin-nm`` and an ``--out`` that is
  a new file, a folder, a file's child or under a missing folder;
- **routes**: a shipped scenario, with a hostile ``--set`` now and then, into an ``--out`` that
  is new, a file, or a file's child;
- **map**: a run folder of the minimal scenario, whole or with one file damaged
  (:data:`tests.fuzzing.DAMAGES`), or a folder that is not a run's, with a hostile
  ``--track-interval-h``;
- **init**: a folder that is new, exists with the examples (with and without ``--force``), is
  a file, lies under a file, or has a hostile name.

The judge is the scenario fuzzer's (:func:`tests.fuzzing.run_case`): the command exits 0, or 2
with exactly one line ``tankersim: error: ...``; never a traceback, never a hang, never another
exit status. A route that succeeds must print its length in nm.
"""

from __future__ import annotations

import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fuzzing import DAMAGES, SCENARIOS, Outcome, _alarm, _done, damage, invoke

PLACES: tuple[str, ...] = (
    "42.77,132.95", "VOSTOCHNY", "nampho", "Chongjin", "39.0,125.2", "51.95,4.05",
    "1.25,103.8", "36.07,120.32", "68.97,33.08", "-33.9,18.4",
    "91,0", "-91,0", "0,181", "0,-181", "nan,0", "0,nan", "inf,0", "-inf,-inf", "1e308,0",
    "-0,-0", "0,0", "", " ", ",", "1,", ",1", "1,2,3", "a,b", "42.77;132.95", "132.95,42.77",
    "48.85,2.35", "ATLANTIS", "../../etc/passwd", "x" * 5000, "\u202e", "VOSTOCHNYY",
    "1_000,0", "\u0663,\u0664", "0x10,0", " 42.77 , 132.95 ", "42.77,132.95,", "-", "--",
    "$x", "<b>NAMPHO</b>", "NAMPHO\n", "1e-320,1e-320", "89.9999,179.9999",
)  # fmt: skip
"""Places for ``route``: some valid, most hostile."""

NUMBERS: tuple[str, ...] = ("2", "0", "20", "0.5", "-1", "21", "nan", "inf", "-inf", "1e308",
                            "abc", "", "1_0", "\u0662", "-0")  # fmt: skip
"""Values for numeric options."""

SETS: tuple[str, ...] = ("seed=3", "seed=-1", "terminal.port=NOWHERE", "routing.margin_nm=1e308",
                         "routing.margin_nm=-1", "window.end=2000-01-01", "x=1", "=", "a.b.c",
                         "fleet.tanker.count=0")  # fmt: skip
"""Values for ``--set`` on ``routes``."""

COMMANDS = ("route", "routes", "map", "init")


@dataclass
class ArgCase:
    """One case: the command and how to lay out its folder (made by :func:`run_arg_case`)."""

    index: int
    command: str
    args: list[str]
    setup: dict[str, Any] = field(default_factory=dict)


def make_arg_case(index: int, seed: int = 0) -> ArgCase:
    """Case ``index`` of the argument fuzz with ``seed``: the same every time. Paths in
    ``args`` are relative to the case's folder, marked ``@``."""
    rng = random.Random(seed * 7_000_003 + index)
    command = COMMANDS[index % len(COMMANDS)]
    out_kind = rng.choice(["none", "new", "folder", "under-file", "missing-parent"])
    if command == "route":
        args = [rng.choice(PLACES), rng.choice(PLACES)]
        if rng.random() < 0.3:
            args += ["--margin-nm", rng.choice(NUMBERS)]
        if out_kind != "none":
            args += ["--out", {"new": "@route.geojson", "folder": "@", "under-file":
                               "@afile/route.geojson", "missing-parent": "@no/such/r.geojson"}
                     [out_kind]]  # fmt: skip
        return ArgCase(index, command, args, {"afile": True})
    if command == "routes":
        args = [str(SCENARIOS / rng.choice(["minimal.toml", "osc-2024.toml"])), "--no-map"]
        if rng.random() < 0.4:
            args += ["--set", rng.choice(SETS)]
        out = {"none": "@routes", "new": "@routes", "folder": "@routes",
               "under-file": "@afile/routes", "missing-parent": "@afile"}[out_kind]  # fmt: skip
        return ArgCase(index, command, [*args, "--out", out], {"afile": True})
    if command == "map":
        how = rng.choice(["whole", "not-a-run", *DAMAGES])
        target = rng.choice(["scenario.resolved.toml", "events.parquet", "events.csv",
                             "summary.json", "routes.geojson", "manifest.json"])  # fmt: skip
        args = ["@run" if how != "not-a-run" else "@"]
        if rng.random() < 0.3:
            args += ["--track-interval-h", rng.choice(NUMBERS)]
        if rng.random() < 0.3:
            args += ["--out", rng.choice(["@m", "@afile/m", "@no/such/m"])]
        setup = {"run": True, "afile": True, "damage": (how, target, rng.random())}
        return ArgCase(index, command, args, setup)
    name = rng.choice(["@ex", "@ex", "@afile", "@afile/ex", "@" + "n" * 300, "@ex\nx",
                       "@\u202eex", "@ex/../ex", "@."])  # fmt: skip
    args = [name] + (["--force"] if rng.random() < 0.4 else [])
    return ArgCase(index, command, args, {"afile": True, "twice": rng.random() < 0.5})


_RUNS: dict[Path, Path] = {}


def _run_folder(cache: Path) -> Path:
    """A run folder of the minimal scenario, made once per ``cache`` and copied per case."""
    from typer.testing import CliRunner

    from sim.cli import app

    if cache not in _RUNS:
        out = cache / "minimal-run"
        if not (out / "manifest.json").exists():
            r = CliRunner().invoke(app, ["run", str(SCENARIOS / "minimal.toml"), "--no-map",
                                         "--out", str(out)])  # fmt: skip
            assert r.exit_code == 0, r.output
        _RUNS[cache] = out
    return _RUNS[cache]


def run_arg_case(case: ArgCase, folder: Path, cache: Path, *, timeout_s: int = 60) -> Outcome:
    """Lay out the case's folder, run the command and judge it."""
    import shutil

    from typer.testing import CliRunner

    from sim.cli import app

    if case.setup.get("afile"):
        (folder / "afile").write_text("a file, not a folder\n", encoding="utf-8")
    if case.setup.get("run"):
        shutil.copytree(_run_folder(cache), folder / "run")
        how, target, u = case.setup["damage"]
        path = folder / "run" / target
        if how not in ("whole", "not-a-run") and path.exists():
            damage(path, how, random.Random(int(u * 1e9)))
    args = [a.replace("@", str(folder) + "/", 1) if a.startswith("@") else a for a in case.args]
    runs = [args, args] if case.setup.get("twice") else [args]
    runner = CliRunner()
    out = Outcome(case.index, case.command, "ok")
    t0 = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for argv in runs:
            out.commands.append(case.command)
            r, status, detail = invoke(runner, app, [case.command, *argv], timeout_s)
            if status is not None:
                return _done(out, status, detail, t0)
            if r.exit_code == 2:
                lines = [ln for ln in r.output.splitlines() if ln.strip()]
                if len(lines) != 1 or not lines[0].startswith("tankersim: error: "):
                    return _done(out, "bad-message", f"{case.command}: {r.output[:300]!r}", t0)
                return _done(out, "refused", lines[0][:300], t0)
            if case.command == "route" and " nm" not in r.output:
                return _done(out, "bad-message", f"route printed no length: {r.output!r}", t0)
        return _done(out, "ok", "", t0)
    finally:
        signal.signal(signal.SIGALRM, old)
