"""tankersim as an installed package: the wheel, a clean virtual environment, and the README's
installed path (init, claims, calibrate, robustness, mc, report) from the installed copy, away
from the source checkout, printing the same headline as make demo."""

from __future__ import annotations

import json
import os
import shlex
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
        "sim/data/world_ports.csv",  # ports of the world by name (sim.core.world_ports)
        "sim/outputs/templates/report.html.j2",
        "sim/_examples/docs/report.md",
    ):
        assert needed in names, needed  # fmt: skip
    assert not any("docs/report/" in n for n in names)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"{wheel}[calibrate]"],
                   check=True, timeout=1800)  # fmt: skip
    user = tmp_path / "user"  # nowhere near the checkout
    user.mkdir()
    env = {**os.environ, "TANKERSIM_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("PYTHONPATH", None)
    exe = str(venv / "bin" / "tankersim")
    probe = [str(venv / "bin" / "python"), "-c", "import sim; print(sim.__file__)"]
    where = subprocess.run(probe, cwd=user, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(venv)), where.stdout

    # The README's block, as written: `pip install` is the wheel above; `cd` moves on.
    cwd, printed = user, ""
    for line in readme_install_block():
        for part in (p.strip() for p in line.split("&&")):
            words = shlex.split(part, comments=True)
            if not words or words[0] == "pip":
                continue
            if words[0] == "cd":
                cwd = cwd / words[1]
                continue
            assert words[0] == "tankersim", part
            r = subprocess.run([exe, *words[1:]], cwd=cwd, env=env, capture_output=True,
                               text=True, timeout=1800, check=False)  # fmt: skip
            assert r.returncode == 0, f"{part}: {r.stderr[-2000:]}"
            printed += r.stdout
    work = user / "work"
    posterior = json.loads((work / "out/osc-2024-calibrate/verdict_posterior.json").read_text())
    assert posterior["claim_visits"] == 43 and posterior["evidence_set"] == "independent"
    assert (work / "out" / "osc-2024" / "plots" / "barrels.svg").is_file()
    assert (work / "out" / "osc-2024-report.html").stat().st_size > 100_000

    # The same headline as make demo (and the README's numbers, written by make numbers from
    # the same commands): the audit's range, printed and stored.
    published = json.loads((ROOT / "docs/results/answer.json").read_text())["robustness"]
    got = json.loads((work / "out/osc-2024-robustness/robustness.json").read_text())
    assert got["headline"] == published["headline"]
    assert " ".join(published["headline"].split()) in " ".join(printed.split())


def readme_install_block() -> list[str]:
    """The command lines of the README's "Installed as a package" block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Installed as a package", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [ln for ln in block.splitlines() if ln.strip()]


def test_the_readme_install_block_runs_make_demos_steps() -> None:
    """The installed path runs the steps make demo runs (calibrate, robustness, mc, report),
    with the same arguments, so that both print the same headline."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    steps = [ln.split("tankersim ", 1)[1].replace(" --resume", "").strip()
             for ln in demo.splitlines() if "tankersim " in ln]  # fmt: skip
    readme = [ln.split("tankersim ", 1)[1].strip() for ln in readme_install_block()
              if ln.startswith("tankersim ") and not ln.startswith("tankersim init")]  # fmt: skip
    assert steps and all(step in readme for step in steps), (steps, readme)
