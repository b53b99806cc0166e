"""tankersim as an installed package: the wheel, a clean virtual environment, `tankersim init`
and the baseline Monte Carlo from the installed copy, away from the source checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_every_doc_is_in_the_wheel_mapping() -> None:
    """docs/*.md are listed one by one in pyproject.toml (docs/report/ is left out)."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = conf["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    docs = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    assert docs <= set(mapping), sorted(docs - set(mapping))
    assert mapping["scenarios"] == "sim/_examples/scenarios"


def test_init_in_a_checkout_copies_scenarios_and_docs(tmp_path: Path) -> None:
    from sim.core.errors import OptionError
    from sim.examples import init

    written = init(tmp_path / "ex")
    names = {p.relative_to(tmp_path / "ex").as_posix() for p in written}
    assert {"scenarios/osc-2024.toml", "scenarios/osc-2024.evidence.csv",
            "docs/scenario-reference.md", "docs/report.md"} <= names  # fmt: skip
    assert not any(n.startswith("docs/report/") for n in names)  # the big HTML stays home
    with pytest.raises(OptionError, match="exists"):
        init(tmp_path / "ex")
    assert init(tmp_path / "ex", force=True) == written


@pytest.mark.slow
def test_wheel_in_a_clean_venv_runs_init_and_the_baseline(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
        timeout=600,
    )
    (wheel,) = wheels.glob("tankersim-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    for needed in (
        "sim/_examples/scenarios/osc-2024.toml",
        "sim/data/land_ne10m.geojson",
        "sim/outputs/templates/report.html.j2",
        "sim/_examples/docs/report.md",
    ):
        assert needed in names, needed  # fmt: skip
    assert not any("docs/report/" in n for n in names)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True,
                   timeout=1200)  # fmt: skip
    user = tmp_path / "user"  # nowhere near the checkout
    user.mkdir()
    env = {**os.environ, "TANKERSIM_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("PYTHONPATH", None)
    exe = str(venv / "bin" / "tankersim")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *args], cwd=user, env=env, capture_output=True, text=True,
                              timeout=900, check=False)  # fmt: skip

    probe = [str(venv / "bin" / "python"), "-c", "import sim; print(sim.__file__)"]
    where = subprocess.run(probe, cwd=user, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(venv)), where.stdout
    r = run("init", "ex")
    assert r.returncode == 0, r.stderr
    assert (user / "ex" / "scenarios" / "osc-2024.toml").is_file()
    r = run("claims", "ex/scenarios/osc-2024.toml", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["tonnes_vs_barrels"]["status"] == "impossible"
    r = run("mc", "ex/scenarios/osc-2024.toml", "-n", "2000", "--out", "out")
    assert r.returncode == 0, r.stderr
    verdict = json.loads((user / "out" / "verdict.json").read_text())
    assert verdict["replications"] == 2000 and verdict["claim"]["trips"] == 43
    assert (user / "out" / "plots" / "barrels.svg").is_file()
    r = run("report", "out", "--out", "report.html")
    assert r.returncode == 0, r.stderr
    assert (user / "report.html").stat().st_size > 100_000
